"""Behaviour of the four estimators: seed 004's experiments, the scikit-learn
protocol (pipelines, search, pandas output, pickling), and the variants' hooks."""

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae.datasets import make_manifold

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, device="cpu", random_state=0)
ALL = [
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    ContractiveAutoencoder,
    VariationalAutoencoder,
]


def seed004(kind, n_samples=300, n_features=10, seed=0):
    """Seed 004's families: ``x*(j+1)``, ``x*(j+1) + k`` and iid noise."""
    rng = np.random.default_rng(seed)
    j = np.arange(1, n_features + 1)
    x = rng.uniform(0, 200, size=(n_samples, 1))
    if kind == "multiples":
        return x * j
    if kind == "multiples_offset":
        return x * j + rng.uniform(0, 200, size=(n_samples, 1))
    return rng.normal(size=(n_samples, n_features))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


# Seed 004 ------------------------------------------------------------------


@pytest.mark.parametrize("init", ["pca", "random"])
def test_multiples_compress_to_one_unit_without_a_scaler(init):
    # Values reach 2000: internal scaling must make this work unscaled, and
    # inverse_transform must undo it.
    X = seed004("multiples")
    ae = AutoencoderTransformer(
        n_components=1, init=init, learning_rate=3e-3, max_epochs=60, random_state=0
    )
    X_hat = ae.inverse_transform(ae.fit_transform(X))
    assert X.max() > 1500
    assert r2_score(X, X_hat) > 0.99


def test_offset_multiples_need_two_units():
    X = seed004("multiples_offset")
    search = GridSearchCV(
        AutoencoderTransformer(max_epochs=20, random_state=0),
        {"n_components": [1, 2, 3]},
        cv=3,
    ).fit(X)
    scores = dict(
        zip(search.cv_results_["param_n_components"], search.cv_results_["mean_test_score"])
    )
    # Scores are minus the MSE in the data's units (values up to ~2200).
    assert scores[2] > 10 * scores[1]
    assert search.best_params_["n_components"] in (2, 3)


def test_noise_is_incompressible_for_pca_and_autoencoder():
    X = seed004("noise", n_samples=600)
    X_train, X_test = X[:400], X[400:]
    pca = PCA(n_components=5).fit(X_train)
    ae = AutoencoderTransformer(n_components=5, max_epochs=30, random_state=0)
    ae.fit(X_train)
    for model in (pca, ae):
        assert r2_score(X_test, model.inverse_transform(model.transform(X_test))) < 0.9


# scikit-learn protocol -----------------------------------------------------


def test_pipeline_and_grid_search_over_n_components(digits):
    X, _ = digits
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(**FAST))
    Z = pipe.fit_transform(X)
    assert Z.shape == (X.shape[0], 2)
    assert pipe.inverse_transform(Z).shape == X.shape
    search = GridSearchCV(pipe, {"autoencodertransformer__n_components": [1, 4]}, cv=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(scores < 0)
    assert scores[1] > scores[0]  # more units reconstruct better


@pytest.mark.parametrize("Estimator", ALL)
def test_feature_names_and_pandas_output(Estimator):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(seed004("multiples")[:60], columns=[f"f{i}" for i in range(10)])
    est = Estimator(n_components=3, **FAST).set_output(transform="pandas").fit(X)
    prefix = Estimator.__name__.lower()
    expected = [f"{prefix}{i}" for i in range(3)]
    assert list(est.get_feature_names_out()) == expected
    Z = est.transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == expected
    assert list(est.feature_names_in_) == list(X.columns)


@pytest.mark.parametrize("Estimator", ALL)
def test_pickle_and_clone(Estimator, digits):
    X, _ = digits
    est = Estimator(n_components=4, **FAST).fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(
        loaded.inverse_transform(est.transform(X)), est.inverse_transform(est.transform(X))
    )
    # The optimizer still drives the loaded module's parameters.
    loaded.partial_fit(X)
    assert not np.array_equal(loaded.transform(X), est.transform(X))
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "module_")


@pytest.mark.parametrize("Estimator", ALL)
def test_random_state_reproducible_and_private(Estimator, digits):
    X, _ = digits
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    a = Estimator(n_components=4, **FAST).fit(X).transform(X)
    b = Estimator(n_components=4, **FAST).fit(X).transform(X)
    c = Estimator(n_components=4, **{**FAST, "random_state": 1}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])


