"""Class coverage, nearest neighbours, precision/recall and the generator report against brute force and known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from torch import nn

from gan_helpers import data, exercises, metrics, models, sampling
from gan_helpers.classifier import MNISTClassifier, load_classifier

# --- class coverage ---


def test_coverage_counts_and_kl_match_scipy():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 9])
    cov = metrics.class_coverage(labels, num_classes=10, min_share=0.1)
    np.testing.assert_array_equal(cov.counts, [3, 2, 1, 4, 0, 0, 0, 0, 0, 1])
    np.testing.assert_allclose(cov.shares, cov.counts / 11)
    assert cov.kl_from_uniform == pytest.approx(scipy.stats.entropy(cov.shares, np.full(10, 0.1)))
    assert cov.kl_from_uniform == pytest.approx(math.log(10) - scipy.stats.entropy(cov.shares))  # log K - H(p)
    assert cov.covered == (0, 1, 3)  # shares 3/11, 2/11, 4/11 >= 0.1; 1/11 < 0.1
    assert cov.classes_covered == 3 and cov.num_classes == 10
    assert cov.missing == (2, 4, 5, 6, 7, 8, 9)


def test_coverage_extremes():
    balanced = metrics.class_coverage(np.repeat(np.arange(10), 7))
    assert balanced.kl_from_uniform == pytest.approx(0.0, abs=1e-12) and balanced.classes_covered == 10
    collapsed = metrics.class_coverage([4] * 50)
    assert collapsed.kl_from_uniform == pytest.approx(math.log(10)) and collapsed.covered == (4,)


def test_coverage_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"0\.\.9"):
        metrics.class_coverage([0, 10])
    with pytest.raises(ValueError, match="no labels"):
        metrics.class_coverage([])


# --- nearest neighbours and k-NN radii ---


def test_nearest_neighbours_match_brute_force_in_blocks():
    rng = np.random.default_rng(0)
    queries, reference = rng.normal(size=(37, 5)), rng.normal(size=(50, 5))
    brute = np.linalg.norm(queries[:, None] - reference[None], axis=2)
    order = np.argsort(brute, axis=1)[:, :3]
    for max_block in (2**24, 100, 1):  # one block, several, one query at a time
        nn_ = metrics.nearest_neighbours(queries, reference, k=3, max_block=max_block)
        np.testing.assert_array_equal(nn_.indices.numpy(), order)
        np.testing.assert_allclose(nn_.distances.numpy(), np.take_along_axis(brute, order, 1), rtol=1e-9)


def test_nearest_neighbours_of_images_find_the_copy():
    images, _ = data.load_offline_sample()
    reference = images[:300]
    queries = reference[[5, 17, 250]].clone()
    found = metrics.nearest_neighbours(queries, reference, k=2)
    assert found.indices[:, 0].tolist() == [5, 17, 250]
    assert torch.all(found.distances[:, 0] == 0) and torch.all(found.distances[:, 1] > 0)
    with pytest.raises(ValueError, match="values each"):
        metrics.nearest_neighbours(queries, torch.zeros(3, 10))
    with pytest.raises(ValueError, match="k must be"):
        metrics.nearest_neighbours(queries, reference, k=301)


def test_knn_radii_exclude_the_point_itself():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(40, 3))
    brute = np.sort(np.linalg.norm(f[:, None] - f[None], axis=2), axis=1)  # column 0: the point itself
    np.testing.assert_allclose(metrics.knn_radii(f, k=3).numpy(), brute[:, 3], rtol=1e-9)


# --- precision and recall ---


def _brute_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """The docstring's definition written out with explicit distance matrices."""

    def radii(x: np.ndarray) -> np.ndarray:
        return np.sort(np.linalg.norm(x[:, None] - x[None], axis=2), axis=1)[:, k]

    def share_inside(points: np.ndarray, centres: np.ndarray) -> float:
        dist = np.linalg.norm(points[:, None] - centres[None], axis=2)
        return float(np.mean((dist <= radii(centres)[None]).any(axis=1)))

    return share_inside(fake, real), share_inside(real, fake)


def test_precision_recall_match_the_definition():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(60, 4)), rng.normal(size=(45, 4)) * 0.6 + 0.8  # narrower and shifted
    pr = metrics.precision_recall(real, fake, k=3, max_block=64)
    assert (pr.precision, pr.recall) == pytest.approx(_brute_precision_recall(real, fake, 3))
    assert 0 < pr.precision < 1 and 0 < pr.recall < 1 and pr.k == 3


