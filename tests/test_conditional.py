"""Conditional DCGAN: shapes, the documented G and projection-D formulas, label errors, conditional training."""

from __future__ import annotations

import copy

import pytest
import torch

import gan_helpers as gh


def _tiny_pair(shape=(1, 28, 28), num_classes=10, seed=0):
    torch.manual_seed(seed)
    G = gh.models.ConditionalDCGANGenerator(8, num_classes, shape, width=8, embed_dim=4)
    D = gh.models.ConditionalDCGANDiscriminator(num_classes, shape, width=8)
    return G, D


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32)])
def test_shapes_and_ranges(shape):
    G, D = _tiny_pair(shape)
    y = torch.tensor([0, 9, 3, 3, 5])
    x_fake = G(torch.randn(5, 8) * 10, y)
    assert x_fake.shape == (5, *shape) and x_fake.min() >= -1 and x_fake.max() <= 1
    assert D(x_fake, y).shape == (5,)
    start, _ = gh.models.dcgan_plan(shape)
    assert D.features(x_fake).shape == (5, 16 * start * start)  # width 8 doubled once, start x start map
    # the DCGAN plan is reused: G's body is a DCGAN G fed latent_dim + embed_dim numbers
    assert isinstance(G.body, gh.models.DCGANGenerator) and G.body.latent_dim == 8 + 4
    assert isinstance(D.body, gh.models.DCGANDiscriminator)


def test_generator_is_a_dcgan_of_noise_and_label_embedding():
    G, _ = _tiny_pair()
    G.eval()
    z, y = torch.randn(6, 8), torch.tensor([1, 2, 3, 4, 5, 6])
    expected = G.body(torch.cat([z, G.embed.weight[y]], dim=1))  # G(z, y) = G_0([z, e(y)])
    torch.testing.assert_close(G(z, y), expected)
    # without labels: the cycling labels 0, 1, ..., 9, 0, ...
    z12 = torch.randn(12, 8)
    torch.testing.assert_close(G(z12), G(z12, torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])))
    # the label matters
    assert not torch.allclose(G(z, y), G(z, (y + 1) % 10))


def test_projection_discriminator_matches_its_formula():
    _, D = _tiny_pair()
    D.eval()
    torch.nn.init.normal_(D.embed.weight, 0.0, 1.0)  # a visible projection term
    x, y = torch.rand(7, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 2, 3, 7, 8, 9])
    phi = D.features(x)  # (B, d)
    head = D.body.net[-1]
    psi = phi @ head.weight.flatten() + head.bias  # the last convolution covers the map: a linear function of phi
    expected = psi + (D.embed.weight[y] * phi).sum(dim=1)  # psi(phi(x)) + <v_y, phi(x)>
    torch.testing.assert_close(D(x, y), expected, rtol=1e-5, atol=1e-5)
    # with v_y = 0 the conditional D is the unconditional DCGAN D
    torch.nn.init.zeros_(D.embed.weight)
    torch.testing.assert_close(D(x, y), D.body(x))


BAD_LABELS = [
    ([1, 2, 3, 4], "as a tensor"),
    (torch.tensor([1.0, 2.0, 3.0, 4.0]), "integer labels"),
    (torch.tensor([True, False, True, True]), "integer labels"),
    (torch.tensor([[1], [2], [3], [4]]), "one label per sample"),
    (torch.tensor([1, 2, 3]), "one label per sample"),
    (torch.tensor([0, 1, 2, 10]), "outside 0..9"),
    (torch.tensor([-1, 1, 2, 3]), "outside 0..9"),
]


@pytest.mark.parametrize(("labels", "message"), BAD_LABELS)
def test_bad_labels_give_a_clear_error(labels, message):
    G, D = _tiny_pair()
    with pytest.raises(ValueError, match=message):
        G(torch.randn(4, 8), labels)
    with pytest.raises(ValueError, match=message):
        D(torch.rand(4, 1, 28, 28), labels)


def test_discriminator_without_labels_and_uint8_labels():
    _, D = _tiny_pair()
    with pytest.raises(ValueError, match="needs labels"):
        D(torch.rand(2, 1, 28, 28))
    y8 = torch.tensor([3, 4], dtype=torch.uint8)  # MNIST-style bytes are accepted
    torch.testing.assert_close(D(torch.zeros(2, 1, 28, 28), y8), D(torch.zeros(2, 1, 28, 28), y8.long()))
    with pytest.raises(ValueError, match="image"):
        D(torch.rand(2, 1, 32, 32), y8)


def _changed(before, after):
    return any(not torch.equal(a, b) for a, b in zip(before.parameters(), after.parameters(), strict=True))


