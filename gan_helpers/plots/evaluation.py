"""Evaluation figures: how good and how varied a generator's samples are.

The classifier's training, class coverage, what an FID means (corrupted real digits), FID against the
sample size and over training, and
nearest neighbours in the training set with their distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from gan_helpers import metrics
from gan_helpers.plots.axes import plain_log_ticks
from gan_helpers.plots.images import _steps_and_values, make_grid

__all__ = [
    "plot_class_coverage",
    "plot_classifier_history",
    "plot_distance_histograms",
    "plot_fid_calibration",
    "plot_fid_curves",
    "plot_grouped_curves",
    "plot_nearest_neighbours",
    "plot_quality_history",
]


def plot_classifier_history(history: Any, title: str | None = None) -> Figure:
    """Loss and accuracy of :func:`gan_helpers.classifier.train_classifier` against the epoch."""
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
    plain_log_ticks(ax, "both")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_grouped_curves(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    log_y: bool = False,
    ylim: tuple[float, float] | None = None,
    legend_loc: str = "best",
) -> Figure:
    """Curves ``(group, xs, ys)``, one colour per group and one line per curve (a seed, say), the legend
    naming each group once, in the order the groups first appear."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colours: dict[str, str] = {}
    for group, xs, ys in curves:
        first = group not in colours
        colour = colours.setdefault(group, f"C{len(colours)}")
        ax.plot(xs, ys, color=colour, lw=1.3, alpha=0.85, label=group if first else None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log_y:
        ax.set_yscale("log")
        plain_log_ticks(ax)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8, loc=legend_loc)
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


def plot_quality_history(history: Any, title: str | None = None, reference_fid: float | None = None) -> Figure:
    """FID and classes covered against the epoch, as logged by :class:`gan_helpers.training.QualityCallback`.

    ``reference_fid`` (e.g. the shipped weights' FID at the same ``n``) is drawn as a dashed line.
    """
    epoch_at = dict(zip(history.steps("epoch").tolist(), history["epoch"].tolist(), strict=True))
    epochs = np.asarray([epoch_at.get(step, np.nan) for step in history.steps("fid").tolist()])
    fig, (ax_fid, ax_cov) = plt.subplots(1, 2, figsize=(9, 3.0))
    ax_fid.plot(epochs, history["fid"], "o-", label="this run")
    if reference_fid is not None:
        ax_fid.axhline(reference_fid, ls="--", c="gray", label=f"reference {reference_fid:.1f}")
    ax_fid.set(xlabel="epoch", ylabel="FID (lower is better)", yscale="log", title="FID")
    plain_log_ticks(ax_fid)
    ax_fid.legend(fontsize="small")
    ax_cov.plot(epochs, history["classes_covered"], "o-", c="tab:green")
    ax_cov.set(xlabel="epoch", ylabel="classes covered", ylim=(0, 10.5), title="class coverage")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_fid_calibration(
    calibration: metrics.FIDCalibration, digits: torch.Tensor, marks: dict[str, float] | None = None
) -> Figure:
    """What an FID means: FID of real digits under Gaussian noise and box blur (left, log scale), and eight
    of the ``digits`` under each corruption with its FID (right). ``marks`` adds horizontal lines, e.g. the
    FIDs of trained generators, so that each can be read against the corruptions."""
    x = metrics.as_unit_images(digits[:8])
    rows = [("real", x, calibration.floor)]
    rows += [(f"noise σ = {s:g}", metrics.gaussian_noise(x, s, seed=0), v) for s, v in calibration.noise.items()]
    rows += [(f"blur {k}x{k}", metrics.box_blur(x, k), v) for k, v in calibration.blur.items()]
    fig = plt.figure(figsize=(11, 0.75 * len(rows) + 0.8))
    grid = fig.add_gridspec(len(rows), 2, width_ratios=(1.0, 1.3))
    ax = fig.add_subplot(grid[:, 0])
    sigmas = [0.0, *calibration.noise]
    ax.plot(sigmas, [calibration.floor, *calibration.noise.values()], "o-", color="tab:blue", label="Gaussian noise")
    for k, v in calibration.blur.items():
        ax.axhline(v, color="tab:orange", lw=1, ls="--")
        ax.annotate(f"blur {k}x{k}", (sigmas[-1], v), ha="right", va="bottom", fontsize=8, color="tab:orange")
    for name, v in (marks or {}).items():
        ax.axhline(v, color="tab:red", lw=1.2)
        ax.annotate(name, (0.0, v), ha="left", va="bottom", fontsize=8, color="tab:red")
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xlabel("noise σ (pixels in [-1, 1])")
    ax.set_ylabel(f"FID against other real digits (n = {calibration.n:,})")
    ax.set_title("FID of corrupted real digits")
    ax.legend(loc="upper left", fontsize=8)
    for i, (name, images, value) in enumerate(rows):
        strip = fig.add_subplot(grid[i, 1])
        strip.imshow(make_grid(images, nrow=len(images))[0].numpy(), cmap="gray", vmin=0, vmax=1)
        strip.set_axis_off()
        strip.set_title(f"{name}: FID {value:.1f}", fontsize=8, loc="left")
    fig.tight_layout()
    return fig
