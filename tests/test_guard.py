"""The divergence guard: NaN, infinite and exploding losses stop training at the first offending step, and a
NaN or infinity in G's or D's parameters or buffers stops it too; the guard only reads, never changes a step."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers import cli
from gan_helpers.training import loop

SHAPE = (1, 28, 28)


class _PoisonFrom(nn.Module):
    """D whose logits are multiplied by ``factor`` from step ``step`` on (D runs 3 times a step: real, fake, G's)."""

    def __init__(self, D: nn.Module, step: int, factor: float) -> None:
        super().__init__()
        self.D, self.calls, self.first_call, self.factor = D, 0, 3 * (step - 1), factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        logits = self.D(x)
        return logits * self.factor if self.calls > self.first_call else logits


def _images(n: int = 96) -> torch.Tensor:
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def _mlp_pair(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    gh.runtime.seed_everything(seed)
    G = gh.models.MLPImageGenerator(8, SHAPE, hidden=(32, 32))
    return G, gh.models.MLPImageDiscriminator(SHAPE, hidden=(32, 32))


def _train(G: nn.Module, D: nn.Module, steps: int, log_every: int, **config) -> gh.training.History:
    batches = gh.data.DeviceBatches(_images(), batch_size=16)
    config = gh.training.TrainConfig(steps=steps, log_every=log_every, **config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gh.training.TrainingWarning)
        return gh.training.train_gan(G, D, batches, config, progress=False)


@pytest.mark.parametrize(
    ("factor", "step", "log_every", "what"),
    [
        (float("nan"), 7, 10, "is not finite"),  # non-finite: the step, not the log step 10
        (1e9, 13, 5, "exceeds max_abs_loss"),  # huge but finite logits: BCE losses near 1e9
    ],
)
def test_the_guard_names_the_first_offending_step_not_the_log_step(factor, step, log_every, what):
    G, D = _mlp_pair()
    with pytest.raises(gh.training.TrainingDiverged, match=rf"at step {step}: a loss {what}") as caught:
        _train(G, _PoisonFrom(D, step, factor), steps=40, log_every=log_every)
    later_log = math.ceil(step / log_every) * log_every
    assert f"reads it at step {later_log}" in str(caught.value) and "Lower lr" in str(caught.value)


def test_a_loss_that_explodes_without_going_non_finite_stops_training():
    """Issue 16, point 7: lr 1e6 made G's loss 5e14 and training ended "done"."""
    G, D = _mlp_pair()
    with pytest.raises(gh.training.TrainingDiverged, match=r"exceeds max_abs_loss = 1e\+06"):
        _train(G, D, steps=20, log_every=10, lr=1e6)


def test_an_infinite_limit_keeps_only_the_non_finite_check():
    G, D = _mlp_pair()
    history = _train(G, _PoisonFrom(D, 3, 1e9), steps=10, log_every=5, max_abs_loss=float("inf"))
    assert history.last("loss_d") > 1e6  # exploded, but finite: allowed when asked for
    G, D = _mlp_pair()
    with pytest.raises(gh.training.TrainingDiverged, match="at step 4: a loss is not finite"):
        _train(G, _PoisonFrom(D, 4, float("inf")), steps=10, log_every=5, max_abs_loss=float("inf"))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_max_abs_loss_must_be_positive(bad):
    with pytest.raises(ValueError, match="max_abs_loss must be positive"):
        gh.training.TrainConfig(max_abs_loss=bad)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 0.0, -1.0])
def test_the_learning_rate_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError, match="lr must be positive and finite"):
        gh.training.TrainConfig(lr=bad)


