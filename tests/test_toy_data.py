"""Toy samplers: means and covariances of samples match the mixtures' closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from gan_helpers import data


@pytest.mark.parametrize(
    "mixture",
    # the old defaults, given explicitly: ring_2d(std=0.02) and grid_2d(spacing=2.0)
    [data.gaussian_1d(), data.mixture_1d(), data.ring_2d(std=0.02), data.ring_2d(std=0.05), data.grid_2d(spacing=2.0)],
    ids=["gaussian", "mixture", "ring", "ring-wide", "grid"],
)
def test_sample_mean_and_covariance_match_the_closed_form(mixture):
    x = mixture.sample(200_000, generator=torch.Generator().manual_seed(0)).double()
    cov = torch.cov(x.T).reshape(mixture.dim, mixture.dim)
    scale = float(mixture.covariance().diagonal().max().sqrt())
    torch.testing.assert_close(x.mean(0), mixture.mean().double(), atol=0.02 * scale, rtol=0)
    torch.testing.assert_close(cov, mixture.covariance().double(), atol=0.03 * scale**2, rtol=0)


def test_gaussian_default_is_notebook_02_target():
    g = data.gaussian_1d()
    assert g.mean().item() == pytest.approx(4.0) and g.covariance().item() == pytest.approx(1.25**2)


def test_ring_and_grid_geometry():
    ring = data.ring_2d(std=0.02)
    assert ring.num_modes == 8
    torch.testing.assert_close(ring.centres.norm(dim=1), torch.full((8,), 2.0))
    grid = data.grid_2d(spacing=2.0)
    assert grid.num_modes == 25
    assert grid.centres.min().item() == pytest.approx(-4.0) and grid.centres.max().item() == pytest.approx(4.0)


def test_defaults_are_notebook_03_targets_and_toy_2d_builds_them():
    """ring_2d() and grid_2d() default to notebook 03's targets: sigma 0.05, both within [-2, 2]^2."""
    ring, grid = data.ring_2d(), data.grid_2d()
    torch.testing.assert_close(ring.stds, torch.full((8,), 0.05))
    torch.testing.assert_close(grid.stds, torch.full((25,), 0.05))
    assert grid.centres.min().item() == pytest.approx(-2.0) and grid.centres.max().item() == pytest.approx(2.0)
    torch.testing.assert_close(torch.unique(grid.centres[:, 0]), torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert list(data.TOY_2D) == ["ring", "grid"]
    for name, build in data.TOY_2D.items():
        made, expected = data.toy_2d(name), build()
        assert torch.equal(made.centres, expected.centres) and torch.equal(made.stds, expected.stds)
    assert data.toy_extent(ring) == (-3.0, 3.0, -3.0, 3.0)  # the centres' square, 1 wider
    with pytest.raises(ValueError, match="Unknown 2-D target"):
        data.toy_2d("spiral")


def test_samplers_are_seeded():
    ring = data.ring_2d()
    a = ring.sample(100, generator=torch.Generator().manual_seed(3))
    b = ring.sample(100, generator=torch.Generator().manual_seed(3))
    c = ring.sample(100, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_pdf_is_the_normal_density_and_integrates_to_one():
    g = data.gaussian_1d(0.0, 2.0)
    assert g.pdf(torch.tensor([[0.0]])).item() == pytest.approx(1 / math.sqrt(2 * math.pi * 4))
    grid = torch.linspace(-15, 15, 30001)[:, None]
    mix = data.mixture_1d()
    assert torch.trapezoid(mix.pdf(grid), grid[:, 0]).item() == pytest.approx(1.0, abs=1e-4)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="positive"):
        data.gaussian_1d(0.0, 0.0)
    with pytest.raises(ValueError, match="differ in length"):
        data.mixture_1d((0.0, 1.0), (1.0,))
    with pytest.raises(ValueError, match="at least 1"):
        data.ring_2d(0)
    with pytest.raises(ValueError, match="non-negative"):
        data.ring_2d().sample(-1)
