"""Smoke run of benchmarks/more_epochs.py."""

import doctest
import json

from _scripts import load_script


def test_digits_run_writes_records_checks_and_figure(tmp_path, capsys):
    bench = load_script("benchmarks/more_epochs.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    # The documented setting for images is pca_vs_ae's, less its epoch budget.
    assert bench.SETTINGS["images"]["weight_decay"] == 0.3
    assert "max_epochs" not in bench.SETTINGS["images"]
    assert bench.SETTINGS["images_no_decay"]["weight_decay"] == 0.0
    # The same as a user types it today: the rates and the decay left to "auto".
    auto_rates = bench.SETTINGS["images_auto_rates"]
    assert not {"optimizer", "learning_rate", "weight_decay"} & set(auto_rates)
    assert auto_rates["loss"] == "bce" and auto_rates["hidden_layer_sizes"] == (1000, 500, 250)
    bench.main(
        ["--settings", "defaults", "--epochs", "2", "1", "--n-train", "300", "--probe"]
        + ["--out", str(tmp_path)]
    )
    report = json.loads((tmp_path / "more_epochs.json").read_text())
    assert report["dataset"] == "digits"
    assert [(r["max_epochs"], r["n_iter"]) for r in report["records"]] == [(1, 1), (2, 2)]
    for record in report["records"]:
        assert 0 < record["test_sse_per_image"] < 64
        assert 0 <= record["probe_accuracy"] <= 1
    (check,) = report["checks"]
    errors = [r["test_sse_per_image"] for r in report["records"]]
    assert check["worst_ratio"] == round(errors[1] / errors[0], 4)
    assert check["passed"] == (check["worst_ratio"] <= bench.TOLERANCE)
    assert (tmp_path / "more_epochs.png").stat().st_size > 0
    assert "| defaults | 0 | 2 | 2 |" in capsys.readouterr().out
