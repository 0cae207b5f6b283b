"""Exercise checkers: each compares a student's answer with the package's and says right or wrong, with a hint."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from gan_helpers import data, losses, metrics, models

__all__ = [
    "Feedback",
    "check_d_loss",
    "check_generator_gradient",
    "check_jsd",
    "check_optimal_discriminator",
]


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``ok`` and a message (with a hint when not ok)."""

    ok: bool
    message: str

    def __str__(self) -> str:
        return ("Correct: " if self.ok else "Not yet: ") + self.message

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.ok


def _verdict(ok: bool, success: str, hint: str) -> Feedback:
    """Build a ``Feedback``: ``success`` when right, otherwise ``hint``."""
    return Feedback(ok, success if ok else hint)


# --- Notebook 01: the GAN objective -------------------------------------------------------------------


def _student_result(fn: Callable[..., Any], *args: Any) -> tuple[torch.Tensor | None, Feedback | None]:
    """Call a student's function; return its result as a float64 tensor, or a Feedback saying what failed."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, Feedback(False, "the function is not written yet (it raises NotImplementedError).")
    except Exception as exc:  # a student's bug of any kind becomes a hint, not a traceback
        return None, Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
    if result is None:
        return None, Feedback(False, "your function returned None: did you forget `return`?")
    try:
        return torch.as_tensor(result, dtype=torch.float64).detach(), None
    except (TypeError, ValueError, RuntimeError):
        return None, Feedback(False, f"return a tensor or a number, not {type(result).__name__}.")


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> bool:
    """Same shape, all finite, and equal within the tolerances (no broadcasting of a wrong shape)."""
    return a.shape == b.shape and bool(torch.isfinite(a).all()) and torch.allclose(a, b, rtol=rtol, atol=atol)


def check_d_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], seed: int = 0) -> Feedback:
    r"""Check ``fn(logits_real, logits_fake)`` against :func:`gan_helpers.losses.d_loss` (no smoothing).

    The expected answer is :math:`L_D = \operatorname{mean}\,\operatorname{softplus}(-\ell_{real})
    + \operatorname{mean}\,\operatorname{softplus}(\ell_{fake})`, the batch mean of
    :math:`-\log D(x) - \log(1 - D(G(z)))`. Tested on random logits of moderate size and on
    logits of size 200, where a loss written as ``log(sigmoid(...))`` breaks.
    """
    gen = torch.Generator().manual_seed(seed)
    for _ in range(3):
        logits_real = 2 * torch.randn(64, generator=gen)
        logits_fake = 2 * torch.randn(64, generator=gen)
        expected = losses.d_loss(logits_real, logits_fake).double()
        got, problem = _student_result(fn, logits_real.clone(), logits_fake.clone())
        if problem is not None:
            return problem
        if got.ndim != 0:
            return Feedback(False, f"return one number (the batch mean), got a tensor of shape {tuple(got.shape)}.")
        if _close(got, expected, atol=1e-5, rtol=1e-4):  # float32 log(sigmoid) is this accurate here
            continue
        if _close(got, 64 * expected, rtol=1e-4):
            return Feedback(False, "your loss is 64 times too large on a batch of 64: average, don't sum.")
        if _close(got, -expected):
            return Feedback(False, "right size, wrong sign: L_D = -log D(x) - log(1 - D(G(z))) is positive.")
        return Feedback(
            False,
            "wrong value. L_D = mean(-log D(x)) + mean(-log(1 - D(G(z)))) with D = sigmoid(logit); "
            "on logits: mean(softplus(-logits_real)) + mean(softplus(logits_fake)).",
        )
    extreme_real = torch.tensor([-200.0, 200.0, 5.0])
    extreme_fake = torch.tensor([200.0, -200.0, -5.0])
    got, problem = _student_result(fn, extreme_real, extreme_fake)
    if problem is not None:
        return problem
    expected = losses.d_loss(extreme_real, extreme_fake).double()
    if not bool(torch.isfinite(got).all()):
        return Feedback(
            False,
            "right for moderate logits, but inf/nan for logits of size 200: sigmoid rounds to exactly 0 or 1 "
            "and log(0) = -inf. Work on logits: F.softplus or F.binary_cross_entropy_with_logits.",
        )
    return _verdict(
        _close(got, expected, atol=1e-4),
        "your d_loss matches gh.losses.d_loss, also for logits of size 200.",
        "right for moderate logits but wrong for logits of size 200: use F.softplus or "
        "F.binary_cross_entropy_with_logits rather than clamping probabilities.",
    )


def check_optimal_discriminator(
    fn: Callable[[torch.Tensor, float, float, float, float], torch.Tensor], seed: int = 0
) -> Feedback:
    r"""Check ``fn(x, mean_data, std_data, mean_g, std_g)`` returns :math:`D^*(x) = p_{data}(x)/(p_{data}(x) + p_g(x))`.

    Both densities are Gaussians :math:`\mathcal N(\mu, \sigma^2)`; ``x`` is a float64 tensor of
    shape ``(n,)`` and the answer must have the same shape. Compared with
    :func:`gan_helpers.metrics.optimal_discriminator` for random means and standard deviations.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.linspace(-4.0, 4.0, 101, dtype=torch.float64)
    for _ in range(4):
        mean_data, mean_g = (6 * torch.rand(2, generator=gen) - 3).tolist()
        std_data, std_g = (0.5 + 1.5 * torch.rand(2, generator=gen)).tolist()
        expected = metrics.optimal_discriminator(
            data.gaussian_1d(mean_data, std_data), data.gaussian_1d(mean_g, std_g), x
        )
        got, problem = _student_result(fn, x.clone(), mean_data, std_data, mean_g, std_g)
        if problem is not None:
            return problem
        if got.shape != x.shape:
            return Feedback(False, f"return one value per point of x, shape {tuple(x.shape)}; got {tuple(got.shape)}.")
        if _close(got, expected, atol=1e-5):
            continue
        if _close(got, 1 - expected, atol=1e-5):
            return Feedback(False, "you returned p_g / (p_data + p_g): D* is the probability of *real*, p_data on top.")
        return Feedback(
            False,
            "wrong values. D*(x) = p_data(x) / (p_data(x) + p_g(x)) with the full Gaussian density "
            "exp(-(x - mu)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)): the normalising constant matters when "
            "the two standard deviations differ.",
        )
    return Feedback(True, "your D* matches gh.metrics.optimal_discriminator for random pairs of Gaussians.")


