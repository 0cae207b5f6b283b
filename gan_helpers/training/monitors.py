"""Callbacks that watch a run: warnings with a hint when training runs but goes wrong, and sample quality
(FID, class coverage) measured once per epoch."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_helpers import metrics, sampling
from gan_helpers.training.history import Callback, History

__all__ = [
    "COLLAPSE_DROP",
    "COLLAPSE_FLOOR",
    "D_WINS_D_FAKE",
    "D_WINS_LOSS",
    "D_WINS_STEPS",
    "CollapseCallback",
    "DiscriminatorWinsCallback",
    "DiscriminatorWinsWarning",
    "ModeCollapseWarning",
    "QualityCallback",
    "TrainingWarning",
    "collapse_message",
]


class TrainingWarning(UserWarning):
    """Training runs, but a diagnostic callback says something is going wrong; the message gives a hint."""


class DiscriminatorWinsWarning(TrainingWarning):
    """D's loss and D(G(z)) have stayed near 0 for many steps: D wins outright and G learns little."""


class ModeCollapseWarning(TrainingWarning):
    """The fixed-noise samples have lost most of their diversity compared with real data."""


#: D "wins outright" when loss_d < D_WINS_LOSS and D(G(z)) < D_WINS_D_FAKE for D_WINS_STEPS steps.
D_WINS_LOSS = 0.1
D_WINS_D_FAKE = 0.05
D_WINS_STEPS = 200
#: Samples "lose diversity" when their diversity ratio falls below COLLAPSE_DROP times its best
#: value at an earlier epoch, or below COLLAPSE_FLOOR (from epoch 2 on).
COLLAPSE_DROP = 0.5
COLLAPSE_FLOOR = 0.05


class DiscriminatorWinsCallback(Callback):
    """Warns (once) when D wins outright: ``loss_d`` and ``d_fake`` near 0 for ``patience`` steps."""

    def __init__(
        self, loss_below: float = D_WINS_LOSS, d_fake_below: float = D_WINS_D_FAKE, patience: int = D_WINS_STEPS
    ) -> None:
        self.loss_below = loss_below
        self.d_fake_below = d_fake_below
        self.patience = patience
        self.since: int | None = None
        self.warned = False

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if "d_fake" not in history:  # WGAN critics log scores, not probabilities
            return
        winning = history.last("loss_d") < self.loss_below and history.last("d_fake") < self.d_fake_below
        if not winning:
            self.since = None
            return
        if self.since is None:
            steps = history.steps("loss_d")
            self.since = int(steps[-2]) if len(steps) > 1 else 0  # the streak began after the previous log
        if step - self.since >= self.patience and not self.warned:
            self.warned = True
            warnings.warn(
                f"D wins outright: for {step - self.since} steps (up to step {step}) its loss stayed below "
                f"{self.loss_below} and D(G(z)) below {self.d_fake_below}, so G gets almost no useful "
                "gradient. Hints: check that G is trained towards the label 'real' (non-saturating "
                "loss), that G's output range matches the data's ([-1, 1] with Tanh), and give D less "
                "power (a lower lr for D, fewer d_steps, label smoothing).",
                DiscriminatorWinsWarning,
                stacklevel=4,  # the line that called train_epochs (on_log <- train_gan <- train_epochs <- caller)
            )


def collapse_message(ratios: Sequence[float]) -> str | None:
    """Why the latest of the per-epoch diversity ratios (epochs 1, 2, ...) looks collapsed, or None.

    Early samples are all alike (G has not found the data yet), so a low ratio alone is no alarm:
    the samples must have *lost* diversity, falling below ``COLLAPSE_DROP`` times their best ratio
    so far, or be nearly identical (below ``COLLAPSE_FLOOR``) after the first epoch.
    """
    if len(ratios) < 2:
        return None
    current, best = ratios[-1], max(ratios[:-1])
    if current < COLLAPSE_FLOOR:
        return f"is {current:.3f} of the real data's: the samples are nearly all the same"
    if current < COLLAPSE_DROP * best:
        return f"fell to {current:.2f} of the real data's, from {best:.2f} at an earlier epoch"
    return None


