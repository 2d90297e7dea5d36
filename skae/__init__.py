"""scikit-learn transformers whose model is a PyTorch autoencoder."""

from ._autoencoders import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from ._latent_size import LatentSizeCV
from ._outlier import AutoencoderOutlierDetector
from .interpolation import interpolate

__version__ = "0.1.0"

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "LatentSizeCV",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "interpolate",
    "__version__",
]
