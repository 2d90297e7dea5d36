"""Smoke run of benchmarks/wide_sparse.py."""

import doctest
import json

from _scripts import load_script


def test_small_case_writes_json_and_table(tmp_path, capsys):
    bench = load_script("benchmarks/wide_sparse.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    assert bench.parse_case("20000x100000:0.001:32") == {
        "rows": 20000,
        "columns": 100000,
        "density": 0.001,
        "n_components": 32,
    }
    bench.main(["--cases", "300x1200:0.01:3", "--out", str(tmp_path)])
    (run,) = json.loads((tmp_path / "wide_sparse.json").read_text())["runs"]
    assert (run["rows"], run["columns"], run["n_components"]) == (300, 1200, 3)
    assert run["stored_values"] == 300 * 12
    phases = run["before_first_epoch_seconds"] + run["epoch_seconds"]
    assert 0 < phases <= run["fit_seconds"]
    assert run["peak_beyond_data_mb"] > 0
    # Rounded to 0.01 s, which a small case can take less than.
    assert run["truncated_svd_seconds"] >= 0 and run["pca_start_seconds"] >= 0
    assert "| 300 x 1,200 | 0.01 | 3 |" in capsys.readouterr().out
