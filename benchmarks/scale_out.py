"""Scaling out: a hyper-parameter search on Dask, and training streamed from disk.

Two measurements, each optional (``--parts``):

``search``
    Wall time of a 12-candidate ``GridSearchCV`` of ``AutoencoderTransformer``
    on scikit-learn's ``load_digits`` (``n_components`` 2, 4, 8, 16 times
    ``hidden_layer_sizes`` (32,), (64,), (128,); ``cv=3``, ``random_state=0``)
    run three ways: ``n_jobs=1``, loky with ``n_jobs=2``, and joblib's Dask
    backend on a ``distributed.LocalCluster`` of 2 single-threaded worker
    processes (needs ``pip install -e ".[dask]"``). The workers of both
    parallel runs are started and have imported skae before the timer starts;
    the cluster's start-up time is recorded apart. Each run also records its
    best parameters and the largest difference of its mean test scores from
    the ``n_jobs=1`` run (torch's thread count changes the rounding, see the
    user guide's "Scaling out").

``stream``
    Peak memory of training on a float32 file that is read in chunks of
    rows, at each of ``--rows`` (default 1.375 and 11 million rows of 100
    features: 0.55 GB and 4.4 GB on disk). The file is written under
    ``--tmp-dir`` and deleted afterwards. A fresh child process maps each chunk
    of ``--chunk-rows`` rows on its own and calls ``partial_fit`` on it (one
    pass over the file), then reports its peak resident memory (``ru_maxrss``:
    everything, PyTorch and the mapped file pages included), the resident
    memory it started from (after ``import skae``), and its time. With
    ``--mappings whole`` the child maps the whole file once and slices it
    instead: the file's pages then stay resident as they are read, so that
    peak grows with the file (the pages can be dropped by the kernel, but
    they count).

Usage:
    python benchmarks/scale_out.py                      # both parts, ~15 min on 2 cores
    python benchmarks/scale_out.py --parts search
    python benchmarks/scale_out.py --parts stream --rows 100000 1000000
    python benchmarks/scale_out.py --parts stream --mappings chunk whole --tmp-dir DIR
    python benchmarks/scale_out.py --help

Writes ``scale_out.json`` to ``--out`` (default: a fresh
``benchmarks/output/scale_out-<timestamp>/``, git-ignored), prints a Markdown
table and the path of the JSON.
"""

import argparse
import importlib
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skae
from skae import AutoencoderTransformer

from _results import add_out_argument, output_folder

MB = 2**20
GRID = {"n_components": [2, 4, 8, 16], "hidden_layer_sizes": [(32,), (64,), (128,)]}
# The streamed model: small, so that one pass over 4.4 GB takes minutes on a CPU.
STREAM_PARAMS = dict(
    n_components=4, hidden_layer_sizes=(16,), batch_size=8192, device="cpu", random_state=0
)


def _search(X, args, **backend):
    est = AutoencoderTransformer(max_epochs=args.max_epochs, device="cpu", random_state=0)
    start = time.perf_counter()
    if backend:
        with joblib.parallel_backend(**backend):
            search = GridSearchCV(est, GRID, cv=3).fit(X)
    else:
        search = GridSearchCV(est, GRID, cv=3, n_jobs=1).fit(X)
    return time.perf_counter() - start, search


def _record(seconds, search, serial=None):
    scores = search.cv_results_["mean_test_score"]
    record = {
        "seconds": round(seconds, 2),
        "best_params": {
            k: list(v) if isinstance(v, tuple) else v for k, v in search.best_params_.items()
        },
        "best_score": float(search.best_score_),
    }
    if serial is not None:
        reference = serial.cv_results_["mean_test_score"]
        record["max_score_difference"] = float(np.max(np.abs(scores - reference)))
        record["same_best_params"] = search.best_params_ == serial.best_params_
    return record


def run_search(args):
    from distributed import Client, LocalCluster  # the dask extra

    X = load_digits().data
    runs = {}
    seconds, serial = _search(X, args)
    runs["n_jobs=1"] = _record(seconds, serial)

    # Start loky's two workers and import skae in them before timing.
    joblib.Parallel(n_jobs=2)(
        joblib.delayed(importlib.import_module)("skae") for _ in range(2)
    )
    seconds, search = _search(X, args, backend="loky", n_jobs=2)
    runs["loky n_jobs=2"] = _record(seconds, search, serial)

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(importlib.import_module, "skae")
        startup = time.perf_counter() - start
        seconds, search = _search(X, args, backend="dask")
        worker_threads = sorted(set(client.run(torch.get_num_threads).values()))
    runs["dask LocalCluster 2x1"] = {
        **_record(seconds, search, serial),
        "cluster_startup_seconds": round(startup, 2),
        "worker_torch_threads": worker_threads,
    }
    return {
        "data": "load_digits (1797 x 64)",
        "candidates": len(serial.cv_results_["params"]),
        "cv": 3,
        "max_epochs": args.max_epochs,
        "torch_threads_n_jobs_1": torch.get_num_threads(),
        "runs": runs,
    }


