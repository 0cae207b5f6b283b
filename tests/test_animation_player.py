"""gh.plots.AnimationPlayer: an offline player with a poster, checked from its mime bundle (no browser here).

What must hold for a committed notebook: three representations; no URL anywhere in the HTML (no CDN
font, script or style sheet); every frame of the animation embedded once; a poster PNG that is a
strip of the chosen frames, not blank; a picture in the markup that remains once the scripts are
removed (what JupyterLab does to an untrusted output); fresh element ids for every display.
The same player in a real browser: tests/browser/test_animation_player_in_chromium.py.
"""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.animation import FuncAnimation
from PIL import Image

import gan_helpers as gh
from gan_helpers.plots.animation import POSTER_GAP

EPOCHS = [1, 2, 3, 4, 5, 6, 7]
MIN_INK = 0.02
"""A picture counts as drawn when at least this share of its pixels is not (near) white."""


def _samples(num_epochs: int = len(EPOCHS)) -> list[torch.Tensor]:
    """One batch of 8 images per epoch; epoch k has a white square of side 4 + 3k on black, so frames differ."""
    batches = []
    for k in range(num_epochs):
        x = -torch.ones(8, 1, 28, 28)  # (8, 1, 28, 28), black
        x[:, :, 2 : 6 + 3 * k, 2 : 6 + 3 * k] = 1.0
        batches.append(x)
    return batches


def _samples_animation() -> FuncAnimation:
    return gh.plots.animate_samples(_samples(), EPOCHS, nrow=4, num_images=8, dpi=40)


@pytest.fixture(scope="module")
def player() -> gh.plots.AnimationPlayer:
    return gh.plots.AnimationPlayer(_samples_animation(), poster_frames=3)


@pytest.fixture(scope="module")
def bundle(player: gh.plots.AnimationPlayer) -> dict[str, str]:
    return player._repr_mimebundle_()


def _png(data: bytes | str) -> Image.Image:
    raw = base64.b64decode(data) if isinstance(data, str) else data
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(raw)).convert("RGB")


def _ink(image: Image.Image, threshold: int = 245) -> float:
    grey = np.asarray(image.convert("L"))
    return float((grey < threshold).mean())


def _embedded_frames(html: str) -> list[str]:
    """The base64 PNGs of the script's frame list."""
    match = re.search(r"frames = (\[[^\]]*\])", html)
    assert match, "no frame list in the player's script"
    return json.loads(match.group(1))


class _Markup(HTMLParser):
    """The elements of an HTML fragment, with ``<script>`` contents skipped (as a sanitiser removes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    return parser


def test_bundle_has_html_png_and_text(bundle):
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert "7 frames" in bundle["text/plain"] and "epoch 1" in bundle["text/plain"]
    assert "epoch 7" in bundle["text/plain"]


def test_include_and_exclude_select_mime_types(player):
    assert set(player._repr_mimebundle_(include={"image/png"})) == {"image/png"}
    assert set(player._repr_mimebundle_(exclude={"text/html"})) == {"image/png", "text/plain"}


def test_html_names_no_url_and_loads_nothing(bundle):
    html = bundle["text/html"]
    assert "http://" not in html.lower() and "https://" not in html.lower()
    code = re.sub(r'"[A-Za-z0-9+/=]{64,}"', '""', re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html))
    # base64 may hold "//", so the frames are cut out first
    assert not re.search(r"""["'(=]\s*//""", code), "no protocol-relative URL (//host/...) either"
    for tag, attrs in _markup(html).elements:
        assert tag not in {"link", "iframe", "object", "embed", "style"}, tag
        if tag == "script":
            assert "src" not in attrs, "the script must be inline"
        if "src" in attrs:
            assert (attrs["src"] or "").startswith("data:image/png;base64,"), attrs["src"]
    assert "font-awesome" not in html.lower() and "url(" not in html
    assert "@import" not in html


def test_every_frame_is_embedded_once_in_order():
    anim = _samples_animation()
    num_frames = len(list(anim.new_frame_seq()))
    player = gh.plots.AnimationPlayer(anim)
    html = player._repr_mimebundle_()["text/html"]
    frames = _embedded_frames(html)
    assert len(frames) == num_frames == len(EPOCHS) == len(player)
    images = [_png(frame) for frame in frames]
    assert len({image.size for image in images}) == 1  # one figure, one size
    assert len({image.tobytes() for image in images}) == num_frames  # every frame differs
    inks = [_ink(image) for image in images]
    assert inks == sorted(inks, reverse=True), "the white square grows, so frames in order have less and less ink"
    assert player.labels == [f"epoch {e}" for e in EPOCHS]
    assert json.loads(re.search(r"labels = (\[[^\]]*\])", html).group(1)) == player.labels


def test_frames_carry_no_metadata(player):
    for png in player.frames:
        assert b"tEXt" not in png and b"iTXt" not in png and b"http" not in png


