r"""Lipschitz constants of critics: a layer's spectral norm by power iteration, an MLP's bound, measured ratios.

A function :math:`f` is :math:`L`-Lipschitz when :math:`\lvert f(x) - f(y)\rvert \le L\,\lVert x - y\rVert`
for all :math:`x, y`; the smallest such :math:`L` is its Lipschitz constant. For a linear map
:math:`x \mapsto Wx` it is the spectral norm :math:`\sigma_{\max}(W)`, the largest singular value. For
a chain of layers with 1-Lipschitz activations (ReLU, LeakyReLU with slope below 1) the product of
the layers' spectral norms is an upper bound, usually a loose one. Any measured ratio
:math:`\lvert f(x) - f(y)\rvert / \lVert x - y\rVert`, and any gradient norm, is a lower bound.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "empirical_lipschitz",
    "layer_spectral_norms",
    "lipschitz_upper_bound",
    "max_gradient_norm",
    "power_iteration",
]


def power_iteration(
    weight: torch.Tensor,
    num_iters: int = 1,
    u: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    eps: float = 1e-12,
) -> tuple[float, torch.Tensor]:
    r"""Estimate :math:`\sigma_{\max}(W) = \max_{\lVert v\rVert = 1} \lVert W v\rVert` by power iteration.

    Starting from a unit vector :math:`u \in \mathbb{R}^{m}` (random unless given), each iteration does

    .. math:: v \leftarrow \frac{W^\top u}{\lVert W^\top u\rVert}, \qquad
              u \leftarrow \frac{W v}{\lVert W v\rVert},

    and the estimate is :math:`\hat\sigma = u^\top W v`. This is the power method on
    :math:`W W^\top`: the component of :math:`u` along the top left singular vector grows by
    :math:`(\sigma_1/\sigma_2)^2` per iteration relative to the others, so :math:`\hat\sigma \to
    \sigma_{\max}` from below, fast when :math:`\sigma_1 \gg \sigma_2`. Spectral normalisation
    (Miyato et al. 2018) keeps :math:`u` between training steps and does one iteration per step.
    ``weight`` is ``(m, n)``; returns the estimate and the final ``u`` (to continue from).
    """
    if weight.ndim != 2:
        raise ValueError(f"power_iteration expects a matrix of shape (m, n), got {tuple(weight.shape)}")
    if num_iters < 1:
        raise ValueError(f"num_iters must be at least 1, got {num_iters}")
    w = weight.detach()
    if u is None:
        u = torch.randn(w.shape[0], generator=generator, dtype=w.dtype).to(w.device)
    u = u / (u.norm() + eps)  # (m,)
    for _ in range(num_iters):
        v = w.T @ u
        v = v / (v.norm() + eps)  # (n,)
        u = w @ v
        u = u / (u.norm() + eps)  # (m,)
    return float(u @ w @ v), u


def layer_spectral_norms(model: nn.Module) -> list[float]:
    r"""Exact :math:`\sigma_{\max}` of the weight of every ``nn.Linear`` of ``model``, in module order.

    For a spectrally normalised layer this is the weight actually used, :math:`W/\hat\sigma`, so it
    shows how close to 1 the power iteration's estimate brings it.
    """
    return [
        float(torch.linalg.matrix_norm(m.weight.detach(), ord=2)) for m in model.modules() if isinstance(m, nn.Linear)
    ]


def lipschitz_upper_bound(model: nn.Module) -> float:
    r"""The product :math:`\prod_l \sigma_{\max}(W_l)` over ``model``'s linear layers.

    For a sequential MLP whose activations are 1-Lipschitz, :math:`\lVert f(x) - f(y)\rVert \le
    \prod_l \sigma_{\max}(W_l)\,\lVert x - y\rVert` (each layer multiplies distances by at most its
    spectral norm, an activation by at most 1): an upper bound on the Lipschitz constant, reached
    only when the top singular directions of consecutive layers line up and no unit is cut off.
    """
    return math.prod(layer_spectral_norms(model))


def empirical_lipschitz(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Largest ratio :math:`\lvert f(x_i) - f(y_i)\rvert / \lVert x_i - y_i\rVert` over the pairs of rows.

    A lower bound on the Lipschitz constant of a scalar ``model`` (``(B, d)`` to ``(B,)``).
    ``x`` and ``y`` are ``(B, d)`` with no identical rows. Evaluated under ``torch.no_grad``.
    """
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y must be (B, d) of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    distance = (x - y).norm(dim=1)  # (B,)
    if not bool((distance > 0).all()):
        raise ValueError("every pair must be two different points")
    with torch.no_grad():
        return float(((model(x) - model(y)).abs() / distance).max())


def max_gradient_norm(model: nn.Module, x: torch.Tensor) -> float:
    r"""Largest :math:`\lVert\nabla_x f(x)\rVert_2` over the rows of ``x`` (``(B, d)``; ``model`` gives ``(B,)``).

    A lower bound on the Lipschitz constant (:math:`\lvert f(x + t e) - f(x)\rvert / t \to
    \lvert\nabla f(x)^\top e\rvert`); for a piecewise-linear network, the largest gradient norm
    over its whole domain equals the constant.
    """
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).sum(), x)  # rows of a batch do not interact in an MLP
    return float(grad.norm(dim=1).max())
