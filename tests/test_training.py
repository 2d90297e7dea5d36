"""The training core's pieces: devices, data placement, batching."""

import weakref

import numpy as np
import pytest
import torch

from skae import AutoencoderTransformer, _training


@pytest.mark.auto_device
def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert _training.resolve_device("auto").type == expected
    assert _training.resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _training.resolve_device("cuda")


def test_the_suites_auto_device_is_the_cpu_even_where_cuda_is(monkeypatch):
    # tests/conftest.py: unmarked tests train on the CPU on any machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _training.resolve_device("auto") == torch.device("cpu")


def test_to_tensor_scales_by_chunks_without_touching_x(monkeypatch):
    monkeypatch.setattr(_training, "_INFERENCE_ELEMENTS", 7 * 3)  # 7-row chunks
    X = np.random.default_rng(0).normal(size=(50, 3))
    before = X.copy()
    mean, scale = X.mean(axis=0), 2.5
    out = _training.to_tensor(X, mean, scale, torch.device("cpu"))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), (X - mean) / scale, rtol=1e-6)
    np.testing.assert_array_equal(X, before)


def test_batched_inference_chunks_and_finishes():
    X = np.arange(40.0).reshape(20, 2)
    seen = []

    def fn(chunk):
        seen.append(chunk.shape[0])
        return chunk.sum(dim=1, keepdim=True)

    out = _training.batched_inference(
        fn, X, 1.0, 2.0, torch.device("cpu"), 6, 1, finish=lambda v: v + 100
    )
    assert seen == [6, 6, 6, 2]
    np.testing.assert_allclose(out[:, 0], ((X - 1) / 2).sum(axis=1) + 100)
    assert out.dtype == X.dtype


def test_run_epoch_visits_every_row_once_per_epoch():
    from skae import AutoencoderTransformer

    X = torch.arange(30.0).reshape(10, 3)
    est = AutoencoderTransformer(hidden_layer_sizes=(), max_epochs=1, device="cpu")
    est.fit(X.numpy())  # builds module_/optimizer_ for run_epoch to use
    rows = []

    def corrupt(batch, generator):
        rows.extend(batch[:, 0].tolist())
        return batch

    _training.run_epoch(est, X, 4, torch.Generator().manual_seed(0), corrupt)
    assert sorted(rows) == X[:, 0].tolist()


def test_run_epoch_frees_each_step_before_the_next_but_one(monkeypatch):
    # Kept to the epoch's end, the steps' loss tensors pinned glibc's heap,
    # which grew by about a batch per step on wide data.
    from skae import AutoencoderTransformer

    X = torch.arange(60.0).reshape(20, 3)
    est = AutoencoderTransformer(hidden_layer_sizes=(), max_epochs=1, device="cpu")
    est.fit(X.numpy())
    losses, alive = [], []
    train_step = _training.train_step

    def step(*args):
        alive.append(sum(ref() is not None for ref in losses[:-1]))
        loss = train_step(*args)
        losses.append(weakref.ref(loss))
        return loss

    monkeypatch.setattr(_training, "train_step", step)
    mean = _training.run_epoch(est, X, 4, torch.Generator().manual_seed(0))
    assert len(losses) == 5 and alive == [0] * 5
    assert np.isfinite(mean) and mean > 0


def test_values_beyond_float32_after_scaling_are_a_clear_error():
    from skae import AutoencoderTransformer

    X = np.random.default_rng(0).normal(size=(40, 3))
    est = AutoencoderTransformer(hidden_layer_sizes=(4,), max_epochs=2, device="cpu").fit(X)
    with pytest.raises(ValueError, match="float32"):
        est.transform(np.full((2, 3), 1e300))
    with pytest.raises(ValueError, match="float32"):
        est.score_samples(np.full((2, 3), -1e300))


