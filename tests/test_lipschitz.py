"""Lipschitz tools of notebook 03: power iteration against torch.linalg, the product bound, measured ratios."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers.metrics import (
    empirical_lipschitz,
    layer_spectral_norms,
    lipschitz_upper_bound,
    max_gradient_norm,
    power_iteration,
)


def _matrix(m: int, n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(m, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize(("m", "n"), [(64, 64), (64, 2), (1, 64), (10, 30)])
def test_power_iteration_converges_to_the_spectral_norm(m: int, n: int) -> None:
    w = _matrix(m, n)
    sigma, u = power_iteration(w, num_iters=500, generator=torch.Generator().manual_seed(1))
    exact = torch.linalg.matrix_norm(w, ord=2).item()
    assert sigma == pytest.approx(exact, rel=1e-6)
    assert u.shape == (m,)
    assert u.norm().item() == pytest.approx(1.0)


def test_power_iteration_approaches_from_below_and_can_continue() -> None:
    w = _matrix(64, 64, seed=2)
    exact = torch.linalg.matrix_norm(w, ord=2).item()
    u = torch.randn(64, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    estimates = []
    for _ in range(30):  # one iteration at a time, carrying u: what spectral normalisation does
        sigma, u = power_iteration(w, num_iters=1, u=u)
        estimates.append(sigma)
    assert all(s <= exact * (1 + 1e-12) for s in estimates)  # u^T W v <= sigma_max for unit u, v
    assert estimates[0] < 0.99 * exact  # one step from a random start is visibly short
    assert estimates[-1] > estimates[0]
    # 30 single steps carrying u are 30 steps at once from the same start
    together, _ = power_iteration(
        w, num_iters=30, u=torch.randn(64, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    )
    assert estimates[-1] == pytest.approx(together, rel=1e-12)


def test_power_iteration_on_a_diagonal_matrix() -> None:
    w = torch.diag(torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64))
    sigma, u = power_iteration(w, num_iters=50, u=torch.ones(3, dtype=torch.float64))
    assert sigma == pytest.approx(3.0, rel=1e-12)
    assert u.abs().tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)  # the top singular direction


def test_power_iteration_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="matrix"):
        power_iteration(torch.ones(3))
    with pytest.raises(ValueError, match="num_iters"):
        power_iteration(torch.ones(2, 2), num_iters=0)


def test_a_linear_layer_attains_its_spectral_norm() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(5, 1)
    norm = layer.weight.norm().item()  # a 1 x 5 matrix: its spectral norm is the row's length
    assert layer_spectral_norms(layer) == pytest.approx([norm])
    assert lipschitz_upper_bound(layer) == pytest.approx(norm)
    x = torch.randn(100, 5)
    direction = layer.weight.detach() / norm  # the top right singular vector: the ratio is exact
    assert empirical_lipschitz(layer, x, x + 0.3 * direction) == pytest.approx(norm, rel=1e-5)
    assert max_gradient_norm(layer, x) == pytest.approx(norm, rel=1e-6)


def test_measured_ratios_are_below_the_product_bound() -> None:
    torch.manual_seed(0)
    D = gh.models.MLPDiscriminator(data_dim=2, hidden=(64, 64, 64))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(2000, 2, generator=g), torch.randn(2000, 2, generator=g)
    bound = lipschitz_upper_bound(D)
    assert bound == pytest.approx(torch.tensor(layer_spectral_norms(D)).prod().item(), rel=1e-6)
    assert len(layer_spectral_norms(D)) == 4
    assert 0 < empirical_lipschitz(D, x, y) <= bound
    assert 0 < max_gradient_norm(D, x) <= bound


def test_spectrally_normalised_layers_reach_norm_one_and_bound_d() -> None:
    torch.manual_seed(0)
    D = gh.models.MLPDiscriminator(data_dim=2, hidden=(64, 64, 64), spectral_norm=True)
    x = torch.randn(256, 2, generator=torch.Generator().manual_seed(2))
    for _ in range(50):  # each training-mode forward pass does one power iteration
        D(x)
    D.eval()
    norms = layer_spectral_norms(D)
    # power iteration estimates sigma from below, so W / sigma_hat has norm at least 1, and close to it
    assert all(1 - 1e-6 <= n < 1.01 for n in norms)
    assert max_gradient_norm(D, x) <= lipschitz_upper_bound(D)


def test_empirical_lipschitz_rejects_equal_points_and_bad_shapes() -> None:
    layer = nn.Linear(2, 1)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="different"):
        empirical_lipschitz(lambda t: layer(t).squeeze(1), x, x)
    with pytest.raises(ValueError, match="same shape"):
        empirical_lipschitz(layer, x, torch.zeros(2, 2))


def test_norm_at_zero_plain_sqrt_is_nan_but_torch_norm_is_not() -> None:
    """The gradient penalty's NaN comes from a hand-written square root, not from every norm."""
    g = torch.zeros(4, 2, requires_grad=True)
    (by_norm,) = torch.autograd.grad(g.norm(dim=1).sum(), g)
    (by_sqrt,) = torch.autograd.grad(torch.sqrt(g.pow(2).sum(1)).sum(), g)
    (by_eps,) = torch.autograd.grad(torch.sqrt(g.pow(2).sum(1) + 1e-12).sum(), g)
    assert torch.equal(by_norm, torch.zeros(4, 2))  # torch's norm uses the subgradient 0 at g = 0
    assert torch.isnan(by_sqrt).all()  # d sqrt(s)/ds = inf at s = 0, times ds/dg = 0
    assert torch.equal(by_eps, torch.zeros(4, 2))  # the package's form: g / sqrt(|g|^2 + eps) = 0