def test_identical_and_disjoint_sets():
    f = np.random.default_rng(3).normal(size=(100, 8))
    same = metrics.precision_recall(f, f)
    assert (same.precision, same.recall) == (1.0, 1.0)
    far = metrics.precision_recall(f, f + 100.0)
    assert (far.precision, far.recall) == (0.0, 0.0)


def test_dropping_half_the_modes_halves_recall_keeps_precision():
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(10, 2)) * 20  # ten well separated modes in the plane
    modes = rng.integers(0, 10, 2000)
    real = centres[modes] + rng.normal(size=(2000, 2))
    fake = centres[rng.integers(0, 5, 2000)] + rng.normal(size=(2000, 2))  # only modes 0..4
    pr = metrics.precision_recall(real, fake, k=3)
    assert pr.precision > 0.95
    assert pr.recall == pytest.approx(np.mean(modes < 5), abs=0.03)  # the real samples of the kept modes


# --- classifier outputs, sampling and the generator report ---


def _small_classifier() -> MNISTClassifier:
    torch.manual_seed(0)
    return MNISTClassifier(channels=(4, 8), feature_dim=16)


def test_as_unit_images_converts_and_checks():
    pixels = torch.tensor([[0, 255], [127, 51]], dtype=torch.uint8).repeat(3, 14, 14)  # (3, 28, 28)
    x = metrics.as_unit_images(pixels)
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    torch.testing.assert_close(x, pixels[:, None].float() / 127.5 - 1)
    torch.testing.assert_close(metrics.as_unit_images(x.reshape(3, 784)), x)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        metrics.as_unit_images(pixels.float())


def test_classifier_outputs_in_batches_restore_mode():
    model = _small_classifier().train()
    images, labels = data.load_offline_sample()
    f_small, logits_small = metrics.classifier_outputs(model, images[:23], batch_size=5)
    assert model.training  # mode restored
    assert f_small.shape == (23, 16) and logits_small.shape == (23, 10)
    model.eval()
    with torch.no_grad():
        x = images[:23, None].float() / 127.5 - 1
        torch.testing.assert_close(f_small, model.features(x))
        torch.testing.assert_close(logits_small, model(x))
    torch.testing.assert_close(metrics.extract_features(model, images[:23], batch_size=500), f_small)
    torch.testing.assert_close(metrics.classify(model, images[:23]), logits_small.argmax(1))
    acc = metrics.classifier_accuracy(model, images[:23], labels[:23])
    assert acc == pytest.approx(float((logits_small.argmax(1) == labels[:23]).float().mean()))


def test_sample_is_seeded_and_restores_mode():
    torch.manual_seed(0)
    G = models.MLPImageGenerator(latent_dim=8, hidden=(16,)).train()
    a = sampling.sample(G, 7, seed=3, batch_size=3)
    b = sampling.sample(G, 7, seed=3)
    assert a.shape == (7, 1, 28, 28) and G.training
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, sampling.sample(G, 7, seed=4))


