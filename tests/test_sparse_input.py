"""Sparse input: the same model as the dense array, and no dense copy of the whole matrix."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from _reliability_cases import ESTIMATORS, FAST, estimator_id
from sklearn.base import clone

from skae import AutoencoderTransformer, _training
from skae._base import _moments
from skae._principal_components import principal_components

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_sparse(n_samples=120, n_features=12, density=0.3, seed=0):
    """Dense float64 data, 70% zeros, with well separated column variances."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) + 1.0
    X *= rng.random((n_samples, n_features)) < density
    return X * np.geomspace(4.0, 0.5, n_features)


X = make_sparse()
FORMATS = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "csr_array": sp.csr_array}
# init="random": Adam's first steps move each weight by about the learning rate
# whatever the size of its gradient, so the PCA start's float32 rounding (the
# dense Gram is summed in float32, the sparse one in float64) would grow to
# 1e-3; from the same random weights the batches are the same.
RANDOM = {"init": "random", "batch_size": 32}


def _assert_same(dense, sparse, width):
    scale = np.abs(dense).max()
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6 * scale, err_msg=width)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_sparse_fit_gives_the_dense_model(estimator, fmt):
    S = FORMATS[fmt](X)
    dense = clone(estimator).set_params(**RANDOM).fit(X)
    sparse = clone(estimator).set_params(**RANDOM).fit(S)
    assert sparse.loss_curve_ == pytest.approx(dense.loss_curve_, rel=1e-5)
    np.testing.assert_allclose(sparse.mean_, dense.mean_, rtol=1e-12)
    assert sparse.scale_ == pytest.approx(dense.scale_, rel=1e-12)
    code = dense.transform(X)
    _assert_same(code, sparse.transform(S), "transform")
    _assert_same(code, dense.transform(S), "transform of sparse rows by the dense fit")
    _assert_same(dense.score_samples(X), sparse.score_samples(S), "score_samples")
    assert sparse.score(S) == pytest.approx(dense.score(X), rel=1e-5)
    _assert_same(dense.inverse_transform(code), sparse.inverse_transform(code), "inverse")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_sparse_partial_fit_gives_the_dense_model(estimator, fmt):
    dense = clone(estimator).set_params(**RANDOM)
    sparse = clone(estimator).set_params(**RANDOM)
    for chunk in np.array_split(X, 3):
        dense.partial_fit(chunk)
        sparse.partial_fit(FORMATS[fmt](chunk))
    assert sparse.loss_curve_ == pytest.approx(dense.loss_curve_, rel=1e-5)
    _assert_same(dense.transform(X), sparse.transform(FORMATS[fmt](X)), "transform")


def test_sparse_early_stopping_splits_the_rows_as_dense():
    params = {**FAST, **RANDOM, "early_stopping": True, "max_epochs": 4}
    dense = AutoencoderTransformer(**params).fit(X)
    sparse = AutoencoderTransformer(**params).fit(sp.csr_matrix(X))
    assert sparse.validation_scores_ == pytest.approx(dense.validation_scores_, rel=1e-5)
    _assert_same(dense.transform(X), sparse.transform(X), "transform")


def test_sparse_pca_start_is_the_dense_one_to_float32_rounding():
    mean, scale = _moments(X)
    S = sp.csr_matrix(X)
    rows = _training.training_data(S, mean, scale, torch.device("cpu"))
    dense = principal_components(_training.to_tensor(X, mean, scale, "cpu"), 3)
    for a, b in zip(dense, principal_components(rows, 3)):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
    # Trained by SGD, which moves each weight in proportion to its gradient,
    # the two starts stay as close.
    params = {**FAST, "optimizer": "sgd", "max_epochs": 3}
    fitted = [AutoencoderTransformer(**params).fit(data) for data in (X, S.tocsc())]
    _assert_same(fitted[0].transform(X), fitted[1].transform(X), "transform")


def test_sparse_moments_are_the_dense_ones():
    wide = make_sparse(300, 40, density=0.05, seed=1) + np.r_[np.zeros(39), 1e3]
    wide[:, 3] = 0.0  # a column with no stored value
    for data in (X, wide):
        mean, scale = _moments(sp.csr_matrix(data))
        expected_mean, expected_scale = _moments(data)
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-15)
        assert scale == pytest.approx(expected_scale, rel=1e-12)


def test_user_matrix_unchanged_and_duplicates_summed():
    # Duplicates and unsorted indices: not canonical, so skae sums a copy.
    rows, cols = np.nonzero(X)
    values = X[rows, cols]
    half = values / 2
    coo = sp.coo_matrix(
        (np.r_[half, half], (np.r_[rows, rows], np.r_[cols, cols])), shape=X.shape
    )
    S = coo.tocsr()
    S.has_canonical_format = False
    S.indices, S.data = S.indices.copy(), S.data.copy()
    before = [S.data.copy(), S.indices.copy(), S.indptr.copy()]
    est = AutoencoderTransformer(**FAST, **RANDOM).fit(S)
    for method in ("transform", "score_samples", "partial_fit"):
        getattr(est, method)(S)
    for array, saved in zip((S.data, S.indices, S.indptr), before):
        np.testing.assert_array_equal(array, saved)
    reference = AutoencoderTransformer(**FAST, **RANDOM).fit(X)
    refit = AutoencoderTransformer(**FAST, **RANDOM).fit(S)
    _assert_same(reference.transform(X), refit.transform(S), "summed duplicates")


