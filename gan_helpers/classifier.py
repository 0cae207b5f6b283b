r"""The MNIST classifier whose feature space the metrics use (FID, precision/recall, class coverage):
the model, its supervised training and its shipped weights."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gan_helpers import checkpoints, metrics
from gan_helpers.data.augment import random_affine
from gan_helpers.data.batches import DeviceBatches
from gan_helpers.models import weights_dir
from gan_helpers.training.config import check_finite
from gan_helpers.training.history import History, IntervalMeans

__all__ = [
    "CLASSIFIER_FORMAT",
    "CLASSIFIER_WEIGHTS",
    "MNISTClassifier",
    "cosine_learning_rate",
    "load_classifier",
    "save_classifier",
    "train_classifier",
]

#: File name of the shipped classifier weights in :func:`weights_dir`.
CLASSIFIER_WEIGHTS = "mnist_classifier.pt"

#: The ``"format"`` of the files :func:`save_classifier` writes (2: with a checksum; 1 had neither).
CLASSIFIER_FORMAT = "gan_helpers.classifier/2"

_CLASSIFIER_REMEDY = (
    "Restore the shipped file with `git checkout -- data/weights`, "
    "or train a new one: python scripts/train_classifier.py"
)


class MNISTClassifier(nn.Module):
    r"""A LeNet-style digit classifier whose penultimate layer is the feature space of the metrics.

    ``conv 5x5 -> ReLU -> maxpool 2 -> conv 5x5 -> ReLU -> maxpool 2 -> linear -> ReLU`` gives the
    features :math:`\phi(x) \in \mathbb{R}^{d}` (``features(x)``, :math:`d` = ``feature_dim``);
    ``head`` (dropout, then linear) maps them to ``num_classes`` logits (``forward(x)``).
    Inputs are images in :math:`[-1, 1]` of shape ``(B, 1, 28, 28)``, the range G produces.
    """

    def __init__(
        self,
        channels: tuple[int, int] = (16, 32),
        feature_dim: int = 128,
        num_classes: int = 10,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        c1, c2 = channels
        if min(c1, c2, feature_dim) < 1 or num_classes < 2:
            raise ValueError(
                f"channels and feature_dim must be positive and num_classes at least 2, "
                f"got channels={channels}, feature_dim={feature_dim}, num_classes={num_classes}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.config = {
            "channels": [int(c1), int(c2)],
            "feature_dim": int(feature_dim),
            "num_classes": int(num_classes),
            "dropout": float(dropout),
        }
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.conv = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=5, padding=2),  # (B, c1, 28, 28)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),  # (B, c2, 14, 14)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c2, 7, 7)
        )
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 7 * 7, feature_dim), nn.ReLU())  # (B, d)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, num_classes))  # (B, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features, shape ``(B, feature_dim)``, of images ``(B, 1, 28, 28)`` in [-1, 1]."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"the classifier expects images of shape (B, 1, 28, 28) in [-1, 1], got {tuple(x.shape)}; "
                "convert uint8 digits with gh.data.to_unit_range(images)[:, None]"
            )
        return self.embed(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape ``(B, num_classes)``."""
        return self.head(self.features(x))


def save_classifier(model: MNISTClassifier, path: str | os.PathLike[str], **info: str | int | float) -> Path:
    """Save ``model``'s configuration, weights and ``info`` (e.g. its test accuracy) to ``path``, atomically.

    The file holds only tensors and plain values, so ``torch.load(path, weights_only=True)`` reads it,
    and a checksum that :func:`load_classifier` verifies.
    """
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    plain = {k: v if type(v) in (str, int, float) else str(v) for k, v in info.items()}  # no pickled classes
    payload = {"format": CLASSIFIER_FORMAT, "config": dict(model.config), "state_dict": state, "info": plain}
    return checkpoints.atomic_save(payload, path)


def load_classifier(
    path: str | os.PathLike[str] | None = None,
    device: torch.device | str | None = "cpu",
    return_info: bool = False,
) -> MNISTClassifier | tuple[MNISTClassifier, dict]:
    """The classifier saved at ``path`` (default: the shipped ``data/weights/mnist_classifier.pt``), in eval mode.

    Loads with ``weights_only=True`` and verifies the file's checksum: an unreadable, damaged,
    older or foreign file raises :class:`gan_helpers.checkpoints.CheckpointError` saying what to do.
    ``device`` goes through :func:`gan_helpers.runtime.get_device`. With ``return_info=True`` also
    returns the stored info dict (how it was trained, its test accuracy).
    """
    path = weights_dir() / CLASSIFIER_WEIGHTS if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"classifier weights {path} not found. The repository ships them in data/weights/; "
            "restore them (git checkout -- data/weights) or train new ones: python scripts/train_classifier.py"
        )
    target = checkpoints.target_device(device)
    checkpoint = checkpoints.load_checkpoint(
        path, expected_format=CLASSIFIER_FORMAT, what="classifier file", remedy=_CLASSIFIER_REMEDY
    )
    model = _rebuild_classifier(checkpoint, path)
    model.to(target).eval()
    info = checkpoint.get("info", {})
    return (model, dict(info) if isinstance(info, dict) else {}) if return_info else model


