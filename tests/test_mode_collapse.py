"""Mode-coverage metrics of notebook 03 on synthetic points whose answers are known in advance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gan_helpers as gh
from gan_helpers import metrics
from gan_helpers.experiments import mode_collapse

RING = gh.data.ring_2d(num_modes=8, radius=2.0, std=0.02)
GRID = gh.data.grid_2d(side=5, spacing=2.0, std=0.05)


def _at_distance(centre: torch.Tensor, distance: float, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` points at exactly ``distance`` from ``centre`` in random directions, shape ``(n, 2)``."""
    angles = torch.rand(n, generator=torch.Generator().manual_seed(seed)) * 2 * math.pi
    return centre + distance * torch.stack([angles.cos(), angles.sin()], dim=1)


def test_points_exactly_at_the_centres_cover_every_mode_with_full_quality():
    samples = RING.centres.repeat(10, 1)  # (80, 2), ten points on each centre
    report = metrics.mode_coverage(samples, RING, min_count=10)
    assert report.covered == 8 and report.num_modes == 8
    assert report.high_quality == 1.0
    assert report.counts.tolist() == [10] * 8
    assert str(report) == "8/8 modes covered, 100.0% high-quality samples"


def test_all_points_in_one_mode_cover_one_mode():
    samples = _at_distance(RING.centres[3], 0.5 * 0.02, 500)
    assert metrics.modes_covered(samples, RING.centres, 0.02) == 1
    assert metrics.samples_per_mode(samples, RING.centres, RING.stds).tolist() == [0, 0, 0, 500, 0, 0, 0, 0]
    assert metrics.high_quality_fraction(samples, RING.centres, 0.02) == 1.0


def test_points_far_from_every_centre_are_low_quality():
    samples = torch.zeros(300, 2)  # the ring's centre is 2 (= 100 sigma) from every mode
    report = metrics.mode_coverage(samples, RING)
    assert report.high_quality == 0.0 and report.covered == 0
    assert (metrics.assign_to_modes(samples, RING.centres, RING.stds) == -1).all()


@pytest.mark.parametrize(("sigmas", "inside"), [(2.9, True), (3.1, False)])
def test_three_sigma_radius_is_the_boundary(sigmas, inside):
    samples = _at_distance(RING.centres[0], sigmas * 0.02, 50)
    assert metrics.high_quality_fraction(samples, RING.centres, RING.stds) == (1.0 if inside else 0.0)
    # a wider radius takes in the 3.1-sigma points as well
    assert metrics.high_quality_fraction(samples, RING.centres, RING.stds, num_sigmas=3.2) == 1.0


def test_a_mode_needs_min_count_samples_to_count():
    centre = GRID.centres[7]
    samples = torch.cat([_at_distance(centre, 0.01, 9), _at_distance(GRID.centres[0], 0.01, 30, seed=1)])
    assert metrics.modes_covered(samples, GRID.centres, GRID.stds, min_count=10) == 1  # only mode 0
    assert metrics.modes_covered(samples, GRID.centres, GRID.stds, min_count=9) == 2
    assert metrics.modes_covered(samples, GRID.centres, GRID.stds, min_count=1) == 2


def test_histogram_sums_to_the_number_of_high_quality_samples_and_matches_a_brute_force_count():
    # 0.3 is many sigmas: a good share of the points fall outside every 3-sigma disc
    points = GRID.centres[torch.randint(0, 25, (2000,), generator=torch.Generator().manual_seed(1))]
    samples = points + 0.1 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(2))
    counts = metrics.samples_per_mode(samples, GRID.centres, GRID.stds)
    hq = metrics.high_quality_fraction(samples, GRID.centres, GRID.stds)
    assert counts.shape == (25,)
    assert int(counts.sum()) == round(hq * 2000)
    x, c = samples.double().numpy(), GRID.centres.double().numpy()
    brute = [sum(np.linalg.norm(p - c[k]) <= 3 * 0.05 for p in x) for k in range(25)]  # discs don't overlap
    assert counts.tolist() == brute
    assert 0.2 < hq < 0.9


