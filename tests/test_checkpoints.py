"""Checkpoints: atomic, weights_only, exact resume after an interrupt, the divergence guard keeps the last good one."""

from __future__ import annotations

import os
import random
import signal
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import gan_helpers as gh

TIMING = ("epoch_seconds", "images_per_s")



def _setup(seed: int = 0, generator_seed: int | None = None):
    """Tiny DCGAN on 96 random 'images': 6 batches of 16 per epoch."""
    gh.runtime.seed_everything(seed)
    images = torch.randint(0, 256, (96, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(42))
    generator = torch.Generator().manual_seed(generator_seed) if generator_seed is not None else None
    batches = gh.data.DeviceBatches(images, batch_size=16, generator=generator)
    G = gh.models.DCGANGenerator(8, (1, 28, 28), width=4)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=4)
    config = gh.training.TrainConfig(log_every=2)  # the batch size (16) is the DeviceBatches'
    return G, D, batches, config


def _fit(*args, **kwargs):
    kwargs.setdefault("progress", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gh.training.TrainingWarning)  # tiny models trip the diagnostics
        return gh.training.train_epochs(*args, **kwargs)


class _OnEpochEnd(gh.training.Callback):
    """A callback that calls ``action(run)`` after every epoch."""

    def __init__(self, action) -> None:
        self.action = action

    def on_epoch_end(self, run) -> None:
        self.action(run)


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _history_without_timings(history: gh.training.History) -> dict:
    state = history.state_dict()
    return {part: {k: v for k, v in state[part].items() if k not in TIMING} for part in state}


def test_rng_state_round_trip_restores_every_generator():
    gen = torch.Generator().manual_seed(5)
    state = gh.checkpoints.rng_state(gen)
    first = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=gen))
    gh.checkpoints.set_rng_state(state, gen)
    again = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=gen))
    assert first[:2] == again[:2] and torch.equal(first[2], again[2]) and torch.equal(first[3], again[3])


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    G, D, batches, config = _setup()
    run = _fit(G, D, batches, config, epochs=2, out_dir=tmp_path)
    path = tmp_path / gh.training.CHECKPOINT_NAME
    raw = torch.load(path, map_location="cpu", weights_only=True)  # only tensors, dicts, lists, numbers, strings
    assert raw["epoch"] == 2 and raw["step"] == 12 and raw["samples"].shape == (3, 64, 1, 28, 28)
    loaded = gh.training.load_run(tmp_path)  # models rebuilt from their specs
    assert isinstance(loaded, gh.training.Run) and loaded.rng_state is not None  # the RNG states travel with it
    assert _same_weights(loaded.G, G) and _same_weights(loaded.D, D)
    assert loaded.opt_G.state_dict()["state"][0]["exp_avg"].equal(run.opt_G.state_dict()["state"][0]["exp_avg"])
    assert _history_without_timings(loaded.history) == _history_without_timings(run.history)
    assert loaded.sample_epochs == [0, 1, 2] and torch.equal(loaded.grid(), run.grid())
    assert not list(tmp_path.glob("*.tmp")), "the temporary file must be gone after os.replace"


