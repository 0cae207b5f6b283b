"""The 1-D GAN of notebook 02: callbacks, snapshots, reproducibility, the W1 target, experiments, checkers, widget."""

from __future__ import annotations

import copy
import inspect

import matplotlib
import numpy as np
import pytest
import torch
from scipy import stats

import gan_helpers as gh
from gan_helpers import data, metrics, sampling, training
from gan_helpers.experiments import toy_1d

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TARGET = data.gaussian_1d()
SIGMA = 1.25


def test_noise_quantiles_are_normal_quantiles():
    z = toy_1d.noise_quantiles(8)
    expected = stats.norm.ppf((np.arange(8) + 0.5) / 8)
    np.testing.assert_allclose(z.numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="at least 1"):
        toy_1d.noise_quantiles(0)


def test_evaluation_noise_is_fixed_and_leaves_the_global_random_state_alone():
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    torch.manual_seed(5)
    a = sampling.evaluation_noise(100, 2, seed=3)
    b = sampling.evaluation_noise(100, 2, seed=3)
    assert torch.equal(a, b) and a.shape == (100, 2)
    assert torch.equal(torch.rand(3), expected_next)


def test_distance_callback_logs_w1_and_ks_of_g_on_fixed_noise():
    torch.manual_seed(0)
    G, D = toy_1d.build_gan_1d(latent_dim=2)
    target_samples = TARGET.sample(500, generator=torch.Generator().manual_seed(1))
    callback = toy_1d.DistanceCallback(target_samples, every=20, seed=7)
    history = training.History()
    for step in (10, 20, 30, 40):
        callback.on_log(step, history, G, D)
    assert list(history.steps("w1")) == [20, 40] and list(history.steps("ks")) == [20, 40]
    with torch.no_grad():
        x_fake = G(sampling.evaluation_noise(500, 2, seed=7))
    assert history.last("w1") == pytest.approx(metrics.wasserstein_1d(x_fake, target_samples))
    assert history.last("ks") == pytest.approx(metrics.ks_statistic(x_fake, target_samples))
    with pytest.raises(ValueError, match="every"):
        toy_1d.DistanceCallback(target_samples, every=0)


def test_snapshot_recorder_stores_numbers_of_g_and_d():
    torch.manual_seed(0)
    G, D = toy_1d.build_gan_1d()
    grid = torch.linspace(-2, 10, 50)
    recorder = toy_1d.Snapshot1DCallback(grid, every=100, num_samples=300, num_lines=12)
    recorder.record(0, G, D)
    for step in (50, 100, 150, 200):
        recorder.on_log(step, training.History(), G, D)
    assert [s.step for s in recorder.snapshots] == [0, 100, 200]
    snap = recorder.snapshots[-1]
    assert all(isinstance(a, np.ndarray) for a in (snap.x_grid, snap.d_prob, snap.samples, snap.z_line, snap.x_of_z))
    with torch.no_grad():
        np.testing.assert_allclose(snap.d_prob, torch.sigmoid(D(grid[:, None])).numpy(), rtol=1e-6)
        np.testing.assert_allclose(snap.x_of_z, G(toy_1d.noise_quantiles(12)[:, None])[:, 0].numpy(), rtol=1e-6)
    assert snap.samples.shape == (300,) and snap.d_prob.shape == (50,)
    G2, D2 = toy_1d.build_gan_1d(latent_dim=3)
    assert recorder.record(0, G2, D2).z_line.size == 0  # no single z-axis in 3-D noise
    chosen = toy_1d.Snapshot1DCallback(grid, at=[30, 70])
    for step in range(10, 101, 10):
        chosen.on_log(step, training.History(), G, D)
    assert [s.step for s in chosen.snapshots] == [30, 70]
    with pytest.raises(ValueError, match="when to record"):
        toy_1d.Snapshot1DCallback(grid)


