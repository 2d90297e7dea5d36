"""Sparsity penalties on the code of a batch.

Each function takes the code ``Z`` of shape (batch, n_components) and returns a
scalar tensor, averaged over the batch so that it does not grow with batch size.
"""

import torch

_EPS = 1e-6


def kl_divergence(Z, target):
    """KL divergence between ``target`` and each unit's mean activation.

    ``Z`` must lie in (0, 1). This is the penalty of Ng's sparse autoencoder
    notes, summed over code units.
    """
    rho_hat = Z.mean(dim=0).clamp(_EPS, 1 - _EPS)
    rho = target
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log(
        (1 - rho) / (1 - rho_hat)
    )
    return kl.sum()


def l1(Z, target=None):
    """Mean over the batch of the L1 norm of each code row; ``target`` is unused."""
    return Z.abs().sum(dim=1).mean()


PENALTIES = {"kl": kl_divergence, "l1": l1}
