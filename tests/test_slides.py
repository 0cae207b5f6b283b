"""Lecture mode: slide metadata follows the headings, tagging touches nothing else, and decks open offline.

The deck tests need the pinned reveal.js, MathJax and Font Awesome tarballs: they are kept in ``build/cache`` (as
``make slides`` keeps them) and fetched there once with ``npm pack``; without npm and without them, those tests skip.
"""

from __future__ import annotations

import copy
import difflib
import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from gan_helpers import cli, slides

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CACHE = REPO / "build" / "cache"


def _cell(cell: nbformat.NotebookNode, tags: list[str] | None = None) -> nbformat.NotebookNode:
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _lecture() -> nbformat.NotebookNode:
    """A small notebook with every case of the rule; its deck has 3 horizontal slides, 4 in all."""
    printed = new_output("stream", name="stdout", text="printed 42\n")
    return new_notebook(
        cells=[
            new_markdown_cell("# A lecture\n\nInline math $x^2 + y^2$."),  # slide
            _cell(new_code_cell("import secrets_setup", outputs=[printed]), [slides.SKIP_TAG]),  # skip
            new_code_cell("print(42)", outputs=[printed]),  # -
            new_markdown_cell("\n## The objective\n\n$$\\min_G \\max_D V(D, G)$$"),  # slide (blank first line)
            new_markdown_cell("### A detail"),  # subslide
            new_markdown_cell("#### A small heading"),  # -
            _cell(new_markdown_cell("Say: NOTE-TEXT"), [slides.NOTES_TAG]),  # notes
            _cell(new_markdown_cell("## SKIPPED-HEADING"), [slides.SKIP_TAG, slides.NOTES_TAG]),  # skip wins
            new_markdown_cell("#hashtag is not a heading"),  # -
            new_raw_cell("## a raw cell is not Markdown"),  # -
            new_markdown_cell("## Summary"),  # slide
        ]
    )


LECTURE_TYPES = ["slide", "skip", "-", "slide", "subslide", "-", "notes", "skip", "-", "-", "slide"]


def test_the_rule_on_a_synthetic_notebook():
    nb = _lecture()
    assert slides.slide_types(nb) == LECTURE_TYPES
    assert slides.slide_counts(LECTURE_TYPES) == (3, 4)


def test_slide_counts_follow_nbconvert_for_the_first_visible_cell():
    # the first cell that shows opens the first slide whatever its type; skipped cells and notes never count
    assert slides.slide_counts(["skip", "-", "-", "subslide", "slide"]) == (2, 3)
    assert slides.slide_counts(["notes", "subslide", "subslide"]) == (1, 2)
    assert slides.slide_counts(["skip", "notes"]) == (0, 0)


def test_tagging_writes_the_rule_and_is_idempotent():
    nb = _lecture()
    assert slides.tag_notebook(nb) is True
    stored = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    assert stored == LECTURE_TYPES
    assert all("slideshow" not in c.metadata for c, t in zip(nb.cells, LECTURE_TYPES, strict=True) if t == "-")
    again = copy.deepcopy(nb)
    assert slides.tag_notebook(again) is False and again == nb


