"""
=======================================
Anomaly detection with an autoencoder
=======================================

An autoencoder reconstructs what it was trained on well and anything else
badly, so its reconstruction error flags samples unlike the training data.
:class:`~skae.AutoencoderOutlierDetector` turns it into an outlier detector
in scikit-learn's convention: ``score_samples`` (minus the error: low scores
are anomalies), ``decision_function`` and ``predict`` (``-1`` for an
outlier), with a threshold set by ``contamination``.

Here the models train on every digit but the 7s; the test set mixes unseen
images of the other digits with all the 7s, which should get the worst
scores. PCA's reconstruction error, with as many components and through
the same detector, is the baseline.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae.plotting import plot_reconstructions

if os.environ.get("SKAE_DATA"):
    from skae.datasets import load_mnist

    mnist = load_mnist()
    X, y, image_shape = mnist.X_train[:10000], mnist.y_train[:10000], mnist.image_shape
else:
    digits = load_digits()
    X, y, image_shape = digits.data / 16, digits.target, (8, 8)

unseen = 7
X_train, X_known, _, y_known = train_test_split(X[y != unseen], y[y != unseen], random_state=0)
X_test = np.vstack([X_known, X[y == unseen]])
y_test = np.r_[y_known, y[y == unseen]]
is_unseen = y_test == unseen

# contamination=0.05: the threshold flags 5% of the training images.
detector = AutoencoderOutlierDetector(
    AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=(128,), early_stopping=True, random_state=0
    ),
    contamination=0.05,
).fit(X_train)
pca_detector = AutoencoderOutlierDetector(PCA(n_components=8)).fit(X_train)

# The anomaly score: the reconstruction error, minus score_samples.
ae_error = -detector.score_samples(X_test)
pca_error = -pca_detector.score_samples(X_test)
flagged = detector.predict(X_test) == -1
print(
    f"flagged: {flagged[is_unseen].mean():.0%} of the unseen {unseen}s, "
    f"{flagged[~is_unseen].mean():.0%} of the other digits"
)

# %%
# How well each error separates the 7s
# ------------------------------------
# The ROC curve of each score, with its area (AUC: 1 is a perfect ranking of
# every 7 below every other digit, 0.5 is chance).

# sphinx_gallery_thumbnail_number = 1
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, error in [("autoencoder", ae_error), ("PCA", pca_error)]:
    RocCurveDisplay.from_predictions(is_unseen, error, name=name, ax=left)
    print(f"{name} ROC AUC: {roc_auc_score(is_unseen, error):.3f}")
left.set_title(f"Flagging unseen {unseen}s")
bins = np.linspace(0, np.quantile(ae_error, 0.99), 40)
right.hist(ae_error[~is_unseen], bins=bins, alpha=0.6, label="other digits")
right.hist(ae_error[is_unseen], bins=bins, alpha=0.6, label=f"unseen {unseen}s")
right.axvline(-detector.offset_, color="k", linestyle="--", label="threshold")
right.set_xlabel("autoencoder reconstruction error (MSE)")
right.set_ylabel("test images")
right.legend()
plt.show()

# %%
# The test images the autoencoder flags most strongly, over their
# reconstructions: the model pulls each towards a digit it knows.

worst = np.argsort(ae_error)[::-1][:8]
plot_reconstructions(detector.estimator_, X_test[worst], image_shape)
print("their digits:", y_test[worst])
