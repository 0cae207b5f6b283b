r"""Notebook 02's helpers: a GAN on a line (1-D targets), its distances to the target, snapshots, one-call runs
and the explorer widget. Only notebook 02 uses this module; the library never imports it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as ipw
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from gan_helpers import acceleration, data, metrics, plots, runtime, widgets
from gan_helpers.data.toy import GaussianMixture
from gan_helpers.models import MLPDiscriminator, MLPGenerator
from gan_helpers.sampling import eval_mode, evaluation_noise, generate
from gan_helpers.training import Callback, History, TrainConfig, train_gan

__all__ = [
    "BATCH_SIZE",
    "CONFIG",
    "TARGETS_1D",
    "DistanceCallback",
    "GeneratorMoveCallback",
    "Run1D",
    "Snapshot1D",
    "Snapshot1DCallback",
    "build_gan_1d",
    "describe_seeds",
    "describe_steps",
    "log_spaced_steps",
    "noise_quantiles",
    "optimizers_1d",
    "toy_gan_1d_explorer",
    "train_gan_1d",
]


class DistanceCallback(Callback):
    r"""A callback that logs ``w1`` and ``ks``, G's distance to 1-D target samples, every ``every`` steps.

    ``w1`` is :func:`gan_helpers.metrics.wasserstein_1d` and ``ks`` is
    :func:`gan_helpers.metrics.ks_statistic` between :math:`G(z_i)` for a fixed noise batch
    (:func:`gan_helpers.sampling.evaluation_noise`, as many points as ``target_samples``) and ``target_samples``. Use
    :meth:`log` to measure at step 0, before training. ``every`` should be a multiple of the
    training's ``log_every`` (callbacks run at log points) and divide the number of steps, so that
    the last step is measured.
    """

    def __init__(self, target_samples: torch.Tensor, every: int = 100, seed: int = 0) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.target = metrics.as_samples_1d(target_samples, "target_samples")
        self.every = every
        self.seed = seed
        self._noise: torch.Tensor | None = None

    def noise(self, latent_dim: int) -> torch.Tensor:
        """The fixed evaluation noise, made on first use (G's ``latent_dim`` is known only then)."""
        if self._noise is None or self._noise.shape[1] != latent_dim:
            self._noise = evaluation_noise(len(self.target), latent_dim, self.seed)
        return self._noise

    def distances(self, G: nn.Module) -> dict[str, float]:
        """``{"w1": ..., "ks": ...}`` for G now."""
        x_fake = generate(G, self.noise(G.latent_dim)).cpu()
        return {"w1": metrics.wasserstein_1d(x_fake, self.target), "ks": metrics.ks_statistic(x_fake, self.target)}

    def log(self, step: int, history: History, G: nn.Module) -> None:
        """Measure G and log ``w1`` and ``ks`` at ``step``."""
        history.log(step, **self.distances(G))

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step % self.every == 0:
            self.log(step, history, G)


class GeneratorMoveCallback(Callback):
    r"""A callback that logs ``g_move``, how far G's parameters :math:`\theta` moved per step since the last log point.

    At log steps :math:`s < t`: ``g_move`` :math:`= \lVert \theta_t - \theta_s \rVert_2 / (t - s)`, the net
    displacement per step (at most the mean length of the single steps, equal to it when they all point the same
    way). For plain SGD one step is :math:`\eta\, \lVert g \rVert`, so with ``log_every=1`` ``g_move`` equals
    the learning rate times the logged ``grad_norm_g``. :meth:`start` records where G begins (step 0).
    """

    def __init__(self) -> None:
        self._last: tuple[int, torch.Tensor] | None = None

    @staticmethod
    def _flat(G: nn.Module) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1).double().cpu() for p in G.parameters()])

    def start(self, G: nn.Module, step: int = 0) -> None:
        """Remember G's parameters at ``step`` (call it before training)."""
        self._last = (step, self._flat(G))

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        now = self._flat(G)
        if self._last is not None and step > self._last[0]:
            history.log(step, g_move=float((now - self._last[1]).norm()) / (step - self._last[0]))
        self._last = (step, now)


