"""Checkpoints: atomic writes with a checksum, random-number-generator states, and safe, verified loading.

Every file the project saves with torch (run checkpoints, exported weights, the classifier) is a
dictionary of tensors, lists, dicts, numbers and strings only, so ``torch.load(path,
weights_only=True)`` reads it without running any pickled code. :func:`atomic_save` stores a
SHA-256 of that payload (:func:`checksum`) under the reserved key ``"checksum"``;
:func:`load_checkpoint` verifies it on every load, so a truncated, damaged or edited file raises
:class:`CheckpointError` instead of loading wrong numbers.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import random
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from gan_helpers import runtime
from gan_helpers.files import atomic_path

__all__ = [
    "CHECKSUM_KEY",
    "CheckpointError",
    "atomic_save",
    "build_checked",
    "checksum",
    "load_checkpoint",
    "require_plain",
    "rng_state",
    "set_rng_state",
    "state_mismatch",
    "target_device",
]

#: The reserved key under which :func:`atomic_save` stores the payload's :func:`checksum`.
CHECKSUM_KEY = "checksum"

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
_DEFAULT_REMEDY = "Delete it and create it again (train again, or pass --overwrite), or restore it from a copy."


class CheckpointError(ValueError):
    """A checkpoint or weights file is empty, truncated, damaged, edited, from an older version or of another kind.

    The message names the file, says what is wrong and what to do (delete it and train again, pass
    ``--overwrite``, or restore a shipped file with ``git checkout -- data/weights``).
    """


# --- the checksum: SHA-256 over a canonical walk of the payload ---


def checksum(obj: Any) -> str:
    """``"sha256:<hex>"`` of ``obj`` walked canonically: dict keys sorted, tensors by dtype, shape and bytes.

    Lists and tuples are told apart, and so are ints, floats and booleans. Only what a
    ``weights_only`` file can hold is accepted (tensors, dicts, lists, tuples, str, int, float, bool,
    None); anything else raises ``TypeError``.
    """
    digest = hashlib.sha256()
    _feed(digest, obj)
    return f"sha256:{digest.hexdigest()}"


def _feed(digest: Any, obj: Any) -> None:
    """Add ``obj`` to ``digest``: a type tag, a length, then the content, so no two payloads share a byte stream."""
    if isinstance(obj, torch.Tensor):
        _feed_tensor(digest, obj)
    elif isinstance(obj, dict):
        digest.update(b"d" + struct.pack("<Q", len(obj)))
        for key, value in sorted(((_scalar_bytes(k), v) for k, v in obj.items()), key=lambda item: item[0]):
            digest.update(key)
            _feed(digest, value)
    elif isinstance(obj, list | tuple):
        digest.update((b"t" if isinstance(obj, tuple) else b"l") + struct.pack("<Q", len(obj)))
        for item in obj:
            _feed(digest, item)
    else:
        digest.update(_scalar_bytes(obj))


def _scalar_bytes(value: Any) -> bytes:
    """The canonical bytes of a plain value (``None``, bool, int, float, str, a torch dtype)."""
    if value is None:
        return b"n"
    if isinstance(value, bool):
        return b"b1" if value else b"b0"
    if isinstance(value, int):
        text = str(value).encode()
        return b"i" + struct.pack("<Q", len(text)) + text
    if isinstance(value, float):
        return b"f" + struct.pack("<d", value)
    if isinstance(value, str):
        text = value.encode("utf-8", "surrogatepass")
        return b"s" + struct.pack("<Q", len(text)) + text
    if isinstance(value, torch.dtype):
        text = str(value).encode()
        return b"y" + struct.pack("<Q", len(text)) + text
    raise TypeError(
        f"a value of type {type(value).__name__} cannot be saved: gan_helpers files hold only tensors, dicts, "
        "lists, tuples, strings, numbers, booleans and None"
    )


def _feed_tensor(digest: Any, tensor: torch.Tensor) -> None:
    """A tensor's dtype, shape and raw bytes (of its contiguous CPU copy)."""
    if tensor.layout != torch.strided:
        raise TypeError(f"a {tensor.layout} tensor cannot be saved: gan_helpers files hold dense tensors only")
    data = tensor.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
    header = f"{data.dtype}|{tuple(tensor.shape)}".encode()
    digest.update(b"T" + struct.pack("<Q", len(header)) + header + struct.pack("<Q", data.numel()))
    digest.update(data.view(torch.uint8).numpy())


# --- saving ---


