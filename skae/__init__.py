"""scikit-learn transformers whose model is a PyTorch autoencoder."""

from ._autoencoders import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
)
from .interpolation import interpolate

__version__ = "0.1.0"

__all__ = [
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "interpolate",
    "__version__",
]
