"""Fully connected players: MLPs for toy data (with minibatch standard deviation) and for images."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

__all__ = [
    "MLPDiscriminator",
    "MLPGenerator",
    "MLPImageDiscriminator",
    "MLPImageGenerator",
    "MinibatchStdDev",
    "check_image_shape",
    "check_images",
    "count_parameters",
]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _mlp(sizes: Sequence[int], activation: type[nn.Module]) -> nn.Sequential:
    """Linear layers of the given widths with ``activation`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: noise ``z`` of shape ``(B, latent_dim)`` to samples of shape ``(B, data_dim)``."""

    def __init__(self, latent_dim: int = 1, data_dim: int = 1, hidden: Sequence[int] = (32, 32)) -> None:
        super().__init__()
        if latent_dim < 1 or data_dim < 1:
            raise ValueError(f"latent_dim and data_dim must be positive, got {latent_dim} and {data_dim}")
        self.latent_dim = latent_dim
        self.data_dim = data_dim
        self.net = _mlp([latent_dim, *hidden, data_dim], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"G expects noise of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)


class MinibatchStdDev(nn.Module):
    r"""Append one feature to every row: the batch's mean per-feature standard deviation.

    For activations :math:`h \in \mathbb{R}^{B \times F}` (Karras et al. 2018, simplified to one group)

    .. math:: \bar h_f = \frac1B \sum_b h_{bf}, \qquad
              \sigma_f = \sqrt{\frac1B \sum_b (h_{bf} - \bar h_f)^2 + \varepsilon}, \qquad
              s = \frac1F \sum_f \sigma_f,

    and the output is :math:`[h,\ s\,\mathbf{1}_B]` of shape ``(B, F + 1)``. A batch of nearly
    identical samples (a collapsed generator) has :math:`s \approx 0` while a batch of real data
    has :math:`s > 0`, so the layer lets D judge the diversity of a batch, not only each sample.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.ndim != 2:
            raise ValueError(f"MinibatchStdDev expects activations of shape (B, F), got {tuple(h.shape)}")
        centred = h - h.mean(dim=0, keepdim=True)  # (B, F)
        sigma = torch.sqrt(centred.pow(2).mean(dim=0) + self.eps)  # (F,)
        s = sigma.mean().expand(h.shape[0], 1)  # (B, 1), the same value for every row
        return torch.cat([h, s], dim=1)  # (B, F + 1)


class MLPDiscriminator(nn.Module):
    r"""D: samples ``(B, data_dim)`` to one logit each, shape ``(B,)`` (no sigmoid: losses take logits).

    Two options against mode collapse, both off by default:

    * ``spectral_norm=True`` divides every linear layer's weight by its largest singular value,
      :math:`\bar W = W / \sigma_{\max}(W)`, estimated by one power iteration per forward pass in
      training mode (Miyato et al. 2018). Each layer is then 1-Lipschitz, and so is D.
    * ``minibatch_std=True`` inserts :class:`MinibatchStdDev` before the last linear layer: the
      last hidden layer gets one extra input, the batch's mean standard deviation of its features.
      D's output for a sample then depends on the rest of its batch.
    """

    def __init__(
        self,
        data_dim: int = 1,
        hidden: Sequence[int] = (32, 32),
        spectral_norm: bool = False,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        if data_dim < 1:
            raise ValueError(f"data_dim must be positive, got {data_dim}")
        if minibatch_std and not hidden:
            raise ValueError("minibatch_std needs at least one hidden layer to append its feature to")
        self.data_dim = data_dim
        self.spectral_norm = spectral_norm
        self.minibatch_std = minibatch_std
        if minibatch_std:
            body = [*_mlp([data_dim, *hidden], nn.LeakyReLU), nn.LeakyReLU(), MinibatchStdDev()]
            self.net = nn.Sequential(*body, nn.Linear(hidden[-1] + 1, 1))
        else:
            self.net = _mlp([data_dim, *hidden, 1], nn.LeakyReLU)
        if spectral_norm:
            for i, layer in enumerate(self.net):
                if isinstance(layer, nn.Linear):
                    self.net[i] = nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"D expects samples of shape (B, {self.data_dim}), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


# --- Image GANs: the fully connected GAN of Goodfellow et al. (2014) and DCGAN (Radford et al. 2016) ---


def check_image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    """``image_shape`` as a ``(C, H, W)`` tuple of positive ints, or a ValueError that says what to pass."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (channels, height, width) with positive sizes, got {tuple(image_shape)}")
    return shape  # type: ignore[return-value]


class MLPImageGenerator(nn.Module):
    r"""G of a fully connected GAN: ``z`` of shape ``(B, latent_dim)`` to images ``(B, C, H, W)`` in [-1, 1].

    Each hidden layer is Linear, then (with ``batch_norm``) BatchNorm1d, then LeakyReLU(0.2); a last
    linear layer gives :math:`C H W` pixels and :math:`\tanh` puts them in the range of the scaled
    data. Batch norm (Ioffe and Szegedy 2015) is a later addition to the 2014 design.
    """

    def __init__(
        self,
        latent_dim: int = 100,
        image_shape: Sequence[int] = (1, 28, 28),
        hidden: Sequence[int] = (256, 512),
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be positive, got {latent_dim}")
        self.latent_dim = latent_dim
        self.image_shape = check_image_shape(image_shape)
        self.hparams = {
            "latent_dim": latent_dim,
            "image_shape": list(self.image_shape),
            "hidden": list(hidden),
            "batch_norm": batch_norm,
        }
        num_pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        sizes = [latent_dim, *hidden]
        layers: list[nn.Module] = []
        for n_in, n_out in pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), *([nn.BatchNorm1d(n_out)] if batch_norm else []), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(sizes[-1], num_pixels), nn.Tanh()]  # pixels in [-1, 1], like the data
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"G expects noise of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z).view(z.shape[0], *self.image_shape)  # (B, C, H, W)


class MLPImageDiscriminator(nn.Module):
    r"""D of a fully connected GAN: images ``(B, C, H, W)`` to one logit each, shape ``(B,)``.

    The image is flattened, then linear layers of widths ``hidden`` with LeakyReLU(0.2) and dropout
    (the 2014 paper regularised its D with dropout too), then one linear output: a logit, no sigmoid.
    """

    def __init__(
        self, image_shape: Sequence[int] = (1, 28, 28), hidden: Sequence[int] = (512, 256), dropout: float = 0.3
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.image_shape = check_image_shape(image_shape)
        self.hparams = {"image_shape": list(self.image_shape), "hidden": list(hidden), "dropout": dropout}
        sizes = [self.image_shape[0] * self.image_shape[1] * self.image_shape[2], *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out in pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.image_shape, "D")
        return self.net(x).squeeze(1)  # (B,)


def check_images(x: torch.Tensor, image_shape: tuple[int, int, int], who: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != image_shape:
        raise ValueError(f"{who} expects images of shape (B, {', '.join(map(str, image_shape))}), got {tuple(x.shape)}")
