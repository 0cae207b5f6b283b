"""Notebook 01's mathematics: V(D, G), the optimal discriminator, JSD (quadrature and Monte Carlo), checkers."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import gan_helpers as gh
from gan_helpers import exercises, metrics
from gan_helpers.data import gaussian_1d, mixture_1d

PAIRS = [
    (gaussian_1d(0.0, 1.0), gaussian_1d(0.0, 1.0)),
    (gaussian_1d(0.0, 1.0), gaussian_1d(1.0, 1.0)),
    (gaussian_1d(0.0, 1.0), gaussian_1d(2.0, 0.5)),
    (gaussian_1d(-1.0, 0.75), gaussian_1d(1.0, 2.0)),
    (gaussian_1d(4.0, 1.25), mixture_1d((-2.0, 3.0), (0.6, 0.6))),
]
LOG4 = math.log(4.0)


@pytest.mark.parametrize(("p_data", "p_g"), PAIRS)
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_jsd(p_data, p_g):
    value = metrics.value_function_numeric(p_data, p_g)
    assert value == pytest.approx(-LOG4 + 2 * metrics.jsd_numeric(p_data, p_g), abs=1e-9)
    assert value >= -LOG4 - 1e-12


@pytest.mark.parametrize(("p_data", "p_g"), PAIRS[1:])
def test_the_optimal_discriminator_beats_any_other(p_data, p_g):
    best = metrics.value_function_numeric(p_data, p_g)
    coin_flip = metrics.value_function_numeric(p_data, p_g, lambda x: torch.zeros_like(x))
    assert coin_flip == pytest.approx(-LOG4, abs=1e-9)  # D = 1/2 everywhere: V = 2 log(1/2)
    nudged = metrics.value_function_numeric(
        p_data, p_g, lambda x: metrics.optimal_discriminator_logit(p_data, p_g, x) + 0.3
    )
    assert best > coin_flip and best > nudged


def test_value_is_minus_log4_exactly_when_the_densities_are_equal():
    p = gaussian_1d(1.5, 0.7)
    assert metrics.value_function_numeric(p, p) == pytest.approx(-LOG4, abs=1e-12)
    assert metrics.jsd_numeric(p, p) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("p", "q"), PAIRS[1:])
def test_jsd_is_symmetric_and_between_zero_and_log2(p, q):
    jsd = metrics.jsd_numeric(p, q)
    assert 0.0 < jsd <= math.log(2) + 1e-12
    assert jsd == pytest.approx(metrics.jsd_numeric(q, p), abs=1e-12)


def test_jsd_of_far_apart_densities_reaches_log2():
    assert metrics.jsd_numeric(gaussian_1d(0.0, 1.0), gaussian_1d(40.0, 1.0)) == pytest.approx(math.log(2), abs=1e-9)


@pytest.mark.parametrize(("p", "q"), PAIRS[1:])
def test_jsd_by_quadrature_agrees_with_monte_carlo(p, q):
    estimate, std_error = metrics.jsd_monte_carlo(p, q, 50_000, generator=torch.Generator().manual_seed(0))
    assert 0 < std_error < 0.01
    assert abs(estimate - metrics.jsd_numeric(p, q)) < 4 * std_error


def test_jsd_monte_carlo_is_reproducible_with_a_seed_and_rejects_tiny_samples():
    p, q = PAIRS[1]
    first = metrics.jsd_monte_carlo(p, q, 1000, generator=torch.Generator().manual_seed(3))
    assert first == metrics.jsd_monte_carlo(p, q, 1000, generator=torch.Generator().manual_seed(3))
    with pytest.raises(ValueError, match="num_samples"):
        metrics.jsd_monte_carlo(p, q, 1)


@pytest.mark.parametrize(("mp", "sp", "mq", "sq"), [(0.0, 1.0, 1.0, 1.5), (2.0, 0.5, -1.0, 2.0), (0.0, 2.0, 0.0, 1.0)])
def test_kl_by_quadrature_matches_the_closed_form(mp, sp, mq, sq):
    p, q = gaussian_1d(mp, sp), gaussian_1d(mq, sq)
    assert metrics.kl_numeric(p, q) == pytest.approx(metrics.kl_gaussians(mp, sp, mq, sq), abs=1e-7)


def test_kl_gaussians_against_a_hand_value_and_rejects_bad_stds():
    # KL(N(0,1) || N(1,1)) = 1/2 (only the mean term survives).
    assert metrics.kl_gaussians(0.0, 1.0, 1.0, 1.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive"):
        metrics.kl_gaussians(0.0, 0.0, 1.0, 1.0)


def test_integrate_uses_the_trapezoid_rule_and_densities_integrate_to_one():
    x = torch.linspace(0.0, 1.0, 3, dtype=torch.float64)
    assert metrics.integrate(x**2, x) == pytest.approx(0.375)  # 0.5 * (0 + 0.25)/2 + 0.5 * (0.25 + 1)/2
    p = mixture_1d((-2.0, 3.0), (0.6, 0.6))
    grid = metrics.density_grid(p)
    assert metrics.integrate(p.pdf(grid.float()).double(), grid) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        metrics.integrate(x, x[:2])


def test_density_grid_covers_every_component_and_rejects_bad_inputs():
    grid = metrics.density_grid(gaussian_1d(0.0, 1.0), gaussian_1d(5.0, 2.0), num_stds=3.0, num_points=11)
    assert grid.dtype == torch.float64 and grid[0].item() == pytest.approx(-3.0) and grid[-1].item() == 11.0
    with pytest.raises(ValueError, match="1-D"):
        metrics.density_grid(gh.data.ring_2d())
    with pytest.raises(TypeError, match="GaussianMixture"):
        metrics.jsd_numeric(gaussian_1d(), "N(0, 1)")
    with pytest.raises(ValueError, match="at least one"):
        metrics.density_grid()


def test_optimal_discriminator_is_the_density_ratio_and_lies_in_zero_one():
    p_data, p_g = gaussian_1d(-1.0, 0.75), gaussian_1d(1.0, 2.0)
    x = torch.linspace(-5.0, 5.0, 201, dtype=torch.float64)
    d_star = metrics.optimal_discriminator(p_data, p_g, x)
    a, b = p_data.pdf(x.float()).double(), p_g.pdf(x.float()).double()
    torch.testing.assert_close(d_star, a / (a + b), rtol=1e-5, atol=1e-6)
    assert bool(((d_star > 0) & (d_star < 1)).all())


def test_optimal_discriminator_is_one_half_where_the_densities_are_equal():
    # Equal stds: the densities cross at the midpoint of the means.
    assert metrics.optimal_discriminator(gaussian_1d(-1.0, 1.0), gaussian_1d(3.0, 1.0), torch.tensor([1.0])).item() == (
        pytest.approx(0.5, abs=1e-12)
    )
    # N(0, 1) and N(0, 2^2) cross where x^2 (1 - 1/4)/2 = log 2, i.e. x^2 = 8 log(2) / 3.
    crossing = math.sqrt(8 * math.log(2) / 3)
    x = torch.tensor([crossing], dtype=torch.float64)
    d_star = metrics.optimal_discriminator(gaussian_1d(0.0, 1.0), gaussian_1d(0.0, 2.0), x)
    assert d_star.item() == pytest.approx(0.5, abs=1e-12)


def test_pointwise_maximiser_of_a_log_y_plus_b_log_one_minus_y_is_a_over_a_plus_b():
    y = torch.linspace(1e-4, 1 - 1e-4, 99_999, dtype=torch.float64)
    for a, b in [(0.3, 0.1), (0.05, 0.8), (1.0, 1.0)]:
        best = y[torch.argmax(a * torch.log(y) + b * torch.log(1 - y))].item()
        assert best == pytest.approx(a / (a + b), abs=2e-4)


def test_a_trained_discriminator_approaches_the_optimal_one():
    gh.runtime.seed_everything(0)
    p_data, p_g = gaussian_1d(1.0, 0.75), gaussian_1d(-1.0, 1.5)
    D = gh.models.MLPDiscriminator(1, (32, 32))
    history = gh.training.train_discriminator(D, p_data.sample, p_g.sample, steps=200, batch_size=128, lr=3e-3)
    x = torch.linspace(-3.0, 3.0, 301)
    with torch.no_grad():
        gap = (torch.sigmoid(D(x[:, None])).double() - metrics.optimal_discriminator(p_data, p_g, x)).abs()
    assert gap.mean().item() < 0.05
    assert history.steps("loss_d")[-1] == 200 and history["d_real"][-1] > history["d_fake"][-1]
    with pytest.raises(ValueError, match="at least 1"):
        gh.training.train_discriminator(D, p_data.sample, p_g.sample, steps=0)


def test_objective_plot_and_explorer_draw():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = gh.plots.plot_objective(gaussian_1d(0.0, 1.0), gaussian_1d(0.0, 1.0))
    assert f"{-LOG4:.4f}" in fig.axes[0].get_title() and len(fig.axes) == 2
    explorer = gh.widgets.objective_explorer()
    sliders = [c for c in explorer.children if hasattr(c, "value")]
    assert [s.description for s in sliders] == ["mean data", "std data", "mean G", "std G"]
    sliders[2].value = 0.0  # redraw with equal means
    for figure in (
        gh.plots.plot_generator_gradients(),
        gh.plots.plot_value_vs_shift([-1.0, 0.0, 1.0], [-1.2, -LOG4, -1.2], [0.1, 0.0, 0.1]),
        gh.plots.plot_discriminator_fit(torch.zeros(3), torch.zeros(3), torch.zeros(3), gaussian_1d(), gaussian_1d()),
    ):
        assert figure.axes
    plt.close("all")


# --- exercise checkers: a right answer passes, typical wrong answers get their hint ---------------------


def _d_loss_right(logits_real, logits_fake):
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()


def _d_loss_naive(logits_real, logits_fake):
    return -torch.log(torch.sigmoid(logits_real)).mean() - torch.log(1 - torch.sigmoid(logits_fake)).mean()


def _not_written(*args):
    raise NotImplementedError


def test_check_d_loss_verdicts():
    assert exercises.check_d_loss(_d_loss_right).ok
    naive = exercises.check_d_loss(_d_loss_naive)
    assert not naive.ok and "200" in naive.message
    summed = exercises.check_d_loss(lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum())
    assert not summed.ok and "average" in summed.message
    assert not exercises.check_d_loss(lambda r, f: -_d_loss_right(r, f)).ok
    assert not exercises.check_d_loss(lambda r, f: _d_loss_right(f, r)).ok
    unwritten = exercises.check_d_loss(_not_written)
    assert not unwritten.ok and "not written" in unwritten.message
    assert str(unwritten).startswith("Not yet")


def _gauss(x, mean, std):
    return torch.exp(-((x - mean) ** 2) / (2 * std**2)) / (std * math.sqrt(2 * math.pi))


def test_check_optimal_discriminator_verdicts():
    def right(x, md, sd, mg, sg):
        return _gauss(x, md, sd) / (_gauss(x, md, sd) + _gauss(x, mg, sg))

    def unnormalised(x, md, sd, mg, sg):
        a, b = torch.exp(-((x - md) ** 2) / (2 * sd**2)), torch.exp(-((x - mg) ** 2) / (2 * sg**2))
        return a / (a + b)

    assert exercises.check_optimal_discriminator(right).ok
    swapped = exercises.check_optimal_discriminator(lambda x, md, sd, mg, sg: 1 - right(x, md, sd, mg, sg))
    assert not swapped.ok and "p_data on top" in swapped.message
    missing_constant = exercises.check_optimal_discriminator(unnormalised)
    assert not missing_constant.ok and "normalising constant" in missing_constant.message
    assert not exercises.check_optimal_discriminator(lambda x, *a: torch.tensor(0.5)).ok


def test_check_generator_gradient_verdicts():
    assert exercises.check_generator_gradient(lambda d: -d, "saturating").ok
    assert exercises.check_generator_gradient(lambda d: d - 1, "nonsaturating").ok
    other = exercises.check_generator_gradient(lambda d: d - 1, "saturating")
    assert not other.ok and "nonsaturating" in other.message
    wrt_d = exercises.check_generator_gradient(lambda d: -1 / (1 - d), "saturating")
    assert not wrt_d.ok and "D(1 - D)" in wrt_d.message
    assert not exercises.check_generator_gradient(lambda d: d, "saturating").ok
    with pytest.raises(ValueError, match="Unknown generator loss"):
        exercises.check_generator_gradient(lambda d: -d, "hinge")


def _jsd_by_quadrature(mean_p, std_p, mean_q, std_q, base=math.e):
    x = np.linspace(min(mean_p, mean_q) - 12, max(mean_p, mean_q) + 12, 20_001)
    p = np.exp(-((x - mean_p) ** 2) / (2 * std_p**2)) / (std_p * math.sqrt(2 * math.pi))
    q = np.exp(-((x - mean_q) ** 2) / (2 * std_q**2)) / (std_q * math.sqrt(2 * math.pi))
    m = (p + q) / 2
    integrand = 0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)
    return float(np.trapezoid(integrand, x)) / math.log(base)


def test_check_jsd_verdicts():
    assert exercises.check_jsd(_jsd_by_quadrature).ok
    bits = exercises.check_jsd(lambda *a: _jsd_by_quadrature(*a, base=2))
    assert not bits.ok and "bits" in bits.message
    assert not exercises.check_jsd(lambda mp, sp, mq, sq: metrics.kl_gaussians(mp, sp, mq, sq)).ok
    assert not exercises.check_jsd(lambda *a: None).ok
