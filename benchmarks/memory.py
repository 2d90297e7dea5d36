"""Peak memory of transform, inverse_transform and score_samples on 10 million rows.

An ``AutoencoderTransformer`` with the default network (one hidden layer of
100 units) is fitted on a small sample of a float32 data set of ``--rows``
rows by ``--features`` columns (10 million by 10, 400 MB, by default); then
each inference method runs once on all rows (``inverse_transform`` on the
codes that ``transform`` returned). Inference works in chunks of rows, so the
memory it needs beyond its result should stay at a few chunks' worth however
many rows there are.

For each method the script records:

- ``peak_rss_increase_mb``: the process's peak resident memory during the
  call minus its resident memory just before (Linux: the peak is reset by
  writing 5 to ``/proc/self/clear_refs`` and read from ``VmHWM`` in
  ``/proc/self/status``); everything counts, PyTorch's buffers included;
- ``output_mb``: the size of the returned array, which has to exist;
- ``overhead_mb``: the difference, the memory the call needed on top of its
  result;
- ``numpy_peak_mb``: the peak of NumPy allocations alone during the call,
  from ``tracemalloc`` (PyTorch's allocations are not traced);
- ``seconds``: wall-clock time of the call.

With ``--sparse ROWS [ROWS ...]`` the script measures sparse input instead:
for each number of rows, a fresh child process builds a float32 CSR matrix
of ``--features`` columns (5000 by default here) with ``--density`` of its
entries stored (0.2%, about 10 per row, at distinct random columns, values
uniform in [0, 1)), then runs one epoch of ``partial_fit`` and a full
``transform`` with a small model (``--n-components`` 16,
``--hidden-layer-sizes`` 64, ``--batch-size`` 1024; ``--init random`` skips
the PCA start, whose ``n_features``-squared covariance and eigendecomposition
do not depend on the rows but take minutes at 5000 features on 2 cores).
The child reports its resident memory after building the data
(``data_rss_mb``) and its peak (``VmHWM``) over both calls, beside the CSR's
size and the size the matrix would have dense in float32: the peak beyond
the data should not grow with the rows.

Usage:
    python benchmarks/memory.py                  # 10M x 10, ~30 s on one core
    python benchmarks/memory.py --rows 1000000   # quicker
    python benchmarks/memory.py --device cuda
    python benchmarks/memory.py --sparse 100000 400000 --init random
    python benchmarks/memory.py --help

Writes ``memory.json`` (``memory_sparse.json`` with ``--sparse``) to ``--out``
(default: a fresh ``benchmarks/output/<script>-<timestamp>/``;
``--out benchmarks/results`` refreshes the committed results) and
prints a Markdown table.
"""

import argparse
import gc
import json
import platform
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
import torch

import skae
from skae import AutoencoderTransformer, _training

from _results import add_out_argument, environment, output_folder

