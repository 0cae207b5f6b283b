r"""The training loop shared by every notebook: alternating discriminator and generator steps.

One *step* is ``d_steps`` updates of D followed by one update of G. D minimises its loss on a
real batch and a detached fake batch; G then minimises its loss through a frozen D. The loop
reports through a :class:`History` and callbacks; it never plots.
"""

from __future__ import annotations

import copy
import math
import os
import signal
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gan_helpers import acceleration, checkpoints, losses, metrics, models, runtime
from gan_helpers.data.batches import DeviceBatches, to_unit_range
from gan_helpers.data.toy import GaussianMixture, grid_2d, ring_2d
from gan_helpers.models import MLPDiscriminator, MLPGenerator

__all__ = [
    "MODE_EXPERIMENT_DEFAULTS",
    "REMEDIES",
    "TOY_DATASETS",
    "Callback",
    "History",
    "ModeExperiment",
    "Remedy",
    "Snapshot",
    "SnapshotRecorder",
    "TrainConfig",
    "TrainingDiverged",
    "batch_stream",
    "best_remedy",
    "build_toy_gan",
    "discriminator_on_mesh",
    "discriminator_step_loss",
    "format_mode_table",
    "generator_step_loss",
    "make_optimizers",
    "remedy_setup",
    "run_mode_experiment",
    "sample_labels",
    "sample_noise",
    "summarise_mode_experiments",
    "toy_dataset",
    "toy_extent",
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
    targets 1 - s (one-sided). ``conditional=True`` trains a conditional pair, ``G(z, y)`` and
    ``D(x, y)``, on labelled batches (see :func:`train_gan`).

    How the arithmetic runs (:mod:`gan_helpers.acceleration`; the losses and models are the same
    either way): ``precision`` is ``"auto"`` (bf16 autocast for convolutional models where the
    device multiplies bf16 natively, else fp32), ``"fp32"`` or ``"bf16"``; ``compile=True`` runs
    G and D through ``torch.compile`` (worth it on a GPU; the first steps then take tens of seconds).
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
    conditional: bool = False
    precision: str = "auto"
    compile: bool = False

    def __post_init__(self) -> None:
        if self.precision not in acceleration.PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}; choose one of {acceleration.PRECISIONS}.")
        if self.loss not in losses.LOSS_KINDS:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {losses.LOSS_KINDS}.")
        if self.conditional and self.loss == "wgan-gp":
            raise ValueError("conditional training supports the nonsaturating and saturating losses, not wgan-gp")
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


def batch_stream(
    source: Callable[[int], torch.Tensor] | Iterable[Any], batch_size: int, labels: bool = False
) -> Iterator[Any]:
    """Endless real batches from a sampler ``source(batch_size)`` or an iterable of batches.

    An iterable (e.g. :class:`gan_helpers.data.DeviceBatches`) is re-iterated when exhausted, so
    each pass is one epoch; ``(images, labels)`` pairs yield the images, or the pairs themselves
    with ``labels=True`` (then a batch without labels raises a ValueError).
    """
    if callable(source) and not isinstance(source, Iterable):
        while True:
            yield _labelled(source(batch_size)) if labels else source(batch_size)
    else:
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


