"""
=====================================
Interpolating between two digits
=====================================

Walking a straight line between the codes of two images and decoding each
step shows how the model fills the space between them. A blend of the pixels
fades one image out and the other in; a path through a nonlinear code can
move strokes instead. :func:`skae.interpolation.interpolate` computes both
paths, and :func:`skae.plotting.plot_interpolation` draws them.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.interpolation import interpolate
from skae.plotting import plot_interpolation

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y, image_shape = mnist.X_train[:10000], mnist.y_train[:10000], mnist.image_shape
else:
    digits = load_digits()
    X, y, image_shape = digits.data / 16, digits.target, (8, 8)

ae = AutoencoderTransformer(
    n_components=8, hidden_layer_sizes=(256,), max_epochs=150, random_state=0
).fit(X)
pca = PCA(n_components=8).fit(X)

# %%
# From a 0 to a 6 and from a 1 to a 7: the latent path (top row) against
# the pixel blend (bottom row). The ends of the latent path are the model's
# reconstructions of the two images, not the images themselves. At 8x8
# pixels the two paths differ only in details.

first = {digit: X[np.flatnonzero(y == digit)[0]] for digit in range(10)}
fig = plt.figure(figsize=(8.4, 5), layout="constrained")
for (a, b), subfig in zip([(0, 6), (1, 7)], fig.subfigures(2, 1)):
    plot_interpolation(ae, first[a], first[b], image_shape, fig=subfig)
    subfig.suptitle(f"From a {a} to a {b}")
plt.show()

# %%
# PCA's reconstruction is linear, so its latent path is just the blend
# projected onto its components: it cannot do better than superimpose.

plot_interpolation(pca, first[1], first[7], image_shape, n_steps=8)
latent = interpolate(pca, first[1], first[7], space="latent")
blend = interpolate(pca, first[1], first[7], space="pixel")
print(
    "PCA's latent path equals its reconstruction of the blend:",
    np.allclose(latent, pca.inverse_transform(pca.transform(blend)), atol=1e-6),
)