MB = 2**20


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Make VmHWM equal the current resident size; False where Linux won't."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def make_data(n_rows, n_features, seed, chunk=1_000_000):
    """Rank-2 float32 data plus noise, written chunk by chunk (no float64 copy)."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(2, n_features))
    X = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, chunk):
        rows = min(chunk, n_rows - start)
        latent = rng.normal(size=(rows, 2))
        X[start : start + rows] = latent @ mixing + 0.1 * rng.normal(size=(rows, n_features))
    return X


def measure(call):
    """Run ``call()`` and return its result and memory figures."""
    gc.collect()
    exact = _reset_peak()
    before_kb = _status_kb("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - start
    _, numpy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_kb = _status_kb("VmHWM")
    increase = (peak_kb - before_kb) / 1024
    record = {
        "peak_rss_increase_mb": round(increase, 1),
        "output_mb": round(out.nbytes / MB, 1),
        "overhead_mb": round(increase - out.nbytes / MB, 1),
        "numpy_peak_mb": round(numpy_peak / MB, 1),
        "seconds": round(seconds, 2),
        "peak_is_exact": exact,
    }
    return out, record


def run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    X = make_data(args.rows, args.features, args.seed)
    est = AutoencoderTransformer(
        n_components=args.n_components,
        max_epochs=args.epochs,
        device=args.device,
        random_state=args.seed,
    ).fit(X[: args.fit_rows])

    records = {}
    code, records["transform"] = measure(lambda: est.transform(X))
    back, records["inverse_transform"] = measure(lambda: est.inverse_transform(code))
    del back
    scores, records["score_samples"] = measure(lambda: est.score_samples(X))
    del scores
    return {
        "rows": args.rows,
        "features": args.features,
        "n_components": args.n_components,
        "input_mb": round(X.nbytes / MB, 1),
        "code_mb": round(code.nbytes / MB, 1),
        "fit_rows": args.fit_rows,
        "inference_rows_per_chunk": _training.inference_rows(est.module_),
        "device": str(est.device_),
        "torch_threads": torch.get_num_threads(),
        "skae": skae.__version__,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "methods": records,
    }


def table(report):
    lines = [
        f"{report['rows']:,} rows x {report['features']} float32 features "
        f"({report['input_mb']} MB), n_components={report['n_components']}, "
        f"device {report['device']}, "
        f"{report['inference_rows_per_chunk']:,} rows per chunk",
        "",
        "| method | peak RSS increase (MB) | output (MB) | overhead (MB) "
        "| NumPy peak (MB) | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["methods"].items():
        lines.append(
            f"| {name} | {r['peak_rss_increase_mb']} | {r['output_mb']} | "
            f"{r['overhead_mb']} | {r['numpy_peak_mb']} | {r['seconds']} |"
        )
    return "\n".join(lines)


def make_sparse(n_rows, n_features, density, seed, chunk=100_000):
    """A float32 CSR matrix with ``density * n_features`` entries per row.

    Each row's columns are distinct and sorted (a sorted draw with
    replacement plus 0, 1, 2, ...), so the matrix is canonical.
    """
    rng = np.random.default_rng(seed)
    per_row = max(1, round(density * n_features))
    indices = np.empty((n_rows, per_row), dtype=np.int32)
    for start in range(0, n_rows, chunk):
        rows = min(chunk, n_rows - start)
        draw = np.sort(rng.integers(0, n_features - per_row + 1, (rows, per_row)), axis=1)
        indices[start : start + rows] = draw + np.arange(per_row)
    data = rng.random(n_rows * per_row, dtype=np.float32)
    indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int32)
    return sp.csr_matrix((data, indices.ravel(), indptr), shape=(n_rows, n_features))


def sparse_child(spec):
    """In a fresh process: build the CSR data, one epoch of partial_fit, transform."""
    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    X = make_sparse(spec["rows"], spec["features"], spec["density"], spec["seed"])
    gc.collect()
    data_kb = _status_kb("VmRSS")
    est = AutoencoderTransformer(
        n_components=spec["n_components"],
        hidden_layer_sizes=tuple(spec["hidden_layer_sizes"]),
        batch_size=spec["batch_size"],
        init=spec["init"],
        device=spec["device"],
        random_state=spec["seed"],
    )
    start = time.perf_counter()
    est.partial_fit(X)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    code = est.transform(X)
    transform_seconds = time.perf_counter() - start
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return {
        "rows": spec["rows"],
        "stored_values": int(X.nnz),
        "csr_mb": round(csr_bytes / MB, 1),
        "dense_float32_mb": round(4 * X.shape[0] * X.shape[1] / MB, 1),
        "code_mb": round(code.nbytes / MB, 1),
        "data_rss_mb": round(data_kb / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
        "partial_fit_seconds": round(fit_seconds, 1),
        "transform_seconds": round(transform_seconds, 1),
        "loss": est.loss_curve_[-1],
    }


def run_sparse(args):
    spec = {
        "features": args.features,
        "density": args.density,
        "n_components": args.n_components,
        "hidden_layer_sizes": args.hidden_layer_sizes,
        "batch_size": args.batch_size,
        "init": args.init,
        "device": args.device,
        "threads": args.threads,
        "seed": args.seed,
    }
    runs = []
    for n_rows in args.sparse:
        child = subprocess.run(
            [sys.executable, __file__, "--sparse-child", json.dumps({**spec, "rows": n_rows})],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(child.stdout.splitlines()[-1]))
    return {**spec, "skae": skae.__version__, "torch": torch.__version__, "runs": runs}


def sparse_table(report):
    lines = [
        f"Sparse float32 CSR input, {report['features']} features, density "
        f"{report['density']}: one epoch of partial_fit and a full transform in a "
        f"fresh process; n_components={report['n_components']}, hidden_layer_sizes="
        f"{tuple(report['hidden_layer_sizes'])}, batch_size={report['batch_size']}, "
        f"init={report['init']!r}",
        "",
        "| rows | CSR (MB) | dense float32 (MB) | RSS with the data (MB) | peak RSS (MB) "
        "| peak beyond the data (MB) | partial_fit (s) | transform (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['rows']:,} | {r['csr_mb']} | {r['dense_float32_mb']:,} | "
            f"{r['data_rss_mb']} | {r['peak_rss_mb']} | "
            f"{round(r['peak_rss_mb'] - r['data_rss_mb'], 1)} | "
            f"{r['partial_fit_seconds']} | {r['transform_seconds']} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--features", type=int, default=None, help="10 (dense) or 5000 (--sparse)"
    )
    parser.add_argument(
        "--n-components", type=int, default=None, help="2 (dense) or 16 (--sparse)"
    )
    parser.add_argument(
        "--sparse",
        type=int,
        nargs="+",
        default=None,
        metavar="ROWS",
        help="measure sparse CSR input at each of these numbers of rows instead",
    )
    parser.add_argument("--density", type=float, default=0.002)
    parser.add_argument("--hidden-layer-sizes", type=int, nargs="*", default=[64])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--init", choices=["pca", "random"], default="pca")
    parser.add_argument(
        "--fit-rows",
        type=int,
        default=10_000,
        help="rows of the sample the model is fitted on",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's own choice)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "memory.json")
    parser.add_argument("--sparse-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.features is None:
        args.features = 10 if args.sparse is None else 5000
    if args.n_components is None:
        args.n_components = 2 if args.sparse is None else 16
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.sparse_child:
        print(json.dumps(sparse_child(json.loads(args.sparse_child))))
        return
    out = output_folder(args.out, "memory")
    if args.sparse:
        report, name, show = run_sparse(args), "memory_sparse.json", sparse_table
    else:
        report, name, show = run(args), "memory.json", table
    report["environment"] = environment(args.device, argv)
    path = out / name
    path.write_text(json.dumps(report, indent=2))
    print(show(report))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
