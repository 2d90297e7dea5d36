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

Usage:
    python benchmarks/memory.py                  # 10M x 10, ~30 s on one core
    python benchmarks/memory.py --rows 1000000   # quicker
    python benchmarks/memory.py --device cuda
    python benchmarks/memory.py --help

Writes ``memory.json`` to ``--out`` (default: a fresh
``benchmarks/output/<script>-<timestamp>/``; ``--out benchmarks/results``
refreshes the committed results) and
prints a Markdown table.
"""

import argparse
import gc
import json
import platform
import time
import tracemalloc

import numpy as np
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
        X[start : start + rows] = latent @ mixing + 0.1 * rng.normal(
            size=(rows, n_features)
        )
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--n-components", type=int, default=2)
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
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "memory")
    report = run(args)
    report["environment"] = environment(report["device"], argv)
    path = out / "memory.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
