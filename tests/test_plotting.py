"""Tests for skae.plotting, on the Agg backend with tiny fitted models."""

import json
import pickle

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skae import (  # noqa: E402
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
)
from skae.plotting import (  # noqa: E402
    LiveReconstruction,
    plot_inpainting,
    plot_interpolation,
    plot_kernels,
    plot_latent_space,
    plot_loss_curve,
    plot_nested_explained_variance,
    plot_pca_vs_ae,
    plot_reconstructions,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_FAST = dict(hidden_layer_sizes=(16,), max_epochs=2, device="cpu", random_state=0)
SHAPE = (8, 8)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.fixture(scope="module")
def X(digits):
    return digits[0]


@pytest.fixture(scope="module")
def ae(X):
    return AutoencoderTransformer(n_components=2, **_FAST).fit(X)


@pytest.fixture(scope="module")
def dae(X):
    return DenoisingAutoencoder(n_components=4, noise="masking", noise_level=0.5, **_FAST).fit(
        X
    )


def _images(fig):
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def _row_labels(fig, n_cols):
    return [ax.get_ylabel() for ax in fig.axes[::n_cols]]


# plot_reconstructions -------------------------------------------------------


def test_reconstructions_show_originals_over_reconstructions(ae, X):
    fig = plot_reconstructions(ae, X, SHAPE, n=5)
    assert isinstance(fig, matplotlib.figure.Figure)
    images = _images(fig)
    assert len(fig.axes) == len(images) == 10
    assert _row_labels(fig, 5) == ["input", "reconstruction"]
    np.testing.assert_array_equal(images[0], X[0].reshape(SHAPE))
    expected = ae.inverse_transform(ae.transform(X[:5]))
    np.testing.assert_allclose(images[5], expected[0].reshape(SHAPE))
    assert fig._suptitle.get_text() == "AutoencoderTransformer (2 components)"


def test_reconstructions_of_any_transformer(X):
    pipe = make_pipeline(StandardScaler(), PCA(n_components=3)).fit(X)
    fig = plot_reconstructions(pipe, X, SHAPE, n=3)
    expected = pipe.inverse_transform(pipe.transform(X[:3]))
    np.testing.assert_allclose(_images(fig)[3], expected[0].reshape(SHAPE))
    assert fig._suptitle.get_text() == "Pipeline"


def test_reconstructions_of_a_denoising_model_show_the_noisy_inputs(dae, X):
    fig = plot_reconstructions(dae, X, SHAPE, n=4, random_state=0)
    assert _row_labels(fig, 4) == ["clean", "masking 0.5", "denoised"]
    images = np.array(_images(fig)).reshape(3, 4, -1)
    noisy = images[1]
    np.testing.assert_array_equal(noisy, dae.corrupt(X[:4], random_state=0))
    masked = noisy != X[:4]
    assert 0.2 < masked[X[:4] != 0].mean() < 0.8
    np.testing.assert_array_equal(noisy[masked], 0)
    denoised = dae.inverse_transform(dae.transform(noisy))
    np.testing.assert_allclose(images[2], denoised, rtol=1e-5)
    again = plot_reconstructions(dae, X, SHAPE, n=4, random_state=0)
    np.testing.assert_array_equal(np.array(_images(again)).reshape(3, 4, -1)[1], noisy)


def test_reconstructions_noisy_row_on_request_only(ae, dae, X):
    assert len(plot_reconstructions(dae, X, SHAPE, n=3, noisy=False).axes) == 6
    with pytest.raises(ValueError, match="noisy=True needs an estimator with a"):
        plot_reconstructions(ae, X, SHAPE, noisy=True)


def test_reconstructions_reuse_a_given_figure(ae, X):
    fig = plt.figure()
    fig.add_subplot()
    assert plot_reconstructions(ae, X, SHAPE, n=3, fig=fig) is fig
    assert len(fig.axes) == 6


# plot_latent_space ----------------------------------------------------------


def test_latent_space_2d_with_labels(ae, digits):
    X, y = digits
    fig = plot_latent_space(ae, X, y)
    (ax,) = fig.axes
    assert ax.name == "rectilinear"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [str(i) for i in range(10)]
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(X)
    assert ax.get_xlabel() == "code unit 0"


def test_latent_space_3d_for_three_units(X, digits):
    ae3 = AutoencoderTransformer(n_components=3, **_FAST).fit(X)
    fig = plot_latent_space(ae3, X, digits[1])
    assert fig.axes[0].name == "3d"
    assert fig.axes[0].get_zlabel() == "code unit 2"
    flat = plot_latent_space(ae3, X, projection="pca")
    assert flat.axes[0].name == "rectilinear"
    with pytest.raises(ValueError, match="needs a 3-D axes"):
        plot_latent_space(ae3, X, ax=plt.figure().add_subplot())


def test_latent_space_of_a_wide_code_says_what_it_shows(dae, X):
    first_two = plot_latent_space(dae, X).axes[0]
    assert "code units 0 and 1 of 4" in first_two.get_title()
    np.testing.assert_allclose(
        first_two.collections[0].get_offsets(), dae.transform(X)[:, :2], rtol=1e-6
    )
    pca = plot_latent_space(dae, X, projection="pca").axes[0]
    assert "PCA of the 4-unit code" in pca.get_title()
    assert pca.get_xlabel().startswith("code PC 1")


def test_latent_space_continuous_colours_get_a_colour_bar(ae, X):
    fig = plot_latent_space(ae, X, y=np.linspace(0, 1, len(X)))
    assert len(fig.axes) == 2


def test_latent_space_one_unit(X):
    ae1 = AutoencoderTransformer(n_components=1, **_FAST).fit(X)
    ax = plot_latent_space(ae1, X).axes[0]
    codes = ax.collections[0].get_offsets()[:, 0]
    np.testing.assert_allclose(codes, ae1.transform(X)[:, 0])


def test_latent_space_bad_arguments(ae, X):
    with pytest.raises(ValueError, match="projection must be"):
        plot_latent_space(ae, X, projection="tsne")
    with pytest.raises(ValueError, match="y must have shape"):
        plot_latent_space(ae, X, y=np.zeros(3))


# plot_loss_curve ------------------------------------------------------------


def test_loss_curve_in_data_units(ae):
    fig = plot_loss_curve(ae)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    expected = np.array(ae.loss_curve_) * ae.scale_**2
    np.testing.assert_allclose(line.get_ydata(), expected)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"


def test_loss_curve_keeps_the_fitted_loss(X):
    est = AutoencoderTransformer(n_components=2, **_FAST).fit(X)
    est.set_params(loss="bce")
    ax = plot_loss_curve(est).axes[0]
    assert ax.get_ylabel() == "mean squared error (data units)"
    expected = np.array(est.loss_curve_) * est.scale_**2
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), expected)


