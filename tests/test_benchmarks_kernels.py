"""Smoke run of benchmarks/kernels.py."""

import doctest
import json

from _scripts import load_script


def test_quick_run_writes_json_table_and_plot(tmp_path, capsys):
    bench = load_script("benchmarks/kernels.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    bench.main(
        [
            "--quick",
            "--hidden",
            "16",
            "--device",
            "cpu",
            "--settings",
            "seed",
            "unit",
            "--out",
            str(tmp_path),
        ]
    )
    report = json.loads((tmp_path / "kernels.json").read_text())
    assert report["meta"]["data"] == "digits" and report["meta"]["n_train"] == 300
    pixels = report["meta"]["pixels"]
    assert pixels["border"] + pixels["digit"] == 64 and 0 < pixels["never"] <= pixels["border"]
    records = report["records"]
    assert [(r["setting"], r["layer"]) for r in records] == [
        ("seed", "hidden"),
        ("seed", "linear"),
        ("unit", "hidden"),
        ("unit", "linear"),
    ]
    for r in records:
        assert r["standard"]["border"] > 0
        assert r["ratio"]["border"] == r["denoising"]["border"] / r["standard"]["border"]
    assert records[0]["pixel_range"] == [-1, 1] and records[2]["pixel_range"] == [0, 1]
    assert (tmp_path / "kernels.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "| seed | hidden |" in out and str(tmp_path) in out
