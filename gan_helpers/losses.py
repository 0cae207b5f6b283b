r"""Losses of the GAN players, all on logits (the discriminator's pre-sigmoid output).

With :math:`D(x) = \sigma(\ell(x))` and the value function

.. math:: V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))],

the discriminator minimises :math:`-V` (binary cross-entropy) and the generator either
minimises :math:`V` (saturating) or :math:`-\mathbb{E}_z[\log D(G(z))]` (non-saturating).
The identities :math:`-\log\sigma(\ell) = \operatorname{softplus}(-\ell)` and
:math:`-\log(1-\sigma(\ell)) = \operatorname{softplus}(\ell)` keep every loss finite for any logit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GENERATOR_LOSSES",
    "LOSS_KINDS",
    "d_loss",
    "g_loss",
    "g_loss_nonsaturating",
    "g_loss_saturating",
    "generator_logit_gradient",
    "gradient_penalty",
    "mistake_d_loss_double_sigmoid",
    "mistake_g_loss_double_sigmoid",
    "mistake_g_loss_fake_labels",
    "naive_bce_from_probabilities",
    "value_function",
    "wasserstein_d_loss",
    "wasserstein_g_loss",
]

GENERATOR_LOSSES = ("nonsaturating", "saturating")
LOSS_KINDS = (*GENERATOR_LOSSES, "wgan-gp")


def d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    r"""Discriminator loss :math:`L_D = -\mathbb{E}[\log D(x)] - \mathbb{E}[\log(1 - D(G(z)))]`.

    Computed as :math:`\operatorname{BCE}(\ell_{real}, t) + \operatorname{BCE}(\ell_{fake}, 0)` with
    target :math:`t` = ``real_label``; ``real_label < 1`` is one-sided label smoothing
    (Salimans et al. 2016): only the real targets are softened.
    """
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0, 1], got {real_label}")
    loss_real = F.binary_cross_entropy_with_logits(logits_real, torch.full_like(logits_real, real_label))
    loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return loss_real + loss_fake


def g_loss_saturating(logits_fake: torch.Tensor) -> torch.Tensor:
    r"""Saturating generator loss :math:`L_G = \mathbb{E}_z[\log(1 - D(G(z)))]`.

    Equal to :math:`-\mathbb{E}[\operatorname{softplus}(\ell)]` on logits.

    Its gradient with respect to the logit is :math:`-D(G(z))`: close to 0 when D confidently
    rejects the fakes, which is why it stalls early in training.
    """
    return -F.softplus(logits_fake).mean()


def g_loss_nonsaturating(logits_fake: torch.Tensor) -> torch.Tensor:
    r"""Non-saturating generator loss :math:`L_G = -\mathbb{E}_z[\log D(G(z))]`.

    Equal to :math:`\mathbb{E}[\operatorname{softplus}(-\ell)]` on logits.

    Its gradient with respect to the logit is :math:`D(G(z)) - 1`: close to -1 exactly when
    the fakes are rejected, so the generator still learns early on.
    """
    return F.softplus(-logits_fake).mean()


def g_loss(logits_fake: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator loss named by ``kind``: ``"nonsaturating"`` (default) or ``"saturating"``."""
    if kind == "nonsaturating":
        return g_loss_nonsaturating(logits_fake)
    if kind == "saturating":
        return g_loss_saturating(logits_fake)
    raise ValueError(f"Unknown generator loss {kind!r}; choose one of {GENERATOR_LOSSES}.")