@dataclass(frozen=True)
class Snapshot1D:
    r"""A 1-D GAN at one step, as numbers: D on a grid, generated samples, and G on a line of noise.

    ``d_prob`` is :math:`D(x) = \sigma(\ell(x))` on ``x_grid``; ``samples`` are G's outputs on fixed
    noise; ``z_line`` are noise values and ``x_of_z`` their images :math:`G(z)` (empty when the
    latent space is not 1-D, since then no single z-axis exists).
    """

    step: int
    x_grid: np.ndarray  # (n_grid,)
    d_prob: np.ndarray  # (n_grid,)
    samples: np.ndarray  # (n_samples,)
    z_line: np.ndarray  # (n_lines,)
    x_of_z: np.ndarray  # (n_lines,)


def noise_quantiles(num: int) -> torch.Tensor:
    r"""The ``num`` standard-normal quantiles :math:`z_k = \Phi^{-1}\big((k - \tfrac12)/\text{num}\big)`, k = 1..num.

    Each carries probability :math:`1/\text{num}` of the noise, so the images :math:`G(z_k)` crowd
    where G puts much mass and thin out where it puts little.
    """
    if num < 1:
        raise ValueError(f"num must be at least 1, got {num}")
    return torch.special.ndtri((torch.arange(num, dtype=torch.float64) + 0.5) / num).float()


