"""Pickle and joblib round trips, version stamps, and loading GPU models on a CPU."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from _reliability_cases import FAST, VARIANTS, estimator_id, make_data
from sklearn.base import clone
from sklearn.exceptions import InconsistentVersionWarning

import skae
from skae import AutoencoderTransformer
from skae._base import _loadable_device

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data()


def _outputs(est):
    code = est.transform(X)
    return code, est.inverse_transform(code), est.score_samples(X)


def _assert_same_model(loaded, est):
    for got, expected in zip(_outputs(loaded), _outputs(est), strict=True):
        np.testing.assert_array_equal(got, expected)
    # The optimizer must come back bound to the loaded module's parameters,
    # with its moments, or the next step would differ.
    est.partial_fit(X)
    loaded.partial_fit(X)
    for name, value in est.module_.state_dict().items():
        assert torch.equal(loaded.module_.state_dict()[name], value), name


def _joblib_round_trip(est, path):
    joblib.dump(est, path / "model.joblib")
    return joblib.load(path / "model.joblib")


@pytest.mark.parametrize(
    "round_trip",
    [lambda est, path: pickle.loads(pickle.dumps(est)), _joblib_round_trip],
    ids=["pickle", "joblib"],
)
@pytest.mark.parametrize("estimator", VARIANTS, ids=estimator_id)
def test_round_trip_keeps_identical_outputs_and_training_state(
    estimator, round_trip, tmp_path
):
    est = clone(estimator).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a same-version load must be silent
        loaded = round_trip(est, tmp_path)
    assert loaded.get_params() == est.get_params()
    assert loaded.loss_curve_ == est.loss_curve_ and loaded.n_iter_ == est.n_iter_
    _assert_same_model(loaded, est)


def test_pickled_state_carries_versions_and_no_live_torch_objects():
    est = AutoencoderTransformer(**FAST).fit(X)
    state = est.__getstate__()
    assert state["_skae_version"] == skae.__version__
    assert state["_torch_version"] == torch.__version__
    assert isinstance(state["_torch_state"], bytes)
    assert "module_" not in state and "optimizer_" not in state
    # Pickling works on a copy of the state: the estimator keeps its model.
    assert isinstance(est.module_, torch.nn.Module)
    assert isinstance(est.optimizer_, torch.optim.Optimizer)


def test_unfitted_estimator_round_trips():
    est = AutoencoderTransformer(n_components=3, **{**FAST, "random_state": 5})
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert not hasattr(loaded, "module_")


@pytest.mark.parametrize("old_version", ["0.0.1", None])
def test_loading_another_skae_version_warns(old_version):
    est = AutoencoderTransformer(**FAST).fit(X)
    state = est.__getstate__()
    state["_skae_version"] = old_version
    loaded = AutoencoderTransformer.__new__(AutoencoderTransformer)
    match = f"skae AutoencoderTransformer from version {old_version}"
    with pytest.warns(InconsistentVersionWarning, match=match):
        loaded.__setstate__(state)
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_pickle_written_by_another_skae_version_warns(monkeypatch):
    est = AutoencoderTransformer(**FAST).fit(X)
    monkeypatch.setattr(skae, "__version__", "0.0.1")
    blob = pickle.dumps(est)
    monkeypatch.undo()
    match = rf"0\.0\.1 when using version {skae.__version__}"
    with pytest.warns(InconsistentVersionWarning, match=match):
        pickle.loads(blob)


def test_cuda_pickle_loads_on_a_cpu_only_machine(monkeypatch):
    """Simulate a model saved from a GPU: its tensors are tagged "cuda:0"."""
    est = AutoencoderTransformer(**FAST).fit(X)
    expected = _outputs(est)
    gpu_model = pickle.loads(pickle.dumps(est))
    gpu_model.device_ = torch.device("cuda", 0)
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        blob = pickle.dumps(gpu_model)
        tensors = gpu_model.__getstate__()["_torch_state"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA"):
        # What loading would do without the mapping in __setstate__.
        torch.load(io.BytesIO(tensors), weights_only=False)

    loaded = pickle.loads(blob)
    assert loaded.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    for got, want in zip(_outputs(loaded), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    loaded.partial_fit(X)  # the optimizer's state moved to the CPU too


@pytest.mark.parametrize(
    "saved, available, count, expected",
    [
        ("cpu", False, 0, "cpu"),
        ("cuda", False, 0, "cpu"),
        ("cuda:0", False, 0, "cpu"),
        ("cuda:0", True, 1, "cuda:0"),
        ("cuda", True, 1, "cuda"),
        ("cuda:1", True, 1, "cpu"),
        ("cuda:1", True, 2, "cuda:1"),
    ],
)
def test_loadable_device(saved, available, count, expected, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    assert _loadable_device(torch.device(saved)) == torch.device(expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_model_fitted_on_cuda_loads_on_cpu(monkeypatch):
    est = AutoencoderTransformer(**{**FAST, "device": "cuda"}).fit(X)
    expected = _outputs(est)
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(blob)
    assert loaded.device_ == torch.device("cpu")
    for got, want in zip(_outputs(loaded), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    loaded.partial_fit(X)