@pytest.mark.parametrize(
    ("fitted", "label"),
    [("kl", " (+ kl penalty)"), ("l1", " (+ l1 penalty)"), ("topk", "")],
)
def test_loss_curve_names_the_fitted_penalty(X, fitted, label):
    est = SparseAutoencoder(n_components=4, sparsity=fitted, **_FAST).fit(X)
    for sparsity in ("kl", "l1", "topk"):
        est.set_params(sparsity=sparsity)
        line = plot_loss_curve(est).axes[0].get_lines()[0]
        assert line.get_label() == "training loss" + label


def test_loss_curve_with_validation_marks_the_best_epoch(X):
    est = AutoencoderTransformer(n_components=2, early_stopping=True, **_FAST)
    est.set_params(max_epochs=4).fit(X)
    ax = plot_loss_curve(est).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["training loss", "validation error", "best epoch (kept)"]
    errors = -np.array(est.validation_scores_)
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), errors)
    best = ax.get_lines()[2].get_xdata()[0]
    assert best == 1 + np.argmax(est.validation_scores_)
    # No epoch beat the starting weights, so the fit kept those: epoch 0.
    est.best_validation_score_ = max(est.validation_scores_) + 1
    ax = plot_loss_curve(est).axes[0]
    assert ax.get_lines()[2].get_xdata()[0] == 0


def test_loss_curve_bce_uses_a_second_axis(X):
    est = SparseAutoencoder(loss="bce", sparsity="l1", early_stopping=True, **_FAST)
    est.fit(X)
    fig = plot_loss_curve(est)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_ylabel() == "binary cross-entropy"
    assert fig.axes[0].get_lines()[0].get_label() == "training loss (+ l1 penalty)"


# plot_kernels ---------------------------------------------------------------


