"""Animations that work offline: a self-contained HTML player, and a poster strip for readers who never run them.

:func:`gan_helpers.plots.animate_gan_1d` and :func:`gan_helpers.plots.animate_samples` return a
:class:`LabelledAnimation` (a ``FuncAnimation`` that knows a label for each frame). Show one with
:class:`AnimationPlayer`, not with ``HTML(anim.to_jshtml())``: matplotlib's player loads its button
icons from a CDN and fills its image only from JavaScript, so an untrusted notebook (JupyterLab
removes the scripts), a static render (nbconvert, GitHub) or an offline browser shows a broken or
blank picture. :class:`AnimationPlayer` embeds every frame as a PNG data URI, uses plain buttons and
no external asset, and its markup shows a poster (a strip of a few frames) until its script runs.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib import font_manager
from matplotlib.animation import AbstractMovieWriter, FuncAnimation
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from PIL import Image, ImageChops, ImageDraw, ImageFont

__all__ = ["AnimationPlayer", "LabelledAnimation"]

POSTER_GAP = 8
"""White pixels between two frames of the poster strip."""

_DEFAULT_INTERVAL_MS = 200
_CAPTION_FONT_PX = 12
_PALETTE_COLOURS = 256


def _evenly_spaced_indices(length: int, num: int) -> np.ndarray:
    """At most ``num`` indices into ``range(length)``, evenly spaced, always with the first and the last."""
    return np.unique(np.linspace(0, length - 1, min(num, length)).round().astype(int))


class LabelledAnimation(FuncAnimation):
    """A ``FuncAnimation`` of ``len(labels)`` frames, frame ``k`` drawn by ``draw(k)`` and named ``labels[k]``.

    The labels ("step 200", "epoch 3") caption the frames of :class:`AnimationPlayer`'s poster and
    player; ``interval`` (milliseconds between frames) is kept as :attr:`interval_ms`.
    """

    def __init__(
        self, fig: Figure, draw: Callable[[int], Iterable[Artist]], labels: Sequence[str], interval: int = 200
    ) -> None:
        if not labels:
            raise ValueError("an animation needs at least one frame: labels is empty")
        self.frame_labels: list[str] = [str(label) for label in labels]
        self.interval_ms = int(interval)
        super().__init__(fig, draw, frames=len(self.frame_labels), interval=interval, blit=False)


class _InMemoryPngWriter(AbstractMovieWriter):
    """A movie writer that keeps each frame as PNG bytes: ``Animation.save`` calls the draw function for it."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[bytes] = []

    def setup(self, fig: Figure, outfile: Any, dpi: float | None = None) -> None:
        super().setup(fig, outfile, dpi)

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        buffer = io.BytesIO()
        # The figure's own dpi: the animate_* functions choose it to keep the frames small.
        self.fig.savefig(buffer, format="png", dpi=self.fig.dpi, **savefig_kwargs)
        self.frames.append(_compact_png(Image.open(buffer)))

    def finish(self) -> None:
        pass


