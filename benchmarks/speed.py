"""Training and transform speed of skae against hand-written PyTorch loops and skorch.

Every contender trains the same network (built by
``skae._network.build_autoencoder``), with Adam at learning rate 1e-3, the same
batch size and shuffled batches, in one process one after the other:

- ``skae``: ``AutoencoderTransformer.fit`` in float32, timed by a callback at
  each epoch end;
- ``bf16``: the same with ``precision="bfloat16"`` (bf16 autocast), run only
  where the device multiplies bfloat16 natively (``skae._training.native_bf16``);
  elsewhere its products are emulated, a fit takes many minutes, and it is
  reported as skipped;
- ``cae``: ``ContractiveAutoencoder.fit`` on the same network in float32, timed
  the same way (with ``jacobian="auto"``: the random projection at 30 code
  units); its time against ``skae``'s is the cost of the contraction penalty;
- ``dataloader``: the classic hand-written loop, ``TensorDataset`` +
  ``DataLoader(shuffle=True)``, zero_grad / forward / MSE / backward / step, and
  the running loss read with ``loss.item()`` as such loops do;
- ``slicing``: one tensor on the device, ``torch.randperm`` per epoch and index
  slices, the same step;
- ``skorch``: ``NeuralNetRegressor`` with ``train_split=None`` and shuffled
  batches (skipped with a note when skorch is not installed).

skae steps with torch's fused Adam kernel; the baselines use torch's default
Adam kernel, which is what a hand-written loop gets, unless
``--fused-baselines`` gives them the fused one too (the same arithmetic,
isolating the overhead of the loops). The baselines get the data already
centred and scaled as skae scales it internally; scaling changes no speed. An
epoch's time is the time between two
consecutive epoch ends, so the first (warm-up) epoch, which also carries skae's
setup, is left out and the median of the others is reported. Transform speed
compares ``skae.transform`` (from a NumPy array, validation and scaling
included) with a plain batched ``module.encode`` of the scaled tensor under
``torch.inference_mode``.

Workloads:

- ``mnist``: 784 features, the 784-1000-500-250-30 architecture, batch 64 on
  the CPU and 256 on CUDA; synthetic pixels in [0, 1] unless ``--data-home``
  points at the MNIST files. Per-epoch times scale with the number of rows,
  their ratios do not, so the CPU default uses 10000 rows.
- ``tabular``: rank-1 multiples, 1000 rows by 10 columns (column j is x * (j+1)),
  batch 100, skae's default network (one hidden layer of 100, 2 code units).

On the CPU the script checks the speed targets (skae's epoch at most 1.1x the
slicing loop and no slower than the DataLoader loop; skorch at least 1.0x
(mnist) and 1.5x (tabular) slower than skae; the contractive autoencoder's
epoch at most 2x skae's on mnist; the bf16 epoch at most 0.55x the float32
one on mnist) and records them in the JSON. It also measures the rate of
256x784 @ 784x512 products in float32, and in bfloat16 where it is native,
beside which the contenders' achieved TFLOP/s can be read.
With ``--peak-tflops`` it also reports each contender's share of the
device's peak, from the FLOPs of an epoch (6 * in * out per sample and linear
layer, forward and backward); float32 matmuls on CUDA do not use TF32 by
default, so the FP32 peak applies (about 67 TFLOP/s on an H100 or H200 SXM).

On a machine shared with other work, ``--threads 1`` gives steadier figures:
oversubscribed threads slow random epochs by up to 10x.

Usage:
    python benchmarks/speed.py                        # CPU, a few minutes
    python benchmarks/speed.py --data-home DIR        # real MNIST rows
    python benchmarks/speed.py --threads 1 --fused-baselines
    python benchmarks/speed.py --device cuda --peak-tflops 67
    python benchmarks/speed.py --workloads tabular --tabular-epochs 100
    python benchmarks/speed.py --help

Writes ``speed.json`` to ``--out`` (default: a fresh
``benchmarks/output/<script>-<timestamp>/``; ``--out benchmarks/results``
refreshes the committed results) and prints
Markdown tables.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import skae
from skae import AutoencoderTransformer, ContractiveAutoencoder
from skae._network import TiedLinear, build_autoencoder
from skae._training import clock, inference_rows, native_bf16, resolve_device

from _results import add_out_argument, environment, output_folder

LEARNING_RATE = 1e-3
CONTENDERS = ("skae", "bf16", "cae", "dataloader", "slicing", "skorch")

# (workload, numerator, denominator, bound, kind): the CPU speed targets.
# "at_most" asks numerator / denominator <= bound, "at_least" asks >= bound.
TARGETS = (
    ("mnist", "skae", "slicing", 1.1, "at_most"),
    ("mnist", "skae", "dataloader", 1.0, "at_most"),
    ("mnist", "skorch", "skae", 1.0, "at_least"),
    ("tabular", "skae", "dataloader", 1.0, "at_most"),
    ("tabular", "skorch", "skae", 1.5, "at_least"),
    ("mnist", "cae", "skae", 2.0, "at_most"),
    ("mnist", "bf16", "skae", 0.55, "at_most"),
)


class Reconstruction(nn.Module):
    """The autoencoder's reconstruction before its output activation, as one tensor.

    skae's module returns ``(code, raw)``; the baselines and skorch need a
    module whose output is the prediction.
    """

    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, x):
        return self.autoencoder(x)[1]


def flops_per_sample(module):
    """Training FLOPs of one sample: 6 * in * out per linear layer (forward + backward).

    Examples
    --------
    >>> from torch import nn
    >>> flops_per_sample(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)))
    108
    """
    macs = 0
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            macs += layer.weight.numel()
        elif isinstance(layer, TiedLinear):
            macs += layer.source.weight.numel()
    return 6 * macs


def scaled(X):
    """``X`` centred and divided by one global scale, as skae does inside ``fit``."""
    centred = X - X.mean(axis=0)
    return torch.from_numpy(np.ascontiguousarray(centred / np.sqrt((centred**2).mean())))


def build_module(spec, device, seed):
    module = build_autoencoder(
        spec["n_features"],
        spec["n_components"],
        generator=torch.Generator().manual_seed(seed),
        hidden_layer_sizes=spec["hidden_layer_sizes"],
        activation="relu",
    )
    return module.to(device)


def product_gflops(device, dtype, repeats=20):
    """GFLOP/s of 256x784 @ 784x512 products in ``dtype``, the best of a few rounds."""
    a = torch.randn(256, 784, device=device, dtype=dtype)
    b = torch.randn(784, 512, device=device, dtype=dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(3):
        start = clock(device)
        for _ in range(repeats):
            a @ b
        best = min(best, clock(device) - start)
    return 2 * 256 * 784 * 512 * repeats / best / 1e9


def product_rates(device):
    """Product GFLOP/s per dtype; bfloat16 only where it is native (else None)."""
    native = native_bf16(device)
    return {
        "float32": product_gflops(device, torch.float32),
        "bfloat16": product_gflops(device, torch.bfloat16) if native else None,
        "native_bf16": native,
    }


def run_skae(X, spec, device, seed, Estimator=AutoencoderTransformer, precision="float32"):
    """Fit skae; returns the start time, the epoch-end times and the estimator."""
    stamps = []
    epochs = spec["epochs"]
    est = Estimator(
        n_components=spec["n_components"],
        hidden_layer_sizes=spec["hidden_layer_sizes"],
        activation="relu",
        init="random",
        batch_size=spec["batch_size"],
        max_epochs=epochs,
        # Never stop early: every contender runs the same number of epochs.
        tol=0.0,
        n_iter_no_change=epochs + 1,
        device=str(device),
        precision=precision,
        random_state=seed,
        callbacks=[lambda est: stamps.append(clock(device))],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = clock(device)
        est.fit(X)
    return start, stamps, est


def adam_options(spec):
    """Keyword arguments of the baselines' Adam besides the learning rate."""
    return {"fused": True} if spec["baseline_adam"] == "fused" else {}


