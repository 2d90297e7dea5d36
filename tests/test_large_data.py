"""Data too large for one piece: batched inference, memmap chunks, host-side data."""

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from _reliability_cases import ESTIMATORS, FAST, estimator_id, make_data
from _scripts import load_script
from sklearn.base import clone

from skae import AutoencoderTransformer, _training
from skae._base import _moments

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data(n_samples=100)
METHODS = {
    "transform": lambda est, X: est.transform(X),
    "inverse_transform": lambda est, X: est.inverse_transform(X[:, : est.n_components]),
    "score_samples": lambda est, X: est.score_samples(X),
}


def _count_chunks(monkeypatch, rows):
    """Make inference use ``rows`` rows per chunk and record each chunk's size."""
    sizes = []
    real = _training.to_tensor

    def to_tensor(X, *args):
        sizes.append(X.shape[0])
        return real(X, *args)

    monkeypatch.setattr(_training, "inference_rows", lambda module: rows)
    monkeypatch.setattr(_training, "to_tensor", to_tensor)
    return sizes


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_inference_runs_in_chunks_with_the_unchunked_result(estimator, method, monkeypatch):
    est = clone(estimator).fit(X)
    whole = METHODS[method](est, X)
    sizes = _count_chunks(monkeypatch, 7)
    chunked = METHODS[method](est, X)
    assert sizes == [7] * 14 + [2]
    # Only the batch size of the matrix products differs: float32 rounding, in
    # the data's units (squared for score_samples).
    atol = 1e-5 * est.scale_ ** (2 if method == "score_samples" else 1)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=atol)


def test_inference_rows_bound_the_widest_activation():
    est = AutoencoderTransformer(
        hidden_layer_sizes=(300, 40),
        **{k: v for k, v in FAST.items() if k != "hidden_layer_sizes"},
    ).fit(X)
    rows = _training.inference_rows(est.module_)
    assert rows * 300 <= _training._INFERENCE_ELEMENTS < (rows + 1) * 300


def test_inference_rows_are_at_least_a_training_batch(monkeypatch):
    # However wide the layers: fewer rows would stream the weights for each few.
    est = AutoencoderTransformer(**FAST).fit(X)
    monkeypatch.setattr(_training, "_INFERENCE_ELEMENTS", 1000)
    assert _training.inference_rows(est.module_) == _training._MIN_INFERENCE_ROWS == 256


@pytest.mark.parametrize("method", METHODS)
def test_inference_allocates_no_array_as_large_as_the_input(method, monkeypatch):
    big = make_data(n_samples=20_000, n_features=10)
    est = AutoencoderTransformer(**FAST).fit(big[:200])
    _count_chunks(monkeypatch, 500)
    data = big if method != "inverse_transform" else np.ascontiguousarray(big[:, :2])
    tracemalloc.start()
    try:
        out = METHODS[method](est, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The result plus chunk-sized temporaries, far from another full-size array.
    assert peak - out.nbytes < max(data.nbytes, out.nbytes) / 4


def test_scaling_moments_by_chunks_match_whole_array():
    mean, scale = _moments(X, rows=7)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12)
    assert math.isclose(scale, math.sqrt(X.var(axis=0).mean()), rel_tol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_scaling_moments_by_chunks_in_either_layout_and_precision(dtype, order):
    # Two passes over the chunks (the sums and extremes, then the squares),
    # on columns of very different spreads, one of them skewed.
    rng = np.random.default_rng(0)
    data = rng.normal(size=(301, 5)) * [1, 10, 1e-3, 1e30, 1]
    data[:, 4] = rng.exponential(size=301) - 7.0  # skewed: the peak is one-sided
    data = np.asarray(data, dtype=dtype, order=order)
    mean, scale = _moments(data, rows=13)
    deviations = data.astype(np.float64) - mean
    peak = np.abs(deviations).max()
    expected = peak * math.sqrt((((deviations / peak) ** 2).sum()) / data.size)
    assert math.isclose(scale, expected, rel_tol=1e-12)
    np.testing.assert_allclose(mean, data.astype(np.float64).mean(axis=0), rtol=1e-12)


def _low_rank(n_samples, seed=0):
    rng = np.random.RandomState(seed)
    latent = rng.randn(n_samples, 2)
    X = np.tanh(latent @ rng.randn(2, 8)) + 0.02 * rng.randn(n_samples, 8)
    return (50 * X + 100).astype(np.float32)


def test_partial_fit_over_memmap_chunks_learns_like_an_in_memory_fit(tmp_path):
    data = _low_rank(2000)
    path = tmp_path / "data.f32"
    data.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=data.shape)
    # A random start: only real training on the chunks can get near the fit.
    params = dict(
        n_components=2,
        hidden_layer_sizes=(16,),
        init="random",
        learning_rate=1e-2,
        batch_size=50,
        device="cpu",
        random_state=0,
    )
    passes, chunk = 10, 250
    streamed = AutoencoderTransformer(**params)
    for _ in range(passes):
        for start in range(0, len(mapped), chunk):
            streamed.partial_fit(mapped[start : start + chunk])
    assert streamed.n_iter_ == passes * len(mapped) // chunk

    in_memory = AutoencoderTransformer(max_epochs=passes, **params).fit(data)
    mean_predictor = -float(data.var(axis=0).mean())
    streamed_score, in_memory_score = streamed.score(data), in_memory.score(data)
    assert in_memory_score > 0.1 * mean_predictor
    assert streamed_score > 1.5 * in_memory_score  # scores are negative
    # Chunks are not whole-data epochs: one chunk's worth of steps is far worse.
    one_chunk = AutoencoderTransformer(**params).partial_fit(mapped[:chunk])
    assert one_chunk.score(data) < 2 * streamed_score


