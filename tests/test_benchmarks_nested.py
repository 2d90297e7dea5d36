"""Smoke run of benchmarks/nested.py."""

import doctest
import json

import numpy as np
import pytest
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
    assert choose["sizes"] == [2, 4]
    grid, *searches, holdout, nested = choose["routes"]
    assert [r["route"] for r in searches] == [
        f"LatentSizeCV(epoch_share={share})" for share in (1.0, 0.5, 0.25)
    ]
    assert holdout["route"].startswith("LatentSizeCV, one 10% holdout, epoch_share=")
    assert grid["time_share"] == 1.0
    for route in choose["routes"]:
        assert route["size"] in choose["sizes"] and route["seconds"] > 0
        assert len(route["cv_r2"]) == 2 and route["test_mse"] > 0
    # The whole epochs are the grid's own fits: the same scores and size.
    assert searches[0]["error_ratio"] == [1.0, 1.0]
    assert searches[0]["cv_r2"] == grid["cv_r2"] and searches[0]["size"] == grid["size"]
    assert (tmp_path / "nested.png").stat().st_size > 0
    assert (tmp_path / "choose.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "| 2 |" in out and "LatentSizeCV(epoch_share=0.5)" in out and str(tmp_path) in out


def test_shifted_digits_are_a_large_set_of_moved_noisy_digits(tmp_path):
    bench = load_script("benchmarks/nested.py")
    X = bench.shifted_digits(0, n_rows=2000)
    assert X.shape == (2000, 64) and 0 <= X.min() and X.max() <= 1
    # Noised: without the noise, 120 of these rows repeat others.
    assert len(np.unique(X, axis=0)) == 2000
    # Shifted: some rows light the border the digits leave dark.
    border = X.reshape(-1, 8, 8)[:, :, 0]
    assert (border > 0.5).any(axis=1).mean() > 0.05
    np.testing.assert_array_equal(X, bench.shifted_digits(0, n_rows=2000))
    bench.main(
        ["--quick", "--data", "shifted-digits", "--parts", "choose", "--max-width", "4"]
        + ["--epoch-shares", "--out", str(tmp_path)]
    )
    report = json.loads((tmp_path / "nested.json").read_text())
    assert report["meta"]["data"] == "shifted-digits" and report["meta"]["n_train"] == 300
    assert report["choose"]["sizes"] == [2, 4]


def test_a_data_home_with_other_data_is_refused(capsys):
    bench = load_script("benchmarks/nested.py")
    with pytest.raises(SystemExit):
        bench.main(["--data", "digits", "--data-home", "/nowhere"])
    assert "--data-home is MNIST's folder; --data digits reads none" in capsys.readouterr().err
