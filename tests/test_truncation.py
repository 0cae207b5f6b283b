"""The truncation trick (notebook 07): resampled noise is a truncated normal, with the closed-form spread."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

import gan_helpers as gh


@pytest.mark.parametrize("threshold", [0.25, 0.5, 1.0, 2.0])
def test_every_entry_is_within_the_threshold(threshold):
    z = gh.sampling.truncated_noise(500, 100, threshold, torch.Generator().manual_seed(0))
    assert z.shape == (500, 100) and z.dtype == torch.float32
    assert z.abs().max() <= threshold


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
def test_the_entries_follow_the_truncated_normal(threshold):
    """Kolmogorov-Smirnov against scipy's truncated normal; the same statistic rejects the untruncated normal."""
    z = gh.sampling.truncated_noise(200, 100, threshold, torch.Generator().manual_seed(1)).double().flatten()
    truncated = stats.truncnorm(-threshold, threshold)
    assert stats.kstest(z.numpy(), truncated.cdf).pvalue > 1e-3
    assert stats.kstest(z.numpy(), stats.norm.cdf).pvalue < 1e-6  # the test can tell the two apart
    # 20,000 entries: the sample std is within 5 standard errors (about sigma / sqrt(2 N)) of the closed form
    sigma = gh.sampling.truncated_normal_std(threshold)
    assert abs(float(z.std()) - sigma) < 5 * sigma / math.sqrt(2 * z.numel())
    assert abs(float(z.mean())) < 5 * sigma / math.sqrt(z.numel())


@pytest.mark.parametrize("threshold", [0.1, 0.5, 1.0, 2.0, 3.0])
def test_closed_form_std_matches_scipy_and_quadrature(threshold):
    sigma = gh.sampling.truncated_normal_std(threshold)
    assert sigma == pytest.approx(stats.truncnorm(-threshold, threshold).std(), rel=1e-10)
    grid = torch.linspace(-threshold, threshold, 200_001, dtype=torch.float64)
    density = torch.exp(-(grid**2) / 2)
    variance = torch.trapezoid(grid**2 * density, grid) / torch.trapezoid(density, grid)
    assert sigma == pytest.approx(math.sqrt(float(variance)), rel=1e-8)


def test_closed_form_std_limits_are_the_uniform_and_the_normal():
    assert gh.sampling.truncated_normal_std(1e-3) == pytest.approx(1e-3 / math.sqrt(3), rel=1e-5)
    assert gh.sampling.truncated_normal_std(8.0) == pytest.approx(1.0, abs=1e-12)


def test_truncation_redraws_only_the_entries_outside_and_is_seeded():
    plain = torch.randn(50, 20, generator=torch.Generator().manual_seed(4))
    cut = gh.sampling.truncated_noise(50, 20, 1.0, torch.Generator().manual_seed(4))
    inside = plain.abs() <= 1.0
    assert torch.equal(cut[inside], plain[inside])  # not a rescaling: values within the threshold are kept
    assert not torch.equal(cut, plain) and not torch.equal(cut, plain.clamp(-1, 1))  # the rest are redrawn
    assert torch.equal(cut, gh.sampling.truncated_noise(50, 20, 1.0, torch.Generator().manual_seed(4)))
    huge = gh.sampling.truncated_noise(50, 20, 100.0, torch.Generator().manual_seed(4))
    assert torch.equal(huge, plain)  # nothing to redraw: exactly N(0, I)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_a_threshold_that_is_not_positive_is_refused(bad):
    with pytest.raises(ValueError, match="threshold must be positive"):
        gh.sampling.truncated_noise(2, 3, bad)
    with pytest.raises(ValueError, match="threshold must be positive"):
        gh.sampling.truncated_normal_std(bad)


def test_sample_with_truncation_feeds_g_the_seeded_truncated_noise():
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(8, 10, (1, 28, 28), width=8, embed_dim=4)
    labels = torch.tensor([0, 3, 3, 9, 5])
    got = gh.sampling.sample(G, seed=7, labels=labels, truncation=0.5, noise_scale=2.0)
    z = gh.sampling.truncated_noise(5, 8, 0.5, torch.Generator().manual_seed(7)) * 2.0
    G.eval()
    with torch.no_grad():
        expected = G(z, labels)
    assert torch.equal(got, expected)
    plain = gh.sampling.sample(G, seed=7, labels=labels, noise_scale=2.0)
    assert not torch.equal(got, plain)


def test_label_fidelity_and_diversity_pass_the_truncation_on():
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(8, 10, (1, 28, 28), width=8, embed_dim=4)
    classifier = gh.classifier.MNISTClassifier().eval()
    real = torch.rand(40, 1, 28, 28) * 2 - 1
    labels = torch.arange(10).repeat(4)
    asked = torch.arange(10).repeat_interleave(3)
    expected = gh.metrics.classify(classifier, gh.sampling.sample(G, labels=asked, truncation=0.5))
    fidelity = gh.applications.label_fidelity(G, classifier, per_class=3, truncation=0.5)
    assert fidelity.accuracy == pytest.approx(float((expected == asked).double().mean()))
    narrow = gh.applications.within_class_diversity(G, real, labels, per_class=4, truncation=0.25)
    wide = gh.applications.within_class_diversity(G, real, labels, per_class=4)
    assert narrow.shape == (10,) and not torch.equal(narrow, wide)


def test_the_truncated_std_checker_accepts_the_closed_form_and_names_each_typical_mistake():
    ex = gh.exercises

    def closed_form(a):
        density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        return math.sqrt(1 - 2 * a * density / math.erf(a / math.sqrt(2)))

    assert ex.check_truncated_std(closed_form)
    assert ex.check_truncated_std(lambda a: torch.tensor(stats.truncnorm(-a, a).std()))
    variance = ex.check_truncated_std(lambda a: closed_form(a) ** 2)
    assert not variance and "square root" in str(variance)
    one_tail = ex.check_truncated_std(
        lambda a: math.sqrt(1 - a * math.exp(-a * a / 2) / math.sqrt(2 * math.pi) / math.erf(a / math.sqrt(2)))
    )
    assert not one_tail and "twice" in str(one_tail)
    assert "strictly between" in str(ex.check_truncated_std(lambda a: 1.0))
    assert "strictly between" in str(ex.check_truncated_std(lambda a: a / math.sqrt(3)))
    assert "wrong at a = 0.5" in str(ex.check_truncated_std(lambda a: 0.5))
    assert "not written" in str(ex.check_truncated_std(lambda a: (_ for _ in ()).throw(NotImplementedError)))
    assert "one number" in str(ex.check_truncated_std(lambda a: torch.ones(2)))
