"""Plots: every figure the notebooks draw. Functions take data (history, samples, models) and return a Figure."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gan_helpers import losses, metrics, training
from gan_helpers.data.toy import GaussianMixture

__all__ = [
    "plot_discriminator_fit",
    "plot_generator_gradients",
    "plot_objective",
    "plot_value_vs_shift",
]


# --- Notebook 01: the GAN objective -------------------------------------------------------------------


def _objective_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def plot_objective(
    p_data: GaussianMixture,
    p_g: GaussianMixture,
    ax: Axes | None = None,
    x: torch.Tensor | None = None,
) -> Figure:
    r"""The two densities, the optimal discriminator :math:`D^*` and the values :math:`V(D^*, G)` and JSD.

    Densities on the left axis, :math:`D^*(x) = p_{data}/(p_{data} + p_g)` on the right (0 to 1,
    with the line 1/2 where the densities are equal). The title gives :math:`V(D^*, G)` and
    :math:`\mathrm{JSD}` computed by quadrature (:func:`gan_helpers.metrics.value_function_numeric`).
    """
    fig, ax = _objective_axes(ax, (7.0, 4.0))
    if x is None:
        x = metrics.density_grid(p_data, p_g, num_points=801, num_stds=4.0)
    x = torch.as_tensor(x, dtype=torch.float64)
    xs = x.numpy()
    ax.fill_between(xs, p_data.pdf(x.float()).numpy(), alpha=0.35, color="C0", label=r"$p_{data}$")
    ax.fill_between(xs, p_g.pdf(x.float()).numpy(), alpha=0.35, color="C1", label=r"$p_g$")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    twin = ax.twinx()
    twin.plot(xs, metrics.optimal_discriminator(p_data, p_g, x).numpy(), color="k", lw=2, label=r"$D^*(x)$")
    twin.axhline(0.5, color="gray", lw=0.8, ls=":")
    twin.set_ylim(-0.02, 1.02)
    twin.set_ylabel(r"$D^*(x)$")
    value = metrics.value_function_numeric(p_data, p_g)
    jsd = metrics.jsd_numeric(p_data, p_g)
    ax.set_title(rf"$V(D^*, G) = {value:.4f}$   (minimum $-\log 4 = {-math.log(4):.4f}$)   JSD $= {jsd:.4f}$")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small")
    fig.tight_layout()
    return fig


def plot_discriminator_fit(
    x: torch.Tensor,
    d_learned: torch.Tensor,
    d_star: torch.Tensor,
    p_data: GaussianMixture | None = None,
    p_g: GaussianMixture | None = None,
) -> Figure:
    r"""A trained discriminator's :math:`D(x) = \sigma(\ell(x))` over the optimal :math:`D^*(x)`, with the gap.

    Top: both curves (and, when given, the two densities shaded behind them); bottom:
    :math:`|D(x) - D^*(x)|`. All arrays have shape ``(n,)`` on the common grid ``x``.
    """
    xs, learned, star = (torch.as_tensor(a).detach().double().cpu().numpy() for a in (x, d_learned, d_star))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.0, 4.6), sharex=True, height_ratios=(3, 1))
    if p_data is not None and p_g is not None:
        shade = top.twinx()
        grid = torch.as_tensor(xs, dtype=torch.float32)
        shade.fill_between(xs, p_data.pdf(grid).numpy(), alpha=0.2, color="C0", label=r"$p_{data}$")
        shade.fill_between(xs, p_g.pdf(grid).numpy(), alpha=0.2, color="C1", label=r"$p_g$")
        shade.set_ylim(bottom=0.0)
        shade.set_yticks([])
        shade.legend(loc="upper right", fontsize="small")
    top.plot(xs, star, "k--", lw=2, label=r"optimal $D^*(x)$")
    top.plot(xs, learned, color="C2", lw=2, label=r"trained $D(x)$")
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("D(x)")
    top.legend(loc="upper left", fontsize="small")
    bottom.plot(xs, np.abs(learned - star), color="C3")
    bottom.set_ylabel(r"$|D - D^*|$")
    bottom.set_xlabel("x")
    fig.tight_layout()
    return fig


def plot_generator_gradients(num_points: int = 200) -> Figure:
    r"""Derivative of each generator loss with respect to D's logit, against :math:`D(G(z))`.

    Saturating :math:`\log(1 - D)`: :math:`-D`; non-saturating :math:`-\log D`: :math:`D - 1`
    (:func:`gan_helpers.losses.generator_logit_gradient`). The shaded band is early training,
    where D confidently rejects the fakes (:math:`D(G(z)) < 0.1`).
    """
    d = torch.linspace(0.0, 1.0, num_points, dtype=torch.float64)
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    labels = {"saturating": r"saturating $\log(1-D)$: $-D$", "nonsaturating": r"non-saturating $-\log D$: $D-1$"}
    for kind, label in labels.items():
        ax.plot(d.numpy(), losses.generator_logit_gradient(d, kind).numpy(), lw=2, label=label)
    ax.axvspan(0.0, 0.1, color="gray", alpha=0.2, label="early training: D rejects the fakes")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel(r"$D(G(z))$")
    ax.set_ylabel(r"$\partial L_G / \partial \ell$")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    return fig


def plot_value_vs_shift(shifts: Sequence[float], values: Sequence[float], jsds: Sequence[float]) -> Figure:
    r""":math:`V(D^*, G)` and JSD as :math:`p_g` slides past :math:`p_{data}`; the minimum :math:`-\log 4` is marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    left.plot(shifts, values, lw=2)
    left.axhline(-math.log(4), color="k", ls="--", lw=1, label=r"$-\log 4$")
    left.set_xlabel(r"mean of $p_g$ minus mean of $p_{data}$")
    left.set_ylabel(r"$V(D^*, G)$")
    left.legend(fontsize="small")
    right.plot(shifts, jsds, lw=2, color="C1")
    right.axhline(math.log(2), color="k", ls="--", lw=1, label=r"$\log 2$")
    right.set_xlabel(r"mean of $p_g$ minus mean of $p_{data}$")
    right.set_ylabel(r"$\mathrm{JSD}(p_{data}\,\|\,p_g)$")
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile images ``(B, C, H, W)`` (or ``(B, H, W)``) into one ``(C, H', W')`` picture, ``nrow`` per row.

    Float images are taken to be in [-1, 1] and uint8 images in 0..255; both come back as floats
    in [0, 1], ready for ``imshow``. Tiles are separated by ``padding`` pixels of ``pad_value``.
    """
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"expected a non-empty batch (B, C, H, W) or (B, H, W), got {tuple(images.shape)}")
    if nrow < 1:
        raise ValueError(f"nrow must be at least 1, got {nrow}")
    x = images.detach().cpu()
    x = x.float() / 255 if x.dtype == torch.uint8 else ((x.float() + 1) / 2).clamp(0, 1)
    b, c, h, w = x.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for i in range(b):
        top = padding + (i // cols) * (h + padding)
        left = padding + (i % cols) * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return grid


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    title: str | None = None,
    ax: Axes | None = None,
    scale: float = 0.6,
) -> Figure:
    """Draw a batch of images as one grid (grey for one channel); returns the figure."""
    grid = make_grid(images, nrow=nrow)
    if ax is None:
        height, width = grid.shape[1:]
        _, ax = plt.subplots(figsize=(scale * width / 28 + 0.2, scale * height / 28 + 0.4))
    picture = grid[0] if grid.shape[0] == 1 else grid.permute(1, 2, 0)
    ax.imshow(picture.numpy(), cmap="gray" if grid.shape[0] == 1 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


# --- Image GAN training: histories, sample grids over epochs, animations, interpolations, galleries ---


def _steps_and_values(history: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    return history.steps(name), history[name]


def plot_training_history(history: Any, title: str | None = None, figsize: tuple[float, float] = (11, 3.2)) -> Figure:
    """Loss curves, mean D(x) and D(G(z)), and (when logged) the gradient norms of G and D, against the step."""
    panels = 3 if "grad_norm_d" in history else 2
    fig, axes = plt.subplots(1, panels, figsize=(figsize[0] * panels / 3, figsize[1]))
    for name, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        axes[0].plot(*_steps_and_values(history, name), label=label)
    axes[0].set(xlabel="step", ylabel="loss", title="losses")
    axes[1].plot(*_steps_and_values(history, "d_real"), label="D(x), real")
    axes[1].plot(*_steps_and_values(history, "d_fake"), label="D(G(z)), fake")
    axes[1].axhline(0.5, color="grey", lw=0.8, ls="--")
    axes[1].set(xlabel="step", ylabel="mean D output", title="what D says", ylim=(-0.02, 1.02))
    if panels == 3:
        axes[2].semilogy(*_steps_and_values(history, "grad_norm_d"), label="D")
        axes[2].semilogy(*_steps_and_values(history, "grad_norm_g"), label="G")
        axes[2].set(xlabel="step", ylabel="gradient norm", title="gradient norms")
    for ax in axes:
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _check_one_batch_per_epoch(samples: Sequence[torch.Tensor] | torch.Tensor, epochs: Sequence[int]) -> None:
    if len(samples) != len(epochs) or len(samples) == 0:
        raise ValueError(f"need one sample batch per epoch, got {len(samples)} batches and {len(epochs)} epochs")


def _evenly_spaced_indices(length: int, num: int) -> np.ndarray:
    """At most ``num`` indices into ``range(length)``, evenly spaced, always with the first and the last."""
    return np.unique(np.linspace(0, length - 1, min(num, length)).round().astype(int))


def plot_sample_evolution(
    samples: Sequence[torch.Tensor] | torch.Tensor,
    epochs: Sequence[int],
    num_images: int = 10,
    max_rows: int = 8,
    scale: float = 0.55,
) -> Figure:
    """The first ``num_images`` fixed-noise samples after each of (at most ``max_rows``, evenly spaced) epochs.

    ``samples[i]`` is a batch ``(n, C, H, W)`` drawn after epoch ``epochs[i]``; each row is one epoch,
    each column one noise vector, so a column shows one ``z``'s image improving.
    """
    _check_one_batch_per_epoch(samples, epochs)
    rows = _evenly_spaced_indices(len(samples), max_rows)
    fig, axes = plt.subplots(len(rows), 1, figsize=(scale * num_images + 0.8, scale * len(rows) + 0.3), squeeze=False)
    for ax, i in zip(axes[:, 0], rows, strict=True):
        show_images(samples[i][:num_images], nrow=num_images, ax=ax)
        ax.set_axis_on()
        ax.set(xticks=[], yticks=[])
        ax.set_ylabel(f"epoch {epochs[i]}", rotation=0, ha="right", va="center", fontsize="small")
    fig.tight_layout(h_pad=0.1)
    return fig


def animate_samples(
    samples: Sequence[torch.Tensor] | torch.Tensor,
    epochs: Sequence[int],
    nrow: int = 8,
    num_images: int = 32,
    max_frames: int = 20,
    dpi: int = 65,
    interval: int = 500,
) -> FuncAnimation:
    """An animation of the fixed-noise grid over epochs (at most ``max_frames`` small frames).

    Show it with ``IPython.display.HTML(anim.to_jshtml())``; the figure itself is closed.
    """
    _check_one_batch_per_epoch(samples, epochs)
    frames = _evenly_spaced_indices(len(samples), max_frames)
    grids = [make_grid(samples[i][:num_images], nrow=nrow).numpy() for i in frames]  # (C, H', W') each
    fig, ax = plt.subplots(figsize=(grids[0].shape[2] / 40, grids[0].shape[1] / 40 + 0.3), dpi=dpi)
    gray = grids[0].shape[0] == 1

    def picture(k: int) -> np.ndarray:
        return grids[k][0] if gray else grids[k].transpose(1, 2, 0)  # (H', W') or (H', W', C)

    image = ax.imshow(picture(0), cmap="gray" if gray else None, vmin=0, vmax=1)
    ax.set_axis_off()

    def draw(k: int) -> list:
        image.set_data(picture(k))
        ax.set_title(f"epoch {epochs[frames[k]]}")
        return [image]

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=interval, blit=False)
    plt.close(fig)
    return anim


def plot_interpolation(images: torch.Tensor, title: str | None = None, scale: float = 0.8) -> Figure:
    """A row of images ``(K, C, H, W)``, e.g. G along a path from one latent vector to another."""
    fig = show_images(images, nrow=len(images), scale=scale)
    if title:
        fig.axes[0].set_title(title)
    return fig


def save_image_grid(images: torch.Tensor, path: str | os.PathLike[str], nrow: int = 8) -> Path:
    """Write a batch of images (floats in [-1, 1] or uint8) as one PNG grid, without a figure."""
    grid = make_grid(images, nrow=nrow)
    picture = grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, picture, cmap="gray" if grid.shape[0] == 1 else None, vmin=0, vmax=1)
    return path


def training_dashboard(history: Any, images: torch.Tensor | None = None, title: str | None = None) -> Figure:
    """The live figure: losses, D(x) and D(G(z)) so far, and the current samples of a fixed noise batch."""
    fig, axes = plt.subplots(1, 3 if images is not None else 2, figsize=(11, 3.2))
    if "loss_d" in history:
        for name, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
            axes[0].plot(*_steps_and_values(history, name), label=label)
        axes[1].plot(*_steps_and_values(history, "d_real"), label="D(x)")
        axes[1].plot(*_steps_and_values(history, "d_fake"), label="D(G(z))")
        axes[0].legend(fontsize="small")
        axes[1].legend(fontsize="small")
    axes[0].set(xlabel="step", title="losses")
    axes[1].set(xlabel="step", title="what D says", ylim=(-0.02, 1.02))
    if images is not None:
        show_images(images, nrow=math.ceil(math.sqrt(len(images))), ax=axes[2])
        axes[2].set_title("samples of a fixed z")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mistake_gallery(results: dict[str, tuple[torch.Tensor, Any]], num_images: int = 16) -> Figure:
    """One column per training variant: its final samples on top and D(x), D(G(z)) below.

    ``results[name] = (samples, history)``; the first entry is usually the correct loop.
    """
    if not results:
        raise ValueError("results is empty: pass {name: (samples, history)}")
    fig, axes = plt.subplots(2, len(results), figsize=(2.6 * len(results), 5.2), squeeze=False)
    side = math.ceil(math.sqrt(num_images))
    for k, (name, (images, history)) in enumerate(results.items()):
        show_images(images[:num_images], nrow=side, ax=axes[0, k], title=name)
        axes[1, k].plot(*_steps_and_values(history, "d_real"), label="D(x)")
        axes[1, k].plot(*_steps_and_values(history, "d_fake"), label="D(G(z))")
        axes[1, k].set(xlabel="step", ylim=(-0.02, 1.02))
        if k == 0:
            axes[1, k].legend(fontsize="small")
    fig.tight_layout()
    return fig


__all__ += [
    "animate_samples",
    "plot_interpolation",
    "plot_mistake_gallery",
    "plot_sample_evolution",
    "plot_training_history",
    "save_image_grid",
    "training_dashboard",
]


# --- Notebook 03: mode collapse on 2-D toy data ---------------------------------------------------

__all__ += [
    "plot_mode_histogram",
    "plot_mode_occupancy",
    "plot_remedy_grid",
    "plot_snapshots",
    "plot_toy_2d",
    "plot_toy_targets",
]


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

    ``logits`` ``(res, res)`` from :func:`gan_helpers.training.discriminator_on_mesh`. For a
    discriminator the map shows :math:`D(x) = \sigma(\ell(x))` from 0 (purple, "fake") to 1
    (green, "real"). For a WGAN critic (``critic=True``) it shows the raw score :math:`f(x)` on a
    diverging scale centred at its median over the mesh (the critic's offset is arbitrary).
    Crosses mark the centres, circles their 3-sigma discs.
    """
    fig, ax = _toy_axes(ax)
    extent = extent or training.toy_extent(mixture)
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
        extent = training.toy_extent(mixture)
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
    """Small multiples of :class:`gan_helpers.training.Snapshot` s: samples on D's heat map, step by step.

    Each panel's title gives the step and the modes covered: those holding at least ``min_count``
    samples within 3 sigma of their centre (as :func:`gan_helpers.metrics.modes_covered`).
    """
    if not snapshots:
        raise ValueError("no snapshots to draw: pass a SnapshotRecorder's .snapshots after training")
    nrows = math.ceil(len(snapshots) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(snapshots) :]:
        ax.axis("off")
    for ax, snap in zip(axes.flat, snapshots, strict=False):
        covered = int((snap.counts >= min_count).sum())
        title = f"step {snap.step}: {covered}/{mixture.num_modes} modes"
        plot_toy_2d(snap.samples, mixture, snap.logits, critic=critic, ax=ax, title=title)
    fig.tight_layout()
    return fig