@pytest.fixture
def available(monkeypatch):
    """Set the host memory that place_data sees (64 GiB unless changed)."""
    memory = {"bytes": 64 << 30}
    monkeypatch.setattr(_training, "available_memory", lambda: memory["bytes"])
    return memory


@pytest.mark.parametrize(
    "free, n_bytes, expected",
    [
        (8 << 30, 1 << 30, "cuda:0"),
        (8 << 30, 4 << 30, "cuda:0"),
        (8 << 30, (4 << 30) + 1, "cpu"),
    ],
)
def test_training_data_goes_to_host_memory_when_the_gpu_is_short(
    free, n_bytes, expected, monkeypatch, available
):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (free, 80 << 30))
    assert _training.place_data(n_bytes, torch.device("cuda:0")) == torch.device(expected)


def test_cpu_training_data_stays_on_the_cpu(monkeypatch, available):
    monkeypatch.setattr(torch.cuda, "mem_get_info", pytest.fail)
    assert _training.place_data(60 << 30, torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("device", ["cpu", "cuda:0"])
def test_training_data_larger_than_host_memory_are_a_memory_error(
    device, monkeypatch, available
):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (1 << 30, 80 << 30))
    available["bytes"] = 3 << 30
    with pytest.raises(MemoryError, match=r"need 5\.00 GiB .* only 3\.00 GiB .*partial_fit"):
        _training.place_data(5 << 30, torch.device(device))
    # Unknown available memory (not Linux): nothing to compare with.
    available["bytes"] = None
    assert _training.place_data(5 << 30, torch.device(device)) == torch.device("cpu")


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux")
def test_available_memory_is_a_part_of_the_total():
    meminfo = dict(line.split(":") for line in Path("/proc/meminfo").read_text().splitlines())
    total = int(meminfo["MemTotal"].split()[0]) * 1024
    assert 0 < _training.available_memory() <= total


def test_fit_asks_for_room_for_the_float32_training_and_validation_rows(monkeypatch):
    requests = []
    real = _training.place_data

    def place_data(n_bytes, device):
        requests.append(n_bytes)
        return real(n_bytes, device)

    monkeypatch.setattr(_training, "place_data", place_data)
    AutoencoderTransformer(early_stopping=True, validation_fraction=0.2, **FAST).fit(X)
    assert requests == [4 * X.size]


def test_fit_beyond_memory_is_refused_and_chunks_still_train(available):
    est = AutoencoderTransformer(**FAST).fit(X)
    code = est.transform(X)
    wider = make_data(n_samples=100, n_features=7)
    available["bytes"] = 4 * wider.size - 1
    with pytest.raises(MemoryError, match="partial_fit"):
        est.fit(wider)
    # The refused fit changed nothing.
    assert est.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(est.transform(X), code)
    # The streaming path the error points to: chunks that fit, one at a time.
    streamed = AutoencoderTransformer(**FAST)
    for chunk in np.array_split(wider, 4):
        streamed.partial_fit(chunk)
    assert streamed.n_iter_ == 4 and streamed.n_features_in_ == 7


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_streaming_from_host_memory_equals_on_device_fit(monkeypatch):
    params = {**FAST, "device": "cuda", "batch_size": 8}
    on_device = AutoencoderTransformer(**params).fit(X)
    monkeypatch.setattr(_training, "place_data", lambda n_bytes, device: torch.device("cpu"))
    streamed = AutoencoderTransformer(**params).fit(X)
    np.testing.assert_allclose(
        streamed.transform(X), on_device.transform(X), rtol=1e-6, atol=1e-6
    )


def test_memory_benchmark_smoke_run(tmp_path, capsys):
    bench = load_script("benchmarks/memory.py")
    assert "Usage:" in bench.__doc__

    bench.main(
        [
            "--rows",
            "20000",
            "--fit-rows",
            "500",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    report = json.loads((tmp_path / "memory.json").read_text())
    assert set(report["methods"]) == {"transform", "inverse_transform", "score_samples"}
    transform = report["methods"]["transform"]
    assert transform["output_mb"] == round(20000 * 2 * 4 / 2**20, 1)
    assert transform["peak_rss_increase_mb"] >= 0 and transform["numpy_peak_mb"] > 0
    assert "| transform |" in capsys.readouterr().out


def test_scale_out_benchmark_streams_each_size_in_a_fresh_process(tmp_path, capsys):
    bench = load_script("benchmarks/scale_out.py")
    assert "Usage:" in bench.__doc__

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    argv = ["--parts", "stream", "--rows", "3000", "12000", "--features", "6"]
    argv += ["--chunk-rows", "2500", "--tmp-dir", str(data_dir), "--out", str(tmp_path)]
    bench.main(argv)
    runs = json.loads((tmp_path / "scale_out.json").read_text())["stream"]["runs"]
    assert [(run["rows"], run["partial_fit_calls"]) for run in runs] == [(3000, 2), (12000, 5)]
    assert [run["file_gb"] for run in runs] == [
        round(4 * 6 * n / 1e9, 2) for n in (3000, 12000)
    ]
    # Each child's peak includes what it held when it started (torch imported).
    assert all(0 < run["start_rss_mb"] <= run["peak_rss_mb"] for run in runs)
    assert list(data_dir.iterdir()) == []  # the data files are deleted
    assert "| 12,000 |" in capsys.readouterr().out
