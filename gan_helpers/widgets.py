"""Widgets: the interactive controls of the notebooks (ipywidgets), built on ``plots`` and ``training``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as ipw
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import Tensor, nn

from gan_helpers import applications, data, metrics, models, plots, training

__all__ = [
    "objective_explorer",
]


def _slider(value: float, low: float, high: float, step: float, description: str) -> ipw.FloatSlider:
    """A float slider that redraws on release (a redraw takes a moment; dragging would queue many)."""
    return ipw.FloatSlider(
        value=value, min=low, max=high, step=step, description=description, continuous_update=False
    )


def objective_explorer(
    mean_data: float = 0.0, std_data: float = 1.0, mean_g: float = 2.0, std_g: float = 1.0
) -> ipw.interactive:
    r"""Sliders for the means and standard deviations of two 1-D Gaussians :math:`p_{data}` and :math:`p_g`.

    Each change redraws :func:`gan_helpers.plots.plot_objective`: both densities, the optimal
    discriminator :math:`D^* = p_{data}/(p_{data} + p_g)` and the values
    :math:`V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}` and JSD. Display the returned widget.
    """

    def draw(mean_data: float, std_data: float, mean_g: float, std_g: float) -> None:
        plots.plot_objective(data.gaussian_1d(mean_data, std_data), data.gaussian_1d(mean_g, std_g))
        plt.show()

    return ipw.interactive(
        draw,
        mean_data=_slider(mean_data, -5.0, 5.0, 0.1, "mean data"),
        std_data=_slider(std_data, 0.2, 3.0, 0.05, "std data"),
        mean_g=_slider(mean_g, -5.0, 5.0, 0.1, "mean G"),
        std_g=_slider(std_g, 0.2, 3.0, 0.05, "std G"),
    )


def digit_browser(images: Tensor, labels: Tensor, per_page: int = 16) -> ipw.Widget:
    """A slider over the ten classes showing ``per_page`` images of the chosen digit.

    The welcome notebook uses it as a live check that widgets render in your JupyterLab.
    """
    from IPython.display import display

    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    slider = ipw.IntSlider(value=0, min=0, max=int(labels.max()), description="digit")
    out = ipw.Output()

    def draw(change: object = None) -> None:
        chosen = images[labels == slider.value][:per_page]
        with out:
            out.clear_output(wait=True)
            fig = plots.show_images(chosen, nrow=per_page, title=f"{len(chosen)} examples of {slider.value}")
            display(fig)
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return ipw.VBox([slider, out])


# --- Training as it happens, and G's latent space ---


class LiveTrainingFigure:
    """A training callback that redraws :func:`gan_helpers.plots.training_dashboard` in the notebook.

    Pass it to ``fit(..., callbacks=[live], epoch_callbacks=[live.epoch_end])``. It redraws at most
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

    def __call__(self, step: int, history: Any, G: nn.Module, D: nn.Module) -> None:
        if time.monotonic() - self._last >= self.every:
            self.draw(step, history, G)

    def epoch_end(self, run: Any) -> None:
        """Epoch callback for :func:`gan_helpers.training.fit`: always redraw."""
        self.draw(run.step, run.history, run.G, epoch=run.epoch)

    def draw(self, step: int, history: Any, G: nn.Module, epoch: int | None = None) -> None:
        """Redraw now: curves so far and G's current samples of the fixed noise."""
        if self._noise is None:
            generator = torch.Generator().manual_seed(self.seed)
            self._noise = torch.randn(self.num_images, G.latent_dim, generator=generator)
        images = training.generate(G, self._noise).cpu()
        label = f"step {step}" + (f", epoch {epoch}" if epoch is not None else "")
        fig = plots.training_dashboard(history, images, title=f"{self.title}: {label}" if self.title else label)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
        self.draws += 1
        self._last = time.monotonic()


