r"""Training GANs: the step (:mod:`.step`), the loop by steps (:mod:`.loop`), runs by epochs with checkpoints
(:mod:`.runs`), what a run records (:mod:`.history`), callbacks that watch it (:mod:`.monitors`), its
hyperparameters (:mod:`.config`), the averaged generator (:mod:`.averaging`), training in several processes
under ``torchrun`` (:mod:`.distributed`) and the catalogued loop mistakes (:mod:`.mistakes`).

The names a student meets first: ``TrainConfig``, ``train_gan`` (a number of steps), ``train_epochs``
(epochs, checkpoints, Ctrl-C and resume), ``d_step``/``g_step`` (one update of each player),
``History`` and ``Callback``.
"""

import warnings
from typing import Any

from gan_helpers.training.averaging import GeneratorAverage, recalibrate_batch_norm, remeasure_batch_norm
from gan_helpers.training.config import TrainConfig, TrainingDiverged, check_finite
from gan_helpers.training.history import Callback, History, IntervalMeans
from gan_helpers.training.loop import batch_stream, make_optimizers, train_discriminator, train_gan
from gan_helpers.training.mistakes import MISTAKES, LoopMistake
from gan_helpers.training.monitors import (
    CollapseCallback,
    DiscriminatorWinsCallback,
    DiscriminatorWinsWarning,
    ModeCollapseWarning,
    QualityCallback,
    TrainingWarning,
    collapse_message,
)
from gan_helpers.training.runs import CHECKPOINT_NAME, Run, load_run, save_run, train_epochs
from gan_helpers.training.step import (
    StepOutcome,
    d_step,
    discriminator_loss,
    draw_fakes,
    g_step,
    generator_loss,
    grad_norm,
    is_conditional,
    train_step,
)

__all__ = [
    "CHECKPOINT_NAME",
    "MISTAKES",
    "Callback",
    "CollapseCallback",
    "DiscriminatorWinsCallback",
    "DiscriminatorWinsWarning",
    "GeneratorAverage",
    "History",
    "IntervalMeans",
    "LoopMistake",
    "ModeCollapseWarning",
    "QualityCallback",
    "Run",
    "StepOutcome",
    "TrainConfig",
    "TrainingDiverged",
    "TrainingWarning",
    "batch_stream",
    "check_finite",
    "collapse_message",
    "d_step",
    "discriminator_loss",
    "draw_fakes",
    "g_step",
    "generator_loss",
    "grad_norm",
    "is_conditional",
    "load_run",
    "make_optimizers",
    "recalibrate_batch_norm",
    "remeasure_batch_norm",
    "save_run",
    "train_discriminator",
    "train_epochs",
    "train_gan",
    "train_step",
]

# Old homes of moved names: "gan_helpers.training.<old>" -> (new module, new name). They keep working for
# one release, with a DeprecationWarning; nothing in the project uses them.
_MOVED = {
    "fit": ("gan_helpers.training", "train_epochs"),
    "QualityTracker": ("gan_helpers.training", "QualityCallback"),
    "DiscriminatorWinsMonitor": ("gan_helpers.training", "DiscriminatorWinsCallback"),
    "discriminator_step_loss": ("gan_helpers.training", "discriminator_loss"),
    "generate": ("gan_helpers.sampling", "generate"),
    "to_uint8": ("gan_helpers.sampling", "to_uint8"),
    "sample_noise": ("gan_helpers.sampling", "sample_noise"),
    "sample_labels": ("gan_helpers.sampling", "sample_labels"),
    "evaluation_noise": ("gan_helpers.sampling", "evaluation_noise"),
    "affine_transform": ("gan_helpers.data.augment", "affine_transform"),
    "random_affine": ("gan_helpers.data.augment", "random_affine"),
    "train_classifier": ("gan_helpers.classifier", "train_classifier"),
    "cosine_learning_rate": ("gan_helpers.classifier", "cosine_learning_rate"),
    "toy_dataset": ("gan_helpers.data.toy", "toy_2d"),
    "toy_extent": ("gan_helpers.data.toy", "toy_extent"),
    "discriminator_on_mesh": ("gan_helpers.plots", "discriminator_on_mesh"),
    **{
        name: ("gan_helpers.experiments.mode_collapse", new)
        for name, new in {
            "REMEDIES": "REMEDIES",
            "Remedy": "Remedy",
            "ModeExperiment": "ModeExperiment",
            "Snapshot": "Snapshot2D",
            "SnapshotRecorder": "Snapshot2DCallback",
            "build_toy_gan": "build_toy_gan",
            "run_mode_experiment": "run_mode_experiment",
            "summarise_mode_experiments": "summarise_mode_experiments",
            "format_mode_table": "format_mode_table",
            "best_remedy": "best_remedy",
        }.items()
    },
    **{
        name: ("gan_helpers.experiments.toy_1d", new)
        for name, new in {
            "DistanceCallback": "DistanceCallback",
            "Run1D": "Run1D",
            "Snapshot1D": "Snapshot1D",
            "SnapshotRecorder1D": "Snapshot1DCallback",
            "build_gan_1d": "build_gan_1d",
            "log_spaced_steps": "log_spaced_steps",
            "noise_quantiles": "noise_quantiles",
            "optimizers_1d": "optimizers_1d",
            "train_gan_1d": "train_gan_1d",
        }.items()
    },
}


def __getattr__(name: str) -> Any:
    """Old names of :mod:`gan_helpers.training` still resolve (with a DeprecationWarning naming the new home)."""
    if name not in _MOVED:
        raise AttributeError(f"module 'gan_helpers.training' has no attribute {name!r}")
    import importlib

    module, new = _MOVED[name]
    warnings.warn(
        f"gan_helpers.training.{name} moved to {module}.{new}; the old name goes away in the next release.",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), new)
