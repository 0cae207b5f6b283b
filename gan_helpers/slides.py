r"""Lecture slides from the notebooks: slide metadata written from their structure, and offline reveal.js decks.

The rule (:func:`slide_types`), one ``metadata.slideshow.slide_type`` per cell, as RISE (live slides in JupyterLab)
and nbconvert's reveal.js export both read it:

* a Markdown cell whose first non-blank line is a ``#`` or ``##`` heading starts a new slide (``"slide"``);
* a ``###`` heading starts a sub-slide (``"subslide"``): reveal.js stacks it *below* its slide (the down arrow),
  so a section's parts stay one step right of each other and the deck's overview reads like the table of contents;
* a cell tagged ``slides-skip`` is left out of the slides (``"skip"``), whatever it holds: for the setup cell,
  long outputs and maintenance cells; a skipped heading starts no slide;
* a cell tagged ``slides-notes`` becomes speaker notes (``"notes"``): in the speaker view (``S``; RISE: ``T``), never
  on the slide (``slides-skip`` wins when a cell has both tags);
* every other cell continues the current slide (``"-"``, stored as no ``slide_type`` at all, so a new plain cell
  needs no tagging).

:func:`tag_notebooks` writes the rule into the notebooks (``python -m gan_helpers slides --tag``) and touches only
the ``slideshow`` metadata, so slides never drift from the headings by hand. :func:`build_deck` exports a
notebook as a reveal.js deck that opens offline: reveal.js, MathJax 3 (SVG output) and Font Awesome (the buttons of
matplotlib's animations) are copied beside the HTML from pinned npm tarballs (fetched once with ``npm pack`` into a
cache, checked against their sha512), nbconvert's template is stripped of its CDN scripts (require.js, jQuery,
mermaid, widgets), and a deck that would still fetch an ``http(s)`` resource is refused (:func:`remote_resources`).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from gan_helpers.files import atomic_path, atomic_write_text

__all__ = [
    "ASSETS",
    "NOTES_TAG",
    "SKIP_TAG",
    "DeckError",
    "NpmAsset",
    "add_parser",
    "build_deck",
    "install_assets",
    "remote_resources",
    "slide_counts",
    "slide_type",
    "slide_types",
    "tag_notebook",
    "tag_notebooks",
]

SKIP_TAG = "slides-skip"
NOTES_TAG = "slides-notes"
CONTINUE = "-"
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")  # a CommonMark ATX heading: "## Title", not "#hashtag"


class DeckError(ValueError):
    """A deck cannot be built to open offline (a remote resource remains, or its assets cannot be had)."""


# --- the rule ---------------------------------------------------------------------------------------------------


def _heading_level(source: str) -> int | None:
    """The level of the ATX heading on the first non-blank line of ``source``, or None."""
    for line in source.splitlines():
        if line.strip():
            match = _HEADING.match(line)
            return len(match.group(1)) if match else None
    return None


def slide_type(cell: nbformat.NotebookNode) -> str:
    """The ``slide_type`` that ``cell`` should have by the module's rule: slide, subslide, skip, notes or ``-``."""
    tags = cell.get("metadata", {}).get("tags", [])
    if SKIP_TAG in tags:
        return "skip"
    if NOTES_TAG in tags:
        return "notes"
    if cell.get("cell_type") == "markdown":
        level = _heading_level(cell.get("source", ""))
        if level in (1, 2):
            return "slide"
        if level == 3:
            return "subslide"
    return CONTINUE


def slide_types(nb: nbformat.NotebookNode) -> list[str]:
    """The ``metadata.slideshow.slide_type`` each cell of ``nb`` should have, in cell order (see the module)."""
    return [slide_type(cell) for cell in nb.cells]


def _stored_type(cell: nbformat.NotebookNode) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", CONTINUE)


