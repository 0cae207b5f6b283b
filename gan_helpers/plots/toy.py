"""Toy-data figures: a GAN on a line (notebook 02) and mode collapse on 2-D mixtures (notebook 03).

Also :func:`discriminator_on_mesh`, which evaluates a 2-D D on the mesh that :func:`plot_toy_2d` draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from torch import nn

from gan_helpers import metrics
from gan_helpers.data.toy import GaussianMixture, toy_2d, toy_extent
from gan_helpers.plots.animation import LabelledAnimation, _evenly_spaced_indices
from gan_helpers.plots.axes import plain_log_ticks
from gan_helpers.sampling import eval_mode

__all__ = [
    "animate_gan_1d",
    "discriminator_on_mesh",
    "plot_distances",
    "plot_gan_1d",
    "plot_gan_1d_snapshots",
    "plot_metric_comparison",
    "plot_mode_histogram",
    "plot_mode_occupancy",
    "plot_mode_run",
    "plot_remedy_grid",
    "plot_run_1d",
    "plot_samples_1d",
    "plot_snapshots",
    "plot_toy_2d",
    "plot_toy_targets",
]


# --- Notebook 02: a GAN on a line (Goodfellow et al. 2014, figure 1), distances, experiments -------


def _density_1d(target: GaussianMixture, x: np.ndarray) -> np.ndarray:
    return target.pdf(torch.as_tensor(x, dtype=torch.float32)[:, None]).numpy()


def plot_gan_1d(
    snapshot: Any,
    target: GaussianMixture,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
    optimal: bool = True,
) -> Figure:
    r"""The picture that explains GANs, for one :class:`gan_helpers.experiments.toy_1d.Snapshot1D`.

    Above the x-axis, on one shared y-axis: the data density :math:`p_{data}` (black, dotted), the
    generator's density :math:`p_g` (green, a Gaussian KDE of the snapshot's samples),
    :math:`D(x) = \sigma(\ell(x))` (blue, dashed) and, with ``optimal``, the optimal discriminator
    against that KDE, :math:`D^*(x) = p_{data}(x) / (p_{data}(x) + \hat p_g(x))` (red, dash-dotted;
    :func:`gan_helpers.metrics.optimal_discriminator` of :func:`gan_helpers.metrics.kde_mixture_1d`).
    Below: a z-axis and one line from each noise quantile :math:`z_k` to
    :math:`G(z_k)` on the x-axis; every line carries the same probability, so lines crowd where
    :math:`p_g` is high. The z-axis, from -3 to 3, spans the middle half of the x-axis' width.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.4))
    x = snapshot.x_grid
    low, high = float(x[0]), float(x[-1])
    y_x, y_z = -0.12, -0.62  # heights of the x-axis and the z-axis
    ax.plot(x, _density_1d(target, x), ls=":", color="black", lw=2, label=r"$p_{data}$")
    ax.plot(x, metrics.gaussian_kde_1d(snapshot.samples, x), color="tab:green", lw=1.8, label=r"$p_g$")
    ax.plot(x, snapshot.d_prob, ls="--", color="tab:blue", lw=1.5, label=r"$D(x)$")
    if optimal:
        d_star = metrics.optimal_discriminator(target, metrics.kde_mixture_1d(snapshot.samples), torch.as_tensor(x))
        ax.plot(x, d_star.numpy(), ls="-.", color="tab:red", lw=1.0, label=r"$D^*(x)$ for $p_g$")
    ax.axhline(y_x, color="black", lw=0.8)
    if len(snapshot.z_line):
        ax.axhline(y_z, color="black", lw=0.8)
        width = high - low
        z_pos = low + width / 4 + (np.asarray(snapshot.z_line) + 3.0) / 6.0 * width / 2
        segments = [[(z, y_z), (x_end, y_x)] for z, x_end in zip(z_pos, snapshot.x_of_z, strict=True)]
        ax.add_collection(LineCollection(segments, colors="grey", linewidths=0.7))
        for z in (-3, 0, 3):
            ax.text(low + width / 4 + (z + 3) / 6 * width / 2, y_z - 0.03, f"{z}", ha="center", va="top", fontsize=7)
        ax.text(low, y_z - 0.03, "z", ha="left", va="top", fontsize=9)
    ax.text(low, y_x + 0.02, "x", ha="left", va="bottom", fontsize=9)
    ax.set(xlim=(low, high), ylim=(y_z - 0.12, 1.05), yticks=[0, 0.5, 1])
    ax.set_ylabel("density and D (one axis)", fontsize=8)
    ax.set_title(title if title is not None else f"step {snapshot.step}", fontsize=10)
    if legend:
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax.figure


