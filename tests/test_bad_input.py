"""Bad data and bad parameters: a clear conventional error, and no half-fitted state."""

import copy

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from _reliability_cases import ESTIMATORS, FAST, estimator_id, make_data
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data()
X01 = (X - X.min()) / (X.max() - X.min())
N_FEATURES, N_COMPONENTS = X.shape[1], 2


@pytest.fixture(scope="module", params=ESTIMATORS, ids=estimator_id)
def fitted(request):
    """A fitted estimator of each class, read-only."""
    return clone(request.param).fit(X)


def _with(X, value):
    X = X.astype(float)
    X[3, 1] = value
    return X


# name -> (make the bad array from a valid one, expected error, message)
BAD_ARRAYS = {
    "nan": (lambda A: _with(A, np.nan), ValueError, "NaN"),
    "inf": (lambda A: _with(A, np.inf), ValueError, "infinity"),
    "-inf": (lambda A: _with(A, -np.inf), ValueError, "infinity"),
    "none-object": (lambda A: _with(A.astype(object), None), ValueError, "NaN"),
    "1d": (lambda A: A[0], ValueError, "Expected 2D array, got 1D array"),
    "scalar": (lambda A: A[0, 0], ValueError, "Expected 2D array, got scalar"),
    "3d": (lambda A: A[:, :, None], ValueError, "dim 3"),
    "no-rows": (lambda A: A[:0], ValueError, "0 sample"),
    "no-columns": (lambda A: A[:, :0], ValueError, "0 feature"),
    "strings": (
        lambda A: np.full(A.shape, "a"),
        ValueError,
        "could not convert string",
    ),
    "complex": (lambda A: A + 1j, ValueError, "Complex data not supported"),
    "ragged": (lambda A: [list(A[0]), list(A[1, :-1])], ValueError, "inhomogeneous"),
}
DATA_METHODS = ["transform", "score", "score_samples"]


@pytest.mark.parametrize("bad", BAD_ARRAYS)
@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_bad_training_data_rejected_and_estimator_left_unfitted(estimator, method, bad):
    make, error, match = BAD_ARRAYS[bad]
    est = clone(estimator)
    with pytest.raises(error, match=match):
        getattr(est, method)(make(X))
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("bad", BAD_ARRAYS)
@pytest.mark.parametrize("method", [*DATA_METHODS, "inverse_transform", "partial_fit"])
def test_bad_data_rejected_by_fitted_estimator_which_stays_intact(fitted, method, bad):
    make, error, match = BAD_ARRAYS[bad]
    valid = fitted.transform(X) if method == "inverse_transform" else X
    est = copy.deepcopy(fitted)
    with pytest.raises(error, match=match):
        getattr(est, method)(make(valid))
    np.testing.assert_array_equal(est.transform(X), fitted.transform(X))
    assert est.n_iter_ == fitted.n_iter_


def test_sparse_codes_rejected_by_inverse_transform_with_type_error(fitted):
    # Codes are dense (transform returns an ndarray); sparse data rows are
    # accepted (tests/test_sparse_input.py).
    with pytest.raises(TypeError, match="[Ss]parse data was passed"):
        fitted.inverse_transform(sp.csr_matrix(fitted.transform(X)))