def test_score_is_negative_mse_in_user_units(digits):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=4, **FAST).fit(X)
    X_hat = ae.inverse_transform(ae.transform(X))
    per_row = ((X - X_hat) ** 2).mean(axis=1)
    np.testing.assert_allclose(ae.score_samples(X), -per_row, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ae.score(X), -per_row.mean(), rtol=1e-4)


def test_starts_from_pca_and_improves_on_it(digits):
    X, _ = digits
    pca = PCA(n_components=8).fit(X)
    pca_score = -np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2)
    ae = AutoencoderTransformer(n_components=8, **{**FAST, "max_epochs": 30}).fit(X)
    assert ae.score(X) > pca_score


def test_float32_is_preserved(digits):
    X = digits[0].astype(np.float32)
    ae = AutoencoderTransformer(**FAST).fit(X)
    assert ae.transform(X).dtype == np.float32
    assert ae.inverse_transform(ae.transform(X)).dtype == np.float32
    assert ae.transform(X.astype(np.float64)).dtype == np.float64


def test_user_arrays_are_not_modified(digits):
    X = digits[0].copy()
    before = X.copy()
    for Estimator in ALL:
        est = Estimator(n_components=3, **FAST).fit(X)
        est.partial_fit(X)
        Z = est.transform(X)
        Z_before = Z.copy()
        est.inverse_transform(Z)
        est.score(X)
        np.testing.assert_array_equal(Z, Z_before)
    np.testing.assert_array_equal(X, before)


# Training control ----------------------------------------------------------


def test_early_stopping_never_ends_worse_than_the_pca_start(digits):
    X, _ = digits
    # A learning rate so large that every epoch is worse than the start.
    ae = AutoencoderTransformer(
        n_components=4,
        early_stopping=True,
        learning_rate=1.0,
        learning_rate_schedule="constant",
        **{**FAST, "max_epochs": 3},
    )
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    order = np.random.RandomState(0).permutation(X.shape[0])
    X_val = X[order[: int(round(0.1 * X.shape[0]))]]
    # The PCA start is fitted on all the rows given to fit.
    pca = PCA(n_components=4).fit(X)
    pca_score = -np.mean((X_val - pca.inverse_transform(pca.transform(X_val))) ** 2)
    assert max(ae.validation_scores_) < pca_score
    np.testing.assert_allclose(ae.score(X_val), pca_score, rtol=1e-3)


def test_history_and_convergence_warning(digits):
    X, _ = digits
    # A constant rate stopped by the cap while improving warns...
    with pytest.warns(ConvergenceWarning, match="Maximum epochs"):
        AutoencoderTransformer(learning_rate_schedule="constant", **FAST).fit(X)
    # ...a cosine schedule ends at max_epochs by design, with the rate at zero.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(**FAST).fit(X)
    assert ae.n_iter_ == 5
    assert len(ae.loss_curve_) == 5
    assert ae.best_loss_ == min(ae.loss_curve_)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.validation_scores_ is None


