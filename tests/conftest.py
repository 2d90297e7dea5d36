"""Settings for the whole test session, read before any test module is imported."""

import os

# scikit-learn's estimator checks include check_array_api_input, which skips unless
# SciPy's array API support is switched on; SciPy reads the variable when it is first
# imported, so it is set here, before any test module imports scikit-learn.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest
import torch

from skae import _training

# Each pytest-xdist worker would take torch's default of one thread per core, so
# `-n 2` on 2 cores ran 4 OpenMP threads on 2 cores, which wait on one another:
# the suite took 158-179 s there, and 44 s with the cores shared out (68 s
# without xdist). The workers share the cores, as joblib's do; OMP_NUM_THREADS,
# which torch reads itself, overrides this.
_workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
if _workers and "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(_workers)))


@pytest.fixture(autouse=True)
def _auto_device_is_the_cpu(request, monkeypatch):
    """``device="auto"`` means the CPU, except in tests marked ``auto_device``.

    The suite's assertions are about the CPU's behaviour (its float32 results,
    host memory, its precision rules); on a CUDA machine "auto" would move
    every default fit to the GPU. The CUDA paths have their own tests, which
    name ``device="cuda"``.
    """
    if request.node.get_closest_marker("auto_device") is None:
        resolve = _training.resolve_device
        monkeypatch.setattr(
            _training,
            "resolve_device",
            lambda device: resolve("cpu" if device == "auto" else device),
        )
