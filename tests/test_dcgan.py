"""Image GANs: shapes and ranges of the models, the DCGAN rules, one step trains only its player, shipped weights."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import gan_helpers as gh

SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32)]



@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_generator_and_discriminator_shapes_and_ranges(kind, shape):
    torch.manual_seed(0)
    if kind == "dcgan":
        G = gh.models.DCGANGenerator(latent_dim=16, image_shape=shape, width=8)
        D = gh.models.DCGANDiscriminator(image_shape=shape, width=8)
    else:
        G = gh.models.MLPImageGenerator(latent_dim=16, image_shape=shape, hidden=(32,))
        D = gh.models.MLPImageDiscriminator(image_shape=shape, hidden=(32,))
    x_fake = G(torch.randn(5, 16) * 10)  # large z: the Tanh output must still stay in [-1, 1]
    assert x_fake.shape == (5, *shape)
    assert x_fake.min() >= -1 and x_fake.max() <= 1
    logits = D(x_fake)
    assert logits.shape == (5,)
    D(torch.full((2, *shape), 50.0))  # logits, not probabilities: any finite value is allowed
    assert not isinstance(list(D.modules())[-1], nn.Sigmoid)


def test_dcgan_28x28_follows_the_documented_path():
    G, D = gh.models.DCGANGenerator(), gh.models.DCGANDiscriminator()
    shapes_g, shapes_d = [], []
    h = torch.randn(2, 100)[:, :, None, None]
    for layer in G.net:
        h = layer(h)
        if isinstance(layer, nn.ConvTranspose2d):
            shapes_g.append(tuple(h.shape[1:]))
    h = torch.zeros(2, 1, 28, 28)
    for layer in D.net:
        h = layer(h)
        if isinstance(layer, nn.Conv2d):
            shapes_d.append(tuple(h.shape[1:]))
    assert shapes_g == [(128, 7, 7), (64, 14, 14), (1, 28, 28)]
    assert shapes_d == [(64, 14, 14), (128, 7, 7), (1, 1, 1)]


def test_side_doubles_and_halves_as_the_docstrings_say():
    for s in range(4, 40):
        up = nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)(torch.zeros(1, 1, s, s))
        down = nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1)(torch.zeros(1, 1, s, s))
        assert up.shape[-1] == (s - 1) * 2 - 2 + 4 == 2 * s
        assert down.shape[-1] == math.floor((s + 2 - 4) / 2) + 1
        if s % 2 == 0:
            assert down.shape[-1] == s // 2


@pytest.mark.parametrize(("shape", "plan"), [((1, 28, 28), (7, 2)), ((3, 32, 32), (8, 2)), ((1, 64, 64), (8, 3))])
def test_dcgan_plan(shape, plan):
    assert gh.models.dcgan_plan(shape) == plan


@pytest.mark.parametrize("shape", [(1, 30, 30), (1, 28, 32), (1, 8, 8), (1, 36, 36), (28, 28), (0, 28, 28)])
def test_shapes_the_builders_cannot_handle_raise_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"image_shape|cannot handle"):
        gh.models.DCGANGenerator(image_shape=shape)
    with pytest.raises(ValueError, match=r"image_shape|cannot handle"):
        gh.models.DCGANDiscriminator(image_shape=shape)


def test_wrong_inputs_are_named_in_the_error():
    G, D = gh.models.DCGANGenerator(latent_dim=10, width=4), gh.models.DCGANDiscriminator(width=4)
    with pytest.raises(ValueError, match=r"\(B, 10\)"):
        G(torch.randn(3, 11))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        D(torch.randn(3, 1, 32, 32))


def test_dcgan_design_rules_are_in_the_layers():
    G, D = gh.models.DCGANGenerator(), gh.models.DCGANDiscriminator()
    types_g = {type(m) for m in G.modules()}
    types_d = {type(m) for m in D.modules()}
    assert not any(issubclass(t, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for t in types_g | types_d)
    assert nn.ReLU in types_g and nn.LeakyReLU not in types_g and isinstance(G.net[-1], nn.Tanh)
    assert nn.LeakyReLU in types_d and nn.ReLU not in types_d and isinstance(D.net[-1], nn.Conv2d)
    assert isinstance(D.net[1], nn.LeakyReLU)  # no batch norm on D's first layer


def test_init_is_normal_with_std_0_02():
    torch.manual_seed(0)
    G = gh.models.DCGANGenerator()
    weights = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
    scales = torch.cat([m.weight for m in G.modules() if isinstance(m, nn.BatchNorm2d)])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01)
    assert all(m.bias.abs().max() == 0 for m in G.modules() if isinstance(m, nn.BatchNorm2d))


def _tiny_gan(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    return gh.models.DCGANGenerator(8, width=4), gh.models.DCGANDiscriminator(width=4)


def _random_images(batch_size: int) -> gh.data.SampledBatches:
    """Endless batches of ``batch_size`` uniform random 'images' in [-1, 1]."""
    return gh.data.SampledBatches(lambda n: torch.rand(n, 1, 28, 28) * 2 - 1, batch_size)


def _changed(before: nn.Module, after: nn.Module) -> bool:
    """Whether any weight (parameter) differs; batch-norm statistics are buffers, not weights."""
    pairs = zip(before.parameters(), after.parameters(), strict=True)
    return any(not torch.equal(a, b) for a, b in pairs)


@pytest.mark.parametrize("mistake", [None, "trainable_ignored"])
def test_one_training_step_changes_only_the_player_it_trains(mistake):
    G, D = _tiny_gan()
    config = gh.training.TrainConfig(steps=1)
    _, opt_D = gh.training.make_optimizers(G, D, config)
    x_real = torch.rand(8, 1, 28, 28) * 2 - 1
    # D's step, as train_gan does it: G's parameters must not change
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    loss_D, _, _ = gh.training.discriminator_loss(D, x_real, G(torch.randn(8, 8)).detach(), config)
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    assert _changed(D0, D) and not _changed(G0, G)
    # a whole train_gan step: G's step must leave D as its own step left it
    G, D = _tiny_gan()
    D_after_d_step = {}

    def remember_d(module, args, output):  # D's last forward in G's step happens after D's update
        D_after_d_step.update({k: v.detach().clone() for k, v in module.named_parameters()})

    D0 = copy.deepcopy(D)
    G0 = copy.deepcopy(G)
    handle = D.register_forward_hook(remember_d)
    gh.training.train_gan(G, D, _random_images(8), config, mistake=mistake, progress=False)
    handle.remove()
    assert _changed(G0, G) and _changed(D0, D)
    d_moved_in_g_step = any(not torch.equal(D_after_d_step[k], v) for k, v in D.named_parameters())
    assert d_moved_in_g_step == (mistake == "trainable_ignored")


def test_no_detach_mistake_leaks_d_gradients_into_g():
    norms = {}
    for mistake in (None, "no_detach"):
        G, D = _tiny_gan()
        config = gh.training.TrainConfig(steps=1)
        gh.training.train_gan(G, D, _random_images(8), config, mistake=mistake, progress=False)
        norms[mistake] = torch.cat([p.grad.flatten() for p in G.parameters()])
    assert not torch.equal(norms[None], norms["no_detach"])


def test_grad_norms_are_logged_and_match_a_direct_computation():
    G, D = _tiny_gan()
    config = gh.training.TrainConfig(steps=1, log_every=1)
    history = gh.training.train_gan(G, D, _random_images(8), config, grad_norms=True, progress=False)
    direct = torch.sqrt(sum((p.grad**2).sum() for p in G.parameters())).item()
    assert history.last("grad_norm_g") == pytest.approx(direct, rel=1e-5)
    assert history.last("grad_norm_d") > 0


def test_unknown_mistake_lists_the_catalogue():
    G, D = _tiny_gan()
    with pytest.raises(ValueError, match="no_detach"):
        zeros = gh.data.SampledBatches(lambda n: torch.zeros(n, 1, 28, 28), 128)
        gh.training.train_gan(G, D, zeros, gh.training.TrainConfig(steps=1), mistake="x")


def test_interpolate_latents_ends_norms_and_midpoint():
    torch.manual_seed(0)
    z0, z1 = torch.randn(100, dtype=torch.float64), torch.randn(100, dtype=torch.float64)
    z1 = z1 / z1.norm() * z0.norm()  # equal norms
    path = gh.sampling.interpolate_latents(z0, z1, num=9)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)
    torch.testing.assert_close(path.norm(dim=1), torch.full((9,), z0.norm().item(), dtype=torch.float64))
    line = gh.sampling.interpolate_latents(z0, z1, num=3, spherical=False)
    torch.testing.assert_close(line[1], (z0 + z1) / 2)
    # orthogonal vectors of norm sqrt(d): the straight midpoint has norm sqrt(d/2)
    e0, e1 = torch.zeros(100, dtype=torch.float64), torch.zeros(100, dtype=torch.float64)
    e0[0], e1[1] = 10.0, 10.0
    assert gh.sampling.interpolate_latents(e0, e1, 3, spherical=False)[1].norm().item() == pytest.approx(math.sqrt(50))
    # slerp at t against the closed form with Omega = pi/2
    t = 0.25
    expected = math.sin((1 - t) * math.pi / 2) * e0 + math.sin(t * math.pi / 2) * e1
    torch.testing.assert_close(gh.sampling.interpolate_latents(e0, e1, 5)[1], expected)


def test_mean_pairwise_distance_against_a_loop():
    torch.manual_seed(1)
    x = torch.randn(7, 2, 3)
    flat = x.flatten(1)
    pairs = [(flat[i] - flat[j]).norm().item() for i in range(7) for j in range(i + 1, 7)]
    assert gh.metrics.mean_pairwise_distance(x) == pytest.approx(sum(pairs) / len(pairs))
    assert gh.metrics.diversity_ratio(x[:1].expand(7, 2, 3), x) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        gh.metrics.mean_pairwise_distance(x[:1])


def test_mistake_losses_match_their_docstrings():
    logits = torch.linspace(-20, 20, 41, dtype=torch.float64)
    # fake labels: BCE(l, 0) = -log(1 - sigmoid(l)); its gradient is +sigmoid(l)/B
    leaf = logits.clone().requires_grad_(True)
    loss = gh.losses.mistake_g_loss_fake_labels(leaf)
    loss.backward()
    torch.testing.assert_close(loss, -torch.log1p(-torch.sigmoid(logits)).mean(), rtol=1e-6, atol=0)
    torch.testing.assert_close(leaf.grad, torch.sigmoid(logits) / len(logits))
    # double sigmoid: bounded below by softplus(-1) + log 2 and reaches it in the limit
    bound_d = math.log1p(math.exp(-1)) + math.log(2)
    ones = torch.ones(4, dtype=torch.float64)
    assert gh.losses.mistake_d_loss_double_sigmoid(logits, -logits).item() > bound_d
    assert gh.losses.mistake_d_loss_double_sigmoid(40 * ones, -40 * ones).item() == pytest.approx(bound_d)
    assert bound_d == pytest.approx(1.0064, abs=1e-4)
    assert gh.losses.mistake_g_loss_double_sigmoid(40 * ones).item() == pytest.approx(math.log1p(math.exp(-1)))
    assert math.log1p(math.exp(-1)) == pytest.approx(0.3133, abs=1e-4)
    # the extra chain-rule factor sigma'(l) is at most 1/4
    leaf = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    gh.losses.mistake_g_loss_double_sigmoid(leaf).backward()
    p = torch.sigmoid(torch.sigmoid(torch.zeros(1, dtype=torch.float64)))
    torch.testing.assert_close(leaf.grad, (p - 1) * 0.25)
    sigma = torch.sigmoid(logits)
    assert (sigma * (1 - sigma)).max().item() == pytest.approx(0.25)


def test_to_uint8_round_trips_with_to_unit_range():
    pixels = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(gh.sampling.to_uint8(gh.data.to_unit_range(pixels)), pixels)


@pytest.mark.parametrize("name", ["dcgan", "mlp"])
def test_shipped_weights_load_safely_and_make_digits_shaped_images(name):
    path = gh.models.weights_dir() / gh.models.PRETRAINED[name]
    raw = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    assert set(raw) >= {"G", "D", "info"}
    G, D, info = gh.models.load_pretrained(name)
    assert info["command"].startswith("python -m gan_helpers train") and info["epochs"] >= 1
    assert not G.training and not D.training
    x_fake = gh.sampling.generate(G, torch.randn(16, G.latent_dim))
    assert x_fake.shape == (16, 1, 28, 28) and x_fake.dtype == torch.float32
    assert x_fake.min() >= -1 and x_fake.max() <= 1
    assert gh.metrics.mean_pairwise_distance(x_fake) > 1.0  # not one image repeated
    assert D(x_fake).shape == (16,)
    assert path.stat().st_size < 4_000_000


def test_export_and_load_weights_round_trip(tmp_path):
    G, D = _tiny_gan()
    path = gh.models.export_weights(G, D, tmp_path / "w.pt", info={"command": "test"}, half=False)
    G2, D2, info = gh.models.load_weights(path)
    assert info == {"command": "test"}
    assert not _changed(G, G2) and not _changed(D, D2)
    with pytest.raises(ValueError, match="No shipped weights"):
        gh.models.load_pretrained("nope")


def test_exercise_checkers_accept_right_answers_and_reject_the_mistakes():
    import torch.nn.functional as F

    ex = gh.exercises
    assert ex.check_generator_loss_fix(lambda x: F.binary_cross_entropy_with_logits(x, torch.ones_like(x)))
    wrong = ex.check_generator_loss_fix(gh.losses.mistake_g_loss_fake_labels)
    assert not wrong and "still the mistake" in wrong.message
    assert ex.check_double_sigmoid_floor(math.log1p(math.exp(-1)) + math.log(2))
    assert not ex.check_double_sigmoid_floor(math.log(2))

    def side(s, k, t, p, transposed):
        return (s - 1) * t - 2 * p + k if transposed else (s + 2 * p - k) // t + 1

    assert ex.check_conv_output_side(side)
    assert not ex.check_conv_output_side(lambda s, k, t, p, transposed: 2 * s if transposed else s // 2)
    assert ex.check_dcgan_init(gh.models.init_dcgan_weights)
    assert not ex.check_dcgan_init(lambda model: None)  # PyTorch's defaults are not N(0, 0.02^2)
    shape = (3, 32, 32)
    G, D = gh.models.DCGANGenerator(16, shape, width=4), gh.models.DCGANDiscriminator(shape, width=4)
    assert ex.check_dcgan_for_shape(G, D, shape)
    assert not ex.check_dcgan_for_shape(gh.models.DCGANGenerator(16, (3, 28, 28), width=4), D, shape)


def test_typical_noise_length_is_about_sqrt_d():
    z = torch.randn(4000, 100, generator=torch.Generator().manual_seed(0))
    assert z.norm(dim=1).mean().item() == pytest.approx(10.0, abs=0.1)  # as latent_explorer's docstring says


def _tiny_run():
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    batches = gh.data.DeviceBatches(images, batch_size=16)
    G, D = _tiny_gan()
    config = gh.training.TrainConfig(log_every=2)
    return gh.training.train_epochs(G, D, batches, config, epochs=2, num_samples=16, diagnostics=False, progress=False)


def test_live_figure_throttles_and_always_draws_after_an_epoch(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    shown = []
    monkeypatch.setattr(gh.widgets, "display", lambda fig, display_id=False: shown.append(fig) or _Handle(shown))
    run = _tiny_run()
    live = gh.widgets.LiveFigureCallback(every=1e9, num_images=4)
    live.on_log(2, run.history, run.G, run.D)
    live.on_log(4, run.history, run.G, run.D)  # within `every` seconds: no redraw
    assert live.draws == 1
    live.on_epoch_end(run)
    assert live.draws == 2 and len(shown) == 2  # first display, then one update in place


class _Handle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, fig):
        self.shown.append(fig)


def test_training_figures_and_png_grid(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    run = _tiny_run()
    assert len(gh.plots.plot_training_history(run.history).axes) == 3  # losses, D outputs, gradient norms
    assert len(gh.plots.plot_sample_evolution(run.samples, run.sample_epochs, num_images=4).axes) == 3
    anim = gh.plots.animate_samples(run.samples, run.sample_epochs, num_images=4, nrow=2)
    assert "<img" in anim.to_jshtml() or "data:image/png" in anim.to_jshtml()
    fig = gh.plots.plot_mistake_gallery({"a": (run.grid(), run.history), "b": (run.grid(0), run.history)})
    assert len(fig.axes) == 4
    png = gh.plots.save_image_grid(run.samples[-1], tmp_path / "grid.png", nrow=4)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    widget = gh.widgets.latent_explorer(run.G, num_directions=2)
    assert {c.description for c in widget.children if hasattr(c, "description")} >= {"seed a", "seed b", "a -> b"}
    with pytest.raises(ValueError, match="one sample batch per epoch"):
        gh.plots.plot_sample_evolution(run.samples, [0])
