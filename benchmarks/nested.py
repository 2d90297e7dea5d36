"""One fit for every latent size: nested codes and n_components as a share of variance.

Three measurements (issue 17), all on held-out data:

- ``prefixes``: one ``nested=True`` fit at ``--max-width`` units; for each m in
  ``--widths``, the test error of reconstructing from its first m units (the
  others set to zero) over that of a dedicated fit at m with the same settings
  (target: within 10%, stretch 5%). Also the fit time of the nested fit over a
  plain one at the same width.
- ``share``: ``n_components=--share``: the width it chooses, its test error over
  a dedicated fit at that width (target: within 2%), and its fit time over a
  plain fit at the widest width it trained (PCA's width for the share; target:
  at most 2x).
- ``pca``: the same fit against ``PCA(n_components=--share)``: units needed, and
  test R² (one minus the squared error over the squared deviations from the
  test data's column means) beside training R².
- ``choose``: choosing the size for ``--share`` among ``--grid-sizes`` (the last
  five widths) by one rule, the smallest size whose held-out R² reaches the
  share (the mean over the 3 folds of each fold's R² on its held-out rows), by
  these routes: ``GridSearchCV`` (3-fold, then a refit at the chosen size);
  ``LatentSizeCV`` at each of ``--epoch-shares`` (1.0: the grid's own fits;
  less: shorter cross-validation fits), refit included; ``LatentSizeCV`` with
  one shuffled 10% holdout instead of the folds, at each of ``--holdout-shares``,
  whose refit continues the holdout fit (``warm_refit=True``); and one nested fit at
  the widest size with ``early_stopping=True`` (R² of each prefix on its
  validation rows, from ``nested_explained_variance_``). For each: the chosen
  size, its time over the grid's (issue 26's target: at most 0.25 on MNIST),
  each size's cross-validated error over the grid's (target: within 5%), and
  the test error of the model it returns.

Data: scikit-learn's 8x8 digits (pixels / 16, 75% / 25% split), widths up to 32;
with ``--data-home``, MNIST's 60,000 training and 10,000 test images, widths up
to 64; with ``--data shifted-digits``, 60,000 training and 10,000 test images
drawn from the digits, each shifted by up to a pixel each way and noised (a set
as large as MNIST that needs no download), widths up to 32. Each fit uses
skae's defaults otherwise (``init="pca"``, cosine schedule,
``max_epochs="auto"``), one seed. Timings are wall-clock on whatever else the
machine is doing; the ratios are measured in the same process.

Usage:
    python benchmarks/nested.py                    # digits, a minute or two
    python benchmarks/nested.py --quick            # smoke test, seconds
    python benchmarks/nested.py --data-home DIR    # MNIST, about 90 minutes on 2 cores
    python benchmarks/nested.py --data shifted-digits --parts choose   # minutes
    python benchmarks/nested.py --parts choose     # only the grid-search comparison
    python benchmarks/nested.py --help

Writes ``nested.json``, ``nested.png`` (the nested fit's curve beside PCA's) and
``choose.png`` (each route's held-out R² per size) to ``--out`` (default: a fresh
``benchmarks/output/nested-<timestamp>/``) and prints Markdown tables.
"""

import argparse
import itertools
import json
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, train_test_split

from skae import AutoencoderTransformer, LatentSizeCV

from _results import add_out_argument, environment, output_folder

# The held-out share of the one-split searches (--holdout-shares).
HOLDOUT = 0.1


# Shifted digits: rows, of which the last SHIFTED_TEST are the test set, and
# the pixel noise's standard deviation.
SHIFTED_ROWS, SHIFTED_TEST, SHIFTED_NOISE = 70_000, 10_000, 0.05


def shifted_digits(seed, n_rows=SHIFTED_ROWS):
    """Digits drawn at random, each shifted by -1, 0 or 1 pixel each way and noised.

    Examples
    --------
    >>> X = shifted_digits(0, n_rows=5)
    >>> X.shape, bool(X.min() >= 0 and X.max() <= 1)
    ((5, 64), True)
    """
    rng = np.random.default_rng(seed)
    images = load_digits().images / 16
    picked = np.pad(images[rng.integers(0, len(images), n_rows)], ((0, 0), (1, 1), (1, 1)))
    dy, dx = rng.integers(0, 3, (2, n_rows))
    rows = np.arange(8)[None, :, None] + dy[:, None, None]
    cols = np.arange(8)[None, None, :] + dx[:, None, None]
    X = picked[np.arange(n_rows)[:, None, None], rows, cols].reshape(n_rows, 64)
    return np.clip(X + SHIFTED_NOISE * rng.standard_normal(X.shape), 0, 1)


