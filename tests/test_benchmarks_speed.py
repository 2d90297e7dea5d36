"""Smoke runs of benchmarks/speed.py and benchmarks/time_to_quality.py (no timing asserts)."""

import doctest
import json

import pytest
import torch
from _scripts import load_script

from skae._network import build_autoencoder


@pytest.fixture(scope="module")
def speed():
    return load_script("benchmarks/speed.py")


def run_speed(speed, out, args):
    """benchmarks/speed.py on the CPU, short and once, with the command-line ``args``."""
    short = ["--device", "cpu", "--repeats", "1", "--tabular-epochs", "2"]
    return speed.main([*short, *args.split(), "--out", str(out)])


@pytest.fixture(scope="module")
def ttq():
    return load_script("benchmarks/time_to_quality.py")


@pytest.mark.parametrize("name", ["speed", "time_to_quality"])
def test_docstring_examples(name):
    module = load_script(f"benchmarks/{name}.py")
    assert "Usage:" in module.__doc__
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("tied_weights", [False, True])
def test_flops_count_every_matmul_of_the_autoencoder(speed, tied_weights):
    module = build_autoencoder(
        10,
        2,
        generator=torch.Generator().manual_seed(0),
        hidden_layer_sizes=(4,),
        tied_weights=tied_weights,
    )
    # Linear path 10*2 + 2*10, corrections 10*4 + 4*2 and 2*4 + 4*10; a tied
    # layer multiplies by its source's transposed weight, so it counts the same.
    assert speed.flops_per_sample(module) == 6 * (40 + 48 + 48)


def test_reconstruction_is_the_raw_decoder_output(speed):
    module = build_autoencoder(
        5, 2, generator=torch.Generator().manual_seed(0), hidden_layer_sizes=(3,)
    )
    x = torch.randn(4, 5)
    expected = module.decode_raw(module.encode(x))
    torch.testing.assert_close(speed.Reconstruction(module)(x), expected)


def test_epoch_times_leave_out_the_warm_up_epoch(speed):
    assert speed.epoch_times(10.0, [15.0, 17.0, 20.0]) == [2.0, 3.0]


def _workload(**medians):
    return {
        "batch_size": 64,
        "contenders": {k: {"median_epoch_seconds": v} for k, v in medians.items()},
    }


def test_targets_compare_the_right_ratios(speed):
    workloads = {
        "mnist": _workload(skae=1.05, slicing=1.0, dataloader=1.0, skorch=1.2),
        "tabular": _workload(skae=1.0, dataloader=1.2),
    }
    checks = {
        (c["workload"], c["target"].split(" /")[0], c["bound"]): c
        for c in speed.check_targets(workloads)
    }
    assert checks[("mnist", "skae epoch time", 1.1)]["met"] is True
    assert checks[("mnist", "skae epoch time", 1.0)]["met"] is False
    assert checks[("mnist", "skorch epoch time", 1.0)]["value"] == pytest.approx(1.2 / 1.05)
    assert checks[("tabular", "skae epoch time", 1.0)]["met"] is True
    missing = checks[("tabular", "skorch epoch time", 1.5)]
    assert missing["met"] is None and "skorch" in missing["note"]


def test_speed_smoke_run(speed, tmp_path):
    run_speed(speed, tmp_path, "--n-samples 128 --epochs 3 --transform-repeats 1")
    report = json.loads((tmp_path / "speed.json").read_text())
    mnist, tabular = report["workloads"]["mnist"], report["workloads"]["tabular"]
    assert (mnist["n_samples"], mnist["batch_size"]) == (128, 64)
    macs = 784 * 30 * 2 + 2 * (784 * 1000 + 1000 * 500 + 500 * 250 + 250 * 30)
    assert mnist["flops_per_epoch"] == 6 * macs * 128
    expected = {"skae", "cae", "dataloader", "slicing"}
    if speed.skorch_version():
        expected.add("skorch")
    else:
        assert "skorch" in mnist["skipped"]
    if report["product_gflops"]["native_bf16"]:
        expected.add("bf16")
    else:
        assert "not native here" in mnist["skipped"]["bf16"]
        assert report["product_gflops"]["bfloat16"] is None
    assert report["product_gflops"]["float32"] > 0
    for workload, n_timed in ((mnist, 2), (tabular, 1)):
        assert set(workload["contenders"]) == expected
        for result in workload["contenders"].values():
            assert len(result["epoch_seconds"]) == n_timed
            assert result["median_epoch_seconds"] > 0
        assert workload["contenders"]["skae"]["time_vs_skae"] == 1.0
        assert workload["transform"]["skae_samples_per_second"] > 0
    assert len(report["targets"]) == 7


