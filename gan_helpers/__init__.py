"""gan_helpers: the package behind the gan-notebooks course.

``import gan_helpers as gh`` gives ``gh.runtime`` (device, seeds, fast/full mode), ``gh.data``
(MNIST, Fashion-MNIST, the offline sample, toy distributions, batches), ``gh.models``,
``gh.losses``, ``gh.training`` (with ``gh.checkpoints``), ``gh.metrics``, ``gh.plots``, ``gh.widgets`` and
``gh.exercises``; ``gh.applications`` (inpainting); ``gh.acceleration`` (how training uses the
device: channels_last, bf16 autocast, fused Adam, ``torch.compile``). Importing has no side effects: nothing is
downloaded, created or seeded.
"""

from gan_helpers import (
    acceleration,
    applications,
    checkpoints,
    data,
    exercises,
    losses,
    metrics,
    models,
    plots,
    runtime,
    training,
    widgets,
)

__version__ = "0.1.0"

__all__ = [
    "acceleration",
    "applications",
    "checkpoints",
    "data",
    "exercises",
    "losses",
    "metrics",
    "models",
    "plots",
    "runtime",
    "training",
    "widgets",
]
