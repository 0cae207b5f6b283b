"""gan_helpers: the package behind the gan-notebooks course.

``import gan_helpers as gh`` gives ``gh.runtime`` (device, seeds, fast/full mode), ``gh.data``
(MNIST, Fashion-MNIST, the offline sample, toy distributions, batches, augmentation), ``gh.models``,
``gh.losses``, ``gh.sampling`` (noise, eval mode, one ``sample`` for every G), ``gh.training`` (the step,
the loop, runs with checkpoints; ``gh.checkpoints`` is its file I/O), ``gh.classifier`` (the feature
classifier of the metrics), ``gh.metrics``, ``gh.plots``, ``gh.widgets``, ``gh.exercises``,
``gh.applications`` (inpainting, augmentation) and ``gh.acceleration`` (how training uses the device:
channels_last, bf16 autocast, fused Adam, ``torch.compile``); ``gh.references`` lists every paper the series cites;
``gh.experiments`` holds what only one notebook needs. Importing has no side effects: nothing is downloaded,
created or seeded. The README's
"Package map" says where each concept lives.
"""

from gan_helpers import (
    acceleration,
    applications,
    checkpoints,
    classifier,
    data,
    exercises,
    experiments,
    losses,
    metrics,
    models,
    plots,
    references,
    runtime,
    sampling,
    training,
    widgets,
)

__version__ = "0.1.0"

__all__ = [
    "acceleration",
    "applications",
    "checkpoints",
    "classifier",
    "data",
    "exercises",
    "experiments",
    "losses",
    "metrics",
    "models",
    "plots",
    "references",
    "runtime",
    "sampling",
    "training",
    "widgets",
]