def latent_explorer(G: nn.Module, num_directions: int = 3, seed: int = 0, scale: float = 3.0) -> ipw.interactive:
    r"""Sliders to walk G's latent space: two seeds, a slider between them, and a few random directions.

    The image shown is G's output for the point a fraction ``t`` of the way from seed a's noise to
    seed b's (:func:`gan_helpers.models.interpolate_latents`, spherical), moved by ``alpha_k`` along
    each of ``num_directions`` fixed random unit directions (sliders from ``-scale`` to ``scale``;
    a typical noise vector has length about :math:`\sqrt{d}`, 10 for ``latent_dim=100``).
    """
    d = G.latent_dim
    directions = torch.randn(num_directions, d, generator=torch.Generator().manual_seed(seed + 10_000))
    directions = directions / directions.norm(dim=1, keepdim=True)

    def latent(seed_a: int, seed_b: int, t: float, alphas: list[float]) -> Tensor:
        z_a = torch.randn(d, generator=torch.Generator().manual_seed(seed_a))
        z_b = torch.randn(d, generator=torch.Generator().manual_seed(seed_b))
        z = models.interpolate_latents(z_a, z_b, num=101)[round(t * 100)]
        return z + sum(a * u for a, u in zip(alphas, directions, strict=True))

    def show(seed_a: int, seed_b: int, t: float, **alphas: float) -> None:
        z = latent(seed_a, seed_b, t, [alphas[f"dir_{k}"] for k in range(num_directions)])
        image = training.generate(G, z[None]).cpu()
        fig = plots.show_images(image, nrow=1, scale=3.0, title=f"seed {seed_a} -> {seed_b}, t = {t:.2f}")
        plt.show()
        plt.close(fig)

    sliders = {f"dir_{k}": _slider(0.0, -scale, scale, 0.25, f"direction {k}") for k in range(num_directions)}
    return ipw.interactive(
        show,
        seed_a=ipw.IntSlider(value=seed, min=0, max=99, description="seed a", continuous_update=False),
        seed_b=ipw.IntSlider(value=seed + 1, min=0, max=99, description="seed b", continuous_update=False),
        t=_slider(0.0, 0.0, 1.0, 0.05, "a -> b"),
        **sliders,
    )


__all__ += ["LiveTrainingFigure", "latent_explorer"]


def _train_on_click(
    button: ipw.Button,
    controls: tuple[ipw.Widget, ...],
    out: ipw.Output,
    status: Callable[[], str],
    work: Callable[[], tuple[str, Figure]],
) -> None:
    """Wire ``button``: while ``work()`` trains, the controls are disabled and ``out`` shows
    ``status()``; then ``out`` shows the summary line and figure that ``work`` returns (or the
    divergence message, if training diverged)."""

    def on_click(_: object = None) -> None:
        for control in (*controls, button):
            control.disabled = True
        try:
            with out:
                out.clear_output(wait=True)
                print(status())
                try:
                    summary, fig = work()
                except training.TrainingDiverged as exc:
                    print(exc)
                    return
                out.clear_output(wait=True)
                print(summary)
                display(fig)
                plt.close(fig)
        finally:
            for control in (*controls, button):
                control.disabled = False

    button.on_click(on_click)


# --- Notebook 03: mode collapse and its remedies on 2-D toy data ---------------------------------


def mode_collapse_explorer(steps: int = 1000, max_steps: int = 6000) -> ipw.VBox:
    """Choose a 2-D data set, a remedy, a number of steps and a seed, then press *Train*.

    The button runs :func:`gan_helpers.training.run_mode_experiment` (the same function as the
    notebook's results table, so the same settings give the same numbers) and shows
    :func:`gan_helpers.plots.plot_mode_run`: the final samples over D's heat map and the samples
    per mode, with the modes covered and the high-quality share. Nothing trains until the
    button is pressed; the controls are disabled while it trains.
    """
    dataset = ipw.Dropdown(options=list(training.TOY_DATASETS), value="ring", description="data")
    remedy = ipw.Dropdown(options=list(training.REMEDIES), value="vanilla", description="remedy")
    num_steps = ipw.IntSlider(value=steps, min=100, max=max_steps, step=100, description="steps")
    seed = ipw.BoundedIntText(value=0, min=0, max=10_000, description="seed")
    button = ipw.Button(description="Train", button_style="primary", icon="play")
    out = ipw.Output()

    def work() -> tuple[str, Figure]:
        run = training.run_mode_experiment(dataset.value, remedy.value, seed.value, num_steps.value)
        return f"{run.remedy}: {run.coverage}; trained in {run.wall_time_s:.1f} s", plots.plot_mode_run(run)

    _train_on_click(
        button,
        (dataset, remedy, num_steps, seed),
        out,
        lambda: f"training {remedy.value} on the {dataset.value} for {num_steps.value} steps ...",
        work,
    )
    return ipw.VBox([ipw.HBox([dataset, remedy]), ipw.HBox([num_steps, seed, button]), out])


__all__ += ["mode_collapse_explorer"]


# --- Notebook 02: a GAN on a line -----------------------------------------------------------------------

TARGETS_1D = {"Gaussian N(4, 1.25²)": data.gaussian_1d, "two-mode mixture": data.mixture_1d}
"""The 1-D targets the explorer offers (notebook 02's two targets)."""


def _summary_1d(run: training.Run1D, target: data.GaussianMixture) -> str:
    """One line per measured outcome: final W1 and KS, and the mass near each mode for a mixture."""
    lines = [f"final W1 = {run.final('w1'):.4f}, KS = {run.final('ks'):.4f}, trained in {run.seconds:.1f} s"]
    if target.num_modes > 1:
        radius = 3 * float(target.stds.max())
        mass = metrics.mass_near_modes(run.samples, target.centres, radius)
        modes = ", ".join(f"{m:.0%} near {float(c):g}" for m, c in zip(mass, target.centres[:, 0], strict=True))
        lines.append(f"mass within {radius:g} of each mode: {modes}")
    return "\n".join(lines)


