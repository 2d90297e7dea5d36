"""Smoke run of benchmarks/fit_phases.py."""

import json
import math

from _scripts import load_script
from test_datasets import _write_mnist


def test_phases_add_up_to_the_fit_and_the_target_reads_them(tmp_path, capsys):
    bench = load_script("benchmarks/fit_phases.py")
    assert "Usage:" in bench.__doc__
    home = tmp_path / "mnist"
    _write_mnist(home, n_train=300, n_test=40, image_shape=(6, 5))
    bench.main(["--data-home", str(home), "--device", "cpu", "--out", str(tmp_path / "out")])
    report = json.loads((tmp_path / "out" / "fit_phases.json").read_text())
    digits, mnist = report["datasets"]["digits"], report["datasets"]["mnist"]
    assert digits["shape"] == [1347, 64] and mnist["shape"] == [300, 30]
    # Only the process's first fit is the warm-up's.
    assert digits["first_fit_before"] > 0 and mnist["first_fit_before"] is None
    for data in (digits, mnist):
        (fit,) = data["fits"]
        parts = fit["before"] + fit["epochs"] + fit["between"] + fit["after"]
        assert math.isclose(parts, fit["fit"], rel_tol=1e-9)
        assert min(fit["before"], fit["median_epoch"], fit["after"]) > 0
        assert fit["n_epochs"] == 100 and fit["precision"] == "float32"
        assert fit["before_vs_epoch"] == fit["before"] / fit["median_epoch"]
        assert fit["test_sse"] > 0
    # The target is MNIST's alone, and it reads the ratios.
    assert digits["target_met"] is None
    (fit,) = mnist["fits"]
    assert mnist["target_met"] == (max(fit["before_vs_epoch"], fit["outside_vs_epoch"]) <= 1)
    assert (tmp_path / "out" / "fit_phases.png").stat().st_size > 0
    assert "| mnist | 0 | float32 |" in capsys.readouterr().out
