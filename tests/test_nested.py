"""Nested codes (nested=True) and n_components as a share of variance."""

import math
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoencoderTransformer,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _base,
    _training,
)
from skae._principal_components import PrincipalAxes
from skae.serving import export_decoder, export_encoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Enough steps (10 per epoch) for a code to take shape, on a small network.
_FAST = dict(
    hidden_layer_sizes=(16,),
    batch_size=40,
    learning_rate=1e-2,
    max_epochs=30,
    device="cpu",
    random_state=0,
)


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:400]


def _prefix_r2(est, X):
    """R² of reconstructing ``X`` from each prefix of the code, through the public API."""
    Z = est.transform(X)
    deviations = ((X - X.mean(axis=0)) ** 2).sum()
    r2 = []
    for m in range(1, Z.shape[1] + 1):
        Z_m = Z.copy()
        Z_m[:, m:] = 0
        r2.append(1 - ((est.inverse_transform(Z_m) - X) ** 2).sum() / deviations)
    return np.array(r2)


@pytest.mark.parametrize("nested", [True, False])
def test_prefix_error_falls_as_m_grows_only_for_a_nested_code(X, nested):
    # From a random start, so that only the objective orders the code. The
    # error falls as m grows, and the first m units carry at least their
    # share of the whole code's (the curve is above its chord, as PCA's
    # cumulative ratio is). A plain code has no order: its first units carry
    # little (measured: 0.02 for the first of 6 units, against 0.17 nested).
    est = AutoencoderTransformer(6, nested=nested, init="random", **_FAST).fit(X)
    r2 = _prefix_r2(est, X)
    chord = r2[-1] * np.arange(1, r2.size + 1) / r2.size
    ordered = bool(np.all(np.diff(r2) > 0) and np.all(r2[:-1] >= chord[:-1]))
    assert ordered == nested
    if nested:
        # The attribute is the same curve, measured on the training rows.
        np.testing.assert_allclose(est.nested_explained_variance_, r2, atol=1e-4)
    else:
        assert not hasattr(est, "nested_explained_variance_")


def test_the_curve_is_decoded_in_the_fits_precision(X):
    # The curve decodes every row once per unit, so a bfloat16 fit measures
    # it in bfloat16: close to the float32 curve, but not the same numbers.
    est = AutoencoderTransformer(6, nested=True, precision="bfloat16", **_FAST).fit(X)
    rows = _training.to_tensor(X, est.mean_, est.scale_, est.device_)
    est.precision_ = "float32"
    float32_curve = _training.prefix_explained_variance(est, rows, None)
    difference = np.abs(est.nested_explained_variance_ - float32_curve).max()
    assert 0 < difference < 1e-3


def test_the_curve_is_pca_cumulative_ratio_for_a_linear_start(X):
    # A linear network that does not move from its PCA start reconstructs as
    # PCA: its curve is PCA's cumulative explained_variance_ratio_.
    est = AutoencoderTransformer(
        5, nested=True, hidden_layer_sizes=(), learning_rate=1e-12, max_epochs=1
    ).fit(X)
    ratios = np.cumsum(PCA(5).fit(X).explained_variance_ratio_)
    np.testing.assert_allclose(est.nested_explained_variance_, ratios, rtol=1e-4)


@pytest.mark.parametrize(
    "est",
    [
        AutoencoderTransformer(6, nested=True, **_FAST),
        AutoencoderTransformer(6, nested=True, tied_weights=True, **_FAST),
        VariationalAutoencoder(6, nested=True, **_FAST),
        SparseAutoencoder(6, nested=True, sparsity="kl", **_FAST),
    ],
    ids=["plain", "tied", "variational", "sparse_kl"],
)
def test_a_cut_network_decodes_as_the_prefix_of_the_full_one(X, est):
    est.set_params(max_epochs=3).fit(X)
    Z = est.transform(X)
    Z[:, 3:] = 0
    expected = est.inverse_transform(Z)
    # The variational model recomputes its noise variance from the scaled rows.
    rows = _training.to_tensor(X, est.mean_, est.scale_, est.device_)
    est._truncate(3, PrincipalAxes(rows))
    if isinstance(est, VariationalAutoencoder):
        assert est.module_.encoder_log_var.out_features == 3
    assert est.n_components_ == 3
    np.testing.assert_allclose(est.inverse_transform(est.transform(X)), expected, atol=1e-4)


