r"""One step of GAN training, written to read like the losses of notebook 01.

:func:`d_step` updates D on a real batch and *detached* fakes; :func:`g_step` updates G through a
frozen D; :func:`train_step` is ``d_steps`` of the first and one of the second. The losses are
:func:`discriminator_loss` and :func:`generator_loss` (the catalogued mistakes of
:mod:`gan_helpers.training.mistakes` swap them). Device speed-ups enter only as ``forward``, the
context the forward passes run in (:func:`gan_helpers.acceleration.prepare_training`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import torch
from torch import nn

from gan_helpers import losses
from gan_helpers.data.augment import diff_augment
from gan_helpers.sampling import sample_labels, sample_noise
from gan_helpers.training.config import TrainConfig

__all__ = [
    "Forward",
    "StepOutcome",
    "d_step",
    "discriminator_loss",
    "draw_fakes",
    "g_step",
    "generator_loss",
    "grad_norm",
    "is_conditional",
    "train_step",
]

Forward = Callable[[], contextlib.AbstractContextManager[Any]]
"""A factory of the context forward passes run in (:func:`gan_helpers.acceleration.prepare_training`)."""


class StepOutcome(NamedTuple):
    """What one step leaves for the log: both losses, D's logits on the last real and fake batch."""

    loss_d: torch.Tensor
    loss_g: torch.Tensor
    logits_real: torch.Tensor
    logits_fake: torch.Tensor
    grad_norm_d: torch.Tensor | None = None  # set by a step that changes D's gradients in G's update


def is_conditional(G: nn.Module) -> bool:
    """True for a conditional G, one that declares its ``num_classes`` (it is then called as ``G(z, y)``)."""
    return isinstance(getattr(G, "num_classes", None), int)


def _logits(D: nn.Module, x: torch.Tensor, y: torch.Tensor | None, config: TrainConfig) -> torch.Tensor:
    """D's logits in fp32 (the losses are computed in fp32, also under autocast); ``D(x, y)`` with labels.

    With ``config.augment`` D sees :math:`T(x)` (:func:`gan_helpers.data.diff_augment`), real and fake alike.
    """
    if config.augment:
        x = diff_augment(x, config.augment)
    return (D(x) if y is None else D(x, y)).float()


def discriminator_loss(
    D: nn.Module,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    config: TrainConfig,
    y_real: torch.Tensor | None = None,
    y_fake: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""D's loss on a real and a fake batch; returns ``(loss, logits_real, logits_fake)``.

    :func:`gan_helpers.losses.d_loss` (real targets :math:`1 - s` with label smoothing :math:`s`),
    or for WGAN-GP the critic loss :math:`\mathbb E[f(G(z))] - \mathbb E[f(x)]` plus ``gp_weight``
    times :func:`gan_helpers.losses.gradient_penalty`.
    """
    logits_real, logits_fake = _logits(D, x_real, y_real, config), _logits(D, x_fake, y_fake, config)
    if config.loss == "wgan-gp":
        loss = losses.wasserstein_d_loss(logits_real, logits_fake)
        loss = loss + config.gp_weight * losses.gradient_penalty(D, x_real, x_fake)
    else:
        loss = losses.d_loss(logits_real, logits_fake, real_label=1.0 - config.label_smoothing)
    return loss, logits_real, logits_fake


def generator_loss(
    D: nn.Module, x_fake: torch.Tensor, config: TrainConfig, y_fake: torch.Tensor | None = None
) -> torch.Tensor:
    r"""G's loss from D's logits on the fakes: :func:`gan_helpers.losses.g_loss` of ``config.loss``.

    For WGAN-GP it is :math:`-\mathbb E[f(G(z))]` (:func:`gan_helpers.losses.wasserstein_g_loss`).
    """
    logits_fake = _logits(D, x_fake, y_fake, config)
    if config.loss == "wgan-gp":
        return losses.wasserstein_g_loss(logits_fake)
    return losses.g_loss(logits_fake, config.loss)


DLoss = Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
GLoss = Callable[..., torch.Tensor]


def d_step(
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    config: TrainConfig,
    y_real: torch.Tensor | None = None,
    y_fake: torch.Tensor | None = None,
    *,
    loss_fn: DLoss = discriminator_loss,
    forward: Forward = contextlib.nullcontext,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""One update of D: minimise :math:`L_D` on ``x_real`` and the *detached* fakes; returns ``(loss, logits)``.

    ``x_fake.detach()`` cuts the graph back into G, so D's loss moves D alone.
    """
    with forward():
        loss_D, logits_real, logits_fake = loss_fn(D, x_real, x_fake.detach(), config, y_real, y_fake)
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    opt_D.step()
    return loss_D, logits_real, logits_fake


def g_step(
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    x_fake: torch.Tensor,
    config: TrainConfig,
    y_fake: torch.Tensor | None = None,
    *,
    loss_fn: GLoss = generator_loss,
    forward: Forward = contextlib.nullcontext,
) -> torch.Tensor:
    r"""One update of G through a frozen D: minimise :math:`L_G = -\mathbb E_z[\log D(G(z))]` on ``x_fake = G(z)``.

    D's parameters are frozen for the backward pass, so G's loss neither updates D nor leaves
    gradients in it.
    """
    D.requires_grad_(False)
    try:
        with forward():
            loss_G = loss_fn(D, x_fake, config, y_fake)
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
    finally:
        D.requires_grad_(True)
    return loss_G


def draw_fakes(
    G: nn.Module, batch_size: int, device: torch.device, forward: Forward = contextlib.nullcontext
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""``(G(z), y)`` for :math:`z \sim \mathcal N(0, I)` and, for a conditional G, uniform labels ``y`` (else None)."""
    y_fake = sample_labels(batch_size, G.num_classes, device) if is_conditional(G) else None
    z = sample_noise(batch_size, G.latent_dim, device)
    with forward():
        return (G(z) if y_fake is None else G(z, y_fake)), y_fake


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor | None]],
    config: TrainConfig,
    forward: Forward = contextlib.nullcontext,
    *,
    d_loss: DLoss = discriminator_loss,
    g_loss: GLoss = generator_loss,
    batch_size: int | None = None,
) -> StepOutcome:
    """One GAN step: ``config.d_steps`` D updates, each on a new real batch, then one G update.

    G's update reuses the fakes of D's last update, graph and all (D saw them detached), so G runs
    forward once per D update. ``d_loss``/``g_loss`` are the losses (a catalogued mistake swaps
    them); ``batch_size``, the source's nominal batch size, is for wrongly written steps that need it.
    """
    for _ in range(config.d_steps):
        x_real, y_real = next(batches)
        x_fake, y_fake = draw_fakes(G, len(x_real), x_real.device, forward)
        loss_D, logits_real, logits_fake = d_step(
            D, opt_D, x_real, x_fake, config, y_real, y_fake, loss_fn=d_loss, forward=forward
        )
    loss_G = g_step(D, opt_G, x_fake, config, y_fake, loss_fn=g_loss, forward=forward)
    return StepOutcome(loss_D, loss_G, logits_real, logits_fake)


def grad_norm(model: nn.Module) -> torch.Tensor:
    r"""L2 norm of all parameter gradients together, :math:`\sqrt{\sum_p \lVert \nabla_p \rVert_2^2}` (0 if none)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(model.parameters()).device)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