def _rebuild_classifier(checkpoint: dict, path: Path) -> MNISTClassifier:
    """The :class:`MNISTClassifier` of a loaded file, its configuration checked against its weights first."""
    config = checkpoint.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("channels"), list | tuple):
        raise checkpoints.CheckpointError(f"{path} holds no classifier configuration. {_CLASSIFIER_REMEDY}")
    config = {**config, "channels": tuple(config["channels"])}
    try:
        return checkpoints.build_checked(MNISTClassifier, config, checkpoint.get("state_dict"))
    except ValueError as exc:
        raise checkpoints.CheckpointError(
            f"{path}: the classifier cannot be rebuilt: {exc}. {_CLASSIFIER_REMEDY}"
        ) from None


def cosine_learning_rate(lr: float, step: int, total_steps: int) -> float:
    r"""Cosine decay from ``lr`` to 0: :math:`\eta_t = \tfrac{\eta}{2}\left(1 + \cos\frac{\pi t}{T}\right)`."""
    return 0.5 * lr * (1.0 + math.cos(math.pi * step / total_steps))


def train_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 2e-3,
    weight_decay: float = 1e-4,
    augment: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = True,
    eval_images: torch.Tensor | None = None,
    eval_labels: torch.Tensor | None = None,
) -> History:
    r"""Train a classifier on uint8 digits ``images`` ``(N, 28, 28)`` and int64 ``labels`` (as
    :func:`gan_helpers.data.load_mnist` returns them) by minimising the cross-entropy of its logits.

    Adam (with decoupled ``weight_decay``, AdamW) runs for ``epochs`` passes over the data with the
    learning rate of :func:`cosine_learning_rate` at every step; pixels are mapped to [-1, 1] and,
    with ``augment``, each batch goes through :func:`random_affine`. Shuffling and augmentation
    are seeded by ``seed`` (dropout and the initial weights follow PyTorch's global seed).
    Logged once per epoch (step = epoch number): ``loss`` and ``accuracy`` on the training batches
    as seen (augmented), ``lr`` at the epoch's first step, and ``eval_accuracy`` when
    ``eval_images``/``eval_labels`` are given. Leaves the model in eval mode.
    """
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.dtype != torch.uint8:
        raise TypeError(
            f"train_classifier expects uint8 pixels (as load_mnist returns), got {images.dtype}; "
            "for images already in [-1, 1] convert back with ((x + 1) * 127.5).round().to(torch.uint8)"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"need one label per image: {len(images)} images, labels of shape {tuple(labels.shape)}")
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"epochs and batch_size must be at least 1 and lr positive, got {epochs}, {batch_size}, {lr}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    batches = DeviceBatches(  # every digit once per epoch, the last batch smaller
        images, labels.long(), batch_size=batch_size, device=device, drop_last=False, generator=generator
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    total_steps = epochs * len(batches)
    history = History()
    means = IntervalMeans(("loss", "accuracy"), device)  # summed loss and correct predictions over the epoch
    step = 0
    bar = tqdm(range(1, epochs + 1), desc="classifier", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        epoch_lr = cosine_learning_rate(lr, step, total_steps)
        for x, y in batches:
            if augment:
                x = random_affine(x, generator=generator)
            for group in optimizer.param_groups:
                group["lr"] = cosine_learning_rate(lr, step, total_steps)
            logits = model(x)  # (B, classes)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            means.add(loss * len(y), (logits.argmax(1) == y).sum())
        values = {**means.pop(total=len(images)), "lr": epoch_lr}
        check_finite({"loss": values["loss"]}, epoch)
        if eval_images is not None and eval_labels is not None:
            values["eval_accuracy"] = metrics.classifier_accuracy(model, eval_images, eval_labels, device=device)
        history.log(epoch, **values)
        bar.set_postfix({k: f"{v:.4f}" for k, v in values.items() if k != "lr"})
    bar.close()
    model.eval()
    return history
