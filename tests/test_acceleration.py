"""How train_gan uses the device: the step's algorithm, precision, layout, fused Adam, compile."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import gan_helpers as gh
from gan_helpers import acceleration

BATCH, LATENT = 8, 8


def _tiny_dcgan(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    return gh.models.DCGANGenerator(LATENT, width=4), gh.models.DCGANDiscriminator(width=4)


def _real(n: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28) * 2 - 1


def _config(**overrides) -> gh.training.TrainConfig:
    return gh.training.TrainConfig(**{"steps": 1, **overrides})


def _train(G, D, sample, config, batch_size: int = BATCH, **kwargs) -> gh.training.History:
    """train_gan on batches ``sample(batch_size)`` (the data source owns the batch size), without a progress bar."""
    return gh.training.train_gan(G, D, gh.data.SampledBatches(sample, batch_size), config, progress=False, **kwargs)


def test_one_step_is_the_documented_algorithm_fakes_reused_for_g():
    """train_gan's step against a hand-written one: D on x and detached G(z), then G on the same z's fakes."""
    G, D = _tiny_dcgan()
    G_hand, D_hand = copy.deepcopy(G), copy.deepcopy(D)
    config = _config(precision="fp32")
    x_real = _real(BATCH)
    torch.manual_seed(1)
    _train(G, D, lambda n: x_real, config)

    opt_G, opt_D = gh.training.make_optimizers(G_hand, D_hand, config)
    torch.manual_seed(1)
    z = torch.randn(BATCH, LATENT)
    x_fake = G_hand(z)
    loss_D = gh.losses.d_loss(D_hand(x_real), D_hand(x_fake.detach()))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    loss_G = gh.losses.g_loss(D_hand(x_fake), "nonsaturating")
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    for a, b in zip([*G.parameters(), *D.parameters()], [*G_hand.parameters(), *D_hand.parameters()], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("d_steps", "mistake", "forwards"), [(1, None, 1), (3, None, 3), (1, "no_detach", 2)])
def test_g_runs_forward_once_per_d_update_and_again_only_when_the_graph_is_gone(d_steps, mistake, forwards):
    G, D = _tiny_dcgan()
    calls = []
    G.register_forward_hook(lambda module, args, output: calls.append(1))
    _train(G, D, _real, _config(d_steps=d_steps), mistake=mistake)
    assert len(calls) == forwards


def test_conditional_step_reuses_fakes_and_their_labels():
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(LATENT, num_classes=10, width=4)
    D = gh.models.ConditionalDCGANDiscriminator(num_classes=10, width=4)
    seen = []
    D.register_forward_hook(lambda module, args, output: seen.append(args[1].clone()))
    G_calls = []
    G.register_forward_hook(lambda module, args, output: G_calls.append(args[1].clone()))
    labelled = lambda n: (_real(n), torch.randint(10, (n,)))  # noqa: E731
    _train(G, D, labelled, _config())  # G has num_classes: a conditional step
    assert len(G_calls) == 1 and len(seen) == 3  # D on real, on fakes (D's step), on the same fakes (G's step)
    assert torch.equal(seen[1], G_calls[0]) and torch.equal(seen[2], G_calls[0])


def test_precision_auto_means_bf16_only_for_convolutional_models_where_bf16_is_native():
    G, D = _tiny_dcgan()
    mlp = (gh.models.MLPGenerator(2, 2), gh.models.MLPDiscriminator(2))
    native = acceleration.bf16_is_fast("cpu")
    assert acceleration.resolve_precision("auto", "cpu", (G, D), "nonsaturating") == ("bf16" if native else "fp32")
    assert acceleration.resolve_precision("auto", "cpu", mlp, "nonsaturating") == "fp32"
    assert acceleration.resolve_precision("auto", "cpu", (G, D), "wgan-gp") == "fp32"
    assert acceleration.resolve_precision("fp32", "cpu", (G, D), "nonsaturating") == "fp32"
    assert acceleration.resolve_precision("bf16", "cpu", mlp, "nonsaturating") == "bf16"
    assert not acceleration.bf16_is_fast("meta")


def test_bad_precision_requests_are_refused_with_the_choices():
    G, D = _tiny_dcgan()
    with pytest.raises(ValueError, match="fp32"):
        gh.training.TrainConfig(precision="half")
    with pytest.raises(ValueError, match="wgan-gp"):
        acceleration.resolve_precision("bf16", "cpu", (G, D), "wgan-gp")
    with pytest.raises(ValueError, match="resolved"):
        acceleration.autocast("auto", "cpu")


def test_bf16_autocast_runs_convolutions_in_bf16_and_keeps_losses_weights_and_grads_fp32():
    G, D = _tiny_dcgan()
    with acceleration.autocast("bf16", "cpu"):
        x_fake = G(torch.randn(BATCH, LATENT))
        loss, logits_real, logits_fake = gh.training.discriminator_loss(D, _real(BATCH), x_fake, _config())
    assert x_fake.dtype == torch.bfloat16
    assert logits_real.dtype == logits_fake.dtype == loss.dtype == torch.float32
    loss.backward()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in D.parameters())


def test_bf16_and_fp32_steps_compute_the_same_losses_up_to_bf16_rounding():
    """Same weights, batch and noise: the logged losses of one step agree to bf16's ~3 significant digits."""
    losses = {}
    x_real = _real(64)
    for precision in ("fp32", "bf16"):
        G, D = _tiny_dcgan()
        torch.manual_seed(3)
        config = _config(precision=precision, log_every=1)
        history = _train(G, D, lambda n: x_real, config, batch_size=64)
        losses[precision] = (history.last("loss_d"), history.last("loss_g"))
    for fp32, bf16 in zip(losses["fp32"], losses["bf16"], strict=True):
        assert bf16 == pytest.approx(fp32, rel=2e-2)
    assert losses["fp32"] != losses["bf16"]  # bf16 really ran: its rounding shows


