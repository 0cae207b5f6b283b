"""Checkers for notebook 01, the GAN objective: D's loss, the optimal D, G's gradient, the JSD."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from gan_helpers import data, losses, metrics
from gan_helpers.exercises.feedback import Feedback, _close, _student_result, _verdict

__all__ = [
    "check_d_loss",
    "check_generator_gradient",
    "check_jsd",
    "check_optimal_discriminator",
]


# --- Notebook 01: the GAN objective -------------------------------------------------------------------


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
