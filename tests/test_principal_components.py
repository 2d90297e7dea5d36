"""Principal axes for the PCA start: the exact route, the randomized one for wide rows."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skae import VariationalAutoencoder, _principal_components, _training
from skae._principal_components import PrincipalAxes, principal_components


@pytest.fixture(scope="module")
def X():
    return torch.from_numpy(load_digits().data[:300].astype(np.float32) / 16)


@pytest.fixture(params=["exact", "randomized"])
def route(request, monkeypatch):
    """Both routes on the same small data: the randomized one from any width."""
    if request.param == "randomized":
        monkeypatch.setattr(_principal_components, "_COVARIANCE_FEATURES", 0)
    return request.param


def _wide(n_rows=80, n_features=1500, rank=6, density=0.05, seed=0):
    """Sparse float64 rows: a decaying rank-``rank`` signal on random columns."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n_rows, rank)) * np.geomspace(8, 1, rank)
    X = signal @ rng.normal(size=(rank, n_features))
    X *= rng.random((n_rows, n_features)) < density
    return sp.csr_matrix(X)


def _sparse_rows(S):
    mean = np.asarray(S.mean(axis=0)).ravel()
    return _training.SparseRows(S, mean, 2.0)


def _scaled_dense(S):
    return (S.toarray() - np.asarray(S.mean(axis=0)).ravel()) / 2.0


def test_principal_components_match_sklearn(X, route):
    components, mean, spread = principal_components(X, 5)
    pca = PCA(n_components=5).fit(X.numpy())
    np.testing.assert_allclose(mean.numpy(), pca.mean_, atol=1e-5)
    # Same subspace, axis by axis, up to sign.
    overlap = np.abs(np.sum(components.numpy() * pca.components_, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-3)
    np.testing.assert_allclose(spread.numpy() ** 2, pca.explained_variance_, rtol=1e-2)


def test_principal_components_of_narrow_data(route):
    components, _, spread = principal_components(torch.randn(50, 3), 5)
    assert spread.shape == (3,)
    assert components.shape == (3, 3)


@pytest.mark.parametrize("n_rows", [300, 20000])
def test_principal_components_leave_out_directions_without_variance(n_rows, route):
    generator = torch.Generator().manual_seed(0)
    basis = torch.randn(2, 10, generator=generator)
    X = torch.randn(n_rows, 2, generator=generator) @ basis + 3  # rank 2
    components, _, spread = principal_components(X, 4)
    assert components.shape == (2, 10) and spread.shape == (2,)
    # Constant data have no direction at all.
    components, _, spread = principal_components(torch.full((30, 4), 2.5), 3)
    assert components.shape == (0, 4) and spread.shape == (0,)


def test_both_routes_give_the_same_axes_and_signs(X, monkeypatch):
    exact = principal_components(X, 6)
    monkeypatch.setattr(_principal_components, "_COVARIANCE_FEATURES", 0)
    randomized = principal_components(X, 6)
    for a, b in zip(exact, randomized):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-3)


def test_wide_sparse_rows_get_the_dense_pca():
    # Wider than _COVARIANCE_FEATURES: the randomized route, on the stored values.
    S = _wide()
    assert S.shape[1] > _principal_components._COVARIANCE_FEATURES
    components, mean, spread = principal_components(_sparse_rows(S), 4)
    dense = _scaled_dense(S)
    pca = PCA(n_components=4).fit(dense)
    np.testing.assert_allclose(mean.numpy(), pca.mean_, atol=1e-6)
    overlap = np.abs(np.sum(components.numpy() * pca.components_, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-4)
    n = S.shape[0]
    np.testing.assert_allclose(
        spread.numpy() ** 2, pca.explained_variance_ * (n - 1) / n, rtol=1e-4
    )
    # A second block counts as more rows, as if stacked.
    first, second = _sparse_rows(S[:50]), _sparse_rows(S[50:])
    second.mean, second.scale = first.mean, first.scale
    stacked = principal_components(first, 4, second)
    whole = _training.SparseRows(S, first.mean, first.scale)
    for a, b in zip(principal_components(whole, 4), stacked):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_wide_sparse_rows_need_no_features_squared_memory():
    # The covariance of 5000 columns would take 200 MB in float64.
    S = _wide(n_rows=60, n_features=5000, density=0.01)
    rows = _sparse_rows(S)
    tracemalloc.start()
    try:
        principal_components(rows, 4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_total_variance_is_the_summed_column_variance():
    S = _wide(n_features=40, density=0.3)
    dense = _scaled_dense(S)
    expected = dense.var(axis=0).sum()
    assert PrincipalAxes(_sparse_rows(S)).total_variance == pytest.approx(expected, rel=1e-9)
    halves = torch.from_numpy(dense[:30]), torch.from_numpy(dense[30:])
    assert PrincipalAxes(*halves).total_variance == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("share", [0.5, 0.8, 0.95, 0.999])
def test_share_width_is_pcas_choice(X, route, share, monkeypatch):
    # From 2 axes up, so the randomized route has to ask for more.
    monkeypatch.setattr(_principal_components, "_FIRST_SHARE_AXES", 2)
    width = PrincipalAxes(X).share_width(share)
    assert width == PCA(n_components=share).fit(X.numpy()).n_components_


@pytest.mark.parametrize("n_features", [1, 3, 4, 7])
def test_gram_matrix_by_blocks_is_the_whole_product(n_features):
    from skae._principal_components import _DenseBlock

    rows = torch.from_numpy(np.random.default_rng(0).normal(size=(50, n_features)))
    rows = rows.float()
    total, gram = _DenseBlock(rows).sums()
    assert gram.dtype == total.dtype == torch.float64
    # Each block is the product's own, mirrored below the diagonal.
    for other in (gram.t(), (rows.t() @ rows).double()):
        torch.testing.assert_close(gram, other, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(total, rows.sum(dim=0).double())


@pytest.mark.parametrize("n_components", [3, 0.8])
def test_a_fit_decomposes_the_covariance_once(X, n_components, monkeypatch):
    # A float n_components asks for the share's width, the PCA start for its
    # axes, and the variational model for its noise variance, at the start
    # and again at the chosen width: one decomposition serves them all.
    calls = []
    covariance_axes = _principal_components._covariance_axes

    def counted(*args):
        calls.append(1)
        return covariance_axes(*args)

    monkeypatch.setattr(_principal_components, "_covariance_axes", counted)
    VariationalAutoencoder(n_components, max_epochs=2, device="cpu", random_state=0).fit(
        X.numpy()
    )
    assert len(calls) == 1
