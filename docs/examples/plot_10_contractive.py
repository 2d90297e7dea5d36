"""
================================================
Contractive autoencoder: how steady is the code?
================================================

A :class:`~skae.ContractiveAutoencoder` adds to its loss the squared
Frobenius norm of the Jacobian of the code with respect to the input (Rifai
et al., 2011): the code is pushed to ignore small changes of the input,
except along the directions the reconstruction needs. Here the three
autoencoders, with the same network, on the 8x8 digits: how much their code
moves when the test images get a little Gaussian noise, and what each pays
in reconstruction error.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, ContractiveAutoencoder, DenoisingAutoencoder

X = load_digits().data / 16
X_train, X_test = train_test_split(X, random_state=0)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

settings = dict(
    n_components=16, hidden_layer_sizes=(64,), max_epochs=30, random_state=0
)
models = {
    "plain": AutoencoderTransformer(**settings),
    "denoising": DenoisingAutoencoder(noise="gaussian", noise_level=0.1, **settings),
    "contractive": ContractiveAutoencoder(contraction_weight=0.1, **settings),
}
for model in models.values():
    model.fit(X_train)

# %%
# Sensitivity of the code
# -----------------------
# Each test image gets Gaussian noise of standard deviation 0.05 (pixels are
# in [0, 1]). The change of its code is divided by the code's spread (the
# root of the summed variances of the code units over the test images), so
# that a model cannot look steady just by shrinking its code.

rng = np.random.default_rng(0)
noise = 0.05 * rng.standard_normal(X_test.shape)
sensitivity, error = {}, {}
for name, model in models.items():
    Z = model.transform(X_test)
    spread = np.sqrt(Z.var(axis=0).sum())
    change = np.linalg.norm(model.transform(X_test + noise) - Z, axis=1).mean()
    sensitivity[name], error[name] = change / spread, -model.score(X_test)
    print(f"{name:>11}: code change / spread {sensitivity[name]:.4f}, "
          f"test MSE {error[name]:.5f}")

# %%
# The same figures as bars. On these digits, with a 16-unit code that starts
# at PCA and stays close to linear, the penalty mostly shrinks the code as a
# whole: its absolute change under the noise falls, but relative to its
# spread it moves about as much as the plain model's, and the reconstruction
# error rises. ``benchmarks/contraction.py`` measures the trade for other
# settings, on the digits or MNIST.

fig, axes = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
for ax, values, title in zip(
    axes, (sensitivity, error), ("code change / code spread", "test MSE")
):
    ax.bar(list(values), list(values.values()), color=["C0", "C1", "C2"])
    ax.set_title(title)
plt.show()
