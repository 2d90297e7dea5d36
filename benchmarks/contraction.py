"""What the contraction penalty buys: code sensitivity along and off the data manifold.

Fits ``AutoencoderTransformer``, ``DenoisingAutoencoder`` (Gaussian noise) and
``ContractiveAutoencoder`` (at each of ``--contraction-weights``) with the same
network on the 8x8 digits (pixels scaled to [0, 1]), or on MNIST with
``--data-home``, and reports for each on the test images the mean change of
the code, ``||z(x + e) - z(x)||``, divided by the code's spread (the root of
the summed per-unit variances of the test codes, so that codes of any scale
compare), for small perturbations ``e`` that all have the expected length of
isotropic Gaussian noise of standard deviation ``--perturbation`` (in pixel
units) but point in different directions:

- ``sensitivity``: isotropic Gaussian noise, every direction at once;
- ``along``: Gaussian noise in the span of the ``--n-along`` (10) leading
  principal directions of the training images, where the data vary most;
- ``tangent``: along the local tangent, the difference between the image and
  its nearest training neighbour, rescaled to the same length;
- ``off``: Gaussian noise in the span of the ``--n-off`` (30) least-varying
  principal directions, off the data manifold;
- ``off_along`` and ``off_tangent``: ``off / along`` and ``off / tangent``.

plus ``test_mse``, the reconstruction error of the clean test images.

Rifai et al. (2011) claim that the contraction penalty keeps the code
sensitive to the directions the reconstruction needs (along the manifold) and
makes it insensitive to the others: the contractive model's ``off_along``
should be much lower than the plain autoencoder's.

Usage:
    python benchmarks/contraction.py                    # digits, about a minute
    python benchmarks/contraction.py --quick            # smoke test, seconds
    python benchmarks/contraction.py --data-home DIR    # MNIST (10000 training rows)
    python benchmarks/contraction.py --contraction-weights 0.1 1 3
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

DIRECTIONS = ("sensitivity", "along", "tangent", "off")


def code_sensitivity(model, X, std, n_draws, seed, directions=None):
    """Mean ``||z(X + e) - z(X)||`` over rows and draws, over the code's spread.

    ``e`` is Gaussian noise of standard deviation ``std`` in every direction,
    or, with ``directions`` (orthonormal rows), Gaussian noise in their span
    scaled to the same expected length.

    Examples
    --------
    >>> class Halve:
    ...     def transform(self, X):
    ...         return X / 2
    >>> X = np.random.default_rng(0).normal(size=(4000, 2))
    >>> round(code_sensitivity(Halve(), X, std=0.1, n_draws=1, seed=0), 2)
    0.09
    >>> class First:
    ...     def transform(self, X):
    ...         return X[:, :1]
    >>> X = np.random.default_rng(0).normal(size=(4000, 3))
    >>> code_sensitivity(First(), X, 0.1, 1, 0, directions=np.eye(3)[1:])
    0.0
    """
    rng = np.random.default_rng(seed)
    Z = model.transform(X)
    spread = np.sqrt(Z.var(axis=0).sum())
    changes = []
    for _ in range(n_draws):
        if directions is None:
            noise = std * rng.standard_normal(X.shape)
        else:
            stretch = np.sqrt(X.shape[1] / directions.shape[0])
            noise = std * stretch * rng.standard_normal((X.shape[0], len(directions)))
            noise = noise @ directions
        changes.append(np.linalg.norm(model.transform(X + noise) - Z, axis=1))
    return float(np.mean(changes) / spread)


def tangent_sensitivity(model, X, X_train, std):
    """Code change for a step toward each row's nearest training image, over the spread.

    The step has the expected length of isotropic noise of standard deviation
    ``std``: a move along the local tangent of the data.
    """
    from sklearn.neighbors import NearestNeighbors

    _, index = NearestNeighbors(n_neighbors=1).fit(X_train).kneighbors(X)
    step = X_train[index[:, 0]] - X
    step *= std * np.sqrt(X.shape[1]) / np.linalg.norm(step, axis=1, keepdims=True)
    Z = model.transform(X)
    spread = np.sqrt(Z.var(axis=0).sum())
    return float(np.linalg.norm(model.transform(X + step) - Z, axis=1).mean() / spread)


def principal_directions(X_train, n_along, n_off):
    """The ``n_along`` most and the ``n_off`` least varying principal axes (rows).

    Directions of zero variance (pixels no image inks) count among the least
    varying: they are the clearest "off the manifold" there is.
    """
    _, _, Vt = np.linalg.svd(X_train - X_train.mean(axis=0), full_matrices=True)
    return Vt[:n_along], Vt[-n_off:]


def load(args):
    if args.data_home is None:
        X = load_digits().data / 16
        X_train, X_test = train_test_split(X, random_state=args.seed)
        return X_train, X_test, "digits"
    from skae.datasets import load_mnist

    mnist = load_mnist(args.data_home)
    return mnist.X_train[: args.n_train], mnist.X_test, "mnist"


def make_models(args):
    """The models by name: plain, denoising, and one contractive per weight."""
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
        **{
            f"contractive {weight:g}": ContractiveAutoencoder(
                contraction_weight=weight, **settings
            )
            for weight in args.contraction_weights
        },
    }


def plot(records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    names = [r["method"] for r in records]
    x = np.arange(len(records))
    for offset, key in zip((-0.3, -0.1, 0.1, 0.3), DIRECTIONS):
        label = "isotropic" if key == "sensitivity" else key
        axes[0].bar(x + offset, [r[key] for r in records], width=0.2, label=label)
    axes[0].set_title("code change / code spread")
    axes[0].legend(fontsize="small")
    for ax, key, title in zip(
        axes[1:],
        ("off_along", "test_mse"),
        ("off / along: lower is more selective", "test reconstruction MSE"),
    ):
        ax.bar(x, [r[key] for r in records], color=[f"C{i}" for i in x])
        ax.set_title(title)
    for ax in axes:
        ax.set_xticks(x, names, rotation=20, fontsize="small")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(records, perturbation):
    lines = [
        f"Code change / code spread, perturbations of the length of isotropic "
        f"noise of std {perturbation:g}",
        "",
        "| method | isotropic | along | tangent | off | off / along | off / tangent "
        "| test MSE | fit (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['method']} | "
        + " | ".join(f"{r[key]:.4f}" for key in DIRECTIONS)
        + f" | {r['off_along']:.3f} | {r['off_tangent']:.3f} | {r['test_mse']:.5f} | "
        f"{r['fit_seconds']:.1f} |"
        for r in records
    ]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder with the MNIST IDX files (default: the 8x8 digits)",
    )
    parser.add_argument("--n-train", type=int, default=10000, help="MNIST training rows")
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--hidden", type=int, nargs="*", default=[128])
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument(
        "--contraction-weights",
        type=float,
        nargs="+",
        default=[ContractiveAutoencoder().contraction_weight, 1.0],
        help="one contractive model per weight",
    )
    parser.add_argument(
        "--dae-noise",
        type=float,
        default=0.1,
        help="std of the denoising model's Gaussian training noise",
    )
    parser.add_argument(
        "--perturbation",
        type=float,
        default=0.05,
        help="std of the test perturbation, in pixel units",
    )
    parser.add_argument(
        "--n-draws", type=int, default=5, help="perturbations drawn per test image"
    )
    parser.add_argument(
        "--n-along",
        type=int,
        default=10,
        help="leading principal directions: along the manifold",
    )
    parser.add_argument(
        "--n-off",
        type=int,
        default=30,
        help="least-varying principal directions: off the manifold",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 3 epochs, 300 training rows"
    )
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
    along, off = principal_directions(X_train, args.n_along, args.n_off)
    records = []
    for method, model in make_models(args).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        fit_seconds = time.perf_counter() - start
        sensitivities = {
            key: code_sensitivity(
                model, X_test, args.perturbation, args.n_draws, args.seed, directions
            )
            for key, directions in (("sensitivity", None), ("along", along), ("off", off))
        }
        sensitivities["tangent"] = tangent_sensitivity(
            model, X_test, X_train, args.perturbation
        )
        records.append(
            {
                "method": method,
                "estimator": type(model).__name__,
                "data": data,
                "n_train": X_train.shape[0],
                "n_test": X_test.shape[0],
                **{key: sensitivities[key] for key in DIRECTIONS},
                "off_along": sensitivities["off"] / sensitivities["along"],
                "off_tangent": sensitivities["off"] / sensitivities["tangent"],
                "test_mse": -model.score(X_test),
                "fit_seconds": fit_seconds,
                "epochs": model.n_iter_,
                "params": {
                    k: v
                    for k, v in model.get_params().items()
                    if k not in ("callbacks", "hidden_layer_sizes")
                },
            }
        )
        print(f"  {method} done", file=sys.stderr)
    report = {
        "meta": {
            "skae": skae.__version__,
            "argv": sys.argv[1:] if argv is None else argv,
            "perturbation": args.perturbation,
            "hidden_layer_sizes": args.hidden,
            "n_along": args.n_along,
            "n_off": args.n_off,
        },
        "records": records,
    }
    (out / "contraction.json").write_text(json.dumps(report, indent=2, default=str))
    plot(records, out / "contraction.png")
    print(markdown(records, args.perturbation))
    print(f"\nwrote contraction.json and contraction.png to {out}")
    return report


if __name__ == "__main__":
    main()
