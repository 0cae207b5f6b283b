"""Notebook 01, what the non-saturating loss minimises at D*: the value identity, the gradients (Arjovsky and
Bottou 2017), mode-seeking of single Gaussians, and the few-step experiments behind the mistakes of section 5."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_helpers import losses, metrics
from gan_helpers.data import GaussianMixture, gaussian_1d, mixture_1d
from gan_helpers.experiments import objective_1d

PAIRS = [
    (gaussian_1d(0.0, 1.0), gaussian_1d(0.0, 1.0)),
    (gaussian_1d(0.0, 1.0), gaussian_1d(2.0, 1.0)),
    (gaussian_1d(1.0, 0.75), gaussian_1d(-1.0, 1.5)),
    (mixture_1d((-2.0, 2.0), (0.5, 0.5)), gaussian_1d(2.0, 0.5)),
]


def _midpoint(p: GaussianMixture, q: GaussianMixture) -> GaussianMixture:
    """m = (p + q) / 2 as a mixture of all the components, so KL(. || m) can be integrated independently."""
    return GaussianMixture(
        torch.cat([p.centres, q.centres]).double(),
        torch.cat([p.stds, q.stds]).double(),
        torch.cat([p.weights / 2, q.weights / 2]).double(),
    )


@pytest.mark.parametrize(("p_data", "p_g"), PAIRS)
def test_nonsaturating_value_at_d_star_is_log2_plus_reverse_kl_minus_kl_to_the_mixture(p_data, p_g):
    value = metrics.generator_loss_numeric(p_data, p_g)
    m = _midpoint(p_data, p_g)
    assert value == pytest.approx(math.log(2) + metrics.kl_numeric(p_g, p_data) - metrics.kl_numeric(p_g, m), abs=1e-9)
    # The same value written with KL - 2 JSD: the remainder log 4 + E_data[log D*] is not a constant.
    saturating = metrics.generator_loss_numeric(p_data, p_g, "saturating")
    e_data_log_d = metrics.value_function_numeric(p_data, p_g) - saturating  # V(D*) = E_data[log D*] + E_g[log(1-D*)]
    kl_minus_2jsd = metrics.kl_numeric(p_g, p_data) - 2 * metrics.jsd_numeric(p_data, p_g)
    assert value == pytest.approx(kl_minus_2jsd + math.log(4) + e_data_log_d, abs=1e-9)
    assert saturating == pytest.approx(metrics.kl_numeric(p_g, m) - math.log(2), abs=1e-9)


def test_the_remainder_is_not_two_log_two():
    # At p_g = p_data, D* = 1/2 and E[-log D*] = log 2, while KL - 2 JSD + 2 log 2 would say 2 log 2.
    p = gaussian_1d(0.5, 1.2)
    assert metrics.generator_loss_numeric(p, p) == pytest.approx(math.log(2), abs=1e-12)
    shifted = [
        metrics.generator_loss_numeric(p, q) - metrics.kl_numeric(q, p) + 2 * metrics.jsd_numeric(p, q)
        for p, q in PAIRS[1:]
    ]
    assert max(shifted) - min(shifted) > 0.1, "E[-log D*] - (KL - 2 JSD) depends on G"


def test_generator_loss_numeric_with_a_given_discriminator_and_bad_kind():
    p, q = PAIRS[1]
    coin = metrics.generator_loss_numeric(p, q, logit_fn=lambda x: torch.zeros_like(x))
    assert coin == pytest.approx(math.log(2), abs=1e-9)  # D = 1/2: -log(1/2) under any p_g
    with pytest.raises(ValueError, match="Unknown generator loss"):
        metrics.generator_loss_numeric(p, q, "hinge")


@pytest.mark.parametrize(
    ("p_data", "mean_g", "std_g"),
    [(mixture_1d((-2.0, 2.0), (0.5, 0.5)), 0.5, 1.5), (gaussian_1d(1.0, 0.75), -1.0, 1.5), (gaussian_1d(), 3.0, 0.8)],
)
def test_nonsaturating_gradient_at_d_star_is_that_of_kl_minus_2jsd(p_data, mean_g, std_g):
    g = metrics.objective_gradients(p_data, mean_g, std_g)
    assert g.nonsaturating == pytest.approx(g.kl_minus_2jsd, abs=1e-8)
    assert g.saturating == pytest.approx(g.two_jsd, abs=1e-8)
    # ... and not the JSD's: the two losses follow different directions.
    assert max(abs(a - b) for a, b in zip(g.nonsaturating, g.two_jsd, strict=True)) > 0.05
    # Central differences of the package's separate KL and JSD quadratures, on one fixed grid.
    grid = metrics.density_grid(p_data, gaussian_1d(mean_g, std_g), num_points=8001, num_stds=12.0)

    def kl_minus_2jsd(mean: float, std: float) -> float:
        one = torch.ones(1, dtype=torch.float64)
        q = GaussianMixture(torch.tensor([[mean]], dtype=torch.float64), std * one, one)  # float64: h is small
        return metrics.kl_numeric(q, p_data, grid) - 2 * metrics.jsd_numeric(p_data, q, grid)

    h = 1e-4
    d_mean = (kl_minus_2jsd(mean_g + h, std_g) - kl_minus_2jsd(mean_g - h, std_g)) / (2 * h)
    d_std = (kl_minus_2jsd(mean_g, std_g + h) - kl_minus_2jsd(mean_g, std_g - h)) / (2 * h)
    assert g.kl_minus_2jsd == pytest.approx((d_mean, d_std), abs=1e-6)


def test_objective_gradients_rejects_a_bad_std():
    with pytest.raises(ValueError, match="std_g"):
        metrics.objective_gradients(gaussian_1d(), 0.0, 0.0)


def test_reverse_kl_seeks_a_mode_and_forward_kl_covers_both():
    p_data = mixture_1d((-2.0, 2.0), (0.5, 0.5))
    means, stds = [i / 10 for i in range(31)], [i / 10 for i in range(2, 31)]
    best = objective_1d.best_single_gaussian(p_data, means, stds)
    assert (best["reverse_kl"].mean, best["reverse_kl"].std) == (2.0, 0.5)
    assert (best["kl_minus_2jsd"].mean, best["kl_minus_2jsd"].std) == (2.0, 0.5)
    # The forward-KL minimiser over Gaussians matches the data's mean 0 and variance 0.25 + 4.
    assert best["forward_kl"].mean == 0.0 and best["forward_kl"].std == pytest.approx(math.sqrt(4.25), abs=0.05)
    for b in best.values():  # the vectorised search agrees with one-candidate-at-a-time quadrature
        single = objective_1d.divergences_to_gaussian(p_data, b.mean, b.std)[b.divergence]
        assert b.value == pytest.approx(single, abs=1e-6)
    one_mode = objective_1d.divergences_to_gaussian(p_data, 2.0, 0.5)
    covering = objective_1d.divergences_to_gaussian(p_data, 0.0, math.sqrt(4.25))
    assert one_mode["reverse_kl"] == pytest.approx(math.log(2), abs=1e-3)  # p_data = p_g / 2 on the mode
    assert one_mode["reverse_kl"] < covering["reverse_kl"] and one_mode["forward_kl"] > covering["forward_kl"]
    assert "N(+2.0, 0.5^2)" in str(best["reverse_kl"])
    with pytest.raises(ValueError, match="positive"):
        objective_1d.best_single_gaussian(p_data, [0.0], [0.0])


def _batches() -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.special.ndtri(torch.linspace(0.005, 0.995, 100, dtype=torch.float64))
    return (2.0 + 0.5 * z).float()[:, None], (-1.0 + 0.5 * z).float()[:, None]


def test_a_d_step_on_the_wrong_sign_reverses_d():
    x_real, x_fake = _batches()
    before, right = objective_1d.discriminator_steps(losses.d_loss, x_real, x_fake)
    same_start, wrong = objective_1d.discriminator_steps(losses.value_function, x_real, x_fake)
    assert before == same_start  # one seed, one initial D
    assert right.d_real > before.d_real + 0.1 and right.d_fake < before.d_fake - 0.1
    assert wrong.d_real < before.d_real - 0.1 and wrong.d_fake > before.d_fake + 0.1
    assert "mean D(x_real)" in str(right)
    with pytest.raises(ValueError, match="steps"):
        objective_1d.discriminator_steps(losses.d_loss, x_real, x_fake, steps=0)


def test_a_g_step_on_log_d_helps_d():
    z = torch.special.ndtri(torch.linspace(0.005, 0.995, 100, dtype=torch.float64))
    p_data, p_start = gaussian_1d(2.0, 0.5), gaussian_1d(-1.0, 0.5)

    def frozen(x):
        return metrics.optimal_discriminator_logit(p_data, p_start, x)

    before, right, theta_right = objective_1d.generator_steps(losses.g_loss_nonsaturating, frozen, z)
    _, wrong, theta_wrong = objective_1d.generator_steps(lambda logits: F.logsigmoid(logits).mean(), frozen, z)
    assert right > before > wrong and theta_right > 0.5 > theta_wrong
