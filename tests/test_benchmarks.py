"""Smoke runs of benchmarks/pca_vs_ae.py, and its checks on hand-made records."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from _scripts import load_script
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_datasets import _write_mnist

from skae.datasets import load_mnist

import _results

ROOT = Path(__file__).resolve().parents[1]
METHODS = {"pca", "autoencoder", "denoising", "sparse", "contractive", "variational"}
RECORD_KEYS = {
    "dataset",
    "method",
    "n_components",
    "test_mse",
    "r2",
    "fit_seconds",
    "transform_seconds",
    "device",
    "precision",
}


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/pca_vs_ae.py")


def test_usage_in_docstring(bench):
    assert "Usage:" in bench.__doc__


def test_quick_run_writes_records_checks_and_plots(bench, tmp_path, capsys):
    bench.main(["--quick", "--datasets", "multiples", "swiss_roll", "--out", str(tmp_path)])

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
    # Two epochs on 300 rows: the checks would mean nothing, so none are run.
    assert report["checks"] is None
    assert report["environment"]["cpu_count"] >= 1
    assert report["environment"]["torch"]
    for dataset in ("multiples", "swiss_roll"):
        assert (tmp_path / f"pca_vs_ae_{dataset}.png").stat().st_size > 0

    out = capsys.readouterr().out
    assert "| dataset | k | pca | autoencoder | denoising | sparse | contractive |" in out
    assert "checks skipped" in out
    assert "FAIL" not in out and "PASS" not in out
    lines = out.strip().splitlines()
    assert str(tmp_path) in lines[0] and str(tmp_path) in lines[-1]


def _tracked_changes():
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_default_run_writes_a_fresh_folder_and_no_tracked_file(
    bench, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(_results, "OUTPUT", tmp_path / "output")
    in_git = shutil.which("git") and (ROOT / ".git").exists()
    before = _tracked_changes() if in_git else None
    argv = ["--quick", "--datasets", "multiples", "--methods", "pca", "autoencoder"]
    for _ in range(2):
        assert bench.main(argv + ["--n-components", "1"]) == 0
    folders = sorted((tmp_path / "output").iterdir())
    assert len(folders) == 2  # a fresh one per run
    assert all(f.name.startswith("pca_vs_ae-") for f in folders)
    assert (folders[0] / "pca_vs_ae.json").exists()
    assert f"writing to {folders[0]}" in capsys.readouterr().out
    if in_git:
        assert _tracked_changes() == before


@pytest.mark.parametrize("passed", [True, False])
def test_full_run_exits_non_zero_on_a_failed_check(
    bench, tmp_path, monkeypatch, capsys, passed
):
    check = {"dataset": "noise", "rule": "r", "passed": passed, "ratio_to_pca": {"1": 2.0}}
    monkeypatch.setattr(bench, "checks", lambda records: [check])
    status = bench.main(
        ["--datasets", "noise", "--methods", "pca", "--n-components", "1"]
        + ["--out", str(tmp_path)]
    )
    assert status == (0 if passed else 1)
    assert ("FAIL noise" in capsys.readouterr().out) is not passed


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


def test_mnist_records_sse_per_image_and_probe(bench, tmp_path, monkeypatch, capsys):
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
        assert 0 <= r["probe_accuracy"] <= 1 and r["probe_n_iter"] >= 1
    assert records[1]["settings"]["hidden_layer_sizes"] == [16]
    assert records[1]["n_iter"] == 2
    # A network this small trains in float32 under precision="auto" anywhere.
    assert (records[0]["precision"], records[1]["precision"]) == (None, "float32")

    # PCA's probe: a logistic regression on PCA's codes of the same images.
    X_train, y_train, X_test, y_test = load_mnist(tmp_path / "data", return_X_y=True)
    pca = PCA(30, random_state=0).fit(X_train)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(pca.transform(X_train), y_train)
    expected = probe.score(pca.transform(X_test), y_test)
    assert records[0]["probe_accuracy"] == pytest.approx(expected)

    out = capsys.readouterr().out
    assert "| SSE/image | ratio to PCA | fit s | epochs | probe accuracy |" in out
    pca_row = f"| mnist | 30 | pca | {records[0]['test_sse_per_image']:.2f} | 1.000 |"
    assert pca_row in out
    assert f"{records[0]['probe_accuracy']:.2%} |" in out


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


def test_table_reports_relative_error_and_pca_exact(bench):
    records = [
        _record("multiples", "pca", 1, 1e-25, variance=1e4),
        _record("multiples", "autoencoder", 1, 1e-3, variance=1e4),
        _record("swiss_roll", "pca", 1, 0.5, variance=2.0),
        _record("swiss_roll", "autoencoder", 1, 0.25, variance=2.0),
    ]
    for r in records:
        r["fit_seconds"] = 1.0
    table = bench.markdown(records)
    assert "| multiples | 1 | 1e-29 | 1e-07 | PCA exact | 1.00 |" in table
    assert "| swiss_roll | 1 | 0.25 | 0.125 | 0.5 | 1.00 |" in table


def test_time_budget_stops_before_overrunning(bench, monkeypatch):
    clock = iter([0.0, 3.0, 6.0, 9.5])
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(clock))
    budget = bench.TimeBudget(10.0)
    assert budget(None) is False  # at 3 s, the next epoch would end at 6 s
    assert budget(None) is False  # at 6 s, at 9 s
    assert budget(None) is True  # at 9.5 s, an epoch of 3.5 s would overrun
    assert budget.hit
