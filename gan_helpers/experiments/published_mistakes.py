r"""Mistakes found in published GAN tutorials, rewritten in PyTorch and measured on MNIST (notebook 04, section 4.1).

Each mistake is one wrong line in an otherwise correct loop, so each is a
:class:`gan_helpers.training.LoopMistake` for :func:`gan_helpers.training.train_gan`: a wrong D loss, a wrong G loss
or a wrongly written step, marked ``# MISTAKE``. :func:`run_mistake` trains the package's fully connected GAN with
one of them (or none) for a few hundred steps on real digits and measures the result (:class:`MistakeResult`).
The two shape mistakes do not train at all; :func:`noise_shape_error` and :func:`image_shaped_labels_error` return
what PyTorch says when the wrong line runs, and :func:`frozen_d_detached_error` what the package's
:func:`gan_helpers.training.g_step` (which freezes D) says to detached fakes.

The losses, with :math:`\ell = D(x)` a logit and :math:`\operatorname{BCE}(\ell, t) = \operatorname{softplus}(\ell)
- t\ell`:

* ``extra_head``: G's loss goes through a new head :math:`h(p) = \sigma(w p + b)` stacked on :math:`p = \sigma(\ell)`,
  :math:`L_G^{h} = \operatorname{mean}\,\operatorname{softplus}(-(w\,\sigma(\ell) + b))`, and :math:`w, b` are trained
  with G. Per sample, :math:`\partial L_G^{h} / \partial \ell = -w\,\sigma'(\ell)\,\sigma(-(w\sigma(\ell) + b))`, while
  the correct :math:`L_G = \operatorname{mean}\,\operatorname{softplus}(-\ell)` has :math:`-\sigma(-\ell)`: the sign
  of G's gradient is the sign of :math:`w`, a random number, not D's.
* ``detached_fakes``: G's loss is computed on ``G(z).detach()``: :math:`\nabla_{\theta_G} L_G = 0` exactly.
* ``real_only_d``: :math:`L_D = \operatorname{BCE}(1 - \sigma(\ell_r), 0) + \operatorname{BCE}(\sigma(\ell_r), 1)
  = 2\,\operatorname{mean}\,\operatorname{softplus}(-\ell_r)`: both terms are about real images.
* ``fakes_labelled_real``: :math:`L_D = \operatorname{mean}\,\operatorname{softplus}(-\ell_r)
  + \operatorname{mean}\,\operatorname{softplus}(-\ell_f)`: D is taught to call everything real.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gan_helpers import losses, metrics, models
from gan_helpers.data import DeviceBatches
from gan_helpers.runtime import seed_everything
from gan_helpers.sampling import sample, sample_noise
from gan_helpers.training import History, LoopMistake, TrainConfig, train_gan
from gan_helpers.training.step import Forward, StepOutcome, d_step, draw_fakes, g_step, generator_loss

__all__ = [
    "PUBLISHED_MISTAKES",
    "ExtraHead",
    "MistakeResult",
    "d_accuracy",
    "d_loss_fakes_labelled_real",
    "d_loss_real_only",
    "frozen_d_detached_error",
    "gradient_cosine",
    "head_cosine",
    "image_shaped_labels_error",
    "noise_shape_error",
    "run_mistake",
]


@dataclass(frozen=True)
class PublishedMistake:
    """One published mistake: the tutorial's line, its PyTorch translation and the corrected PyTorch line."""

    name: str
    published: str
    wrong: str
    fixed: str


PUBLISHED_MISTAKES: dict[str, PublishedMistake] = {
    m.name: m
    for m in (
        PublishedMistake(
            "extra_head",
            'build_gan: model.add(discriminator); model.add(Dense(1, activation="sigmoid"))',
            "loss_G = bce(head(torch.sigmoid(D(x_fake))), ones)  # head = nn.Sequential(nn.Linear(1, 1)), in opt_G",
            "loss_G = F.binary_cross_entropy_with_logits(D(x_fake), torch.ones_like(logits_fake))",
        ),
        PublishedMistake(
            "detached_fakes",
            "fake = generator.predict(z); gan.train_on_batch(fake, ones)",
            "x_fake = G(z).detach()  # or under torch.no_grad(), in G's step",
            "x_fake = G(z)  # G's step needs the graph back into G",
        ),
        PublishedMistake(
            "real_only_d",
            "d_loss = bce(zeros, 1 - D(x_real)) + bce(ones, D(x_real))",
            "loss_D = bce(1 - torch.sigmoid(D(x_real)), 0) + bce(torch.sigmoid(D(x_real)), 1)",
            "loss_D = gh.losses.d_loss(D(x_real), D(x_fake.detach()))",
        ),
        PublishedMistake(
            "fakes_labelled_real",
            "d_loss_fake = bce(ones_like(D(x_fake)), D(x_fake))",
            "loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))",
            "loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))",
        ),
        PublishedMistake(
            "noise_shape",
            "noise = np.random.normal(0, 1, (latent_dim, 100, 100, 3))",
            "z = torch.randn(latent_dim, 100, 100, 3)",
            "z = torch.randn(batch_size, latent_dim)  # (B, latent_dim)",
        ),
        PublishedMistake(
            "image_shaped_labels",
            "discriminator.train_on_batch(real_images, np.ones_like(real_images))",
            "F.binary_cross_entropy_with_logits(D(x_real), torch.ones_like(x_real))",
            "F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))  # (B,)",
        ),
    )
}
"""The published mistakes of notebook 04's gallery, by name (the four trained ones and the two shape ones)."""


