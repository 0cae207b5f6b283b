r"""Image-quality metrics in a classifier's feature space: features and labels, FID, class coverage, reports.

Images are uint8 pixels or floats in [-1, 1] (:func:`as_unit_images`); the classifier
(:class:`gan_helpers.classifier.MNISTClassifier`) gives features and logits in one pass
(:func:`classifier_outputs`). :func:`evaluate_generator` samples G with :func:`gan_helpers.sampling.sample`
and reports FID, precision/recall (:mod:`gan_helpers.metrics.coverage`) and class coverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gan_helpers import sampling
from gan_helpers.metrics.coverage import precision_recall

__all__ = [
    "ClassCoverage",
    "FIDCurve",
    "FeatureStatistics",
    "GeneratorReport",
    "SampleScores",
    "as_unit_images",
    "class_coverage",
    "classifier_accuracy",
    "classifier_outputs",
    "classify",
    "confident_share",
    "evaluate_generator",
    "evaluate_samples",
    "extract_features",
    "feature_statistics",
    "fid",
    "fid_versus_sample_size",
    "frechet_distance",
    "inception_score",
    "score_generator",
    "score_samples",
]


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


def classifier_outputs(
    classifier: nn.Module,
    images: torch.Tensor | np.ndarray,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(N, d)`` and logits ``(N, classes)`` of ``images`` in one pass, on the CPU.

    ``classifier`` needs ``features(x)`` and ``head(features)`` (as :class:`gan_helpers.classifier.MNISTClassifier`).
    It runs in eval mode under ``torch.no_grad()``, in batches; its mode is restored after.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not (hasattr(classifier, "features") and hasattr(classifier, "head")):
        raise TypeError("classifier must have features(x) and head(f) methods, as gh.classifier.MNISTClassifier")
    images = torch.as_tensor(images)
    device = sampling.model_device(classifier, device)
    features, logits = [], []
    with sampling.eval_mode(classifier):
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
    """:func:`evaluate_samples` of ``n`` samples of ``G`` (drawn by :func:`gan_helpers.sampling.sample` with ``seed``).

    G is sampled in eval mode under ``torch.no_grad()`` and its mode is restored after.
    """
    x_fake = sampling.sample(G, n, seed=seed, device=device)
    return evaluate_samples(x_fake, classifier, real_images, n=n, seed=seed, k=k, min_share=min_share, device=device)


def inception_score(logits: torch.Tensor) -> float:
    r"""Inception score in a classifier's label space (Salimans et al. 2016) from logits ``(N, K)``:

    .. math:: \mathrm{IS} = \exp\Big(\tfrac1N \sum_i \mathrm{KL}\big(p(y \mid x_i) \,\|\, \hat p(y)\big)\Big),
       \qquad \hat p(y) = \tfrac1N \sum_i p(y \mid x_i).

    It lies in :math:`[1, K]`: :math:`K` when every sample is classified with certainty and the classes
    are equally frequent; 1 when every sample gets the same prediction. It never looks at real data.
    """
    log_p = torch.log_softmax(logits.double(), dim=1)  # (N, K)
    log_marginal = torch.logsumexp(log_p, dim=0) - torch.log(torch.tensor(float(len(log_p)), dtype=torch.float64))
    kl = (log_p.exp() * (log_p - log_marginal)).sum(dim=1)  # (N,)
    return float(torch.exp(kl.mean()))


def confident_share(logits: torch.Tensor, threshold: float = 0.9) -> float:
    """Share of samples whose top class probability exceeds ``threshold``: how many read as one clear digit."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    return float((torch.softmax(logits.double(), dim=1).amax(dim=1) > threshold).double().mean())


@dataclass(frozen=True)
class SampleScores:
    """The four numbers a shipped generator is judged by (n samples, against unseen real digits):
    ``fid``, ``confident`` (:func:`confident_share` above 0.9), ``inception`` (:func:`inception_score`)
    and the class ``shares``; ``in_band`` counts the classes with a share in [``low``, ``high``]."""

    fid: float
    confident: float
    inception: float
    shares: tuple[float, ...]
    n: int
    low: float = 0.07
    high: float = 0.13

    @property
    def in_band(self) -> int:
        return sum(self.low <= s <= self.high for s in self.shares)

    def __str__(self) -> str:
        return (
            f"FID {self.fid:.1f} | confident (p > 0.9) {self.confident:.1%} | IS {self.inception:.2f} | "
            f"classes in {self.low:.0%}-{self.high:.0%}: {self.in_band}/{len(self.shares)} (n = {self.n})"
        )


def score_samples(
    fake_images: torch.Tensor | np.ndarray,
    classifier: nn.Module,
    reference_features: torch.Tensor,
    device: torch.device | str | None = None,
) -> SampleScores:
    """:class:`SampleScores` of ``fake_images`` against the features of real digits (:func:`extract_features`)."""
    features, logits = classifier_outputs(classifier, fake_images, device=device)
    shares = torch.bincount(logits.argmax(1), minlength=logits.shape[1]).double() / len(logits)
    return SampleScores(
        fid(reference_features, features),
        confident_share(logits),
        inception_score(logits),
        tuple(float(s) for s in shares),
        len(logits),
    )


def score_generator(
    G: nn.Module,
    classifier: nn.Module,
    reference_features: torch.Tensor,
    seed: int = 1,
    device: torch.device | str | None = None,
) -> SampleScores:
    """:func:`score_samples` of as many samples of ``G`` as there are reference features
    (:func:`gan_helpers.sampling.sample` with ``seed``, eval mode, no gradients)."""
    x_fake = sampling.sample(G, len(reference_features), seed=seed, device=device)
    return score_samples(x_fake, classifier, reference_features, device=device)
