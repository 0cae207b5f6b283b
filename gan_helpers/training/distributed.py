r"""Training in several processes at once (``torchrun``): G and D in DistributedDataParallel, a shard each.

``torchrun --nproc_per_node=W -m gan_helpers train ...`` starts W processes, ranks 0 to W - 1 (:func:`start`
reads torchrun's variables). Each holds G, D and their optimisers and takes its own shard of every epoch
(:class:`gan_helpers.data.DeviceBatches` with ``rank`` and ``world_size``), so one step sees a global batch
of :math:`W B` images, B per rank. After each backward pass DDP replaces every gradient by its mean over the
ranks,

.. math:: \bar g = \frac1W \sum_{r=0}^{W-1} g_r, \qquad
          g_r = \nabla_\theta\, \frac1B \sum_{i \in \mathrm{batch}_r} \ell_i(\theta),

which is the gradient of the mean loss over all :math:`W B` images when each :math:`\ell_i` depends on its own
image only. Batch norm makes it depend on the other images of its rank's batch; :func:`sync_batch_norm` (CUDA
only) normalises over the global batch instead, and then a step is one step of batch :math:`W B`. Equal
gradients and equal Adam states give every rank the same weights after every step.

How the GAN step uses DDP (:meth:`Distributed.wrap`, the ``players`` of :func:`gan_helpers.training.train_gan`):

- G and D are wrapped separately. D's update calls D's wrapper on the real batch, then on the fakes, and
  backpropagates once: D's gradients are all-reduced once per update. G's update backpropagates through a
  *frozen* D, which the wrapper then calls as its plain module (:class:`PlayerParallel`): that backward
  all-reduces G's gradients and nothing of D's.
- Buffers (batch-norm running statistics) are not broadcast at each forward (``broadcast_buffers=False``:
  D's several forwards per step would each overwrite them between a forward and its backward). Each rank's
  are its own moving average, used in eval mode only; before each checkpoint every rank takes rank 0's
  (:meth:`Distributed.checkpoint_rng`), so every rank then holds what the checkpoint holds.
- Every rank draws its own noise, from its own random stream (:meth:`Distributed.start_streams`); the
  epochs' order comes from the data's generator, seeded alike in every process (:meth:`Distributed.data_generator`).
  A checkpoint keeps every rank's random states, so a run resumed with as many processes continues exactly,
  and a run resumed with another number of processes goes on where its images stopped (:func:`continued_position`).
- Only rank 0 writes (checkpoints, sample grids, the summary), and Ctrl-C stops every rank at the same log
  point (:meth:`Distributed.any`).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gan_helpers import acceleration, checkpoints, runtime

__all__ = [
    "ONE_PROCESS",
    "Distributed",
    "PlayerParallel",
    "continued_position",
    "saved_world_size",
    "start",
    "sync_batch_norm",
]


class PlayerParallel(DistributedDataParallel):
    """DistributedDataParallel around one GAN player that the training step can call as it calls the player.

    Attributes it lacks come from the module (the step reads ``G.latent_dim`` and ``G.num_classes``). While
    the module's parameters are frozen (D in G's update) it calls the plain module: no gradient of it is
    computed there, so there is nothing to all-reduce, and DDP is not told to expect any.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":  # not set yet (inside DDP's constructor)
                raise
            return getattr(self.module, name)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*inputs, **kwargs)
        return super().forward(*inputs, **kwargs)