def test_a_share_of_variance_picks_the_smallest_width_reaching_it(X):
    share = 0.6
    est = AutoencoderTransformer(share, **_FAST).fit(X)
    curve = est.nested_explained_variance_
    # The nested fit is as wide as PCA needs for the share.
    assert curve.size == PCA(share).fit(X).n_components_
    width = est.n_components_
    assert curve[width - 1] >= share and np.all(curve[: width - 1] < share)
    assert width < curve.size
    # The model's own epochs; the search's are not counted.
    assert est.n_iter_ == 30
    assert est.transform(X).shape == (400, width)
    assert est.inverse_transform(np.zeros((2, width))).shape == (2, 64)
    with pytest.raises(ValueError, match=f"expecting {width} features"):
        est.inverse_transform(np.zeros((2, curve.size)))
    assert len(est.get_feature_names_out()) == width
    assert export_encoder(est).module()(_training.to_tensor(X[:2], 0, 1, "cpu")).shape == (
        2,
        width,
    )
    assert tuple(export_decoder(est).example_inputs[0][0].shape) == (2, width)
    # The fine-tuned model still explains the share on its training data.
    assert 1 - (-est.score(X)) / X.var(axis=0).mean() >= share


@pytest.mark.parametrize("max_epochs", [1, 2, 5])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_share_of_variance_searches_then_trains_a_network_for_the_width(
    X, monkeypatch, max_epochs, early_stopping
):
    # The nested search trains a fifth of the epochs (rounded up), then a
    # network built for the chosen width, with the hidden layers "auto" gives
    # that width, trains all of them from its PCA start.
    epochs, sized = [], []
    fit_loop, auto_sizes = _training.fit_loop, _base.auto_hidden_layer_sizes

    def loop_spy(est, X, X_val, n_epochs, *args, **kwargs):
        epochs.append((est.n_components_, n_epochs))
        return fit_loop(est, X, X_val, n_epochs, *args, **kwargs)

    def sizes_spy(n_features, n_components):
        sized.append(n_components)
        return auto_sizes(n_features, n_components)

    monkeypatch.setattr(_training, "fit_loop", loop_spy)
    monkeypatch.setattr(_base, "auto_hidden_layer_sizes", sizes_spy)
    params = {
        **_FAST,
        "max_epochs": max_epochs,
        "hidden_layer_sizes": "auto",
        "early_stopping": early_stopping,
        "n_iter_no_change": 100,
    }
    est = AutoencoderTransformer(0.6, **params).fit(X)
    widest, width = est.nested_explained_variance_.size, est.n_components_
    assert epochs == [(widest, math.ceil(max_epochs / 5)), (width, max_epochs)]
    assert sized == [widest, width]
    assert est.n_iter_ == len(est.loss_curve_) == max_epochs
    if early_stopping:
        assert len(est.validation_scores_) == max_epochs


def test_a_share_of_variance_resolves_the_precision_for_each_network(X, monkeypatch):
    # The search's network and the one built for the width are different
    # sizes, so "auto" precision is decided for each as it starts training.
    seen = []
    resolve = _training.resolve_precision

    def spy(precision, device, multiply_adds, *args):
        seen.append(multiply_adds)
        return resolve(precision, device, multiply_adds, *args)

    monkeypatch.setattr(_training, "resolve_precision", spy)
    est = AutoencoderTransformer(0.6, **{**_FAST, "hidden_layer_sizes": "auto"}).fit(X)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert seen[1] == _base.multiply_adds(est.module_)


@pytest.mark.parametrize("how", ["callback", "interrupt"])
def test_a_stop_request_while_choosing_the_width_ends_the_fit(X, how):
    def stop(est):
        if est.n_iter_ == 2:
            if how == "interrupt":
                raise KeyboardInterrupt
            return True
        return False

    # 30 epochs: the first 6 train the nested code.
    est = AutoencoderTransformer(0.6, callbacks=[stop], **_FAST)
    if how == "interrupt":
        with pytest.warns(UserWarning, match="interrupted after 2 epochs"):
            est.fit(X)
    else:
        est.fit(X)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    # The width is still chosen from the nested code, and the model cut to it.
    width = est.n_components_
    assert width <= est.nested_explained_variance_.size
    assert est.transform(X).shape == (400, width)
    assert est.inverse_transform(np.zeros((2, width))).shape == (2, 64)