def run_dataloader(Xs, spec, device, seed):
    """The classic loop: host data through a shuffling DataLoader, batch by batch."""
    net = Reconstruction(build_module(spec, device, seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, **adam_options(spec))
    loader = DataLoader(
        TensorDataset(Xs),
        batch_size=spec["batch_size"],
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    net.train()
    stamps = []
    start = clock(device)
    for _ in range(spec["epochs"]):
        running = 0.0
        for (batch,) in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            loss = F.mse_loss(net(batch), batch)
            loss.backward()
            optimizer.step()
            # Such loops read each loss back to report it: a host sync per step.
            running += loss.item() * batch.shape[0]
        stamps.append(clock(device))
    return start, stamps


def run_slicing(Xs, spec, device, seed):
    """One tensor on the device, a random permutation per epoch, index slices."""
    net = Reconstruction(build_module(spec, device, seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, **adam_options(spec))
    X = Xs.to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    batch_size = spec["batch_size"]
    net.train()
    stamps = []
    start = clock(device)
    for _ in range(spec["epochs"]):
        order = torch.randperm(X.shape[0], generator=generator, device=device)
        for first in range(0, X.shape[0], batch_size):
            batch = X[order[first : first + batch_size]]
            optimizer.zero_grad(set_to_none=True)
            loss = F.mse_loss(net(batch), batch)
            loss.backward()
            optimizer.step()
        stamps.append(clock(device))
    return start, stamps


def run_skorch(Xs, spec, device, seed):
    """skorch's ``NeuralNetRegressor`` on the NumPy array, as its users call it."""
    from skorch import NeuralNetRegressor
    from skorch.callbacks import Callback

    stamps = []

    class EpochEnd(Callback):
        def on_epoch_end(self, net, **kwargs):
            stamps.append(clock(device))

    torch.manual_seed(seed)  # skorch's shuffling draws from the global generator
    net = NeuralNetRegressor(
        Reconstruction(build_module(spec, device, seed)),
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=LEARNING_RATE,
        batch_size=spec["batch_size"],
        max_epochs=spec["epochs"],
        train_split=None,
        iterator_train__shuffle=True,
        callbacks=[EpochEnd()],
        device=str(device),
        verbose=0,
        **{f"optimizer__{k}": v for k, v in adam_options(spec).items()},
    )
    X = Xs.numpy()
    start = clock(device)
    net.fit(X, X)
    return start, stamps


def skorch_version():
    try:
        import skorch
    except ImportError:
        return None
    return skorch.__version__


def epoch_times(start, stamps):
    """Seconds of each epoch after the first (warm-up) one."""
    ends = [start, *stamps]
    return [b - a for a, b in zip(ends[1:-1], ends[2:])]


def time_transform(est, X, Xs, device, repeats):
    """Median seconds of ``est.transform(X)`` and of a plain batched encode of ``Xs``."""
    module = est.module_
    module.eval()
    rows = inference_rows(module)
    X_device = Xs.to(device)

    def plain():
        with torch.inference_mode():
            chunks = [
                module.encode(X_device[first : first + rows])
                for first in range(0, X_device.shape[0], rows)
            ]
            return torch.cat(chunks).cpu().numpy()

    timings = {"skae": [], "baseline": []}
    # The first round warms caches and allocators and is not timed.
    for repeat in range(repeats + 1):
        for name, fn in (("skae", lambda: est.transform(X)), ("baseline", plain)):
            start = clock(device)
            fn()
            if repeat:
                timings[name].append(clock(device) - start)
    n = X.shape[0]
    skae_s, base_s = (statistics.median(timings[k]) for k in ("skae", "baseline"))
    return {
        "rows": n,
        "chunk_rows": rows,
        "skae_seconds": skae_s,
        "baseline_seconds": base_s,
        "skae_samples_per_second": n / skae_s,
        "baseline_samples_per_second": n / base_s,
        "skae_time_vs_baseline": skae_s / base_s,
    }


def make_data(name, n_samples, data_home, rng):
    """The rows of a workload (float32) and a word on where they came from."""
    if name == "tabular":
        x = rng.uniform(0, 200, size=(n_samples, 1))
        return (x * np.arange(1, 11)).astype(np.float32), "rank-1 multiples"
    if data_home is not None:
        from skae.datasets import load_mnist

        X_train = load_mnist(data_home, return_X_y=True)[0]
        if n_samples > X_train.shape[0]:
            raise ValueError(f"MNIST has {X_train.shape[0]} training rows, not {n_samples}.")
        return np.ascontiguousarray(X_train[:n_samples], dtype=np.float32), "MNIST"
    return rng.random((n_samples, 784), dtype=np.float32), "synthetic uniform [0, 1]"


def workload_specs(args, device):
    on_cuda = device.type == "cuda"
    adam = "fused" if args.fused_baselines else "default"
    specs = {
        "mnist": {
            "n_samples": args.n_samples or (60000 if on_cuda else 10000),
            "n_features": 784,
            "hidden_layer_sizes": (1000, 500, 250),
            "n_components": 30,
            "batch_size": args.batch_size or (256 if on_cuda else 64),
            "epochs": args.epochs,
            "baseline_adam": adam,
        },
        "tabular": {
            "n_samples": 1000,
            "n_features": 10,
            "hidden_layer_sizes": (100,),
            "n_components": 2,
            "batch_size": 100,
            "epochs": args.tabular_epochs,
            "baseline_adam": adam,
        },
    }
    return {name: specs[name] for name in args.workloads}


def run_workload(name, spec, args, device):
    rng = np.random.default_rng(args.seed)
    X, source = make_data(name, spec["n_samples"], args.data_home, rng)
    Xs = scaled(X)
    flops = flops_per_sample(build_module(spec, "cpu", args.seed)) * X.shape[0]
    runners = {"dataloader": run_dataloader, "slicing": run_slicing, "skorch": run_skorch}
    skipped = {}
    if "skorch" in args.contenders and not skorch_version():
        skipped["skorch"] = "skorch is not installed (pip install skorch)"
    if "bf16" in args.contenders and not native_bf16(device):
        skipped["bf16"] = (
            "bfloat16 is not native here: its products are emulated, far slower than float32"
        )
    contenders = [c for c in args.contenders if c not in skipped]
    times = {c: [] for c in contenders}
    est = None
    # Interleaving repeats spreads slow spells of a shared machine over all contenders.
    for repeat in range(args.repeats):
        for contender in contenders:
            seed = args.seed + repeat
            if contender == "skae":
                start, stamps, est = run_skae(X, spec, device, seed)
            elif contender == "bf16":
                start, stamps, _ = run_skae(X, spec, device, seed, precision="bfloat16")
            elif contender == "cae":
                start, stamps, _ = run_skae(X, spec, device, seed, ContractiveAutoencoder)
            else:
                start, stamps = runners[contender](Xs, spec, device, seed)
            times[contender] += epoch_times(start, stamps)
            print(f"  {name} {contender} (repeat {repeat + 1}) done", file=sys.stderr)

    results = {}
    for contender in contenders:
        median = statistics.median(times[contender])
        achieved = flops / median / 1e12
        results[contender] = {
            "epoch_seconds": times[contender],
            "median_epoch_seconds": median,
            # The fastest epoch is the least disturbed by other processes.
            "min_epoch_seconds": min(times[contender]),
            "train_samples_per_second": X.shape[0] / median,
            "achieved_tflops": achieved,
            "fraction_of_peak": achieved / args.peak_tflops if args.peak_tflops else None,
        }
    if "skae" in results:
        for contender in contenders:
            results[contender]["time_vs_skae"] = (
                results[contender]["median_epoch_seconds"]
                / results["skae"]["median_epoch_seconds"]
            )
    out = {
        **spec,
        "n_samples": X.shape[0],
        "data": source,
        "flops_per_epoch": flops,
        "flop_floor_seconds": flops / (args.peak_tflops * 1e12) if args.peak_tflops else None,
        "contenders": results,
        "skipped": skipped,
    }
    if est is not None and args.transform_repeats:
        out["transform"] = time_transform(est, X, Xs, device, args.transform_repeats)
    return out


def check_targets(workloads):
    """The CPU speed targets that this run's contenders can answer."""
    checks = []
    for workload, num, den, bound, kind in TARGETS:
        if workload not in workloads:
            continue
        results = workloads[workload]["contenders"]
        relation = "<=" if kind == "at_most" else ">="
        check = {
            "workload": workload,
            "batch_size": workloads[workload]["batch_size"],
            "target": f"{num} epoch time / {den} epoch time {relation} {bound}",
            "bound": bound,
        }
        if num in results and den in results:
            value = results[num]["median_epoch_seconds"] / results[den]["median_epoch_seconds"]
            check["value"] = value
            check["met"] = bool(value <= bound if kind == "at_most" else value >= bound)
        else:
            check["value"] = check["met"] = None
            check["note"] = "contender not run: " + ", ".join(
                c for c in (num, den) if c not in results
            )
        checks.append(check)
    return checks


def markdown(report):
    lines = []
    # Results written before the bf16 contender have no product rates.
    products = report.get("product_gflops")
    if products:
        bf16 = products["bfloat16"]
        lines.append(
            f"256x784 @ 784x512 products: float32 {products['float32']:.1f} GFLOP/s, "
            + ("bfloat16 not native here" if bf16 is None else f"bfloat16 {bf16:.1f} GFLOP/s")
        )
    for name, workload in report["workloads"].items():
        lines += [
            "",
            f"### {name}: {workload['n_samples']} x {workload['n_features']} "
            f"({workload['data']}), hidden {workload['hidden_layer_sizes']}, "
            f"code {workload['n_components']}, batch {workload['batch_size']}, "
            f"{workload['epochs']} epochs (first one is warm-up), baselines' Adam: "
            f"{workload['baseline_adam']} kernel",
            "",
            "| contender | median epoch (ms) | fastest epoch (ms) | median vs skae "
            "| train samples/s | TFLOP/s | share of peak |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for contender, r in workload["contenders"].items():
            share = r["fraction_of_peak"]
            lines.append(
                f"| {contender} | {1e3 * r['median_epoch_seconds']:.1f} | "
                f"{1e3 * r['min_epoch_seconds']:.1f} | "
                f"{r.get('time_vs_skae', float('nan')):.2f} | "
                f"{r['train_samples_per_second']:,.0f} | {r['achieved_tflops']:.4f} | "
                f"{'-' if share is None else f'{share:.1%}'} |"
            )
        for contender, why in workload["skipped"].items():
            lines.append(f"| {contender} | skipped: {why} | | | | | |")
        if "transform" in workload:
            t = workload["transform"]
            lines += [
                "",
                f"transform of {t['rows']} rows: skae {t['skae_samples_per_second']:,.0f} "
                f"samples/s, plain encode {t['baseline_samples_per_second']:,.0f} samples/s "
                f"(skae time / plain time {t['skae_time_vs_baseline']:.2f})",
            ]
    if report["targets"]:
        lines += [
            "",
            "### CPU targets",
            "",
            "| workload | target | value | met |",
            "|---|---|---:|---|",
        ]
        for c in report["targets"]:
            value = "-" if c["value"] is None else f"{c['value']:.2f}"
            lines.append(f"| {c['workload']} | {c['target']} | {value} | {c['met']} |")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--workloads", nargs="+", choices=("mnist", "tabular"), default=["mnist", "tabular"]
    )
    parser.add_argument(
        "--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS)
    )
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder with the MNIST IDX files (else synthetic rows)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="mnist rows (default 10000 on CPU, 60000 on CUDA)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="mnist batch size (default 64 on CPU, 256 on CUDA)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=4,
        help="mnist epochs per run, the first one a warm-up (>= 2)",
    )
    parser.add_argument(
        "--tabular-epochs",
        type=int,
        default=40,
        help="tabular epochs per run, the first one a warm-up (>= 2)",
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of each contender, interleaved"
    )
    parser.add_argument(
        "--transform-repeats",
        type=int,
        default=3,
        help="timed transforms of each kind (0 to skip)",
    )
    parser.add_argument(
        "--fused-baselines",
        action="store_true",
        help="give the baselines torch's fused Adam kernel, as skae "
        "uses (default: torch's default kernel, as hand-written "
        "loops get)",
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="the device's peak float32 TFLOP/s, for the share of peak",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: torch's choice)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "speed.json")
    args = parser.parse_args(argv)
    if min(args.epochs, args.tabular_epochs) < 2:
        parser.error("--epochs and --tabular-epochs must be at least 2 (one is a warm-up)")
    return args


def main(argv=None):
    args = parse_args(argv)
    out = output_folder(args.out, "speed")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    load_before = os.getloadavg()
    products = product_rates(device)
    workloads = {
        name: run_workload(name, spec, args, device)
        for name, spec in workload_specs(args, device).items()
    }
    report = {
        "meta": {
            "device": str(device),
            "device_name": (
                torch.cuda.get_device_name(device)
                if device.type == "cuda"
                else platform.processor() or platform.machine()
            ),
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "torch": torch.__version__,
            "skae": skae.__version__,
            "skorch": skorch_version(),
            "python": platform.python_version(),
            "argv": sys.argv[1:] if argv is None else list(argv),
        },
        "environment": environment(device, argv),
        "product_gflops": products,
        "workloads": workloads,
        "targets": check_targets(workloads) if device.type == "cpu" else [],
    }
    path = out / "speed.json"
    path.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"\nwrote {path}")
    return report


if __name__ == "__main__":
    main()
