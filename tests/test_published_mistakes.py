"""The published mistakes of notebook 04 (gan_helpers.experiments.published_mistakes): their losses against closed
forms, their gradients against autograd, and what each does to a short run on small synthetic images."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gan_helpers as gh
from gan_helpers.experiments import published_mistakes as pm

SHAPE = (1, 8, 8)


def _models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    G = gh.models.MLPImageGenerator(latent_dim=100, image_shape=SHAPE, hidden=(32, 64))
    D = gh.models.MLPImageDiscriminator(image_shape=SHAPE, hidden=(64, 32), dropout=0.0)
    return G, D


def _data(n: int = 256, seed: int = 0) -> tuple[gh.data.DeviceBatches, torch.Tensor]:
    """Small uint8 "images" (a bright square on a dark field, jittered) as batches, and a held-out set in [-1, 1]."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 40, (n, 8, 8), generator=gen, dtype=torch.uint8)
    images[:, 2:6, 2:6] += 200
    batches = gh.data.DeviceBatches(images[: n // 2], batch_size=16)
    held_out = images[n // 2 :, None].float().div(127.5).sub(1.0)
    return batches, held_out


def test_the_extra_heads_gradient_in_the_logit_is_w_sigma_prime_times_sigma_of_minus_its_output():
    head = pm.ExtraHead(seed=3)
    w, b = head.w_and_b
    logits = torch.linspace(-4, 4, 9, dtype=torch.float64).requires_grad_()
    head = head.double()
    (grad,) = torch.autograd.grad(gh.losses.g_loss_nonsaturating(head(logits)), logits)
    s = torch.sigmoid(logits.detach())
    expected = -w * s * (1 - s) * torch.sigmoid(-(w * s + b)) / len(logits)
    torch.testing.assert_close(grad, expected)
    (correct,) = torch.autograd.grad(gh.losses.g_loss_nonsaturating(logits), logits)
    torch.testing.assert_close(correct, -torch.sigmoid(-logits.detach()) / len(logits))


def test_the_extra_head_is_drawn_from_u_minus_1_1_by_its_seed():
    values = torch.tensor([pm.ExtraHead(seed).w_and_b for seed in range(200)])
    assert values.abs().max() <= 1 and values.min() < -0.9 and values.max() > 0.9
    assert pm.ExtraHead(5).w_and_b == pm.ExtraHead(5).w_and_b
    assert pm.ExtraHead(5).w_and_b != pm.ExtraHead(6).w_and_b


def test_the_gradient_through_the_head_points_with_d_when_w_is_positive_and_against_it_when_negative():
    G, D = _models()
    z = torch.randn(32, 100, generator=torch.Generator().manual_seed(0))
    for sign in (1.0, -1.0):
        head = pm.ExtraHead(0)
        with torch.no_grad():
            head.linear.weight.fill_(0.5 * sign)
        cosine = pm.head_cosine(G, D, head, z)
        assert cosine * sign > 0.9, (sign, cosine)


def test_gradient_cosine_is_one_for_a_scaled_loss_and_minus_one_for_a_negated_one():
    G, D = _models()
    loss = D(G(torch.randn(8, 100))).mean()
    assert pm.gradient_cosine(G, loss, 3 * loss) == pytest.approx(1.0, abs=1e-5)
    assert pm.gradient_cosine(G, loss, -loss) == pytest.approx(-1.0, abs=1e-5)


def test_d_loss_real_only_is_twice_the_real_term_and_ignores_the_fakes():
    _, D = _models()
    config = gh.training.TrainConfig()
    x_real = torch.rand(8, *SHAPE) * 2 - 1
    x_fake = torch.rand(8, *SHAPE).mul(2).sub(1).requires_grad_()
    loss, logits_real, _ = pm.d_loss_real_only(D, x_real, x_fake, config)
    torch.testing.assert_close(loss, 2 * F.softplus(-logits_real).mean(), rtol=1e-5, atol=1e-6)
    assert loss.grad_fn is not None and x_fake.grad is None
    loss.backward()
    assert x_fake.grad is None, "D's loss must not depend on the fakes"


def test_d_loss_with_fakes_labelled_real_is_the_sum_of_two_real_terms():
    _, D = _models()
    config = gh.training.TrainConfig()
    x_real, x_fake = torch.rand(8, *SHAPE) * 2 - 1, torch.rand(8, *SHAPE) * 2 - 1
    loss, lr, lf = pm.d_loss_fakes_labelled_real(D, x_real, x_fake, config)
    torch.testing.assert_close(loss, F.softplus(-lr).mean() + F.softplus(-lf).mean())
    assert not torch.isclose(loss, gh.losses.d_loss(lr, lf)), "the correct loss has the fakes' target 0"


def test_the_shape_mistakes_report_the_errors_pytorch_raises():
    G, D = _models()
    assert pm.frozen_d_detached_error(G, D).startswith("RuntimeError: element 0 of tensors does not require grad")
    assert pm.noise_shape_error(G) == "ValueError: G expects noise of shape (B, 100), got (100, 100, 100, 3)"
    message = pm.image_shaped_labels_error(D, torch.zeros(4, *SHAPE))
    assert message.startswith("ValueError: Target size (torch.Size([4, 1, 8, 8]))"), message
    assert "torch.Size([4])" in message


class _Constant(nn.Module):
    """A D that returns ``value`` for every image, or +5 for bright images and -5 for dark ones (``value=None``)."""

    def __init__(self, value: float | None) -> None:
        super().__init__()
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.value is None:
            return torch.where(x.flatten(1).mean(1) > 0, 5.0, -5.0)
        return torch.full((len(x),), self.value)


class _DarkG(nn.Module):
    latent_dim = 4

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return -torch.ones(len(z), *SHAPE)


def test_d_accuracy_is_one_half_for_a_d_that_calls_everything_real_and_one_for_a_perfect_d():
    x_real = torch.ones(10, *SHAPE)
    assert pm.d_accuracy(_Constant(3.0), _DarkG(), x_real) == 0.5
    assert pm.d_accuracy(_Constant(-3.0), _DarkG(), x_real) == 0.5
    assert pm.d_accuracy(_Constant(None), _DarkG(), x_real) == 1.0


def test_detached_fakes_leave_every_weight_of_g_exactly_as_it_was_while_d_trains():
    batches, held_out = _data()
    broken = pm.run_mistake("detached_fakes", batches, held_out, steps=30, n=64, threads=None)
    correct = pm.run_mistake("correct", batches, held_out, steps=30, n=64, threads=None)
    assert broken.g_change == 0.0
    assert correct.g_change > 1e-3
    assert broken.d_fake < correct.d_fake, "against a G that never moves, D wins faster"


def test_d_trained_on_real_terms_only_calls_fakes_real():
    batches, held_out = _data()
    for name in ("real_only_d", "fakes_labelled_real"):
        result = pm.run_mistake(name, batches, held_out, steps=60, n=64, threads=None)
        assert result.d_fake > 0.9, (name, result.d_fake)
        assert result.d_accuracy == pytest.approx(0.5, abs=0.05), (name, result.d_accuracy)


def test_the_extra_head_run_trains_the_head_with_g_and_is_reproducible():
    batches, held_out = _data()
    first = pm.run_mistake("extra_head", batches, held_out, steps=20, n=64, threads=None, head_seed=1)
    again = pm.run_mistake("extra_head", batches, held_out, steps=20, n=64, threads=None, head_seed=1)
    (w0, b0), (w1, b1) = first.head
    assert (w0, b0) == pm.ExtraHead(1).w_and_b
    assert w1 > w0 and b1 > b0, "G's optimiser pushes the head towards 'real': w and b grow"
    assert first.d_real == again.d_real and first.g_change == again.g_change
    assert first.cosine_at_start is not None and first.fid is None


def test_run_mistake_rejects_an_unknown_name():
    batches, held_out = _data()
    with pytest.raises(ValueError, match="run_mistake trains"):
        pm.run_mistake("g_fake_labels", batches, held_out, steps=1)


def test_every_published_mistake_has_its_wrong_and_its_fixed_line():
    assert set(pm.TRAINED[1:]) <= set(pm.PUBLISHED_MISTAKES)
    for mistake in pm.PUBLISHED_MISTAKES.values():
        assert mistake.published and mistake.wrong and mistake.fixed and mistake.wrong != mistake.fixed
