"""scikit-learn's estimator checks on small, fast instances of every estimator."""

import pytest
from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    LatentSizeCV,
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
    # The instances above train in float32: precision="auto" keeps networks this
    # small in float32 on any device. bf16 products are emulated on CPUs without
    # native bf16, which warns, but this network is tiny.
    AutoencoderTransformer(precision="bfloat16", **_FAST),
    AutoencoderOutlierDetector(AutoencoderTransformer(**_FAST)),
    AutoencoderOutlierDetector(PCA(1), error="standardized", contamination=0.1),
    VariationalAutoencoder(**_FAST),
    AutoencoderTransformer(nested=True, **_FAST),
    DenoisingAutoencoder(n_components=0.5, **_FAST),
    # The search seeds nothing itself: its estimator's random_state makes it
    # repeatable.
    LatentSizeCV(AutoencoderTransformer(random_state=0, **_FAST), sizes=[1, 2], cv=2),
]


@pytest.mark.filterwarnings("ignore:precision='bfloat16' on cpu:UserWarning")
# Three epochs on the checks' data reach no share of variance worth choosing by.
@pytest.mark.filterwarnings("ignore:No size in sizes reached:UserWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