@pytest.mark.parametrize("method", DATA_METHODS)
def test_unfitted_estimator_raises_not_fitted(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(AutoencoderTransformer(**FAST), method)(X)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_get_feature_names_out_unfitted_raises_not_fitted(estimator):
    # As PCA: an unfitted model has no output width to name.
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clone(estimator).get_feature_names_out()


def test_inverse_transform_unfitted_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        AutoencoderTransformer(**FAST).inverse_transform(X[:, :N_COMPONENTS])


@pytest.mark.parametrize("method", [*DATA_METHODS, "partial_fit"])
def test_wrong_number_of_features_rejected(fitted, method):
    est = copy.deepcopy(fitted)
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5"):
        getattr(est, method)(X[:, :4])
    np.testing.assert_array_equal(est.transform(X), fitted.transform(X))


def test_warm_start_fit_with_other_width_rejected():
    est = AutoencoderTransformer(warm_start=True, **FAST).fit(X)
    before = est.transform(X)
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5"):
        est.fit(X[:, :4])
    np.testing.assert_array_equal(est.transform(X), before)


@pytest.mark.parametrize("width", [N_COMPONENTS - 1, N_COMPONENTS + 1, N_FEATURES])
def test_inverse_transform_needs_code_width(fitted, width):
    with pytest.raises(ValueError, match=f"X has {width} features.*n_components units"):
        fitted.inverse_transform(np.zeros((3, width)))


def test_transform_with_other_feature_names_rejected():
    columns = [f"f{i}" for i in range(N_FEATURES)]
    est = AutoencoderTransformer(**FAST).fit(pd.DataFrame(X, columns=columns))
    renamed = pd.DataFrame(X, columns=columns[:-1] + ["other"])
    with pytest.raises(ValueError, match="feature names should match"):
        est.transform(renamed)


# Parameters -----------------------------------------------------------------

# Every parameter with values its constraint must reject: wrong type, and each
# side of each interval.
INVALID_VALUES = {
    "n_components": [0, -1, 2.5, 0.0, 1.0, "2", None],
    "nested": ["yes", 1, None],
    "hidden_layer_sizes": [8, "abc", None],
    "activation": ["identity", "swish", None],
    "output_activation": ["relu", None],
    "loss": ["mae", None],
    "tied_weights": ["yes", 1, None],
    "init": ["zeros", None],
    "optimizer": ["rmsprop", torch.optim.Adam],
    "learning_rate": [0, -1e-3, "fast", None],
    "learning_rate_schedule": ["linear", None],
    "weight_decay": [-1e-6, "none"],
    "batch_size": [0, -1, 2.5, "big", None],
    "max_epochs": [0, 1.5, None, "many"],
    "early_stopping": ["no", 0],
    "validation_fraction": [0.0, 1.0, 1.5, None],
    "n_iter_no_change": [0, 2.5],
    "tol": [-1e-6, "tiny"],
    "device": [0, None],
    "precision": ["float16", "float64", torch.float32],
    "random_state": ["seed", 1.5],
    "verbose": [-1, "loud"],
    "warm_start": ["no", None],
    "callbacks": [print, (print,)],
    "noise": ["uniform", None],
    "noise_level": [-1e-6, "high"],
    "sparsity": ["l2", None],
    "sparsity_target": [0.0, 1.0, -0.5],
    "sparsity_weight": [-1e-6, "strong"],
    "k": [0, 1.5, "one"],
    "contraction_weight": [-1e-6, "strong"],
    "jacobian": ["forward", None],
    "beta": [-1e-6, "strong"],
}
CLASSES = [
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    ContractiveAutoencoder,
    VariationalAutoencoder,
]


@pytest.mark.parametrize("Estimator", CLASSES)
def test_every_parameter_has_invalid_values_listed(Estimator):
    # A new parameter without bad values here would go untested below.
    assert set(Estimator._parameter_constraints) <= set(INVALID_VALUES)
    assert set(Estimator._parameter_constraints) == set(Estimator().get_params())


@pytest.mark.parametrize(
    "Estimator, name, value",
    [
        pytest.param(Estimator, name, value, id=f"{Estimator.__name__}-{name}-{value!r}")
        for Estimator in CLASSES
        for name in Estimator._parameter_constraints
        for value in INVALID_VALUES[name]
    ],
)
def test_invalid_parameter_value_rejected_before_fitting(Estimator, name, value):
    est = Estimator(**FAST).set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of"):
        est.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("Estimator", CLASSES)
def test_partial_fit_validates_parameters_too(Estimator):
    est = Estimator(**FAST).set_params(learning_rate=-1.0)
    with pytest.raises(InvalidParameterError, match="'learning_rate' parameter"):
        est.partial_fit(X)


def test_invalid_parameter_error_is_a_value_error():
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize("noise_level", [0.0, 1.0, 3.0])
def test_gaussian_noise_level_above_one_allowed(noise_level):
    est = DenoisingAutoencoder(noise="gaussian", noise_level=noise_level, **FAST).fit(X)
    assert np.isfinite(est.transform(X)).all()


# Checks across parameters and data (_check_params and friends) ---------------

_SIGMOID_RANGE = r"needs X in \[0, 1\].*MinMaxScaler"
_PROBABILITY = r"needs noise_level in \[0, 1\] \(a probability\), got 1.5"

# A valid estimator, the parameters and data that make its fit fail, and the
# error that must say why.
REJECTED = pytest.mark.parametrize(
    "estimator, params, data, error, match",
    [
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"loss": "bce"},
            X,
            ValueError,
            "loss='bce' with output_activation='sigmoid' " + _SIGMOID_RANGE,
            id="bce-data-outside-01",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"output_activation": "sigmoid"},
            X,
            ValueError,
            "loss='mse' with output_activation='sigmoid' " + _SIGMOID_RANGE,
            id="sigmoid-data-outside-01",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"loss": "bce", "output_activation": "identity"},
            X01,
            ValueError,
            "loss='bce' needs output_activation='sigmoid'",
            id="bce-identity-output",
        ),
        pytest.param(
            SparseAutoencoder(sparsity="topk", k=1, **FAST),
            {"k": 3},
            X,
            ValueError,
            "k=3 must be at most n_components=2",
            id="topk-k-above-n_components",
        ),
        pytest.param(
            DenoisingAutoencoder(noise="masking", **FAST),
            {"noise_level": 1.5},
            X,
            ValueError,
            "noise='masking' " + _PROBABILITY,
            id="masking-level-above-1",
        ),
        pytest.param(
            DenoisingAutoencoder(noise="salt_and_pepper", **FAST),
            {"noise_level": 1.5},
            X,
            ValueError,
            "noise='salt_and_pepper' " + _PROBABILITY,
            id="salt-and-pepper-level-above-1",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"early_stopping": True, "validation_fraction": 0.01},
            X[:10],
            ValueError,
            "validation_fraction=0.01 leaves no validation .* n_samples=10",
            id="early-stopping-too-few-rows",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"device": "cuda"},
            X,
            ValueError,
            "device='cuda' was requested but CUDA is not available",
            id="cuda-not-available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="has CUDA"),
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"device": "tpu"},
            X,
            ValueError,
            "device='tpu' is not",
            id="unknown-device",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"device": "meta"},
            X,
            ValueError,
            "device='meta' is not supported",
            id="unsupported-device",
        ),
        *[
            pytest.param(
                AutoencoderTransformer(**FAST),
                {"hidden_layer_sizes": sizes},
                X,
                ValueError,
                "hidden_layer_sizes must be positive integers",
                id=f"hidden-sizes-{sizes}",
            )
            for sizes in [(0,), (4, -3), (2.5,), ("8",)]
        ],
        pytest.param(
            AutoencoderTransformer(**FAST),
            {"callbacks": [3]},
            X,
            TypeError,
            "callbacks must be callables",
            id="callback-not-callable",
        ),
        pytest.param(
            AutoencoderTransformer(**FAST),
            {},
            _with(X, np.nan),
            ValueError,
            "NaN",
            id="nan-data",
        ),
    ],
)


