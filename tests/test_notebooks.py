"""What nbval cannot see: stored outputs are complete, error-free and small; the series runner works."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from gan_helpers import series

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK = "nbval-check-output"


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_the_series_starts_with_the_welcome_notebook():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_welcome.ipynb"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == sorted(set(numbers)), "notebook numbers must be unique and in order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_compared_cell_has_a_stored_output(path):
    missing = [i for i, c in enumerate(_code_cells(path)) if CHECK in _tags(c) and not c.get("outputs")]
    assert not missing, f"{path.name}: cells {missing} are tagged {CHECK} but have no stored output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_one_clean_top_to_bottom_run(path):
    cells = _code_cells(path)
    counts = [c["execution_count"] for c in cells if "skip-execution" not in _tags(c)]
    assert None not in counts, f"{path.name}: some code cells were never run"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom once: {counts}"
    errors = [
        i
        for i, c in enumerate(cells)
        if "raises-exception" not in _tags(c) and any(o["output_type"] == "error" for o in c["outputs"])
    ]
    assert not errors, f"{path.name}: cells {errors} stored an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_carries_no_widget_state(path):
    assert path.stat().st_size < 3_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB (limit 3 MB)"
    assert "widgets" not in json.loads(path.read_text(encoding="utf-8"))["metadata"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_some_cells_are_compared_by_nbval(path):
    assert any(CHECK in _tags(c) for c in _code_cells(path)), f"{path.name}: nbval would compare nothing"


def _tiny_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.environ['GAN_HELPERS_FAST'], 6 * 7)")]
    path = folder / "00_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_series_runner_writes_executed_copies_and_leaves_the_originals(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_HELPERS_FAST", "0")
    source = _tiny_notebook(tmp_path)
    before = source.read_bytes()
    runs = series.run_series(tmp_path, tmp_path / "build", fast=True, timeout=120)
    assert source.read_bytes() == before
    executed = nbformat.read(runs[0].output, as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "1 42\n"
    assert json.loads((tmp_path / "build" / "timings.json").read_text())["fast"] == "1"


def test_series_runner_names_missing_notebooks(tmp_path):
    _tiny_notebook(tmp_path)
    with pytest.raises(FileNotFoundError, match="No notebook matches"):
        series.find_notebooks(tmp_path, ["07"])
    with pytest.raises(FileNotFoundError, match="NN_topic"):
        series.find_notebooks(tmp_path / "empty")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_progress_bar_reads_as_frozen(path):
    """A stored tqdm widget shows its first frame ("0%") to a reader without a kernel: the runner drops it."""
    bars = [i for i, c in enumerate(_code_cells(path)) for o in c.get("outputs", []) if series.is_progress_bar(o)]
    assert not bars, f"{path.name}: code cells {bars} store a progress bar; regenerate it with gan_helpers series"


def test_the_runner_drops_progress_bars_and_keeps_other_outputs():
    nb = nbformat.v4.new_notebook()
    view = "application/vnd.jupyter.widget-view+json"
    bar = nbformat.v4.new_output(
        "display_data", data={view: {"model_id": "x"}, "text/plain": "  0%|   | 0/60 [00:00<?, ?it/s]"}
    )
    slider = nbformat.v4.new_output("display_data", data={view: {"model_id": "y"}, "text/plain": "IntSlider()"})
    line = nbformat.v4.new_output("stream", name="stdout", text="done: 60 steps\n")
    nb.cells = [nbformat.v4.new_code_cell("train()", outputs=[bar, slider, line])]
    nb.metadata["widgets"] = {"state": {}}
    series.strip_volatile_metadata(nb)
    assert nb.cells[0].outputs == [slider, line] and "widgets" not in nb.metadata
