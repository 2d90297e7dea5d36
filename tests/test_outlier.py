"""AutoencoderOutlierDetector: thresholds, scores, search on labelled data, persistence."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
)

FAST = dict(hidden_layer_sizes=(32,), max_epochs=5, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return AutoencoderOutlierDetector(AutoencoderTransformer(8, **FAST)).fit(X[y == 0])


def test_contamination_share_is_flagged_on_digits(digits):
    X, _ = digits
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(8, **FAST), contamination=0.1)
    share = np.mean(detector.fit_predict(X) == -1)
    assert 0.08 <= share <= 0.12
    assert np.mean(detector.predict(X) == -1) == share


def test_auto_threshold_is_tukeys_fence(fitted, digits):
    X, y = digits
    error = -fitted.score_samples(X[y == 0])
    q1, q3 = np.percentile(error, [25, 75])
    assert fitted.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)))
    assert 0 < np.mean(fitted.predict(X[y == 0]) == -1) < 0.1


def test_decision_function_and_predict_follow_the_scores(fitted, digits):
    X, _ = digits
    scores = fitted.score_samples(X)
    np.testing.assert_allclose(fitted.decision_function(X), scores - fitted.offset_)
    np.testing.assert_array_equal(fitted.predict(X), np.where(scores < fitted.offset_, -1, 1))


def test_other_digits_score_lower_than_the_normal_one(fitted, digits):
    X, y = digits
    assert roc_auc_score(y != 0, -fitted.score_samples(X)) > 0.9


def test_squared_error_is_the_autoencoders_own_score(digits):
    X, y = digits
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(8, **FAST)).fit(X[y == 1])
    np.testing.assert_array_equal(detector.feature_weights_, 1.0)
    np.testing.assert_allclose(
        detector.score_samples(X), detector.estimator_.score_samples(X), rtol=1e-5, atol=1e-9
    )


def test_standardized_error_weights_precise_features_more():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3)) * [1.0, 1.0, 0.01]
    detector = AutoencoderOutlierDetector(PCA(1), error="standardized").fit(X)
    # PCA(1) keeps one direction of the first two; the third is all residual.
    assert detector.feature_weights_[2] > 100 * detector.feature_weights_[:2].max()
    rows = [[0.0, 0.0, 0.3], [0.0, 2.0, 0.0]]
    # The squared error ranks the row off the third feature as more normal.
    squared = AutoencoderOutlierDetector(PCA(1)).fit(X)
    assert squared.score_samples(rows)[0] > squared.score_samples(rows)[1]
    assert detector.score_samples(rows)[0] < detector.score_samples(rows)[1]


# PCA divides by the zero variance of constant data for its explained_variance_ratio_.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_exactly_reconstructed_training_data_give_unit_weights():
    X = np.full((20, 2), 3.0)  # constant: PCA reconstructs it exactly
    detector = AutoencoderOutlierDetector(PCA(1), error="standardized").fit(X)
    np.testing.assert_array_equal(detector.feature_weights_, 1.0)
    assert np.isfinite(detector.score_samples(X + 1)).all()


def test_any_transformer_with_inverse_transform_works(digits):
    X, y = digits
    detector = AutoencoderOutlierDetector(PCA(8)).fit(X[y == 0])
    pca = PCA(8).fit(X[y == 0])
    error = ((X - pca.inverse_transform(pca.transform(X))) ** 2).mean(axis=1)
    np.testing.assert_allclose(detector.score_samples(X), -error)


def test_estimator_is_cloned_not_fitted(digits):
    X, y = digits
    ae = AutoencoderTransformer(8, **FAST)
    detector = AutoencoderOutlierDetector(ae).fit(X[y == 0])
    assert not hasattr(ae, "module_")
    assert detector.estimator_ is not ae and hasattr(detector.estimator_, "module_")


def test_default_estimator_is_sized_from_the_data_and_seeded(digits):
    X, y = digits
    first = AutoencoderOutlierDetector(random_state=0).fit(X[y == 3][:60])
    assert isinstance(first.estimator_, AutoencoderTransformer)
    assert first.estimator_.n_components == 16  # 64 features // 4
    second = AutoencoderOutlierDetector(random_state=0).fit(X[y == 3][:60])
    np.testing.assert_array_equal(first.score_samples(X[:20]), second.score_samples(X[:20]))


def test_grid_search_on_labelled_data(digits):
    X, y = digits
    # +1 marks the normal digit (0), -1 the outliers, as predict does; the
    # training folds hold outliers too, which the detector fits as data.
    X = np.vstack([X[y == 0], X[y == 1][:20]])
    y = np.r_[np.ones((y == 0).sum()), -np.ones(20)]
    search = GridSearchCV(
        AutoencoderOutlierDetector(AutoencoderTransformer(2, **FAST)),
        {"estimator__n_components": [1, 8]},
        scoring="roc_auc",
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    assert search.best_params_ == {"estimator__n_components": 8}
    # Better than chance though the 1s are trained on too.
    assert search.best_score_ > 0.7

    # A scorer with the opposite labels: y marks the outliers by 1.
    def outlier_auc(estimator, X, y):
        return roc_auc_score(y, -estimator.decision_function(X))

    flipped = GridSearchCV(
        search.estimator, search.param_grid, scoring=outlier_auc, cv=search.cv
    ).fit(X, (y == -1).astype(int))
    np.testing.assert_allclose(
        flipped.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )


def test_pickle_round_trip(fitted, digits):
    X, _ = digits
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
    assert loaded.offset_ == fitted.offset_


def test_feature_names_are_checked(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X[y == 0], columns=[f"pixel{i}" for i in range(64)])
    detector = AutoencoderOutlierDetector(PCA(4)).fit(frame)
    np.testing.assert_array_equal(detector.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        detector.predict(X[:2])


def test_float32_scores_stay_float32(digits):
    X, y = digits
    detector = AutoencoderOutlierDetector(DenoisingAutoencoder(4, **FAST))
    detector.fit(X[y == 0].astype(np.float32))
    assert detector.score_samples(X[:5].astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "params, name",
    [
        ({"contamination": 0.7}, "contamination"),
        ({"contamination": 0.0}, "contamination"),
        ({"error": "absolute"}, "error"),
        ({"estimator": object()}, "estimator"),
    ],
)
def test_bad_parameters_are_named(params, name, digits):
    X, _ = digits
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        AutoencoderOutlierDetector(**params).fit(X)