def load(args):
    """``(X_train, X_test)`` as float64 pixels in [0, 1]."""
    if args.data == "digits":
        X = load_digits().data / 16
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=args.seed)
    elif args.data == "shifted-digits":
        X = shifted_digits(args.seed)
        X_train, X_test = X[:-SHIFTED_TEST], X[-SHIFTED_TEST:]
    else:
        from skae.datasets import load_mnist

        X_train, _, X_test, _ = load_mnist(args.data_home, return_X_y=True)
    if args.quick:
        X_train, X_test = X_train[:300], X_test[:100]
    return np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)


def r2(X, X_hat):
    """Explained variance of a reconstruction, over ``X``'s own column means.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> r2(X, X), r2(X, np.ones((2, 2)) * X.mean(axis=0))
    (1.0, 0.0)
    """
    return float(1 - ((X - X_hat) ** 2).sum() / ((X - X.mean(axis=0)) ** 2).sum())


def prefix_error(est, X, m):
    """Mean squared error of reconstructing ``X`` from the first ``m`` code units."""
    Z = est.transform(X)
    Z[:, m:] = 0
    return float(((est.inverse_transform(Z) - X) ** 2).mean())


def timed_fit(est, X):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    seconds = time.perf_counter() - start
    # Progress: MNIST runs for long.
    print(
        f"  n_components={est.n_components} nested={est.nested}: "
        f"{est.n_components_} units, {seconds:.1f} s",
        flush=True,
    )
    return est, seconds


def model(args, n_components, **params):
    params = {"max_epochs": args.max_epochs, **params}
    return AutoencoderTransformer(
        n_components, device=args.device, random_state=args.seed, **params
    )


def prefixes(args, X_train, X_test):
    nested, nested_time = timed_fit(model(args, args.max_width, nested=True), X_train)
    plain, plain_time = timed_fit(model(args, args.max_width), X_train)
    records = []
    for m in args.widths:
        dedicated = plain if m == args.max_width else timed_fit(model(args, m), X_train)[0]
        records.append(
            {
                "m": m,
                "nested_mse": prefix_error(nested, X_test, m),
                "dedicated_mse": prefix_error(dedicated, X_test, m),
                "plain_prefix_mse": prefix_error(plain, X_test, m),
            }
        )
        records[-1]["ratio"] = records[-1]["nested_mse"] / records[-1]["dedicated_mse"]
    return nested, {
        "width": args.max_width,
        "nested_seconds": nested_time,
        "plain_seconds": plain_time,
        "time_ratio": nested_time / plain_time,
        "records": records,
    }


def share(args, X_train, X_test):
    chosen, chosen_time = timed_fit(model(args, args.share), X_train)
    width, widest = chosen.n_components_, chosen.nested_explained_variance_.size
    dedicated = timed_fit(model(args, width), X_train)[0]
    _, plain_time = timed_fit(model(args, widest), X_train)
    chosen_mse = float(-chosen.score(X_test))
    dedicated_mse = float(-dedicated.score(X_test))
    pca = PCA(args.share, random_state=args.seed).fit(X_train)

    def reconstruct(est, X):
        return est.inverse_transform(est.transform(X))

    return (
        chosen,
        {
            "share": args.share,
            "width": width,
            "widest": widest,
            "mse": chosen_mse,
            "dedicated_mse": dedicated_mse,
            "ratio": chosen_mse / dedicated_mse,
            "seconds": chosen_time,
            "plain_widest_seconds": plain_time,
            "time_ratio": chosen_time / plain_time,
            "curve": chosen.nested_explained_variance_.tolist(),
            "ae_test_r2": r2(X_test, reconstruct(chosen, X_test)),
            "ae_train_r2": r2(X_train, reconstruct(chosen, X_train)),
            "pca_width": int(pca.n_components_),
            "pca_test_r2": r2(X_test, reconstruct(pca, X_test)),
            "pca_train_r2": r2(X_train, reconstruct(pca, X_train)),
        },
    )


