"""Checkers for notebooks 06 to 08: evaluating GANs (FID, class coverage, precision), conditional GANs
(one-hot input, projection logit) and applications (masked PSNR, slerp)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gan_helpers import metrics, sampling
from gan_helpers.exercises.feedback import Feedback, _close, _student_number, _student_result

__all__ = [
    "check_density",
    "check_fid_diagonal",
    "check_kl_from_uniform",
    "check_masked_psnr",
    "check_one_hot_condition",
    "check_precision",
    "check_projection_logit",
    "check_slerp",
    "check_truncated_std",
]


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
        value, problem = _student_number(
            fn, mu1.clone(), var1.clone(), mu2.clone(), var2.clone(), what="one number (the sum over dimensions)"
        )
        if problem is not None:
            return problem
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
        value, problem = _student_number(fn, labels.clone(), 10)
        if problem is not None:
            return problem
        if not math.isfinite(value):
            return Feedback(False, "you got NaN or inf: empty classes contribute 0 (0 log 0 = 0), skip them.")
        if abs(value - expected) > 1e-6:
            return Feedback(
                False,
                "wrong value. Count each class (torch.bincount with minlength), divide by the number of "
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
        value, problem = _student_number(fn, real.clone(), fake.clone(), k, what="one number (a share between 0 and 1)")
        if problem is not None:
            return problem
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


def check_density(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(real, fake, k)``: the *density* of Naeem et al. (2020), how many real balls hold each fake
    point on average, divided by ``k``,

    .. math:: \text{density} = \frac{1}{k M} \sum_{j=1}^{M} \sum_{i=1}^{N}
              \big[\lVert \phi_{g,j} - \phi_{r,i} \rVert \le r_k(\phi_{r,i})\big],

    with :math:`r_k` the distance to the ``k``-th nearest *other* real point (:func:`gan_helpers.metrics.knn_radii`).
    Compared with that formula on random 2-D point sets, for k = 1 and k = 3.
    """
    gen = torch.Generator().manual_seed(seed)
    for k in (1, 3):
        real = torch.randn(80, 2, generator=gen, dtype=torch.float64)
        fake = 0.8 * torch.randn(60, 2, generator=gen, dtype=torch.float64) + 0.7
        inside = torch.cdist(fake, real) <= metrics.knn_radii(real, k=k).double()[None]  # (M, N)
        expected = float(inside.sum(dim=1).double().mean()) / k
        value, problem = _student_number(
            fn, real.clone(), fake.clone(), k, what="one number (the mean count over fake points)"
        )
        if problem is not None:
            return problem
        if abs(value - expected) <= 1e-9:
            continue
        if abs(value - float(inside.any(dim=1).double().mean())) <= 1e-9:
            return Feedback(False, "that is precision (is the point in any ball?): count how many balls hold it.")
        if k > 1 and abs(value - k * expected) <= 1e-9:
            return Feedback(False, "divide the mean count by k.")
        sorted_real = torch.cdist(real, real).sort(dim=1).values
        with_self = (torch.cdist(fake, real) <= sorted_real[:, k - 1][None]).sum(dim=1).double().mean() / k
        if abs(value - float(with_self)) <= 1e-9:
            return Feedback(False, "your radii count each real point as its own nearest neighbour: skip distance 0.")
        return Feedback(
            False,
            "wrong value. Radii as for precision (column k of each sorted row of cdist(real, real)); then, for each "
            "fake point, the number of real points with cdist(fake, real) <= radius, averaged and divided by k.",
        )
    return Feedback(True, "your density matches the formula for k = 1 and k = 3.")


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
            return Feedback(
                False,
                f"expected shape {tuple(expected.shape)} (noise, then one column per class), got {tuple(got.shape)}.",
            )
        if not _close(got, expected.double()):
            return Feedback(
                False,
                "wrong values: keep z as it is in the first columns, then a 1 in column "
                "d + y of each row and 0 elsewhere (torch.nn.functional.one_hot, then torch.cat).",
            )
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


