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
    "cdcgan": (26.0, 0.991, 9.87, 10),
    "cdcgan-scratch": (191.3, 1.000, 10.00, 10),
}
# The same README's conditional table: label fidelity, lowest and highest within-class diversity, per-class FID range.
RECORDED_CONDITIONAL = {
    "cdcgan": (0.9934, 0.86, 1.10, 14.3, 100.0),
    "cdcgan-scratch": (1.0, 0.05, 0.08, 132.6, 443.9),
}
FLOOR = 4.9


@pytest.fixture(scope="module")
def unseen(real_mnist_dir: Path):
    images = torch.from_numpy(gh.data.read_idx(real_mnist_dir / "t10k-images-idx3-ubyte.gz"))
    classifier = gh.classifier.load_classifier()
    reference, other = gh.metrics.real_halves(images, 2000, seed=0)
    features = gh.metrics.extract_features(classifier, reference)
    return classifier, features, other


@pytest.fixture(scope="module")
def unseen_labelled(real_mnist_dir: Path):
    images = torch.from_numpy(gh.data.read_idx(real_mnist_dir / "t10k-images-idx3-ubyte.gz"))
    labels = torch.from_numpy(gh.data.read_idx(real_mnist_dir / "t10k-labels-idx1-ubyte.gz")).long()
    return images, labels


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


@pytest.mark.parametrize("name", sorted(RECORDED_CONDITIONAL))
def test_a_shipped_conditional_generator_scores_as_recorded(unseen, unseen_labelled, name):
    classifier = unseen[0]
    G, _, _ = gh.models.load_pretrained(name)
    scores = gh.applications.conditional_scores(G, classifier, *unseen_labelled)
    fidelity, low, high, fid_low, fid_high = RECORDED_CONDITIONAL[name]
    assert scores.fidelity.accuracy == pytest.approx(fidelity, abs=0.0005)
    assert float(scores.diversity.min()) == pytest.approx(low, abs=0.005)
    assert float(scores.diversity.max()) == pytest.approx(high, abs=0.005)
    assert min(scores.fid) == pytest.approx(fid_low, abs=0.05) and max(scores.fid) == pytest.approx(fid_high, abs=0.05)


def test_the_warm_start_kept_the_variety_that_training_from_scratch_lost():
    """Notebook 07's lesson, on the shipped files: both obey the label; only the warm-started one varies."""
    pixels, labels = gh.data.load_offline_sample()[:2]
    warm, _, _ = gh.models.load_pretrained("cdcgan")
    scratch, _, _ = gh.models.load_pretrained("cdcgan-scratch")
    varied = gh.applications.within_class_diversity(warm, pixels[4000:], labels[4000:], per_class=50)
    collapsed = gh.applications.within_class_diversity(scratch, pixels[4000:], labels[4000:], per_class=50)
    assert varied.min() > 0.7 and collapsed.max() < 0.2
