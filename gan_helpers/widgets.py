"""Widgets: the interactive controls of the notebooks (ipywidgets), built on ``plots``, ``sampling`` and ``training``.

The explorers that only one notebook uses live with that notebook's helpers in :mod:`gan_helpers.experiments`."""

from __future__ import annotations

import base64
import io
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as ipw
import matplotlib.pyplot as plt
import torch
from IPython.display import Image as IPImage
from IPython.display import display
from matplotlib.figure import Figure
from torch import Tensor, nn

from gan_helpers import data, plots
from gan_helpers.sampling import evaluation_noise, generate, interpolate_latents, sample
from gan_helpers.training import Callback, History, TrainingDiverged

__all__ = [
    "Explorer",
    "LiveFigureCallback",
    "conditional_explorer",
    "digit_browser",
    "drawing",
    "figure_png",
    "latent_explorer",
    "log_ladder",
    "log_slider",
    "objective_explorer",
    "train_explorer",
    "wire_train_button",
]


# --- The shared machinery: drawing safely from a widget callback, sliders, a picture for readers ------------

_hooks_lock = threading.Lock()
_drawing_depth = 0
_suspended_hooks: list[Callable[[], None]] = []


def _pyplot_post_execute_hooks() -> tuple[Any, list[Callable[[], None]]]:
    """IPython's event manager and the ``post_execute`` hooks of pyplot and matplotlib-inline registered in it."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None, []
    candidates: list[Callable[[], None]] = [getattr(plt, "_draw_all_if_interactive", None)]
    try:
        from matplotlib_inline.backend_inline import flush_figures

        candidates.append(flush_figures)
    except ImportError:
        pass
    registered = shell.events.callbacks.get("post_execute", [])
    return shell.events, [hook for hook in candidates if hook is not None and hook in registered]


@contextmanager
def drawing() -> Iterator[None]:
    """Build and show figures from a widget callback without another thread drawing them half-built.

    The cause this guards against: ipykernel handles each widget message as a small "execution" (the
    ``comm`` package triggers IPython's ``post_execute`` event after it), and two hooks run then:
    pyplot's, which redraws every stale figure, and matplotlib-inline's, which draws *and closes* every
    open figure. JupyterLab sends widget messages on a kernel subshell, a second thread, while a slow
    callback (pressing *Train*) still runs on the first: a message arriving meanwhile (a control syncing
    its state) drew the callback's figure mid-way from the other thread, and it showed as an empty frame.
    Inside this context those hooks are unregistered (re-entrant: callbacks on several threads may
    overlap) and registered again afterwards; a figure the callback shows is displayed by the callback
    itself, then closed.
    """
    global _drawing_depth
    with _hooks_lock:
        if _drawing_depth == 0:
            events, hooks = _pyplot_post_execute_hooks()
            for hook in hooks:
                events.unregister("post_execute", hook)
            _suspended_hooks[:] = hooks
        _drawing_depth += 1
    try:
        yield
    finally:
        with _hooks_lock:
            _drawing_depth -= 1
            if _drawing_depth == 0:
                events, registered = _pyplot_post_execute_hooks()
                for hook in _suspended_hooks:
                    if events is not None and hook not in registered:
                        events.register("post_execute", hook)
                _suspended_hooks.clear()


def log_ladder(low: float, high: float, value: float) -> list[float]:
    r"""The 1-2-5 ladder :math:`\{1, 2, 5\} \times 10^k` from ``low`` to ``high``, with ``value`` on it exactly.

    A log-scale slider over a continuous exponent snaps its value to its grid in the browser
    (:math:`0.02 \to 10^{-1.7} = 0.0199526`), so a widget's "same settings" would not reproduce the
    notebook's run; a ladder of exact numbers cannot drift.
    """
    if not 0 < low <= value <= high:
        raise ValueError(f"need 0 < low <= value <= high, got low={low}, value={value}, high={high}")
    rungs = {
        m * 10.0**k
        for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in (1, 2, 5)
    }
    ladder = {float(f"{r:.6g}") for r in rungs if low * (1 - 1e-9) <= r <= high * (1 + 1e-9)}
    return sorted(ladder | {value})


def log_slider(value: float, low: float, high: float, description: str) -> ipw.SelectionSlider:
    """A slider over :func:`log_ladder` (exact values, log-spaced) that starts at ``value`` and redraws on release."""
    ladder = log_ladder(low, high, value)
    return ipw.SelectionSlider(
        options=[(f"{v:g}", v) for v in ladder], value=value, description=description, continuous_update=False
    )


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes (tight bounding box, as the notebook shows figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi or fig.dpi)
    return buffer.getvalue()


class Explorer(ipw.VBox):
    """A widget that leaves a picture of its initial view in the saved notebook.

    Displayed live, it is the widget. Its stored output also carries ``image/png``: a static renderer
    (GitHub, nbconvert's HTML) and JupyterLab showing a notebook that has not been run (its outputs are
    untrusted, so the widget renderer is not used) show that picture instead of the widget's text form.
    """

    def __init__(self, children: Sequence[ipw.Widget], picture: bytes, summary: str, inner: Any = None) -> None:
        super().__init__(list(children))
        self.picture = picture
        self.summary = summary
        self.inner = inner  # the ipywidgets.interactive whose controls these are, if any

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(self.picture).decode("ascii")
        note = "a live widget: the picture shows its initial view; run the cell to use it"
        bundle["text/plain"] = f"{self.summary} ({note})"
        return bundle


def _explorer(
    children: Sequence[ipw.Widget], first: Figure, summary: str, out: ipw.Output | None = None, **kwargs: Any
) -> Explorer:
    """An :class:`Explorer` of ``children`` whose stored picture is ``first`` (closed afterwards); with ``out``,
    the live widget also shows ``first`` there until a control changes it."""
    picture = figure_png(first)
    plt.close(first)
    if out is not None:
        out.append_display_data(IPImage(picture))
    return Explorer(children, picture, summary, **kwargs)


def _slider(value: float, low: float, high: float, step: float, description: str) -> ipw.FloatSlider:
    """A float slider that redraws on release (a redraw takes a moment; dragging would queue many)."""
    return ipw.FloatSlider(
        value=value, min=low, max=high, step=step, description=description, continuous_update=False
    )


def _show(fig: Figure) -> None:
    """Display ``fig`` (into the output area or widget being captured) and close it."""
    display(fig)
    plt.close(fig)


def _interactive_explorer(make: Callable[..., Figure], summary: str, **controls: ipw.ValueWidget) -> Explorer:
    """An :class:`Explorer` that redraws ``make(**values)`` whenever a control changes (under :func:`drawing`)."""

    def show(**values: Any) -> None:
        with drawing():
            _show(make(**values))

    first = make(**{name: control.value for name, control in controls.items()})
    inner = ipw.interactive(show, **controls)
    return _explorer(inner.children, first, summary, inner=inner)


def objective_explorer(
    mean_data: float = 0.0, std_data: float = 1.0, mean_g: float = 2.0, std_g: float = 1.0
) -> Explorer:
    r"""Sliders for the means and standard deviations of two 1-D Gaussians :math:`p_{data}` and :math:`p_g`.

    Each change redraws :func:`gan_helpers.plots.plot_objective`: both densities, the optimal
    discriminator :math:`D^* = p_{data}/(p_{data} + p_g)` and the values
    :math:`V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}` and JSD. Display the returned widget.
    """

    def make(mean_data: float, std_data: float, mean_g: float, std_g: float) -> Figure:
        return plots.plot_objective(data.gaussian_1d(mean_data, std_data), data.gaussian_1d(mean_g, std_g))

    return _interactive_explorer(
        make,
        "objective explorer: four sliders over p_data and p_g",
        mean_data=_slider(mean_data, -5.0, 5.0, 0.1, "mean data"),
        std_data=_slider(std_data, 0.2, 3.0, 0.05, "std data"),
        mean_g=_slider(mean_g, -5.0, 5.0, 0.1, "mean G"),
        std_g=_slider(std_g, 0.2, 3.0, 0.05, "std G"),
    )


def digit_browser(images: Tensor, labels: Tensor, per_page: int = 16) -> Explorer:
    """A slider over the ten classes showing ``per_page`` images of the chosen digit.

    The welcome notebook uses it as a live check that widgets render in your JupyterLab.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")

    def make(digit: int) -> Figure:
        chosen = images[labels == digit][:per_page]
        return plots.show_images(chosen, nrow=per_page, title=f"{len(chosen)} examples of {digit}")

    slider = ipw.IntSlider(value=0, min=0, max=int(labels.max()), description="digit")
    return _interactive_explorer(make, "digit browser: a slider over the ten classes", digit=slider)


# --- Training as it happens, and G's latent space ---


class LiveFigureCallback(Callback):
    """Redraws :func:`gan_helpers.plots.training_dashboard` in the notebook while a run trains.

    Pass it to ``train_epochs(..., callbacks=[live])`` (or ``train_gan``). It redraws at most
    every ``every`` seconds (drawing costs a fraction of a second; training itself never plots),
    always after an epoch, in one output area updated in place. Its samples come from its own
    seeded noise, so watching does not change the training's random numbers.
    """

    def __init__(self, every: float = 5.0, num_images: int = 16, seed: int = 0, title: str | None = None) -> None:
        self.every = every
        self.num_images = num_images
        self.seed = seed
        self.title = title
        self.draws = 0
        self._last = -math.inf
        self._noise: Tensor | None = None
        self._handle: Any = None

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if time.monotonic() - self._last >= self.every:
            self.draw(step, history, G)

    def on_epoch_end(self, run: Any) -> None:
        """After an epoch: always redraw."""
        self.draw(run.step, run.history, run.G, epoch=run.epoch)

    def draw(self, step: int, history: Any, G: nn.Module, epoch: int | None = None) -> None:
        """Redraw now: curves so far and G's current samples of the fixed noise."""
        if self._noise is None:
            self._noise = evaluation_noise(self.num_images, G.latent_dim, self.seed)
        images = generate(G, self._noise).cpu()
        label = f"step {step}" + (f", epoch {epoch}" if epoch is not None else "")
        fig = plots.training_dashboard(history, images, title=f"{self.title}: {label}" if self.title else label)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
        self.draws += 1
        self._last = time.monotonic()


def latent_explorer(G: nn.Module, num_directions: int = 3, seed: int = 0, scale: float = 3.0) -> Explorer:
    r"""Sliders to walk G's latent space: two seeds, a slider between them, and a few random directions.

    The image shown is G's output for the point a fraction ``t`` of the way from seed a's noise to
    seed b's (:func:`gan_helpers.sampling.interpolate_latents`, spherical), moved by ``alpha_k`` along
    each of ``num_directions`` fixed random unit directions (sliders from ``-scale`` to ``scale``;
    a typical noise vector has length about :math:`\sqrt{d}`, 10 for ``latent_dim=100``).
    """
    d = G.latent_dim
    directions = evaluation_noise(num_directions, d, seed + 10_000)
    directions = directions / directions.norm(dim=1, keepdim=True)

    def latent(seed_a: int, seed_b: int, t: float, alphas: list[float]) -> Tensor:
        z_a, z_b = evaluation_noise(1, d, seed_a)[0], evaluation_noise(1, d, seed_b)[0]
        z = interpolate_latents(z_a, z_b, num=101)[round(t * 100)]
        return z + sum(a * u for a, u in zip(alphas, directions, strict=True))

    def make(seed_a: int, seed_b: int, t: float, **alphas: float) -> Figure:
        z = latent(seed_a, seed_b, t, [alphas[f"dir_{k}"] for k in range(num_directions)])
        image = generate(G, z[None]).cpu()
        return plots.show_images(image, nrow=1, scale=3.0, title=f"seed {seed_a} -> {seed_b}, t = {t:.2f}")

    sliders = {f"dir_{k}": _slider(0.0, -scale, scale, 0.25, f"direction {k}") for k in range(num_directions)}
    return _interactive_explorer(
        make,
        "latent explorer: two seeds, a slider between them and random directions",
        seed_a=ipw.IntSlider(value=seed, min=0, max=99, description="seed a", continuous_update=False),
        seed_b=ipw.IntSlider(value=seed + 1, min=0, max=99, description="seed b", continuous_update=False),
        t=_slider(0.0, 0.0, 1.0, 0.05, "a -> b"),
        **sliders,
    )


def wire_train_button(
    button: ipw.Button,
    controls: tuple[ipw.Widget, ...],
    out: ipw.Output,
    status: Callable[[], str],
    work: Callable[[], tuple[str, Figure]],
) -> None:
    """Wire ``button``: while ``work()`` trains, the controls are disabled and ``out`` shows
    ``status()``; then ``out`` shows the summary line and figure that ``work`` returns (or the
    divergence message, if training diverged). The whole callback runs under :func:`drawing`."""

    def on_click(_: object = None) -> None:
        for control in (*controls, button):
            control.disabled = True
        try:
            with drawing(), out:
                out.clear_output(wait=True)
                print(status())
                try:
                    summary, fig = work()
                except TrainingDiverged as exc:
                    print(exc)
                    return
                out.clear_output(wait=True)
                print(summary)
                _show(fig)
        finally:
            for control in (*controls, button):
                control.disabled = False

    button.on_click(on_click)


def train_explorer(
    rows: Sequence[Sequence[ipw.Widget]],
    button: ipw.Button,
    status: Callable[[], str],
    work: Callable[[], tuple[str, Figure]],
    first: Figure,
    summary: str,
) -> Explorer:
    """Rows of controls, a *Train* ``button`` wired by :func:`wire_train_button`, and an output area that
    first shows ``first`` (the view before anything trains) and stores it as the reader's picture."""
    out = ipw.Output()
    controls = tuple(w for row in rows for w in row if w is not button)
    wire_train_button(button, controls, out, status, work)
    return _explorer([*(ipw.HBox(list(row)) for row in rows), out], first, summary, out=out)


# --- Notebook 07: a conditional G, one digit at a time ----------------------------------------------


def conditional_explorer(G: nn.Module, num_images: int = 16, seed: int = 0) -> Explorer:
    r"""A digit dropdown and latent controls for a conditional G: a grid of samples of the chosen class.

    "seed" picks the noise vectors :math:`\varepsilon_i`; "noise scale" multiplies them,
    :math:`z_i = s\,\varepsilon_i`; "truncation" is BigGAN's truncation trick (Brock et al. 2019): with a
    threshold :math:`a`, each entry of :math:`\varepsilon_i` with :math:`|\varepsilon_{ij}| > a` is redrawn until it
    is within :math:`a` (:func:`gan_helpers.sampling.truncated_noise`); "off" draws :math:`\mathcal N(0, I)`. With
    "all digits" row :math:`k` shows class :math:`k` for the same :math:`z`, so the style stays and only the
    label changes.
    """
    options = [("all digits", -1)] + [(str(k), k) for k in range(G.num_classes)]
    thresholds = [("off", 0.0), ("2.0", 2.0), ("1.5", 1.5), ("1.0", 1.0), ("0.5", 0.5), ("0.25", 0.25)]

    def make(digit: int, seed: int, noise_scale: float, truncation: float) -> Figure:
        cut = truncation or None  # 0.0 stands for "off"
        if digit < 0:
            per_row = 8
            labels = torch.arange(G.num_classes).repeat_interleave(per_row)
            rows = [labels[k * per_row : (k + 1) * per_row] for k in range(G.num_classes)]
            images = torch.cat(
                [sample(G, seed=seed, labels=y, noise_scale=noise_scale, truncation=cut) for y in rows]
            )
            fig = plots.show_images(images, nrow=per_row, title=f"each row one label, same z (seed {seed})")
        else:
            labels = torch.full((num_images,), digit)
            images = sample(G, seed=seed, labels=labels, noise_scale=noise_scale, truncation=cut)
            cut_text = "off" if cut is None else f"{cut:g}"
            fig = plots.show_images(
                images, nrow=8, title=f"digit {digit}, seed {seed}, scale {noise_scale:.2f}, truncation {cut_text}"
            )
        return fig

    return _interactive_explorer(
        make,
        "conditional explorer: a digit, a seed, the noise scale and truncation",
        digit=ipw.Dropdown(options=options, value=0, description="digit"),
        seed=ipw.IntSlider(value=seed, min=0, max=99, description="seed", continuous_update=False),
        noise_scale=_slider(1.0, 0.0, 2.0, 0.1, "noise scale"),
        truncation=ipw.Dropdown(options=thresholds, value=0.0, description="truncation"),
    )

