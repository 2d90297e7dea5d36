"""Inpainting: masking denoising autoencoders against PCA, a plain autoencoder and OpenCV.

Masks held-out images and fills the masked pixels with each method; scores
the mean squared error on the masked pixels only, in pixel units ([0, 1]).
Then compares the first-layer kernels of the plain and the denoising
autoencoders.

Masks (``--rates``, ``--block``), drawn once per data set from ``--seed``:

- ``dropout R``: each pixel missing with probability R (0.25, 0.5, 0.75);
- ``block``: a centred square whose side is ``--block`` (0.5) of the image's
  height, the same in every image: a quarter of the image, most of a digit.

Methods, all through ``skae.inpainting.inpaint``: every method sees the known
pixels and fills only the masked ones (the known pixels are kept as they are
for all methods alike), so the masked pixels are the only ones scored.

- ``zeros``: the masked input itself, holes left at 0 (the reference);
- ``pca``: ``PCA(n_components)``, fed the image with its holes set to 0;
- ``autoencoder``: ``AutoencoderTransformer``, fed the same;
- ``denoising``: ``DenoisingAutoencoder(noise="masking", noise_level=L)`` for
  each L of ``--noise-levels`` (0.25, 0.5, 0.75), fed the same: its masking
  noise sets pixels to 0 in training, so the holes look like what it learnt
  to undo;
- ``telea`` and ``ns``: OpenCV's ``cv2.inpaint`` with ``INPAINT_TELEA`` and
  ``INPAINT_NS``, on 8-bit images, for each radius of ``--radii`` (1, 2, 3).
  They need ``opencv-python-headless`` (``pip install "skae[inpainting]"``);
  without it the other methods run and the script says so.

The summary takes, for each mask and method, its best variant (noise level or
radius), chosen on the test images themselves: a choice as favourable to
OpenCV's radius as to the denoising model's noise level. Every variant's
error is in the JSON and in the second table.

The three autoencoders share one network and budget: ``n_components`` (16 on
digits, 32 on MNIST; PCA too), ``hidden_layer_sizes=(256,)``, ``max_epochs``
(100 on digits, 20 on MNIST), no early stopping, ``random_state=--seed``.

Kernels: the weights of the linear path's first layer, one image per code
unit, which ``skae.plotting.plot_kernels`` shows by default (the hidden
layer's are tabled too). Pixels are split by how often the training images
ink them (value > 0): ``never`` inked (their weights get no gradient in any
model, so they keep the initial values), ``rarely`` inked (in under 1% of the
images) and the ``digit`` area (the rest). The table gives, per model, the
variance of the weights over the units and the pixels of each region.

Data: scikit-learn's 8x8 digits (pixels / 16), 75% / 25% split, by default;
with ``--data-home DIR`` MNIST (``skae.datasets.load_mnist``), the first
``--mnist-train`` (10000) training and ``--mnist-test`` (2000) test images.

``--quick`` shrinks everything (300 digits, 2 epochs, 50 test images) for a
smoke test of seconds; its numbers mean nothing.

Usage:
    python benchmarks/inpainting.py                    # digits, about a minute
    python benchmarks/inpainting.py --quick            # smoke test, seconds
    python benchmarks/inpainting.py --data-home DIR    # MNIST, a few minutes
    python benchmarks/inpainting.py --data-home DIR --mnist-train 60000 \\
        --max-epochs 50 --out DIR2
    python benchmarks/inpainting.py --help

Writes to ``--out`` (default: a fresh ``benchmarks/output/inpainting-<timestamp>/``,
git-ignored), printing where in its first and last lines:
``inpainting.json`` (records, summary, kernel table, settings, environment),
``inpainting.md`` (the tables), ``inpainting_dropout_<R>.png`` (for the
middle rate) and ``inpainting_block.png`` (originals, masked inputs, each
method's best variant in rows), ``kernels.png`` (plain against denoising
kernels on one colour scale).
"""

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skae
from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae.datasets import load_mnist
from skae.inpainting import OPENCV_METHODS, block_mask, dropout_mask, inpaint

from _results import add_out_argument, output_folder