class _Replay(nn.Module):
    """A stand-in generator that returns stored images in order: a perfect or a collapsed 'G'."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.latent_dim = 2
        self.bank = images[:, None].float() / 127.5 - 1
        self.position = 0
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the module a device

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.bank[self.position : self.position + len(z)]
        self.position += len(z)
        return out


def test_evaluate_generator_tells_a_good_generator_from_a_collapsed_one():
    classifier = load_classifier()
    images, _ = data.load_offline_sample()
    real = images[:1000]
    replay = _Replay(images[1000:2000]).train()
    good = metrics.evaluate_generator(replay, classifier, real, n=1000, seed=0)
    assert replay.training  # G's mode is restored
    collapsed = metrics.evaluate_generator(_Replay(images[1000:1001].repeat(1000, 1, 1)), classifier, real, n=1000)
    assert good.fid < 0.1 * collapsed.fid
    assert good.recall > 0.8 and good.precision > 0.8 and good.coverage.classes_covered == 10
    assert collapsed.recall < 0.05 and collapsed.coverage.classes_covered == 1
    assert "FID" in str(good) and good.n == 1000
    same = metrics.evaluate_samples(images[1000:2000], classifier, real, n=1000, seed=0)  # uint8 in, same images
    assert same.fid == pytest.approx(good.fid, rel=1e-6) and same.recall == good.recall


# --- exercise checkers of notebook 06 ---


def test_fid_diagonal_checker():
    def right(mu1, var1, mu2, var2):
        return ((mu1 - mu2) ** 2).sum() + ((var1.sqrt() - var2.sqrt()) ** 2).sum()

    def variances(mu1, var1, mu2, var2):
        return ((mu1 - mu2) ** 2).sum() + ((var1 - var2) ** 2).sum()

    assert exercises.check_fid_diagonal(right)
    feedback = exercises.check_fid_diagonal(variances)
    assert not feedback and "standard deviations" in feedback.message


def test_kl_from_uniform_checker():
    def right(labels, num_classes):
        p = torch.bincount(labels, minlength=num_classes).double() / len(labels)
        p = p[p > 0]
        return (p * torch.log(num_classes * p)).sum()

    def no_empty_class_care(labels, num_classes):
        p = torch.bincount(labels, minlength=num_classes).double() / len(labels)
        return (p * torch.log(num_classes * p)).sum()

    assert exercises.check_kl_from_uniform(right)
    feedback = exercises.check_kl_from_uniform(no_empty_class_care)
    assert not feedback and "0 log 0" in feedback.message


def test_precision_checker():
    def right(real, fake, k):
        radii = torch.cdist(real, real).sort(dim=1).values[:, k]
        return (torch.cdist(fake, real) <= radii[None]).any(dim=1).double().mean()

    def counts_itself(real, fake, k):
        radii = torch.cdist(real, real).sort(dim=1).values[:, k - 1]
        return (torch.cdist(fake, real) <= radii[None]).any(dim=1).double().mean()

    def unwritten(real, fake, k):
        raise NotImplementedError

    assert exercises.check_precision(right)
    feedback = exercises.check_precision(counts_itself)
    assert not feedback and "own nearest neighbour" in feedback.message
    assert "not written yet" in exercises.check_precision(unwritten).message


def test_density_checker_accepts_a_loop_and_names_each_mistake():
    def radii(real, k, skip_self=True):
        d = torch.cdist(real, real).sort(dim=1).values
        return d[:, k] if skip_self else d[:, k - 1]

    def loop(real, fake, k):  # an independent computation: one ball at a time
        r = radii(real, k)
        return sum(int(torch.dist(f, x) <= r[i]) for f in fake for i, x in enumerate(real)) / (k * len(fake))

    def precision_instead(real, fake, k):
        return (torch.cdist(fake, real) <= radii(real, k)[None]).any(dim=1).double().mean()

    def no_division(real, fake, k):
        return (torch.cdist(fake, real) <= radii(real, k)[None]).sum(dim=1).double().mean()

    def counts_itself(real, fake, k):
        return (torch.cdist(fake, real) <= radii(real, k, skip_self=False)[None]).sum(dim=1).double().mean() / k

    assert exercises.check_density(loop)
    for wrong, hint in ((precision_instead, "that is precision"), (no_division, "divide the mean count by k"),
                        (counts_itself, "own nearest neighbour"), (lambda r, f, k: 0.5, "wrong value")):
        feedback = exercises.check_density(wrong)
        assert not feedback and hint in feedback.message, (wrong, feedback)


# --- the evaluation plots ---


def test_evaluation_plots_draw_what_they_are_given():
    import matplotlib.pyplot as plt

    from gan_helpers import plots, training

    cov = metrics.class_coverage([0, 1, 1, 2, 2, 2])
    fig = plots.plot_class_coverage({"a": cov, "b": cov})
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 10  # one bar per class
    rng = np.random.default_rng(0)
    curve = metrics.fid_versus_sample_size(rng.normal(size=(60, 2)), rng.normal(size=(60, 2)), sizes=[10, 40])
    fig = plots.plot_fid_curves({"x": curve})
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_legend().get_texts()[0].get_text() == "x"
    images = torch.rand(10, 1, 28, 28) * 2 - 1
    found = metrics.nearest_neighbours(images[:4], images, k=2)
    fig = plots.plot_nearest_neighbours(images[:4], images, found, num_show=3)
    assert len(fig.axes) == 3 * 3  # (query + 2 neighbours) x 3 columns
    assert fig.axes[3].get_xlabel() == f"d = {float(found.distances[0, 0]):.1f}"  # row 1, column 0
    distances = torch.tensor([1.0, 2.0, 4.0])
    fig = plots.plot_distance_histograms({"set": distances})
    assert "median 2.00" in fig.axes[0].get_legend().get_texts()[0].get_text()
    history = training.History()
    for epoch in (1, 2):
        history.log(epoch, loss=1.0 / epoch, accuracy=0.5 + 0.2 * epoch, eval_accuracy=0.8)
    fig = plots.plot_classifier_history(history)
    assert len(fig.axes[1].get_lines()) == 2  # training and held-out accuracy
    plt.close("all")