def plot_gan_1d_snapshots(
    snapshots: Sequence[Any], target: GaussianMixture, num_panels: int = 4, ncols: int = 2, size: float = 3.6
) -> Figure:
    """:func:`plot_gan_1d` at ``num_panels`` moments of training, evenly spaced from the first snapshot to the last."""
    if not snapshots:
        raise ValueError("nothing to draw: pass a Snapshot1DCallback's .snapshots after training")
    chosen = [snapshots[i] for i in _evenly_spaced_indices(len(snapshots), num_panels)]
    nrows = math.ceil(len(chosen) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat[len(chosen) :]:
        ax.axis("off")
    for i, (ax, snap) in enumerate(zip(axes.flat, chosen, strict=False)):
        plot_gan_1d(snap, target, ax=ax, legend=i == 0)
    fig.tight_layout()
    return fig


def animate_gan_1d(
    snapshots: Sequence[Any], target: GaussianMixture, max_frames: int = 20, dpi: int = 65, interval: int = 400
) -> LabelledAnimation:
    """:func:`plot_gan_1d` as an animation over (at most ``max_frames`` evenly spaced) snapshots, labelled "step N".

    Show it with ``gh.plots.AnimationPlayer(anim)``: a player that works offline and a poster strip of
    a few steps for readers who do not run the notebook. The figure itself is closed.
    """
    if not snapshots:
        raise ValueError("nothing to draw: pass a Snapshot1DCallback's .snapshots after training")
    chosen = [snapshots[i] for i in _evenly_spaced_indices(len(snapshots), max_frames)]
    fig, ax = plt.subplots(figsize=(6.0, 3.4), dpi=dpi)

    def draw(k: int) -> list:
        ax.clear()
        plot_gan_1d(chosen[k], target, ax=ax)
        return []

    anim = LabelledAnimation(fig, draw, [f"step {snap.step}" for snap in chosen], interval=interval)
    plt.close(fig)
    return anim


def plot_distances(history: Any, threshold: float | None = None, title: str | None = None) -> Figure:
    """W1 (log scale, with an optional ``threshold`` line) and the KS statistic against the step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.0))
    left.semilogy(history.steps("w1"), history["w1"], color="tab:purple")
    if threshold is not None:
        left.axhline(threshold, color="grey", ls="--", lw=0.9, label=f"threshold {threshold:g}")
        left.legend(fontsize="small")
    left.set(xlabel="step", ylabel="W1 to the target", title="1-Wasserstein distance")
    plain_log_ticks(left)
    right.plot(history.steps("ks"), history["ks"], color="tab:orange")
    right.set(xlabel="step", ylabel="KS statistic", title="Kolmogorov-Smirnov statistic", ylim=(0, 1.02))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


METRIC_LABELS = {
    "w1": "W1 to the target",
    "ks": "KS statistic",
    "grad_norm_g": "G's gradient norm",
    "grad_norm_d": "D's gradient norm",
    "g_move": "G's parameter change per step",
    "loss_d": "D loss",
    "loss_g": "G loss",
}
"""Axis labels for the logged series that :func:`plot_metric_comparison` knows (other names are used as they are)."""


def plot_metric_comparison(
    histories: dict[str, Any],
    name: str = "w1",
    x: str = "step",
    logy: bool = True,
    threshold: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    threshold_label: str | None = None,
) -> Figure:
    """One logged quantity ``name`` of several runs (``{label: history}``) on one axes.

    ``x="step"`` plots against the step; ``x`` may also name another logged series with the same
    steps (for example a cumulative time). The y-label is ``ylabel``, else :data:`METRIC_LABELS`'
    entry for ``name``; a ``threshold`` is a dashed line named in the legend (``threshold_label``,
    default "goal" and its value).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.2))
    for label, history in histories.items():
        xs = history.steps(name) if x == "step" else history[x]
        (ax.semilogy if logy else ax.plot)(xs, history[name], label=label, lw=1.3)
    if threshold is not None:
        label = threshold_label if threshold_label is not None else f"goal {threshold:.3g}"
        ax.axhline(threshold, color="grey", ls="--", lw=0.9, label=label)
    ax.set(xlabel=x, ylabel=ylabel if ylabel is not None else METRIC_LABELS.get(name, name))
    plain_log_ticks(ax)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize="small")
    return ax.figure