def slide_counts(types: Sequence[str]) -> tuple[int, int]:
    """``(horizontal, total)`` slides of a deck whose cells have ``types``, as reveal.js counts them.

    As nbconvert and RISE build it: the first cell that is neither skipped nor notes opens the first slide, whatever
    its type; later ``slide`` cells open a horizontal slide, ``subslide`` cells a vertical one below it. ``total`` is
    what ``Reveal.getTotalSlides()`` reports (every vertical slide, the first of each stack included).
    """
    visible = [t for t in types if t not in ("skip", "notes")]
    if not visible:
        return 0, 0
    horizontal = 1 + sum(t == "slide" for t in visible[1:])
    return horizontal, horizontal + sum(t == "subslide" for t in visible[1:])


def tag_notebook(nb: nbformat.NotebookNode) -> bool:
    """Give every cell of ``nb`` the ``slide_type`` of :func:`slide_types`, in place; True if anything changed.

    Only ``metadata.slideshow.slide_type`` is touched: a continuing cell (``-``) loses the key, and the
    ``slideshow`` dict goes with it once empty; sources, outputs, other metadata and other ``slideshow`` keys stay.
    """
    changed = False
    for cell, wanted in zip(nb.cells, slide_types(nb), strict=True):
        metadata = cell.setdefault("metadata", nbformat.NotebookNode())
        before = copy.deepcopy(metadata.get("slideshow"))
        slideshow = metadata.get("slideshow", nbformat.NotebookNode())
        if wanted == CONTINUE:
            slideshow.pop("slide_type", None)
        else:
            slideshow["slide_type"] = wanted
        if slideshow:
            metadata["slideshow"] = slideshow
        else:
            metadata.pop("slideshow", None)
        changed |= metadata.get("slideshow") != before
    return changed


def tag_notebooks(paths: Iterable[Path]) -> list[Path]:
    """Tag each notebook file (:func:`tag_notebook`) and write back only those that changed; returns them.

    Read and written with nbformat as :mod:`gan_helpers.series` does (same JSON layout), atomically, so a re-tag
    shows in ``git diff`` as the ``slideshow`` lines only.
    """
    written = []
    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        if tag_notebook(nb):
            with atomic_path(path) as tmp:
                nbformat.write(nb, tmp)
            written.append(path)
    return written


