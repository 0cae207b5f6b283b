"""FID: the Fréchet distance against closed forms, scipy's matrix square root and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_helpers import metrics


def _random_cov(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / d + (0 if rank else 0.1 * np.eye(d))


def test_feature_statistics_match_numpy():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(50, 6)) * [1, 2, 3, 4, 5, 6] + 3
    stats = metrics.feature_statistics(torch.from_numpy(f).float())
    np.testing.assert_allclose(stats.mean, f.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(stats.cov, np.cov(f, rowvar=False), rtol=1e-5)  # 1/(n-1) normalisation
    assert stats.n == 50 and stats.cov.dtype == np.float64


def test_diagonal_closed_form():
    rng = np.random.default_rng(1)
    d = 7
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 4, size=d), rng.uniform(0.1, 4, size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_scaled_identity():
    # N(0, I) vs N(0, c^2 I) in d dimensions: d (1 - c)^2.
    d, c = 5, 3.0
    assert metrics.frechet_distance(np.zeros(d), np.eye(d), np.zeros(d), c**2 * np.eye(d)) == pytest.approx(
        d * (1 - c) ** 2
    )


@pytest.mark.parametrize("d", [2, 10, 64])
def test_matches_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real  # a different route to Tr((S1 S2)^(1/2))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-8)  # symmetric


def test_fid_of_features_matches_scipy():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(400, 16))
    fake = rng.normal(size=(300, 16)) @ rng.normal(size=(16, 16)) * 0.4 + 0.3
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert metrics.fid(real, fake) == pytest.approx(expected, rel=1e-8)
    assert metrics.fid(torch.from_numpy(real), torch.from_numpy(fake)) == pytest.approx(expected, rel=1e-8)


def test_fid_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(4).normal(size=(200, 32)) * 5
    assert metrics.fid(f, f) == pytest.approx(0.0, abs=1e-8)
    assert metrics.fid(f, f + 2.0) == pytest.approx(32 * 4.0, rel=1e-9)  # only the means differ


def test_singular_covariances_stay_real_and_non_negative():
    rng = np.random.default_rng(5)
    d = 20
    s1, s2 = _random_cov(rng, d, rank=3), _random_cov(rng, d, rank=5)  # rank-deficient
    value = metrics.frechet_distance(np.zeros(d), s1, np.zeros(d), s2)
    assert np.isfinite(value) and value >= 0
    assert metrics.frechet_distance(np.zeros(d), s1, np.zeros(d), s1) == pytest.approx(0.0, abs=1e-8)
    # Fewer samples than dimensions: a singular covariance, still a valid distance.
    few = rng.normal(size=(10, d))
    assert metrics.fid(few, few) == pytest.approx(0.0, abs=1e-8)
    # Nearly singular diagonal covariances keep the closed form.
    a, b = np.array([1e-12, 1.0, 4.0]), np.array([1e-10, 9.0, 4.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(expected)


def test_one_dimensional_case_is_the_wasserstein_2_distance():
    # For 1-D distributions W2^2 is the mean squared difference of quantiles: sort and pair.
    rng = np.random.default_rng(6)
    n = 200_000
    x, y = rng.normal(1.0, 2.0, size=n), rng.normal(-0.5, 0.5, size=n)
    monte_carlo = np.mean((np.sort(x) - np.sort(y)) ** 2)
    exact = metrics.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-0.5]), np.array([[0.25]]))
    assert exact == pytest.approx((1.5) ** 2 + (2.0 - 0.5) ** 2)
    assert monte_carlo == pytest.approx(exact, rel=0.02)


def test_one_dimensional_formula_equals_the_quantile_integral():
    # W2^2 between 1-D laws is the integral over u of (F1^-1(u) - F2^-1(u))^2; Gaussian quantiles are m + s z_u.
    from scipy import integrate, stats

    for (m1, s1), (m2, s2) in (((0.0, 1.0), (2.0, 3.0)), ((1.5, 0.2), (-1.0, 0.7))):

        def squared_gap(u: float, m1: float = m1, s1: float = s1, m2: float = m2, s2: float = s2) -> float:
            return (stats.norm.ppf(u, m1, s1) - stats.norm.ppf(u, m2, s2)) ** 2

        integral, _ = integrate.quad(squared_gap, 0, 1)
        fid = metrics.frechet_distance(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]]))
        assert fid == pytest.approx(integral, rel=1e-7)


def test_the_formula_is_the_cost_of_the_optimal_linear_coupling():
    # X ~ N(m1, S1), Y = m2 + A (X - m1) with A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2: Y ~ N(m2, S2), and
    # E||X - Y||^2 (Monte Carlo) equals the closed form, the squared 2-Wasserstein distance (Dowson and Landau 1982).
    rng = np.random.default_rng(7)
    d = 4
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    root = scipy.linalg.sqrtm(s1).real
    inv_root = np.linalg.inv(root)
    a = inv_root @ scipy.linalg.sqrtm(root @ s2 @ root).real @ inv_root
    np.testing.assert_allclose(a @ s1 @ a.T, s2, atol=1e-10)  # the map pushes N(m1, S1) onto N(m2, S2)
    x = rng.multivariate_normal(m1, s1, size=400_000)
    y = m2 + (x - m1) @ a.T
    cost = np.mean(np.sum((x - y) ** 2, axis=1))
    assert cost == pytest.approx(metrics.frechet_distance(m1, s1, m2, s2), rel=0.01)


def test_bias_with_sample_size_matches_first_order_formula():
    # Two samples of n points of the same standard normal: E[FID] ~ (2d + d(d+1)/2) / n.
    rng = np.random.default_rng(7)
    d = 4
    real, fake = rng.normal(size=(50_000, d)), rng.normal(size=(50_000, d))
    curve = metrics.fid_versus_sample_size(real, fake, sizes=[1000, 250], repeats=150, seed=0)
    np.testing.assert_array_equal(curve.sizes, [250, 1000])
    expected = (2 * d + d * (d + 1) / 2) / curve.sizes
    np.testing.assert_allclose(curve.mean, expected, rtol=0.15)
    assert curve.mean[0] > 3 * curve.mean[1]  # about 4x: the bias falls like 1/n
    assert np.all(curve.std > 0) and curve.repeats == 150


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="shapes do not match"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        metrics.fid(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.fid(np.zeros((1, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="dimension"):
        metrics.fid(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="sizes"):
        metrics.fid_versus_sample_size(np.zeros((5, 2)), np.zeros((5, 2)), sizes=[10])