def test_poster_is_a_strip_of_the_chosen_frames(bundle):
    poster = _png(bundle["image/png"])
    one = _png(gh.plots.AnimationPlayer(_samples_animation(), poster_frames=1).poster)
    frame_width, frame_height = _png(_embedded_frames(bundle["text/html"])[0]).size
    assert one.width <= frame_width and one.height <= frame_height + 40
    assert poster.width == 3 * one.width + 2 * POSTER_GAP
    assert poster.height == one.height
    pixels = np.asarray(poster.convert("L"))  # (H, W)
    panels = [pixels[:, k * (one.width + POSTER_GAP) : k * (one.width + POSTER_GAP) + one.width] for k in range(3)]
    for k in range(2):  # the gaps between panels are white
        start = (k + 1) * one.width + k * POSTER_GAP
        assert (pixels[:, start : start + POSTER_GAP] == 255).all()
    for panel in panels:
        assert (panel < 245).mean() > MIN_INK
    assert not np.array_equal(panels[0], panels[-1])  # the first and the last epoch differ
    assert _ink(poster) > MIN_INK


def test_poster_frames_are_first_last_and_evenly_spaced(player):
    assert player.poster_indices == [0, 3, 6]
    assert gh.plots.AnimationPlayer(_samples_animation(), poster_frames=20).poster_indices == list(range(7))


def test_markup_without_scripts_shows_the_poster(bundle):
    markup = _markup(bundle["text/html"])
    images = [attrs for tag, attrs in markup.elements if tag == "img"]
    assert len(images) == 1, "without JavaScript exactly one picture: the poster"
    src = images[0]["src"] or ""
    assert src.startswith("data:image/png;base64,")
    assert src.removeprefix("data:image/png;base64,") == bundle["image/png"]
    assert "epoch 1" in (images[0]["alt"] or "") and "epoch 7" in (images[0]["alt"] or "")
    text = " ".join(markup.text)
    assert "3 of 7 frames" in text and "JavaScript" in text
    assert not any(tag in {"button", "input"} for tag, _ in markup.elements), "controls need the script"


def _ids(html: str) -> tuple[str, set[str]]:
    uid = json.loads(re.search(r'var uid = ("[^"]*")', html).group(1))
    return uid, {attrs["id"] for _, attrs in _markup(html).elements if attrs.get("id")}


def test_two_players_and_two_displays_get_different_ids(player, bundle):
    first_uid, first_ids = _ids(bundle["text/html"])
    assert first_ids == {first_uid, f"{first_uid}-poster"}
    other = gh.plots.AnimationPlayer(_samples_animation(), poster_frames=2)
    again = player._repr_mimebundle_()["text/html"]  # the same player shown a second time
    for html in (other._repr_mimebundle_()["text/html"], again):
        uid, ids = _ids(html)
        assert uid != first_uid and not ids & first_ids
    assert re.fullmatch(r"[a-z0-9-]+", first_uid)


def test_gan_1d_animation_is_labelled_by_step():
    x = np.linspace(-2, 10, 60)
    snapshots = [
        SimpleNamespace(
            step=step,
            x_grid=x,
            d_prob=1 / (1 + np.exp(x - 4)),
            samples=np.random.default_rng(step).normal(4 - 3 / (1 + step), 1.0, 200),
            z_line=np.linspace(-2, 2, 5),
            x_of_z=np.linspace(2, 6, 5),
        )
        for step in (0, 10, 100)
    ]
    anim = gh.plots.animate_gan_1d(snapshots, gh.data.gaussian_1d(), max_frames=20, dpi=30)
    assert isinstance(anim, FuncAnimation)
    player = gh.plots.AnimationPlayer(anim, poster_frames=5)
    assert player.labels == ["step 0", "step 10", "step 100"] and player.interval == 400
    assert len(_embedded_frames(player.to_html())) == 3 and player.poster_indices == [0, 1, 2]
    assert _ink(_png(player.poster)) > MIN_INK


def test_plain_funcanimation_gets_numbered_frames():
    fig, ax = plt.subplots(figsize=(2, 2), dpi=30)
    (line,) = ax.plot([0, 1], [0, 0])

    def draw(k: int) -> list:
        line.set_ydata([0, k])
        return [line]

    anim = FuncAnimation(fig, draw, frames=4, interval=123)
    plt.close(fig)
    player = gh.plots.AnimationPlayer(anim, poster_frames=2)
    assert player.labels == ["frame 1", "frame 2", "frame 3", "frame 4"] and player.interval == 123
    assert "interval = 123" in player.to_html()
    named = gh.plots.AnimationPlayer(anim, labels=["a", "b", "c", "d"], interval=50)
    assert named.labels == ["a", "b", "c", "d"] and named.interval == 50


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="poster_frames must be at least 1"):
        gh.plots.AnimationPlayer(_samples_animation(), poster_frames=0)
    with pytest.raises(ValueError, match="2 labels for 7 frames"):
        gh.plots.AnimationPlayer(_samples_animation(), labels=["a", "b"])
    fig = plt.figure()
    with pytest.raises(ValueError, match="labels is empty"):
        gh.plots.LabelledAnimation(fig, lambda k: [], labels=[])
    plt.close(fig)