@pytest.mark.parametrize(
    ("schedule", "early_stopping", "n_iter"),
    [("constant", False, 4), ("cosine", True, 3), ("cosine", False, 12)],
)
def test_a_stalled_training_loss_stops_only_a_constant_rate(
    digits, schedule, early_stopping, n_iter
):
    # At a rate that rounds to zero the loss never improves after the first
    # epoch: the training loss ends a constant-rate fit n_iter_no_change + 1
    # epochs later, validation data (which start from the start's score) end
    # any fit, and a cosine fit without them runs its planned epochs.
    X, _ = digits
    ae = AutoencoderTransformer(
        n_components=2,
        learning_rate=1e-300,
        learning_rate_schedule=schedule,
        early_stopping=early_stopping,
        n_iter_no_change=2,
        **{**FAST, "max_epochs": 12},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    assert ae.n_iter_ == n_iter


def test_early_stopping_restores_best_validation_weights(digits):
    X, _ = digits
    ae = AutoencoderTransformer(
        n_components=4,
        early_stopping=True,
        n_iter_no_change=2,
        tol=0.0,
        learning_rate=0.01,  # fast enough to pass the best epoch within 40
        **{**FAST, "max_epochs": 40},
    ).fit(X)
    assert len(ae.validation_scores_) == ae.n_iter_
    # A middle epoch was best: the last weights are not the ones to keep.
    best_epoch = int(np.argmax(ae.validation_scores_))
    assert 0 < best_epoch < ae.n_iter_ - 1
    assert ae.best_validation_score_ == ae.validation_scores_[best_epoch]
    # Recompute the held-out split's score with the restored weights.
    order = np.random.RandomState(0).permutation(X.shape[0])
    X_val = X[order[: int(round(0.1 * X.shape[0]))]]
    np.testing.assert_allclose(ae.score(X_val), ae.best_validation_score_, rtol=1e-4)


def test_warm_start_and_partial_fit_continue_training(digits):
    X, _ = digits
    ae = AutoencoderTransformer(warm_start=True, **FAST).fit(X)
    first = ae.transform(X)
    ae.fit(X)
    assert ae.n_iter_ == 10
    assert not np.allclose(ae.transform(X), first)

    streamed = AutoencoderTransformer(**FAST)
    for chunk in np.array_split(X, 4):
        streamed.partial_fit(chunk)
    assert streamed.n_iter_ == 4
    assert len(streamed.loss_curve_) == 4


def test_callback_sees_history_and_can_stop(digits):
    X, _ = digits
    seen = []

    def stop_after_two(est):
        seen.append(est.n_iter_)
        return est.n_iter_ >= 2

    ae = AutoencoderTransformer(callbacks=[stop_after_two], **FAST).fit(X)
    assert seen == [1, 2]
    assert ae.n_iter_ == 2


def test_verbose_shows_a_progress_bar_with_the_loss(digits, capsys):
    X, _ = digits
    ae = AutoencoderTransformer(verbose=1, early_stopping=True, **FAST).fit(X)
    err = capsys.readouterr().err
    assert "AutoencoderTransformer" in err
    # Both errors are per-entry MSEs in X's units (digits' pixels run to 16),
    # so they compare directly.
    loss = float(re.findall(r"loss=([0-9.e+-]+)", err)[-1])
    val_mse = float(re.findall(r"val_mse=([0-9.e+-]+)", err)[-1])
    assert val_mse == pytest.approx(-ae.validation_scores_[-1], rel=1e-3)
    assert loss == pytest.approx(ae.loss_curve_[-1] * ae.scale_**2, rel=1e-3)
    assert 0.5 < loss / val_mse < 2


def test_divergence_raises_and_leaves_fresh_estimator_unfitted(digits):
    X, _ = digits
    # A constant rate, so that the very first epoch diverges (a warm-up would
    # let it pass and leave the estimator at its last good epoch instead).
    ae = AutoencoderTransformer(
        optimizer="sgd",
        learning_rate=1e8,
        learning_rate_schedule="constant",
        init="random",
        **FAST,
    )
    with pytest.raises(ValueError, match="diverged.*learning_rate"):
        ae.fit(X)
    with pytest.raises(NotFittedError):
        ae.transform(X)


# Bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "infinity"),
        (np.arange(5.0), ValueError, "2D array"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "convert"),
    ],
)
def test_bad_training_data(X, error, match):
    with pytest.raises(error, match=match):
        AutoencoderTransformer(**FAST).fit(X)


def test_wrong_widths_and_unfitted(digits):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=3, **FAST)
    with pytest.raises(NotFittedError):
        ae.transform(X)
    ae.fit(X)
    with pytest.raises(ValueError, match="64 features"):
        ae.transform(X[:, :10])
    with pytest.raises(ValueError, match="n_components"):
        ae.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        ae.inverse_transform(np.full((2, 3), np.nan))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"activation": "swish"}, "activation"),
        ({"loss": "huber"}, "loss"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"loss": "bce", "output_activation": "identity"}, "sigmoid"),
        ({"device": "cuda:99"}, "cuda"),
    ],
)
def test_bad_parameters_name_the_problem(params, match, digits):
    if params.get("device", "").startswith("cuda") and torch.cuda.device_count() > 99:
        pytest.skip("a machine with 100 GPUs")
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**{**FAST, **params}).fit(digits[0])


def test_bce_outside_unit_interval_is_a_clear_error(digits):
    X, _ = digits  # pixels in [0, 16]
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\].*MinMaxScaler"):
        AutoencoderTransformer(loss="bce", **FAST).fit(X)
    ae = AutoencoderTransformer(loss="bce", **FAST).fit(X / 16)
    X_hat = ae.inverse_transform(ae.transform(X / 16))
    assert X_hat.min() >= 0 and X_hat.max() <= 1


