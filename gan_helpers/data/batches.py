"""Where training batches come from: a whole image dataset kept on the training device, one epoch at a
time (:class:`DeviceBatches`), or an endless sampler of a known distribution (:class:`SampledBatches`).
Each source owns its batch size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

__all__ = ["DeviceBatches", "EpochBatches", "SampledBatches", "to_unit_range"]


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    r"""Map uint8 pixels :math:`p \in \{0..255\}` to floats :math:`x = p/127.5 - 1 \in [-1, 1]`."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected uint8 pixels, got {images.dtype}")
    return images.float().div_(127.5).sub_(1.0)


class DeviceBatches:
    r"""Shuffled mini-batches of a dataset held as one uint8 tensor on ``device``.

    Each epoch is a fresh permutation; every batch holds ``batch_size`` images. With ``drop_last``
    (the default) the remainder of an epoch, fewer than ``batch_size`` images, is left out (a
    different random few each epoch): a short batch would give a noisier step, a spike in the
    training curves, and one more shape for ``torch.compile`` to compile. ``drop_last=False`` yields
    every sample exactly once per epoch, the last batch then smaller. Pixels are converted to [-1, 1]
    on the device, batch by batch: the host never touches the data after the first copy.
    A ``(N, H, W)`` tensor gains a channel axis and becomes ``(N, 1, H, W)``.

    **One shard of W processes** (``rank`` r of ``world_size`` W > 1, as under ``torchrun``): the epoch's
    order is cut into global batches of :math:`W B` images, and batch :math:`i` of rank :math:`r` is slice
    :math:`r` of global batch :math:`i`, ``order[(iW + r)B : (iW + r + 1)B]``. Every rank takes
    :math:`\lfloor N / (W B) \rfloor` batches, the same number (a rank with one step more would wait for
    the others forever), and over all ranks each of the first :math:`\lfloor N / (W B) \rfloor W B` images
    of the order is used exactly once per epoch; the last :math:`N \bmod W B` (a different random few each
    epoch) are left out. The images used after :math:`k` global batches are the first :math:`k W B` of the
    order, whatever W is. Every rank must draw the same order, so a shard needs a ``generator`` seeded
    alike in every process; ``drop_last=False`` cannot be sharded (the last batches would differ in number).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        batch_size: int = 128,
        device: torch.device | str = "cpu",
        drop_last: bool = True,
        generator: torch.Generator | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        _check_shard(rank, world_size, drop_last, generator)
        images = torch.as_tensor(images)
        if images.ndim == 3:
            images = images[:, None]  # (N, 1, H, W)
        if images.ndim != 4:
            raise ValueError(f"expected images of shape (N, H, W) or (N, C, H, W), got {tuple(images.shape)}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if drop_last and len(images) < batch_size * world_size:
            shards = f" x world_size {world_size}" if world_size > 1 else ""
            raise ValueError(f"drop_last with {len(images)} images and batch_size {batch_size}{shards} yields nothing")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = None if labels is None else torch.as_tensor(labels).to(self.device)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.generator = generator
        self.rank, self.world_size = rank, world_size

    def __len__(self) -> int:
        """Number of batches per epoch (of this rank's shard)."""
        n = len(self.images)
        return n // (self.batch_size * self.world_size) if self.drop_last else -(-n // self.batch_size)

    def permutation(self) -> torch.Tensor:
        """A fresh random order of the sample indices (drawn on the CPU for reproducibility)."""
        return torch.randperm(len(self.images), generator=self.generator).to(self.device)

    def __iter__(self) -> Iterator[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        yield from self.iter_order(self.permutation())  # the permutation is drawn when iteration starts

    def iter_order(
        self, order: torch.Tensor, start: int = 0
    ) -> Iterator[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        """The epoch's batches for a given sample ``order``, from batch number ``start`` on.

        ``iter(batches)`` is ``iter_order(permutation())``; a checkpoint that stores the order and
        the position can resume an epoch in the middle with exactly the batches that were left.
        """
        if len(order) != len(self.images):
            raise ValueError(f"order has {len(order)} indices but the dataset has {len(self.images)} images")
        order = order.to(self.device)
        for i in range(start, len(self)):
            first = (i * self.world_size + self.rank) * self.batch_size  # slice `rank` of global batch i
            idx = order[first : first + self.batch_size]
            x = to_unit_range(self.images[idx])
            yield x if self.labels is None else (x, self.labels[idx])

    def epoch(self, order: torch.Tensor, start: int = 0) -> EpochBatches:
        """The batches of one epoch in ``order`` from batch ``start`` on, as an iterable that knows the batch size."""
        return EpochBatches(self, order, start)


def _check_shard(rank: int, world_size: int, drop_last: bool, generator: torch.Generator | None) -> None:
    """Refuse a shard that cannot work: a rank outside ``0..world_size - 1``, no shared generator, or no drop_last."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..world_size - 1, got rank {rank} of world_size {world_size}")
    if world_size > 1 and not drop_last:
        raise ValueError("drop_last=False cannot be sharded: every process must take the same number of batches")
    if world_size > 1 and generator is None:
        raise ValueError(
            "a shard (world_size > 1) needs a generator seeded alike in every process, e.g. "
            "torch.Generator().manual_seed(seed), so that all processes draw the same order"
        )


@dataclass(frozen=True)
class EpochBatches:
    """One epoch of a :class:`DeviceBatches` in a stored order (what :func:`gan_helpers.training.train_epochs`
    feeds the loop, so that an interrupted epoch resumes with exactly the batches that were left)."""

    source: DeviceBatches
    order: torch.Tensor
    start: int = 0

    @property
    def batch_size(self) -> int:
        return self.source.batch_size

    def __iter__(self) -> Iterator[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        return self.source.iter_order(self.order, self.start)


class SampledBatches:
    """Endless batches ``sample(batch_size)`` from a sampler, e.g. ``SampledBatches(mixture.sample, 256)``.

    For toy targets whose samples are drawn fresh at every step (notebooks 01-03): there are no
    epochs, and each batch consumes the global random stream in the order the loop asks for it.
    """

    def __init__(self, sample: Callable[[int], torch.Tensor], batch_size: int) -> None:
        if not callable(sample):
            raise TypeError(f"sample must be a function n -> samples, got {type(sample).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.sample = sample
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            yield self.sample(self.batch_size)
