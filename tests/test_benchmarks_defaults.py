"""Smoke run of benchmarks/defaults.py."""

import doctest
import json

from _scripts import load_script


def test_helix_run_writes_records_checks_and_figure(tmp_path, capsys):
    bench = load_script("benchmarks/defaults.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    status = bench.main(
        ["--datasets", "helix", "--try", 'fast={"learning_rate": 1e-2, "max_epochs": 3}']
        + ["--out", str(tmp_path)]
    )
    report = json.loads((tmp_path / "defaults.json").read_text())
    records = report["records"]
    assert {(r["setting"], r["n_components"]) for r in records} == {
        (setting, k) for setting in ("defaults", "previous", "fast") for k in (1, 2, 4, 8)
    }
    for r in records:
        assert r["ratio_to_pca"] == r["test_mse"] / r["pca_test_mse"] > 0
    assert all(r["n_iter"] == 3 for r in records if r["setting"] == "fast")
    # Below 10,000 rows the defaults train as the previous ones did, step for step.
    (check,) = report["checks"]
    assert check == {
        "dataset": "helix",
        "rule": "defaults' test error <= 1.02 x the previous defaults'",
        "worst_ratio": 1.0,
        "passed": True,
    }
    assert status == 0
    assert (tmp_path / "defaults.png").stat().st_size > 0
    assert "| helix | 8 | fast |" in capsys.readouterr().out


def test_mnist_check_reads_error_and_time():
    bench = load_script("benchmarks/defaults.py")
    row = {"dataset": "mnist", "n_components": 30, "setting": "defaults", "test_mse": 0.005}
    passing = {**row, "test_sse_per_row": 3.9, "fit_seconds": 55.0}
    (check,) = bench.checks([passing])
    assert check["passed"] and check["test_sse_per_image"] == 3.9
    for failing in ({"test_sse_per_row": 4.1}, {"fit_seconds": 61.0}):
        (check,) = bench.checks([{**passing, **failing}])
        assert not check["passed"]
