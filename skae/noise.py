"""Input corruptions for denoising autoencoders.

Each function takes a batch ``X`` (a float tensor), a ``level`` and a
``torch.Generator`` and returns a corrupted copy; ``X`` is never modified.
Random draws are in ``X``'s dtype, never torch's default one, so that a caller's
``torch.set_default_dtype`` does not change them.
"""

import torch


def gaussian(X, level, generator):
    """Add zero-mean Gaussian noise with standard deviation ``level``."""
    noise = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
    return X + level * noise


def masking(X, level, generator):
    """Zero each entry with probability ``level`` (a dropout mask on the input)."""
    keep = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype) >= level
    return X * keep


def salt_and_pepper(X, level, generator):
    """Set each entry with probability ``level`` to the batch's minimum or maximum.

    Salt and pepper are equally likely, as in Vincent et al. (2010).
    """
    u = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype)
    low, high = X.min(), X.max()
    out = torch.where(u < level / 2, low, X)
    return torch.where((u >= level / 2) & (u < level), high, out)


NOISES = {
    "gaussian": gaussian,
    "masking": masking,
    "salt_and_pepper": salt_and_pepper,
}