def test_kernels_of_the_linear_path(ae, X):
    fig = plot_kernels(ae, SHAPE)
    assert [ax.get_title() for ax in fig.axes] == ["unit 0", "unit 1"]
    weights = ae.module_.encoder_linear.weight.detach().numpy()
    np.testing.assert_allclose(_images(fig)[1], weights[1].reshape(SHAPE))
    assert "linear path: 2 of 2 units" in fig._suptitle.get_text()
    linear = AutoencoderTransformer(n_components=10, **_FAST)
    linear.set_params(hidden_layer_sizes=()).fit(X)
    assert len(plot_kernels(linear, SHAPE, n=20).axes) == 10
    with pytest.raises(ValueError, match="no hidden layers"):
        plot_kernels(linear, SHAPE, layer="hidden")
    with pytest.raises(ValueError, match="layer must be"):
        plot_kernels(linear, SHAPE, layer="first")


def test_kernels_of_the_hidden_layer(ae):
    fig = plot_kernels(ae, SHAPE, n=5, layer="hidden")
    assert [ax.get_title() for ax in fig.axes] == [f"unit {i}" for i in range(5)]
    weights = ae.module_.encoder_correction[0].weight.detach().numpy()
    np.testing.assert_allclose(_images(fig)[3], weights[3].reshape(SHAPE))
    assert "first hidden layer: 5 of 16 units" in fig._suptitle.get_text()


def test_kernels_on_one_colour_scale_with_a_colour_bar(ae, dae):
    fig = plot_kernels(ae, SHAPE)
    assert len(fig.axes) == 2  # per-image ranges: no colour bar
    weights = dae.module_.encoder_linear.weight.detach().numpy()
    fig = plot_kernels(dae, SHAPE, vmax="shared")
    kernels, colorbar = fig.axes[:4], fig.axes[4]
    limit = np.abs(weights).max()
    for ax in kernels:
        np.testing.assert_allclose(ax.images[0].get_clim(), (-limit, limit))
    assert colorbar.get_ylabel() == "weight"
    # "shared" spans only the units shown.
    fig = plot_kernels(dae, SHAPE, n=1, vmax="shared")
    limit = np.abs(weights[0]).max()
    np.testing.assert_allclose(fig.axes[0].images[0].get_clim(), (-limit, limit))
    # One number puts two models on the same scale.
    for est in (ae, dae):
        clims = {
            ax.images[0].get_clim()
            for ax in plot_kernels(est, SHAPE, vmax=2.5).axes
            if ax.images
        }
        assert clims == {(-2.5, 2.5)}


@pytest.mark.parametrize("vmax", [0, -1.0, "same", True])
def test_kernels_bad_vmax(ae, vmax):
    with pytest.raises(ValueError, match="vmax must be"):
        plot_kernels(ae, SHAPE, vmax=vmax)


# plot_inpainting ------------------------------------------------------------


def test_inpainting_rows(X):
    mask = np.zeros(X.shape, dtype=bool)
    mask[:, :10] = True
    filled = {"first": np.full(X.shape, 0.25), "second": X[::-1]}
    fig = plot_inpainting(X, mask, filled, SHAPE, n=5)
    assert len(fig.axes) == 20
    assert _row_labels(fig, 5) == ["original", "masked", "first", "second"]
    images = _images(fig)
    np.testing.assert_array_equal(images[0], X[0].reshape(SHAPE))
    masked = images[5]
    np.testing.assert_array_equal(np.ma.getmaskarray(masked), mask[0].reshape(SHAPE))
    np.testing.assert_array_equal(masked.compressed(), X[0][~mask[0]])
    np.testing.assert_array_equal(images[10], np.full(SHAPE, 0.25))
    np.testing.assert_array_equal(images[19], X[-5].reshape(SHAPE))
    assert fig.axes[5].images[0].get_clim() == (X[:5].min(), X[:5].max())


def test_inpainting_bad_shapes(X):
    mask = np.zeros(X.shape, dtype=bool)
    with pytest.raises(ValueError, match="mask must have the shape"):
        plot_inpainting(X, mask[:, :10], {}, SHAPE)
    with pytest.raises(ValueError, match=r"filled\['a'\] must have the shape"):
        plot_inpainting(X, mask, {"a": X[:3]}, SHAPE)
    with pytest.raises(ValueError, match="image_shape"):
        plot_inpainting(X, mask, {}, (8, 9))


# plot_interpolation ---------------------------------------------------------


def test_interpolation_rows(ae, X):
    fig = plot_interpolation(ae, X[0], X[1], SHAPE, n_steps=6)
    assert len(fig.axes) == 12
    assert _row_labels(fig, 6) == ["latent path", "pixel blend"]
    images = _images(fig)
    np.testing.assert_array_equal(images[6], X[0].reshape(SHAPE))
    np.testing.assert_array_equal(images[11], X[1].reshape(SHAPE))