def test_one_conditional_step_changes_only_the_player_it_trains():
    G, D = _tiny_pair()
    pixels = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
    images = gh.data.to_unit_range(pixels)[:, None]  # (16, 1, 28, 28), what D sees
    labels = torch.arange(16) % 10
    batches = gh.data.DeviceBatches(pixels, labels=labels, batch_size=8)
    config = gh.training.TrainConfig(steps=1)  # G has num_classes: trained conditionally
    calls = []

    def remember(module, args, output):  # D's last forward (G's step) happens after D's own update
        seen = (args[0].detach().clone(), args[1].clone())
        calls.append((seen, {k: v.detach().clone() for k, v in module.named_parameters()}))

    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    handle = D.register_forward_hook(remember)
    gh.training.train_gan(G, D, batches, config, progress=False)
    handle.remove()
    assert _changed(G0, G) and _changed(D0, D)
    assert all(torch.equal(calls[-1][1][k], v) for k, v in D.named_parameters())  # G's step left D alone
    assert len(calls) == 3  # D(x_real, y_real), D(x_fake, y_fake), then D(G(z, y), y) in G's step
    x_seen, y_seen = calls[0][0]  # D saw each real image with its own label
    index = [next(i for i in range(16) if torch.equal(images[i], x)) for x in x_seen]
    assert torch.equal(y_seen, labels[index])
    # and D's own step left G alone
    G, D = _tiny_pair()
    G0 = copy.deepcopy(G)
    _, opt_D = gh.training.make_optimizers(G, D, config)
    y_fake = gh.sampling.sample_labels(8, 10)
    loss_D, _, _ = gh.training.discriminator_loss(
        D, images[:8], G(torch.randn(8, 8), y_fake).detach(), config, labels[:8], y_fake
    )
    loss_D.backward()
    opt_D.step()
    assert not _changed(G0, G)


def test_conditional_train_epochs_records_grids_and_resumes(tmp_path):
    images = torch.randint(0, 256, (32, 28, 28), dtype=torch.uint8)
    batches = gh.data.DeviceBatches(images, labels=torch.arange(32) % 10, batch_size=8)
    G, D = _tiny_pair()
    config = gh.training.TrainConfig()
    run = gh.training.train_epochs(
        G, D, batches, config, epochs=1, out_dir=tmp_path, num_samples=10, diagnostics=False, progress=False
    )
    assert len(run.samples) == 2 and run.samples[-1].shape == (10, 1, 28, 28)
    loaded = gh.training.load_run(tmp_path)  # specs of the conditional pair rebuild the models
    # conditional is no longer a config field: a G with num_classes is trained conditionally
    assert isinstance(loaded.G, gh.models.ConditionalDCGANGenerator) and gh.training.is_conditional(loaded.G)


def test_conditional_training_refuses_unlabelled_data_and_plain_models():
    G, D = _tiny_pair()
    config = gh.training.TrainConfig(steps=1)
    unlabelled = gh.data.SampledBatches(lambda n: torch.rand(n, 1, 28, 28), 4)
    with pytest.raises(ValueError, match="labelled batches"):
        gh.training.train_gan(G, D, unlabelled, config, progress=False)
    # a plain G is trained unconditionally (no num_classes): its conditional D then asks for labels
    plain = gh.models.DCGANGenerator(8, width=8)
    assert gh.training.is_conditional(G) and not gh.training.is_conditional(plain)
    labelled = gh.data.SampledBatches(lambda n: (torch.rand(n, 1, 28, 28), torch.zeros(n, dtype=torch.long)), 4)
    with pytest.raises(ValueError, match="needs labels"):
        gh.training.train_gan(plain, D, labelled, config, progress=False)
    with pytest.raises(TypeError, match="conditional"):  # no longer a config field
        gh.training.TrainConfig(conditional=True)
    with pytest.raises(ValueError, match="wgan-gp"):
        gh.training.train_gan(G, D, labelled, config.replace(loss="wgan-gp"), progress=False)


def test_unconditional_training_ignores_labels_in_the_batches():
    histories = []
    for labels in (None, torch.arange(32) % 10):
        gh.runtime.seed_everything(0)
        G = gh.models.DCGANGenerator(8, width=8)
        D = gh.models.DCGANDiscriminator(width=8)
        pixels = torch.randint(0, 256, (32, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
        batches = gh.data.DeviceBatches(pixels, labels=labels, batch_size=8)
        config = gh.training.TrainConfig(steps=3, log_every=1)
        histories.append(gh.training.train_gan(G, D, batches, config, progress=False)["loss_g"])
    assert list(histories[0]) == list(histories[1])


def test_uniform_labels_and_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    y = gh.sampling.sample_labels(20_000, 10)
    counts = torch.bincount(y, minlength=10).float() / len(y)
    assert y.dtype == torch.long and counts.min() > 0.09 and counts.max() < 0.11  # 1/10 each, +-5 sigma
    G, D = _tiny_pair()
    path = gh.models.export_weights(G, D, tmp_path / "c.pt", half=False)
    G2, D2, _ = gh.models.load_weights(path)
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 3])
    torch.testing.assert_close(G2(z, y), G.eval()(z, y))
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(D2(x, y), D.eval()(x, y))


