"""scikit-learn's estimator checks on small, fast instances of every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# checks' own data sets have at most a few hundred rows.
_FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, device="cpu")

ESTIMATORS = [
    AutoencoderTransformer(**_FAST),
    AutoencoderTransformer(tied_weights=True, init="random", **_FAST),
    DenoisingAutoencoder(noise="gaussian", **_FAST),
    SparseAutoencoder(sparsity="kl", **_FAST),
    SparseAutoencoder(sparsity="topk", k=1, **_FAST),
    ContractiveAutoencoder(jacobian="exact", **_FAST),
    ContractiveAutoencoder(jacobian="projection", **_FAST),
    VariationalAutoencoder(**_FAST),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
