"""Writing files safely: every file the project writes goes through :func:`atomic_path`.

A file is written to a temporary file beside it, ``.{name}.{pid}.{random}.tmp`` (``.part`` for
downloads), flushed to disk and renamed over the target in one atomic step, so a reader sees the old
file or the new one, never half a file. A writer killed outright (``kill -9``, a Jupyter kernel
restart) cannot clean up; the process id in the name lets the next :func:`atomic_path` in the same
folder see that the writer is dead and remove its leftovers (:func:`remove_stale_temporaries`).
:func:`remove_run_files` removes an old run's files for ``--overwrite``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "TEMP_SUFFIXES",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "is_temporary_name",
    "remove_run_files",
    "remove_stale_temporaries",
    "temporary_name",
]

#: The suffixes of the project's temporary files: ``.tmp`` for every file, ``.part`` for downloads.
TEMP_SUFFIXES = (".tmp", ".part")

# .{name}.{pid}.{random}{suffix}: the random part is 8 to 32 lowercase hex digits.
_TEMP_NAME = re.compile(
    r"^\.(?P<name>.+)\.(?P<pid>[1-9][0-9]{0,9})\.(?P<random>[0-9a-f]{8,32})(?P<suffix>\.tmp|\.part)$"
)
_CREATE_ATTEMPTS = 100
_GLOB_CHARS = frozenset("*?[")


def temporary_name(name: str, suffix: str = ".tmp", pid: int | None = None) -> str:
    """The name of a new temporary file for the file ``name``: ``.{name}.{pid}.{8 random hex digits}{suffix}``."""
    _check_suffix(suffix)
    return f".{name}.{os.getpid() if pid is None else pid}.{secrets.token_hex(4)}{suffix}"


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` has the form of the project's temporary files (see :func:`temporary_name`)."""
    return _TEMP_NAME.match(name) is not None


def _check_suffix(suffix: str) -> None:
    if suffix not in TEMP_SUFFIXES:
        raise ValueError(
            f"temporary files end in {' or '.join(TEMP_SUFFIXES)}, got suffix={suffix!r}: pass one of those, "
            "so that a leftover of a killed writer can be recognised and removed later."
        )


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists; True where that cannot be told (never delete a live writer's file)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # PermissionError: it exists but belongs to another user
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files in ``folder`` whose writer process is dead; returns what was removed.

    Only names of the project's pattern (``.NAME.PID.RANDOM.tmp`` or ``.part``, regular files) are
    considered, and only those whose process ``PID`` no longer exists (``os.kill(pid, 0)`` raises
    ``ProcessLookupError``). A live process's temporary file and every other file are left alone;
    so is everything on systems where liveness cannot be checked (Windows). One directory listing,
    no recursion; errors (an unreadable folder, a file another process removed first) are ignored.
    Caveat: a folder shared between machines or containers with separate process ids (NFS, a bind
    mount) may hold a live writer whose id is unused here; do not write into one such folder from two.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False) or _pid_alive(int(match["pid"])):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _create_temporary(path: Path, suffix: str) -> Path:
    """Create an empty temporary file beside ``path``, mode ``0o666`` less the umask (like ``open(path, "w")``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_CREATE_ATTEMPTS):
        tmp = path.parent / temporary_name(path.name, suffix)
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(
        errno.EEXIST, f"no free temporary name beside {path} after {_CREATE_ATTEMPTS} tries: clean up {path.parent}"
    )


def _fsync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (what the writer left in the OS's cache)."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (the rename) to disk where the OS allows it (not on Windows, nor some filesystems)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path`` in one atomic rename.

    The temporary file ``.{name}.{pid}.{random}{suffix}`` (``suffix``: ``".tmp"``, or ``".part"``
    for downloads) is created empty in ``path``'s folder with the mode a new file gets (``0o666``
    less the umask). After the block it is flushed to disk (``os.fsync``), renamed over ``path``
    (``os.replace``, atomic) and the folder is flushed too where the OS allows. An exception in the
    block (Ctrl-C, a full disk, a failed check) leaves the old file untouched and removes the
    temporary file. A writer killed outright leaves its temporary file; the next call in that folder
    removes it (:func:`remove_stale_temporaries`). The folder is created if needed.

    Raises:
        ValueError: ``suffix`` is not one of :data:`TEMP_SUFFIXES`.
    """
    _check_suffix(suffix)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    tmp = _create_temporary(path, suffix)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`); returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_path`), newlines kept as given; returns ``path``."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (``indent``, a final newline) to ``path`` atomically; returns ``path``.

    The object is encoded before anything is written, so an object that is not JSON-serialisable
    raises ``TypeError`` and leaves the old file as it was.
    """
    return atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")


def _matches(folder: Path, name: str | os.PathLike[str]) -> list[Path]:
    """The paths ``name`` stands for: ``folder / name``, wildcards (``* ? [``) allowed in its last part."""
    target = folder / name
    if _GLOB_CHARS.isdisjoint(target.name):
        return [target]
    return sorted(target.parent.glob(target.name))


def _remove_file(path: Path) -> bool:
    """Unlink ``path`` if it is a file or a link; False if absent. A folder raises ``IsADirectoryError``."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(
            errno.EISDIR,
            f"remove_run_files removes files only, and {path} is a folder: name the files in it instead "
            "(e.g. 'samples/epoch_*.png'), so that nothing else in the folder is lost",
        )
    path.unlink(missing_ok=True)
    return True


def remove_run_files(folder: str | os.PathLike[str], names: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Remove an old run's files from ``folder`` (for ``--overwrite``), and nothing else; returns what was removed.

    Each entry of ``names`` is a file relative to ``folder`` (an absolute path is taken as it is,
    e.g. exported weights elsewhere), with wildcards allowed in its last part: for a training run
    ``["checkpoint.pt", "summary.json", "samples/epoch_*.png", export_path]``. Files and links are
    removed; a name that matches a folder raises ``IsADirectoryError`` (name its files instead);
    absent names are skipped. Afterwards the temporary files of dead writers
    (:func:`remove_stale_temporaries`) are removed from every folder involved, and a sub-folder of
    ``folder`` (``samples/``) that is left empty is removed. Other files, e.g. the user's notes in
    the run folder, stay.
    """
    folder = Path(folder)
    removed: list[Path] = []
    parents: set[Path] = {folder}
    for name in names:
        for path in _matches(folder, name):
            parents.add(path.parent)
            if _remove_file(path):
                removed.append(path)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        removed += remove_stale_temporaries(parent)
        if parent != folder and folder in parent.parents:
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty
    return removed
