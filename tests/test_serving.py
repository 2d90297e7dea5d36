"""Exported encoders and decoders compute what transform and inverse_transform do."""

import numpy as np
import pytest
import torch
from _reliability_cases import FAST, VARIANTS, estimator_id, make_data
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skae import AutoencoderTransformer
from skae.serving import export_decoder, export_encoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Large offset and spread: wrong centring or scaling shows at once.
X = (100 * make_data() + 1000).astype(np.float32)
X01 = (X - X.min()) / (X.max() - X.min())


def _run(program, rows):
    with torch.inference_mode():
        return program.module()(torch.from_numpy(np.ascontiguousarray(rows))).numpy()


def _assert_close(got, expected):
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


# The variants, plus a sigmoid output trained with bce (no centring inside).
CASES = [*VARIANTS, AutoencoderTransformer(loss="bce", **FAST)]


@pytest.fixture(scope="module", params=CASES, ids=estimator_id)
def fitted(request):
    est = clone(request.param)
    return est.fit(X01 if est.loss == "bce" else X)


@pytest.fixture(scope="module")
def programs(fitted):
    return export_encoder(fitted), export_decoder(fitted)


@pytest.mark.parametrize("n_rows", [1, 2, 5, 40])
def test_exported_encoder_matches_transform(fitted, programs, n_rows):
    data = (X01 if fitted.loss == "bce" else X)[:n_rows]
    _assert_close(_run(programs[0], data), fitted.transform(data))


@pytest.mark.parametrize("n_rows", [1, 2, 5, 40])
def test_exported_decoder_matches_inverse_transform(fitted, programs, n_rows):
    data = X01 if fitted.loss == "bce" else X
    code = fitted.transform(data[:n_rows])
    _assert_close(_run(programs[1], code), fitted.inverse_transform(code))


def test_export_inside_a_callers_autocast_computes_in_float32(fitted):
    # The program runs wherever it is loaded: an autocast around the export
    # must not be traced into it, as it does not leak into transform.
    data = (X01 if fitted.loss == "bce" else X)[:5]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        encoder, decoder = export_encoder(fitted), export_decoder(fitted)
    code = fitted.transform(data)
    _assert_close(_run(encoder, data), code)
    _assert_close(_run(decoder, code), fitted.inverse_transform(code))


def test_save_and_load_round_trip(fitted, programs, tmp_path):
    encoder, decoder = programs
    torch.export.save(encoder, tmp_path / "encoder.pt2")
    torch.export.save(decoder, tmp_path / "decoder.pt2")
    encoder = torch.export.load(tmp_path / "encoder.pt2")
    decoder = torch.export.load(tmp_path / "decoder.pt2")
    data = X01 if fitted.loss == "bce" else X
    code = _run(encoder, data[:7])
    _assert_close(code, fitted.transform(data[:7]))
    _assert_close(_run(decoder, code), fitted.inverse_transform(code))


def test_batch_size_is_dynamic(fitted, programs):
    encoder, _ = programs
    (batch,) = encoder.range_constraints.values()
    assert batch.upper > 10**6
    many = np.resize(X, (3000, X.shape[1]))
    assert _run(encoder, many).shape == (3000, fitted.n_components_)


def test_programs_carry_only_their_own_weights(programs):
    encoder, decoder = programs
    encoder_weights = set(encoder.state_dict)
    assert encoder_weights and not any("decoder" in name for name in encoder_weights)
    assert not any("encoder_correction" in name for name in decoder.state_dict)


def test_export_is_a_snapshot_of_the_fitted_model():
    est = AutoencoderTransformer(**FAST).fit(X)
    encoder = export_encoder(est)
    before = est.transform(X)
    est.partial_fit(X * 2)
    _assert_close(_run(encoder, X), before)
    assert all(p.requires_grad for p in est.module_.parameters())


def test_decoder_takes_the_fitted_width_after_set_params():
    est = AutoencoderTransformer(**FAST).fit(X)
    code = est.transform(X[:5])
    est.set_params(n_components=3)
    _assert_close(_run(export_decoder(est), code), est.inverse_transform(code))


def test_unfitted_estimator_cannot_be_exported():
    with pytest.raises(NotFittedError):
        export_encoder(AutoencoderTransformer())
    with pytest.raises(NotFittedError):
        export_decoder(AutoencoderTransformer())


def test_wrong_width_rejected_by_the_program():
    est = AutoencoderTransformer(**FAST).fit(X)
    with pytest.raises(Exception, match="shape|size|dimension|Guard"):
        _run(export_encoder(est), X[:, :3])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_exports_for_cpu_and_cuda():
    est = AutoencoderTransformer(**{**FAST, "device": "cuda"}).fit(X)
    _assert_close(_run(export_encoder(est), X), est.transform(X))
    encoder = export_encoder(est, device="cuda").module()
    with torch.inference_mode():
        code = encoder(torch.from_numpy(X).cuda()).cpu().numpy()
    _assert_close(code, est.transform(X))
