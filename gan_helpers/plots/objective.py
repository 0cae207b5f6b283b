"""Figures of notebook 01, the GAN objective.

The two densities with the optimal discriminator D*, a trained D against D*, the
gradients of the generator losses, and V(D*, G) and JSD as p_g slides past p_data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gan_helpers import losses, metrics
from gan_helpers.data.toy import GaussianMixture

__all__ = ["plot_discriminator_fit", "plot_generator_gradients", "plot_objective", "plot_value_vs_shift"]


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