def test_tagging_changes_only_the_slide_type():
    nb = _lecture()
    nb.cells[2].metadata["slideshow"] = {"slide_type": "slide", "data": {"transition": "zoom"}}  # stale, plus a key
    nb.cells[2].metadata["scrolled"] = True
    nb.cells[2].execution_count = 7
    nb.cells[4].metadata["slideshow"] = {"slide_type": "-"}  # explicit continue: normalised away, not kept
    nb.metadata["title"] = "kept"
    before = copy.deepcopy(nb)
    assert slides.tag_notebook(nb) is True
    assert nb.cells[2].metadata["slideshow"] == {"data": {"transition": "zoom"}}
    assert nb.cells[4].metadata["slideshow"] == {"slide_type": "subslide"}

    def without_slideshow(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
        notebook = copy.deepcopy(notebook)
        for cell in notebook.cells:
            cell.metadata.get("slideshow", {}).pop("slide_type", None)
            if cell.metadata.get("slideshow") == {}:
                del cell.metadata["slideshow"]
        return notebook

    assert without_slideshow(nb) == without_slideshow(before)  # sources, outputs, counts, other metadata: the same


# JSON lines a re-tag may add or remove: slideshow metadata, and the braces and commas around it.
_METADATA_LINE = re.compile(r'^\s*("metadata": \{\}|"metadata": \{|"slideshow": \{|"slide_type": "[a-z-]+"|\})$')


@pytest.mark.parametrize("name", ["00_welcome.ipynb", "01_gan_objective.ipynb"])
def test_retagging_a_real_notebook_changes_only_slideshow_lines(tmp_path, name):
    original = (REPO / "notebooks" / name).read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_text(original, encoding="utf-8")
    untagged = nbformat.reads(original, as_version=4)
    for cell in untagged.cells:  # the test holds whether or not the committed notebook is tagged yet
        cell.metadata.pop("slideshow", None)
    nbformat.write(untagged, path)
    first = path.read_text(encoding="utf-8")
    assert slides.tag_notebooks([path]) == [path]
    tagged = path.read_text(encoding="utf-8")
    lines = [[line.rstrip(",") for line in text.splitlines()] for text in (first, tagged)]  # a comma may move
    changed = [line[2:] for line in difflib.ndiff(*lines) if line[:2] in ("- ", "+ ")]
    assert changed and all(_METADATA_LINE.match(line) for line in changed), [
        line for line in changed if not _METADATA_LINE.match(line)
    ]
    assert json.loads(tagged)["cells"][0]["metadata"]["slideshow"] == {"slide_type": "slide"}
    assert slides.tag_notebooks([path]) == [] and path.read_text(encoding="utf-8") == tagged  # not written again


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_slide_metadata_follows_the_headings(path):
    nb = nbformat.read(path, as_version=4)
    stored = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    wrong = [
        f"cell {i}: {s} (should be {w})"
        for i, (s, w) in enumerate(zip(stored, slides.slide_types(nb), strict=True))
        if s != w
    ]
    changed = slides.tag_notebook(nb)
    assert not changed, (
        f"{path.name}: slide metadata differs from the headings ({'; '.join(wrong[:5]) or 'stray keys'}): "
        "run python -m gan_helpers slides --tag"
    )


def test_remote_resources_counts_what_a_page_fetches_not_its_links():
    page = """<html><head>
    <link rel="stylesheet" href="//cdn.example.org/a.css"><style>@import url("https://fonts.example.org/b.css");</style>
    <script src="assets/local.js"></script><script>import("https://esm.example.org/c.mjs");</script>
    </head><body>
    <a href="https://arxiv.org/abs/1406.2661">the paper</a>
    <img src="https://example.org/d.png"><img src="data:image/png;base64,AAAA">
    <img srcset="e.png 1x, http://example.org/e2.png 2x"><div style="background: url(http://example.org/f.png)"></div>
    <svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.org/g.svg"/></svg>
    <script>var ns = "http://www.w3.org/2000/svg";</script>
    </body></html>"""
    assert slides.remote_resources(page) == [
        "//cdn.example.org/a.css",
        "http://example.org/e2.png",
        "http://example.org/f.png",
        "https://esm.example.org/c.mjs",
        "https://example.org/d.png",
        "https://example.org/g.svg",
        "https://fonts.example.org/b.css",
    ]


# --- decks ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def asset_cache() -> Path:
    """``build/cache`` holding the pinned tarballs, or a skip saying how to get them."""
    have = all((CACHE / asset.tarball).is_file() for asset in slides.ASSETS)
    if not have and shutil.which("npm") is None:
        pytest.skip(
            f"deck tests need npm (Node.js), or the tarballs of {[a.tarball for a in slides.ASSETS]} in {CACHE}"
        )
    return CACHE


def _sections(page: str) -> int:
    return len(re.findall(r"<section\b", page))


def test_a_synthetic_deck_opens_offline_with_its_slides_and_math(tmp_path, asset_cache):
    notebook = tmp_path / "lecture.ipynb"
    nbformat.write(_lecture(), notebook)  # untagged: the deck applies the rule itself
    deck = slides.build_deck(notebook, tmp_path / "out", asset_cache)
    assert deck == tmp_path / "out" / "lecture.slides.html"
    page = deck.read_text(encoding="utf-8")
    assert slides.remote_resources(page) == []
    horizontal, total = slides.slide_counts(LECTURE_TYPES)
    assert _sections(page) == horizontal + total  # an outer <section> per slide, an inner one per (sub)slide
    assert "x^2 + y^2" in page and html.escape("\\min_G \\max_D V(D, G)", quote=False) in page
    assert "secrets_setup" not in page and "SKIPPED-HEADING" not in page
    assert re.search(r'<aside class="notes">.*?NOTE-TEXT.*?</aside>', page, re.S)
    for asset in slides.ASSETS:
        for name in asset.files:
            assert (tmp_path / "out" / "assets" / asset.folder / name).exists()
    linked = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page)
    assert linked and all((deck.parent / url).is_file() for url in linked), linked


