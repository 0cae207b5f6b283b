"""Every widget of the series, operated in JupyterLab in a real browser (headless Chromium), in fast mode.

What a person would check: the notebook runs with no error output, each control changes what is
shown, every figure that should show has non-blank pixels (the first press of *Train* included: it
once drew an empty frame, a bug no kernel-only test can see), no "Error displaying widget", no
browser console errors. And what a reader sees of a committed notebook that has not been run: a
picture in every widget cell, no progress bar frozen at 0%.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from lab import REPO, lab_server
from notebook_page import NotebookPage, image_sources, png_non_white, wait_for_new_image

WIDGET_NOTEBOOKS = [
    "00_welcome",
    "01_gan_objective",
    "02_toy_gan_1d",
    "03_mode_collapse_2d",
    "05_dcgan_mnist",
    "07_conditional_gan",
]
MIN_INK = 0.01
"""A figure counts as drawn when at least this share of its pixels is not white (an empty frame: about 0.001)."""

FIRST_PRESS_SHOWS = {"02_toy_gan_1d": "settings: lr of D 0.001, lr of G 0.02, k 1,"}
"""Text the first press of *Train* must print: the notebook's own settings, unchanged by the browser."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """JupyterLab serving two copies of the committed notebooks: ``run/``, which the tests run (and JupyterLab
    autosaves), and ``read/``, which they only open, so a reader's view is never one a run has saved."""
    root = tmp_path_factory.mktemp("lab") / "served"
    for folder in ("run", "read"):
        shutil.copytree(REPO / "notebooks", root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with lab_server(root) as server:
        yield server


def _ink(area: Any) -> list[float]:
    return [png_non_white(src) for src in image_sources(area)]


def _clear_images(area: Any) -> None:
    """Remove the figures shown in ``area``, so the next one that appears is known to be new."""
    area.evaluate("el => el.querySelectorAll('img').forEach(img => img.remove())")


def _redraws(area: Any, action: Any, what: str, must_change: bool = True) -> None:
    """Do ``action`` and assert a non-blank figure appears in ``area`` (a different one, if ``must_change``)."""
    before = image_sources(area)
    _clear_images(area)
    action()
    now = wait_for_new_image(area, [])
    inks = [png_non_white(src) for src in now]
    assert inks and max(inks) > MIN_INK, f"{what}: the figure is blank (ink {inks})"
    assert now != before or not must_change, f"{what}: the figure did not change"


def _controls(area: Any) -> list[tuple[str, Any]]:
    """``(kind, locator)`` for every slider handle, dropdown and number box in ``area``."""
    found = [("slider", h) for h in area.locator(".noUi-handle").all()]
    found += [("dropdown", s) for s in area.locator("select").all()]
    found += [("number", t) for t in area.locator("input[type=number]").all()]
    return found


def _change(kind: str, control: Any) -> str:
    """Change one control as a person would; return a description. Asserts the control took the change."""
    if kind == "slider":
        before = control.get_attribute("aria-valuenow")
        control.focus()
        control.press("ArrowRight")
        if control.get_attribute("aria-valuenow") == before:  # at its maximum
            control.press("ArrowLeft")
        after = control.get_attribute("aria-valuenow")
        assert after != before, f"slider stayed at {before}"
        return f"slider {before} -> {after}"
    if kind == "dropdown":
        options = control.locator("option").all_text_contents()
        index = control.evaluate("el => el.selectedIndex")
        control.select_option(index=(index + 1) % len(options))
        return f"dropdown {options[index]!r} -> {options[(index + 1) % len(options)]!r}"
    value = int(control.input_value())
    control.fill(str(value + 1))
    control.press("Enter")
    return f"number {value} -> {value + 1}"


def _operate_explorer(nb: NotebookPage, index: int, name: str) -> None:
    """Check the initial view, then move every control (and press *Train*, twice) and check what changes."""
    area = nb.cell(index).locator(".jp-Cell-outputArea")
    area.locator(".widget-box").first.wait_for(timeout=60_000)
    assert max(_ink(area), default=0) > MIN_INK, f"cell {index}: the widget's initial view has no picture"
    train = area.locator("button", has_text="Train")
    if train.count():
        _redraws(area, train.click, f"cell {index} first press")
        if name in FIRST_PRESS_SHOWS:
            assert FIRST_PRESS_SHOWS[name] in area.inner_text(), area.inner_text()
        # The same settings again: the same run, so the same figure (drawn again, not blank).
        _redraws(area, train.click, f"cell {index} second press", must_change=False)
        for kind, control in _controls(area):
            _change(kind, control)
        _redraws(area, train.click, f"cell {index} press after changing every control")
    else:
        for kind, control in _controls(area):
            _redraws(area, lambda k=kind, c=control: _change(k, c), f"cell {index} {kind}")


@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_every_widget_answers_in_the_browser(lab: Any, browser: Any, name: str) -> None:
    nb = NotebookPage.open(browser, lab.notebook_url(f"run/{name}.ipynb"))
    try:
        nb.run_all()
        assert nb.error_outputs() == []
        cells = nb.widget_cell_indices()
        assert cells, f"{name} shows no widget"
        for index in cells:
            _operate_explorer(nb, index, name)
        assert "Error displaying widget" not in nb.page.inner_text("body")
        assert nb.console_errors == []
    finally:
        nb.page.close()


READER_NOTEBOOKS = ["02_toy_gan_1d", "05_dcgan_mnist"]
FROZEN_BAR = re.compile(r"\b0%\|")


@pytest.mark.parametrize("name", READER_NOTEBOOKS)
def test_a_committed_notebook_reads_well_without_running(lab: Any, browser: Any, name: str) -> None:
    """Opened as committed (not run): every widget cell shows a picture, no bar is frozen at 0%, no image is broken."""
    nb = NotebookPage.open(browser, lab.notebook_url(f"read/{name}.ipynb"))
    try:
        cells = nb.widget_cell_indices()
        assert cells, f"{name} stores no widget output"
        for index in cells:
            area = nb.cell(index).locator(".jp-Cell-outputArea")
            area.locator("img").first.wait_for(timeout=30_000)
            assert max(_ink(area), default=0) > MIN_INK, f"cell {index}: no picture where the widget is"
        animations = [
            i
            for i, c in enumerate(nb.cells())
            for o in c.get("outputs", [])
            if "".join(o.get("data", {}).get("text/plain", "")).startswith("<animation:")
        ]
        assert animations, f"{name} stores no animation"
        for index in animations:  # untrusted: the player's script is stripped, its poster strip stays
            area = nb.cell(index).locator(".jp-Cell-outputArea")
            area.locator("img").first.wait_for(timeout=30_000)
            assert max(_ink(area), default=0) > MIN_INK, f"cell {index}: the animation shows no poster"
        nb.page.locator(".jp-Notebook").evaluate("el => el.scrollTop = el.scrollHeight")
        outputs = "\n".join(nb.page.locator(".jp-OutputArea").all_inner_texts())
        assert not FROZEN_BAR.search(outputs), "a progress bar frozen at 0% is stored"
        broken = nb.page.evaluate(
            "() => [...document.querySelectorAll('.jp-OutputArea img')].filter(i => i.complete && !i.naturalWidth)"
            ".map(i => (i.getAttribute('src') || '').slice(0, 40))"
        )
        assert broken == []
        assert "Error displaying widget" not in nb.page.inner_text("body")
    finally:
        nb.page.close()
