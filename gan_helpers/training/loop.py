r"""The training loop shared by every notebook: alternating discriminator and generator steps.

One *step* is ``d_steps`` updates of D (:func:`d_step`) followed by one update of G (:func:`g_step`).
D minimises its loss on a real batch and a detached fake batch,

.. math:: L_D = -\mathbb E_x[\log D(x)] - \mathbb E_z[\log(1 - D(G(z)))],

and G then minimises the non-saturating :math:`L_G = -\mathbb E_z[\log D(G(z))]` through a frozen D.
The loop reports through a :class:`~gan_helpers.training.History` and
:class:`~gan_helpers.training.Callback` objects; it never plots. Device speed-ups
(:mod:`gan_helpers.acceleration`) are applied around the step: the step's logic is the same on every device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.utils import get_total_norm
from tqdm.auto import tqdm

from gan_helpers import acceleration, losses
from gan_helpers.models.dcgan import check_labels
from gan_helpers.sampling import model_device
from gan_helpers.training.averaging import GeneratorAverage
from gan_helpers.training.config import DIVERGENCE_CAUSES, TrainConfig, TrainingDiverged, check_finite
from gan_helpers.training.history import Callback, History, IntervalMeans
from gan_helpers.training.mistakes import LoopMistake, resolve_mistake
from gan_helpers.training.step import grad_norm, is_conditional, train_step

__all__ = [
    "batch_stream",
    "first_non_finite_tensor",
    "format_postfix",
    "make_optimizers",
    "train_discriminator",
    "train_gan",
]


def make_optimizers(G: nn.Module, D: nn.Module, config: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each player with the configured learning rates and betas (fused on CUDA)."""
    opt_G = acceleration.adam(G.parameters(), lr=config.lr_generator, betas=config.betas)
    opt_D = acceleration.adam(D.parameters(), lr=config.lr_discriminator, betas=config.betas)
    return opt_G, opt_D


def batch_stream(source: Iterable[Any], labels: bool = False) -> Iterator[Any]:
    """Endless real batches from an iterable of batches (:class:`gan_helpers.data.DeviceBatches`, ...).

    A finite iterable is re-iterated when exhausted, so each pass is one epoch. ``(images, labels)``
    pairs yield the images, or the pairs themselves with ``labels=True`` (then a batch without
    labels raises a ValueError saying how to give them).
    """
    if callable(source) and not isinstance(source, Iterable):
        raise TypeError(
            "train_gan takes an iterable of batches; wrap a sampler as gh.data.SampledBatches(sample, batch_size)"
        )
    while True:
        empty = True
        for batch in source:
            empty = False
            if labels:
                yield _labelled(batch)
            else:
                yield batch[0] if isinstance(batch, (tuple, list)) else batch
        if empty:
            raise ValueError("the data source yielded no batches")