@REJECTED
def test_cross_parameter_check_raises_clear_error(estimator, params, data, error, match):
    with pytest.raises(error, match=match):
        clone(estimator).set_params(**params).fit(data)


@REJECTED
def test_rejected_fit_leaves_fresh_estimator_unfitted(estimator, params, data, error, match):
    est = clone(estimator).set_params(**params)
    with pytest.raises(error):
        est.fit(data)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@REJECTED
def test_rejected_refit_leaves_fitted_estimator_as_it_was(
    estimator, params, data, error, match
):
    est = clone(estimator).fit(X)
    before = est.transform(X)
    est.set_params(**params)
    with pytest.raises(error):
        est.fit(data[:, :4])  # another width, so a half-done refit shows
    assert est.n_features_in_ == N_FEATURES
    np.testing.assert_array_equal(est.transform(X), before)


def test_rejected_fit_of_dataframe_leaves_fresh_estimator_unfitted():
    frame = pd.DataFrame(_with(X, np.nan), columns=[f"f{i}" for i in range(N_FEATURES)])
    est = AutoencoderTransformer(**FAST)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(frame)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


def test_rejected_refit_keeps_feature_names():
    columns = [f"f{i}" for i in range(N_FEATURES)]
    est = AutoencoderTransformer(**FAST).fit(pd.DataFrame(X, columns=columns))
    with pytest.raises(ValueError, match="NaN"):
        est.fit(_with(X, np.nan))
    np.testing.assert_array_equal(est.feature_names_in_, columns)