class Snapshot1DCallback(Callback):
    """Stores a :class:`Snapshot1D` every ``every`` steps and/or at the steps in ``at``.

    Call :meth:`record` for step 0. It keeps numbers, not models: D's probabilities on
    ``x_grid``, ``num_samples`` samples of G on fixed noise, and G on ``num_lines`` noise
    quantiles (:func:`noise_quantiles`) when ``latent_dim`` is 1.
    :func:`gan_helpers.plots.plot_gan_1d` draws a snapshot. Callbacks run at log points, so the
    steps should be multiples of the training's ``log_every`` (see :func:`log_spaced_steps`).
    """

    def __init__(
        self,
        x_grid: torch.Tensor,
        every: int | None = None,
        num_samples: int = 4000,
        num_lines: int = 30,
        seed: int = 1,
        at: Sequence[int] = (),
    ) -> None:
        if every is None and not at:
            raise ValueError("say when to record: pass every=N (steps) or at=[steps]")
        if every is not None and every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.x_grid = torch.as_tensor(x_grid, dtype=torch.float32).reshape(-1)
        self.every = every
        self.at = {int(step) for step in at}
        self.num_samples = num_samples
        self.num_lines = num_lines
        self.seed = seed
        self.snapshots: list[Snapshot1D] = []

    def record(self, step: int, G: nn.Module, D: nn.Module) -> Snapshot1D:
        """Capture and store the current state of G and D."""
        noise = evaluation_noise(self.num_samples, G.latent_dim, self.seed)
        samples = generate(G, noise).cpu().reshape(-1)
        z_line = noise_quantiles(self.num_lines) if G.latent_dim == 1 else torch.zeros(0)
        x_of_z = generate(G, z_line[:, None]).cpu().reshape(-1) if len(z_line) else torch.zeros(0)
        with eval_mode(D):
            d_prob = torch.sigmoid(D(self.x_grid[:, None].to(next(D.parameters()).device))).cpu()
        snapshot = Snapshot1D(
            step, self.x_grid.numpy(), d_prob.numpy(), samples.numpy(), z_line.numpy(), x_of_z.numpy()
        )
        self.snapshots.append(snapshot)
        return snapshot

    def on_log(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if step in self.at or (self.every is not None and step % self.every == 0):
            self.record(step, G, D)


def log_spaced_steps(total: int, num: int, multiple_of: int = 10) -> list[int]:
    r"""About ``num`` steps up to ``total``, evenly spaced in :math:`\log t`, rounded to multiples of ``multiple_of``.

    A GAN changes fastest early on, so snapshots at geometrically spaced steps
    :math:`t_j = t_0 (T/t_0)^{j/(n-1)}`, from :math:`t_0 = \max(\text{multiple\_of}, T/100)` to
    :math:`T` = ``total``, show the first moves and the slow finish alike. Rounding may merge
    steps, so fewer than ``num`` can come back; ``total`` is always the last.
    """
    if total < multiple_of or num < 1 or multiple_of < 1:
        raise ValueError(f"need total >= multiple_of >= 1 and num >= 1, got {total}, {multiple_of}, {num}")
    raw = np.geomspace(max(multiple_of, total / 100), total, num)
    steps = {max(multiple_of, round(t / multiple_of) * multiple_of) for t in raw.tolist()}
    return sorted(t for t in steps | {total} if t <= total)


def build_gan_1d(latent_dim: int = 1, hidden: Sequence[int] = (32, 32)) -> tuple[MLPGenerator, MLPDiscriminator]:
    """A small MLP generator (noise ``(B, latent_dim)`` to ``(B, 1)``) and discriminator (``(B, 1)`` to logits)."""
    return MLPGenerator(latent_dim=latent_dim, data_dim=1, hidden=hidden), MLPDiscriminator(data_dim=1, hidden=hidden)


def optimizers_1d(
    G: nn.Module, D: nn.Module, config: TrainConfig, g_optimizer: str = "sgd"
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """``(opt_G, opt_D)`` for the 1-D GAN: D uses Adam (``lr_d``, ``betas``); G uses plain SGD or Adam at ``lr_g``.

    Adam divides each gradient by a running estimate of its size, so G moves by about ``lr_g`` per
    step however small its gradient is; plain SGD moves by ``lr_g`` times the gradient, so G's
    steps shrink as D's signal fades near the target (and a vanishing gradient shows as a stall).
    """
    if g_optimizer not in ("sgd", "adam"):
        raise ValueError(f"Unknown g_optimizer {g_optimizer!r}; choose 'sgd' or 'adam'.")
    opt_D = acceleration.adam(D.parameters(), lr=config.lr_discriminator, betas=config.betas)
    if g_optimizer == "sgd":
        opt_G: torch.optim.Optimizer = torch.optim.SGD(G.parameters(), lr=config.lr_generator)
    else:
        opt_G = acceleration.adam(G.parameters(), lr=config.lr_generator, betas=config.betas)
    return opt_G, opt_D


BATCH_SIZE = 256
"""Samples of the target per batch in notebook 02's runs."""

CONFIG = TrainConfig(lr_d=1e-3, lr_g=0.02, betas=(0.0, 0.9), log_every=10)
"""The settings of notebook 02's 1-D GAN (D: Adam at ``lr_d``; G: SGD at ``lr_g``): ``CONFIG.replace(steps=3000)``."""


@dataclass
class Run1D:
    """The result of :func:`train_gan_1d`: the trained players, the history, snapshots and time."""

    G: nn.Module
    D: nn.Module
    history: History
    snapshots: list[Snapshot1D]
    seconds: float
    samples: np.ndarray  # (num_eval,) final samples of G on the evaluation noise

    def describe(self, label: str = "") -> str:
        """One line of measured numbers: final W1, the median and maximum of W1 over the run's second half, time."""
        w1 = self.history["w1"]
        late = w1[len(w1) // 2 :]
        return (
            f"{label:>16}  final W1 {w1[-1]:8.3f} | 2nd half: median {np.median(late):8.3f}, "
            f"max {late.max():8.3f} | {self.seconds:4.1f} s"
        )


def describe_seeds(label: str, runs: Sequence[Run1D], goal: float | None = None) -> str:
    """One line for one setting over several seeds: each run's final W1 and W1's maximum over its second half,
    in the order of ``runs``, and with ``goal`` how many runs ended below it."""
    finals = [run.history["w1"][-1] for run in runs]
    maxima = [run.history["w1"][len(run.history["w1"]) // 2 :].max() for run in runs]
    line = (
        f"{label:>20}  final W1 {' '.join(f'{v:6.3f}' for v in finals)} | "
        f"2nd-half max {' '.join(f'{v:6.3f}' for v in maxima)}"
    )
    if goal is not None:
        line += f" | below {goal:g}: {sum(v < goal for v in finals)} of {len(runs)}"
    return line


def describe_steps(label: str, runs: Sequence[Run1D]) -> str:
    """Two lines for one setting over several seeds: G's gradient norm, then G's parameter move per step
    (``g_move``), each over the first logged interval and as the median over the run, per run.

    The runs must have been trained with ``grad_norms=True, moves=True``.
    """

    def per_run(name: str) -> str:
        first = " ".join(f"{run.history[name][0]:.1e}" for run in runs)
        median = " ".join(f"{np.median(run.history[name]):.1e}" for run in runs)
        return f"first interval {first} | median {median}"

    return f"{label:>20}  gradient norm: {per_run('grad_norm_g')}\n{'':>20}  move per step: {per_run('g_move')}"


def train_gan_1d(
    target: GaussianMixture,
    config: TrainConfig,
    *,
    latent_dim: int = 1,
    hidden: Sequence[int] = (32, 32),
    seed: int = 0,
    g_optimizer: str = "sgd",
    models: tuple[nn.Module, nn.Module] | None = None,
    num_eval: int = 20_000,
    eval_every: int = 100,
    snapshot_every: int | None = None,
    x_range: tuple[float, float] | None = None,
    callbacks: Sequence[Callback] = (),
    grad_norms: bool = False,
    moves: bool = False,
    num_threads: int | None = 1,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
) -> Run1D:
    """Seed, build (or copy ``models``), train a 1-D GAN on ``target`` with :func:`train_gan`, measure it.

    ``w1`` and ``ks`` to ``num_eval`` target samples are logged at step 0 and every
    ``eval_every`` steps (:class:`DistanceCallback`); with ``snapshot_every``, snapshots on
    ``x_range`` (default: the target's mean +- 5 std) are kept. ``models`` are deep-copied, so one
    starting point can be trained several ways. With ``grad_norms`` the history has G's and D's gradient
    norms, with ``moves`` G's parameter change per step, ``g_move`` (:class:`GeneratorMoveCallback`). The whole
    run is fixed by ``seed``. It runs on
    ``num_threads`` CPU threads (``None``: unchanged): models this small gain nothing from more, and
    on a busy machine extra threads mostly wait for each other.
    """
    if target.dim != 1:
        raise ValueError(f"train_gan_1d needs a 1-D target, got one of dimension {target.dim}")
    runtime.seed_everything(seed)
    G, D = (copy.deepcopy(models[0]), copy.deepcopy(models[1])) if models else build_gan_1d(latent_dim, hidden)
    x_target = target.sample(num_eval, generator=torch.Generator().manual_seed(seed + 10_000))
    distance = DistanceCallback(x_target, every=eval_every, seed=seed + 20_000)
    history = History()
    distance.log(0, history, G)
    recorder = None
    if snapshot_every:
        mean, std = float(target.mean()), float(target.covariance().sqrt())
        low, high = x_range or (mean - 5 * std, mean + 5 * std)
        recorder = Snapshot1DCallback(torch.linspace(low, high, 300), every=snapshot_every)
        recorder.record(0, G, D)
    mover = GeneratorMoveCallback() if moves else None
    if mover:
        mover.start(G)
    start = time.perf_counter()
    with runtime.cpu_threads(num_threads):
        train_gan(
            G,
            D,
            data.SampledBatches(target.sample, batch_size),
            config,
            optimizers=optimizers_1d(G, D, config, g_optimizer),
            history=history,
            callbacks=[distance, *([recorder] if recorder else []), *([mover] if mover else []), *callbacks],
            grad_norms=grad_norms,
            progress=progress,
        )
    seconds = time.perf_counter() - start
    samples = generate(G, distance.noise(G.latent_dim)).cpu().reshape(-1).numpy()
    return Run1D(G, D, history, recorder.snapshots if recorder else [], seconds, samples)


# --- The explorer widget ------------------------------------------------------------------------------------

TARGETS_1D = {"Gaussian N(4, 1.25²)": data.gaussian_1d, "two-mode mixture": data.mixture_1d}
"""The 1-D targets the explorer offers (notebook 02's two targets)."""


def _summary_1d(run: Run1D, target: GaussianMixture) -> str:
    """One line per measured outcome: final W1 and KS, and the mass near each mode for a mixture."""
    lines = [
        f"final W1 = {run.history.last('w1'):.4f}, KS = {run.history.last('ks'):.4f}, trained in {run.seconds:.1f} s"
    ]
    if target.num_modes > 1:
        radius = 3 * float(target.stds.max())
        mass = metrics.mass_near_modes(run.samples, target.centres, radius)
        modes = ", ".join(f"{m:.0%} near {float(c):g}" for m, c in zip(mass, target.centres[:, 0], strict=True))
        lines.append(f"mass within {radius:g} of each mode: {modes}")
    return "\n".join(lines)


def toy_gan_1d_explorer(steps: int = 1500, max_steps: int = 6000) -> widgets.Explorer:
    """Choose a target, the learning rates, k (D steps per G step), the loss, G's optimizer and steps; press *Train*.

    The button runs :func:`train_gan_1d` (the notebook's own runs, so the same settings give the
    same numbers), prints the final W1 and KS (and the mass near each mode for the mixture) and
    draws :func:`gan_helpers.plots.plot_run_1d`. Nothing trains until the button is pressed; the
    controls are disabled while it trains.
    """
    target = ipw.Dropdown(options=list(TARGETS_1D), description="target")
    lr_d = widgets.log_slider(CONFIG.lr_discriminator, 1e-4, 0.5, "lr of D")
    lr_g = widgets.log_slider(CONFIG.lr_generator, 1e-3, 2.0, "lr of G")
    d_steps = ipw.IntSlider(value=1, min=1, max=10, description="k (D steps)")
    loss = ipw.Dropdown(options=["nonsaturating", "saturating"], description="G loss")
    g_optimizer = ipw.Dropdown(options=["sgd", "adam"], description="G optimizer")
    num_steps = ipw.IntSlider(value=steps, min=100, max=max_steps, step=100, description="steps")
    seed = ipw.BoundedIntText(value=0, min=0, max=10_000, description="seed")
    button = ipw.Button(description="Train", button_style="primary", icon="play")

    def work() -> tuple[str, Figure]:
        mixture = TARGETS_1D[target.value]()
        config = CONFIG.replace(
            steps=num_steps.value, lr_d=lr_d.value, lr_g=lr_g.value, d_steps=d_steps.value, loss=loss.value
        )
        run = train_gan_1d(
            mixture, config, seed=seed.value, g_optimizer=g_optimizer.value, snapshot_every=num_steps.value
        )
        settings = (
            f"settings: lr of D {lr_d.value:g}, lr of G {lr_g.value:g}, k {d_steps.value}, {loss.value} loss, "
            f"{g_optimizer.value}, {num_steps.value} steps, seed {seed.value}"
        )
        return f"{_summary_1d(run, mixture)}\n{settings}", plots.plot_run_1d(run, mixture)

    return widgets.train_explorer(
        [[target, loss, g_optimizer], [lr_d, lr_g, d_steps], [num_steps, seed, button]],
        button,
        lambda: f"training for {num_steps.value} steps ...",
        work,
        first=_untrained_view_1d(TARGETS_1D[target.value](), seed.value),
        summary="1-D GAN explorer: choose the settings, press Train",
    )


def _untrained_view_1d(target: GaussianMixture, seed: int) -> Figure:
    """What the explorer shows before *Train*: G's samples at initialisation (``seed``) over the target."""
    with torch.random.fork_rng():  # the notebook's own random numbers stay as they were
        torch.manual_seed(seed)
        G, _ = build_gan_1d()
    samples = generate(G, torch.randn(20_000, G.latent_dim, generator=torch.Generator().manual_seed(seed)))
    return plots.plot_samples_1d(samples, target, title=f"before training (seed {seed}): press Train")