def test_tanh_output_reconstructs_data_in_minus_one_one_unscaled(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"output_activation='tanh' needs X in \[-1, 1\]"):
        AutoencoderTransformer(output_activation="tanh", **FAST).fit(X)  # in [0, 16]
    X = X / 8 - 1  # pixels in [-1, 1], background at -1
    ae = AutoencoderTransformer(output_activation="tanh", **FAST).fit(X)
    # Not centred: a centred border pixel (always -1) would have to reach 0.
    assert ae.scale_ == 1 and not ae.mean_.any()
    far = ae.inverse_transform(100 * ae.transform(X[:50]))
    assert far.min() >= -1 and far.max() <= 1
    assert -ae.score(X) < X.var(axis=0).mean()  # better than the mean image


# Variants ------------------------------------------------------------------


def test_denoising_corrupts_only_in_training(digits, monkeypatch):
    X, _ = digits
    calls = []
    dae = DenoisingAutoencoder(n_components=4, noise="gaussian", noise_level=0.5, **FAST)
    original = DenoisingAutoencoder._corruption

    def spy(self):
        corrupt = original(self)

        def counted(batch, generator):
            calls.append(batch.shape[0])
            return corrupt(batch, generator)

        return counted

    monkeypatch.setattr(DenoisingAutoencoder, "_corruption", spy)
    dae.fit(X)
    assert sum(calls) == 5 * X.shape[0]  # every row of every epoch, fresh each batch
    calls.clear()
    np.testing.assert_array_equal(dae.transform(X), dae.transform(X))
    dae.score(X)
    assert calls == []


def test_masking_zeroes_entries_in_the_users_units(digits):
    X, _ = digits  # mean pixel values far from 0: centring must not leak in
    dae = DenoisingAutoencoder(n_components=4, noise="masking", noise_level=0.5, **FAST)
    dae.fit(X)
    batch = torch.from_numpy(((X - dae.mean_) / dae.scale_).astype(np.float32))
    noisy = dae._corruption()(batch, torch.Generator().manual_seed(0)).numpy()
    noisy = noisy * dae.scale_ + dae.mean_
    masked = np.abs(noisy - X) > 1e-3
    assert 0.4 < masked[X != 0].mean() < 0.6
    np.testing.assert_allclose(noisy[masked], 0, atol=1e-3)
    public = dae.corrupt(X, random_state=0)
    assert public.dtype == X.dtype
    assert np.all((public == 0) | (public == X))
    np.testing.assert_array_equal(public, dae.corrupt(X, random_state=0))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"noise": "masking", "noise_level": 1.5}, "probability"),
        ({"noise": "blur"}, "noise"),
    ],
)
def test_denoising_bad_noise(params, match, digits):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoencoder(**{**FAST, **params}).fit(digits[0])


def test_topk_keeps_exactly_k_units(digits):
    X, _ = digits
    sae = SparseAutoencoder(n_components=8, sparsity="topk", k=3, **FAST).fit(X)
    assert np.all((sae.transform(X) != 0).sum(axis=1) == 3)
    with pytest.raises(ValueError, match="k=9 must be at most n_components=8"):
        SparseAutoencoder(n_components=8, sparsity="topk", k=9, **FAST).fit(X)


def test_kl_sparsity_code_in_unit_interval_and_pushed_to_target(digits):
    X, _ = digits
    params = dict(n_components=8, sparsity="kl", sparsity_target=0.05, **FAST)
    weak = SparseAutoencoder(sparsity_weight=0.0, **params).fit(X).transform(X)
    strong = SparseAutoencoder(sparsity_weight=1.0, **params).fit(X).transform(X)
    assert weak.min() > 0 and weak.max() < 1
    assert abs(strong.mean() - 0.05) < abs(weak.mean() - 0.05)


def test_kl_pca_start_on_rank_deficient_data_leaves_empty_directions_unused():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 10))
    X = rng.normal(size=(300, 2)) @ basis + 3  # rank 2, 10 features
    params = dict(
        n_components=4,
        sparsity="kl",
        hidden_layer_sizes=(16,),
        max_epochs=2,
        device="cpu",
        random_state=0,
    )
    sae = SparseAutoencoder(**params).fit(X)
    weights = sae.module_.encoder_linear.weight.detach().abs().max(dim=1).values
    # The two directions with variance start about 0.14 large; the two without
    # start like unused units, not at 1 / (2 * rounding noise).
    assert weights.max() < 1
    new = rng.normal(size=(400, 2)) @ basis + 3 + 0.05 * rng.normal(size=(400, 10))
    codes = sae.transform(new)
    assert np.mean((codes < 0.01) | (codes > 0.99)) < 0.01