def test_bce_accepts_minmaxscaler_output_that_rounds_past_one():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    data = np.random.default_rng(0).normal(size=(40, 5)) * 0.1 + 0.7
    assert MinMaxScaler().fit_transform(data).max() > 1  # 1 + 2.2e-16, by rounding
    before = data.copy()
    pipe = make_pipeline(MinMaxScaler(), AutoencoderTransformer(loss="bce", **FAST))
    assert pipe.fit_transform(data).shape == (40, N_COMPONENTS)
    np.testing.assert_array_equal(data, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_clips_values_within_rounding_of_the_unit_interval(dtype):
    data = X01.astype(dtype)
    data[0, 0], data[1, 1] = -1e-17, 1 + 3e-7  # float32 keeps both outside [0, 1]
    before = data.copy()
    est = AutoencoderTransformer(loss="bce", **FAST).fit(data)
    np.testing.assert_array_equal(data, before)  # clipped on the network's copy
    np.testing.assert_array_equal(
        est.loss_curve_, clone(est).fit(np.clip(data, 0, 1)).loss_curve_
    )


def test_bce_outside_the_unit_interval_names_the_exact_extremes():
    data = X01.copy()
    data[0, 0], data[1, 1] = -1e-5, 1.0000123
    with pytest.raises(ValueError, match=r"values range from -1e-05 to 1\.0000123\."):
        AutoencoderTransformer(loss="bce", **FAST).fit(data)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_missing_cuda_device_index_rejected():
    index = torch.cuda.device_count()
    with pytest.raises(ValueError, match=f"'cuda:{index}' does not exist"):
        AutoencoderTransformer(**{**FAST, "device": f"cuda:{index}"}).fit(X)


@pytest.mark.parametrize(
    "params",
    [{"n_components": 3}, {"hidden_layer_sizes": (4, 4)}, {"tied_weights": True}],
)
def test_warm_start_with_changed_architecture_rejected(params):
    est = AutoencoderTransformer(warm_start=True, **FAST).fit(X)
    with pytest.raises(ValueError, match=next(iter(params))):
        est.set_params(**params).fit(X)


@pytest.mark.parametrize("bad", ["nan", "1d", "no-rows", "strings", "complex"])
def test_corrupt_rejects_bad_data(bad):
    make, error, match = BAD_ARRAYS[bad]
    with pytest.raises(error, match=match):
        DenoisingAutoencoder().corrupt(make(X))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"noise": "uniform"}, InvalidParameterError, "'noise' parameter"),
        ({"noise_level": -1.0}, InvalidParameterError, "'noise_level' parameter"),
        ({"noise": "masking", "noise_level": 1.5}, ValueError, _PROBABILITY),
    ],
)
def test_corrupt_rejects_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        DenoisingAutoencoder(**params).corrupt(X)
