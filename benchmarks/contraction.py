"""What the contraction penalty buys: code sensitivity against reconstruction error.

Fits ``AutoencoderTransformer``, ``DenoisingAutoencoder`` (Gaussian noise) and
``ContractiveAutoencoder`` with the same network on the 8x8 digits (pixels
scaled to [0, 1]), or on MNIST with ``--data-home``, and reports for each on
the test images:

- ``sensitivity``: the mean change of the code, ``||z(x + e) - z(x)||``, for a
  small Gaussian perturbation ``e`` of standard deviation ``--perturbation``
  (in pixel units), divided by the code's spread (the root of the summed
  per-unit variances of the test codes), so that codes of any scale compare;
- ``test_mse``: the reconstruction error of the clean test images.

A contractive code should change less under the perturbation, at some cost in
reconstruction error.

Usage:
    python benchmarks/contraction.py                    # digits, about a minute
    python benchmarks/contraction.py --quick            # smoke test, seconds
    python benchmarks/contraction.py --data-home DIR    # MNIST (10000 training rows)
    python benchmarks/contraction.py --help

Writes ``contraction.json`` and ``contraction.png`` to ``--out`` (default: a
fresh ``benchmarks/output/contraction-<timestamp>/``, git-ignored, named in the
first and last lines printed) and prints a Markdown table.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skae
from skae import AutoencoderTransformer, ContractiveAutoencoder, DenoisingAutoencoder

from _results import add_out_argument, output_folder


def code_sensitivity(model, X, std, n_draws, seed):
    """Mean ``||z(X + e) - z(X)||`` over rows and draws, over the code's spread.

    Examples
    --------
    >>> class Halve:
    ...     def transform(self, X):
    ...         return X / 2
    >>> X = np.random.default_rng(0).normal(size=(4000, 2))
    >>> round(code_sensitivity(Halve(), X, std=0.1, n_draws=1, seed=0), 2)
    0.09
    """
    rng = np.random.default_rng(seed)
    Z = model.transform(X)
    spread = np.sqrt(Z.var(axis=0).sum())
    changes = [
        np.linalg.norm(model.transform(X + std * rng.standard_normal(X.shape)) - Z, axis=1)
        for _ in range(n_draws)
    ]
    return float(np.mean(changes) / spread)


def load(args):
    if args.data_home is None:
        X = load_digits().data / 16
        X_train, X_test = train_test_split(X, random_state=args.seed)
        return X_train, X_test, "digits"
    from skae.datasets import load_mnist

    mnist = load_mnist(args.data_home)
    return mnist.X_train[: args.n_train], mnist.X_test, "mnist"


def make_models(args):
    settings = dict(
        n_components=args.n_components,
        hidden_layer_sizes=tuple(args.hidden),
        max_epochs=args.max_epochs,
        device=args.device,
        random_state=args.seed,
    )
    return {
        "autoencoder": AutoencoderTransformer(**settings),
        "denoising": DenoisingAutoencoder(
            noise="gaussian", noise_level=args.dae_noise, **settings
        ),
        "contractive": ContractiveAutoencoder(
            contraction_weight=args.contraction_weight, **settings
        ),
    }


def plot(records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    names = [r["method"] for r in records]
    for ax, key, title in zip(
        axes,
        ("sensitivity", "test_mse"),
        ("code change / code spread", "test reconstruction MSE"),
    ):
        ax.bar(names, [r[key] for r in records], color=["C0", "C1", "C2"])
        ax.set_title(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(records, perturbation):
    lines = [
        f"| method | sensitivity (perturbation std {perturbation:g}) | test MSE "
        "| fit (s) |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['method']} | {r['sensitivity']:.4f} | {r['test_mse']:.5f} | "
        f"{r['fit_seconds']:.1f} |"
        for r in records
    ]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder with the MNIST IDX files (default: the 8x8 digits)")
    parser.add_argument("--n-train", type=int, default=10000, help="MNIST training rows")
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--hidden", type=int, nargs="*", default=[128])
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--contraction-weight", type=float,
                        default=ContractiveAutoencoder().contraction_weight)
    parser.add_argument("--dae-noise", type=float, default=0.1,
                        help="std of the denoising model's Gaussian training noise")
    parser.add_argument("--perturbation", type=float, default=0.05,
                        help="std of the test perturbation, in pixel units")
    parser.add_argument("--n-draws", type=int, default=5,
                        help="perturbations drawn per test image")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 3 epochs, 300 training rows")
    add_out_argument(parser, "contraction.json and contraction.png")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_epochs, args.n_train = 3, 300
    return args


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "contraction")
    X_train, X_test, data = load(args)
    if args.quick:
        X_train = X_train[: args.n_train]
    records = []
    for method, model in make_models(args).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        records.append({
            "method": method,
            "estimator": type(model).__name__,
            "data": data,
            "n_train": X_train.shape[0],
            "n_test": X_test.shape[0],
            "sensitivity": code_sensitivity(
                model, X_test, args.perturbation, args.n_draws, args.seed
            ),
            "test_mse": -model.score(X_test),
            "fit_seconds": time.perf_counter() - start,
            "epochs": model.n_iter_,
            "params": {k: v for k, v in model.get_params().items()
                       if k not in ("callbacks", "hidden_layer_sizes")},
        })
        print(f"  {method} done", file=sys.stderr)
    report = {
        "meta": {"skae": skae.__version__, "argv": sys.argv[1:] if argv is None else argv,
                 "perturbation": args.perturbation, "hidden_layer_sizes": args.hidden},
        "records": records,
    }
    (out / "contraction.json").write_text(json.dumps(report, indent=2, default=str))
    plot(records, out / "contraction.png")
    print(markdown(records, args.perturbation))
    print(f"\nwrote contraction.json and contraction.png to {out}")
    return report


if __name__ == "__main__":
    main()
