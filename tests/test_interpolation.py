"""Tests for skae.interpolation."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.interpolation import interpolate

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_FAST = dict(hidden_layer_sizes=(16,), max_epochs=2, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:200]


@pytest.fixture(scope="module")
def ae(X):
    return AutoencoderTransformer(n_components=4, **_FAST).fit(X)


def test_latent_path_runs_between_the_reconstructions(ae, X):
    path = interpolate(ae, X[0], X[1], n_steps=6)
    assert path.shape == (6, X.shape[1])
    ends = ae.inverse_transform(ae.transform(X[:2]))
    np.testing.assert_allclose(path[[0, -1]], ends, rtol=1e-5, atol=1e-4)
    middle = interpolate(ae, X[0], X[1], n_steps=3)[1]
    mean_code = ae.transform(X[:2]).mean(axis=0, keepdims=True)
    np.testing.assert_allclose(middle, ae.inverse_transform(mean_code)[0], atol=1e-4)


def test_pixel_path_is_the_linear_blend(ae, X):
    path = interpolate(ae, X[0], X[1], n_steps=5, space="pixel")
    t = np.linspace(0, 1, 5)[:, np.newaxis]
    np.testing.assert_allclose(path, (1 - t) * X[0] + t * X[1])
    np.testing.assert_array_equal(path[[0, -1]], X[:2])


def test_latent_path_of_a_linear_model_is_evenly_spaced(X):
    linear = AutoencoderTransformer(n_components=3, **_FAST).set_params(hidden_layer_sizes=())
    path = interpolate(linear.fit(X), X[0], X[5], n_steps=7)
    np.testing.assert_allclose(np.diff(path, n=2, axis=0), 0, atol=1e-4)


def test_works_with_any_fitted_transformer(X):
    pca = PCA(n_components=5).fit(X)
    latent = interpolate(pca, X[0], X[1], n_steps=4)
    # PCA's reconstruction is affine, so its latent path is the projected blend.
    blend = interpolate(pca, X[0], X[1], n_steps=4, space="pixel")
    np.testing.assert_allclose(latent, pca.inverse_transform(pca.transform(blend)))
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(**_FAST)).fit(X)
    assert interpolate(pipe, X[0], X[1]).shape == (8, X.shape[1])


def test_keeps_float32(ae, X):
    x = X[:2].astype(np.float32)
    for space in ("latent", "pixel"):
        assert interpolate(ae, x[0], x[1], space=space).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"space": "code"}, "space must be one of"),
        ({"n_steps": 1}, "n_steps must be an integer of at least 2"),
        ({"n_steps": 2.5}, "n_steps must be"),
        ({"n_steps": True}, "n_steps must be"),
    ],
)
def test_bad_arguments(ae, X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        interpolate(ae, X[0], X[1], **kwargs)


def test_bad_samples(ae, X):
    with pytest.raises(ValueError, match="same number of features"):
        interpolate(ae, X[0], X[1, :10])
    with pytest.raises(ValueError, match="expecting 64 features"):
        interpolate(ae, X[0, :10], X[1, :10], space="pixel")


def test_unfitted():
    with pytest.raises(NotFittedError):
        interpolate(AutoencoderTransformer(), np.zeros(3), np.ones(3))
