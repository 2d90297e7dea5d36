"""
================================
Denoising: undoing masking noise
================================

A :class:`~skae.DenoisingAutoencoder` sees each training image with a random
part of its pixels masked, and learns to reconstruct the clean image. At
test time it fills in masked pixels from the rest of the image, where a
plain autoencoder, trained only on clean images, passes much of the damage
through.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae.plotting import plot_kernels, plot_reconstructions

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, image_shape = mnist.X_train[:10000], mnist.image_shape
else:
    X, image_shape = load_digits().data / 16, (8, 8)
X_train, X_test = train_test_split(X, random_state=0)

# %%
# Two models with the same network; the denoising one trains on images with
# 40% of their pixels masked, drawn afresh for every batch.

settings = dict(n_components=16, hidden_layer_sizes=(128,), max_epochs=100, random_state=0)
plain = AutoencoderTransformer(**settings).fit(X_train)
denoising = DenoisingAutoencoder(noise="masking", noise_level=0.4, **settings).fit(X_train)

# %%
# Noisy, denoised and clean
# -------------------------
# :func:`~skae.plotting.plot_reconstructions` corrupts test images with the
# model's own noise (middle row: masked pixels are set to 0, white here) and
# shows what the model makes of them (bottom row).

plot_reconstructions(denoising, X_test, image_shape, random_state=0)

# %%
# :meth:`~skae.DenoisingAutoencoder.corrupt` draws the same noise for any
# data. Both models reconstruct the masked test images, and are scored
# against the clean ones.

X_masked = denoising.corrupt(X_test, random_state=0)
for name, model in [("plain", plain), ("denoising", denoising)]:
    from_masked = model.inverse_transform(model.transform(X_masked))
    masked_mse = ((from_masked - X_test) ** 2).mean()
    print(
        f"{name:>9}: MSE from masked inputs {masked_mse:.4f}, "
        f"from clean inputs {-model.score(X_test):.4f}"
    )

# %%
# The denoising model is far better on masked inputs, and pays for it on
# clean ones, which it never saw in training. The plain model carries the
# holes into its reconstructions:

plot_reconstructions(plain, X_masked, image_shape).suptitle(
    "AutoencoderTransformer on masked inputs"
)

# %%
# Kernels
# -------
# The weights of each code unit's linear path, the pixel pattern it responds
# to (red positive, blue negative). Both models start from the same
# principal axes. Trained with masking, a unit cannot rely on single pixels,
# which may be missing: its weights spread over neighbouring pixels and come
# out smoother. The roughness printed below is the squared difference between
# neighbouring weights, relative to the kernel's energy (median over units).

fig = plt.figure(figsize=(8.4, 4.6), layout="constrained")
for model, subfig in zip([plain, denoising], fig.subfigures(2, 1)):
    plot_kernels(model, image_shape, fig=subfig)


def roughness(model):
    kernels = model.module_.encoder_linear.weight.detach().numpy()
    kernels = kernels.reshape(-1, *image_shape)
    steps = (np.diff(kernels, axis=1) ** 2).sum(axis=(1, 2))
    steps += (np.diff(kernels, axis=2) ** 2).sum(axis=(1, 2))
    return np.median(steps / (kernels**2).sum(axis=(1, 2)))


print(f"roughness: plain {roughness(plain):.2f}, denoising {roughness(denoising):.2f}")
