"""LatentSizeCV: the code size chosen by cross-validation in one call."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, DenoisingAutoencoder, LatentSizeCV, _latent_size

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, device="cpu", random_state=0)
_SIZES = [1, 4, 16]


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:300] / 16


@pytest.fixture(scope="module")
def search(X):
    # A share that four epochs reach (R² 0.13, 0.51 and 0.85 here).
    return LatentSizeCV(AutoencoderTransformer(**_FAST), sizes=_SIZES, rule=0.3).fit(X)


def test_scores_and_size_are_the_grid_searchs(X, search):
    # The same fits as GridSearchCV's: the same folds, parameters and seeds.
    grid = GridSearchCV(
        AutoencoderTransformer(**_FAST), {"n_components": _SIZES}, cv=3, refit=False
    ).fit(X)
    for key in ["mean_test_score", "split0_test_score", "split2_test_score"]:
        np.testing.assert_array_equal(search.cv_results_[key], grid.cv_results_[key])
    np.testing.assert_array_equal(search.cv_results_["rank_test_score"], [3, 2, 1])
    assert search.n_splits_ == 3
    assert search.cv_results_["params"] == grid.cv_results_["params"]


def test_r2_is_the_held_out_explained_variance(X, search):
    # Recomputed from the grid's fit on the first fold, by its definition.
    train, test = next(KFold(3).split(X))
    model = AutoencoderTransformer(n_components=4, **_FAST).fit(X[train])
    residual = model.inverse_transform(model.transform(X[test])) - X[test]
    expected = 1 - (residual**2).sum() / ((X[test] - X[test].mean(axis=0)) ** 2).sum()
    assert search.cv_results_["split0_test_r2"][1] == pytest.approx(expected, rel=1e-6)
    r2 = search.cv_results_["mean_test_r2"]
    assert 0 < r2[0] < r2[1] < r2[2] < 1


def test_share_rule_picks_the_smallest_size_that_reaches_it(X, search):
    r2 = search.cv_results_["mean_test_r2"]
    between = (r2[0] + r2[1]) / 2
    chosen = LatentSizeCV(AutoencoderTransformer(**_FAST), sizes=_SIZES, rule=between)
    chosen.fit(X)
    assert chosen.best_index_ == 1 and chosen.best_n_components_ == 4
    # The refit is at that size, on all the rows.
    assert chosen.best_estimator_.n_components_ == 4
    assert chosen.transform(X).shape == (300, 4)
    assert chosen.inverse_transform(chosen.transform(X[:5])).shape == (5, 64)
    assert chosen.score(X) == chosen.best_estimator_.score(X)
    assert search.best_index_ == np.flatnonzero(r2 >= 0.3)[0] == 1


def test_unreached_share_warns_and_takes_the_largest_size(X):
    search = LatentSizeCV(AutoencoderTransformer(**_FAST), sizes=[1, 2], rule=0.999)
    with pytest.warns(UserWarning, match="No size in sizes reached"):
        search.fit(X)
    assert search.best_n_components_ == 2


def test_callable_rule_gets_cv_results_and_returns_an_index(X, search):
    def one_standard_error(results):
        # The smallest size within one standard error of the best score.
        best = np.argmax(results["mean_test_score"])
        bar = results["mean_test_score"][best] - results["std_test_score"][best]
        return int(np.flatnonzero(results["mean_test_score"] >= bar)[0])

    chosen = LatentSizeCV(
        AutoencoderTransformer(**_FAST), sizes=_SIZES, rule=one_standard_error
    ).fit(X)
    assert chosen.best_index_ == one_standard_error(search.cv_results_)

    bad = LatentSizeCV(AutoencoderTransformer(**_FAST), sizes=_SIZES, rule=lambda r: 3)
    with pytest.raises(IndexError, match="rule must return the index"):
        bad.fit(X)


def test_epoch_share_shortens_the_cross_validation_fits_only(X):
    epochs = []
    # Fits report each epoch to the callback; the counts per fit are read back.
    est = AutoencoderTransformer(
        **{**_FAST, "max_epochs": 10}, callbacks=[lambda model: epochs.append(model.n_iter_)]
    )
    search = LatentSizeCV(est, sizes=[2], cv=2, epoch_share=0.3).fit(X)
    fits = [n for i, n in enumerate(epochs) if i + 1 == len(epochs) or epochs[i + 1] == 1]
    assert fits == [3, 3, 10]  # two folds at ceil(0.3 * 10), then the whole refit
    assert search.best_estimator_.n_iter_ == 10


def test_warm_refit_continues_the_first_splits_fit_for_the_cut_epochs(X):
    epochs = []
    est = AutoencoderTransformer(
        **{**_FAST, "max_epochs": 10}, callbacks=[lambda model: epochs.append(model.n_iter_)]
    )
    search = LatentSizeCV(est, sizes=[2], cv=2, epoch_share=0.3, warm_refit=True).fit(X)
    # Two folds of 3 epochs; the refit goes on from the first for the other 7.
    assert epochs == [1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert search.best_estimator_.n_iter_ == 10
    # Its scaling is that of the first split's training rows, not of all of X.
    train, _ = next(KFold(2).split(X))
    np.testing.assert_allclose(search.best_estimator_.mean_, X[train].mean(axis=0))
    assert not np.allclose(search.best_estimator_.mean_, X.mean(axis=0))
    # It shows the estimator's own parameters, as a fresh refit would.
    params = search.best_estimator_.get_params()
    assert params["max_epochs"] == 10 and params["warm_start"] is False
    assert search.transform(X).shape == (300, 2)


@pytest.mark.parametrize("n_rows", [299, 300])
def test_auto_holds_out_a_tenth_of_large_data_for_shortened_fits(X, monkeypatch, n_rows):
    # From _HOLDOUT_ROWS rows on: one shuffled 10% holdout, 65% of the epochs
    # and a warm refit; below it, the grid's 3 folds, all epochs, a fresh refit.
    monkeypatch.setattr(_latent_size, "_HOLDOUT_ROWS", 300)
    X = X[:n_rows]
    epochs = []
    est = AutoencoderTransformer(
        **{**_FAST, "max_epochs": 10}, callbacks=[lambda model: epochs.append(model.n_iter_)]
    )
    search = LatentSizeCV(est, sizes=[2], rule=0.1).fit(X)
    if n_rows < 300:
        assert (search.n_splits_, search.epoch_share_, search.warm_refit_) == (3, 1.0, False)
        assert epochs == list(range(1, 11)) * 4
        return
    assert (search.n_splits_, search.epoch_share_, search.warm_refit_) == (1, 0.65, True)
    # ceil(0.65 * 10) epochs on the holdout split, then the refit goes on from there.
    assert epochs == list(range(1, 11))
    # The split is drawn from the estimator's random_state: the same rows each time.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    train, test = next(ShuffleSplit(1, test_size=0.1, random_state=seed).split(X))
    assert len(test) == 30
    np.testing.assert_allclose(search.best_estimator_.mean_, X[train].mean(axis=0))
    # Explicit values are kept.
    explicit = LatentSizeCV(est, sizes=[2], rule=0.1, cv=2, warm_refit=False).fit(X)
    assert (explicit.n_splits_, explicit.epoch_share_, explicit.warm_refit_) == (2, 1.0, False)
    explicit.set_params(cv="auto", epoch_share=0.5).fit(X)
    assert (explicit.n_splits_, explicit.epoch_share_, explicit.warm_refit_) == (1, 0.5, False)


def test_auto_epochs_are_planned_for_the_split_rows():
    est = AutoencoderTransformer(max_epochs="auto")
    assert est._planned_epochs(60_000) == 40
    # early_stopping trains on what its validation split leaves.
    est.set_params(early_stopping=True, validation_fraction=0.5)
    assert est._planned_epochs(60_000) == 80


def test_any_skae_estimator_and_sparse_input(X):
    X_sparse = sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    search = LatentSizeCV(
        DenoisingAutoencoder(noise="masking", **_FAST), sizes=[2, 4], cv=2
    ).fit(X_sparse)
    assert isinstance(search.best_estimator_, DenoisingAutoencoder)
    assert search.transform(X_sparse).shape[1] == search.best_n_components_


def test_pandas_output_and_feature_names(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    search = LatentSizeCV(AutoencoderTransformer(**_FAST), sizes=[2], cv=2, rule=0.1)
    out = search.set_output(transform="pandas").fit(frame).transform(frame)
    assert list(out.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    assert list(search.feature_names_in_) == list(frame.columns)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"sizes": []}, ValueError, "non-empty list of positive ints"),
        ({"sizes": [0, 2]}, ValueError, "non-empty list of positive ints"),
        ({"sizes": [2.5]}, ValueError, "non-empty list of positive ints"),
        ({"rule": 1.5}, InvalidParameterError, "'rule' parameter"),
        ({"epoch_share": 0}, InvalidParameterError, "'epoch_share' parameter"),
        ({"warm_refit": True}, ValueError, r"'auto' \(1.0 with several splits\)"),
        ({"warm_refit": True, "epoch_share": 1.0}, ValueError, "needs epoch_share < 1"),
        ({"cv": "folds"}, InvalidParameterError, "'cv' parameter"),
        ({"warm_refit": "yes"}, InvalidParameterError, "'warm_refit' parameter"),
        ({"estimator": PCA()}, InvalidParameterError, "'estimator' parameter"),
    ],
)
def test_bad_parameters_are_named(X, params, error, match):
    with pytest.raises(error, match=match):
        LatentSizeCV(**params).fit(X)


def test_unfitted_search_raises_not_fitted(X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LatentSizeCV().transform(X)


def test_failed_fit_leaves_the_search_as_it_was(X, search):
    # A search refitted on data whose first size diverges keeps its old results.
    import copy

    refit = copy.deepcopy(search)
    refit.set_params(estimator=AutoencoderTransformer(learning_rate=1e30, **_FAST))
    with pytest.raises(ValueError, match="diverged"):
        refit.fit(X[:, :10] * 1e6)
    assert refit.n_features_in_ == 64 and refit.best_index_ == search.best_index_
    np.testing.assert_array_equal(refit.transform(X[:5]), search.transform(X[:5]))
