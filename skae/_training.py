"""The one training loop (epoch -> batch -> step), early stopping and batched inference.

The loop works on the estimator's fitted torch state (``module_``,
``optimizer_``) and records its history on the estimator the way
``MLPRegressor._fit_stochastic`` does (``loss_curve_``, ``n_iter_``,
``validation_scores_``...). It knows nothing else of scikit-learn.
"""

import contextlib
import copy
import math
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from ._host_memory import reuse_freed_blocks

# The fused kernels update all parameters in one pass; on the CPU they
# make a whole MNIST-sized epoch about 1.4x faster than the default loop.
OPTIMIZERS = {
    "adam": partial(torch.optim.Adam, fused=True),
    "adamw": partial(torch.optim.AdamW, fused=True),
    "sgd": partial(torch.optim.SGD, momentum=0.9, nesterov=True, fused=True),
}

# The rows of one inference chunk hold at most this many floats of the widest
# layer, so transform of any number of rows runs in bounded memory.
_INFERENCE_ELEMENTS = 2**22
# But an inference chunk holds at least as many rows as a training batch of
# the default size: with fewer, each chunk streams the wide layers' weights
# from memory for a handful of rows. At 100,000 features (41-row chunks) a
# one-epoch fit over 20,000 rows spent 247 s of its 332 s outside the epoch,
# mostly in the two passes that check it against its start (2-core machine
# under load; the epoch took 85 s).
_MIN_INFERENCE_ROWS = 256
# The check that a fit ends no worse than its start compares the two on the
# same sampled rows (see sampled_rows): _CHECK_SHARE of the rows training passes over,
# from _MIN_CHECK_ROWS to _MAX_CHECK_ROWS (see fit_loop). Two float32 passes
# over all 60000 MNIST rows took 1.5 s of a default fit's 3.3 s outside its
# epochs (an epoch: 1.1 s); the paired difference of the two losses over
# 8192 rows already separates a trained model from its start.
_CHECK_SHARE = 0.1
_MIN_CHECK_ROWS = 2048
_MAX_CHECK_ROWS = 8192
# The seed of the rows that the start check and the prefix curve read.
_SAMPLE_SEED = 0
# A nested training step decodes the whole code and this many of its other
# prefixes, drawn at random (see nested_loss).
_PREFIX_DRAWS = 2


def _mse(raw, target, output_layer):
    return F.mse_loss(output_layer(raw), target)


def _bce(raw, target, output_layer):
    # On logits: stable where sigmoid saturates.
    return F.binary_cross_entropy_with_logits(raw, target)


LOSSES = {"mse": _mse, "bce": _bce}

SCHEDULES = ("constant", "cosine")

# Share of a cosine schedule's steps spent warming up. Adam's first steps move
# every weight by about the full learning rate, whatever its gradient, which
# knocks a PCA start off its optimum; a short ramp lets the moment estimates
# settle first.
_WARMUP_FRACTION = 0.05

# max_epochs="auto" runs about this many training rows through the network,
# in at most _MAX_AUTO_EPOCHS epochs: 40 epochs of MNIST's 60000 images, and
# 100 epochs of data up to 24,000 rows. With the large-data rates below, 40
# epochs of MNIST reached 3.87 and 3.86 squared error per test image (two
# seeds) in 40-52 s on 2 CPU cores, where the earlier million rows (17 epochs,
# without decay) reached 5.07 in 23 s.
_AUTO_ROWS = 2_400_000
_MAX_AUTO_EPOCHS = 100

# learning_rate="auto" and weight_decay="auto" (issue 28): data of at least
# _LARGE_ROWS training rows train at _LARGE_RATES (AdamW's decoupled decay of
# 0.3 at a rate of 4e-3), smaller data at _SMALL_RATES (2e-3, no decay), as
# all data did before. Measured with benchmarks/defaults.py on 2 CPU cores,
# the default network, 30 units, test error over PCA's:
# - MNIST's first 12,000 / 24,000 images: the previous defaults (a million
#   rows: 84 / 42 epochs) 0.531 / 0.416, the small rates over 100 epochs
#   0.534 / 0.396, the large rates 0.441 / 0.320. All 60000, 40 epochs, SSE
#   per image by decay: 0.1 4.03, 0.2 3.91, 0.3 3.87, 0.5 3.92.
# - Below 10,000 rows the large rates helped MNIST's first 5000 and 8000
#   images (0.723 -> 0.675, 0.619 -> 0.539) and the main job's 1500-row sets
#   (by 0.5-38%), but cost the wide set (7500 rows of a noisy Swiss roll in
#   1000 columns) 4.3x at 2 units; with 15,000 rows of it they gained 14% at
#   2 units and tied at 16. The main job's tuned settings lost up to 2.9x
#   with a decay of 0.1 (helix). So small data keep the small rates.
_LARGE_ROWS = 10_000
_SMALL_RATES = (2e-3, 0.0)
_LARGE_RATES = (4e-3, 0.3)


