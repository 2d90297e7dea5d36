"""Smoke run of benchmarks/precision.py."""

import json

import torch
from _scripts import load_script

from skae import _training


def test_records_say_what_auto_chose_and_how_it_compares(tmp_path, capsys, monkeypatch):
    bench = load_script("benchmarks/precision.py")
    assert "Usage:" in bench.__doc__
    # 512 rows make short fits: time them as long ones are.
    monkeypatch.setattr(_training, "_MIN_TIMED_STEPS", 0)
    monkeypatch.setattr(_training, "_STEP_SECONDS", {})
    bench.main(
        ["--features", "10", "100", "--n-samples", "512", "--repeats", "1"]
        + ["--device", "cpu", "--out", str(tmp_path)]
    )
    report = json.loads((tmp_path / "precision.json").read_text())
    native = _training.native_bf16(torch.device("cpu"))
    small, middle = report["records"]
    assert (small["multiply_adds"], middle["multiply_adds"]) == (2464, 120_384)
    for record in report["records"]:
        epochs = record["epoch_seconds"]
        assert set(epochs) == ({"float32", "bfloat16"} if native else {"float32"})
        assert record["chosen_vs_fastest"] == epochs[record["chosen"]] / min(epochs.values())
        assert record["met"] == (record["chosen_vs_fastest"] <= bench.TOLERANCE)
        # Both networks are below the earlier rule's 500,000.
        assert record["previous_rule"] == "float32"
    # Only the middle network, and only where bf16 is native, is timed.
    assert not small["timed"] and small["chosen"] == "float32"
    assert middle["timed"] == native and (middle["timing_seconds"] > 0) == native
    if not native:
        assert middle["chosen"] == "float32"
    assert (tmp_path / "precision.png").stat().st_size > 0
    assert "| 100 | (256, 128) | 120,384 |" in capsys.readouterr().out
