"""Rebuilding models from plain data (specs), and the shipped pretrained weights."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from gan_helpers import checkpoints
from gan_helpers.models.dcgan import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
)
from gan_helpers.models.mlp import MLPImageDiscriminator, MLPImageGenerator

__all__ = [
    "BUILDABLE",
    "PRETRAINED",
    "WEIGHTS_FORMAT",
    "Pretrained",
    "build_model",
    "export_weights",
    "load_pretrained",
    "load_weights",
    "model_spec",
    "weights_dir",
]

_CLASSES: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (
        ConditionalDCGANDiscriminator,
        ConditionalDCGANGenerator,
        DCGANDiscriminator,
        DCGANGenerator,
        MLPImageDiscriminator,
        MLPImageGenerator,
    )
}


# --- Rebuilding models from plain data, and the shipped pretrained weights ---

#: Classes that :func:`build_model` may rebuild from a checkpoint (never arbitrary code).
BUILDABLE = tuple(sorted(_CLASSES))

#: The shipped weights: name -> file under ``data/weights``.
PRETRAINED = {
    "dcgan": "dcgan_mnist.pt",
    "mlp": "mlp_gan_mnist.pt",
    "cdcgan": "cdcgan_mnist.pt",
    "cdcgan-scratch": "cdcgan_scratch_mnist.pt",  # notebook 07's collapse: the same pair trained without a warm start
}

WEIGHTS_FORMAT = "gan_helpers.weights/2"  # of the files export_weights writes (2: with a checksum)
_WEIGHTS_REMEDY = "Export them again (the CLI's --export); restore shipped ones with `git checkout -- data/weights`."


def model_spec(model: nn.Module) -> dict[str, Any]:
    """``{"class": name, "kwargs": {...}}``: plain data from which :func:`build_model` rebuilds ``model``."""
    name = type(model).__name__
    if name not in BUILDABLE or not hasattr(model, "hparams"):
        raise ValueError(f"{name} cannot be described for a checkpoint; supported: {BUILDABLE}")
    return {"class": name, "kwargs": dict(model.hparams)}


def build_model(spec: dict[str, Any], state_dict: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """A model from a :func:`model_spec` dict (``BUILDABLE`` classes, plain arguments), with ``state_dict`` loaded.

    The spec is checked against ``state_dict``'s shapes on the meta device first, so that a crafted
    spec cannot allocate memory (:func:`gan_helpers.checkpoints.build_checked`); ``ValueError`` says what is wrong.
    """
    name = spec.get("class") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name not in BUILDABLE:
        raise ValueError(f"Unknown model class {name!r} in the spec; supported: {BUILDABLE}")
    return checkpoints.build_checked(_CLASSES[name], spec.get("kwargs"), state_dict)


def weights_dir() -> Path:
    """The folder of the shipped weights, ``<repository>/data/weights``."""
    return Path(__file__).resolve().parents[2] / "data" / "weights"


class Pretrained(NamedTuple):
    """A shipped GAN: ``G`` and ``D`` in eval mode, and ``info`` on how they were made."""

    G: nn.Module
    D: nn.Module
    info: dict[str, Any]


def export_weights(
    G: nn.Module, D: nn.Module, path: str | os.PathLike[str], info: dict[str, Any] | None = None, half: bool = True
) -> Path:
    """Write G and D (specs and weights, float16 when ``half``) and ``info`` to ``path``, atomically.

    The file holds only tensors, strings and numbers (``weights_only=True`` reads it) and a checksum.
    """

    def pack(model: nn.Module) -> dict[str, Any]:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        state = {k: v.half() if half and v.is_floating_point() else v for k, v in state.items()}
        return {**model_spec(model), "state_dict": state}

    payload = {"format": WEIGHTS_FORMAT, "G": pack(G), "D": pack(D), "info": dict(info or {})}
    return checkpoints.atomic_save(payload, path)  # with a checksum; a crash mid-write never leaves half a file


def load_weights(path: str | os.PathLike[str], device: torch.device | str | None = "cpu") -> Pretrained:
    """Load a file written by :func:`export_weights`: G and D in eval mode, float32, on ``device`` (``get_device``'s).

    Reads with ``weights_only=True`` and verifies the checksum; a missing file raises ``FileNotFoundError``, an
    unreadable, damaged, older or foreign one :class:`gan_helpers.checkpoints.CheckpointError` saying what to do.
    """
    path, target = Path(path), checkpoints.target_device(device)
    payload = checkpoints.load_checkpoint(
        path, expected_format=WEIGHTS_FORMAT, what="weights file", remedy=_WEIGHTS_REMEDY
    )
    G, D = (_weights_part(payload, part, path).to(target).eval() for part in ("G", "D"))
    return Pretrained(G, D, payload["info"] if isinstance(payload.get("info"), dict) else {})


def _weights_part(payload: dict[str, Any], part: str, path: Path) -> nn.Module:
    """Model ``part`` ("G" or "D") of a weights file, float32, its spec checked against its weights first."""
    spec = payload.get(part)
    state = spec.get("state_dict") if isinstance(spec, dict) else None
    try:
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError("there are no weights for it")
        return build_model(spec, {k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except ValueError as exc:
        raise checkpoints.CheckpointError(f"{path}: its {part} cannot be rebuilt: {exc}. {_WEIGHTS_REMEDY}") from None


def load_pretrained(
    name: str = "dcgan", root: str | os.PathLike[str] | None = None, device: torch.device | str | None = "cpu"
) -> Pretrained:
    """The shipped GAN trained on MNIST: ``G, D, info = gh.models.load_pretrained("dcgan")``.

    ``name`` is ``"dcgan"``, ``"mlp"``, ``"cdcgan"`` or ``"cdcgan-scratch"`` (the conditional pair trained
    from scratch, which collapses within each class: notebook 07); ``root`` is the folder of the weight files (default
    :func:`weights_dir`). ``info`` records how they were made. :func:`load_weights` runs no pickled code.

    Both models come back in eval mode. G is the moving average of the trained G's weights when
    ``info["ema_decay"] > 0``, its batch-norm statistics measured on its own samples. D's batch-norm
    statistics: in files exported with ``info["d_batch_norm"] == "real"``, measured on real training
    digits at export, so that eval-mode D(x) of a real digit is what training's D gave a batch of
    real digits; in older files, what training left behind (a moving mix of real and fake batches,
    which makes eval-mode D read real digits as fakes): call D in train mode on whole batches there,
    or re-measure with :func:`gan_helpers.training.remeasure_batch_norm`.
    """
    if name not in PRETRAINED:
        raise ValueError(f"No shipped weights named {name!r}; available: {sorted(PRETRAINED)}")
    folder = Path(root) if root is not None else weights_dir()
    return load_weights(folder / PRETRAINED[name], device=device)
