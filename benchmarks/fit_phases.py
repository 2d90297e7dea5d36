"""Where a default fit spends its time: before the first epoch, in the epochs, after the last.

A fit does more than train: it validates and scales ``X``, copies it into one
float32 tensor, computes the PCA start, checks the start's loss, and at the
end checks that training did not end worse than the start. Issue 25 asks
that all of this together take at most one epoch's time on MNIST with the
defaults. This script fits ``AutoencoderTransformer(n_components=k)`` with
nothing else set but ``device`` and ``random_state`` and times, for each
fit:

- ``before``: from the call to ``fit`` to the start of the first epoch;
- ``epochs``: the epochs themselves, and the median epoch;
- ``between``: what runs between two epochs (the loss curve, the weight
  snapshot, early stopping's validation pass);
- ``after``: from the end of the last epoch to the return of ``fit``.

The epochs are timed by wrapping ``skae._training.run_epoch``, the loop's one
epoch function, so the phases add up to the fit time. The first fit in a
process also pays one-time costs (PyTorch's optimizer imports
``torch._dynamo`` on first use, about 1.3 s here); it is reported apart as
``first_fit_before``, from an untimed short fit before the timed ones.

Data (``--datasets``): ``digits`` (scikit-learn's bundled ``load_digits``,
1797 x 64, 8 units) and, with ``--data-home``, ``mnist`` (60000 x 784, 30
units; ``--mnist-rows N`` for the first N). Test error is reported as the
squared error summed over the features, averaged over the held-out rows
(MNIST's 10000 test images; a 25% split of the digits).

Usage:
    python benchmarks/fit_phases.py
    python benchmarks/fit_phases.py --data-home ~/skae_data --seeds 0 1

Writes ``fit_phases.json`` and ``fit_phases.png`` to ``--out`` (default: a
fresh ``benchmarks/output/fit_phases-<timestamp>/``) and prints a Markdown
table with the target: ``before`` and ``before + after`` each at most one
median epoch.
"""

import argparse
import statistics
import sys
from unittest import mock

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, _training
from skae.datasets import load_mnist

from _results import add_out_argument, environment, output_folder, write_report


def load(name, args):
    if name == "digits":
        X = load_digits().data.astype(np.float32)
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
        return X_train, X_test, 8
    X_train, _, X_test, _ = load_mnist(
        args.data_home, download_if_missing=False, return_X_y=True
    )
    rows = args.mnist_rows
    return X_train[:rows], X_test[:rows], 30


def timed_fit(X, n_components, seed, device, **params):
    """Fit with the defaults; returns the estimator and its phases in seconds."""
    spans = []
    run_epoch = _training.run_epoch

    def timed_epoch(*a, **k):
        begin = _training.clock(device)
        loss = run_epoch(*a, **k)
        spans.append((begin, _training.clock(device)))
        return loss

    est = AutoencoderTransformer(
        n_components=n_components, device=str(device), random_state=seed, **params
    )
    with mock.patch.object(_training, "run_epoch", timed_epoch):
        start = _training.clock(device)
        est.fit(X)
        end = _training.clock(device)
    epochs = [b - a for a, b in spans]
    return est, {
        "fit": end - start,
        "before": spans[0][0] - start,
        "epochs": sum(epochs),
        "median_epoch": statistics.median(epochs),
        "between": spans[-1][1] - spans[0][0] - sum(epochs),
        "after": end - spans[-1][1],
        "n_epochs": len(epochs),
        "precision": est.precision_,
    }


def test_error(est, X_test):
    return float(((est.inverse_transform(est.transform(X_test)) - X_test) ** 2).sum(1).mean())


def run(args):
    device = _training.resolve_device(args.device)
    datasets = {}
    for name in args.datasets:
        X_train, X_test, n_components = load(name, args)
        first = None
        if not datasets:
            # The process's one-time costs fall on its first fit.
            _, phases = timed_fit(X_train, n_components, 0, device, max_epochs=1)
            first = phases["before"]
        fits = []
        for seed in args.seeds:
            est, phases = timed_fit(X_train, n_components, seed, device)
            phases["seed"] = seed
            phases["test_sse"] = test_error(est, X_test)
            phases["before_vs_epoch"] = phases["before"] / phases["median_epoch"]
            phases["outside_vs_epoch"] = (phases["before"] + phases["after"]) / phases[
                "median_epoch"
            ]
            fits.append(phases)
            print(f"  {name} seed {seed} done", file=sys.stderr)
        datasets[name] = {
            "shape": list(X_train.shape),
            "n_components": n_components,
            "first_fit_before": first,
            "fits": fits,
            # Issue 25's target is set on MNIST; on small data an epoch takes
            # milliseconds and the ratios are reported for reference only.
            "target_met": all(
                f["before_vs_epoch"] <= 1 and f["outside_vs_epoch"] <= 1 for f in fits
            )
            if name == "mnist"
            else None,
        }
    return datasets


def markdown(report):
    lines = [
        "| data | seed | precision | before (s) | median epoch (s) | epochs | between (s) "
        "| after (s) | fit (s) | before / epoch | (before + after) / epoch | test SSE |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, data in report["datasets"].items():
        for f in data["fits"]:
            lines.append(
                f"| {name} | {f['seed']} | {f['precision']} | {f['before']:.3f} | "
                f"{f['median_epoch']:.3f} | {f['n_epochs']} | {f['between']:.3f} | "
                f"{f['after']:.3f} | {f['fit']:.2f} | {f['before_vs_epoch']:.2f} | "
                f"{f['outside_vs_epoch']:.2f} | {f['test_sse']:.3f} |"
            )
    lines.append("")
    for name, data in report["datasets"].items():
        if data["first_fit_before"] is not None:
            lines.append(
                f"First fit in the process ({name}): {data['first_fit_before']:.3f} s "
                "before its first epoch."
            )
        if data["target_met"] is not None:
            lines.append(
                f"{name}: before and before + after within one median epoch: "
                f"{'met' if data['target_met'] else 'NOT met'}."
            )
    return "\n".join(lines)


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, parts = [], {"before": [], "after": [], "median_epoch": []}
    for name, data in report["datasets"].items():
        for f in data["fits"]:
            labels.append(f"{name}\nseed {f['seed']}")
            for part in parts:
                parts[part].append(f[part])
    fig, ax = plt.subplots(figsize=(1.6 * len(labels) + 2, 3.5))
    x = np.arange(len(labels))
    for offset, (part, values) in zip((-0.27, 0, 0.27), parts.items()):
        ax.bar(x + offset, values, width=0.27, label=part.replace("_", " "))
    ax.set_xticks(x, labels)
    ax.set_ylabel("seconds")
    ax.set_title("Time outside the epochs against one epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=("digits", "mnist"), default=None)
    parser.add_argument("--data-home", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--mnist-rows", type=int, default=None, help="first N MNIST rows")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    add_out_argument(parser, "fit_phases.json and .png")
    args = parser.parse_args(argv)
    if args.datasets is None:
        args.datasets = ["digits"] + (["mnist"] if args.data_home else [])
    if "mnist" in args.datasets and args.data_home is None:
        parser.error("--datasets mnist needs --data-home")
    return args


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "fit_phases")
    report = {"environment": environment(args.device, argv), "datasets": run(args)}
    write_report(out, "fit_phases", report, plot, markdown)
    return report


if __name__ == "__main__":
    main()
