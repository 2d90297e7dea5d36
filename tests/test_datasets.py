import gzip
import hashlib
import os
import shutil
import urllib.error

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from skae import datasets
from skae.datasets import (
    CORRELATED_KINDS,
    MANIFOLD_KINDS,
    MNIST_FILES,
    get_data_home,
    load_mnist,
    make_correlated,
    make_manifold,
)


def _explained(X, n_components):
    return PCA().fit(X).explained_variance_ratio_[:n_components].sum()


# Generators -------------------------------------------------------------------


@pytest.mark.parametrize("kind", CORRELATED_KINDS)
def test_make_correlated_shape_and_determinism(kind):
    X = make_correlated(kind, n_samples=50, n_features=7, random_state=0)
    assert X.shape == (50, 7)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(
        X, make_correlated(kind, n_samples=50, n_features=7, random_state=0)
    )
    assert not np.array_equal(
        X, make_correlated(kind, n_samples=50, n_features=7, random_state=1)
    )


def test_make_correlated_families():
    X = make_correlated("multiples", n_samples=300, random_state=0)
    np.testing.assert_allclose(X / X[:, :1], np.tile(np.arange(1, 11), (300, 1)))
    assert 0 <= X.min() and X.max() <= 2000
    assert _explained(X, 1) > 0.999

    X = make_correlated("multiples_offset", n_samples=300, random_state=0)
    assert _explained(X, 1) < 0.999
    assert _explained(X, 2) > 0.999

    X = make_correlated("noise", n_samples=300, random_state=0)
    assert _explained(X, 5) < 0.7
    assert abs(X.mean()) < 0.2 and 0.8 < X.std() < 1.2


def test_make_correlated_noise_breaks_rank():
    clean = make_correlated("multiples", n_samples=300, random_state=0)
    noisy = make_correlated("multiples", n_samples=300, noise=5.0, random_state=0)
    assert 3 < np.std(noisy - clean) < 7
    assert PCA().fit(noisy).explained_variance_ratio_[1] > 1e-6


