"""Tests of gan_helpers.files: atomic writes, stale temporary files of dead writers, removing an old run's files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from gan_helpers import checkpoints, files, plots
from gan_helpers.files import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    is_temporary_name,
    remove_run_files,
    remove_stale_temporaries,
    temporary_name,
)

REPO = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name != "posix", reason="process liveness is checked on POSIX only")


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """``umask(value)`` sets the process umask for the test; the old one is restored afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


# ---------------------------------------------------------------- atomic_path


def test_success_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.exists()
        assert is_temporary_name(tmp.name) and f".{os.getpid()}." in tmp.name and tmp.name.endswith(".tmp")
        assert not target.exists()
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert _names(target.parent) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_in_the_block_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path, error: type) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(error), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise error("stop")
    assert target.read_text() == "old"
    assert _names(tmp_path) == ["out.txt"]


def test_fsync_of_the_file_before_the_rename_and_of_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.bin"
    calls: list[tuple[bool, bool]] = []  # (fd is a folder, target exists yet)
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        calls.append((stat.S_ISDIR(os.fstat(fd).st_mode), target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    atomic_write_bytes(target, b"data")
    assert calls[0] == (False, False)  # the temporary file, before the rename
    if os.name == "posix":
        assert calls[-1] == (True, True)  # the folder, after it
    assert len(calls) == (2 if os.name == "posix" else 1)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_mode_follows_the_umask_like_a_normally_created_file(tmp_path: Path, umask, mask: int) -> None:
    umask(mask)
    atomic_write_text(tmp_path / "atomic.txt", "x")
    (tmp_path / "plain.txt").write_text("x")
    mode = stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode)
    assert mode == 0o666 & ~mask == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.tmp or \.part"), atomic_path(tmp_path / "x", suffix=".bak"):
        pass
    assert _names(tmp_path) == []


def test_write_helpers(tmp_path: Path) -> None:
    assert atomic_write_text(tmp_path / "a.txt", "line\n").read_bytes() == b"line\n"
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\xff").read_bytes() == b"\x00\xff"
    path = atomic_write_json(tmp_path / "c.json", {"epochs": 3})
    assert json.loads(path.read_text()) == {"epochs": 3} and path.read_text().endswith("}\n")
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"epochs": 3}
    assert sorted(_names(tmp_path)) == ["a.txt", "b.bin", "c.json"]


# ---------------------------------------------------------------- stale temporary files


def test_temporary_names() -> None:
    name = temporary_name("checkpoint.pt", ".part", pid=1234)
    assert name.startswith(".checkpoint.pt.1234.") and name.endswith(".part") and is_temporary_name(name)
    for other in ("checkpoint.pt", ".checkpoint.pt.tmp", ".checkpoint.pt.abc123xy.tmp", "x.12.abcdef12.tmp",
                  ".x.12.abcdef12.bak", ".x.12.ABCDEF12.tmp", ".x.0.abcdef12.tmp"):
        assert not is_temporary_name(other), other