# Errors shared by the image plots -------------------------------------------


@pytest.mark.parametrize(
    "plot",
    [
        lambda est, X, shape: plot_reconstructions(est, X, shape),
        lambda est, X, shape: plot_kernels(est, shape, layer="hidden"),
        lambda est, X, shape: plot_interpolation(est, X[0], X[1], shape),
    ],
    ids=["reconstructions", "kernels", "interpolation"],
)
@pytest.mark.parametrize("shape", [(8, 9), (64,), (4, 4, 4)])
def test_bad_image_shape(ae, X, plot, shape):
    with pytest.raises(ValueError, match="image_shape"):
        plot(ae, X, shape)


@pytest.mark.parametrize(
    "plot",
    [
        lambda est, X: plot_reconstructions(est, X, SHAPE),
        lambda est, X: plot_latent_space(est, X),
        lambda est, X: plot_loss_curve(est),
        lambda est, X: plot_kernels(est, SHAPE),
        lambda est, X: plot_interpolation(est, X[0], X[1], SHAPE),
    ],
    ids=["reconstructions", "latent_space", "loss_curve", "kernels", "interpolation"],
)
def test_unfitted(X, plot):
    with pytest.raises(NotFittedError):
        plot(AutoencoderTransformer(), X)


# plot_pca_vs_ae -------------------------------------------------------------


def _records():
    records = []
    for dataset in ("multiples", "swiss_roll", "digits"):
        for method, factor in [("sparse", 1.2), ("pca", 1.0), ("autoencoder", 0.5)]:
            records += [
                {
                    "dataset": dataset,
                    "method": method,
                    "n_components": k,
                    "test_mse": factor / k,
                }
                for k in (1, 2, 4)
            ]
    return records


def test_pca_vs_ae_one_axes_per_dataset(tmp_path):
    fig = plot_pca_vs_ae(_records())
    assert [ax.get_title() for ax in fig.axes] == ["multiples", "swiss_roll", "digits"]
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["pca", "autoencoder", "sparse"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.5, 0.25, 0.125])
    assert ax.get_yscale() == "log"
    path = tmp_path / "pca_vs_ae.json"
    path.write_text(json.dumps(_records()))
    assert len(plot_pca_vs_ae(str(path), dataset="digits").axes) == 1
    assert len(plot_pca_vs_ae(path).axes) == 3


def test_pca_vs_ae_averages_repeats_and_draws_on_ax():
    records = _records() + [
        {"dataset": "digits", "method": "pca", "n_components": 1, "test_mse": 3.0}
    ]
    ax = plt.figure().add_subplot()
    fig = plot_pca_vs_ae(records, "digits", ax=ax)
    assert fig is ax.figure
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [2.0, 0.5, 0.25])


def test_pca_vs_ae_relative_error_with_a_floor_and_distinct_styles():
    records = [
        {
            "dataset": "multiples",
            "method": method,
            "n_components": k,
            "test_mse": mse,
            "test_variance": 100.0,
        }
        for method, mse in [("pca", 1e-25), ("autoencoder", 1e-3), ("sparse", 2.0)]
        for k in (1, 2)
    ]
    fig = plot_pca_vs_ae(records, "multiples", metric="relative_mse", floor=1e-6)
    ax = fig.axes[0]
    pca, autoencoder, sparse = ax.get_lines()[:3]
    np.testing.assert_allclose(pca.get_ydata(), [1e-6, 1e-6])  # floored
    np.testing.assert_allclose(autoencoder.get_ydata(), [1e-5, 1e-5])
    np.testing.assert_allclose(sparse.get_ydata(), [0.02, 0.02])
    styles = {(line.get_marker(), line.get_linestyle()) for line in (pca, autoencoder, sparse)}
    assert len(styles) == 3
    assert ax.get_ylim()[0] < 1e-6 and ax.get_ylabel() == "test error / test variance"
    # The legend sits right of the axes, off the data.
    legend = ax.get_legend()
    fig.canvas.draw()
    assert legend.get_window_extent().x0 > ax.get_window_extent().x1


