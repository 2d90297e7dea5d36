"""Fit time of the estimators with their default settings on small data.

Times ``fit`` of ``AutoencoderTransformer``, ``DenoisingAutoencoder`` and
``SparseAutoencoder`` with nothing set but ``n_components`` (and
``random_state``) on three linear data sets of ``make_correlated``, 1000 rows
by 10 columns, x up to 200, no scaler: multiples of one latent (rank 1), the
same plus a second latent offset (rank 2) and independent Gaussian noise
(full rank); and on scikit-learn's ``load_digits``
at ``n_components=8``. Each fit is repeated ``--repeats`` times after one
untimed warm-up fit (the first fit in a process pays for PyTorch's imports);
the median is reported, with the epochs run, the training R² and PCA's fit
time and R² for reference.

Usage:
    python benchmarks/fit_time.py
    python benchmarks/fit_time.py --repeats 5 --out DIR

Writes ``fit_time.json`` to ``--out`` (default: a fresh
``benchmarks/output/<script>-<timestamp>/``; ``--out benchmarks/results``
refreshes the committed results) and
prints a Markdown table.
"""

import argparse
import json
import platform
import statistics
import time
import warnings

import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from skae import AutoencoderTransformer, DenoisingAutoencoder, SparseAutoencoder
from skae.datasets import make_correlated

from _results import add_out_argument, environment, output_folder

METHODS = {
    "pca": PCA,
    "autoencoder": AutoencoderTransformer,
    "denoising": DenoisingAutoencoder,
    "sparse": SparseAutoencoder,
}


def datasets():
    for kind, n_components in [("multiples", 1), ("multiples_offset", 2), ("noise", 5)]:
        yield kind, make_correlated(kind, n_samples=1000, random_state=0), n_components
    yield "digits", load_digits().data, 8


def time_fit(Estimator, X, n_components, repeats):
    seconds = []
    for _ in range(repeats):
        model = (
            Estimator(n_components=n_components)
            if Estimator is PCA
            else Estimator(n_components=n_components, random_state=0)
        )
        start = time.perf_counter()
        model.fit(X)
        seconds.append(time.perf_counter() - start)
    r2 = r2_score(
        X, model.inverse_transform(model.transform(X)), multioutput="variance_weighted"
    )
    return statistics.median(seconds), getattr(model, "n_iter_", None), r2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    add_out_argument(parser, "fit_time.json")
    args = parser.parse_args(argv)
    out = output_folder(args.out, "fit_time")
    warnings.simplefilter("ignore", ConvergenceWarning)
    AutoencoderTransformer(max_epochs=1).fit(load_digits().data[:50])  # warm-up

    records = []
    for dataset, X, n_components in datasets():
        for method, Estimator in METHODS.items():
            seconds, epochs, r2 = time_fit(Estimator, X, n_components, args.repeats)
            records.append(
                dict(
                    dataset=dataset,
                    shape=list(X.shape),
                    method=method,
                    n_components=n_components,
                    fit_seconds=seconds,
                    epochs=epochs,
                    train_r2=r2,
                    threads=torch.get_num_threads(),
                    machine=platform.processor() or platform.machine(),
                    environment=environment("cpu", argv),
                )
            )
    path = out / "fit_time.json"
    path.write_text(json.dumps(records, indent=2))
    print(markdown(records))
    print(f"\nwrote {path}")


def markdown(records):
    """One row per data set and method."""
    lines = [
        "| dataset | method | k | fit s (median) | epochs | train R² |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        epochs = "" if r["epochs"] is None else r["epochs"]
        lines.append(
            f"| {r['dataset']} | {r['method']} | {r['n_components']} | "
            f"{r['fit_seconds']:.3f} | {epochs} | {r['train_r2']:.4f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
