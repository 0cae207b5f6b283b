"""Run the notebook series headless: executed copies to a build folder, or regenerate committed outputs."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from gan_helpers.files import atomic_path, atomic_write_json
from gan_helpers.runtime import FAST_ENV

__all__ = ["NotebookRun", "find_notebooks", "is_progress_bar", "run_notebook", "run_series", "strip_volatile_metadata"]


@dataclass(frozen=True)
class NotebookRun:
    """The outcome of executing one notebook."""

    path: Path
    output: Path
    seconds: float


def find_notebooks(folder: Path, names: Sequence[str] = ()) -> list[Path]:
    """The series' notebooks ``NN_topic.ipynb`` in teaching order, or those matching ``names``."""
    notebooks = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"No notebooks named NN_topic.ipynb in {folder}. Run from the repository root.")
    if names:
        chosen = [p for p in notebooks if any(p.name.startswith(n) or p.stem == n for n in names)]
        missing = [n for n in names if not any(p.name.startswith(n) or p.stem == n for p in notebooks)]
        if missing:
            raise FileNotFoundError(f"No notebook matches {missing}; available: {[p.name for p in notebooks]}")
        return chosen
    return notebooks


_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def is_progress_bar(output: nbformat.NotebookNode) -> bool:
    """True for a stored progress-bar widget: without its widget state a reader sees only its first frame, "0%"."""
    data = output.get("data", {})
    text = "".join(data.get("text/plain", ""))
    return _WIDGET_VIEW in data and "%|" in text and "it/s" in text


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop stored widget state (large, changes every run) and progress bars, which would read as frozen at 0%.

    The other outputs stay; the line each training cell prints when it is done says how the run ended.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not is_progress_bar(o)]
    return nb


class QuietShutdownKernelManager(AsyncKernelManager):
    """A kernel manager that shuts a finished notebook's kernel down without interrupting it first.

    jupyter_client sends an interrupt (SIGINT) before every shutdown request; a kernel that is idle then
    may log "ERROR | KeyboardInterrupt caught in kernel", which reads like a failure of a notebook that
    ran cleanly. The shutdown request alone stops an idle kernel (and a kernel that ignores it is
    still killed by jupyter_client after its grace period).
    """

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()


KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
"""The kernel logs errors only: its warning that it talks over local TCP without encryption is noise here."""


def run_notebook(path: Path, output: Path, timeout: int = 3600, kernel_name: str = "python3") -> NotebookRun:
    """Execute ``path`` top to bottom in a fresh kernel (working directory: its folder), write ``output``."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
        kernel_manager_class=QuietShutdownKernelManager,
        extra_arguments=KERNEL_ARGUMENTS,
    )
    client.execute()
    seconds = time.perf_counter() - start
    with atomic_path(output) as tmp:  # a crash mid-write never leaves half a notebook
        nbformat.write(strip_volatile_metadata(nb), tmp)
    return NotebookRun(path, output, seconds)


def run_series(
    folder: Path,
    out: Path | None,
    names: Sequence[str] = (),
    fast: bool | None = None,
    timeout: int = 3600,
) -> list[NotebookRun]:
    """Run the series; ``out=None`` writes the outputs back into the notebooks themselves.

    ``fast`` sets ``GAN_HELPERS_FAST`` for the kernels (None keeps the environment's value).
    Prints one line per notebook and writes ``timings.json`` beside the outputs.
    """
    if fast is not None:
        os.environ[FAST_ENV] = "1" if fast else "0"
    runs = []
    for path in find_notebooks(folder, names):
        target = path if out is None else out / path.name
        print(f"running {path.name} ...", flush=True)
        run = run_notebook(path, target, timeout=timeout)
        print(f"  done in {run.seconds:.1f} s -> {run.output}", flush=True)
        runs.append(run)
    log_dir = folder if out is None else out
    timings = {r.path.name: round(r.seconds, 1) for r in runs}
    summary = {"fast": os.environ.get(FAST_ENV, ""), "seconds": timings}
    atomic_write_json(log_dir / "timings.json", summary)
    return runs