def check_generator_gradient(
    fn: Callable[[torch.Tensor], torch.Tensor], kind: str = "saturating", seed: int = 0
) -> Feedback:
    r"""Check ``fn(d_fake)``: the derivative of one sample's generator loss with respect to D's logit.

    ``d_fake`` holds values of :math:`D(G(z)) = \sigma(\ell)` in (0, 1). For ``kind="saturating"``
    (loss :math:`\log(1 - D)`) the answer is :math:`-D`; for ``"nonsaturating"``
    (:math:`-\log D`) it is :math:`D - 1` (:func:`gan_helpers.losses.generator_logit_gradient`).
    """
    if kind not in losses.GENERATOR_LOSSES:
        raise ValueError(f"Unknown generator loss {kind!r}; choose one of {losses.GENERATOR_LOSSES}.")
    gen = torch.Generator().manual_seed(seed)
    d_fake = (0.001 + 0.998 * torch.rand(50, generator=gen)).double()
    expected = losses.generator_logit_gradient(d_fake, kind)
    got, problem = _student_result(fn, d_fake.clone())
    if problem is not None:
        return problem
    if got.shape != d_fake.shape:
        return Feedback(False, f"return one value per entry of d_fake, {tuple(d_fake.shape)}, not {tuple(got.shape)}.")
    other = "nonsaturating" if kind == "saturating" else "saturating"
    if _close(got, losses.generator_logit_gradient(d_fake, other)):
        return Feedback(False, f"that is the gradient of the {other} loss; you were asked for the {kind} one.")
    if _close(got, -expected):
        return Feedback(False, "right size, wrong sign: differentiate the loss G minimises, as the package defines it.")
    if _close(got * d_fake * (1 - d_fake), expected):
        return Feedback(False, "that is the derivative with respect to D; multiply by dD/dlogit = D(1 - D).")
    return _verdict(
        _close(got, expected),
        f"your {kind} gradient matches: {'-D' if kind == 'saturating' else 'D - 1'}.",
        "wrong values. Write the loss as a function of the logit l with D = sigmoid(l), use "
        "sigmoid'(l) = D(1 - D), and express the result in D.",
    )


def check_jsd(fn: Callable[[float, float, float, float], float], seed: int = 0) -> Feedback:
    r"""Check ``fn(mean_p, std_p, mean_q, std_q)`` returns :math:`\mathrm{JSD}(p\,\|\,q)` of two 1-D Gaussians in nats.

    :math:`\mathrm{JSD} = \tfrac12\mathrm{KL}(p\,\|\,m) + \tfrac12\mathrm{KL}(q\,\|\,m)` with
    :math:`m = (p + q)/2`. Compared with :func:`gan_helpers.metrics.jsd_numeric` to within
    :math:`10^{-3}`, which a quadrature on a fine grid meets and a small Monte Carlo sample does not.
    """
    gen = torch.Generator().manual_seed(seed)
    for _ in range(3):
        mean_p, mean_q = (6 * torch.rand(2, generator=gen) - 3).tolist()
        std_p, std_q = (0.5 + 1.5 * torch.rand(2, generator=gen)).tolist()
        expected = metrics.jsd_numeric(data.gaussian_1d(mean_p, std_p), data.gaussian_1d(mean_q, std_q))
        got, problem = _student_result(fn, mean_p, std_p, mean_q, std_q)
        if problem is not None:
            return problem
        if got.numel() != 1 or not bool(torch.isfinite(got).all()):
            return Feedback(False, "return one finite number.")
        value = float(got.reshape(()))
        if abs(value - expected) <= 1e-3:
            continue
        if abs(value - expected / math.log(2)) <= 1e-3:
            return Feedback(False, "you measured in bits (log base 2); use the natural log, so JSD <= log 2 = 0.693.")
        if value > math.log(2):
            return Feedback(False, f"{value:.4f} exceeds log 2 = 0.6931, which no JSD can: compare p and q with m.")
        return Feedback(
            False,
            "wrong value. JSD = 0.5 KL(p||m) + 0.5 KL(q||m) with m = (p + q)/2; integrate on a fine grid "
            "covering both densities (e.g. 4000 points over mean +- 10 std).",
        )
    return Feedback(True, "your JSD matches gh.metrics.jsd_numeric for random pairs of Gaussians.")


# --- Notebook 03: mode collapse and its remedies ----------------------------------------------------