def test_log_spaced_steps_are_geometric_multiples_ending_at_the_total():
    steps = toy_1d.log_spaced_steps(6000, 20)
    assert steps[-1] == 6000 and steps[0] == 60 and len(steps) == 20
    assert all(t % 10 == 0 for t in steps) and steps == sorted(set(steps))
    ratios = np.diff(np.log(steps))
    assert np.allclose(ratios, np.log(100) / 19, atol=0.2)  # equal gaps in log t, up to rounding
    assert toy_1d.log_spaced_steps(100, 20) == list(range(10, 101, 10))  # rounding merges steps
    with pytest.raises(ValueError, match="total"):
        toy_1d.log_spaced_steps(5, 3)


def test_optimizers_and_config_of_the_1d_gan():
    G, D = toy_1d.build_gan_1d()
    config = toy_1d.CONFIG.replace(steps=10)
    # the batch size belongs to the data source now: train_gan_1d draws batches of toy_1d.BATCH_SIZE
    assert inspect.signature(toy_1d.train_gan_1d).parameters["batch_size"].default == toy_1d.BATCH_SIZE == 256
    assert config.steps == 10
    opt_G, opt_D = toy_1d.optimizers_1d(G, D, config)
    assert isinstance(opt_G, torch.optim.SGD) and opt_G.param_groups[0]["lr"] == config.lr_generator
    assert isinstance(opt_D, torch.optim.Adam) and opt_D.param_groups[0]["lr"] == config.lr_discriminator
    assert isinstance(toy_1d.optimizers_1d(G, D, config, "adam")[0], torch.optim.Adam)
    with pytest.raises(ValueError, match="g_optimizer"):
        toy_1d.optimizers_1d(G, D, config, "rmsprop")
    with pytest.raises(ValueError, match="1-D target"):
        toy_1d.train_gan_1d(data.ring_2d(), config)


def test_same_seed_gives_identical_histories_and_snapshots():
    runs = [
        toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=200), seed=3, eval_every=50, snapshot_every=100)
        for _ in range(2)
    ]
    a, b = (r.history for r in runs)
    assert a.keys() == b.keys() == ["d_fake", "d_real", "ks", "loss_d", "loss_g", "w1"]
    for name in a.keys():  # noqa: SIM118 (History is not a dict)
        assert np.array_equal(a[name], b[name]) and np.array_equal(a.steps(name), b.steps(name)), name
    for s, t in zip(runs[0].snapshots, runs[1].snapshots, strict=True):
        for field in ("d_prob", "samples", "x_of_z"):
            assert np.array_equal(getattr(s, field), getattr(t, field)), field
    other = toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=200), seed=4, eval_every=50)
    assert not np.array_equal(other.history["loss_d"], a["loss_d"])


def test_the_1d_gan_reaches_a_tenth_of_a_sigma_in_w1():
    """Notebook 02's claim, at fast mode's settings: W1 < 0.1 sigma of N(4, 1.25^2) (20k samples each)."""
    run = toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=3000), seed=0, eval_every=1000)
    assert run.history["w1"][0] > 3.0  # G starts far from the target ...
    assert run.history.last("w1") < 0.1 * SIGMA  # ... and ends within a tenth of a sigma
    assert abs(run.samples.mean() - 4.0) < 0.1 and abs(run.samples.std() - SIGMA) < 0.1


def _far_start() -> tuple[torch.nn.Module, torch.nn.Module]:
    """G sends everything near -4 (data at 4); D has learnt to reject it."""
    torch.manual_seed(0)
    G, D = toy_1d.build_gan_1d()
    with torch.no_grad():
        G.net[-1].bias -= 8.0
    with gh.runtime.cpu_threads(1):
        training.train_discriminator(D, TARGET.sample, lambda n: sampling.generate(G, torch.randn(n, 1)), steps=200)
    return G, D


