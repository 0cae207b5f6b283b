"""The evaluation classifier: shapes, augmentation geometry, training, saving, and the shipped weights."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_helpers import classifier, data, metrics, models, runtime

REPO = Path(__file__).resolve().parents[1]
SHIPPED = models.weights_dir() / classifier.CLASSIFIER_WEIGHTS


def test_shapes_and_input_check():
    model = classifier.MNISTClassifier()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert model.features(x).shape == (5, 128)
    assert model(x).shape == (5, 10)
    assert torch.all(model.features(x) >= 0)  # post-ReLU features
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model(torch.zeros(5, 28, 28))
    with pytest.raises(ValueError, match="dropout"):
        classifier.MNISTClassifier(dropout=1.0)


# --- augmentation geometry ---


def _pixel_grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column index of every pixel, float64, each (size, size)."""
    axis = torch.arange(size, dtype=torch.float64)
    return torch.meshgrid(axis, axis, indexing="ij")


def _blob(centre_xy: tuple[float, float], size: int = 28, width: float = 1.2) -> torch.Tensor:
    """A Gaussian spot at (column, row) = centre, on a zero background, shape (1, 1, size, size)."""
    rows, cols = _pixel_grid(size)
    cx, cy = centre_xy
    return torch.exp(-((cols - cx) ** 2 + (rows - cy) ** 2) / (2 * width**2))[None, None]


def _centroid(image: torch.Tensor) -> np.ndarray:
    img = image[0, 0]
    rows, cols = _pixel_grid(img.shape[0])
    return np.array([float((img * cols).sum() / img.sum()), float((img * rows).sum() / img.sum())])


@pytest.mark.parametrize(
    ("degrees", "scale", "shift"), [(0.0, 1.0, (3.0, -2.0)), (30.0, 1.0, (0.0, 0.0)), (-20.0, 1.2, (1.5, 2.5))]
)
def test_affine_transform_moves_content_as_documented(degrees, scale, shift):
    centre = (13.5, 13.5)  # the image centre in pixel coordinates (column, row)
    p = np.array([4.0, -3.0])  # the spot's offset from the centre
    image = _blob((centre[0] + p[0], centre[1] + p[1]))
    out = data.affine_transform(
        image, torch.tensor([degrees]), torch.tensor([scale]), torch.tensor([shift], dtype=torch.float64), fill=0.0
    )
    t = math.radians(degrees)
    rotation = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    expected = scale * rotation @ p + np.array(shift)  # q = s R(theta) p + t
    np.testing.assert_allclose(_centroid(out) - np.array(centre), expected, atol=0.05)


def test_affine_transform_identity_integer_shift_and_fill():
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    same = data.affine_transform(images, torch.zeros(3), torch.ones(3), torch.zeros(3, 2))
    torch.testing.assert_close(same, images, atol=1e-5, rtol=0)
    shifted = data.affine_transform(images, torch.zeros(3), torch.ones(3), torch.tensor([[2.0, 1.0]] * 3))
    torch.testing.assert_close(shifted[:, :, 1:, 2:], images[:, :, :-1, :-2], atol=1e-5, rtol=0)
    background = torch.cat([shifted[:, :, 0, :].flatten(), shifted[:, :, :, :2].flatten()])  # moved in from outside
    torch.testing.assert_close(background, torch.full_like(background, -1.0), atol=1e-6, rtol=0)


def test_random_affine_is_seeded_and_bounded():
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    a = data.random_affine(images, generator=torch.Generator().manual_seed(0))
    b = data.random_affine(images, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, images)
    none = data.random_affine(images, max_degrees=0, max_scale=0, max_shift=0)
    torch.testing.assert_close(none, images, atol=1e-5, rtol=0)


# --- training ---


