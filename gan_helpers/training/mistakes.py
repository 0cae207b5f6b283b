r"""DELIBERATE MISTAKES in the training loop, for the gallery of what breaks a GAN (notebook 04).

Each :class:`LoopMistake` plugs into :func:`gan_helpers.training.train_gan` as ``mistake="name"``:
it swaps D's or G's loss for a wrong one (the wrong losses are in :mod:`gan_helpers.losses`), or
replaces the whole step by a wrongly written one. The correct step is
:func:`gan_helpers.training.train_step`; the wrong steps below differ from it in the lines marked
``# MISTAKE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gan_helpers import losses
from gan_helpers.sampling import sample_noise
from gan_helpers.training.config import TrainConfig
from gan_helpers.training.step import (
    Forward,
    StepOutcome,
    d_step,
    discriminator_loss,
    draw_fakes,
    generator_loss,
    grad_norm,
)

__all__ = ["MISTAKES", "NO_MISTAKE", "LoopMistake", "resolve_mistake"]


@dataclass(frozen=True)
class LoopMistake:
    """A named way to break the loop: D's loss, G's loss, and (for structural mistakes) the whole step.

    ``d_loss(D, x_real, x_fake, config, y_real, y_fake) -> (loss, logits_real, logits_fake)`` and
    ``g_loss(D, x_fake, config, y_fake) -> loss`` have the signatures of
    :func:`gan_helpers.training.discriminator_loss` and :func:`gan_helpers.training.generator_loss`;
    ``train_step`` (if set) replaces :func:`gan_helpers.training.train_step`.
    """

    name: str
    description: str
    d_loss: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = discriminator_loss
    g_loss: Callable[..., torch.Tensor] = generator_loss
    train_step: Callable[..., StepOutcome] | None = None


NO_MISTAKE = LoopMistake("none", "the correct loop")


def _double_sigmoid_d_loss(
    D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, config: TrainConfig, *labels: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logits_real, logits_fake = D(x_real).float(), D(x_fake).float()
    return losses.mistake_d_loss_double_sigmoid(logits_real, logits_fake), logits_real, logits_fake  # MISTAKE


def _double_sigmoid_g_loss(D: nn.Module, x_fake: torch.Tensor, config: TrainConfig, *labels: Any) -> torch.Tensor:
    return losses.mistake_g_loss_double_sigmoid(D(x_fake).float())  # MISTAKE


def _fake_labels_g_loss(D: nn.Module, x_fake: torch.Tensor, config: TrainConfig, *labels: Any) -> torch.Tensor:
    return losses.mistake_g_loss_fake_labels(D(x_fake).float())  # MISTAKE: G trained towards "fake"


def _step_without_detach(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor | None]],
    config: TrainConfig,
    forward: Forward,
    *,
    batch_size: int | None = None,
    **losses_of_the_step: Any,
) -> StepOutcome:
    """A step that zeroes G's gradients once at the top and gives D the fakes without ``detach()``."""
    opt_G.zero_grad(set_to_none=True)  # MISTAKE: once per step, before D's update
    for _ in range(config.d_steps):
        x_real, _ = next(batches)
        x_fake, _ = draw_fakes(G, len(x_real), x_real.device, forward)
        with forward():
            loss_D, logits_real, logits_fake = discriminator_loss(D, x_real, x_fake, config)  # MISTAKE: no detach
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()  # also fills G's gradients with those of D's loss
        opt_D.step()
    D.requires_grad_(False)
    with forward():  # D's backward freed the fakes' graph: draw new ones
        x_fake = G(sample_noise(batch_size or len(x_real), G.latent_dim, x_real.device))
        loss_G = generator_loss(D, x_fake, config)
    loss_G.backward()  # MISTAKE: adds to the gradients D's loss left in G
    opt_G.step()
    D.requires_grad_(True)
    return StepOutcome(loss_D, loss_G, logits_real, logits_fake)


def _step_with_trainable_d(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor | None]],
    config: TrainConfig,
    forward: Forward,
    *,
    batch_size: int | None = None,
    **losses_of_the_step: Any,
) -> StepOutcome:
    """A step whose "D is not trainable" flag nothing honours: D also steps on G's loss."""
    for _ in range(config.d_steps):
        x_real, _ = next(batches)
        x_fake, _ = draw_fakes(G, len(x_real), x_real.device, forward)
        loss_D, logits_real, logits_fake = d_step(D, opt_D, x_real, x_fake, config, forward=forward)
    norm_d = grad_norm(D)  # D's gradients of its own loss, before G's update replaces them
    opt_D.zero_grad(set_to_none=True)
    with forward():
        loss_G = generator_loss(D, x_fake, config)
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    opt_D.step()  # MISTAKE: D takes a step on G's objective, learning to call the fakes real
    return StepOutcome(loss_D, loss_G, logits_real, logits_fake, norm_d)


MISTAKES: dict[str, LoopMistake] = {
    "g_fake_labels": LoopMistake(
        "g_fake_labels",
        "G is trained against the label 'fake' (D's target for fakes) instead of 'real'",
        g_loss=_fake_labels_g_loss,
    ),
    "double_sigmoid": LoopMistake(
        "double_sigmoid",
        "D ends in a sigmoid and its output is fed to losses that expect logits",
        d_loss=_double_sigmoid_d_loss,
        g_loss=_double_sigmoid_g_loss,
    ),
    "no_detach": LoopMistake(
        "no_detach",
        "G's output is not detached in D's step, and G's gradients are zeroed once per step",
        train_step=_step_without_detach,
    ),
    "trainable_ignored": LoopMistake(
        "trainable_ignored",
        "a 'D.trainable = False' flag that nothing honours: D is updated in G's step too",
        train_step=_step_with_trainable_d,
    ),
}
"""The catalogued mistakes, by name."""


def resolve_mistake(mistake: str | LoopMistake | None) -> LoopMistake:
    """The :class:`LoopMistake` named ``mistake`` (:data:`NO_MISTAKE` for None), or a ValueError listing the names."""
    if mistake is None:
        return NO_MISTAKE
    if isinstance(mistake, LoopMistake):
        return mistake
    if mistake not in MISTAKES:
        raise ValueError(f"Unknown mistake {mistake!r}; the catalogued ones are {sorted(MISTAKES)}.")
    return MISTAKES[mistake]