def test_prepare_models_makes_conv_weights_channels_last_in_place_and_leaves_mlps():
    G, D = _tiny_dcgan()
    params = list(G.parameters())
    conv = [m for m in D.modules() if isinstance(m, nn.Conv2d)][1]  # C_in > 1: the two layouts differ
    acceleration.prepare_models(G, D, device="meta")  # a device without channels_last kernels: left alone
    assert not conv.weight.is_contiguous(memory_format=torch.channels_last)
    acceleration.prepare_models(G, D, device="cpu")
    assert [id(p) for p in G.parameters()] == [id(p) for p in params]  # optimisers built before still hold them
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not acceleration.has_convolutions(gh.models.MLPDiscriminator(2))
    x = _real(2)
    assert acceleration.to_device_layout(x).is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(acceleration.to_device_layout(x), x)
    z = torch.randn(2, 3)
    assert acceleration.to_device_layout(z) is z


def test_channels_last_gives_the_same_outputs():
    G, D = _tiny_dcgan()
    G_cl, D_cl = copy.deepcopy(G), copy.deepcopy(D)
    acceleration.prepare_models(G_cl, D_cl, device="cpu")
    z, x = torch.randn(4, LATENT), _real(4)
    torch.testing.assert_close(G_cl(z), G(z), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(D_cl(acceleration.to_device_layout(x)), D(x), rtol=1e-5, atol=1e-5)


def test_adam_is_fused_only_on_cuda():
    opt = acceleration.adam(nn.Linear(2, 2).parameters(), lr=1e-3, betas=(0.5, 0.999))
    assert not opt.defaults["fused"]
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["betas"] == (0.5, 0.999)


def test_compile_once_compiles_a_model_once_and_keeps_its_state_dict(monkeypatch):
    model = nn.Linear(2, 2)
    keys = list(model.state_dict())
    calls = []
    monkeypatch.setattr(nn.Module, "compile", lambda self, *a, **k: calls.append(self))
    acceleration.compile_once(model)
    acceleration.compile_once(model)
    assert calls == [model] and list(model.state_dict()) == keys


def test_compiled_training_matches_eager_training():
    """TrainConfig(compile=True) really compiles (torch.compile on the CPU) and trains as eager does."""
    results = []
    for compile_ in (False, True):
        torch.manual_seed(0)
        G, D = gh.models.MLPGenerator(2, 2, hidden=(16,)), gh.models.MLPDiscriminator(2, hidden=(16,))
        torch.manual_seed(1)
        config = _config(steps=3, compile=compile_, log_every=1)
        history = _train(G, D, lambda n: torch.randn(n, 2), config, batch_size=32)
        results.append((history["loss_d"], torch.cat([p.detach().flatten() for p in G.parameters()])))
    torch.testing.assert_close(torch.as_tensor(results[1][0]), torch.as_tensor(results[0][0]), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-4, atol=1e-5)
