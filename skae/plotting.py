"""Plots of fitted autoencoders: reconstructions, codes, training, kernels, benchmarks.

matplotlib is imported inside the functions, so ``import skae`` stays light.
Every function returns the :class:`~matplotlib.figure.Figure` it drew on.
"""

import json
import math
import os
from numbers import Integral, Real

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from ._autoencoders import SparseAutoencoder
from ._base import _FLOAT_DTYPES
from .interpolation import interpolate

# Benchmark methods in the order their lines are drawn (and coloured).
_METHODS = ("pca", "autoencoder", "denoising", "sparse", "contractive")
# Above this many distinct labels, a colour bar reads better than a legend.
_MAX_LEGEND_CLASSES = 20


# Shared helpers --------------------------------------------------------------


def _check_image_shape(image_shape, n_features):
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 2 or math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} does not fit the data: it must be "
            f"(height, width) with height * width == n_features = {n_features}."
        )
    return shape


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _rows(X, n):
    """The first ``n`` rows of ``X`` as given (for the estimator) and as floats."""
    X = X[:n]
    return X, check_array(X, dtype=_FLOAT_DTYPES)


def _new_figure(fig, figsize):
    """``fig`` cleared for reuse, or a new figure."""
    import matplotlib.pyplot as plt

    if fig is None:
        return plt.figure(figsize=figsize, layout="constrained")
    fig.clear()
    return fig


def _new_axes(ax, **kwargs):
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(layout="constrained").add_subplot(**kwargs)
    return ax


def _image_rows(fig, rows, labels, image_shape, cmap, vmin, vmax):
    """Draw each row of flat images on a grid; returns the images, row by row."""
    axes = fig.subplots(len(rows), rows[0].shape[0], squeeze=False)
    images = []
    for row, label, row_axes in zip(rows, labels, axes):
        images.append(
            [
                ax.imshow(x.reshape(image_shape), cmap=cmap, vmin=vmin, vmax=vmax)
                for x, ax in zip(row, row_axes)
            ]
        )
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(label, fontsize="small")
    return images


def _is_positive_number(value):
    return isinstance(value, Real) and not isinstance(value, bool) and value > 0


def _grid_size(n, n_rows):
    return (1.0 * n + 0.4, 1.0 * n_rows + 0.5)


# Reconstructions -------------------------------------------------------------


def plot_reconstructions(
    est, X, image_shape, n=8, *, noisy=None, random_state=None, cmap="gray_r", fig=None
):
    """Show images over their reconstructions.

    The top row shows the first ``n`` rows of ``X``, the bottom row their
    reconstructions ``inverse_transform(transform(X))``. For a
    :class:`~skae.DenoisingAutoencoder` a middle row shows the inputs
    corrupted by the estimator's own noise (its
    :meth:`~skae.DenoisingAutoencoder.corrupt`, as in training), and the
    bottom row what the model makes of them: the denoised images.

    Parameters
    ----------
    est : estimator
        A fitted autoencoder, or any fitted transformer with
        ``inverse_transform`` (such as :class:`~sklearn.decomposition.PCA`).
    X : array-like of shape (n_samples, n_features)
        Images, flattened row-major; the first ``n`` are shown.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n : int, default=8
        Number of images to show.
    noisy : bool, default=None
        Whether to add the noisy row; ``None`` means yes for an estimator
        with a ``corrupt`` method (a :class:`~skae.DenoisingAutoencoder`),
        and only such an estimator can have it.
    random_state : int, RandomState instance or None, default=None
        Seeds the corruption.
    cmap : str or Colormap, default="gray_r"
        Colour map of the images, all drawn on the range of the originals.
    fig : Figure or SubFigure, default=None
        Where to draw (it is cleared first); a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure, with one axes per image.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_reconstructions
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=2, random_state=0).fit(X)
    >>> fig = plot_reconstructions(ae, X, (8, 8), n=6)
    >>> len(fig.axes)
    12
    """
    check_is_fitted(est)
    X_shown, originals = _rows(X, _check_count(n, "n"))
    image_shape = _check_image_shape(image_shape, originals.shape[1])
    denoising = hasattr(est, "corrupt")
    if noisy is None:
        noisy = denoising
    elif noisy and not denoising:
        raise ValueError(
            "noisy=True needs an estimator with a corrupt method (a "
            f"DenoisingAutoencoder), got {type(est).__name__}."
        )
    rows, labels = [originals], ["clean" if noisy else "input"]
    if noisy:
        X_shown = est.corrupt(originals, random_state=random_state)
        rows.append(X_shown)
        labels.append(f"{est.noise} {est.noise_level:g}")
    rows.append(est.inverse_transform(est.transform(X_shown)))
    labels.append("denoised" if noisy else "reconstruction")
    fig = _new_figure(fig, _grid_size(len(originals), len(rows)))
    _image_rows(fig, rows, labels, image_shape, cmap, originals.min(), originals.max())
    size = getattr(est, "n_components_", None)
    fig.suptitle(type(est).__name__ + ("" if size is None else f" ({size} components)"))
    return fig