def wasserstein_d_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN critic loss :math:`\mathbb{E}[f(G(z))] - \mathbb{E}[f(x)]` (the critic's scores are unbounded)."""
    return scores_fake.mean() - scores_real.mean()


def wasserstein_g_loss(scores_fake: torch.Tensor) -> torch.Tensor:
    r"""WGAN generator loss :math:`-\mathbb{E}[f(G(z))]`."""
    return -scores_fake.mean()


def gradient_penalty(
    critic: nn.Module,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    generator: torch.Generator | None = None,
    eps: float = 1e-12,
) -> torch.Tensor:
    r"""WGAN-GP penalty :math:`\mathbb{E}_{\hat x}[(\lVert\nabla_{\hat x} f(\hat x)\rVert_2 - 1)^2]`.

    As in Gulrajani et al. (2017):

    :math:`\hat x = \epsilon x + (1-\epsilon)\tilde x` with one :math:`\epsilon \sim U(0, 1)` per
    sample. The norm is :math:`\sqrt{\lVert g\rVert^2 + \text{eps}}`: the plain norm has an
    undefined derivative at :math:`g = 0`, which turns into NaN in the backward pass.
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(f"real and fake batches differ in shape: {tuple(x_real.shape)} vs {tuple(x_fake.shape)}")
    shape = (x_real.shape[0],) + (1,) * (x_real.ndim - 1)
    weight = torch.rand(shape, generator=generator, dtype=x_real.dtype).to(x_real.device)
    x_hat = (weight * x_real.detach() + (1 - weight) * x_fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = torch.sqrt(grad.flatten(1).pow(2).sum(1) + eps)
    return (norms - 1).pow(2).mean()


def value_function(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    r"""Batch estimate of :math:`V(D, G) = \mathbb{E}[\log D(x)] + \mathbb{E}[\log(1 - D(G(z)))]` from logits.

    With :math:`D = \sigma(\ell)`: :math:`\log D = -\operatorname{softplus}(-\ell)` and
    :math:`\log(1 - D) = -\operatorname{softplus}(\ell)`, so

    .. math:: V = -\operatorname{mean}\,\operatorname{softplus}(-\ell_{real})
                  - \operatorname{mean}\,\operatorname{softplus}(\ell_{fake}) = -L_D,

    finite for every logit. D ascends V, which is the same as descending :func:`d_loss`.
    """
    return -F.softplus(-logits_real).mean() - F.softplus(logits_fake).mean()


def naive_bce_from_probabilities(probabilities: torch.Tensor, targets: torch.Tensor | float) -> torch.Tensor:
    r"""Binary cross-entropy written on probabilities: :math:`-\operatorname{mean}[t \log p + (1-t)\log(1-p)]`.

    For demonstrations only. Fed :math:`p = \sigma(\ell)`, it equals
    ``F.binary_cross_entropy_with_logits(l, t)`` for moderate logits. In float32,
    :math:`\sigma(\ell)` rounds to exactly 1 from :math:`\ell = 17` and to exactly 0 by
    :math:`\ell = -100`; the logarithm then meets 0, the loss becomes ``inf`` (``nan`` where
    :math:`0 \cdot \log 0` appears) and its gradient ``nan``. Already at :math:`\ell = 16` the
    term :math:`-\log(1 - \sigma(\ell))` is 15.94 instead of 16.00. Unlike
    ``F.binary_cross_entropy`` it does not clamp the logarithm, so the failure is visible.
    """
    targets = torch.as_tensor(targets, dtype=probabilities.dtype).expand_as(probabilities)
    return -(targets * torch.log(probabilities) + (1 - targets) * torch.log(1 - probabilities)).mean()


def generator_logit_gradient(d_fake: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    r"""Per-sample derivative of the generator loss with respect to D's logit, as a function of :math:`D(G(z))`.

    For one sample with :math:`D = \sigma(\ell)` and :math:`\sigma'(\ell) = D(1 - D)`:

    - saturating, :math:`\log(1 - \sigma(\ell))`: :math:`\dfrac{\partial}{\partial \ell} = -D`;
    - non-saturating, :math:`-\log\sigma(\ell)`: :math:`\dfrac{\partial}{\partial \ell} = D - 1`.

    :func:`g_loss_saturating` and :func:`g_loss_nonsaturating` average over a batch of B logits,
    so their autograd gradients are these values divided by B.
    """
    if kind == "saturating":
        return -d_fake
    if kind == "nonsaturating":
        return d_fake - 1
    raise ValueError(f"Unknown generator loss {kind!r}; choose one of {GENERATOR_LOSSES}.")


# --- Deliberate mistakes, for the gallery of what breaks a GAN. Never use them to train for real. ---


def mistake_g_loss_fake_labels(logits_fake: torch.Tensor) -> torch.Tensor:
    r"""DELIBERATE MISTAKE: G trained against the label "fake", :math:`L_G = \operatorname{BCE}(\ell, 0)`.

    That is :math:`-\mathbb{E}_z[\log(1 - D(G(z)))] = \operatorname{mean}\,\operatorname{softplus}(\ell)`,
    the fake half of D's own loss: G descends what D descends and helps D reject its samples.
    The gradient with respect to each logit is :math:`+D(G(z))/B`, pushing :math:`D(G(z))` to 0.
    """
    return F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))


def mistake_d_loss_double_sigmoid(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    r"""DELIBERATE MISTAKE: D ends in a sigmoid and its output goes into a logits loss: two sigmoids.

    :math:`L_D = \operatorname{BCE}_{logits}(\sigma(\ell_{real}), 1)
    + \operatorname{BCE}_{logits}(\sigma(\ell_{fake}), 0)`.
    The probability the loss sees is :math:`\sigma(\sigma(\ell)) \in (\tfrac12, \sigma(1))`, so D
    can never be confident, :math:`L_D > \operatorname{softplus}(-1) + \log 2 \approx 1.0064` for
    every logit, and each gradient carries the extra factor :math:`\sigma'(\ell) \le \tfrac14`.
    """
    return d_loss(torch.sigmoid(logits_real), torch.sigmoid(logits_fake))


def mistake_g_loss_double_sigmoid(logits_fake: torch.Tensor) -> torch.Tensor:
    r"""DELIBERATE MISTAKE: the non-saturating G loss on :math:`\sigma(\ell)` instead of :math:`\ell`.

    :math:`L_G = \operatorname{mean}\,\operatorname{softplus}(-\sigma(\ell))`, always above
    :math:`\operatorname{softplus}(-1) \approx 0.3133`.
    """
    return g_loss_nonsaturating(torch.sigmoid(logits_fake))