def choose(args, X_train, X_test):
    sizes, rule = args.grid_sizes, args.share
    splits = list(KFold(3).split(X_train))
    # Each split's R² over its own held-out rows, as LatentSizeCV measures it.
    spreads = np.array([X_train[test].var(axis=0).mean() for _, test in splits])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid = {"n_components": sizes}
        search = GridSearchCV(model(args, sizes[0]), grid, cv=3, refit=False).fit(X_train)
    # score is minus the mean squared error per entry.
    split_scores = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(3)])
    grid_r2 = (1 + split_scores / spreads[:, None]).mean(axis=0)
    grid_size = next((m for m, r in zip(sizes, grid_r2) if r >= rule), sizes[-1])
    grid_model, _ = timed_fit(model(args, grid_size), X_train)
    grid_seconds = time.perf_counter() - start
    grid_scores = search.cv_results_["mean_test_score"]
    routes = [
        {
            "route": "GridSearchCV, 3-fold, and refit",
            "size": grid_size,
            "seconds": grid_seconds,
            "cv_r2": grid_r2.tolist(),
            "test_mse": float(-grid_model.score(X_test)),
        }
    ]
    holdout = ShuffleSplit(n_splits=1, test_size=HOLDOUT, random_state=args.seed)
    searches = [
        # The folds, which "auto" leaves for one holdout on MNIST.
        (f"LatentSizeCV(epoch_share={share})", {"cv": 3, "epoch_share": share})
        for share in args.epoch_shares
    ] + [
        (
            f"LatentSizeCV, one {HOLDOUT:.0%} holdout, epoch_share={share}, warm_refit",
            {"cv": holdout, "epoch_share": share, "warm_refit": True},
        )
        for share in args.holdout_shares
    ]
    for name, params in searches:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cv = LatentSizeCV(model(args, sizes[0]), sizes=sizes, rule=rule, **params)
            cv.fit(X_train)
        seconds = time.perf_counter() - start
        print(f"  {name}: {seconds:.1f} s", flush=True)
        routes.append(
            {
                "route": name,
                "size": cv.best_n_components_,
                "seconds": seconds,
                "cv_r2": cv.cv_results_["mean_test_r2"].tolist(),
                "error_ratio": (cv.cv_results_["mean_test_score"] / grid_scores).tolist(),
                "test_mse": float(-cv.score(X_test)),
            }
        )
    nested, nested_seconds = timed_fit(
        model(args, sizes[-1], nested=True, early_stopping=True), X_train
    )
    curve = nested.nested_explained_variance_
    nested_size = next((m for m in sizes if curve[m - 1] >= rule), sizes[-1])
    routes.append(
        {
            "route": "one nested fit (its prefix)",
            "size": nested_size,
            "seconds": nested_seconds,
            "cv_r2": [float(curve[m - 1]) for m in sizes],
            "test_mse": prefix_error(nested, X_test, nested_size),
        }
    )
    for route in routes:
        route["time_share"] = route["seconds"] / grid_seconds
    return {"share": rule, "sizes": list(sizes), "routes": routes}