def test_saturating_loss_stalls_from_a_far_start_while_nonsaturating_learns():
    G, D = _far_start()
    runs = {
        loss: toy_1d.train_gan_1d(
            TARGET, toy_1d.CONFIG.replace(steps=300, loss=loss), models=(G, D), eval_every=300, grad_norms=True
        )
        for loss in ("saturating", "nonsaturating")
    }
    sat, non = runs["saturating"], runs["nonsaturating"]
    assert sat.history["grad_norm_g"][0] < 1e-2 * non.history["grad_norm_g"][0]
    assert sat.history.last("w1") > 0.95 * sat.history["w1"][0]  # W1 barely moves
    assert non.history.last("w1") < 0.2 * non.history["w1"][0]


# --- exercise checkers ------------------------------------------------------------------------------


def _w1_right(x, y):
    return (torch.sort(x).values - torch.sort(y).values).abs().mean()


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda x, y: (x - y).abs().mean(), "sort both"),
        (lambda x, y: (x.mean() - y.mean()).abs(), "compared the means"),
        (lambda x, y: (torch.sort(x).values - torch.sort(y).values).mean(), "absolute value"),
        (lambda x, y: ((torch.sort(x).values - torch.sort(y).values) ** 2).mean(), "W2 squared"),
        (lambda x, y: (torch.sort(x).values - torch.sort(y).values).abs().sum(), "divide by n"),
        (lambda x, y: torch.zeros(2), "one number"),
        (lambda x, y: None, "returned None"),
    ],
)
def test_check_wasserstein_1d_names_the_mistake(wrong, hint):
    feedback = gh.exercises.check_wasserstein_1d(wrong)
    assert not feedback.ok and hint in feedback.message


def test_check_wasserstein_1d_accepts_right_answers():
    assert gh.exercises.check_wasserstein_1d(_w1_right).ok
    assert gh.exercises.check_wasserstein_1d(lambda x, y: metrics.wasserstein_1d(x, y)).ok

    def not_written(x, y):
        raise NotImplementedError

    assert "not written yet" in gh.exercises.check_wasserstein_1d(not_written).message


def _d_step(G, D, opt_D, x_real, z, detach=True, zero=True, sign=1.0, step=True, sigmoid_first=False):
    x_fake = G(z).detach() if detach else G(z)
    logits_real, logits_fake = D(x_real), D(x_fake)
    if sigmoid_first:  # the mistake this course warns about, but numerically fine for moderate logits
        bce = torch.nn.BCELoss()
        loss = bce(torch.sigmoid(logits_real), torch.ones_like(logits_real)) + bce(
            torch.sigmoid(logits_fake), torch.zeros_like(logits_fake)
        )
    else:
        loss = gh.losses.d_loss(logits_real, logits_fake)
    if zero:
        opt_D.zero_grad()
    (sign * loss).backward()
    if step:
        opt_D.step()
    return loss


@pytest.mark.parametrize(
    ("options", "hint"),
    [
        ({"detach": False}, "detach"),
        ({"zero": False}, "zero_grad"),
        ({"sign": -1.0}, "wrong way"),
        ({"step": False}, "did not change"),
    ],
)
def test_check_discriminator_step_names_the_mistake(options, hint):
    feedback = gh.exercises.check_discriminator_step(lambda *a: _d_step(*a, **options))
    assert not feedback.ok and hint in feedback.message


def test_check_discriminator_step_accepts_right_answers_and_checks_the_returned_loss():
    assert gh.exercises.check_discriminator_step(_d_step).ok
    assert gh.exercises.check_discriminator_step(lambda *a: _d_step(*a, sigmoid_first=True)).ok
    feedback = gh.exercises.check_discriminator_step(lambda *a: 2 * _d_step(*a))
    assert not feedback.ok and "returned loss" in feedback.message


def test_check_discriminator_step_rejects_a_wrong_loss():
    def wrong_loss(G, D, opt_D, x_real, z):
        loss = D(G(z).detach()).mean() - D(x_real).mean()  # a critic's loss, not L_D
        opt_D.zero_grad()
        loss.backward()
        opt_D.step()
        return loss

    feedback = gh.exercises.check_discriminator_step(wrong_loss)
    assert not feedback.ok and "d_loss" in feedback.message