def _two_digits(n: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = data.load_offline_sample()
    keep = labels < 2  # zeros and ones
    return images[keep][:n], labels[keep][:n]


def _tiny_model() -> classifier.MNISTClassifier:
    return classifier.MNISTClassifier(channels=(4, 8), feature_dim=16, num_classes=2)


def test_train_classifier_learns_and_logs_the_cosine_schedule():
    images, labels = _two_digits(200)
    runtime.seed_everything(0)
    model = _tiny_model()
    history = classifier.train_classifier(
        model, images, labels, epochs=3, batch_size=50, lr=5e-3, augment=False, progress=False,
        eval_images=images, eval_labels=labels,
    )
    assert history.steps("loss").tolist() == [1, 2, 3]
    assert history["loss"][-1] < history["loss"][0]
    assert history.last("eval_accuracy") > 0.95
    assert not model.training
    steps_per_epoch = 4  # 200 digits in batches of 50
    expected = [0.5 * 5e-3 * (1 + math.cos(math.pi * e * steps_per_epoch / 12)) for e in range(3)]
    np.testing.assert_allclose(history["lr"], expected)
    assert classifier.cosine_learning_rate(1.0, 0, 10) == 1.0 and classifier.cosine_learning_rate(1.0, 10, 10) == 0.0


def test_train_classifier_repeats_with_the_same_seed():
    images, labels = _two_digits(200)

    def run() -> torch.Tensor:
        runtime.seed_everything(1)
        model = _tiny_model()
        classifier.train_classifier(model, images, labels, epochs=1, batch_size=50, progress=False, seed=1)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    torch.testing.assert_close(run(), run())


def test_train_classifier_rejects_bad_inputs():
    images, labels = _two_digits(20)
    with pytest.raises(TypeError, match="uint8"):
        classifier.train_classifier(_tiny_model(), images.float(), labels, epochs=1, progress=False)
    with pytest.raises(ValueError, match="one label per image"):
        classifier.train_classifier(_tiny_model(), images, labels[:5], epochs=1, progress=False)


# --- saving, loading and the script ---


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = classifier.MNISTClassifier(channels=(4, 8), feature_dim=32)
    path = classifier.save_classifier(model, tmp_path / "c.pt", test_accuracy=0.5, command="x")
    raw = torch.load(path, weights_only=True)
    assert raw["config"]["feature_dim"] == 32
    loaded, info = classifier.load_classifier(path, return_info=True)
    assert info == {"test_accuracy": 0.5, "command": "x"} and not loaded.training
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(loaded(x), model.eval()(x))
    with pytest.raises(FileNotFoundError, match=r"train_classifier\.py"):
        classifier.load_classifier(tmp_path / "missing.pt")


def test_script_trains_and_saves(tmp_path):
    out = tmp_path / "clf.pt"
    env = {**os.environ, "GAN_HELPERS_DATA_DIR": str(tmp_path)}  # no full MNIST there: the offline sample is used
    env.pop("GAN_HELPERS_REAL_MNIST", None)  # and no test set anywhere, so no accuracy is recorded
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_classifier.py"), "--epochs", "1", "--limit", "100",
         "--no-download", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "offline sample" in result.stderr  # no full MNIST here: it says so
    _, info = classifier.load_classifier(out, return_info=True)
    assert info["epochs"] == 1 and "100 digits" in info["train_data"] and "test_accuracy" not in info


# --- the shipped weights ---


def test_shipped_weights_load_with_weights_only():
    checkpoint = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert set(checkpoint) == {"format", "config", "state_dict", "info", "checksum"}
    model, info = classifier.load_classifier(return_info=True)
    assert isinstance(model, classifier.MNISTClassifier) and not model.training
    assert {"command", "train_data", "epochs", "device", "date", "test_accuracy"} <= set(info)
    assert SHIPPED.stat().st_size < 2_000_000


def _real_test_set(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images = data.read_idx(folder / "t10k-images-idx3-ubyte.gz", expected_shape=(None, 28, 28))
    labels = data.read_idx(folder / "t10k-labels-idx1-ubyte.gz", expected_shape=(None,))
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def test_shipped_classifier_accuracy_on_the_real_test_set(real_mnist_dir):
    images, labels = _real_test_set(real_mnist_dir)
    model, info = classifier.load_classifier(return_info=True)
    assert metrics.classifier_accuracy(model, images[:2000], labels[:2000]) >= 0.95
    # The accuracy recorded with the weights (and in data/weights/README.md) is what they reach.
    measured = metrics.classifier_accuracy(model, images, labels)
    assert measured == pytest.approx(info["test_accuracy"], abs=0.001)
    readme = (models.weights_dir() / "README.md").read_text()
    assert f"{info['test_accuracy']:.2%}" in readme