METHODS = ("zeros", "pca", "autoencoder", "denoising", *OPENCV_METHODS)
INSTALL_HINT = (
    "OpenCV not found: telea and ns are skipped. Install it with pip install "
    '"skae[inpainting]" (or pip install opencv-python-headless).'
)
SETTINGS = {
    "digits": {"n_components": 16, "max_epochs": 100},
    "mnist": {"n_components": 32, "max_epochs": 20},
}
HIDDEN = (256,)
QUICK_TRAIN, QUICK_TEST, QUICK_EPOCHS = 300, 50, 2
# A pixel inked in fewer training images than this share is "rarely" inked.
RARE = 0.01
N_SHOWN = 8


def load(args):
    """Training and test images in [0, 1], their shape, and the data set's name."""
    if args.data_home:
        X_train, _, X_test, _ = load_mnist(args.data_home, return_X_y=True)
        X_train, X_test = X_train[: args.mnist_train], X_test[: args.mnist_test]
        name, shape = "mnist", (28, 28)
    else:
        X = load_digits().data / 16
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=args.seed)
        name, shape = "digits", (8, 8)
    if args.quick:
        X_train, X_test = X_train[:QUICK_TRAIN], X_test[:QUICK_TEST]
    return X_train, X_test, shape, name


def masks(args, X_test, shape):
    """The masks by name, in table order."""
    rng = np.random.RandomState(args.seed)
    named = {
        f"dropout {rate:g}": dropout_mask(*X_test.shape, rate, random_state=rng)
        for rate in args.rates
    }
    named["block"] = block_mask(len(X_test), shape, args.block)
    return named


def settings(args, dataset):
    chosen = dict(SETTINGS[dataset], hidden_layer_sizes=HIDDEN)
    if args.quick:
        chosen["max_epochs"] = QUICK_EPOCHS
    elif args.max_epochs is not None:
        chosen["max_epochs"] = args.max_epochs
    return chosen


def fit_models(args, X_train, network):
    """The fitted models by (method, variant), with their fit times."""
    models, seconds = {}, {}
    candidates = {
        ("pca", None): PCA(network["n_components"], random_state=args.seed),
        ("autoencoder", None): AutoencoderTransformer(
            **network, device=args.device, random_state=args.seed
        ),
        **{
            ("denoising", level): DenoisingAutoencoder(
                noise="masking",
                noise_level=level,
                **network,
                device=args.device,
                random_state=args.seed,
            )
            for level in args.noise_levels
        },
    }
    with warnings.catch_warnings():
        # Fixed epochs, no early stopping: hitting max_epochs is the plan.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for key, model in candidates.items():
            start = time.perf_counter()
            models[key] = model.fit(X_train)
            seconds[key] = time.perf_counter() - start
            print(f"fitted {_label(*key)} in {seconds[key]:.1f} s", flush=True)
    return models, seconds


def _label(method, variant):
    if variant is None:
        return method
    return f"{method} r={variant}" if method in OPENCV_METHODS else f"{method} {variant:g}"


def run_inpainting(args, X_test, shape, named_masks, models, opencv):
    """One record per mask, method and variant, and the filled test images."""
    fillers = {("zeros", None): None, **models}
    if opencv:
        fillers.update({(m, r): m for m in OPENCV_METHODS for r in args.radii})
    records, filled = [], {}
    for mask_name, mask in named_masks.items():
        for (method, variant), filler in fillers.items():
            start = time.perf_counter()
            if filler is None:
                X_filled = np.where(mask, 0.0, X_test)
            elif method in OPENCV_METHODS:
                X_filled = inpaint(X_test, mask, filler, image_shape=shape, radius=variant)
            else:
                X_filled = inpaint(X_test, mask, filler)
            seconds = time.perf_counter() - start
            filled[mask_name, method, variant] = X_filled
            records.append(
                {
                    "mask": mask_name,
                    "method": method,
                    "variant": variant,
                    "masked_mse": float(np.mean((X_filled - X_test)[mask] ** 2)),
                    "masked_share": float(mask.mean()),
                    "inpaint_seconds": seconds,
                }
            )
    return records, filled