def test_partial_fit_chooses_the_width_on_its_first_call(X):
    est = AutoencoderTransformer(0.6, **_FAST)
    est.partial_fit(X)
    width, curve = est.n_components_, est.nested_explained_variance_
    assert width <= curve.size and est.n_iter_ == 1
    est.partial_fit(X)
    assert est.n_components_ == width and est.n_iter_ == 2
    assert est.nested_explained_variance_ is curve


@pytest.fixture
def nested_calls(monkeypatch):
    calls = []
    real = _training.nested_loss

    def spy(*args):
        calls.append(args[4])  # the prefix sizes
        return real(*args)

    monkeypatch.setattr(_training, "nested_loss", spy)
    return calls


def test_each_step_decodes_the_whole_code_and_two_drawn_prefixes(X, monkeypatch):
    decoded = []
    real = _training.prefix_losses

    def spy(module, code, target, loss, sizes):
        decoded.append([int(m) for m in sizes])
        return real(module, code, target, loss, sizes)

    monkeypatch.setattr(_training, "prefix_losses", spy)
    params = {**_FAST, "max_epochs": 3, "early_stopping": False}
    AutoencoderTransformer(16, nested=True, **params).fit(X)
    # 10 steps per epoch; the rest are the curve's and the checks' full passes.
    steps = [sizes for sizes in decoded if len(sizes) == 3]
    assert len(steps) == 30
    assert all(sizes[-1] == 16 and sizes[0] != sizes[1] for sizes in steps)
    assert {m for sizes in steps for m in sizes[:2]} == {1, 2, 4, 8}
    assert all(sizes == [1, 2, 4, 8, 16] for sizes in decoded if len(sizes) != 3)


def test_pickle_partial_fit_and_warm_start_keep_training_nested(X, nested_calls):
    est = AutoencoderTransformer(6, nested=True, **_FAST).set_params(max_epochs=2).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(
        restored.nested_explained_variance_, est.nested_explained_variance_
    )
    nested_calls.clear()
    restored.partial_fit(X)
    assert nested_calls and set(nested_calls) == {(1, 2, 4, 6)}
    nested_calls.clear()
    est.set_params(warm_start=True).fit(X)
    assert nested_calls and est.n_iter_ == 4
    # Turning nesting off trains plainly, and the curve goes with it.
    nested_calls.clear()
    est.set_params(nested=False).fit(X)
    assert not nested_calls and not hasattr(est, "nested_explained_variance_")


def test_a_plain_fit_never_trains_nested(X, nested_calls):
    AutoencoderTransformer(6, max_epochs=2, device="cpu").fit(X)
    assert not nested_calls


@pytest.mark.parametrize(
    "Estimator", [DenoisingAutoencoder, ContractiveAutoencoder, VariationalAutoencoder]
)
def test_every_variant_trains_nested_with_its_own_objective(X, Estimator, nested_calls):
    est = Estimator(6, nested=True, **_FAST).set_params(max_epochs=2).fit(X)
    assert nested_calls and est.nested_explained_variance_.shape == (6,)


@pytest.mark.parametrize("n_components", [1.5, 0.0, 1.0, -0.5, "0.5"])
def test_bad_n_components_are_rejected(X, n_components):
    with pytest.raises(InvalidParameterError, match="'n_components' parameter"):
        AutoencoderTransformer(n_components).fit(X)


def test_nested_must_be_a_boolean(X):
    with pytest.raises(InvalidParameterError, match="'nested' parameter"):
        AutoencoderTransformer(nested="yes").fit(X)


@pytest.mark.parametrize("params", [dict(nested=True), dict(n_components=0.5)])
def test_top_k_cannot_be_nested(X, params):
    est = SparseAutoencoder(**{"n_components": 4, "sparsity": "topk", **params})
    with pytest.raises(ValueError, match="sparsity='topk' cannot be trained nested"):
        est.fit(X)


def test_partial_fit_measures_the_curve_on_a_share_of_its_chunk(X, monkeypatch):
    # The curve decodes each row once per unit: after one epoch it reads one
    # row in n_components_, at least 256; after a fit, up to 10,000.
    measured = []
    curve = _training.prefix_explained_variance

    def spy(est, rows, max_rows):
        measured.append(max_rows)
        return curve(est, rows, max_rows)

    monkeypatch.setattr(_training, "prefix_explained_variance", spy)
    est = AutoencoderTransformer(4, nested=True, **_FAST).set_params(max_epochs=1)
    est.fit(X)
    est.partial_fit(np.tile(X, (5, 1)))
    est.partial_fit(X)
    assert measured == [10_000, 500, 256]
    assert est.nested_explained_variance_.shape == (4,)
