r"""Applications of a trained G: label fidelity of a conditional G, augmentation; inpainting by latent optimisation.

A mask :math:`m` has the image's shape (or broadcasts to it): 1 where a pixel is visible, 0 where it
is missing. Inpainting looks for the latent vector whose image agrees with the visible pixels,

.. math:: z^\star = \arg\min_z \; \lVert m \odot (G(z) - x) \rVert^2 + \lambda \lVert z \rVert^2,

and keeps the visible pixels as they are: :math:`\hat x = m \odot x + (1 - m) \odot G(z^\star)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from gan_helpers import metrics
from gan_helpers.classifier import MNISTClassifier, train_classifier
from gan_helpers.sampling import sample, to_uint8

__all__ = [
    "AugmentationResult",
    "ConditionalScores",
    "Inpainting",
    "LabelFidelity",
    "augmentation_run",
    "augmentation_training_set",
    "balanced_subset",
    "centre_mask",
    "conditional_scores",
    "fid_per_class",
    "half_mask",
    "inpaint",
    "inpaint_any_label",
    "inpainting_objective",
    "label_fidelity",
    "likely_labels",
    "masked_mse",
    "mean_fill",
    "nearest_neighbour_fill",
    "psnr",
    "random_pixel_mask",
    "within_class_diversity",
]


def _image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (channels, height, width) with positive sizes, got {tuple(image_shape)}")
    return shape  # type: ignore[return-value]


def centre_mask(image_shape: Sequence[int] = (1, 28, 28), size: int = 12) -> torch.Tensor:
    """Mask ``(C, H, W)`` that hides a centred ``size x size`` square (0 there, 1 elsewhere)."""
    c, h, w = _image_shape(image_shape)
    if not 1 <= size <= min(h, w):
        raise ValueError(f"size must be between 1 and {min(h, w)}, got {size}")
    mask = torch.ones(c, h, w)
    top, left = (h - size) // 2, (w - size) // 2
    mask[:, top : top + size, left : left + size] = 0.0
    return mask


def half_mask(image_shape: Sequence[int] = (1, 28, 28), hide: str = "bottom") -> torch.Tensor:
    """Mask ``(C, H, W)`` that hides one half of the image: ``hide`` is "bottom", "top", "left" or "right"."""
    c, h, w = _image_shape(image_shape)
    mask = torch.ones(c, h, w)
    halves = {
        "bottom": (slice(h // 2, h), slice(None)),
        "top": (slice(0, h // 2), slice(None)),
        "left": (slice(None), slice(0, w // 2)),
        "right": (slice(None), slice(w // 2, w)),
    }
    if hide not in halves:
        raise ValueError(f"hide must be one of {sorted(halves)}, got {hide!r}")
    rows, cols = halves[hide]
    mask[:, rows, cols] = 0.0
    return mask


def random_pixel_mask(image_shape: Sequence[int] = (1, 28, 28), missing: float = 0.8, seed: int = 0) -> torch.Tensor:
    """Mask ``(C, H, W)`` that hides each pixel position independently with probability ``missing`` (seeded)."""
    c, h, w = _image_shape(image_shape)
    if not 0.0 <= missing < 1.0:
        raise ValueError(f"missing must be in [0, 1), got {missing}")
    keep = torch.rand(1, h, w, generator=torch.Generator().manual_seed(seed)) >= missing
    return keep.float().expand(c, h, w).clone()  # the same pixels hidden in every channel


def _as_batch_mask(mask: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """``mask`` broadcast to ``images`` ``(B, C, H, W)``, or a ValueError that says what shape to pass."""
    if images.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
    try:
        return torch.broadcast_to(mask.to(images), images.shape)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the images {tuple(images.shape)}; "
            "pass (C, H, W) for one mask or (B, C, H, W) for one per image"
        ) from None


def inpainting_objective(
    generated: torch.Tensor, images: torch.Tensor, mask: torch.Tensor, z: torch.Tensor, prior_weight: float
) -> torch.Tensor:
    r"""Per-image objective :math:`\lVert m \odot (G(z) - x) \rVert^2 + \lambda \lVert z \rVert^2`, shape ``(B,)``."""
    data = (mask * (generated - images)).pow(2).flatten(1).sum(dim=1)  # (B,)
    return data + prior_weight * z.pow(2).sum(dim=1)


class Inpainting(NamedTuple):
    """What :func:`inpaint` returns: ``completed`` images, ``generated`` = G(z*), the best ``z`` and its ``loss``."""

    completed: torch.Tensor  # (B, C, H, W): m * x + (1 - m) * G(z*)
    generated: torch.Tensor  # (B, C, H, W): G(z*)
    z: torch.Tensor  # (B, latent_dim)
    loss: torch.Tensor  # (B,): the objective at z*


def inpaint(
    G: nn.Module,
    images: torch.Tensor,
    mask: torch.Tensor,
    steps: int = 300,
    lr: float = 0.05,
    prior_weight: float = 1e-3,
    restarts: int = 4,
    seed: int = 0,
    labels: torch.Tensor | None = None,
) -> Inpainting:
    r"""Fill the hidden pixels of ``images`` ``(B, C, H, W)`` in [-1, 1] with G's best guess.

    For each image, ``restarts`` latent vectors :math:`z \sim N(0, I)` (seeded by ``seed``) are
    optimised with Adam (``lr``, ``steps`` steps) on :func:`inpainting_objective` with
    :math:`\lambda` = ``prior_weight`` (the Gaussian prior keeps :math:`z` where G was trained);
    the restart with the lowest objective wins. Restart :math:`r` starts from the same noise whatever
    the number of restarts, so more restarts do not give a higher objective (up to rounding).
    ``mask`` is 1 on visible pixels and 0 on missing ones, ``(C, H, W)`` or ``(B, C, H, W)``.
    A conditional G also takes ``labels`` ``(B,)``. G runs in eval mode and is not changed (its mode is restored after).
    """
    if steps < 1 or restarts < 1 or not lr > 0 or prior_weight < 0:
        raise ValueError(
            "steps and restarts must be >= 1, lr > 0 and prior_weight >= 0; "
            f"got {steps}, {restarts}, {lr}, {prior_weight}"
        )
    device = next(G.parameters()).device
    images = images.to(device)
    mask = _as_batch_mask(mask, images)
    batch = len(images)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.cat([torch.randn(batch, G.latent_dim, generator=generator) for _ in range(restarts)])
    z = noise.to(device).requires_grad_(True)  # (R * B, latent_dim), restart r holds rows r*B .. r*B + B - 1
    x_rep, m_rep = images.repeat(restarts, 1, 1, 1), mask.repeat(restarts, 1, 1, 1)
    y_rep = labels.to(device).repeat(restarts) if labels is not None else None

    def generate(z: torch.Tensor) -> torch.Tensor:
        return G(z) if y_rep is None else G(z, y_rep)

    was_training, grads = G.training, [p.requires_grad for p in G.parameters()]
    G.eval().requires_grad_(False)  # eval: batch norm treats every row alone; no gradients into G
    try:
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            inpainting_objective(generate(z), x_rep, m_rep, z, prior_weight).sum().backward()
            opt.step()
        with torch.no_grad():
            generated = generate(z)
            loss = inpainting_objective(generated, x_rep, m_rep, z, prior_weight).view(restarts, batch)
    finally:
        G.train(was_training)
        for p, g in zip(G.parameters(), grads, strict=True):
            p.requires_grad_(g)
    best = loss.argmin(dim=0)  # (B,) the winning restart of each image
    rows = best * batch + torch.arange(batch, device=device)
    generated, z_best = generated[rows], z.detach()[rows]
    completed = mask * images + (1 - mask) * generated
    return Inpainting(completed, generated, z_best, loss[best, torch.arange(batch, device=device)])


def masked_mse(images: torch.Tensor, estimates: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Per-image mean squared error on the hidden pixels: :math:`\sum (1-m)(x - \hat x)^2 / \sum (1-m)`, ``(B,)``."""
    hidden = 1 - _as_batch_mask(mask, images)
    counts = hidden.flatten(1).sum(dim=1)
    if (counts == 0).any():
        raise ValueError("the mask hides no pixel of some image: there is nothing to score")
    return (hidden * (images - estimates.to(images)).pow(2)).flatten(1).sum(dim=1) / counts