@dataclass(frozen=True)
class Distributed:
    """This process's place among the ``world_size`` processes that train together: its ``rank`` and ``device``.

    ``Distributed()`` (:data:`ONE_PROCESS`) is a process training alone: every method is then a no-op that
    changes nothing, so :func:`gan_helpers.training.train_epochs` runs as it always did. Rank 0 is the
    ``writer``, the one process that writes files and prints.
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def parallel(self) -> bool:
        """True when several processes train together (a process group is initialised)."""
        return self.world_size > 1

    @property
    def writer(self) -> bool:
        """True for rank 0, which writes checkpoints, sample grids and the summary."""
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true in any process (one all-reduce); every process must call it at the same point."""
        if not self.parallel:
            return flag
        value = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        """Wait until every process has come here."""
        if self.parallel:
            dist.barrier(device_ids=[self.device.index] if self.device.type == "cuda" else None)

    @contextlib.contextmanager
    def writer_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (a download, say), the others once it is done (reading what it wrote)."""
        if not self.writer:
            self.barrier()
        yield
        if self.writer:
            self.barrier()

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Ranks other than 0 print nothing and warn nothing in the block (rank 0 speaks for all); errors
        still reach stderr."""
        if self.writer:
            yield
            return
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield

    def close(self) -> None:
        """Leave the process group (after training; then batch norm in a SyncBatchNorm layer is plain batch norm)."""
        if self.parallel and dist.is_initialized():
            dist.destroy_process_group()

    def data_generator(self, seed: int) -> torch.Generator | None:
        """The generator of the epochs' order: None alone (the global stream, as ever), else seeded with ``seed``,
        alike in every process, so that every rank shuffles the same way."""
        return torch.Generator().manual_seed(seed) if self.parallel else None

    def wrap(self, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
        """The modules the training step calls: G and D themselves alone, else each in a :class:`PlayerParallel`.

        The wrappers share G's and D's parameters, so optimisers, checkpoints and sampling use G and D as
        ever. Convolution weights are laid out channels_last first (:func:`gan_helpers.acceleration.prepare_models`),
        the layout DDP then keeps; the wrappers' construction makes every rank start from rank 0's weights.
        """
        if not self.parallel:
            return G, D
        acceleration.prepare_models(G, D, device=self.device)
        ids = [self.device.index] if self.device.type == "cuda" else None
        G_step, D_step = (PlayerParallel(model, device_ids=ids, **_BUFFERS_AT_INIT_ONLY) for model in (G, D))
        return G_step, D_step

    def start_streams(self, saved: dict[str, Any] | None, generator: torch.Generator | None) -> None:
        """Give each rank its own random stream before training; ``saved`` is the random state of the checkpoint
        being resumed, which every process has just restored (rank 0's), or None for a new run.

        A rank whose own states the checkpoint holds takes them back (the run continues exactly). Otherwise rank 0
        keeps the common stream and rank r > 0 reseeds from a hash of it and r (a new run; or a checkpoint of
        fewer processes). The order's generator of a checkpoint written by one process, which had none, is seeded
        from the restored stream, alike everywhere.
        """
        if not self.parallel:
            return
        if saved is not None:
            if generator is not None and saved.get("generator") is None:
                generator.manual_seed(_seed_from_stream(b"order"))
            ranks = saved.get("ranks") or []
            if self.rank < len(ranks):
                checkpoints.set_rng_state(ranks[self.rank], generator)
                return
        if self.rank > 0:
            runtime.seed_everything(_seed_from_stream(self.rank.to_bytes(4, "little")))

    def checkpoint_rng(self, generator: torch.Generator | None, *models: nn.Module) -> list[dict[str, Any]] | None:
        """Before a checkpoint, in every process: take rank 0's buffers of ``models`` and return every rank's random
        states (:func:`gan_helpers.checkpoints.rng_state`, index = rank); None alone."""
        if not self.parallel:
            return None
        for model in models:
            for buffer in model.buffers():
                dist.broadcast(buffer, src=0)
        states: list[Any] = [None] * self.world_size
        dist.all_gather_object(states, checkpoints.rng_state(generator))
        return states


#: A process training alone.
ONE_PROCESS = Distributed()

#: DDP's keyword for "no broadcast of buffers at every forward": ``forward_sync_buffers=False`` where PyTorch has it
#: (it still broadcasts them once, at construction), else ``broadcast_buffers=False`` (which skips that one too:
#: every rank starts from the same buffers anyway, those of the same seed or of the same checkpoint).
_BUFFERS_AT_INIT_ONLY = (
    {"forward_sync_buffers": False}
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
    else {"broadcast_buffers": False}
)


def _seed_from_stream(salt: bytes) -> int:
    """A seed (63 bits) from SHA-256 of PyTorch's CPU random state and ``salt``: the same in every process that
    holds that state, different for every salt; the state itself is not advanced."""
    digest = hashlib.sha256(torch.get_rng_state().numpy().tobytes() + salt).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def start(device: torch.device | str) -> Distributed:
    """This process's place among those ``torchrun`` started (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), with the
    process group initialised from torchrun's ``MASTER_ADDR``/``MASTER_PORT``.

    Without torchrun, or with one process, it is a process alone on ``device`` and nothing is initialised. With
    several, each trains on ``cuda:LOCAL_RANK`` over NCCL when ``device`` is CUDA, else on the CPU over gloo. A
    numbered CUDA device (each process needs its own) or another kind of device raises ``ValueError``.
    """
    device = torch.device(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if device.index is not None:
            raise ValueError(
                f"--device {device}: under torchrun each process trains on its own GPU, cuda:LOCAL_RANK; "
                "pass --device cuda or leave --device out"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    elif device.type == "cpu":
        dist.init_process_group("gloo")
    else:
        raise ValueError(f"--device {device}: several processes train on CUDA (NCCL) or the CPU (gloo) only")
    return Distributed(rank, world_size, device)


def sync_batch_norm(*models: nn.Module) -> None:
    r"""Replace every batch-norm layer of ``models``, in place, by :class:`torch.nn.SyncBatchNorm`, which normalises
    with the mean and variance over all processes' batches (the global batch) in training.

    The layers keep their parameters and buffers under the same names, so checkpoints load into plain batch
    norm, and with no process group (one process, or after :meth:`Distributed.close`) they compute what batch
    norm computes. PyTorch runs it on CUDA only.
    """
    for model in models:
        if nn.SyncBatchNorm.convert_sync_batchnorm(model) is not model:
            raise ValueError(f"{type(model).__name__} is itself a batch-norm layer: convert the model that holds it")


def saved_world_size(rng_state: dict[str, Any] | None) -> int:
    """How many processes wrote a checkpoint, from its random states (one process saves no ``ranks``)."""
    return len((rng_state or {}).get("ranks") or []) or 1


def continued_position(position: int, saved_world_size: int, world_size: int, steps: int) -> int:
    r"""The step of an interrupted epoch at which ``world_size`` processes continue what ``saved_world_size``
    saved after ``position`` of its steps; ``steps`` is the epoch's number of steps now.

    After :math:`p` steps of :math:`W` ranks the first :math:`p W B` images of the epoch's order are used
    (:class:`gan_helpers.data.DeviceBatches`), :math:`p W / W'` steps of :math:`W'` ranks. The position is the
    floor of that (fewer than :math:`W' B` of those images come again, none is skipped), kept at least 1 (the
    saved order goes on) and at most ``steps - 1`` (a step of the epoch is left; then a few more images come
    again). With as many processes it is ``position`` itself.
    """
    if position == 0 or saved_world_size == world_size:
        return position
    return min(max(position * saved_world_size // world_size, 1), steps - 1)
