r"""Affine augmentation of image batches: rotate, scale and shift each image about its centre."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["DIFF_AUGMENTATIONS", "affine_transform", "check_augmentations", "diff_augment", "random_affine"]


def affine_transform(
    images: torch.Tensor,
    degrees: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    fill: float = -1.0,
) -> torch.Tensor:
    r"""Rotate, scale and shift each image of ``images`` ``(B, C, H, W)`` about its centre.

    In pixel coordinates :math:`p = (\text{column}, \text{row})` measured from the image centre,
    the content at :math:`p` moves to :math:`q = s_i R(\theta_i) p + t_i` with
    :math:`R(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}`,
    :math:`\theta_i` = ``degrees[i]`` (in degrees), :math:`s_i` = ``scale[i]`` and :math:`t_i` =
    ``shift[i]`` (pixels, ``(B, 2)``: right, down). Each output pixel :math:`q` is read bilinearly
    from the input at :math:`p = R(\theta_i)^{\top}(q - t_i)/s_i`; points outside the image read ``fill``
    (-1: the background of images in [-1, 1]).
    """
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (B, C, H, W), got {tuple(images.shape)}")
    b, _, h, w = images.shape
    dev, dtype = images.device, images.dtype
    angle = torch.deg2rad(degrees.to(dev, dtype))
    cos, sin = torch.cos(angle), torch.sin(angle)
    inv_rt = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R^T, (B, 2, 2)
    half = torch.tensor([w / 2.0, h / 2.0], device=dev, dtype=dtype)  # normalised -> pixel units
    # affine_grid maps normalised output coordinates u to input ones: p = R^T (D u - t) / s, u_in = D^-1 p.
    s = scale.to(dev, dtype).view(b, 1, 1)
    matrix = inv_rt * half.view(1, 1, 2) / half.view(1, 2, 1) / s
    offset = -(inv_rt @ shift.to(dev, dtype).view(b, 2, 1)) / half.view(1, 2, 1) / s
    theta = torch.cat([matrix, offset], dim=2)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill


def random_affine(
    images: torch.Tensor,
    max_degrees: float = 10.0,
    max_scale: float = 0.1,
    max_shift: float = 2.0,
    generator: torch.Generator | None = None,
    fill: float = -1.0,
) -> torch.Tensor:
    r"""Augment a batch: each image gets :math:`\theta \sim U(-\text{max\_degrees}, \text{max\_degrees})`,
    :math:`s \sim U(1 - \text{max\_scale}, 1 + \text{max\_scale})` and a shift
    :math:`t \sim U(-\text{max\_shift}, \text{max\_shift})^2` pixels, applied by :func:`affine_transform`.

    The random numbers are drawn on the CPU from ``generator``, so a seeded run repeats on any device.
    """
    b = images.shape[0]
    u = torch.rand(b, 4, generator=generator) * 2 - 1  # U(-1, 1)
    return affine_transform(images, u[:, 0] * max_degrees, 1 + u[:, 1] * max_scale, u[:, 2:] * max_shift, fill)


#: The differentiable augmentations :func:`diff_augment` knows, in the order it applies them.
DIFF_AUGMENTATIONS = ("translation", "cutout")


def check_augmentations(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``names`` as a tuple if each is in :data:`DIFF_AUGMENTATIONS`, else a ValueError listing the choices."""
    unknown = [name for name in names if name not in DIFF_AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {', '.join(DIFF_AUGMENTATIONS)}")
    return tuple(names)


def _random_translation(x: torch.Tensor, ratio: float, fill: float) -> torch.Tensor:
    """Shift each image by whole pixels, up to ``ratio`` of its size each way; vacated pixels read ``fill``."""
    b, _, h, w = x.shape
    pad_h, pad_w = max(1, round(h * ratio)), max(1, round(w * ratio))
    dy = torch.randint(-pad_h, pad_h + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-pad_w, pad_w + 1, (b, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + pad_h).expand(b, h, w)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + pad_w).expand(b, h, w)
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h), value=fill)
    batch = torch.arange(b, device=x.device).view(b, 1, 1).expand(b, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def _random_cutout(x: torch.Tensor, ratio: float, fill: float) -> torch.Tensor:
    """Set one square of side ``ratio`` times the image size, at a random place in each image, to ``fill``."""
    b, _, h, w = x.shape
    size_h, size_w = max(1, round(h * ratio)), max(1, round(w * ratio))
    top = torch.randint(0, h - size_h + 1, (b, 1, 1), device=x.device)
    left = torch.randint(0, w - size_w + 1, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + size_h) & (cols >= left) & (cols < left + size_w)  # (b, h, w)
    return torch.where(inside[:, None], torch.full_like(x, fill), x)


def diff_augment(
    x: torch.Tensor,
    policy: tuple[str, ...] = DIFF_AUGMENTATIONS,
    translation: float = 0.125,
    cutout: float = 0.5,
    fill: float = -1.0,
) -> torch.Tensor:
    r"""Differentiable augmentation :math:`T(x)` of a batch ``(B, C, H, W)`` in [-1, 1] (Zhao et al. 2020).

    ``"translation"`` shifts each image by up to ``translation`` of its size (whole pixels, each
    way); ``"cutout"`` blanks one random square of side ``cutout`` of the image. Both are
    gathers and masks, so :math:`\partial T(x)/\partial x` exists and G's gradient flows back through
    :math:`T`. D then sees :math:`T(x)` for real *and* fake images, in both players' updates, so it
    cannot learn the augmentation as a tell, and with few real images it cannot memorise them either.
    Random numbers come from the global generator on ``x``'s device (no host sync).
    """
    check_augmentations(policy)
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (B, C, H, W), got {tuple(x.shape)}")
    if "translation" in policy:
        x = _random_translation(x, translation, fill)
    if "cutout" in policy:
        x = _random_cutout(x, cutout, fill)
    return x
