"""Anomaly detection, one class normal: skae's detector against PCA, IsolationForest and LOF.

The one-class protocol: for each class (digit) in turn, the detectors train on
up to ``--n-train`` (3000) training images of that class alone and score all
the test images; the other classes are the anomalies. Each method's score
(higher is more normal) is rated by the ROC AUC and the average precision of
flagging the anomalies, per class and averaged over the classes, with its fit
time.

Methods (``--methods``; ``METHODS`` below, one entry each):

- ``pca``: PCA's reconstruction error (mean squared, as
  ``AutoencoderOutlierDetector(PCA(k))``);
- ``pca_standardized``: the same PCA, its error standardized per pixel
  (``error="standardized"``), to tell the network's gain from the scoring's;
- ``isolation_forest``: ``IsolationForest(random_state=seed)``;
- ``lof``: ``LocalOutlierFactor(novelty=True)``;
- ``autoencoder``, ``denoising``, ``contractive``:
  ``AutoencoderTransformer(k)``, ``DenoisingAutoencoder(k)`` and
  ``ContractiveAutoencoder(k)`` through ``AutoencoderOutlierDetector``: their
  mean squared reconstruction error, the score of their ``score_samples``;
- ``autoencoder_standardized``: the first with ``error="standardized"``;
- ``variational``: ``VariationalAutoencoder(k)`` through
  ``AutoencoderOutlierDetector``: the squared error of reconstructing from the
  posterior mean;
- ``variational_elbo``: the same model alone, scored by its own
  ``score_samples``, each row's evidence lower bound (the likelihood-based score);
- ``detector``: ``AutoencoderOutlierDetector(random_state=seed)``, all its
  defaults.

The code size ``k`` is 30 on MNIST and 16 on digits (PCA and the
autoencoders alike; 16 is also the detector's default there). The
autoencoders other than the defaults train for ``--max-epochs`` epochs (20;
``"auto"`` is their own default) with ``random_state=seed``.

Data: scikit-learn's 8x8 digits (pixels / 16) split in halves, stratified
(about 90 training images per class, 899 test images), by default; with
``--data-home DIR`` MNIST (``skae.datasets.load_mnist``): the first
``--n-train`` training images of each class, all 10000 test images.

``--quick`` shrinks everything (digits, classes 0 and 1, 2 epochs) for a smoke
test of seconds; its numbers mean nothing.

Usage:
    python benchmarks/anomaly.py                     # digits, a few minutes
    python benchmarks/anomaly.py --quick             # smoke test, seconds
    python benchmarks/anomaly.py --data-home DIR     # MNIST, an hour on 2 cores
    python benchmarks/anomaly.py --data-home DIR --classes 0 1 7 \\
        --methods pca detector
    python benchmarks/anomaly.py --help

Writes to ``--out`` (default: a fresh ``benchmarks/output/anomaly-<timestamp>/``,
git-ignored), printing where in its first and last lines: ``anomaly.json``
(records, settings, environment), ``anomaly.md`` (the tables) and
``anomaly.png`` (ROC AUC per class and method).
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)
from skae.datasets import load_mnist

from _results import add_out_argument, environment, output_folder

N_COMPONENTS = {"digits": 16, "mnist": 30}
QUICK_CLASSES, QUICK_EPOCHS = (0, 1), 2


def _autoencoder(cls, error="squared"):
    def make(k, max_epochs, seed, device):
        model = cls(k, max_epochs=max_epochs, device=device, random_state=seed)
        return AutoencoderOutlierDetector(model, error=error)

    return make


# Each method: make(k, max_epochs, seed, device) -> an estimator whose
# score_samples is higher for normal rows. A new method is one more entry.
METHODS = {
    "pca": lambda k, *_: AutoencoderOutlierDetector(PCA(k)),
    "pca_standardized": lambda k, *_: AutoencoderOutlierDetector(PCA(k), error="standardized"),
    "isolation_forest": lambda k, epochs, seed, device: IsolationForest(random_state=seed),
    "lof": lambda *_: LocalOutlierFactor(novelty=True),
    "autoencoder": _autoencoder(AutoencoderTransformer),
    "autoencoder_standardized": _autoencoder(AutoencoderTransformer, error="standardized"),
    "denoising": _autoencoder(DenoisingAutoencoder),
    "contractive": _autoencoder(ContractiveAutoencoder),
    "variational": _autoencoder(VariationalAutoencoder),
    "variational_elbo": lambda k, epochs, seed, device: VariationalAutoencoder(
        k, max_epochs=epochs, device=device, random_state=seed
    ),
    "detector": lambda k, epochs, seed, device: AutoencoderOutlierDetector(random_state=seed),
}


def load(args):
    """Training and test images in [0, 1], their labels, and the data set's name."""
    if args.data_home:
        X_train, y_train, X_test, y_test = load_mnist(args.data_home, return_X_y=True)
        return X_train, y_train, X_test, y_test, "mnist"
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16,
        digits.target,
        test_size=0.5,
        stratify=digits.target,
        random_state=args.seed,
    )
    return X_train, y_train, X_test, y_test, "digits"


