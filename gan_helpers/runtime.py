"""Runtime basics: which device to train on, reproducible seeds, fast or full mode."""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from gan_helpers import acceleration

__all__ = [
    "DEVICE_ENV",
    "FAST_ENV",
    "RuntimeInfo",
    "cpu_threads",
    "describe",
    "get_device",
    "is_fast_mode",
    "pick",
    "seed_everything",
]

FAST_ENV = "GAN_HELPERS_FAST"
DEVICE_ENV = "GAN_HELPERS_DEVICE"

T = TypeVar("T")


def is_fast_mode() -> bool:
    """True when the environment variable ``GAN_HELPERS_FAST`` is ``1`` (CI's small, quick mode).

    Any other value, or none, means full mode. Values other than ``0``/``1``/empty raise, so a
    typo such as ``GAN_HELPERS_FAST=yes`` is not silently read as full mode.
    """
    value = os.environ.get(FAST_ENV, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise ValueError(
        f"{FAST_ENV}={value!r} is not understood: set it to 1 for fast mode, 0 (or unset) for full mode."
    )


def pick(fast: T, full: T) -> T:
    """Return ``fast`` in fast mode and ``full`` otherwise: ``steps = gh.runtime.pick(300, 5000)``."""
    return fast if is_fast_mode() else full


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(name: str | None = None) -> torch.device:
    """The device to train on: CUDA if present, then Apple's MPS, then the CPU.

    ``name`` (or the environment variable ``GAN_HELPERS_DEVICE``) forces a choice, e.g. ``"cpu"``
    to compare timings. Asking for a device that is not there raises with the devices that are.
    """
    requested = name if name is not None else os.environ.get(DEVICE_ENV, "").strip() or None
    if requested is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ValueError(
            f"Unknown device {requested!r} (from {'argument' if name else DEVICE_ENV}); "
            "use 'cpu', 'cuda', 'cuda:N' or 'mps'."
        ) from exc
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if not available.get(device.type, False):
        present = ", ".join(k for k, ok in available.items() if ok)
        raise ValueError(
            f"Device {requested!r} was requested but is not available on this machine "
            f"(available: {present}). Unset {DEVICE_ENV} or pass another device."
        )
    return device


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and all GPUs) with one call.

    Seeding alone makes a CPU run repeat bit for bit (the CPU kernels the package uses are
    deterministic). On a GPU some kernels (cuDNN's convolution backward, atomic adds) are not; an
    explicit ``deterministic=True`` asks PyTorch for deterministic kernels everywhere (``warn_only``,
    so an operation without one warns instead of failing), which slows cuDNN, so it is a choice,
    not the default. It is a global switch for the process (``torch.use_deterministic_algorithms``).
    Returns a ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.Generator().manual_seed(seed)


@dataclass(frozen=True)
class RuntimeInfo:
    """What the setup check reports."""

    python: str
    torch: str
    numpy: str
    device: str
    device_name: str
    fast_mode: bool
    threads: int
    conv_precision: str  # what TrainConfig(precision="auto") gives convolutional GANs on this device



def describe() -> RuntimeInfo:
    """Collect versions, the chosen device and the mode, for a notebook's setup check."""
    device = get_device()
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        device_name = "Apple GPU (MPS)"
    else:
        device_name = platform.processor() or platform.machine()
    return RuntimeInfo(
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=np.__version__,
        device=str(device),
        device_name=device_name,
        fast_mode=is_fast_mode(),
        threads=torch.get_num_threads(),
        conv_precision="bf16" if acceleration.bf16_is_fast(device) else "fp32",
    )


@contextmanager
def cpu_threads(num_threads: int | None) -> Iterator[None]:
    """Run the ``with`` block with ``torch.set_num_threads(num_threads)``; the previous count is restored after.

    Tiny models (the MLPs of the 2-D notebooks) train fastest on one thread: their cost is the
    overhead of each operation, and a second thread only adds synchronisation, which on a busy
    machine can make every step many times slower. ``None`` leaves the count unchanged.
    """
    if num_threads is not None and num_threads < 1:
        raise ValueError(f"num_threads must be at least 1 (or None to leave it unchanged), got {num_threads}")
    previous = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