def plot(panels, path):
    """One panel per ``(title, nested fit, PCA or None)``: the fit's prefix curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import plot_nested_explained_variance

    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4), layout="constrained", squeeze=False
    )
    for ax, (title, est, pca) in zip(axes[0], panels):
        plot_nested_explained_variance(est, pca, ax=ax)
        ax.set_title(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def print_prefixes(p):
    print(f"\nPrefixes of one nested fit at {p['width']} units (test MSE):\n")
    print("| m | nested prefix | dedicated fit | ratio | plain fit's prefix |")
    print("|---|---|---|---|---|")
    for r in p["records"]:
        print(
            f"| {r['m']} | {r['nested_mse']:.4g} | {r['dedicated_mse']:.4g} | "
            f"{r['ratio']:.3f} | {r['plain_prefix_mse']:.4g} |"
        )
    print(
        f"\nFit time nested / plain at {p['width']} units: "
        f"{p['nested_seconds']:.1f} s / {p['plain_seconds']:.1f} s = {p['time_ratio']:.2f}"
    )


def print_share(s):
    print(f"\nn_components={s['share']} (test):\n")
    print("| model | units | test MSE | test R² | train R² | fit s |")
    print("|---|---|---|---|---|---|")
    print(
        f"| share | {s['width']} (of {s['widest']}) | {s['mse']:.4g} | "
        f"{s['ae_test_r2']:.4f} | {s['ae_train_r2']:.4f} | {s['seconds']:.1f} |"
    )
    print(f"| dedicated at {s['width']} | {s['width']} | {s['dedicated_mse']:.4g} | | | |")
    print(
        f"| plain at {s['widest']} | {s['widest']} | | | | {s['plain_widest_seconds']:.1f} |"
    )
    print(
        f"| PCA({s['share']}) | {s['pca_width']} | | {s['pca_test_r2']:.4f} | "
        f"{s['pca_train_r2']:.4f} | |"
    )
    print(
        f"\nshare / dedicated test MSE: {s['ratio']:.3f}; time share / plain at the widest: "
        f"{s['time_ratio']:.2f}"
    )


def choose_markdown(c):
    """The ``choose`` part's table, as Markdown."""
    lines = [
        f"Choosing the size for R² >= {c['share']} among {c['sizes']}:",
        "",
        "| route | R² per size (held out) | error / grid's | size | seconds | time / grid's "
        "| test MSE at the size |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in c["routes"]:
        r2 = " ".join(f"{x:.3f}" for x in r["cv_r2"])
        ratios = " ".join(f"{x:.3f}" for x in r.get("error_ratio", []))
        lines.append(
            f"| {r['route']} | {r2} | {ratios} | {r['size']} | {r['seconds']:.1f} | "
            f"{r['time_share']:.3f} | {r['test_mse']:.4g} |"
        )
    return "\n".join(lines)


def plot_choose(report, path):
    """Each route's held-out R² per size, and the share the rule asks for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = report["choose"]
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    for marker, r in zip(itertools.cycle("osv^DpP*"), c["routes"]):
        label = f"{r['route']}: {r['size']} units, {r['time_share']:.2f}x the grid's time"
        ax.plot(c["sizes"], r["cv_r2"], marker=marker, label=label)
    ax.axhline(c["share"], color="0.5", linestyle=":", label=f"share {c['share']}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(c["sizes"], [str(m) for m in c["sizes"]])
    ax.set_xlabel("code size")
    ax.set_ylabel("held-out R²")
    ax.set_title(f"{report['meta']['data']}, seed {report['meta']['seed']}")
    # Below the axes: the routes' names are long.
    fig.legend(loc="outside lower center", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None, help="MNIST folder (default: digits)")
    parser.add_argument(
        "--data",
        choices=["digits", "shifted-digits", "mnist"],
        default=None,
        help="default: mnist with --data-home, else digits",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--max-width", type=int, default=None, help="32 digits, 64 MNIST")
    parser.add_argument("--widths", type=int, nargs="+", default=None)
    parser.add_argument("--share", type=float, default=0.9)
    parser.add_argument("--max-epochs", default="auto")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--grid-sizes", type=int, nargs="+", default=None, help="default: the last five widths"
    )
    parser.add_argument(
        "--epoch-shares",
        type=float,
        nargs="*",
        default=[1.0, 0.5, 0.25],
        help="LatentSizeCV's epoch_share values to compare with the grid",
    )
    parser.add_argument(
        "--holdout-shares",
        type=float,
        nargs="*",
        default=[0.65],
        help="epoch_share values of LatentSizeCV with one 10%% holdout and warm_refit=True",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["prefixes", "share", "choose"],
        default=["prefixes", "share", "choose"],
        help="the measurements to run (share includes pca)",
    )
    add_out_argument(parser, "nested.json, nested.png and choose.png")
    args = parser.parse_args(argv)
    if args.data is None:
        args.data = "digits" if args.data_home is None else "mnist"
    elif args.data_home is not None and args.data != "mnist":
        parser.error(f"--data-home is MNIST's folder; --data {args.data} reads none")
    if args.max_width is None:
        args.max_width = 8 if args.quick else (64 if args.data == "mnist" else 32)
    if args.widths is None:
        args.widths = [m for m in (2, 4, 8, 16, 32, 64) if m <= args.max_width]
    if args.grid_sizes is None:
        args.grid_sizes = args.widths[-5:]
    if args.max_epochs != "auto":
        args.max_epochs = int(args.max_epochs)
    elif args.quick:
        args.max_epochs = 3
    out = output_folder(args.out, "nested")

    X_train, X_test = load(args)
    # One-time costs (torch's first kernels, thread pools) stay out of the timings.
    timed_fit(model(args, 2, max_epochs=1), X_train[:100])
    report = {
        "meta": {
            "data": args.data,
            "n_train": X_train.shape[0],
            "n_test": X_test.shape[0],
            "max_epochs": args.max_epochs,
            "seed": args.seed,
            "environment": environment(args.device, argv),
        }
    }
    panels = []
    if "prefixes" in args.parts:
        nested, report["prefixes"] = prefixes(args, X_train, X_test)
        pca = PCA(args.max_width).fit(X_train)
        panels.append((f"nested=True, {args.max_width} units", nested, pca))
    if "share" in args.parts:
        chosen, report["share"] = share(args, X_train, X_test)
        title = f"n_components={args.share}: {chosen.n_components_} units"
        panels.append((title, chosen, None))
    if "choose" in args.parts:
        report["choose"] = choose(args, X_train, X_test)
    (out / "nested.json").write_text(json.dumps(report, indent=2))
    if panels:
        plot(panels, out / "nested.png")
    if "choose" in report:
        plot_choose(report, out / "choose.png")
    for part, show in [
        ("prefixes", print_prefixes),
        ("share", print_share),
        ("choose", lambda c: print("\n" + choose_markdown(c))),
    ]:
        if part in report:
            show(report[part])
    print(f"\nnested: wrote {out}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