def toy_gan_1d_explorer(steps: int = 1500, max_steps: int = 6000) -> ipw.VBox:
    """Choose a target, the learning rates, k (D steps per G step), the loss, G's optimizer and steps; press *Train*.

    The button runs :func:`gan_helpers.training.train_gan_1d` (the notebook's own runs, so the same
    settings give the same numbers), prints the final W1 and KS (and the mass near each mode for
    the mixture) and draws :func:`gan_helpers.plots.plot_run_1d`. Nothing trains until the button
    is pressed; the controls are disabled while it trains.
    """
    defaults = training.GAN_1D_CONFIG
    target = ipw.Dropdown(options=list(TARGETS_1D), description="target")
    lr_d = ipw.FloatLogSlider(value=defaults["lr_d"], base=10, min=-4, max=-0.5, description="lr of D")
    lr_g = ipw.FloatLogSlider(value=defaults["lr_g"], base=10, min=-3, max=0.5, description="lr of G")
    d_steps = ipw.IntSlider(value=1, min=1, max=10, description="k (D steps)")
    loss = ipw.Dropdown(options=["nonsaturating", "saturating"], description="G loss")
    g_optimizer = ipw.Dropdown(options=["sgd", "adam"], description="G optimizer")
    num_steps = ipw.IntSlider(value=steps, min=100, max=max_steps, step=100, description="steps")
    seed = ipw.BoundedIntText(value=0, min=0, max=10_000, description="seed")
    button = ipw.Button(description="Train", button_style="primary", icon="play")
    out = ipw.Output()

    def work() -> tuple[str, Figure]:
        mixture = TARGETS_1D[target.value]()
        config = training.config_1d(
            steps=num_steps.value, lr_d=lr_d.value, lr_g=lr_g.value, d_steps=d_steps.value, loss=loss.value
        )
        run = training.train_gan_1d(
            mixture, config, seed=seed.value, g_optimizer=g_optimizer.value, snapshot_every=num_steps.value
        )
        return _summary_1d(run, mixture), plots.plot_run_1d(run, mixture)

    _train_on_click(
        button,
        (target, lr_d, lr_g, d_steps, loss, g_optimizer, num_steps, seed),
        out,
        lambda: f"training for {num_steps.value} steps ...",
        work,
    )
    rows = [ipw.HBox([target, loss, g_optimizer]), ipw.HBox([lr_d, lr_g, d_steps]), ipw.HBox([num_steps, seed, button])]
    return ipw.VBox([*rows, out])


__all__ += ["TARGETS_1D", "toy_gan_1d_explorer"]


# --- Notebook 07: a conditional G, one digit at a time ----------------------------------------------


def conditional_explorer(G: nn.Module, num_images: int = 16, seed: int = 0) -> ipw.interactive:
    r"""A digit dropdown and latent sliders for a conditional G: a grid of samples of the chosen class.

    "seed" picks the noise vectors :math:`z_i`; "truncation" scales them, :math:`z_i = s\,\varepsilon_i`
    (small :math:`s`: typical, similar digits; large: varied, odd ones). With "all digits" row
    :math:`k` shows class :math:`k` for the same :math:`z`, so the style stays and only the label changes.
    """
    options = [("all digits", -1)] + [(str(k), k) for k in range(G.num_classes)]

    def show(digit: int, seed: int, truncation: float) -> None:
        if digit < 0:
            per_row = 8
            labels = torch.arange(G.num_classes).repeat_interleave(per_row)
            rows = [labels[k * per_row : (k + 1) * per_row] for k in range(G.num_classes)]
            images = torch.cat([applications.sample_conditional(G, y, seed, truncation=truncation) for y in rows])
            fig = plots.show_images(images, nrow=per_row, title=f"each row one label, same z (seed {seed})")
        else:
            labels = torch.full((num_images,), digit)
            images = applications.sample_conditional(G, labels, seed, truncation=truncation)
            fig = plots.show_images(images, nrow=8, title=f"digit {digit}, seed {seed}, truncation {truncation:.2f}")
        plt.show()
        plt.close(fig)

    return ipw.interactive(
        show,
        digit=ipw.Dropdown(options=options, value=0, description="digit"),
        seed=ipw.IntSlider(value=seed, min=0, max=99, description="seed", continuous_update=False),
        truncation=_slider(1.0, 0.0, 2.0, 0.1, "truncation"),
    )


__all__ += ["conditional_explorer"]
