r"""Metrics by distances between samples: nearest neighbours, k-NN precision and recall, sample diversity.

Points are feature vectors ``(N, d)`` or images ``(N, ...)`` (flattened). :func:`precision_recall`
measures how much of the generated set lies on the real manifold and how much of the real set the
generated one covers; :func:`mean_pairwise_distance` and :func:`diversity_ratio` feed the training
loop's mode-collapse warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "Neighbours",
    "PrecisionRecall",
    "diversity_ratio",
    "knn_radii",
    "mean_pairwise_distance",
    "nearest_neighbours",
    "precision_recall",
]


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