def test_l1_sparsity_shrinks_the_code(digits):
    X, _ = digits
    params = dict(n_components=8, sparsity="l1", **FAST)
    weak = SparseAutoencoder(sparsity_weight=0.0, **params).fit(X).transform(X)
    strong = SparseAutoencoder(sparsity_weight=1.0, **params).fit(X).transform(X)
    assert np.abs(strong).mean() < np.abs(weak).mean()


@pytest.mark.filterwarnings("ignore:Maximum epochs:sklearn.exceptions.ConvergenceWarning")
def test_learning_rate_follows_the_schedule_per_step_and_is_restored(digits):
    X, _ = digits
    rates = {}

    def record(est):
        rates.setdefault(est.learning_rate_schedule, []).append(
            est.optimizer_.param_groups[0]["lr"]
        )

    for schedule in ("constant", "cosine"):
        ae = AutoencoderTransformer(
            learning_rate_schedule=schedule,
            callbacks=[record],
            tol=0,
            **{**FAST, "max_epochs": 20},
        ).fit(X)
        # A later partial_fit or warm start begins from the base rate again.
        assert ae.optimizer_.param_groups[0]["lr"] == ae.learning_rate_
        assert "initial_lr" not in ae.optimizer_.param_groups[0]
    assert rates["constant"] == [2e-3] * 20
    cosine = rates["cosine"]
    # Stepped per batch: the warm-up's 7 steps end within the first epoch.
    assert cosine[0] == pytest.approx(2e-3, rel=0.05)
    assert np.all(np.diff(cosine) < 0)
    assert cosine[-1] < 1e-6


@pytest.mark.parametrize("max_epochs", [1, 2, 5])
@pytest.mark.parametrize("learning_rate", [1e-3, 3e-2])
def test_fit_never_ends_worse_than_the_pca_start(max_epochs, learning_rate):
    X, _ = make_manifold("swiss_roll", 300, random_state=0)
    pca = PCA(n_components=1).fit(X)
    pca_mse = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2)
    ae = AutoencoderTransformer(
        n_components=1,
        learning_rate=learning_rate,
        max_epochs=max_epochs,
        batch_size=16,
        random_state=0,
    ).fit(X)
    assert -ae.score(X) <= pca_mse * (1 + 1e-5)


def test_start_is_kept_only_when_training_made_things_worse():
    # PCA is exact on multiples: any step away from the start is worse.
    X = seed004("multiples")
    ae = AutoencoderTransformer(
        n_components=1, learning_rate=0.1, max_epochs=3, random_state=0
    ).fit(X)
    start = AutoencoderTransformer(n_components=1, max_epochs=1, random_state=0)
    start.set_params(learning_rate=1e-12).fit(X)
    np.testing.assert_allclose(ae.transform(X), start.transform(X), rtol=1e-4)
    # On curved data training improves on PCA, and its weights are kept.
    X, _ = make_manifold("swiss_roll", 300, random_state=0)
    pca = PCA(n_components=1).fit(X)
    pca_mse = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2)
    ae = AutoencoderTransformer(
        n_components=1, max_epochs=30, batch_size=32, random_state=0
    ).fit(X)
    assert -ae.score(X) < 0.95 * pca_mse


