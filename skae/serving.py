"""Export a fitted estimator's encoder or decoder with ``torch.export``, for serving.

The programs include the estimator's centring and scaling, so they take and
return data in the user's units, and they need neither scikit-learn nor skae
to run: ``torch.export.save`` writes one file that ``torch.export.load``
reads back anywhere PyTorch runs.
"""

import copy

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from . import _training

__all__ = ["export_decoder", "export_encoder"]

# The submodules of skae._network.Autoencoder each direction uses; the
# exported program carries only these weights.
_ENCODER_PARTS = ("encoder_linear", "encoder_correction", "code_layer")
_DECODER_PARTS = ("decoder_linear", "decoder_correction", "output_layer")


def _network_part(module, names, device):
    """A detached copy of ``module`` that keeps only the submodules ``names``."""
    part = copy.copy(module)
    part._modules = {name: sub for name, sub in module._modules.items() if name in names}
    return copy.deepcopy(part).to(device).eval().requires_grad_(False)


class _Scaled(nn.Module):
    """A part of the network with the estimator's ``mean_`` and ``scale_``."""

    def __init__(self, network, mean, scale):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))


class _Encoder(_Scaled):
    """float32 rows in the user's units -> their code, as ``transform`` computes it."""

    def forward(self, X):
        # transform scales in float64 before the float32 network; so does this.
        return self.network.encode(((X.double() - self.mean) / self.scale).float())


class _Decoder(_Scaled):
    """float32 codes -> reconstructions in user units, as ``inverse_transform``."""

    def forward(self, code):
        values = self.network.decode(code.float())
        # The same rounding as inverse_transform: the product in float32
        # (NumPy keeps float32 times a Python float in float32), the shift in float64.
        return ((values * self.scale.float()).double() + self.mean).float()


def _export(est, wrapper, parts, width, device):
    check_is_fitted(est)
    width = getattr(est, width)
    device = torch.device(device)
    program = wrapper(_network_part(est.module_, parts, device), est.mean_, est.scale_)
    # Two example rows: a batch of 1 would let the exporter fix the batch size.
    example = torch.zeros(2, width, dtype=torch.float32, device=device)
    batch = torch.export.Dim("batch")
    # A caller's autocast would be traced into the program, which then
    # computes in bf16 and fails outside it; transform is shielded the same way.
    with _training.autocast_off():
        return torch.export.export(program, (example,), dynamic_shapes=({0: batch},))


def export_encoder(est, device="cpu"):
    """Export the encoder of a fitted estimator, scaling included.

    Parameters
    ----------
    est : skae estimator
        A fitted estimator (for a :class:`~skae.VariationalAutoencoder`,
        the encoder gives the posterior mean, as ``transform`` does).
    device : str or torch.device, default="cpu"
        Where the exported program computes; a copy of the weights is placed
        there, whatever device ``est`` was trained on.

    Returns
    -------
    program : torch.export.ExportedProgram
        ``program.module()(X)`` maps a float32 tensor of shape
        (n_samples, n_features), in the units of the training data and
        with any number of rows, to the float32 code that ``est.transform``
        returns.

    See Also
    --------
    export_decoder : The way back, as ``inverse_transform``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skae import AutoencoderTransformer
    >>> from skae.serving import export_encoder
    >>> X = np.random.RandomState(0).normal(50, 10, (60, 4)).astype(np.float32)
    >>> est = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2,
    ...                              random_state=0).fit(X)
    >>> encoder = export_encoder(est).module()
    >>> code = encoder(torch.from_numpy(X[:3])).numpy()
    >>> code.shape, bool(np.allclose(code, est.transform(X[:3]), atol=1e-5))
    ((3, 2), True)
    """
    return _export(est, _Encoder, _ENCODER_PARTS, "n_features_in_", device)


def export_decoder(est, device="cpu"):
    """Export the decoder of a fitted estimator, unscaling included.

    Parameters
    ----------
    est : skae estimator
        A fitted estimator (for a :class:`~skae.VariationalAutoencoder`,
        the decoder's mean, as ``inverse_transform`` gives it).
    device : str or torch.device, default="cpu"
        Where the exported program computes; a copy of the weights is placed
        there, whatever device ``est`` was trained on.

    Returns
    -------
    program : torch.export.ExportedProgram
        ``program.module()(code)`` maps a float32 tensor of shape
        (n_samples, ``n_components_``) to the float32 reconstruction, in the units
        of the training data, that ``est.inverse_transform`` returns.

    See Also
    --------
    export_encoder : The way in, as ``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skae import AutoencoderTransformer
    >>> from skae.serving import export_decoder
    >>> X = np.random.RandomState(0).normal(50, 10, (60, 4)).astype(np.float32)
    >>> est = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2,
    ...                              random_state=0).fit(X)
    >>> code = est.transform(X[:3])
    >>> decoder = export_decoder(est).module()
    >>> X_back = decoder(torch.from_numpy(code)).numpy()
    >>> X_back.shape, bool(np.allclose(X_back, est.inverse_transform(code), atol=1e-4))
    ((3, 4), True)
    """
    return _export(est, _Decoder, _DECODER_PARTS, "n_components_", device)
