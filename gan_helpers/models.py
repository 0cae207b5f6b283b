"""Models: MLP generators and discriminators (toy data and images), DCGAN, and the shipped pretrained weights."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from gan_helpers import checkpoints

__all__ = [
    "BUILDABLE",
    "PRETRAINED",
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MLPImageDiscriminator",
    "MLPImageGenerator",
    "MinibatchStdDev",
    "Pretrained",
    "build_model",
    "check_labels",
    "conditional_from_unconditional",
    "count_parameters",
    "cycling_labels",
    "dcgan_plan",
    "export_weights",
    "init_dcgan_weights",
    "load_pretrained",
    "load_weights",
    "model_spec",
    "weights_dir",
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


# --- Image GANs: the fully connected GAN of Goodfellow et al. (2014) and DCGAN (Radford et al. 2015) ---


def _check_image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
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
        self.image_shape = _check_image_shape(image_shape)
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
        self.image_shape = _check_image_shape(image_shape)
        self.hparams = {"image_shape": list(self.image_shape), "hidden": list(hidden), "dropout": dropout}
        sizes = [self.image_shape[0] * self.image_shape[1] * self.image_shape[2], *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out in pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.image_shape, "D")
        return self.net(x).squeeze(1)  # (B,)


def _check_images(x: torch.Tensor, image_shape: tuple[int, int, int], who: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != image_shape:
        raise ValueError(f"{who} expects images of shape (B, {', '.join(map(str, image_shape))}), got {tuple(x.shape)}")


def dcgan_plan(image_shape: Sequence[int]) -> tuple[int, int]:
    r"""How a DCGAN reaches ``image_shape``: ``(start, num_stages)`` with side :math:`= start \cdot 2^{stages}`.

    G starts from a ``start x start`` feature map and doubles it ``num_stages`` times with
    stride-2 transposed convolutions; D halves the image as many times with stride-2
    convolutions. The side is halved while it is even and above 8, so 28 gives (7, 2), 32 gives
    (8, 2) and 64 gives (8, 3). Images must be square with :math:`4 \le start \le 8` and at least
    one stage; anything else raises a ValueError that names the sizes that work.
    """
    _, height, width = _check_image_shape(image_shape)
    side, stages = height, 0
    while side % 2 == 0 and side > 8:
        side //= 2
        stages += 1
    if height != width or stages < 1 or not 4 <= side <= 8:
        raise ValueError(
            f"The DCGAN builders cannot handle images of shape {tuple(image_shape)}: they need square images "
            "whose side is start * 2**k with 4 <= start <= 8 and k >= 1, e.g. 16, 28, 32 or 64 "
            "(28 = 7 * 2**2). Resize or pad the images to such a side."
        )
    return side, stages


class DCGANGenerator(nn.Module):
    r"""DCGAN's G (Radford et al. 2015), sized from ``image_shape``: ``(B, latent_dim)`` noise to ``(B, C, H, W)``.

    The design rules, each visible below: no pooling and no fully connected hidden layers; a
    transposed convolution turns :math:`z` (as a ``1 x 1`` map) into a ``start x start`` map, then
    stride-2 transposed convolutions (kernel 4, padding 1) double the side,
    :math:`(s - 1) \cdot 2 - 2 + 4 = 2s`; batch norm and ReLU after every layer but the last;
    Tanh on the output. The widest layer has ``width * 2**(stages - 1)`` filters and the width
    halves with every doubling. For 28x28: 100 -> (128, 7, 7) -> (64, 14, 14) -> (1, 28, 28).
    """

    def __init__(self, latent_dim: int = 100, image_shape: Sequence[int] = (1, 28, 28), width: int = 64) -> None:
        super().__init__()
        if latent_dim < 1 or width < 1:
            raise ValueError(f"latent_dim and width must be positive, got {latent_dim} and {width}")
        self.latent_dim = latent_dim
        self.image_shape = _check_image_shape(image_shape)
        self.hparams = {"latent_dim": latent_dim, "image_shape": list(self.image_shape), "width": width}
        start, stages = dcgan_plan(self.image_shape)
        channels = width * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, channels, kernel_size=start, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        ]  # (B, channels, start, start)
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(),
            ]  # side doubles, filters halve
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, self.image_shape[0], kernel_size=4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"G expects noise of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])  # (B, latent_dim, 1, 1) -> (B, C, H, W)


class DCGANDiscriminator(nn.Module):
    r"""DCGAN's D, sized from ``image_shape``: images ``(B, C, H, W)`` to one logit each, shape ``(B,)``.

    Stride-2 convolutions (kernel 4, padding 1) halve the side instead of pooling,
    :math:`\lfloor (s + 2 - 4)/2 \rfloor + 1 = s/2`; LeakyReLU(0.2) after every hidden layer;
    batch norm on every hidden layer but the first; the last convolution covers the whole
    ``start x start`` map and gives one logit (no sigmoid: the losses take logits).
    For 28x28: (1, 28, 28) -> (64, 14, 14) -> (128, 7, 7) -> logit.
    """

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), width: int = 64) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        self.image_shape = _check_image_shape(image_shape)
        self.hparams = {"image_shape": list(self.image_shape), "width": width}
        start, stages = dcgan_plan(self.image_shape)
        layers: list[nn.Module] = [
            nn.Conv2d(self.image_shape[0], width, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        ]  # no batch norm on D's input layer
        channels = width
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(channels, channels * 2, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(channels * 2),
                nn.LeakyReLU(0.2),
            ]  # side halves, filters double
            channels *= 2
        layers.append(nn.Conv2d(channels, 1, kernel_size=start, stride=1, padding=0))  # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.image_shape, "D")
        return self.net(x).flatten()  # (B,)


def init_dcgan_weights(model: nn.Module, std: float = 0.02) -> nn.Module:
    r"""DCGAN initialisation, chosen by layer type: convolution and linear weights :math:`\sim N(0, 0.02^2)`,
    biases 0; batch-norm scales :math:`\sim N(1, 0.02^2)`, shifts 0. Returns ``model``."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, std)
            nn.init.zeros_(module.bias)
    return model