def sample_labels(batch_size: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    r"""Class labels :math:`y \sim \mathrm{Uniform}\{0, \dots, \text{num\_classes} - 1\}`, shape ``(batch_size,)``."""
    return torch.randint(num_classes, (batch_size,), device=device)


def _check_conditional(G: nn.Module, mistake: str | LoopMistake | None) -> None:
    if not isinstance(getattr(G, "num_classes", None), int):
        raise ValueError(
            "config.conditional needs a conditional G with a num_classes attribute, "
            "e.g. gh.models.ConditionalDCGANGenerator"
        )
    if mistake is not None:
        raise ValueError("the catalogued loop mistakes are demonstrated on unconditional GANs only")


def make_optimizers(G: nn.Module, D: nn.Module, config: TrainConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each player with the configured learning rates and betas (fused on CUDA)."""
    opt_G = acceleration.adam(G.parameters(), lr=config.lr_generator, betas=config.betas)
    opt_D = acceleration.adam(D.parameters(), lr=config.lr_discriminator, betas=config.betas)
    return opt_G, opt_D


def discriminator_step_loss(
    D: nn.Module,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    config: TrainConfig,
    y_real: torch.Tensor | None = None,
    y_fake: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """D's loss on a real and a (detached) fake batch; returns ``(loss, logits_real, logits_fake)``.

    With labels (conditional D) the logits are ``D(x_real, y_real)`` and ``D(x_fake, y_fake)``.
    """
    logits_real = (D(x_real) if y_real is None else D(x_real, y_real)).float()  # losses in fp32, also under autocast
    logits_fake = (D(x_fake) if y_fake is None else D(x_fake, y_fake)).float()
    if config.loss == "wgan-gp":
        loss = losses.wasserstein_d_loss(logits_real, logits_fake)
        loss = loss + config.gp_weight * losses.gradient_penalty(D, x_real, x_fake)
    else:
        loss = losses.d_loss(logits_real, logits_fake, real_label=1.0 - config.label_smoothing)
    return loss, logits_real, logits_fake


def generator_step_loss(logits_fake: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """G's loss from D's logits on the fakes (those of D's last step, now scored by the updated D)."""
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
    grad_norms: bool = False,
    mistake: str | LoopMistake | None = None,
) -> History:
    r"""Train ``G`` against ``D`` for ``config.steps`` steps and return the :class:`History`.

    ``real`` is a sampler ``real(batch_size) -> Tensor`` or an iterable of batches (one pass =
    one epoch). G must expose ``latent_dim``. Logged every ``log_every`` steps (means over the
    interval, read from the device once per interval): ``loss_d``, ``loss_g``, ``d_real`` and
    ``d_fake`` (mean D(x) and D(G(z)) as probabilities; mean critic scores for WGAN-GP).
    Pass ``history``, ``optimizers`` and ``start_step`` to continue an earlier run.

    One step: D takes ``d_steps`` updates, each on a real batch and fakes :math:`G(z)`,
    :math:`z \sim \mathcal N(0, I)`, detached so that D's loss moves D alone; then G takes one
    update on the fakes of D's last update, now scored by the updated D (the fakes are kept with
    their graph, which saves G a second forward pass). Forward passes run in
    ``config.precision`` (see :class:`TrainConfig`), losses in fp32 from the logits.

    ``grad_norms=True`` also logs ``grad_norm_d`` and ``grad_norm_g``, the L2 norms of all of a
    player's parameter gradients (D's from its last update of the step). ``mistake`` (a name in
    :data:`MISTAKES`) deliberately breaks the loop in one catalogued way, for demonstrations only.

    With ``config.conditional`` (Mirza and Osindero 2014) ``real`` yields ``(x, y)`` pairs, G also
    exposes ``num_classes``, and the players are called as ``G(z, y)`` and ``D(x, y)``: D sees real
    images with their labels and fakes with the labels they were drawn for, uniformly
    (:func:`sample_labels`); G's step uses the same fakes and labels.
    """
    config = config or TrainConfig()
    if config.conditional:
        _check_conditional(G, mistake)
    bug = _resolve_mistake(mistake)
    device = torch.device(device) if device is not None else next(G.parameters()).device
    G.to(device).train()
    D.to(device).train()
    precision = acceleration.resolve_precision(config.precision, device, (G, D), config.loss)
    acceleration.prepare_models(G, D, device=device)
    if config.compile:
        acceleration.compile_once(G)
        acceleration.compile_once(D)
    opt_G, opt_D = optimizers if optimizers is not None else make_optimizers(G, D, config)
    history = history if history is not None else History()
    batches = batch_stream(real, config.batch_size, labels=config.conditional)
    wgan = config.loss == "wgan-gp"
    names = ("loss_d", "loss_g", "d_real", "d_fake") + (("grad_norm_d", "grad_norm_g") if grad_norms else ())
    sums = torch.zeros(len(names), device=device)  # the logged quantities summed over the interval
    count = 0
    bar = tqdm(range(start_step, start_step + config.steps), desc=config.desc, disable=not config.progress, leave=False)
    for step in bar:
        if not bug.detach_fake:
            opt_G.zero_grad(set_to_none=True)  # the buggy loop zeroes G's gradients once, up front
        for _ in range(config.d_steps):
            if config.conditional:
                x_real, y_real = (t.to(device, non_blocking=True) for t in next(batches))
                y_fake = sample_labels(x_real.shape[0], G.num_classes, device)
            else:
                x_real, y_real, y_fake = next(batches).to(device, non_blocking=True), None, None
            x_real = acceleration.to_device_layout(x_real)
            z = sample_noise(x_real.shape[0], G.latent_dim, device)
            with acceleration.autocast(precision, device):
                x_fake = G(z) if y_fake is None else G(z, y_fake)  # G's step reuses it, graph and all
                x_fake_d = x_fake.detach() if bug.detach_fake else x_fake  # D's step must not send gradients into G
                if bug.d_loss is None:
                    loss_D, logits_real, logits_fake = discriminator_step_loss(
                        D, x_real, x_fake_d, config, y_real, y_fake
                    )
                else:
                    logits_real, logits_fake = D(x_real).float(), D(x_fake_d).float()
                    loss_D = bug.d_loss(logits_real, logits_fake)
            opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            opt_D.step()
        norm_d = _grad_norm(D) if grad_norms else None
        D.requires_grad_(not bug.freeze_d)  # G's step must not update, or accumulate gradients in, D
        if not bug.freeze_d:
            opt_D.zero_grad(set_to_none=True)
        with acceleration.autocast(precision, device):
            if not bug.detach_fake:  # D's backward went through G and freed the fakes' graph: draw new ones
                x_fake = G(sample_noise(config.batch_size, G.latent_dim, device))
            logits_G = (D(x_fake) if y_fake is None else D(x_fake, y_fake)).float()
            loss_G = generator_step_loss(logits_G, config) if bug.g_loss is None else bug.g_loss(logits_G)
        if bug.detach_fake:
            opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
        if not bug.freeze_d:
            opt_D.step()  # the mistake: D also takes a step on G's objective
        D.requires_grad_(True)
        with torch.no_grad():
            score = (lambda t: t.mean()) if wgan else (lambda t: torch.sigmoid(t).mean())
            values = [loss_D.detach(), loss_G.detach(), score(logits_real), score(logits_fake)]
            if grad_norms:
                values += [norm_d, _grad_norm(G)]
            sums += torch.stack(values)
        count += 1
        if (step + 1) % config.log_every == 0 or step + 1 == start_step + config.steps:
            means = dict(zip(names, (sums / count).tolist(), strict=True))
            _check_finite(means, step + 1)
            history.log(step + 1, **means)
            sums.zero_()
            count = 0
            bar.set_postfix(
                loss_d=f"{means['loss_d']:.3f}",
                loss_g=f"{means['loss_g']:.3f}",
                d_real=f"{means['d_real']:.2f}",
                d_fake=f"{means['d_fake']:.2f}",
            )
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


# --- Mode collapse on 2-D toy data: remedies and one-call experiments (notebook 03) -------------


@dataclass(frozen=True)
class Remedy:
    """A named remedy against mode collapse: options of D and overrides of :class:`TrainConfig`."""

    name: str
    description: str
    d_options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of MLPDiscriminator
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields to override


REMEDIES: dict[str, Remedy] = {
    r.name: r
    for r in (
        Remedy("vanilla", "non-saturating loss, plain MLP discriminator (the baseline)"),
        Remedy(
            "wgan-gp",
            "Wasserstein critic (no sigmoid) with gradient penalty 10, 5 critic steps per G step",
            config={"loss": "wgan-gp", "d_steps": 5, "gp_weight": 10.0, "betas": (0.5, 0.9)},
        ),
        Remedy(
            "spectral-norm",
            "every linear layer of D divided by its largest singular value",
            d_options={"spectral_norm": True},
        ),
        Remedy(
            "label-smoothing",
            "one-sided label smoothing: real targets 0.9 instead of 1",
            config={"label_smoothing": 0.1},
        ),
        Remedy(
            "ttur",
            "two time-scales: D learns 4x faster than G (lr_d = 1.2e-3, lr_g = 3e-4)",
            config={"lr_d": 1.2e-3, "lr_g": 3e-4},
        ),
        Remedy(
            "minibatch-std",
            "D's last layer also sees the batch's mean feature std",
            d_options={"minibatch_std": True},
        ),
    )
}
"""The remedies compared in notebook 03, by name; each is one option of the package's models or losses."""

MODE_EXPERIMENT_DEFAULTS: dict[str, Any] = {"batch_size": 256, "lr": 6e-4, "betas": (0.5, 0.999), "log_every": 50}
"""TrainConfig fields shared by every remedy of :func:`run_mode_experiment` (a remedy may override them)."""


def remedy_setup(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(D options, TrainConfig overrides)`` of the remedy ``name`` (fresh copies, safe to modify)."""
    if name not in REMEDIES:
        raise ValueError(f"Unknown remedy {name!r}; choose one of {list(REMEDIES)}.")
    remedy = REMEDIES[name]
    return dict(remedy.d_options), {**MODE_EXPERIMENT_DEFAULTS, **remedy.config}


TOY_DATASETS: dict[str, Callable[[], GaussianMixture]] = {
    "ring": lambda: ring_2d(num_modes=8, radius=2.0, std=0.05),
    "grid": lambda: grid_2d(side=5, spacing=1.0, std=0.05),
}
"""The 2-D targets of notebook 03, both within [-2, 2]^2 and with sigma 0.05: a ring of 8 Gaussians of
radius 2, and a 5x5 grid with spacing 1."""


def toy_dataset(name: str) -> GaussianMixture:
    """The 2-D target called ``name`` in :data:`TOY_DATASETS` (``"ring"`` or ``"grid"``)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {list(TOY_DATASETS)}.")
    return TOY_DATASETS[name]()


def discriminator_on_mesh(
    D: nn.Module, extent: tuple[float, float, float, float], resolution: int = 100
) -> torch.Tensor:
    """D's logits (critic scores for WGAN-GP) on a ``resolution`` x ``resolution`` mesh, shape ``(res, res)``.

    ``extent`` is ``(x_min, x_max, y_min, y_max)``; row ``i`` holds the points with the ``i``-th
    y value (the layout of ``imshow(..., origin="lower")``). The mesh is one batch, so for a D
    with ``minibatch_std`` the batch feature is the mesh's own spread.
    """
    x_min, x_max, y_min, y_max = extent
    xs = torch.linspace(x_min, x_max, resolution)
    ys = torch.linspace(y_min, y_max, resolution)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (res, res) each
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)  # (res * res, 2)
    device = next(D.parameters()).device
    was_training = D.training
    D.eval()
    with torch.no_grad():
        logits = D(points.to(device)).cpu()
    D.train(was_training)
    return logits.reshape(resolution, resolution)


def toy_extent(mixture: GaussianMixture, margin: float = 1.0) -> tuple[float, float, float, float]:
    """A square ``(x_min, x_max, y_min, y_max)`` around a 2-D mixture's centres, ``margin`` wider."""
    low = float(mixture.centres.min()) - margin
    high = float(mixture.centres.max()) + margin
    return (low, high, low, high)


@dataclass
class Snapshot:
    """The state of a 2-D GAN at one step: samples from fixed noise and D's output on a mesh."""

    step: int
    samples: torch.Tensor  # (n, 2) G(fixed_noise)
    logits: torch.Tensor  # (res, res) D on the mesh
    counts: torch.Tensor  # (K,) high-quality samples per mode


class SnapshotRecorder:
    """A callback that stores a :class:`Snapshot` every ``every`` steps (and at step 0 via :meth:`record`).

    It only records; :func:`gan_helpers.plots.plot_snapshots` draws. ``every`` should be a
    multiple of the training's ``log_every``, since callbacks run at log points.
    """

    def __init__(
        self,
        mixture: GaussianMixture,
        fixed_noise: torch.Tensor,
        every: int,
        extent: tuple[float, float, float, float] | None = None,
        resolution: int = 80,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.mixture = mixture
        self.fixed_noise = fixed_noise
        self.every = every
        self.extent = extent or toy_extent(mixture)
        self.resolution = resolution
        self.snapshots: list[Snapshot] = []

    def record(self, step: int, G: nn.Module, D: nn.Module) -> None:
        """Store the current samples, D's mesh values and the per-mode histogram."""
        samples = generate(G, self.fixed_noise).cpu()
        counts = metrics.samples_per_mode(samples, self.mixture.centres, self.mixture.stds)
        logits = discriminator_on_mesh(D, self.extent, self.resolution)
        self.snapshots.append(Snapshot(step, samples, logits, counts))

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step % self.every == 0:
            self.record(step, G, D)


@dataclass
class ModeExperiment:
    """One run of :func:`run_mode_experiment`: its settings, measured coverage, time and final state."""

    dataset: str
    remedy: str
    seed: int
    steps: int
    coverage: metrics.ModeCoverage
    wall_time_s: float
    samples: torch.Tensor  # (num_eval, 2) final samples from fixed noise
    history: History
    G: nn.Module
    D: nn.Module

    def row(self) -> dict[str, Any]:
        """The measured row: data set, remedy, seed, steps, modes covered (of K), high-quality share, time."""
        return {
            "dataset": self.dataset,
            "remedy": self.remedy,
            "seed": self.seed,
            "steps": self.steps,
            "modes": self.coverage.covered,
            "num_modes": self.coverage.num_modes,
            "high_quality": self.coverage.high_quality,
            "wall_time_s": self.wall_time_s,
        }


def build_toy_gan(
    remedy: str, latent_dim: int = 2, hidden: Sequence[int] = (64, 64, 64)
) -> tuple[nn.Module, nn.Module, TrainConfig]:
    """G, D (with the remedy's options) and the remedy's :class:`TrainConfig` (without ``steps``) for 2-D data."""
    d_options, overrides = remedy_setup(remedy)
    G = MLPGenerator(latent_dim=latent_dim, data_dim=2, hidden=hidden)
    D = MLPDiscriminator(data_dim=2, hidden=hidden, **d_options)
    return G, D, TrainConfig(progress=False, desc=remedy, **overrides)


def run_mode_experiment(
    dataset: str,
    remedy: str,
    seed: int = 0,
    steps: int = 2000,
    *,
    num_eval: int = 2500,
    min_count: int = 10,
    device: torch.device | str = "cpu",
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
    num_threads: int | None = 1,
) -> ModeExperiment:
    """Train a 2-D GAN on ``dataset`` with ``remedy`` for ``steps`` G steps from ``seed``, and measure it.

    Everything but the remedy is shared (data, models' sizes, batch size, base learning rate,
    seed, number of generator steps), so rows for different remedies compare like with like.
    Coverage is measured on ``num_eval`` samples from fixed noise (seeded by ``seed``); a mode
    counts when it holds at least ``min_count`` samples within 3 sigma of its centre.
    ``wall_time_s`` is the training time only. The run uses ``num_threads`` CPU threads
    (:func:`gan_helpers.runtime.cpu_threads`; one is fastest for these small MLPs).
    """
    with runtime.cpu_threads(num_threads):
        return _run_mode_experiment(dataset, remedy, seed, steps, num_eval, min_count, device, callbacks, progress)


def _run_mode_experiment(
    dataset: str,
    remedy: str,
    seed: int,
    steps: int,
    num_eval: int,
    min_count: int,
    device: torch.device | str,
    callbacks: Sequence[Callback],
    progress: bool,
) -> ModeExperiment:
    mixture = toy_dataset(dataset)
    runtime.seed_everything(seed)
    G, D, config = build_toy_gan(remedy)
    config.steps = steps
    config.progress = progress
    fixed_noise = torch.randn(num_eval, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    history = train_gan(G, D, mixture.sample, config, device=device, callbacks=callbacks)
    wall = time.perf_counter() - start
    samples = generate(G, fixed_noise).cpu()
    coverage = metrics.mode_coverage(samples, mixture, min_count=min_count)
    return ModeExperiment(dataset, remedy, seed, steps, coverage, wall, samples, history, G, D)


def summarise_mode_experiments(runs: Sequence[ModeExperiment]) -> list[dict[str, Any]]:
    """One row per (data set, remedy): mean, min and max over seeds of modes covered and high-quality share.

    ``all_modes`` counts the seeds whose run covered every mode. Rows keep the order in which
    (data set, remedy) pairs first appear in ``runs``.
    """
    groups: dict[tuple[str, str], list[ModeExperiment]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.remedy), []).append(run)
    rows = []
    for (dataset, remedy), group in groups.items():
        modes = np.array([r.coverage.covered for r in group], dtype=float)
        hq = np.array([r.coverage.high_quality for r in group])
        rows.append(
            {
                "dataset": dataset,
                "remedy": remedy,
                "seeds": len(group),
                "num_modes": group[0].coverage.num_modes,
                "modes_mean": float(modes.mean()),
                "modes_min": int(modes.min()),
                "modes_max": int(modes.max()),
                "all_modes": int((modes == group[0].coverage.num_modes).sum()),
                "hq_mean": float(hq.mean()),
                "hq_min": float(hq.min()),
                "hq_max": float(hq.max()),
                "wall_time_s": float(np.mean([r.wall_time_s for r in group])),
            }
        )
    return rows


def format_mode_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of :func:`summarise_mode_experiments` rows (mean and [min, max] over seeds)."""
    header = f"{'data':<6}{'remedy':<17}{'modes covered':<22}{'all modes':<11}{'high-quality share':<26}{'time/run':>9}"
    lines = [header]
    for r in rows:
        modes = f"{r['modes_mean']:.1f}/{r['num_modes']} [{r['modes_min']}, {r['modes_max']}]"
        every = f"{r['all_modes']}/{r['seeds']} seeds"
        hq = f"{r['hq_mean']:.1%} [{r['hq_min']:.1%}, {r['hq_max']:.1%}]"
        lines.append(f"{r['dataset']:<6}{r['remedy']:<17}{modes:<22}{every:<11}{hq:<26}{r['wall_time_s']:>8.1f}s")
    return "\n".join(lines)


def best_remedy(rows: Sequence[dict[str, Any]], dataset: str) -> dict[str, Any]:
    """The row of ``dataset`` with most modes covered on average, ties broken by high-quality share."""
    candidates = [r for r in rows if r["dataset"] == dataset]
    if not candidates:
        raise ValueError(f"no rows for data set {dataset!r}; rows cover {sorted({r['dataset'] for r in rows})}")
    return max(candidates, key=lambda r: (r["modes_mean"], r["hq_mean"]))


# --- Training the evaluation classifier (supervised, not a GAN) ---


def affine_transform(
    images: torch.Tensor,
    degrees: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    fill: float = -1.0,
) -> torch.Tensor:
    r"""Rotate, scale and shift each image of ``images`` ``(B, C, H, W)`` about its centre.

    In pixel coordinates :math:`p = (\text{column}, \text{row})` measured from the image centre,
    the content at :math:`p` moves to :math:`q = s_i R(\theta_i) p + t_i` with
    :math:`R(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}`,
    :math:`\theta_i` = ``degrees[i]`` (in degrees), :math:`s_i` = ``scale[i]`` and :math:`t_i` =
    ``shift[i]`` (pixels, ``(B, 2)``: right, down). Each output pixel :math:`q` is read bilinearly
    from the input at :math:`p = R(\theta_i)^{\top}(q - t_i)/s_i`; points outside the image read ``fill``
    (-1: the background of images in [-1, 1]).
    """
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (B, C, H, W), got {tuple(images.shape)}")
    b, _, h, w = images.shape
    dev, dtype = images.device, images.dtype
    angle = torch.deg2rad(degrees.to(dev, dtype))
    cos, sin = torch.cos(angle), torch.sin(angle)
    inv_rt = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R^T, (B, 2, 2)
    half = torch.tensor([w / 2.0, h / 2.0], device=dev, dtype=dtype)  # normalised -> pixel units
    # affine_grid maps normalised output coordinates u to input ones: p = R^T (D u - t) / s, u_in = D^-1 p.
    s = scale.to(dev, dtype).view(b, 1, 1)
    matrix = inv_rt * half.view(1, 1, 2) / half.view(1, 2, 1) / s
    offset = -(inv_rt @ shift.to(dev, dtype).view(b, 2, 1)) / half.view(1, 2, 1) / s
    theta = torch.cat([matrix, offset], dim=2)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill


def random_affine(
    images: torch.Tensor,
    max_degrees: float = 10.0,
    max_scale: float = 0.1,
    max_shift: float = 2.0,
    generator: torch.Generator | None = None,
    fill: float = -1.0,
) -> torch.Tensor:
    r"""Augment a batch: each image gets :math:`\theta \sim U(-\text{max\_degrees}, \text{max\_degrees})`,
    :math:`s \sim U(1 - \text{max\_scale}, 1 + \text{max\_scale})` and a shift
    :math:`t \sim U(-\text{max\_shift}, \text{max\_shift})^2` pixels, applied by :func:`affine_transform`.

    The random numbers are drawn on the CPU from ``generator``, so a seeded run repeats on any device.
    """
    b = images.shape[0]
    u = torch.rand(b, 4, generator=generator) * 2 - 1  # U(-1, 1)
    return affine_transform(images, u[:, 0] * max_degrees, 1 + u[:, 1] * max_scale, u[:, 2:] * max_shift, fill)


def cosine_learning_rate(lr: float, step: int, total_steps: int) -> float:
    r"""Cosine decay from ``lr`` to 0: :math:`\eta_t = \tfrac{\eta}{2}\left(1 + \cos\frac{\pi t}{T}\right)`."""
    return 0.5 * lr * (1.0 + math.cos(math.pi * step / total_steps))


def train_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 2e-3,
    weight_decay: float = 1e-4,
    augment: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = True,
    eval_images: torch.Tensor | None = None,
    eval_labels: torch.Tensor | None = None,
) -> History:
    r"""Train a classifier on uint8 digits ``images`` ``(N, 28, 28)`` and int64 ``labels`` (as
    :func:`gan_helpers.data.load_mnist` returns them) by minimising the cross-entropy of its logits.

    Adam (with decoupled ``weight_decay``, AdamW) runs for ``epochs`` passes over the data with the
    learning rate of :func:`cosine_learning_rate` at every step; pixels are mapped to [-1, 1] and,
    with ``augment``, each batch goes through :func:`random_affine`. Shuffling and augmentation
    are seeded by ``seed`` (dropout and the initial weights follow PyTorch's global seed).
    Logged once per epoch (step = epoch number): ``loss`` and ``accuracy`` on the training batches
    as seen (augmented), ``lr`` at the epoch's first step, and ``eval_accuracy`` when
    ``eval_images``/``eval_labels`` are given. Leaves the model in eval mode.
    """
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.dtype != torch.uint8:
        raise TypeError(
            f"train_classifier expects uint8 pixels (as load_mnist returns), got {images.dtype}; "
            "for images already in [-1, 1] convert back with ((x + 1) * 127.5).round().to(torch.uint8)"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"need one label per image: {len(images)} images, labels of shape {tuple(labels.shape)}")
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"epochs and batch_size must be at least 1 and lr positive, got {epochs}, {batch_size}, {lr}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    batches = DeviceBatches(images, labels.long(), batch_size=batch_size, device=device, generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    total_steps = epochs * len(batches)
    history = History()
    step = 0
    bar = tqdm(range(1, epochs + 1), desc="classifier", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        sums = torch.zeros(2, device=device)  # summed loss, correct predictions
        epoch_lr = cosine_learning_rate(lr, step, total_steps)
        for x, y in batches:
            if augment:
                x = random_affine(x, generator=generator)
            for group in optimizer.param_groups:
                group["lr"] = cosine_learning_rate(lr, step, total_steps)
            logits = model(x)  # (B, classes)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            sums += torch.stack([loss.detach() * len(y), (logits.argmax(1) == y).sum()])
        loss_sum, correct = sums.tolist()
        values = {"loss": loss_sum / len(images), "accuracy": correct / len(images), "lr": epoch_lr}
        _check_finite({"loss": values["loss"]}, epoch)
        if eval_images is not None and eval_labels is not None:
            values["eval_accuracy"] = metrics.classifier_accuracy(model, eval_images, eval_labels, device=device)
        history.log(epoch, **values)
        bar.set_postfix({k: f"{v:.4f}" for k, v in values.items() if k != "lr"})
    bar.close()
    model.eval()
    return history


__all__ += ["affine_transform", "cosine_learning_rate", "random_affine", "train_classifier"]


# --- Deliberate mistakes: options of train_gan for the gallery of what breaks a GAN ---


@dataclass(frozen=True)
class LoopMistake:
    """A DELIBERATE MISTAKE in the training loop, for demonstrations only: ``train_gan(..., mistake=...)``.

    ``d_loss``/``g_loss`` replace the players' losses. ``detach_fake=False`` gives D the fakes
    without ``detach()`` and zeroes G's gradients once per step, before D's update (as a loop
    that calls ``zero_grad`` once at the top does), so the gradient of D's loss leaks into G's
    update. ``freeze_d=False`` ignores the "D is not trainable" flag in G's step: D's gradients
    from G's loss are kept and D takes a step on them, learning to call the fakes real.
    """

    name: str
    description: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    g_loss: Callable[[torch.Tensor], torch.Tensor] | None = None
    detach_fake: bool = True
    freeze_d: bool = True


NO_MISTAKE = LoopMistake("none", "the correct loop")

#: The catalogued mistakes, by name.
MISTAKES: dict[str, LoopMistake] = {
    "g_fake_labels": LoopMistake(
        "g_fake_labels",
        "G is trained against the label 'fake' (D's target for fakes) instead of 'real'",
        g_loss=losses.mistake_g_loss_fake_labels,
    ),
    "double_sigmoid": LoopMistake(
        "double_sigmoid",
        "D ends in a sigmoid and its output is fed to losses that expect logits",
        d_loss=losses.mistake_d_loss_double_sigmoid,
        g_loss=losses.mistake_g_loss_double_sigmoid,
    ),
    "no_detach": LoopMistake(
        "no_detach",
        "G's output is not detached in D's step, and G's gradients are zeroed once per step",
        detach_fake=False,
    ),
    "trainable_ignored": LoopMistake(
        "trainable_ignored",
        "a 'D.trainable = False' flag that nothing honours: D is updated in G's step too",
        freeze_d=False,
    ),
}


def _resolve_mistake(mistake: str | LoopMistake | None) -> LoopMistake:
    if mistake is None:
        return NO_MISTAKE
    if isinstance(mistake, LoopMistake):
        return mistake
    if mistake not in MISTAKES:
        raise ValueError(f"Unknown mistake {mistake!r}; the catalogued ones are {sorted(MISTAKES)}.")
    return MISTAKES[mistake]


def _grad_norm(model: nn.Module) -> torch.Tensor:
    r"""L2 norm of all parameter gradients together, :math:`\sqrt{\sum_p \lVert \nabla_p \rVert_2^2}` (0 if none)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(model.parameters()).device)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


# --- Diagnostics: warnings with a hint when training runs but goes wrong ---


class TrainingWarning(UserWarning):
    """Training runs, but a diagnostic of :func:`fit` says something is going wrong; the message gives a hint."""


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


class DiscriminatorWinsMonitor:
    """A callback that warns (once) when D wins outright: ``loss_d`` and ``d_fake`` near 0 for many steps."""

    def __init__(
        self, loss_below: float = D_WINS_LOSS, d_fake_below: float = D_WINS_D_FAKE, patience: int = D_WINS_STEPS
    ) -> None:
        self.loss_below = loss_below
        self.d_fake_below = d_fake_below
        self.patience = patience
        self.since: int | None = None
        self.warned = False

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
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
                stacklevel=4,  # the line that called fit (monitor <- train_gan <- fit <- caller)
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


def _warn_if_collapsed(ratios: Sequence[float]) -> bool:
    """Warn when :func:`collapse_message` finds a collapse; returns whether it warned."""
    why = collapse_message(ratios)
    if why is not None:
        warnings.warn(
            f"Samples lose diversity: after epoch {len(ratios)} the mean pairwise distance of the "
            f"fixed-noise samples {why}. G may be collapsing onto a few outputs. Hints: look at the "
            "sample grid; lower the learning rates, use the non-saturating loss, or try label "
            "smoothing, minibatch standard deviation or WGAN-GP.",
            ModeCollapseWarning,
            stacklevel=3,
        )
    return why is not None


# --- fit: an epoch driver over train_gan, with sample grids, diagnostics, checkpoints and resume ---

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "gan_helpers.checkpoint/1"

EpochCallback = Callable[["Run"], None]
"""Called as ``callback(run)`` after each epoch (after its checkpoint is written)."""


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    r"""Images in [-1, 1] to uint8 pixels :math:`p = \operatorname{round}(127.5 (x + 1))`, clipped to 0..255."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def generate(G: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """``G(z)`` under ``torch.no_grad()`` in eval mode (its mode is restored after), on G's device."""
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            return G(z.to(next(G.parameters()).device))
    finally:
        G.train(was_training)


@dataclass
class Run:
    """Everything :func:`fit` trains and records; a checkpoint holds all of it.

    ``samples[i]`` is the uint8 grid of the fixed noise after epoch ``sample_epochs[i]`` (epoch 0:
    before training). ``position`` and ``order`` are set only when an epoch was interrupted: how
    many of its steps were done and its sample order, so that resuming gives the same batches.
    """

    G: nn.Module
    D: nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    config: TrainConfig
    history: History
    fixed_noise: torch.Tensor
    samples: list[torch.Tensor] = field(default_factory=list)
    sample_epochs: list[int] = field(default_factory=list)
    epoch: int = 0
    step: int = 0
    position: int = 0
    order: torch.Tensor | None = None
    seconds: float = 0.0
    interrupted: bool = False
    path: Path | None = None

    def grid(self, index: int = -1) -> torch.Tensor:
        """Sample grid ``index`` as floats in [-1, 1], shape ``(n, C, H, W)``."""
        return to_unit_range(self.samples[index])

    def sample_stack(self) -> torch.Tensor:
        """All sample grids as floats in [-1, 1], shape ``(len(samples), n, C, H, W)``."""
        return to_unit_range(torch.stack(self.samples))


class _StopRequested(Exception):
    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


class _DeferredInterrupt:
    """While active, the first Ctrl-C only sets ``requested`` (training stops at the next log point and
    saves); a second one interrupts at once. Only possible in the main thread; elsewhere a no-op."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nInterrupt received: stopping at the next log point and saving a checkpoint (press again to stop now).")

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _model_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _spec_or_none(model: nn.Module) -> dict[str, Any] | None:
    try:
        return models.model_spec(model)
    except ValueError:
        return None


def save_run(run: Run, path: str | os.PathLike[str], generator: torch.Generator | None = None) -> Path:
    """Write ``run`` and the current RNG states to ``path`` atomically (loadable with ``weights_only=True``).

    ``generator`` is the data's own generator (``DeviceBatches.generator``), if it has one.
    """
    state = {
        "format": CHECKPOINT_FORMAT,
        "epoch": run.epoch,
        "step": run.step,
        "position": run.position,
        "order": run.order,
        "interrupted": run.interrupted,
        "seconds": run.seconds,
        "G": _model_state(run.G),
        "D": _model_state(run.D),
        "G_spec": _spec_or_none(run.G),
        "D_spec": _spec_or_none(run.D),
        "opt_G": run.opt_G.state_dict(),
        "opt_D": run.opt_D.state_dict(),
        "config": asdict(run.config),
        "history": run.history.state_dict(),
        "fixed_noise": run.fixed_noise.cpu(),
        "samples": torch.stack(run.samples) if run.samples else None,
        "sample_epochs": list(run.sample_epochs),
        "rng": checkpoints.rng_state(generator),
    }
    return checkpoints.atomic_save(state, path)


def _checkpoint_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def load_run(
    path: str | os.PathLike[str],
    G: nn.Module | None = None,
    D: nn.Module | None = None,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
) -> tuple[Run, dict[str, Any]]:
    """Read a checkpoint written by :func:`fit` (a file, or a run folder holding ``checkpoint.pt``).

    G and D are rebuilt from the checkpoint's model specs unless given. ``config`` (default: the
    saved one) sets the optimisers' learning rates and betas. Returns the :class:`Run` and the raw
    checkpoint (which holds the RNG states). Loading uses ``weights_only=True``.
    """
    file = _checkpoint_file(path)
    state = checkpoints.load_checkpoint(file)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{file} is not a checkpoint written by gan_helpers.training.fit")
    if config is None:
        saved = dict(state["config"])
        saved["betas"] = tuple(saved["betas"])
        config = TrainConfig(**saved)
    built = []
    for name, given in (("G", G), ("D", D)):
        if given is None:
            if state[f"{name}_spec"] is None:
                raise ValueError(f"{file} does not describe its {name}; pass the model: load_run(path, G=..., D=...)")
            given = models.build_model(state[f"{name}_spec"])
        given.load_state_dict(state[name])
        built.append(given.to(device) if device is not None else given)
    G, D = built
    opt_G, opt_D = make_optimizers(G, D, config)
    for opt, key, lr in ((opt_G, "opt_G", config.lr_generator), (opt_D, "opt_D", config.lr_discriminator)):
        opt.load_state_dict(state[key])
        for group in opt.param_groups:  # the given config wins, e.g. to resume with a lower lr
            group["lr"], group["betas"] = lr, config.betas
    history = History()
    history.load_state_dict(state["history"])
    samples = list(state["samples"]) if state["samples"] is not None else []
    run = Run(
        G,
        D,
        opt_G,
        opt_D,
        config,
        history,
        state["fixed_noise"],
        samples,
        list(state["sample_epochs"]),
        state["epoch"],
        state["step"],
        state["position"],
        state["order"],
        state["seconds"],
        state["interrupted"],
        file,
    )
    return run, state


def _new_run(G: nn.Module, D: nn.Module, config: TrainConfig, num_samples: int, noise_seed: int) -> Run:
    opt_G, opt_D = make_optimizers(G, D, config)
    noise = torch.randn(num_samples, G.latent_dim, generator=torch.Generator().manual_seed(noise_seed))
    run = Run(G, D, opt_G, opt_D, config, History(), noise)
    run.samples.append(to_uint8(generate(G, noise)))
    run.sample_epochs.append(0)
    return run


def _start_run(
    G: nn.Module,
    D: nn.Module,
    batches: DeviceBatches,
    config: TrainConfig,
    path: Path | None,
    resume: bool | Run,
    overwrite: bool,
    num_samples: int,
    noise_seed: int,
) -> Run:
    """A new run, the in-memory run to continue, or the run restored from ``path`` (with its RNG states)."""
    if isinstance(resume, Run):
        if resume.G is not G or resume.D is not D:
            raise ValueError("resume=run continues that run's own G and D: pass run.G and run.D")
        resume.config, resume.interrupted = config, False
        return resume
    if resume and path is None:
        raise ValueError("resume=True needs out_dir, the folder of the checkpoint to continue")
    if path is not None and path.exists():
        if resume:
            run, state = load_run(path, G, D, config)
            checkpoints.set_rng_state(state["rng"], batches.generator)
            run.interrupted = False
            return run
        if not overwrite:
            raise FileExistsError(
                f"{path} already holds a checkpoint. Pass resume=True to continue it, overwrite=True to "
                "start again from scratch, or choose another out_dir."
            )
    elif resume:
        print(f"No checkpoint at {path}: starting a new run.")
    return _new_run(G, D, config, num_samples, noise_seed)


def fit(
    G: nn.Module,
    D: nn.Module,
    batches: DeviceBatches,
    config: TrainConfig | None = None,
    *,
    epochs: int,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool | Run = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
    epoch_callbacks: Sequence[EpochCallback] = (),
    steps_per_epoch: int | None = None,
    num_samples: int = 64,
    noise_seed: int = 0,
    grad_norms: bool = True,
    diagnostics: bool = True,
    mistake: str | LoopMistake | None = None,
) -> Run:
    r"""Train for ``epochs`` epochs (in total, counting resumed ones) with :func:`train_gan`, one epoch per call.

    An epoch is one pass over ``batches`` in a fresh random order: ``len(batches) // d_steps``
    steps, or ``steps_per_epoch``. After each epoch ``fit`` draws G's samples of a fixed noise
    batch (``num_samples`` vectors seeded by ``noise_seed``, the same in every run), logs
    ``epoch``, ``epoch_seconds``, ``images_per_s`` (real images through D per second) and
    ``diversity`` (:func:`gan_helpers.metrics.diversity_ratio` of those samples against as many
    real images), and with ``out_dir`` writes ``checkpoint.pt`` atomically: models, optimisers,
    history, sample grids, epoch, step and RNG states. ``grad_norms`` logs G's and D's gradient
    norms; ``diagnostics`` warns (once each) when D wins outright (:class:`DiscriminatorWinsMonitor`)
    or the samples lose diversity (:func:`collapse_message`).

    Ctrl-C (a notebook's interrupt button) stops at the next log point, saves, and returns the run
    with ``interrupted=True``; ``resume=True`` then continues from ``out_dir`` exactly where it
    stopped, with the same batches and random numbers as an uninterrupted run. ``resume=run``
    continues an in-memory :class:`Run`. A NaN or infinite loss raises :class:`TrainingDiverged`
    and leaves the last good checkpoint as it was.
    """
    if not isinstance(batches, DeviceBatches):
        raise TypeError(f"fit takes a gan_helpers.data.DeviceBatches, got {type(batches).__name__}")
    config = config or TrainConfig(batch_size=batches.batch_size)
    steps = _steps_per_epoch(batches, config, epochs, steps_per_epoch)
    device = batches.device
    G.to(device)
    D.to(device)
    path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None
    run = _start_run(G, D, batches, config, path, resume, overwrite, num_samples, noise_seed)
    run.path = path
    real_reference = to_unit_range(batches.images[:num_samples]).to(device)
    monitors: list[Callback] = [DiscriminatorWinsMonitor()] if diagnostics else []
    collapse_warned = False
    progress = _RunProgress(run, epochs, epochs * steps, config.desc, config.progress)
    with _DeferredInterrupt() as interrupt:

        def stop_if_asked(step: int, history: History, G: nn.Module, D: nn.Module) -> None:
            if interrupt.requested:
                raise _StopRequested(step)

        try:
            while run.epoch < epochs:
                if run.position == 0:
                    run.order = batches.permutation().cpu()
                done = run.position
                source = batches.iter_order(run.order, start=done * config.d_steps)
                epoch_config = replace(config, steps=steps - done, progress=False)  # fit shows one bar for the run
                epoch_start = run.step - done
                start = time.perf_counter()
                try:
                    train_gan(
                        G,
                        D,
                        source,
                        epoch_config,
                        device=device,
                        callbacks=[progress, *callbacks, *monitors, stop_if_asked],
                        history=run.history,
                        optimizers=(run.opt_G, run.opt_D),
                        start_step=run.step,
                        grad_norms=grad_norms,
                        mistake=mistake,
                    )
                except _StopRequested as stop:
                    run.seconds += time.perf_counter() - start
                    run.step, run.position, run.interrupted = stop.step, stop.step - epoch_start, True
                    _save_interrupted(run, steps, path, batches.generator)
                    return run
                except TrainingDiverged as exc:
                    kept = path is not None and path.is_file()
                    note = f" The last good checkpoint, {path} (epoch {run.epoch}), is kept." if kept else ""
                    raise TrainingDiverged(f"{exc}{note}") from exc
                except KeyboardInterrupt:
                    if path and path.exists():
                        print(f"Interrupted mid-step; the last complete checkpoint {path} (epoch {run.epoch}) is kept.")
                    raise
                seconds = time.perf_counter() - start
                images = _images_between(batches, done * config.d_steps, steps * config.d_steps)
                _finish_epoch(run, steps - done, images, seconds, real_reference)
                progress.epoch_done(run)
                if diagnostics and not collapse_warned:
                    collapse_warned = _warn_if_collapsed(list(run.history["diversity"]))
                for callback in epoch_callbacks:  # before saving, so that what they log is in the checkpoint
                    callback(run)
                if path is not None:
                    save_run(run, path, batches.generator)
        finally:
            progress.close()
    return run


def _steps_per_epoch(batches: DeviceBatches, config: TrainConfig, epochs: int, steps_per_epoch: int | None) -> int:
    """Check :func:`fit`'s arguments; the number of steps in an epoch."""
    if config.batch_size != batches.batch_size:
        raise ValueError(
            f"config.batch_size ({config.batch_size}) differs from batches.batch_size ({batches.batch_size}): "
            "build both with the same batch size"
        )
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    steps = steps_per_epoch if steps_per_epoch is not None else len(batches) // config.d_steps
    if not 1 <= steps * config.d_steps <= len(batches):
        raise ValueError(
            f"an epoch has {len(batches)} batches; steps_per_epoch ({steps}) x d_steps ({config.d_steps}) "
            "must be between 1 and that"
        )
    return steps


class _RunProgress:
    """One progress bar for a whole :func:`fit` (steps of all epochs), with the latest logged values."""

    def __init__(self, run: Run, epochs: int, total: int, desc: str, enabled: bool) -> None:
        self.desc, self.epochs = desc, epochs
        self.bar = tqdm(total=total, initial=run.step, desc=self._label(run), disable=not enabled)

    def _label(self, run: Run) -> str:
        return f"{self.desc} (epoch {min(run.epoch + 1, self.epochs)} of {self.epochs})"

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(
            loss_d=f"{history.last('loss_d'):.3f}",
            loss_g=f"{history.last('loss_g'):.3f}",
            d_real=f"{history.last('d_real'):.2f}",
            d_fake=f"{history.last('d_fake'):.2f}",
            refresh=False,
        )

    def epoch_done(self, run: Run) -> None:
        self.bar.set_description(self._label(run), refresh=False)

    def close(self) -> None:
        self.bar.close()


def _save_interrupted(run: Run, steps: int, path: Path | None, generator: torch.Generator | None) -> None:
    where = f"saved to {save_run(run, path, generator)}" if path else "not saved (fit had no out_dir)"
    print(f"Stopped at step {run.step} ({run.position}/{steps} of epoch {run.epoch + 1}); checkpoint {where}.")


def _images_between(batches: DeviceBatches, first: int, last: int) -> int:
    """How many images batches ``first`` to ``last - 1`` of an epoch hold (the last batch may be short)."""
    return min(last * batches.batch_size, len(batches.images)) - first * batches.batch_size


def _finish_epoch(run: Run, steps: int, images: int, seconds: float, real_reference: torch.Tensor) -> None:
    """Advance the counters by ``steps``, draw the fixed-noise samples and log the epoch's figures."""
    run.seconds += seconds
    run.step += steps
    run.epoch += 1
    run.position, run.order = 0, None
    fake = generate(run.G, run.fixed_noise)
    run.samples.append(to_uint8(fake))
    run.sample_epochs.append(run.epoch)
    ratio = metrics.diversity_ratio(fake, real_reference[: len(fake)])
    run.history.log(
        run.step, epoch=run.epoch, epoch_seconds=seconds, images_per_s=images / max(seconds, 1e-9), diversity=ratio
    )


__all__ += [
    "CHECKPOINT_NAME",
    "MISTAKES",
    "DiscriminatorWinsMonitor",
    "DiscriminatorWinsWarning",
    "LoopMistake",
    "ModeCollapseWarning",
    "Run",
    "TrainingWarning",
    "collapse_message",
    "fit",
    "generate",
    "load_run",
    "save_run",
    "to_uint8",
]


# --- Notebook 02: a GAN on a line (1-D targets): distances, snapshots, one-call runs ----------------


def evaluation_noise(num_samples: int, latent_dim: int, seed: int = 0) -> torch.Tensor:
    """Fixed noise ``(num_samples, latent_dim)`` from its own seeded generator; the global random state is untouched.

    Measuring G on the same noise at every step makes a metric's curve move only because G does,
    and leaves the training's own random numbers (hence its history) as they would be without it.
    """
    if num_samples < 1 or latent_dim < 1:
        raise ValueError(f"num_samples and latent_dim must be positive, got {num_samples} and {latent_dim}")
    return torch.randn(num_samples, latent_dim, generator=torch.Generator().manual_seed(seed))


class DistanceCallback:
    r"""A callback that logs ``w1`` and ``ks``, G's distance to 1-D target samples, every ``every`` steps.

    ``w1`` is :func:`gan_helpers.metrics.wasserstein_1d` and ``ks`` is
    :func:`gan_helpers.metrics.ks_statistic` between :math:`G(z_i)` for a fixed noise batch
    (:func:`evaluation_noise`, as many points as ``target_samples``) and ``target_samples``. Use
    :meth:`log` to measure at step 0, before training. ``every`` should be a multiple of the
    training's ``log_every`` (callbacks run at log points) and divide the number of steps, so that
    the last step is measured.
    """

    def __init__(self, target_samples: torch.Tensor, every: int = 100, seed: int = 0) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.target = metrics._as_samples_1d(target_samples, "target_samples")
        self.every = every
        self.seed = seed
        self._noise: torch.Tensor | None = None

    def noise(self, latent_dim: int) -> torch.Tensor:
        """The fixed evaluation noise, made on first use (G's ``latent_dim`` is known only then)."""
        if self._noise is None or self._noise.shape[1] != latent_dim:
            self._noise = evaluation_noise(len(self.target), latent_dim, self.seed)
        return self._noise

    def distances(self, G: nn.Module) -> dict[str, float]:
        """``{"w1": ..., "ks": ...}`` for G now."""
        x_fake = generate(G, self.noise(G.latent_dim)).cpu()
        return {"w1": metrics.wasserstein_1d(x_fake, self.target), "ks": metrics.ks_statistic(x_fake, self.target)}

    def log(self, step: int, history: History, G: nn.Module) -> None:
        """Measure G and log ``w1`` and ``ks`` at ``step``."""
        history.log(step, **self.distances(G))

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step % self.every == 0:
            self.log(step, history, G)


def distance_callback(target_samples: torch.Tensor, every: int = 100, seed: int = 0) -> DistanceCallback:
    """A :class:`DistanceCallback`: log ``w1`` and ``ks`` to ``target_samples`` every ``every`` steps."""
    return DistanceCallback(target_samples, every=every, seed=seed)


@dataclass(frozen=True)
class Snapshot1D:
    r"""A 1-D GAN at one step, as numbers: D on a grid, generated samples, and G on a line of noise.

    ``d_prob`` is :math:`D(x) = \sigma(\ell(x))` on ``x_grid``; ``samples`` are G's outputs on fixed
    noise; ``z_line`` are noise values and ``x_of_z`` their images :math:`G(z)` (empty when the
    latent space is not 1-D, since then no single z-axis exists).
    """

    step: int
    x_grid: np.ndarray  # (n_grid,)
    d_prob: np.ndarray  # (n_grid,)
    samples: np.ndarray  # (n_samples,)
    z_line: np.ndarray  # (n_lines,)
    x_of_z: np.ndarray  # (n_lines,)


def noise_quantiles(num: int) -> torch.Tensor:
    r"""The ``num`` standard-normal quantiles :math:`z_k = \Phi^{-1}\big((k - \tfrac12)/\text{num}\big)`, k = 1..num.

    Each carries probability :math:`1/\text{num}` of the noise, so the images :math:`G(z_k)` crowd
    where G puts much mass and thin out where it puts little.
    """
    if num < 1:
        raise ValueError(f"num must be at least 1, got {num}")
    return torch.special.ndtri((torch.arange(num, dtype=torch.float64) + 0.5) / num).float()


class SnapshotRecorder1D:
    """A callback that stores a :class:`Snapshot1D` every ``every`` steps and/or at the steps in ``at``.

    Call :meth:`record` for step 0. It keeps numbers, not models: D's probabilities on
    ``x_grid``, ``num_samples`` samples of G on fixed noise, and G on ``num_lines`` noise
    quantiles (:func:`noise_quantiles`) when ``latent_dim`` is 1.
    :func:`gan_helpers.plots.plot_gan_1d` draws a snapshot. Callbacks run at log points, so the
    steps should be multiples of the training's ``log_every`` (see :func:`log_spaced_steps`).
    """

    def __init__(
        self,
        x_grid: torch.Tensor,
        every: int | None = None,
        num_samples: int = 4000,
        num_lines: int = 30,
        seed: int = 1,
        at: Sequence[int] = (),
    ) -> None:
        if every is None and not at:
            raise ValueError("say when to record: pass every=N (steps) or at=[steps]")
        if every is not None and every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.x_grid = torch.as_tensor(x_grid, dtype=torch.float32).reshape(-1)
        self.every = every
        self.at = {int(step) for step in at}
        self.num_samples = num_samples
        self.num_lines = num_lines
        self.seed = seed
        self.snapshots: list[Snapshot1D] = []

    def record(self, step: int, G: nn.Module, D: nn.Module) -> Snapshot1D:
        """Capture and store the current state of G and D."""
        noise = evaluation_noise(self.num_samples, G.latent_dim, self.seed)
        samples = generate(G, noise).cpu().reshape(-1)
        z_line = noise_quantiles(self.num_lines) if G.latent_dim == 1 else torch.zeros(0)
        x_of_z = generate(G, z_line[:, None]).cpu().reshape(-1) if len(z_line) else torch.zeros(0)
        was_training = D.training
        D.eval()
        with torch.no_grad():
            d_prob = torch.sigmoid(D(self.x_grid[:, None].to(next(D.parameters()).device))).cpu()
        D.train(was_training)
        snapshot = Snapshot1D(
            step, self.x_grid.numpy(), d_prob.numpy(), samples.numpy(), z_line.numpy(), x_of_z.numpy()
        )
        self.snapshots.append(snapshot)
        return snapshot

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step in self.at or (self.every is not None and step % self.every == 0):
            self.record(step, G, D)


def log_spaced_steps(total: int, num: int, multiple_of: int = 10) -> list[int]:
    r"""About ``num`` steps up to ``total``, evenly spaced in :math:`\log t`, rounded to multiples of ``multiple_of``.

    A GAN changes fastest early on, so snapshots at geometrically spaced steps
    :math:`t_j = t_0 (T/t_0)^{j/(n-1)}`, from :math:`t_0 = \max(\text{multiple\_of}, T/100)` to
    :math:`T` = ``total``, show the first moves and the slow finish alike. Rounding may merge
    steps, so fewer than ``num`` can come back; ``total`` is always the last.
    """
    if total < multiple_of or num < 1 or multiple_of < 1:
        raise ValueError(f"need total >= multiple_of >= 1 and num >= 1, got {total}, {multiple_of}, {num}")
    raw = np.geomspace(max(multiple_of, total / 100), total, num)
    steps = {max(multiple_of, round(t / multiple_of) * multiple_of) for t in raw.tolist()}
    return sorted(t for t in steps | {total} if t <= total)


def build_gan_1d(latent_dim: int = 1, hidden: Sequence[int] = (32, 32)) -> tuple[MLPGenerator, MLPDiscriminator]:
    """A small MLP generator (noise ``(B, latent_dim)`` to ``(B, 1)``) and discriminator (``(B, 1)`` to logits)."""
    return MLPGenerator(latent_dim=latent_dim, data_dim=1, hidden=hidden), MLPDiscriminator(data_dim=1, hidden=hidden)


def optimizers_1d(
    G: nn.Module, D: nn.Module, config: TrainConfig, g_optimizer: str = "sgd"
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """``(opt_G, opt_D)`` for the 1-D GAN: D uses Adam (``lr_d``, ``betas``); G uses plain SGD or Adam at ``lr_g``.

    Adam divides each gradient by a running estimate of its size, so G moves by about ``lr_g`` per
    step however small its gradient is; plain SGD moves by ``lr_g`` times the gradient, so G's
    steps shrink as D's signal fades near the target (and a vanishing gradient shows as a stall).
    """
    if g_optimizer not in ("sgd", "adam"):
        raise ValueError(f"Unknown g_optimizer {g_optimizer!r}; choose 'sgd' or 'adam'.")
    opt_D = torch.optim.Adam(D.parameters(), lr=config.lr_discriminator, betas=config.betas)
    if g_optimizer == "sgd":
        opt_G: torch.optim.Optimizer = torch.optim.SGD(G.parameters(), lr=config.lr_generator)
    else:
        opt_G = torch.optim.Adam(G.parameters(), lr=config.lr_generator, betas=config.betas)
    return opt_G, opt_D


GAN_1D_CONFIG: dict[str, Any] = {
    "batch_size": 256,
    "lr_d": 1e-3,
    "lr_g": 0.02,
    "betas": (0.0, 0.9),
    "log_every": 10,
}
"""The settings of notebook 02's 1-D GAN (D: Adam at ``lr_d``; G: SGD at ``lr_g``); override any of them."""


def config_1d(**overrides: Any) -> TrainConfig:
    """A :class:`TrainConfig` with :data:`GAN_1D_CONFIG`'s settings, then ``overrides``: ``config_1d(steps=3000)``."""
    return TrainConfig(**{**GAN_1D_CONFIG, "progress": False, **overrides})


@dataclass
class Run1D:
    """The result of :func:`train_gan_1d`: the trained players, the history, snapshots and time."""

    G: nn.Module
    D: nn.Module
    history: History
    snapshots: list[Snapshot1D]
    seconds: float
    samples: np.ndarray  # (num_eval,) final samples of G on the evaluation noise

    def final(self, name: str = "w1") -> float:
        """The last logged value of ``name``."""
        return self.history.last(name)

    def describe(self, label: str = "") -> str:
        """One line of measured numbers: final W1, the median and maximum of W1 over the run's second half, time."""
        w1 = self.history["w1"]
        late = w1[len(w1) // 2 :]
        return (
            f"{label:>16}  final W1 {w1[-1]:8.3f} | 2nd half: median {np.median(late):8.3f}, "
            f"max {late.max():8.3f} | {self.seconds:4.1f} s"
        )


def train_gan_1d(
    target: GaussianMixture,
    config: TrainConfig,
    *,
    latent_dim: int = 1,
    hidden: Sequence[int] = (32, 32),
    seed: int = 0,
    g_optimizer: str = "sgd",
    models: tuple[nn.Module, nn.Module] | None = None,
    num_eval: int = 20_000,
    eval_every: int = 100,
    snapshot_every: int | None = None,
    x_range: tuple[float, float] | None = None,
    callbacks: Sequence[Callback] = (),
    grad_norms: bool = False,
    num_threads: int | None = 1,
) -> Run1D:
    """Seed, build (or copy ``models``), train a 1-D GAN on ``target`` with :func:`train_gan`, measure it.

    ``w1`` and ``ks`` to ``num_eval`` target samples are logged at step 0 and every
    ``eval_every`` steps (:class:`DistanceCallback`); with ``snapshot_every``, snapshots on
    ``x_range`` (default: the target's mean +- 5 std) are kept. ``models`` are deep-copied, so one
    starting point can be trained several ways. The whole run is fixed by ``seed``. It runs on
    ``num_threads`` CPU threads (``None``: unchanged): models this small gain nothing from more, and
    on a busy machine extra threads mostly wait for each other.
    """
    if target.dim != 1:
        raise ValueError(f"train_gan_1d needs a 1-D target, got one of dimension {target.dim}")
    runtime.seed_everything(seed)
    G, D = (copy.deepcopy(models[0]), copy.deepcopy(models[1])) if models else build_gan_1d(latent_dim, hidden)
    x_target = target.sample(num_eval, generator=torch.Generator().manual_seed(seed + 10_000))
    distance = DistanceCallback(x_target, every=eval_every, seed=seed + 20_000)
    history = History()
    distance.log(0, history, G)
    recorder = None
    if snapshot_every:
        mean, std = float(target.mean()), float(target.covariance().sqrt())
        low, high = x_range or (mean - 5 * std, mean + 5 * std)
        recorder = SnapshotRecorder1D(torch.linspace(low, high, 300), every=snapshot_every)
        recorder.record(0, G, D)
    start = time.perf_counter()
    with runtime.cpu_threads(num_threads):
        train_gan(
            G,
            D,
            target.sample,
            config,
            optimizers=optimizers_1d(G, D, config, g_optimizer),
            history=history,
            callbacks=[distance, *([recorder] if recorder else []), *callbacks],
            grad_norms=grad_norms,
        )
    seconds = time.perf_counter() - start
    samples = generate(G, distance.noise(G.latent_dim)).cpu().reshape(-1).numpy()
    return Run1D(G, D, history, recorder.snapshots if recorder else [], seconds, samples)


__all__ += [
    "GAN_1D_CONFIG",
    "DistanceCallback",
    "Run1D",
    "Snapshot1D",
    "SnapshotRecorder1D",
    "build_gan_1d",
    "config_1d",
    "distance_callback",
    "evaluation_noise",
    "log_spaced_steps",
    "noise_quantiles",
    "optimizers_1d",
    "train_gan_1d",
]


# --- Notebook 05: sample quality (FID, class coverage) tracked once per epoch of fit ---------------


class QualityTracker:
    r"""Epoch callback for :func:`fit`: logs ``fid``, ``classes_covered`` and ``kl_from_uniform`` each epoch.

    After every epoch it draws ``n`` samples of G from the same seeded noise
    (:func:`gan_helpers.metrics.sample_images`, eval mode, no gradients, G's mode restored) and compares
    their ``classifier`` features with those of ``n`` fixed real images (a seeded subset of
    ``real_images``, featurised once): :math:`\mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2 +
    \operatorname{Tr}(\Sigma_r + \Sigma_g - 2 (\Sigma_r^{1/2} \Sigma_g \Sigma_r^{1/2})^{1/2})`
    (:func:`gan_helpers.metrics.fid`) and the class histogram of the classifier's predictions
    (:func:`gan_helpers.metrics.class_coverage`). The values are logged at the epoch's last step, so
    ``run.history.steps("fid")`` lines up with the other per-epoch entries. It uses its own random
    generators: training with or without it gives the same weights. Use it as
    ``fit(..., epoch_callbacks=[tracker])``; ``tracker(run)`` also measures a run (or ``tracker.measure(G)``
    any generator) at the same ``n`` against the same real images.
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
        x_fake = metrics.sample_images(G, self.n, seed=self.seed, device=self.device)
        features, logits = metrics.classifier_outputs(self.classifier, x_fake, device=self.device)
        coverage = metrics.class_coverage(logits.argmax(1), num_classes=logits.shape[1], min_share=self.min_share)
        return {
            "fid": metrics.fid(self.real_features, features),
            "classes_covered": float(coverage.classes_covered),
            "kl_from_uniform": coverage.kl_from_uniform,
        }

    def __call__(self, run: Run) -> None:
        run.history.log(run.step, **self.measure(run.G))


__all__ += ["QualityTracker"]
