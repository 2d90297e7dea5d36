"""Masks over images, and filling the masked pixels with a model or with OpenCV."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import assert_all_finite, check_array, check_is_fitted

from ._base import _FLOAT_DTYPES
from .plotting import _check_image_shape

# cv2.inpaint's two algorithms, by the names they go by here.
OPENCV_METHODS = ("telea", "ns")
_INSTALL_HINT = (
    "OpenCV inpainting needs the opencv-python-headless package: pip install "
    '"skae[inpainting]" (or pip install opencv-python-headless).'
)


def dropout_mask(n_samples, n_features, rate, *, random_state=None):
    """Mask each pixel independently with probability ``rate``.

    The pattern of :func:`skae.noise.masking`, the noise a
    :class:`~skae.DenoisingAutoencoder` with ``noise="masking"`` trains on,
    returned as the mask itself rather than applied: a masked pixel that
    was already 0 cannot be told apart from a kept one afterwards.

    Parameters
    ----------
    n_samples : int
        Number of images.
    n_features : int
        Pixels per image.
    rate : float
        Probability, in [0, 1], that a pixel is masked.
    random_state : int, RandomState instance or None, default=None
        Seeds the mask.

    Returns
    -------
    mask : ndarray of shape (n_samples, n_features), dtype bool
        True where a pixel is missing.

    See Also
    --------
    block_mask : The same square hole in every image.

    Examples
    --------
    >>> from skae.inpainting import dropout_mask
    >>> mask = dropout_mask(100, 64, 0.25, random_state=0)
    >>> mask.shape, round(float(mask.mean()), 2)
    ((100, 64), 0.25)
    """
    if not isinstance(rate, Real) or not 0 <= rate <= 1:
        raise ValueError(f"rate must be a probability in [0, 1], got {rate!r}.")
    rng = check_random_state(random_state)
    return rng.uniform(size=(n_samples, n_features)) < rate


def block_mask(n_samples, image_shape, fraction=0.5):
    """Mask a centred square whose side is ``fraction`` of the image's height.

    Parameters
    ----------
    n_samples : int
        Number of images.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    fraction : float, default=0.5
        Side of the square as a share of the image's height, in (0, 1]; it
        is rounded to whole pixels, at least one. ``0.5`` hides a quarter of
        a square image, most of a centred digit's strokes.

    Returns
    -------
    mask : ndarray of shape (n_samples, height * width), dtype bool
        True inside the square, the same in every row.

    See Also
    --------
    dropout_mask : Pixels missing at random.

    Examples
    --------
    >>> from skae.inpainting import block_mask
    >>> block_mask(1, (8, 8))[0].reshape(8, 8).astype(int)[1:7, 1:7]
    array([[0, 0, 0, 0, 0, 0],
           [0, 1, 1, 1, 1, 0],
           [0, 1, 1, 1, 1, 0],
           [0, 1, 1, 1, 1, 0],
           [0, 1, 1, 1, 1, 0],
           [0, 0, 0, 0, 0, 0]])
    """
    if not isinstance(fraction, Real) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}.")
    height, width = (int(s) for s in image_shape)
    side = min(max(1, round(fraction * height)), height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = np.zeros((height, width), dtype=bool)
    square[top : top + side, left : left + side] = True
    return np.tile(square.ravel(), (n_samples, 1))


def inpaint(X, mask, method, *, image_shape=None, radius=3):
    """Fill the masked pixels of ``X`` and keep the others.

    Every method sees the same thing, the known pixels, and changes only
    the masked ones, so that errors on the masked pixels compare methods
    fairly.

    - A fitted transformer with ``inverse_transform`` (a skae autoencoder,
      :class:`~sklearn.decomposition.PCA`...) gets ``X`` with its masked
      pixels set to 0, as :func:`skae.noise.masking` sets them in training,
      and its reconstruction ``inverse_transform(transform(.))`` fills them.
    - ``"telea"`` and ``"ns"`` are OpenCV's ``cv2.inpaint`` with
      ``INPAINT_TELEA`` (Telea's fast marching) or ``INPAINT_NS``
      (Navier-Stokes), on each image in 8 bits. They need the
      ``opencv-python-headless`` package (``pip install
      "skae[inpainting]"``), pixel values in [0, 1], and ``image_shape``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Images, flattened row-major; the values under the mask are ignored.
    mask : array-like of shape (n_samples, n_features), dtype bool
        True where a pixel is missing.
    method : estimator or {"telea", "ns"}
        What fills the masked pixels.
    image_shape : tuple of int, default=None
        ``(height, width)`` of one image; needed by the OpenCV methods.
    radius : int, default=3
        Radius in pixels of the neighbourhood the OpenCV methods fill each
        pixel from.

    Returns
    -------
    X_filled : ndarray of shape (n_samples, n_features)
        A copy of ``X`` in its float dtype, the masked pixels filled.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae.inpainting import dropout_mask, inpaint
    >>> X = load_digits().data / 16
    >>> mask = dropout_mask(*X.shape, 0.5, random_state=0)
    >>> X_filled = inpaint(X, mask, PCA(16).fit(X))
    >>> bool((X_filled[~mask] == X[~mask]).all())
    True
    >>> X_telea = inpaint(X, mask, "telea", image_shape=(8, 8))  # doctest: +SKIP
    """
    # The values under the mask are ignored, NaN and inf included; the known
    # ones must be finite.
    X = check_array(X, dtype=_FLOAT_DTYPES, ensure_all_finite=False)
    mask = check_array(mask, dtype=bool)
    if mask.shape != X.shape:
        raise ValueError(f"mask must have the shape of X, {X.shape}, got {mask.shape}.")
    assert_all_finite(X[~mask], input_name="X")
    if isinstance(method, str):
        if method not in OPENCV_METHODS:
            raise ValueError(
                f"method must be a fitted transformer or one of {OPENCV_METHODS}, "
                f"got {method!r}."
            )
        filled = _inpaint_opencv(X, mask, method, image_shape, radius)
    else:
        check_is_fitted(method)
        holes = np.where(mask, 0, X)
        filled = np.asarray(method.inverse_transform(method.transform(holes)))
    return np.where(mask, filled, X).astype(X.dtype, copy=False)


def _inpaint_opencv(X, mask, method, image_shape, radius):
    try:
        import cv2
    except ImportError:
        raise ImportError(_INSTALL_HINT) from None
    if image_shape is None:
        raise ValueError(f"method={method!r} needs image_shape=(height, width).")
    shape = _check_image_shape(image_shape, X.shape[1])
    if isinstance(radius, bool) or not isinstance(radius, Integral) or radius < 1:
        raise ValueError(f"radius must be a positive integer, got {radius!r}.")
    known = X[~mask]
    if known.size and (known.min() < 0 or known.max() > 1):
        raise ValueError(
            "OpenCV inpainting works on 8-bit images: the known pixels must lie "
            f"in [0, 1], got values in [{known.min():g}, {known.max():g}]."
        )
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    images = np.rint(np.where(mask, 0, X) * 255).astype(np.uint8).reshape(-1, *shape)
    holes = mask.astype(np.uint8).reshape(-1, *shape)
    filled = [
        cv2.inpaint(image, hole, int(radius), flag) for image, hole in zip(images, holes)
    ]
    return np.stack(filled).reshape(X.shape) / 255
