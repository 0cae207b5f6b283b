r"""Metrics on toy data: distances between 1-D samples, the GAN objective for known 1-D densities, mode coverage.

- 1-D sample distances (:func:`wasserstein_1d`, :func:`ks_statistic`), a kernel density estimate
  (:func:`gaussian_kde_1d`) and :func:`mass_near_modes`;
- the value function, the optimal discriminator, KL and Jensen-Shannon divergences of two 1-D
  Gaussian mixtures, by quadrature and by Monte Carlo (notebook 01);
- mode coverage of a sample from a 2-D Gaussian mixture (:func:`mode_coverage` and its parts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gan_helpers.data.toy import GaussianMixture

__all__ = [
    "ModeCoverage",
    "ObjectiveGradients",
    "as_samples_1d",
    "assign_to_modes",
    "density_grid",
    "gaussian_kde_1d",
    "generator_loss_numeric",
    "high_quality_fraction",
    "integrate",
    "jsd_monte_carlo",
    "jsd_numeric",
    "kde_mixture_1d",
    "kl_gaussians",
    "kl_numeric",
    "ks_statistic",
    "mass_near_modes",
    "mode_coverage",
    "modes_covered",
    "objective_gradients",
    "optimal_discriminator",
    "optimal_discriminator_logit",
    "samples_per_mode",
    "value_function_numeric",
    "wasserstein_1d",
]


def as_samples_1d(x: np.ndarray | torch.Tensor | Sequence[float], name: str = "x") -> np.ndarray:
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
    x = as_samples_1d(x, "x")
    y = as_samples_1d(y, "y")
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
    _, cdf_x, cdf_y = _empirical_cdfs_1d(as_samples_1d(x, "x"), as_samples_1d(y, "y"))
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
    x = as_samples_1d(samples, "samples")
    t = as_samples_1d(grid, "grid")
    bandwidth = _kde_bandwidth(x, bandwidth)
    u = (t[:, None] - x[None, :]) / bandwidth  # (grid, n)
    return np.exp(-0.5 * u**2).sum(axis=1) / (x.size * bandwidth * math.sqrt(2 * math.pi))


def _kde_bandwidth(x: np.ndarray, bandwidth: float | None) -> float:
    r"""``bandwidth`` if given (must be positive), else Scott's :math:`\hat\sigma n^{-1/5}` (:math:`10^{-3}` if 0)."""
    if bandwidth is None:
        spread = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
        bandwidth = spread * x.size ** (-0.2) if spread > 0 else 1e-3
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth}")
    return float(bandwidth)


def kde_mixture_1d(
    samples: np.ndarray | torch.Tensor | Sequence[float], bandwidth: float | None = None
) -> GaussianMixture:
    r"""The kernel density estimate of :func:`gaussian_kde_1d` as a :class:`GaussianMixture` (float64).

    :math:`\hat p = \frac1n\sum_i \mathcal N(x_i, h^2)` is a mixture of n Gaussians with equal weights
    :math:`1/n`, centres at the samples and one standard deviation :math:`h` (the same bandwidth rule), so
    :func:`optimal_discriminator` can take a generator's samples: :math:`D^* = p_{data}/(p_{data} + \hat p_g)`.
    """
    x = as_samples_1d(samples, "samples")
    h = _kde_bandwidth(x, bandwidth)
    centres = torch.as_tensor(x, dtype=torch.float64)[:, None]  # (n, 1)
    return GaussianMixture(centres, torch.full((x.size,), h, dtype=torch.float64),
                           torch.full((x.size,), 1.0 / x.size, dtype=torch.float64))  # fmt: skip


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


def generator_loss_numeric(
    p_data: GaussianMixture,
    p_g: GaussianMixture,
    kind: str = "nonsaturating",
    logit_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    grid: torch.Tensor | None = None,
) -> float:
    r"""G's expected loss against a discriminator, by quadrature over :math:`x \sim p_g`.

    ``kind="nonsaturating"`` gives :math:`\mathbb{E}_{x\sim p_g}[-\log D(x)]`, ``"saturating"`` gives
    :math:`\mathbb{E}_{x\sim p_g}[\log(1 - D(x))]` (the conventions of :func:`gan_helpers.losses.g_loss`). D is
    given by its logit function, as in :func:`value_function_numeric`; ``None`` means :math:`D^*`. At :math:`D^*`,
    with :math:`m = \tfrac12(p_{data} + p_g)` and :math:`-\log D^* = \log(2m/p_{data})`,

    .. math:: \mathbb{E}_{p_g}[-\log D^*] = \log 2 + \mathrm{KL}(p_g\,\|\,p_{data}) - \mathrm{KL}(p_g\,\|\,m)
              = \mathrm{KL}(p_g\,\|\,p_{data}) - 2\,\mathrm{JSD}(p_{data}\,\|\,p_g) + \log 4
                + \mathbb{E}_{p_{data}}[\log D^*],

    and :math:`\mathbb{E}_{p_g}[\log(1 - D^*)] = \mathrm{KL}(p_g\,\|\,m) - \log 2`.
    """
    _check_1d(p_data=p_data, p_g=p_g)
    if kind not in ("nonsaturating", "saturating"):
        raise ValueError(f"Unknown generator loss {kind!r}; choose 'nonsaturating' or 'saturating'.")
    grid = density_grid(p_data, p_g) if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    if logit_fn is None:
        logits = optimal_discriminator_logit(p_data, p_g, grid)
    else:
        logits = torch.as_tensor(logit_fn(grid), dtype=torch.float64).reshape(-1)
    per_point = (
        torch.nn.functional.softplus(-logits)  # -log D
        if kind == "nonsaturating"
        else -torch.nn.functional.softplus(logits)  # log(1 - D)
    )
    return integrate(_mixture_float64(p_g).pdf(grid) * per_point, grid)


