"""Confidence intervals of a mean (gh.metrics.intervals): the t quantile, the interval, its coverage."""

import math

import pytest
import torch
from scipy import stats

import gan_helpers as gh
from gan_helpers.metrics import seed_verdict


@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995])
@pytest.mark.parametrize("dof", [5, 9, 30, 99, 1000])
def test_t_quantile_matches_the_exact_one(p, dof):
    tol = 4e-3 if (p == 0.995 and dof == 5) else 3e-4
    assert gh.metrics.student_t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), abs=tol)


def test_t_quantile_refuses_what_it_cannot_approximate():
    with pytest.raises(ValueError, match="degrees of freedom"):
        gh.metrics.student_t_quantile(0.975, 4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        gh.metrics.student_t_quantile(1.0, 10)


def test_interval_is_the_textbook_one():
    x = torch.tensor([1.0, 2.5, 0.5, 3.0, 2.0, 1.5, 4.0, 0.0])
    got = gh.metrics.mean_interval(x, confidence=0.95)
    half = stats.t.ppf(0.975, 7) * float(x.double().std()) / math.sqrt(8)
    assert got.mean == pytest.approx(1.8125)
    assert got.low == pytest.approx(1.8125 - half, abs=1e-3)
    assert got.high == pytest.approx(1.8125 + half, abs=1e-3)
    assert got.n == 8 and got.excludes_zero()


def test_paired_difference_cancels_what_items_share():
    gen = torch.Generator().manual_seed(0)
    hardness = torch.randn(200, generator=gen) * 5  # shared by both methods: large
    a = hardness + 0.3 + 0.1 * torch.randn(200, generator=gen)
    b = hardness + 0.1 * torch.randn(200, generator=gen)
    paired = gh.metrics.paired_difference(a, b)
    assert paired.low > 0.2 and paired.high < 0.4  # the 0.3 gap is resolved ...
    unpaired_half = 1.97 * math.sqrt(float(a.var()) / 200 + float(b.var()) / 200)
    assert unpaired_half > 0.3  # ... where comparing the two means alone could not tell
    with pytest.raises(ValueError, match="one value per item"):
        gh.metrics.paired_difference(a, b[:-1])


def test_interval_covers_the_true_mean_at_its_stated_rate():
    gen = torch.Generator().manual_seed(1)
    draws = torch.randn(2000, 20, generator=gen) * 2 + 1  # 2,000 experiments of n = 20, true mean 1
    covered = sum(gh.metrics.mean_interval(row).low <= 1 <= gh.metrics.mean_interval(row).high for row in draws)
    assert 0.935 <= covered / 2000 <= 0.965  # 95% +- 3 binomial standard deviations (0.5% each)


def test_interval_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 6 values"):
        gh.metrics.mean_interval([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        gh.metrics.mean_interval([1.0, 2.0, float("nan"), 1, 1, 1])
    with pytest.raises(ValueError, match="confidence"):
        gh.metrics.mean_interval([1.0] * 10, confidence=95)


def test_seed_verdict_needs_a_gap_larger_than_the_spread_of_the_seeds():
    # the recorded DCGAN ablation's two seeds (FID, lower is better)
    assert seed_verdict([105.3, 114.8], [140.5, 137.1], ("lr 5e-4", "base")) == "lr 5e-4 beats base"
    assert seed_verdict([140.5, 137.1], [105.3, 114.8], ("base", "lr 5e-4")) == "lr 5e-4 beats base"
    assert seed_verdict([140.9, 167.2], [105.3, 114.8], ("+ DiffAugment", "lr 5e-4")) == "lr 5e-4 beats + DiffAugment"
    # ranges that do not overlap but a gap (15.3) smaller than the spread (3.4 + 26.3): no verdict
    verdict = seed_verdict([140.5, 137.1], [140.9, 167.2], ("base", "+ DiffAugment"))
    assert verdict == "base and + DiffAugment are indistinguishable at this budget"
    assert "indistinguishable" in seed_verdict([1.0, 2.0], [2.0, 3.0]), "a gap at the edge of the spread"
    assert seed_verdict([1.0, 2.0], [4.1, 5.0]) == "A beats B"
    # higher is better (accuracy): the direction flips
    assert seed_verdict([0.96, 0.97], [0.90, 0.92], lower_is_better=False) == "A beats B"
    assert seed_verdict([0.96, 0.97], [0.90, 0.92]) == "B beats A"


def test_seed_verdict_refuses_single_seeds_and_diverged_runs():
    with pytest.raises(ValueError, match="at least two seeds"):
        seed_verdict([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="not finite"):
        seed_verdict([float("nan"), 1.0], [2.0, 3.0])
