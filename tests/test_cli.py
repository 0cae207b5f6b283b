"""The command line trains with the notebooks' code and leaves a run folder that the notebooks can load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import gan_helpers as gh
from gan_helpers import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--limit-images", "64", "--batch-size", "16", "--steps-per-epoch", "2", "--no-progress", "--no-download"]



def _train(*args: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the offline-sample notice and the tiny run's diagnostics
        return cli.main(["train", *args])


def test_train_dcgan_end_to_end_then_resume(tmp_path, capsys):
    out = tmp_path / "run"
    weights = tmp_path / "w.pt"
    argv = ["dcgan", "--epochs", "2", "--out", str(out), "--width", "4", *TINY, "--export", str(weights)]
    assert _train(*argv) == 0
    printed = capsys.readouterr().out
    assert "64 images" in printed and "epoch 2/2" in printed and "images/s" in printed
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_000.png", "epoch_001.png", "epoch_002.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"].startswith("python -m gan_helpers train dcgan --epochs 2")
    assert summary["epochs"] == 2 and summary["steps"] == 4 and summary["seconds_per_epoch"] > 0
    run = gh.training.load_run(out)  # what a notebook does
    assert isinstance(run.G, gh.models.DCGANGenerator) and run.epoch == 2
    G, _, info = gh.models.load_weights(weights)
    assert info["epochs"] == 2 and G(torch.randn(3, 100)).shape == (3, 1, 28, 28)
    assert _train(*argv) == 2  # the run is not overwritten by accident
    assert "--resume" in capsys.readouterr().err
    assert _train("dcgan", "--epochs", "3", "--out", str(out), "--width", "4", *TINY, "--resume") == 0
    assert gh.checkpoints.load_checkpoint(out / "checkpoint.pt")["epoch"] == 3


def test_python_dash_m_runs_the_mlp_gan(tmp_path):
    out = tmp_path / "mlp"
    env = {**os.environ, "GAN_HELPERS_DEVICE": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "gan_helpers", "train", "mlp", "--epochs", "1", "--out", str(out), *TINY],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "checkpoint.pt").is_file() and (out / "samples" / "epoch_001.png").is_file()
    run = gh.training.load_run(out)
    assert isinstance(run.G, gh.models.MLPImageGenerator)


def test_precision_and_compile_reach_the_training_config(tmp_path):
    assert cli.PRECISION_CHOICES == gh.acceleration.PRECISIONS
    out = tmp_path / "run"
    assert _train("dcgan", "--epochs", "1", "--out", str(out), "--width", "4", *TINY, "--precision", "fp32") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["precision"] == "fp32" and summary["compile"] is False
    run = gh.training.load_run(out)
    assert run.config.precision == "fp32"


def test_unknown_model_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "resnet"])
    assert "dcgan" in capsys.readouterr().err
