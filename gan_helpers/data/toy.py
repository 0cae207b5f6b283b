r"""Toy distributions for the 1-D and 2-D notebooks: seeded Gaussian mixtures with known densities.

Every toy target is an isotropic Gaussian mixture

.. math:: p(x) = \sum_k w_k \, \mathcal{N}(x;\ \mu_k,\ \sigma_k^2 I),

so the notebooks can draw its exact density and the metrics know its modes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = ["TOY_2D", "GaussianMixture", "gaussian_1d", "grid_2d", "mixture_1d", "ring_2d", "toy_2d", "toy_extent"]


@dataclass(frozen=True)
class GaussianMixture:
    """An isotropic Gaussian mixture with centres ``(K, d)``, per-component ``stds`` and ``weights``."""

    centres: torch.Tensor  # (K, d)
    stds: torch.Tensor  # (K,)
    weights: torch.Tensor  # (K,), sums to 1

    def __post_init__(self) -> None:
        if self.centres.ndim != 2:
            raise ValueError(f"centres must have shape (K, d), got {tuple(self.centres.shape)}")
        k = self.centres.shape[0]
        if self.stds.shape != (k,) or self.weights.shape != (k,):
            raise ValueError(
                f"stds and weights must each have shape ({k},), "
                f"got {tuple(self.stds.shape)} and {tuple(self.weights.shape)}"
            )
        if bool((self.stds <= 0).any()):
            raise ValueError("every standard deviation must be positive")
        if bool((self.weights < 0).any()) or not math.isclose(float(self.weights.sum()), 1.0, rel_tol=1e-5):
            raise ValueError("weights must be non-negative and sum to 1")

    @property
    def dim(self) -> int:
        """Dimension d of the samples."""
        return int(self.centres.shape[1])

    @property
    def num_modes(self) -> int:
        """Number of components K."""
        return int(self.centres.shape[0])

    def mean(self) -> torch.Tensor:
        r"""Mixture mean :math:`\sum_k w_k \mu_k`, shape ``(d,)``."""
        return self.weights @ self.centres

    def covariance(self) -> torch.Tensor:
        r"""Mixture covariance :math:`\sum_k w_k(\sigma_k^2 I + \mu_k\mu_k^\top) - \mu\mu^\top`."""
        mu = self.mean()
        second = sum(
            w * (s**2 * torch.eye(self.dim) + torch.outer(c, c))
            for w, s, c in zip(self.weights, self.stds, self.centres, strict=True)
        )
        return second - torch.outer(mu, mu)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples, shape ``(n, d)``; pass a seeded ``generator`` for reproducibility."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.centres[component] + noise * self.stds[component, None]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""Log density :math:`\log \sum_k w_k \mathcal{N}(x; \mu_k, \sigma_k^2 I)` of points ``(n, d)``."""
        x = torch.as_tensor(x, dtype=self.centres.dtype)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        sq = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)  # (n, K)
        var = self.stds**2
        log_norm = -0.5 * self.dim * torch.log(2 * math.pi * var)
        return torch.logsumexp(torch.log(self.weights) + log_norm - 0.5 * sq / var, dim=1)

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Density at points ``x`` (shape ``(n, d)``, or ``(n,)`` in 1-D)."""
        return self.log_prob(x).exp()


def _mixture(
    centres: Sequence[Sequence[float]], stds: Sequence[float], weights: Sequence[float] | None
) -> GaussianMixture:
    c = torch.tensor(centres, dtype=torch.float32)
    s = torch.tensor(stds, dtype=torch.float32)
    w = torch.full((len(c),), 1.0 / len(c)) if weights is None else torch.tensor(weights, dtype=torch.float32)
    return GaussianMixture(c, s, w)


def gaussian_1d(mean: float = 4.0, std: float = 1.25) -> GaussianMixture:
    """A single 1-D Gaussian N(mean, std^2); the default is notebook 02's target N(4, 1.25^2)."""
    return _mixture([[mean]], [std], None)


def mixture_1d(
    means: Sequence[float] = (-2.0, 3.0),
    stds: Sequence[float] = (0.6, 0.6),
    weights: Sequence[float] | None = None,
) -> GaussianMixture:
    """A 1-D Gaussian mixture (equal weights unless given)."""
    if len(means) != len(stds):
        raise ValueError(f"means and stds differ in length ({len(means)} vs {len(stds)})")
    return _mixture([[m] for m in means], list(stds), weights)


def ring_2d(num_modes: int = 8, radius: float = 2.0, std: float = 0.05) -> GaussianMixture:
    r"""``num_modes`` Gaussians evenly spaced on a circle: centres :math:`r(\cos 2\pi k/K, \sin 2\pi k/K)`.

    The default is notebook 03's ring: 8 modes of :math:`\sigma = 0.05` on a circle of radius 2.
    """
    if num_modes < 1:
        raise ValueError(f"num_modes must be at least 1, got {num_modes}")
    angles = [2 * math.pi * k / num_modes for k in range(num_modes)]
    return _mixture([[radius * math.cos(a), radius * math.sin(a)] for a in angles], [std] * num_modes, None)


def grid_2d(side: int = 5, spacing: float = 1.0, std: float = 0.05) -> GaussianMixture:
    """A ``side`` x ``side`` grid of Gaussians centred on the origin; by default notebook 03's 5x5 grid in [-2, 2]^2."""
    if side < 1:
        raise ValueError(f"side must be at least 1, got {side}")
    offset = (side - 1) / 2
    coords = [(i - offset) * spacing for i in range(side)]
    return _mixture([[x, y] for x in coords for y in coords], [std] * side * side, None)


TOY_2D = {"ring": ring_2d, "grid": grid_2d}
"""Notebook 03's 2-D targets by name, each built with its defaults: both within [-2, 2]^2 with sigma 0.05."""


def toy_2d(name: str) -> GaussianMixture:
    """The 2-D target called ``name`` in :data:`TOY_2D` (``"ring"`` or ``"grid"``)."""
    if name not in TOY_2D:
        raise ValueError(f"Unknown 2-D target {name!r}; choose one of {list(TOY_2D)}.")
    return TOY_2D[name]()


def toy_extent(mixture: GaussianMixture, margin: float = 1.0) -> tuple[float, float, float, float]:
    """A square ``(x_min, x_max, y_min, y_max)`` around a 2-D mixture's centres, ``margin`` wider."""
    low = float(mixture.centres.min()) - margin
    high = float(mixture.centres.max()) + margin
    return (low, high, low, high)