# --- The wrong losses and the wrong step ---------------------------------------------------------------------------


class ExtraHead(nn.Module):
    r"""The extra ``Dense(1, activation="sigmoid")`` of a Keras ``build_gan``, as a logit: :math:`w\,\sigma(\ell) + b`.

    It takes D's logits :math:`\ell` (shape ``(B,)``); the Keras D ends in a sigmoid, so the head sees
    :math:`p = \sigma(\ell)`. Its output is a logit; :math:`\sigma` of it is the Keras model's output.
    :math:`w, b \sim U(-1, 1)`, PyTorch's default for ``nn.Linear(1, 1)``, drawn from a generator seeded by ``seed``.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.linear.weight.copy_(torch.rand(1, 1, generator=gen) * 2 - 1)
            self.linear.bias.copy_(torch.rand(1, generator=gen) * 2 - 1)

    @property
    def w_and_b(self) -> tuple[float, float]:
        """The head's weight and bias, as numbers."""
        return self.linear.weight.item(), self.linear.bias.item()

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.sigmoid(logits).unsqueeze(1)).squeeze(1)  # (B,)


def extra_head_g_loss(head: ExtraHead) -> Any:
    r"""G's loss through ``head``: :math:`\operatorname{mean}\,\operatorname{softplus}(-(w\sigma(\ell) + b))`."""

    def g_loss(D: nn.Module, x_fake: torch.Tensor, config: TrainConfig, *labels: Any) -> torch.Tensor:
        logits_fake = D(x_fake).float()
        return losses.g_loss_nonsaturating(head(logits_fake))  # MISTAKE: G is trained against the head, not D

    return g_loss


def d_loss_real_only(
    D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, config: TrainConfig, *labels: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""``bce(zeros, 1 - D(x_real)) + bce(ones, D(x_real))``, D's loss with two real terms.

    It equals :math:`2\,\operatorname{mean}\operatorname{softplus}(-\ell_r)`.
    Written with probabilities as the tutorial does (clamped as Keras clamps them); the fakes' logits are
    computed for the log only. Returns ``(loss, logits_real, logits_fake)``.
    """
    logits_real = D(x_real).float()
    with torch.no_grad():
        logits_fake = D(x_fake).float()
    p_real = torch.sigmoid(logits_real).clamp(1e-7, 1 - 1e-7)
    loss = F.binary_cross_entropy(1 - p_real, torch.zeros_like(p_real)) + F.binary_cross_entropy(  # MISTAKE
        p_real, torch.ones_like(p_real)
    )
    return loss, logits_real, logits_fake


def d_loss_fakes_labelled_real(
    D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, config: TrainConfig, *labels: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Both terms with target 1: :math:`\operatorname{mean}\operatorname{softplus}(-\ell_r)
    + \operatorname{mean}\operatorname{softplus}(-\ell_f)`. Returns ``(loss, logits_real, logits_fake)``."""
    logits_real, logits_fake = D(x_real).float(), D(x_fake).float()
    loss_real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))  # MISTAKE: ones
    return loss_real + loss_fake, logits_real, logits_fake


def step_with_detached_fakes(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor | None]],
    config: TrainConfig,
    forward: Forward = contextlib.nullcontext,
    **unused: Any,
) -> StepOutcome:
    """A step whose G update uses fakes cut from G (``generator.predict``): D is not frozen, so nothing errs."""
    x_real, _ = next(batches)
    x_fake, _ = draw_fakes(G, len(x_real), x_real.device, forward)
    loss_D, logits_real, logits_fake = d_step(D, opt_D, x_real, x_fake, config, forward=forward)
    with forward():
        loss_G = generator_loss(D, x_fake.detach(), config)  # MISTAKE: no graph back into G
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()  # fills D's gradients only (D's next zero_grad discards them)
    opt_G.step()  # G's parameters have no gradient: Adam skips them
    return StepOutcome(loss_D, loss_G, logits_real, logits_fake)


