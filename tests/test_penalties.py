"""Sparsity penalties: zero at the target, growing away from it, batch-size free."""

import torch

from skae.penalties import kl_divergence, l1


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
