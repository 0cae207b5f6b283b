"""The GAN losses (not WGAN) against hand formulas written on probabilities, and against autograd."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_helpers import losses


def _logits(n: int = 32, scale: float = 3.0, seed: int = 0) -> torch.Tensor:
    """Moderate float64 logits: sigmoid stays well inside (0, 1), so the probability formulas are exact."""
    return scale * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _grad(loss_fn, logits: torch.Tensor) -> torch.Tensor:
    logits = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(logits), logits)
    return grad


def test_d_loss_is_minus_log_d_real_minus_log_one_minus_d_fake():
    logits_real, logits_fake = _logits(seed=1), _logits(seed=2)
    d_real, d_fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    by_hand = (-torch.log(d_real)).mean() + (-torch.log(1 - d_fake)).mean()
    torch.testing.assert_close(losses.d_loss(logits_real, logits_fake), by_hand)


def test_label_smoothing_softens_only_the_real_target():
    logits_real, logits_fake = _logits(seed=3), _logits(seed=4)
    d_real, d_fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    t = 0.9
    real_term = -(t * torch.log(d_real) + (1 - t) * torch.log(1 - d_real)).mean()
    fake_term = -torch.log(1 - d_fake).mean()
    torch.testing.assert_close(losses.d_loss(logits_real, logits_fake, real_label=t), real_term + fake_term)


@pytest.mark.parametrize("real_label", [0.0, -0.1, 1.5])
def test_d_loss_rejects_a_real_label_outside_zero_one(real_label):
    with pytest.raises(ValueError, match="real_label must be in"):
        losses.d_loss(torch.zeros(2), torch.zeros(2), real_label=real_label)


def test_losses_and_gradients_stay_finite_for_huge_logits():
    logits = torch.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    for loss in (
        losses.d_loss(logits, logits),
        losses.g_loss_saturating(logits),
        losses.g_loss_nonsaturating(logits),
        losses.value_function(logits, logits),
    ):
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # A confident wrong answer costs about |logit|: D says "real" with logit 1000 for a fake.
    assert losses.d_loss(torch.tensor([1000.0]), torch.tensor([1000.0])).item() == pytest.approx(1000.0)


def test_generator_losses_match_their_formulas_on_probabilities():
    logits_fake = _logits(seed=5)
    d_fake = torch.sigmoid(logits_fake)
    torch.testing.assert_close(losses.g_loss_saturating(logits_fake), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(losses.g_loss_nonsaturating(logits_fake), -torch.log(d_fake).mean())


def test_saturating_gradient_is_minus_d_over_batch_size():
    logits_fake = _logits(seed=6)
    expected = -torch.sigmoid(logits_fake) / len(logits_fake)
    torch.testing.assert_close(_grad(losses.g_loss_saturating, logits_fake), expected)


def test_nonsaturating_gradient_is_d_minus_one_over_batch_size():
    logits_fake = _logits(seed=7)
    expected = (torch.sigmoid(logits_fake) - 1) / len(logits_fake)
    torch.testing.assert_close(_grad(losses.g_loss_nonsaturating, logits_fake), expected)


@pytest.mark.parametrize("kind", ["saturating", "nonsaturating"])
def test_generator_logit_gradient_matches_autograd_per_sample(kind):
    logits_fake = _logits(seed=8)
    batch_size = len(logits_fake)
    autograd = _grad(lambda t: losses.g_loss(t, kind), logits_fake) * batch_size
    torch.testing.assert_close(losses.generator_logit_gradient(torch.sigmoid(logits_fake), kind), autograd)


def test_saturating_gradient_vanishes_where_the_nonsaturating_one_does_not():
    d_fake = torch.tensor([1e-3])  # D confidently rejects the fake, as early in training
    assert losses.generator_logit_gradient(d_fake, "saturating").abs().item() < 1e-2
    assert losses.generator_logit_gradient(d_fake, "nonsaturating").abs().item() > 0.99


def test_g_loss_dispatches_on_kind():
    logits_fake = _logits(seed=9)
    torch.testing.assert_close(losses.g_loss(logits_fake), losses.g_loss_nonsaturating(logits_fake))
    torch.testing.assert_close(losses.g_loss(logits_fake, "saturating"), losses.g_loss_saturating(logits_fake))


@pytest.mark.parametrize("fn", [losses.g_loss, losses.generator_logit_gradient])
def test_an_unknown_generator_loss_kind_raises_with_the_choices(fn):
    with pytest.raises(ValueError, match="nonsaturating"):
        fn(torch.zeros(3), "non-saturating")


def test_worked_number_minus_log_point_eight_is_a_positive_loss():
    loss = losses.g_loss_nonsaturating(torch.logit(torch.tensor([0.8], dtype=torch.float64)))
    assert loss.item() == pytest.approx(-math.log(0.8)) and round(loss.item(), 3) == 0.223


def test_worked_number_d_loss_for_point_nine_and_point_six():
    logit = lambda p: torch.logit(torch.tensor([p], dtype=torch.float64))  # noqa: E731
    loss = losses.d_loss(logit(0.9), logit(0.6))
    assert loss.item() == pytest.approx(-math.log(0.9) - math.log(0.4)) and round(loss.item(), 3) == 1.022


def test_value_function_is_minus_d_loss_and_matches_its_formula():
    logits_real, logits_fake = _logits(seed=10), _logits(seed=11)
    by_hand = torch.log(torch.sigmoid(logits_real)).mean() + torch.log(1 - torch.sigmoid(logits_fake)).mean()
    torch.testing.assert_close(losses.value_function(logits_real, logits_fake), by_hand)
    minus_d_loss = -losses.d_loss(logits_real, logits_fake)
    torch.testing.assert_close(losses.value_function(logits_real, logits_fake), minus_d_loss)


def test_naive_bce_agrees_with_the_logits_form_for_moderate_logits():
    logits, targets = _logits(seed=12), (_logits(seed=13) > 0).double()
    torch.testing.assert_close(
        losses.naive_bce_from_probabilities(torch.sigmoid(logits), targets),
        F.binary_cross_entropy_with_logits(logits, targets),
    )


def test_naive_bce_breaks_where_its_docstring_says():
    fake_target = 0.0
    assert losses.naive_bce_from_probabilities(torch.sigmoid(torch.tensor([16.0])), fake_target).item() == (
        pytest.approx(15.94, abs=0.005)
    )
    assert torch.isinf(losses.naive_bce_from_probabilities(torch.sigmoid(torch.tensor([17.0])), fake_target))
    assert torch.isinf(losses.naive_bce_from_probabilities(torch.sigmoid(torch.tensor([-100.0])), 1.0))
    logits = torch.tensor([1000.0], requires_grad=True)
    losses.naive_bce_from_probabilities(torch.sigmoid(logits), fake_target).backward()
    assert torch.isnan(logits.grad).all()
    assert F.binary_cross_entropy_with_logits(torch.tensor([17.0]), torch.zeros(1)).item() == pytest.approx(17.0)