class CollapseCallback(Callback):
    """Warns (once) when, after an epoch, :func:`collapse_message` finds the logged ``diversity`` collapsed."""

    def __init__(self) -> None:
        self.warned = False

    def on_epoch_end(self, run: Any) -> None:
        if self.warned:
            return
        ratios = list(run.history["diversity"])
        why = collapse_message(ratios)
        if why is not None:
            self.warned = True
            warnings.warn(
                f"Samples lose diversity: after epoch {len(ratios)} the mean pairwise distance of the "
                f"fixed-noise samples {why}. G may be collapsing onto a few outputs. Hints: look at the "
                "sample grid; lower the learning rates, use the non-saturating loss, or try label "
                "smoothing, minibatch standard deviation or WGAN-GP.",
                ModeCollapseWarning,
                stacklevel=3,  # the line that called train_epochs (on_epoch_end <- train_epochs <- caller)
            )


class QualityCallback(Callback):
    r"""Logs ``fid``, ``classes_covered`` and ``kl_from_uniform`` after every epoch of a run.

    After every epoch it draws ``n`` samples of G (of the moving average of G's weights when the run
    keeps one: :meth:`~gan_helpers.training.Run.sampling_generator`) from the same seeded noise
    (:func:`gan_helpers.sampling.sample`, eval mode, no gradients, G's mode restored) and compares
    their ``classifier`` features with those of ``n`` fixed real images (a seeded subset of
    ``real_images``, featurised once): :math:`\mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2 +
    \operatorname{Tr}(\Sigma_r + \Sigma_g - 2 (\Sigma_r^{1/2} \Sigma_g \Sigma_r^{1/2})^{1/2})`
    (:func:`gan_helpers.metrics.fid`) and the class histogram of the classifier's predictions
    (:func:`gan_helpers.metrics.class_coverage`). The values are logged at the epoch's last step, so
    ``run.history.steps("fid")`` lines up with the other per-epoch entries. It uses its own random
    generators: training with or without it gives the same weights. ``measure(G)`` measures any
    generator at the same ``n`` against the same real images.
    """

    def __init__(
        self,
        classifier: nn.Module,
        real_images: torch.Tensor | np.ndarray,
        n: int = 500,
        seed: int = 0,
        min_share: float = 0.02,
        device: torch.device | str | None = None,
    ) -> None:
        real_images = torch.as_tensor(real_images)
        if n < 2:
            raise ValueError(f"n must be at least 2 (FID needs a covariance), got {n}")
        if len(real_images) < n:
            raise ValueError(f"need at least n = {n} real images, got {len(real_images)}; pass more or lower n")
        self.classifier, self.n, self.seed, self.min_share, self.device = classifier, n, seed, min_share, device
        order = torch.randperm(len(real_images), generator=torch.Generator().manual_seed(seed))[:n]
        self.real_features = metrics.extract_features(classifier, real_images[order], device=device)

    def measure(self, G: nn.Module) -> dict[str, float]:
        """FID, classes covered and KL from uniform of ``n`` samples of ``G`` (noise seeded by ``seed``)."""
        x_fake = sampling.sample(G, self.n, seed=self.seed, device=self.device)
        features, logits = metrics.classifier_outputs(self.classifier, x_fake, device=self.device)
        coverage = metrics.class_coverage(logits.argmax(1), num_classes=logits.shape[1], min_share=self.min_share)
        return {
            "fid": metrics.fid(self.real_features, features),
            "classes_covered": float(coverage.classes_covered),
            "kl_from_uniform": coverage.kl_from_uniform,
        }

    def on_epoch_end(self, run: Any) -> None:
        """Measure the run's sampling generator: the moving average of G when it keeps one, else G."""
        run.history.log(run.step, **self.measure(run.sampling_generator()))