# Codes -----------------------------------------------------------------------


def plot_latent_space(est, X, y=None, *, projection=None, ax=None, **scatter_kwargs):
    """Scatter the codes of ``X``, coloured by ``y``.

    A code of two units is drawn in 2-D and one of three in 3-D. A wider
    code shows its first two units, or with ``projection="pca"`` its first
    two principal components; the axis labels and title say which. A
    one-unit code is drawn against a random vertical jitter.

    Parameters
    ----------
    est : estimator
        A fitted transformer, such as any skae autoencoder.
    X : array-like of shape (n_samples, n_features)
        Data to encode.
    y : array-like of shape (n_samples,), default=None
        Colours: class labels (up to 20 distinct values) get a legend, other
        values (such as a manifold coordinate) a colour bar.
    projection : {None, "pca"}, default=None
        ``"pca"`` draws the first two principal components of a code of
        three or more units.
    ax : Axes, default=None
        Where to draw; it must be a 3-D axes for a 3-D plot
        (``fig.add_subplot(projection="3d")``). A new figure when ``None``.
    **scatter_kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter`.

    Returns
    -------
    fig : Figure
        The figure holding ``ax``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_latent_space
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=3, max_epochs=2, random_state=0).fit(X)
    >>> fig = plot_latent_space(ae, X, y)
    >>> fig.axes[0].name
    '3d'
    """
    import matplotlib.pyplot as plt

    check_is_fitted(est)
    if projection not in (None, "pca"):
        raise ValueError(f"projection must be None or 'pca', got {projection!r}.")
    Z = est.transform(X)
    n_units = Z.shape[1]
    labels = [f"code unit {i}" for i in range(n_units)]
    title = f"{n_units}-unit code"
    if projection == "pca" and n_units > 2:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(Z)
        Z = pca.transform(Z)
        labels = [
            f"code PC {i + 1} ({ratio:.0%} of variance)"
            for i, ratio in enumerate(pca.explained_variance_ratio_)
        ]
        title = f"PCA of the {n_units}-unit code"
    elif n_units > 3:
        Z, labels = Z[:, :2], labels[:2]
        title = f"code units 0 and 1 of {n_units}"
    elif n_units == 1:
        jitter = np.random.default_rng(0).uniform(-1, 1, Z.shape[0])
        Z, labels = np.column_stack([Z[:, 0], jitter]), [labels[0], "random jitter"]

    three_d = Z.shape[1] == 3
    ax = _new_axes(ax, projection="3d" if three_d else None)
    if three_d and ax.name != "3d":
        raise ValueError(
            "A 3-unit code needs a 3-D axes (fig.add_subplot(projection='3d')), "
            "or projection='pca' for a 2-D plot."
        )
    scatter_kwargs.setdefault("s", 8)
    if y is None:
        ax.scatter(*Z.T, **scatter_kwargs)
    else:
        y = np.asarray(y)
        if y.shape != (Z.shape[0],):
            raise ValueError(f"y must have shape ({Z.shape[0]},), got {y.shape}.")
        classes, index = np.unique(y, return_inverse=True)
        categorical = type_of_target(y) in ("binary", "multiclass")
        if categorical and len(classes) <= _MAX_LEGEND_CLASSES:
            colors = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
            for i, label in enumerate(classes):
                points = Z[index == i].T
                ax.scatter(*points, color=colors(i), label=str(label), **scatter_kwargs)
            # A 3-D axes fills its box: a legend inside would cover the ticks.
            outside = {"loc": "center left", "bbox_to_anchor": (1.1, 0.5)}
            ax.legend(fontsize="small", markerscale=2, **(outside if three_d else {}))
        else:
            points = ax.scatter(*Z.T, c=y, cmap="viridis", **scatter_kwargs)
            ax.figure.colorbar(points, ax=ax)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if three_d:
        ax.set_zlabel(labels[2])
    if n_units == 1:
        ax.set_yticks([])
    ax.set_title(f"{type(est).__name__}: {title}")
    return ax.figure


