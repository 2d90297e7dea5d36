"""Smoke run of benchmarks/contraction.py."""

import doctest
import json

import numpy as np
import pytest
from _scripts import load_script


def test_quick_run_writes_json_table_and_plot(tmp_path, capsys):
    bench = load_script("benchmarks/contraction.py")
    assert "Usage:" in bench.__doc__
    assert doctest.testmod(bench).failed == 0
    bench.main(["--quick", "--hidden", "8", "--device", "cpu", "--out", str(tmp_path)])
    records = json.loads((tmp_path / "contraction.json").read_text())["records"]
    assert [r["method"] for r in records] == [
        "autoencoder",
        "denoising",
        "contractive 0.1",
        "contractive 1",
    ]
    for r in records:
        for key in ("sensitivity", "along", "tangent", "off", "test_mse"):
            assert r[key] > 0
        assert r["off_along"] == r["off"] / r["along"]
        assert r["off_tangent"] == r["off"] / r["tangent"]
        assert r["data"] == "digits" and r["n_train"] == 300
    assert (tmp_path / "contraction.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "| contractive 1 |" in out and "| off / along |" in out and str(tmp_path) in out


def test_directions_split_the_principal_axes():
    bench = load_script("benchmarks/contraction.py")
    X = np.random.default_rng(0).normal(size=(200, 6)) * [6, 5, 4, 3, 2, 1]
    along, off = bench.principal_directions(X, 2, 3)
    assert along.shape == (2, 6) and off.shape == (3, 6)
    # Orthonormal, and the leading ones carry the variance.
    np.testing.assert_allclose(
        np.vstack([along, off]) @ np.vstack([along, off]).T, np.eye(5), atol=1e-12
    )
    assert np.abs(along[:, :2]).sum() > 1.9 and np.abs(off[:, 3:]).sum() > 2.8


def test_a_tangent_step_moves_toward_the_nearest_neighbour():
    bench = load_script("benchmarks/contraction.py")

    class Identity:
        def transform(self, X):
            return X

    X_train = np.array([[0.0, 0.0], [10.0, 0.0]])
    X = np.array([[1.0, 0.0], [9.0, 0.0]])
    # Each step has length 0.1 * sqrt(2); the code's spread is 4.
    assert bench.tangent_sensitivity(Identity(), X, X_train, 0.1) == pytest.approx(
        0.1 * np.sqrt(2) / 4
    )
