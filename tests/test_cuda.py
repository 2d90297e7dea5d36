"""CUDA paths; skipped on machines without a GPU."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _training,
)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

FAST = dict(hidden_layer_sizes=(32,), max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:300]


@pytest.mark.parametrize(
    "Estimator",
    [
        AutoencoderTransformer,
        DenoisingAutoencoder,
        SparseAutoencoder,
        ContractiveAutoencoder,
        VariationalAutoencoder,
    ],
)
def test_fit_on_cuda_matches_cpu_closely(Estimator, X):
    gpu = Estimator(n_components=4, device="cuda", **FAST).fit(X)
    assert gpu.device_.type == "cuda"
    assert next(gpu.module_.parameters()).is_cuda
    Z = gpu.transform(X)
    assert isinstance(Z, np.ndarray) and Z.shape == (300, 4)
    cpu = Estimator(n_components=4, device="cpu", **FAST).fit(X)
    # Same seeds, different kernels: close, not bitwise.
    assert abs(gpu.score(X) - cpu.score(X)) < 0.2 * abs(cpu.score(X))


def test_training_data_stays_on_the_gpu(X, monkeypatch):
    devices = []
    original = _training.run_epoch

    def spy(est, data, *args, **kwargs):
        devices.append(data.device.type)
        return original(est, data, *args, **kwargs)

    monkeypatch.setattr(_training, "run_epoch", spy)
    AutoencoderTransformer(device="cuda", **FAST).fit(X)
    assert devices == ["cuda"] * 3


def test_cuda_pickle_loads_on_cpu_only_machine(X, monkeypatch):
    est = AutoencoderTransformer(n_components=4, device="cuda", **FAST).fit(X)
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(blob)
    assert loaded.device_.type == "cpu"
    assert not next(loaded.module_.parameters()).is_cuda
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), atol=1e-4)


def test_bfloat16_training_runs_and_improves(X):
    est = AutoencoderTransformer(
        n_components=8, device="cuda", precision="bfloat16", **{**FAST, "max_epochs": 10}
    ).fit(X)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.transform(X).dtype == np.float64


def test_auto_precision_on_cuda_is_timed_where_bf16_is_native(X, monkeypatch):
    # Every fit is timed, however short; each model afresh.
    monkeypatch.setattr(_training, "_MIN_TIMED_STEPS", 0)
    monkeypatch.setattr(_training, "_STEP_SECONDS", {})
    native = torch.cuda.get_device_capability() >= (8, 0)
    # 64 -> (1024, 512) -> 8 and back: 1.19 million multiply-adds per row.
    large = AutoencoderTransformer(
        n_components=8,
        device="cuda",
        hidden_layer_sizes=(1024, 512),
        max_epochs=1,
        random_state=0,
    ).fit(X)
    if native:
        ((float32, bfloat16),) = _training._STEP_SECONDS.values()
        faster = bfloat16 < (1 - _training._BF16_MARGIN) * float32
        assert large.precision_ == ("bfloat16" if faster else "float32")
    else:
        assert not _training._STEP_SECONDS and large.precision_ == "float32"
    small = AutoencoderTransformer(n_components=8, device="cuda", **FAST).fit(X)
    assert small.precision_ == "float32"