def test_atomic_save_leaves_the_old_file_when_writing_fails(tmp_path):
    path = gh.checkpoints.atomic_save({"x": torch.ones(2)}, tmp_path / "c.pt")

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(TypeError, match="cannot be saved"):  # refused before writing: not plain data
        gh.checkpoints.atomic_save({"x": Unpicklable()}, path)
    assert torch.equal(gh.checkpoints.load_checkpoint(path)["x"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


@pytest.mark.parametrize("generator_seed", [None, 3])
def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(tmp_path, generator_seed):
    G, D, batches, config = _setup(generator_seed=generator_seed)
    reference = _fit(G, D, batches, config, epochs=3, out_dir=tmp_path / "straight")

    G1, D1, batches1, config1 = _setup(generator_seed=generator_seed)

    class PressCtrlC(gh.training.Callback):
        def on_log(self, step, history, G, D):
            if step == 8:  # in the middle of epoch 2 (steps 7..12)
                os.kill(os.getpid(), signal.SIGINT)

    stopped = _fit(G1, D1, batches1, config1, epochs=3, out_dir=tmp_path / "cut", callbacks=[PressCtrlC()])
    assert stopped.interrupted and stopped.step == 8 and stopped.epoch == 1 and stopped.position == 2
    saved = gh.checkpoints.load_checkpoint(tmp_path / "cut" / gh.training.CHECKPOINT_NAME)
    assert saved["step"] == 8 and saved["interrupted"]

    other_seed = None if generator_seed is None else generator_seed + 100  # the same kind of data order
    G2, D2, batches2, config2 = _setup(seed=99, generator_seed=other_seed)  # other weights and RNG: all restored
    resumed = _fit(G2, D2, batches2, config2, epochs=3, out_dir=tmp_path / "cut", resume=True)
    assert resumed.step == reference.step == 18 and not resumed.interrupted
    assert _same_weights(G2, G) and _same_weights(D2, D)
    assert _history_without_timings(resumed.history) == _history_without_timings(reference.history)
    assert all(torch.equal(a, b) for a, b in zip(resumed.samples, reference.samples, strict=True))


def test_resume_continues_to_more_epochs_exactly(tmp_path):
    G, D, batches, config = _setup()
    _fit(G, D, batches, config, epochs=3, out_dir=tmp_path / "a")
    G1, D1, batches1, config1 = _setup()
    _fit(G1, D1, batches1, config1, epochs=2, out_dir=tmp_path / "b")
    G2, D2, batches2, config2 = _setup(seed=7)
    _fit(G2, D2, batches2, config2, epochs=3, out_dir=tmp_path / "b", resume=True)
    assert _same_weights(G2, G) and _same_weights(D2, D)


def test_continue_from_an_in_memory_run_equals_a_straight_run():
    """continue_from=run (the old resume=run): more epochs of the same Run, with no checkpoint involved."""
    G, D, batches, config = _setup()
    straight = _fit(G, D, batches, config, epochs=3)
    G1, D1, batches1, config1 = _setup()
    first = _fit(G1, D1, batches1, config1, epochs=2)
    more = _fit(G1, D1, batches1, config1, epochs=3, continue_from=first)
    assert more is first and more.epoch == 3 and more.step == straight.step == 18
    assert _same_weights(G1, G) and _same_weights(D1, D)
    assert _history_without_timings(more.history) == _history_without_timings(straight.history)
    G2, D2, _, _ = _setup()
    with pytest.raises(ValueError, match=r"run\.G and run\.D"):
        _fit(G2, D2, batches1, config1, epochs=4, continue_from=first)  # other models than the run's


def test_an_existing_checkpoint_is_not_overwritten_by_accident(tmp_path):
    G, D, batches, config = _setup()
    _fit(G, D, batches, config, epochs=1, out_dir=tmp_path)
    with pytest.raises(FileExistsError, match="resume=True"):
        _fit(G, D, batches, config, epochs=1, out_dir=tmp_path)


class _NaNAfter(nn.Module):
    """D that returns NaN logits once ``poisoned`` is set: an injected divergence."""

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.D = D
        self.poisoned = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.D(x)
        return logits * float("nan") if self.poisoned else logits


def test_divergence_guard_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    G, D, batches, config = _setup()
    D = _NaNAfter(D)

    def poison(run):
        if run.epoch == 2:
            D.poisoned = True

    path = tmp_path / gh.training.CHECKPOINT_NAME
    # D is poisoned after epoch 2 (step 12): the guard names step 13, the first NaN step, not the log step 14
    with pytest.raises(gh.training.TrainingDiverged, match=r"at step 13: .*last good checkpoint.*epoch 2"):
        _fit(G, D, batches, config, epochs=4, out_dir=tmp_path, callbacks=[_OnEpochEnd(poison)])
    saved = gh.checkpoints.load_checkpoint(path)
    assert saved["epoch"] == 2 and saved["step"] == 12
    assert all(torch.isfinite(v).all() for v in saved["G"].values() if v.is_floating_point())
    assert all(torch.isfinite(v).all() for v in saved["D"].values() if v.is_floating_point())


def test_discriminator_wins_warning_needs_a_long_streak_and_fires_once():
    monitor = gh.training.DiscriminatorWinsCallback(loss_below=0.1, d_fake_below=0.05, patience=100)
    history = gh.training.History()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(10, 91, 10):  # a streak of 90 steps only (each log covers 10 steps)
            history.log(step, loss_d=0.01, d_fake=0.01)
            monitor.on_log(step, history, None, None)
        history.log(100, loss_d=0.9, d_fake=0.4)  # broken: the count starts again
        monitor.on_log(100, history, None, None)
        assert not caught
        for step in range(110, 400, 10):
            history.log(step, loss_d=0.01, d_fake=0.01)
            monitor.on_log(step, history, None, None)
    assert len(caught) == 1 and issubclass(caught[0].category, gh.training.DiscriminatorWinsWarning)
    assert "up to step 200" in str(caught[0].message) and "label 'real'" in str(caught[0].message)


def test_collapse_message_rules():
    assert gh.training.collapse_message([0.1]) is None  # one epoch: nothing to compare with
    assert gh.training.collapse_message([0.15, 0.12, 0.14]) is None  # not diverse yet, but not lost
    assert "from 0.70" in gh.training.collapse_message([0.3, 0.7, 0.3])
    assert "nearly all the same" in gh.training.collapse_message([0.02, 0.01])


class _CollapseAfter(nn.Module):
    """A linear G with varied outputs that, once ``collapsed`` is set, gives every z the image of the first."""

    def __init__(self, latent_dim: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(nn.Linear(latent_dim, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
        self.collapsed = False

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z)
        return x[:1].expand_as(x) if self.collapsed else x


def test_train_epochs_warns_once_when_the_samples_collapse(tmp_path):
    _, D, batches, config = _setup()
    G = _CollapseAfter()

    def collapse(run):
        if run.epoch == 2:
            G.collapsed = True

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        callbacks = [_OnEpochEnd(collapse)]
        run = gh.training.train_epochs(G, D, batches, config, epochs=4, callbacks=callbacks, progress=False)
    collapse_warnings = [w for w in caught if issubclass(w.category, gh.training.ModeCollapseWarning)]
    assert run.history["diversity"][-1] == 0.0
    assert len(collapse_warnings) == 1 and "after epoch 3" in str(collapse_warnings[0].message)
    assert collapse_warnings[0].filename == __file__  # points at the caller's line


def test_train_epochs_rejects_arguments_it_cannot_use(tmp_path):
    G, D, batches, config = _setup()
    with pytest.raises(TypeError, match="batch_size"):  # the batch size is the DeviceBatches', not a config field
        gh.training.TrainConfig(batch_size=32)
    with pytest.raises(TypeError, match="DeviceBatches"):
        _fit(G, D, [torch.zeros(16, 1, 28, 28)], config, epochs=1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _fit(G, D, batches, config, epochs=1, steps_per_epoch=7)  # an epoch has 6 batches
    with pytest.raises(ValueError, match="out_dir"):
        _fit(G, D, batches, config, epochs=1, resume=True)


def test_a_run_with_an_average_of_g_and_augmentation_resumes_exactly(tmp_path):
    """The moving average of G travels with the checkpoint: interrupted and resumed equals straight through."""
    recipe = {"ema_decay": 0.9, "augment": ("translation", "cutout")}
    G, D, batches, config = _setup()
    reference = _fit(G, D, batches, config.replace(**recipe), epochs=2, out_dir=tmp_path / "straight")
    assert reference.G_average is not None and reference.G_average.updates == 12
    assert not _same_weights(reference.G_average.model, G), "the average must differ from G itself"

    class PressCtrlC(gh.training.Callback):
        def on_log(self, step, history, G, D):
            if step == 4:
                os.kill(os.getpid(), signal.SIGINT)

    G1, D1, batches1, config1 = _setup()
    cut = tmp_path / "cut"
    stopped = _fit(G1, D1, batches1, config1.replace(**recipe), epochs=2, out_dir=cut, callbacks=[PressCtrlC()])
    assert stopped.interrupted and stopped.G_average.updates == 4
    G2, D2, batches2, config2 = _setup(seed=5)
    resumed = _fit(G2, D2, batches2, config2.replace(**recipe), epochs=2, out_dir=tmp_path / "cut", resume=True)
    assert _same_weights(G2, G) and _same_weights(D2, D)
    assert resumed.G_average.updates == 12
    assert _same_weights(resumed.G_average.model, reference.G_average.model)
    assert all(torch.equal(a, b) for a, b in zip(resumed.samples, reference.samples, strict=True))
    loaded = gh.training.load_run(tmp_path / "cut")
    assert _same_weights(loaded.sampling_generator(), reference.sampling_generator())
