"""Smoke run of benchmarks/anomaly.py, and its table on hand-made records."""

import json

import pytest
from _scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/anomaly.py")


def test_usage_in_docstring(bench):
    assert "Usage:" in bench.__doc__


def test_quick_run_on_digits(bench, tmp_path, capsys):
    bench.main(["--quick", "--methods", "pca", "lof", "detector", "--out", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert str(tmp_path) in lines[0] and str(tmp_path) in lines[-1]
    report = json.loads((tmp_path / "anomaly.json").read_text())
    assert report["dataset"] == "digits" and report["n_components"] == 16
    pairs = [(r["class"], r["method"]) for r in report["records"]]
    assert pairs == [(c, m) for c in (0, 1) for m in ("pca", "lof", "detector")]
    assert all(0.5 < r["roc_auc"] <= 1 and r["fit_seconds"] > 0 for r in report["records"])
    assert (tmp_path / "anomaly.png").stat().st_size > 0
    assert "| detector |" in (tmp_path / "anomaly.md").read_text()


def test_table_counts_wins_and_means(bench):
    records = [
        {"class": c, "method": m, "roc_auc": auc, "average_precision": auc, "fit_seconds": 1.0}
        for c, aucs in ((0, (0.9, 0.95)), (1, (0.8, 0.7)), (2, (0.6, 0.7)))
        for m, auc in zip(("pca", "detector"), aucs)
    ]
    table = bench.markdown({"dataset": "toy", "n_components": 2, "records": records})
    assert "| pca | 0.9000 | 0.8000 | 0.6000 | **0.7667** | 3.0 |" in table
    assert "detector against pca: mean ROC AUC +0.0167, higher on 2 of 3 classes." in table


def test_every_method_makes_a_scorer(bench):
    for make in bench.METHODS.values():
        model = make(2, 1, 0, "cpu")
        assert hasattr(model, "fit") and hasattr(model, "score_samples")