@pytest.mark.parametrize("kind, n_components", [("multiples", 1), ("noise", 5)])
def test_default_fit_ends_without_convergence_warning(kind, n_components):
    X = seed004(kind, n_samples=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(n_components=n_components, random_state=0).fit(X)
    assert ae.hidden_layer_sizes_ == (64,)


def test_contraction_shrinks_the_code_change_under_perturbation(digits):
    X = digits[0] / 16
    params = dict(n_components=4, **{**FAST, "max_epochs": 20})
    noise = 0.05 * np.random.default_rng(0).standard_normal(X.shape)

    def code_change(weight):
        cae = ContractiveAutoencoder(contraction_weight=weight, **params).fit(X)
        return np.linalg.norm(cae.transform(X + noise) - cae.transform(X), axis=1).mean()

    # In absolute terms; relative to the code's spread, a near-linear code
    # barely changes (see benchmarks/contraction.py).
    assert code_change(1.0) < 0.8 * code_change(0.0)


@pytest.mark.parametrize(
    "n_components, jacobian, expected",
    [
        (4, "auto", "contraction_exact"),
        (5, "auto", "contraction_projected"),
        (8, "exact", "contraction_exact"),
        (2, "projection", "contraction_projected"),
    ],
)
def test_jacobian_choice(n_components, jacobian, expected, digits, monkeypatch):
    from skae import _autoencoders

    used = []
    for name in ("contraction_exact", "contraction_projected"):
        original = getattr(_autoencoders, name)

        def spy(*args, name=name, original=original):
            used.append(name)
            return original(*args)

        monkeypatch.setattr(_autoencoders, name, spy)
    params = {**FAST, "max_epochs": 1}
    ContractiveAutoencoder(n_components=n_components, jacobian=jacobian, **params).fit(
        digits[0]
    )
    assert set(used) == {expected}


def test_zero_contraction_weight_is_the_plain_autoencoder(digits):
    X = digits[0]
    plain = AutoencoderTransformer(n_components=3, **FAST).fit(X)
    cae = ContractiveAutoencoder(n_components=3, contraction_weight=0.0, **FAST).fit(X)
    np.testing.assert_allclose(cae.transform(X), plain.transform(X), rtol=1e-4, atol=1e-4)


def test_sigmoid_codes_do_not_depend_on_the_row_order():
    # sklearn's check_methods_sample_order_invariance, over many orders: with
    # torch's float32 sigmoid, rows in a SIMD tail were rounded differently.
    X = 3 * np.random.RandomState(0).uniform(size=(20, 3))
    sae = SparseAutoencoder(
        n_components=1, hidden_layer_sizes=(8,), max_epochs=3, device="cpu", random_state=1
    ).fit(X)
    scores = sae.score_samples(X)
    for seed in range(200):
        order = np.random.RandomState(seed).permutation(20)
        np.testing.assert_allclose(sae.score_samples(X[order]), scores[order], rtol=1e-7)


# Variational autoencoder ---------------------------------------------------


@pytest.fixture(scope="module")
def vae(digits):
    return VariationalAutoencoder(n_components=4, **FAST).fit(digits[0])


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_vae_training_loss_is_the_negative_elbo_per_entry(loss, digits):
    from skae import _training

    X = digits[0] / 16
    est = VariationalAutoencoder(n_components=4, loss=loss, beta=1.0, **FAST).fit(X)
    batch = torch.as_tensor((X[:50] - est.mean_) / est.scale_, dtype=torch.float32)
    with torch.no_grad():
        value = _training.objective(
            est.module_,
            batch,
            loss,
            None,
            est._encode_with_penalty,
            torch.Generator().manual_seed(1),
        )
        # The same draw, by hand: -ELBO of each row from the formula.
        mean, log_var = est.module_.encode_distribution(batch)
        noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(1))
        raw = est.module_.decode_raw(mean + (0.5 * log_var).exp() * noise)
        kl = 0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(1)
        n_features = X.shape[1]
        if loss == "bce":
            nll = torch.nn.functional.binary_cross_entropy_with_logits(
                raw, batch, reduction="none"
            ).sum(1)
            expected = ((nll + kl) / n_features).mean()
        else:
            variance = est.noise_variance_ / est.scale_**2
            sse = ((raw - batch) ** 2).sum(1)
            expected = (2 * variance / n_features * (sse / (2 * variance) + kl)).mean()
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-5)


def test_vae_noise_variance_is_probabilistic_pcas(digits):
    X = digits[0]
    est = VariationalAutoencoder(n_components=4, **{**FAST, "max_epochs": 1}).fit(X)
    n = X.shape[0]
    # scikit-learn's covariance divides by n - 1, ours by n.
    expected = PCA(n_components=4).fit(X).noise_variance_ * (n - 1) / n
    np.testing.assert_allclose(est.noise_variance_, expected, rtol=1e-3)