def resolve_device(device):
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into a usable device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise ValueError(
            f"device={device!r} is not supported: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available; "
                "use device='cpu' or device='auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} does not exist: "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    return resolved


# precision="auto" trains under bfloat16 autocast only where it pays (issues 16
# and 25), decided in this order:
# - A device that does not multiply bf16 natively trains in float32: a CPU
#   without AVX512-BF16 or AMX-BF16 (x86) or the BF16 extension (ARM), as
#   torch.cpu.get_capabilities() reports them, or a CUDA device of compute
#   capability below 8.0. There bf16 products are emulated: on an AVX2-only AMD
#   EPYC a 256x784 @ 784x512 product ran at about 1.2 GFLOP/s in bf16 against
#   100 in float32. oneDNN's own check (torch.ops.mkldnn._is_mkldnn_bf16_supported)
#   is not the question asked here: it is also true on AVX-512 CPUs without BF16,
#   where oneDNN emulates it.
# - A network of fewer than _BF16_MIN_MULTIPLY_ADDS multiply-adds per row and
#   pass trains in float32: its steps are fixed costs that bf16 does not shrink
#   (autocast adds a cast per layer). On a 2-core CPU with avx512_bf16, batches
#   of 256, a bf16 step took 1.76-1.78x float32's at 1.6-4.9 thousand and 1.40x
#   at 19 thousand.
# - On such a CPU, a network of at least _BF16_CPU_MULTIPLY_ADDS trains in bf16:
#   its steps took 0.40-0.49x float32's from 0.54 to 1.96 million (the MNIST
#   network, 1.19 million, 0.41x), with test errors within 0.2% of float32's.
# - A fit of fewer than _MIN_TIMED_STEPS planned steps trains in float32: the
#   timing below costs about 20 steps (30-40 ms on the digits), which would be
#   a noticeable share of it.
# - Anything else is timed where it runs (time_precisions): at 135 thousand the
#   same CPU's bf16 step took 0.80x float32's, and on an H200 the MNIST network's
#   eager bf16 epoch took 1.27x float32's (issue 25: its steps wait on kernel
#   launches, not on arithmetic).
_BF16_MIN_MULTIPLY_ADDS = 20_000
_BF16_CPU_MULTIPLY_ADDS = 500_000
_MIN_TIMED_STEPS = 2000
# The timing: one warm-up step in each precision, then _TIMED_ROUNDS rounds of
# one step in each, in turn, each step timed alone; each precision's median
# step counts. Single steps of 0.4 ms on the CPU now and then took 4.5 ms, and
# the fastest of three 3-step rounds once chose bf16 for a network whose steps
# took 0.7 ms in bf16 and 0.4 ms in float32; a median ignores such outliers.
# bf16 must be faster than float32 by more than _BF16_MARGIN to be chosen, so a
# near tie keeps float32's digits and costs at most that share of speed.
_TIMED_ROUNDS = 9
_BF16_MARGIN = 0.05
# The timed steps' seconds, by device and step (see time_precisions), for the
# process: refits of the same model, as in a grid search, train in the same
# precision.
_STEP_SECONDS = {}


def native_bf16(device):
    """Whether ``device`` multiplies bfloat16 natively (see _BF16_MIN_MULTIPLY_ADDS)."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if capabilities is None:
        # Older torch has no public query: stay with float32, as before "auto".
        return False
    flags = capabilities()
    return any(flags.get(flag, False) for flag in ("avx512_bf16", "amx_bf16", "bf16"))


def resolve_precision(precision, device, multiply_adds, n_steps, time_steps):
    """``"float32"`` or ``"bfloat16"``: the training precision on ``device``.

    ``multiply_adds`` counts those of the network per row and forward pass,
    and ``n_steps`` the fit's planned training steps. ``time_steps()`` returns
    the seconds of a training step in each precision, ``(float32, bfloat16)``;
    it is called only where the rules above leave the choice open.
    """
    if precision == "auto":
        if multiply_adds < _BF16_MIN_MULTIPLY_ADDS or not native_bf16(device):
            return "float32"
        if device.type == "cpu" and multiply_adds >= _BF16_CPU_MULTIPLY_ADDS:
            return "bfloat16"
        if n_steps < _MIN_TIMED_STEPS:
            return "float32"
        float32, bfloat16 = time_steps()
        return "bfloat16" if bfloat16 < (1 - _BF16_MARGIN) * float32 else "float32"
    if precision == "bfloat16" and not native_bf16(device):
        warnings.warn(
            f"precision='bfloat16' on {device}, which does not multiply bfloat16 "
            "natively: its matrix products are emulated and can be far slower than "
            "in float32. precision='auto' uses bfloat16 only where it is native.",
            UserWarning,
            stacklevel=6,
        )
    return precision


def time_precisions(est, X, batch_size, corrupt):
    """Seconds of one training step of ``est`` in float32 and in bfloat16.

    The steps train copies of the module and of a fresh optimizer on the first
    ``batch_size`` rows of ``X``, with their own generator: the fit itself,
    its weights and its random draws are untouched. The result is kept for the
    process, by device, estimator class, module, batch size, loss and
    objective, so that the same model is timed once.
    """
    device = est.device_
    key = (
        str(device),
        type(est).__name__,
        repr(est.module_),
        batch_size,
        est.loss,
        est._training_prefixes,
        corrupt is None,
    )
    if key not in _STEP_SECONDS:
        batch = X[:batch_size].to(device)
        generator = torch.Generator(device).manual_seed(0)
        saved = {
            name: vars(est)[name]
            for name in ("module_", "optimizer_", "precision_")
            if name in vars(est)
        }
        seconds = {"float32": [], "bfloat16": []}
        try:
            est.module_ = copy.deepcopy(est.module_)
            est.optimizer_ = est._make_optimizer()
            for _ in range(_TIMED_ROUNDS + 1):
                for precision, times in seconds.items():
                    est.precision_ = precision
                    start = clock(device)
                    train_step(est, batch, generator, corrupt)
                    times.append(clock(device) - start)
        finally:
            vars(est).update(saved)
            if "precision_" not in saved:
                vars(est).pop("precision_", None)
        # The first step of each is its warm-up.
        _STEP_SECONDS[key] = tuple(float(np.median(times[1:])) for times in seconds.values())
    return _STEP_SECONDS[key]


def clock(device):
    """``time.perf_counter()`` once ``device``'s queued work is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


@contextlib.contextmanager
def autocast_off():
    """Turn off any autocast that the caller turned on (in this thread)."""
    with contextlib.ExitStack() as stack:
        # torch warns when asked about CUDA autocast without CUDA.
        for device_type in ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",):
            # Entering a disabled autocast costs far more than asking (~50 us).
            if torch.is_autocast_enabled(device_type):
                stack.enter_context(torch.autocast(device_type, enabled=False))
        yield


@contextlib.contextmanager
def training_modes():
    """The modes training needs, whatever the caller set (in this thread).

    Gradients on, even inside the caller's ``no_grad`` or ``inference_mode``
    (tensors made here are then ordinary ones that autograd can use), and no
    autocast but the one :func:`train_step` asks for itself.
    """
    with torch.inference_mode(False), torch.enable_grad(), autocast_off():
        yield


@contextlib.contextmanager
def float32_inference():
    """``inference_mode`` with autocast off, so a caller's autocast cannot leak in."""
    with torch.inference_mode(), autocast_off():
        yield


def auto_max_epochs(n_samples):
    """The epoch budget of ``max_epochs="auto"`` for ``n_samples`` training rows."""
    return max(1, min(_MAX_AUTO_EPOCHS, math.ceil(_AUTO_ROWS / n_samples)))


def resolve_rates(learning_rate, weight_decay, optimizer, n_samples):
    """``(learning_rate, weight_decay)`` with ``"auto"`` resolved for ``n_samples`` rows.

    The automatic weight decay is decoupled, so it applies to ``"adamw"``
    only; the other optimizers get none.
    """
    auto_rate, auto_decay = _LARGE_RATES if n_samples >= _LARGE_ROWS else _SMALL_RATES
    if optimizer != "adamw":
        auto_decay = 0.0
    return (
        auto_rate if learning_rate == "auto" else learning_rate,
        auto_decay if weight_decay == "auto" else weight_decay,
    )


def make_scheduler(optimizer, schedule, n_steps):
    """A per-step learning-rate scheduler for ``n_steps`` planned steps, or None.

    ``"cosine"`` ramps the rate up linearly from zero over the first
    ``_WARMUP_FRACTION`` of the steps (at least one), then anneals it along a
    half cosine: the ``i``-th of the ``m`` remaining steps runs at
    ``0.5 * (1 + cos(pi * i / m))`` times the base rate, from the full rate
    down to a small but positive one at the last step, so every planned step
    but the warm-up moves the weights; the rate reaches zero only after the
    last step. The first step, at rate zero, only fills Adam's moment
    estimates, so that the first move is an informed one; a fit of a single
    step has no warm-up, since it would then change nothing. The rate is a
    Python float, so stepping the scheduler never waits for the device.
    """
    if schedule == "constant":
        return None
    warmup = max(1, int(_WARMUP_FRACTION * n_steps)) if n_steps > 1 else 0

    def factor(step):
        if step < warmup:
            return step / warmup
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (n_steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def inference_rows(module):
    """Rows per inference chunk, from the width of the module's widest layer.

    At least ``_MIN_INFERENCE_ROWS``, however wide the layers.
    """
    widest = max(p.shape[0] for p in module.parameters())
    return max(_MIN_INFERENCE_ROWS, _INFERENCE_ELEMENTS // widest)


def _scaled(values, mean, scale):
    """``(values - mean) / scale`` in float32, computed in ``values``' precision.

    ``values`` are finite (validated), so an infinite result is one that
    float32 cannot hold.
    """
    with np.errstate(over="ignore"):
        scaled = np.asarray((values - mean) / scale, np.float32)
    if not np.isfinite(scaled).all():
        raise ValueError(
            "X has values too far from the training data to compute with in "
            f"float32: after centring and dividing by scale_={scale:.3g} some "
            "exceed 3.4e38."
        )
    return scaled


def to_tensor(X, mean, scale, device):
    """Copy ``(X - mean) / scale`` into one float32 tensor on ``device``, by chunks.

    The scaling runs in ``X``'s own precision before the cast, and no temporary
    as large as ``X`` is made; ``X`` itself is never modified. A sparse ``X``
    (CSR) in canonical format is written from its stored values (see
    :func:`_scaled_sparse`), any other one densified one chunk at a time.
    """
    if sp.issparse(X) and X.has_canonical_format:
        return _scaled_sparse(X, mean, scale).to(device)
    rows = max(1, _INFERENCE_ELEMENTS // max(1, X.shape[1]))
    out = torch.empty(X.shape, dtype=torch.float32, device=device)
    for start in range(0, X.shape[0], rows):
        chunk = X[start : start + rows]
        if sp.issparse(chunk):
            chunk = chunk.toarray()
        out[start : start + rows] = torch.from_numpy(_scaled(chunk, mean, scale))
    return out


def _scaled_sparse(X, mean, scale):
    """:func:`_scaled` of a canonical CSR ``X``, dense, from its stored values.

    Each hole gets its column's scaled zero and each stored value is scaled
    on its own: the same float32 numbers as scaling the densified rows,
    without their float64 temporaries or a second copy (a 256-row batch of
    100,000 columns took 0.13 s that way).
    """
    n_rows, n_features = X.shape
    mean = np.broadcast_to(mean, (n_features,))
    holes = torch.from_numpy(_scaled(np.zeros(1, X.dtype), mean, scale))
    out = torch.empty((n_rows, n_features), dtype=torch.float32)
    out.copy_(holes.expand(n_rows, n_features))
    rows = np.repeat(np.arange(n_rows), np.diff(X.indptr))
    values = _scaled(X.data, mean[X.indices], scale)
    out[rows, X.indices] = torch.from_numpy(values)
    return out


class SparseRows:
    """Sparse training rows that the loop reads like the dense training tensor.

    Indexing with a tensor of row indices or a slice returns the float32
    tensor of those rows, densified and scaled as :func:`to_tensor` scales
    the dense data, so the batches are the same; the matrix itself stays
    sparse in host memory. The values are checked once here, so that a fit
    fails before its first step rather than in the middle of an epoch.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array in canonical format
        Row slicing needs CSR; summed duplicates make each stored value
        the entry itself.
    mean, scale : ndarray of shape (n_features,), float
        The scaling, as in :func:`to_tensor`.
    """

    device = torch.device("cpu")
    dtype = torch.float32

    def __init__(self, X, mean, scale):
        self.X, self.mean, self.scale, self.shape = X, mean, scale, X.shape
        _scaled(X.data, mean[X.indices], scale)
        # Columns with fewer stored values than rows hold zeros too.
        holes = np.bincount(X.indices, minlength=X.shape[1]) < X.shape[0]
        _scaled(0.0, mean[holes], scale)

    def __getitem__(self, rows):
        if isinstance(rows, torch.Tensor):
            rows = rows.numpy()
        return to_tensor(self.X[rows], self.mean, self.scale, self.device)

    def scaled(self):
        """The scaled rows as ``S - offset``, in float64.

        ``S`` is a CSR copy of the stored values divided by the scale and
        ``offset`` is ``mean / scale``. Dividing before any product keeps
        tiny values (1e-200) from underflowing when squared.
        """
        S = self.X.astype(np.float64)
        S.data /= self.scale
        return S, self.mean / self.scale


def training_data(X, mean, scale, device):
    """The scaled training rows, read by the loop through index slices.

    Dense ``X`` becomes one float32 tensor on ``device`` (:func:`to_tensor`).
    Sparse ``X`` stays as it is in host memory (:class:`SparseRows`), and
    each batch is densified on its own: its dense copy could be many times
    its size.
    """
    if sp.issparse(X):
        return SparseRows(X, mean, scale)
    return to_tensor(X, mean, scale, device)


def available_memory():
    """Bytes of host memory that a new allocation can get, or None if unknown.

    Linux's ``MemAvailable`` counts the page cache that can be dropped, which
    free memory alone does not; elsewhere the answer is unknown.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def place_data(n_bytes, device):
    """Where the training tensor lives: the device, or host memory if it won't fit.

    Data that host memory cannot hold either are a ``MemoryError`` raised
    before anything is allocated: on Linux, writing to an allocation larger
    than the free memory gets the process killed, not an exception.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        # Leave room for activations, gradients and the optimizer's state.
        if n_bytes <= free // 2:
            return device
    available = available_memory()
    if available is not None and n_bytes > available:
        raise MemoryError(
            f"The training data need {n_bytes / 2**30:.2f} GiB as float32, but only "
            f"{available / 2**30:.2f} GiB of memory is available. Train on chunks of "
            "rows with partial_fit instead (see 'Scaling out' in the user guide)."
        )
    return torch.device("cpu")


def batched_inference(fn, X, mean, scale, device, rows, out_width, finish=None):
    """Apply ``fn`` to scaled chunks of ``X`` in float32, under ``inference_mode``.

    ``finish`` maps each output chunk (a float32 NumPy array) to its final
    values; the result is an array of shape (n_samples, out_width) in ``X``'s
    dtype. Only one chunk is on the device at any time.
    """
    out = np.empty((X.shape[0], out_width), dtype=X.dtype)
    with float32_inference():
        for start in range(0, X.shape[0], rows):
            chunk = to_tensor(X[start : start + rows], mean, scale, device)
            values = fn(chunk).float().cpu().numpy()
            out[start : start + rows] = values if finish is None else finish(values)
    return out


def prefix_codes(code, sizes):
    """One copy of ``code`` per prefix size m, with the units from m on set to zero.

    Returns a tensor of shape (len(sizes) * n_rows, n_components), the copies
    one after the other: a model cut to its first m units decodes its code
    exactly as the full decoder decodes the m-th copy.
    """
    n_components = code.shape[1]
    sizes = torch.as_tensor(sizes, device=code.device)
    keep = torch.arange(n_components, device=code.device) < sizes[:, None]
    return (code[None] * keep[:, None, :].to(code.dtype)).reshape(-1, n_components)


def prefix_losses(module, code, target, loss, sizes):
    """The loss of decoding each prefix of ``code`` of the sizes ``sizes``.

    All prefixes are decoded in one pass over a stacked batch.
    """
    raw = module.decode_raw(prefix_codes(code, sizes)).reshape(len(sizes), *target.shape)
    return torch.stack([LOSSES[loss](one, target, module.output_layer) for one in raw])


def harmonic_mean(losses, counts=None):
    """The harmonic mean of the prefixes' losses, the nested training loss.

    Its gradient is that of the mean of their logarithms: each prefix counts
    by its relative improvement, so the wide prefixes, whose errors are many
    times smaller, are not drowned out by the narrow ones (the measurements
    are at ``skae._base._prefixes``). Losses below a thousandth of the
    largest count as that, so that a prefix that reconstructs exactly does
    not take all the weight. ``counts`` (one per loss) makes a loss stand
    for that many prefixes, for a mean estimated from a sample of them.
    """
    floor = (losses.detach().max() * 1e-3).clamp_min(torch.finfo(losses.dtype).tiny)
    weights = 1.0 / torch.maximum(losses.detach(), floor)
    if counts is not None:
        weights = weights * counts
    return losses @ (weights / weights.sum())


def nested_loss(module, code, target, loss, sizes, generator=None):
    """The loss of a nested code: :func:`harmonic_mean` of its prefixes' losses.

    With a ``generator``, a training step decodes the whole code and
    ``_PREFIX_DRAWS`` of the other prefixes drawn at random, each standing
    for its share of the others, at a fixed number of decoder passes however
    wide the code. The gradient is then the harmonic mean, estimated from
    the draw, times a sum whose expectation is the gradient of the mean of
    all the prefixes' log losses, as when every prefix is decoded.
    """
    others = len(sizes) - 1
    if generator is None or others <= _PREFIX_DRAWS:
        return harmonic_mean(prefix_losses(module, code, target, loss, sizes))
    draw = torch.randperm(others, generator=generator, device=generator.device)
    sizes = torch.as_tensor(sizes, device=generator.device)
    picked = torch.cat([sizes[draw[:_PREFIX_DRAWS]], sizes[-1:]])
    losses = prefix_losses(module, code, target, loss, picked)
    # In the losses' dtype, not torch's default, which the caller may have set.
    counts = torch.full_like(losses, others / _PREFIX_DRAWS)
    counts[-1] = 1.0
    return harmonic_mean(losses, counts)


def objective(module, batch, loss, corrupt, encode, generator, prefixes=None):
    """The training loss of one batch: reconstruct the clean batch from its corruption.

    ``encode(inputs, generator)`` returns the code of the (corrupted) inputs and
    a penalty to add to the loss, or None. With ``prefixes`` (the sizes m of the
    code's prefixes) the reconstruction loss is that of decoding each prefix
    alone, combined by :func:`nested_loss`: the code is trained nested.
    """
    inputs = batch if corrupt is None else corrupt(batch, generator)
    code, extra = encode(inputs, generator)
    if prefixes is None:
        value = LOSSES[loss](module.decode_raw(code), batch, module.output_layer)
    else:
        value = nested_loss(module, code, batch, loss, prefixes, generator)
    return value if extra is None else value + extra


def train_step(est, batch, generator, corrupt, scheduler=None):
    """One optimizer step on ``batch``; returns the loss as a tensor (no host sync)."""
    optimizer = est.optimizer_
    optimizer.zero_grad(set_to_none=True)
    with _autocast(est):
        loss = objective(
            est.module_,
            batch,
            est.loss,
            corrupt,
            est._encode_with_penalty,
            generator,
            est._training_prefixes,
        )
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.detach()


def run_epoch(est, X, batch_size, generator, corrupt=None, scheduler=None):
    """One pass over ``X`` in shuffled index-sliced batches; returns the mean loss."""
    device = generator.device
    n_samples = X.shape[0]
    order = torch.randperm(n_samples, generator=generator, device=device)
    on_device = X.device == device
    if not on_device:
        order = order.to(X.device)
    est.module_.train()
    # Batch losses are means: weight each by its rows (the last may be short).
    # Summed in place, with no host sync: a list of the steps' loss tensors
    # pinned glibc's heap between the freed batch-sized blocks, and one epoch
    # over 400,000 sparse rows of 5000 columns peaked at 11.3 GB instead of 0.84.
    total = torch.zeros((), device=device, dtype=torch.float32)
    # A step's largest host blocks: a batch read from host memory (sparse rows
    # are densified there) and, on the CPU, a parameter, its copies and gradient.
    largest_block = 4 * max(
        batch_size * X.shape[1] if X.device.type == "cpu" else 0,
        *(p.numel() for p in est.module_.parameters() if p.device.type == "cpu"),
    )
    with contextlib.ExitStack() as heap:
        for start in range(0, n_samples, batch_size):
            batch = X[order[start : start + batch_size]]
            if not on_device:
                batch = batch.to(device, non_blocking=True)
            loss = train_step(est, batch, generator, corrupt, scheduler)
            total.add_(loss, alpha=batch.shape[0])
            if not start:
                # After the first step, whose lasting blocks (the optimizer's
                # moments) then stay out of the heap: among the steps' freed
                # blocks they pinned it, and the 100,000-column fit of
                # _host_memory peaked 3,941 MB above its data instead of 3,435 MB.
                heap.enter_context(reuse_freed_blocks(largest_block))
    # The epoch's only host sync: one number read back.
    return total.item() / n_samples


def validation_loss(est, X_val):
    """Mean squared reconstruction error of the clean ``X_val``, in scaled units.

    For a nested fit, the harmonic mean over the trained prefixes, the
    clean counterpart of its training loss.
    """
    return reconstruction_loss(est, X_val, "mse")


def reconstruction_loss(est, X, loss, max_rows=None):
    """The loss ``loss`` of reconstructing the clean rows of ``X``, in scaled units.

    A nested fit (``est._training_prefixes``) measures its own objective, the
    harmonic mean of its prefixes' losses. ``max_rows`` limits the rows read
    to that many (see :func:`sampled_rows`).
    """
    module = est.module_
    module.eval()
    prefixes = est._training_prefixes
    rows = inference_rows(module)
    if prefixes is not None:
        rows = max(1, rows // len(prefixes))
    picked = sampled_rows(X, max_rows)
    total = 0.0
    with float32_inference():
        for start in range(0, picked.shape[0], rows):
            batch = X[picked[start : start + rows]].to(est.device_)
            if prefixes is None:
                _, raw = module(batch)
                value = LOSSES[loss](raw, batch, module.output_layer)
            else:
                value = prefix_losses(module, module.encode(batch), batch, loss, prefixes)
            total = total + value.double() * batch.shape[0]
    total = total / picked.shape[0]
    return float(total if prefixes is None else harmonic_mean(total))


def sampled_rows(X, max_rows=None):
    """Indices of at most ``max_rows`` rows of ``X``, in order (None: all).

    A draw without replacement from a fixed seed, so that the sample is a
    function of the data alone, and not every k-th row: on MNIST's training
    images the even-numbered rows reconstruct worse than the odd ones, and
    every 6th row (all of them even) gave a nested code an R² of 0.666
    against 0.691 on every row, every 3rd or 5th row 0.690-0.691; the 10,000
    rows of the prefix curve then put a share of 0.9 at 54 units instead of
    51.
    """
    n_rows = X.shape[0]
    if max_rows is None or max_rows >= n_rows:
        return torch.arange(n_rows, device=X.device)
    generator = torch.Generator().manual_seed(_SAMPLE_SEED)
    picked = torch.randperm(n_rows, generator=generator)[:max_rows]
    return picked.sort().values.to(X.device)


def prefix_explained_variance(est, X, max_rows):
    """R² of reconstructing the clean rows of ``X`` from each prefix of the code.

    Entry ``m - 1`` is for the first m units, with the others set to zero:
    one minus the squared error summed over the entries over their squared
    deviations from the column means (``r2_score``'s
    ``multioutput="variance_weighted"``), which for PCA's reconstructions is
    the cumulative ``explained_variance_ratio_`` on the data it was fitted
    to. It is measured on at most ``max_rows`` rows of ``X`` (see :func:`sampled_rows`),
    read one batch at a time (sparse rows are densified a batch at a time).

    The decoding runs in the fit's precision: it decodes every row once per
    code unit, and in bfloat16 a 64-unit MNIST curve on 10,000 rows took
    1.7 s instead of 4.4 s and moved by at most 2e-5, where its 10,000 rows
    differ from all 60,000 by 0.0027.
    """
    module = est.module_
    module.eval()
    n_components = est.n_components_
    picked = sampled_rows(X, max_rows)
    rows = max(1, inference_rows(module) // n_components)
    sizes = range(1, n_components + 1)
    errors = torch.zeros(n_components, dtype=torch.float64)
    total = torch.zeros(X.shape[1], dtype=torch.float64)
    squares = torch.zeros(X.shape[1], dtype=torch.float64)
    with float32_inference(), _autocast(est):
        for start in range(0, picked.shape[0], rows):
            batch = X[picked[start : start + rows]].to(est.device_)
            codes = prefix_codes(module.encode(batch), sizes)
            out = module.decode(codes).float().reshape(n_components, *batch.shape)
            errors += ((out - batch) ** 2).sum(dim=(1, 2)).double().cpu()
            batch = batch.double().cpu()
            total += batch.sum(dim=0)
            squares += (batch**2).sum(dim=0)
    deviations = float((squares - total**2 / picked.shape[0]).sum())
    if not deviations > 0:
        return np.where(errors.numpy() > 0, 0.0, 1.0)
    return 1.0 - errors.numpy() / deviations


def snapshot(module):
    """A detached copy of the module's weights."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def fit_loop(
    est,
    X,
    X_val,
    max_epochs,
    batch_size,
    generator,
    corrupt=None,
    schedule="constant",
    keep_start=False,
):
    """Train ``est.module_`` for up to ``max_epochs`` epochs on the tensor ``X``.

    Parameters
    ----------
    est : estimator
        Holds ``module_``, ``optimizer_``, the hyper-parameters, the hooks
        ``_encode_with_penalty``, and the history attributes that are
        updated here.
    X : torch.Tensor
        Scaled training data, on the device or in host memory.
    X_val : torch.Tensor or None
        Scaled validation data; when given, early stopping watches its loss
        and the best weights are restored at the end.
    max_epochs : int
    batch_size : int
    generator : torch.Generator
        On the training device; drives shuffling and corruption.
    corrupt : callable or None
        ``corrupt(batch, generator)`` returns the corrupted input of a batch.
    schedule : {"constant", "cosine"}
        The learning-rate schedule, planned over ``max_epochs`` epochs and
        stepped after every batch (see :func:`make_scheduler`). The
        optimizer's rate is put back to its base value at the end.
    keep_start : bool
        Whether to put the starting weights back if training ended with a
        higher loss on the clean training rows than they had (on the same
        sample of them when there are more than 2048, of at most 8192 rows).
        With ``init="pca"`` a fit then never ends worse than PCA on them.

    Returns
    -------
    ending : {"stopped", "converged", "capped"}
        How training ended: ``"stopped"`` when a callback or a
        ``KeyboardInterrupt`` asked it to stop, ``"converged"`` when it
        stopped improving or ran a decaying schedule to its end, and
        ``"capped"`` when it reached ``max_epochs`` at a constant rate.
    """
    module = est.module_
    start = last_good = best = snapshot(module)
    # The check against the start reads a tenth of the rows that training
    # passes over, within _MIN_CHECK_ROWS and _MAX_CHECK_ROWS: two full passes
    # in float32 cost about two epochs in bfloat16, which a fit of one epoch
    # over wide data would spend mostly on the check.
    check_rows = min(
        _MAX_CHECK_ROWS,
        max(_MIN_CHECK_ROWS, math.ceil(_CHECK_SHARE * max_epochs * X.shape[0])),
    )
    start_loss = reconstruction_loss(est, X, est.loss, check_rows) if keep_start else None
    if X_val is not None and est.best_validation_score_ == -math.inf:
        # The starting weights compete too: with init="pca", early stopping then
        # never ends worse on the validation data than PCA.
        est.best_validation_score_ = -validation_loss(est, X_val) * est.scale_**2
    # Early stopping compares scores in the user's units, so tol scales too.
    tol_score = est.tol * est.scale_**2
    optimizer = est.optimizer_
    scheduler = make_scheduler(
        optimizer, schedule, max_epochs * math.ceil(X.shape[0] / batch_size)
    )
    epochs = tqdm(
        range(max_epochs),
        desc=type(est).__name__,
        unit="epoch",
        disable=not est.verbose,
    )
    try:
        for _ in epochs:
            loss = run_epoch(est, X, batch_size, generator, corrupt, scheduler)
            if not math.isfinite(loss):
                module.load_state_dict(last_good)
                # Its moments hold the non-finite gradients; later fits must not reuse them.
                optimizer.state.clear()
                raise FloatingPointError(
                    f"Training diverged at epoch {est.n_iter_ + 1}: the loss became "
                    f"{loss}. Try a lower learning_rate (now {est.learning_rate_}) or "
                    "scale X (for example with StandardScaler)."
                )
            est.n_iter_ += 1
            est.loss_curve_.append(loss)
            # The bar shows both errors in X's units, where they compare.
            postfix = {"loss": f"{loss * est.scale_**2:.4g}"}
            if X_val is not None:
                score = -validation_loss(est, X_val) * est.scale_**2
                est.validation_scores_.append(score)
                postfix["val_mse"] = f"{-score:.4g}"
                improved = score > est.best_validation_score_ + tol_score
                if score > est.best_validation_score_:
                    est.best_validation_score_ = score
                    best = snapshot(module)
            else:
                improved = loss < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
            est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
            last_good = snapshot(module) if X_val is None else best
            epochs.set_postfix(postfix, refresh=False)
            requested = False
            for callback in est.callbacks or ():
                requested = bool(callback(est)) or requested
            if requested:
                ending = "stopped"
                break
            # The training loss stops a fit at a constant rate only: under a
            # decaying one it stalls at the early, high rate and falls again as
            # the rate anneals. Stopping at the first stall cost the defaults up
            # to 7.4x the test error of the whole schedule (helix, 8 units; on
            # no set or size of benchmarks/defaults.py was the whole schedule
            # worse). Validation data still stop any fit.
            if (X_val is not None or scheduler is None) and (
                est._no_improvement_count > est.n_iter_no_change
            ):
                ending = "converged"
                break
        else:
            # A schedule that has annealed the rate to zero has stopped the
            # weights by design; only a constant rate stops at a mere cap.
            ending = "capped" if scheduler is None else "converged"
    except KeyboardInterrupt:
        warnings.warn(
            f"Training interrupted after {est.n_iter_} epochs; keeping the best "
            "weights seen so far.",
            UserWarning,
            stacklevel=2,
        )
        ending = "stopped"
    finally:
        epochs.close()
        # After an interruption the weights may be mid-epoch; with validation
        # data the best epoch wins, as early_stopping promises.
        module.load_state_dict(best if X_val is not None else last_good)
        if scheduler is not None:
            for group in optimizer.param_groups:
                group["lr"] = group.pop("initial_lr")
    if keep_start and reconstruction_loss(est, X, est.loss, check_rows) > start_loss:
        module.load_state_dict(start)
    return ending


def _autocast(est):
    if est.precision_ == "bfloat16":
        return torch.autocast(est.device_.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
