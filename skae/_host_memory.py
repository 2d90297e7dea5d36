"""Reusing freed host memory for training whose tensors outgrow glibc's mmap threshold.

glibc's ``malloc`` serves every block above its mmap threshold with a fresh
``mmap`` and gives it back with ``munmap`` when freed. The threshold adapts
to the blocks a program frees, but only up to 32 MB, so a training step on
wide data (a 100,000 x 512 weight is 205 MB, and each step allocates its
bfloat16 copy, its gradient, ...) maps fresh memory for each of them, and
the kernel faults in and zeroes every page on first touch. Measured on 2
cores (a Firecracker VM, glibc 2.36), 20 steps of a 32-unit fit on 100,000
columns at 0.1% density: 14.4 s and 9.6 million page faults as glibc has
it, 6.0 s and 1.0 million with the thresholds raised; a 32 MB threshold
(what the adaptation reaches) changed nothing. The one-epoch fit of
``python benchmarks/wide_sparse.py`` on 20,000 such rows went from 65.2 s
to 36.8 s, its peak beyond the data from 3,174 MB to 3,296 MB. jemalloc or
tcmalloc would do the same for a whole process, but only when preloaded.
"""

import contextlib
import ctypes
import platform

# mallopt's parameter numbers (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# glibc's adaptive mmap threshold stops at DEFAULT_MMAP_THRESHOLD_MAX (32 MB on
# 64-bit systems), with the trim threshold at twice it.
ADAPTIVE_MAX_BYTES = 32 * 2**20
_NEVER = 2**31 - 1


def _glibc():
    """glibc's C library, or None on any other platform or C library."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


@contextlib.contextmanager
def reuse_freed_blocks(largest_bytes):
    """Keep freed blocks of any size in the heap for reuse, if any exceed 32 MB.

    Within the context, glibc neither maps blocks of under 2 GB on their
    own nor trims the heap; on leaving, its thresholds are set where its
    adaptation would have brought them after such blocks (32 MB and 64 MB),
    and the free heap memory goes back to the system (``malloc_trim``).
    Elsewhere, or when ``largest_bytes`` stays within 32 MB, this does
    nothing.
    """
    libc = _glibc() if largest_bytes > ADAPTIVE_MAX_BYTES else None
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _NEVER)
    libc.mallopt(_M_TRIM_THRESHOLD, _NEVER)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, ADAPTIVE_MAX_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * ADAPTIVE_MAX_BYTES)
        libc.malloc_trim(0)