def plot_mode_occupancy(snapshots: Sequence[Any], mixture: GaussianMixture, ax: Axes | None = None) -> Figure:
    r"""Share of the samples nearest to each mode at each snapshot: an image, modes by steps.

    Every sample counts for its nearest centre, however far (the Voronoi cells of the centres), so
    the image shows where G puts its mass even before the samples are precise. A collapsed
    generator shows one bright cell per column; mode hopping shows the bright cell moving from row
    to row as training goes on; a good generator shows an even column of 1/K.
    """
    if not snapshots:
        raise ValueError("no snapshots to draw: pass a SnapshotRecorder's .snapshots after training")
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
    """Final samples of :class:`gan_helpers.training.ModeExperiment` runs: a column per remedy, a row per seed.

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


# --- Evaluating GANs: classifier training, class coverage, FID against sample size, nearest neighbours ---


def plot_classifier_history(history: Any, title: str | None = None) -> Figure:
    """Loss and accuracy of :func:`gan_helpers.training.train_classifier` against the epoch."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 2.8))
    ax_loss.plot(*_steps_and_values(history, "loss"), marker=".")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
    ax_acc.plot(*_steps_and_values(history, "accuracy"), marker=".", label="training batches (augmented)")
    if "eval_accuracy" in history:
        ax_acc.plot(*_steps_and_values(history, "eval_accuracy"), marker=".", label="held-out digits")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax_acc.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_class_coverage(
    coverages: metrics.ClassCoverage | dict[str, metrics.ClassCoverage], title: str | None = None
) -> Figure:
    """Share of samples per predicted class, one panel per coverage; even share dashed, threshold dotted.

    Classes below the coverage threshold (the ones the generator dropped) are drawn in red.
    """
    items = coverages if isinstance(coverages, dict) else {"": coverages}
    fig, axes = plt.subplots(1, len(items), figsize=(3.6 * len(items), 2.6), squeeze=False, sharey=True)
    for ax, (name, cov) in zip(axes[0], items.items(), strict=True):
        colours = ["tab:blue" if c in cov.covered else "tab:red" for c in range(cov.num_classes)]
        ax.bar(range(cov.num_classes), cov.shares, color=colours)
        ax.axhline(1 / cov.num_classes, ls="--", c="gray", lw=1, label="even share")
        ax.axhline(cov.min_share, ls=":", c="tab:red", lw=1, label=f"threshold {cov.min_share:g}")
        ax.set_xticks(range(cov.num_classes))
        label = f"{cov.classes_covered}/{cov.num_classes} classes, KL {cov.kl_from_uniform:.3f}"
        ax.set(xlabel="predicted class", title=f"{name}\n{label}" if name else label)
    axes[0, 0].set_ylabel("share of samples")
    axes[0, 0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_fid_curves(curves: dict[str, metrics.FIDCurve], title: str | None = None) -> Figure:
    """FID (mean and spread over repeats) against the number of samples, one line per curve, log-log axes."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, curve in curves.items():
        ax.errorbar(curve.sizes, curve.mean, yerr=curve.std, marker="o", capsize=3, label=name)
    ax.set(xscale="log", yscale="log", xlabel="samples n (per set)", ylabel="FID", title=title or "FID against n")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_nearest_neighbours(
    queries: torch.Tensor,
    reference: torch.Tensor,
    neighbours: metrics.Neighbours,
    num_show: int = 8,
    title: str | None = None,
    query_label: str = "generated",
) -> Figure:
    """Each query (top row) above its nearest images in ``reference`` (one row per neighbour), with distances.

    ``neighbours`` comes from :func:`gan_helpers.metrics.nearest_neighbours`; a neighbour that is a
    near copy of its query (tiny distance) is a sign of memorisation.
    """
    num_show = min(num_show, len(queries))
    k = neighbours.indices.shape[1]
    fig, axes = plt.subplots(1 + k, num_show, figsize=(1.0 * num_show, 1.15 * (1 + k)), squeeze=False)
    for col in range(num_show):
        images = [queries[col]] + [reference[int(i)] for i in neighbours.indices[col]]
        for row, image in enumerate(images):
            ax = axes[row, col]
            ax.imshow(make_grid(image[None], nrow=1, padding=0)[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row > 0:
                ax.set_xlabel(f"d = {float(neighbours.distances[col, row - 1]):.1f}", fontsize=7, labelpad=1)
    axes[0, 0].set_ylabel(query_label, fontsize=8)
    for j in range(k):
        axes[1 + j, 0].set_ylabel(f"nearest #{j + 1}" if k > 1 else "nearest", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ += ["plot_class_coverage", "plot_classifier_history", "plot_fid_curves", "plot_nearest_neighbours"]


def plot_mode_run(run: Any) -> Figure:
    """One :class:`gan_helpers.training.ModeExperiment`: final samples on D's heat map, and samples per mode."""
    mixture = training.toy_dataset(run.dataset)
    extent = training.toy_extent(mixture)
    logits = training.discriminator_on_mesh(run.D, extent)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.2, 3.4), gridspec_kw={"width_ratios": [1.1, 1]})
    title = f"{run.remedy} on the {run.dataset}, seed {run.seed}, {run.steps} steps"
    plot_toy_2d(run.samples, mixture, logits, extent, critic=run.remedy == "wgan-gp", ax=left, colorbar=True)
    left.set_title(title, fontsize=9)
    plot_mode_histogram(run.coverage.counts, ax=right, title=str(run.coverage))
    fig.tight_layout()
    return fig