def check_truncated_std(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(a)``: the standard deviation of :math:`\mathcal N(0, 1)` conditioned on :math:`|z| \le a`,

    .. math:: \sigma_a = \sqrt{1 - \frac{2 a\, \varphi(a)}{2\Phi(a) - 1}},

    against :func:`gan_helpers.sampling.truncated_normal_std` at :math:`a = 0.5, 1, 2` and at one threshold drawn
    from ``seed``.
    """
    gen = torch.Generator().manual_seed(seed)
    thresholds = (0.5, 1.0, 2.0, float(0.3 + 2.5 * torch.rand((), generator=gen)))
    for a in thresholds:
        expected = sampling.truncated_normal_std(a)
        value, problem = _student_number(fn, a, what="one number for one threshold")
        if problem is not None:
            return problem
        if math.isclose(value, expected, rel_tol=1e-6):
            continue
        density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        mass = math.erf(a / math.sqrt(2))
        if math.isclose(value, expected**2, rel_tol=1e-6):
            return Feedback(False, "that is the variance: take its square root.")
        if math.isclose(value, math.sqrt(max(0.0, 1 - a * density / mass)), rel_tol=1e-6):
            return Feedback(
                False,
                "both tails are cut: the boundary term counts a * phi(a) twice, once at -a and "
                "once at +a (2 * a * phi(a) over 2 * Phi(a) - 1).",
            )
        if math.isclose(value, 1.0, rel_tol=1e-6) or math.isclose(value, a / math.sqrt(3), rel_tol=1e-6):
            return Feedback(
                False,
                f"at a = {a:g} the answer lies strictly between a / sqrt(3) (a uniform on [-a, a]) "
                "and 1 (the untruncated normal).",
            )
        return Feedback(
            False,
            f"wrong at a = {a:g}: E[z^2 | |z| <= a] = 1 - 2 a phi(a) / (2 Phi(a) - 1), with phi "
            "the normal density and Phi its distribution function (math.erf gives 2 Phi(a) - 1).",
        )
    return Feedback(
        True,
        "your spread matches gh.sampling.truncated_normal_std, so z of BigGAN's truncation "
        "trick is narrower than N(0, 1) by exactly this factor.",
    )


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
        return Feedback(
            False,
            "wrong values: MSE = sum((1 - m) * (x - x_hat)**2) / sum(1 - m) per image, "
            "then 10 * log10(2**2 / MSE) (images in [-1, 1] have range 2).",
        )
    return Feedback(True, "your PSNR on the hidden pixels matches gh.applications.psnr.")


def check_slerp(fn: Callable[..., Any], seed: int = 0) -> Feedback:
    r"""Check ``fn(z0, z1, t)``: spherical interpolation at one ``t`` in [0, 1], against
    :func:`gan_helpers.sampling.interpolate_latents` (11 points, so ``t`` in steps of 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    z0, z1 = torch.randn(16, generator=gen, dtype=torch.float64), torch.randn(16, generator=gen, dtype=torch.float64)
    path = sampling.interpolate_latents(z0, z1, num=11, spherical=True)
    line = sampling.interpolate_latents(z0, z1, num=11, spherical=False)
    for i in (0, 3, 5, 10):
        got, problem = _student_result(fn, z0.clone(), z1.clone(), i / 10)
        if problem is not None:
            return problem
        if got.shape != z0.shape:
            return Feedback(False, f"return one vector of shape {tuple(z0.shape)}, got {tuple(got.shape)}.")
        if not _close(got, path[i]) and _close(got, line[i]):
            return Feedback(False, "that is the straight line (1 - t) z0 + t z1; weight by sin((1 - t) W) / sin W.")
        if not _close(got, path[i]):
            return Feedback(
                False,
                f"wrong at t = {i / 10}: Omega = arccos(z0 . z1 / (|z0| |z1|)), then "
                "sin((1 - t) Omega) / sin(Omega) * z0 + sin(t Omega) / sin(Omega) * z1.",
            )
    return Feedback(True, "your slerp matches gh.sampling.interpolate_latents, ends included.")