class _LookupGenerator(torch.nn.Module):
    """A stand-in conditional G that returns one fixed image per class, whatever z."""

    def __init__(self, images):
        super().__init__()
        self.latent_dim, self.num_classes = 4, len(images)
        self.images = torch.nn.Parameter(images, requires_grad=False)

    def forward(self, z, y):
        return self.images[y]


def test_label_fidelity_and_fid_per_class_against_direct_computations():
    pixels, labels = gh.data.load_offline_sample()[:2]
    index = [int((labels == k).nonzero()[0]) for k in range(10)]
    lookup = gh.data.to_unit_range(pixels[index])[:, None]  # (10, 1, 28, 28): one real digit per class
    lookup[3] = lookup[8]  # class 3 is drawn as an 8: the classifier must disagree with the asked label
    G = _LookupGenerator(lookup)
    classifier = gh.classifier.load_classifier()
    result = gh.applications.label_fidelity(G, classifier, per_class=5)
    read = gh.metrics.classify(classifier, lookup)  # each class's single image, classified once
    torch.testing.assert_close(result.per_class, (read == torch.arange(10)).double())
    assert result.per_class[3] == 0 and result.accuracy == pytest.approx(float(result.per_class.mean()))
    assert result.confusion.sum(dim=1).tolist() == [5] * 10 and result.confusion[3, int(read[3])] == 5
    real_pixels, real_labels = pixels[:400], labels[:400]
    scores = gh.applications.fid_per_class(G, classifier, real_pixels, real_labels, per_class=4)
    k = 5
    direct = gh.metrics.fid(
        gh.metrics.extract_features(classifier, real_pixels[real_labels == k]),
        gh.metrics.extract_features(classifier, lookup[[k] * 4]),
    )
    assert len(scores) == 10 and scores[k] == pytest.approx(direct, rel=1e-5)


def test_sample_of_a_conditional_g_is_seeded_and_the_widget_builds():
    G, _ = _tiny_pair()
    y = torch.tensor([1, 1, 7])
    a, b = gh.sampling.sample(G, seed=3, labels=y), gh.sampling.sample(G, seed=3, labels=y)
    assert torch.equal(a, b) and a.shape == (3, 1, 28, 28) and G.training  # mode restored
    widget = gh.widgets.conditional_explorer(G)
    assert len(widget.children[0].options) == 11  # "all digits" and 0..9


def test_sample_of_a_conditional_g_is_scaled_seeded_noise_with_the_labels_in_batches():
    """The formula of the old applications.sample_conditional: z = noise_scale * randn (seeded, on the CPU),
    G(z, y) in eval mode, ``batch_size`` labels at a time, G's mode restored."""
    G, _ = _tiny_pair()
    labels = torch.tensor([0, 3, 3, 9, 5])
    seed, scale, batch_size = 11, 0.7, 2
    got = gh.sampling.sample(G, seed=seed, labels=labels, noise_scale=scale, batch_size=batch_size)
    assert G.training  # mode restored
    z = torch.randn(len(labels), G.latent_dim, generator=torch.Generator().manual_seed(seed)) * scale
    G.eval()
    with torch.no_grad():
        expected = torch.cat(
            [G(z[i : i + batch_size], labels[i : i + batch_size]).float() for i in range(0, len(labels), batch_size)]
        )
    G.train()
    assert got.shape == (5, 1, 28, 28) and got.device.type == "cpu"
    assert torch.equal(got, expected)
    assert not torch.equal(got, gh.sampling.sample(G, seed=seed, labels=labels, batch_size=batch_size))  # the scale
    with pytest.raises(ValueError, match="labels"):
        gh.sampling.sample(G, 4, seed=seed, labels=labels)  # n and the labels disagree


