"""Checkers for notebooks 04 and 05, GANs on images: G's loss, the double sigmoid, convolution sizes, DCGAN."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gan_helpers import losses
from gan_helpers.exercises.feedback import Feedback, _close, _student_result, _verdict

__all__ = [
    "check_conv_output_side",
    "check_dcgan_for_shape",
    "check_dcgan_init",
    "check_double_sigmoid_floor",
    "check_generator_loss_fix",
]


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
