"""The shared widget machinery: drawing safely from callbacks, exact log sliders, a picture for readers.

The browser tests (tests/browser/) show the bugs these fix in JupyterLab; these check the pieces directly.
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image

import gan_helpers as gh
from gan_helpers import widgets
from gan_helpers.experiments import mode_collapse, toy_1d


@pytest.fixture
def shell():
    """An IPython shell with pyplot's post-execute hook registered, as in a notebook kernel."""
    ip = InteractiveShell.instance()
    ip.events.register("post_execute", plt._draw_all_if_interactive)
    yield ip
    InteractiveShell.clear_instance()


def _hooked(ip) -> bool:
    return plt._draw_all_if_interactive in ip.events.callbacks["post_execute"]


def test_drawing_keeps_pyplot_hooks_away_until_every_overlapping_callback_is_done(shell):
    inside, release = threading.Event(), threading.Event()

    def other_callback():
        with widgets.drawing():
            inside.set()
            release.wait(5)

    with widgets.drawing():
        assert not _hooked(shell)
        worker = threading.Thread(target=other_callback)
        worker.start()
        inside.wait(5)
    assert not _hooked(shell)  # the other thread's callback still draws
    release.set()
    worker.join(5)
    assert _hooked(shell)
    assert shell.events.callbacks["post_execute"].count(plt._draw_all_if_interactive) == 1


def test_drawing_restores_the_hooks_after_an_exception(shell):
    with pytest.raises(RuntimeError), widgets.drawing():
        raise RuntimeError("training diverged")
    assert _hooked(shell)


def test_log_ladder_holds_the_default_exactly_and_is_log_spaced():
    assert widgets.log_ladder(1e-3, 2.0, 0.02) == [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    ladder = widgets.log_ladder(1e-4, 0.5, 3e-4)
    assert 3e-4 in ladder and ladder == sorted(ladder) and ladder[0] == 1e-4 and ladder[-1] == 0.5
    slider = widgets.log_slider(0.02, 1e-3, 2.0, "lr of G")
    assert slider.value == 0.02 and slider.label == "0.02"
    with pytest.raises(ValueError, match="low <= value <= high"):
        widgets.log_ladder(1e-3, 1e-2, 0.5)


def test_the_1d_explorer_starts_at_the_notebooks_exact_learning_rates():
    box = toy_1d.toy_gan_1d_explorer(steps=100)
    lr_d, lr_g = box.children[1].children[:2]
    assert (lr_d.value, lr_g.value) == (toy_1d.CONFIG.lr_discriminator, toy_1d.CONFIG.lr_generator)
    plt.close("all")


def _ink(png: bytes) -> float:
    histogram = Image.open(io.BytesIO(png)).convert("L").histogram()
    return sum(histogram[:245]) / sum(histogram)


@pytest.mark.parametrize(
    "make",
    [
        lambda: gh.widgets.objective_explorer(),
        lambda: gh.widgets.digit_browser(torch.rand(40, 1, 28, 28) * 2 - 1, torch.arange(40) % 10),
        lambda: toy_1d.toy_gan_1d_explorer(steps=100),
        lambda: mode_collapse.mode_collapse_explorer(steps=100),
    ],
    ids=["objective", "digits", "toy-1d", "mode-collapse"],
)
def test_every_explorer_stores_a_picture_of_its_initial_view(make):
    explorer = make()
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"] and _ink(explorer.picture) > 0.01
    assert "live widget" in bundle["text/plain"]
    plt.close("all")


def test_explorers_do_not_consume_the_notebooks_random_numbers():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    mode_collapse.mode_collapse_explorer(steps=100)
    toy_1d.toy_gan_1d_explorer(steps=100)
    assert torch.equal(torch.rand(3), expected)
    plt.close("all")