# --- offline assets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NpmAsset:
    """A pinned npm package the deck copies files of: ``files`` are paths (files or folders) inside the package."""

    name: str
    version: str
    integrity: str  # npm's dist.integrity: "sha512-" and the base64 SHA-512 of the tarball
    files: tuple[str, ...]

    @property
    def folder(self) -> str:
        """Where its files go under the deck's ``assets/`` folder."""
        return f"{self.name}-{self.version}"

    @property
    def tarball(self) -> str:
        """The file name ``npm pack`` gives it."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


REVEAL = NpmAsset(
    "reveal.js",
    "5.2.1",
    "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==",
    ("dist/reveal.css", "dist/reveal.js", "dist/theme/white.css", "dist/theme/fonts/source-sans-pro",
     "plugin/notes/notes.js"),
)  # fmt: skip
MATHJAX = NpmAsset(  # version 3: its tex-svg-full.js is one file holding every TeX extension and its fonts
    "mathjax",
    "3.2.2",
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    ("es5/tex-svg-full.js",),
)
FONT_AWESOME = NpmAsset(  # the icons of matplotlib's to_jshtml animation buttons, which link 4.4.0 from a CDN
    "font-awesome",
    "4.7.0",
    "sha512-U6kGnykA/6bFmg1M/oT9EkFeIYv7JlX3bozwQJWiiLz6L0w3F5vBVPxHlwyX/vtNq1ckcpRKOB9f2Qal/VtFpg==",
    ("css/font-awesome.min.css", "fonts/fontawesome-webfont.woff2", "fonts/fontawesome-webfont.woff"),
)
ASSETS = (REVEAL, MATHJAX, FONT_AWESOME)
THEME = "white"  # its fonts ship with reveal.js; "simple", nbconvert's default, imports Google Fonts
_COMPLETE = ".complete"


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _npm_pack(asset: NpmAsset, cache_dir: Path) -> Path:
    """Download ``asset``'s tarball into ``cache_dir`` with ``npm pack`` (the only step that needs the network)."""
    spec = f"{asset.name}@{asset.version}"
    npm = shutil.which("npm")
    if npm is None:
        raise DeckError(
            f"building slides needs {spec} once: install Node.js and npm (npm pack fetches it into {cache_dir}), "
            f"or put {asset.tarball} there yourself"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".npm-pack-") as tmp:
        command = [npm, "pack", spec, "--pack-destination", tmp, "--ignore-scripts", "--silent"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        packed = Path(tmp) / asset.tarball
        if result.returncode != 0 or not packed.is_file():
            raise DeckError(f"npm pack {spec} failed: {result.stderr.strip() or result.stdout.strip()}")
        target = cache_dir / asset.tarball
        with atomic_path(target) as part:
            shutil.copyfile(packed, part)
    return target


def _tarball(asset: NpmAsset, cache_dir: Path) -> Path:
    """``asset``'s verified tarball in ``cache_dir``, downloaded first when missing or not the pinned file."""
    path = cache_dir / asset.tarball
    if not (path.is_file() and _integrity(path) == asset.integrity):
        path = _npm_pack(asset, cache_dir)
        if _integrity(path) != asset.integrity:
            raise DeckError(f"{path} is not the pinned {asset.name}@{asset.version} (its sha512 differs)")
    return path


def _extract(asset: NpmAsset, tarball: Path, target: Path) -> None:
    """Copy ``asset.files`` out of the package tarball into ``target`` (regular files only, no path escapes)."""
    wanted = tuple(f"package/{name}" for name in asset.files)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            inside = member.name.removeprefix("./")
            if not member.isfile() or not any(inside == w or inside.startswith(w + "/") for w in wanted):
                continue
            relative = Path(inside).relative_to("package")
            if ".." in relative.parts:
                raise DeckError(f"{tarball} holds an unsafe path {member.name!r}")
            source = archive.extractfile(member)
            assert source is not None  # a regular file
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(source.read())
    missing = [name for name in asset.files if not (target / name).exists()]
    if missing:
        raise DeckError(f"{tarball} lacks {', '.join(missing)}")


def install_assets(out_dir: Path, cache_dir: Path) -> dict[str, str]:
    """Put every :data:`ASSETS` file under ``out_dir/assets/`` (once), fetching tarballs into ``cache_dir`` if need be.

    Returns each package name's folder relative to ``out_dir``, as the deck's HTML links it.
    """
    folders = {}
    for asset in ASSETS:
        target = Path(out_dir) / "assets" / asset.folder
        marker = target / _COMPLETE
        if not (marker.is_file() and marker.read_text() == asset.integrity):
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            _extract(asset, _tarball(asset, Path(cache_dir)), target)
            atomic_write_text(marker, asset.integrity)
        folders[asset.name] = f"assets/{asset.folder}"
    return folders


# --- the deck ---------------------------------------------------------------------------------------------------

# reveal/index.html.j2 without its remote scripts: require.js and jQuery (reveal.js is loaded by a plain script
# tag), mermaid (no notebook draws one) and the widget manager (widgets need a kernel; their stored image shows).
_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true, tags: "ams"},
  svg: {fontCache: "global"},
  options: {enableMenu: false}
};
</script>
<script src="{{ resources.mathjax_url }}"></script>
<style type="text/css">
/* a slide taller than the screen scrolls instead of being cut off */
.reveal .slides > section > section { max-height: 100%; overflow-y: auto; }
</style>
{%- endblock html_head_js_mathjax -%}
{%- block footer_js -%}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true,
  transition: "{{ resources.reveal.transition }}", slideNumber: "{{ resources.reveal.number or 'c/t' }}",
  width: {{ resources.reveal.width or 960 }}, height: {{ resources.reveal.height or 700 }},
  plugins: [RevealNotes]
});
</script>
{%- endblock footer_js -%}
"""
_TEMPLATE_NAME = "gan_helpers_slides.html.j2"

# Stylesheets that outputs link from a CDN, and the local copy that replaces each (as a path under FONT_AWESOME).
_LOCAL_STYLESHEETS = {
    re.compile(r"https?://[^\"'\s>]*/font-awesome/4\.\d+\.\d+/css/font-awesome(?:\.min)?\.css"): (
        FONT_AWESOME,
        "css/font-awesome.min.css",
    ),
}


def _use_local_stylesheets(nb: nbformat.NotebookNode, folders: dict[str, str]) -> None:
    """Point the HTML outputs' links to known CDN stylesheets (Font Awesome) at the deck's own copies."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html is None:
                continue
            text = "".join(html) if isinstance(html, list) else html
            for pattern, (asset, path) in _LOCAL_STYLESHEETS.items():
                text = pattern.sub(f"{folders[asset.name]}/{path}", text)
            output["data"]["text/html"] = text


