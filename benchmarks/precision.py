"""Is ``precision="auto"`` the faster one? Epochs in float32 and bfloat16 by network size.

``precision="auto"`` trains in float32 where bfloat16 is not native or the
network is small, in bfloat16 on a native CPU where the network is large,
and times a few steps of each in between and on CUDA
(``skae._training.resolve_precision``). Issue 25's target: whatever it picks
is within 5% of the faster precision's epoch time, on every device measured.

For each network (``--features``: the input widths, each with
``hidden_layer_sizes="auto"`` and ``--n-components`` units) this fits
``AutoencoderTransformer(precision="auto")`` on ``--n-samples`` random rows,
planned with the default epochs (so that ``auto`` sees the fit's length) but
stopped after the first, and records its choice and the seconds ``fit`` spent timing
steps. It then times whole epochs of the fitted network in each precision,
in turn, ``--repeats`` times, keeping each one's fastest, and reports the
chosen precision's epoch over the faster one's, and the same for the rule
``auto`` followed before issue 25 (bfloat16 from 500,000 multiply-adds per
row where native, else float32).

On a device without native bfloat16 the bfloat16 epochs are emulated and
slow, ``auto`` picks float32 without timing, and the bfloat16 column is
skipped.

Usage:
    python benchmarks/precision.py
    python benchmarks/precision.py --device cuda --n-samples 60000

Writes ``precision.json`` and ``precision.png`` to ``--out`` (default: a fresh
``benchmarks/output/precision-<timestamp>/``) and prints a Markdown table.
"""

import argparse
import sys
import time
import warnings
from functools import partial
from unittest import mock

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, _training
from skae._network import multiply_adds

from _results import add_out_argument, environment, output_folder, write_report

# The chosen precision's epoch may take at most this much more than the faster one's.
TOLERANCE = 1.05


def fit_one_epoch(X, device, n_components, precision):
    """A fit planned with the default epochs, stopped by a callback after its first."""
    return AutoencoderTransformer(
        n_components,
        device=str(device),
        precision=precision,
        random_state=0,
        callbacks=[lambda est: True],
    ).fit(X)


def epoch_seconds(est, X, device, repeats):
    """The fastest of ``repeats`` epochs of ``est``'s network in each precision."""
    data = torch.as_tensor((X - est.mean_) / est.scale_, dtype=torch.float32, device=device)
    generator = torch.Generator(device).manual_seed(0)
    precisions = ["float32"] + (["bfloat16"] if _training.native_bf16(device) else [])
    best = dict.fromkeys(precisions, float("inf"))
    chosen = est.precision_
    try:
        # One untimed epoch each first: the first bf16 steps set up their kernels.
        for round_ in range(repeats + 1):
            for precision in precisions:
                est.precision_ = precision
                start = _training.clock(device)
                _training.run_epoch(est, data, 256, generator)
                if round_:
                    best[precision] = min(best[precision], _training.clock(device) - start)
    finally:
        est.precision_ = chosen
    return best


def previous_rule(device, multiply_adds):
    """What ``precision="auto"`` chose before issue 25: bf16 from 500,000 where native."""
    native = _training.native_bf16(device)
    return "bfloat16" if multiply_adds >= 500_000 and native else "float32"


def timing_calls(fit):
    """``fit()``'s result and the seconds of each of its calls to ``time_precisions``."""
    seconds = []
    time_precisions = _training.time_precisions

    def timed(*args):
        start = time.perf_counter()
        result = time_precisions(*args)
        seconds.append(time.perf_counter() - start)
        return result

    with mock.patch.object(_training, "time_precisions", timed):
        return fit(), seconds


def run(args):
    device = _training.resolve_device(args.device)
    rng = np.random.default_rng(args.seed)
    # The process's one-time costs (the optimizer's first import) fall here.
    fit_one_epoch(rng.normal(size=(64, 4)), device, 1, "float32")
    records = []
    for n_features in args.features:
        X = rng.normal(size=(args.n_samples, n_features)).astype(np.float32)
        _training._STEP_SECONDS.clear()
        fit = partial(fit_one_epoch, X, device, args.n_components, "auto")
        est, timing = timing_calls(fit)
        epochs = epoch_seconds(est, X, device, args.repeats)
        fastest = min(epochs.values())
        macs = multiply_adds(est.module_)
        previous = previous_rule(device, macs)
        records.append(
            {
                "n_features": n_features,
                "hidden_layer_sizes": list(est.hidden_layer_sizes_),
                "multiply_adds": macs,
                "chosen": est.precision_,
                "timed": bool(timing),
                "timing_seconds": sum(timing),
                "epoch_seconds": epochs,
                "chosen_vs_fastest": epochs[est.precision_] / fastest,
                "previous_rule": previous,
                "previous_vs_fastest": epochs[previous] / fastest,
                "met": epochs[est.precision_] / fastest <= TOLERANCE,
            }
        )
        print(f"  {n_features} features done", file=sys.stderr)
    return records


def markdown(report):
    lines = [
        "| features | hidden | multiply-adds | float32 epoch (s) | bf16 epoch (s) "
        "| auto's choice | timed | timing cost (s) | chosen / fastest "
        "| previous rule | previous / fastest |",
        "|---:|---|---:|---:|---:|---|---|---:|---:|---|---:|",
    ]
    for r in report["records"]:
        bf16 = r["epoch_seconds"].get("bfloat16")
        lines.append(
            f"| {r['n_features']} | {tuple(r['hidden_layer_sizes'])} | "
            f"{r['multiply_adds']:,} | {r['epoch_seconds']['float32']:.3f} | "
            f"{'not native' if bf16 is None else f'{bf16:.3f}'} | {r['chosen']} | "
            f"{'yes' if r['timed'] else 'no'} | {r['timing_seconds']:.3f} | "
            f"{r['chosen_vs_fastest']:.3f} | {r['previous_rule']} | "
            f"{r['previous_vs_fastest']:.3f} |"
        )
    met = all(r["met"] for r in report["records"])
    lines += [
        "",
        f"auto within {TOLERANCE - 1:.0%} of the faster precision on every network: "
        f"{'met' if met else 'NOT met'}.",
    ]
    return "\n".join(lines)


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = report["records"]
    macs = [r["multiply_adds"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for precision in ("float32", "bfloat16"):
        values = [r["epoch_seconds"].get(precision) for r in records]
        if None not in values:
            ax.plot(macs, values, "o-", label=precision)
    chosen = [r["epoch_seconds"][r["chosen"]] for r in records]
    ax.plot(macs, chosen, "kx", markersize=9, label='precision="auto"')
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-adds per row and pass")
    ax.set_ylabel("epoch seconds")
    ax.set_title(f"{report['environment']['device']}: {report['n_samples']} rows, batch 256")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--features", type=int, nargs="+", default=[10, 64, 100, 128, 160, 200, 784, 1500]
    )
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--n-samples", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "precision.json and .png")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "precision")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        records = run(args)
    report = {
        "environment": environment(args.device, argv),
        "n_samples": args.n_samples,
        "tolerance": TOLERANCE,
        "records": records,
    }
    write_report(out, "precision", report, plot, markdown)
    return report


if __name__ == "__main__":
    main()
