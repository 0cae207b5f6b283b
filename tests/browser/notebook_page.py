"""A notebook open in JupyterLab, seen and operated as a person would: run all, read outputs, move controls.

The page's JupyterLab application object (``window.jupyterapp``, exposed by the server flag
``--LabApp.expose_app_in_browser``) tells when the kernel is idle and what every cell's outputs are;
everything a test *does* goes through the page (keys, clicks, selects), as a person would.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from lab import non_white_fraction

from gan_helpers.series import is_progress_bar

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_CURRENT = "window.jupyterapp.shell.currentWidget"
_KERNEL_IDLE = f"{_CURRENT}?.sessionContext?.session?.kernel?.status === 'idle'"
_CELLS_JSON = f"""() => {{
    const nb = {_CURRENT}.content.model;
    const cells = [];
    for (let i = 0; i < nb.cells.length; i++) {{ cells.push(nb.cells.get(i).toJSON()); }}
    return cells;
}}"""


@dataclass
class NotebookPage:
    """One notebook open in a Playwright page, with the browser console's errors collected."""

    page: Any
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Any, url: str, timeout_s: float = 120) -> NotebookPage:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        opened = cls(page)
        page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.console_errors.append(f"page error: {e}"))
        page.goto(url)
        # The file is loaded into the model (outputs included) once the document context is ready.
        page.wait_for_function(
            f"() => {_CURRENT}?.context?.isReady && {_CURRENT}.content?.model?.cells?.length > 0",
            timeout=timeout_s * 1000,
        )
        return opened

    def wait_for_kernel(self, timeout_s: float = 120) -> None:
        self.page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=timeout_s * 1000)

    def run_all(self, timeout_s: float = 900) -> None:
        """Run every cell and wait until each code cell has an execution count and the kernel is idle."""
        self.wait_for_kernel()
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            cells = self.cells()
            done = all(c.get("execution_count") for c in cells if c["cell_type"] == "code" and c["source"].strip())
            if done and self.page.evaluate(f"() => {_KERNEL_IDLE}"):
                return
            self.page.wait_for_timeout(1000)
        raise TimeoutError(f"the notebook did not finish within {timeout_s:.0f} s")

    def cells(self) -> list[dict]:
        return self.page.evaluate(_CELLS_JSON)

    def error_outputs(self) -> list[str]:
        """``"cell N: Name: message"`` for every error output of the notebook."""
        return [
            f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
            for i, c in enumerate(self.cells())
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]

    def widget_cell_indices(self) -> list[int]:
        """The cells that show a widget (progress bars aside)."""
        return [
            i
            for i, c in enumerate(self.cells())
            if any(WIDGET_MIME in o.get("data", {}) and not is_progress_bar(o) for o in c.get("outputs", []))
        ]

    def cell(self, index: int) -> Any:
        """The locator of code/markdown cell ``index`` (scrolled into view)."""
        locator = self.page.locator(".jp-Notebook .jp-Cell").nth(index)
        locator.scroll_into_view_if_needed()
        return locator


def image_sources(area: Any) -> list[str]:
    """The ``src`` of every image shown in ``area`` (a locator)."""
    return area.locator("img").evaluate_all("els => els.map(e => e.getAttribute('src') || '')")


def png_non_white(src: str) -> float:
    """:func:`lab.non_white_fraction` of a ``data:image/png;base64,...`` source (0 if it is not one)."""
    if not src.startswith("data:image/png;base64,"):
        return 0.0
    return non_white_fraction(base64.b64decode(src.split(",", 1)[1]))


def wait_for_new_image(area: Any, before: list[str], timeout_s: float = 300) -> list[str]:
    """Wait until ``area`` shows at least one image whose source is not among ``before``; return the sources."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = image_sources(area)
        if any(src not in before for src in now):
            area.page.wait_for_timeout(300)  # let the output settle (clear_output(wait=True) then display)
            return image_sources(area)
        area.page.wait_for_timeout(250)
    raise TimeoutError(f"no new figure appeared within {timeout_s:.0f} s")


def wait_for_enabled(area: Any, selector: str, timeout_s: float = 300) -> None:
    """Wait until every element matching ``selector`` in ``area`` is enabled again (training finished)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not area.locator(f"{selector}:disabled").count():
            return
        area.page.wait_for_timeout(250)
    raise TimeoutError(f"{selector} stayed disabled for {timeout_s:.0f} s")