# --- Conditional DCGAN (Mirza and Osindero 2014) with a projection discriminator (Miyato and Koyama 2018) ---


def check_labels(y: torch.Tensor | None, batch_size: int, num_classes: int, who: str) -> torch.Tensor:
    """``y`` if it is a valid label batch for ``batch_size`` samples, else a ValueError that says what to pass.

    Valid: an integer tensor (not bool) of shape ``(batch_size,)`` with values in ``0..num_classes - 1``.
    """
    fix = f"pass class indices as torch.tensor([...], dtype=torch.long) with values 0..{num_classes - 1}"
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"{who} needs labels y as a tensor, got {type(y).__name__}; {fix}")
    if y.dtype == torch.bool or y.dtype.is_floating_point or y.dtype.is_complex:
        raise ValueError(f"{who} needs integer labels, got dtype {y.dtype}; {fix}")
    if y.ndim != 1 or len(y) != batch_size:
        raise ValueError(f"{who} needs one label per sample, shape ({batch_size},), got {tuple(y.shape)}; {fix}")
    if batch_size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{who} got labels from {int(y.min())} to {int(y.max())}, outside 0..{num_classes - 1}; {fix}")
    return y


def cycling_labels(batch_size: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The labels ``0, 1, ..., num_classes - 1, 0, 1, ...`` for ``batch_size`` samples, shape ``(batch_size,)``."""
    return torch.arange(batch_size, device=device) % num_classes


class ConditionalDCGANGenerator(nn.Module):
    r"""Conditional DCGAN G: noise ``(B, latent_dim)`` and labels ``(B,)`` to images ``(B, C, H, W)``.

    Following Mirza and Osindero (2014), the label is an extra input: a learned embedding
    :math:`e(y) \in \mathbb{R}^{\text{embed\_dim}}` is concatenated to the noise, and a
    :class:`DCGANGenerator` with ``latent_dim + embed_dim`` inputs (the same building plan,
    :func:`dcgan_plan`) maps :math:`[z, e(y)]` to the image: :math:`G(z, y) = G_0([z, e(y)])`.

    ``G(z)`` without labels uses :func:`cycling_labels` (0, 1, ..., 9, 0, ...), so that code written
    for unconditional G (fixed-noise sample grids in :func:`gan_helpers.training.train_epochs`) shows
    every class. Bad labels raise a ValueError (see :func:`check_labels`).
    """

    def __init__(
        self,
        latent_dim: int = 100,
        num_classes: int = 10,
        image_shape: Sequence[int] = (1, 28, 28),
        width: int = 64,
        embed_dim: int = 50,
    ) -> None:
        super().__init__()
        if num_classes < 2 or embed_dim < 1:
            raise ValueError(f"num_classes must be at least 2 and embed_dim positive, got {num_classes}, {embed_dim}")
        self.body = DCGANGenerator(latent_dim + embed_dim, image_shape, width)  # the DCGAN plan, reused
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.image_shape = self.body.image_shape
        self.hparams = {
            "latent_dim": latent_dim,
            "num_classes": num_classes,
            "image_shape": list(self.image_shape),
            "width": width,
            "embed_dim": embed_dim,
        }
        self.embed = nn.Embedding(num_classes, embed_dim)  # N(0, 1) entries, on the scale of z

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"G expects noise of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        y = cycling_labels(len(z), self.num_classes, z.device) if y is None else y
        y = check_labels(y, len(z), self.num_classes, "G")
        return self.body(torch.cat([z, self.embed(y.long())], dim=1))  # (B, latent_dim + embed_dim) -> (B, C, H, W)


class ConditionalDCGANDiscriminator(nn.Module):
    r"""Conditional DCGAN D with a projection head (Miyato and Koyama 2018): images and labels to logits ``(B,)``.

    The convolutional body of a :class:`DCGANDiscriminator` (all its layers but the last) gives
    features :math:`\phi(x)`, its last ``(channels, start, start)`` feature map flattened; the
    DCGAN's last convolution covers the whole map, so it is a linear function :math:`\psi` of
    them; a vector :math:`v_y \in \mathbb{R}^{\dim\phi}` per class adds the projection term:

    .. math:: D(x, y) = \psi(\phi(x)) + \langle v_y, \phi(x) \rangle .

    Why projection rather than concatenating the label to the input (as Mirza and Osindero did):
    if D's logit is the log density ratio :math:`\log q(x, y)/p_G(x, y)` and the class posteriors
    are log-linear in :math:`\phi(x)`, the ratio splits exactly into a label-free part
    :math:`\psi(\phi(x))` and an inner product with a per-class vector. So the label enters once,
    where the theory puts it, D cannot ignore it (the term changes with :math:`y` for any
    :math:`\phi(x) \ne 0`), and with :math:`v_y = 0` D is the unconditional DCGAN D (which
    :func:`conditional_from_unconditional` uses for a warm start). The class vectors start at
    :math:`N(0, 0.02^2)`, like DCGAN's weights.
    """

    def __init__(self, num_classes: int = 10, image_shape: Sequence[int] = (1, 28, 28), width: int = 64) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        self.body = DCGANDiscriminator(image_shape, width)  # the DCGAN plan, reused
        head = self.body.net[-1]
        if not isinstance(head, nn.Conv2d):
            raise TypeError("DCGANDiscriminator's last layer is expected to be its output convolution")
        self.num_classes = num_classes
        self.image_shape = self.body.image_shape
        self.hparams = {"num_classes": num_classes, "image_shape": list(self.image_shape), "width": width}
        self.feature_dim = head.in_channels * head.kernel_size[0] * head.kernel_size[1]
        self.embed = nn.Embedding(num_classes, self.feature_dim)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\phi(x)`, shape ``(B, feature_dim)``: the body's last feature map, flattened."""
        _check_images(x, self.image_shape, "D")
        return self.body.net[:-1](x).flatten(1)  # (B, channels * start * start)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("the conditional D needs labels: call D(x, y) with one class index per image")
        _check_images(x, self.image_shape, "D")
        y = check_labels(y, len(x), self.num_classes, "D")
        h = self.body.net[:-1](x)  # (B, channels, start, start)
        psi = self.body.net[-1](h).flatten()  # (B,) the unconditional DCGAN logit
        projection = (self.embed(y.long()) * h.flatten(1)).sum(dim=1)  # (B,) <v_y, phi(x)>
        return psi + projection




def conditional_from_unconditional(
    G: DCGANGenerator, D: DCGANDiscriminator, num_classes: int = 10, embed_dim: int = 50
) -> tuple[ConditionalDCGANGenerator, ConditionalDCGANDiscriminator]:
    r"""A conditional pair that starts as the given unconditional DCGAN: a warm start for conditioning.

    G's first layer gets zero weights for the label embedding's inputs and D's class vectors start
    at 0, so at first :math:`G(z, y) = G_{\text{uncond}}(z)` and :math:`D(x, y) = D_{\text{uncond}}(x)`
    for every label. Training then only has to learn what the label changes. Trained from scratch
    on 400 digits per class, our conditional G learned to ignore its noise and drew one digit per
    class (mode collapse within each class, see notebook 07); a G that already uses its noise
    kept using it.
    """
    G_c = ConditionalDCGANGenerator(G.latent_dim, num_classes, G.image_shape, G.hparams["width"], embed_dim)
    D_c = ConditionalDCGANDiscriminator(num_classes, D.image_shape, D.hparams["width"])
    state = {k: v.clone() for k, v in G.state_dict().items()}
    first = state["net.0.weight"]  # (latent_dim, channels, start, start)
    state["net.0.weight"] = torch.cat([first, torch.zeros(embed_dim, *first.shape[1:], dtype=first.dtype)])
    G_c.body.load_state_dict(state)
    D_c.body.load_state_dict(D.state_dict())
    nn.init.zeros_(D_c.embed.weight)
    return G_c.to(first.device), D_c.to(first.device)


# --- Rebuilding models from plain data, and the shipped pretrained weights ---

#: Classes that :func:`build_model` may rebuild from a checkpoint (never arbitrary code).
BUILDABLE = (
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPImageDiscriminator",
    "MLPImageGenerator",
)

#: The shipped weights: name -> file under ``data/weights``.
PRETRAINED = {"dcgan": "dcgan_mnist.pt", "mlp": "mlp_gan_mnist.pt", "cdcgan": "cdcgan_mnist.pt"}


def model_spec(model: nn.Module) -> dict[str, Any]:
    """``{"class": name, "kwargs": {...}}``: plain data from which :func:`build_model` rebuilds ``model``."""
    name = type(model).__name__
    if name not in BUILDABLE or not hasattr(model, "hparams"):
        raise ValueError(f"{name} cannot be described for a checkpoint; supported: {BUILDABLE}")
    return {"class": name, "kwargs": dict(model.hparams)}


def build_model(spec: dict[str, Any]) -> nn.Module:
    """A fresh model from a :func:`model_spec` dictionary (only the classes in ``BUILDABLE``)."""
    name = spec.get("class")
    if name not in BUILDABLE:
        raise ValueError(f"Unknown model class {name!r} in the spec; supported: {BUILDABLE}")
    return globals()[name](**spec["kwargs"])


def weights_dir() -> Path:
    """The folder of the shipped weights, ``<repository>/data/weights``."""
    return Path(__file__).resolve().parents[1] / "data" / "weights"


class Pretrained(NamedTuple):
    """A shipped GAN: ``G`` and ``D`` in eval mode, and ``info`` on how they were made."""

    G: nn.Module
    D: nn.Module
    info: dict[str, Any]


def export_weights(
    G: nn.Module, D: nn.Module, path: str | os.PathLike[str], info: dict[str, Any] | None = None, half: bool = True
) -> Path:
    """Write G and D (specs and weights, float16 when ``half``) and ``info`` to ``path``, atomically.

    The file holds only tensors, strings and numbers, so :func:`load_pretrained` reads it with
    ``torch.load(..., weights_only=True)``.
    """

    def pack(model: nn.Module) -> dict[str, Any]:
        state = {
            k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
            for k, v in model.state_dict().items()
        }
        return {**model_spec(model), "state_dict": state}

    payload = {"format": "gan_helpers.weights/1", "G": pack(G), "D": pack(D), "info": dict(info or {})}
    return checkpoints.atomic_save(payload, path)  # a crash mid-write never leaves a half-written file


def load_weights(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> Pretrained:
    """Load a file written by :func:`export_weights` (``weights_only=True``): G and D in eval mode, float32."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {path}. Check the path, or train a model and export it.")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != "gan_helpers.weights/1":
        raise ValueError(f"{path} is not a gan_helpers weights file (format {payload.get('format')!r}).")
    models = []
    for part in ("G", "D"):
        model = build_model(payload[part])
        state = {k: v.float() if v.is_floating_point() else v for k, v in payload[part]["state_dict"].items()}
        model.load_state_dict(state)
        models.append(model.to(device).eval())
    return Pretrained(models[0], models[1], payload["info"])


def load_pretrained(
    name: str = "dcgan", root: str | os.PathLike[str] | None = None, device: torch.device | str = "cpu"
) -> Pretrained:
    """The shipped GAN trained on MNIST: ``G, D, info = gh.models.load_pretrained("dcgan")``.

    ``name`` is ``"dcgan"`` or ``"mlp"``; ``root`` is the folder of the weight files (default
    :func:`weights_dir`). ``info`` records how the weights were made (command, device, data,
    epochs, date). Loading uses ``weights_only=True``: no pickled code runs.
    """
    if name not in PRETRAINED:
        raise ValueError(f"No shipped weights named {name!r}; available: {sorted(PRETRAINED)}")
    folder = Path(root) if root is not None else weights_dir()
    return load_weights(folder / PRETRAINED[name], device=device)