def test_real_samples_have_the_chi_square_share_of_high_quality_points():
    """Docstring claim: the share within c sigma of a 2-D isotropic Gaussian is 1 - exp(-c^2 / 2)."""
    samples = RING.sample(40_000, generator=torch.Generator().manual_seed(0))
    for c in (1.0, 2.0, 3.0):
        expected = 1 - math.exp(-(c**2) / 2)
        stderr = math.sqrt(expected * (1 - expected) / 40_000)
        got = metrics.high_quality_fraction(samples, RING.centres, RING.stds, num_sigmas=c)
        assert abs(got - expected) < 5 * stderr, (c, got, expected)


def test_assignment_uses_each_modes_own_sigma():
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    stds = torch.tensor([0.05, 0.3])
    x = torch.tensor([[0.4, 0.0]])  # 8 sigma from mode 0, 2 sigma from mode 1
    assert metrics.assign_to_modes(x, centres, stds).tolist() == [1]
    assert metrics.assign_to_modes(x, centres, 0.05).tolist() == [-1]  # one shared sigma: too far from both


def test_numpy_input_gives_the_same_answer_as_tensors():
    samples = RING.sample(500, generator=torch.Generator().manual_seed(3))
    assert metrics.samples_per_mode(samples.numpy(), RING.centres.numpy(), 0.02).tolist() == (
        metrics.samples_per_mode(samples, RING.centres, RING.stds).tolist()
    )


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="dimension"):
        metrics.assign_to_modes(torch.zeros(5, 3), RING.centres, 0.02)
    with pytest.raises(ValueError, match="NaN"):
        metrics.assign_to_modes(torch.full((5, 2), float("nan")), RING.centres, 0.02)
    with pytest.raises(ValueError, match="positive"):
        metrics.assign_to_modes(torch.zeros(5, 2), RING.centres, 0.0)
    with pytest.raises(ValueError, match="min_count"):
        metrics.modes_covered(torch.zeros(5, 2), RING.centres, 0.02, min_count=0)
    with pytest.raises(ValueError, match="empty"):
        metrics.mode_coverage(torch.zeros(0, 2), RING)


# --- the modes-covered exercise and the figures ---------------------------------------------------


def test_modes_covered_checker_accepts_the_package_and_rejects_common_mistakes():
    assert gh.exercises.check_modes_covered(lambda s, c, sd, m: metrics.modes_covered(s, c, sd, m))

    def ignores_min_count(samples, centres, std, min_count):
        return metrics.modes_covered(samples, centres, std, 1)

    def two_sigma(samples, centres, std, min_count):
        return metrics.modes_covered(samples, centres, std, min_count, num_sigmas=2.0)

    def not_written(samples, centres, std, min_count):
        raise NotImplementedError

    for wrong in (ignores_min_count, two_sigma):
        feedback = gh.exercises.check_modes_covered(wrong)
        assert not feedback and "3 * std" in feedback.message
    assert "not written yet" in gh.exercises.check_modes_covered(not_written).message


def test_mode_figures_have_one_panel_per_snapshot_and_per_run():
    import matplotlib.pyplot as plt

    snaps = [
        mode_collapse.Snapshot2D(step, RING.sample(100), torch.zeros(20, 20), torch.zeros(8, dtype=torch.long))
        for step in (100, 200, 300)
    ]
    fig = gh.plots.plot_snapshots(snaps, RING, ncols=2)
    panels = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
    assert len(panels) == 3
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == ["D(x) = P(real)"]
    occupancy = gh.plots.plot_mode_occupancy(snaps, RING)
    image = occupancy.axes[0].images[0].get_array()
    assert image.shape == (8, 3)
    np.testing.assert_allclose(image.sum(axis=0), 1.0)  # every sample counts for its nearest mode
    with pytest.raises(ValueError, match="no snapshots"):
        gh.plots.plot_snapshots([], RING)
    plt.close("all")