def atomic_save(obj: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """``torch.save`` of ``obj`` plus its :func:`checksum`, through a temporary file and an atomic rename.

    An interruption (Ctrl-C, a crash, a full disk) leaves either the old file or the new one, never
    half a file (:func:`gan_helpers.files.atomic_path`); the folder is created if needed. ``obj``
    must be a dict of plain data (``TypeError`` otherwise, before anything is written). A full disk
    raises ``OSError`` (``ENOSPC``) saying so, whatever torch's own message.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"atomic_save saves a dict, got {type(obj).__name__}")
    if CHECKSUM_KEY in obj:
        raise ValueError(f"the key {CHECKSUM_KEY!r} is reserved for the checksum that atomic_save adds")
    payload = {**obj, CHECKSUM_KEY: checksum(obj)}
    try:
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
    except (RuntimeError, OSError) as exc:
        if _disk_full(exc):
            raise OSError(
                errno.ENOSPC,
                f"could not write {path}: the disk may be full ({_first_line(exc)}). "
                "Free space or choose another --out (out_dir).",
            ) from exc
        raise
    return Path(path)


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (from ``torch.save`` or the file system) means that the disk or quota is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    text = str(exc)
    return "unexpected pos" in text or "file write failed" in text


def _first_line(exc: BaseException, limit: int = 120) -> str:
    """``Type: first line of the message``, shortened: a hint of the underlying error for a project message."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- loading and verifying ---


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    expected_format: str | None = None,
    what: str = "checkpoint",
    remedy: str = _DEFAULT_REMEDY,
) -> dict[str, Any]:
    """Read a file written by :func:`atomic_save` onto the CPU with ``weights_only=True`` and verify its checksum.

    Returns the saved dict (without the checksum). A missing file raises ``FileNotFoundError``;
    an empty, truncated, damaged, edited or foreign file, one written before checksums, or one
    whose ``"format"`` is not ``expected_format`` raises :class:`CheckpointError` naming the file,
    ``what`` it should be, and ``remedy`` (what to do). No pickled code runs.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} at {path}. Check the path, or train first to create one.")
    payload = _read(path, what, remedy)
    _verify(payload, path, what, remedy)
    if expected_format is not None:
        _check_format(payload, expected_format, path, what, remedy)
    return payload


def _read(path: Path, what: str, remedy: str) -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``, with every failure summarised as one :class:`CheckpointError`."""
    with path.open("rb") as file:
        head = file.read(4)
    if not head:
        raise CheckpointError(
            f"{path} is empty (0 bytes), so it is not a {what}: a write was interrupted or a copy failed. {remedy}"
        )
    if len(head) < len(_ZIP_MAGIC) and _ZIP_MAGIC.startswith(head):
        raise CheckpointError(f"{path} is truncated or damaged: it holds only {len(head)} byte(s). {remedy}")
    if head != _ZIP_MAGIC:
        raise CheckpointError(
            f"{path} is not a {what}: it is not a PyTorch file (those are zip archives; this one starts with "
            f"{head!r}). Check the path. {remedy}"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's text advises weights_only=False: unsafe for a damaged or hostile file
        raise CheckpointError(
            f"{path} cannot be read as a {what}: it is truncated or damaged, or holds objects other than tensors "
            f"and plain values, which gan_helpers never writes (they were refused: nothing in it ran). {remedy}"
        ) from None
    except Exception as exc:  # zip, stream, EOF and decoding errors of a truncated or damaged file
        raise CheckpointError(
            f"{path} cannot be read as a {what}: it is truncated or damaged ({_safe_detail(exc)}). {remedy}"
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(
            f"{path} is not a {what}: it holds a {type(payload).__name__}, not a gan_helpers dictionary. {remedy}"
        )
    return payload


def _safe_detail(exc: BaseException) -> str:
    """A short hint of torch's error, never passing on advice to load with ``weights_only=False``."""
    detail = _first_line(exc)
    return type(exc).__name__ if "weights_only" in detail else detail


def _verify(payload: dict[str, Any], path: Path, what: str, remedy: str) -> None:
    """Remove the checksum from ``payload`` and check it against the rest; :class:`CheckpointError` if wrong."""
    saved = payload.pop(CHECKSUM_KEY, None)
    if saved is None:
        found = payload.get("format", "none")
        raise CheckpointError(
            f"{path} has no checksum: it was written by an older version of gan_helpers (format {found!r}) or by "
            f"another program, so its integrity cannot be checked. Re-create it with this version. {remedy}"
        )
    try:
        actual = checksum(payload)
    except (TypeError, RecursionError) as exc:
        raise CheckpointError(
            f"{path} holds values that gan_helpers never writes ({exc}): the file is damaged. {remedy}"
        ) from None
    if saved != actual:
        raise CheckpointError(
            f"{path}: its contents do not match the checksum saved with it: the file is damaged (a "
            f"failed copy or a disk error) or was modified after it was written. {remedy}"
        )


def _check_format(payload: dict[str, Any], expected: str, path: Path, what: str, remedy: str) -> None:
    """:class:`CheckpointError` unless ``payload["format"]`` is ``expected`` (another version, or another kind)."""
    found = payload.get("format")
    if found == expected:
        return
    if isinstance(found, str) and found.split("/")[0] == expected.split("/")[0]:
        raise CheckpointError(
            f"{path} is a {what} in format {found!r}, which this version of gan_helpers does not read (it reads "
            f"{expected!r}). {remedy}"
        )
    raise CheckpointError(f"{path} is not a {what} (its format is {found!r}, expected {expected!r}). {remedy}")


# --- rebuilding models from a file without trusting its numbers ---


def target_device(device: torch.device | str | None) -> torch.device:
    """The device to load onto, checked before anything is loaded: :func:`gan_helpers.runtime.get_device`'s.

    ``None`` picks the best one here. A device that is not there (``"cuda"`` without CUDA, ``"cuda:7"``
    on a machine with one GPU) raises ``ValueError`` listing the devices that are.
    """
    target = runtime.get_device(None if device is None else str(device))
    if target.type == "cuda" and target.index is not None and target.index >= torch.cuda.device_count():
        raise ValueError(
            f"Device {str(device)!r} was requested but this machine has {torch.cuda.device_count()} CUDA device(s) "
            f"(cuda:0 to cuda:{torch.cuda.device_count() - 1}); pass one of those, 'cuda' or 'cpu'."
        )
    return target


def require_plain(value: Any, what: str, limit: int = 1000, depth: int = 6) -> None:
    """``ValueError`` unless ``value`` is plain data: None, bool, int, float, str, and lists, tuples, str-keyed dicts.

    At most ``limit`` values in all, nested at most ``depth`` deep, so that a crafted file cannot
    make a constructor loop or allocate much.
    """
    count = 0

    def walk(item: Any, level: int) -> None:
        nonlocal count
        count += 1
        if count > limit or level > depth:
            raise ValueError(f"{what} holds more than {limit} values or is nested more than {depth} deep")
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise ValueError(f"{what} has a key of type {type(key).__name__}; only strings are allowed")
                walk(sub, level + 1)
        elif isinstance(item, list | tuple):
            for sub in item:
                walk(sub, level + 1)
        elif item is not None and not isinstance(item, bool | int | float | str):
            raise ValueError(f"{what} must hold plain values (numbers, strings, lists), not {type(item).__name__}")

    walk(value, 0)


def state_mismatch(expected: dict[str, Any], saved: Any) -> str:
    """How the tensors ``saved`` differ from ``expected`` (a model's ``state_dict``) in keys and shapes, or ``""``."""
    if not isinstance(saved, dict):
        return f"the saved weights are a {type(saved).__name__}, not a dict of tensors"
    problems = []
    missing = [k for k in expected if k not in saved]
    extra = [k for k in saved if k not in expected]
    if missing:
        problems.append(f"missing {_some(missing)}")
    if extra:
        problems.append(f"unexpected {_some(extra)}")
    shapes = [
        f"{k} is {_shape(saved[k])} in the file but {tuple(v.shape)} in the model"
        for k, v in expected.items()
        if k in saved and _shape(saved[k]) != tuple(v.shape)
    ]
    if shapes:
        problems.append(_some(shapes))
    return "; ".join(problems)


def _shape(value: Any) -> tuple[int, ...] | str:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"


def _some(items: list[str], n: int = 3) -> str:
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


_INIT_FUNCTIONS = frozenset(
    {"normal_", "uniform_", "fill_", "zero_", "zeros_", "ones_", "constant_", "kaiming_uniform_", "kaiming_normal_"}
)


class _SkipMetaInit(TorchFunctionMode):
    """Skips initialising meta tensors (meaningless there; ``normal_`` on meta takes seconds the first time)."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in _INIT_FUNCTIONS:
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, torch.Tensor) and target.is_meta:
                return target
        return func(*args, **kwargs)


@contextmanager
def _on_meta() -> Iterator[None]:
    """Build modules on the meta device: shapes only, no memory, no initialisation."""
    with torch.device("meta"), _SkipMetaInit():
        yield


def build_checked(cls: type[nn.Module], kwargs: Any, state_dict: Any = None) -> nn.Module:
    """``cls(**kwargs)`` with ``state_dict`` loaded (if given), once the arguments are known to fit those weights.

    ``kwargs`` must be a dict of plain data (:func:`require_plain`). With ``state_dict``, the model is
    first built on the meta device (no memory) and its keys and shapes compared with the weights',
    so a crafted spec (say hidden sizes of 60000x60000 beside small weights) is refused before
    anything is allocated. Raises ``ValueError`` saying what does not fit.
    """
    if not isinstance(kwargs, dict):
        raise ValueError(f"the arguments of {cls.__name__} must be a dict, got {type(kwargs).__name__}")
    require_plain(kwargs, f"the arguments of {cls.__name__}", limit=100)
    if state_dict is None:
        return cls(**kwargs)
    try:
        with _on_meta():
            shapes = cls(**kwargs).state_dict()
    except Exception as exc:  # a constructor's TypeError or ValueError for arguments it does not take
        raise ValueError(f"{cls.__name__}(**{kwargs!r}) cannot be built ({_first_line(exc)})") from None
    problems = state_mismatch(shapes, state_dict)
    if problems:
        raise ValueError(f"the weights saved for {cls.__name__}(**{kwargs!r}) do not fit it: {problems}")
    model = cls(**kwargs)
    model.load_state_dict(state_dict)
    return model


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
