"""The small-data recipe's parts: the moving average of G, re-measured batch norm, differentiable augmentation,
and the scores and FID calibration a shipped generator is judged by."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers.training import GeneratorAverage, recalibrate_batch_norm


def _vector(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_the_average_follows_the_closed_form_of_its_decays():
    r"""With G held at theta after the average started at theta_0: avg_T = theta + prod_t beta_t (theta_0 - theta)."""
    G = nn.Linear(3, 2)
    average = GeneratorAverage(G, decay=0.99)
    start = _vector(average.model).clone()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    target = _vector(G)
    product = 1.0
    for t in range(50):
        product *= min(0.99, (1 + t) / (10 + t))
        average.update(G)
    torch.testing.assert_close(_vector(average.model), target + product * (start - target))
    assert average.updates == 50 and average.current_decay() == pytest.approx(min(0.99, 51 / 60))


def test_the_average_of_an_oscillating_g_sits_at_the_centre():
    """G jumping between c + 1 and c - 1 every update: G is always 1 away from c, the average ends near c."""
    G = nn.Linear(2, 1, bias=False)
    average = GeneratorAverage(G, decay=0.98)
    for t in range(2000):
        with torch.no_grad():
            G.weight.fill_(3.0 + (1.0 if t % 2 else -1.0))
        average.update(G)
    assert (G.weight - 3.0).abs().min() == 1.0
    assert (average.model.weight - 3.0).abs().max() < 0.02


def test_bad_decays_are_refused():
    for decay in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="decay"):
            GeneratorAverage(nn.Linear(1, 1), decay=decay)
    with pytest.raises(ValueError, match="ema_decay"):
        gh.training.TrainConfig(ema_decay=1.5)
    with pytest.raises(ValueError, match="unknown augmentation"):
        gh.training.TrainConfig(augment=("rotation",))


def test_recalibrated_batch_norm_holds_the_mean_and_variance_of_its_passes():
    torch.manual_seed(0)
    G = gh.models.DCGANGenerator(latent_dim=8, width=4)
    first_bn = G.net[1]
    seen = []
    hook = G.net[0].register_forward_hook(lambda module, inputs, output: seen.append(output.detach()))
    recalibrate_batch_norm(G, batches=3, batch_size=16, seed=1)
    hook.remove()
    acts = torch.cat(seen)  # (48, C, 7, 7)
    torch.testing.assert_close(first_bn.running_mean, acts.mean(dim=(0, 2, 3)))
    per_batch_var = torch.stack([b.var(dim=(0, 2, 3), unbiased=True) for b in seen])  # what batch norm averages
    torch.testing.assert_close(first_bn.running_var, per_batch_var.mean(0))
    assert not G.training and first_bn.momentum == 0.1


def _images(n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28) * 1.6 - 0.8  # no pixel equals the fill value -1


def test_translation_shifts_each_image_by_whole_pixels_and_fills_with_background():
    x = _images()
    torch.manual_seed(3)
    out = gh.data.diff_augment(x, ("translation",), translation=0.125)
    for image, shifted in zip(x, out, strict=True):
        matches = []
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                padded = nn.functional.pad(image, (4, 4, 4, 4), value=-1.0)
                candidate = padded[:, 4 + dy : 4 + dy + 28, 4 + dx : 4 + dx + 28]
                if torch.equal(candidate, shifted):
                    matches.append((dy, dx))
        assert len(matches) == 1, "each output must be its input shifted by one whole-pixel offset"


def test_cutout_blanks_one_square_of_half_the_side():
    x = _images()
    out = gh.data.diff_augment(x, ("cutout",), cutout=0.5)
    blank = out == -1.0
    assert blank.flatten(1).sum(1).tolist() == [14 * 14] * len(x)
    for mask in blank[:, 0]:
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
        assert rows.max() - rows.min() == 13 and cols.max() - cols.min() == 13  # one 14 x 14 square
    assert torch.equal(out[~blank], x[~blank])


def test_gradients_flow_through_the_augmentation():
    x = _images().requires_grad_(True)
    out = gh.data.diff_augment(x)
    out.sum().backward()
    kept = (out != -1.0).flatten(1).sum(1).double()  # pixels of x that reach the output, each once
    torch.testing.assert_close(x.grad.flatten(1).sum(1).double(), kept)
    with pytest.raises(ValueError, match="unknown augmentation"):
        gh.data.diff_augment(x, ("colour",))


def test_inception_score_and_confident_share_at_their_extremes():
    sure_and_balanced = torch.eye(10).repeat(20, 1) * 40.0
    assert gh.metrics.inception_score(sure_and_balanced) == pytest.approx(10.0)
    assert gh.metrics.inception_score(torch.zeros(30, 10)) == pytest.approx(1.0)
    assert gh.metrics.inception_score(torch.eye(10)[[3] * 30] * 40.0) == pytest.approx(1.0)
    two_classes = torch.eye(10)[[0, 1] * 15] * 40.0
    assert gh.metrics.inception_score(two_classes) == pytest.approx(2.0)
    logits = torch.tensor([[4.0, 0.0], [1.0, 0.0], [0.0, 3.0]])  # top probabilities 0.982, 0.731, 0.953
    assert gh.metrics.confident_share(logits, 0.9) == pytest.approx(2 / 3)


def test_inception_score_matches_its_definition_on_random_logits():
    logits = torch.randn(200, 10, generator=torch.Generator().manual_seed(0)) * 3
    p = torch.softmax(logits.double(), 1)
    marginal = p.mean(0)
    by_hand = math.exp(float((p * (p.log() - marginal.log())).sum(1).mean()))
    assert gh.metrics.inception_score(logits) == pytest.approx(by_hand, rel=1e-9)


def test_real_halves_are_disjoint_and_the_calibration_orders_the_corruptions():
    images, _ = gh.data.load_offline_sample()
    first, second = gh.metrics.real_halves(torch.arange(100), 50, seed=0)
    assert set(first.tolist()).isdisjoint(second.tolist()) and len(first) == len(second) == 50
    with pytest.raises(ValueError, match="disjoint"):
        gh.metrics.real_halves(images[:10], 6)
    classifier = gh.classifier.load_classifier()
    calibration = gh.metrics.fid_calibration(classifier, images, n=1000, noise_levels=(0.2, 0.5), blur_sizes=(3, 5))
    assert calibration.floor < calibration.noise[0.2] < calibration.noise[0.5]
    assert calibration.floor < calibration.blur[3] < calibration.blur[5]
    assert calibration.floor == pytest.approx(gh.metrics.real_floor(classifier, images, 1000))


def test_sample_scores_of_real_digits_pass_the_targets_and_a_blur_fails_them():
    images, _ = gh.data.load_offline_sample()
    classifier = gh.classifier.load_classifier()
    reference, other = gh.metrics.real_halves(images, 1000, seed=1)
    features = gh.metrics.extract_features(classifier, reference)
    real = gh.metrics.score_samples(other, classifier, features)
    assert real.confident > 0.9 and real.inception > 9.0 and real.in_band == 10
    blurred = gh.metrics.score_samples(
        gh.metrics.box_blur(gh.metrics.as_unit_images(other), 5), classifier, features
    )
    assert blurred.fid > 10 * real.fid and blurred.confident < real.confident


def test_a_recipe_run_records_g_and_its_averages_and_the_table_summarises_seeds(tmp_path):
    from gan_helpers.experiments import dcgan_recipe

    images, _ = gh.data.load_offline_sample()
    classifier = gh.classifier.load_classifier()
    recipe = dcgan_recipe.Recipe("tiny", width=4, batch_size=32, steps=4, eval_every=2, ema_decays=(0.9,))
    out = tmp_path / "run.json"
    runs = [dcgan_recipe.run_recipe(recipe, seed, classifier, images, out=out, progress=False, n_eval=50)
            for seed in (0, 1)]
    assert [row["step"] for row in runs[0]["curve"]] == [2, 4]
    assert set(runs[0]["curve"][-1]) == {"step", "train_seconds", "G", "ema0.9"}
    assert runs[0]["curve"][-1]["G"]["fid"] != runs[1]["curve"][-1]["G"]["fid"], "seeds must differ"
    assert out.is_file()
    (row,) = dcgan_recipe.ablation_table(runs, which="G")
    fids = [run["curve"][-1]["G"]["fid"] for run in runs]
    assert row["fid"] == {0: fids[0], 1: fids[1]} and row["mean"] == pytest.approx(sum(fids) / 2)
    assert row["half_range"] == pytest.approx(abs(fids[0] - fids[1]) / 2)


def test_the_calibration_and_recipe_figures_draw_what_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    from gan_helpers.experiments import dcgan_recipe

    images, _ = gh.data.load_offline_sample()
    calibration = gh.metrics.FIDCalibration(floor=5.0, noise={0.1: 8.0, 0.3: 40.0}, blur={3: 160.0}, n=100)
    fig = gh.plots.plot_fid_calibration(calibration, images[:8], marks={"a GAN": 90.0})
    curve, *strips = fig.axes
    assert len(strips) == 4  # real, two noise levels, one blur
    titles = [s.get_title(loc="left") for s in strips]
    assert titles == ["real: FID 5.0", "noise σ = 0.1: FID 8.0", "noise σ = 0.3: FID 40.0", "blur 3x3: FID 160.0"]
    assert list(curve.lines[0].get_ydata()) == [5.0, 8.0, 40.0]
    run = {"recipe": {"name": "r"}, "seed": 0,
           "curve": [{"step": s, "ema0.999": {"fid": f}} for s, f in ((500, 300.0), (1000, 200.0))]}
    fig = dcgan_recipe.plot_recipe_curves([run, {**run, "seed": 1}])
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and [t.get_text() for t in ax.get_legend().get_texts()] == ["r"]
