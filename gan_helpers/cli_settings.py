"""What a training run of the command line keeps: its flags (``run.settings`` and ``settings.json``), the commands
of its sessions, a digest of its images; how a ``--resume`` takes them; and what its folder holds."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULTS",
    "KEPT",
    "LOCATIONS",
    "RUN_FILES",
    "SETTINGS_FILE",
    "UsageError",
    "check_same_data",
    "data_digest",
    "earlier_commands",
    "flag_name",
    "prepare_folder",
    "read_json",
    "run_settings",
    "saved_settings",
    "settle",
    "stored",
]

#: The training flags a run keeps (``run.settings``): a ``--resume`` takes them from the run, and refuses a typed
#: value that differs from the run's.
KEPT = (
    "model",
    "data",
    "batch_size",
    "lr",
    "lr_d",
    "lr_g",
    "ema_decay",
    "augment",
    "latent_dim",
    "width",
    "seed",
    "deterministic",
    "limit_images",
    "steps_per_epoch",
    "log_every",
    "precision",
    "compile",
    "init_from",
)
#: Where the data is looked for: taken from the run unless typed; a typed value may differ (the images are checked).
LOCATIONS = ("data_root", "no_download")
#: The values of the flags above (and ``--epochs``) that a new run gets when they are not typed.
DEFAULTS: dict[str, Any] = {
    "epochs": 20,
    "data": "mnist",
    "batch_size": 64,
    "lr": 2e-4,
    "lr_d": None,
    "lr_g": None,
    "ema_decay": 0.0,
    "augment": "none",
    "latent_dim": 100,
    "width": 64,
    "seed": 0,
    "deterministic": False,
    "limit_images": None,
    "steps_per_epoch": None,
    "log_every": 10,
    "precision": "auto",
    "compile": False,
    "init_from": None,
    "data_root": None,
    "no_download": False,
}
#: Written into a run folder when a run starts, so that a ``--resume`` before its first checkpoint knows its flags.
SETTINGS_FILE = "settings.json"
#: The files of a run in its folder (what a new run or ``--overwrite`` removes first; the checkpoint's name is
#: ``gan_helpers.training.CHECKPOINT_NAME``).
RUN_FILES = ("checkpoint.pt", "summary.json", SETTINGS_FILE, "samples/epoch_*.png")


class UsageError(ValueError):
    """A command-line mistake found after parsing, e.g. weights of the wrong kind for ``--init-from``."""


def flag_name(name: str) -> str:
    """How the user types the setting ``name`` (``batch_size`` -> ``--batch-size``)."""
    return "model" if name == "model" else "--" + name.replace("_", "-")


def stored(value: Any) -> Any:
    """A flag's value as a run's settings keep it: plain data, a path as an absolute string."""
    return str(Path(value).resolve()) if isinstance(value, Path) else value


def read_json(file: Path, what: str) -> dict[str, Any] | None:
    """``file``'s JSON object, or None with a one-line warning when it is missing, truncated or not JSON."""
    try:
        value = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        print(f"warning: {file} ({what}) is unreadable ({type(exc).__name__}); going on without it", file=sys.stderr)
        return None
    return value if isinstance(value, dict) else None


def saved_settings(out: Path, resumed: Any) -> dict[str, Any]:
    """The settings of the run being resumed: its checkpoint's, else (no epoch finished yet) ``SETTINGS_FILE``'s."""
    if resumed is not None:
        if resumed.settings:
            return dict(resumed.settings)
        print(f"warning: {resumed.path} records no settings (older version); using the command line's", file=sys.stderr)
        return {name: getattr(resumed.config, name) for name in ("lr", "log_every", "precision", "compile")}
    file = out / SETTINGS_FILE
    return (read_json(file, "the run's settings") or {}) if file.exists() else {}


def settle(args: argparse.Namespace, saved: dict[str, Any], out: Path) -> None:
    """Give every flag not typed the run's value (``saved``) or the default; refuse a typed one that differs from
    the run's, naming the flag, both values and how to start a new run instead."""
    names = ("epochs", *KEPT, *LOCATIONS)
    typed = {name for name in names if getattr(args, name) is not None}
    clashes = [n for n in KEPT if n in typed and n in saved and stored(getattr(args, n)) != saved[n]]
    if clashes:
        listed = ", ".join(f"{flag_name(n)} {stored(getattr(args, n))} (the run's: {saved[n]})" for n in clashes)
        args.parser.error(
            f"{listed}: a resumed run keeps its settings. To continue the run in {out}, give the run's values or "
            "leave those flags out; to start a new run, add --overwrite or choose another --out"
        )
    for name in names:
        if name not in typed:
            value = saved.get(name, DEFAULTS.get(name))
            setattr(args, name, Path(value) if name in ("init_from", "data_root") and value is not None else value)


def run_settings(args: argparse.Namespace, commands: list[str]) -> dict[str, Any]:
    """What ``run.settings`` (and ``SETTINGS_FILE``) keep: the training flags and the commands of every session."""
    return {**{name: stored(getattr(args, name)) for name in ("epochs", *KEPT, *LOCATIONS)}, "commands": commands}


def earlier_commands(out: Path, saved: dict[str, Any], resumed: Any) -> list[str]:
    """The commands of the run's earlier sessions: from its settings, else (an older run) from summary.json."""
    if "commands" in saved:
        return list(saved["commands"])
    summary_file = out / "summary.json"
    if resumed is None or not summary_file.exists():
        return []
    previous = read_json(summary_file, "the run's summary") or {}
    return list(previous.get("commands", [previous["command"]] if "command" in previous else []))


def prepare_folder(out: Path, resumed: Any, settings: dict[str, Any]) -> None:
    """Make ``out`` hold this run only: dead writers' temporary files go; a new run first removes an old run's
    files and writes its settings; a resumed one drops sample grids of epochs after its checkpoint."""
    from gan_helpers import files

    if resumed is None:
        files.remove_run_files(out, [name for name in RUN_FILES if name != SETTINGS_FILE])
        files.atomic_write_json(out / SETTINGS_FILE, settings)  # replaces the old run's in one step
    else:
        for png in (out / "samples").glob("epoch_*.png"):
            match = re.fullmatch(r"epoch_(\d+)\.png", png.name)
            if match and int(match[1]) > resumed.epoch:
                png.unlink(missing_ok=True)
    for folder in (out, out / "samples"):
        files.remove_stale_temporaries(folder)


def data_digest(images: Any, labels: Any) -> str:
    """SHA-256 of the training images (and labels): a resumed run must see the very same data."""
    digest = hashlib.sha256(images.contiguous().numpy().tobytes())
    if labels is not None:
        digest.update(labels.contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_same_data(saved: dict[str, Any], digest: str, count: int, info: Any) -> None:
    """Refuse to resume on other images than the run's (another --data-root, a download instead of the sample)."""
    if saved.get("data_sha256") not in (None, digest):
        raise UsageError(
            f"the training images ({info.name} {info.split}, {count:,} images, {info.source}) are not the run's "
            f"({saved.get('images', '?')} images, another SHA-256): resume where the run's data is (--data-root, "
            "--no-download), or start a new run with --overwrite or another --out"
        )
