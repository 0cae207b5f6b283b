r"""The training loop shared by every notebook: alternating discriminator and generator steps.

One *step* is ``d_steps`` updates of D followed by one update of G. D minimises its loss on a
real batch and a detached fake batch; G then minimises its loss through a frozen D. The loop
reports through a :class:`History` and callbacks; it never plots.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from gan_helpers import losses

__all__ = [
    "Callback",
    "History",
    "TrainConfig",
    "TrainingDiverged",
    "batch_stream",
    "discriminator_step_loss",
    "generator_step_loss",
    "make_optimizers",
    "sample_noise",
    "train_discriminator",
    "train_gan",
]


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite; the message names the step and the usual causes."""


@dataclass
class TrainConfig:
    """Settings of :func:`train_gan`. Notebooks override what they need: ``TrainConfig(steps=500)``.

    ``lr_d``/``lr_g`` default to ``lr``; setting them apart gives two time-scale updates (TTUR).
    ``loss`` is ``"nonsaturating"``, ``"saturating"`` or ``"wgan-gp"`` (then D is a critic and
    ``gp_weight`` scales the gradient penalty). ``label_smoothing`` s trains D against real
    targets 1 - s (one-sided).
    """

    steps: int = 1000
    batch_size: int = 128
    lr: float = 2e-4
    lr_d: float | None = None
    lr_g: float | None = None
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    loss: str = "nonsaturating"
    label_smoothing: float = 0.0
    gp_weight: float = 10.0
    log_every: int = 10
    progress: bool = True
    desc: str = "training"

    def __post_init__(self) -> None:
        if self.loss not in losses.LOSS_KINDS:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {losses.LOSS_KINDS}.")
        for name in ("steps", "batch_size", "d_steps", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        for name in ("lr", "lr_d", "lr_g"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")

    @property
    def lr_discriminator(self) -> float:
        return self.lr if self.lr_d is None else self.lr_d

    @property
    def lr_generator(self) -> float:
        return self.lr if self.lr_g is None else self.lr_g


class History:
    """Logged values by name, each with the step at which it was logged.

    ``history["loss_d"]`` is a NumPy array of values, ``history.steps("loss_d")`` their steps.
    Different quantities may be logged at different rates (losses every ``log_every`` steps, a
    costly metric every few hundred).
    """

    def __init__(self) -> None:
        self._steps: dict[str, list[int]] = defaultdict(list)
        self._values: dict[str, list[float]] = defaultdict(list)

    def log(self, step: int, **values: float) -> None:
        """Record ``values`` (name=number) at ``step``."""
        for name, value in values.items():
            self._steps[name].append(int(step))
            self._values[name].append(float(value))

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._values:
            raise KeyError(f"nothing logged under {name!r}; logged: {sorted(self._values)}")
        return np.asarray(self._values[name])

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def steps(self, name: str) -> np.ndarray:
        """The steps at which ``name`` was logged."""
        self[name]  # raises a helpful KeyError when missing
        return np.asarray(self._steps[name])

    def last(self, name: str) -> float:
        """The most recent value of ``name``."""
        return float(self[name][-1])

    def keys(self) -> list[str]:
        return sorted(self._values)

    def state_dict(self) -> dict[str, dict[str, list]]:
        """Plain lists, for checkpoints (loadable with ``weights_only=True``)."""
        return {"steps": dict(self._steps), "values": dict(self._values)}

    def load_state_dict(self, state: dict[str, dict[str, list]]) -> None:
        self._steps = defaultdict(list, {k: list(v) for k, v in state["steps"].items()})
        self._values = defaultdict(list, {k: list(v) for k, v in state["values"].items()})

    def __repr__(self) -> str:
        return f"History({', '.join(f'{k}: {len(v)}' for k, v in sorted(self._values.items()))})"


Callback = Callable[[int, History, nn.Module, nn.Module], None]
"""Called as ``callback(step, history, G, D)`` after each log point."""


def sample_noise(batch_size: int, latent_dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    r"""Latent noise :math:`z \sim \mathcal{N}(0, I)`, shape ``(batch_size, latent_dim)``."""
    return torch.randn(batch_size, latent_dim, device=device)


def batch_stream(source: Callable[[int], torch.Tensor] | Iterable[Any], batch_size: int) -> Iterator[torch.Tensor]:
    """Endless real batches from a sampler ``source(batch_size)`` or an iterable of batches.

    An iterable (e.g. :class:`gan_helpers.data.DeviceBatches`) is re-iterated when exhausted, so
    each pass is one epoch; ``(images, labels)`` pairs yield the images.
    """
    if callable(source) and not isinstance(source, Iterable):
        while True:
            yield source(batch_size)
    else:
        while True:
            empty = True
            for batch in source:
                empty = False
                yield batch[0] if isinstance(batch, (tuple, list)) else batch
            if empty:
                raise ValueError("the data source yielded no batches")


def make_optimizers(G: nn.Module, D: nn.Module, config: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each player with the configured learning rates and betas."""
    opt_G = torch.optim.Adam(G.parameters(), lr=config.lr_generator, betas=config.betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=config.lr_discriminator, betas=config.betas)
    return opt_G, opt_D


def discriminator_step_loss(
    D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """D's loss on a real and a (detached) fake batch; returns ``(loss, logits_real, logits_fake)``."""
    logits_real = D(x_real)
    logits_fake = D(x_fake)
    if config.loss == "wgan-gp":
        loss = losses.wasserstein_d_loss(logits_real, logits_fake)
        loss = loss + config.gp_weight * losses.gradient_penalty(D, x_real, x_fake)
    else:
        loss = losses.d_loss(logits_real, logits_fake, real_label=1.0 - config.label_smoothing)
    return loss, logits_real, logits_fake


def generator_step_loss(logits_fake: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """G's loss from D's logits on fresh fakes."""
    if config.loss == "wgan-gp":
        return losses.wasserstein_g_loss(logits_fake)
    return losses.g_loss(logits_fake, config.loss)


def _check_finite(values: dict[str, float], step: int) -> None:
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if bad:
        raise TrainingDiverged(
            f"Training diverged at step {step}: {bad} is not finite. Usual causes: a learning rate "
            "too high, a loss applied to probabilities instead of logits (log of 0), or inputs not "
            "scaled to the range G produces. Lower lr, check the loss, or restart from the last "
            "checkpoint."
        )


def train_gan(
    G: nn.Module,
    D: nn.Module,
    real: Callable[[int], torch.Tensor] | Iterable[Any],
    config: TrainConfig | None = None,
    *,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
    start_step: int = 0,
) -> History:
    """Train ``G`` against ``D`` for ``config.steps`` steps and return the :class:`History`.

    ``real`` is a sampler ``real(batch_size) -> Tensor`` or an iterable of batches (one pass =
    one epoch). G must expose ``latent_dim``. Logged every ``log_every`` steps (means over the
    interval, read from the device once per interval): ``loss_d``, ``loss_g``, ``d_real`` and
    ``d_fake`` (mean D(x) and D(G(z)) as probabilities; mean critic scores for WGAN-GP).
    Pass ``history``, ``optimizers`` and ``start_step`` to continue an earlier run.
    """
    config = config or TrainConfig()
    device = torch.device(device) if device is not None else next(G.parameters()).device
    G.to(device).train()
    D.to(device).train()
    opt_G, opt_D = optimizers if optimizers is not None else make_optimizers(G, D, config)
    history = history if history is not None else History()
    batches = batch_stream(real, config.batch_size)
    wgan = config.loss == "wgan-gp"
    sums = torch.zeros(4, device=device)  # loss_d, loss_g, d_real, d_fake summed over the interval
    count = 0
    bar = tqdm(range(start_step, start_step + config.steps), desc=config.desc, disable=not config.progress, leave=False)
    for step in bar:
        for _ in range(config.d_steps):
            x_real = next(batches).to(device, non_blocking=True)
            z = sample_noise(x_real.shape[0], G.latent_dim, device)
            x_fake = G(z).detach()  # D's step must not send gradients into G
            loss_D, logits_real, logits_fake = discriminator_step_loss(D, x_real, x_fake, config)
            opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            opt_D.step()
        D.requires_grad_(False)  # G's step must not update, or accumulate gradients in, D
        z = sample_noise(config.batch_size, G.latent_dim, device)
        logits_G = D(G(z))
        loss_G = generator_step_loss(logits_G, config)
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
        D.requires_grad_(True)
        with torch.no_grad():
            score = (lambda t: t.mean()) if wgan else (lambda t: torch.sigmoid(t).mean())
            sums += torch.stack([loss_D.detach(), loss_G.detach(), score(logits_real), score(logits_fake)])
        count += 1
        if (step + 1) % config.log_every == 0 or step + 1 == start_step + config.steps:
            means = dict(zip(("loss_d", "loss_g", "d_real", "d_fake"), (sums / count).tolist(), strict=True))
            _check_finite(means, step + 1)
            history.log(step + 1, **means)
            sums.zero_()
            count = 0
            bar.set_postfix(loss_d=f"{means['loss_d']:.3f}", loss_g=f"{means['loss_g']:.3f}")
            for callback in callbacks:
                callback(step + 1, history, G, D)
    bar.close()
    return history


def train_discriminator(
    D: nn.Module,
    sample_real: Callable[[int], torch.Tensor],
    sample_fake: Callable[[int], torch.Tensor],
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    log_every: int = 10,
) -> History:
    r"""Train D alone against a *fixed* generator: minimise :func:`gan_helpers.losses.d_loss` with Adam.

    ``sample_real(n)`` and ``sample_fake(n)`` return batches ``(n, d)`` from :math:`p_{data}` and
    :math:`p_g`. With enough capacity and steps D approaches the optimal discriminator
    :math:`D^*(x) = p_{data}(x) / (p_{data}(x) + p_g(x))`. Logs ``loss_d``, ``d_real`` and
    ``d_fake`` (means over each ``log_every`` interval) and returns the :class:`History`.
    """
    if steps < 1 or batch_size < 1 or log_every < 1:
        raise ValueError(f"steps, batch_size and log_every must be at least 1, got {steps}, {batch_size}, {log_every}")
    device = next(D.parameters()).device
    opt_D = torch.optim.Adam(D.parameters(), lr=lr)
    history = History()
    sums = torch.zeros(3, device=device)  # loss_d, d_real, d_fake summed over the interval
    count = 0
    D.train()
    for step in range(steps):
        x_real = sample_real(batch_size).to(device, torch.float32)
        x_fake = sample_fake(batch_size).to(device, torch.float32)
        logits_real, logits_fake = D(x_real), D(x_fake)
        loss_D = losses.d_loss(logits_real, logits_fake)
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        with torch.no_grad():
            sums += torch.stack([loss_D, torch.sigmoid(logits_real).mean(), torch.sigmoid(logits_fake).mean()])
        count += 1
        if (step + 1) % log_every == 0 or step + 1 == steps:
            means = dict(zip(("loss_d", "d_real", "d_fake"), (sums / count).tolist(), strict=True))
            _check_finite(means, step + 1)
            history.log(step + 1, **means)
            sums.zero_()
            count = 0
    return history