def write_data(path, n_rows, n_features, seed=0, chunk=250_000):
    """Rank-8 float32 data plus noise: one random chunk of rows, written over and over.

    Drawing every row would cost more CPU than the training it feeds; the
    memory that streaming needs does not depend on the rows being distinct.
    """
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((chunk, 8), dtype=np.float32)
    noise = rng.standard_normal((chunk, n_features), dtype=np.float32)
    block = latent @ rng.standard_normal((8, n_features), dtype=np.float32) + 0.1 * noise
    with open(path, "wb") as file:
        for start in range(0, n_rows, chunk):
            block[: min(chunk, n_rows - start)].tofile(file)


def memmap_chunks(path, n_features, rows, whole=False):
    """The rows of a float32 file in chunks: each mapped on its own, or slices of one map."""
    row_bytes = 4 * n_features
    n_rows = os.path.getsize(path) // row_bytes
    mapped = np.memmap(path, np.float32, "r", shape=(n_rows, n_features)) if whole else None
    for start in range(0, n_rows, rows):
        stop = min(start + rows, n_rows)
        if whole:
            yield mapped[start:stop]
        else:
            yield np.memmap(
                path,
                np.float32,
                "r",
                offset=start * row_bytes,
                shape=(stop - start, n_features),
            )


def _rss_mb(field="VmRSS"):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def stream_child(spec):
    """Run in a fresh process: one pass of partial_fit over the file's chunks."""
    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    warnings.simplefilter("ignore", ConvergenceWarning)
    start_rss = _rss_mb()
    est = AutoencoderTransformer(**STREAM_PARAMS)
    start = time.perf_counter()
    chunks = memmap_chunks(
        spec["path"], spec["features"], spec["chunk_rows"], spec["mapping"] == "whole"
    )
    for chunk in chunks:
        est.partial_fit(chunk)
    seconds = time.perf_counter() - start
    return {
        "start_rss_mb": round(start_rss, 1),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(seconds, 1),
        "rows_per_second": round(spec["rows"] / seconds),
        "partial_fit_calls": est.n_iter_,
        "last_chunk_loss": est.loss_curve_[-1],
        "torch_threads": torch.get_num_threads(),
    }


def run_stream(args):
    records = []
    for n_rows in args.rows:
        path = Path(args.tmp_dir) / f"skae-scale_out-{os.getpid()}-{n_rows}.f32"
        try:
            write_data(path, n_rows, args.features)
            for mapping in args.mappings:
                spec = dict(
                    path=str(path),
                    rows=n_rows,
                    features=args.features,
                    chunk_rows=args.chunk_rows,
                    mapping=mapping,
                    threads=args.threads,
                )
                child = subprocess.run(
                    [sys.executable, __file__, "--stream-child", json.dumps(spec)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                result = json.loads(child.stdout.splitlines()[-1])
                records.append(
                    {
                        "rows": n_rows,
                        "features": args.features,
                        "file_gb": round(path.stat().st_size / 1e9, 2),
                        "chunk_rows": args.chunk_rows,
                        "chunk_mb": round(4 * args.chunk_rows * args.features / MB, 1),
                        "mapping": mapping,
                        **result,
                    }
                )
        finally:
            path.unlink(missing_ok=True)
    return {"model": {**STREAM_PARAMS}, "runs": records}


def table(report):
    lines = []
    if "search" in report:
        search = report["search"]
        lines += [
            f"GridSearchCV, {search['candidates']} candidates x cv={search['cv']} on "
            f"{search['data']}, max_epochs={search['max_epochs']}",
            "",
            "| run | seconds | best params | max score difference from n_jobs=1 |",
            "|---|---:|---|---:|",
        ]
        for name, run in search["runs"].items():
            lines.append(
                f"| {name} | {run['seconds']} | {run['best_params']} | "
                f"{run.get('max_score_difference', '')} |"
            )
        lines.append("")
    if "stream" in report:
        lines += [
            "partial_fit over the chunks of a float32 file, one pass, in a fresh process",
            "",
            "| rows | file (GB) | mapping | chunk (MB) | start RSS (MB) | peak RSS (MB) "
            "| seconds |",
            "|---:|---:|---|---:|---:|---:|---:|",
        ]
        for run in report["stream"]["runs"]:
            lines.append(
                f"| {run['rows']:,} | {run['file_gb']} | {run['mapping']} | "
                f"{run['chunk_mb']} | {run['start_rss_mb']} | {run['peak_rss_mb']} | "
                f"{run['seconds']} |"
            )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--parts", nargs="+", choices=["search", "stream"], default=["search", "stream"]
    )
    parser.add_argument(
        "--max-epochs", type=int, default=100, help="max_epochs of the searched estimator"
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_375_000, 11_000_000])
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--mappings", nargs="+", choices=["chunk", "whole"], default=["chunk"])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads of the streaming child (default: torch's)",
    )
    parser.add_argument(
        "--tmp-dir",
        default=tempfile.gettempdir(),
        help="folder for the data files, deleted after use",
    )
    add_out_argument(parser, "scale_out.json")
    parser.add_argument("--stream-child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.stream_child:
        print(json.dumps(stream_child(json.loads(args.stream_child))))
        return
    warnings.simplefilter("ignore", ConvergenceWarning)
    report = {
        "skae": skae.__version__,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    out = output_folder(args.out, "scale_out")
    path = out / "scale_out.json"
    for part, run in (("search", run_search), ("stream", run_stream)):
        if part in args.parts:
            report[part] = run(args)
            path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    # A stop signal unwinds like an exception, so the data files are deleted.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    main()
