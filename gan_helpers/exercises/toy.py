"""Checkers for notebooks 02 and 03 (toy data): W1 and D's step on a line, the gradient penalty, mode coverage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from gan_helpers import data, losses, metrics, models
from gan_helpers.exercises.feedback import Feedback, _close, _student_number, _student_result, _verdict
from gan_helpers.sampling import evaluation_noise

__all__ = [
    "check_discriminator_step",
    "check_gradient_penalty",
    "check_ks_statistic",
    "check_modes_covered",
    "check_wasserstein_1d",
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
        "a positive and a negative difference cancel: take the absolute value of each difference.": ((xs - ys).mean()),
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
        value, problem = _student_number(fn, x.clone(), y.clone())
        if problem is not None:
            return problem
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
    z = evaluation_noise(64, 1, seed + 2)
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


def _ks_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs of 1-D samples: different sizes, the gap at a point of y, disjoint, identical, unsorted with ties."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(300, generator=gen)
    return [
        (x, 0.5 + torch.randn(500, generator=gen)),  # sizes differ
        (1.0 + torch.randn(200, generator=gen), torch.randn(350, generator=gen)),  # F_y above F_x: a sign matters
        (torch.rand(40, generator=gen), 5.0 + torch.rand(60, generator=gen)),  # disjoint: KS = 1
        (x, x.clone()),  # identical: KS = 0
        (torch.randint(0, 5, (50,), generator=gen).double(), torch.randint(1, 6, (80,), generator=gen).double()),
    ]


def _ks_mistakes(x: torch.Tensor, y: torch.Tensor) -> list[tuple[str, float]]:
    """The values that the usual mistakes give on ``x``, ``y``, each with its hint."""
    x, y = x.double(), y.double()
    xs, ys = torch.sort(x).values, torch.sort(y).values
    merged = torch.sort(torch.cat([x, y])).values

    def cdf(sample: torch.Tensor, t: torch.Tensor, side: str = "right", size: int | None = None) -> torch.Tensor:
        return torch.searchsorted(sample, t, side=side).double() / (size or len(sample))

    one_sample = "you evaluated the CDFs at the points of one sample only: the largest gap can sit at a point of the "
    one_sample += "other; evaluate both at the merged sample torch.cat([x, y])."
    mixed_sides = 'use the same side for both CDFs: side="right" counts the points <= t in each; mixing sides '
    mixed_sides += "shifts one CDF at the values both samples share (ties)."
    gap = [  # (hint, F_x, F_y)
        (one_sample, cdf(xs, xs), cdf(ys, xs)),
        (one_sample, cdf(xs, ys), cdf(ys, ys)),
        (one_sample, cdf(xs, xs, "left"), cdf(ys, xs, "left")),
        ("torch.searchsorted needs sorted input: sort x and y (torch.sort) first.", cdf(x, merged), cdf(y, merged)),
        ("divide each count by the size of its own sample (the sizes differ).", cdf(xs, merged, size=len(x)),
         cdf(ys, merged, size=len(x))),
        (mixed_sides, cdf(xs, merged), cdf(ys, merged, "left")),
    ]  # fmt: skip
    signed = ("take the absolute value of the gap: F_y can lie above F_x.", (cdf(xs, merged) - cdf(ys, merged)).max())
    return [(hint, float((f_x - f_y).abs().max())) for hint, f_x, f_y in gap] + [(signed[0], float(signed[1]))]


def check_ks_statistic(fn: Callable[[torch.Tensor, torch.Tensor], Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(x, y)``, the two-sample Kolmogorov-Smirnov statistic of 1-D samples ``(n,)`` and ``(m,)``.

    Expected: :math:`\max_j \lvert F_x(t_j) - F_y(t_j)\rvert` over the merged sorted sample :math:`t_j`, with the
    empirical CDF :math:`F_x(t) = \#\{i : x_i \le t\}/n` (``torch.searchsorted(sorted_x, t, side="right") / n``),
    compared with :func:`gan_helpers.metrics.ks_statistic`. The cases: samples of different sizes, one whose
    CDF lies above the other's, disjoint samples (1), identical ones (0), and integer samples with ties. The hint
    names the usual mistakes: the CDFs at one sample's points only, no absolute value, unsorted samples in
    ``searchsorted``, one size for both counts, and different ``side`` s for the two CDFs. (With one ``side``
    for both, "left" gives the same maximum over the merged sample: its values are the "right" ones shifted by
    one point.)
    """
    for x, y in _ks_cases(seed):
        expected = metrics.ks_statistic(x, y)
        value, problem = _student_number(fn, x.clone(), y.clone())
        if problem is not None:
            return problem
        if abs(value - expected) <= 1e-6:
            continue
        where = f"on samples of sizes {len(x)} and {len(y)}: "
        for hint, wrong in _ks_mistakes(x, y):
            if abs(value - wrong) <= 1e-6 and abs(wrong - expected) > 1e-6:
                return Feedback(False, where + hint)
        return Feedback(
            False,
            where + "wrong value. Sort both samples, evaluate F_x and F_y at every point of the merged sample with "
            'torch.searchsorted(sorted_sample, t, side="right") / size, and return the largest |F_x - F_y|.',
        )
    return _verdict(True, "your KS statistic matches gh.metrics.ks_statistic on every test case.", "")


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


def check_modes_covered(fn: Callable[[torch.Tensor, torch.Tensor, float, int], int], seed: int = 0) -> Feedback:
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