def plot_samples_1d(
    samples: np.ndarray | torch.Tensor,
    target: GaussianMixture,
    radius: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    bins: int = 120,
) -> Figure:
    """A histogram of generated 1-D ``samples`` over the target density; with ``radius``, the band around each mode."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.0))
    values = samples.detach().cpu().numpy().reshape(-1) if isinstance(samples, torch.Tensor) else np.ravel(samples)
    centres = target.centres[:, 0].numpy()
    spread = float(target.stds.max())
    low, high = min(centres.min() - 5 * spread, values.min()), max(centres.max() + 5 * spread, values.max())
    grid = np.linspace(low, high, 400)
    ax.hist(values, bins=bins, range=(low, high), density=True, color="tab:green", alpha=0.5, label="generated")
    ax.plot(grid, _density_1d(target, grid), ls=":", color="black", lw=2, label=r"$p_{data}$")
    if radius is not None:
        for c in centres:
            ax.axvspan(c - radius, c + radius, color="grey", alpha=0.12, lw=0)
    ax.set(xlabel="x", ylabel="density", xlim=(low, high))
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize="small")
    return ax.figure


def plot_run_1d(run: Any, target: GaussianMixture, title: str | None = None) -> Figure:
    """A :class:`gan_helpers.experiments.toy_1d.Run1D` at a glance: its last snapshot and W1 over training."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.4), gridspec_kw={"width_ratios": [1.5, 1]})
    if run.snapshots:
        plot_gan_1d(run.snapshots[-1], target, ax=left)
    else:
        plot_samples_1d(run.samples, target, ax=left)
    right.semilogy(run.history.steps("w1"), run.history["w1"], color="tab:purple")
    right.set(xlabel="step", ylabel="W1 to the target", title="1-Wasserstein distance")
    plain_log_ticks(right)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- Notebook 03: mode collapse on 2-D toy data ----------------------------------------------------


def discriminator_on_mesh(
    D: nn.Module, extent: tuple[float, float, float, float], resolution: int = 100
) -> torch.Tensor:
    """D's logits (critic scores for WGAN-GP) on a ``resolution`` x ``resolution`` mesh, shape ``(res, res)``.

    ``extent`` is ``(x_min, x_max, y_min, y_max)``; row ``i`` holds the points with the ``i``-th
    y value (the layout of ``imshow(..., origin="lower")``). The mesh is one batch, so for a D
    with ``minibatch_std`` the batch feature is the mesh's own spread.
    """
    x_min, x_max, y_min, y_max = extent
    xs = torch.linspace(x_min, x_max, resolution)
    ys = torch.linspace(y_min, y_max, resolution)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (res, res) each
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)  # (res * res, 2)
    device = next(D.parameters()).device
    with eval_mode(D):
        logits = D(points.to(device)).cpu()
    return logits.reshape(resolution, resolution)


def _toy_axes(ax: Axes | None, size: float = 3.2) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new square figure with one axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    return ax.figure, ax


def _draw_modes(ax: Axes, mixture: GaussianMixture, num_sigmas: float = 3.0) -> None:
    """Each mode's centre as a cross and its ``num_sigmas`` disc (where samples count as high quality)."""
    c = mixture.centres.numpy()
    for (x, y), s in zip(c, mixture.stds.tolist(), strict=True):
        ax.add_patch(plt.Circle((x, y), num_sigmas * s, fill=False, color="black", lw=0.6, alpha=0.8))
    ax.scatter(c[:, 0], c[:, 1], marker="x", s=14, c="black", lw=0.8, zorder=3)


