"""
=========================================
Digits: reconstructions and a 3-D code
=========================================

A three-unit autoencoder on handwritten digits, next to PCA with three
components: their reconstructions, and their codes in 3-D coloured by digit.
A :class:`~skae.plotting.LiveReconstruction` callback follows the
reconstructions while the model trains.
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import LiveReconstruction, plot_latent_space, plot_reconstructions

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y, image_shape = mnist.X_train[:10000], mnist.y_train[:10000], mnist.image_shape
else:
    digits = load_digits()
    X, y, image_shape = digits.data / 16, digits.target, (8, 8)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Training with a live view
# -------------------------
# The callback redraws test images over their current reconstructions every
# 20 epochs. In a script under a GUI backend its window updates as the model
# trains; here it shows the state after the last redraw.

live = LiveReconstruction(X_test, image_shape, every=20)
ae = AutoencoderTransformer(
    n_components=3,
    hidden_layer_sizes=(256,),
    max_epochs=100,
    early_stopping=True,
    callbacks=[live],
    random_state=0,
).fit(X_train)
pca = PCA(n_components=3).fit(X_train)

# %%
# Reconstructions
# ---------------
# Three numbers per image are few. PCA's reconstructions blur towards the
# average digit; the autoencoder's are sharper and more often the right
# digit.

for name, model in [("PCA", pca), ("autoencoder", ae)]:
    mse = ((X_test - model.inverse_transform(model.transform(X_test))) ** 2).mean()
    print(f"{name} test MSE: {mse:.4f}")

plot_reconstructions(pca, X_test, image_shape)

# %%

plot_reconstructions(ae, X_test, image_shape)

# %%
# The codes in 3-D
# ----------------
# Each point is a test image, placed by its three code values and coloured
# by its digit.

# sphinx_gallery_thumbnail_number = 4
fig = plt.figure(figsize=(11, 5), layout="constrained")
for i, model in enumerate([pca, ae]):
    ax = fig.add_subplot(1, 2, i + 1, projection="3d")
    plot_latent_space(model, X_test, y_test, ax=ax, s=5)
plt.show()
