"""Notebook 03's per-seed reporting, the baseline verdicts, the dominant mode of a snapshot and the demo settings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers import training
from gan_helpers.experiments import mode_collapse

RING = gh.data.toy_2d("ring")


def _run(remedy: str, seed: int, hq: float, counts: list[int]) -> mode_collapse.ModeExperiment:
    c = torch.tensor(counts)
    coverage = gh.metrics.ModeCoverage(int((c >= 10).sum()), len(counts), hq, c)
    return mode_collapse.ModeExperiment(
        "ring", remedy, seed, 10, coverage, 1.0, torch.zeros(1, 2), training.History(), nn.Identity(), nn.Identity()
    )


RUNS = [
    _run("vanilla", 0, 0.80, [9, 50, 50, 50, 50, 50, 50, 50]),
    _run("vanilla", 1, 0.82, [30, 50, 50, 50, 50, 50, 50, 50]),
    _run("wgan-gp", 0, 0.60, [120, 130, 130, 130, 130, 130, 130, 130]),
    _run("wgan-gp", 1, 0.62, [125, 130, 130, 130, 130, 130, 130, 130]),
    _run("ttur", 0, 0.70, [5, 50, 50, 50, 50, 50, 50, 50]),
    _run("ttur", 1, 0.95, [40, 50, 50, 50, 50, 50, 50, 50]),
]


def test_seed_values_lists_every_seed_in_run_order():
    values = mode_collapse.seed_values(RUNS, "ring")
    assert list(values) == ["vanilla", "wgan-gp", "ttur"]
    assert values["vanilla"] == {"seed": [0, 1], "modes": [7, 8], "high_quality": [0.80, 0.82], "emptiest": [9, 30]}
    with pytest.raises(ValueError, match="no runs"):
        mode_collapse.seed_values(RUNS, "grid")


def test_format_seed_values_shows_each_seeds_numbers():
    table = mode_collapse.format_seed_values(RUNS, "ring")
    lines = table.splitlines()
    assert "seed 0" in lines[0] and "seed 1" in lines[0]
    assert len(lines) == 1 + 3 * 3
    assert lines[1].split()[-2:] == ["7", "8"]  # vanilla's modes covered
    assert lines[2].split()[-2:] == ["80.0%", "82.0%"]
    assert lines[3].split()[-2:] == ["9", "30"]


def test_compare_with_baseline_needs_a_gap_larger_than_the_spread():
    hq = mode_collapse.compare_with_baseline(RUNS, "ring", "high_quality")
    # vanilla 0.81 (range 0.02) vs wgan-gp 0.61 (range 0.02): gap 0.20 > 0.04
    assert hq["wgan-gp"] == "vanilla beats wgan-gp"
    # ttur 0.825 (range 0.25): the gap 0.015 is inside the spread
    assert hq["ttur"] == "ttur and vanilla are indistinguishable at this budget"
    emptiest = mode_collapse.compare_with_baseline(RUNS, "ring", "emptiest")
    assert emptiest["wgan-gp"] == "wgan-gp beats vanilla"  # 122.5 vs 19.5, spreads 5 + 21
    assert "vanilla" not in emptiest


def test_dominant_modes_names_the_mode_holding_most_samples():
    near_0 = RING.centres[0] + 0.3 * torch.ones(90, 2)  # far outside 3 sigma, but nearest to mode 0
    near_5 = RING.centres[5].repeat(10, 1)
    snaps = [
        mode_collapse.Snapshot2D(100, torch.cat([near_0, near_5]), torch.zeros(2, 2), torch.zeros(8)),
        mode_collapse.Snapshot2D(200, RING.centres.repeat(5, 1), torch.zeros(2, 2), torch.zeros(8)),
    ]
    (step, mode, share), (_, _, even) = mode_collapse.dominant_modes(snaps, RING)
    assert (step, mode) == (100, 0) and share == pytest.approx(0.9)
    assert even == pytest.approx(1 / 8)


def test_collapse_demo_settings_build_the_smaller_networks():
    run = mode_collapse.run_mode_experiment(
        "ring", "vanilla", seed=0, steps=2, num_eval=50, **mode_collapse.COLLAPSE_DEMO
    )
    widths = [m.out_features for m in run.D.modules() if isinstance(m, nn.Linear)]
    assert widths == [128, 1]
    assert [m.out_features for m in run.G.modules() if isinstance(m, nn.Linear)] == [128, 128, 2]
    G, D, _ = mode_collapse.build_toy_gan("spectral-norm", d_hidden=(16,))
    assert [m.out_features for m in D.modules() if isinstance(m, nn.Linear)] == [16, 1]
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [64, 64, 64, 2]
    assert D.spectral_norm


def test_overrides_reach_the_training_config(monkeypatch):
    seen = {}

    def fake_train(G, D, real, config, **kwargs):
        seen["config"] = config
        return training.History()

    monkeypatch.setattr(mode_collapse, "train_gan", fake_train)
    mode_collapse.run_mode_experiment("ring", "ttur", steps=3, num_eval=20, overrides={"lr_g": 1e-5})
    assert seen["config"].lr_g == 1e-5 and seen["config"].lr_d == 1.2e-3 and seen["config"].steps == 3


def test_snapshot_figure_has_one_colour_bar_for_d():
    snaps = [mode_collapse.Snapshot2D(s, RING.centres, torch.zeros(4, 4), torch.zeros(8)) for s in (1, 2)]
    fig = gh.plots.plot_snapshots(snaps, RING, ncols=2)
    assert [ax.get_ylabel() for ax in fig.axes[2:]] == ["D(x) = P(real)"]
    critic = gh.plots.plot_snapshots(snaps, RING, critic=True, ncols=2)
    assert len(critic.axes) == 4  # one colour bar per panel: each critic map has its own scale
