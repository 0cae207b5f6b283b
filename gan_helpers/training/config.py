"""The hyperparameters of a GAN training run, and the error raised when training diverges."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from gan_helpers import acceleration, losses
from gan_helpers.data.augment import check_augmentations

__all__ = ["DIVERGENCE_CAUSES", "TrainConfig", "TrainingDiverged", "check_finite"]


class TrainingDiverged(FloatingPointError):
    """Training diverged: a loss became NaN, infinite or larger than ``TrainConfig.max_abs_loss``, or a
    parameter or buffer of G or D became NaN or infinite; the message names the step (or tensor) and the
    usual causes."""


#: What usually makes a GAN diverge, and what to do: the tail of every :class:`TrainingDiverged` message.
DIVERGENCE_CAUSES = (
    "Usual causes: a learning rate too high, a loss applied to probabilities instead of logits (log of 0), "
    "or inputs not scaled to the range G produces. Lower lr, check the loss, or restart from the last checkpoint."
)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a GAN run: ``TrainConfig(steps=500)``, ``config.replace(lr=1e-3)`` (a checked copy).

    ``lr_d``/``lr_g`` default to ``lr``; setting them apart gives two time-scale updates (TTUR).
    ``loss`` is ``"nonsaturating"``, ``"saturating"`` or ``"wgan-gp"`` (then D is a critic and
    ``gp_weight`` scales the gradient penalty). ``label_smoothing`` s trains D against real
    targets 1 - s (one-sided). The batch size belongs to the data source
    (:class:`gan_helpers.data.DeviceBatches`, :class:`gan_helpers.data.SampledBatches`), and a G with
    ``num_classes`` is trained conditionally, so neither is a setting here.

    How the arithmetic runs (:mod:`gan_helpers.acceleration`; the losses and models are the same
    either way): ``precision`` is ``"auto"`` (bf16 autocast for convolutional models where the
    device multiplies bf16 natively, else fp32), ``"fp32"`` or ``"bf16"``; ``compile=True`` runs
    G and D through ``torch.compile`` (worth it on a GPU; the first steps then take tens of seconds),
    in ``compile_mode`` (:data:`gan_helpers.acceleration.COMPILE_MODES`; ``"reduce-overhead"``: CUDA graphs,
    CUDA only).

    The divergence guard stops training with :class:`TrainingDiverged` at the first step whose loss
    (D's or G's) is NaN, infinite or larger in absolute value than ``max_abs_loss`` (a loss that
    explodes without going non-finite; ``float("inf")`` keeps only the NaN/infinity check), and when
    a parameter or floating buffer of G or D (a batch-norm running variance, say) is NaN or infinite.
    Healthy GAN losses stay below about 10; a loss of 1e6 means logits of about 1e6 (``lr=1e6`` gets
    there within a few steps), while notebook 02's deliberately unstable "lr x 100" run peaks near
    2e4 and is left to run.

    ``augment`` names differentiable augmentations (:func:`gan_helpers.data.diff_augment`:
    ``("translation", "cutout")``) applied to every image D sees, real and fake, in both players'
    updates (Zhao et al. 2020): the remedy for a D that memorises a small training set.
    ``ema_decay`` > 0 (the decay of the average) makes :func:`gan_helpers.training.train_epochs` keep a moving
    average of G's weights (:class:`gan_helpers.training.GeneratorAverage`), the generator that the
    run's samples, its exported weights and its evaluation use; 0 keeps none.
    """

    steps: int = 1000
    lr: float = 2e-4
    lr_d: float | None = None
    lr_g: float | None = None
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    loss: str = "nonsaturating"
    label_smoothing: float = 0.0
    gp_weight: float = 10.0
    log_every: int = 10
    precision: str = "auto"
    compile: bool = False
    compile_mode: str = "default"
    max_abs_loss: float = 1e6
    augment: tuple[str, ...] = ()
    ema_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.precision not in acceleration.PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}; choose one of {acceleration.PRECISIONS}.")
        if self.compile_mode not in acceleration.COMPILE_MODES:
            raise ValueError(f"Unknown compile_mode {self.compile_mode!r}; choose one of {acceleration.COMPILE_MODES}.")
        if self.loss not in losses.LOSS_KINDS:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {losses.LOSS_KINDS}.")
        for name in ("steps", "d_steps", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        for name in ("lr", "lr_d", "lr_g"):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise ValueError(f"{name} must be positive and finite, got {value}")
        object.__setattr__(self, "augment", check_augmentations(self.augment))
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0: none; 0.999: ~1,000 steps), got {self.ema_decay!r}")
        if not self.max_abs_loss > 0:  # also refuses NaN
            raise ValueError(f"max_abs_loss must be positive (float('inf') for no limit), got {self.max_abs_loss}")
        object.__setattr__(self, "betas", tuple(self.betas))

    @property
    def lr_discriminator(self) -> float:
        return self.lr if self.lr_d is None else self.lr_d

    @property
    def lr_generator(self) -> float:
        return self.lr if self.lr_g is None else self.lr_g

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (checked like a new config): ``config.replace(steps=3000)``."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config saved as ``asdict(config)``; keys of older versions (batch size, display) are dropped."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def check_finite(values: dict[str, float], step: int) -> None:
    """Raise :class:`TrainingDiverged` naming ``step`` when any of the logged ``values`` is NaN or infinite."""
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if bad:
        raise TrainingDiverged(f"Training diverged at step {step}: {bad} is not finite. {DIVERGENCE_CAUSES}")
