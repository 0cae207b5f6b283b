r"""Notebook 01's helpers: which single Gaussian each divergence prefers for a data mixture, and a few optimizer
steps of D or of a one-parameter G with a given loss (for the mistakes of section 5). The library never imports it.

The four divergences of a candidate :math:`p_g = \mathcal N(\mu, \sigma^2)` from :math:`p_{data}`, all by
quadrature (:mod:`gan_helpers.metrics.toy`):

* ``reverse_kl``: :math:`\mathrm{KL}(p_g\,\|\,p_{data}) = \int p_g \log(p_g/p_{data})`, large where :math:`p_g`
  puts mass that the data lack (the dominant term of what the non-saturating loss follows at :math:`D^*`);
* ``forward_kl``: :math:`\mathrm{KL}(p_{data}\,\|\,p_g)`, large where the data have mass that :math:`p_g` lacks
  (maximum likelihood minimises it);
* ``jsd``: :math:`\mathrm{JSD}(p_{data}\,\|\,p_g)` (the minimax game at :math:`D^*`);
* ``kl_minus_2jsd``: :math:`\mathrm{KL}(p_g\,\|\,p_{data}) - 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)`, whose gradient
  the non-saturating loss follows at :math:`D^*` (:func:`gan_helpers.metrics.objective_gradients`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from gan_helpers import metrics, models
from gan_helpers.data.toy import GaussianMixture, gaussian_1d
from gan_helpers.runtime import seed_everything

__all__ = [
    "DIVERGENCES",
    "BestGaussian",
    "DMeans",
    "best_single_gaussian",
    "discriminator_steps",
    "divergences_to_gaussian",
    "generator_steps",
]

DIVERGENCES = ("reverse_kl", "forward_kl", "jsd", "kl_minus_2jsd")


def divergences_to_gaussian(
    p_data: GaussianMixture, mean_g: float, std_g: float, grid: torch.Tensor | None = None
) -> dict[str, float]:
    r"""The four divergences of :data:`DIVERGENCES` between ``p_data`` and :math:`\mathcal N(\mu_g, \sigma_g^2)`."""
    p_g = gaussian_1d(mean_g, std_g)
    grid = metrics.density_grid(p_data, p_g) if grid is None else grid
    reverse = metrics.kl_numeric(p_g, p_data, grid)
    jsd = metrics.jsd_numeric(p_data, p_g, grid)
    return {
        "reverse_kl": reverse,
        "forward_kl": metrics.kl_numeric(p_data, p_g, grid),
        "jsd": jsd,
        "kl_minus_2jsd": reverse - 2 * jsd,
    }


@dataclass(frozen=True)
class BestGaussian:
    """The candidate :math:`\\mathcal N(\\mu, \\sigma^2)` of a grid search with the smallest ``divergence``."""

    divergence: str
    mean: float
    std: float
    value: float

    def __str__(self) -> str:
        return f"{self.divergence:>13}: best N({self.mean:+.1f}, {self.std:.1f}^2), value {self.value:.4f}"


def best_single_gaussian(
    p_data: GaussianMixture, means: Sequence[float], stds: Sequence[float]
) -> dict[str, BestGaussian]:
    r"""For each divergence of :data:`DIVERGENCES`, the single Gaussian on the grid ``means`` x ``stds`` minimising it.

    Every candidate is integrated by the trapezoid rule on one grid covering the data and the widest candidates
    at both ends (4001 points, float64), all candidates at once; :func:`divergences_to_gaussian` computes the same
    numbers one candidate at a time (a test compares them). Ties go to the first candidate in (mean, std) order.
    """
    if not means or not stds or min(stds) <= 0:
        raise ValueError("give at least one mean and one positive standard deviation")
    widest = max(stds)
    grid = metrics.density_grid(p_data, gaussian_1d(min(means), widest), gaussian_1d(max(means), widest))  # (n,)
    mu = torch.tensor(means, dtype=torch.float64).repeat_interleave(len(stds))[:, None]  # (C, 1)
    sigma = torch.tensor(stds, dtype=torch.float64).repeat(len(means))[:, None]  # (C, 1)
    log_g = -0.5 * ((grid - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)  # (C, n)
    log_d = GaussianMixture(p_data.centres.double(), p_data.stds.double(), p_data.weights.double()).log_prob(grid)
    log_m = torch.logaddexp(log_g, log_d) - math.log(2.0)  # (C, n)
    reverse = torch.trapezoid(log_g.exp() * (log_g - log_d), grid, dim=1)  # (C,)
    jsd = torch.trapezoid(0.5 * log_d.exp() * (log_d - log_m) + 0.5 * log_g.exp() * (log_g - log_m), grid, dim=1)
    values = {
        "reverse_kl": reverse,
        "forward_kl": torch.trapezoid(log_d.exp() * (log_d - log_g), grid, dim=1),
        "jsd": jsd,
        "kl_minus_2jsd": reverse - 2 * jsd,
    }
    best = {}
    for name, value in values.items():
        i = int(torch.argmin(value))
        best[name] = BestGaussian(name, float(mu[i, 0]), float(sigma[i, 0]), float(value[i]))
    return best


@dataclass(frozen=True)
class DMeans:
    """Mean :math:`D(x)` on a real batch and mean :math:`D(G(z))` on a fake batch."""

    d_real: float
    d_fake: float

    def __str__(self) -> str:
        return f"mean D(x_real) = {self.d_real:.4f}, mean D(G(z)) = {self.d_fake:.4f}"


def _d_means(D: torch.nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> DMeans:
    with torch.no_grad():
        return DMeans(torch.sigmoid(D(x_real)).mean().item(), torch.sigmoid(D(x_fake)).mean().item())


def discriminator_steps(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    steps: int = 20,
    lr: float = 1e-2,
    seed: int = 0,
) -> tuple[DMeans, DMeans]:
    r"""Train a fresh ``MLPDiscriminator(1, (16,))`` for ``steps`` Adam steps on ``loss_fn(logits_real, logits_fake)``.

    ``x_real`` and ``x_fake`` are fixed batches of shape ``(B, 1)``. The right loss, :func:`gan_helpers.losses.d_loss`
    :math:`= -\hat V`, raises :math:`D(x_{real})` and lowers :math:`D(G(z))`; a loss of the wrong sign does the
    opposite. Returns the mean D outputs before and after. Seeded by ``seed`` (the same initial D for every loss).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    seed_everything(seed)
    D = models.MLPDiscriminator(data_dim=1, hidden=(16,))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr)
    before = _d_means(D, x_real, x_fake)
    for _ in range(steps):
        loss_D = loss_fn(D(x_real), D(x_fake))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
    return before, _d_means(D, x_real, x_fake)


def generator_steps(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    logit_fn: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    theta0: float = 0.5,
    scale: float = 0.5,
    steps: int = 20,
    lr: float = 0.01,
) -> tuple[float, float, float]:
    r"""Gradient descent on ``loss_fn(logits_fake)`` for the generator :math:`G(z) = \theta + s z` against a frozen D.

    ``logit_fn`` maps fakes ``(n,)`` to D's logits, differentiably in its input; ``z`` is a fixed float64 noise
    ``(n,)`` and :math:`s` = ``scale``. Returns (mean :math:`D(G(z))` before, mean :math:`D(G(z))` after,
    :math:`\theta` after).
    """
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        before = torch.sigmoid(logit_fn(theta + scale * z)).mean().item()
    for _ in range(steps):
        (grad,) = torch.autograd.grad(loss_fn(logit_fn(theta + scale * z)), theta)
        with torch.no_grad():
            theta -= lr * grad
    with torch.no_grad():
        after = torch.sigmoid(logit_fn(theta + scale * z)).mean().item()
    return before, after, theta.item()