def plot_toy_2d(
    samples: torch.Tensor,
    mixture: GaussianMixture,
    logits: torch.Tensor | None = None,
    extent: tuple[float, float, float, float] | None = None,
    critic: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    colorbar: bool = False,
) -> Figure:
    r"""Generated points over the target's modes, on a heat map of D's opinion (as GAN Lab draws it).

    ``logits`` ``(res, res)`` from :func:`discriminator_on_mesh`. For a
    discriminator the map shows :math:`D(x) = \sigma(\ell(x))` from 0 (purple, "fake") to 1
    (green, "real"). For a WGAN critic (``critic=True``) it shows the raw score :math:`f(x)` on a
    diverging scale centred at its median over the mesh (the critic's offset is arbitrary).
    Crosses mark the centres, circles their 3-sigma discs.
    """
    fig, ax = _toy_axes(ax)
    extent = extent or toy_extent(mixture)
    if logits is not None:
        values = logits.numpy()
        if critic:
            centre = float(np.median(values))
            half = float(np.abs(values - centre).max()) or 1.0
            norm = {"vmin": centre - half, "vmax": centre + half}
            image = ax.imshow(values, origin="lower", extent=extent, cmap="PuOr", **norm)
            label = "critic score f(x)"
        else:
            image = ax.imshow(torch.sigmoid(logits).numpy(), origin="lower", extent=extent, cmap="PRGn", vmin=0, vmax=1)
            label = "D(x) = P(real)"
        if colorbar:
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    _draw_modes(ax, mixture)
    x = samples.detach().cpu().numpy()
    ax.scatter(x[:, 0], x[:, 1], s=3, c="tab:red", alpha=0.35, lw=0, zorder=2)
    ax.set(xlim=extent[:2], ylim=extent[2:], aspect="equal", xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_toy_targets(mixtures: dict[str, GaussianMixture], num_samples: int = 2000, seed: int = 0) -> Figure:
    """Samples of each 2-D target with its centres and 3-sigma discs, one panel per target."""
    fig, axes = plt.subplots(1, len(mixtures), figsize=(3.4 * len(mixtures), 3.4), squeeze=False)
    for ax, (name, mixture) in zip(axes[0], mixtures.items(), strict=True):
        x = mixture.sample(num_samples, generator=torch.Generator().manual_seed(seed)).numpy()
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4, c="tab:blue", lw=0)
        _draw_modes(ax, mixture)
        sigma = f"{float(mixture.stds[0]):.3g}"
        extent = toy_extent(mixture)
        title = f"{name}: {mixture.num_modes} modes, σ = {sigma}"
        ax.set(xlim=extent[:2], ylim=extent[2:], aspect="equal", title=title)
    fig.tight_layout()
    return fig


def plot_snapshots(
    snapshots: Sequence[Any],
    mixture: GaussianMixture,
    critic: bool = False,
    ncols: int = 5,
    size: float = 2.3,
    min_count: int = 10,
) -> Figure:
    """Small multiples of 2-D snapshots: samples on D's heat map, step by step.

    ``snapshots`` are :class:`gan_helpers.experiments.mode_collapse.Snapshot2D` s.
    Each panel's title gives the step and the modes covered: those holding at least ``min_count``
    samples within 3 sigma of their centre (as :func:`gan_helpers.metrics.modes_covered`).
    """
    if not snapshots:
        raise ValueError("no snapshots to draw: pass a Snapshot2DCallback's .snapshots after training")
    nrows = math.ceil(len(snapshots) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(snapshots) :]:
        ax.axis("off")
    for ax, snap in zip(axes.flat, snapshots, strict=False):
        covered = int((snap.counts >= min_count).sum())
        title = f"step {snap.step}: {covered}/{mixture.num_modes} modes"
        plot_toy_2d(snap.samples, mixture, snap.logits, critic=critic, ax=ax, title=title, colorbar=critic)
    fig.tight_layout()
    if not critic:  # every panel shares the scale D(x) in [0, 1]: one colour bar for all
        scale = plt.cm.ScalarMappable(norm=plt.Normalize(0, 1), cmap="PRGn")
        fig.colorbar(scale, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01, label="D(x) = P(real)")
    return fig


