r"""DCGAN training speed on one device: a reference pipeline against the course's own.

Three pipelines train a DCGAN with Adam (lr :math:`2 \cdot 10^{-4}`, :math:`\beta = (0.5, 0.999)`) on
MNIST-shaped images, one after the other, each timed after warm-up steps:

``reference`` (a)
    A 64x64 DCGAN as commonly published: a ``DataLoader`` with per-sample transforms
    (28 -> 64 bilinear resize, :math:`x = (p/255 - 0.5)/0.5`) and ``--workers`` worker processes;
    D ends in a sigmoid and the losses are ``BCELoss`` on probabilities; fp32 eager; five
    ``.item()`` reads (device syncs) every step for a progress line.
``fast`` (b)
    The course's 28x28 DCGAN (``gh.models.DCGANGenerator``/``DCGANDiscriminator``, width 64) through
    ``gh.training.train_gan``: the dataset lives on the device as uint8 (``gh.data.DeviceBatches``),
    no ``DataLoader``, losses on logits, values read once per ``--log-every`` steps, G's step on
    the fakes of D's step; ``train_gan``'s defaults add channels_last, bf16 autocast where the
    device multiplies bf16 natively (CUDA; CPUs with AMX) and fused Adam on CUDA
    (``--precision fp32`` turns bf16 off); ``--compile`` adds ``torch.compile``, in ``--compile-mode``
    (``reduce-overhead``: CUDA graphs, CUDA only).
``reference_data`` (c)
    The course's 28x28 model through the reference's data path and loop (``DataLoader`` with
    per-sample transforms, no resize; fp32 eager; per-step syncs).

For each: images per second :math:`r = \text{steps} \cdot B / t` over the timed steps, seconds per
60,000-image epoch :math:`60000 / r`, and peak memory. ``b/a`` and ``b/c`` are ratios of :math:`r`.
``--time-to-quality`` instead measures training seconds until FID (classifier features, see
:func:`gan_helpers.metrics.fid`) falls to the level the reference reaches after ``--epochs``
epochs. Run ``python benchmarks/dcgan_throughput.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import gan_helpers as gh

PIPELINES = ("reference", "fast", "reference_data")
LABELS = {
    "reference": "(a) reference: 64x64 DCGAN, DataLoader + per-sample resize, BCELoss, per-step syncs",
    "fast": "(b) ours: 28x28 DCGAN, data on the device, train_gan, no per-step sync",
    "reference_data": "(c) ours through the reference's data path and loop (28x28, no resize)",
}
EPOCH_IMAGES = 60_000
REFERENCE_SIDE = 64


@dataclass(frozen=True)
class BenchConfig:
    """What every pipeline shares. ``threads=None`` leaves PyTorch's own thread count."""

    device: str
    steps: int = 30
    warmup: int = 5
    batch_size: int = 128
    workers: int = 2
    log_every: int = 10
    latent_dim: int = 100
    width: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    compile: bool = False
    compile_mode: str = "default"
    precision: str = "auto"
    limit_images: int | None = None
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "log_every", "latent_dim", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0 or self.workers < 0:
            raise ValueError(f"--warmup and --workers must be >= 0, got {self.warmup} and {self.workers}")


# --- Data ------------------------------------------------------------------------------------------


