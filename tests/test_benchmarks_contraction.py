"""Smoke run of benchmarks/contraction.py."""

import doctest
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "contraction.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_contraction", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_json_table_and_plot(tmp_path, capsys):
    bench = _load()
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    bench.main(["--quick", "--hidden", "8", "--device", "cpu", "--out", str(tmp_path)])
    records = json.loads((tmp_path / "contraction.json").read_text())["records"]
    assert [r["method"] for r in records] == ["autoencoder", "denoising", "contractive"]
    for r in records:
        assert r["sensitivity"] > 0 and r["test_mse"] > 0
        assert r["data"] == "digits" and r["n_train"] == 300
    assert (tmp_path / "contraction.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "| contractive |" in out and str(tmp_path) in out