def _small_critic(seed: int) -> torch.nn.Module:
    """A seeded 2-D critic: an MLP with a nonzero, non-unit input gradient almost everywhere."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


def _penalty_variants(critic: torch.nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, seed: int) -> dict:
    """Common wrong answers, each with the same interpolation weights as the package's penalty."""
    eps = torch.rand(x_real.shape[0], 1, generator=torch.Generator().manual_seed(seed))

    def norms(x_hat: torch.Tensor) -> torch.Tensor:
        x_hat = x_hat.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
        return grad.norm(dim=1)

    return {
        "swapped": (norms(eps * x_fake + (1 - eps) * x_real) - 1).pow(2).mean(),
        "no minus one": norms(eps * x_real + (1 - eps) * x_fake).pow(2).mean(),
    }


def check_gradient_penalty(
    fn: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor], seed: int = 0
) -> Feedback:
    r"""Check ``fn(critic, x_real, x_fake, generator)`` against :func:`gan_helpers.losses.gradient_penalty`.

    Expected: :math:`\mathbb{E}[(\lVert\nabla_{\hat x} f(\hat x)\rVert_2 - 1)^2]` with
    :math:`\hat x = \epsilon x_{real} + (1 - \epsilon) x_{fake}` and one
    :math:`\epsilon \sim U(0, 1)` per sample drawn as ``torch.rand(B, 1, generator=generator)``
    (so both use the same numbers). Then: the result must be differentiable with respect to the
    critic's weights (``create_graph=True``), and a constant critic must give 1 with finite
    gradients (the norm written as :math:`\sqrt{\lVert g\rVert^2 + 10^{-12}}`).
    """
    gen = torch.Generator().manual_seed(seed)
    x_real = torch.randn(32, 2, generator=gen)
    x_fake = 2 * torch.randn(32, 2, generator=gen) + 1
    critic = _small_critic(seed)
    expected = losses.gradient_penalty(critic, x_real, x_fake, generator=torch.Generator().manual_seed(seed))
    try:
        result = fn(critic, x_real.clone(), x_fake.clone(), torch.Generator().manual_seed(seed))
    except NotImplementedError:
        return Feedback(False, "the function is not written yet (it raises NotImplementedError).")
    except Exception as exc:  # a student's bug of any kind becomes a hint, not a traceback
        return Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
    got, problem = _student_result(lambda: result)
    if problem is not None:
        return problem
    if got.ndim != 0:
        return Feedback(False, f"return one number (the mean over the batch), got shape {tuple(got.shape)}.")
    if not _close(got, expected.double(), atol=1e-5, rtol=1e-4):
        for name, value in _penalty_variants(critic, x_real, x_fake, seed).items():
            if _close(got, value.double(), atol=1e-5, rtol=1e-4):
                hints = {
                    "swapped": "x_hat = eps * x_real + (1 - eps) * x_fake: you swapped real and fake.",
                    "no minus one": "the penalty is (norm - 1)^2, not norm^2: it pulls the norm towards 1, not 0.",
                }
                return Feedback(False, hints[name])
        return Feedback(
            False,
            "wrong value. Draw eps = torch.rand(B, 1, generator=generator) (one per sample, first thing), "
            "form x_hat, take torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True), then "
            "the mean of (norm - 1)^2 over the batch.",
        )
    if not (isinstance(result, torch.Tensor) and result.requires_grad):
        return Feedback(
            False,
            "right value, but it does not depend on the critic's weights: pass create_graph=True to autograd.grad.",
        )
    constant = _small_critic(seed)
    with torch.no_grad():
        constant[2].weight.zero_()  # the input gradient is exactly zero everywhere
    try:
        flat = fn(constant, x_real.clone(), x_fake.clone(), torch.Generator().manual_seed(seed))
        flat.backward()
    except Exception as exc:  # a student's bug of any kind becomes a hint, not a traceback
        return Feedback(False, f"a constant critic made your function raise {type(exc).__name__}: {exc}")
    grads = [p.grad for p in constant.parameters() if p.grad is not None]
    finite = all(bool(torch.isfinite(g).all()) for g in grads)
    return _verdict(
        finite and abs(float(flat.detach()) - 1.0) < 1e-4,
        "your gradient penalty matches gh.losses.gradient_penalty, also for a critic with zero gradient.",
        "right for an ordinary critic, but a constant critic (gradient exactly 0) gives NaN gradients: "
        "d sqrt(s)/ds is infinite at s = 0. Write the norm as sqrt((grad**2).sum(1) + 1e-12).",
    )


def _ring_cases(seed: int) -> list[tuple[torch.Tensor, int]]:
    """Samples against the 8-mode ring (sigma 0.02) with ``min_count``; the answers come from the package."""
    ring = data.ring_2d(num_modes=8, radius=2.0, std=0.02)
    gen = torch.Generator().manual_seed(seed)

    def around(k: int, n: int, spread: float) -> torch.Tensor:
        return ring.centres[k] + spread * torch.randn(n, 2, generator=gen)

    return [
        (ring.centres.repeat(20, 1), 10),  # everything exactly on the centres: 8
        (around(2, 300, 0.01), 10),  # one mode: 1
        (torch.cat([around(0, 9, 0.005), around(5, 40, 0.005)]), 10),  # 9 samples are not enough: 1
        (torch.cat([around(0, 9, 0.005), around(5, 40, 0.005)]), 9),  # ... but they are with min_count 9: 2
        (around(4, 200, 0.0) + torch.tensor([0.0, 3.1 * 0.02]), 1),  # all just outside 3 sigma: 0
        (around(4, 200, 0.0) + torch.tensor([0.0, 2.9 * 0.02]), 1),  # all just inside: 1
        (ring.sample(2000, generator=gen) * 1.01, 10),  # a slightly too wide ring
        (torch.zeros(100, 2), 1),  # far from everything: 0
    ]