def test_cli_trains_a_conditional_dcgan(tmp_path, capsys):
    import warnings

    from gan_helpers import cli

    out, weights = tmp_path / "run", tmp_path / "c.pt"
    argv = ["train", "cdcgan", "--epochs", "1", "--out", str(out), "--width", "4", "--limit-images", "64"]
    argv += ["--batch-size", "16", "--steps-per-epoch", "2", "--no-progress", "--no-download", "--export", str(weights)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the offline-sample notice and the tiny run's diagnostics
        assert cli.main(argv) == 0
    assert "epoch 1/1" in capsys.readouterr().out
    run = gh.training.load_run(out)
    assert gh.training.is_conditional(run.G) and isinstance(run.D, gh.models.ConditionalDCGANDiscriminator)
    G, _, info = gh.models.load_weights(weights)
    assert info["model"] == "cdcgan" and G(torch.randn(2, 100), torch.tensor([4, 2])).shape == (2, 1, 28, 28)


def test_exercise_checkers_accept_right_answers_and_reject_mistakes():
    ex = gh.exercises

    def one_hot(z, y, k):
        return torch.cat([z, torch.nn.functional.one_hot(y, k).float()], dim=1)

    assert ex.check_one_hot_condition(one_hot)
    assert not ex.check_one_hot_condition(lambda z, y, k: torch.cat([z, y[:, None].float()], dim=1))
    assert "not written" in str(ex.check_one_hot_condition(lambda z, y, k: (_ for _ in ()).throw(NotImplementedError)))

    def projection(phi, w, b, V, y):
        return phi @ w + b + (V[y] * phi).sum(dim=1)

    assert ex.check_projection_logit(projection)
    assert "ignored" in str(ex.check_projection_logit(lambda phi, w, b, V, y: phi @ w + b))
    assert not ex.check_projection_logit(lambda phi, w, b, V, y: phi @ w + (V[y] * phi).sum(dim=1))
    # the checker's formula is the model's: a real projection D agrees with it
    _, D = _tiny_pair()
    D.eval()
    x, y = torch.rand(3, 1, 28, 28), torch.tensor([2, 0, 7])
    head = D.body.net[-1]
    by_formula = projection(D.features(x), head.weight.flatten(), head.bias[0], D.embed.weight, y)
    torch.testing.assert_close(by_formula, D(x, y), rtol=1e-5, atol=1e-6)


def test_warm_start_from_an_unconditional_dcgan_starts_label_free(tmp_path):
    torch.manual_seed(0)
    G = gh.models.init_dcgan_weights(gh.models.DCGANGenerator(8, width=8), std=0.2).eval()
    D = gh.models.DCGANDiscriminator(width=8).eval()
    G_c, D_c = gh.models.conditional_from_unconditional(G, D, num_classes=10, embed_dim=3)
    G_c.eval()
    D_c.eval()
    z, x = torch.randn(4, 8), torch.rand(4, 1, 28, 28) * 2 - 1
    for label in (0, 7):
        y = torch.full((4,), label)
        torch.testing.assert_close(G_c(z, y), G(z))  # G(z, y) = G_uncond(z) for every label
        torch.testing.assert_close(D_c(x, y), D(x))
    assert G_c.body.net[0].weight.shape[0] == 8 + 3
    # and the command line does the same from exported weights
    from gan_helpers import cli

    weights = gh.models.export_weights(G, D, tmp_path / "u.pt", half=False)
    argv = ["train", "cdcgan", "--epochs", "1", "--out", str(tmp_path / "run"), "--init-from", str(weights)]
    argv += ["--limit-images", "32", "--batch-size", "16", "--steps-per-epoch", "1", "--no-progress", "--no-download"]
    argv += ["--latent-dim", "8", "--width", "8"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(argv) == 0
    run = gh.training.load_run(tmp_path / "run")
    assert run.G.body.net[0].weight.shape[0] == 8 + 50


def test_shipped_conditional_weights_obey_the_label_and_use_the_noise():
    path = gh.models.weights_dir() / gh.models.PRETRAINED["cdcgan"]
    assert path.stat().st_size < 4_000_000
    raw = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    assert raw["G"]["class"] == "ConditionalDCGANGenerator"
    G, D, info = gh.models.load_pretrained("cdcgan")
    assert info["command"].startswith("python -m gan_helpers train cdcgan") and "--init-from" in info["command"]
    fidelity = gh.applications.label_fidelity(G, gh.classifier.load_classifier(), per_class=20, seed=1)
    assert fidelity.accuracy > 0.9  # README: 97.6% at 200 per class
    pixels, labels = gh.data.load_offline_sample()[:2]
    diversity = gh.applications.within_class_diversity(G, pixels[4000:], labels[4000:], per_class=16)
    assert diversity.min() > 0.5  # README: 0.81 to 0.91; the collapsed first attempt had 0.15 to 0.21
    x = gh.sampling.sample(G, labels=torch.tensor([3, 3]))
    assert D(x, torch.tensor([3, 3])).shape == (2,)