# --- plots and widget -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_plots_of_the_1d_gan_draw_what_they_say():
    run = toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=100), eval_every=50, snapshot_every=50)
    fig = gh.plots.plot_gan_1d(run.snapshots[-1], TARGET)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()[:3]] == ["$p_{data}$", "$p_g$", "$D(x)$"]
    assert len(ax.collections[0].get_segments()) == len(run.snapshots[-1].z_line)  # one line per z
    assert len(gh.plots.plot_gan_1d_snapshots(run.snapshots, TARGET, num_panels=2).axes) == 2
    assert len(list(gh.plots.animate_gan_1d(run.snapshots * 10, TARGET, max_frames=20).new_frame_seq())) == 20
    assert len(gh.plots.plot_distances(run.history, threshold=0.125).axes) == 2
    comparison = gh.plots.plot_metric_comparison({"a": run.history, "b": run.history}, threshold=0.1)
    assert len(comparison.axes[0].get_lines()) == 3
    assert gh.plots.plot_samples_1d(run.samples, data.mixture_1d(), radius=1.8).axes
    assert len(gh.plots.plot_run_1d(run, TARGET).axes) == 2
    plt.close("all")


def test_explorer_trains_only_when_asked(monkeypatch):
    calls = []
    real_run = toy_1d.train_gan_1d

    def spy(target, config, **kwargs):
        calls.append((target.num_modes, config.steps, config.d_steps, config.loss, kwargs["g_optimizer"]))
        return real_run(target, config, **kwargs)

    monkeypatch.setattr(toy_1d, "train_gan_1d", spy)
    box = toy_1d.toy_gan_1d_explorer(steps=100)
    assert calls == []
    first, second, third, _ = box.children
    first.children[0].value = "two-mode mixture"
    first.children[1].value = "saturating"
    second.children[2].value = 3
    third.children[2].click()
    assert calls == [(2, 100, 3, "saturating", "sgd")]
    assert not third.children[2].disabled
    plt.close("all")


def test_summary_of_a_mixture_run_reports_mass_near_each_mode():
    mixture = data.mixture_1d()
    run = toy_1d.Run1D(None, None, training.History(), [], 1.0, np.full(100, 3.0))
    run.history.log(10, w1=2.5, ks=0.5)
    text = toy_1d._summary_1d(run, mixture)
    assert "W1 = 2.5000" in text and "0% near -2" in text and "100% near 3" in text


def test_models_passed_to_train_gan_1d_are_copied():
    G, D = toy_1d.build_gan_1d()
    state = copy.deepcopy(G.state_dict())
    toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=20), models=(G, D), eval_every=10)
    assert all(torch.equal(v, state[k]) for k, v in G.state_dict().items())


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e3])
def test_adam_steps_by_about_lr_whatever_the_gradient_size_while_sgd_scales_with_it(scale):
    """The claim behind optimizers_1d and section 5.3: Adam's first step is lr * g / (|g| + eps), SGD's lr * g."""
    config = toy_1d.CONFIG.replace(lr_g=0.01)
    G, D = toy_1d.build_gan_1d()
    moves = {}
    for name in ("adam", "sgd"):
        G_copy = copy.deepcopy(G)
        opt_G, _ = toy_1d.optimizers_1d(G_copy, D, config, name)
        bias = G_copy.net[-1].bias
        before = bias.detach().clone()
        (scale * bias.sum()).backward()  # gradient `scale` on the output bias
        opt_G.step()
        moves[name] = float((before - bias.detach()).abs().max())
    assert moves["adam"] == pytest.approx(0.01 * scale / (scale + 1e-8), rel=1e-4)
    assert moves["sgd"] == pytest.approx(0.01 * scale, rel=1e-4, abs=2e-8)  # float32 rounds a 1e-8 step