def test_a_real_notebook_deck_has_no_remote_url_and_keeps_its_math(tmp_path, asset_cache):
    notebook = tmp_path / "00_welcome.ipynb"
    shutil.copy(REPO / "notebooks" / "00_welcome.ipynb", notebook)
    deck = slides.build_deck(notebook, tmp_path / "out", asset_cache)
    page = deck.read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)
    assert slides.remote_resources(page) == [] and not re.search(r'\ssrc="(?:https?:)?//', page)
    assert _sections(page) == sum(slides.slide_counts(slides.slide_types(nb)))
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    math = re.findall(r"\$([^$\n]+)\$", markdown)
    assert math and all(html.escape(tex, quote=False) in page or tex in page for tex in math[:10])


def test_a_remote_resource_fails_the_build_until_its_cell_is_skipped(tmp_path, asset_cache):
    nb = _lecture()
    remote = new_output("display_data", data={"text/html": '<img src="https://example.org/plot.png">'})
    nb.cells.append(new_code_cell("show()", outputs=[remote]))
    notebook = tmp_path / "remote.ipynb"
    nbformat.write(nb, notebook)
    with pytest.raises(slides.DeckError, match=r"https://example\.org/plot\.png.*slides-skip"):
        slides.build_deck(notebook, tmp_path / "out", asset_cache)
    assert not (tmp_path / "out" / "remote.slides.html").exists()
    nb.cells[-1].metadata["tags"] = [slides.SKIP_TAG]
    nbformat.write(nb, notebook)
    assert slides.build_deck(notebook, tmp_path / "out", asset_cache).is_file()


def test_matplotlib_animation_icons_come_from_the_local_font_awesome(tmp_path, asset_cache):
    link = '<link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">'
    nb = _lecture()
    nb.cells.append(new_code_cell("anim", outputs=[new_output("execute_result", data={"text/html": link + "<i>"})]))
    notebook = tmp_path / "anim.ipynb"
    nbformat.write(nb, notebook)
    page = slides.build_deck(notebook, tmp_path / "out", asset_cache).read_text(encoding="utf-8")
    assert 'href="assets/font-awesome-4.7.0/css/font-awesome.min.css"' in page and "bootstrapcdn" not in page


def test_the_command_line_tags_and_builds(tmp_path, asset_cache, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(_lecture(), folder / "00_lecture.ipynb")
    nbformat.write(_lecture(), folder / "01_other.ipynb")
    assert cli.main(["slides", "--tag", "--notebooks", str(folder), "00"]) == 0
    assert "rewritten in 1 of 1" in capsys.readouterr().out
    assert slides.tag_notebook(nbformat.read(folder / "00_lecture.ipynb", as_version=4)) is False
    assert slides.tag_notebook(nbformat.read(folder / "01_other.ipynb", as_version=4)) is True  # not named
    out = tmp_path / "decks"
    argv = ["slides", "--notebooks", str(folder), "--out", str(out), "--cache", str(asset_cache)]
    assert cli.main(argv) == 0
    assert sorted(p.name for p in out.glob("*.html")) == ["00_lecture.slides.html", "01_other.slides.html"]
    assert "2 deck(s)" in capsys.readouterr().out


def test_a_notebook_with_every_cell_skipped_is_refused_in_one_line(tmp_path, asset_cache):
    nb = new_notebook(cells=[_cell(new_markdown_cell("# Only setup"), [slides.SKIP_TAG])])
    nbformat.write(nb, tmp_path / "00_hidden.ipynb")
    with pytest.raises(slides.DeckError, match="All cells are hidden"):
        slides.build_deck(tmp_path / "00_hidden.ipynb", tmp_path / "out", asset_cache)


def test_a_cached_tarball_that_is_not_the_pinned_one_is_never_used(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    for asset in slides.ASSETS:
        (cache / asset.tarball).write_bytes(b"not the pinned tarball")
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no npm: the bad file must not be taken instead
    with pytest.raises(slides.DeckError, match=r"install Node\.js and npm"):
        slides.install_assets(tmp_path / "out", cache)
    assert not list((tmp_path / "out").rglob("*.js"))
