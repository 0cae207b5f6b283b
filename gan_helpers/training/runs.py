r"""Training by epochs: a :class:`Run` with sample grids, diagnostics, atomic checkpoints, Ctrl-C and exact resume.

:func:`train_epochs` drives :func:`gan_helpers.training.train_gan` one epoch at a time and writes
``checkpoint.pt`` after each; :func:`save_run`/:func:`load_run` are its checkpoint I/O.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from gan_helpers import checkpoints, metrics, models
from gan_helpers.data.batches import DeviceBatches, to_unit_range
from gan_helpers.sampling import evaluation_noise, generate, to_uint8
from gan_helpers.training.averaging import GeneratorAverage, recalibrate_batch_norm
from gan_helpers.training.config import TrainConfig, TrainingDiverged
from gan_helpers.training.distributed import ONE_PROCESS, Distributed, continued_position, saved_world_size
from gan_helpers.training.history import Callback, History
from gan_helpers.training.loop import make_optimizers, train_gan
from gan_helpers.training.mistakes import LoopMistake
from gan_helpers.training.monitors import CollapseCallback, DiscriminatorWinsCallback

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "Run", "load_run", "save_run", "train_epochs"]

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "gan_helpers.checkpoint/2"  # 2: with a checksum (verified on loading) and the run's settings

_CHECKPOINT_REMEDY = (
    "Delete it, or pass --overwrite (overwrite=True) to train again from scratch there, "
    "or choose another --out (out_dir)."
)
_CHECKPOINT_KEYS = frozenset(
    {"epoch", "step", "position", "order", "interrupted", "seconds", "G", "D", "G_spec", "D_spec", "opt_G", "opt_D"}
    | {"config", "history", "fixed_noise", "samples", "sample_epochs", "rng", "settings"}
)


@dataclass
class Run:
    """Everything :func:`train_epochs` trains and records; a checkpoint holds all of it.

    ``samples[i]`` is the uint8 grid of the fixed noise after epoch ``sample_epochs[i]`` (epoch 0:
    before training). ``position`` and ``order`` are set only when an epoch was interrupted: how
    many of its steps were done and its sample order, so that resuming gives the same batches.
    ``seconds`` is the wall time spent training; ``rng_state`` the random states saved with the
    checkpoint it was loaded from (None for a run made in memory). ``settings`` holds plain values
    (e.g. the command line's flags) saved with the checkpoint, so that a resume can reuse them.
    ``G_average`` is the moving average of G's weights (:class:`~gan_helpers.training.GeneratorAverage`)
    when ``config.ema_decay > 0``: :meth:`sampling_generator` returns it, and the sample grids show it.
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
    rng_state: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    G_average: GeneratorAverage | None = None
    _measured_at: int | None = field(default=None, repr=False, compare=False)

    def sampling_generator(self) -> nn.Module:
        """The generator to sample and evaluate: the moving average of G's weights when the run keeps one
        (``config.ema_decay > 0``; its batch-norm statistics re-measured whenever it has changed since), else G."""
        if self.G_average is None:
            return self.G
        if self._measured_at != self.G_average.updates:
            recalibrate_batch_norm(self.G_average.model)
            self._measured_at = self.G_average.updates
        return self.G_average.model.eval()

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


class _StopWhenAsked(Callback):
    """Ends the epoch at the next log point once Ctrl-C was pressed (in any of the processes training together)."""

    def __init__(self, interrupt: _DeferredInterrupt, team: Distributed) -> None:
        self.interrupt, self.team = interrupt, team

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if self.team.any(self.interrupt.requested):
            raise _StopRequested(step)


class _RunProgress(Callback):
    """One progress bar for a whole :func:`train_epochs` (steps of all epochs), with the latest logged values."""

    def __init__(self, run: Run, epochs: int, total: int, desc: str, enabled: bool) -> None:
        self.desc, self.epochs = desc, epochs
        self.bar = tqdm(total=total, initial=run.step, desc=self._label(run), disable=not enabled)

    def _label(self, run: Run) -> str:
        return f"{self.desc} (epoch {min(run.epoch + 1, self.epochs)} of {self.epochs})"

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(
            loss_d=f"{history.last('loss_d'):.3f}",
            loss_g=f"{history.last('loss_g'):.3f}",
            d_real=f"{history.last('d_real'):.2f}",
            d_fake=f"{history.last('d_fake'):.2f}",
            refresh=False,
        )

    def on_epoch_end(self, run: Run) -> None:
        self.bar.set_description(self._label(run), refresh=False)

    def close(self) -> None:
        self.bar.close()


def _model_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of ``model``'s parameters and buffers."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _first_non_finite(run: Run) -> str | None:
    """The name of the first parameter, buffer or optimiser state of ``run`` holding NaN or inf (None if none)."""
    named = [(f"G.{k}", v) for k, v in run.G.state_dict().items()]
    named += [(f"D.{k}", v) for k, v in run.D.state_dict().items()]
    for opt_name, opt in (("opt_G", run.opt_G), ("opt_D", run.opt_D)):
        for index, values in opt.state_dict()["state"].items():
            named += [(f"{opt_name}.state.{index}.{k}", v) for k, v in values.items()]
    for name, value in named:
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
            return name
    return None


def _spec_or_none(model: nn.Module) -> dict[str, Any] | None:
    try:
        return models.model_spec(model)
    except ValueError:
        return None


def save_run(
    run: Run,
    path: str | os.PathLike[str],
    generator: torch.Generator | None = None,
    rank_states: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``run`` and the current RNG states to ``path`` atomically, with a checksum (``weights_only=True``).

    ``generator`` is the data's own generator (``DeviceBatches.generator``), if it has one; ``rank_states`` the
    RNG states of every process when several train together (saved as ``rng["ranks"]``). A run
    whose weights, buffers (e.g. a batch-norm running variance) or optimiser states hold NaN or inf
    is not saved: :class:`~gan_helpers.training.TrainingDiverged` names the tensor, and the last good
    checkpoint at ``path`` is kept. ``run.settings`` must be plain values. A full disk raises
    ``OSError`` saying so.
    """
    bad = _first_non_finite(run)
    if bad is not None:
        kept = " The last good checkpoint there is kept." if Path(path).is_file() else ""
        raise TrainingDiverged(
            f"Training diverged: {bad} holds NaN or infinite values at step {run.step} (epoch {run.epoch}), "
            f"so the run was not saved to {path}.{kept} Try a lower learning rate."
        )
    checkpoints.require_plain(run.settings, "Run.settings", limit=10_000)
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
        "rng": {**checkpoints.rng_state(generator), **({"ranks": rank_states} if rank_states is not None else {})},
        "settings": dict(run.settings),
        "G_average": run.G_average.state_dict() if run.G_average is not None else None,
    }
    return checkpoints.atomic_save(state, path)


def _checkpoint_file(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the ``checkpoint.pt`` in it when it is a run folder."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def _describe(spec: dict[str, Any] | None, model: nn.Module | None = None) -> str:
    """``Class(arg=value, ...)`` of a model spec, or the model's class name when there is no spec."""
    if isinstance(spec, dict) and isinstance(spec.get("kwargs"), dict):
        args = ", ".join(f"{k}={v!r}" for k, v in spec["kwargs"].items())
        return f"{spec.get('class')}({args})"
    return type(model).__name__ if model is not None else "a model it does not describe"


def _restore_model(file: Path, state: dict[str, Any], name: str, given: nn.Module | None) -> nn.Module:
    """Model ``name`` ("G" or "D") of a checkpoint: ``given`` with the saved weights, or rebuilt from the spec.

    Raises :class:`~gan_helpers.checkpoints.CheckpointError` when ``given`` is another kind of model
    than the saved one, or when the saved spec does not fit the saved weights.
    """
    spec = state[f"{name}_spec"]
    if given is None:
        if spec is None:
            raise checkpoints.CheckpointError(
                f"{file} does not describe its {name}; pass the model: load_run(path, G=..., D=...)"
            )
        try:
            return models.build_model(spec, state[name])
        except ValueError as exc:
            raise checkpoints.CheckpointError(
                f"{file}: its {name} cannot be rebuilt from the spec saved with it: {exc}. {_CHECKPOINT_REMEDY}"
            ) from None
    problems = checkpoints.state_mismatch(given.state_dict(), state[name])
    if problems:
        raise checkpoints.CheckpointError(
            f"{file} holds a different model: its {name} is {_describe(spec)}, but the {name} given is "
            f"{_describe(_spec_or_none(given), given)} ({problems}). Pass --overwrite (overwrite=True) to start "
            "a new run there, or choose another --out (out_dir) for this model."
        )
    given.load_state_dict(state[name])
    return given


def load_run(
    path: str | os.PathLike[str],
    G: nn.Module | None = None,
    D: nn.Module | None = None,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
) -> Run:
    """The :class:`Run` saved by :func:`train_epochs` at ``path`` (a file, or a run folder holding ``checkpoint.pt``).

    G and D are rebuilt from the checkpoint's model specs unless given (a spec is checked against
    the saved weights' shapes before anything is allocated). ``config`` (default: the saved one)
    sets the optimisers' learning rates and betas. The saved RNG states are in ``run.rng_state``,
    the saved settings in ``run.settings``. Loading uses ``weights_only=True`` and verifies the
    file's checksum; an unreadable, damaged, older or foreign file, or one holding another kind of
    model than the G or D given, raises :class:`~gan_helpers.checkpoints.CheckpointError` saying what to do.
    """
    file = _checkpoint_file(path)
    target = checkpoints.target_device(device) if device is not None else None
    state = checkpoints.load_checkpoint(
        file, expected_format=CHECKPOINT_FORMAT, what="training checkpoint", remedy=_CHECKPOINT_REMEDY
    )
    missing = sorted(_CHECKPOINT_KEYS - state.keys())
    if missing:
        raise checkpoints.CheckpointError(f"{file} lacks {', '.join(missing)}: it is incomplete. {_CHECKPOINT_REMEDY}")
    config = config if config is not None else TrainConfig.from_dict(state["config"])
    G, D = (_restore_model(file, state, name, given) for name, given in (("G", G), ("D", D)))
    if target is not None:
        G, D = G.to(target), D.to(target)
    opt_G, opt_D = make_optimizers(G, D, config)
    history = History()
    try:
        for opt, key, lr in ((opt_G, "opt_G", config.lr_generator), (opt_D, "opt_D", config.lr_discriminator)):
            opt.load_state_dict(state[key])
            for group in opt.param_groups:  # the given config wins, e.g. to resume with a lower lr
                group["lr"], group["betas"] = lr, config.betas
        history.load_state_dict(state["history"])
        checkpoints.require_plain(state["settings"], "the saved settings", limit=10_000)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise checkpoints.CheckpointError(
            f"{file} holds optimiser states, a history or settings that do not fit its models ({exc}). "
            f"{_CHECKPOINT_REMEDY}"
        ) from None
    samples = list(state["samples"]) if state["samples"] is not None else []
    average = _restore_average(file, state.get("G_average"), G)
    return Run(
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
        state["rng"],
        dict(state["settings"]),
        average,
    )


def _restore_average(file: Path, saved: dict[str, Any] | None, G: nn.Module) -> GeneratorAverage | None:
    """The checkpoint's moving average of G (None when the run kept none)."""
    if saved is None:
        return None
    average = GeneratorAverage(G, decay=float(saved["decay"]))
    try:
        average.load_state_dict(saved)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise checkpoints.CheckpointError(
            f"{file} holds an average of G that does not fit its G ({exc}). {_CHECKPOINT_REMEDY}"
        ) from None
    return average


def _new_run(G: nn.Module, D: nn.Module, config: TrainConfig, num_samples: int, noise_seed: int) -> Run:
    opt_G, opt_D = make_optimizers(G, D, config)
    noise = evaluation_noise(num_samples, G.latent_dim, noise_seed)
    average = GeneratorAverage(G, config.ema_decay) if config.ema_decay > 0 else None
    run = Run(G, D, opt_G, opt_D, config, History(), noise, G_average=average)
    run.samples.append(to_uint8(generate(G, noise)))
    run.sample_epochs.append(0)
    return run


def _start_run(
    G: nn.Module,
    D: nn.Module,
    batches: DeviceBatches,
    config: TrainConfig,
    path: Path | None,
    resume: bool,
    continue_from: Run | None,
    overwrite: bool,
    num_samples: int,
    noise_seed: int,
) -> tuple[Run, str]:
    """A new run, the in-memory run to continue, or the run restored from ``path`` (with its RNG states), and
    which: ``"new"``, ``"memory"`` or ``"checkpoint"``."""
    if continue_from is not None:
        if continue_from.G is not G or continue_from.D is not D:
            raise ValueError("continue_from=run continues that run's own G and D: pass run.G and run.D")
        continue_from.config, continue_from.interrupted = config, False
        if config.ema_decay > 0 and continue_from.G_average is None:
            continue_from.G_average = GeneratorAverage(G, config.ema_decay)
        return continue_from, "memory"
    if resume and path is None:
        raise ValueError("resume=True needs out_dir, the folder of the checkpoint to continue")
    if path is not None and path.exists():
        if resume:
            run = load_run(path, G, D, config)
            checkpoints.set_rng_state(run.rng_state, batches.generator)
            run.interrupted = False
            return run, "checkpoint"
        if not overwrite:
            raise FileExistsError(
                f"{path} already holds a checkpoint. Pass resume=True to continue it, overwrite=True to "
                "start again from scratch, or choose another out_dir."
            )
    elif resume:
        print(f"No checkpoint at {path}: starting a new run.")
    return _new_run(G, D, config, num_samples, noise_seed), "new"


def train_epochs(
    G: nn.Module,
    D: nn.Module,
    batches: DeviceBatches,
    config: TrainConfig | None = None,
    *,
    epochs: int,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    continue_from: Run | None = None,
    overwrite: bool = False,
    callbacks: list[Callback] | tuple[Callback, ...] = (),
    steps_per_epoch: int | None = None,
    num_samples: int = 64,
    noise_seed: int = 0,
    grad_norms: bool = True,
    diagnostics: bool = True,
    mistake: str | LoopMistake | None = None,
    progress: bool = True,
    desc: str = "training",
    settings: dict[str, Any] | None = None,
    distributed: Distributed = ONE_PROCESS,
) -> Run:
    r"""Train for ``epochs`` *epochs* (in total, counting resumed ones) with :func:`~gan_helpers.training.train_gan`.

    An epoch is one pass over ``batches`` in a fresh random order: ``len(batches) // d_steps``
    steps, or ``steps_per_epoch`` (``config.steps`` is not used). After each epoch it draws G's
    samples of a fixed noise batch (``num_samples`` vectors seeded by ``noise_seed``, the same in
    every run), logs ``epoch``, ``epoch_seconds``, ``images_per_s`` (real images through D per
    second) and ``diversity`` (:func:`gan_helpers.metrics.diversity_ratio` of those samples against as
    many real images), runs the callbacks' ``on_epoch_end`` and, with ``out_dir``, writes
    ``checkpoint.pt`` atomically: models, optimisers, history, sample grids, epoch, step and RNG
    states. ``grad_norms`` logs G's and D's gradient norms; ``diagnostics`` adds
    :class:`~gan_helpers.training.DiscriminatorWinsCallback` and :class:`~gan_helpers.training.CollapseCallback`.

    Ctrl-C (a notebook's interrupt button) stops at the next log point, saves, and returns the run
    with ``interrupted=True``; ``resume=True`` then continues from ``out_dir`` exactly where it
    stopped, with the same batches and random numbers as an uninterrupted run. ``continue_from=run``
    continues an in-memory :class:`Run`. A NaN or infinite loss raises
    :class:`~gan_helpers.training.TrainingDiverged` and leaves the last good checkpoint as it was.
    ``settings`` (plain values, e.g. the command line's flags) replaces ``run.settings``, saved with
    every checkpoint. With ``config.ema_decay > 0`` the run keeps a moving average of G's weights
    (``run.G_average``), and the epoch's samples and ``diversity`` come from it (:meth:`Run.sampling_generator`).

    ``distributed`` (:func:`gan_helpers.training.distributed.start`) is this process's place when several train
    together, each on its shard of ``batches`` (``DeviceBatches(rank=..., world_size=...)``): the step runs
    through DistributedDataParallel, only rank 0 writes, Ctrl-C in any process stops all at the same step, and
    ``images_per_s`` counts all processes' images. A checkpoint of W processes resumes in any number of them.
    """
    if not isinstance(batches, DeviceBatches):
        raise TypeError(f"train_epochs takes a gan_helpers.data.DeviceBatches, got {type(batches).__name__}")
    config = config or TrainConfig()
    steps = _steps_per_epoch(batches, config, epochs, steps_per_epoch)
    device = batches.device
    G.to(device)
    D.to(device)
    path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None
    run, origin = _start_run(G, D, batches, config, path, resume, continue_from, overwrite, num_samples, noise_seed)
    if origin == "checkpoint":  # an epoch stopped with another number of processes goes on where its images did
        run.position = continued_position(run.position, saved_world_size(run.rng_state), distributed.world_size, steps)
    if origin != "memory":
        distributed.start_streams(run.rng_state if origin == "checkpoint" else None, batches.generator)
    players = distributed.wrap(G, D)
    run.path = path
    if settings is not None:
        run.settings = dict(settings)
    real_reference = to_unit_range(batches.images[:num_samples]).to(device)
    monitors: list[Callback] = [DiscriminatorWinsCallback(), CollapseCallback()] if diagnostics else []
    progress_bar = _RunProgress(run, epochs, epochs * steps, desc, progress)
    with _DeferredInterrupt() as interrupt:
        everyone = [progress_bar, *callbacks, *monitors, _StopWhenAsked(interrupt, distributed)]
        try:
            while run.epoch < epochs:
                if run.position == 0:
                    run.order = batches.permutation().cpu()
                done = run.position
                epoch_start = run.step - done
                start, stopping = time.perf_counter(), False
                try:
                    train_gan(
                        G,
                        D,
                        batches.epoch(run.order, start=done * config.d_steps),
                        config.replace(steps=steps - done),
                        device=device,
                        callbacks=everyone,
                        history=run.history,
                        optimizers=(run.opt_G, run.opt_D),
                        start_step=run.step,
                        grad_norms=grad_norms,
                        mistake=mistake,
                        average=run.G_average,
                        progress=False,  # one bar for the whole run
                        players=players,
                    )
                except _StopRequested as stop:
                    stopping = True  # at the epoch's last step the epoch is done: end it as usual below
                    if stop.step < epoch_start + steps:
                        run.seconds += time.perf_counter() - start
                        run.step, run.position, run.interrupted = stop.step, stop.step - epoch_start, True
                        _save_stopped(run, steps, path, batches.generator, distributed)
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
                _finish_epoch(run, steps - done, images * distributed.world_size, seconds, real_reference)
                run.interrupted = stopping and run.epoch < epochs
                for callback in everyone:  # before saving, so that what they log is in the checkpoint
                    callback.on_epoch_end(run)
                if run.interrupted:
                    _save_stopped(run, steps, path, batches.generator, distributed)
                    return run
                if path is not None:
                    _save(run, path, batches.generator, distributed)
        finally:
            progress_bar.close()
    return run


def _steps_per_epoch(batches: DeviceBatches, config: TrainConfig, epochs: int, steps_per_epoch: int | None) -> int:
    """Check :func:`train_epochs`'s arguments; the number of steps in an epoch."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    steps = steps_per_epoch if steps_per_epoch is not None else len(batches) // config.d_steps
    if not 1 <= steps * config.d_steps <= len(batches):
        raise ValueError(
            f"an epoch has {len(batches)} batches; steps_per_epoch ({steps}) x d_steps ({config.d_steps}) "
            "must be between 1 and that"
        )
    return steps


def _save(run: Run, path: Path, generator: torch.Generator | None, team: Distributed) -> Path | None:
    """Save ``run`` from rank 0 only, every process's random states with it (every process calls this)."""
    rank_states = team.checkpoint_rng(generator, run.G, run.D)
    return save_run(run, path, generator, rank_states) if team.writer else None


def _save_stopped(
    run: Run, steps: int, path: Path | None, generator: torch.Generator | None, team: Distributed
) -> None:
    """Save a run stopped by Ctrl-C and say where it stopped (within an epoch, or at its end)."""
    saved = _save(run, path, generator, team) if path else None
    where = f"saved to {saved}" if saved else "not saved (train_epochs had no out_dir)"
    at = f"{run.position}/{steps} of epoch {run.epoch + 1}" if run.position else f"the end of epoch {run.epoch}"
    if team.writer:
        print(f"Stopped at step {run.step} ({at}); checkpoint {where}.")


def _images_between(batches: DeviceBatches, first: int, last: int) -> int:
    """How many images batches ``first`` to ``last - 1`` of an epoch hold (the last batch may be short)."""
    return min(last * batches.batch_size, len(batches.images)) - first * batches.batch_size


def _finish_epoch(run: Run, steps: int, images: int, seconds: float, real_reference: torch.Tensor) -> None:
    """Advance the counters by ``steps``, draw the fixed-noise samples and log the epoch's figures."""
    run.seconds += seconds
    run.step += steps
    run.epoch += 1
    run.position, run.order = 0, None
    fake = generate(run.sampling_generator(), run.fixed_noise)
    run.samples.append(to_uint8(fake))
    run.sample_epochs.append(run.epoch)
    ratio = metrics.diversity_ratio(fake, real_reference[: len(fake)])
    run.history.log(
        run.step, epoch=run.epoch, epoch_seconds=seconds, images_per_s=images / max(seconds, 1e-9), diversity=ratio
    )
