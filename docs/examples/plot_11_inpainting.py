"""
=====================================================
Inpainting: denoising autoencoder against OpenCV
=====================================================

A :class:`~skae.DenoisingAutoencoder` trained with masking noise learns to
fill in missing pixels. Here it fills masked test digits beside PCA, a plain
autoencoder, and OpenCV's two classical inpainting algorithms, Telea's fast
marching and Navier-Stokes (``cv2.inpaint``), and every method is scored on
the masked pixels only. The last section compares the first-layer kernels of
the plain and the denoising model on one colour scale.

The OpenCV methods need ``opencv-python-headless``: ``pip install
"skae[inpainting]"``. ``benchmarks/inpainting.py`` runs the same comparison
at several dropout rates, noise levels and radii, and on MNIST.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae.inpainting import block_mask, dropout_mask, inpaint
from skae.plotting import plot_inpainting, plot_kernels

X, image_shape = load_digits().data / 16, (8, 8)
X_train, X_test = train_test_split(X, random_state=0)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Three models with the same code size; the two autoencoders share their
# network, and the denoising one sees half of each training image's pixels
# set to 0, drawn afresh for every batch.

settings = dict(n_components=16, hidden_layer_sizes=(128,), max_epochs=60, random_state=0)
models = {
    "PCA": PCA(16).fit(X_train),
    "autoencoder": AutoencoderTransformer(**settings).fit(X_train),
    "denoising": DenoisingAutoencoder(noise="masking", noise_level=0.5, **settings).fit(
        X_train
    ),
}

# %%
# Masks and fills
# ---------------
# Two masks over the test images: half the pixels dropped at random, and a
# centred 4x4 square. :func:`~skae.inpainting.inpaint` fills only the masked
# pixels and keeps the known ones, whatever the method: a model gets the
# image with its holes set to 0, as the masking noise sets them in training,
# and OpenCV gets the 8-bit image and the mask (radius 2 pixels).

masks = {
    "dropout 0.5": dropout_mask(*X_test.shape, 0.5, random_state=0),
    "block": block_mask(len(X_test), image_shape),
}
methods = {**models, "Telea": "telea", "Navier-Stokes": "ns"}
filled = {
    (mask_name, name): inpaint(X_test, mask, method, image_shape=image_shape, radius=2)
    for mask_name, mask in masks.items()
    for name, method in methods.items()
}

print(f"{'':>14} " + " ".join(f"{name:>13}" for name in methods))
for mask_name, mask in masks.items():
    errors = [np.mean((filled[mask_name, name] - X_test)[mask] ** 2) for name in methods]
    print(f"{mask_name:>14} " + " ".join(f"{error:13.4f}" for error in errors))

# %%
# The table is the mean squared error on the masked pixels, in pixel units
# (0 to 1). The plain autoencoder and PCA were trained on whole images only:
# fed a holed one, they reconstruct much of the holes as they are. The
# denoising model learnt what a digit looks like under such holes. OpenCV
# propagates the surrounding pixels inwards, without knowing about digits.
#
# Originals on top, the masked inputs (missing pixels in red), then each
# method's filled images:

for mask_name, mask in masks.items():
    rows = {name: filled[mask_name, name] for name in methods}
    plot_inpainting(X_test, mask, rows, image_shape).suptitle(mask_name)

# %%
# Kernels
# -------
# :func:`~skae.plotting.plot_kernels` shows the weights of each code unit's
# linear path. With ``vmax`` set to one number, both models are drawn on the
# same colour scale, with a colour bar, so their weights compare directly.

pair = [models["autoencoder"], models["denoising"]]
vmax = max(np.abs(m.module_.encoder_linear.weight.detach().numpy()).max() for m in pair)
fig = plt.figure(figsize=(9.5, 4.6), layout="constrained")
for model, subfig in zip(pair, fig.subfigures(2, 1)):
    plot_kernels(model, image_shape, vmax=float(vmax), fig=subfig)

# %%
# How much the weights vary outside the digit area, beside inside it: pixels
# that no training image inks get no gradient at all, so their weights stay
# where ``init="pca"`` put them (at 0) in both models; pixels inked in only a
# few images get a little.

inked = (X_train > 0).mean(axis=0)
regions = {
    "never inked": inked == 0,
    "rarely inked (<1%)": (inked > 0) & (inked < 0.01),
    "digit area": inked >= 0.01,
}
for name, model in zip(["autoencoder", "denoising"], pair):
    weights = model.module_.encoder_linear.weight.detach().numpy()
    variances = ", ".join(
        f"{region} ({pixels.sum()} px) {weights[:, pixels].var():.2g}"
        for region, pixels in regions.items()
    )
    print(f"{name:>11}: weight variance: {variances}")

# %%
# When masking noise makes the border's kernels constant
# -------------------------------------------------------
# The denoising kernels above look no smoother at the border than the plain
# ones: pixels in [0, 1] have background 0, which masking leaves as it is,
# and ``init="pca"`` starts the linear path with zero weights on pixels that
# never vary. The seed's claim (random kernels at the border for a standard
# model, constant ones for a denoising one) needs another setting: pixels
# scaled to [-1, 1] (the background at -1), a random start
# (``init="random"``), a wide first layer and a ``tanh`` output. Masking sets
# an input to 0 in the data's units, so there it turns a background pixel
# from -1 into 0, and the border's weights get a gradient that teaches each
# kernel to ignore them. Below, the first 16 kernels of the wide (256-unit)
# hidden layer of each model, and how much each kernel's weights vary over
# the border (pixels inked in under 1% of the training images): a ratio
# below 1 is the effect. On the 8x8 digits it is weak (in
# ``benchmarks/kernels.py``, 50 epochs: 0.95 on this layer and 0.72 on the
# linear path, against exactly 1 for the never-inked pixels with pixels in
# [0, 1]).

seed_setting = dict(
    n_components=16,
    hidden_layer_sizes=(256,),
    output_activation="tanh",
    init="random",
    max_epochs=30,
    random_state=0,
)
X_signed = 2 * X_train - 1
pair = [
    AutoencoderTransformer(**seed_setting).fit(X_signed),
    DenoisingAutoencoder(noise="masking", noise_level=0.5, **seed_setting).fit(X_signed),
]
hidden = [m.module_.encoder_correction[0].weight.detach().numpy() for m in pair]
vmax = max(np.abs(w[:16]).max() for w in hidden)
fig = plt.figure(figsize=(9.5, 4.6), layout="constrained")
for model, subfig in zip(pair, fig.subfigures(2, 1)):
    plot_kernels(model, image_shape, layer="hidden", vmax=float(vmax), fig=subfig)

border = inked < 0.01
variances = [w[:, border].var(axis=1).mean() for w in hidden]
print(
    f"border weight variance per kernel: autoencoder {variances[0]:.3g}, "
    f"denoising {variances[1]:.3g}, ratio {variances[1] / variances[0]:.3f}"
)