def plot_mode_occupancy(snapshots: Sequence[Any], mixture: GaussianMixture, ax: Axes | None = None) -> Figure:
    r"""Share of the samples nearest to each mode at each snapshot: an image, modes by steps.

    Every sample counts for its nearest centre, however far (the Voronoi cells of the centres), so
    the image shows where G puts its mass even before the samples are precise. A collapsed
    generator shows one bright cell per column; mode hopping shows the bright cell moving from row
    to row as training goes on; a good generator shows an even column of 1/K.
    """
    if not snapshots:
        raise ValueError("no snapshots to draw: pass a Snapshot2DCallback's .snapshots after training")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.6))
    k = mixture.num_modes
    c, sd = mixture.centres, mixture.stds
    nearest = [metrics.assign_to_modes(s.samples, c, sd, num_sigmas=math.inf) for s in snapshots]  # no -1
    shares = torch.stack([torch.bincount(m, minlength=k).double() / len(m) for m in nearest], dim=1).numpy()  # (K, T)
    steps = [s.step for s in snapshots]
    image = ax.imshow(shares, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(steps)), [str(s) for s in steps], rotation=60, fontsize=7)
    ax.set(xlabel="step", ylabel="mode", title="share of samples nearest to each mode")
    ax.figure.colorbar(image, ax=ax, label="share of samples")
    ax.figure.tight_layout()
    return ax.figure


def plot_mode_histogram(counts: torch.Tensor, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Bar chart of high-quality samples per mode, with the even share of a perfect generator dashed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.6))
    k = counts.shape[0]
    ax.bar(range(k), counts.numpy(), color="tab:red")
    ax.axhline(float(counts.sum()) / k, ls="--", c="gray", lw=1)
    ax.set(xlabel="mode (dashed: even share)", ylabel="samples within 3σ")
    ax.set_title(title or "samples per mode", fontsize=10)
    ax.figure.tight_layout()
    return ax.figure


def plot_remedy_grid(runs: Sequence[Any], mixture: GaussianMixture, size: float = 2.2) -> Figure:
    """Final samples of mode-collapse runs: a column per remedy, a row per seed.

    ``runs`` are :class:`gan_helpers.experiments.mode_collapse.ModeExperiment` s.
    Each title gives the modes covered and the high-quality share measured on those samples.
    """
    if not runs:
        raise ValueError("no runs to draw")
    remedies = list(dict.fromkeys(r.remedy for r in runs))
    seeds = list(dict.fromkeys(r.seed for r in runs))
    fig, axes = plt.subplots(len(seeds), len(remedies), figsize=(size * len(remedies), size * len(seeds) + 0.2))
    axes = np.atleast_2d(axes).reshape(len(seeds), len(remedies))
    for ax in axes.flat:
        ax.axis("off")
    for run in runs:
        ax = axes[seeds.index(run.seed), remedies.index(run.remedy)]
        ax.axis("on")
        cov = run.coverage
        title = f"{run.remedy}, seed {run.seed}\n{cov.covered}/{cov.num_modes} modes, {cov.high_quality:.0%} HQ"
        plot_toy_2d(run.samples, mixture, ax=ax, title=title)
    fig.tight_layout()
    return fig


def plot_mode_run(run: Any) -> Figure:
    """One mode-collapse run: final samples on D's heat map, and samples per mode.

    ``run`` is a :class:`gan_helpers.experiments.mode_collapse.ModeExperiment`.
    """
    mixture = toy_2d(run.dataset)
    extent = toy_extent(mixture)
    logits = discriminator_on_mesh(run.D, extent)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.2, 3.4), gridspec_kw={"width_ratios": [1.1, 1]})
    title = f"{run.remedy} on the {run.dataset}, seed {run.seed}, {run.steps} steps"
    plot_toy_2d(run.samples, mixture, logits, extent, critic=run.remedy == "wgan-gp", ax=left, colorbar=True)
    left.set_title(title, fontsize=9)
    plot_mode_histogram(run.coverage.counts, ax=right, title=str(run.coverage))
    fig.tight_layout()
    return fig