__all__ += ["plot_mode_run"]


# --- Notebook 02: a GAN on a line (Goodfellow et al. 2014, figure 1), distances, experiments ---------


def _density_1d(target: GaussianMixture, x: np.ndarray) -> np.ndarray:
    return target.pdf(torch.as_tensor(x, dtype=torch.float32)[:, None]).numpy()


def plot_gan_1d(
    snapshot: Any,
    target: GaussianMixture,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    r"""The picture that explains GANs, for one :class:`gan_helpers.training.Snapshot1D`.

    Above the x-axis: the data density :math:`p_{data}` (black, dotted), the generator's density
    :math:`p_g` (green, a Gaussian KDE of the snapshot's samples) and :math:`D(x) = \sigma(\ell(x))`
    (blue, dashed). Below: a z-axis and one line from each noise quantile :math:`z_k` to
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
    ax.set_title(title if title is not None else f"step {snapshot.step}", fontsize=10)
    if legend:
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax.figure


def _evenly_spaced(items: Sequence[Any], num: int) -> list[Any]:
    """``num`` items spread evenly over ``items``, always including the first and the last."""
    if not items:
        raise ValueError("nothing to draw: pass a SnapshotRecorder1D's .snapshots after training")
    return [items[i] for i in _evenly_spaced_indices(len(items), num)]


def plot_gan_1d_snapshots(
    snapshots: Sequence[Any], target: GaussianMixture, num_panels: int = 4, ncols: int = 2, size: float = 3.6
) -> Figure:
    """:func:`plot_gan_1d` at ``num_panels`` moments of training, evenly spaced from the first snapshot to the last."""
    chosen = _evenly_spaced(snapshots, num_panels)
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
) -> FuncAnimation:
    """:func:`plot_gan_1d` as an animation over (at most ``max_frames`` evenly spaced) snapshots.

    Show it with ``IPython.display.HTML(anim.to_jshtml())``; the figure itself is closed.
    """
    chosen = _evenly_spaced(snapshots, max_frames)
    fig, ax = plt.subplots(figsize=(6.0, 3.4), dpi=dpi)

    def draw(k: int) -> list:
        ax.clear()
        plot_gan_1d(chosen[k], target, ax=ax)
        return []

    anim = FuncAnimation(fig, draw, frames=len(chosen), interval=interval, blit=False)
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
    right.plot(history.steps("ks"), history["ks"], color="tab:orange")
    right.set(xlabel="step", ylabel="KS statistic", title="Kolmogorov-Smirnov statistic", ylim=(0, 1.02))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_metric_comparison(
    histories: dict[str, Any],
    name: str = "w1",
    x: str = "step",
    logy: bool = True,
    threshold: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """One logged quantity ``name`` of several runs (``{label: history}``) on one axes.

    ``x="step"`` plots against the step; ``x`` may also name another logged series with the same
    steps (for example a cumulative time).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.2))
    for label, history in histories.items():
        xs = history.steps(name) if x == "step" else history[x]
        (ax.semilogy if logy else ax.plot)(xs, history[name], label=label, lw=1.3)
    if threshold is not None:
        ax.axhline(threshold, color="grey", ls="--", lw=0.9)
    ax.set(xlabel=x, ylabel=name)
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


