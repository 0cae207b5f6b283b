"""The training API of the restructure: a frozen TrainConfig, IntervalMeans, eval_mode, the data-source check of
train_gan, d_step/g_step each moving only their player, and one Callback protocol for train_gan and train_epochs."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers.training import Callback, IntervalMeans, TrainConfig

# --- TrainConfig ---------------------------------------------------------------------------------


def test_train_config_is_frozen_and_replace_makes_a_checked_copy():
    config = TrainConfig(steps=10, lr=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.steps = 20
    longer = config.replace(steps=20)
    assert longer.steps == 20 and longer.lr == 1e-3 and config.steps == 10  # the original is untouched
    assert longer == TrainConfig(steps=20, lr=1e-3)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        config.replace(steps=0)
    with pytest.raises(ValueError, match="Unknown loss"):
        config.replace(loss="hinge")
    with pytest.raises(ValueError, match="label_smoothing"):
        config.replace(label_smoothing=1.0)
    with pytest.raises(ValueError, match="lr_d must be positive"):
        config.replace(lr_d=0.0)
    with pytest.raises(ValueError, match="precision"):
        config.replace(precision="half")
    assert config.replace(betas=[0.0, 0.9]).betas == (0.0, 0.9)  # stored as a tuple, hashable like the rest


@pytest.mark.parametrize("field", ["batch_size", "progress", "desc", "conditional"])
def test_removed_config_fields_are_unknown_arguments(field):
    with pytest.raises(TypeError, match=field):
        TrainConfig(**{field: 1})
    with pytest.raises(TypeError, match=field):
        TrainConfig().replace(**{field: 1})


def test_from_dict_drops_the_keys_of_older_checkpoints():
    old = {"steps": 5, "lr": 1e-3, "betas": [0.5, 0.9], "batch_size": 64, "progress": False, "desc": "x"}
    old["conditional"] = True
    assert TrainConfig.from_dict(old) == TrainConfig(steps=5, lr=1e-3, betas=(0.5, 0.9))
    assert TrainConfig.from_dict(dataclasses.asdict(TrainConfig(d_steps=3))) == TrainConfig(d_steps=3)


def test_learning_rates_of_the_two_players_default_to_lr():
    assert TrainConfig(lr=1e-3).lr_discriminator == TrainConfig(lr=1e-3).lr_generator == 1e-3
    ttur = TrainConfig(lr=1e-3, lr_d=4e-3)
    assert ttur.lr_discriminator == 4e-3 and ttur.lr_generator == 1e-3


# --- IntervalMeans -------------------------------------------------------------------------------


def test_interval_means_average_each_interval_and_start_again():
    means = IntervalMeans(("a", "b"))
    steps = [(1.0, 10.0), (2.0, -4.0), (6.0, 0.5)]
    for a, b in steps:
        means.add(torch.tensor(a), torch.tensor(b))
    assert means.count == 3
    got = means.pop()
    assert list(got) == ["a", "b"] and all(isinstance(v, float) for v in got.values())
    assert got["a"] == pytest.approx((1.0 + 2.0 + 6.0) / 3) and got["b"] == pytest.approx((10.0 - 4.0 + 0.5) / 3)
    assert means.count == 0
    means.add(torch.tensor(5.0), torch.tensor(7.0))  # a new interval: the old values are gone
    assert means.pop() == {"a": 5.0, "b": 7.0}


def test_interval_means_divide_by_a_given_total_and_do_not_keep_graphs():
    means = IntervalMeans(("loss", "correct"))
    w = torch.tensor(2.0, requires_grad=True)
    means.add(w * 3.0, torch.tensor(4.0))  # e.g. a batch's summed loss and its number of correct predictions
    means.add(w * 1.5, torch.tensor(5.0))
    assert not means.sums.requires_grad  # added detached: no graph kept across steps
    got = means.pop(total=20)
    assert got["loss"] == pytest.approx((6.0 + 3.0) / 20) and got["correct"] == pytest.approx(9.0 / 20)


# --- eval_mode -----------------------------------------------------------------------------------


def test_eval_mode_switches_to_eval_without_grad_and_restores_each_models_mode():
    trained, evaluated = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).train(), nn.BatchNorm1d(2).eval()
    x = torch.ones(3, 2, requires_grad=True)
    with gh.sampling.eval_mode(trained, evaluated):
        assert not trained.training and not trained[1].training and not evaluated.training
        assert not torch.is_grad_enabled()
        assert not trained(x).requires_grad
    assert trained.training and trained[1].training and not evaluated.training  # each back to its own mode
    assert torch.is_grad_enabled()


def test_eval_mode_restores_train_mode_even_when_the_block_raises():
    model = nn.Linear(2, 2).train()
    with pytest.raises(RuntimeError, match="inside"), gh.sampling.eval_mode(model):
        assert not model.training
        raise RuntimeError("inside the block")
    assert model.training and torch.is_grad_enabled()


# --- train_gan's data sources --------------------------------------------------------------------


def test_train_gan_refuses_a_bare_function_and_says_how_to_wrap_it():
    G, D = gh.models.MLPGenerator(2, 2, (8,)), gh.models.MLPDiscriminator(2, (8,))
    mixture = gh.data.ring_2d()
    with pytest.raises(TypeError, match="SampledBatches"):
        gh.training.train_gan(G, D, mixture.sample, TrainConfig(steps=1), progress=False)
    history = gh.training.train_gan(
        G, D, gh.data.SampledBatches(mixture.sample, 32), TrainConfig(steps=2, log_every=1), progress=False
    )
    assert list(history.steps("loss_d")) == [1, 2]


# --- d_step and g_step ---------------------------------------------------------------------------


def _players(seed: int = 0) -> tuple[nn.Module, nn.Module, TrainConfig]:
    torch.manual_seed(seed)
    G, D = gh.models.MLPGenerator(2, 2, (16,)), gh.models.MLPDiscriminator(2, (16,))
    return G, D, TrainConfig(lr=1e-2)


def _same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_d_step_changes_only_d_and_returns_the_loss_of_the_weights_it_started_from():
    G, D, config = _players()
    _, opt_D = gh.training.make_optimizers(G, D, config)
    x_real = gh.data.ring_2d().sample(32, generator=torch.Generator().manual_seed(1))
    x_fake = G(torch.randn(32, 2))  # with its graph: d_step must detach it
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    expected, _, _ = gh.training.discriminator_loss(D0, x_real, x_fake.detach(), config)
    loss, logits_real, logits_fake = gh.training.d_step(D, opt_D, x_real, x_fake, config)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert logits_real.shape == logits_fake.shape == (32,)
    assert not _same(D0, D) and _same(G0, G)
    assert all(p.grad is None for p in G.parameters())  # nothing flowed back into G


@pytest.mark.parametrize("d_has_grads", [False, True])
def test_g_step_changes_only_g_and_leaves_ds_gradients_as_they_were(d_has_grads):
    G, D, config = _players()
    opt_G, _ = gh.training.make_optimizers(G, D, config)
    if d_has_grads:  # D's gradients of its own loss, e.g. left by the d_step before
        gh.losses.d_loss(D(torch.randn(8, 2)), D(torch.randn(8, 2))).backward()
    grads_before = [None if p.grad is None else p.grad.clone() for p in D.parameters()]
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    x_fake = G(torch.randn(32, 2))
    expected = gh.training.generator_loss(D0, x_fake.detach(), config)
    loss = gh.training.g_step(D, opt_G, x_fake, config)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert not _same(G0, G) and _same(D0, D)
    for before, p in zip(grads_before, D.parameters(), strict=True):
        assert (p.grad is None) if before is None else torch.equal(p.grad, before)
    assert all(p.requires_grad for p in D.parameters())  # D is trainable again after G's step
    assert all(p.grad is not None for p in G.parameters())


def test_g_step_unfreezes_d_even_when_the_loss_fails():
    G, D, config = _players()
    opt_G, _ = gh.training.make_optimizers(G, D, config)

    def broken_loss(D, x_fake, config, y_fake):
        raise RuntimeError("broken loss")

    with pytest.raises(RuntimeError, match="broken loss"):
        gh.training.g_step(D, opt_G, G(torch.randn(4, 2)), config, loss_fn=broken_loss)
    assert all(p.requires_grad for p in D.parameters())


def test_train_step_is_d_step_then_g_step_on_the_same_fakes():
    G, D, config = _players()
    G_hand, D_hand = copy.deepcopy(G), copy.deepcopy(D)
    x_real = gh.data.ring_2d().sample(16, generator=torch.Generator().manual_seed(2))
    opt_G, opt_D = gh.training.make_optimizers(G, D, config)
    torch.manual_seed(5)
    out = gh.training.train_step(G, D, opt_G, opt_D, iter([(x_real, None)]), config)
    opt_G_hand, opt_D_hand = gh.training.make_optimizers(G_hand, D_hand, config)
    torch.manual_seed(5)
    x_fake = G_hand(gh.sampling.sample_noise(16, 2))
    loss_D, _, _ = gh.training.d_step(D_hand, opt_D_hand, x_real, x_fake, config)
    loss_G = gh.training.g_step(D_hand, opt_G_hand, x_fake, config)
    assert torch.equal(out.loss_d, loss_D) and torch.equal(out.loss_g, loss_G)
    assert _same(G, G_hand) and _same(D, D_hand)


# --- one Callback protocol -----------------------------------------------------------------------


class _Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_log(self, step, history, G, D):
        self.events.append(("log", step))

    def on_epoch_end(self, run):
        self.events.append(("epoch", run.epoch))


def test_the_base_callback_does_nothing_and_one_list_serves_both_events():
    Callback().on_log(1, gh.training.History(), None, None)  # the defaults are no-ops
    Callback().on_epoch_end(None)
    torch.manual_seed(0)
    images = torch.randint(0, 256, (32, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    batches = gh.data.DeviceBatches(images, batch_size=16)
    G, D = gh.models.DCGANGenerator(8, width=4), gh.models.DCGANDiscriminator(width=4)
    recorder = _Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gh.training.TrainingWarning)  # tiny models trip the diagnostics
        run = gh.training.train_epochs(
            G, D, batches, TrainConfig(log_every=1), epochs=2, callbacks=[recorder], num_samples=8, progress=False
        )
    assert recorder.events == [("log", 1), ("log", 2), ("epoch", 1), ("log", 3), ("log", 4), ("epoch", 2)]
    assert run.step == 4 and run.epoch == 2
    # train_gan takes the same objects: only on_log is called there
    train_gan_recorder = _Recorder()
    gh.training.train_gan(G, D, batches, TrainConfig(steps=2, log_every=1), callbacks=[train_gan_recorder],
                          progress=False)
    assert train_gan_recorder.events == [("log", 1), ("log", 2)]
