"""Nothing lost, nothing leaked: user data, refits, divergence, interruption, seeds."""

import copy
import random

import numpy as np
import pandas as pd
import pytest
import torch
from _reliability_cases import ESTIMATORS, FAST, VARIANTS, estimator_id, make_data
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    _training,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data()


def _weights(est):
    return {k: v.detach().clone() for k, v in est.module_.state_dict().items()}


def _assert_weights_equal(est, expected):
    got = est.module_.state_dict()
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(got[name], value), name


def _outputs(est, X):
    code = est.transform(X)
    return code, est.inverse_transform(code), est.score_samples(X)


def _assert_outputs_equal(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# Nothing lost -------------------------------------------------------------


def _read_only(A):
    A = A.copy(order="K")
    A.setflags(write=False)
    return A


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_user_arrays_never_modified(estimator, dtype, order):
    # Read-only arrays make any NumPy write raise; the copies catch writes
    # through a tensor sharing their memory too.
    data = _read_only(np.asarray(X, dtype=dtype, order=order))
    original = data.copy()
    est = clone(estimator).fit(data)
    est.partial_fit(data)
    code = _read_only(est.transform(data))
    code_before = code.copy()
    est.inverse_transform(code)
    est.score(data)
    est.score_samples(data)
    clone(estimator).fit_transform(data)
    np.testing.assert_array_equal(data, original)
    np.testing.assert_array_equal(code, code_before)


def test_user_dataframe_never_modified():
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    original = frame.copy(deep=True)
    for estimator in VARIANTS:
        est = clone(estimator).fit(frame)
        est.partial_fit(frame)
        est.score(frame)
        est.set_output(transform="pandas").transform(frame)
    pd.testing.assert_frame_equal(frame, original)


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_corrupt_never_modifies_its_input(noise):
    data = _read_only(X)
    noisy = DenoisingAutoencoder(noise=noise, noise_level=0.5).corrupt(data, random_state=0)
    np.testing.assert_array_equal(data, X)
    assert not np.array_equal(noisy, X)


@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_refit_on_other_data_leaves_no_stale_state(estimator):
    columns = [f"f{i}" for i in range(X.shape[1])]
    est = clone(estimator).set_params(early_stopping=True, max_epochs=3)
    est.fit(pd.DataFrame(X, columns=columns))
    assert len(est.validation_scores_) == est.n_iter_ == 3

    other = make_data(n_samples=30, n_features=7, seed=1)
    est.set_params(early_stopping=False, max_epochs=2).fit(other)

    assert not hasattr(est, "feature_names_in_")
    assert est.n_features_in_ == 7
    assert est.mean_.shape == (7,)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.module_.encoder_linear.in_features == 7
    assert est.transform(other).shape == (30, est.n_components)
    # Nothing of the first fit shows: the refit equals a fresh fit.
    fresh = clone(est).fit(other)
    _assert_outputs_equal(_outputs(est, other), _outputs(fresh, other))


def test_refit_with_other_n_components_updates_feature_names_out():
    est = AutoencoderTransformer(**FAST).fit(X)
    est.set_params(n_components=3).fit(X)
    assert est.transform(X).shape == (X.shape[0], 3)
    assert list(est.get_feature_names_out()) == [
        f"autoencodertransformer{i}" for i in range(3)
    ]


def _assert_works_with_width_two(est, code):
    assert est.n_components_ == 2
    np.testing.assert_array_equal(est.transform(X), code)
    assert est.inverse_transform(code).shape == X.shape
    assert list(est.get_feature_names_out()) == [
        f"autoencodertransformer{i}" for i in range(2)
    ]
    frame = est.set_output(transform="pandas").transform(X)
    est.set_output(transform="default")
    assert list(frame.columns) == list(est.get_feature_names_out())


def test_n_components_set_after_fit_changes_nothing_until_the_next_fit():
    est = AutoencoderTransformer(**FAST).fit(X)
    code = est.transform(X)
    est.set_params(n_components=3)
    _assert_works_with_width_two(est, code)
    # A warm start refused because the shape changed leaves the model as it was.
    est.set_params(warm_start=True)
    with pytest.raises(ValueError, match="n_components"):
        est.fit(X)
    with pytest.raises(ValueError, match="n_components"):
        est.partial_fit(X)
    _assert_works_with_width_two(est, code)
    assert est.set_params(warm_start=False).fit(X).transform(X).shape == (X.shape[0], 3)


def test_warm_start_and_partial_fit_extend_history():
    est = AutoencoderTransformer(warm_start=True, **FAST).fit(X)
    first = list(est.loss_curve_)
    est.fit(X)
    assert est.n_iter_ == 4 and est.loss_curve_[:2] == first
    est.partial_fit(X)
    assert est.n_iter_ == len(est.loss_curve_) == 5


@pytest.mark.parametrize("factor", [1e-150, 1e-3, 1e3, 1e150])
def test_units_of_any_size_give_the_same_model(factor):
    # The internal scaling makes the model unit-free, down to float64's limits.
    reference = AutoencoderTransformer(**FAST).fit(X)
    est = AutoencoderTransformer(**FAST).fit(X * factor)
    assert est.scale_ == pytest.approx(reference.scale_ * factor, rel=1e-9)
    np.testing.assert_allclose(
        est.transform(X * factor), reference.transform(X), rtol=1e-4, atol=1e-4
    )
    scores = est.score_samples(X * factor) / factor / factor
    np.testing.assert_allclose(scores, reference.score_samples(X), rtol=1e-3)


def test_data_whose_squares_overflow_rejected_clearly():
    # Errors in X's units (score_samples, early stopping's tol) are squares.
    est = AutoencoderTransformer(**FAST)
    with pytest.raises(ValueError, match="scale"):
        est.fit(X * 1e160)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


# Divergence ---------------------------------------------------------------

_DIVERGED = (
    r"Training diverged at epoch \d+: the loss became (nan|inf)"
    r".*lower learning_rate.*scale X"
)
# Plain SGD this fast overflows within the first few steps of the first epoch.
_EXPLODE = dict(optimizer="sgd", learning_rate=1e4, batch_size=4)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_divergence_of_a_fresh_fit_leaves_it_unfitted(estimator):
    est = clone(estimator).set_params(**_EXPLODE)
    with pytest.raises(ValueError, match=_DIVERGED.replace(r"\d+", "1")):
        est.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.transform(X)


def _poison_epoch(monkeypatch, epoch):
    """Make the ``epoch``-th call of run_epoch blow the weights up."""
    calls = []
    real = _training.run_epoch

    def run_epoch(est, *args, **kwargs):
        calls.append(None)
        if len(calls) == epoch:
            with torch.no_grad():
                for parameter in est.module_.parameters():
                    parameter.fill_(float("nan"))
            return float("nan")
        return real(est, *args, **kwargs)

    monkeypatch.setattr(_training, "run_epoch", run_epoch)


class Snapshots:
    """A callback that keeps the weights after every epoch."""

    def __init__(self):
        self.weights = []

    def __call__(self, est):
        self.weights.append(_weights(est))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_late_divergence_keeps_last_good_epoch(estimator, monkeypatch):
    snapshots = Snapshots()
    est = clone(estimator).set_params(max_epochs=5, callbacks=[snapshots])
    _poison_epoch(monkeypatch, 3)
    with pytest.raises(ValueError, match=_DIVERGED.replace(r"\d+", "3")):
        est.fit(X)
    # The fit raised, but the two good epochs are kept rather than thrown away.
    assert est.n_iter_ == len(est.loss_curve_) == 2
    _assert_weights_equal(est, snapshots.weights[-1])
    assert np.isfinite(_outputs(est, X)[2]).all()


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_partial_fit_divergence_restores_weights_and_can_continue(estimator):
    est = clone(estimator).fit(X)
    before, outputs = _weights(est), _outputs(est, X)
    with pytest.raises(ValueError, match=_DIVERGED):
        # Far outside the scale set by the first fit: the loss overflows.
        est.partial_fit(X * 1e30)
    _assert_weights_equal(est, before)
    _assert_outputs_equal(_outputs(est, X), outputs)
    assert est.n_iter_ == FAST["max_epochs"]
    # The optimizer's moments must not carry the overflow into later steps.
    est.partial_fit(X)
    assert est.n_iter_ == FAST["max_epochs"] + 1
    assert np.isfinite(est.loss_curve_[-1]) and np.isfinite(_outputs(est, X)[2]).all()


def test_warm_start_divergence_restores_weights_and_can_continue():
    est = AutoencoderTransformer(warm_start=True, **FAST).fit(X)
    before, outputs = _weights(est), _outputs(est, X)
    with pytest.raises(ValueError, match=_DIVERGED.replace(r"\d+", "3")):
        est.set_params(**_EXPLODE).fit(X)
    _assert_weights_equal(est, before)
    _assert_outputs_equal(_outputs(est, X), outputs)
    est.set_params(optimizer="adam", learning_rate=1e-3).fit(X)
    assert est.n_iter_ == 4 and np.isfinite(est.loss_curve_).all()


def test_refit_diverging_in_first_epoch_leaves_estimator_unfitted():
    # A refit without warm_start has already replaced the old model when it
    # diverges, so there is nothing left to keep.
    est = AutoencoderTransformer(**FAST).fit(X)
    with pytest.raises(ValueError, match=_DIVERGED):
        est.set_params(**_EXPLODE).fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


# Interruption ---------------------------------------------------------------


class InterruptAfter(Snapshots):
    """Keep the weights after every epoch, then press Ctrl-C after ``epochs``."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def __call__(self, est):
        super().__call__(est)
        if est.n_iter_ == self.epochs:
            raise KeyboardInterrupt


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_interrupt_between_epochs_keeps_the_last_epoch(estimator):
    interrupt = InterruptAfter(2)
    # From a random start, so that the last epoch is better than the start
    # and the never-worse-than-the-start rule keeps it.
    est = clone(estimator).set_params(max_epochs=10, callbacks=[interrupt], init="random")
    with pytest.warns(UserWarning, match="interrupted after 2 epochs"):
        est.fit(X)
    check_is_fitted(est)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    _assert_weights_equal(est, interrupt.weights[-1])
    assert np.isfinite(_outputs(est, X)[2]).all()


def _interrupt_step(monkeypatch, step):
    """Raise KeyboardInterrupt in the ``step``-th optimizer step."""
    calls = []
    real = _training.train_step

    def train_step(*args, **kwargs):
        calls.append(None)
        if len(calls) == step:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_training, "train_step", train_step)


def test_interrupt_mid_epoch_rolls_back_to_the_last_whole_epoch(monkeypatch):
    snapshots = Snapshots()
    # 40 rows in batches of 10: the 10th step is the middle of epoch 3.
    est = AutoencoderTransformer(
        **{**FAST, "max_epochs": 5}, batch_size=10, callbacks=[snapshots]
    )
    _interrupt_step(monkeypatch, 10)
    with pytest.warns(UserWarning, match="interrupted after 2 epochs"):
        est.fit(X)
    assert est.n_iter_ == 2
    _assert_weights_equal(est, snapshots.weights[-1])


def test_interrupt_in_first_epoch_keeps_the_pca_start(monkeypatch):
    est = AutoencoderTransformer(**FAST, batch_size=10)
    _interrupt_step(monkeypatch, 2)
    with pytest.warns(UserWarning, match="interrupted after 0 epochs"):
        est.fit(X)
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    # The untrained network is PCA, in the estimator's scaled units.
    pca = PCA(n_components=2).fit_transform(X) / est.scale_
    np.testing.assert_allclose(np.abs(est.transform(X)), np.abs(pca), atol=1e-4)


def test_interrupted_partial_fit_keeps_the_weights_it_started_from(monkeypatch):
    est = AutoencoderTransformer(**FAST, batch_size=10).fit(X)
    before = _weights(est)
    _interrupt_step(monkeypatch, 2)
    with pytest.warns(UserWarning, match="interrupted"):
        est.partial_fit(X)
    assert est.n_iter_ == FAST["max_epochs"]
    _assert_weights_equal(est, before)


def test_interrupt_with_early_stopping_keeps_the_best_validation_epoch(monkeypatch):
    # Scripted validation errors: the start, then epochs 1-4; epoch 2 is best.
    errors = {0: 10.0, 1: 5.0, 2: 1.0, 3: 3.0, 4: 4.0}
    monkeypatch.setattr(_training, "validation_loss", lambda est, X_val: errors[est.n_iter_])
    interrupt = InterruptAfter(4)
    est = AutoencoderTransformer(
        **{**FAST, "max_epochs": 10}, early_stopping=True, callbacks=[interrupt]
    )
    with pytest.warns(UserWarning, match="interrupted after 4 epochs"):
        est.fit(X)
    expected_scores = -np.array([5.0, 1.0, 3.0, 4.0]) * est.scale_**2
    np.testing.assert_allclose(est.validation_scores_, expected_scores)
    _assert_weights_equal(est, interrupt.weights[1])


def test_divergence_after_an_interrupted_first_fit_keeps_the_model(monkeypatch):
    est = AutoencoderTransformer(**FAST, batch_size=10)
    with monkeypatch.context() as patch:
        _interrupt_step(patch, 1)
        with pytest.warns(UserWarning, match="interrupted after 0 epochs"):
            est.fit(X)
    before = _weights(est)
    with pytest.raises(ValueError, match=_DIVERGED):
        est.partial_fit(X * 1e30)
    _assert_weights_equal(est, before)


# Reproducibility ------------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_same_seed_gives_bitwise_identical_models(estimator, early_stopping):
    est = clone(estimator).set_params(early_stopping=early_stopping, batch_size=8)
    first, second = clone(est).fit(X), clone(est).fit(X)
    _assert_weights_equal(second, _weights(first))
    assert first.loss_curve_ == second.loss_curve_
    _assert_outputs_equal(_outputs(second, X), _outputs(first, X))
    first.partial_fit(X)
    second.partial_fit(X)
    _assert_weights_equal(second, _weights(first))


def test_random_state_instances_with_the_same_seed_agree():
    def fit():
        seed = np.random.RandomState(3)
        return AutoencoderTransformer(**{**FAST, "random_state": seed}).fit(X)

    _assert_weights_equal(fit(), _weights(fit()))


def test_seed_none_follows_numpys_global_seed_like_scikit_learn():
    est = AutoencoderTransformer(**{**FAST, "random_state": None})
    np.random.seed(7)
    first = _weights(clone(est).fit(X))
    np.random.seed(7)
    _assert_weights_equal(clone(est).fit(X), first)
    assert not torch.equal(
        clone(est).fit(X).module_.encoder_correction[0].weight,
        first["encoder_correction.0.weight"],
    )


def _initial_network(estimator, monkeypatch, **params):
    """The network as built: its first step is interrupted, which restores the start."""
    with monkeypatch.context() as patch:
        _interrupt_step(patch, 1)
        with pytest.warns(UserWarning, match="interrupted after 0 epochs"):
            return clone(estimator).set_params(**params).fit(X).module_


@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_different_seeds_give_different_initial_weights(estimator, monkeypatch):
    a, b = (
        _initial_network(estimator, monkeypatch, init="random", random_state=seed)
        for seed in (0, 1)
    )
    assert not torch.equal(a.encoder_linear.weight, b.encoder_linear.weight)
    # With init="pca" the linear path is PCA whatever the seed; the nonlinear
    # corrections still start from the seed's draw.
    a, b = (
        _initial_network(estimator, monkeypatch, init="pca", random_state=seed)
        for seed in (0, 1)
    )
    assert torch.equal(a.encoder_linear.weight, b.encoder_linear.weight)
    assert not torch.equal(a.encoder_correction[0].weight, b.encoder_correction[0].weight)


def _global_state():
    return (
        torch.get_rng_state(),
        np.random.get_state()[1].copy(),
        random.getstate(),
        torch.get_num_threads(),
        torch.is_grad_enabled(),
        torch.get_default_dtype(),
    )


@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_global_random_state_untouched(estimator):
    torch.manual_seed(11)
    np.random.seed(11)
    random.seed(11)
    before = _global_state()
    est = clone(estimator).set_params(early_stopping=True).fit(X)
    est.partial_fit(X)
    _outputs(est, X)
    est.score(X)
    if isinstance(est, DenoisingAutoencoder):
        est.corrupt(X, random_state=0)
    after = _global_state()
    assert torch.equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2:] == before[2:]


def test_seed_none_leaves_torch_and_python_generators_alone():
    torch.manual_seed(11)
    random.seed(11)
    before = _global_state()
    DenoisingAutoencoder(**{**FAST, "random_state": None}).fit(X)
    after = _global_state()
    assert torch.equal(after[0], before[0]) and after[2] == before[2]


def test_copies_and_clones_share_no_torch_state():
    est = SparseAutoencoder(**FAST).fit(X)
    duplicate = copy.deepcopy(est)
    before = _weights(est)
    duplicate.partial_fit(X)
    _assert_weights_equal(est, before)
    assert not hasattr(clone(est), "module_")


def test_scaling_independent_of_memory_layout():
    expected = AutoencoderTransformer(**FAST).fit(X)
    for other in (np.asfortranarray(X), pd.DataFrame(X)):
        est = AutoencoderTransformer(**FAST).fit(other)
        np.testing.assert_array_equal(est.mean_, expected.mean_)
        assert est.scale_ == expected.scale_
        _assert_outputs_equal(_outputs(est, X), _outputs(expected, X))


@pytest.mark.parametrize("order", ["C", "F"])
def test_constant_data_gets_unit_scale(order):
    # A mean off by a rounding error must not turn into a tiny scale_ that
    # blows the rounding error up to unit size.
    data = np.full((8, 2), 819.41460736, order=order)
    assert AutoencoderTransformer(**FAST).fit(data).scale_ == 1.0
