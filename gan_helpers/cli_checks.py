"""What ``python -m gan_helpers train`` accepts: its flags' value types (each turns the typed text into a checked
value, or gives argparse a one-line error that says what it takes), and the checks of the arguments together that
run before any data is loaded: writable paths, a device this machine has, flags the device can run."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "augmentations",
    "check_device",
    "check_init_from",
    "check_paths",
    "check_session_flags",
    "devices_here",
    "ema_decay",
    "learning_rate",
    "nearest_existing",
    "non_negative_int",
    "positive_int",
    "whole_number",
    "why_not_writable",
]


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``, or a one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)  # a seed


def learning_rate(text: str) -> float:
    """An argparse type: a finite number above 0 (``inf``, ``nan``, ``0`` and negative values are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def ema_decay(text: str) -> float:
    """argparse type: a decay in [0, 1) for the moving average of G's weights."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1) such as 0.999 (0: no average), got {text!r}")
    return value


def augmentations(text: str) -> str:
    """argparse type: ``none`` or a comma-separated list of :data:`gan_helpers.data.DIFF_AUGMENTATIONS`."""
    from gan_helpers.data.augment import DIFF_AUGMENTATIONS, check_augmentations

    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return "none"
    try:
        checked = check_augmentations(names)
    except ValueError:
        checked = ()
    if not checked:  # an unknown name, or no name at all
        choices = ", ".join(DIFF_AUGMENTATIONS)
        raise argparse.ArgumentTypeError(f"choose none or from {choices} (comma-separated), got {text!r}")
    return ",".join(checked)


def nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its ancestors that exists (where a missing folder would be created)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def why_not_writable(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (created if missing), or None; tested by creating a file there."""
    from gan_helpers import files

    existing = nearest_existing(folder)
    if not existing.is_dir():
        return f"{existing} is a file, not a folder" if existing == folder else f"{existing} is a file"
    probe = existing / files.temporary_name("write-test")
    try:
        probe.touch(exist_ok=False)
    except OSError as exc:
        return f"cannot write in {existing} ({exc.strerror or exc})"
    probe.unlink(missing_ok=True)
    return None


def check_paths(args: argparse.Namespace, out: Path) -> None:
    """Refuse (usage error, exit 2) an ``--out`` or ``--export`` that cannot be written, before anything runs."""
    why = why_not_writable(out)
    if why is not None:
        args.parser.error(f"argument --out: {why}")
    if args.export is not None:
        why = f"{args.export} is a folder" if args.export.is_dir() else why_not_writable(args.export.parent)
        if why is not None:
            args.parser.error(f"argument --export: {why}")


def check_init_from(args: argparse.Namespace, resuming: bool) -> None:
    """``--init-from`` is for cdcgan only, and must name a file when a new run starts from it."""
    if args.init_from is None:
        return
    if args.model != "cdcgan":
        args.parser.error("argument --init-from: applies to cdcgan only")
    if not resuming and not args.init_from.is_file():
        args.parser.error(f"argument --init-from: no file {args.init_from}")


def check_session_flags(args: argparse.Namespace, device: Any) -> None:
    """Refuse ``--compile-mode`` and ``--sync-batchnorm`` (flags of this session, not kept by the run) where the
    device cannot run them: CUDA graphs and SyncBatchNorm exist on CUDA only."""
    from gan_helpers import acceleration

    try:
        acceleration.check_compile_mode(args.compile_mode or "default", device)
    except ValueError as exc:
        args.parser.error(f"argument --compile-mode: {exc}")
    if args.sync_batchnorm and device.type != "cuda":
        args.parser.error(
            f"argument --sync-batchnorm: PyTorch's SyncBatchNorm runs on CUDA only, not on {device}; without the "
            "flag each process normalises with its own batch's statistics"
        )


def devices_here() -> list[str]:
    """The devices this machine has, as ``--device`` takes them."""
    import torch

    cuda = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return ["cpu", *cuda, *(["mps"] if torch.backends.mps.is_available() else [])]


def check_device(args: argparse.Namespace) -> Any:
    """The device to train on; a ``--device`` this machine lacks is refused with the devices it has."""
    import torch

    from gan_helpers import runtime

    refusal = f"argument --device: {args.device!r} is not on this machine; devices here: {', '.join(devices_here())}"
    try:
        device = runtime.get_device(args.device)
    except ValueError:
        if args.device is None:
            raise  # a bad GAN_HELPERS_DEVICE: get_device's message says so
        args.parser.error(refusal)
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        args.parser.error(refusal)
    return device