__all__ += [
    "animate_gan_1d",
    "plot_distances",
    "plot_gan_1d",
    "plot_gan_1d_snapshots",
    "plot_metric_comparison",
    "plot_samples_1d",
]


def plot_run_1d(run: Any, target: GaussianMixture, title: str | None = None) -> Figure:
    """A :class:`gan_helpers.training.Run1D` at a glance: its last snapshot and W1 over training."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.4), gridspec_kw={"width_ratios": [1.5, 1]})
    if run.snapshots:
        plot_gan_1d(run.snapshots[-1], target, ax=left)
    else:
        plot_samples_1d(run.samples, target, ax=left)
    right.semilogy(run.history.steps("w1"), run.history["w1"], color="tab:purple")
    right.set(xlabel="step", ylabel="W1 to the target", title="1-Wasserstein distance")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ += ["plot_run_1d"]


def plot_distance_histograms(distances: dict[str, torch.Tensor], title: str | None = None, bins: int = 40) -> Figure:
    """Overlaid histograms (densities) of nearest-neighbour distances, one per named set, medians dashed."""
    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    values = {name: torch.as_tensor(d).double().flatten().numpy() for name, d in distances.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    for i, (name, v) in enumerate(values.items()):
        colour = f"C{i}"
        ax.hist(v, bins=edges, density=True, alpha=0.45, color=colour, label=f"{name} (median {np.median(v):.2f})")
        ax.axvline(float(np.median(v)), color=colour, ls="--", lw=1)
    ax.set(xlabel="distance to the nearest training image", ylabel="density")
    ax.set_title(title or "nearest-neighbour distances")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


__all__ += ["plot_distance_histograms"]


def plot_quality_history(history: Any, title: str | None = None, reference_fid: float | None = None) -> Figure:
    """FID and classes covered against the epoch, as logged by :class:`gan_helpers.training.QualityTracker`.

    ``reference_fid`` (e.g. the shipped weights' FID at the same ``n``) is drawn as a dashed line.
    """
    epoch_at = dict(zip(history.steps("epoch").tolist(), history["epoch"].tolist(), strict=True))
    epochs = np.asarray([epoch_at.get(step, np.nan) for step in history.steps("fid").tolist()])
    fig, (ax_fid, ax_cov) = plt.subplots(1, 2, figsize=(9, 3.0))
    ax_fid.plot(epochs, history["fid"], "o-", label="this run")
    if reference_fid is not None:
        ax_fid.axhline(reference_fid, ls="--", c="gray", label=f"reference {reference_fid:.1f}")
    ax_fid.set(xlabel="epoch", ylabel="FID (lower is better)", yscale="log", title="FID")
    ax_fid.legend(fontsize="small")
    ax_cov.plot(epochs, history["classes_covered"], "o-", c="tab:green")
    ax_cov.set(xlabel="epoch", ylabel="classes covered", ylim=(0, 10.5), title="class coverage")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


__all__ += ["plot_quality_history"]
