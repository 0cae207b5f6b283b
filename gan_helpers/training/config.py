"""The hyperparameters of a GAN training run, and the error raised when training diverges."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from gan_helpers import acceleration, losses

__all__ = ["TrainConfig", "TrainingDiverged", "check_finite"]


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite; the message names the step and the usual causes."""


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
    G and D through ``torch.compile`` (worth it on a GPU; the first steps then take tens of seconds).
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

    def __post_init__(self) -> None:
        if self.precision not in acceleration.PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}; choose one of {acceleration.PRECISIONS}.")
        if self.loss not in losses.LOSS_KINDS:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {losses.LOSS_KINDS}.")
        for name in ("steps", "d_steps", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        for name in ("lr", "lr_d", "lr_g"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
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
        raise TrainingDiverged(
            f"Training diverged at step {step}: {bad} is not finite. Usual causes: a learning rate "
            "too high, a loss applied to probabilities instead of logits (log of 0), or inputs not "
            "scaled to the range G produces. Lower lr, check the loss, or restart from the last "
            "checkpoint."
        )
