"""Metrics: distances between generated and target samples, mode coverage, and (later) image-quality scores."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gan_helpers.data.toy import GaussianMixture

__all__: list[str] = [
    "ModeCoverage",
    "assign_to_modes",
    "density_grid",
    "gaussian_kde_1d",
    "high_quality_fraction",
    "integrate",
    "jsd_monte_carlo",
    "jsd_numeric",
    "kl_gaussians",
    "kl_numeric",
    "ks_statistic",
    "mass_near_modes",
    "mode_coverage",
    "modes_covered",
    "optimal_discriminator",
    "optimal_discriminator_logit",
    "samples_per_mode",
    "value_function_numeric",
    "wasserstein_1d",
]


def _as_samples_1d(x: np.ndarray | torch.Tensor | Sequence[float], name: str = "x") -> np.ndarray:
    """A 1-D float64 NumPy array from a tensor, array or list of shape ``(n,)`` or ``(n, 1)``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must hold 1-D samples, shape (n,) or (n, 1); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: pass at least one sample")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; check the generator's output")
    return arr


def _empirical_cdfs_1d(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merged sorted points :math:`t_j` and both empirical CDFs :math:`F_x(t_j)`, :math:`F_y(t_j)` there."""
    x, y = np.sort(x), np.sort(y)
    t = np.sort(np.concatenate([x, y]))
    cdf_x = np.searchsorted(x, t, side="right") / x.size
    cdf_y = np.searchsorted(y, t, side="right") / y.size
    return t, cdf_x, cdf_y


def wasserstein_1d(
    x: np.ndarray | torch.Tensor | Sequence[float], y: np.ndarray | torch.Tensor | Sequence[float]
) -> float:
    r"""1-Wasserstein (earth mover's) distance between the empirical distributions of two 1-D samples.

    In one dimension the optimal transport sends quantile to quantile:

    .. math:: W_1(P, Q) = \int_0^1 \lvert F_P^{-1}(u) - F_Q^{-1}(u)\rvert\,du
              = \int_{-\infty}^{\infty} \lvert F_P(t) - F_Q(t)\rvert\,dt .

    For samples of equal size :math:`n` this is :math:`\frac1n\sum_i \lvert x_{(i)} - y_{(i)}\rvert`
    (sorted samples paired in order). For any sizes the empirical CDFs are step functions, so the
    second integral is the finite sum :math:`\sum_j \lvert F_x(t_j) - F_y(t_j)\rvert\,(t_{j+1} - t_j)`
    over the merged sorted sample :math:`t_1 \le \dots \le t_{n+m}`. Accepts tensors or arrays of
    shape ``(n,)`` or ``(n, 1)``; returns a float in the samples' units.
    """
    x = _as_samples_1d(x, "x")
    y = _as_samples_1d(y, "y")
    if x.size == y.size:
        return float(np.abs(np.sort(x) - np.sort(y)).mean())
    t, cdf_x, cdf_y = _empirical_cdfs_1d(x, y)
    return float(np.sum(np.abs(cdf_x - cdf_y)[:-1] * np.diff(t)))


def ks_statistic(
    x: np.ndarray | torch.Tensor | Sequence[float], y: np.ndarray | torch.Tensor | Sequence[float]
) -> float:
    r"""Two-sample Kolmogorov-Smirnov statistic :math:`\sup_t \lvert F_x(t) - F_y(t)\rvert` of 1-D samples.

    Both empirical CDFs are right-continuous steps that jump only at sample points, so the
    supremum is the maximum over the merged sample. It lies in :math:`[0, 1]`: 0 for identical
    samples, 1 when every point of one sample lies below every point of the other. Unlike
    :func:`wasserstein_1d` it ignores *how far* mass is misplaced, only *how much*.
    """
    _, cdf_x, cdf_y = _empirical_cdfs_1d(_as_samples_1d(x, "x"), _as_samples_1d(y, "y"))
    return float(np.max(np.abs(cdf_x - cdf_y)))


def gaussian_kde_1d(
    samples: np.ndarray | torch.Tensor | Sequence[float],
    grid: np.ndarray | torch.Tensor | Sequence[float],
    bandwidth: float | None = None,
) -> np.ndarray:
    r"""Gaussian kernel density estimate of 1-D ``samples``, evaluated at the points of ``grid``.

    .. math:: \hat p(t) = \frac{1}{n h}\sum_{i=1}^n \varphi\!\left(\frac{t - x_i}{h}\right),
              \qquad \varphi(u) = \frac{e^{-u^2/2}}{\sqrt{2\pi}},

    with Scott's bandwidth :math:`h = \hat\sigma\, n^{-1/5}` (:math:`\hat\sigma` the sample standard
    deviation with :math:`n - 1`) unless ``bandwidth`` is given. A sample with no spread (all
    points equal) gets :math:`h = 10^{-3}` so the estimate stays finite.
    """
    x = _as_samples_1d(samples, "samples")
    t = _as_samples_1d(grid, "grid")
    if bandwidth is None:
        spread = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
        bandwidth = spread * x.size ** (-0.2) if spread > 0 else 1e-3
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth}")
    u = (t[:, None] - x[None, :]) / bandwidth  # (grid, n)
    return np.exp(-0.5 * u**2).sum(axis=1) / (x.size * bandwidth * math.sqrt(2 * math.pi))


def mass_near_modes(
    samples: np.ndarray | torch.Tensor, centres: np.ndarray | torch.Tensor, radius: float
) -> np.ndarray:
    r"""Fraction of ``samples`` within ``radius`` of each centre.

    .. math:: m_k = \frac1n \#\{i : \lVert x_i - \mu_k\rVert \le r\}

    ``samples`` has shape ``(n, d)`` (or ``(n,)`` in 1-D) and ``centres`` ``(K, d)``; returns shape
    ``(K,)``. A mode whose fraction is near 0 was dropped; ``1 - m.sum()`` is the mass that
    lies near no mode (when the balls do not overlap).
    """
    x = samples.detach().cpu().double().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples, float)
    c = centres.detach().cpu().double().numpy() if isinstance(centres, torch.Tensor) else np.asarray(centres, float)
    x = x[:, None] if x.ndim == 1 else x
    c = c[:, None] if c.ndim == 1 else c
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples (n, d) and centres (K, d) must agree in d; got {x.shape} and {c.shape}")
    if len(x) == 0:
        raise ValueError("samples is empty: pass at least one sample")
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    distances = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=-1)  # (n, K)
    return (distances <= radius).mean(axis=0)


# --- The GAN objective for known 1-D densities (notebook 01) --------------------------------------------
# V(D, G), D* and the Jensen-Shannon divergence of two toy densities, by quadrature on a grid
# and by Monte Carlo. Everything is computed in float64 so the identities hold to ~1e-12.


def _mixture_float64(p: GaussianMixture) -> GaussianMixture:
    """The same mixture with float64 parameters (quadrature in float32 loses the small terms)."""
    return GaussianMixture(p.centres.double(), p.stds.double(), p.weights.double())


def _check_1d(**mixtures: GaussianMixture) -> None:
    for name, p in mixtures.items():
        if not isinstance(p, GaussianMixture):
            raise TypeError(f"{name} must be a gh.data.GaussianMixture (e.g. gh.data.gaussian_1d(0, 1)), got {type(p)}")
        if p.dim != 1:
            raise ValueError(f"{name} is {p.dim}-D; these quadrature metrics work on 1-D densities only")


def density_grid(*mixtures: GaussianMixture, num_points: int = 4001, num_stds: float = 10.0) -> torch.Tensor:
    r"""An evenly spaced float64 grid covering every 1-D mixture given, shape ``(num_points,)``.

    It spans :math:`[\min_k(\mu_k - c\,\sigma_k),\ \max_k(\mu_k + c\,\sigma_k)]` over all components
    with :math:`c` = ``num_stds``; beyond 10 standard deviations a Gaussian's mass is below
    :math:`10^{-22}`, so integrals over the grid equal integrals over the real line.
    """
    if not mixtures:
        raise ValueError("pass at least one GaussianMixture to cover")
    _check_1d(**{f"mixtures[{i}]": p for i, p in enumerate(mixtures)})
    if num_points < 3:
        raise ValueError(f"num_points must be at least 3, got {num_points}")
    lo = min(float((p.centres[:, 0] - num_stds * p.stds).min()) for p in mixtures)
    hi = max(float((p.centres[:, 0] + num_stds * p.stds).max()) for p in mixtures)
    return torch.linspace(lo, hi, num_points, dtype=torch.float64)


def integrate(values: torch.Tensor, grid: torch.Tensor) -> float:
    r"""Trapezoidal rule :math:`\int f\,dx \approx \sum_i \tfrac12 (f_i + f_{i+1})(x_{i+1} - x_i)`."""
    if values.shape != grid.shape or grid.ndim != 1:
        raise ValueError(
            f"values and grid must be 1-D of the same shape, got {tuple(values.shape)} and {tuple(grid.shape)}"
        )
    return float(torch.trapezoid(values.double(), grid.double()))


def optimal_discriminator_logit(p_data: GaussianMixture, p_g: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    r"""Logit of the optimal discriminator, :math:`\ell^*(x) = \log p_{data}(x) - \log p_g(x)` (float64).

    Because :math:`D^* = \sigma(\ell^*)` (see :func:`optimal_discriminator`), this is the logit a
    perfectly trained D would output.
    """
    _check_1d(p_data=p_data, p_g=p_g)
    x = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
    return _mixture_float64(p_data).log_prob(x) - _mixture_float64(p_g).log_prob(x)


def optimal_discriminator(p_data: GaussianMixture, p_g: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    r"""The optimal discriminator :math:`D^*(x) = \dfrac{p_{data}(x)}{p_{data}(x) + p_g(x)}` at points ``x`` (float64).

    Computed as :math:`\sigma(\log p_{data}(x) - \log p_g(x))`, which is the same number but never
    divides 0 by 0 in the tails. It is 1/2 wherever the two densities are equal.
    """
    return torch.sigmoid(optimal_discriminator_logit(p_data, p_g, x))


def value_function_numeric(
    p_data: GaussianMixture,
    p_g: GaussianMixture,
    logit_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    grid: torch.Tensor | None = None,
) -> float:
    r"""The value :math:`V(D, G) = \int p_{data}(x)\log D(x) + p_g(x)\log(1 - D(x))\,dx` by quadrature.

    D is given by its logit function ``logit_fn`` (float64 points ``(n,)`` to logits ``(n,)``, e.g.
    a trained ``MLPDiscriminator`` wrapped to take ``(n, 1)``); ``None`` means the optimal
    discriminator, giving :math:`V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)`.
    The logarithms are taken as :math:`-\operatorname{softplus}(\mp\ell)`, finite for any logit.
    """
    _check_1d(p_data=p_data, p_g=p_g)
    grid = density_grid(p_data, p_g) if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    if logit_fn is None:
        logits = optimal_discriminator_logit(p_data, p_g, grid)
    else:
        logits = torch.as_tensor(logit_fn(grid), dtype=torch.float64).reshape(-1)
    log_d = -torch.nn.functional.softplus(-logits)
    log_one_minus_d = -torch.nn.functional.softplus(logits)
    density_data = _mixture_float64(p_data).pdf(grid)
    density_g = _mixture_float64(p_g).pdf(grid)
    return integrate(density_data * log_d + density_g * log_one_minus_d, grid)


def kl_numeric(p: GaussianMixture, q: GaussianMixture, grid: torch.Tensor | None = None) -> float:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p\,\|\,q) = \int p(x)\log\frac{p(x)}{q(x)}\,dx` by quadrature."""
    _check_1d(p=p, q=q)
    grid = density_grid(p, q) if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    log_p = _mixture_float64(p).log_prob(grid)
    log_q = _mixture_float64(q).log_prob(grid)
    return integrate(log_p.exp() * (log_p - log_q), grid)


def kl_gaussians(mean_p: float, std_p: float, mean_q: float, std_q: float) -> float:
    r"""Closed form :math:`\mathrm{KL}(\mathcal N(\mu_p,\sigma_p^2)\,\|\,\mathcal N(\mu_q,\sigma_q^2))
    = \log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{2\sigma_q^2} - \frac12`."""
    if not (std_p > 0 and std_q > 0):
        raise ValueError(f"standard deviations must be positive, got {std_p} and {std_q}")
    return math.log(std_q / std_p) + (std_p**2 + (mean_p - mean_q) ** 2) / (2 * std_q**2) - 0.5


def _log_mixture_midpoint(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """:math:`\\log m` with :math:`m = (p + q)/2`, from the two log densities."""
    return torch.logaddexp(log_p, log_q) - math.log(2.0)


def jsd_numeric(p: GaussianMixture, q: GaussianMixture, grid: torch.Tensor | None = None) -> float:
    r"""Jensen-Shannon divergence by quadrature of its definition (natural log, so in nats).

    .. math:: \mathrm{JSD}(p\,\|\,q) = \tfrac12\mathrm{KL}(p\,\|\,m) + \tfrac12\mathrm{KL}(q\,\|\,m),
              \qquad m = \tfrac12(p + q).

    Symmetric, :math:`0 \le \mathrm{JSD} \le \log 2`, 0 exactly when :math:`p = q` and
    :math:`\log 2` when the supports do not overlap. Unlike KL there is no closed form even for
    two Gaussians, hence quadrature (or :func:`jsd_monte_carlo`).
    """
    _check_1d(p=p, q=q)
    grid = density_grid(p, q) if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    log_p = _mixture_float64(p).log_prob(grid)
    log_q = _mixture_float64(q).log_prob(grid)
    log_m = _log_mixture_midpoint(log_p, log_q)
    integrand = 0.5 * log_p.exp() * (log_p - log_m) + 0.5 * log_q.exp() * (log_q - log_m)
    return integrate(integrand, grid)


def jsd_monte_carlo(
    p: GaussianMixture, q: GaussianMixture, num_samples: int = 100_000, generator: torch.Generator | None = None
) -> tuple[float, float]:
    r"""Monte Carlo estimate of :math:`\mathrm{JSD}(p\,\|\,q)` and its standard error.

    .. math:: \widehat{\mathrm{JSD}} = \frac{1}{2n}\sum_{i=1}^n \log\frac{p(x_i)}{m(x_i)}
              + \frac{1}{2n}\sum_{i=1}^n \log\frac{q(y_i)}{m(y_i)},
              \qquad x_i \sim p,\ y_i \sim q,

    with standard error :math:`\tfrac12\sqrt{(s_x^2 + s_y^2)/n}` from the two sample variances.
    The estimate is unbiased; with a seeded ``generator`` it is reproducible.
    """
    _check_1d(p=p, q=q)
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2, got {num_samples}")
    p64, q64 = _mixture_float64(p), _mixture_float64(q)
    terms = []
    for source in (p64, q64):
        x = source.sample(num_samples, generator=generator)
        log_p, log_q = p64.log_prob(x), q64.log_prob(x)
        terms.append(source.log_prob(x) - _log_mixture_midpoint(log_p, log_q))
    estimate = 0.5 * (terms[0].mean() + terms[1].mean())
    std_error = 0.5 * torch.sqrt((terms[0].var() + terms[1].var()) / num_samples)
    return float(estimate), float(std_error)


@dataclass(frozen=True)
class ModeCoverage:
    """Mode coverage of a sample from a Gaussian mixture (see :func:`mode_coverage`)."""

    covered: int  # modes holding at least ``min_count`` high-quality samples
    num_modes: int  # K
    high_quality: float  # share of samples within ``num_sigmas`` standard deviations of a centre
    counts: torch.Tensor  # (K,) high-quality samples per mode

    def __str__(self) -> str:
        return f"{self.covered}/{self.num_modes} modes covered, {self.high_quality:.1%} high-quality samples"


def _points_2d(x: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    """A float64 CPU tensor of shape ``(n, d)`` from a tensor or array (``(n,)`` is read as 1-D points)."""
    t = torch.as_tensor(x).detach().cpu().double()
    t = t[:, None] if t.ndim == 1 else t
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values; check the generator's output")
    return t


def assign_to_modes(
    samples: np.ndarray | torch.Tensor,
    centres: np.ndarray | torch.Tensor,
    stds: float | np.ndarray | torch.Tensor,
    num_sigmas: float = 3.0,
) -> torch.Tensor:
    r"""Index of the mode each sample belongs to, or -1 for a low-quality sample.

    With centres :math:`\mu_k` and standard deviations :math:`\sigma_k`, sample :math:`x` goes to
    :math:`k^* = \arg\min_k \lVert x - \mu_k\rVert / \sigma_k` when
    :math:`\lVert x - \mu_{k^*}\rVert \le c\,\sigma_{k^*}` (:math:`c` = ``num_sigmas``, 3 as in the
    unrolled-GAN and VEEGAN papers), and to -1 otherwise. ``samples`` ``(n, d)``, ``centres``
    ``(K, d)``, ``stds`` a number or ``(K,)``; returns a long tensor of shape ``(n,)``.
    """
    x = _points_2d(samples, "samples")
    c = _points_2d(centres, "centres")
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]} but centres have {c.shape[1]}")
    s = torch.as_tensor(stds, dtype=torch.float64).flatten().expand(c.shape[0])
    if not bool((s > 0).all()) or not num_sigmas > 0:
        raise ValueError("stds and num_sigmas must be positive")
    scaled = torch.cdist(x, c) / s  # (n, K): distance to each centre in units of its sigma
    best, index = scaled.min(dim=1)
    return torch.where(best <= num_sigmas, index, torch.full_like(index, -1))


def samples_per_mode(
    samples: np.ndarray | torch.Tensor,
    centres: np.ndarray | torch.Tensor,
    stds: float | np.ndarray | torch.Tensor,
    num_sigmas: float = 3.0,
) -> torch.Tensor:
    r"""Histogram of high-quality samples per mode, shape ``(K,)``: :math:`n_k = \#\{i : k^*(x_i) = k\}`.

    Its sum is the number of high-quality samples (see :func:`assign_to_modes`).
    """
    modes = assign_to_modes(samples, centres, stds, num_sigmas)
    num_modes = torch.as_tensor(centres).shape[0]
    return torch.bincount(modes[modes >= 0], minlength=num_modes)


def modes_covered(
    samples: np.ndarray | torch.Tensor,
    centres: np.ndarray | torch.Tensor,
    stds: float | np.ndarray | torch.Tensor,
    min_count: int = 1,
    num_sigmas: float = 3.0,
) -> int:
    r"""Number of modes :math:`k` with at least ``min_count`` samples within ``num_sigmas`` :math:`\sigma_k`.

    :math:`\#\{k : n_k \ge m\}` with :math:`n_k` from :func:`samples_per_mode`; ``min_count`` = 1 is
    VEEGAN's "at least one high-quality sample", a larger :math:`m` ignores stray points.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    return int((samples_per_mode(samples, centres, stds, num_sigmas) >= min_count).sum())


def high_quality_fraction(
    samples: np.ndarray | torch.Tensor,
    centres: np.ndarray | torch.Tensor,
    stds: float | np.ndarray | torch.Tensor,
    num_sigmas: float = 3.0,
) -> float:
    r"""Share of samples within ``num_sigmas`` standard deviations of some centre: :math:`\frac1n\sum_k n_k`.

    For exact samples of an isotropic 2-D Gaussian the share within :math:`c\sigma` is
    :math:`1 - e^{-c^2/2}` (0.9889 for :math:`c = 3`): the squared distance over :math:`\sigma^2`
    is :math:`\chi^2_2`.
    """
    modes = assign_to_modes(samples, centres, stds, num_sigmas)
    return float((modes >= 0).double().mean())


def mode_coverage(
    samples: np.ndarray | torch.Tensor, mixture: GaussianMixture, min_count: int = 1, num_sigmas: float = 3.0
) -> ModeCoverage:
    """Modes covered, high-quality share and per-mode histogram of ``samples`` against a toy ``mixture``."""
    counts = samples_per_mode(samples, mixture.centres, mixture.stds, num_sigmas)
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    n = _points_2d(samples, "samples").shape[0]
    if n == 0:
        raise ValueError("samples is empty: pass at least one sample")
    return ModeCoverage(
        covered=int((counts >= min_count).sum()),
        num_modes=mixture.num_modes,
        high_quality=float(counts.sum()) / n,
        counts=counts,
    )


# --- Image-quality metrics in a classifier's feature space (FID, precision/recall, coverage) ---


def as_unit_images(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    r"""Images as float ``(N, 1, H, W)`` in :math:`[-1, 1]`, the classifier's input.

    uint8 pixels :math:`p` become :math:`p/127.5 - 1`; float images must already be in [-1, 1].
    ``(N, H, W)`` gains a channel axis and flat ``(N, 784)`` vectors become ``(N, 1, 28, 28)``.
    """
    x = torch.as_tensor(images)
    if x.ndim == 2 and x.shape[1] == 28 * 28:
        x = x.reshape(-1, 28, 28)
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected images of shape (N, H, W), (N, 1, H, W) or (N, 784), got {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    if not x.is_floating_point():
        raise TypeError(f"expected uint8 pixels or float images in [-1, 1], got {x.dtype}")
    if x.numel() and (x.min() < -1.001 or x.max() > 1.001):
        raise ValueError(
            f"float images must lie in [-1, 1] (as G produces them), got values in [{x.min():.3g}, {x.max():.3g}]; "
            "pixels in [0, 255] should be uint8, and images in [0, 1] map to [-1, 1] by 2 * x - 1"
        )
    return x.float()


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then restore its previous mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _model_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


@torch.no_grad()
def classifier_outputs(
    classifier: nn.Module,
    images: torch.Tensor | np.ndarray,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(N, d)`` and logits ``(N, classes)`` of ``images`` in one pass, on the CPU.

    ``classifier`` needs ``features(x)`` and ``head(features)`` (as :class:`gan_helpers.models.MNISTClassifier`).
    It runs in eval mode under ``torch.no_grad()``, in batches; its mode is restored after.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not (hasattr(classifier, "features") and hasattr(classifier, "head")):
        raise TypeError("classifier must have features(x) and head(f) methods, as gh.models.MNISTClassifier")
    images = torch.as_tensor(images)
    device = _model_device(classifier, device)
    features, logits = [], []
    with _eval_mode(classifier):
        for start in range(0, len(images), batch_size):
            x = as_unit_images(images[start : start + batch_size]).to(device)  # (b, 1, 28, 28)
            f = classifier.features(x)  # (b, d)
            features.append(f.float().cpu())
            logits.append(classifier.head(f).float().cpu())
    if not features:
        raise ValueError("no images given")
    return torch.cat(features), torch.cat(logits)


def extract_features(
    classifier: nn.Module,
    images: torch.Tensor | np.ndarray,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The classifier's penultimate-layer features of ``images``, shape ``(N, d)``, float32 on the CPU."""
    return classifier_outputs(classifier, images, batch_size, device)[0]


def classify(
    classifier: nn.Module,
    images: torch.Tensor | np.ndarray,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Predicted labels (argmax of the logits), shape ``(N,)``, int64."""
    return classifier_outputs(classifier, images, batch_size, device)[1].argmax(dim=1)


def classifier_accuracy(
    classifier: nn.Module,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> float:
    """Share of ``images`` whose predicted label equals ``labels``."""
    labels = torch.as_tensor(labels).long().cpu()
    if labels.shape != (len(images),):
        raise ValueError(f"need one label per image: {len(images)} images, labels of shape {tuple(labels.shape)}")
    return float((classify(classifier, images, batch_size, device) == labels).double().mean())


def _float64(x: torch.Tensor | np.ndarray, name: str, ndim: int) -> np.ndarray:
    array = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


@dataclass(frozen=True)
class FeatureStatistics:
    r"""Mean :math:`\mu` ``(d,)`` and covariance :math:`\Sigma` ``(d, d)`` of ``n`` feature vectors (float64)."""

    mean: np.ndarray
    cov: np.ndarray
    n: int


def feature_statistics(features: torch.Tensor | np.ndarray) -> FeatureStatistics:
    r"""The Gaussian fitted to features :math:`f_1, \dots, f_n`: :math:`\mu = \frac1n \sum_i f_i` and
    :math:`\Sigma = \frac{1}{n-1} \sum_i (f_i - \mu)(f_i - \mu)^{\top}`, computed in float64."""
    f = _float64(features, "features", 2)
    if len(f) < 2:
        raise ValueError(f"a covariance needs at least 2 feature vectors, got {len(f)}")
    mean = f.mean(axis=0)
    centred = f - mean
    cov = centred.T @ centred / (len(f) - 1)
    return FeatureStatistics(mean, cov, len(f))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix by eigendecomposition (tiny negative eigenvalues -> 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(
    mu1: torch.Tensor | np.ndarray,
    sigma1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    sigma2: torch.Tensor | np.ndarray,
) -> float:
    r"""Squared Fréchet (2-Wasserstein) distance between Gaussians :math:`\mathcal N(\mu_1, \Sigma_1)`
    and :math:`\mathcal N(\mu_2, \Sigma_2)`:

    .. math:: d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{Tr}\Big(\Sigma_1 + \Sigma_2
              - 2 \big(\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2}\big)^{1/2}\Big).

    The trace of the square root is :math:`\sum_j \sqrt{\lambda_j}` over the eigenvalues of the
    symmetric PSD matrix :math:`\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2}` (float64, eigenvalues below 0
    from round-off clipped to 0), which stays real and stable where a general matrix square root of
    :math:`\Sigma_1 \Sigma_2` can turn complex. For diagonal covariances
    :math:`d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \sum_i (\sqrt{a_i} - \sqrt{b_i})^2`. Round-off
    below 0 is returned as 0.
    """
    m1, m2 = _float64(mu1, "mu1", 1), _float64(mu2, "mu2", 1)
    s1, s2 = _float64(sigma1, "sigma1", 2), _float64(sigma2, "sigma2", 2)
    d = len(m1)
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"shapes do not match: mu1 {m1.shape}, sigma1 {s1.shape}, mu2 {m2.shape}, sigma2 {s2.shape}; "
            "expected (d,), (d, d), (d,), (d, d)"
        )
    root1 = _psd_sqrt(s1)
    middle = root1 @ s2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    value = float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def fid(real_features: torch.Tensor | np.ndarray, fake_features: torch.Tensor | np.ndarray) -> float:
    r"""Fréchet distance (FID, Heusel et al. 2017) between Gaussians fitted to real and generated features.

    :math:`\operatorname{FID} = d^2(\mathcal N(\mu_r, \Sigma_r), \mathcal N(\mu_g, \Sigma_g))`, see
    :func:`frechet_distance`; the statistics come from :func:`feature_statistics`. Lower is better;
    the value depends on the feature extractor and on the number of samples (see
    :func:`fid_versus_sample_size`), so compare FIDs only at the same ``n`` with the same classifier.
    """
    real, fake = feature_statistics(real_features), feature_statistics(fake_features)
    if real.mean.shape != fake.mean.shape:
        raise ValueError(f"real and fake features differ in dimension: {real.mean.shape[0]} vs {fake.mean.shape[0]}")
    return frechet_distance(real.mean, real.cov, fake.mean, fake.cov)


@dataclass(frozen=True)
class FIDCurve:
    """FID at several sample sizes: ``mean`` and ``std`` over ``repeats`` random draws per size."""

    sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    repeats: int


def fid_versus_sample_size(
    real_features: torch.Tensor | np.ndarray,
    fake_features: torch.Tensor | np.ndarray,
    sizes: Sequence[int],
    repeats: int = 3,
    seed: int = 0,
) -> FIDCurve:
    r"""FID of ``n`` real against ``n`` generated features (drawn without replacement) for each ``n`` in ``sizes``.

    The estimate is biased upwards, more so for small ``n``: for two samples of ``n`` points from the
    *same* standard normal in :math:`d` dimensions, to first order in :math:`1/n`,
    :math:`\mathbb E[\operatorname{FID}] \approx \big(2d + d(d+1)/2\big)/n` (the mean term contributes
    :math:`2d/n`, the covariance term :math:`\tfrac14 \mathbb E\lVert \hat\Sigma_1 - \hat\Sigma_2\rVert_F^2`).
    So FIDs are comparable only at equal ``n``.
    """
    real = _float64(real_features, "real_features", 2)
    fake = _float64(fake_features, "fake_features", 2)
    sizes_array = np.asarray(sorted(int(s) for s in sizes))
    if len(sizes_array) == 0 or sizes_array[0] < 2 or sizes_array[-1] > min(len(real), len(fake)):
        raise ValueError(
            f"sizes must lie between 2 and the smaller set's size {min(len(real), len(fake))}, got {list(sizes)}"
        )
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    rng = np.random.default_rng(seed)
    values = np.empty((len(sizes_array), repeats))
    for i, n in enumerate(sizes_array):
        for r in range(repeats):
            real_idx = rng.choice(len(real), size=n, replace=False)
            fake_idx = rng.choice(len(fake), size=n, replace=False)
            values[i, r] = fid(real[real_idx], fake[fake_idx])
    return FIDCurve(sizes_array, values.mean(axis=1), values.std(axis=1), repeats)


@dataclass(frozen=True)
class ClassCoverage:
    r"""How a classifier's labels spread over the classes.

    ``counts`` and ``shares`` :math:`p_c` per class; ``kl_from_uniform``
    :math:`= \sum_c p_c \log(K p_c)`; ``covered``: the classes with share at least ``min_share``.
    """

    counts: np.ndarray
    shares: np.ndarray
    kl_from_uniform: float
    covered: tuple[int, ...]
    min_share: float

    @property
    def num_classes(self) -> int:
        return len(self.counts)

    @property
    def classes_covered(self) -> int:
        """Number of classes with share at least ``min_share``."""
        return len(self.covered)

    @property
    def missing(self) -> tuple[int, ...]:
        """Classes below ``min_share``: the modes the generator (nearly) dropped."""
        return tuple(c for c in range(self.num_classes) if c not in self.covered)


def class_coverage(
    labels: torch.Tensor | np.ndarray | Sequence[int], num_classes: int = 10, min_share: float = 0.02
) -> ClassCoverage:
    r"""Label histogram of ``labels`` (e.g. a classifier's predictions on generated digits).

    With shares :math:`p_c = n_c / n`, the KL divergence from the uniform distribution over
    :math:`K` classes is :math:`\mathrm{KL}(p \,\|\, u) = \sum_c p_c \log(K p_c) = \log K - H(p)`
    (:math:`0 \log 0 = 0`): 0 for perfectly balanced classes, :math:`\log K` when every sample is one
    class. A class counts as covered when :math:`p_c \ge` ``min_share``.
    """
    y = torch.as_tensor(labels).detach().cpu().long().reshape(-1)
    if len(y) == 0:
        raise ValueError("no labels given")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got values in {int(y.min())}..{int(y.max())}")
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be in [0, 1], got {min_share}")
    counts = torch.bincount(y, minlength=num_classes).numpy()
    shares = counts / counts.sum()
    nonzero = shares[shares > 0]
    kl = float(np.sum(nonzero * np.log(num_classes * nonzero)))
    covered = tuple(int(c) for c in np.flatnonzero(shares >= min_share))
    return ClassCoverage(counts, shares, max(kl, 0.0), covered, min_share)


@dataclass(frozen=True)
class Neighbours:
    """Each query's ``k`` nearest reference points, ``indices`` and ``distances`` ``(Q, k)``, nearest first."""

    indices: torch.Tensor
    distances: torch.Tensor


def _flat(x: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    t = torch.as_tensor(x).detach().cpu()
    if t.ndim < 2:
        raise ValueError(f"{name} must have a leading batch axis, got shape {tuple(t.shape)}")
    t = t.reshape(len(t), -1)
    return t.double() if t.dtype == torch.float64 else t.float()


def nearest_neighbours(
    queries: torch.Tensor | np.ndarray,
    reference: torch.Tensor | np.ndarray,
    k: int = 1,
    max_block: int = 2**24,
) -> Neighbours:
    r"""The ``k`` nearest points of ``reference`` to each of ``queries`` in Euclidean distance.

    Points may be feature vectors ``(N, d)`` or images ``(N, ...)`` (flattened; compare uint8 pixels
    with uint8 pixels, or [-1, 1] images with [-1, 1] images). Distances
    :math:`\lVert q - r \rVert_2` are computed for blocks of queries holding at most ``max_block``
    distances at a time, which bounds the memory for large reference sets.
    """
    q, r = _flat(queries, "queries"), _flat(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values each but reference points {r.shape[1]}")
    if not 1 <= k <= len(r):
        raise ValueError(f"k must be between 1 and the number of reference points ({len(r)}), got {k}")
    dtype = torch.promote_types(q.dtype, r.dtype)
    q, r = q.to(dtype), r.to(dtype)
    rows = max(1, max_block // len(r))
    indices, distances = [], []
    for start in range(0, len(q), rows):
        block = torch.cdist(q[start : start + rows], r)  # (rows, R)
        dist, idx = torch.topk(block, k, dim=1, largest=False, sorted=True)
        indices.append(idx)
        distances.append(dist)
    return Neighbours(torch.cat(indices), torch.cat(distances))


def knn_radii(features: torch.Tensor | np.ndarray, k: int = 3) -> torch.Tensor:
    """Distance from each point to its ``k``-th nearest *other* point of the same set, shape ``(N,)``."""
    f = _flat(features, "features")
    if not 1 <= k < len(f):
        raise ValueError(f"k must be between 1 and N - 1 = {len(f) - 1}, got {k}")
    return nearest_neighbours(f, f, k + 1).distances[:, k]  # column 0 is the point itself (distance 0)


def _share_inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, max_block: int) -> float:
    """Share of ``points`` within distance ``radii[j]`` of at least one ``centres[j]``."""
    rows = max(1, max_block // len(centres))
    inside = 0
    for start in range(0, len(points), rows):
        block = torch.cdist(points[start : start + rows], centres)  # (rows, M)
        inside += int((block <= radii[None, :]).any(dim=1).sum())
    return inside / len(points)


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision: share of generated samples on the real manifold; recall: share of real ones on the generated one."""

    precision: float
    recall: float
    k: int


def precision_recall(
    real_features: torch.Tensor | np.ndarray,
    fake_features: torch.Tensor | np.ndarray,
    k: int = 3,
    max_block: int = 2**24,
) -> PrecisionRecall:
    r"""Improved precision and recall for generative models (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls :math:`B(\phi, r_k(\phi))` around its points, with
    :math:`r_k(\phi)` the distance to the ``k``-th nearest other point of the same set. Then

    .. math:: \text{precision} = \frac{1}{|\Phi_g|} \sum_{\phi_g \in \Phi_g}
              \big[\exists \phi_r \in \Phi_r: \lVert \phi_g - \phi_r \rVert \le r_k(\phi_r)\big],

    and recall is the same with real and generated sets swapped. Precision near 1: the samples look
    real; recall near 1: they cover all of the real data (no dropped modes).
    """
    real = _flat(real_features, "real_features").double()
    fake = _flat(fake_features, "fake_features").double()
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    precision = _share_inside(fake, real, knn_radii(real, k), max_block)
    recall = _share_inside(real, fake, knn_radii(fake, k), max_block)
    return PrecisionRecall(precision, recall, k)


@torch.no_grad()
def sample_images(
    G: nn.Module,
    n: int,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""``n`` samples of ``G`` from seeded noise :math:`z \sim \mathcal N(0, I)`, as ``(n, 1, 28, 28)`` on the CPU.

    G must expose ``latent_dim`` and map ``(B, latent_dim)`` noise to images in [-1, 1] (flat
    ``(B, 784)`` outputs are reshaped). It runs in eval mode under ``torch.no_grad()``; its mode is
    restored after. The noise is drawn on the CPU, so a seed gives the same ``z`` on every device.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    latent_dim = getattr(G, "latent_dim", None)
    if latent_dim is None:
        raise TypeError("G must have a latent_dim attribute (the size of its noise input)")
    device = _model_device(G, device)
    generator = torch.Generator().manual_seed(seed)
    z_all = torch.randn(n, latent_dim, generator=generator)  # (n, latent_dim)
    out = []
    with _eval_mode(G):
        for start in range(0, n, batch_size):
            x_fake = G(z_all[start : start + batch_size].to(device))
            out.append(x_fake.float().cpu().reshape(len(x_fake), 1, 28, 28))
    return torch.cat(out)


@dataclass(frozen=True)
class GeneratorReport:
    """What :func:`evaluate_generator` measured at ``n`` samples."""

    fid: float
    precision: float
    recall: float
    coverage: ClassCoverage
    n: int

    def __str__(self) -> str:
        return (
            f"FID {self.fid:.2f} | precision {self.precision:.3f} | recall {self.recall:.3f} | "
            f"classes covered {self.coverage.classes_covered}/{self.coverage.num_classes} | "
            f"KL from uniform {self.coverage.kl_from_uniform:.3f} (n = {self.n})"
        )


def evaluate_samples(
    fake_images: torch.Tensor | np.ndarray,
    classifier: nn.Module,
    real_images: torch.Tensor | np.ndarray,
    n: int = 2000,
    seed: int = 0,
    k: int = 3,
    min_share: float = 0.02,
    device: torch.device | str | None = None,
) -> GeneratorReport:
    """FID, precision/recall (``k``-NN) and class coverage of (the first) ``n`` ``fake_images`` against ``n`` real ones.

    Images are uint8 or in [-1, 1]. The real images are a seeded random subset of ``real_images``
    (all of them when fewer than ``n``). Features and labels come from ``classifier``
    (:func:`classifier_outputs`). Use the same ``n``, classifier and real set to compare generators.
    """
    real_images, fake_images = torch.as_tensor(real_images), torch.as_tensor(fake_images)[:n]
    order = torch.randperm(len(real_images), generator=torch.Generator().manual_seed(seed))[:n]
    real_features = extract_features(classifier, real_images[order], device=device)
    fake_features, fake_logits = classifier_outputs(classifier, fake_images, device=device)
    pr = precision_recall(real_features, fake_features, k=k)
    coverage = class_coverage(fake_logits.argmax(1), num_classes=fake_logits.shape[1], min_share=min_share)
    return GeneratorReport(fid(real_features, fake_features), pr.precision, pr.recall, coverage, len(fake_images))


def evaluate_generator(
    G: nn.Module,
    classifier: nn.Module,
    real_images: torch.Tensor | np.ndarray,
    n: int = 2000,
    seed: int = 0,
    k: int = 3,
    min_share: float = 0.02,
    device: torch.device | str | None = None,
) -> GeneratorReport:
    """:func:`evaluate_samples` of ``n`` samples of ``G`` (drawn by :func:`sample_images` with ``seed``).

    G is sampled in eval mode under ``torch.no_grad()`` and its mode is restored after.
    """
    x_fake = sample_images(G, n, seed=seed, device=device)
    return evaluate_samples(x_fake, classifier, real_images, n=n, seed=seed, k=k, min_share=min_share, device=device)


__all__ += [
    "ClassCoverage",
    "FIDCurve",
    "FeatureStatistics",
    "GeneratorReport",
    "Neighbours",
    "PrecisionRecall",
    "as_unit_images",
    "class_coverage",
    "classifier_accuracy",
    "classifier_outputs",
    "classify",
    "evaluate_generator",
    "evaluate_samples",
    "extract_features",
    "feature_statistics",
    "fid",
    "fid_versus_sample_size",
    "frechet_distance",
    "knn_radii",
    "nearest_neighbours",
    "precision_recall",
    "sample_images",
]


# --- Sample diversity, for the training loop's mode-collapse warning ---


def mean_pairwise_distance(x: torch.Tensor) -> float:
    r"""Mean Euclidean distance between distinct samples, :math:`\frac{2}{n(n-1)} \sum_{i<j} \lVert x_i - x_j \rVert_2`.

    ``x`` is a batch ``(n, ...)`` of at least two samples; each sample is flattened. A collapsed
    generator, which draws nearly the same sample for every ``z``, scores close to 0.
    """
    if x.ndim < 2 or x.shape[0] < 2:
        raise ValueError(f"need a batch of at least 2 samples, shape (n, ...); got {tuple(x.shape)}")
    flat = x.detach().flatten(1).cpu().double()  # on the CPU: float64 is not available on every device
    return float(torch.pdist(flat).mean())


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    r"""Diversity of generated samples relative to real ones: :math:`\mathrm{MPD}(fake) / \mathrm{MPD}(real)`.

    :math:`\mathrm{MPD}` is :func:`mean_pairwise_distance`. About 1 when the samples are as varied
    as the data, near 0 when the generator has collapsed onto few outputs.
    """
    reference = mean_pairwise_distance(real)
    if reference == 0.0:
        raise ValueError("the real samples are all identical (mean pairwise distance 0): pass a varied real batch")
    return mean_pairwise_distance(fake) / reference


__all__ += ["diversity_ratio", "mean_pairwise_distance"]