# Training --------------------------------------------------------------------


def plot_loss_curve(est, ax=None):
    """Plot the training loss, and the validation error, per epoch.

    ``loss_curve_`` is recorded in the internally scaled units; with
    ``loss="mse"`` it is multiplied by ``scale_ ** 2`` here, which gives the
    mean squared error in the data's units, the units of the validation
    error (``-validation_scores_``) and of ``score``. Two things keep the
    training curve apart from ``-score`` on the same data: it averages the
    epoch's batches while the weights move, and it is the training
    objective, measured on corrupted inputs for a denoising model and
    including the penalty (also scaled) for a KL or L1 sparse model. With
    ``loss="bce"`` the training loss is a cross-entropy, drawn against a
    second y-axis. With early stopping a dotted line marks the best epoch,
    whose weights the estimator keeps (epoch 0 when no epoch beat the
    starting weights). The y-axes are logarithmic.

    Parameters
    ----------
    est : estimator
        A fitted skae autoencoder.
    ax : Axes, default=None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure holding ``ax`` (and, with ``loss="bce"`` and early
        stopping, its twin axes).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_loss_curve
    >>> X = load_digits().data
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=3, early_stopping=True,
    ...                             random_state=0).fit(X)
    >>> fig = plot_loss_curve(ae)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['training loss', 'validation error', 'best epoch (kept)']
    """
    check_is_fitted(est)
    ax = _new_axes(ax)
    losses = np.asarray(est.loss_curve_, dtype=float)
    epochs = np.arange(1, losses.size + 1)
    label = "training loss"
    if hasattr(est, "corrupt"):
        label += " (noisy inputs)"
    elif isinstance(est, SparseAutoencoder) and "top_k" not in est._fitted_architecture:
        # From the network that was fitted, not the sparsity parameter, which
        # set_params may have changed since: a KL code ends in a sigmoid.
        kl = est._fitted_architecture.get("code_activation") == "sigmoid"
        label += f" (+ {'kl' if kl else 'l1'} penalty)"
    error_ax = ax
    if est._fitted_loss == "mse":
        ax.plot(epochs, losses * est.scale_**2, label=label)
        ax.set_ylabel("mean squared error (data units)")
    else:
        ax.plot(epochs, losses, label=label)
        ax.set_ylabel("binary cross-entropy")
        if est.validation_scores_:
            error_ax = ax.twinx()
            error_ax.set_ylabel("mean squared error (data units)")
            error_ax.set_yscale("log")
    if est.validation_scores_:
        scores = np.asarray(est.validation_scores_, dtype=float)
        # After a warm start that turned early stopping on, only the last
        # epochs have a validation score.
        val_epochs = epochs[epochs.size - scores.size :]
        error_ax.plot(val_epochs, -scores, color="C1", label="validation error")
        # When no epoch beat the weights training started from, those are kept.
        best = np.flatnonzero(scores == est.best_validation_score_)
        ax.axvline(
            val_epochs[best[0]] if best.size else val_epochs[0] - 1,
            color="0.4",
            linestyle=":",
            label="best epoch (kept)",
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    handles = ax.get_lines() + ([] if error_ax is ax else error_ax.get_lines())
    ax.legend(handles=handles, loc="upper right")
    ax.set_title(f"{type(est).__name__}: {est.n_iter_} epochs")
    return ax.figure


def plot_nested_explained_variance(est, pca=None, ax=None):
    """Plot a nested fit's explained variance against its code width, beside PCA's.

    Draws ``nested_explained_variance_``: for each m, the share of the
    variance reconstructed from the first m code units alone. A fitted
    :class:`~sklearn.decomposition.PCA` adds its cumulative
    ``explained_variance_ratio_``, the same quantity for its first m
    components (on its own training data). For a model fitted with a float
    ``n_components``, a dashed line marks the share asked for and a dotted
    one the width chosen.

    Parameters
    ----------
    est : estimator
        A skae autoencoder fitted with ``nested=True`` or a float
        ``n_components``.
    pca : PCA, default=None
        A fitted PCA to compare with.
    ax : Axes, default=None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure holding ``ax``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_nested_explained_variance
    >>> X = load_digits().data
    >>> ae = AutoencoderTransformer(n_components=8, nested=True, max_epochs=3,
    ...                             random_state=0).fit(X)
    >>> fig = plot_nested_explained_variance(ae, PCA(8).fit(X))
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['AutoencoderTransformer (nested)', 'PCA']
    """
    check_is_fitted(est)
    if not hasattr(est, "nested_explained_variance_"):
        raise ValueError(
            f"{type(est).__name__} was not fitted nested: fit it with nested=True "
            "or a float n_components to plot its nested_explained_variance_."
        )
    ax = _new_axes(ax)
    curve = np.asarray(est.nested_explained_variance_, dtype=float)
    widths = np.arange(1, curve.size + 1)
    ax.plot(widths, curve, marker=".", label=f"{type(est).__name__} (nested)")
    if pca is not None:
        check_is_fitted(pca)
        ratios = np.cumsum(pca.explained_variance_ratio_)
        ax.plot(np.arange(1, ratios.size + 1), ratios, marker=".", label="PCA")
    # The share the fitted width was chosen by: set_params may have changed
    # n_components since.
    share = est._fitted_architecture["n_components"]
    if isinstance(share, float):
        ax.axhline(share, color="0.4", linestyle="--", label=f"share asked ({share:g})")
        ax.axvline(
            est.n_components_,
            color="0.4",
            linestyle=":",
            label=f"width chosen ({est.n_components_})",
        )
    ax.set_xlabel("code units kept (m)")
    ax.set_ylabel("explained variance (R²)")
    ax.legend(loc="lower right")
    ax.set_title(f"{type(est).__name__}: the first m units of one fit")
    return ax.figure


# Weights ---------------------------------------------------------------------


def plot_kernels(
    est, image_shape, n=16, *, layer="linear", vmax=None, cmap="RdBu_r", fig=None
):
    """Show first-layer encoder weights as images.

    Each image is the weight vector of one unit: the pixel pattern the unit
    responds to, in the centred and scaled input the encoder sees. Two
    layers read the input:

    - ``"linear"``, the linear path: one kernel per code unit, in code
      order. It is the more telling layer of skae's networks. With
      ``init="pca"`` it starts at the principal axes and training reshapes
      it, so the differences that noise or sparsity make show here; without
      hidden layers it is the whole encoder.
    - ``"hidden"``, the first layer of the nonlinear correction, one kernel
      per unit of ``hidden_layer_sizes[0]`` (the first ``n`` are shown).
      These weights start at random and, on small data or in a short
      training, stay close to that noise; weights of pixels that never vary
      (an image's blank border) get no gradient and stay random for good.

    Each image has its own colour range, symmetric around zero, unless
    ``vmax`` sets one range for all; then a colour bar shows it. To compare
    two models' kernels, draw both with the same number ``vmax``.

    Parameters
    ----------
    est : estimator
        A fitted skae autoencoder.
    image_shape : tuple of int
        ``(height, width)`` of one input image.
    n : int, default=16
        Number of units to show, eight per row (fewer if the layer is
        narrower).
    layer : {"linear", "hidden"}, default="linear"
        Which layer's weights to show.
    vmax : float or "shared", default=None
        Colour range ``[-vmax, vmax]`` of every image. ``"shared"`` takes the
        largest absolute weight of the units shown; ``None`` gives each image
        the range of its own weights (and no colour bar).
    cmap : str or Colormap, default="RdBu_r"
        A diverging colour map: the sign of a weight matters.
    fig : Figure or SubFigure, default=None
        Where to draw (it is cleared first); a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure, with one axes per unit.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_kernels
    >>> X = load_digits().data
    >>> ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(32,),
    ...                             max_epochs=2, random_state=0).fit(X)
    >>> len(plot_kernels(ae, (8, 8)).axes)
    4
    >>> len(plot_kernels(ae, (8, 8), n=8, layer="hidden").axes)
    8
    >>> fig = plot_kernels(ae, (8, 8), vmax=0.5)  # four kernels and a colour bar
    >>> len(fig.axes), fig.axes[0].images[0].get_clim()
    (5, (-0.5, 0.5))
    """
    check_is_fitted(est)
    n = _check_count(n, "n")
    module = est.module_
    if layer not in ("linear", "hidden"):
        raise ValueError(f"layer must be 'linear' or 'hidden', got {layer!r}.")
    if not (vmax is None or vmax == "shared" or _is_positive_number(vmax)):
        raise ValueError(f"vmax must be None, 'shared' or a positive number, got {vmax!r}.")
    if layer == "hidden":
        if module.encoder_correction is None:
            raise ValueError(
                "This network has no hidden layers (hidden_layer_sizes=()); use "
                "layer='linear'."
            )
        weights = module.encoder_correction[0].weight
        kind = "first hidden layer"
    else:
        weights = module.encoder_linear.weight
        kind = "linear path"
    weights = weights.detach().float().cpu().numpy()
    units = np.arange(min(n, weights.shape[0]))
    image_shape = _check_image_shape(image_shape, weights.shape[1])

    n_cols = min(8, units.size)
    n_rows = math.ceil(units.size / n_cols)
    fig = _new_figure(fig, _grid_size(n_cols, n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    if vmax == "shared":
        vmax = np.abs(weights[units]).max() or 1.0
    for ax, unit in zip(axes, units):
        kernel = weights[unit]
        limit = vmax if vmax is not None else np.abs(kernel).max() or 1.0
        image = ax.imshow(kernel.reshape(image_shape), cmap=cmap, vmin=-limit, vmax=limit)
        ax.set_title(f"unit {unit}", fontsize="small")
        ax.set_axis_off()
    for ax in axes[units.size :]:
        ax.remove()
    if vmax is not None:
        fig.colorbar(image, ax=axes[: units.size].tolist(), shrink=0.8, label="weight")
    fig.suptitle(f"{type(est).__name__}, {kind}: {units.size} of {weights.shape[0]} units")
    return fig


# Inpainting ------------------------------------------------------------------


def plot_inpainting(
    X, mask, filled, image_shape, n=8, *, cmap="gray_r", hole_color="tab:red", fig=None
):
    """Show images, their masked versions and how each method fills them.

    One column per image: the original on top, then the masked input with
    its missing pixels in ``hole_color``, then one row per method. See
    :func:`skae.inpainting.inpaint`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The original images, flattened row-major; the first ``n`` are shown.
    mask : array-like of shape (n_samples, n_features), dtype bool
        True where a pixel is missing.
    filled : dict of str to array-like of shape (n_samples, n_features)
        Each method's filled images, by the row label to show.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n : int, default=8
        Number of images to show.
    cmap : str or Colormap, default="gray_r"
        Colour map of the images, all drawn on the range of the originals.
    hole_color : color, default="tab:red"
        Colour of the missing pixels in the masked row.
    fig : Figure or SubFigure, default=None
        Where to draw (it is cleared first); a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure, with one axes per image.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae.inpainting import block_mask, inpaint
    >>> from skae.plotting import plot_inpainting
    >>> X = load_digits().data / 16
    >>> mask = block_mask(len(X), (8, 8))
    >>> fig = plot_inpainting(X, mask, {"PCA": inpaint(X, mask, PCA(16).fit(X))}, (8, 8))
    >>> [ax.get_ylabel() for ax in fig.axes[::8]]
    ['original', 'masked', 'PCA']
    """
    import matplotlib.pyplot as plt

    n = _check_count(n, "n")
    originals = check_array(X, dtype=_FLOAT_DTYPES)
    mask = check_array(mask, dtype=bool)
    if mask.shape != originals.shape:
        raise ValueError(
            f"mask must have the shape of X, {originals.shape}, got {mask.shape}."
        )
    rows = [originals[:n], np.ma.masked_array(originals[:n], mask[:n])]
    for label, images in filled.items():
        images = check_array(images, dtype=_FLOAT_DTYPES)
        if images.shape != originals.shape:
            raise ValueError(
                f"filled[{label!r}] must have the shape of X, {originals.shape}, "
                f"got {images.shape}."
            )
        rows.append(images[:n])
    image_shape = _check_image_shape(image_shape, originals.shape[1])
    cmap = plt.get_cmap(cmap).with_extremes(bad=hole_color)
    fig = _new_figure(fig, _grid_size(len(rows[0]), len(rows)))
    _image_rows(
        fig,
        rows,
        ["original", "masked", *filled],
        image_shape,
        cmap,
        rows[0].min(),
        rows[0].max(),
    )
    return fig


# Interpolation ---------------------------------------------------------------


def plot_interpolation(est, x_a, x_b, image_shape, n_steps=8, *, cmap="gray_r", fig=None):
    """Show the latent path between two images over their pixel blend.

    The top row decodes evenly spaced points on the straight line between
    the codes of ``x_a`` and ``x_b``; the bottom row blends the two images
    linearly. See :func:`skae.interpolation.interpolate`.

    Parameters
    ----------
    est : estimator
        A fitted transformer with ``inverse_transform``.
    x_a : array-like of shape (n_features,)
        The first image, flattened.
    x_b : array-like of shape (n_features,)
        The last image, flattened.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n_steps : int, default=8
        Images per row, both ends included.
    cmap : str or Colormap, default="gray_r"
        Colour map, on the range of the two images.
    fig : Figure or SubFigure, default=None
        Where to draw (it is cleared first); a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure, with ``2 * n_steps`` axes.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_interpolation
    >>> X = load_digits().data
    >>> ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0).fit(X)
    >>> len(plot_interpolation(ae, X[0], X[1], (8, 8), n_steps=5).axes)
    10
    """
    latent = interpolate(est, x_a, x_b, n_steps, space="latent")
    pixel = interpolate(est, x_a, x_b, n_steps, space="pixel")
    image_shape = _check_image_shape(image_shape, pixel.shape[1])
    fig = _new_figure(fig, _grid_size(n_steps, 2))
    _image_rows(
        fig,
        [latent, pixel],
        ["latent path", "pixel blend"],
        image_shape,
        cmap,
        pixel.min(),
        pixel.max(),
    )
    fig.suptitle(f"{type(est).__name__}: interpolation")
    return fig


# Benchmark -------------------------------------------------------------------


def plot_pca_vs_ae(results, dataset=None, *, metric="test_mse", floor=None, ax=None, fig=None):
    """Plot reconstruction error against latent size, one line per method.

    Draws the records of ``benchmarks/pca_vs_ae.py``: one axes per data set
    (or only ``dataset``), with ``n_components`` on a log2 axis, and a
    marker and line style per method that stay apart where lines overlap.
    A data set with a single latent size gets one bar per method instead.
    Records repeated for the same data set, method and size (several seeds)
    are averaged. The y-axis is logarithmic when every value is positive.

    Parameters
    ----------
    results : list of dict or path-like
        Records with the keys ``dataset``, ``method`` (``"pca"``,
        ``"autoencoder"``, ``"denoising"``, ``"sparse"``, ``"contractive"`` or
        another name), ``n_components`` and ``metric``; or the path of a JSON
        file holding that list, such as ``benchmarks/results/pca_vs_ae.json``.
    dataset : str, default=None
        Draw only this data set.
    metric : str, default="test_mse"
        The record key on the y-axis, such as ``"r2"`` or
        ``"test_sse_per_image"``; data sets without it are left out.
        ``"relative_mse"`` is ``test_mse / test_variance`` (records need both
        keys): the share of the test variance left unexplained.
    floor : float, default=None
        Draw values below ``floor`` at ``floor``, marked by a dotted line when
        some are:
        round-off errors (PCA's on exact low-rank data) then do not stretch a
        log axis over many decades.
    ax : Axes, default=None
        Where to draw when there is one data set.
    fig : Figure or SubFigure, default=None
        Where to draw the grid of axes (it is cleared first), when ``ax`` is
        not given; a new figure when ``None``.

    Returns
    -------
    fig : Figure
        The figure, with one axes per data set.

    Examples
    --------
    >>> from skae.plotting import plot_pca_vs_ae
    >>> records = [
    ...     {"dataset": "digits", "method": "pca", "n_components": 2, "test_mse": 0.05},
    ...     {"dataset": "digits", "method": "pca", "n_components": 8, "test_mse": 0.03},
    ...     {"dataset": "digits", "method": "autoencoder", "n_components": 2,
    ...      "test_mse": 0.04},
    ...     {"dataset": "digits", "method": "autoencoder", "n_components": 8,
    ...      "test_mse": 0.02},
    ... ]
    >>> fig = plot_pca_vs_ae(records)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['pca', 'autoencoder']
    """
    if isinstance(results, (str, os.PathLike)):
        with open(results) as f:
            results = json.load(f)
    if metric == "relative_mse":
        results = [
            {**r, metric: r["test_mse"] / r["test_variance"]}
            for r in results
            if r.get("test_mse") is not None and r.get("test_variance")
        ]
    records = [r for r in results if r.get(metric) is not None]
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    if dataset is not None:
        if dataset not in datasets:
            raise ValueError(
                f"No records with {metric!r} for dataset={dataset!r}; the results "
                f"have {datasets}."
            )
        datasets = [dataset]
    if not datasets:
        raise ValueError(f"No records with {metric!r} in the results.")
    if ax is not None:
        if len(datasets) != 1:
            raise ValueError(
                f"ax= draws one data set, but the results have {len(datasets)}: "
                "pass dataset=... or use fig= instead."
            )
        axes = [ax]
    else:
        n_cols = min(3, len(datasets))
        n_rows = math.ceil(len(datasets) / n_cols)
        # The legend takes a column to the right of the axes.
        fig = _new_figure(fig, (4.2 * n_cols + 1.6, 3.4 * n_rows))
        axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
        for extra in axes[len(datasets) :]:
            extra.remove()
    for name, axes_ in zip(datasets, axes):
        subset = [r for r in records if r["dataset"] == name]
        _plot_one_benchmark(axes_, subset, metric, floor)
        axes_.set_title(name)
    # Beside the data, never over it; bars need none (their ticks name them).
    handles, labels = axes[0].get_legend_handles_labels()
    if handles and len(axes) == 1:
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    elif handles:
        axes[0].figure.legend(handles, labels, loc="outside right upper")
    return axes[0].figure


# marker, line style and marker size per method: lines that coincide (an
# autoencoder that keeps PCA's solution) still show every method.
_STYLES = {
    "pca": ("o", "-", 9),
    "autoencoder": ("s", "--", 7),
    "denoising": ("^", "-.", 6),
    "sparse": ("x", ":", 6),
    "contractive": ("D", (0, (3, 1, 1, 1, 1, 1)), 5),
}
_METRIC_LABELS = {
    "test_mse": "test mean squared error",
    "relative_mse": "test error / test variance",
    "test_sse_per_image": "test squared error per image",
    "r2": "R² on the test data",
}


def _plot_one_benchmark(ax, records, metric, floor):
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    values = {}
    for record in records:
        by_size = values.setdefault(record["method"], {})
        by_size.setdefault(record["n_components"], []).append(record[metric])
    methods = [m for m in _METHODS if m in values]
    methods += sorted(set(values) - set(_METHODS))
    all_sizes = sorted({r["n_components"] for r in records})
    means = {
        method: [np.mean(values[method][size]) for size in sorted(values[method])]
        for method in methods
    }
    floored = floor is not None and min(min(v) for v in means.values()) < floor
    if floored:
        means = {method: np.maximum(means[method], floor) for method in methods}
    if len(all_sizes) == 1:
        colors = [f"C{i}" for i in range(len(methods))]
        heights = [means[method][0] for method in methods]
        bars = ax.bar(methods, heights, color=colors, width=0.6)
        ax.bar_label(bars, fmt="%.3g")
        ax.margins(y=0.12)
        ax.set_xlabel(f"method (latent size {all_sizes[0]})")
    else:
        for i, method in enumerate(methods):
            marker, linestyle, size = _STYLES.get(method, ("o", "-", 6))
            ax.plot(
                sorted(values[method]),
                means[method],
                marker=marker,
                linestyle=linestyle,
                markersize=size,
                markerfacecolor="none",
                color=f"C{i}",
                label=method,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(all_sizes)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("latent size (n_components)")
        if all(r[metric] > 0 for r in records):
            ax.set_yscale("log")
    if floored:
        # Room below the floor for its label.
        ax.set_ylim(bottom=floor / 4 if ax.get_yscale() == "log" else None)
        ax.axhline(floor, color="gray", linestyle=":", linewidth=1)
        ax.annotate(
            f"floor {floor:g}",
            (0, floor),
            xycoords=("axes fraction", "data"),
            xytext=(3, -3),
            textcoords="offset points",
            verticalalignment="top",
            fontsize="small",
            color="gray",
        )
    ax.set_ylabel(_METRIC_LABELS.get(metric, metric))


# Live view -------------------------------------------------------------------


class LiveReconstruction:
    """Watch reconstructions improve during training: a training callback.

    Pass it in ``callbacks``; after every ``every`` epochs it redraws the
    first ``n`` rows of ``X`` over their current reconstructions. Under a
    GUI backend (Qt, Tk, GTK, wx, macOS) the window updates live. Under a
    non-interactive one (Agg, a notebook's inline backend) the figure is
    only updated: ``figure_`` holds the latest state, to show or save when
    you like. It never stops training.

    The figure is not pickled or copied: an estimator carrying this
    callback can be pickled and cloned, and the copy draws a figure of its
    own.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Images, flattened row-major, typically held-out data; the first
        ``n`` are shown.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n : int, default=8
        Number of images to show.
    every : int, default=1
        Redraw after every ``every``-th epoch (by the estimator's
        ``n_iter_``).
    cmap : str or Colormap, default="gray_r"
        Colour map, on the range of the shown originals.

    Attributes
    ----------
    figure_ : Figure
        The figure, created at the first redraw.
    n_draws_ : int
        Number of redraws so far.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import LiveReconstruction
    >>> X = load_digits().data
    >>> live = LiveReconstruction(X[-8:], (8, 8), every=2)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=4, callbacks=[live],
    ...                             random_state=0).fit(X[:-8])
    >>> live.n_draws_
    2
    """

    def __init__(self, X, image_shape, n=8, every=1, *, cmap="gray_r"):
        self.X = X
        self.image_shape = image_shape
        self.n = n
        self.every = every
        self.cmap = cmap
        self.n_draws_ = 0

    def __call__(self, est):
        import matplotlib.pyplot as plt

        if est.n_iter_ % _check_count(self.every, "every"):
            return None
        X_shown, originals = _rows(self.X, _check_count(self.n, "n"))
        reconstructions = est.inverse_transform(est.transform(X_shown))
        figure = getattr(self, "figure_", None)
        if figure is None or not plt.fignum_exists(figure.number):
            image_shape = _check_image_shape(self.image_shape, originals.shape[1])
            figure = plt.figure(figsize=_grid_size(len(originals), 2), layout="constrained")
            self._images = _image_rows(
                figure,
                [originals, reconstructions],
                ["input", "reconstruction"],
                image_shape,
                self.cmap,
                originals.min(),
                originals.max(),
            )
            self.figure_ = figure
            if figure.canvas.required_interactive_framework:
                figure.show()
        else:
            for image, x in zip(self._images[1], reconstructions):
                image.set_data(x.reshape(image.get_array().shape))
        figure.suptitle(
            f"{type(est).__name__}, epoch {est.n_iter_}: "
            f"training loss {est.loss_curve_[-1]:.4g}"
        )
        self.n_draws_ += 1
        if figure.canvas.required_interactive_framework:
            figure.canvas.draw_idle()
            figure.canvas.start_event_loop(0.001)
        return None

    def __getstate__(self):
        # Figures neither pickle nor deep-copy (as clone does) reliably.
        state = self.__dict__.copy()
        state.pop("figure_", None)
        state.pop("_images", None)
        return state

    def __repr__(self):
        shape = getattr(self.X, "shape", None)
        data = f"<{type(self.X).__name__} of shape {shape}>" if shape else "..."
        return (
            f"LiveReconstruction(X={data}, image_shape={tuple(self.image_shape)}, "
            f"n={self.n}, every={self.every})"
        )
