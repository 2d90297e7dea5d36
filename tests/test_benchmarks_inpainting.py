"""Smoke runs of benchmarks/inpainting.py, and its summary on hand-made records."""

import json
import sys

import pytest
from _scripts import load_script

MASKS = ["dropout 0.25", "dropout 0.5", "dropout 0.75", "block"]
RECORD_KEYS = {"mask", "method", "variant", "masked_mse", "masked_share", "inpaint_seconds"}
FIGURES = ["inpainting_dropout_0.5.png", "inpainting_block.png", "kernels.png"]


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/inpainting.py")


def _run(bench, out, capsys, *extra):
    bench.main(["--quick", "--out", str(out), *extra])
    lines = capsys.readouterr().out.strip().splitlines()
    assert str(out) in lines[0] and str(out) in lines[-1]
    return json.loads((out / "inpainting.json").read_text()), "\n".join(lines)


def test_usage_in_docstring(bench):
    assert "Usage:" in bench.__doc__


def test_quick_run_on_digits(bench, tmp_path, capsys):
    pytest.importorskip(
        "cv2",
        reason='opencv-python-headless is not installed (pip install "skae[inpainting]")',
    )
    report, out = _run(bench, tmp_path, capsys)
    assert report["dataset"] == "digits" and report["opencv"]
    records = report["records"]
    assert all(RECORD_KEYS <= set(r) for r in records)
    assert list(dict.fromkeys(r["mask"] for r in records)) == MASKS
    variants = {(r["method"], r["variant"]) for r in records}
    assert variants == {
        ("zeros", None),
        ("pca", None),
        ("autoencoder", None),
        *(("denoising", level) for level in (0.25, 0.5, 0.75)),
        *((method, r) for method in ("telea", "ns") for r in (1, 2, 3)),
    }
    assert all(r["masked_mse"] >= 0 for r in records)
    block = [r for r in records if r["mask"] == "block"]
    assert {r["masked_share"] for r in block} == {16 / 64}

    summary = report["summary"]
    assert list(summary) == MASKS
    for entry in summary.values():
        assert set(entry["best"]) == {
            "zeros",
            "pca",
            "autoencoder",
            "denoising",
            "telea",
            "ns",
        }
        assert set(entry["denoising_ratio"]) == {"telea", "ns"}
    models = {(row["model"], row["layer"]) for row in report["kernels"]}
    assert ("autoencoder", "linear") in models and ("denoising 0.5", "hidden") in models
    assert sum(report["kernel_regions"].values()) == 64

    for name in [*FIGURES, "inpainting.md"]:
        assert (tmp_path / name).stat().st_size > 0
    table = (tmp_path / "inpainting.md").read_text()
    assert "| mask | zeros | pca | autoencoder | denoising | telea | ns | winner" in table
    assert "| model | layer | never inked | rarely inked | digit area |" in table
    assert table in out
    assert "dropout 0.5: " in out and " wins" in out


def test_runs_without_opencv_and_says_how_to_install(bench, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now fails
    report, out = _run(bench, tmp_path, capsys, "--rates", "0.5", "--noise-levels", "0.5")
    assert not report["opencv"]
    assert {r["method"] for r in report["records"]} == {
        "zeros",
        "pca",
        "autoencoder",
        "denoising",
    }
    assert 'pip install "skae[inpainting]"' in out
    assert "denoising / telea" in out  # the columns stay, marked n/a
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 0


def test_summary_picks_the_best_variant_and_the_winner(bench):
    def record(method, variant, mse):
        return {"mask": "block", "method": method, "variant": variant, "masked_mse": mse}

    summary = bench.summarize(
        [
            record("zeros", None, 0.4),
            record("denoising", 0.25, 0.3),
            record("denoising", 0.75, 0.1),
            record("telea", 1, 0.25),
            record("telea", 3, 0.2),
            record("ns", 2, 0.05),
        ]
    )["block"]
    assert summary["best"]["denoising"] == {"variant": 0.75, "masked_mse": 0.1}
    assert summary["best"]["telea"] == {"variant": 3, "masked_mse": 0.2}
    assert summary["winner"] == "ns"
    assert summary["denoising_ratio"] == pytest.approx({"telea": 0.5, "ns": 2.0})
