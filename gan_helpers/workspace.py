"""The student's workspace: a working copy of the notebooks that JupyterLab may save over freely.

``make lab`` opens ``workspace/`` (git-ignored), created from ``notebooks/`` the first time; a notebook
already there is never overwritten, so a student's edits and outputs survive ``git pull``. The
committed notebooks (with the outputs of a full run) stay clean. ``make reset NB=02`` restores one
notebook from the committed copy. Run as ``python -m gan_helpers.workspace {lab,reset} ...``; the Makefile
also runs this file directly (``python gan_helpers/workspace.py check-env``, standard library only) before
anything is installed, to warn about a Python that is not an environment of its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["environment_warning", "lab_command", "main", "prepare", "reset"]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
WORKSPACE = REPO / "workspace"


def prepare(source: Path = NOTEBOOKS, workspace: Path = WORKSPACE) -> list[Path]:
    """Copy every notebook of ``source`` that ``workspace`` lacks; return the copies made (never overwrites)."""
    if not source.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {source}: run this from a checkout of the repository")
    workspace.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(source.glob("*.ipynb")):
        target = workspace / notebook.name
        if not target.exists():
            shutil.copy2(notebook, target)
            copied.append(target)
    return copied


def _matching(names: Sequence[str], source: Path) -> list[Path]:
    """The notebooks of ``source`` named by ``names`` (a number prefix such as ``02``, or a file name)."""
    notebooks = sorted(source.glob("*.ipynb"))
    chosen = []
    for name in names:
        found = [nb for nb in notebooks if nb.name == name or nb.stem == name or nb.name.startswith(f"{name}_")]
        if len(found) != 1:
            known = ", ".join(nb.stem for nb in notebooks)
            raise ValueError(f"{name!r} names {len(found)} notebooks; give a number such as 02 or one of: {known}")
        chosen.append(found[0])
    return chosen


def reset(names: Sequence[str], source: Path = NOTEBOOKS, workspace: Path = WORKSPACE) -> list[Path]:
    """Overwrite the workspace copies of the named notebooks with the committed ones; return what was restored.

    The old copy is kept beside it as ``NAME.ipynb.bak`` (one level), so a reset by mistake loses nothing.
    """
    if not names:
        raise ValueError("name the notebooks to restore, e.g. `make reset NB=02` (or NB=all)")
    chosen = sorted(source.glob("*.ipynb")) if list(names) == ["all"] else _matching(names, source)
    workspace.mkdir(parents=True, exist_ok=True)
    restored = []
    for notebook in chosen:
        target = workspace / notebook.name
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".bak"))
        shutil.copy2(notebook, target)
        restored.append(target)
    return restored


def environment_warning(prefix: str = sys.prefix, base_prefix: str = sys.base_prefix) -> str | None:
    """A warning when this Python is neither a virtual environment nor a conda environment, else ``None``."""
    if prefix != base_prefix or os.environ.get("CONDA_PREFIX") or (Path(prefix) / "conda-meta").is_dir():
        return None
    return (
        f"warning: installing into {prefix}, a Python that is not a virtual or conda environment. "
        "To keep this course's packages apart: python3 -m venv .venv && . .venv/bin/activate, then run make again."
    )


def lab_command(extra: Sequence[str] = (), workspace: Path = WORKSPACE, is_root: bool | None = None) -> list[str]:
    """The ``jupyter lab`` command line for ``workspace``; as root it adds ``--allow-root`` (JupyterLab refuses
    to start as root without it)."""
    root = os.geteuid() == 0 if is_root is None and hasattr(os, "geteuid") else bool(is_root)
    command = [sys.executable, "-m", "jupyter", "lab", str(workspace)]
    if root and "--allow-root" not in extra:
        command.append("--allow-root")
    return command + list(extra)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_helpers.workspace", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="create workspace/ if needed and open it in JupyterLab")
    lab.add_argument("args", nargs=argparse.REMAINDER, help="passed to jupyter lab, e.g. --no-browser --port 8899")
    sub.add_parser("check-env", help="warn when this Python is neither a virtual nor a conda environment")
    restore = sub.add_parser("reset", help="restore notebooks in workspace/ from the committed ones")
    restore.add_argument("names", nargs="+", help="notebook numbers (02), names, or all")
    args = parser.parse_args(argv)
    if args.command == "check-env":
        warning = environment_warning()
        if warning:
            print(warning)
        return 0
    try:
        if args.command == "reset":
            for path in reset(args.names):
                print(f"restored {path.relative_to(REPO)} from notebooks/ (your copy: {path.name}.bak)")
            return 0
        for path in prepare():
            print(f"created {path.relative_to(REPO)}")
        command = lab_command(args.args)
        if "--allow-root" in command and "--allow-root" not in args.args:
            print("notice: running as root, so JupyterLab is started with --allow-root")
        print(f"opening workspace/ (your copy; notebooks/ stays as committed): {' '.join(command[1:])}")
        return subprocess.call(command)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
