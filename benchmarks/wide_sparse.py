"""Fit time and memory on wide sparse data, beside TruncatedSVD.

Sparse input is there for text (TF-IDF) and one-hot data: wide, with tens of
thousands of columns. For each case (rows x columns at a density, a code
width) a fresh child process builds a float32 CSR matrix (``make_sparse`` of
``benchmarks/memory.py``: about ``density * columns`` stored values per row,
at distinct random columns, uniform in [0, 1)), then measures, in order:

- ``fit_seconds``: ``AutoencoderTransformer(n_components, max_epochs=1)``
  with every other parameter at its default (``init="pca"``), split into its
  phases: ``before_first_epoch_seconds`` (validation, scaling, the network
  and its PCA start), ``epoch_seconds`` and ``after_last_epoch_seconds``;
- ``peak_beyond_data_mb``: the child's peak resident memory during that fit
  (``VmHWM``, reset before it) minus its resident memory with the data built;
- ``pca_start_seconds``: the PCA start alone, on the same scaled rows;
- ``truncated_svd_seconds``: ``TruncatedSVD(n_components, random_state=0)``
  on the same matrix, the baseline of issue 27.

Targets (issue 27, 2 cores): 20,000 x 100,000 at 0.1% with 32 units fitted in
at most 60 s with at most 4 GB beyond the data (stretch: the time before the
first epoch at most 3x TruncatedSVD's); 5000 x 10,000 at 0.2% with 16 units
in at most 10 s.

Usage:
    python benchmarks/wide_sparse.py            # the four cases, ~5 min on 2 cores
    python benchmarks/wide_sparse.py --cases 5000x10000:0.002:16
    python benchmarks/wide_sparse.py --help

Writes ``wide_sparse.json`` to ``--out`` (default: a fresh
``benchmarks/output/<script>-<timestamp>/``; ``--out benchmarks/results``
refreshes the committed results) and prints a Markdown table.
"""

import argparse
import json
import subprocess
import sys
import time

import torch
from memory import MB, _reset_peak, _status_kb, make_sparse
from sklearn.decomposition import TruncatedSVD

from skae import AutoencoderTransformer, _training
from skae._base import _moments
from skae._principal_components import principal_components

from _results import add_out_argument, environment, output_folder

# rows x columns : density : code width; the first two are issue 27's table,
# the third its init="pca" against "random" case, the last its target.
CASES = [
    "5000x2000:0.002:16",
    "5000x10000:0.002:16",
    "100x5000:0.002:2",
    "20000x100000:0.001:32",
]


def parse_case(case):
    """``"ROWSxCOLUMNS:DENSITY:UNITS"`` as a dict."""
    shape, density, units = case.split(":")
    rows, columns = shape.split("x")
    return {
        "rows": int(rows),
        "columns": int(columns),
        "density": float(density),
        "n_components": int(units),
    }


def timed_phases(fit):
    """Run ``fit()``; return its time split at the first and last epoch's ends."""
    epochs = []
    run_epoch = _training.run_epoch

    def timed_epoch(*args, **kwargs):
        start = time.perf_counter()
        loss = run_epoch(*args, **kwargs)
        epochs.append((start, time.perf_counter()))
        return loss

    _training.run_epoch = timed_epoch
    try:
        start = time.perf_counter()
        fit()
        end = time.perf_counter()
    finally:
        _training.run_epoch = run_epoch
    return {
        "fit_seconds": end - start,
        "before_first_epoch_seconds": epochs[0][0] - start,
        "epoch_seconds": sum(b - a for a, b in epochs) / len(epochs),
        "after_last_epoch_seconds": end - epochs[-1][1],
    }


def child(spec):
    """In a fresh process: the data, the fit and its peak memory, the baselines."""
    X = make_sparse(spec["rows"], spec["columns"], spec["density"], spec["seed"])
    data_kb = _status_kb("VmRSS")
    _reset_peak()
    est = AutoencoderTransformer(
        n_components=spec["n_components"],
        max_epochs=1,
        device="cpu",
        random_state=spec["seed"],
    )
    phases = timed_phases(lambda: est.fit(X))
    peak_kb = _status_kb("VmHWM")
    mean, scale = _moments(X)
    rows = _training.training_data(X, mean, scale, torch.device("cpu"))
    start = time.perf_counter()
    principal_components(rows, spec["n_components"])
    pca_seconds = time.perf_counter() - start
    start = time.perf_counter()
    TruncatedSVD(spec["n_components"], random_state=0).fit(X)
    svd_seconds = time.perf_counter() - start
    return {
        **spec,
        "stored_values": int(X.nnz),
        "hidden_layer_sizes": list(est.hidden_layer_sizes_),
        "precision": est.precision_,
        **{key: round(value, 2) for key, value in phases.items()},
        "peak_beyond_data_mb": round((peak_kb - data_kb) * 1024 / MB),
        "pca_start_seconds": round(pca_seconds, 2),
        "truncated_svd_seconds": round(svd_seconds, 2),
    }


def table(report):
    lines = [
        "| rows x columns | density | units | fit (s) | before the epoch (s) | epoch (s) "
        "| PCA start alone (s) | TruncatedSVD (s) | peak beyond the data (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['rows']:,} x {r['columns']:,} | {r['density']} | {r['n_components']} "
            f"| {r['fit_seconds']} | {r['before_first_epoch_seconds']} "
            f"| {r['epoch_seconds']} | {r['pca_start_seconds']} "
            f"| {r['truncated_svd_seconds']} | {r['peak_beyond_data_mb']:,} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases",
        nargs="+",
        default=CASES,
        metavar="ROWSxCOLUMNS:DENSITY:UNITS",
        help=f"the cases to run (default: {' '.join(CASES)})",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "wide_sparse.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    out = output_folder(args.out, "wide_sparse")
    runs = []
    for case in args.cases:
        spec = {**parse_case(case), "seed": args.seed}
        result = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(result.stdout.splitlines()[-1]))
        print(f"{case}: fit {runs[-1]['fit_seconds']} s", flush=True)
    report = {"runs": runs, "environment": environment("cpu", argv)}
    path = out / "wide_sparse.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