def check_modes_covered(
    fn: Callable[[torch.Tensor, torch.Tensor, float, int], int], seed: int = 0
) -> Feedback:
    r"""Check ``fn(samples, centres, std, min_count)`` against :func:`gan_helpers.metrics.modes_covered`.

    Expected: the number of centres :math:`\mu_k` with at least ``min_count`` samples :math:`x`
    such that :math:`\lVert x - \mu_k\rVert \le 3\,\sigma` (the discs do not overlap on the test
    data). Tested on the 8-mode ring: all samples on the centres, one mode, too few samples in a
    mode, samples just inside and just outside 3 sigma, a real-looking sample, far-away samples.
    """
    ring = data.ring_2d(num_modes=8, radius=2.0, std=0.02)
    for samples, min_count in _ring_cases(seed):
        expected = metrics.modes_covered(samples, ring.centres, 0.02, min_count=min_count)
        got, problem = _student_result(fn, samples.clone(), ring.centres.clone(), 0.02, min_count)
        if problem is not None:
            return problem
        if got.ndim != 0:
            return Feedback(False, f"return one number (how many modes), got shape {tuple(got.shape)}.")
        if int(got) != expected:
            n = samples.shape[0]
            return Feedback(
                False,
                f"on {n} samples with min_count={min_count} the answer is {expected} modes, you said {int(got)}. "
                "A sample belongs to mode k when its distance to centre k is at most 3 * std (use <=); a mode "
                "counts when at least min_count samples belong to it.",
            )
    return _verdict(True, "your modes_covered agrees with gh.metrics.modes_covered on every test case.", "")


__all__ += ["check_gradient_penalty", "check_modes_covered"]


# --- Notebooks 04 and 05: image GANs -------------------------------------------------------------------