def test_vae_score_samples_is_the_elbo_in_the_inputs_units(vae, digits):
    # Recomputed in X's units from the public pieces: the implementation
    # works in scaled units, so a missing scale_ or Jacobian term shows.
    from skae._autoencoders import _ELBO_DRAWS

    X = digits[0][:20]
    with torch.no_grad():
        batch = torch.as_tensor((X - vae.mean_) / vae.scale_, dtype=torch.float32)
        mean, log_var = (t.numpy() for t in vae.module_.encode_distribution(batch))
    draws = torch.randn(_ELBO_DRAWS // 2, 4, generator=torch.Generator().manual_seed(0))
    draws = torch.cat([draws, -draws]).numpy()
    variance = vae.noise_variance_
    log_likelihood = np.mean(
        [
            -((X - vae.inverse_transform(mean + np.exp(0.5 * log_var) * eps)) ** 2).sum(1)
            / (2 * variance)
            - 0.5 * X.shape[1] * np.log(2 * np.pi * variance)
            for eps in draws
        ],
        axis=0,
    )
    kl = 0.5 * (mean**2 + np.exp(log_var) - log_var - 1).sum(1)
    np.testing.assert_allclose(vae.score_samples(X), log_likelihood - kl, rtol=1e-4)


def test_vae_score_samples_keeps_the_fitted_likelihood(digits):
    X = digits[0][:100]
    vae = VariationalAutoencoder(n_components=4, **FAST).fit(X)
    elbo = vae.score_samples(X)
    vae.set_params(loss="bce")
    np.testing.assert_array_equal(vae.score_samples(X), elbo)


@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_vae_elbo_is_a_density_in_the_inputs_units(factor, digits):
    # Data in other units: the same model, a log density shifted by -D log(factor).
    X = digits[0]
    est = VariationalAutoencoder(n_components=4, **FAST).fit(X)
    scaled = VariationalAutoencoder(n_components=4, **FAST).fit(X * factor)
    np.testing.assert_allclose(
        scaled.score_samples(X * factor),
        est.score_samples(X) - X.shape[1] * np.log(factor),
        rtol=1e-3,
    )


def test_vae_score_is_the_familys_negative_mse(vae, digits):
    X = digits[0]
    X_hat = vae.inverse_transform(vae.transform(X))
    np.testing.assert_allclose(vae.score(X), -np.mean((X - X_hat) ** 2), rtol=1e-4)
    assert vae.score(X) != pytest.approx(np.mean(vae.score_samples(X)))


def test_vae_transform_is_the_posterior_mean(vae, digits):
    X = digits[0][:30]
    with torch.no_grad():
        batch = torch.as_tensor((X - vae.mean_) / vae.scale_, dtype=torch.float32)
        mean, log_var = vae.module_.encode_distribution(batch)
    np.testing.assert_allclose(vae.transform(X), mean.numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(log_var.numpy()))


def test_vae_samples_are_reproducible_rows_in_the_inputs_units(vae, digits):
    X = digits[0]
    samples = vae.sample(500, random_state=0)
    assert samples.shape == (500, 64) and samples.dtype == np.float64
    np.testing.assert_array_equal(samples, vae.sample(500, random_state=0))
    assert not np.allclose(samples, vae.sample(500, random_state=1))
    # Pixels 0..16: the samples' mean image is near the data's, in its units.
    assert np.abs(samples.mean(0) - X.mean(0)).mean() < 0.2 * X.std(0).mean()
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        vae.sample(0)
    with pytest.raises(NotFittedError):
        VariationalAutoencoder().sample(2)


def test_vae_beta_trades_kl_for_reconstruction(digits):
    X = digits[0]
    kl, score = {}, {}
    for beta in (0.1, 10.0):
        est = VariationalAutoencoder(
            n_components=4, beta=beta, **{**FAST, "max_epochs": 30}
        ).fit(X)
        with torch.no_grad():
            batch = torch.as_tensor((X - est.mean_) / est.scale_, dtype=torch.float32)
            mean, log_var = est.module_.encode_distribution(batch)
        kl[beta] = (0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(1)).mean().item()
        score[beta] = est.score(X)
    # Measured: KL 10.0 -> 6.6 nats, score -8.3 -> -9.4.
    assert kl[10.0] < 0.8 * kl[0.1]
    assert score[10.0] < score[0.1]


def test_vae_pca_start_is_not_worse_than_random(digits):
    X = digits[0]
    scores = {
        init: VariationalAutoencoder(n_components=4, init=init, **FAST).fit(X)
        for init in ("pca", "random")
    }
    assert scores["pca"].score(X) > scores["random"].score(X)
    assert scores["pca"].score_samples(X).mean() > scores["random"].score_samples(X).mean()
