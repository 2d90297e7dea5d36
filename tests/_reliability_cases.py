"""Tiny data and fast estimator instances shared by the reliability tests."""

import numpy as np

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

# Small enough that a fit takes a few milliseconds on one core.
FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, device="cpu", random_state=0)

# One instance per class, with the corruption or penalty that draws random
# numbers or changes the code switched on.
ESTIMATORS = [
    AutoencoderTransformer(**FAST),
    DenoisingAutoencoder(noise="gaussian", noise_level=0.3, **FAST),
    SparseAutoencoder(sparsity="kl", **FAST),
    ContractiveAutoencoder(jacobian="projection", **FAST),
    VariationalAutoencoder(**FAST),
]

# The remaining corruptions and penalties, for the tests where each one matters.
VARIANTS = ESTIMATORS + [
    AutoencoderTransformer(tied_weights=True, init="random", **FAST),
    DenoisingAutoencoder(noise="masking", **FAST),
    DenoisingAutoencoder(noise="salt_and_pepper", **FAST),
    SparseAutoencoder(sparsity="l1", **FAST),
    SparseAutoencoder(sparsity="topk", n_components=3, k=1, **FAST),
    ContractiveAutoencoder(jacobian="exact", **FAST),
    VariationalAutoencoder(tied_weights=True, **FAST),
]


def estimator_id(estimator):
    """A readable test id: the class and the parameters that differ from FAST."""
    params = estimator.get_params()
    shown = [
        f"-{name}" if name == "tied_weights" else f"-{params[name]}"
        for name in ("noise", "sparsity", "jacobian", "tied_weights", "loss")
        if name in params and params[name] not in (False, "mse")
    ]
    return type(estimator).__name__ + "".join(shown)


def make_data(n_samples=40, n_features=5, seed=0):
    """Correlated float64 data with an offset and a scale far from 1."""
    rng = np.random.RandomState(seed)
    latent = rng.randn(n_samples, 2)
    mixing = rng.randn(2, n_features)
    X = latent @ mixing + 0.1 * rng.randn(n_samples, n_features)
    return 3.0 * X + 10.0
