"""Inpainting by latent optimisation: recovery of a known z, the objective, masks, scores and baselines."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import gan_helpers as gh

app = gh.applications



def _random_generator(seed=0):
    """A small fixed random DCGAN G with weights large enough that its images are far from 0."""
    torch.manual_seed(seed)
    G = gh.models.DCGANGenerator(8, (1, 28, 28), width=8)
    return gh.models.init_dcgan_weights(G, std=0.2).eval()


def test_unmasked_image_of_a_known_z_is_recovered():
    G = _random_generator()
    z0 = torch.randn(3, 8)
    with torch.no_grad():
        x = G(z0)
    result = app.inpaint(G, x, torch.ones(1, 28, 28), steps=200, lr=0.05, prior_weight=0.0, restarts=2, seed=1)
    error = (result.generated - x).flatten(1).norm(dim=1)
    assert (error < 0.01 * x.flatten(1).norm(dim=1)).all()  # x has norm ~10; error below 1% of it
    assert (result.z - z0).norm(dim=1).max() < 0.05  # and the latent itself is found
    torch.testing.assert_close(result.completed, x)  # nothing was hidden: the completion is x


def test_result_matches_the_documented_formulas_and_leaves_g_alone():
    G = _random_generator(1)
    G.train()
    G0 = copy.deepcopy(G)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    mask = app.centre_mask((1, 28, 28), 10)
    result = app.inpaint(G, x, mask, steps=5, restarts=3, prior_weight=0.1)
    assert G.training and all(p.requires_grad for p in G.parameters())  # mode and flags restored
    assert all(torch.equal(a, b) for a, b in zip(G0.parameters(), G.parameters(), strict=True))
    with torch.no_grad():
        G.eval()
        regenerated = G(result.z)
    torch.testing.assert_close(result.generated, regenerated)
    torch.testing.assert_close(result.completed, mask * x + (1 - mask) * regenerated)
    by_hand = ((mask * (regenerated - x)) ** 2).sum(dim=(1, 2, 3)) + 0.1 * (result.z**2).sum(dim=1)
    torch.testing.assert_close(result.loss, by_hand)


def test_more_restarts_never_do_worse():
    G = _random_generator(2)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    mask = app.half_mask((1, 28, 28))
    one = app.inpaint(G, x, mask, steps=20, restarts=1, seed=0)
    four = app.inpaint(G, x, mask, steps=20, restarts=4, seed=0)  # its first restart is the single run
    assert (four.loss <= one.loss + 1e-5).all()


def test_masks_hide_what_they_say():
    assert app.centre_mask((1, 28, 28), 12).sum() == 28 * 28 - 144
    assert app.centre_mask((1, 28, 28), 12)[0, 8:20, 8:20].sum() == 0
    bottom = app.half_mask((3, 28, 28), "bottom")
    assert bottom[:, :14].min() == 1 and bottom[:, 14:].max() == 0
    assert app.half_mask((1, 28, 28), "left")[0, :, :14].max() == 0
    random = app.random_pixel_mask((3, 28, 28), missing=0.8, seed=0)
    share = 1 - random[0].mean().item()
    assert abs(share - 0.8) < 5 * math.sqrt(0.8 * 0.2 / 784)  # Bernoulli(0.8) share, within 5 sigma
    assert torch.equal(random[0], random[2])  # the same pixels hidden in every channel
    with pytest.raises(ValueError, match="hide"):
        app.half_mask((1, 28, 28), "middle")
    with pytest.raises(ValueError, match="does not broadcast"):
        app.inpaint(_random_generator(), torch.zeros(2, 1, 28, 28), torch.ones(1, 32, 32))


def test_psnr_and_masked_mse_against_closed_forms():
    x = torch.zeros(2, 1, 4, 4)
    estimate = x.clone()
    mask = torch.ones(1, 4, 4)
    mask[0, :2] = 0  # 8 hidden pixels
    estimate[0, 0, :2] = 0.5  # error 0.5 on every hidden pixel of image 0
    estimate[1, 0, 0, :2] = 1.0  # error 1 on 2 of the 8 hidden pixels of image 1
    estimate[:, 0, 3, 3] = 7.0  # visible pixels do not count
    mse = app.masked_mse(x, estimate, mask)
    torch.testing.assert_close(mse, torch.tensor([0.25, 2 / 8]))
    torch.testing.assert_close(app.psnr(x, estimate, mask), 10 * torch.log10(4 / mse))
    assert app.psnr(x, estimate, mask)[0].item() == pytest.approx(10 * math.log10(16))
    with pytest.raises(ValueError, match="hides no pixel"):
        app.masked_mse(x, estimate, torch.ones(1, 4, 4))


def test_baselines_against_a_direct_computation():
    torch.manual_seed(0)
    train = torch.rand(30, 1, 6, 6) * 2 - 1
    x = torch.rand(5, 1, 6, 6) * 2 - 1
    masks = torch.stack([app.random_pixel_mask((1, 6, 6), 0.5, seed=s) for s in range(5)])  # one per image
    filled = app.nearest_neighbour_fill(x, masks, train, chunk=2)
    for i in range(5):
        distances = [((masks[i] * (x[i] - t)) ** 2).sum() for t in train]
        j = int(torch.stack(distances).argmin())
        torch.testing.assert_close(filled[i], masks[i] * x[i] + (1 - masks[i]) * train[j])
    mean = app.mean_fill(x, masks[0], train)
    torch.testing.assert_close(mean, masks[0] * x + (1 - masks[0]) * train.mean(dim=0))


def test_balanced_subset_and_a_tiny_augmentation_run():
    labels = torch.arange(40) % 4
    index = app.balanced_subset(labels, per_class=3, seed=1)
    assert len(index) == 12 and len(set(index.tolist())) == 12
    assert torch.bincount(labels[index]).tolist() == [3, 3, 3, 3]
    assert torch.equal(index, app.balanced_subset(labels, per_class=3, seed=1))
    with pytest.raises(ValueError, match="fewer than"):
        app.balanced_subset(labels, per_class=11)
    pixels, digit_labels = gh.data.load_offline_sample()[:2]
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(8, 10, width=4, embed_dim=2)
    result = app.augmentation_run(
        G, pixels[:50], digit_labels[:50], pixels[4000:4100], digit_labels[4000:4100], synthetic_per_class=2,
        epochs=2, curve_images=pixels[4100:4200], curve_labels=digit_labels[4100:4200],
    )
    assert 0.0 <= result.accuracy <= 1.0 and len(result.curve) == 2 and all(0 <= a <= 1 for a in result.curve)
    with pytest.raises(ValueError, match="needs a conditional G"):
        app.augmentation_run(None, pixels[:50], digit_labels[:50], pixels[:9], digit_labels[:9], synthetic_per_class=1)


def test_augmentation_run_trains_on_the_set_it_promises(monkeypatch):
    seen = {}

    def record(model, images, labels, **options):
        seen.update(images=images, labels=labels, **options)
        return gh.training.History()

    monkeypatch.setattr(app, "train_classifier", record)
    monkeypatch.setattr(app.metrics, "classifier_accuracy", lambda *args, **kwargs: 0.5)
    pixels, digit_labels = gh.data.load_offline_sample()[:2]
    G = gh.models.ConditionalDCGANGenerator(8, 10, width=4, embed_dim=2)
    app.augmentation_run(G, pixels[:20], digit_labels[:20], pixels[:5], digit_labels[:5],
                         synthetic_per_class=3, epochs=7, real_copies=4)
    assert seen["epochs"] == 7 and len(seen["images"]) == 20 * 4 + 30
    for i in range(20):  # every real digit four times: its exposure is 4 x 7 views
        assert sum(torch.equal(pixels[i], x) for x in seen["images"][:80]) >= 4
    assert torch.equal(seen["labels"][:80], digit_labels[:20].repeat(4))
    assert torch.bincount(seen["labels"][80:]).tolist() == [3] * 10
    app.augmentation_run(G, pixels[:0], digit_labels[:0], pixels[:5], digit_labels[:5], synthetic_per_class=2)
    assert len(seen["images"]) == 20 and seen["images"].dtype == torch.uint8  # G's samples alone
    with pytest.raises(ValueError, match="nothing to train on"):
        app.augmentation_run(None, pixels[:0], digit_labels[:0], pixels[:5], digit_labels[:5])
    with pytest.raises(ValueError, match="real_copies"):
        app.augmentation_run(None, pixels[:9], digit_labels[:9], pixels[:5], digit_labels[:5], real_copies=0)


def test_inpaint_any_label_keeps_the_best_label_per_image():
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(4, 3, width=4, embed_dim=2)
    gh.models.init_dcgan_weights(G.body, std=0.2)
    G.eval()
    z0, y0 = torch.randn(2, 4), torch.tensor([2, 0])
    with torch.no_grad():
        x = G(z0, y0)
    mask = app.half_mask((1, 28, 28))
    result, labels = app.inpaint_any_label(G, x, mask, steps=60, restarts=2, prior_weight=0.0)
    every = app.inpaint(G, x.repeat_interleave(3, dim=0), mask, labels=torch.arange(3).repeat(2), steps=60,
                        restarts=2, prior_weight=0.0)
    torch.testing.assert_close(result.loss, every.loss.view(2, 3).min(dim=1).values)
    assert torch.equal(labels, every.loss.view(2, 3).argmin(dim=1))
    assert result.completed.shape == x.shape


def test_exercise_checkers_of_notebook_08():
    ex = gh.exercises
    assert ex.check_masked_psnr(lambda x, x_hat, m: app.psnr(x, x_hat, m))
    every_pixel = ex.check_masked_psnr(lambda x, x_hat, m: 10 * torch.log10(4 / ((x - x_hat) ** 2).mean(dim=(1, 2, 3))))
    assert not every_pixel and "every pixel" in str(every_pixel)

    def slerp(z0, z1, t):
        omega = torch.arccos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    assert ex.check_slerp(slerp)
    assert "straight line" in str(ex.check_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1))


def test_inpaint_any_label_tries_only_the_candidates_given():
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(4, 3, width=4, embed_dim=2)
    gh.models.init_dcgan_weights(G.body, std=0.2)
    G.eval()
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    mask = app.half_mask((1, 28, 28))
    options = dict(steps=20, restarts=2, prior_weight=0.0)
    everything, _ = app.inpaint_any_label(G, x, mask, **options)
    given, _ = app.inpaint_any_label(G, x, mask, candidates=torch.arange(3).repeat(2, 1), **options)
    torch.testing.assert_close(given.loss, everything.loss)  # all labels as candidates: the default
    only, chosen = app.inpaint_any_label(G, x, mask, candidates=torch.tensor([[1], [2]]), **options)
    assert chosen.tolist() == [1, 2]
    alone = app.inpaint(G, x, mask, labels=torch.tensor([1, 2]), **options)
    torch.testing.assert_close(only.loss, alone.loss)
    with pytest.raises(ValueError, match="candidates must be"):
        app.inpaint_any_label(G, x, mask, candidates=torch.tensor([1, 2]), **options)


def test_likely_labels_are_the_classifiers_top_classes():
    classifier = gh.classifier.load_classifier()
    images, labels = gh.data.load_offline_sample()[:2]
    top = app.likely_labels(classifier, images[4000:4100], k=3)
    assert top.shape == (100, 3)
    assert torch.equal(top[:, 0], gh.metrics.classify(classifier, images[4000:4100]))
    assert (top == labels[4000:4100, None]).any(dim=1).float().mean() > 0.95  # the true label is among the three