def _labelled(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` as an ``(images, labels)`` pair, or a ValueError saying how to give labels."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(
            "conditional training needs labelled batches (images, labels): build them with "
            "gh.data.DeviceBatches(images, labels=labels, ...)"
        )
    return batch[0], batch[1]


def format_postfix(values: dict[str, float]) -> str:
    """The progress bar's summary of a log point: both losses and D's mean outputs."""
    return (
        f"loss_d={values['loss_d']:.3f}, loss_g={values['loss_g']:.3f}, "
        f"d_real={values['d_real']:.2f}, d_fake={values['d_fake']:.2f}"
    )


def _floating_tensors(model: nn.Module) -> Iterator[tuple[str, str, torch.Tensor]]:
    """``(kind, name, tensor)`` for ``model``'s parameters and floating-point buffers (batch-norm statistics, ...)."""
    yield from (("parameter", name, p.detach()) for name, p in model.named_parameters())
    yield from (("buffer", name, b) for name, b in model.named_buffers() if b.is_floating_point())


def first_non_finite_tensor(models: dict[str, nn.Module]) -> str | None:
    """``"G's parameter 'net.0.weight'"`` for the first parameter or buffer holding a NaN or infinity, or None.

    The usual case (all finite) costs one fused max-abs reduction over every tensor and one device read.
    """
    named = [(who, *entry) for who, model in models.items() for entry in _floating_tensors(model)]
    if not named or torch.isfinite(get_total_norm([t for *_, t in named], norm_type=math.inf)):
        return None
    for who, kind, name, tensor in named:
        if not torch.isfinite(tensor).all():
            return f"{who}'s {kind} {name!r}"
    return None


class _DivergenceGuard:
    """Stops a run whose losses go NaN, infinite or beyond ``limit``, naming the *first* such step.

    ``add`` runs every step and never reads the device: it keeps, on the device, the first offending
    step and its losses (``torch.where``). ``check`` runs at each log point: one read of that step,
    then :func:`first_non_finite_tensor` over G's and D's parameters and buffers.
    """

    def __init__(self, limit: float, device: torch.device) -> None:
        self.limit = min(limit, torch.finfo(torch.float32).max)  # so that an infinite loss always offends
        self.first = torch.zeros((), dtype=torch.int64, device=device)  # 0: no offending step yet
        self.losses = torch.zeros(2, device=device)

    def add(self, step: int, loss_d: torch.Tensor, loss_g: torch.Tensor) -> None:
        """Record step ``step``'s losses (device operations only: no host sync)."""
        with torch.no_grad():
            losses = torch.stack((loss_d.detach().float(), loss_g.detach().float()))
            offends = ~(losses.abs().amax() <= self.limit)  # NaN compares False, so it offends too
            new = offends & (self.first == 0)
            self.first = torch.where(new, step, self.first)
            self.losses = torch.where(new, losses, self.losses)

    def check(self, step: int, G: nn.Module, D: nn.Module) -> None:
        """Raise :class:`TrainingDiverged` for an offending step up to ``step``, or a non-finite tensor of G or D."""
        first = int(self.first)
        if first:
            loss_d, loss_g = self.losses.tolist()
            finite = math.isfinite(loss_d) and math.isfinite(loss_g)
            what = f"exceeds max_abs_loss = {self.limit:g} in absolute value" if finite else "is not finite"
            raise TrainingDiverged(
                f"Training diverged at step {first}: a loss {what} (loss_d = {loss_d:.4g}, loss_g = {loss_g:.4g}; "
                f"the guard reads it at step {step}). {DIVERGENCE_CAUSES}"
            )
        bad = first_non_finite_tensor({"G": G, "D": D})
        if bad is not None:
            raise TrainingDiverged(
                f"Training diverged by step {step}: {bad} holds NaN or infinite values, although the losses "
                f"stayed finite. {DIVERGENCE_CAUSES}"
            )


def _source_labels(source: Iterable[Any]) -> torch.Tensor | None:
    """All labels of a source that holds them (:class:`~gan_helpers.data.DeviceBatches`, an epoch of it), or None."""
    holder = getattr(source, "source", source)  # EpochBatches -> its DeviceBatches
    labels = getattr(holder, "labels", None)
    return labels if isinstance(labels, torch.Tensor) else None


def _real_batches(
    source: Iterable[Any], device: torch.device, num_classes: int | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """``(x_real, y_real)`` pairs on ``device`` in the device's layout (``y_real`` is None without labels).

    For conditional training (``num_classes`` given) the labels are checked where they enter, once:
    all of the source's labels if it holds them, else the first batch's. The models then skip the
    check in training, so no step reads the device (:func:`gan_helpers.models.check_labels`).
    """
    labels = num_classes is not None
    known = _source_labels(source) if labels else None
    if known is not None:
        check_labels(known, len(known), num_classes, "the data source")
    for i, batch in enumerate(batch_stream(source, labels=labels)):
        x, y = batch if labels else (batch, None)
        if labels and known is None and i == 0:
            check_labels(y, len(x), num_classes, "the first real batch")
        x = acceleration.to_device_layout(x.to(device, non_blocking=True))
        yield x, (y.to(device, non_blocking=True) if y is not None else None)


def train_gan(
    G: nn.Module,
    D: nn.Module,
    real: Iterable[Any],
    config: TrainConfig | None = None,
    *,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
    start_step: int = 0,
    grad_norms: bool = False,
    mistake: str | LoopMistake | None = None,
    average: GeneratorAverage | None = None,
    progress: bool = True,
    desc: str = "training",
    players: tuple[nn.Module, nn.Module] | None = None,
) -> History:
    r"""Train ``G`` against ``D`` for ``config.steps`` *steps* (see :func:`train_step`) and return the History.

    ``real`` is an iterable of batches: :class:`gan_helpers.data.DeviceBatches` (one pass = one
    epoch, re-iterated as needed) or :class:`gan_helpers.data.SampledBatches` for a sampler.
    G must expose ``latent_dim``; a G with ``num_classes`` is trained conditionally (Mirza and
    Osindero 2014): ``real`` yields ``(x, y)`` pairs, D sees real images with their labels and
    fakes with the uniform labels they were drawn for. For training by epochs, with checkpoints
    and resume, use :func:`gan_helpers.training.train_epochs`.

    Logged every ``log_every`` steps (means over the interval, read from the device once per
    interval): ``loss_d``, ``loss_g``, ``d_real`` and ``d_fake`` (mean D(x) and D(G(z)) as
    probabilities; mean critic scores for WGAN-GP); with ``grad_norms`` also ``grad_norm_d`` and
    ``grad_norm_g`` (:func:`grad_norm`). Each callback's ``on_log`` runs after each log point.
    Pass ``history``, ``optimizers`` and ``start_step`` to continue an earlier run. ``mistake`` (a
    name in :data:`gan_helpers.training.MISTAKES`) deliberately breaks the loop in one catalogued
    way, for demonstrations only. ``average`` (a :class:`~gan_helpers.training.GeneratorAverage` of G)
    is updated after every G update. ``progress``/``desc`` control the progress bar. ``players`` are the
    modules the step calls in place of G and D, sharing their parameters: their DistributedDataParallel
    wrappers when several processes train together (:mod:`gan_helpers.training.distributed`); everything
    else (speed-ups, average, guard, gradient norms, callbacks) works on G and D themselves.

    The divergence guard raises :class:`~gan_helpers.training.TrainingDiverged` at the log point after
    the first step whose loss (D's or G's) is NaN, infinite or above ``config.max_abs_loss`` in
    absolute value, naming that step, or when a parameter or floating buffer of G or D (a batch-norm
    running variance) holds NaN or infinity, naming the tensor. It only reads: the steps are the same
    with or without it, and it reads the device only at log points.
    """
    config = config or TrainConfig()
    bug = resolve_mistake(mistake)
    conditional = is_conditional(G)
    if conditional and (bug.name != "none" or config.loss == "wgan-gp"):
        raise ValueError(
            "conditional training supports the nonsaturating and saturating losses without mistakes; "
            f"got loss {config.loss!r} and mistake {bug.name!r}"
        )
    device = torch.device(device) if device is not None else model_device(G)
    G.to(device).train()
    D.to(device).train()
    forward = acceleration.prepare_training(
        G,
        D,
        precision=config.precision,
        loss=config.loss,
        compile=config.compile,
        device=device,
        compile_mode=config.compile_mode,
    )
    opt_G, opt_D = optimizers if optimizers is not None else make_optimizers(G, D, config)
    history = history if history is not None else History()
    batches = _real_batches(real, device, G.num_classes if conditional else None)
    batch_size = getattr(real, "batch_size", None)
    step_fn = bug.train_step or train_step
    score = (lambda t: t.mean()) if config.loss == "wgan-gp" else (lambda t: torch.sigmoid(t).mean())
    names = ("loss_d", "loss_g", "d_real", "d_fake") + (("grad_norm_d", "grad_norm_g") if grad_norms else ())
    means = IntervalMeans(names, device)
    guard = _DivergenceGuard(config.max_abs_loss, device)
    last = start_step + config.steps
    step_G, step_D = players if players is not None else (G, D)
    bar = tqdm(range(start_step, last), desc=desc, disable=not progress, leave=False)
    for step in bar:
        out = step_fn(
            step_G,
            step_D,
            opt_G,
            opt_D,
            batches,
            config,
            forward,
            d_loss=bug.d_loss,
            g_loss=bug.g_loss,
            batch_size=batch_size,
        )
        if average is not None:
            average.update(G)
        norms = (grad_norm(D) if out.grad_norm_d is None else out.grad_norm_d, grad_norm(G)) if grad_norms else ()
        means.add(out.loss_d, out.loss_g, score(out.logits_real), score(out.logits_fake), *norms)
        guard.add(step + 1, out.loss_d, out.loss_g)
        if (step + 1) % config.log_every == 0 or step + 1 == last:
            values = means.pop()
            guard.check(step + 1, G, D)
            check_finite(values, step + 1)
            history.log(step + 1, **values)
            bar.set_postfix_str(format_postfix(values))
            for callback in callbacks:
                callback.on_log(step + 1, history, G, D)
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
    ``d_fake`` (means over each ``log_every`` interval) and returns the History.
    """
    if steps < 1 or batch_size < 1 or log_every < 1:
        raise ValueError(f"steps, batch_size and log_every must be at least 1, got {steps}, {batch_size}, {log_every}")
    device = model_device(D)
    opt_D = acceleration.adam(D.parameters(), lr=lr, betas=(0.9, 0.999))  # PyTorch's default betas
    history = History()
    means = IntervalMeans(("loss_d", "d_real", "d_fake"), device)
    D.train()
    for step in range(steps):
        x_real = sample_real(batch_size).to(device, torch.float32)
        x_fake = sample_fake(batch_size).to(device, torch.float32)
        logits_real, logits_fake = D(x_real), D(x_fake)
        loss_D = losses.d_loss(logits_real, logits_fake)
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        means.add(loss_D, torch.sigmoid(logits_real).mean(), torch.sigmoid(logits_fake).mean())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            values = means.pop()
            check_finite(values, step + 1)
            history.log(step + 1, **values)
    return history