def summarize(records):
    """Per mask: each method's best variant, and the winner."""
    summary = {}
    for r in records:
        best = summary.setdefault(r["mask"], {"best": {}})["best"]
        if r["method"] not in best or r["masked_mse"] < best[r["method"]]["masked_mse"]:
            best[r["method"]] = {"variant": r["variant"], "masked_mse": r["masked_mse"]}
    for entry in summary.values():
        best = entry["best"]
        entry["winner"] = min(best, key=lambda m: best[m]["masked_mse"])
        if "denoising" in best:
            entry["denoising_ratio"] = {
                m: best["denoising"]["masked_mse"] / best[m]["masked_mse"]
                for m in OPENCV_METHODS
                if m in best
            }
    return summary


def kernel_regions(X_train):
    """Pixel regions by how often the training images ink them."""
    inked = (np.asarray(X_train) > 0).mean(axis=0)
    return {
        "never": inked == 0,
        "rarely": (inked > 0) & (inked < RARE),
        "digit": inked >= RARE,
    }


def kernel_table(models, regions):
    """Variance of the first-layer weights per model, layer and pixel region."""
    rows = []
    for (method, variant), model in models.items():
        if method == "pca":
            continue
        module = model.module_
        layers = {"linear": module.encoder_linear}
        if module.encoder_correction is not None:
            layers["hidden"] = module.encoder_correction[0]
        for layer, linear in layers.items():
            weights = linear.weight.detach().cpu().numpy().astype(np.float64)
            rows.append(
                {
                    "model": _label(method, variant),
                    "layer": layer,
                    **{
                        f"{region}_variance": (
                            float(weights[:, pixels].var()) if pixels.any() else None
                        )
                        for region, pixels in regions.items()
                    },
                }
            )
    return rows


def _cell(value, fmt=".4f"):
    return "n/a" if value is None else format(value, fmt)


def markdown(dataset, summary, records, kernels, regions):
    methods = [m for m in METHODS if any(m in e["best"] for e in summary.values())]
    lines = [
        f"### Inpainting, {dataset}: MSE on the masked pixels (best variant)",
        "",
        "| mask | " + " | ".join(methods) + " | winner | denoising / telea | denoising / ns |",
        "|---" * (len(methods) + 4) + "|",
    ]
    for mask, entry in summary.items():
        cells = []
        for m in methods:
            best = entry["best"].get(m)
            if best is None:
                cells.append("n/a")
            elif best["variant"] is None:
                cells.append(_cell(best["masked_mse"]))
            else:
                cells.append(f"{best['masked_mse']:.4f} ({_label(m, best['variant'])})")
        ratios = entry.get("denoising_ratio", {})
        lines.append(
            f"| {mask} | "
            + " | ".join(cells)
            + f" | {entry['winner']} | "
            + " | ".join(_cell(ratios.get(m), ".2f") for m in OPENCV_METHODS)
            + " |"
        )
    variants = list(dict.fromkeys(_label(r["method"], r["variant"]) for r in records))
    lines += [
        "",
        f"### Inpainting, {dataset}: MSE on the masked pixels, every variant",
        "",
        "| mask | " + " | ".join(variants) + " |",
        "|---" * (len(variants) + 1) + "|",
    ]
    for mask in summary:
        errors = {
            _label(r["method"], r["variant"]): r["masked_mse"]
            for r in records
            if r["mask"] == mask
        }
        lines.append(f"| {mask} | " + " | ".join(_cell(errors[v]) for v in variants) + " |")
    counts = ", ".join(f"{name} {int(p.sum())}" for name, p in regions.items())
    lines += [
        "",
        f"### Kernels, {dataset}: variance of the first-layer weights by pixel "
        f"region ({counts} pixels)",
        "",
        "| model | layer | never inked | rarely inked | digit area |",
        "|---|---|---|---|---|",
    ]
    for row in kernels:
        lines.append(
            f"| {row['model']} | {row['layer']} | "
            + " | ".join(_cell(row[f"{region}_variance"], ".3g") for region in regions)
            + " |"
        )
    return "\n".join(lines)


