"""Paths between two samples, through the code or through the input space."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import _FLOAT_DTYPES

SPACES = ("latent", "pixel")


def interpolate(est, x_a, x_b, n_steps=8, space="latent"):
    """Decode the straight path from ``x_a`` to ``x_b``.

    With ``space="latent"`` both samples are encoded, the straight line
    between their codes is cut into ``n_steps`` evenly spaced points, and
    each point is decoded. With ``space="pixel"`` the result is the plain
    linear blend ``(1 - t) * x_a + t * x_b`` of the inputs, the baseline a
    latent path is compared against: a good code turns one sample into the
    other through plausible samples, where the blend superimposes them.

    Parameters
    ----------
    est : estimator
        A fitted transformer with ``transform`` and ``inverse_transform``:
        any skae autoencoder, but also :class:`~sklearn.decomposition.PCA`
        or a :class:`~sklearn.pipeline.Pipeline` ending in one.
    x_a : array-like of shape (n_features,)
        Start of the path.
    x_b : array-like of shape (n_features,)
        End of the path.
    n_steps : int, default=8
        Number of points on the path, both ends included.
    space : {"latent", "pixel"}, default="latent"
        Where the path is straight. The ends of a ``"latent"`` path are the
        reconstructions of ``x_a`` and ``x_b``, not the samples themselves.

    Returns
    -------
    path : ndarray of shape (n_steps, n_features)
        The points of the path, in the units of the data.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.interpolation import interpolate
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0).fit(X)
    >>> interpolate(ae, X[0], X[1], n_steps=5).shape
    (5, 64)
    >>> blend = interpolate(ae, X[0], X[1], n_steps=3, space="pixel")
    >>> bool((blend[1] == (X[0] + X[1]) / 2).all())
    True
    """
    check_is_fitted(est)
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}, got {space!r}.")
    if isinstance(n_steps, bool) or not isinstance(n_steps, Integral) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer of at least 2, got {n_steps!r}.")
    x_a, x_b = np.ravel(x_a), np.ravel(x_b)
    if x_a.shape != x_b.shape:
        raise ValueError(
            f"x_a and x_b must have the same number of features, got {x_a.size} "
            f"and {x_b.size}."
        )
    ends = check_array(np.stack([x_a, x_b]), dtype=_FLOAT_DTYPES)
    if ends.shape[1] != est.n_features_in_:
        raise ValueError(
            f"x_a and x_b have {ends.shape[1]} features, but {type(est).__name__} "
            f"is expecting {est.n_features_in_} features as input."
        )
    t = np.linspace(0.0, 1.0, n_steps, dtype=ends.dtype)[:, np.newaxis]
    if space == "pixel":
        return (1 - t) * ends[0] + t * ends[1]
    codes = est.transform(ends)
    return est.inverse_transform((1 - t) * codes[0] + t * codes[1])
