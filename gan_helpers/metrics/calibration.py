r"""What an FID means: the floor two samples of real digits set, and how far known corruptions move it.

FID has no absolute scale: it depends on the feature space, on :math:`n` and on the real set. Two
disjoint random halves of *unseen* real digits (:func:`real_halves`) give the floor a perfect
generator would reach at that :math:`n` (:func:`real_floor`); the same real digits under Gaussian
noise of growing :math:`\sigma` or a growing box blur (:func:`fid_calibration`) show how a number
like 30 or 120 looks. Use random halves: the MNIST test set is ordered by writer population, so
its first half against its second is not a floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gan_helpers.metrics.images import as_unit_images, extract_features, fid

__all__ = ["FIDCalibration", "box_blur", "fid_calibration", "gaussian_noise", "real_floor", "real_halves"]


def real_halves(images: torch.Tensor, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint random subsets of ``images``, ``n`` each (a seeded permutation, split in two)."""
    if not 1 <= n <= len(images) // 2:
        raise ValueError(f"need 2 x n images for two disjoint halves: n = {n}, but only {len(images)} images")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return images[order[:n]], images[order[n : 2 * n]]


def real_floor(classifier: nn.Module, images: torch.Tensor, n: int, seed: int = 0) -> float:
    """FID between two disjoint random halves of real ``images`` at ``n`` each: the best any generator can do."""
    first, second = real_halves(images, n, seed)
    return fid(extract_features(classifier, first), extract_features(classifier, second))


def gaussian_noise(x: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    r""":math:`\mathrm{clip}(x + \sigma\varepsilon, -1, 1)` with seeded :math:`\varepsilon \sim \mathcal N(0, I)`."""
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return (x + sigma * noise).clamp(-1.0, 1.0)


def box_blur(x: torch.Tensor, size: int) -> torch.Tensor:
    """Each pixel replaced by the mean of the ``size x size`` box around it (inside the image); ``size`` odd."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the blur's box size must be an odd positive number, got {size}")
    if size == 1:
        return x
    return F.avg_pool2d(x, size, stride=1, padding=size // 2, count_include_pad=False)


@dataclass(frozen=True)
class FIDCalibration:
    """FIDs against a real reference: ``floor`` (other real digits), and real digits under ``noise[sigma]``
    and ``blur[size]``, all at ``n`` samples."""

    floor: float
    noise: dict[float, float]
    blur: dict[int, float]
    n: int


def fid_calibration(
    classifier: nn.Module,
    images: torch.Tensor,
    n: int,
    noise_levels: Sequence[float] = (0.1, 0.2, 0.3, 0.5),
    blur_sizes: Sequence[int] = (3, 5),
    seed: int = 0,
) -> FIDCalibration:
    """The FID of real digits, clean and corrupted, against other real digits (:func:`real_halves` of ``images``).

    The first half is the reference; the second half, clean, gives the floor, and corrupted by
    :func:`gaussian_noise` of each level and :func:`box_blur` of each size, the rest.
    """
    reference, other = real_halves(images, n, seed)
    reference_features = extract_features(classifier, reference)
    x = as_unit_images(other)

    def score(images_: torch.Tensor) -> float:
        return fid(reference_features, extract_features(classifier, images_))

    return FIDCalibration(
        floor=score(x),
        noise={float(s): score(gaussian_noise(x, s, seed)) for s in noise_levels},
        blur={int(k): score(box_blur(x, k)) for k in blur_sizes},
        n=n,
    )
