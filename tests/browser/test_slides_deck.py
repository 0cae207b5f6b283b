"""The offline deck of 01_gan_objective (much math) in a real browser: every slide there, math typeset, no network.

The deck is built from a copy of the notebook into a temporary folder and opened from ``file://``; every request to
anything else is aborted and recorded, so a CDN left in the template or an output fails the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lab import REPO, REQUIRED_ENV

from gan_helpers import slides

NOTEBOOK = "01_gan_objective.ipynb"
CACHE = REPO / "build" / "cache"  # where `make slides` keeps the asset tarballs

# The rendered text of the slides, less code, typeset math and speaker notes: raw TeX left here was never typeset.
_PROSE_TEXT = """() => {
  const skip = "pre, code, script, style, mjx-container, aside.notes";
  const walker = document.createTreeWalker(document.querySelector(".reveal .slides"), NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest(skip)) parts.push(walker.currentNode.textContent);
  }
  return parts.join(" ");
}"""


@dataclass
class OpenDeck:
    """A deck open in Chromium: the page, what it asked the network for, and the console's errors."""

    page: Any
    types: list[str]
    remote: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def deck_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The deck of a copy of the notebook, and the slide types the rule gives its cells."""
    if not shutil.which("npm") and not all((CACHE / a.tarball).is_file() for a in slides.ASSETS):
        message = f"the deck needs npm (Node.js) once, or the asset tarballs in {CACHE}"
        if os.environ.get(REQUIRED_ENV, "").strip() == "1":
            pytest.fail(f"{REQUIRED_ENV}=1 but {message}")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("slides")
    shutil.copy(REPO / "notebooks" / NOTEBOOK, folder / NOTEBOOK)
    deck = slides.build_deck(folder / NOTEBOOK, folder / "out", CACHE)
    return deck, slides.slide_types(nbformat.read(folder / NOTEBOOK, as_version=4))


@pytest.fixture(scope="module")
def deck(browser: Any, deck_file: tuple[Path, list[str]]) -> Iterator[OpenDeck]:
    path, types = deck_file
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    opened = OpenDeck(page, types)

    def only_local(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.remote.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("requestfailed", lambda r: opened.failed.append(r.url))
    page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.console_errors.append(f"page error: {e}"))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.Reveal?.isReady() && window.MathJax?.startup?.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")  # resolves once the whole page is typeset
    yield opened
    page.close()


def test_the_deck_fetches_nothing_from_the_network(deck):
    assert deck.remote == [], f"the deck asked the network for {deck.remote}"
    assert deck.failed == [], f"these files did not load: {deck.failed}"


def test_reveal_counts_the_slides_the_headings_make(deck):
    horizontal, total = slides.slide_counts(deck.types)
    assert total > horizontal > 1  # the notebook has ## sections and ### parts: both kinds are exercised
    assert deck.page.evaluate("() => Reveal.getTotalSlides()") == total
    assert deck.page.evaluate("() => Reveal.getHorizontalSlides().length") == horizontal


def test_math_is_typeset_and_no_raw_tex_shows(deck):
    page = deck.page
    assert page.evaluate("() => document.querySelectorAll('.reveal mjx-container').length") > 50
    assert page.evaluate("() => document.querySelectorAll('mjx-merror, [data-mjx-error]').length") == 0
    prose = page.evaluate(_PROSE_TEXT)
    for raw in ("$$", "\\frac", "\\mathbb", "\\begin{"):
        assert raw not in prose, f"raw TeX {raw!r} is visible: ...{prose[max(0, prose.find(raw) - 80) :][:200]}..."


def test_a_slide_with_display_math_shows_it_on_screen(deck):
    page = deck.page
    where = page.evaluate(
        "() => Reveal.getIndices(document.querySelector('mjx-container[display=\"true\"]').closest('section'))"
    )
    page.evaluate(f"() => Reveal.slide({where['h']}, {where['v'] or 0})")
    page.wait_for_function("() => document.querySelector('section.present mjx-container[display=\"true\"]')")
    box = page.locator("section.present mjx-container[display='true']").first.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 10, box


def test_no_console_errors(deck):
    assert deck.console_errors == []
