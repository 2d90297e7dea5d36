"""Smoke run of benchmarks/nested.py."""

import doctest
import json

from _scripts import load_script


def test_quick_run_writes_json_table_and_plot(tmp_path, capsys):
    bench = load_script("benchmarks/nested.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    bench.main(["--quick", "--max-width", "4", "--share", "0.5", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "nested.json").read_text())
    assert report["meta"]["data"] == "digits" and report["meta"]["n_train"] == 300
    records = report["prefixes"]["records"]
    assert [r["m"] for r in records] == [2, 4]
    for r in records:
        assert r["ratio"] == r["nested_mse"] / r["dedicated_mse"] > 0
    share = report["share"]
    assert 1 <= share["width"] <= share["widest"] == len(share["curve"])
    assert share["pca_width"] >= 1 and share["time_ratio"] > 0
    choose = report["choose"]
    assert choose["sizes"] == [2, 4] and len(choose["grid_cv_r2"]) == 2
    for route in ("grid", "nested"):
        assert choose[f"{route}_size"] in choose["sizes"] and choose[f"{route}_seconds"] > 0
    assert choose["time_ratio"] == choose["grid_seconds"] / choose["nested_seconds"]
    assert (tmp_path / "nested.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "| 2 |" in out and "grid time / nested time" in out and str(tmp_path) in out