@dataclass(frozen=True)
class ObjectiveGradients:
    r"""Gradients with respect to :math:`\theta = (\mu_g, \sigma_g)` of a Gaussian :math:`p_g = \mathcal N(\mu_g,
    \sigma_g^2)`, at :math:`\theta_0`, each a pair :math:`(\partial/\partial\mu_g, \partial/\partial\sigma_g)`.

    ``nonsaturating`` and ``saturating`` are G's two losses with D *held fixed* at :math:`D^*_{\theta_0}` (as in
    one G step); ``kl_minus_2jsd`` is :math:`\mathrm{KL}(p_g\,\|\,p_{data}) - 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)`
    and ``two_jsd`` is :math:`2\,\mathrm{JSD}(p_{data}\,\|\,p_g)`, both as functions of :math:`\theta`.
    """

    nonsaturating: tuple[float, float]
    saturating: tuple[float, float]
    kl_minus_2jsd: tuple[float, float]
    two_jsd: tuple[float, float]


def objective_gradients(
    p_data: GaussianMixture, mean_g: float, std_g: float, grid: torch.Tensor | None = None
) -> ObjectiveGradients:
    r"""What G's losses follow at the optimal D: autograd through quadratures, for a Gaussian :math:`p_g`.

    With D frozen at :math:`D_0 = D^*_{\theta_0}`, Arjovsky and Bottou (2017, Theorem 2.5) show

    .. math:: \nabla_\theta\,\mathbb{E}_{p_{g_\theta}}[-\log D_0] = \nabla_\theta\big[\mathrm{KL}(p_{g_\theta}\,\|\,
              p_{data}) - 2\,\mathrm{JSD}(p_{data}\,\|\,p_{g_\theta})\big], \qquad
              \nabla_\theta\,\mathbb{E}_{p_{g_\theta}}[\log(1 - D_0)] = \nabla_\theta\,
              2\,\mathrm{JSD}(p_{data}\,\|\,p_{g_\theta}),

    at :math:`\theta = \theta_0`: the second because :math:`D^*` maximises V (the change of :math:`D^*` with
    :math:`\theta` does not enter to first order), the first because, in addition,
    :math:`\mathbb{E}_{p_g}[\nabla_\theta \log p_g] = 0` makes :math:`\nabla\mathrm{KL}(p_g\,\|\,p_{data}) =
    \nabla\mathbb{E}_{p_{g_\theta}}[\log((1 - D_0)/D_0)]`. Each of the four sides is computed here
    independently, on one grid, so the identities can be checked rather than assumed.
    """
    _check_1d(p_data=p_data)
    if not std_g > 0:
        raise ValueError(f"std_g must be positive, got {std_g}")
    start = GaussianMixture(
        torch.tensor([[mean_g]], dtype=torch.float64), torch.tensor([std_g], dtype=torch.float64), torch.ones(1)
    )
    grid = density_grid(p_data, start) if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    frozen = optimal_discriminator_logit(p_data, start, grid)  # D_0's logits, constants
    theta = torch.tensor([mean_g, std_g], dtype=torch.float64, requires_grad=True)
    log_g = -0.5 * ((grid - theta[0]) / theta[1]) ** 2 - torch.log(theta[1]) - 0.5 * math.log(2 * math.pi)  # (n,)
    log_d = _mixture_float64(p_data).log_prob(grid)
    log_m = _log_mixture_midpoint(log_d, log_g)
    jsd = torch.trapezoid(0.5 * log_d.exp() * (log_d - log_m) + 0.5 * log_g.exp() * (log_g - log_m), grid)
    kl = torch.trapezoid(log_g.exp() * (log_g - log_d), grid)
    quantities = {
        "nonsaturating": torch.trapezoid(log_g.exp() * torch.nn.functional.softplus(-frozen), grid),
        "saturating": torch.trapezoid(log_g.exp() * -torch.nn.functional.softplus(frozen), grid),
        "kl_minus_2jsd": kl - 2 * jsd,
        "two_jsd": 2 * jsd,
    }
    grads = {}
    for name, value in quantities.items():
        (grad,) = torch.autograd.grad(value, theta, retain_graph=True)
        grads[name] = (float(grad[0]), float(grad[1]))
    return ObjectiveGradients(**grads)


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
