"""Remedies against mode collapse: gradient penalty, spectral norm, minibatch std, and the remedy registry."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers import losses, training
from gan_helpers.experiments import mode_collapse
from gan_helpers.models import MinibatchStdDev, MLPDiscriminator, MLPGenerator


def _linear_critic(weight: list[float], bias: float = 0.3) -> nn.Linear:
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([weight]))
        critic.bias.fill_(bias)
    return critic


def _batches(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g), 3 * torch.randn(n, 2, generator=g) + 1


# --- gradient penalty -------------------------------------------------------------------------


def test_gradient_penalty_is_zero_for_a_one_lipschitz_linear_critic():
    x_real, x_fake = _batches()
    critic = _linear_critic([0.6, -0.8])  # unit-norm weight: gradient norm 1 everywhere
    assert losses.gradient_penalty(critic, x_real, x_fake).item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("weight", [[2.0, 0.0], [0.3, 0.4], [0.0, -3.0]])
def test_gradient_penalty_of_a_linear_critic_is_the_closed_form_and_positive(weight):
    x_real, x_fake = _batches()
    norm = torch.tensor(weight).norm().item()
    penalty = losses.gradient_penalty(_linear_critic(weight), x_real, x_fake).item()
    assert penalty == pytest.approx((norm - 1) ** 2, rel=1e-5)
    assert penalty > 0


def test_gradient_penalty_interpolates_with_one_uniform_weight_per_sample():
    x_real, x_fake = _batches(8)
    seen: list[torch.Tensor] = []

    class Recorder(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(x.detach().clone())
            return x.sum(1)

    losses.gradient_penalty(Recorder(), x_real, x_fake, generator=torch.Generator().manual_seed(5))
    eps = torch.rand(8, 1, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(seen[0], eps * x_real + (1 - eps) * x_fake)
    assert len(set(eps.flatten().tolist())) == 8  # not one weight for the whole batch


def _constant_critic() -> nn.Module:
    critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        critic[2].weight.zero_()  # output = bias for every input: the input gradient is exactly 0
    return critic


def test_gradient_penalty_of_a_constant_critic_is_one_with_finite_gradients():
    x_real, x_fake = _batches()
    critic = _constant_critic()
    penalty = losses.gradient_penalty(critic, x_real, x_fake)
    assert penalty.item() == pytest.approx(1.0, abs=1e-5)  # (sqrt(0 + eps) - 1)^2
    penalty.backward()
    grads = [p.grad for p in critic.parameters() if p.grad is not None]  # the output bias gets none
    assert critic[2].weight.grad is not None and len(grads) >= 3
    assert all(torch.isfinite(g).all() for g in grads)


def test_a_naive_square_root_norm_would_give_nan_for_the_constant_critic():
    """The contrast that motivates ``sqrt(sum + eps)``: d sqrt(s)/ds is infinite at s = 0."""
    x_real, _ = _batches()
    critic = _constant_critic()
    x_hat = x_real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    naive = (grad.pow(2).sum(1).sqrt() - 1).pow(2).mean()
    naive.backward()
    assert any(torch.isnan(p.grad).any() for p in critic.parameters() if p.grad is not None)


# --- spectral norm ----------------------------------------------------------------------------


def _linear_weights(D: nn.Module) -> list[torch.Tensor]:
    return [m.weight.detach() for m in D.modules() if isinstance(m, nn.Linear)]


def test_spectral_norm_makes_every_layers_largest_singular_value_one():
    torch.manual_seed(0)
    D = MLPDiscriminator(data_dim=2, hidden=(64, 64), spectral_norm=True)
    x = torch.randn(32, 2)
    for _ in range(30):  # each training-mode forward pass runs one power iteration
        D(x)
    D.eval()
    sigmas = [torch.linalg.matrix_norm(w, ord=2).item() for w in _linear_weights(D)]
    assert len(sigmas) == 3
    assert sigmas == pytest.approx([1.0] * 3, abs=1e-3)
    plain = MLPDiscriminator(data_dim=2, hidden=(64, 64))
    assert not any(abs(torch.linalg.matrix_norm(w, ord=2).item() - 1) < 0.05 for w in _linear_weights(plain))


def test_a_spectrally_normalised_discriminator_is_one_lipschitz():
    torch.manual_seed(1)
    D = MLPDiscriminator(data_dim=2, hidden=(32, 32), spectral_norm=True)
    for _ in range(30):
        D(torch.randn(16, 2))
    D.eval()
    x, y = torch.randn(500, 2), torch.randn(500, 2)
    with torch.no_grad():
        ratio = (D(x) - D(y)).abs() / (x - y).norm(dim=1)
    assert ratio.max().item() <= 1.0 + 1e-4


# --- minibatch standard deviation ---------------------------------------------------------------


def test_minibatch_std_appends_the_mean_population_std():
    h = torch.randn(10, 6, generator=torch.Generator().manual_seed(0))
    out = MinibatchStdDev(eps=0.0)(h)
    assert out.shape == (10, 7)
    torch.testing.assert_close(out[:, :6], h)
    expected = h.std(dim=0, unbiased=False).mean()  # independent formula: torch's own std
    torch.testing.assert_close(out[:, 6], expected.expand(10))
    assert MinibatchStdDev()(torch.ones(4, 3))[:, 3].tolist() == pytest.approx([1e-4] * 4)  # sqrt(eps)


def test_minibatch_std_discriminator_shapes_and_layout():
    D = MLPDiscriminator(data_dim=2, hidden=(16, 8), minibatch_std=True)
    assert D(torch.randn(5, 2)).shape == (5,)
    assert isinstance(D.net[-2], MinibatchStdDev)
    assert D.net[-1].in_features == 9  # the last hidden width plus the batch feature
    with pytest.raises(ValueError, match="hidden layer"):
        MLPDiscriminator(data_dim=2, hidden=(), minibatch_std=True)
    with pytest.raises(ValueError, match=r"\(B, F\)"):
        MinibatchStdDev()(torch.zeros(3))


def test_minibatch_std_makes_a_samples_score_depend_on_its_batchs_diversity():
    torch.manual_seed(0)
    x0 = torch.tensor([[1.0, -0.5]])
    diverse = torch.cat([x0, 2 * torch.randn(63, 2)])
    collapsed = torch.cat([x0, x0 + 1e-3 * torch.randn(63, 2)])
    with_std = MLPDiscriminator(data_dim=2, hidden=(16, 16), minibatch_std=True)
    with torch.no_grad():
        nn.init.constant_(with_std.net[-1].weight[:, -1], 5.0)  # make the batch feature matter visibly
    plain = MLPDiscriminator(data_dim=2, hidden=(16, 16))
    with torch.no_grad():
        assert abs(with_std(diverse)[0] - with_std(collapsed)[0]).item() > 1e-2
        torch.testing.assert_close(plain(diverse)[0], plain(collapsed)[0])


# --- the remedy registry -----------------------------------------------------------------------

REMEDY_NAMES = ["vanilla", "wgan-gp", "spectral-norm", "label-smoothing", "ttur", "minibatch-std"]


def test_registry_holds_the_six_remedies_and_cannot_be_changed_through_what_it_gives():
    assert list(mode_collapse.REMEDIES) == REMEDY_NAMES
    remedy = mode_collapse.REMEDIES["wgan-gp"]
    d_options, config = remedy.d_options, remedy.train_config()
    assert config.loss == "wgan-gp" and config.d_steps == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.d_steps = 1  # a TrainConfig is frozen: changes are copies, config.replace(d_steps=1)
    assert config.replace(d_steps=1).d_steps == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        remedy.d_options = {"spectral_norm": True}  # a Remedy is frozen too
    assert mode_collapse.REMEDIES["wgan-gp"].train_config().d_steps == 5
    assert mode_collapse.REMEDIES["wgan-gp"].train_config() is not config  # a fresh config each time
    assert d_options == {}
    with pytest.raises(ValueError, match="Unknown remedy"):
        mode_collapse.build_toy_gan("dropout")


def test_each_remedy_sets_the_option_it_names():
    configs = {name: mode_collapse.build_toy_gan(name, hidden=(8,))[2] for name in REMEDY_NAMES}
    Ds = {name: mode_collapse.build_toy_gan(name, hidden=(8,))[1] for name in REMEDY_NAMES}
    assert configs["label-smoothing"].label_smoothing > 0 and configs["vanilla"].label_smoothing == 0
    assert configs["ttur"].lr_discriminator > configs["ttur"].lr_generator
    assert configs["vanilla"].lr_discriminator == configs["vanilla"].lr_generator
    assert Ds["spectral-norm"].spectral_norm and not Ds["vanilla"].spectral_norm
    assert Ds["minibatch-std"].minibatch_std and not Ds["vanilla"].minibatch_std
    # same data, sizes and batch for every remedy: only the remedy differs (the batch size is the experiment's
    # one BATCH_SIZE, not a config field a remedy could override)
    assert mode_collapse.BATCH_SIZE == 256
    assert not any("batch_size" in r.config for r in mode_collapse.REMEDIES.values())
    assert not any(hasattr(c, "batch_size") for c in configs.values())


@pytest.mark.parametrize("name", REMEDY_NAMES)
def test_each_remedy_trains_a_few_steps_and_each_step_updates_only_its_player(name):
    torch.manual_seed(0)
    G, D, config = mode_collapse.build_toy_gan(name, hidden=(16, 16))
    data = gh.data.ring_2d(std=0.02)  # the old default of ring_2d
    # D's step: its loss (with the penalty for WGAN-GP) must not reach G
    x_fake = G(torch.randn(32, G.latent_dim)).detach()
    loss_D, _, _ = training.discriminator_loss(D, data.sample(32), x_fake, config)
    loss_D.backward()
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in D.parameters())
    D.zero_grad(set_to_none=True)
    # G's step through a frozen D must not give D gradients
    D.requires_grad_(False)
    training.generator_loss(D, G(torch.randn(32, G.latent_dim)), config).backward()
    D.requires_grad_(True)
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None for p in G.parameters())
    # a few steps of the real loop: both players move, numbers stay finite
    # (a critic's output bias cancels in E f(fake) - E f(real) and in the penalty: it cannot move)
    params = [*G.parameters(), *(p for n, p in D.named_parameters() if not (name == "wgan-gp" and n == "net.4.bias"))]
    before = [p.detach().clone() for p in params]
    config = config.replace(steps=3, log_every=1)
    history = training.train_gan(G, D, gh.data.SampledBatches(data.sample, mode_collapse.BATCH_SIZE), config)
    assert all(not torch.equal(b, a) for b, a in zip(before, params, strict=True))
    assert all(torch.isfinite(torch.as_tensor(history[k])).all() for k in ("loss_d", "loss_g", "d_real", "d_fake"))


def test_wgan_gp_uses_raw_critic_scores():
    """Closed form for a linear critic f(x) = w.x + b: E f(fake) - E f(real) + 10 (|w| - 1)^2."""
    config = mode_collapse.REMEDIES["wgan-gp"].train_config()
    x_real, x_fake = _batches()
    w = torch.tensor([1.5, 2.0])
    critic = _linear_critic(w.tolist(), bias=4.0)
    loss, scores_real, _ = training.discriminator_loss(critic, x_real, x_fake, config)
    expected = (x_fake @ w).mean() - (x_real @ w).mean() + 10 * (w.norm() - 1) ** 2
    torch.testing.assert_close(loss, expected)
    assert scores_real.max() > 1  # scores, not probabilities
    torch.testing.assert_close(training.generator_loss(critic, x_real, config), -scores_real.mean())
    _, D, _ = mode_collapse.build_toy_gan("wgan-gp", hidden=(8,))
    assert isinstance(D.net[-1], nn.Linear)  # no sigmoid after the critic's last layer


# --- experiments, snapshots and the results table -----------------------------------------------


def test_run_mode_experiment_is_reproducible_and_measures_its_samples():
    a = mode_collapse.run_mode_experiment("ring", "vanilla", seed=3, steps=5, num_eval=300)
    b = mode_collapse.run_mode_experiment("ring", "vanilla", seed=3, steps=5, num_eval=300)
    torch.testing.assert_close(a.samples, b.samples)
    assert a.samples.shape == (300, 2)
    row = a.row()
    assert row["num_modes"] == 8 and row["steps"] == 5 and row["seconds"] > 0
    expected = gh.metrics.mode_coverage(a.samples, gh.data.toy_2d("ring"), min_count=10)
    assert row["modes"] == expected.covered and row["high_quality"] == expected.high_quality
    with pytest.raises(ValueError, match="Unknown 2-D target"):
        mode_collapse.run_mode_experiment("spiral", "vanilla", steps=1)


def _fake_run(dataset: str, remedy: str, seed: int, covered: int, hq: float) -> mode_collapse.ModeExperiment:
    num_modes = 8 if dataset == "ring" else 25
    coverage = gh.metrics.ModeCoverage(covered, num_modes, hq, torch.zeros(num_modes, dtype=torch.long))
    return mode_collapse.ModeExperiment(
        dataset, remedy, seed, 10, coverage, 1.0, torch.zeros(1, 2), training.History(), nn.Identity(), nn.Identity()
    )


def test_summary_takes_mean_and_range_over_seeds_and_best_remedy_picks_coverage_first():
    runs = [
        _fake_run("ring", "vanilla", 0, 2, 0.9),
        _fake_run("ring", "vanilla", 1, 4, 0.5),
        _fake_run("ring", "ttur", 0, 8, 0.6),
        _fake_run("ring", "ttur", 1, 8, 0.8),
        _fake_run("grid", "ttur", 0, 20, 0.95),
    ]
    rows = mode_collapse.summarise_mode_experiments(runs)
    assert [(r["dataset"], r["remedy"], r["seeds"]) for r in rows] == [
        ("ring", "vanilla", 2),
        ("ring", "ttur", 2),
        ("grid", "ttur", 1),
    ]
    assert rows[0]["modes_mean"] == 3.0 and (rows[0]["modes_min"], rows[0]["modes_max"]) == (2, 4)
    assert (rows[0]["all_modes"], rows[1]["all_modes"]) == (0, 2)
    assert rows[1]["hq_mean"] == pytest.approx(0.7)
    assert mode_collapse.best_remedy(rows, "ring")["remedy"] == "ttur"
    table = mode_collapse.format_mode_table(rows)
    assert "3.0/8 [2, 4]" in table and "70.0% [60.0%, 80.0%]" in table and "2/2 seeds" in table
    with pytest.raises(ValueError, match="no rows"):
        mode_collapse.best_remedy(rows, "spiral")


def test_mesh_rows_run_along_y_and_columns_along_x():
    D = _linear_critic([1.0, 10.0], bias=0.0)  # f(x, y) = x + 10 y
    logits = gh.plots.discriminator_on_mesh(D, (-1.0, 1.0, 0.0, 2.0), resolution=3)
    expected = torch.tensor([[-1.0, 0.0, 1.0], [9.0, 10.0, 11.0], [19.0, 20.0, 21.0]])
    torch.testing.assert_close(logits, expected)


def test_snapshot_recorder_records_at_multiples_of_every():
    torch.manual_seed(0)
    G, D = MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,))
    ring = gh.data.ring_2d(std=0.02)  # the old default of ring_2d
    recorder = mode_collapse.Snapshot2DCallback(ring, torch.randn(50, 2), every=4, resolution=10)
    config = training.TrainConfig(steps=8, log_every=2)
    batches = gh.data.SampledBatches(ring.sample, 128)  # the old default batch size
    training.train_gan(G, D, batches, config, callbacks=[recorder], progress=False)
    assert [s.step for s in recorder.snapshots] == [4, 8]
    snap = recorder.snapshots[-1]
    assert snap.samples.shape == (50, 2) and snap.logits.shape == (10, 10) and snap.counts.shape == (8,)
    assert G.training and D.training  # sampling restored the training mode


# --- the gradient-penalty exercise, the widget, the thread count ----------------------------------


def _naive_penalty(critic, x_real, x_fake, generator):
    eps = torch.rand(x_real.shape[0], 1, generator=generator)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.pow(2).sum(1).sqrt() - 1).pow(2).mean()


def test_gradient_penalty_checker_accepts_the_package_and_explains_mistakes():
    assert gh.exercises.check_gradient_penalty(losses.gradient_penalty)
    feedback = gh.exercises.check_gradient_penalty(_naive_penalty)
    assert not feedback and "sqrt((grad**2).sum(1) + 1e-12)" in feedback.message

    def swapped(critic, x_real, x_fake, generator):
        return losses.gradient_penalty(critic, x_fake, x_real, generator=generator)

    def detached(critic, x_real, x_fake, generator):
        return losses.gradient_penalty(critic, x_real, x_fake, generator=generator).detach()

    assert "swapped" in gh.exercises.check_gradient_penalty(swapped).message
    assert "create_graph" in gh.exercises.check_gradient_penalty(detached).message


def test_mode_collapse_explorer_trains_only_when_asked(monkeypatch):
    calls = []
    real_run = mode_collapse.run_mode_experiment

    def spy(*args, **kwargs):
        calls.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(mode_collapse, "run_mode_experiment", spy)
    box = mode_collapse.mode_collapse_explorer(steps=100)
    assert calls == []
    data_box, run_box, _ = box.children
    data_box.children[1].value = "spectral-norm"
    run_box.children[2].click()
    assert calls == [("ring", "spectral-norm", 0, 100)]
    assert not run_box.children[2].disabled  # controls are enabled again after training


def test_cpu_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with gh.runtime.cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"), gh.runtime.cpu_threads(0):
        pass
