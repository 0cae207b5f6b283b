"""DCGAN (Radford et al. 2016) sized from the image shape, and the conditional DCGAN (Mirza and Osindero
2014) with a projection discriminator (Miyato and Koyama 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gan_helpers.models.mlp import check_image_shape, check_images

__all__ = [
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "check_labels",
    "conditional_from_unconditional",
    "cycling_labels",
    "dcgan_plan",
    "init_dcgan_weights",
]


def dcgan_plan(image_shape: Sequence[int]) -> tuple[int, int]:
    r"""How a DCGAN reaches ``image_shape``: ``(start, num_stages)`` with side :math:`= start \cdot 2^{stages}`.

    G starts from a ``start x start`` feature map and doubles it ``num_stages`` times with
    stride-2 transposed convolutions; D halves the image as many times with stride-2
    convolutions. The side is halved while it is even and above 8, so 28 gives (7, 2), 32 gives
    (8, 2) and 64 gives (8, 3). Images must be square with :math:`4 \le start \le 8` and at least
    one stage; anything else raises a ValueError that names the sizes that work.
    """
    _, height, width = check_image_shape(image_shape)
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
    r"""DCGAN's G (Radford et al. 2016), sized from ``image_shape``: ``(B, latent_dim)`` noise to ``(B, C, H, W)``.

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
        self.image_shape = check_image_shape(image_shape)
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
        self.image_shape = check_image_shape(image_shape)
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
        check_images(x, self.image_shape, "D")
        return self.net(x).flatten()  # (B,)


def init_dcgan_weights(model: nn.Module, std: float = 0.02) -> nn.Module:
    r"""DCGAN initialisation, chosen by layer type: convolution and linear weights :math:`\sim N(0, 0.02^2)`,
    biases 0; batch-norm scales :math:`\sim N(1, 0.02^2)` (the PyTorch DCGAN example's convention; the paper
    draws all weights from :math:`N(0, 0.02^2)`), shifts 0. Returns ``model``."""
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


def check_labels(
    y: torch.Tensor | None, batch_size: int, num_classes: int, who: str, values: bool = True
) -> torch.Tensor:
    """``y`` if it is a valid label batch for ``batch_size`` samples, else a ValueError that says what to pass.

    Valid: an integer tensor (not bool) of shape ``(batch_size,)`` with values in ``0..num_classes - 1``.
    The type and shape checks are free; checking the *values* reads two numbers back from the device
    (a host sync), so ``values=False`` skips it. The conditional models check values only in eval
    mode (sampling, evaluation), and in train mode only when the embedding lookup fails
    (:func:`embed_labels`); in training the labels were checked once where they entered
    (:func:`gan_helpers.training.train_gan` checks its data source's labels, and the labels it draws
    for fakes are valid by construction), so a training step never waits for the device.
    """
    fix = f"pass class indices as torch.tensor([...], dtype=torch.long) with values 0..{num_classes - 1}"
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"{who} needs labels y as a tensor, got {type(y).__name__}; {fix}")
    if y.dtype == torch.bool or y.dtype.is_floating_point or y.dtype.is_complex:
        raise ValueError(f"{who} needs integer labels, got dtype {y.dtype}; {fix}")
    if y.ndim != 1 or len(y) != batch_size:
        raise ValueError(f"{who} needs one label per sample, shape ({batch_size},), got {tuple(y.shape)}; {fix}")
    if values and len(y):
        low, high = (int(v) for v in torch.aminmax(y))
        if low < 0 or high >= num_classes:
            raise ValueError(f"{who} got labels from {low} to {high}, outside 0..{num_classes - 1}; {fix}")
    return y


def embed_labels(embedding: nn.Embedding, y: torch.Tensor, who: str) -> torch.Tensor:
    """``embedding(y)``; a label outside the table raises :func:`check_labels`'s ValueError instead of an IndexError.

    Costs nothing when the labels are valid: the values are read only after the lookup failed (on the
    CPU it fails at once; on a GPU an out-of-range index is a device-side assertion, which is why
    training checks labels where they enter).
    """
    try:
        return embedding(y.long())
    except IndexError:
        check_labels(y, len(y), embedding.num_embeddings, who, values=True)
        raise


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
    every class. Bad labels raise a ValueError (see :func:`check_labels`; label values are checked in eval mode).
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
        y = check_labels(y, len(z), self.num_classes, "G", values=not self.training)
        zy = torch.cat([z, embed_labels(self.embed, y, "G")], dim=1)  # (B, latent_dim + embed_dim)
        return self.body(zy)  # (B, C, H, W)


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
    where the theory puts it. Changing the label from :math:`y` to :math:`y'` moves the logit by
    :math:`\langle v_y - v_{y'}, \phi(x) \rangle`: D can use the label as soon as the class vectors
    differ, and not before (with all :math:`v_y` equal, as at a warm start, the label has no effect
    until training separates them). With :math:`v_y = 0` D is the unconditional DCGAN D (which
    :func:`conditional_from_unconditional` uses for a warm start). The class vectors start at
    :math:`N(0, 0.02^2)`, like DCGAN's weights.

    Miyato and Koyama project onto globally pooled features of a ResNet D. Here :math:`\phi(x)` is the
    whole last feature map (``channels x 7 x 7``, 6,272 numbers at width 64), because that is what this
    D's unconditional head reads: its last layer is a convolution over the full map, not a pooling.
    Projecting onto the same features keeps the warm start exact; the price is a class vector per
    position, more parameters than a pooled template would need.
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
        check_images(x, self.image_shape, "D")
        return self.body.net[:-1](x).flatten(1)  # (B, channels * start * start)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("the conditional D needs labels: call D(x, y) with one class index per image")
        check_images(x, self.image_shape, "D")
        y = check_labels(y, len(x), self.num_classes, "D", values=not self.training)
        h = self.body.net[:-1](x)  # (B, channels, start, start)
        psi = self.body.net[-1](h).flatten()  # (B,) the unconditional DCGAN logit
        projection = (embed_labels(self.embed, y, "D") * h.flatten(1)).sum(dim=1)  # (B,) <v_y, phi(x)>
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