def run(args, X_train, y_train, X_test, y_test, k):
    """One record per class and method: ROC AUC, average precision, fit time."""
    records = []
    max_epochs = "auto" if args.max_epochs == "auto" else int(args.max_epochs)
    for label in args.classes:
        X_normal = X_train[y_train == label][: args.n_train]
        is_anomaly = y_test != label
        for method in args.methods:
            model = METHODS[method](k, max_epochs, args.seed, args.device)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_normal)
            fit_seconds = time.perf_counter() - start
            # Minus the score: the anomalies are the positive class.
            anomaly_score = -model.score_samples(X_test)
            record = {
                "class": int(label),
                "method": method,
                "n_train": len(X_normal),
                "roc_auc": float(roc_auc_score(is_anomaly, anomaly_score)),
                "average_precision": float(average_precision_score(is_anomaly, anomaly_score)),
                "fit_seconds": fit_seconds,
            }
            records.append(record)
            print(
                f"class {label} {method:>24}: ROC AUC {record['roc_auc']:.4f}, "
                f"AP {record['average_precision']:.4f}, fit {fit_seconds:.1f} s",
                flush=True,
            )
    return records


def markdown(report):
    """ROC AUC and average precision per class and method, with means and fit time."""
    records = report["records"]
    methods = list(dict.fromkeys(r["method"] for r in records))
    classes = list(dict.fromkeys(r["class"] for r in records))
    cell = {(r["method"], r["class"]): r for r in records}
    lines = []
    for metric, title in (("roc_auc", "ROC AUC"), ("average_precision", "Average precision")):
        lines += [
            f"### {title}, one class as normal ({report['dataset']}, code size "
            f"{report['n_components']})",
            "",
            "| method | " + " | ".join(str(c) for c in classes) + " | mean | fit (s) |",
            "|---" * (len(classes) + 3) + "|",
        ]
        for method in methods:
            values = [cell[method, c][metric] for c in classes]
            seconds = sum(cell[method, c]["fit_seconds"] for c in classes)
            lines.append(
                f"| {method} | "
                + " | ".join(f"{v:.4f}" for v in values)
                + f" | **{np.mean(values):.4f}** | {seconds:.1f} |"
            )
        lines.append("")
    if "pca" in methods and "detector" in methods:
        wins = sum(cell["detector", c]["roc_auc"] > cell["pca", c]["roc_auc"] for c in classes)
        gain = np.mean(
            [cell["detector", c]["roc_auc"] - cell["pca", c]["roc_auc"] for c in classes]
        )
        lines.append(
            f"detector against pca: mean ROC AUC {gain:+.4f}, higher on {wins} of "
            f"{len(classes)} classes."
        )
    lines.append("fit (s): the total over the classes.")
    return "\n".join(lines)


def plot(report, path):
    """ROC AUC per class, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = report["records"]
    methods = list(dict.fromkeys(r["method"] for r in records))
    classes = list(dict.fromkeys(r["class"] for r in records))
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for method in methods:
        auc = {r["class"]: r["roc_auc"] for r in records if r["method"] == method}
        ax.plot(
            range(len(classes)),
            [auc[c] for c in classes],
            marker="o",
            label=f"{method} ({np.mean(list(auc.values())):.4f})",
        )
    ax.set_xticks(range(len(classes)), [str(c) for c in classes])
    ax.set_xlabel("normal class")
    ax.set_ylabel("ROC AUC (anomalies: the other classes)")
    ax.set_title(f"One class as normal, {report['dataset']}")
    ax.legend(fontsize="small", title="method (mean)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for the protocol and the methods.",
    )
    parser.add_argument("--data-home", help="folder with the MNIST files; uses MNIST")
    parser.add_argument(
        "--n-train", type=int, default=3000, help="training images of the normal class"
    )
    parser.add_argument(
        "--classes",
        nargs="+",
        type=int,
        default=list(range(10)),
        help="the classes taken as normal in turn",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        help="methods to run (default: all)",
    )
    parser.add_argument(
        "--max-epochs",
        default="20",
        help="max_epochs of the autoencoders other than the detector's defaults",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke test")
    parser.add_argument("--device", default="auto", help="skae device (default: auto)")
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "the JSON, table and figure")
    args = parser.parse_args(argv)
    if args.max_epochs != "auto" and not args.max_epochs.isdigit():
        parser.error(
            f"--max-epochs must be a positive integer or 'auto', got {args.max_epochs!r}"
        )
    if args.quick:
        args.data_home, args.classes, args.max_epochs = None, QUICK_CLASSES, QUICK_EPOCHS
    return args


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "anomaly")
    start = time.perf_counter()
    X_train, y_train, X_test, y_test, dataset = load(args)
    k = N_COMPONENTS[dataset]
    records = run(args, X_train, y_train, X_test, y_test, k)
    report = {
        "dataset": dataset,
        "n_components": k,
        "n_test": len(X_test),
        "records": records,
        "settings": {
            "n_train": args.n_train,
            "max_epochs": args.max_epochs,
            "seed": args.seed,
            "classes": list(args.classes),
            "methods": list(args.methods),
        },
        "wall_seconds": time.perf_counter() - start,
        "environment": environment(args.device, argv),
    }
    table = markdown(report)
    (out / "anomaly.json").write_text(json.dumps(report, indent=2))
    (out / "anomaly.md").write_text(table + "\n")
    plot(report, out / "anomaly.png")
    print(table)
    print(f"anomaly: wrote anomaly.json, anomaly.md and anomaly.png to {out}")


if __name__ == "__main__":
    main()
