"""gh.plots.AnimationPlayer in a real browser (headless Chromium), offline: every http(s) request is blocked.

Two players on one page, as in a notebook with two animations. With JavaScript the poster gives way
to the player: a non-blank frame, buttons that step and play through the frames of their own player
only, a slider, no console error, no request to the network. Without JavaScript (what an untrusted
notebook or a static renderer leaves) the poster strip is shown, decoded, and nothing else.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from lab import non_white_fraction
from PIL import Image

import gan_helpers as gh

MIN_INK = 0.02
"""A picture counts as drawn when at least this share of its pixels is not (near) white."""

PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>two players</title></head><body>{}</body></html>'


def _animation(num_epochs: int) -> Any:
    """A grid of 8 images per epoch, a white square growing on black, so every frame differs."""
    batches = []
    for k in range(num_epochs):
        x = -torch.ones(8, 1, 28, 28)  # (8, 1, 28, 28)
        x[:, :, 2 : 6 + 4 * k, 2 : 6 + 4 * k] = 1.0
        batches.append(x)
    return gh.plots.animate_samples(batches, list(range(1, num_epochs + 1)), nrow=4, num_images=8, dpi=50, interval=150)


@dataclass
class Shown:
    """One player on the page: the player and the id its HTML chose."""

    player: gh.plots.AnimationPlayer
    uid: str

    def frame_src(self, k: int) -> str:
        return "data:image/png;base64," + base64.b64encode(self.player.frames[k]).decode("ascii")


@dataclass
class Visit:
    """An open page with what it logged: console errors and every request it made."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Shown]]:
    """A page file holding two players (5 and 3 frames)."""
    players = [gh.plots.AnimationPlayer(_animation(5), poster_frames=3), gh.plots.AnimationPlayer(_animation(3))]
    parts, found = [], []
    for player in players:
        html = player._repr_mimebundle_()["text/html"]
        uid = re.search(r'var uid = "([^"]+)"', html).group(1)
        parts.append(f"<p>an animation</p>{html}")
        found.append(Shown(player, uid))
    path = tmp_path_factory.mktemp("players") / "players.html"
    path.write_text(PAGE.format("\n".join(parts)), encoding="utf-8")
    return path, found


@contextmanager
def visit(browser: Any, path: Path, javascript: bool) -> Iterator[Visit]:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen = Visit(page)
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.console_errors.append(f"page error: {e}"))
    page.on("request", lambda r: seen.requests.append(r.url))

    def block(route: Any) -> None:
        seen.blocked.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^https?://"), block)
    try:
        page.goto(path.as_uri())
        yield seen
    finally:
        context.close()


def _element_ink(locator: Any) -> float:
    return non_white_fraction(locator.screenshot())


def _offline(seen: Visit) -> None:
    assert not seen.blocked, f"the page asked the network for {seen.blocked}"
    assert all(url.startswith(("file:", "data:")) for url in seen.requests), seen.requests
    assert not seen.console_errors, seen.console_errors


def test_player_steps_and_plays_offline(browser, shown):
    path, (first, second) = shown
    with visit(browser, path, javascript=True) as seen:
        page = seen.page
        frame = page.locator(f"#{first.uid}-frame")
        label = page.locator(f"#{first.uid}-label")
        frame.wait_for(state="visible", timeout=10_000)
        assert not page.locator(f"#{first.uid}-poster").is_visible(), "the script must hide the poster"
        width = Image.open(io.BytesIO(first.player.frames[0])).width
        assert frame.evaluate("img => img.naturalWidth") == width
        assert frame.get_attribute("src") == first.frame_src(0)
        assert _element_ink(frame) > MIN_INK, "the frame shown is blank"
        assert label.inner_text() == "epoch 1 (1/5)"
        other = page.locator(f"#{second.uid}-frame")
        assert other.get_attribute("src") == second.frame_src(0)

        page.click(f"#{first.uid}-next")
        assert frame.get_attribute("src") == first.frame_src(1) and label.inner_text() == "epoch 2 (2/5)"
        assert other.get_attribute("src") == second.frame_src(0), "a button moved the other player"
        page.click(f"#{first.uid}-back")
        assert frame.get_attribute("src") == first.frame_src(0)
        page.click(f"#{first.uid}-last")
        assert frame.get_attribute("src") == first.frame_src(4) and label.inner_text() == "epoch 5 (5/5)"
        page.click(f"#{first.uid}-next")  # past the last frame: back to the first
        assert frame.get_attribute("src") == first.frame_src(0)
        page.locator(f"#{first.uid}-slider").fill("2")
        assert frame.get_attribute("src") == first.frame_src(2) and label.inner_text() == "epoch 3 (3/5)"

        play = page.locator(f"#{first.uid}-play")
        play.click()
        assert "pause" in play.inner_text()
        for k in (3, 4, 0):  # playing walks on, frame by frame, and loops
            page.wait_for_function(
                "([id, src]) => document.getElementById(id).getAttribute('src') === src",
                arg=[f"{first.uid}-frame", first.frame_src(k)],
                timeout=5_000,
            )
        play.click()
        assert "play" in play.inner_text()
        paused_at = frame.get_attribute("src")
        page.wait_for_timeout(4 * first.player.interval)
        assert frame.get_attribute("src") == paused_at, "pause did not stop the player"
        assert other.get_attribute("src") == second.frame_src(0)
        page.click(f"#{second.uid}-next")
        assert other.get_attribute("src") == second.frame_src(1) and frame.get_attribute("src") == paused_at
        _offline(seen)


def test_without_javascript_the_poster_shows(browser, shown):
    path, players = shown
    with visit(browser, path, javascript=False) as seen:
        page = seen.page
        for one in players:
            poster = page.locator(f"#{one.uid}-poster img")
            assert poster.is_visible()
            natural = Image.open(io.BytesIO(one.player.poster)).width
            assert poster.evaluate("img => img.naturalWidth") == natural > 0
            assert _element_ink(poster) > MIN_INK, "the poster is blank"
            assert page.locator(f"#{one.uid}-frame").count() == 0
        assert page.locator("button").count() == 0 and page.locator("input").count() == 0
        assert "the player needs JavaScript" in page.inner_text("body")
        _offline(seen)
