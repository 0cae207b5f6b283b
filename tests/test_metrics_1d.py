"""1-D distances and densities (notebook 02): W1, KS and the KDE against scipy, closed forms and hand counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gan_helpers import data, metrics


@pytest.mark.parametrize("sizes", [(1, 1), (5, 5), (200, 200), (1, 7), (50, 73), (1000, 333)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wasserstein_1d_matches_scipy(sizes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, sizes[0])
    y = rng.standard_t(3, sizes[1]) * 2 + rng.uniform(-1, 1)
    assert metrics.wasserstein_1d(x, y) == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_equal_size_sorted_pairs_formula_equals_the_cdf_integral(seed):
    """The equal-size shortcut (1/n) sum |x_(i) - y_(i)| against the step-CDF integral computed here."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=64), rng.exponential(size=64)
    t = np.sort(np.concatenate([x, y]))
    cdf_x = np.array([(x <= s).mean() for s in t])
    cdf_y = np.array([(y <= s).mean() for s in t])
    integral = float(np.sum(np.abs(cdf_x - cdf_y)[:-1] * np.diff(t)))
    assert metrics.wasserstein_1d(x, y) == pytest.approx(integral, rel=1e-12)


def test_wasserstein_1d_of_a_shift_is_the_shift_and_it_is_symmetric():
    x = torch.randn(500, generator=torch.Generator().manual_seed(0))
    assert metrics.wasserstein_1d(x, x + 1.5) == pytest.approx(1.5, abs=1e-6)
    assert metrics.wasserstein_1d(x, x) == 0.0
    y = 3 * torch.rand(300, generator=torch.Generator().manual_seed(1))
    assert metrics.wasserstein_1d(x, y) == pytest.approx(metrics.wasserstein_1d(y, x), rel=1e-12)


def test_wasserstein_1d_of_gaussians_matches_the_closed_form():
    r"""W1(N(m1, s1^2), N(m2, s2^2)) = E|m1 - m2 + (s1 - s2) Z|, by Monte Carlo with 200k samples."""
    gen = torch.Generator().manual_seed(0)
    x = data.gaussian_1d(4.0, 1.25).sample(200_000, generator=gen)
    y = data.gaussian_1d(3.5, 0.5).sample(200_000, generator=gen)
    a, b = 0.5, 0.75  # mean and std of m1 - m2 + (s1 - s2) Z
    closed = b * math.sqrt(2 / math.pi) * math.exp(-(a**2) / (2 * b**2)) + a * (1 - 2 * stats.norm.cdf(-a / b))
    assert metrics.wasserstein_1d(x, y) == pytest.approx(closed, abs=0.01)


def test_wasserstein_1d_accepts_column_tensors_and_lists():
    x = torch.tensor([[0.0], [1.0], [2.0]])
    assert metrics.wasserstein_1d(x, [1.0, 2.0, 3.0]) == pytest.approx(1.0)


@pytest.mark.parametrize("sizes", [(1, 1), (10, 10), (200, 350), (3, 1000)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_statistic_matches_scipy(sizes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, sizes[0])
    y = rng.normal(0.3, 1.5, sizes[1])
    assert metrics.ks_statistic(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)


def test_ks_statistic_bounds():
    x = np.arange(10.0)
    assert metrics.ks_statistic(x, x) == 0.0
    assert metrics.ks_statistic(x, x + 100) == 1.0
    with_ties = np.array([0.0, 0.0, 1.0, 1.0])
    assert metrics.ks_statistic(with_ties, np.array([0.0, 1.0, 1.0, 1.0])) == pytest.approx(0.25)


def test_gaussian_kde_1d_matches_scipy_with_scotts_bandwidth():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 0.5, 300), rng.normal(3, 1.0, 200)])
    grid = np.linspace(-5, 7, 50)
    np.testing.assert_allclose(metrics.gaussian_kde_1d(x, grid), stats.gaussian_kde(x)(grid), rtol=1e-10, atol=1e-14)


def test_gaussian_kde_1d_with_a_given_bandwidth_is_the_formula():
    x = np.array([0.0, 1.0])
    h = 0.5
    t = np.array([0.0, 0.5, 2.0])
    by_hand = (stats.norm.pdf((t - 0.0) / h) + stats.norm.pdf((t - 1.0) / h)) / (2 * h)
    np.testing.assert_allclose(metrics.gaussian_kde_1d(x, t, bandwidth=h), by_hand, rtol=1e-12)
    grid = np.linspace(-4, 5, 2001)
    density = metrics.gaussian_kde_1d(x, grid, bandwidth=h)
    assert float(np.sum((density[1:] + density[:-1]) / 2 * np.diff(grid))) == pytest.approx(1.0, abs=1e-6)
    assert np.isfinite(metrics.gaussian_kde_1d(np.ones(5), t)).all()  # no spread: a finite fallback bandwidth


def test_mass_near_modes_counts_by_hand():
    samples = torch.tensor([-2.1, -1.0, 0.0, 2.9, 3.0, 3.5, 10.0])
    mass = metrics.mass_near_modes(samples, torch.tensor([[-2.0], [3.0]]), radius=1.0)
    np.testing.assert_allclose(mass, [2 / 7, 3 / 7])  # -1.0 is exactly at distance 1: it counts
    points = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    np.testing.assert_allclose(metrics.mass_near_modes(points, np.array([[0.0, 0.0]]), 0.5), [2 / 3])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros(0), "empty"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.zeros((4, 2)), "1-D samples"),
    ],
)
def test_bad_samples_say_what_is_wrong(x, message):
    with pytest.raises(ValueError, match=message):
        metrics.wasserstein_1d(x, np.ones(3))
    with pytest.raises(ValueError, match=message):
        metrics.ks_statistic(np.ones(3), x)


def test_bad_mode_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="agree in d"):
        metrics.mass_near_modes(np.zeros((3, 2)), np.zeros((1, 1)), 1.0)
    with pytest.raises(ValueError, match="radius must be positive"):
        metrics.mass_near_modes(np.zeros(3), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match="bandwidth must be positive"):
        metrics.gaussian_kde_1d(np.zeros(3), np.zeros(2), bandwidth=-1.0)
