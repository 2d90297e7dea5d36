"""
========================================
Quickstart: an autoencoder in a pipeline
========================================

An :class:`~skae.AutoencoderTransformer` is a scikit-learn transformer:
``fit`` trains it, ``transform`` returns the code, ``inverse_transform`` the
reconstruction and ``score`` the negative mean squared reconstruction error.
So it drops into a :class:`~sklearn.pipeline.Pipeline` wherever
:class:`~sklearn.decomposition.PCA` would.
"""

import os

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer
from skae.plotting import plot_loss_curve, plot_reconstructions

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y, image_shape = mnist.X_train[:10000], mnist.y_train[:10000], mnist.image_shape
else:
    digits = load_digits()
    X, y, image_shape = digits.data / 16, digits.target, (8, 8)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Fit, encode, decode
# -------------------
# The model reduces each image to 8 numbers. ``early_stopping`` holds out 10%
# of the training rows and keeps the weights of the epoch that reconstructs
# them best.

ae = AutoencoderTransformer(
    n_components=8, hidden_layer_sizes=(128,), early_stopping=True, random_state=0
)
codes = ae.fit_transform(X_train)
reconstructions = ae.inverse_transform(codes)
print(f"codes: {codes.shape}, reconstructions: {reconstructions.shape}")
print(f"epochs: {ae.n_iter_}")

# %%
# ``score`` is the negative mean squared error on held-out data, in the
# data's units; PCA with the same number of components is the baseline.

pca = PCA(n_components=8).fit(X_train)
pca_mse = ((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2).mean()
print(f"autoencoder test MSE: {-ae.score(X_test):.4f}")
print(f"PCA test MSE:         {pca_mse:.4f}")

# %%
# The loss curve shows the training loss and the held-out error per epoch;
# the dotted line marks the epoch whose weights were kept.

plot_loss_curve(ae)

# %%
# Test images over their reconstructions:

plot_reconstructions(ae, X_test, image_shape)

# %%
# In a pipeline
# -------------
# As a feature extractor before a classifier. The pipeline clones and fits
# the autoencoder like any other step, and ``set_output`` gives the codes
# named columns.

pipe = make_pipeline(
    AutoencoderTransformer(n_components=8, hidden_layer_sizes=(128,), random_state=0),
    LogisticRegression(max_iter=1000),
)
pipe.fit(X_train, y_train)
print(f"accuracy on 8 autoencoder features: {pipe.score(X_test, y_test):.3f}")

ae_pandas = AutoencoderTransformer(n_components=3, max_epochs=20, random_state=0)
ae_pandas.set_output(transform="pandas").fit(X_train)
ae_pandas.transform(X_test[:5])
