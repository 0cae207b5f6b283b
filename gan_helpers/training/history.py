"""What a training run records: the :class:`History` of logged values, the one :class:`Callback`
protocol through which the loops report, and :class:`IntervalMeans`, which averages per-step values
between log points without reading the device at every step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["Callback", "History", "IntervalMeans"]


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


class Callback:
    """The one protocol through which training reports: subclass it and override the events you need.

    - ``on_log(step, history, G, D)``: after every log point of :func:`gan_helpers.training.train_gan`
      (every ``log_every`` steps and at the last step), once the interval's means are in ``history``;
    - ``on_epoch_end(run)``: after every epoch of :func:`gan_helpers.training.train_epochs`, before its
      checkpoint is written (so what a callback logs is saved with it).

    Callbacks observe; they must not change the models or the global random state (draw noise
    from a seeded generator of your own, as :func:`gan_helpers.sampling.evaluation_noise` does).
    Every callback of the package is named ``...Callback``.
    """

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        """Called after each log point of a run of steps."""

    def on_epoch_end(self, run: Any) -> None:
        """Called after each epoch of :func:`gan_helpers.training.train_epochs`, with its Run."""


class IntervalMeans:
    r"""Sums of named per-step values on the device, read once per interval: :math:`\bar v = \frac1n \sum_{t} v_t`.

    ``add(*values)`` adds one step's scalars (tensors, no host sync); ``pop()`` returns the
    interval's means as Python floats (one device read) and starts a new interval. ``pop(total)``
    divides the sums by ``total`` instead of the number of steps (for per-example averages).
    """

    def __init__(self, names: Sequence[str], device: torch.device | str = "cpu") -> None:
        self.names = tuple(names)
        self.sums = torch.zeros(len(self.names), device=device)
        self.count = 0

    def add(self, *values: torch.Tensor) -> None:
        """Add one step's values, in the order of ``names``."""
        with torch.no_grad():
            self.sums += torch.stack([v.detach() for v in values])
        self.count += 1

    def pop(self, total: float | None = None) -> dict[str, float]:
        """The means since the last ``pop`` (sums over ``total`` if given), then reset."""
        means = (self.sums / self.count).tolist() if total is None else [s / total for s in self.sums.tolist()]
        self.sums.zero_()
        self.count = 0
        return dict(zip(self.names, means, strict=True))