def load_benchmark_images(limit: int | None = None, epoch_images: int = EPOCH_IMAGES) -> tuple[torch.Tensor, str]:
    """uint8 images ``(N, 28, 28)`` and where they came from.

    Fashion-MNIST's 60,000 training images when installed (no download is tried); else the
    project's 5,000-digit MNIST offline sample repeated to ``epoch_images``, so that an epoch has
    as many batches either way. ``limit`` keeps the first ``limit`` images (tests).
    """
    try:
        images, _, info = gh.data.load_fashion_mnist("train", download=False, return_info=True)
        source = f"Fashion-MNIST train, {len(images):,} images ({info.source})"
    except (gh.data.DataUnavailableError, gh.data.DataFileError):
        sample, _, info = gh.data.load_offline_sample(return_info=True)
        copies = -(-epoch_images // len(sample))
        images = sample.repeat(copies, 1, 1)[:epoch_images]
        source = f"MNIST {info.source}, repeated to {len(images):,} images (Fashion-MNIST not installed)"
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit-images must be at least 1, got {limit}")
        images = images[:limit]
        source += f"; first {len(images):,} used"
    return images, source


class TransformedImages(torch.utils.data.Dataset):
    r"""The reference's per-sample transform of uint8 images ``(N, 28, 28)``.

    Item ``i``: :math:`x = (p/255 - 0.5)/0.5 = p/127.5 - 1`, shape ``(1, side, side)``, resized
    bilinearly (``align_corners=False``) when ``side != 28``. One image at a time, on the CPU, in
    the ``DataLoader``'s workers: the cost the course's on-device batches avoid.
    """

    def __init__(self, images: torch.Tensor, side: int = 28) -> None:
        if images.dtype != torch.uint8 or images.ndim != 3:
            raise ValueError(f"expected uint8 images (N, H, W), got {images.dtype} {tuple(images.shape)}")
        self.images = images
        self.side = side

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        x = self.images[index].float().div(255.0)[None]  # (1, 28, 28) in [0, 1]
        if x.shape[-1] != self.side:
            x = F.interpolate(x[None], size=(self.side, self.side), mode="bilinear", align_corners=False)[0]
        return x.sub(0.5).div(0.5)  # (1, side, side) in [-1, 1]


def reference_loader(
    images: torch.Tensor, side: int, batch_size: int, workers: int, seed: int
) -> torch.utils.data.DataLoader:
    """A shuffling ``DataLoader`` over :class:`TransformedImages` with ``workers`` processes (0: in-process)."""
    return torch.utils.data.DataLoader(
        TransformedImages(images, side),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        generator=torch.Generator().manual_seed(seed),
    )


def endless(loader: torch.utils.data.DataLoader) -> Iterator[torch.Tensor]:
    """The loader's batches, epoch after epoch (each epoch restarts its workers, as a plain loop does)."""
    while True:
        yield from loader


# --- The reference's models and loss ---------------------------------------------------------------


class ReferenceGenerator64(nn.Module):
    """The reference's G: noise ``(B, latent_dim)`` -> ``(B, 1, 64, 64)`` in [-1, 1].

    A 4x4 transposed convolution makes a ``(8w, 4, 4)`` map from :math:`z`; four stride-2 ones
    double the side 4 -> 8 -> 16 -> 32 -> 64 while the filters go 8w -> 4w -> 2w -> w -> 1; batch
    norm and ReLU after each hidden layer, Tanh at the end.
    """

    def __init__(self, latent_dim: int = 100, width: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, 8 * width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(8 * width),
            nn.ReLU(True),
        ]  # (B, 8w, 4, 4)
        for c_in in (8 * width, 4 * width, 2 * width):
            up = nn.ConvTranspose2d(c_in, c_in // 2, 4, 2, 1, bias=False)
            layers += [up, nn.BatchNorm2d(c_in // 2), nn.ReLU(True)]  # side doubles, filters halve
        layers += [nn.ConvTranspose2d(width, 1, 4, 2, 1, bias=False), nn.Tanh()]  # (B, 1, 64, 64)
        self.net = nn.Sequential(*layers)
        gh.models.init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class ReferenceDiscriminator64(nn.Module):
    """The reference's D body: ``(B, 1, 64, 64)`` -> one logit each, ``(B,)``.

    Stride-2 convolutions halve the side 64 -> 32 -> 16 -> 8 -> 4 while the filters go
    1 -> w -> 2w -> 4w -> 8w; LeakyReLU(0.2) after each, batch norm on all but the first; a 4x4
    convolution gives the logit. The reference puts a sigmoid on top (:class:`SigmoidOutput`).
    """

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(1, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for c_in in (width, 2 * width, 4 * width):
            down = nn.Conv2d(c_in, 2 * c_in, 4, 2, 1, bias=False)
            layers += [down, nn.BatchNorm2d(2 * c_in), nn.LeakyReLU(0.2, True)]  # side halves, filters double
        layers.append(nn.Conv2d(8 * width, 1, 4, 1, 0, bias=False))  # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        gh.models.init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class SigmoidOutput(nn.Module):
    r"""A discriminator that returns probabilities :math:`D(x) = \sigma(\ell(x))`, as the reference's does.

    The course's discriminators return the logit :math:`\ell`; this wrapper is how the reference's
    loop (``BCELoss`` on probabilities) runs them. ``logits`` is the wrapped module.
    """

    def __init__(self, logits: nn.Module) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def reference_d_loss(p_real: torch.Tensor, p_fake: torch.Tensor) -> torch.Tensor:
    r"""The reference's D loss on probabilities: :math:`\operatorname{BCE}(D(x), 1) + \operatorname{BCE}(D(G(z)), 0)`.

    Mathematically :math:`-\overline{\log D(x)} - \overline{\log(1 - D(G(z)))}`, the same as
    :func:`gan_helpers.losses.d_loss` on the logits (which avoids the log of a rounded probability).
    """
    return F.binary_cross_entropy(p_real, torch.ones_like(p_real)) + F.binary_cross_entropy(
        p_fake, torch.zeros_like(p_fake)
    )


def reference_g_loss(p_fake: torch.Tensor) -> torch.Tensor:
    r"""The reference's G loss on probabilities: :math:`\operatorname{BCE}(D(G(z)), 1) = -\overline{\log D(G(z))}`.

    The non-saturating loss, as :func:`gan_helpers.losses.g_loss_nonsaturating` on logits.
    """
    return F.binary_cross_entropy(p_fake, torch.ones_like(p_fake))


def reference_step(
    G: nn.Module, D: nn.Module, x_real: torch.Tensor, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer
) -> dict[str, float]:
    """One step of the reference loop (``D`` returns probabilities); returns the numbers a progress line shows.

    D's real and fake halves are back-propagated one after the other, G's step reuses the fakes
    of D's step, and five numbers are read with ``.item()`` every step (each a device sync), as a
    loop that prints every step must: ``loss_d`` (:func:`reference_d_loss`), ``loss_g``
    (:func:`reference_g_loss`), ``d_real`` (mean D(x)), ``d_fake`` and ``d_fake_after`` (mean
    D(G(z)) before and after D's update).
    """
    opt_D.zero_grad()
    p_real = D(x_real)
    loss_real = F.binary_cross_entropy(p_real, torch.ones_like(p_real))
    loss_real.backward()
    d_real = p_real.mean().item()
    x_fake = G(torch.randn(x_real.shape[0], G.latent_dim, device=x_real.device))
    p_fake = D(x_fake.detach())
    loss_fake = F.binary_cross_entropy(p_fake, torch.zeros_like(p_fake))
    loss_fake.backward()
    d_fake = p_fake.mean().item()
    opt_D.step()
    opt_G.zero_grad()
    p_gen = D(x_fake)
    loss_G = reference_g_loss(p_gen)
    loss_G.backward()
    d_fake_after = p_gen.mean().item()
    opt_G.step()
    loss_D = (loss_real + loss_fake).item()  # = reference_d_loss(p_real, p_fake), halves summed
    return {"loss_d": loss_D, "loss_g": loss_G.item(), "d_real": d_real, "d_fake": d_fake, "d_fake_after": d_fake_after}


def format_line(step: int, values: dict[str, float]) -> str:
    """The reference's progress line for one step."""
    return (
        f"[{step}] loss_d {values['loss_d']:.4f} loss_g {values['loss_g']:.4f} D(x) {values['d_real']:.4f} "
        f"D(G(z)) {values['d_fake']:.4f}/{values['d_fake_after']:.4f}"
    )


# --- Trainers: one object per pipeline, trained in chunks of steps ---------------------------------


class Trainer:
    """A pipeline ready to train: ``train(steps)`` runs steps; ``G`` maps noise to 28x28 images."""

    name: str
    G: nn.Module
    device: torch.device

    def train(self, steps: int) -> None:
        raise NotImplementedError

    def sampler(self) -> nn.Module:
        """G as the metrics see it: noise ``(B, latent_dim)`` to ``(B, 1, 28, 28)``."""
        return self.G


class ResizedGenerator(nn.Module):
    """``G`` followed by an antialiased bilinear resize to ``side x side`` (the reference's 64x64 to 28x28)."""

    def __init__(self, G: nn.Module, side: int = 28) -> None:
        super().__init__()
        self.G = G
        self.latent_dim = G.latent_dim
        self.side = side

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.G(z)
        return F.interpolate(x, size=(self.side, self.side), mode="bilinear", antialias=True, align_corners=False)


class ReferenceTrainer(Trainer):
    """Pipelines (a) and (c): ``DataLoader`` batches through :func:`reference_step`, a line logged every ``log_every``.

    (a) trains the 64x64 reference models on resized images; (c) the course's 28x28 models, wrapped
    in :class:`SigmoidOutput`, on images without resize.
    """

    def __init__(self, name: str, images: torch.Tensor, config: BenchConfig, device: torch.device) -> None:
        self.name, self.device, self.config = name, device, config
        if name == "reference":
            side = REFERENCE_SIDE
            self.G, D = ReferenceGenerator64(config.latent_dim, config.width), ReferenceDiscriminator64(config.width)
        else:
            side = 28
            self.G = gh.models.DCGANGenerator(config.latent_dim, (1, 28, 28), config.width)
            D = gh.models.DCGANDiscriminator((1, 28, 28), config.width)
        self.G.to(device)
        self.D = SigmoidOutput(D).to(device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=config.betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=config.betas)
        self.loader = reference_loader(images, side, config.batch_size, config.workers, config.seed)
        self.batches = endless(self.loader)
        self.log = io.StringIO()
        self.step = 0

    def train(self, steps: int) -> None:
        self.G.train()
        self.D.train()
        for _ in range(steps):
            x_real = next(self.batches).to(self.device)
            values = reference_step(self.G, self.D, x_real, self.opt_G, self.opt_D)
            self.step += 1
            if self.step % self.config.log_every == 0:
                self.log.write(format_line(self.step, values) + "\n")

    def sampler(self) -> nn.Module:
        return ResizedGenerator(self.G) if self.name == "reference" else self.G


class FastTrainer(Trainer):
    """Pipeline (b): :func:`gan_helpers.training.train_gan` on :class:`gan_helpers.data.DeviceBatches`.

    Exactly what the notebooks and the CLI run: ``train_gan``'s defaults bring channels_last, bf16
    autocast where the device multiplies bf16 natively (``config.precision="auto"``), and fused Adam
    on CUDA (:mod:`gan_helpers.acceleration`); ``config.compile`` adds ``torch.compile``.
    """

    def __init__(self, images: torch.Tensor, config: BenchConfig, device: torch.device) -> None:
        self.name, self.device, self.config = "fast", device, config
        self.G = gh.models.DCGANGenerator(config.latent_dim, (1, 28, 28), config.width).to(device)
        self.D = gh.models.DCGANDiscriminator((1, 28, 28), config.width).to(device)
        generator = torch.Generator().manual_seed(config.seed)
        batches = gh.data.DeviceBatches(images, batch_size=config.batch_size, device=device, drop_last=True,
                                        generator=generator)
        self.stream = gh.training.batch_stream(batches)  # one endless stream across calls; batches own the size
        self.train_config = gh.training.TrainConfig(
            lr=config.lr, betas=config.betas, log_every=config.log_every, precision=config.precision,
            compile=config.compile, compile_mode=config.compile_mode,
        )
        self.opt_G, self.opt_D = gh.training.make_optimizers(self.G, self.D, self.train_config)
        self.precision = gh.acceleration.resolve_precision(  # what train_gan will run in
            config.precision, device, (self.G, self.D), self.train_config.loss
        )
        self.history = gh.training.History()
        self.step = 0

    def train(self, steps: int) -> None:
        gh.training.train_gan(
            self.G,
            self.D,
            self.stream,
            self.train_config.replace(steps=steps),
            device=self.device,
            history=self.history,
            optimizers=(self.opt_G, self.opt_D),
            start_step=self.step,
            progress=False,
        )
        self.step += steps


def make_trainer(name: str, images: torch.Tensor, config: BenchConfig) -> Trainer:
    """The trainer of pipeline ``name`` (one of :data:`PIPELINES`), seeded with ``config.seed``."""
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline {name!r}; choose one of {PIPELINES}")
    device = torch.device(config.device)
    gh.runtime.seed_everything(config.seed, deterministic=False)  # deterministic kernels would slow every pipeline
    if name == "fast":
        return FastTrainer(images, config, device)
    return ReferenceTrainer(name, images, config, device)


# --- Measuring -------------------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read after it is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _peak_rss_bytes(who: int) -> int:
    return resource.getrusage(who).ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # Linux counts KiB


def measure_pipeline(name: str, images: torch.Tensor, config: BenchConfig, profile_steps: int = 0) -> dict[str, Any]:
    r"""Build pipeline ``name``, run ``config.warmup`` steps, then time ``config.steps`` steps.

    Returns ``images_per_s`` :math:`= \text{steps} \cdot B / t`, ``seconds_per_epoch``
    :math:`= 60000 / \text{images\_per\_s}` and the peak memory: CUDA's ``max_memory_allocated``, or
    on other devices the peak resident set size of this process (``ru_maxrss``; run each pipeline in
    its own process to separate them, as :func:`main` does). With ``profile_steps`` also a
    ``torch.profiler`` table of that many further steps (top operators by self time).
    """
    device = torch.device(config.device)
    with gh.runtime.cpu_threads(config.threads):
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.cuda.reset_peak_memory_stats(device)
        trainer = make_trainer(name, images, config)
        start = time.perf_counter()
        trainer.train(config.warmup)
        synchronize(device)
        warm = time.perf_counter()
        trainer.train(config.steps)
        synchronize(device)
        seconds = time.perf_counter() - warm
        rate = config.steps * config.batch_size / seconds
        result: dict[str, Any] = {
            "pipeline": name,
            "label": LABELS[name],
            "warmup_seconds": round(warm - start, 3),
            "timed_steps": config.steps,
            "timed_seconds": round(seconds, 6),  # microseconds: a tiny run times only a few ms
            "images_per_s": round(rate, 2),
            "seconds_per_epoch": round(EPOCH_IMAGES / rate, 2),
            "threads": torch.get_num_threads(),
            "precision": getattr(trainer, "precision", "fp32"),
        }
        if device.type == "cuda":
            result.update(peak_memory_bytes=torch.cuda.max_memory_allocated(device),
                          peak_memory_kind="CUDA max_memory_allocated")
        else:
            result.update(peak_memory_bytes=_peak_rss_bytes(resource.RUSAGE_SELF),
                          peak_memory_kind="peak RSS of the process (ru_maxrss; DataLoader workers not included)")
        if profile_steps:
            result["profile"] = profile_table(trainer, profile_steps)
    return result


def profile_table(trainer: Trainer, steps: int, rows: int = 15) -> str:
    """``torch.profiler``'s top-``rows`` operators (by self time on the device) over ``steps`` more steps."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    cuda = trainer.device.type == "cuda"
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        trainer.train(steps)
        synchronize(trainer.device)
    key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def environment(config: BenchConfig, data_source: str, argv: Sequence[str]) -> dict[str, Any]:
    """Device, versions, threads, date and the command that produced the figures."""
    device = torch.device(config.device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return {
        "device": str(device),
        "device_name": name,
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "threads": config.threads if config.threads is not None else torch.get_num_threads(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python", "benchmarks/dcgan_throughput.py", *argv]),
        "data": data_source,
    }


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """``b/a`` and ``b/c``: the fast pipeline's images/s over the reference's and over (c)'s."""
    fast = results.get("fast", {}).get("images_per_s")

    def over(other: str) -> float | None:
        rate = results.get(other, {}).get("images_per_s")
        return round(fast / rate, 3) if fast and rate else None

    return {"b/a": over("reference"), "b/c": over("reference_data")}


def format_table(report: dict[str, Any]) -> str:
    """The results as a fixed-width text table."""
    env = report["environment"]
    lines = [
        f"device: {env['device_name']} ({env['device']}), torch {env['torch']}, {env['threads']} threads",
        f"data: {env['data']}",
        f"{'pipeline':<16}{'images/s':>12}{'s/epoch':>12}{'peak MiB':>12}",
    ]
    for name, r in report["results"].items():
        mib = r["peak_memory_bytes"] / 2**20
        lines.append(f"{name:<16}{r['images_per_s']:>12.1f}{r['seconds_per_epoch']:>12.1f}{mib:>12.1f}")
    kinds = {r["peak_memory_kind"] for r in report["results"].values()}
    lines.append(f"peak memory: {'; '.join(sorted(kinds))}")
    lines.append("  ".join(f"{k} = {v:.2f}x" if v else f"{k} = n/a" for k, v in report["ratios"].items()))
    return "\n".join(lines)


# --- Time to quality -------------------------------------------------------------------------------


def quality_data(limit: int | None, fid_n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Training digits, held-out real digits and where both come from.

    Held out: the real MNIST test set when ``$GAN_HELPERS_REAL_MNIST`` names its folder; else the
    offline sample's last ``fid_n`` digits (it is class-interleaved, so that slice is balanced),
    which are then left out of training. Training uses ``gh.data.load_mnist("train", download=False)``
    (the offline sample unless full MNIST is in ``data/mnist``).
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gh.data.OfflineSampleWarning)
        train, _, info = gh.data.load_mnist("train", download=False, return_info=True)
    folder = os.environ.get("GAN_HELPERS_REAL_MNIST", "").strip()
    if folder:
        path = Path(folder).expanduser()
        path = path if path.is_absolute() else Path(__file__).resolve().parents[1] / path
        held_out = torch.from_numpy(gh.data.read_idx(path / "t10k-images-idx3-ubyte.gz", expected_shape=(None, 28, 28)))
        where = f"held out: real MNIST test set ({len(held_out):,} digits, {path})"
    else:
        if fid_n >= len(train):
            raise ValueError(f"--fid-n ({fid_n}) must be smaller than the {len(train):,} training digits")
        train, held_out = train[:-fid_n], train[-fid_n:]
        where = f"held out: the last {fid_n:,} digits of {info.source} (not trained on)"
    if limit is not None:
        train = train[:limit]
    return train, held_out, f"train: MNIST {len(train):,} digits ({info.source}); {where}"


@dataclass
class QualityCurve:
    """FID after each evaluation of one training run: training seconds (evaluations excluded), epochs, FID."""

    pipeline: str
    seed: int
    seconds: list[float]
    epochs: list[float]
    fid: list[float]

    def seconds_to(self, level: float) -> float:
        """Training seconds until FID first fell to ``level`` or below (``inf`` if it never did)."""
        return next((s for s, f in zip(self.seconds, self.fid, strict=True) if f <= level), float("inf"))


def train_until(
    trainer: Trainer,
    score: Callable[[nn.Module], float],
    steps_per_eval: int,
    epochs_per_eval: float,
    max_evals: int,
    stop_below: float | None = None,
    min_evals: int = 0,
    max_seconds: float | None = None,
) -> QualityCurve:
    """Train in chunks of ``steps_per_eval`` steps, scoring after each, for ``max_evals`` chunks, until
    the score is ``<= stop_below`` after at least ``min_evals`` chunks, or until ``max_seconds`` of
    training. Only training is timed (the device is synchronised around it)."""
    curve = QualityCurve(trainer.name, 0, [], [], [])
    seconds = 0.0
    for k in range(1, max_evals + 1):
        synchronize(trainer.device)
        start = time.perf_counter()
        trainer.train(steps_per_eval)
        synchronize(trainer.device)
        seconds += time.perf_counter() - start
        value = score(trainer.sampler())
        curve.seconds.append(round(seconds, 3))
        curve.epochs.append(round(k * epochs_per_eval, 3))
        curve.fid.append(round(value, 4))
        if stop_below is not None and value <= stop_below and k >= min_evals:
            break
        if max_seconds is not None and seconds >= max_seconds:
            break
    return curve


def fid_scorer(held_out: torch.Tensor, fid_n: int, device: torch.device) -> Callable[[nn.Module], float]:
    """``score(G)``: FID of ``fid_n`` samples of G (fixed noise) against ``fid_n`` held-out digits, in the
    shipped classifier's feature space (:func:`gan_helpers.metrics.fid`)."""
    classifier = gh.classifier.load_classifier(device=device)
    real = gh.metrics.extract_features(classifier, held_out[:fid_n], device=device)

    def score(G: nn.Module) -> float:
        fake = gh.sampling.sample(G, fid_n, seed=12345, device=device)
        return gh.metrics.fid(real, gh.metrics.extract_features(classifier, fake, device=device))

    return score


def target_level(reference_curves: Sequence[QualityCurve]) -> float:
    r"""The quality target :math:`F^* = \operatorname{median}_s F_{ref,s}(E)`, the reference runs' median last FID."""
    if not reference_curves:
        raise ValueError("no reference runs to take the target from")
    return float(np.median([c.fid[-1] for c in reference_curves]))


def median_seconds_to(curves: Sequence[QualityCurve], level: float) -> float:
    """The median over runs of :meth:`QualityCurve.seconds_to` ``level`` (``inf`` counts as slowest)."""
    return float(np.median([c.seconds_to(level) for c in curves]))


def time_to_quality(
    config: BenchConfig, epochs: int, seeds: Sequence[int], fid_n: int, evals_per_epoch: int, max_epochs: int
) -> dict[str, Any]:
    r"""Seconds of training until FID reaches the reference's level after ``epochs`` epochs.

    For each seed the reference trains ``epochs`` epochs; the target is the median over seeds of its
    FID at the end, :math:`F^* = \operatorname{median}_s F_{ref,s}(E)`. Each pipeline's time for a seed
    is the training time until its FID first falls to :math:`F^*`; reported are the medians over
    seeds and their ratio. The fast pipeline trains ``epochs`` epochs too (so that the final
    qualities compare, ``final_fid``: medians after ``epochs`` epochs), then on until it reaches
    :math:`F^*` or ``max_epochs``. FID is measured ``evals_per_epoch`` times per epoch and its cost
    is not counted. When the fast pipeline ran in bf16, it is trained again in fp32 (``fast_fp32``)
    to show what bf16 costs in quality, if anything.
    """
    images, held_out, source = quality_data(config.limit_images, fid_n)
    steps_per_epoch = len(images) // config.batch_size
    if steps_per_epoch < evals_per_epoch:
        raise ValueError(f"{len(images)} images make {steps_per_epoch} steps per epoch: fewer than --evals-per-epoch")
    steps_per_eval = steps_per_epoch // evals_per_epoch
    per_eval = steps_per_eval / steps_per_epoch
    device = torch.device(config.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as in the throughput measurement
    score = fid_scorer(held_out, fid_n, device)
    curves: dict[str, list[QualityCurve]] = {"reference": [], "fast": []}
    with gh.runtime.cpu_threads(config.threads):
        for seed in seeds:
            trainer = make_trainer("reference", images, replace(config, seed=seed))
            curves["reference"].append(train_until(trainer, score, steps_per_eval, per_eval, epochs * evals_per_epoch))
        target = target_level(curves["reference"])
        fast_limit, fast_min = max(max_epochs, epochs) * evals_per_epoch, epochs * evals_per_epoch
        for seed in seeds:
            trainer = make_trainer("fast", images, replace(config, seed=seed))
            fast_precision = trainer.precision  # the same for every seed: it depends on the device only
            curves["fast"].append(
                train_until(trainer, score, steps_per_eval, per_eval, fast_limit, stop_below=target, min_evals=fast_min)
            )
        if fast_precision == "bf16":  # the same pipeline in fp32: what bf16 costs in quality, if anything
            curves["fast_fp32"] = [
                train_until(make_trainer("fast", images, replace(config, seed=seed, precision="fp32")), score,
                            steps_per_eval, per_eval, fast_limit, stop_below=target, min_evals=fast_min)
                for seed in seeds
            ]
    for name in curves:
        for curve, seed in zip(curves[name], seeds, strict=True):
            curve.pipeline, curve.seed = name, seed
    medians = {name: median_seconds_to(cs, target) for name, cs in curves.items()}
    final = {name: float(np.median([c.fid[epochs * evals_per_epoch - 1] for c in cs])) for name, cs in curves.items()}
    both = np.isfinite(medians["reference"]) and np.isfinite(medians["fast"])
    speedup = medians["reference"] / medians["fast"] if both and medians["fast"] > 0 else None
    return {
        "data": source,
        "epochs": epochs,
        "seeds": list(seeds),
        "fid_n": fid_n,
        "evals_per_epoch": evals_per_epoch,
        "max_epochs": max_epochs,
        "fast_precision": fast_precision,
        "target_fid": round(target, 4),
        "median_seconds": {k: (round(v, 3) if np.isfinite(v) else None) for k, v in medians.items()},
        "speedup": round(speedup, 3) if speedup else None,
        "final_fid": {k: round(v, 4) for k, v in final.items()},
        "final_not_worse": final["fast"] <= final["reference"],
        "curves": {k: [asdict(c) for c in cs] for k, cs in curves.items()},
    }


def reference_over_time(config: BenchConfig, minutes: float, fid_n: int, eval_steps: int) -> dict[str, Any]:
    """The reference pipeline's FID every ``eval_steps`` steps until ``minutes`` of training time: what it
    reaches in the minutes the shipped recipe is given (``benchmarks/RESULTS.md``, time to quality).

    FID is that of ``scripts/score_weights.py``: ``fid_n`` samples against the first of two random halves
    (seed 0) of the held-out digits, in the shipped classifier's feature space.
    """
    images, held_out, source = quality_data(config.limit_images, fid_n)
    if len(held_out) >= 2 * fid_n:
        held_out = gh.metrics.real_halves(held_out, fid_n, seed=0)[0]
    score = fid_scorer(held_out, fid_n, torch.device(config.device))
    steps_per_epoch = len(images) // config.batch_size
    with gh.runtime.cpu_threads(config.threads):
        trainer = make_trainer("reference", images, config)
        curve = train_until(trainer, score, eval_steps, eval_steps / steps_per_epoch, max_evals=10**9,
                            max_seconds=minutes * 60)
    curve.seed = config.seed
    return {"data": source, "minutes": minutes, "fid_n": fid_n, "eval_steps": eval_steps, "curve": asdict(curve)}


def format_quality(report: dict[str, Any]) -> str:
    """The time-to-quality result in a few lines."""
    q = report["time_to_quality"]
    ref, fast = q["median_seconds"]["reference"], q["median_seconds"]["fast"]

    def show(seconds: float | None) -> str:
        return "not reached" if seconds is None else f"{seconds:.1f} s"

    return "\n".join([
        f"data: {q['data']}",
        f"target: FID {q['target_fid']:.2f} = median over seeds {q['seeds']} of the reference's FID after "
        f"{q['epochs']} epoch(s) (n = {q['fid_n']})",
        f"median training time to the target: reference {show(ref)}, fast {show(fast)}; "
        f"speed-up {q['speedup'] if q['speedup'] else 'n/a'}x",
        f"FID after {q['epochs']} epoch(s), median: reference {q['final_fid']['reference']:.2f}, fast "
        f"{q['final_fid']['fast']:.2f} (fast, {q['fast_precision']}, not worse: {q['final_not_worse']})",
        *([f"fast in fp32: median time {show(q['median_seconds']['fast_fp32'])}, FID after {q['epochs']} epoch(s) "
           f"{q['final_fid']['fast_fp32']:.2f}"] if "fast_fp32" in q["final_fid"] else []),
    ])


# --- Command line ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: gh.runtime.get_device())")
    p.add_argument("--steps", type=int, default=30, help="timed steps per pipeline")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of the reference data path")
    p.add_argument("--log-every", type=int, default=10, help="steps between logged lines (all pipelines)")
    p.add_argument("--threads", type=int, default=None, help="PyTorch CPU threads (default: its own choice)")
    p.add_argument("--compile", action="store_true", help="torch.compile G and D of the fast pipeline")
    p.add_argument("--compile-mode", choices=gh.acceleration.COMPILE_MODES, default="default",
                   help="torch.compile's mode with --compile (reduce-overhead: CUDA graphs, CUDA only)")
    p.add_argument("--precision", choices=gh.acceleration.PRECISIONS, default="auto",
                   help="the fast pipeline's precision (auto: bf16 autocast where the device multiplies bf16 "
                   "natively)")
    p.add_argument("--limit-images", type=int, default=None, help="use the first N images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    p.add_argument("--no-isolate", action="store_true", help="run the pipelines in this process (default: one "
                   "process each, so that peak memory is per pipeline)")
    p.add_argument("--profile-steps", type=int, default=0, help="also profile this many steps per pipeline")
    p.add_argument("--profile-out", type=Path, default=None, help="write the profiler tables to this text file")
    p.add_argument("--json", type=Path, default=None, help="write every figure and the environment here")
    p.add_argument("--time-to-quality", action="store_true", help="measure time to an FID level instead")
    p.add_argument("--reference-minutes", type=float, default=None, help="instead: train the reference pipeline "
                   "this many minutes, FID (--fid-n) every --eval-steps steps")
    p.add_argument("--eval-steps", type=int, default=60, help="with --reference-minutes: steps between FIDs")
    p.add_argument("--epochs", type=int, default=5, help="time to quality: the reference's epochs (E)")
    p.add_argument("--max-epochs", type=int, default=None, help="time to quality: the fast pipeline's limit "
                   "(default: 2 E)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="time to quality: seeds (median)")
    p.add_argument("--fid-n", type=int, default=1000, help="time to quality: samples per FID")
    p.add_argument("--evals-per-epoch", type=int, default=2, help="time to quality: FID evaluations per epoch")
    p.add_argument("--only", choices=PIPELINES, default=None, help=argparse.SUPPRESS)  # one isolated pipeline
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    device = gh.runtime.get_device(args.device)
    return BenchConfig(
        device=str(device), steps=args.steps, warmup=args.warmup, batch_size=args.batch_size, workers=args.workers,
        log_every=args.log_every, compile=args.compile, compile_mode=args.compile_mode, precision=args.precision,
        limit_images=args.limit_images, seed=args.seed, threads=args.threads,
    )


def _isolated(name: str, argv: Sequence[str]) -> dict[str, Any]:
    """Run one pipeline in a fresh Python process (same arguments) and return its result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cleaned = _drop_options(argv, ("--json", "--profile-out"), ("--pipelines",))
        subprocess.run([sys.executable, __file__, *cleaned, "--only", name, "--json", str(out)], check=True)
        return json.loads(out.read_text())


def _drop_options(argv: Sequence[str], with_value: tuple[str, ...], with_values: tuple[str, ...]) -> list[str]:
    """``argv`` without the options named (``with_value``: one value; ``with_values``: all until the next option)."""
    kept, skip, skip_many = [], False, False
    for arg in argv:
        if skip:
            skip = False
            continue
        if skip_many and not arg.startswith("--"):
            continue
        skip_many = False
        name = arg.split("=", 1)[0]
        if name in with_value:
            skip = "=" not in arg
        elif name in with_values:
            skip_many = "=" not in arg
        else:
            kept.append(arg)
    return kept


def run_throughput(args: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    """Measure every pipeline asked for; returns the report (environment, config, results, ratios)."""
    config = config_from_args(args)
    images, source = load_benchmark_images(config.limit_images)
    results: dict[str, dict[str, Any]] = {}
    for name in args.pipelines:
        print(f"measuring {LABELS[name]} ...", flush=True)
        if args.no_isolate:
            results[name] = measure_pipeline(name, images, config, args.profile_steps)
        else:
            results[name] = _isolated(name, argv)
    return {
        "environment": environment(config, source, argv),
        "config": asdict(config),
        "epoch_images": EPOCH_IMAGES,
        "results": results,
        "ratios": ratios(results),
        "targets": {"cpu": {"b/a": 10.0, "b/c": 1.2}},
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, measure, print a table, write ``--json``; returns the report."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.only:  # a child process of an isolated run: one pipeline, raw result
        config = config_from_args(args)
        images, _ = load_benchmark_images(config.limit_images)
        result = measure_pipeline(args.only, images, config, args.profile_steps)
        args.json.write_text(json.dumps(result))
        return result
    if args.reference_minutes is not None:
        config = config_from_args(args)
        over_time = reference_over_time(config, args.reference_minutes, args.fid_n, args.eval_steps)
        report = {"environment": environment(config, over_time["data"], argv), "config": asdict(config),
                  "reference_over_time": over_time}
        curve = over_time["curve"]
        for seconds, epochs, value in zip(curve["seconds"], curve["epochs"], curve["fid"], strict=True):
            print(f"reference: {seconds / 60:5.1f} min of training, {epochs:5.2f} epochs, FID {value:.1f}")
    elif args.time_to_quality:
        config = config_from_args(args)
        quality = time_to_quality(config, args.epochs, args.seeds, args.fid_n, args.evals_per_epoch,
                                  args.max_epochs or 2 * args.epochs)
        report = {"environment": environment(config, quality["data"], argv), "config": asdict(config),
                  "time_to_quality": quality}
        print(format_quality(report))
    else:
        report = run_throughput(args, argv)
        print(format_table(report))
        if args.profile_out is not None:
            tables = [f"== {name}: {LABELS[name]}\n{r['profile']}" for name, r in report["results"].items()
                      if "profile" in r]
            args.profile_out.write_text("\n\n".join(tables))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