@pytest.mark.parametrize("fmt", ["coo", "lil", "dok", "bsr", "dia", "csr64"])
def test_other_sparse_formats_are_converted_to_csr(fmt):
    S = sp.csr_matrix(X)
    if fmt == "csr64":
        S = S.copy()
        S.indices, S.indptr = S.indices.astype(np.int64), S.indptr.astype(np.int64)
    else:
        S = S.asformat(fmt)
    est = AutoencoderTransformer(**FAST, **RANDOM).fit(S)
    reference = AutoencoderTransformer(**FAST, **RANDOM).fit(X)
    _assert_same(reference.transform(X), est.transform(S), fmt)


def test_sparse_float32_stays_float32_and_ints_become_float64():
    est = AutoencoderTransformer(**FAST).fit(sp.csr_matrix(X, dtype=np.float32))
    assert est.transform(sp.csr_matrix(X, dtype=np.float32)).dtype == np.float32
    counts = sp.csr_matrix((X > 0).astype(np.int64))
    assert est.fit(counts).transform(counts).dtype == np.float64


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("method", ["fit", "transform", "score_samples"])
def test_non_finite_stored_values_rejected(method, value):
    est = AutoencoderTransformer(**FAST).fit(X)
    bad = sp.csr_matrix(X)
    bad.data[0] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        getattr(est, method)(bad)


def test_bce_range_check_counts_the_implicit_zeros():
    ones = sp.csr_matrix((X > 0).astype(float))
    est = AutoencoderTransformer(loss="bce", **FAST).fit(ones)
    assert est.transform(ones).shape == (X.shape[0], 2)
    with pytest.raises(ValueError, match=r"values range from 0\.0 to 2\.0"):
        AutoencoderTransformer(loss="bce", **FAST).fit(2 * ones)


@pytest.mark.parametrize("nested", [False, True])
def test_whole_matrix_is_never_densified(monkeypatch, nested):
    n_samples, n_features = 16000, 200
    S = sp.random(
        n_samples, n_features, density=0.01, format="csr", dtype=np.float32, random_state=0
    )
    # Inference chunks of 2**16 values (327 rows), not 2**22 (all the rows).
    monkeypatch.setattr(_training, "_INFERENCE_ELEMENTS", 2**16)
    shapes = []
    toarray, scaled_sparse = sp.csr_matrix.toarray, _training._scaled_sparse

    def spy(self, *args, **kwargs):
        shapes.append(self.shape)
        return toarray(self, *args, **kwargs)

    def spy_scaled(X, *args):
        shapes.append(X.shape)
        return scaled_sparse(X, *args)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    monkeypatch.setattr(_training, "_scaled_sparse", spy_scaled)
    est = AutoencoderTransformer(
        n_components=4,
        hidden_layer_sizes=(8,),
        max_epochs=1,
        batch_size=256,
        nested=nested,
        device="cpu",
        random_state=0,
    )
    est.fit(S.tocsc())
    est.partial_fit(S)
    est.transform(S)
    est.score_samples(S)
    # Densifying the whole matrix (16000 rows, 12.8 MB), or the nested curve's
    # 8000 rows, shows up here: checked by making SparseRows densify it.
    assert shapes and max(rows for rows, _ in shapes) <= 327


def test_sparse_data_larger_than_memory_as_dense_still_train(monkeypatch):
    # Only the dense float32 copy is weighed against the free memory; sparse
    # rows stay as they are.
    monkeypatch.setattr(_training, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match="need"):
        AutoencoderTransformer(**FAST).fit(X)
    est = AutoencoderTransformer(**FAST).fit(sp.csr_matrix(X))
    assert est.n_iter_ == FAST["max_epochs"]


def test_tiny_sparse_values_start_as_the_dense_ones():
    # Scaled by about 1e-200, whose square underflows: the values are divided
    # by the scale before any product.
    tiny = X * 1e-200
    params = {**FAST, "max_epochs": 1, "learning_rate": 1e-12}
    dense = AutoencoderTransformer(**params).fit(tiny)
    sparse = AutoencoderTransformer(**params).fit(sp.csr_matrix(tiny))
    _assert_same(dense.transform(tiny), sparse.transform(tiny), "transform")


def test_sparse_rows_scale_as_the_dense_ones_whatever_their_format():
    # Canonical rows are written from their stored values; duplicates are summed.
    mean, scale = _moments(X)
    dense = _training.to_tensor(X, mean, scale, "cpu")
    S = sp.csr_matrix(X)
    assert S.has_canonical_format
    torch.testing.assert_close(
        _training.to_tensor(S, mean, scale, "cpu"), dense, rtol=0, atol=0
    )
    halves = (np.repeat(S.data / 2, 2), np.repeat(S.indices, 2), 2 * S.indptr)
    duplicated = sp.csr_matrix(halves, shape=S.shape)
    assert not duplicated.has_canonical_format
    torch.testing.assert_close(_training.to_tensor(duplicated, mean, scale, "cpu"), dense)
