"""Tests for skae._host_memory: glibc keeps a wide fit's freed blocks for reuse."""

import numpy as np
import pytest

from skae import AutoencoderTransformer, _host_memory, _training
from skae._host_memory import ADAPTIVE_MAX_BYTES, reuse_freed_blocks


class FakeLibc:
    """Records the allocator calls that reuse_freed_blocks makes."""

    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def fake_libc(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(_host_memory, "_glibc", lambda: libc)
    return libc


def test_blocks_within_the_adaptive_threshold_leave_the_allocator_alone(fake_libc):
    with reuse_freed_blocks(ADAPTIVE_MAX_BYTES):
        pass
    assert fake_libc.calls == []


def test_larger_blocks_raise_the_thresholds_and_restore_them_even_on_error(fake_libc):
    with pytest.raises(KeyboardInterrupt), reuse_freed_blocks(ADAPTIVE_MAX_BYTES + 1):
        assert fake_libc.calls == [
            ("mallopt", _host_memory._M_MMAP_THRESHOLD, _host_memory._NEVER),
            ("mallopt", _host_memory._M_TRIM_THRESHOLD, _host_memory._NEVER),
        ]
        raise KeyboardInterrupt
    assert fake_libc.calls[2:] == [
        ("mallopt", _host_memory._M_MMAP_THRESHOLD, ADAPTIVE_MAX_BYTES),
        ("mallopt", _host_memory._M_TRIM_THRESHOLD, 2 * ADAPTIVE_MAX_BYTES),
        ("malloc_trim", 0),
    ]


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(_host_memory.platform, "libc_ver", lambda: ("", ""))
    assert _host_memory._glibc() is None
    with reuse_freed_blocks(10 * ADAPTIVE_MAX_BYTES):
        pass


def test_run_epoch_reuses_blocks_after_its_first_step(monkeypatch):
    # The optimizer's moments, made by the first step, stay out of the heap.
    entered, steps = [], []
    monkeypatch.setattr(
        _training,
        "reuse_freed_blocks",
        lambda largest: entered.append((largest, len(steps))) or reuse_freed_blocks(largest),
    )
    train_step = _training.train_step
    monkeypatch.setattr(
        _training,
        "train_step",
        lambda *args, **kwargs: steps.append(1) or train_step(*args, **kwargs),
    )
    X = np.random.default_rng(0).normal(size=(100, 30))
    est = AutoencoderTransformer(
        2, hidden_layer_sizes=(40,), batch_size=25, max_epochs=2, device="cpu", random_state=0
    ).fit(X)
    widest = max(p.numel() for p in est.module_.parameters())
    assert widest == 30 * 40
    assert entered == [(4 * widest, 1), (4 * widest, 5)]
