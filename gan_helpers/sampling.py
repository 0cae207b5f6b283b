r"""Sampling from a generator: noise, labels, eval mode, one ``sample`` for every G, and latent paths.

Every picture and every metric of the series draws G's samples the same way: noise
:math:`z \sim \mathcal N(0, I)` (seeded on the CPU, so a seed gives the same ``z`` on every device),
G in eval mode under ``torch.no_grad()`` with its mode restored after (:func:`eval_mode`).
A conditional G (one with ``num_classes``) also takes labels: ``sample(G, n, labels=y)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = [
    "eval_mode",
    "evaluation_noise",
    "generate",
    "interpolate_latents",
    "model_device",
    "sample",
    "sample_labels",
    "sample_noise",
    "to_uint8",
    "truncated_noise",
    "truncated_normal_std",
]


@contextmanager
def eval_mode(*models: nn.Module) -> Iterator[None]:
    """Put ``models`` in eval mode under ``torch.no_grad()`` for the block, then restore each one's mode.

    Batch norm then uses its running statistics and dropout is off; the ``finally`` restores the
    previous modes even when the block raises.
    """
    modes = [m.training for m in models]
    for m in models:
        m.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, mode in zip(models, modes, strict=True):
            m.train(mode)


def model_device(model: nn.Module, device: torch.device | str | None = None) -> torch.device:
    """``device`` if given, else the device of ``model``'s first parameter (the CPU for a model without any)."""
    if device is not None:
        return torch.device(device)
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def sample_noise(batch_size: int, latent_dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    r"""Latent noise :math:`z \sim \mathcal{N}(0, I)` from the global generator, shape ``(batch_size, latent_dim)``."""
    return torch.randn(batch_size, latent_dim, device=device)


def sample_labels(batch_size: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    r"""Class labels :math:`y \sim \mathrm{Uniform}\{0, \dots, \text{num\_classes} - 1\}`, shape ``(batch_size,)``."""
    return torch.randint(num_classes, (batch_size,), device=device)


def evaluation_noise(num_samples: int, latent_dim: int, seed: int = 0) -> torch.Tensor:
    """Fixed noise ``(num_samples, latent_dim)`` from its own seeded generator; the global random state is untouched.

    Measuring G on the same noise at every step makes a metric's curve move only because G does,
    and leaves the training's own random numbers (hence its history) as they would be without it.
    """
    if num_samples < 1 or latent_dim < 1:
        raise ValueError(f"num_samples and latent_dim must be positive, got {num_samples} and {latent_dim}")
    return torch.randn(num_samples, latent_dim, generator=torch.Generator().manual_seed(seed))


def truncated_noise(
    n: int, latent_dim: int, threshold: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Noise from the truncated normal of BigGAN's *truncation trick* (Brock et al. 2019), ``(n, latent_dim)``.

    Each entry is drawn from :math:`\mathcal N(0, 1)` and redrawn until :math:`|z_i| \le a` (``threshold``), so
    the entries are independent draws of :math:`\mathcal N(0, 1)` conditioned on :math:`[-a, a]`, density
    :math:`\varphi(z) / (2\Phi(a) - 1)` there, with the standard deviation of :func:`truncated_normal_std`.
    This is not a scaling of :math:`z`: the entries that were within :math:`a` keep their values. Draws on the
    CPU from ``generator`` (the global generator if None); a threshold so large that nothing is redrawn gives
    exactly ``torch.randn(n, latent_dim, generator=generator)``.
    """
    if n < 1 or latent_dim < 1:
        raise ValueError(f"n and latent_dim must be positive, got {n} and {latent_dim}")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    z = torch.randn(n, latent_dim, generator=generator)  # (n, latent_dim)
    outside = z.abs() > threshold
    while outside.any():  # each round redraws only the entries still outside [-a, a]
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    return z


def truncated_normal_std(threshold: float) -> float:
    r"""Standard deviation of :math:`\mathcal N(0, 1)` conditioned on :math:`|z| \le a`, ``a = threshold``:

    .. math:: \sigma_a = \sqrt{1 - \frac{2 a\, \varphi(a)}{2\Phi(a) - 1}},

    with :math:`\varphi, \Phi` the standard normal density and distribution function (the mean is 0 by
    symmetry). It rises from :math:`a / \sqrt 3` (the uniform's, as :math:`a \to 0`) to 1 (as :math:`a \to \infty`).
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    a = float(threshold)
    density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(a / math.sqrt(2))  # 2 Phi(a) - 1
    return math.sqrt(1 - 2 * a * density / mass)


def generate(G: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``G(z)`` (or ``G(z, labels)``) in :func:`eval_mode`, on G's device; G's mode is restored after."""
    device = model_device(G)
    with eval_mode(G):
        return G(z.to(device)) if labels is None else G(z.to(device), labels.to(device))


def sample(
    G: nn.Module,
    n: int | None = None,
    seed: int = 0,
    *,
    labels: torch.Tensor | None = None,
    noise_scale: float = 1.0,
    truncation: float | None = None,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""``n`` samples of G from :func:`evaluation_noise` seeded by ``seed``, as float images on the CPU.

    :math:`z = s\,\varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`, :math:`s` = ``noise_scale``; with a
    ``truncation`` threshold :math:`a`, :math:`\varepsilon` is :func:`truncated_noise` instead (each entry redrawn
    until :math:`|\varepsilon_i| \le a`, from a generator seeded by ``seed``), the truncation trick.
    A conditional G gets ``labels`` ``(n,)`` (then ``n`` may be omitted). Flat outputs ``(B, C*H*W)``
    of a G with an ``image_shape`` are reshaped to ``(B, C, H, W)``. Runs in batches of
    ``batch_size`` in :func:`eval_mode`.
    """
    if labels is not None:
        labels = torch.as_tensor(labels)
        n = len(labels) if n is None else n
        if len(labels) != n:
            raise ValueError(f"asked for n = {n} samples but gave {len(labels)} labels")
    if n is None or n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    latent_dim = getattr(G, "latent_dim", None)
    if latent_dim is None:
        raise TypeError("G must have a latent_dim attribute (the size of its noise input)")
    if truncation is None:
        z_all = evaluation_noise(n, latent_dim, seed) * noise_scale  # (n, latent_dim)
    else:
        z_all = truncated_noise(n, latent_dim, truncation, torch.Generator().manual_seed(seed)) * noise_scale
    device = model_device(G, device)
    shape = getattr(G, "image_shape", None)
    out = []
    with eval_mode(G):
        for start in range(0, n, batch_size):
            z = z_all[start : start + batch_size].to(device)
            x = G(z) if labels is None else G(z, labels[start : start + batch_size].to(device))
            x = x.float().cpu()
            out.append(x.reshape(len(x), *shape) if shape is not None and x.ndim == 2 else x)
    return torch.cat(out)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    r"""Images in [-1, 1] to uint8 pixels :math:`p = \operatorname{round}(127.5 (x + 1))`, clipped to 0..255."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, num: int = 8, spherical: bool = True) -> torch.Tensor:
    r"""``num`` points from ``z0`` to ``z1`` (both ``(latent_dim,)``), as ``(num, latent_dim)``; ends included.

    Linear: :math:`z_t = (1 - t) z_0 + t z_1`. Spherical (slerp), with
    :math:`\cos\Omega = \frac{z_0 \cdot z_1}{\lVert z_0\rVert \lVert z_1\rVert}`:
    :math:`z_t = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_0 + \frac{\sin(t\Omega)}{\sin\Omega} z_1`.
    In high dimension, Gaussian noise lies near the sphere of radius :math:`\sqrt{d}`; the straight
    line cuts inside it (the midpoint of two orthogonal vectors has norm :math:`\sqrt{d/2}`), while
    slerp between two vectors of equal norm keeps that norm all the way.
    """
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be vectors of the same length, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if num < 2:
        raise ValueError(f"num must be at least 2 (the two ends), got {num}")
    t = torch.linspace(0, 1, num, dtype=z0.dtype, device=z0.device)[:, None]  # (num, 1)
    if not spherical:
        return (1 - t) * z0 + t * z1
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:  # (almost) parallel: slerp and the straight line agree
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
