"""
=======================================================
Choosing the latent size: a grid, one call, one fit
=======================================================

How many components? With PCA one fit answers: its cumulative
``explained_variance_ratio_`` gives the share of variance of every size, and
``PCA(n_components=0.9)`` picks the smallest size that explains 90%. An
autoencoder usually needs one fit per size, for example a
:class:`~sklearn.model_selection.GridSearchCV` over sizes, and a rule to
read its scores by.

:class:`~skae.LatentSizeCV` is that search and rule in one call: the grid's
fits, the smallest size whose held-out explained variance reaches a share,
and the model refitted at it. With ``nested=True`` the code is instead
trained so that each of its prefixes is a code in itself, and one fit gives
``nested_explained_variance_``, the autoencoder's counterpart of PCA's
curve; a float ``n_components`` then picks the size itself, as PCA does.
This example compares the routes to the size that explains 90% of the
variance of the digits.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split

from skae import AutoencoderTransformer, LatentSizeCV
from skae.plotting import plot_nested_explained_variance

X = load_digits().data / 16
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
share = 0.9
sizes = [2, 4, 8, 16, 32]
ae = AutoencoderTransformer(random_state=0)


def test_r2(est):
    """Explained variance of the reconstruction of the held-out digits."""
    error = ((X_test - est.inverse_transform(est.transform(X_test))) ** 2).sum()
    return 1 - error / ((X_test - X_test.mean(axis=0)) ** 2).sum()


# %%
# The grid search: 3-fold cross-validation over five sizes, 15 fits. Its
# ``mean_test_score`` is minus the held-out squared error; reading a size
# off it still needs a rule and a refit.

start = time.perf_counter()
grid = GridSearchCV(ae, {"n_components": sizes}, cv=3, refit=False).fit(X_train)
grid_seconds = time.perf_counter() - start

# %%
# One call: the same 15 fits, so the same scores; each split's explained
# variance (R²) on its held-out rows; the smallest size whose mean R²
# reaches the share; and the model refitted at that size on all the
# training digits.

start = time.perf_counter()
search = LatentSizeCV(ae, sizes=sizes, rule=share).fit(X_train)
search_seconds = time.perf_counter() - start
same = np.array_equal(
    search.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
)
print("the grid's scores:", same)
print("cross-validated R²:", np.round(search.cv_results_["mean_test_r2"], 3))

# %%
# ``epoch_share`` shortens the cross-validation fits (the refit keeps all its
# epochs). Shorter fits reconstruct worse, so the R² of every size is lower
# than the grid's, and a rule read from them can pick a larger size. On large
# data, one held-out split instead of the folds, ``epoch_share=0.65`` and
# ``warm_refit=True`` come much closer to the grid's scores (on MNIST, within
# 4% in about a fifth of its time; see the user guide). These 1347 digits
# are too few for it: a tenth of them held out gives errors up to 10% off.

start = time.perf_counter()
quick = LatentSizeCV(ae, sizes=sizes, rule=share, epoch_share=0.25).fit(X_train)
quick_seconds = time.perf_counter() - start

# %%
# The nested route: one fit with ``n_components=0.9``. It trains a nested
# code as wide as PCA needs for the share, takes the smallest prefix that
# reaches it on the held-out rows of ``early_stopping``, and then trains a
# network built for that width, as a fit with that int ``n_components`` would.

start = time.perf_counter()
nested_model = AutoencoderTransformer(share, early_stopping=True, random_state=0).fit(X_train)
nested_seconds = time.perf_counter() - start

print("                          size  seconds  held-out R²")
for name, model, seconds in [
    ("LatentSizeCV", search.best_estimator_, search_seconds),
    ("LatentSizeCV, 1/4 epochs", quick.best_estimator_, quick_seconds),
    ("n_components=0.9", nested_model, nested_seconds),
]:
    print(f"{name:>24} {model.n_components_:5d} {seconds:8.1f} {test_r2(model):12.3f}")
print(f"{'grid search (no refit)':>24} {'':5} {grid_seconds:8.1f}")
print(f"{'PCA(0.9)':>24} {PCA(share).fit(X_train).n_components_:5d}")

# %%
# :class:`~skae.LatentSizeCV` runs the grid's 15 fits and one refit, so it
# takes about the grid search's time (the grid, run first, also paid the
# session's one-time start-up costs) and gives the grid's answer, with the
# model refitted at it. A quarter of the epochs takes about a third of the
# time (each fit's set-up and scoring do not shrink, nor does the refit)
# for a curve that runs below the grid's: it picks 32 units where the grid
# picks 16, whose R² of 0.906 is close to the share. The nested fit is the
# quickest: the grid only knows the sizes it tried, the nested curve every
# size. Its first m units reconstruct somewhat worse than a fit dedicated
# to m units, so its curve reaches the share a little later, and it picks
# a slightly wider code; the model it returns is trained on at its width.
# All the routes need fewer units than PCA's 21, since each unit of the
# autoencoder explains more than one of PCA's.

fig, ax = plt.subplots(layout="constrained")
plot_nested_explained_variance(nested_model, PCA(32).fit(X_train), ax=ax)
ax.plot(
    sizes, search.cv_results_["mean_test_r2"], "s", color="C2", label="LatentSizeCV (grid)"
)
ax.plot(sizes, quick.cv_results_["mean_test_r2"], "v", color="C3", label="epoch_share=0.25")
ax.legend(loc="lower right")
ax.set_xlim(0, 33)
ax.set_ylim(0, 1)
plt.show()

# %%
# ``nested=True`` with an int ``n_components`` keeps the whole nested code:
# its first m units are a usable m-unit code for every m, at some cost in
# error (on the digits the first m units of a 32-unit code reconstruct with
# 1.2 to 1.4 times the error of a fit dedicated to m units; see
# ``benchmarks/nested.py``). A float ``n_components`` only reads its width
# from the nested code, and its model is a fit dedicated to that width.

codes = AutoencoderTransformer(8, nested=True, random_state=0).fit(X_train)
print(np.round(codes.nested_explained_variance_, 2))
