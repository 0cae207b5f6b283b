"""Checkpoints: atomic writes, random-number-generator states, and loading with ``weights_only=True``.

A checkpoint is a dictionary of tensors, lists, dicts, numbers and strings only, so
``torch.load(path, weights_only=True)`` reads it without running any pickled code.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_helpers.files import atomic_path

__all__ = ["atomic_save", "load_checkpoint", "rng_state", "set_rng_state"]


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save(obj, path)`` through a temporary file and an atomic rename (:func:`gan_helpers.files.atomic_path`).

    An interruption (Ctrl-C, a crash, a full disk) leaves either the old file or the new one, never
    half a file. The folder is created if needed.
    """
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint onto the CPU with ``weights_only=True`` (no pickled code runs)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}. Check the path, or train first to create one.")
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """The states of Python's ``random``, NumPy's global generator, PyTorch's CPU and GPU generators.

    ``generator`` (e.g. a data loader's own) is saved too when given. Everything is stored as
    tensors, lists and numbers, so that the state survives ``weights_only=True`` loading.
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generator": generator.get_state() if generator is not None else None,
    }
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` saved (``generator`` gets the saved generator state, if any)."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and state["generator"] is not None:
        generator.set_state(state["generator"])
