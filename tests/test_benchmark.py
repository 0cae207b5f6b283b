"""The throughput benchmark (benchmarks/dcgan_throughput.py): it runs, it reports every field, and the
reference and the course's pipelines share their loss math and pixel scaling."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

import gan_helpers as gh

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dcgan_throughput.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("dcgan_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()

TINY = ["--device", "cpu", "--steps", "2", "--warmup", "1", "--batch-size", "16", "--workers", "0",
        "--limit-images", "64", "--threads", "1", "--log-every", "1"]


def test_tiny_run_writes_every_field(tmp_path):
    out = tmp_path / "bench.json"
    bench.main([*TINY, "--no-isolate", "--json", str(out)])
    report = json.loads(out.read_text())
    env = report["environment"]
    for key in ("device", "device_name", "torch", "python", "threads", "date", "command", "data"):
        assert env[key] not in (None, ""), key
    assert env["device"] == "cpu" and env["threads"] == 1 and "--steps 2" in env["command"]
    assert report["config"]["batch_size"] == 16 and report["config"]["workers"] == 0
    assert set(report["results"]) == set(bench.PIPELINES)
    for name, r in report["results"].items():
        assert r["pipeline"] == name and r["timed_steps"] == 2
        assert r["images_per_s"] == pytest.approx(2 * 16 / r["timed_seconds"], rel=1e-3)
        assert r["seconds_per_epoch"] * r["images_per_s"] == pytest.approx(60_000, rel=1e-3)
        assert r["peak_memory_bytes"] > 2**20 and "RSS" in r["peak_memory_kind"]
        assert r["precision"] in ("fp32", "bf16")
    expected = gh.acceleration.resolve_precision(
        "auto", "cpu", (gh.models.DCGANGenerator(), gh.models.DCGANDiscriminator()), "nonsaturating"
    )
    assert report["results"]["fast"]["precision"] == expected  # (b) runs train_gan's defaults
    assert report["results"]["reference"]["precision"] == report["results"]["reference_data"]["precision"] == "fp32"
    rates = {k: r["images_per_s"] for k, r in report["results"].items()}
    assert report["ratios"]["b/a"] == pytest.approx(rates["fast"] / rates["reference"], rel=1e-2)
    assert report["ratios"]["b/c"] == pytest.approx(rates["fast"] / rates["reference_data"], rel=1e-2)


def test_isolated_run_measures_in_a_child_process(tmp_path):
    out = tmp_path / "bench.json"
    report = bench.main([*TINY, "--pipelines", "fast", "--json", str(out)])
    assert set(report["results"]) == {"fast"} and report["ratios"] == {"b/a": None, "b/c": None}
    assert json.loads(out.read_text())["results"]["fast"]["images_per_s"] > 0


def test_options_forwarded_to_a_child_drop_the_parents_own():
    argv = ["--steps", "2", "--pipelines", "fast", "reference", "--json", "x.json", "--json=y", "--workers", "0"]
    assert bench._drop_options(argv, ("--json",), ("--pipelines",)) == ["--steps", "2", "--workers", "0"]


def test_reference_transform_scales_pixels_as_the_device_batches_do():
    images = torch.randint(0, 256, (8, 28, 28), dtype=torch.uint8)
    per_sample = torch.stack([bench.TransformedImages(images, 28)[i] for i in range(8)])  # (8, 1, 28, 28)
    torch.testing.assert_close(per_sample, gh.data.to_unit_range(images)[:, None])
    resized = bench.TransformedImages(images, 64)[0]
    assert resized.shape == (1, 64, 64) and resized.min() >= -1 and resized.max() <= 1


def test_probability_losses_equal_the_logit_losses():
    torch.manual_seed(0)
    logits_real, logits_fake = torch.randn(64) * 4, torch.randn(64) * 4  # (64,) spanning about -12..12
    p_real, p_fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    torch.testing.assert_close(
        bench.reference_d_loss(p_real, p_fake), gh.losses.d_loss(logits_real, logits_fake), rtol=1e-5, atol=1e-5
    )
    # and the closed form -mean log D(x) - mean log(1 - D(G(z))) in float64
    closed = -(p_real.double().log().mean() + (1 - p_fake.double()).log().mean())
    assert bench.reference_d_loss(p_real, p_fake).item() == pytest.approx(closed.item(), rel=1e-4)
    ours_g = gh.losses.g_loss(logits_fake, "nonsaturating")
    torch.testing.assert_close(bench.reference_g_loss(p_fake), ours_g, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(bench.reference_g_loss(p_fake), gh.losses.g_loss(logits_fake, "saturating"))


def _grads(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in model.parameters()]


def test_reference_step_reports_the_losses_of_our_step_on_the_same_batch_and_weights():
    torch.manual_seed(1)
    G = gh.models.DCGANGenerator(100, (1, 28, 28), width=8)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=8)
    x_real = gh.data.to_unit_range(torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8))
    G_ref, D_ref = copy.deepcopy(G), bench.SigmoidOutput(copy.deepcopy(D))
    opt_G = torch.optim.Adam(G_ref.parameters(), lr=0.0)  # lr 0: the weights stay those we compare with
    opt_D = torch.optim.Adam(D_ref.parameters(), lr=0.0)
    torch.manual_seed(7)
    values = bench.reference_step(G_ref, D_ref, x_real, opt_G, opt_D)
    torch.manual_seed(7)
    logits_real = D(x_real)
    x_fake = G(torch.randn(16, 100))
    logits_fake = D(x_fake)
    loss_D = gh.losses.d_loss(logits_real, logits_fake)
    loss_G = gh.losses.g_loss(logits_fake)
    assert values["loss_d"] == pytest.approx(loss_D.item(), rel=1e-5)
    assert values["loss_g"] == pytest.approx(loss_G.item(), rel=1e-5)
    assert values["d_real"] == pytest.approx(torch.sigmoid(logits_real).mean().item(), rel=1e-5)
    # G's gradient through the probability loss equals the one through the logit loss.
    loss_G.backward()
    for ours, theirs in zip(_grads(G), _grads(G_ref), strict=True):
        torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-6)


def test_d_gradients_agree_between_probability_and_logit_losses():
    torch.manual_seed(2)
    D = gh.models.DCGANDiscriminator((1, 28, 28), width=8)
    D_ref = bench.SigmoidOutput(copy.deepcopy(D))
    x_real, x_fake = torch.rand(16, 1, 28, 28) * 2 - 1, torch.rand(16, 1, 28, 28) * 2 - 1
    gh.losses.d_loss(D(x_real), D(x_fake)).backward()
    bench.reference_d_loss(D_ref(x_real), D_ref(x_fake)).backward()
    for ours, theirs in zip(_grads(D), _grads(D_ref), strict=True):
        torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-6)


def test_reference_models_have_the_described_shapes():
    G, D = bench.ReferenceGenerator64(100, 64), bench.ReferenceDiscriminator64(64)
    assert G.net[0].out_channels == 512 and G.net[0].kernel_size == (4, 4)  # z -> (512, 4, 4)
    x = G(torch.randn(2, 100))
    assert x.shape == (2, 1, 64, 64) and x.abs().max() <= 1
    assert D(x).shape == (2,)
    p = bench.SigmoidOutput(D)(x)
    assert ((p > 0) & (p < 1)).all()


def test_quality_curve_time_to_level():
    curve = bench.QualityCurve("fast", 0, seconds=[1.0, 2.0, 3.0], epochs=[0.5, 1.0, 1.5], fid=[9.0, 4.0, 5.0])
    assert curve.seconds_to(4.5) == 2.0 and curve.seconds_to(4.0) == 2.0
    assert curve.seconds_to(1.0) == float("inf")


def test_target_is_the_median_final_fid_and_times_are_medians_over_seeds():
    curve = bench.QualityCurve
    reference = [curve("reference", 0, [1.0, 2.0], [0.5, 1.0], [9.0, 6.0]),
                 curve("reference", 1, [1.0, 2.0], [0.5, 1.0], [9.0, 4.0]),
                 curve("reference", 2, [1.0, 2.0], [0.5, 1.0], [5.0, 8.0])]
    target = bench.target_level(reference)
    assert target == 6.0  # median of the last FIDs 6, 4, 8
    assert bench.median_seconds_to(reference, target) == 2.0  # times 2, 2, inf
    fast = [curve("fast", s, [0.1, 0.2], [0.5, 1.0], [7.0, f]) for s, f in enumerate((5.0, 9.0, 9.0))]
    assert bench.median_seconds_to(fast, target) == float("inf")  # only one of three runs got there


def test_time_to_quality_tiny_run(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_HELPERS_REAL_MNIST", raising=False)
    out = tmp_path / "ttq.json"
    bench.main(["--time-to-quality", "--device", "cpu", "--batch-size", "16", "--workers", "0", "--threads", "1",
                "--limit-images", "32", "--epochs", "1", "--max-epochs", "1", "--seeds", "0", "--fid-n", "100",
                "--evals-per-epoch", "1", "--json", str(out)])
    q = json.loads(out.read_text())["time_to_quality"]
    ref = q["curves"]["reference"][0]
    assert len(ref["fid"]) == 1 and q["target_fid"] == pytest.approx(ref["fid"][-1], rel=1e-4)
    assert q["median_seconds"]["reference"] == pytest.approx(ref["seconds"][-1])  # one seed reaches its own level
    assert "held out: the last 100 digits" in q["data"]
    fast = q["curves"]["fast"][0]
    assert len(fast["fid"]) >= 1  # trains the reference's epochs at least, for the final comparison
    assert q["final_fid"]["reference"] == pytest.approx(ref["fid"][0])
    assert q["final_fid"]["fast"] == pytest.approx(fast["fid"][0])
    native = gh.acceleration.bf16_is_fast("cpu")
    assert q["fast_precision"] == ("bf16" if native else "fp32")
    assert ("fast_fp32" in q["curves"]) == native  # bf16 runs are repeated in fp32 to show what bf16 costs
    if native:
        assert q["curves"]["fast_fp32"][0]["pipeline"] == "fast_fp32"
        assert q["final_fid"]["fast_fp32"] == pytest.approx(q["curves"]["fast_fp32"][0]["fid"][0])
    assert q["final_not_worse"] == (fast["fid"][0] <= ref["fid"][0])


class _CountingTrainer(bench.Trainer):
    name, device, G = "count", torch.device("cpu"), None

    def __init__(self) -> None:
        self.steps = 0

    def train(self, steps: int) -> None:
        self.steps += steps


def test_train_until_stops_at_the_level_but_not_before_min_evals():
    scores = iter([5.0, 1.0, 1.0, 1.0, 1.0])
    trainer = _CountingTrainer()
    curve = bench.train_until(trainer, lambda G: next(scores), 10, 0.5, max_evals=5, stop_below=2.0, min_evals=3)
    assert curve.fid == [5.0, 1.0, 1.0] and trainer.steps == 30 and curve.epochs == [0.5, 1.0, 1.5]
    trainer = _CountingTrainer()
    curve = bench.train_until(trainer, lambda G: 9.0, 10, 0.5, max_evals=4, stop_below=2.0)
    assert len(curve.fid) == 4 and curve.seconds_to(2.0) == float("inf")


def test_reference_over_time_stops_at_its_minutes(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_HELPERS_REAL_MNIST", raising=False)
    out = tmp_path / "over_time.json"
    bench.main(["--reference-minutes", "0.0001", "--eval-steps", "1", "--device", "cpu", "--batch-size", "16",
                "--workers", "0", "--threads", "1", "--limit-images", "48", "--fid-n", "100", "--json", str(out)])
    over_time = json.loads(out.read_text())["reference_over_time"]
    curve = over_time["curve"]
    assert len(curve["fid"]) == 1 and curve["seconds"][0] >= 0.0001 * 60  # one chunk passes 6 ms, then it stops
    assert curve["epochs"] == [0.333] and curve["pipeline"] == "reference"  # 1 step of 3 per epoch, rounded
    assert "held out: the last 100 digits" in over_time["data"]


def test_train_until_stops_after_max_seconds():
    trainer = _CountingTrainer()
    curve = bench.train_until(trainer, lambda G: 1.0, 10, 0.5, max_evals=100, max_seconds=0.0)
    assert trainer.steps == 10 and len(curve.fid) == 1
