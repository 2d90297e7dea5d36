"""
===================================
Sparse codes: KL, L1 and top-k
===================================

A :class:`~skae.SparseAutoencoder` pushes most of its code units to be
inactive for any one input, so that each unit comes to stand for a part of
the data. Here three ways to do it, on a 32-unit code for 64-pixel digits,
next to a plain autoencoder whose code is dense:

- ``"kl"``: a sigmoid code whose units are pushed to a mean activation of
  ``sparsity_target`` (0.05) by a KL-divergence penalty;
- ``"l1"``: a penalty on the code's L1 norm;
- ``"topk"``: only the ``k`` largest units of each code are kept.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, SparseAutoencoder
from skae.plotting import plot_kernels

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, image_shape = mnist.X_train[:10000], mnist.image_shape
else:
    X, image_shape = load_digits().data / 16, (8, 8)
X_train, X_test = train_test_split(X, random_state=0)

# %%
# The KL model uses the defaults (``sparsity_weight=0.1``, a target mean
# activation of 0.05). One more setting matters for L1: a penalty on the code
# alone mostly shrinks the code's scale, which the decoder undoes by growing
# its weights; a little ``weight_decay`` on the weights stops that trade
# (with ``optimizer="adam"`` it is an L2 term in the gradient, weighed
# against the penalty's; the default AdamW's decoupled decay shrinks the
# weights at the learning rate's pace instead).

settings = dict(n_components=32, hidden_layer_sizes=(128,), max_epochs=100, random_state=0)
models = {
    "plain": AutoencoderTransformer(**settings),
    "kl": SparseAutoencoder(sparsity="kl", **settings),
    "l1": SparseAutoencoder(
        sparsity="l1", sparsity_weight=0.03, optimizer="adam", weight_decay=3e-3, **settings
    ),
    "topk": SparseAutoencoder(sparsity="topk", k=4, **settings),
}
codes = {}
for name, model in models.items():
    codes[name] = model.fit(X_train).transform(X_test)

# %%
# How sparse, at what cost
# ------------------------
# The sparsity of a code is measured here as the number of units that hold
# 90% of its energy (its sum of squares), averaged over test images: small
# means a few units carry each image. The cost is reconstruction error.


def units_for_90_percent(Z):
    energy = np.sort(Z**2, axis=1)[:, ::-1]
    share = np.cumsum(energy, axis=1) / energy.sum(axis=1, keepdims=True)
    return (share < 0.9).sum(axis=1).mean() + 1


for name, model in models.items():
    print(
        f"{name:>5}: {units_for_90_percent(codes[name]):4.1f} of 32 units hold 90%, "
        f"test MSE {-model.score(X_test):.4f}"
    )

# %%
# The codes of 40 test images, one row each, with each row scaled to its
# largest value. On the digits, the plain code spreads every image over many
# units; the sparse ones light up a few. The L1 model has switched its last
# units off altogether: with PCA's start, the cheapest way to cut the L1 norm
# is to drop the weakest principal directions. How strong a penalty must be
# depends on the data: check the codes when you change data sets.

# sphinx_gallery_thumbnail_number = 1
fig, axes = plt.subplots(2, 2, figsize=(8, 6), sharex=True, sharey=True, layout="constrained")
for ax, (name, Z) in zip(axes.flat, codes.items()):
    Z = np.abs(Z[:40])
    ax.imshow(Z / Z.max(axis=1, keepdims=True), cmap="Greys", aspect="auto")
    ax.set_title(name)
for ax in axes[1]:
    ax.set_xlabel("code unit")
for ax in axes[:, 0]:
    ax.set_ylabel("test image")
plt.show()

# %%
# Kernels
# -------
# The linear path of the first 16 code units, the pattern each responds to.
# The plain, L1 and top-k models start from the same principal axes, and
# their kernels stay close to them: these penalties change which units fire
# far more than what each unit looks for. The KL model starts from them too,
# through its sigmoid code, and drifts further: its units must switch off
# for most images.

fig = plt.figure(figsize=(8.4, 9.2), layout="constrained")
for (name, model), subfig in zip(models.items(), fig.subfigures(4, 1)):
    plot_kernels(model, image_shape, fig=subfig).suptitle(name)
plt.show()