class _SpoilBuffer(gh.training.Callback):
    """After log point ``at``, writes a NaN into D's batch-norm running variance (the losses stay finite:
    in training mode batch norm uses the batch's statistics)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_log(self, step, history, G, D) -> None:
        if step == self.at:
            with torch.no_grad():
                D.net[3].running_var[0] = float("nan")


def test_a_non_finite_buffer_stops_training_and_names_the_tensor():
    """Issue 16, point 11: NaN in a batch-norm running variance was saved without complaint."""
    gh.runtime.seed_everything(0)
    G, D = gh.models.DCGANGenerator(8, SHAPE, width=4), gh.models.DCGANDiscriminator(SHAPE, width=4)
    batches = gh.data.DeviceBatches(_images(), batch_size=16)
    config = gh.training.TrainConfig(steps=20, log_every=5)
    with pytest.raises(gh.training.TrainingDiverged, match=r"by step 10: D's buffer 'net\.3\.running_var' holds NaN"):
        gh.training.train_gan(G, D, batches, config, callbacks=[_SpoilBuffer(5)], progress=False)


def test_a_non_finite_buffer_keeps_the_last_good_checkpoint(tmp_path):
    gh.runtime.seed_everything(0)
    G, D = gh.models.DCGANGenerator(8, SHAPE, width=4), gh.models.DCGANDiscriminator(SHAPE, width=4)
    batches = gh.data.DeviceBatches(_images(), batch_size=16)  # 6 steps an epoch; epoch 2 logs at 8, 10, 12
    config = gh.training.TrainConfig(log_every=2)
    with warnings.catch_warnings(), pytest.raises(gh.training.TrainingDiverged, match=r"by step 10.*epoch 1"):
        warnings.simplefilter("ignore", gh.training.TrainingWarning)
        gh.training.train_epochs(
            G, D, batches, config, epochs=3, out_dir=tmp_path, callbacks=[_SpoilBuffer(8)], progress=False
        )
    saved = gh.checkpoints.load_checkpoint(tmp_path / gh.training.CHECKPOINT_NAME)
    assert saved["epoch"] == 1 and all(torch.isfinite(v).all() for v in saved["D"].values() if v.is_floating_point())


def test_first_non_finite_tensor_names_parameters_and_buffers():
    G, D = _mlp_pair()
    assert loop.first_non_finite_tensor({"G": G, "D": D}) is None
    with torch.no_grad():
        next(iter(D.parameters())).view(-1)[3] = float("inf")
    name = next(iter(dict(D.named_parameters())))
    assert loop.first_non_finite_tensor({"G": G, "D": D}) == f"D's parameter {name!r}"


def test_the_guard_reads_the_device_only_at_log_points(monkeypatch):
    guard = loop._DivergenceGuard(1e6, torch.device("cpu"))

    def no_sync(*args):
        raise AssertionError("the guard read a tensor on the host during a step")

    for method in ("item", "tolist", "__bool__", "__int__", "__float__"):
        monkeypatch.setattr(torch.Tensor, method, no_sync)
    for step in range(1, 6):
        guard.add(step, torch.tensor(0.7), torch.tensor(2e6 if step >= 3 else 1.0))
    monkeypatch.undo()
    assert int(guard.first) == 3 and guard.losses.tolist() == [pytest.approx(0.7), 2e6]


def test_the_guard_does_not_change_training():
    G1, D1 = _mlp_pair()
    _train(G1, D1, steps=12, log_every=4)
    G2, D2 = _mlp_pair()
    _train(G2, D2, steps=12, log_every=4, max_abs_loss=float("inf"))
    for a, b in ((G1, G2), (D1, D2)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_the_cli_with_lr_1e6_ends_with_the_divergence_message_not_done(tmp_path, capsys):
    """Issue 16, point 7: ``train mlp --lr 1e6`` ended "done" with G's loss at 5e14."""
    argv = ["train", "mlp", "--lr", "1e6", "--limit-images", "256", "--epochs", "2", "--out", str(tmp_path / "run")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = cli.main([*argv, "--no-download", "--no-progress", "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 3 and "done" not in captured.out
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("error: Training diverged at step 1: a loss exceeds max_abs_loss")
    assert "Traceback" not in captured.err
