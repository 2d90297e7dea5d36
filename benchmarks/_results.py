"""Where a benchmark writes, and the machine its results come from.

Every script in ``benchmarks/`` writes to a fresh folder
``benchmarks/output/<script>-<timestamp>/`` (git-ignored) unless ``--out``
names one; the committed results change only with ``--out benchmarks/results``
(or one of its subfolders).
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

import sklearn
import torch

import skae
from skae._training import resolve_device

OUTPUT = Path(__file__).resolve().parent / "output"


def add_out_argument(parser, what):
    """Add ``--out`` (default: a fresh folder) to ``parser``; ``what`` it holds."""
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for {what} (default: a fresh benchmarks/output/<script>-"
        "<timestamp>/; --out benchmarks/results refreshes the committed results)",
    )


def output_folder(out, script):
    """Create and announce the folder to write to: ``out``, or a fresh one."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out, n = OUTPUT / f"{script}-{stamp}", 1
        while out.exists():
            n += 1
            out = OUTPUT / f"{script}-{stamp}-{n}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"{script}: writing to {out}", flush=True)
    return out


def environment(device, argv):
    """The machine and software a result comes from, and the command that made it."""
    device = resolve_device(device)
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda" else None),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skae": skae.__version__,
        "argv": sys.argv[1:] if argv is None else list(argv),
    }


def write_report(out, script, report, plot, markdown):
    """Write ``<script>.json`` and ``<script>.png`` to ``out``; print the table."""
    path = out / f"{script}.json"
    path.write_text(json.dumps(report, indent=2))
    plot(report, out / f"{script}.png")
    print(markdown(report))
    print(f"\nwrote {path}")