def plot_figures(args, out, X_test, shape, named_masks, filled, summary, models):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import plot_inpainting, plot_kernels

    paths = []
    middle = f"dropout {args.rates[len(args.rates) // 2]:g}"
    for mask_name in (middle, "block"):
        rows = {}
        for method, best in summary[mask_name]["best"].items():
            if method == "zeros":
                continue
            label = _label(method, best["variant"])
            rows[f"{label}\n{best['masked_mse']:.4f}"] = filled[
                mask_name, method, best["variant"]
            ]
        fig = plot_inpainting(X_test, named_masks[mask_name], rows, shape, n=N_SHOWN)
        fig.suptitle(f"{mask_name}: filled images, MSE on the masked pixels")
        path = out / f"inpainting_{mask_name.replace(' ', '_')}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)

    level = args.noise_levels[len(args.noise_levels) // 2]
    pair = [models["autoencoder", None], models["denoising", level]]
    vmax = max(
        np.abs(m.module_.encoder_linear.weight.detach().cpu().numpy()).max() for m in pair
    )
    fig = plt.figure(figsize=(10, 5), layout="constrained")
    for model, label, subfig in zip(
        pair, ["autoencoder", f"denoising {level:g}"], fig.subfigures(2, 1)
    ):
        plot_kernels(model, shape, vmax=float(vmax), fig=subfig)
        subfig.suptitle(f"{label}: linear-path kernels, one colour scale")
    path = out / "kernels.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [*paths, path]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for the masks, methods and settings.",
    )
    parser.add_argument("--data-home", help="folder with the MNIST files; uses MNIST")
    parser.add_argument("--mnist-train", type=int, default=10000)
    parser.add_argument("--mnist-test", type=int, default=2000)
    parser.add_argument(
        "--rates",
        nargs="+",
        type=float,
        default=[0.25, 0.5, 0.75],
        help="dropout rates of the masks",
    )
    parser.add_argument(
        "--block",
        type=float,
        default=0.5,
        help="side of the centred square, as a share of the image's height",
    )
    parser.add_argument(
        "--noise-levels",
        nargs="+",
        type=float,
        default=[0.25, 0.5, 0.75],
        help="masking noise levels of the denoising autoencoders",
    )
    parser.add_argument(
        "--radii",
        nargs="+",
        type=int,
        default=[1, 2, 3],
        help="inpaintRadius values of the OpenCV methods",
    )
    parser.add_argument("--max-epochs", type=int, help="override max_epochs")
    parser.add_argument("--quick", action="store_true", help="tiny smoke test")
    parser.add_argument("--device", default="auto", help="skae device (default: auto)")
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "the JSON, table and figures")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "inpainting")
    try:
        import cv2  # noqa: F401

        opencv = True
    except ImportError:
        opencv = False
        print(INSTALL_HINT, flush=True)

    start = time.perf_counter()
    X_train, X_test, shape, dataset = load(args)
    network = settings(args, dataset)
    named_masks = masks(args, X_test, shape)
    models, fit_seconds = fit_models(args, X_train, network)
    records, filled = run_inpainting(args, X_test, shape, named_masks, models, opencv)
    summary = summarize(records)
    regions = kernel_regions(X_train)
    kernels = kernel_table(models, regions)
    table = markdown(dataset, summary, records, kernels, regions)
    figures = plot_figures(args, out, X_test, shape, named_masks, filled, summary, models)
    wall_seconds = time.perf_counter() - start

    report = {
        "dataset": dataset,
        "image_shape": list(shape),
        "n_train": int(len(X_train)),
        "n_test": int(len(X_test)),
        "opencv": opencv,
        "records": records,
        "summary": summary,
        "kernels": kernels,
        "kernel_regions": {name: int(p.sum()) for name, p in regions.items()},
        "fit_seconds": {_label(*key): s for key, s in fit_seconds.items()},
        "settings": {**network, "hidden_layer_sizes": list(HIDDEN)},
        "wall_seconds": wall_seconds,
        "arguments": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "skae": skae.__version__,
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "opencv": cv2.__version__ if opencv else None,
            "torch_threads": torch.get_num_threads(),
        },
    }
    (out / "inpainting.json").write_text(json.dumps(report, indent=2))
    (out / "inpainting.md").write_text(table + "\n")
    print(table)
    print()
    for mask, entry in summary.items():
        ratios = entry.get("denoising_ratio", {})
        against = ", ".join(f"{ratio:.2f}x {m}'s" for m, ratio in ratios.items())
        print(
            f"{mask}: {entry['winner']} wins"
            + (f"; denoising error is {against}" if against else "")
        )
    if not opencv:
        print(INSTALL_HINT)
    print(f"figures: {', '.join(p.name for p in figures)}")
    print(f"wall time {wall_seconds:.0f} s; results in {out}")


if __name__ == "__main__":
    main()