def noise_shape_error(G: nn.Module, latent_dim: int = 100) -> str:
    """What ``G(torch.randn(latent_dim, 100, 100, 3))`` raises (the package's G checks its input), as one line."""
    try:
        G(torch.randn(latent_dim, 100, 100, 3))  # MISTAKE: the shape of an image batch
    except (ValueError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def image_shaped_labels_error(D: nn.Module, x_real: torch.Tensor) -> str:
    """What BCE with image-shaped targets ``torch.ones_like(x_real)`` against D's ``(B,)`` logits raises (one line)."""
    logits_real = D(x_real)  # (B,)
    try:
        F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(x_real))  # MISTAKE: target (B, 1, 28, 28)
    except (ValueError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def frozen_d_detached_error(G: nn.Module, D: nn.Module, batch_size: int = 32) -> str:
    """What :func:`gan_helpers.training.g_step` raises when given detached fakes (D is frozen there), as one line."""
    opt_G = torch.optim.Adam(G.parameters())
    x_fake = G(sample_noise(batch_size, G.latent_dim, next(G.parameters()).device)).detach()  # MISTAKE
    try:
        g_step(D, opt_G, x_fake, TrainConfig())
    except RuntimeError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


# --- Measuring -----------------------------------------------------------------------------------------------------


def gradient_cosine(G: nn.Module, loss_a: torch.Tensor, loss_b: torch.Tensor) -> float:
    r"""Cosine of the angle between :math:`\nabla_{\theta_G} L_a` and :math:`\nabla_{\theta_G} L_b` (all of G's
    parameters as one vector): 1 for the same direction, -1 for opposite ones."""
    params = [p for p in G.parameters() if p.requires_grad]
    grad_a = torch.cat([g.flatten() for g in torch.autograd.grad(loss_a, params, retain_graph=True)])
    grad_b = torch.cat([g.flatten() for g in torch.autograd.grad(loss_b, params, retain_graph=True)])
    return float(F.cosine_similarity(grad_a, grad_b, dim=0))


def head_cosine(G: nn.Module, D: nn.Module, head: ExtraHead, z: torch.Tensor) -> float:
    r""":func:`gradient_cosine` of G's loss through ``head`` and G's correct loss through D, on fakes ``G(z)``."""
    logits_fake = D(G(z))  # (B,)
    return gradient_cosine(G, losses.g_loss_nonsaturating(head(logits_fake)), losses.g_loss_nonsaturating(logits_fake))


@torch.no_grad()
def d_accuracy(D: nn.Module, G: nn.Module, x_real: torch.Tensor, seed: int = 0) -> float:
    r"""D's accuracy at telling ``x_real`` from as many fresh fakes: :math:`\tfrac12(P[\ell_r > 0] + P[\ell_f < 0])`.

    D and G in eval mode (no dropout; batch norm's running statistics), modes restored after; 0.5 is chance.
    """
    was = D.training, G.training
    D.eval()
    G.eval()
    try:
        z = torch.randn(len(x_real), G.latent_dim, generator=torch.Generator().manual_seed(seed)).to(x_real.device)
        real_right = (D(x_real) > 0).double().mean()
        fake_right = (D(G(z)) < 0).double().mean()
    finally:
        D.train(was[0])
        G.train(was[1])
    return float((real_right + fake_right) / 2)


@dataclass
class MistakeResult:
    r"""What :func:`run_mistake` measured after ``steps`` steps.

    ``d_real``/``d_fake``: mean :math:`D(x)`, :math:`D(G(z))` over the last logged interval; ``d_accuracy``
    (:func:`d_accuracy`, held-out digits); ``g_change``: :math:`\max |\theta_G - \theta_G^{(0)}|` over G's parameters;
    ``fid``: FID at ``n`` in the shipped classifier's features (None without a classifier); ``samples``: G's
    images for a fixed noise batch; ``cosine_at_start``: for ``extra_head``, :func:`gradient_cosine` of G's loss
    through the head and through D at step 0; ``head``: the head's ``(w, b)`` at the start and at the end.
    """

    name: str
    steps: int
    history: History
    d_real: float
    d_fake: float
    d_accuracy: float
    g_change: float
    fid: float | None
    samples: torch.Tensor
    cosine_at_start: float | None = None
    head: tuple[tuple[float, float], tuple[float, float]] | None = None

    def __str__(self) -> str:
        fid = "" if self.fid is None else f", FID {self.fid:.0f}"
        return (
            f"D(x) {self.d_real:.2f}, D(G(z)) {self.d_fake:.2f}, D's accuracy {self.d_accuracy:.2f}, "
            f"max |change of G's weights| {self.g_change:.3g}{fid}"
        )


TRAINED = ("correct", "extra_head", "detached_fakes", "real_only_d", "fakes_labelled_real")
"""The names :func:`run_mistake` trains: the correct loop and the four mistakes that train without an error."""


def run_mistake(
    name: str,
    batches: DeviceBatches,
    held_out: torch.Tensor,
    steps: int = 400,
    seed: int = 0,
    classifier: nn.Module | None = None,
    n: int = 500,
    threads: int | None = 1,
    latent_dim: int = 100,
    head_seed: int = 0,
) -> MistakeResult:
    r"""Train the package's fully connected GAN (notebook 04's sizes) for ``steps`` steps with mistake ``name``.

    ``name`` is one of :data:`TRAINED`. Adam (lr :math:`2\cdot 10^{-4}`, :math:`\beta = (0.5, 0.999)`), seeded
    by ``seed`` so every variant starts from the same weights; ``held_out`` (images in [-1, 1], at least ``n``)
    serves for D's accuracy and as FID's reference. Runs on ``threads`` CPU threads (restored after).
    ``head_seed`` seeds the :class:`ExtraHead` of ``extra_head``.
    """
    if name not in TRAINED:
        raise ValueError(f"unknown name {name!r}; run_mistake trains {TRAINED}")
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run(name, batches, held_out, steps, seed, classifier, n, latent_dim, head_seed)
    finally:
        torch.set_num_threads(old_threads)


def _run(
    name: str,
    batches: DeviceBatches,
    held_out: torch.Tensor,
    steps: int,
    seed: int,
    classifier: nn.Module | None,
    n: int,
    latent_dim: int,
    head_seed: int,
) -> MistakeResult:
    seed_everything(seed)
    image_shape = tuple(held_out.shape[1:])
    G = models.MLPImageGenerator(latent_dim=latent_dim, image_shape=image_shape, hidden=(256, 512))
    D = models.MLPImageDiscriminator(image_shape=image_shape, hidden=(512, 256), dropout=0.3)
    config = TrainConfig(steps=steps, lr=2e-4, betas=(0.5, 0.999), log_every=20)
    start = [p.detach().clone() for p in G.parameters()]
    params_G = list(G.parameters())
    head, cosine, head_start, mistake = None, None, None, None
    if name == "extra_head":
        head = ExtraHead(head_seed)
        head_start = head.w_and_b
        params_G += list(head.parameters())  # the Keras combined model trains the new Dense layer with G
        cosine = head_cosine(G, D, head, sample_noise(64, latent_dim, held_out.device))
        mistake = LoopMistake(name, "G trained through an extra head", g_loss=extra_head_g_loss(head))
    elif name == "detached_fakes":
        mistake = LoopMistake(name, "G's loss on detached fakes", train_step=step_with_detached_fakes)
    elif name == "real_only_d":
        mistake = LoopMistake(name, "D's loss has two real terms", d_loss=d_loss_real_only)
    elif name == "fakes_labelled_real":
        mistake = LoopMistake(name, "D's fakes labelled real", d_loss=d_loss_fakes_labelled_real)
    optimizers = (
        torch.optim.Adam(params_G, lr=config.lr, betas=config.betas),
        torch.optim.Adam(D.parameters(), lr=config.lr, betas=config.betas),
    )
    history = train_gan(G, D, batches, config, optimizers=optimizers, mistake=mistake, progress=False)
    g_change = max(float((p.detach() - p0).abs().max()) for p, p0 in zip(G.parameters(), start, strict=True))
    fid = None
    if classifier is not None:
        fid = metrics.evaluate_generator(G, classifier, held_out, n=n, seed=1, device=held_out.device).fid
    return MistakeResult(
        name=name,
        steps=steps,
        history=history,
        d_real=history.last("d_real"),
        d_fake=history.last("d_fake"),
        d_accuracy=d_accuracy(D, G, held_out[:n], seed=seed),
        g_change=g_change,
        fid=fid,
        samples=sample(G, 16, seed=2, device=held_out.device),
        cosine_at_start=cosine,
        head=None if head is None else (head_start, head.w_and_b),
    )
