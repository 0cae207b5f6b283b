r"""Notebook 03's helpers: mode collapse on 2-D toy data, the remedies compared as one-call experiments,
snapshots of a run, and the explorer widget. Only notebook 03 uses this module; the library never imports it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as ipw
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from gan_helpers import data, metrics, plots, runtime, widgets
from gan_helpers.data.toy import GaussianMixture, toy_2d, toy_extent
from gan_helpers.models import MLPDiscriminator, MLPGenerator
from gan_helpers.sampling import evaluation_noise, generate
from gan_helpers.training import Callback, History, TrainConfig, train_gan

__all__ = [
    "BATCH_SIZE",
    "COLLAPSE_DEMO",
    "CONFIG",
    "REMEDIES",
    "ModeExperiment",
    "Remedy",
    "Snapshot2D",
    "Snapshot2DCallback",
    "best_remedy",
    "build_toy_gan",
    "compare_with_baseline",
    "dominant_modes",
    "format_mode_table",
    "format_seed_values",
    "mode_collapse_explorer",
    "run_mode_experiment",
    "seed_values",
    "summarise_mode_experiments",
]

BATCH_SIZE = 256
"""Samples of the target per batch, in every run of notebook 03."""

CONFIG = TrainConfig(lr=6e-4, betas=(0.5, 0.999), log_every=50)
"""The settings shared by every remedy of :func:`run_mode_experiment`; each :class:`Remedy` overrides a few."""


@dataclass(frozen=True)
class Remedy:
    """A named remedy against mode collapse: options of D and overrides of :class:`TrainConfig`."""

    name: str
    description: str
    d_options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of MLPDiscriminator
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields to override

    def train_config(self, base: TrainConfig = CONFIG) -> TrainConfig:
        """``base`` (notebook 03's :data:`CONFIG`) with this remedy's overrides."""
        return base.replace(**self.config)


REMEDIES: dict[str, Remedy] = {
    r.name: r
    for r in (
        Remedy("vanilla", "non-saturating loss, plain MLP discriminator (the baseline)"),
        Remedy(
            "wgan-gp",
            "Wasserstein critic (no sigmoid) with gradient penalty 10, 5 critic steps per G step",
            config={"loss": "wgan-gp", "d_steps": 5, "gp_weight": 10.0, "betas": (0.5, 0.9)},
        ),
        Remedy(
            "spectral-norm",
            "every linear layer of D divided by its largest singular value",
            d_options={"spectral_norm": True},
        ),
        Remedy(
            "label-smoothing",
            "one-sided label smoothing: real targets 0.9 instead of 1",
            config={"label_smoothing": 0.1},
        ),
        Remedy(
            "ttur",
            "two time-scales: D learns 4x faster than G (lr_d = 1.2e-3, lr_g = 3e-4)",
            config={"lr_d": 1.2e-3, "lr_g": 3e-4},
        ),
        Remedy(
            "minibatch-std",
            "D's last layer also sees the batch's mean feature std",
            d_options={"minibatch_std": True},
        ),
    )
}
"""The remedies compared in notebook 03, by name; each is one option of the package's models or losses."""


COLLAPSE_DEMO: dict[str, Any] = {"hidden": (128, 128), "d_hidden": (128,), "overrides": {"lr": 1e-4}}
"""Keyword arguments of :func:`run_mode_experiment` for a vanilla run whose G collapses onto one mode
at a time and moves from mode to mode: G with two hidden layers of 128 units, D with one, both at
learning rate 1e-4 (notebook 03, section 3)."""


@dataclass
class Snapshot2D:
    """The state of a 2-D GAN at one step: samples from fixed noise and D's output on a mesh."""

    step: int
    samples: torch.Tensor  # (n, 2) G(fixed_noise)
    logits: torch.Tensor  # (res, res) D on the mesh
    counts: torch.Tensor  # (K,) high-quality samples per mode


class Snapshot2DCallback(Callback):
    """Stores a :class:`Snapshot2D` every ``every`` steps (and at step 0 via :meth:`record`).

    It only records; :func:`gan_helpers.plots.plot_snapshots` draws. ``every`` should be a
    multiple of the training's ``log_every``, since callbacks run at log points.
    """

    def __init__(
        self,
        mixture: GaussianMixture,
        fixed_noise: torch.Tensor,
        every: int,
        extent: tuple[float, float, float, float] | None = None,
        resolution: int = 80,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.mixture = mixture
        self.fixed_noise = fixed_noise
        self.every = every
        self.extent = extent or toy_extent(mixture)
        self.resolution = resolution
        self.snapshots: list[Snapshot2D] = []

    def record(self, step: int, G: nn.Module, D: nn.Module) -> None:
        """Store the current samples, D's mesh values and the per-mode histogram."""
        samples = generate(G, self.fixed_noise).cpu()
        counts = metrics.samples_per_mode(samples, self.mixture.centres, self.mixture.stds)
        logits = plots.discriminator_on_mesh(D, self.extent, self.resolution)
        self.snapshots.append(Snapshot2D(step, samples, logits, counts))

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step % self.every == 0:
            self.record(step, G, D)


@dataclass
class ModeExperiment:
    """One run of :func:`run_mode_experiment`: its settings, measured coverage, time and final state."""

    dataset: str
    remedy: str
    seed: int
    steps: int
    coverage: metrics.ModeCoverage
    seconds: float
    samples: torch.Tensor  # (num_eval, 2) final samples from fixed noise
    history: History
    G: nn.Module
    D: nn.Module

    def row(self) -> dict[str, Any]:
        """The measured row: data set, remedy, seed, steps, modes covered (of K), high-quality share, time."""
        return {
            "dataset": self.dataset,
            "remedy": self.remedy,
            "seed": self.seed,
            "steps": self.steps,
            "modes": self.coverage.covered,
            "num_modes": self.coverage.num_modes,
            "high_quality": self.coverage.high_quality,
            "seconds": self.seconds,
        }


def build_toy_gan(
    remedy: str,
    latent_dim: int = 2,
    hidden: Sequence[int] = (64, 64, 64),
    d_hidden: Sequence[int] | None = None,
) -> tuple[nn.Module, nn.Module, TrainConfig]:
    """G, D (with the remedy's options) and the remedy's :class:`TrainConfig` (without ``steps``) for 2-D data.

    G has hidden widths ``hidden``, D has ``d_hidden`` (the same as G's unless given).
    """
    if remedy not in REMEDIES:
        raise ValueError(f"Unknown remedy {remedy!r}; choose one of {list(REMEDIES)}.")
    G = MLPGenerator(latent_dim=latent_dim, data_dim=2, hidden=hidden)
    d_options = dict(REMEDIES[remedy].d_options)  # a copy: the registry stays
    D = MLPDiscriminator(data_dim=2, hidden=hidden if d_hidden is None else d_hidden, **d_options)
    return G, D, REMEDIES[remedy].train_config()


def run_mode_experiment(
    dataset: str,
    remedy: str,
    seed: int = 0,
    steps: int = 2000,
    *,
    num_eval: int = 2500,
    min_count: int = 10,
    device: torch.device | str = "cpu",
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
    num_threads: int | None = 1,
    hidden: Sequence[int] = (64, 64, 64),
    d_hidden: Sequence[int] | None = None,
    overrides: dict[str, Any] | None = None,
) -> ModeExperiment:
    """Train a 2-D GAN on ``dataset`` with ``remedy`` for ``steps`` G steps from ``seed``, and measure it.

    Everything but the remedy is shared (data, models' sizes, batch size, base learning rate,
    seed, number of generator steps), so rows for different remedies compare like with like.
    Coverage is measured on ``num_eval`` samples from fixed noise (seeded by ``seed``); a mode
    counts when it holds at least ``min_count`` samples within 3 sigma of its centre.
    ``seconds`` is the training time only. The run uses ``num_threads`` CPU threads
    (:func:`gan_helpers.runtime.cpu_threads`; one is fastest for these small MLPs). ``hidden``,
    ``d_hidden`` (see :func:`build_toy_gan`) and ``overrides`` (fields of :class:`TrainConfig`, applied
    after the remedy's) change the shared setting, as :data:`COLLAPSE_DEMO` does.
    """
    nets = (tuple(hidden), None if d_hidden is None else tuple(d_hidden), dict(overrides or {}))
    with runtime.cpu_threads(num_threads):
        return _run_mode_experiment(
            dataset, remedy, seed, steps, num_eval, min_count, device, callbacks, progress, nets
        )


def _run_mode_experiment(
    dataset: str,
    remedy: str,
    seed: int,
    steps: int,
    num_eval: int,
    min_count: int,
    device: torch.device | str,
    callbacks: Sequence[Callback],
    progress: bool,
    nets: tuple[tuple[int, ...], tuple[int, ...] | None, dict[str, Any]],
) -> ModeExperiment:
    mixture = toy_2d(dataset)
    runtime.seed_everything(seed)
    hidden, d_hidden, overrides = nets
    G, D, config = build_toy_gan(remedy, hidden=hidden, d_hidden=d_hidden)
    config = config.replace(**overrides)
    fixed_noise = evaluation_noise(num_eval, G.latent_dim, seed)
    start = time.perf_counter()
    history = train_gan(
        G,
        D,
        data.SampledBatches(mixture.sample, BATCH_SIZE),
        config.replace(steps=steps),
        device=device,
        callbacks=callbacks,
        progress=progress,
        desc=remedy,
    )
    wall = time.perf_counter() - start
    samples = generate(G, fixed_noise).cpu()
    coverage = metrics.mode_coverage(samples, mixture, min_count=min_count)
    return ModeExperiment(dataset, remedy, seed, steps, coverage, wall, samples, history, G, D)


def dominant_modes(snapshots: Sequence[Snapshot2D], mixture: GaussianMixture) -> list[tuple[int, int, float]]:
    """For each snapshot: its step, the mode nearest to most of its samples, and that mode's share of them.

    Every sample counts for its nearest centre however far it is (as in
    :func:`gan_helpers.plots.plot_mode_occupancy`). A share near 1 is collapse onto one mode; a
    dominant mode that changes from snapshot to snapshot while the share stays near 1 is mode hopping.
    """
    out = []
    for snap in snapshots:
        nearest = metrics.assign_to_modes(snap.samples, mixture.centres, mixture.stds, num_sigmas=math.inf)
        share = torch.bincount(nearest, minlength=mixture.num_modes).double() / len(nearest)  # (K,)
        out.append((snap.step, int(share.argmax()), float(share.max())))
    return out


def summarise_mode_experiments(runs: Sequence[ModeExperiment]) -> list[dict[str, Any]]:
    """One row per (data set, remedy): mean, min and max over seeds of modes covered and high-quality share.

    ``all_modes`` counts the seeds whose run covered every mode. Rows keep the order in which
    (data set, remedy) pairs first appear in ``runs``.
    """
    groups: dict[tuple[str, str], list[ModeExperiment]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.remedy), []).append(run)
    rows = []
    for (dataset, remedy), group in groups.items():
        modes = np.array([r.coverage.covered for r in group], dtype=float)
        hq = np.array([r.coverage.high_quality for r in group])
        rows.append(
            {
                "dataset": dataset,
                "remedy": remedy,
                "seeds": len(group),
                "num_modes": group[0].coverage.num_modes,
                "modes_mean": float(modes.mean()),
                "modes_min": int(modes.min()),
                "modes_max": int(modes.max()),
                "all_modes": int((modes == group[0].coverage.num_modes).sum()),
                "hq_mean": float(hq.mean()),
                "hq_min": float(hq.min()),
                "hq_max": float(hq.max()),
                "seconds": float(np.mean([r.seconds for r in group])),
            }
        )
    return rows


def format_mode_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of :func:`summarise_mode_experiments` rows (mean and [min, max] over seeds)."""
    header = f"{'data':<6}{'remedy':<17}{'modes covered':<22}{'all modes':<11}{'high-quality share':<26}{'time/run':>9}"
    lines = [header]
    for r in rows:
        modes = f"{r['modes_mean']:.1f}/{r['num_modes']} [{r['modes_min']}, {r['modes_max']}]"
        every = f"{r['all_modes']}/{r['seeds']} seeds"
        hq = f"{r['hq_mean']:.1%} [{r['hq_min']:.1%}, {r['hq_max']:.1%}]"
        lines.append(f"{r['dataset']:<6}{r['remedy']:<17}{modes:<22}{every:<11}{hq:<26}{r['seconds']:>8.1f}s")
    return "\n".join(lines)


def seed_values(runs: Sequence[ModeExperiment], dataset: str) -> dict[str, dict[str, list[float]]]:
    """Per remedy on ``dataset``, one value per seed (in run order) of each measure.

    Keys of each entry: ``seed``, ``modes`` (modes covered), ``high_quality`` (share of samples
    within 3 sigma of a centre) and ``emptiest`` (high-quality samples in the emptiest mode; a run
    covers every mode at threshold m exactly when ``emptiest >= m``).
    """
    values: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        if run.dataset != dataset:
            continue
        entry = values.setdefault(run.remedy, {"seed": [], "modes": [], "high_quality": [], "emptiest": []})
        entry["seed"].append(run.seed)
        entry["modes"].append(run.coverage.covered)
        entry["high_quality"].append(run.coverage.high_quality)
        entry["emptiest"].append(int(run.coverage.counts.min()))
    if not values:
        raise ValueError(f"no runs on data set {dataset!r}")
    return values


def format_seed_values(runs: Sequence[ModeExperiment], dataset: str) -> str:
    """A plain-text table of :func:`seed_values`: every seed's modes covered, high-quality share and emptiest mode."""
    values = seed_values(runs, dataset)
    seeds = next(iter(values.values()))["seed"]
    lines = [f"{'remedy':<17}{'measure':<14}" + "".join(f"{'seed ' + str(s):>9}" for s in seeds)]
    for remedy, v in values.items():
        lines.append(f"{remedy:<17}{'modes':<14}" + "".join(f"{m:>9}" for m in v["modes"]))
        lines.append(f"{'':<17}{'high quality':<14}" + "".join(f"{h:>9.1%}" for h in v["high_quality"]))
        lines.append(f"{'':<17}{'emptiest mode':<14}" + "".join(f"{e:>9}" for e in v["emptiest"]))
    return "\n".join(lines)


def compare_with_baseline(
    runs: Sequence[ModeExperiment], dataset: str, measure: str, baseline: str = "vanilla"
) -> dict[str, str]:
    """For each remedy, :func:`gan_helpers.metrics.seed_verdict` against ``baseline`` on ``measure`` (higher is better).

    ``measure`` is a key of :func:`seed_values` (``"high_quality"``, ``"emptiest"``, ``"modes"``). A
    remedy beats the baseline only when the gap between the means over seeds exceeds the sum of the
    two ranges; otherwise the verdict says they are indistinguishable at this budget.
    """
    values = seed_values(runs, dataset)
    base = values[baseline][measure]
    return {
        remedy: metrics.seed_verdict(v[measure], base, names=(remedy, baseline), lower_is_better=False)
        for remedy, v in values.items()
        if remedy != baseline
    }


def best_remedy(rows: Sequence[dict[str, Any]], dataset: str) -> dict[str, Any]:
    """The row of ``dataset`` with most modes covered on average, ties broken by high-quality share."""
    candidates = [r for r in rows if r["dataset"] == dataset]
    if not candidates:
        raise ValueError(f"no rows for data set {dataset!r}; rows cover {sorted({r['dataset'] for r in rows})}")
    return max(candidates, key=lambda r: (r["modes_mean"], r["hq_mean"]))


def mode_collapse_explorer(steps: int = 1000, max_steps: int = 6000) -> widgets.Explorer:
    """Choose a 2-D data set, a remedy, a number of steps and a seed, then press *Train*.

    The button runs :func:`run_mode_experiment` (the same function as the notebook's results
    table, so the same settings give the same numbers) and shows
    :func:`gan_helpers.plots.plot_mode_run`: the final samples over D's heat map and the samples
    per mode, with the modes covered and the high-quality share. Nothing trains until the
    button is pressed; the controls are disabled while it trains.
    """
    dataset = ipw.Dropdown(options=list(data.TOY_2D), value="ring", description="data")
    remedy = ipw.Dropdown(options=list(REMEDIES), value="vanilla", description="remedy")
    num_steps = ipw.IntSlider(value=steps, min=100, max=max_steps, step=100, description="steps")
    seed = ipw.BoundedIntText(value=0, min=0, max=10_000, description="seed")
    button = ipw.Button(description="Train", button_style="primary", icon="play")

    def work() -> tuple[str, Figure]:
        run = run_mode_experiment(dataset.value, remedy.value, seed.value, num_steps.value)
        return f"{run.remedy}: {run.coverage}; trained in {run.seconds:.1f} s", plots.plot_mode_run(run)

    return widgets.train_explorer(
        [[dataset, remedy], [num_steps, seed, button]],
        button,
        lambda: f"training {remedy.value} on the {dataset.value} for {num_steps.value} steps ...",
        work,
        first=_untrained_view_2d(dataset.value, remedy.value, seed.value),
        summary="mode-collapse explorer: choose data, remedy, steps and seed, press Train",
    )


def _untrained_view_2d(dataset: str, remedy: str, seed: int, num_points: int = 2000) -> Figure:
    """What the explorer shows before *Train*: G's samples at initialisation (``seed``) over the target's modes."""
    with torch.random.fork_rng():  # the notebook's own random numbers stay as they were
        torch.manual_seed(seed)
        G, _, _ = build_toy_gan(remedy)
    z = torch.randn(num_points, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    return plots.plot_toy_2d(generate(G, z), data.toy_2d(dataset), title=f"before training (seed {seed}): press Train")