@posix_only
def test_stale_temporaries_of_dead_writers_go_and_everything_else_stays(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    stale = [temporary_name("checkpoint.pt", pid=dead), temporary_name("train.gz", ".part", pid=dead)]
    kept = [
        temporary_name("checkpoint.pt", pid=live),
        temporary_name("summary.json", pid=os.getppid()),
        "notes.txt",
        ".checkpoint.pt.tmp",
        f".checkpoint.pt.{dead}.tmp",
        f"checkpoint.pt.{dead}.abcdef12.tmp",
        f".checkpoint.pt.{dead}.abcdef12.bak",
    ]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    folder_like = tmp_path / temporary_name("samples", pid=dead)
    folder_like.mkdir()
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert _names(tmp_path) == sorted([*kept, folder_like.name])


@posix_only
def test_a_writer_that_exists_but_is_not_ours_counts_as_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = temporary_name("x", pid=_dead_pid())
    (tmp_path / name).write_text("x")

    def not_permitted(pid: int, sig: int) -> None:
        raise PermissionError("operation not permitted")

    monkeypatch.setattr(os, "kill", not_permitted)
    assert remove_stale_temporaries(tmp_path) == []
    assert _names(tmp_path) == [name]


def test_a_missing_folder_has_nothing_to_remove(tmp_path: Path) -> None:
    assert remove_stale_temporaries(tmp_path / "absent") == []


@posix_only
def test_atomic_path_cleans_its_folder_only(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / "other").mkdir()
    here = tmp_path / temporary_name("a.txt", pid=dead)
    elsewhere = tmp_path / "other" / temporary_name("a.txt", pid=dead)
    for path in (here, elsewhere):
        path.write_text("x")
    atomic_write_text(tmp_path / "b.txt", "b")
    assert not here.exists() and elsewhere.exists()


@posix_only
def test_checkpoints_benefit(tmp_path: Path) -> None:
    leftover = tmp_path / temporary_name("checkpoint.pt", pid=_dead_pid())
    leftover.write_bytes(b"half a checkpoint")
    checkpoints.atomic_save({"x": torch.zeros(2)}, tmp_path / "checkpoint.pt")
    assert _names(tmp_path) == ["checkpoint.pt"]


@posix_only
def test_a_writer_killed_mid_write_leaves_a_temporary_that_the_next_write_removes(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pt"
    target.write_text("old")
    code = textwrap.dedent(
        """
        import sys, time
        from gan_helpers.files import atomic_path
        with atomic_path(sys.argv[1]) as tmp:
            tmp.write_text("half a file")
            print(tmp.name, flush=True)
            time.sleep(120)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        name = proc.stdout.readline().strip()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert name and f".{proc.pid}." in name
    assert _names(tmp_path) == sorted(["checkpoint.pt", name])  # what kill -9 leaves
    assert target.read_text() == "old"
    atomic_write_text(tmp_path / "summary.json", "{}\n")  # the next write into the folder
    assert _names(tmp_path) == ["checkpoint.pt", "summary.json"]
    assert target.read_text() == "old"


# ---------------------------------------------------------------- remove_run_files


def _old_run(folder: Path) -> None:
    (folder / "samples").mkdir(parents=True)
    for name in ("checkpoint.pt", "summary.json", "notes.md", "samples/epoch_001.png", "samples/epoch_002.png"):
        (folder / name).write_text("old")


def test_remove_run_files_removes_the_named_files_only(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _old_run(run)
    (run / "samples" / "mine.txt").write_text("keep")
    export = tmp_path / "weights.pt"
    export.write_text("old")
    names = ["checkpoint.pt", "summary.json", "samples/epoch_*.png", export, "absent.pt"]
    removed = remove_run_files(run, names)
    assert sorted(p.name for p in removed) == ["checkpoint.pt", "epoch_001.png", "epoch_002.png", "summary.json",
                                               "weights.pt"]
    assert _names(run) == ["notes.md", "samples"]
    assert _names(run / "samples") == ["mine.txt"]  # not the project's: stays, and so does its folder
    assert not export.exists()


def test_remove_run_files_removes_an_emptied_subfolder_and_stale_temporaries(tmp_path: Path) -> None:
    _old_run(tmp_path)
    if os.name == "posix":
        (tmp_path / "samples" / temporary_name("epoch_003.png", pid=_dead_pid())).write_text("half")
    remove_run_files(tmp_path, ["checkpoint.pt", "summary.json", "samples/epoch_*.png"])
    assert _names(tmp_path) == ["notes.md"]


def test_remove_run_files_refuses_a_folder(tmp_path: Path) -> None:
    _old_run(tmp_path)
    with pytest.raises(IsADirectoryError, match="samples/epoch_"):
        remove_run_files(tmp_path, ["samples"])
    assert _names(tmp_path / "samples") == ["epoch_001.png", "epoch_002.png"]


def test_remove_run_files_in_a_missing_folder(tmp_path: Path) -> None:
    assert remove_run_files(tmp_path / "absent", ["checkpoint.pt", "samples/epoch_*.png"]) == []


# ---------------------------------------------------------------- sample grids


def test_save_image_grid_writes_a_png_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    png = tmp_path / "samples" / "epoch_001.png"
    images = torch.linspace(-1, 1, 4 * 28 * 28).reshape(4, 1, 28, 28)
    assert plots.save_image_grid(images, png) == png
    first = png.read_bytes()
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert _names(png.parent) == ["epoch_001.png"]

    def half_then_crash(path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(first[:10])
        raise OSError("No space left on device")

    monkeypatch.setattr(plots.images.plt, "imsave", half_then_crash)
    with pytest.raises(OSError, match="No space"):
        plots.save_image_grid(images.flip(0), png)
    assert png.read_bytes() == first  # the old grid, whole
    assert _names(png.parent) == ["epoch_001.png"]


def test_files_module_exports() -> None:
    assert set(files.__all__) >= {"atomic_path", "atomic_write_text", "atomic_write_bytes", "atomic_write_json",
                                  "remove_stale_temporaries", "remove_run_files"}