_URL_IN_CSS = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
_URL_IN_SCRIPT = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""")
_FETCHED = {"src", "poster", "data", "background", "href", "xlink:href"}  # href: of link/image/use only


def _is_remote(url: str) -> bool:
    """Whether the browser would fetch ``url`` from the network (XML namespace names are never fetched)."""
    return re.match(r"^\s*(?:https?:)?//", url, re.IGNORECASE) is not None and not url.startswith("http://www.w3.org/")


def _css_urls(css: str) -> list[str]:
    return [a or b for a, b in _URL_IN_CSS.findall(css)]


class _ResourceFinder(HTMLParser):
    """Collects every URL an HTML page fetches by itself (links a reader clicks, ``<a href>``, are not fetched)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._inline: str | None = None  # "style" or "script" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.urls += _css_urls(value)
            elif name == "srcset":  # "small.png 1x, large.png 2x"
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name in _FETCHED and (not name.endswith("href") or tag in ("link", "image", "use")):
                self.urls.append(value)
        self._inline = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._inline = None

    def handle_data(self, data: str) -> None:
        if self._inline == "style":
            self.urls += _css_urls(data)
        elif self._inline == "script":  # a URL string in inline code may be fetched (an import, a script tag)
            self.urls += _URL_IN_SCRIPT.findall(data)


def remote_resources(html: str) -> list[str]:
    """The ``http(s)://`` and ``//host`` URLs that the page ``html`` would fetch when opened.

    Counted: ``src``, ``srcset``, ``poster``, ``data`` and ``background`` attributes, ``href`` of ``<link>``,
    ``<image>`` and ``<use>``, CSS ``url()`` and ``@import`` (style sheets and ``style`` attributes) and URL strings in
    inline scripts. Not counted: hyperlinks (``<a href>``), which load nothing until clicked.
    """
    finder = _ResourceFinder()
    finder.feed(html)
    finder.close()
    return sorted({url for url in finder.urls if _is_remote(url)})


def _check_offline(html: str, out_dir: Path, folders: dict[str, str], name: str) -> None:
    """Refuse a deck (or a style sheet of its assets) that would fetch anything from the network."""
    found = {f"{name}.slides.html": remote_resources(html)}
    for folder in folders.values():
        for css in sorted((out_dir / folder).rglob("*.css")):
            urls = _css_urls(css.read_text(encoding="utf-8"))
            found[str(css.relative_to(out_dir))] = sorted({url for url in urls if _is_remote(url)})
    remote = {where: urls for where, urls in found.items() if urls}
    if remote:
        listed = "; ".join(f"{where}: {', '.join(urls)}" for where, urls in remote.items())
        raise DeckError(
            f"the deck of {name} would fetch remote resources ({listed}): tag the cell that shows them "
            f"{SKIP_TAG!r}, or give gan_helpers.slides a local copy"
        )