def test_speed_notes_a_missing_skorch(speed, tmp_path, monkeypatch):
    monkeypatch.setattr(speed, "skorch_version", lambda: None)
    report = run_speed(
        speed, tmp_path, "--workloads tabular --transform-repeats 0 --contenders skae skorch"
    )
    tabular = report["workloads"]["tabular"]
    assert set(tabular["contenders"]) == {"skae"}
    assert "pip install skorch" in tabular["skipped"]["skorch"]
    assert "transform" not in tabular
    assert all(check["met"] is None for check in report["targets"])


def test_time_to_quality_smoke_run(ttq, tmp_path):
    ttq.main(
        [
            "--device",
            "cpu",
            "--hidden",
            "32",
            "--max-epochs",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    report = json.loads((tmp_path / "time_to_quality.json").read_text())
    assert report["data"] == "digits" and report["n_components"] == 16
    assert report["target"]["sse"] == pytest.approx(0.6 * report["pca"]["test_sse"])
    runs = report["runs"]
    for run in runs.values():
        assert run["epochs"] == [1, 2]
        assert run["seconds"][0] < run["seconds"][1]
        assert run["ratio_to_pca_after_2_epochs"] == pytest.approx(
            run["test_sse"][1] / report["pca"]["test_sse"]
        )
    # Starting at PCA's solution is what the benchmark is about.
    assert runs["pca"]["test_sse"][0] < runs["random"]["test_sse"][0]
    assert (tmp_path / "time_to_quality.png").stat().st_size > 0


def test_time_to_quality_stops_at_the_target(ttq, tmp_path):
    report = ttq.main(
        [
            "--device",
            "cpu",
            "--hidden",
            "8",
            "--max-epochs",
            "5",
            "--target",
            "1e9",
            "--out",
            str(tmp_path),
        ]
    )
    for run in report["runs"].values():
        assert run["epochs"] == [1]
        assert run["epochs_to_target"] == 1
        assert run["seconds_to_target"] == run["seconds"][0]
        assert run["ratio_to_pca_after_2_epochs"] is None


def test_speed_skips_bf16_where_it_is_emulated(speed, tmp_path, monkeypatch):
    # An emulated bf16 fit would take minutes: it must not even start.
    monkeypatch.setattr(speed, "native_bf16", lambda device: False)
    monkeypatch.setattr(speed, "run_skae", lambda *args, **kwargs: pytest.fail("bf16 was run"))
    report = run_speed(
        speed, tmp_path, "--workloads tabular --transform-repeats 0 --contenders bf16"
    )
    tabular = report["workloads"]["tabular"]
    assert tabular["contenders"] == {}
    assert "not native here" in tabular["skipped"]["bf16"]
    assert "bf16 | skipped: bfloat16 is not native here" in speed.markdown(report)


def test_speed_runs_bf16_where_it_is_native(speed, tmp_path, monkeypatch):
    monkeypatch.setattr(speed, "native_bf16", lambda device: True)
    monkeypatch.setattr(speed, "product_gflops", lambda device, dtype: 1.0)
    precisions = []

    def fake_skae(X, spec, device, seed, Estimator=None, precision="float32"):
        precisions.append(precision)
        return 0.0, [1.0, 2.0], None

    monkeypatch.setattr(speed, "run_skae", fake_skae)
    report = run_speed(
        speed,
        tmp_path,
        "--workloads mnist --n-samples 64 --contenders skae bf16 --transform-repeats 0",
    )
    assert precisions == ["float32", "bfloat16"]
    assert set(report["workloads"]["mnist"]["contenders"]) == {"skae", "bf16"}
    assert report["product_gflops"]["bfloat16"] == 1.0
    bf16 = [c for c in report["targets"] if c["target"].startswith("bf16")]
    assert bf16[0]["value"] == 1.0 and bf16[0]["bound"] == 0.55


def test_speed_can_give_the_baselines_the_fused_kernel(speed, tmp_path):
    report = run_speed(
        speed,
        tmp_path,
        "--workloads tabular --contenders slicing dataloader --fused-baselines",
    )
    tabular = report["workloads"]["tabular"]
    assert tabular["baseline_adam"] == "fused"
    assert set(tabular["contenders"]) == {"slicing", "dataloader"}
    assert "time_vs_skae" not in tabular["contenders"]["slicing"]
