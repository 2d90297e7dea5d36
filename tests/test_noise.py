"""Corruption functions: their statistics, their generator, and clean inputs."""

import pytest
import torch

from skae.noise import NOISES, gaussian, masking, salt_and_pepper


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(NOISES))
def test_input_untouched_and_generator_reproducible(name):
    X = torch.rand(200, 30)
    before = X.clone()
    a = NOISES[name](X, 0.3, _gen(0))
    b = NOISES[name](X, 0.3, _gen(0))
    c = NOISES[name](X, 0.3, _gen(1))
    assert torch.equal(X, before)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, X)


def test_masking_zeroes_entries_with_the_given_probability():
    X = torch.ones(500, 100)
    out = masking(X, 0.3, _gen())
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert abs((out == 0).float().mean().item() - 0.3) < 0.01


def test_gaussian_noise_has_the_given_std():
    X = torch.zeros(500, 100)
    out = gaussian(X, 0.5, _gen())
    assert abs(out.std().item() - 0.5) < 0.01
    assert abs(out.mean().item()) < 0.01


def test_salt_and_pepper_uses_batch_extremes():
    X = torch.rand(500, 100) * 0.8 + 0.1
    out = salt_and_pepper(X, 0.2, _gen())
    changed = out != X
    assert abs(changed.float().mean().item() - 0.2) < 0.01
    low, high = X.min(), X.max()
    values = out[changed]
    assert torch.all((values == low) | (values == high))
    assert abs((values == high).float().mean().item() - 0.5) < 0.03
