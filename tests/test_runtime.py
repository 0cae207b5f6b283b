"""Device choice, seeding and the fast/full switch."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import gan_helpers as gh
from gan_helpers import runtime


def test_fast_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv(runtime.FAST_ENV, "1")
    assert runtime.is_fast_mode() and runtime.pick("fast", "full") == "fast"
    monkeypatch.setenv(runtime.FAST_ENV, "0")
    assert not runtime.is_fast_mode() and runtime.pick("fast", "full") == "full"
    monkeypatch.delenv(runtime.FAST_ENV)
    assert not runtime.is_fast_mode()


def test_fast_mode_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv(runtime.FAST_ENV, "yes")
    with pytest.raises(ValueError, match="GAN_HELPERS_FAST"):
        runtime.is_fast_mode()


def test_device_defaults_to_an_available_device(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and runtime._mps_available():
        expected = "mps"
    assert runtime.get_device().type == expected


def test_device_override_by_environment_and_argument(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert runtime.get_device() == torch.device("cpu")
    assert runtime.get_device("cpu") == torch.device("cpu")


def test_unavailable_device_gives_a_clear_error(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error path needs a machine without it")
    with pytest.raises(ValueError, match="not available on this machine"):
        runtime.get_device("cuda")
    with pytest.raises(ValueError, match="Unknown device"):
        runtime.get_device("tpu7")


def _draw() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_reproduces_python_numpy_and_torch():
    runtime.seed_everything(123)
    first = _draw()
    runtime.seed_everything(123)
    assert _draw() == first
    runtime.seed_everything(124)
    assert _draw() != first


def test_seed_everything_returns_a_seeded_generator():
    a = torch.rand(4, generator=runtime.seed_everything(7))
    b = torch.rand(4, generator=runtime.seed_everything(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(seed)


def test_describe_reports_versions_and_mode(monkeypatch):
    monkeypatch.setenv(runtime.FAST_ENV, "1")
    info = runtime.describe()
    assert info.torch == torch.__version__ and info.fast_mode is True and info.threads >= 1
    G, D = gh.models.DCGANGenerator(8, width=4), gh.models.DCGANDiscriminator(width=4)
    expected = gh.acceleration.resolve_precision("auto", info.device, (G, D), "nonsaturating")
    assert info.conv_precision == expected  # what train_gan will do, said before it does it
