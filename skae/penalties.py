"""Penalties of the training loss: sparsity of the code, and contraction of the encoder.

The sparsity penalties take the code ``Z`` of shape (batch, n_components); the
contraction penalties take the encoder and the input batch ``X`` and return
the code with the penalty, both from one pass. Each penalty is a scalar tensor,
averaged over the batch so that it does not grow with batch size.
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
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


def l1(Z, target=None):
    """Mean over the batch of the L1 norm of each code row; ``target`` is unused."""
    return Z.abs().sum(dim=1).mean()


def contraction_exact(encode, X):
    """Squared Frobenius norm of the Jacobian of ``encode`` at each row of ``X``.

    The penalty of the contractive autoencoder (Rifai et al., 2011), exactly:
    one backward pass per code unit, all batched in one call, with the graph
    kept so that the penalty can be differentiated in turn. Rows must be
    encoded independently of each other (no batch statistics).

    Returns ``(Z, penalty)``: the code of ``X`` and the batch mean of
    ``||dZ_i/dX_i||_F^2``.
    """
    X = X.detach().requires_grad_()
    Z = encode(X)
    units = torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device)
    # Row j of the Jacobian for every sample at once: the gradient of Z[:, j].
    (rows,) = torch.autograd.grad(
        Z,
        X,
        units[:, None, :].expand(-1, Z.shape[0], -1),
        create_graph=True,
        is_grads_batched=True,
    )
    return Z, rows.pow(2).sum() / X.shape[0]


def contraction_projected(encode, X, generator):
    """An unbiased random-projection estimate of :func:`contraction_exact`.

    For ``v`` with independent random signs, ``E ||J v||^2 = ||J||_F^2``; each
    row gets its own ``v``, drawn from ``generator``, and ``J v`` comes from one
    forward-mode Jacobian-vector product, whatever the width of the code. The
    estimate is differentiable, so its gradient is an unbiased estimate of the
    exact penalty's gradient.

    Returns ``(Z, penalty)`` as :func:`contraction_exact` does.
    """
    signs = torch.randint(0, 2, X.shape, generator=generator, device=X.device)
    V = (2 * signs - 1).to(X.dtype)
    Z, JV = torch.func.jvp(encode, (X,), (V,))
    return Z, JV.pow(2).sum() / X.shape[0]


PENALTIES = {"kl": kl_divergence, "l1": l1}