def test_pca_vs_ae_draws_bars_for_a_single_size():
    records = [
        {"dataset": "mnist", "method": method, "n_components": 30, "test_sse_per_image": sse}
        for method, sse in [("pca", 13.87), ("autoencoder", 4.65)]
    ]
    fig = plot_pca_vs_ae(records, metric="test_sse_per_image")
    ax = fig.axes[0]
    assert [patch.get_height() for patch in ax.patches] == [13.87, 4.65]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pca", "autoencoder"]
    assert ax.get_ylabel() == "test squared error per image"
    assert ax.get_legend() is None


def test_pca_vs_ae_errors():
    with pytest.raises(ValueError, match="ax= draws one data set"):
        plot_pca_vs_ae(_records(), ax=plt.figure().add_subplot())
    with pytest.raises(ValueError, match="dataset='mnist'"):
        plot_pca_vs_ae(_records(), dataset="mnist")
    with pytest.raises(ValueError, match="No records with 'r2'"):
        plot_pca_vs_ae(_records(), metric="r2")


# LiveReconstruction ---------------------------------------------------------


def test_live_reconstruction_redraws_during_fit(X):
    live = LiveReconstruction(X[-6:], SHAPE, n=4, every=2)
    est = AutoencoderTransformer(n_components=2, callbacks=[live], **_FAST)
    est.set_params(max_epochs=5, tol=0).fit(X[:-6])
    assert est.n_iter_ == 5
    assert live.n_draws_ == 2
    figure = live.figure_
    assert len(figure.axes) == 8
    assert "epoch 4" in figure._suptitle.get_text()
    # The last redraw was after epoch 4, so the picture is one epoch behind.
    shown = _images(figure)[4:]
    now = est.inverse_transform(est.transform(X[-6:-2]))
    assert not np.allclose(shown[0], now[0].reshape(SHAPE))
    est.set_params(max_epochs=2).fit(X[:-6])
    assert live.figure_ is figure
    assert live.n_draws_ == 3
    np.testing.assert_allclose(
        np.array(_images(figure)[4:]).reshape(4, -1),
        est.inverse_transform(est.transform(X[-6:-2])),
        rtol=1e-5,
    )


def test_live_reconstruction_survives_clone_and_pickle(X):
    live = LiveReconstruction(X[:4], SHAPE)
    est = AutoencoderTransformer(callbacks=[live], **_FAST).fit(X)
    assert live.n_draws_ == 2
    restored = pickle.loads(pickle.dumps(est))
    (copy,) = restored.callbacks
    assert not hasattr(copy, "figure_")
    assert copy.n_draws_ == 2
    copy(restored)
    assert copy.figure_ is not live.figure_
    cloned = clone(est)
    assert cloned.callbacks[0] is not live
    assert not hasattr(cloned.callbacks[0], "figure_")
    assert "LiveReconstruction(X=<ndarray of shape (4, 64)>" in repr(est)


def test_live_reconstruction_bad_image_shape(X):
    est = AutoencoderTransformer(callbacks=[LiveReconstruction(X[:4], (8, 7))], **_FAST)
    with pytest.raises(ValueError, match="image_shape"):
        est.fit(X)


# plot_nested_explained_variance ---------------------------------------------


def test_nested_curve_beside_pca(X):
    est = AutoencoderTransformer(n_components=0.5, **_FAST).fit(X)
    pca = PCA(4).fit(X)
    ax = plot_nested_explained_variance(est, pca).axes[0]
    curve, pca_line, share, width = ax.get_lines()
    np.testing.assert_allclose(curve.get_ydata(), est.nested_explained_variance_)
    np.testing.assert_allclose(pca_line.get_ydata(), np.cumsum(pca.explained_variance_ratio_))
    assert share.get_ydata()[0] == 0.5 and width.get_xdata()[0] == est.n_components_


def test_nested_curve_marks_the_share_the_model_was_fitted_with(X):
    est = AutoencoderTransformer(n_components=0.5, **_FAST).fit(X)
    width = est.n_components_
    est.set_params(n_components=0.9)
    _, share, chosen = plot_nested_explained_variance(est).axes[0].get_lines()
    assert share.get_ydata()[0] == 0.5 and chosen.get_xdata()[0] == width
    # A nested fit of a given width chose none, whatever the parameter says now.
    est = AutoencoderTransformer(n_components=3, nested=True, **_FAST).fit(X)
    est.set_params(n_components=0.5)
    assert len(plot_nested_explained_variance(est).axes[0].get_lines()) == 1


def test_nested_curve_needs_a_nested_fit(ae):
    with pytest.raises(ValueError, match="was not fitted nested"):
        plot_nested_explained_variance(ae)
