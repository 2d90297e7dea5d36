"""
==========================================
Choosing the latent size with GridSearchCV
==========================================

``score`` is the negative mean squared reconstruction error on the data it
is given, so :class:`~sklearn.model_selection.GridSearchCV` can search an
autoencoder's ``n_components`` with no ``scoring`` argument: higher is
better, as scikit-learn expects. Here the search runs next to the same
search for PCA, whose own ``score`` is a log-likelihood, so it gets a
reconstruction scorer.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    X = load_mnist().X_train[:5000]
else:
    X = load_digits().data / 16

sizes = [2, 4, 8, 16, 32]


def reconstruction_score(est, X, y=None):
    """Negative mean squared reconstruction error, as skae's ``score``."""
    return -np.mean((X - est.inverse_transform(est.transform(X))) ** 2)


ae_search = GridSearchCV(
    AutoencoderTransformer(hidden_layer_sizes=(64,), max_epochs=40, random_state=0),
    {"n_components": sizes},
    cv=3,
).fit(X)
pca_search = GridSearchCV(
    PCA(), {"n_components": sizes}, cv=3, scoring=reconstruction_score
).fit(X)
print("best autoencoder size:", ae_search.best_params_["n_components"])

# %%
# The error falls with every unit added, so the best size is always the
# largest one tried: what matters is the curve. On the digits the
# autoencoder stays below PCA at every size, by about a quarter, even with
# this small network and 40 epochs. Where the curve flattens, more units buy
# little: a good trade between compression and error. When the codes feed a
# downstream model, search ``n_components`` on that model's score instead,
# with the autoencoder as a step of a pipeline.

fig, ax = plt.subplots(layout="constrained")
for name, search in [("autoencoder", ae_search), ("PCA", pca_search)]:
    mse = -search.cv_results_["mean_test_score"]
    std = search.cv_results_["std_test_score"]
    ax.errorbar(sizes, mse, yerr=std, marker="o", capsize=3, label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(sizes, [str(size) for size in sizes])
ax.set_yscale("log")
ax.set_xlabel("n_components")
ax.set_ylabel("held-out MSE (3-fold CV)")
ax.set_title("Reconstruction error against latent size")
ax.legend()
plt.show()
