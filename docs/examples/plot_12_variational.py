"""
==============================================
Sampling digits with a variational autoencoder
==============================================

A :class:`~skae.VariationalAutoencoder` learns a code whose training images
spread like a standard normal, so decoding draws from that normal gives new
images. A plain :class:`~skae.AutoencoderTransformer` has no such prior: its
codes fill an irregular region, and points outside it decode to blots. Here
both models, with the same network and epochs, are sampled, walked along one
code unit, and interpolated between two digits.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer, VariationalAutoencoder
from skae.plotting import plot_interpolation

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y, image_shape = mnist.X_train[:10000], mnist.y_train[:10000], mnist.image_shape
else:
    digits = load_digits()
    X, y, image_shape = digits.data / 16, digits.target, (8, 8)

# Pixels in [0, 1]: a Bernoulli likelihood (binary cross-entropy) for both.
settings = dict(
    n_components=8, loss="bce", hidden_layer_sizes=(256,), max_epochs=150, random_state=0
)
vae = VariationalAutoencoder(**settings).fit(X)
ae = AutoencoderTransformer(**settings).fit(X)


def show_rows(rows, titles, suptitle):
    """One row of images per entry of ``rows``, each titled on its left."""
    n_cols = max(len(row) for row in rows)
    fig, axes = plt.subplots(
        len(rows),
        n_cols,
        figsize=(1.5 + 0.8 * n_cols, 0.9 * len(rows)),
        squeeze=False,
        layout="constrained",
    )
    for axes_row, row, title in zip(axes, rows, titles):
        for ax, image in zip(axes_row, row):
            ax.imshow(image.reshape(image_shape), cmap="gray_r", vmin=0, vmax=1)
        for ax in axes_row:
            ax.set_xticks([])
            ax.set_yticks([])
        axes_row[0].set_ylabel(title, rotation=0, ha="right", va="center")
    fig.suptitle(suptitle)
    return fig


# %%
# Samples
# -------
# The variational model decodes draws from its prior, N(0, I). The plain
# autoencoder has no prior, so it gets the fairest stand-in: draws from a
# Gaussian with the mean and covariance of its own training codes.

rng = np.random.RandomState(0)
vae_samples = vae.sample(24, random_state=0)
codes = ae.transform(X)
ae_codes = rng.multivariate_normal(codes.mean(0), np.cov(codes, rowvar=False), 24)
ae_samples = ae.inverse_transform(ae_codes)
show_rows(
    [*vae_samples.reshape(3, 8, -1), *ae_samples.reshape(3, 8, -1)],
    ["variational", "", "", "plain AE", "", ""],
    "Decoded random codes",
)
plt.show()

# %%
# A walk along one code unit
# --------------------------
# Starting from the code of one image, each row moves one unit from -2.5 to
# 2.5 standard deviations of that unit over the training codes (for the
# variational model, nearly the prior's), and decodes each step.

steps = np.linspace(-2.5, 2.5, 9)
start = X[np.flatnonzero(y == 3)[0]][np.newaxis]
rows, titles = [], []
for name, model in [("variational", vae), ("plain AE", ae)]:
    code = model.transform(start)[0]
    spread = model.transform(X).std(0)
    for unit in range(3):
        path = np.repeat(code[np.newaxis], len(steps), axis=0)
        path[:, unit] = code[unit] + steps * spread[unit]
        rows.append(model.inverse_transform(path))
        titles.append(f"{name}, unit {unit}")
show_rows(rows, titles, "Traversals from a 3")
plt.show()

# %%
# Interpolation
# -------------
# The straight path between the codes of a 1 and a 7, decoded (top row of
# each panel), against the blend of the pixels (bottom row).

first = {digit: X[np.flatnonzero(y == digit)[0]] for digit in range(10)}
fig = plt.figure(figsize=(8.4, 5), layout="constrained")
for model, name, subfig in zip([vae, ae], ["variational", "plain AE"], fig.subfigures(2, 1)):
    plot_interpolation(model, first[1], first[7], image_shape, fig=subfig)
    subfig.suptitle(name)
plt.show()

# %%
# The price of the prior
# ----------------------
# ``score`` is the same for both, the mean squared reconstruction error from
# the code (higher is better): the variational model pays for its smooth,
# sampleable code with some error. Its ``score_samples`` is the evidence
# lower bound of each image in nats, a likelihood-based anomaly score.

print(f"reconstruction score, variational: {vae.score(X):.4f}")
print(f"reconstruction score, plain AE:    {ae.score(X):.4f}")
print(f"mean ELBO per image (nats):        {vae.score_samples(X).mean():.1f}")
