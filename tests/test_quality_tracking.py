"""QualityCallback: per-epoch FID and class coverage logged into train_epochs' history, without changing training."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import gan_helpers as gh

IMAGES = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(42))


def _tiny_run(callbacks=(), out_dir=None):
    """Tiny DCGAN, 2 epochs of 4 batches of 16 random 'images'."""
    gh.runtime.seed_everything(0)
    batches = gh.data.DeviceBatches(IMAGES, batch_size=16)
    G = gh.models.DCGANGenerator(8, (1, 28, 28), width=4)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=4)
    config = gh.training.TrainConfig(log_every=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gh.training.TrainingWarning)  # tiny models trip the diagnostics
        return gh.training.train_epochs(
            G, D, batches, config, epochs=2, callbacks=callbacks, out_dir=out_dir, progress=False
        )


def _classifier():
    torch.manual_seed(3)
    return gh.classifier.MNISTClassifier(channels=(2, 4), feature_dim=6).eval()


def test_tracker_logs_fid_and_coverage_once_per_epoch_and_matches_a_direct_computation():
    classifier = _classifier()
    tracker = gh.training.QualityCallback(classifier, IMAGES, n=40, seed=1)
    run = _tiny_run([tracker])
    h = run.history
    assert len(h["fid"]) == len(h["classes_covered"]) == len(h["kl_from_uniform"]) == 2
    np.testing.assert_array_equal(h.steps("fid"), h.steps("epoch"))
    assert np.all(h["fid"] >= 0) and np.all((h["classes_covered"] >= 1) & (h["classes_covered"] <= 10))
    # the last logged values are those of the final G, measured from scratch
    order = torch.randperm(len(IMAGES), generator=torch.Generator().manual_seed(1))[:40]
    real = gh.metrics.extract_features(classifier, IMAGES[order])
    fake, logits = gh.metrics.classifier_outputs(classifier, gh.sampling.sample(run.G, 40, seed=1))
    assert h.last("fid") == pytest.approx(gh.metrics.fid(real, fake), rel=1e-9)
    coverage = gh.metrics.class_coverage(logits.argmax(1))
    assert h.last("classes_covered") == coverage.classes_covered
    assert h.last("kl_from_uniform") == pytest.approx(coverage.kl_from_uniform, rel=1e-9)
    assert tracker.measure(run.G)["fid"] == pytest.approx(h.last("fid"), rel=1e-9)


def test_the_checkpoint_holds_the_last_epochs_quality(tmp_path):
    run = _tiny_run([gh.training.QualityCallback(_classifier(), IMAGES, n=20)], out_dir=tmp_path)
    saved = gh.training.load_run(tmp_path)
    assert list(saved.history["fid"]) == list(run.history["fid"]) and len(saved.history["fid"]) == 2


def test_tracking_does_not_change_training():
    plain = _tiny_run()
    tracked = _tiny_run([gh.training.QualityCallback(_classifier(), IMAGES, n=20)])
    for a, b in zip(plain.G.state_dict().values(), tracked.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_bad_sizes_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="at least n = 100 real images"):
        gh.training.QualityCallback(_classifier(), IMAGES, n=100)
    with pytest.raises(ValueError, match="at least 2"):
        gh.training.QualityCallback(_classifier(), IMAGES, n=1)


def test_quality_plot_draws_one_point_per_epoch():
    run = _tiny_run([gh.training.QualityCallback(_classifier(), IMAGES, n=20)])
    fig = gh.plots.plot_quality_history(run.history, reference_fid=5.0)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2])
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), run.history["classes_covered"])
    plt.close(fig)
