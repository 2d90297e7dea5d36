"""The torch module: PCA start from given axes, tied weights, top-k, deterministic building."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skae._network import build_autoencoder, init_pca
from skae._principal_components import principal_components


@pytest.fixture(scope="module")
def X():
    return torch.from_numpy(load_digits().data[:300].astype(np.float32) / 16)


def _build(X, seed=0, **kwargs):
    return build_autoencoder(
        X.shape[1], 5, generator=torch.Generator().manual_seed(seed), **kwargs
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"hidden_layer_sizes": (32, 16)},
        {"hidden_layer_sizes": (32,), "tied_weights": True},
        {"hidden_layer_sizes": (32,), "activation": "tanh"},
    ],
)
def test_pca_init_reconstructs_exactly_as_pca(X, kwargs):
    module = _build(X, **kwargs)
    init_pca(module, *principal_components(X, 5))
    pca = PCA(n_components=5).fit(X.numpy())
    expected = pca.inverse_transform(pca.transform(X.numpy()))
    with torch.no_grad():
        code = module.encode(X)
        reconstruction = module.decode(code).numpy()
    np.testing.assert_allclose(reconstruction, expected, atol=1e-4)
    np.testing.assert_allclose(
        np.abs(code.numpy()), np.abs(pca.transform(X.numpy())), atol=1e-4
    )


def test_pca_init_with_a_sigmoid_code_starts_near_pca(X):
    module = _build(X, hidden_layer_sizes=(32,), code_activation="sigmoid")
    init_pca(module, *principal_components(X, 5))
    pca = PCA(n_components=5).fit(X.numpy())
    pca_error = np.mean((X.numpy() - pca.inverse_transform(pca.transform(X.numpy()))) ** 2)
    with torch.no_grad():
        code = module.encode(X)
        error = torch.mean((module.decode(code) - X) ** 2).item()
    assert 0.2 < code.mean().item() < 0.8  # mostly in the sigmoid's linear range
    assert error < 1.1 * pca_error


@pytest.mark.parametrize("hidden", [(), (32, 16)])
def test_variational_pca_start_whitens_and_reconstructs_as_pca(X, hidden):
    module = _build(X, hidden_layer_sizes=hidden, variational=True)
    init_pca(module, *principal_components(X, 5))
    pca = PCA(n_components=5, whiten=True).fit(X.numpy())
    expected = pca.inverse_transform(pca.transform(X.numpy()))
    with torch.no_grad():
        mean, log_var = module.encode_distribution(X)
        np.testing.assert_array_equal(mean.numpy(), module.encode(X).numpy())
        reconstruction = module.decode(mean).numpy()
    np.testing.assert_allclose(reconstruction, expected, atol=1e-4)
    # Codes on the prior's scale: unit variance, as PCA(whiten=True) gives them
    # (up to its n - 1), each unit up to sign.
    np.testing.assert_allclose(
        np.abs(mean.numpy()), np.abs(pca.transform(X.numpy())), rtol=1e-2, atol=1e-2
    )
    np.testing.assert_allclose(log_var.numpy(), np.log(0.01), rtol=1e-6)


def test_variational_head_leaves_the_other_initial_weights_alone(X):
    plain = _build(X, hidden_layer_sizes=(32,))
    variational = _build(X, hidden_layer_sizes=(32,), variational=True)
    weights = variational.state_dict()
    for name, value in plain.state_dict().items():
        assert torch.equal(weights[name], value), name
    assert weights["encoder_log_var.weight"].shape == (5, 32)


def test_pca_init_with_more_units_than_features():
    X = torch.randn(40, 3)
    module = build_autoencoder(3, 5, generator=torch.Generator().manual_seed(0))
    init_pca(module, *principal_components(X, 5))
    with torch.no_grad():
        np.testing.assert_allclose(module.decode(module.encode(X)), X, atol=1e-5)


def test_tied_weights_share_the_encoder_matrices(X):
    untied = _build(X, hidden_layer_sizes=(32,))
    tied = _build(X, hidden_layer_sizes=(32,), tied_weights=True)
    n_untied = sum(p.numel() for p in untied.parameters())
    n_tied = sum(p.numel() for p in tied.parameters())
    # The decoder keeps its biases but borrows all three weight matrices.
    assert n_tied == n_untied - (5 * 64 + 5 * 32 + 32 * 64)
    z = torch.randn(4, 5)
    with torch.no_grad():
        before = tied.decoder_linear(z)
        tied.encoder_linear.weight.mul_(2)
        after = tied.decoder_linear(z)
    bias = tied.decoder_linear.bias
    torch.testing.assert_close(after - bias, 2 * (before - bias))


def test_top_k_keeps_the_largest_units():
    module = build_autoencoder(6, 4, generator=torch.Generator().manual_seed(0), top_k=2)
    with torch.no_grad():
        module.encoder_linear.weight.copy_(torch.eye(4, 6))
        module.encoder_linear.bias.zero_()
        code = module.encode(torch.tensor([[1.0, -5.0, 3.0, 2.0, 0.0, 0.0]]))
    torch.testing.assert_close(code, torch.tensor([[0.0, 0.0, 3.0, 2.0]]))


def test_building_is_deterministic_and_leaves_global_rng_alone(X):
    state = torch.get_rng_state()
    a, b, c = _build(X, 0), _build(X, 0), _build(X, 1)
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb, _pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