@pytest.mark.parametrize("kind", MANIFOLD_KINDS)
def test_make_manifold_shape_determinism_and_range(kind):
    X, t = make_manifold(kind, n_samples=200, n_features=12, random_state=0)
    assert X.shape == (200, 12) and t.shape == (200,)
    assert 1 < np.abs(X).max() < 3
    X2, t2 = make_manifold(kind, n_samples=200, n_features=12, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(t, t2)
    X3, _ = make_manifold(kind, n_samples=200, n_features=12, random_state=1)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("kind", MANIFOLD_KINDS)
def test_make_manifold_is_curved(kind):
    X, _ = make_manifold(kind, n_samples=500, random_state=0)
    # Far from the 2-D plane PCA would need, and not inside any 3-D subspace.
    assert _explained(X, 2) < 0.9
    assert _explained(X, 3) < 0.99


def test_make_manifold_same_lift_for_every_seed():
    # On the helix the angle fixes the point, so draws with different seeds
    # must agree wherever their angles nearly agree.
    X0, t0 = make_manifold("helix", n_samples=2000, random_state=0)
    X1, t1 = make_manifold("helix", n_samples=50, random_state=1)
    nearest = np.abs(t0[None, :] - t1[:, None]).argmin(axis=1)
    assert np.abs(t0[nearest] - t1).max() < 0.05
    np.testing.assert_allclose(X0[nearest], X1, atol=0.2)


def test_make_manifold_noise():
    clean, _ = make_manifold(n_samples=300, random_state=0)
    noisy, _ = make_manifold(n_samples=300, noise=0.1, random_state=0)
    assert 0.08 < np.std(noisy - clean) < 0.12


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_correlated("linear"), "'kind' parameter of make_correlated"),
        (lambda: make_correlated("noise", n_samples=0), "'n_samples' parameter"),
        (lambda: make_correlated("noise", noise=-1.0), "'noise' parameter"),
        (lambda: make_manifold("torus"), "'kind' parameter of make_manifold"),
        (lambda: make_manifold(n_features=2), "'n_features' parameter"),
    ],
)
def test_generators_reject_bad_arguments(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_bad_kind_message_lists_the_kinds():
    with pytest.raises(ValueError) as info:
        make_correlated("linear")
    for kind in CORRELATED_KINDS:
        assert kind in str(info.value)


# MNIST ------------------------------------------------------------------------


def _write_idx(path, array, code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def _write_mnist(folder, seed=0, n_train=5, n_test=3, image_shape=(4, 3)):
    """Tiny MNIST-like files; the labels start with ``seed`` to tell sets apart."""
    rng = np.random.RandomState(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.randint(0, 256, size=(n, *image_shape)).astype(np.uint8)
        labels = np.r_[seed, rng.randint(0, 10, size=n - 1)].astype(np.uint8)
        _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images)
        _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)
        arrays[prefix] = images, labels
    return arrays


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    """No test sees the real SKAE_DATA or ~/skae_data, or reaches the network."""
    monkeypatch.delenv("SKAE_DATA", raising=False)
    default = tmp_path / "default_home"
    monkeypatch.setattr(datasets, "_DEFAULT_DATA_HOME", str(default))

    def offline(url, path):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(datasets, "_fetch", offline)
    return default


def test_load_mnist_round_trip(tmp_path):
    arrays = _write_mnist(tmp_path / "data")
    mnist = load_mnist(tmp_path / "data")
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = arrays[prefix]
        X, y = mnist[f"X_{split}"], mnist[f"y_{split}"]
        assert X.dtype == np.float32 and X.shape == (len(images), 12)
        assert y.dtype == np.int64
        np.testing.assert_allclose(X, images.reshape(len(images), -1) / 255, rtol=1e-6)
        np.testing.assert_array_equal(y, labels)
    assert mnist.image_shape == (4, 3)
    assert 0 <= mnist.X_train.min() and mnist.X_train.max() <= 1

    X_train, y_train, X_test, y_test = load_mnist(str(tmp_path / "data"), return_X_y=True)
    np.testing.assert_array_equal(X_train, mnist.X_train)
    np.testing.assert_array_equal(y_test, mnist.y_test)


def test_load_mnist_reads_mnist_subfolder(tmp_path):
    _write_mnist(tmp_path / "home" / "mnist", seed=7)
    assert load_mnist(tmp_path / "home").y_train[0] == 7


def test_load_mnist_bad_magic(tmp_path):
    _write_mnist(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\x08\x03\x00\x01" + b"\x00" * 16)
    with pytest.raises(ValueError, match="bad magic number 08030001"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_data(tmp_path):
    _write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as f:
        data = f.read()
    with gzip.open(path, "wb") as f:
        f.write(data[:-5])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz is truncated"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_gzip(tmp_path):
    _write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match="not a readable gzip file"):
        load_mnist(tmp_path)


def test_load_mnist_images_and_labels_disagree(tmp_path):
    _write_mnist(tmp_path)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="train files disagree"):
        load_mnist(tmp_path)


def test_load_mnist_missing_without_download(tmp_path, isolated_homes):
    _write_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, download_if_missing=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz not found" in message
    assert str(tmp_path) in message and str(isolated_homes) in message
    for name in MNIST_FILES:
        assert name in message


def test_load_mnist_download_fails_offline(tmp_path):
    with pytest.raises(OSError, match="download failed") as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert "network disabled in tests" in message
    for name in MNIST_FILES:
        assert name in message
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def _serve_from(folder, calls):
    def fetch(url, path):
        calls.append(url)
        shutil.copy(os.path.join(folder, url.rsplit("/", 1)[1]), path)

    return fetch


def test_load_mnist_rejects_checksum_mismatch(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "served")
    calls = []
    monkeypatch.setattr(datasets, "_fetch", _serve_from(tmp_path / "served", calls))
    with pytest.raises(OSError, match="checksum mismatch"):
        load_mnist(tmp_path / "home")
    # Every mirror was tried, and no bad file was kept.
    assert len(calls) == len(datasets.MNIST_MIRRORS)
    assert not any(p.is_file() for p in (tmp_path / "home").rglob("*"))


def test_load_mnist_downloads_and_caches(tmp_path, monkeypatch):
    served = tmp_path / "served"
    _write_mnist(served, seed=3)
    monkeypatch.setattr(
        datasets, "MNIST_FILES", {name: _md5(served / name) for name in MNIST_FILES}
    )
    calls = []
    monkeypatch.setattr(datasets, "_fetch", _serve_from(served, calls))
    assert load_mnist(tmp_path / "home").y_train[0] == 3
    assert len(calls) == 4
    for name in MNIST_FILES:
        assert (tmp_path / "home" / "mnist" / name).is_file()
    load_mnist(tmp_path / "home")
    assert len(calls) == 4


def test_load_mnist_search_order(tmp_path, monkeypatch, isolated_homes):
    _write_mnist(tmp_path / "explicit", seed=1)
    _write_mnist(tmp_path / "env", seed=2)
    _write_mnist(isolated_homes / "mnist", seed=3)
    monkeypatch.setenv("SKAE_DATA", str(tmp_path / "env"))
    assert load_mnist(tmp_path / "explicit").y_train[0] == 1
    assert load_mnist(tmp_path / "empty").y_train[0] == 2
    assert load_mnist().y_train[0] == 2
    monkeypatch.delenv("SKAE_DATA")
    assert load_mnist().y_train[0] == 3


def test_get_data_home(tmp_path, monkeypatch, isolated_homes):
    assert get_data_home() == str(isolated_homes)
    monkeypatch.setenv("SKAE_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    assert get_data_home(tmp_path / "given") == str(tmp_path / "given")
    assert not (tmp_path / "given").exists()