def _cosine_rates(n_steps, lr=0.1):
    """The rate each of the ``n_steps`` planned steps runs at."""
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=lr)
    scheduler = _training.make_scheduler(optimizer, "cosine", n_steps)
    rates = []
    for _ in range(n_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates, optimizer


def test_cosine_schedule_warms_up_then_anneals_towards_zero():
    rates, optimizer = _cosine_rates(100)
    peak = int(np.argmax(rates))
    assert peak == 5  # after 5% of 100 steps of warm-up
    assert rates[0] == 0  # the first step only fills Adam's moments
    assert np.all(np.diff(rates[: peak + 1]) > 0)
    assert np.all(np.diff(rates[peak:]) < 0)
    assert rates[peak] == pytest.approx(0.1, rel=1e-3)
    # The last planned step still moves the weights; the rate is zero only after it.
    assert 0 < rates[-1] < 1e-3 * 0.1
    assert optimizer.param_groups[0]["lr"] == 0
    assert _training.make_scheduler(optimizer, "constant", 100) is None


@pytest.mark.parametrize("n_steps", [1, 2, 3, 7, 20, 41, 100])
def test_cosine_schedule_runs_every_step_but_the_warm_up_at_a_positive_rate(n_steps):
    rates, _ = _cosine_rates(n_steps)
    # A single step is all the fit has: warming up on it would change nothing.
    expected = [n_steps == 1] + [True] * (n_steps - 1)
    assert [rate > 0 for rate in rates] == expected


@pytest.mark.parametrize("max_epochs", [1, 2])
def test_fits_of_one_or_two_steps_move_the_weights(max_epochs):
    from skae import AutoencoderTransformer

    # 200 rows make one batch of 256, so the fit is max_epochs optimizer steps.
    X = np.random.default_rng(0).normal(size=(200, 4))
    params = dict(
        init="random",
        hidden_layer_sizes=(8,),
        max_epochs=max_epochs,
        random_state=0,
        device="cpu",
    )
    # At a rate that rounds to zero in float32, the weights stay at their start.
    start = AutoencoderTransformer(learning_rate=1e-300, **params).fit(X)
    est = AutoencoderTransformer(**params).fit(X)
    assert est.n_iter_ == max_epochs
    for name, weight in est.module_.state_dict().items():
        assert not torch.equal(weight, start.module_.state_dict()[name]), name


@pytest.mark.parametrize(
    ("optimizer", "n_samples", "rates"),
    [
        ("adamw", 9_999, (2e-3, 0.0)),
        ("adamw", 10_000, (4e-3, 0.3)),
        # Only AdamW decays decoupled; a coupled L2 term of 0.3 would swamp the loss.
        ("adam", 10_000, (4e-3, 0.0)),
        ("sgd", 10_000, (4e-3, 0.0)),
    ],
)
def test_auto_rates_follow_the_number_of_rows(optimizer, n_samples, rates):
    assert _training.resolve_rates("auto", "auto", optimizer, n_samples) == rates
    # A value the user gives is kept as it is.
    assert _training.resolve_rates(1e-3, 0.5, optimizer, n_samples) == (1e-3, 0.5)


def test_fit_trains_with_the_resolved_rates():
    X = np.random.default_rng(0).normal(size=(10_000, 3))
    params = dict(
        n_components=1, hidden_layer_sizes=(4,), max_epochs=1, device="cpu", random_state=0
    )
    large = AutoencoderTransformer(**params).fit(X)
    small = AutoencoderTransformer(**params).fit(X[:500])
    for est, rates in [(large, (4e-3, 0.3)), (small, (2e-3, 0.0))]:
        assert (est.learning_rate_, est.weight_decay_) == rates
        group = est.optimizer_.param_groups[0]
        assert (group["lr"], group["weight_decay"]) == rates
    # A stream keeps the rates of its first chunk; a warm fit takes its own data's.
    small.set_params(warm_start=True).partial_fit(X)
    assert small.weight_decay_ == 0.0
    small.fit(X)
    assert small.weight_decay_ == 0.3


def test_auto_max_epochs_fits_the_number_of_rows():
    assert _training.auto_max_epochs(100) == 100
    assert _training.auto_max_epochs(60_000) == 40
    assert _training.auto_max_epochs(10**8) == 1


# 12,000 rows: at least 2048 of them, 2400, at most 8192.
@pytest.mark.parametrize(("max_epochs", "checked"), [(1, 2048), (2, 2400), (10, 8192)])
def test_check_against_the_start_reads_a_tenth_of_the_trained_rows(
    max_epochs, checked, monkeypatch
):
    # A tenth of the rows the epochs pass over, from 2048 to 8192, and the
    # same sampled rows for the start and the end.
    read = []
    loss = _training.reconstruction_loss

    def spy(est, X, name, max_rows=None):
        read.append(_training.sampled_rows(X, max_rows).tolist())
        return loss(est, X, name, max_rows)

    monkeypatch.setattr(_training, "reconstruction_loss", spy)
    X = np.random.default_rng(0).normal(size=(12000, 3))
    AutoencoderTransformer(
        1, hidden_layer_sizes=(), max_epochs=max_epochs, batch_size=2000, device="cpu"
    ).fit(X)
    assert len(read) == 2 and read[0] == read[1]
    assert len(read[0]) == checked == len(set(read[0]))


def test_sampled_rows_are_a_seeded_draw_in_order_not_every_kth_row():
    X = torch.zeros(60, 2)
    picked = _training.sampled_rows(X, 10)
    assert picked.tolist() == sorted(set(picked.tolist())) and len(picked) == 10
    assert torch.equal(picked, _training.sampled_rows(X, 10))
    # Not all of one parity, as every 6th row would be.
    assert len({int(i) % 2 for i in picked}) == 2
    assert torch.equal(_training.sampled_rows(X, None), torch.arange(60))
    assert torch.equal(_training.sampled_rows(X, 60), torch.arange(60))
