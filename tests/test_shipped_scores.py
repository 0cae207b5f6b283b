"""The shipped generators score, against digits nobody trained on, what data/weights/README.md records."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import gan_helpers as gh

# data/weights/README.md, "Measured against digits nobody trained on": FID, confident share, Inception score, in band.
RECORDED = {
    "dcgan": (95.6, 0.685, 7.00, 5),
    "mlp": (207.8, 0.525, 5.79, 6),
}
FLOOR = 4.9


@pytest.fixture(scope="module")
def unseen(real_mnist_dir: Path):
    images = torch.from_numpy(gh.data.read_idx(real_mnist_dir / "t10k-images-idx3-ubyte.gz"))
    classifier = gh.classifier.load_classifier()
    reference, other = gh.metrics.real_halves(images, 2000, seed=0)
    features = gh.metrics.extract_features(classifier, reference)
    return classifier, features, other


def test_the_real_floor_is_as_recorded(unseen):
    classifier, features, other = unseen
    assert gh.metrics.score_samples(other, classifier, features).fid == pytest.approx(FLOOR, abs=0.05)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_a_shipped_generator_scores_as_recorded(unseen, name):
    classifier, features, _ = unseen
    G, _, _ = gh.models.load_pretrained(name)
    scores = gh.metrics.score_generator(G, classifier, features, seed=1)
    fid, confident, inception, in_band = RECORDED[name]
    assert scores.fid == pytest.approx(fid, abs=0.05)
    assert scores.confident == pytest.approx(confident, abs=0.0005)
    assert scores.inception == pytest.approx(inception, abs=0.005)
    assert scores.in_band == in_band
