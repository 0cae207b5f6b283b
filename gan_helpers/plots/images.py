"""Image figures: grids of samples and what an image GAN's training logged.

Sample grids (and PNG files of them), loss and D-output histories, fixed-noise samples over epochs and
their animation, the live training dashboard and the gallery of training mistakes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gan_helpers.files import atomic_path
from gan_helpers.plots.animation import LabelledAnimation, _evenly_spaced_indices
from gan_helpers.plots.axes import plain_log_ticks

__all__ = [
    "animate_samples",
    "make_grid",
    "plot_mistake_gallery",
    "plot_sample_evolution",
    "plot_training_history",
    "save_image_grid",
    "show_images",
    "training_dashboard",
]


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


# --- Image GAN training: histories, sample grids over epochs, animations, galleries ----------------


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
        plain_log_ticks(axes[2])
    for ax in axes:
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _check_one_batch_per_epoch(samples: Sequence[torch.Tensor] | torch.Tensor, epochs: Sequence[int]) -> None:
    if len(samples) != len(epochs) or len(samples) == 0:
        raise ValueError(f"need one sample batch per epoch, got {len(samples)} batches and {len(epochs)} epochs")


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
) -> LabelledAnimation:
    """An animation of the fixed-noise grid over epochs (at most ``max_frames`` small frames), labelled "epoch N".

    Show it with ``gh.plots.AnimationPlayer(anim)``: a player that works offline and a poster strip of
    a few epochs for readers who do not run the notebook. The figure itself is closed.
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

    anim = LabelledAnimation(fig, draw, [f"epoch {epochs[i]}" for i in frames], interval=interval)
    plt.close(fig)
    return anim


def save_image_grid(images: torch.Tensor, path: str | os.PathLike[str], nrow: int = 8) -> Path:
    """Write a batch of images (floats in [-1, 1] or uint8) as one PNG grid, without a figure.

    The file is written atomically (:func:`gan_helpers.files.atomic_path`): an interruption leaves
    the old file or none, never an empty or truncated PNG. The folder is created if needed.
    """
    grid = make_grid(images, nrow=nrow)
    picture = grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
    path = Path(path)
    with atomic_path(path) as tmp:  # the temporary name ends in .tmp, so the format is given
        plt.imsave(tmp, picture, cmap="gray" if grid.shape[0] == 1 else None, vmin=0, vmax=1, format="png")
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