def build_deck(notebook: Path, out_dir: Path, cache_dir: Path | None = None) -> Path:
    """Export ``notebook`` as ``out_dir/NAME.slides.html``, a reveal.js deck that opens offline; returns its path.

    The slides follow the module's rule (:func:`slide_types`, applied to an in-memory copy), so a deck matches the
    headings even where the stored metadata has not been re-tagged; outputs are shown as committed, nothing is
    executed. Assets go to ``out_dir/assets/`` once, shared by the decks there; the tarballs they come from are kept
    in ``cache_dir`` (None: a temporary folder), and npm is needed only while a tarball is missing from both.

    Raises:
        DeckError: the deck would fetch a remote resource, an asset cannot be had, or every cell is skipped.
    """
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter

    notebook, out_dir = Path(notebook), Path(out_dir)
    if cache_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            folders = install_assets(out_dir, Path(tmp))
    else:
        folders = install_assets(out_dir, Path(cache_dir))
    nb = nbformat.read(notebook, as_version=4)
    tag_notebook(nb)
    _use_local_stylesheets(nb, folders)
    name = notebook.name.removesuffix(".ipynb")
    exporter = SlidesExporter(
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        reveal_url_prefix=folders[REVEAL.name],
        reveal_theme=THEME,
        mathjax_url=f"{folders[MATHJAX.name]}/{MATHJAX.files[0]}",
        embed_images=True,  # a Markdown image of a local file goes into the HTML
    )
    resources = {"metadata": {"name": name, "path": str(notebook.parent)}}
    try:
        html, _ = exporter.from_notebook_node(nb, resources=resources)
    except ValueError as exc:  # nbconvert's "All cells are hidden, cannot create slideshow"
        raise DeckError(f"{notebook}: {exc}") from exc
    _check_offline(html, out_dir, folders, name)
    return atomic_write_text(out_dir / f"{name}.slides.html", html)


# --- command line: ``python -m gan_helpers slides`` (registered by gan_helpers.cli) ----------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``slides`` subcommand to the command line's ``subparsers``."""
    p = subparsers.add_parser(
        "slides",
        help="lecture mode: offline reveal.js decks of the notebooks, or (--tag) their slide metadata",
        description="Build each notebook as a reveal.js deck that opens offline: OUT/NN_topic.slides.html beside "
        "OUT/assets/ (reveal.js, MathJax and Font Awesome from pinned npm tarballs, fetched once into --cache with "
        "npm pack). Slides follow the headings (see gan_helpers.slides); a cell tagged slides-skip is left out. "
        "--tag instead writes that slide metadata into the notebooks, for RISE's live slides.",
    )
    p.add_argument("names", nargs="*", help="only these notebooks (e.g. 00 01_gan_objective)")
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="folder of the series")
    p.add_argument("--out", type=Path, default=Path("build/slides"), help="where the decks and their assets go")
    p.add_argument("--cache", type=Path, default=Path("build/cache"), help="where downloaded asset tarballs are kept")
    p.add_argument("--tag", action="store_true", help="maintainers: rewrite the notebooks' slide metadata instead")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    """``slides``: tag the notebooks (``--tag``) or build their decks; prints what it wrote."""
    from gan_helpers.series import find_notebooks

    try:
        notebooks = find_notebooks(args.notebooks, args.names)
    except FileNotFoundError as exc:  # a usage error: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.tag:
        changed = tag_notebooks(notebooks)
        print(f"slide metadata rewritten in {len(changed)} of {len(notebooks)} notebook(s)")
        for path in changed:
            print(f"  {path}")
        return 0
    for path in notebooks:
        print(f"  {build_deck(path, args.out, args.cache)}", flush=True)
    print(f"{len(notebooks)} deck(s) in {args.out}: each opens offline in a browser")
    return 0
