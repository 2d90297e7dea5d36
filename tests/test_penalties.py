"""Penalties: sparsity is zero at the target, grows away from it and is batch-size
free; contraction is the squared Jacobian norm, exactly or without bias."""

import pytest
import torch

from skae._network import build_autoencoder
from skae.penalties import contraction_exact, contraction_projected, kl_divergence, l1


def test_kl_is_zero_at_the_target_and_positive_elsewhere():
    at_target = torch.full((64, 8), 0.05)
    assert kl_divergence(at_target, 0.05).item() < 1e-6
    dense = torch.full((64, 8), 0.5)
    denser = torch.full((64, 8), 0.9)
    assert 0 < kl_divergence(dense, 0.05) < kl_divergence(denser, 0.05)


def test_kl_gradient_pushes_mean_activation_towards_target():
    Z = torch.full((16, 4), 0.5, requires_grad=True)
    kl_divergence(Z, 0.05).backward()
    assert torch.all(Z.grad > 0)  # descending lowers the activations


def test_l1_is_mean_row_norm_independent_of_batch_size():
    Z = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert l1(Z).item() == 3.0
    assert l1(torch.cat([Z, Z])).item() == 3.0


def _tiny_encoder(hidden_layer_sizes=(4,), activation="tanh"):
    module = build_autoencoder(
        5,
        3,
        generator=torch.Generator().manual_seed(0),
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
    )
    return module.double().encode


def _jacobians(encode, X):
    """Each row's Jacobian, from torch.autograd.functional, shape (rows, units, inputs)."""
    return torch.stack(
        [torch.autograd.functional.jacobian(encode, x[None])[0, :, 0] for x in X]
    )


@pytest.mark.parametrize("activation", ["tanh", "relu", "elu"])
def test_exact_contraction_is_the_mean_squared_jacobian_norm(activation):
    encode = _tiny_encoder(activation=activation)
    X = torch.randn(7, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Z, penalty = contraction_exact(encode, X)
    expected = _jacobians(encode, X).pow(2).sum() / X.shape[0]
    torch.testing.assert_close(penalty, expected)
    torch.testing.assert_close(Z, encode(X))


def test_linear_encoder_jacobian_is_its_weight():
    module = build_autoencoder(5, 3, generator=torch.Generator().manual_seed(0))
    X = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    _, penalty = contraction_exact(module.encode, X)
    torch.testing.assert_close(penalty, module.encoder_linear.weight.pow(2).sum())


def test_projection_is_unbiased_within_its_standard_error():
    encode = _tiny_encoder()
    X = torch.randn(6, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    J = _jacobians(encode, X)
    exact = J.pow(2).sum() / X.shape[0]
    # With random signs v, ||J v||^2 = v' A v for A = J'J, whose variance is
    # 2 * (sum of squared off-diagonal entries of A); the rows' v are independent.
    A = J.transpose(1, 2) @ J
    off_diagonal = A.pow(2).sum() - torch.diagonal(A, dim1=1, dim2=2).pow(2).sum()
    n_draws = 1000
    std_error = torch.sqrt(2 * off_diagonal / X.shape[0] ** 2 / n_draws)
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack(
        [contraction_projected(encode, X, generator)[1] for _ in range(n_draws)]
    )
    assert abs(draws.mean() - exact) < 4 * std_error
    assert draws.std() > 0  # a random estimate, not the exact value in disguise


@pytest.mark.parametrize("penalty", ["exact", "projection"])
def test_contraction_gradient_reaches_the_weights(penalty):
    module = build_autoencoder(
        5, 3, generator=torch.Generator().manual_seed(0), hidden_layer_sizes=(4,)
    )
    X = torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    if penalty == "exact":
        _, value = contraction_exact(module.encode, X)
    else:
        _, value = contraction_projected(module.encode, X, torch.Generator().manual_seed(0))
    value.backward()
    weights = [module.encoder_linear.weight, module.encoder_correction[0].weight]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)
    # The decoder does not shape the code, so the penalty leaves it alone.
    assert module.decoder_linear.weight.grad is None


def test_linear_encoder_gradient_matches_the_exact_one():
    # ||W v||^2 has gradient 2 W v v', whose mean over v is 2 W: check it on average.
    module = build_autoencoder(5, 3, generator=torch.Generator().manual_seed(0))
    weight = module.encoder_linear.weight
    X = torch.zeros(200, 5)
    _, value = contraction_projected(module.encode, X, torch.Generator().manual_seed(0))
    (gradient,) = torch.autograd.grad(value, weight)
    torch.testing.assert_close(gradient, 2 * weight.detach(), atol=0.25, rtol=0)
