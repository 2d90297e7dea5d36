"""Smoke runs of benchmarks/pca_vs_ae.py, and its checks on hand-made records."""

import importlib.util
import json
from pathlib import Path

import pytest
from test_datasets import _write_mnist

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "pca_vs_ae.py"
METHODS = {"pca", "autoencoder", "denoising", "sparse"}
RECORD_KEYS = {
    "dataset",
    "method",
    "n_components",
    "test_mse",
    "r2",
    "fit_seconds",
    "transform_seconds",
    "device",
}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("pca_vs_ae", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_usage_in_docstring(bench):
    assert "Usage:" in bench.__doc__


def test_quick_run_writes_records_checks_and_plots(bench, tmp_path, capsys):
    bench.main(
        ["--quick", "--datasets", "multiples", "swiss_roll", "--out", str(tmp_path)]
    )

    records = json.loads((tmp_path / "pca_vs_ae.json").read_text())
    assert isinstance(records, list)
    assert all(RECORD_KEYS <= set(r) for r in records)
    assert {r["method"] for r in records} == METHODS
    assert {r["dataset"] for r in records} == {"multiples", "swiss_roll"}
    sizes = {(r["dataset"], r["n_components"]) for r in records}
    assert sizes == {("multiples", k) for k in (1, 2, 3, 5)} | {
        ("swiss_roll", k) for k in (1, 2, 4, 8)
    }
    assert all(r["test_mse"] >= 0 and r["r2"] <= 1 for r in records)

    report = json.loads((tmp_path / "pca_vs_ae_checks.json").read_text())
    assert [c["dataset"] for c in report["checks"]] == ["multiples", "swiss_roll"]
    assert all(isinstance(c["passed"], bool) for c in report["checks"])
    for dataset in ("multiples", "swiss_roll"):
        assert (tmp_path / f"pca_vs_ae_{dataset}.png").stat().st_size > 0

    out = capsys.readouterr().out
    assert "| dataset | k | pca | autoencoder | denoising | sparse |" in out
    assert "swiss_roll: autoencoder test_mse <= pca test_mse" in out


def test_sizes_at_or_above_width_are_skipped(bench, tmp_path, capsys):
    bench.main(
        [
            "--quick",
            "--datasets",
            "noise",
            "--methods",
            "pca",
            "--n-components",
            "9",
            "10",
            "--out",
            str(tmp_path),
        ]
    )
    records = json.loads((tmp_path / "pca_vs_ae.json").read_text())
    assert [r["n_components"] for r in records] == [9]
    assert "skipped noise n_components=10" in capsys.readouterr().out


def test_mnist_records_sse_per_image(bench, tmp_path, monkeypatch):
    monkeypatch.delenv("SKAE_DATA", raising=False)
    # 8x8 "images": 64 pixels, wide enough for the 30-unit code.
    _write_mnist(tmp_path / "data", n_train=40, n_test=10, image_shape=(8, 8))
    bench.main(
        [
            "--quick",
            "--data-home",
            str(tmp_path / "data"),
            "--datasets",
            "mnist",
            "--methods",
            "pca",
            "autoencoder",
            "--mnist-hidden",
            "16",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    records = json.loads((tmp_path / "out" / "pca_vs_ae.json").read_text())
    assert [(r["method"], r["n_components"]) for r in records] == [
        ("pca", 30),
        ("autoencoder", 30),
    ]
    for r in records:
        assert r["test_sse_per_image"] == pytest.approx(64 * r["test_mse"])
        assert r["n_train"] == 40 and r["n_test"] == 10
    assert records[1]["settings"]["hidden_layer_sizes"] == [16]


def _record(dataset, method, k, mse, variance=1.0):
    return {
        "dataset": dataset,
        "method": method,
        "n_components": k,
        "test_mse": mse,
        "test_variance": variance,
    }


def test_checks(bench):
    records = [
        _record("swiss_roll", "pca", 1, 1.0),
        _record("swiss_roll", "autoencoder", 1, 0.5),
        _record("swiss_roll", "pca", 2, 0.5),
        _record("swiss_roll", "autoencoder", 2, 0.51),
        # Linear: within 1.5x, or PCA exact and the autoencoder at round-off.
        _record("multiples", "pca", 1, 1e-25, variance=1e4),
        _record("multiples", "autoencoder", 1, 1e-3, variance=1e4),
        _record("noise", "pca", 1, 0.8),
        _record("noise", "autoencoder", 1, 1.3),
    ]
    results = {c["dataset"]: c for c in bench.checks(records)}
    assert not results["swiss_roll"]["passed"]
    assert results["swiss_roll"]["ratio_to_pca"] == {"1": 0.5, "2": pytest.approx(1.02)}
    assert results["multiples"]["passed"]
    assert results["multiples"]["ratio_to_pca"]["1"] == pytest.approx(0.1)
    assert not results["noise"]["passed"]


def test_time_budget_stops_before_overrunning(bench, monkeypatch):
    clock = iter([0.0, 3.0, 6.0, 9.5])
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(clock))
    budget = bench.TimeBudget(10.0)
    assert budget(None) is False  # at 3 s, the next epoch would end at 6 s
    assert budget(None) is False  # at 6 s, at 9 s
    assert budget(None) is True  # at 9.5 s, an epoch of 3.5 s would overrun
    assert budget.hit