def psnr(images: torch.Tensor, estimates: torch.Tensor, mask: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    r"""Per-image peak signal-to-noise ratio on the hidden pixels, in dB: :math:`10 \log_{10}(R^2 / \mathrm{MSE})`.

    ``data_range`` :math:`R` is 2 for images in [-1, 1]. Higher is better; +6 dB halves the RMS error.
    """
    mse = masked_mse(images, estimates, mask).clamp_min(1e-12)
    return 10.0 * torch.log10(data_range**2 / mse)


def mean_fill(images: torch.Tensor, mask: torch.Tensor, train_images: torch.Tensor) -> torch.Tensor:
    r"""Baseline: hidden pixels take the training data's per-pixel mean, :math:`m \odot x + (1-m) \odot \bar x`."""
    mask = _as_batch_mask(mask, images)
    mean = train_images.to(images).mean(dim=0, keepdim=True)  # (1, C, H, W)
    return mask * images + (1 - mask) * mean


def nearest_neighbour_fill(
    images: torch.Tensor, mask: torch.Tensor, train_images: torch.Tensor, chunk: int = 256
) -> torch.Tensor:
    r"""Baseline: hidden pixels come from the training image nearest on the *visible* pixels.

    Neighbour :math:`j^\star = \arg\min_j \lVert m \odot (x - t_j) \rVert^2`, computed for binary
    masks as :math:`\sum m x^2 - 2 \langle m x, t_j \rangle + \langle m, t_j^2 \rangle`; then
    :math:`m \odot x + (1 - m) \odot t_{j^\star}`.
    """
    mask = _as_batch_mask(mask, images)
    train = train_images.to(images).flatten(1)  # (N, P)
    picks = []
    for start in range(0, len(images), chunk):
        x, m = images[start : start + chunk].flatten(1), mask[start : start + chunk].flatten(1)
        dist = (m * x * x).sum(1, keepdim=True) - 2 * (m * x) @ train.T + m @ (train * train).T  # (b, N)
        picks.append(dist.argmin(dim=1))
    neighbours = train[torch.cat(picks)].view_as(images)
    return mask * images + (1 - mask) * neighbours


# --- Conditional G: samples of asked classes, and how often a classifier agrees with the asked label ---


class LabelFidelity(NamedTuple):
    """How often a classifier reads the asked label in a conditional G's samples."""

    accuracy: float  # share of all samples classified as the asked label
    per_class: torch.Tensor  # (K,) that share for each asked class
    confusion: torch.Tensor  # (K, K) counts: row = asked label, column = classifier's label


def label_fidelity(
    G: nn.Module, classifier: nn.Module, per_class: int = 100, seed: int = 0, truncation: float | None = None
) -> LabelFidelity:
    r"""Ask G for ``per_class`` images of each class and classify them.

    Per class :math:`k`: :math:`a_k = \frac{1}{n} \sum_i [\hat c(G(z_i, k)) = k]`; overall
    :math:`a = \frac1K \sum_k a_k` (equal numbers per class). ``confusion[k, j]`` counts samples asked
    as :math:`k` and classified as :math:`j`. ``truncation``: draw :math:`z` from the truncated normal of
    :func:`gan_helpers.sampling.truncated_noise` with that threshold (None: :math:`\mathcal N(0, I)`).
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    num_classes = G.num_classes
    asked = torch.arange(num_classes).repeat_interleave(per_class)  # (K * n,)
    predicted = metrics.classify(classifier, sample(G, seed=seed, labels=asked, truncation=truncation))
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion.index_put_((asked, predicted), torch.ones_like(asked), accumulate=True)
    per_class_share = confusion.diagonal().double() / per_class
    return LabelFidelity(float(per_class_share.mean()), per_class_share, confusion)


def fid_per_class(
    G: nn.Module,
    classifier: nn.Module,
    real_images: torch.Tensor,
    real_labels: torch.Tensor,
    per_class: int = 100,
    seed: int = 0,
) -> list[float]:
    """FID (classifier features) of ``per_class`` samples of each class against the real images of that class.

    ``real_images`` are uint8 or in [-1, 1]; each class uses all its real images. With few images
    per class FID is biased upwards (see notebook 06): compare classes at the same ``per_class``.
    """
    real_labels = torch.as_tensor(real_labels)
    scores = []
    for k in range(G.num_classes):
        real = torch.as_tensor(real_images)[real_labels == k]
        if len(real) < 2:
            raise ValueError(f"class {k} has {len(real)} real images; FID needs at least 2 per class")
        fake = sample(G, seed=seed + k, labels=torch.full((per_class,), k))
        real_features = metrics.extract_features(classifier, real)
        scores.append(metrics.fid(real_features, metrics.extract_features(classifier, fake)))
    return [float(np.round(s, 6)) for s in scores]


class ConditionalScores(NamedTuple):
    """What :func:`conditional_scores` returns: does a conditional G obey the label, and vary within a class?"""

    fidelity: LabelFidelity
    diversity: torch.Tensor  # (K,) within-class diversity against unseen real digits (about 1 is healthy)
    fid: list[float]  # per-class FID against the unseen real digits of the class

    def __str__(self) -> str:
        return (
            f"label fidelity {self.fidelity.accuracy:.2%} (lowest class {float(self.fidelity.per_class.min()):.1%}), "
            f"within-class diversity {float(self.diversity.min()):.2f} to {float(self.diversity.max()):.2f}, "
            f"per-class FID {min(self.fid):.1f} to {max(self.fid):.1f}"
        )


def conditional_scores(
    G: nn.Module,
    classifier: nn.Module,
    real_images: torch.Tensor,
    real_labels: torch.Tensor,
    fidelity_per_class: int = 500,
    diversity_per_class: int = 100,
    fid_per_class_n: int = 200,
) -> ConditionalScores:
    """The three measures of a conditional G against unseen real digits (uint8 or [-1, 1]) of every class:
    :func:`label_fidelity`, :func:`within_class_diversity` and :func:`fid_per_class` at these sizes."""
    return ConditionalScores(
        label_fidelity(G, classifier, per_class=fidelity_per_class),
        within_class_diversity(G, real_images, real_labels, per_class=diversity_per_class),
        fid_per_class(G, classifier, real_images, real_labels, per_class=fid_per_class_n),
    )


# --- Data augmentation with a conditional G in the low-data regime ---


def balanced_subset(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` examples of every class, drawn at random (seeded) without replacement."""
    labels = torch.as_tensor(labels)
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for k in labels.unique().tolist():
        members = (labels == k).nonzero().flatten()
        if len(members) < per_class:
            raise ValueError(f"class {k} has {len(members)} examples, fewer than per_class={per_class}")
        picks.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(picks)


def augmentation_training_set(
    G: nn.Module | None,
    images: torch.Tensor,
    labels: torch.Tensor,
    synthetic_per_class: int = 0,
    seed: int = 0,
    real_copies: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Real uint8 digits ``images`` (each ``real_copies`` times) plus ``synthetic_per_class`` samples
    :math:`G(z, k)` of every class :math:`k` as uint8, with their labels: ``(N, 28, 28)`` and ``(N,)``.

    Repeating the real digits fixes their *exposure*: over :math:`E` epochs each is seen
    ``real_copies`` :math:`\times E` times, however many synthetic digits stand beside it. ``images``
    may hold no digit (shape ``(0, 28, 28)``): the set is then G's samples alone, as for the
    classification accuracy score of Ravuri and Vinyals (2019). The noise is seeded by ``seed``.
    """
    train_x, train_y = torch.as_tensor(images), torch.as_tensor(labels).long()
    if real_copies < 1:
        raise ValueError(f"real_copies must be at least 1, got {real_copies}")
    if len(train_x) == 0 and synthetic_per_class < 1:
        raise ValueError("nothing to train on: no real digits and synthetic_per_class = 0")
    train_x, train_y = train_x.repeat(real_copies, 1, 1), train_y.repeat(real_copies)
    if synthetic_per_class > 0:
        if G is None:
            raise ValueError("synthetic_per_class > 0 needs a conditional G")
        asked = torch.arange(G.num_classes).repeat_interleave(synthetic_per_class)
        fake = to_uint8(sample(G, seed=10_000 + seed, labels=asked))[:, 0]  # (M, 28, 28) uint8
        train_x, train_y = torch.cat([train_x, fake]), torch.cat([train_y, asked])
    return train_x, train_y


class AugmentationResult(NamedTuple):
    """What :func:`augmentation_run` returns: the test ``accuracy`` and, when asked, the accuracy after each epoch."""

    accuracy: float
    curve: list[float]  # accuracy on the curve digits after each epoch (empty when none were given)


def augmentation_run(
    G: nn.Module | None,
    images: torch.Tensor,
    labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    synthetic_per_class: int = 0,
    epochs: int = 10,
    seed: int = 0,
    channels: tuple[int, int] = (8, 16),
    real_copies: int = 1,
    curve_images: torch.Tensor | None = None,
    curve_labels: torch.Tensor | None = None,
) -> AugmentationResult:
    r"""Test accuracy of a small :class:`~gan_helpers.classifier.MNISTClassifier` trained for ``epochs`` epochs
    on :func:`augmentation_training_set` (real digits, ``real_copies`` times each, plus G's samples).

    Training is :func:`gan_helpers.classifier.train_classifier` (with its random affine augmentation),
    seeded by ``seed`` for the weights, the batches and the synthetic noise. With ``curve_images`` and
    ``curve_labels`` the accuracy on them is also measured after every epoch: the curve shows whether
    training had converged (it is not used to stop or to choose anything).
    """
    train_x, train_y = augmentation_training_set(G, images, labels, synthetic_per_class, seed, real_copies)
    torch.manual_seed(seed)
    model = MNISTClassifier(channels=channels, feature_dim=64)
    history = train_classifier(
        model, train_x, train_y, epochs=epochs, seed=seed, progress=False, device="cpu",
        eval_images=curve_images, eval_labels=curve_labels,
    )  # fmt: skip
    curve = history["eval_accuracy"].tolist() if curve_images is not None else []
    return AugmentationResult(metrics.classifier_accuracy(model, test_images, test_labels), curve)


def inpaint_any_label(
    G: nn.Module, images: torch.Tensor, mask: torch.Tensor, candidates: torch.Tensor | None = None, **options: float
) -> tuple[Inpainting, torch.Tensor]:
    r"""Inpaint with a conditional G when the class is unknown: try several labels, keep the best.

    Runs :func:`inpaint` once on every image paired with every label :math:`k` it may have (``options``
    are its keyword arguments) and keeps, per image, the label with the lowest objective,
    :math:`\min_k \min_z \lVert m \odot (G(z, k) - x)\rVert^2 + \lambda \lVert z \rVert^2`. ``candidates``
    ``(B, L)`` lists the labels to try for each image (default: all ``G.num_classes``; fewer, such as the
    classifier's :func:`likely_labels`, cost proportionally less). Returns the best :class:`Inpainting`
    and the chosen labels ``(B,)``.
    """
    batch = len(images)
    if candidates is None:
        candidates = torch.arange(G.num_classes).repeat(batch, 1)
    candidates = torch.as_tensor(candidates).long().cpu()
    if candidates.ndim != 2 or len(candidates) != batch:
        raise ValueError(
            f"candidates must be (B, L) labels for B = {batch} images, got shape {tuple(candidates.shape)}"
        )
    tries = candidates.shape[1]
    repeated = images.repeat_interleave(tries, dim=0)  # image i appears as rows i*L .. i*L + L - 1
    mask = mask if mask.ndim == 3 else mask.repeat_interleave(tries, dim=0)
    result = inpaint(G, repeated, mask, labels=candidates.flatten(), **options)  # type: ignore[arg-type]
    best = result.loss.view(batch, tries).argmin(dim=1)  # (B,)
    rows = torch.arange(batch, device=best.device) * tries + best
    picked = Inpainting(*(part[rows] for part in result))
    return picked, candidates[torch.arange(batch), best.cpu()]


def likely_labels(classifier: nn.Module, images: torch.Tensor, k: int = 2) -> torch.Tensor:
    """The ``k`` classes the classifier finds most probable for each image (uint8 or [-1, 1]), ``(B, k)``.

    For inpainting, classify a baseline's completion (say :func:`nearest_neighbour_fill`) and let
    :func:`inpaint_any_label` try only these labels.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    _, logits = metrics.classifier_outputs(classifier, images)
    return logits.topk(k, dim=1).indices  # the logits' order is the probabilities' order


def within_class_diversity(
    G: nn.Module,
    real_images: torch.Tensor,
    real_labels: torch.Tensor,
    per_class: int = 32,
    seed: int = 0,
    truncation: float | None = None,
) -> torch.Tensor:
    r"""Per class :math:`k`, the mean pairwise distance of ``per_class`` samples :math:`G(z_i, k)` over that of
    ``per_class`` real digits of class :math:`k` (:func:`gan_helpers.metrics.diversity_ratio`), shape ``(K,)``.

    About 1: the samples of a class vary as much as real digits of it; near 0: G ignores its noise
    and draws one digit per class (mode collapse within the class), which label fidelity cannot see.
    ``truncation``: the samples' noise is :func:`gan_helpers.sampling.truncated_noise` with that threshold.
    """
    real_labels = torch.as_tensor(real_labels)
    ratios = []
    for k in range(G.num_classes):
        real = metrics.as_unit_images(torch.as_tensor(real_images)[real_labels == k][:per_class])
        fake = sample(G, seed=seed + k, labels=torch.full((per_class,), k), truncation=truncation)
        ratios.append(metrics.diversity_ratio(fake, real))
    return torch.tensor(ratios, dtype=torch.float64)
