r"""An exponential moving average of G's weights, the generator a trained GAN is sampled from.

After every update of G the average moves a little towards G's new weights,

.. math:: \bar\theta_t = \beta_t\,\bar\theta_{t-1} + (1 - \beta_t)\,\theta_t,
   \qquad \beta_t = \min\!\big(\beta,\ \tfrac{1 + t}{10 + t}\big),

so it follows G with a lag of about :math:`1/(1-\beta)` updates and averages out the oscillation of
G around the equilibrium that the two players' alternating updates produce (Yazici et al. 2019,
"The Unusual Effectiveness of Averaging in GAN Training"; Karras et al. 2018 sample their
progressive GANs this way). The warm-up :math:`\beta_t` keeps the early average from remembering the
random initial weights. Batch-norm statistics are not averaged: averaged weights produce activations
of their own, so :func:`recalibrate_batch_norm` measures them afresh before the average is used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from gan_helpers.sampling import model_device
from gan_helpers.training.step import is_conditional

__all__ = ["GeneratorAverage", "recalibrate_batch_norm", "remeasure_batch_norm"]


class GeneratorAverage:
    r"""The moving average :math:`\bar\theta` of a generator's weights (``decay`` = :math:`\beta`).

    ``average = GeneratorAverage(G, decay=0.999)``; the loop calls ``average.update(G)`` after
    each G update (device operations only, no host sync); ``average.model`` is a copy of G holding
    :math:`\bar\theta`, never trained itself. ``updates`` counts the calls.
    """

    def __init__(self, G: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay!r} (0.999 averages over about 1,000 updates)")
        self.decay = float(decay)
        self.model = copy.deepcopy(G).requires_grad_(False)
        self.updates = 0

    def current_decay(self) -> float:
        r""":math:`\beta_t = \min(\beta, (1 + t)/(10 + t))` for the next update number :math:`t`."""
        t = self.updates
        return min(self.decay, (1.0 + t) / (10.0 + t))

    @torch.no_grad()
    def update(self, G: nn.Module) -> None:
        r"""Move the average towards G: :math:`\bar\theta \leftarrow \bar\theta + (1-\beta_t)(\theta - \bar\theta)`."""
        averaged = list(self.model.parameters())
        current = [p.detach() for p in G.parameters()]
        if len(averaged) != len(current):
            raise ValueError("G does not match the averaged generator (a different architecture?)")
        torch._foreach_lerp_(averaged, current, 1.0 - self.current_decay())
        self.updates += 1

    def state_dict(self) -> dict[str, object]:
        """What a checkpoint stores: the averaged model's state, ``decay`` and ``updates``."""
        return {"model": self.model.state_dict(), "decay": self.decay, "updates": self.updates}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore :meth:`state_dict`'s contents."""
        self.model.load_state_dict(state["model"])  # type: ignore[arg-type]
        self.decay = float(state["decay"])  # type: ignore[arg-type]
        self.updates = int(state["updates"])  # type: ignore[call-overload]


@torch.no_grad()
def remeasure_batch_norm(model: nn.Module, inputs: Iterable[tuple[torch.Tensor, ...]]) -> nn.Module:
    r"""Set every batch-norm layer's running mean and variance to the average over forward passes of
    ``model(*args)`` for each ``args`` in ``inputs`` (train mode, ``momentum=None``, no gradients);
    returns the model in eval mode. The weights are untouched; a model without batch norm is returned as is.

    In eval mode a batch-norm layer normalises with these statistics instead of the batch's own, so
    they decide what the model computes. Training leaves them as a moving average of whatever passed
    through last: for an averaged G, activations of other weights; for D, a mix of real and fake batches.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return model.eval()
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the passes below
    model.train()
    try:
        for args in inputs:
            model(*args)
    finally:
        for m, momentum in zip(layers, momenta, strict=True):
            m.momentum = momentum
    return model.eval()


def recalibrate_batch_norm(G: nn.Module, batches: int = 20, batch_size: int = 256, seed: int = 0) -> nn.Module:
    r""":func:`remeasure_batch_norm` of G on its own samples: ``batches`` passes of ``batch_size`` seeded
    noise vectors (and uniform labels for a conditional G); returns G in eval mode.

    An averaged generator needs this because its activations differ from those of any G it averaged.
    """
    device = model_device(G)
    generator = torch.Generator(device="cpu").manual_seed(seed)

    def noise() -> Iterator[tuple[torch.Tensor, ...]]:
        for _ in range(batches):
            z = torch.randn(batch_size, G.latent_dim, generator=generator).to(device)
            if is_conditional(G):
                yield z, torch.randint(G.num_classes, (batch_size,), generator=generator).to(device)
            else:
                yield (z,)

    return remeasure_batch_norm(G, noise())