def _compact_png(image: Image.Image) -> bytes:
    """``image`` as a small PNG without metadata (matplotlib's own carries alpha and a text chunk with a URL).

    A grey image keeps one 8-bit channel (lossless). A colour one gets a palette of at most
    :data:`_PALETTE_COLOURS` colours: lossless for flat figures, and for a line plot with more
    (its anti-aliased edges) off by 0.1 grey levels per channel on average, invisible, at 40% of the size.
    """
    rgb = image.convert("RGB")
    pixels = np.asarray(rgb)  # (H, W, 3)
    if (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        small = rgb.convert("L")
    else:
        small = rgb.quantize(_PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _caption_font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Matplotlib's default font (DejaVu Sans) at :data:`_CAPTION_FONT_PX`, else Pillow's built-in one."""
    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), _CAPTION_FONT_PX)
    except OSError:
        return ImageFont.load_default()


def _crop_margins(images: Sequence[Image.Image], pad: int = 4) -> list[Image.Image]:
    """``images`` cut to one common box around everything not white (plus ``pad`` pixels), so they still align."""
    boxes = [ImageChops.invert(image.convert("L")).getbbox() for image in images]  # None for a blank image
    boxes = [box for box in boxes if box is not None]
    if not boxes:
        return list(images)
    left, top = max(0, min(b[0] for b in boxes) - pad), max(0, min(b[1] for b in boxes) - pad)
    right = min(images[0].width, max(b[2] for b in boxes) + pad)
    bottom = min(images[0].height, max(b[3] for b in boxes) + pad)
    return [image.crop((left, top, right, bottom)) for image in images]


def _poster_png(frames: Sequence[bytes], chosen: Sequence[int], captions: Sequence[str]) -> bytes:
    """The PNG ``frames[k]`` for ``k`` in ``chosen`` side by side, :data:`POSTER_GAP` pixels apart, captioned below.

    Every frame loses the white margins that all frames share (the frames of one animation have one
    size), so a panel's width does not depend on which frames the poster shows.
    """
    images = _crop_margins([Image.open(io.BytesIO(png)).convert("RGB") for png in frames])
    images = [images[k] for k in chosen]
    font = _caption_font()
    caption_height = _CAPTION_FONT_PX + 8
    width = sum(image.width for image in images) + POSTER_GAP * (len(images) - 1)
    height = max(image.height for image in images) + caption_height
    poster = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(poster)
    left = 0
    for image, caption in zip(images, captions, strict=True):
        poster.paste(image, (left, 0))
        draw.text((left + image.width / 2, image.height + 3), caption, fill=(60, 60, 60), font=font, anchor="ma")
        left += image.width + POSTER_GAP
    return _compact_png(poster)


def _render_frames(anim: FuncAnimation) -> list[bytes]:
    """Every frame of ``anim`` as PNG bytes, drawn through ``Animation.save`` (nothing is written to disk)."""
    writer = _InMemoryPngWriter()
    anim.save("in-memory.png", writer=writer)  # the writer ignores the name
    if not writer.frames:
        raise ValueError("the animation drew no frame")
    return writer.frames


_STYLE_IMG = "max-width: 100%; height: auto;"

# The buttons use ASCII and the triangles U+25C0 / U+25B6 only (with U+FE0E, "text, not emoji"): the
# media-control glyphs (U+23EE, U+23F8, ...) are missing from common fonts and show as empty boxes.
_SCRIPT = """
(function () {
  var uid = %(uid)s, frames = %(frames)s, labels = %(labels)s, interval = %(interval)d;
  var here = document.currentScript;  /* set only while this script first runs */
  function findRoot() {
    var root = document.getElementById(uid), parent = here && here.parentNode;
    if (!root && parent && parent.getAttribute && parent.getAttribute("id") === uid) { root = parent; }
    return root;
  }
  function build() {
    var root = findRoot();
    if (!root) { return false; }
    if (root.getAttribute("data-player") === "on") { return true; }
    root.setAttribute("data-player", "on");
    var k = 0, timer = null, n = frames.length;
    function make(tag, id, text) {
      var element = document.createElement(tag);
      element.id = uid + "-" + id;
      if (text) { element.textContent = text; }
      return element;
    }
    var img = make("img", "frame");
    img.style.cssText = %(img_style)s;
    var bar = make("div", "controls");
    bar.style.cssText = "display: flex; gap: 4px; align-items: center; flex-wrap: wrap; margin-top: 4px;";
    var first = make("button", "first", "|\\u25C0\\uFE0E first"), back = make("button", "back", "\\u25C0\\uFE0E back");
    var play = make("button", "play", "\\u25B6\\uFE0E play"), next = make("button", "next", "next \\u25B6\\uFE0E");
    var last = make("button", "last", "last \\u25B6\\uFE0E|"), slider = make("input", "slider");
    var label = make("span", "label");
    slider.type = "range"; slider.min = 0; slider.max = n - 1; slider.step = 1; slider.value = 0;
    slider.style.width = "14em";
    label.style.cssText = "font-family: sans-serif; font-size: 0.9em; margin-left: 6px;";
    function show(j) {
      k = (j + n) %% n;
      img.src = "data:image/png;base64," + frames[k];
      img.alt = labels[k];
      slider.value = k;
      label.textContent = labels[k] + " (" + (k + 1) + "/" + n + ")";
    }
    function pause() {
      if (timer !== null) { clearInterval(timer); timer = null; }
      play.textContent = "\\u25B6\\uFE0E play";
    }
    play.onclick = function () {
      if (timer !== null) { pause(); return; }
      play.textContent = "|| pause";
      timer = setInterval(function () { show(k + 1); }, interval);
    };
    first.onclick = function () { pause(); show(0); };
    back.onclick = function () { pause(); show(k - 1); };
    next.onclick = function () { pause(); show(k + 1); };
    last.onclick = function () { pause(); show(n - 1); };
    slider.oninput = function () { pause(); show(parseInt(slider.value, 10)); };
    [first, back, play, next, last].forEach(function (b) { b.type = "button"; bar.appendChild(b); });
    bar.appendChild(slider);
    bar.appendChild(label);
    var player = make("div", "player");
    player.appendChild(img);
    player.appendChild(bar);
    for (var i = 0; i < root.children.length; i++) {
      if (root.children[i].getAttribute("id") === uid + "-poster") { root.children[i].style.display = "none"; }
    }
    root.appendChild(player);
    show(0);
    return true;
  }
  if (!build()) {
    var tries = 0, wait = setInterval(function () { if (build() || ++tries > 100) { clearInterval(wait); } }, 50);
  }
})();
"""


def _js(value: Any) -> str:
    """``value`` as a JavaScript literal that cannot close the surrounding ``<script>`` element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


class AnimationPlayer:
    """An animation for notebooks: an offline HTML player, a poster strip, and a line of text.

    ``anim`` is any ``FuncAnimation``; a :class:`LabelledAnimation` (what ``animate_*`` return)
    brings its frame labels and interval, otherwise the frames are "frame 1", "frame 2", ... and
    ``labels`` / ``interval`` (milliseconds) may name them. All frames are drawn once, here.

    Displayed, it offers three representations and the front end picks one:

    - ``text/html``: the poster as a PNG data URI, then a script that hides it and builds the player
      (every frame as a PNG data URI, first / back / play / next / last buttons, a slider). No font,
      style sheet or script is loaded from anywhere, and element ids are fresh for each display, so
      players never clash. Without JavaScript (an untrusted notebook, GitHub) the poster remains.
    - ``image/png``: the poster, ``poster_frames`` evenly spaced frames side by side, each captioned.
    - ``text/plain``: one sentence.
    """

    def __init__(
        self,
        anim: FuncAnimation,
        poster_frames: int = 5,
        labels: Sequence[str] | None = None,
        interval: int | None = None,
    ) -> None:
        if poster_frames < 1:
            raise ValueError(f"poster_frames must be at least 1, got {poster_frames}")
        self.frames: list[bytes] = _render_frames(anim)
        """Every frame as PNG bytes, in order."""
        if labels is None:
            labels = getattr(anim, "frame_labels", None) or [f"frame {k + 1}" for k in range(len(self.frames))]
        if len(labels) != len(self.frames):
            raise ValueError(f"{len(labels)} labels for {len(self.frames)} frames")
        self.labels: list[str] = [str(label) for label in labels]
        if interval is None:
            interval = getattr(anim, "interval_ms", None)
        if interval is None:
            source = anim.event_source
            interval = source.interval if source is not None else _DEFAULT_INTERVAL_MS
        self.interval = int(interval)
        self.poster_indices: list[int] = _evenly_spaced_indices(len(self.frames), poster_frames).tolist()
        """The frames the poster shows: the first, the last and evenly spaced ones between."""
        captions = [f"{self.labels[k]} ({k + 1}/{len(self.frames)})" for k in self.poster_indices]
        self.poster: bytes = _poster_png(self.frames, self.poster_indices, captions)
        """The poster strip as PNG bytes."""

    def __len__(self) -> int:
        """The number of frames."""
        return len(self.frames)

    def __repr__(self) -> str:
        """The ``text/plain`` representation: how many frames, the first and last label, where the player is."""
        span = self.labels[0] if len(self) == 1 else f"{self.labels[0]} … {self.labels[-1]}"
        return f"<animation: {len(self)} frames, {span}; run the notebook for the player>"

    def _alt_text(self) -> str:
        shown = ", ".join(self.labels[k] for k in self.poster_indices)
        return f"{len(self.poster_indices)} of the animation's {len(self)} frames: {shown}"

    def to_html(self, element_id: str | None = None) -> str:
        """The self-contained player; ``element_id`` (default: a fresh random one) prefixes every element id."""
        uid = element_id or f"gh-animation-{secrets.token_hex(6)}"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", uid):
            raise ValueError(f"element_id must be a letter, then letters, digits, '-' or '_'; got {uid!r}")
        poster = base64.b64encode(self.poster).decode("ascii")
        note = (
            f"{len(self.poster_indices)} of {len(self)} frames, {html.escape(self.labels[0])} to "
            f"{html.escape(self.labels[-1])}; the player needs JavaScript (run or trust the notebook)."
        )
        script = _SCRIPT % {
            "uid": _js(uid),
            "frames": _js([base64.b64encode(png).decode("ascii") for png in self.frames]),
            "labels": _js(self.labels),
            "interval": self.interval,
            "img_style": _js(_STYLE_IMG),
        }
        return (
            f'<div id="{html.escape(uid)}" class="gh-animation">\n'
            f'<div id="{html.escape(uid)}-poster">\n'
            f'<img src="data:image/png;base64,{poster}" alt="{html.escape(self._alt_text())}" '
            f'style="{_STYLE_IMG}">\n'
            f'<div style="font-family: sans-serif; font-size: 0.85em; color: #555;">{note}</div>\n'
            f"</div>\n<script>{script}</script>\n</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What IPython displays: ``text/html`` (fresh ids), ``image/png`` (the poster, base64) and ``text/plain``."""
        bundle = {
            "text/html": self.to_html(),
            "image/png": base64.b64encode(self.poster).decode("ascii"),
            "text/plain": repr(self),
        }
        if include:
            bundle = {mime: data for mime, data in bundle.items() if mime in include}
        if exclude:
            bundle = {mime: data for mime, data in bundle.items() if mime not in exclude}
        return bundle
