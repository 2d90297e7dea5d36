"""
======================================================
Semi-supervised learning: codes from unlabelled data
======================================================

Labels are often scarce while unlabelled data are not. An autoencoder can
learn a compact code from all the images, labelled or not, and a simple
classifier trained on the code of the few labelled ones then has far fewer
weights to fit.

Here the autoencoder and PCA learn 8 features from the whole training set
without its labels; a logistic regression then trains on only 100 labelled
images, drawn 10 times at random, with the raw pixels as the baseline.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skae import AutoencoderTransformer

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y = mnist.X_train[:10000], mnist.y_train[:10000]
else:
    X, y = load_digits(return_X_y=True)
    X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# The feature extractors see every training image, but no label.

extractors = {
    "raw pixels": FunctionTransformer(),
    "PCA, 8 components": PCA(n_components=8),
    "autoencoder, 8 units": AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=(256,), random_state=0
    ),
}
for extractor in extractors.values():
    extractor.fit(X_train)

# %%
# Each classifier sees 100 labelled images; the same 10 draws for every
# feature set.

rng = np.random.default_rng(0)
draws = [rng.choice(len(X_train), size=100, replace=False) for _ in range(10)]
accuracy = {}
for name, extractor in extractors.items():
    features_train = extractor.transform(X_train)
    features_test = extractor.transform(X_test)
    accuracy[name] = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        .fit(features_train[labelled], y_train[labelled])
        .score(features_test, y_test)
        for labelled in draws
    ]
    mean, std = np.mean(accuracy[name]), np.std(accuracy[name])
    print(f"{name:>21}: accuracy {mean:.3f} (std {std:.3f})")

# %%
# Eight autoencoder features keep what the classifier needs from the
# pixels, where eight principal components lose a part of it.

fig, ax = plt.subplots(layout="constrained")
ax.boxplot(list(accuracy.values()))
ax.set_xticks(range(1, len(accuracy) + 1), list(accuracy))
ax.set_ylabel("test accuracy, 100 labels")
ax.set_title("Logistic regression on 10 draws of 100 labelled images")
plt.show()
