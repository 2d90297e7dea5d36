"""The kernels claim: masking noise makes the first-layer weights of the blank border constant.

The claim (seed 001): a standard autoencoder's first-layer kernels stay random
outside the digit area, where a denoising one's (dropout-mask noise) become
constant there. This script fits an ``AutoencoderTransformer`` and a
``DenoisingAutoencoder(noise="masking")`` with the same network in three
settings and measures, for each first layer, the variance of each kernel's
weights over the border pixels, averaged over the kernels (units): random
weights have a large one, a constant kernel has 0. The headline is the ratio
denoising / standard; well below 1 supports the claim.

Settings, each a pair of models:

- ``seed``: the seed's setting: pixels scaled to [-1, 1] (background -1),
  ``init="random"``, ``output_activation="tanh"``;
- ``unit``: the same with pixels in [0, 1] (background 0);
- ``pca``: pixels in [-1, 1] with skae's default ``init="pca"``.

Why the scaling decides it: a pixel that no training image inks holds the
same value in every image, so in the standard model its weights get no
gradient (skae centres the input, or the constant acts like a bias shared by
all border pixels) and keep their random start. Masking sets an input to 0
in the data's units: with background -1 that changes the border pixels, whose
weights then get a gradient that pushes each kernel to ignore them; with
background 0 masking leaves them as they were.

Border pixels: those inked (value above the background) in under ``--rare``
(1%) of the training images; ``never`` are those inked in none (only 3 of the
digits' 64 pixels, columns 0 and 7 are nearly blank; about 70 of MNIST's 784).
Layers: ``hidden``, the first layer of the nonlinear part (the wide one,
``--hidden`` units), and ``linear``, the linear path (one kernel per code unit).

Data: scikit-learn's 8x8 digits (pixels / 16), 75% training split, by
default; MNIST's first ``--n-train`` training images with ``--data-home``.

Usage:
    python benchmarks/kernels.py                    # digits, a minute or two
    python benchmarks/kernels.py --quick            # smoke test, seconds
    python benchmarks/kernels.py --data-home DIR    # MNIST, 10000 images
    python benchmarks/kernels.py --help

Writes ``kernels.json`` and ``kernels.png`` (the hidden layer's kernels of the
seed-setting pair, on one colour scale) to ``--out`` (default: a fresh
``benchmarks/output/kernels-<timestamp>/``, named in the first and last lines
printed) and prints a Markdown table.
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

from skae import AutoencoderTransformer, DenoisingAutoencoder

from _results import add_out_argument, environment, output_folder

# name: (pixel range, init)
SETTINGS = {
    "seed": ((-1, 1), "random"),
    "unit": ((0, 1), "random"),
    "pca": ((-1, 1), "pca"),
}
N_SHOWN = 16


def load(args):
    """Training images in [0, 1] and their shape."""
    if args.data_home is None:
        X = load_digits().data / 16
        X_train, _ = train_test_split(X, test_size=0.25, random_state=args.seed)
        shape = (8, 8)
    else:
        from skae.datasets import load_mnist

        X_train = load_mnist(args.data_home, return_X_y=True)[0][: args.n_train]
        shape = (28, 28)
    if args.quick:
        X_train = X_train[:300]
    return np.asarray(X_train, dtype=np.float64), shape


def border_variance(weights, pixels):
    """Mean over kernels (rows) of the variance of their weights over ``pixels``.

    Examples
    --------
    >>> weights = np.array([[1.0, 3.0, 9.0], [5.0, 5.0, -9.0]])
    >>> float(border_variance(weights, np.array([True, True, False])))
    0.5
    """
    return weights[:, pixels].var(axis=1).mean()


def first_layers(model):
    module = model.module_
    layers = {"hidden": module.encoder_correction[0], "linear": module.encoder_linear}
    return {
        name: layer.weight.detach().cpu().numpy().astype(np.float64)
        for name, layer in layers.items()
    }


def fit_pair(args, X, init):
    network = dict(
        n_components=args.n_components,
        hidden_layer_sizes=(args.hidden,),
        activation=args.activation,
        output_activation="tanh",
        init=init,
        max_epochs=args.max_epochs,
        device=args.device,
        random_state=args.seed,
    )
    models = {
        "standard": AutoencoderTransformer(**network),
        "denoising": DenoisingAutoencoder(
            noise="masking", noise_level=args.noise_level, **network
        ),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model in models.values():
            model.fit(X)
    return models


def plot(models, shape, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import plot_kernels

    vmax = max(np.abs(first_layers(m)["hidden"][:N_SHOWN]).max() for m in models.values())
    fig = plt.figure(figsize=(9.5, 5), layout="constrained")
    for (name, model), subfig in zip(models.items(), fig.subfigures(2, 1)):
        plot_kernels(model, shape, N_SHOWN, layer="hidden", vmax=float(vmax), fig=subfig)
        subfig.suptitle(f"{name}: first hidden layer, pixels in [-1, 1], random start")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(records, counts):
    lines = [
        f"Variance of each kernel's weights over the border pixels, mean over kernels "
        f"(border: {counts['border']} pixels, never inked: {counts['never']})",
        "",
        "| setting | layer | standard, border | denoising, border | ratio, border "
        "| ratio, never inked | ratio, digit area |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r['setting']} | {r['layer']} | {r['standard']['border']:.3g} | "
            f"{r['denoising']['border']:.3g} | {r['ratio']['border']:.3f} | "
            f"{_cell(r['ratio']['never'])} | {r['ratio']['digit']:.3f} |"
        )
    return "\n".join(lines)


def _cell(value):
    return "n/a" if value is None else f"{value:.3f}"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder with the MNIST IDX files (default: the 8x8 digits)",
    )
    parser.add_argument("--n-train", type=int, default=10000, help="MNIST training rows")
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument(
        "--hidden", type=int, default=256, help="width of the first (hidden) layer"
    )
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument(
        "--noise-level",
        type=float,
        default=0.5,
        help="masking probability of the denoising model",
    )
    parser.add_argument(
        "--rare",
        type=float,
        default=0.01,
        help="a border pixel is inked in under this share of images",
    )
    parser.add_argument(
        "--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS)
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 2 epochs, 300 training rows"
    )
    add_out_argument(parser, "kernels.json and kernels.png")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_epochs = 2
    return args


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "kernels")
    start = time.perf_counter()
    X01, shape = load(args)
    inked = (X01 > 0).mean(axis=0)
    regions = {"border": inked < args.rare, "never": inked == 0, "digit": inked >= args.rare}
    counts = {name: int(pixels.sum()) for name, pixels in regions.items()}
    records, seed_pair = [], None
    for setting in args.settings:
        (low, high), init = SETTINGS[setting]
        models = fit_pair(args, low + (high - low) * X01, init)
        if setting == "seed":
            seed_pair = models
        weights = {name: first_layers(model) for name, model in models.items()}
        for layer in ("hidden", "linear"):
            variances = {
                name: {
                    region: (
                        float(border_variance(w[layer], pixels)) if pixels.any() else None
                    )
                    for region, pixels in regions.items()
                }
                for name, w in weights.items()
            }
            ratio = {
                region: (
                    None
                    if variances["standard"][region] in (None, 0)
                    else variances["denoising"][region] / variances["standard"][region]
                )
                for region in regions
            }
            records.append(
                {
                    "setting": setting,
                    "pixel_range": [low, high],
                    "init": init,
                    "layer": layer,
                    **variances,
                    "ratio": ratio,
                }
            )
        print(f"  {setting} done", file=sys.stderr)
    figure = None
    if seed_pair is not None:
        figure = out / "kernels.png"
        plot(seed_pair, shape, figure)
    report = {
        "meta": {
            "data": "digits" if args.data_home is None else "mnist",
            "n_train": int(X01.shape[0]),
            "pixels": counts,
            "settings": {k: v for k, v in vars(args).items() if k != "out"},
            "wall_seconds": time.perf_counter() - start,
            "environment": environment(args.device, argv),
        },
        "records": records,
    }
    (out / "kernels.json").write_text(json.dumps(report, indent=2, default=str))
    print(markdown(records, counts))
    print(f"\nwrote kernels.json{' and kernels.png' if figure else ''} to {out}")
    return report


if __name__ == "__main__":
    main()