def check_generator_loss_fix(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> Feedback:
    r"""Check a corrected generator loss ``fn(logits_fake)``: G's target must be "real".

    Expected: :math:`L_G = \operatorname{BCE}(\ell, 1) = \operatorname{mean}\,\operatorname{softplus}(-\ell)`,
    :func:`gan_helpers.losses.g_loss_nonsaturating`. The deliberate mistake
    :func:`gan_helpers.losses.mistake_g_loss_fake_labels` (target "fake") gets a specific hint.
    """
    gen = torch.Generator().manual_seed(seed)
    logits_fake = 3 * torch.randn(64, generator=gen)
    got, problem = _student_result(fn, logits_fake.clone())
    if problem is not None:
        return problem
    if got.ndim != 0:
        return Feedback(False, f"return one number (the batch mean), got a tensor of shape {tuple(got.shape)}.")
    if _close(got, losses.mistake_g_loss_fake_labels(logits_fake).double(), atol=1e-5):
        return Feedback(False, "that is still the mistake: the target is 'fake' (zeros). G wants D to say 'real'.")
    return _verdict(
        _close(got, losses.g_loss_nonsaturating(logits_fake).double(), atol=1e-5),
        "G is now trained towards the label 'real': the non-saturating loss, gh.losses.g_loss_nonsaturating.",
        "wrong value. Use F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake)).",
    )


def check_double_sigmoid_floor(value: float) -> Feedback:
    r"""Check the smallest possible D loss with a double sigmoid: :math:`\operatorname{softplus}(-1) + \log 2`.

    With :math:`p = \sigma(\ell) \in (0, 1)` fed to a logits loss, the real term
    :math:`\operatorname{softplus}(-p)` decreases towards :math:`\operatorname{softplus}(-1)` as
    :math:`p \to 1` and the fake term :math:`\operatorname{softplus}(p)` towards :math:`\log 2` as
    :math:`p \to 0`; the floor is their sum, about 1.0064.
    """
    floor = math.log1p(math.exp(-1.0)) + math.log(2.0)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return Feedback(False, f"give a number, not {type(value).__name__}.")
    if abs(value - math.log1p(math.exp(-1.0))) < 1e-3 or abs(value - math.log(2.0)) < 1e-3:
        return Feedback(False, "that is one of the two terms: D's loss is the real term plus the fake term.")
    return _verdict(
        abs(value - floor) < 1e-3,
        f"right: softplus(-1) + log 2 = {floor:.4f}; a correct D's loss can go down to 0.",
        "not yet. The loss sees p = sigmoid(logit) in (0, 1) as a logit: let p -> 1 for real samples "
        "(softplus(-p)) and p -> 0 for fakes (softplus(p)), and add the two limits.",
    )


def check_conv_output_side(fn: Callable[[int, int, int, int, bool], int]) -> Feedback:
    r"""Check ``fn(side, kernel, stride, padding, transposed)``, the output side of a square convolution.

    Convolution: :math:`\lfloor (s + 2p - k) / t \rfloor + 1`; transposed convolution:
    :math:`(s - 1) t - 2p + k` (stride :math:`t`, no output padding, no dilation). Compared with
    PyTorch's own layers on many sizes.
    """
    for side in (1, 4, 7, 14, 28, 31):
        for kernel, stride, padding in ((4, 2, 1), (3, 1, 1), (7, 1, 0), (5, 2, 2), (3, 3, 0)):
            for transposed in (False, True):
                if not transposed and side + 2 * padding < kernel:
                    continue
                layer = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(1, 1, kernel, stride, padding)
                with torch.no_grad():
                    expected = layer(torch.zeros(1, 1, side, side)).shape[-1]
                try:
                    got = fn(side, kernel, stride, padding, transposed)
                except Exception as exc:  # a student's bug of any kind becomes a hint
                    return Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
                if got != expected:
                    kind = "transposed convolution" if transposed else "convolution"
                    return Feedback(
                        False,
                        f"for a {kind} with side {side}, kernel {kernel}, stride {stride}, padding {padding} "
                        f"PyTorch gives {expected}, your function {got}.",
                    )
    return Feedback(True, "your formula matches PyTorch's Conv2d and ConvTranspose2d on every size tried.")


def check_dcgan_init(fn: Callable[[torch.nn.Module], Any], seed: int = 0) -> Feedback:
    r"""Check an initialisation function ``fn(model)`` against the DCGAN rule.

    Convolution weights :math:`\sim N(0, 0.02^2)`, batch-norm scales :math:`\sim N(1, 0.02^2)` and
    shifts 0; checked on a fresh DCGAN generator whose layers were first reset to PyTorch's defaults.
    """
    from gan_helpers import models  # models is heavier; only this checker needs it

    torch.manual_seed(seed)
    G = models.DCGANGenerator()
    for module in G.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    try:
        fn(G)
    except Exception as exc:  # a student's bug of any kind becomes a hint
        return Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
    convs = [m for m in G.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    norms = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    weights = torch.cat([m.weight.detach().flatten() for m in convs])
    scales = torch.cat([m.weight.detach().flatten() for m in norms])
    shifts = torch.cat([m.bias.detach().flatten() for m in norms])
    if abs(weights.std().item() - 0.02) > 0.002 or abs(weights.mean().item()) > 0.002:
        return Feedback(
            False,
            f"the convolution weights have mean {weights.mean().item():.4f} and std {weights.std().item():.4f}; "
            "draw them from N(0, 0.02^2) (nn.init.normal_(m.weight, 0.0, 0.02)) for Conv2d and ConvTranspose2d.",
        )
    return _verdict(
        abs(scales.mean().item() - 1.0) < 0.01 and 0.01 < scales.std().item() < 0.03 and shifts.abs().max().item() == 0,
        "convolutions ~ N(0, 0.02^2), batch-norm scales ~ N(1, 0.02^2), shifts 0: the DCGAN initialisation.",
        "the convolutions are right; now the batch-norm layers: scales from N(1, 0.02^2), shifts 0.",
    )


def check_dcgan_for_shape(G: torch.nn.Module, D: torch.nn.Module, image_shape: tuple[int, int, int]) -> Feedback:
    """Check G and D built for ``image_shape``: G's samples have that shape, lie in [-1, 1]; D gives one logit each."""
    if G is None or D is None:
        return Feedback(False, "build G and D first (they are still None).")
    latent_dim = getattr(G, "latent_dim", None)
    if latent_dim is None:
        return Feedback(False, "G needs a latent_dim attribute (the length of its noise vectors).")
    try:
        with torch.no_grad():
            x_fake = G(torch.randn(4, latent_dim))
            logits = D(x_fake)
    except Exception as exc:  # a student's bug of any kind becomes a hint
        return Feedback(False, f"running G then D raised {type(exc).__name__}: {exc}")
    if tuple(x_fake.shape) != (4, *image_shape):
        return Feedback(False, f"G made images of shape {tuple(x_fake.shape[1:])}, not {tuple(image_shape)}.")
    if x_fake.min() < -1 or x_fake.max() > 1:
        return Feedback(False, "G's samples leave [-1, 1]: end G with nn.Tanh(), like the data's scale.")
    return _verdict(
        tuple(logits.shape) == (4,),
        f"G makes {tuple(image_shape)} images in [-1, 1] and D returns one logit per image.",
        f"D should return one logit per image, shape (4,), not {tuple(logits.shape)}.",
    )


__all__ += [
    "check_conv_output_side",
    "check_dcgan_for_shape",
    "check_dcgan_init",
    "check_double_sigmoid_floor",
    "check_generator_loss_fix",
]


# --- Notebook 02: a GAN on a line -------------------------------------------------------------------


def _w1_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs of equal-size 1-D samples: shifted, scaled, tiny, unsorted, with ties."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(200, generator=gen)
    return [
        (x, x + 1.5),  # a pure shift: W1 = 1.5
        (torch.randn(1000, generator=gen), 4.0 + 1.25 * torch.randn(1000, generator=gen)),
        (torch.randn(7, generator=gen), 3.0 * torch.rand(7, generator=gen)),
        (torch.tensor([3.0, -1.0, 2.0, 2.0]), torch.tensor([0.0, 5.0, -2.0, 1.0])),
        (torch.randn(1, generator=gen), torch.randn(1, generator=gen)),
    ]


def _w1_mistake(got: float, x: torch.Tensor, y: torch.Tensor, expected: float) -> str:
    """A hint naming the mistake that gives ``got``, when it is one of the usual ones."""
    xs, ys = torch.sort(x.double()).values, torch.sort(y.double()).values
    guesses = {
        "you paired the samples in their given order: sort both first, then pair the i-th smallest of each.": (
            (x.double() - y.double()).abs().mean()
        ),
        "you compared the means; W1 averages the distances between matched (sorted) points.": (
            (x.double().mean() - y.double().mean()).abs()
        ),
        "a positive and a negative difference cancel: take the absolute value of each difference.": (
            (xs - ys).mean()
        ),
        "this is the mean squared difference (W2 squared); W1 uses absolute differences.": ((xs - ys) ** 2).mean(),
        "you summed the distances: divide by n (W1 is an average).": (xs - ys).abs().sum(),
    }
    for hint, value in guesses.items():
        if abs(got - float(value)) <= 1e-5 + 1e-4 * abs(float(value)) and abs(float(value) - expected) > 1e-6:
            return hint
    return (
        "wrong value. For equal sizes n: W1 = (1/n) * sum_i |x_(i) - y_(i)|, where x_(i) is the i-th smallest "
        "of x (torch.sort) and y_(i) the i-th smallest of y."
    )


def check_wasserstein_1d(fn: Callable[[torch.Tensor, torch.Tensor], Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(x, y)``, the 1-Wasserstein distance of two 1-D samples of equal size ``(n,)``.

    Expected: :math:`W_1 = \frac1n \sum_i \lvert x_{(i)} - y_{(i)}\rvert` (sorted samples paired in
    order), compared with :func:`gan_helpers.metrics.wasserstein_1d` on a pure shift, Gaussian
    samples, a tiny and a one-point sample, and unsorted samples with ties. The hint names the
    usual mistakes: no sorting, comparing means, no absolute value, squares, a sum.
    """
    for x, y in _w1_cases(seed):
        expected = metrics.wasserstein_1d(x, y)
        got, problem = _student_result(fn, x.clone(), y.clone())
        if problem is not None:
            return problem
        if got.numel() != 1:
            return Feedback(False, f"return one number, got a tensor of shape {tuple(got.shape)}.")
        value = float(got)
        if not abs(value - expected) <= 1e-5 + 1e-4 * abs(expected):
            return Feedback(False, f"on samples of size {len(x)}: " + _w1_mistake(value, x, y, expected))
    return _verdict(True, "your W1 matches gh.metrics.wasserstein_1d on every test case.", "")


def _d_step_reference(
    G: torch.nn.Module,
    D: torch.nn.Module,
    opt_D: torch.optim.Optimizer,
    x_real: torch.Tensor,
    z: torch.Tensor,
    zero_grad: bool = True,
    sign: float = 1.0,
) -> torch.Tensor:
    """One D step as the training loop takes it; ``zero_grad``/``sign`` reproduce two usual mistakes."""
    x_fake = G(z).detach()
    loss = sign * losses.d_loss(D(x_real), D(x_fake))
    if zero_grad:
        opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.detach()


def _d_step_setup(seed: int) -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer, torch.Tensor]:
    """A small G and D, an SGD optimizer for D (its step is lr * gradient) and stale gradients in D."""
    torch.manual_seed(seed)
    G = models.MLPGenerator(latent_dim=1, data_dim=1, hidden=(8, 8))
    D = models.MLPDiscriminator(data_dim=1, hidden=(8, 8))
    for p in D.parameters():
        p.grad = torch.ones_like(p)  # left over from an earlier step: a step must clear them
    gen = torch.Generator().manual_seed(seed + 1)
    x_real = 4.0 + 1.25 * torch.randn(64, 1, generator=gen)
    return G, D, torch.optim.SGD(D.parameters(), lr=0.1), x_real


def _same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def check_discriminator_step(
    fn: Callable[[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor], Any],
    seed: int = 0,
) -> Feedback:
    r"""Check ``fn(G, D, opt_D, x_real, z)``: one update of D that returns D's loss.

    Expected, as in :func:`gan_helpers.training.train_gan`: :math:`\tilde x = G(z)` detached,
    :math:`L_D = \operatorname{mean}\operatorname{softplus}(-D(x)) +
    \operatorname{mean}\operatorname{softplus}(D(\tilde x))` (:func:`gan_helpers.losses.d_loss`),
    then ``opt_D.zero_grad()``, ``backward()``, ``opt_D.step()``. D's parameters after the step
    must match the package's step from the same start (D holds stale gradients that a step must
    clear); G must get no gradient and not change.
    """
    G, D, opt_D, x_real = _d_step_setup(seed)
    z = torch.randn(64, 1, generator=torch.Generator().manual_seed(seed + 2))
    g_before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    try:
        result = fn(G, D, opt_D, x_real, z)
    except NotImplementedError:
        return Feedback(False, "the function is not written yet (it raises NotImplementedError).")
    except Exception as exc:  # a student's bug of any kind becomes a hint, not a traceback
        return Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in G.parameters()):
        return Feedback(False, "G received gradients: detach the fakes (G(z).detach()) so D's step leaves G alone.")
    if not all(torch.equal(p, q) for p, q in zip(G.parameters(), g_before, strict=True)):
        return Feedback(False, "G's parameters changed: a discriminator step must only update D.")
    if all(torch.equal(p, q) for p, q in zip(D.parameters(), d_before, strict=True)):
        return Feedback(False, "D did not change: call loss.backward() and then opt_D.step().")

    def reference(**mistake: Any) -> tuple[torch.nn.Module, torch.Tensor]:
        G_ref, D_ref, opt_ref, x_ref = _d_step_setup(seed)
        return D_ref, _d_step_reference(G_ref, D_ref, opt_ref, x_ref, z, **mistake)

    D_ref, loss_ref = reference()
    if not _same_parameters(D, D_ref):
        if _same_parameters(D, reference(zero_grad=False)[0]):
            return Feedback(False, "stale gradients were added to this step's: call opt_D.zero_grad() first.")
        if _same_parameters(D, reference(sign=-1.0)[0]):
            return Feedback(False, "D moved the wrong way: minimise L_D = -log D(x) - log(1 - D(G(z))).")
        return Feedback(
            False,
            "D's new parameters differ from one step on L_D = mean(softplus(-D(x_real))) + "
            "mean(softplus(D(x_fake))): use gh.losses.d_loss on D's logits (no sigmoid first).",
        )
    try:
        loss = float(torch.as_tensor(result).detach())
    except (TypeError, ValueError, RuntimeError):
        return Feedback(False, f"the step is right; now return the loss (a number or a 0-d tensor), not {result!r}.")
    return _verdict(
        abs(loss - float(loss_ref)) <= 1e-5,
        "your discriminator step updates D exactly as the training loop does, and leaves G alone.",
        f"the step is right but the returned loss {loss:.5f} is not D's loss {float(loss_ref):.5f} before the step.",
    )


__all__ += ["check_discriminator_step", "check_wasserstein_1d"]


# --- Notebook 06: evaluating GANs -------------------------------------------------------------------


def check_fid_diagonal(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(mu1, var1, mu2, var2)``: the Fréchet distance between Gaussians with diagonal covariances,

    .. math:: d^2\big(\mathcal N(\mu_1, \operatorname{diag}(a)), \mathcal N(\mu_2, \operatorname{diag}(b))\big)
              = \lVert \mu_1 - \mu_2 \rVert^2 + \sum_i (\sqrt{a_i} - \sqrt{b_i})^2.


    Compared with :func:`gan_helpers.metrics.frechet_distance` on random vectors (float64 tensors of length 5).
    """
    gen = torch.Generator().manual_seed(seed)
    for _ in range(3):
        mu1, mu2 = torch.randn(2, 5, generator=gen, dtype=torch.float64)
        var1, var2 = 0.1 + 3 * torch.rand(2, 5, generator=gen, dtype=torch.float64)
        expected = metrics.frechet_distance(mu1, torch.diag(var1), mu2, torch.diag(var2))
        got, problem = _student_result(fn, mu1.clone(), var1.clone(), mu2.clone(), var2.clone())
        if problem is not None:
            return problem
        if got.numel() != 1:
            return Feedback(False, f"return one number (the sum over dimensions), got {got.numel()} values.")
        value = float(got.reshape(()))
        if abs(value - expected) <= 1e-8 * max(1.0, expected):
            continue
        if abs(value - float(((mu1 - mu2) ** 2).sum() + ((var1 - var2) ** 2).sum())) <= 1e-8 * max(1.0, expected):
            return Feedback(
                False, "you compared the variances; FID compares standard deviations: (sqrt(a) - sqrt(b))^2."
            )
        return Feedback(
            False,
            "wrong value. Add the squared distance of the means, sum((mu1 - mu2)**2), and the covariance term, "
            "sum((sqrt(var1) - sqrt(var2))**2).",
        )
    return Feedback(True, "your closed form matches gh.metrics.frechet_distance for diagonal covariances.")


def check_kl_from_uniform(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(labels, num_classes)``: :math:`\mathrm{KL}(p \,\|\, u) = \sum_c p_c \log(K p_c)` of the label shares.

    Compared with :func:`gan_helpers.metrics.class_coverage`; one case leaves classes empty (:math:`0 \log 0 = 0`).
    """
    gen = torch.Generator().manual_seed(seed)
    cases = [
        torch.randint(0, 10, (500,), generator=gen),
        torch.randint(0, 3, (200,), generator=gen),  # classes 3..9 empty
        torch.full((50,), 7),  # one class only: KL = log 10
    ]
    for labels in cases:
        expected = metrics.class_coverage(labels, num_classes=10).kl_from_uniform
        got, problem = _student_result(fn, labels.clone(), 10)
        if problem is not None:
            return problem
        if got.numel() != 1:
            return Feedback(False, f"return one number, got {got.numel()} values.")
        value = float(got.reshape(()))
        if not math.isfinite(value):
            return Feedback(False, "you got NaN or inf: empty classes contribute 0 (0 log 0 = 0), skip them.")
        if abs(value - expected) > 1e-6:
            return Feedback(
                False, "wrong value. Count each class (torch.bincount with minlength), divide by the number of "
                "labels, and sum p * log(K * p) over the classes with p > 0.",
            )
    return Feedback(True, "your KL divergence from uniform matches gh.metrics.class_coverage, empty classes included.")


def check_precision(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(real, fake, k)``: the share of fake points within :math:`r_k(\phi_r)` of some real point
    :math:`\phi_r`, with :math:`r_k` the distance to the ``k``-th nearest *other* real point.

    Compared with :func:`gan_helpers.metrics.precision_recall` on random 2-D point sets.
    """
    gen = torch.Generator().manual_seed(seed)
    for k in (1, 3):
        real = torch.randn(80, 2, generator=gen, dtype=torch.float64)
        fake = 0.8 * torch.randn(60, 2, generator=gen, dtype=torch.float64) + 0.7
        expected = metrics.precision_recall(real, fake, k=k).precision
        got, problem = _student_result(fn, real.clone(), fake.clone(), k)
        if problem is not None:
            return problem
        if got.numel() != 1:
            return Feedback(False, f"return one number (a share between 0 and 1), got {got.numel()} values.")
        value = float(got.reshape(()))
        if abs(value - expected) <= 1e-9:
            continue
        sorted_real = torch.cdist(real, real).sort(dim=1).values
        with_self = (torch.cdist(fake, real) <= sorted_real[:, k - 1][None]).any(dim=1).double().mean()
        if abs(value - float(with_self)) <= 1e-9:
            return Feedback(False, "your radii count each real point as its own nearest neighbour: skip distance 0.")
        return Feedback(
            False,
            "wrong value. Radii: sort each row of cdist(real, real) and take column k (column 0 is the point "
            "itself). Then a fake point counts if cdist(fake, real) <= radii for at least one real point.",
        )
    return Feedback(True, "your precision matches gh.metrics.precision_recall for k = 1 and k = 3.")


__all__ += ["check_fid_diagonal", "check_kl_from_uniform", "check_precision"]


# --- Notebook 07: conditional GANs ----------------------------------------------------------------


def check_one_hot_condition(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(z, y, num_classes)``: Mirza and Osindero's input :math:`[z, \mathrm{onehot}(y)]`, ``(B, d + K)``."""
    gen = torch.Generator().manual_seed(seed)
    for batch, d, k in ((5, 3, 10), (1, 7, 4)):
        z, y = torch.randn(batch, d, generator=gen), torch.randint(0, k, (batch,), generator=gen)
        expected = torch.cat([z, torch.nn.functional.one_hot(y, k).to(z.dtype)], dim=1)
        got, problem = _student_result(fn, z.clone(), y.clone(), k)
        if problem is not None:
            return problem
        if got.shape != expected.shape:
            return Feedback(False, f"expected shape {tuple(expected.shape)} (noise, then one column per class), "
                            f"got {tuple(got.shape)}.")
        if not _close(got, expected.double()):
            return Feedback(False, "wrong values: keep z as it is in the first columns, then a 1 in column "
                            "d + y of each row and 0 elsewhere (torch.nn.functional.one_hot, then torch.cat).")
    return Feedback(True, "your conditional input is [z, one-hot(y)], as in Mirza and Osindero (2014).")


def check_projection_logit(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(phi, w, b, V, y)``: the projection logit, shape ``(B,)``,

    .. math:: w \cdot \phi + b + \langle V_y, \phi \rangle .
    """
    gen = torch.Generator().manual_seed(seed)
    phi, w, b = torch.randn(6, 5, generator=gen), torch.randn(5, generator=gen), torch.randn((), generator=gen)
    V, y = torch.randn(10, 5, generator=gen), torch.tensor([0, 3, 3, 9, 1, 5])
    expected = phi @ w + b + (V[y] * phi).sum(dim=1)
    got, problem = _student_result(fn, phi.clone(), w.clone(), b.clone(), V.clone(), y.clone())
    if problem is not None:
        return problem
    if got.shape != expected.shape:
        return Feedback(False, f"return one logit per image, shape {tuple(expected.shape)}, got {tuple(got.shape)}.")
    if _close(got, (phi @ w + b).double()):
        return Feedback(False, "the label is ignored: add the inner product of V[y] with phi, row by row.")
    if not _close(got, expected.double()):
        return Feedback(False, "wrong values: psi is phi @ w + b; the projection is (V[y] * phi).sum(dim=1).")
    return Feedback(True, "your logit is psi(phi(x)) + <v_y, phi(x)>, the projection discriminator's.")


__all__ += ["check_one_hot_condition", "check_projection_logit"]


# --- Notebook 08: applications of GANs ------------------------------------------------------------


def check_masked_psnr(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(x, x_hat, mask)``: per-image PSNR on the *hidden* pixels (mask 0), range 2, shape ``(B,)``.

    Compared with :func:`gan_helpers.applications.psnr`.
    """
    from gan_helpers import applications

    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 1, 8, 8, generator=gen) * 2 - 1
    x_hat = (x + 0.3 * torch.randn(x.shape, generator=gen)).clamp(-1, 1)
    mask = applications.centre_mask((1, 8, 8), 4)
    expected = applications.psnr(x, x_hat, mask)
    got, problem = _student_result(fn, x.clone(), x_hat.clone(), mask.clone())
    if problem is not None:
        return problem
    if got.shape != expected.shape:
        return Feedback(False, f"return one PSNR per image, shape {tuple(expected.shape)}, got {tuple(got.shape)}.")
    visible_too = 10 * torch.log10(4 / (x - x_hat).pow(2).flatten(1).mean(dim=1))
    if _close(got, visible_too.double(), atol=1e-4):
        return Feedback(False, "you scored every pixel: average the squared error over the hidden pixels only.")
    if not _close(got, expected.double(), atol=1e-4):
        return Feedback(False, "wrong values: MSE = sum((1 - m) * (x - x_hat)**2) / sum(1 - m) per image, "
                        "then 10 * log10(2**2 / MSE) (images in [-1, 1] have range 2).")
    return Feedback(True, "your PSNR on the hidden pixels matches gh.applications.psnr.")


def check_slerp(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(z0, z1, t)``: spherical interpolation at one ``t`` in [0, 1], against
    :func:`gan_helpers.models.interpolate_latents` (11 points, so ``t`` in steps of 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    z0, z1 = torch.randn(16, generator=gen, dtype=torch.float64), torch.randn(16, generator=gen, dtype=torch.float64)
    path = models.interpolate_latents(z0, z1, num=11, spherical=True)
    line = models.interpolate_latents(z0, z1, num=11, spherical=False)
    for i in (0, 3, 5, 10):
        got, problem = _student_result(fn, z0.clone(), z1.clone(), i / 10)
        if problem is not None:
            return problem
        if got.shape != z0.shape:
            return Feedback(False, f"return one vector of shape {tuple(z0.shape)}, got {tuple(got.shape)}.")
        if not _close(got, path[i]) and _close(got, line[i]):
            return Feedback(False, "that is the straight line (1 - t) z0 + t z1; weight by sin((1 - t) W) / sin W.")
        if not _close(got, path[i]):
            return Feedback(False, f"wrong at t = {i / 10}: Omega = arccos(z0 . z1 / (|z0| |z1|)), then "
                            "sin((1 - t) Omega) / sin(Omega) * z0 + sin(t Omega) / sin(Omega) * z1.")
    return Feedback(True, "your slerp matches gh.models.interpolate_latents, ends included.")


__all__ += ["check_masked_psnr", "check_slerp"]
