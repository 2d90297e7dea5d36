"""Tests for skae.inpainting."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from skae import DenoisingAutoencoder
from skae.inpainting import block_mask, dropout_mask, inpaint

SHAPE = (8, 8)


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:200] / 16


@pytest.fixture(scope="module")
def pca(X):
    return PCA(8).fit(X)


def test_dropout_mask_rate_and_seed():
    mask = dropout_mask(400, 64, 0.3, random_state=0)
    assert mask.dtype == bool and mask.shape == (400, 64)
    assert abs(mask.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(mask, dropout_mask(400, 64, 0.3, random_state=0))
    assert not dropout_mask(5, 64, 0.0, random_state=0).any()
    assert dropout_mask(5, 64, 1.0, random_state=0).all()
    with pytest.raises(ValueError, match="rate must be a probability"):
        dropout_mask(5, 64, 1.5)


@pytest.mark.parametrize(
    "shape, fraction, rows, cols",
    [
        ((8, 8), 0.5, slice(2, 6), slice(2, 6)),
        ((28, 28), 0.5, slice(7, 21), slice(7, 21)),
        ((6, 10), 0.5, slice(1, 4), slice(3, 6)),
        ((8, 8), 0.01, slice(3, 4), slice(3, 4)),
    ],
)
def test_block_mask_is_a_centred_square(shape, fraction, rows, cols):
    mask = block_mask(3, shape, fraction)
    expected = np.zeros(shape, dtype=bool)
    expected[rows, cols] = True
    assert mask.shape == (3, shape[0] * shape[1])
    for row in mask:
        np.testing.assert_array_equal(row.reshape(shape), expected)
    with pytest.raises(ValueError, match="fraction must be in"):
        block_mask(3, shape, 0)


def test_estimator_fills_only_the_masked_pixels_from_zeroed_input(X, pca):
    mask = dropout_mask(*X.shape, 0.5, random_state=0)
    X_nan = np.where(mask, 7.0, X)  # what lies under the mask must not matter
    filled = inpaint(X_nan, mask, pca)
    np.testing.assert_array_equal(filled[~mask], X[~mask])
    expected = pca.inverse_transform(pca.transform(np.where(mask, 0, X)))
    np.testing.assert_allclose(filled[mask], expected[mask])
    assert X_nan[mask].max() == 7.0  # the input is untouched


@pytest.mark.parametrize("hidden", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_under_the_mask_are_ignored(X, pca, hidden):
    mask = dropout_mask(*X.shape, 0.5, random_state=0)
    X_hidden = np.where(mask, hidden, X)
    filled = inpaint(X_hidden, mask, pca)
    np.testing.assert_array_equal(filled, inpaint(X, mask, pca))
    assert np.isfinite(filled).all()


@pytest.mark.parametrize("known", [np.nan, np.inf])
def test_nan_and_inf_outside_the_mask_are_rejected(X, pca, known):
    mask = dropout_mask(*X.shape, 0.5, random_state=0)
    X_bad = X.copy()
    row, col = np.argwhere(~mask)[0]
    X_bad[row, col] = known
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        inpaint(X_bad, mask, pca)


def test_denoising_autoencoder_fills_holes_better_than_zeros(X):
    dae = DenoisingAutoencoder(
        16,
        noise="masking",
        noise_level=0.5,
        hidden_layer_sizes=(32,),
        max_epochs=30,
        device="cpu",
        random_state=0,
    ).fit(X)
    mask = dropout_mask(*X.shape, 0.5, random_state=1)
    filled = inpaint(X, mask, dae)
    assert filled.dtype == X.dtype
    assert np.mean((filled - X)[mask] ** 2) < 0.5 * np.mean(X[mask] ** 2)


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_opencv_methods(X, method):
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    mask = block_mask(len(X), SHAPE, 0.25)
    filled = inpaint(X.astype(np.float32), mask, method, image_shape=SHAPE, radius=2)
    assert filled.dtype == np.float32
    np.testing.assert_array_equal(filled[~mask], X.astype(np.float32)[~mask])
    # The 2x2 hole is filled from its neighbours: within their range, on the
    # 8-bit grid, and much closer to the truth than leaving it at 0.
    assert ((filled >= 0) & (filled <= 1)).all()
    np.testing.assert_allclose(filled[mask] * 255, np.rint(filled[mask] * 255), atol=1e-3)
    assert np.mean((filled - X)[mask] ** 2) < 0.5 * np.mean(X[mask] ** 2)


def test_opencv_needs_image_shape_and_unit_range(X):
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    mask = block_mask(len(X), SHAPE)
    with pytest.raises(ValueError, match="needs image_shape"):
        inpaint(X, mask, "telea")
    with pytest.raises(ValueError, match="image_shape"):
        inpaint(X, mask, "telea", image_shape=(4, 4))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        inpaint(X * 16, mask, "ns", image_shape=SHAPE)
    with pytest.raises(ValueError, match="radius must be"):
        inpaint(X, mask, "ns", image_shape=SHAPE, radius=0)


def test_missing_opencv_says_how_to_install(X, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now fails
    with pytest.raises(ImportError, match=r'pip install "skae\[inpainting\]"'):
        inpaint(X, block_mask(len(X), SHAPE), "telea", image_shape=SHAPE)


def test_bad_method_and_mask(X, pca):
    mask = block_mask(len(X), SHAPE)
    with pytest.raises(ValueError, match="method must be"):
        inpaint(X, mask, "biharmonic")
    with pytest.raises(ValueError, match="mask must have the shape"):
        inpaint(X, mask[:10], pca)
    with pytest.raises(NotFittedError):
        inpaint(X, mask, PCA(4))
