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


# --- issue 16: a resume takes every setting from the run; the run folder holds one run, and never a broken file ---

STARTED = ["--lr", "1e-3", "--batch-size", "32", "--latent-dim", "8", "--limit-images", "96", "--log-every", "2"]
QUIET = ["--no-progress", "--no-download", "--threads", "1"]


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _exit_code(*args: str) -> int:
    try:
        return _train(*args)
    except SystemExit as exc:
        return int(exc.code)


def test_a_plain_resume_takes_every_setting_from_the_run(tmp_path):
    """Issue 16, point 1: a plain ``--resume`` went on with lr 2e-4 and batch size 64, without a word."""
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert _train("mlp", "--epochs", "2", "--out", str(straight), *STARTED, *QUIET) == 0
    assert _train("mlp", "--epochs", "1", "--out", str(stopped), *STARTED, *QUIET) == 0
    assert _train("mlp", "--epochs", "2", "--out", str(stopped), "--resume", *QUIET) == 0  # --epochs may grow
    run, reference = gh.training.load_run(stopped), gh.training.load_run(straight)
    assert run.config.lr == 1e-3 and run.settings["batch_size"] == 32 and run.G.latent_dim == 8
    assert run.step == reference.step == 2 * 3  # 96 images in batches of 32
    assert _same_weights(run.G, reference.G) and _same_weights(run.D, reference.D)
    assert len(run.settings["commands"]) == 2 and run.settings["data_sha256"] == reference.settings["data_sha256"]
    assert _train("mlp", "--out", str(stopped), "--resume", *QUIET) == 0  # --epochs too comes from the run
    assert gh.training.load_run(stopped).epoch == 2


def test_a_flag_that_differs_from_the_run_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train("mlp", "--epochs", "1", "--out", str(out), *STARTED, *QUIET) == 0
    before = (out / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert _exit_code("mlp", "--epochs", "2", "--out", str(out), "--resume", "--batch-size", "64", *QUIET) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert "--batch-size 64 (the run's: 32)" in line and "--overwrite" in line and "--out" in line
    assert _exit_code("dcgan", "--out", str(out), "--resume", *QUIET) == 2  # another model
    assert "model dcgan (the run's: mlp)" in capsys.readouterr().err
    assert (out / "checkpoint.pt").read_bytes() == before  # nothing trained, nothing written
    assert _train("mlp", "--out", str(out), "--resume", "--lr", "1e-3", "--batch-size", "32", *QUIET) == 0


def test_a_resume_before_the_first_checkpoint_restarts_with_the_runs_settings(tmp_path):
    """Killed in epoch 1 there is no checkpoint yet: the settings file the run wrote at its start has its flags."""
    out = tmp_path / "run"
    assert _train("mlp", "--epochs", "1", "--out", str(out), *STARTED, *QUIET) == 0
    (out / "checkpoint.pt").unlink()
    assert _train("mlp", "--out", str(out), "--resume", *QUIET) == 0
    run = gh.training.load_run(out)
    assert run.config.lr == 1e-3 and run.settings["batch_size"] == 32 and run.G.latent_dim == 8 and run.epoch == 1


def test_a_resume_on_other_images_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train("mlp", "--epochs", "1", "--out", str(out), *STARTED, *QUIET) == 0
    run = gh.training.load_run(out)
    run.settings["data_sha256"] = "0" * 64  # as if --data-root now pointed at other files
    gh.training.save_run(run, out / "checkpoint.pt")
    capsys.readouterr()
    assert _train("mlp", "--epochs", "2", "--out", str(out), "--resume", *QUIET) == 2
    err = capsys.readouterr().err
    assert "error: the training images" in err and "not the run's" in err and "Traceback" not in err


def test_a_garbage_summary_does_not_end_a_resume(tmp_path, capsys):
    """Issue 16, point 4: a truncated summary.json ended every later --resume with JSONDecodeError (no --export)."""
    out, weights = tmp_path / "run", tmp_path / "w.pt"
    assert _train("mlp", "--epochs", "1", "--out", str(out), *STARTED, *QUIET) == 0
    (out / "summary.json").write_text('{"command": "python -m gan')
    assert _train("mlp", "--epochs", "2", "--out", str(out), "--resume", "--export", str(weights), *QUIET) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 2 and len(summary["commands"]) == 2 and weights.is_file()
    assert summary["commands"][0].startswith("python -m gan_helpers train mlp --epochs 1")


def test_missing_or_broken_sample_grids_are_written_again(tmp_path):
    """Issue 16, point 3: a kill left an empty or truncated PNG for good (existing PNGs were skipped)."""
    from matplotlib import image

    out = tmp_path / "run"
    assert _train("mlp", "--epochs", "2", "--out", str(out), *STARTED, *QUIET) == 0
    samples = out / "samples"
    good = (samples / "epoch_002.png").read_bytes()
    (samples / "epoch_001.png").write_bytes(b"")
    (samples / "epoch_002.png").write_bytes(good[: len(good) // 2])
    (samples / "epoch_000.png").unlink()
    assert _train("mlp", "--out", str(out), "--resume", *QUIET) == 0  # nothing left to train, grids repaired
    assert sorted(p.name for p in samples.iterdir()) == ["epoch_000.png", "epoch_001.png", "epoch_002.png"]
    for png in samples.iterdir():
        assert image.imread(png).size > 0
    assert (samples / "epoch_002.png").read_bytes() == good


def test_overwrite_and_a_new_run_remove_the_old_runs_files(tmp_path):
    """Issue 16, point 3: --overwrite kept the previous run's grids, shown as the new run's."""
    out = tmp_path / "run"
    assert _train("mlp", "--epochs", "3", "--out", str(out), *STARTED, *QUIET) == 0
    stale = out / f".checkpoint.pt.{_dead_pid()}.0123abcd.tmp"  # left by a writer killed outright
    stale.write_bytes(b"half a checkpoint")
    (out / "notes.txt").write_text("mine")
    assert _train("mlp", "--epochs", "1", "--out", str(out), "--overwrite", *QUIET) == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_000.png", "epoch_001.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["commands"]) == 1 and summary["epochs"] == 1 and summary["batch_size"] == 64
    assert not stale.exists() and (out / "notes.txt").read_text() == "mine"
    (out / "checkpoint.pt").unlink()  # a folder with grids but no checkpoint: a new run there starts clean too
    (out / "samples" / "epoch_005.png").write_bytes(b"an old run's")
    assert _train("mlp", "--epochs", "1", "--out", str(out), *QUIET) == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_000.png", "epoch_001.png"]


def _dead_pid() -> int:
    """The process id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_recipe_flags_reach_the_run_and_the_export_is_the_average(tmp_path):
    out, weights = tmp_path / "run", tmp_path / "w.pt"
    recipe = ["--ema-decay", "0.9", "--augment", "translation,cutout", "--lr-d", "4e-4", "--lr-g", "1e-4"]
    argv = ["dcgan", "--epochs", "2", "--out", str(out), "--width", "4", *TINY, *recipe, "--export", str(weights)]
    assert _train(*argv) == 0
    run = gh.training.load_run(out)
    assert run.config.ema_decay == 0.9 and run.config.augment == ("translation", "cutout")
    assert run.config.lr_discriminator == 4e-4 and run.config.lr_generator == 1e-4
    assert run.G_average is not None and run.G_average.updates == 4
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["ema_decay"], summary["augment"], summary["lr_d"], summary["lr_g"]) == (
        0.9, "translation,cutout", 4e-4, 1e-4
    )
    G, _, _ = gh.models.load_weights(weights)
    average = run.sampling_generator()
    for name, value in average.state_dict().items():  # float16 in the file
        torch.testing.assert_close(G.state_dict()[name].float(), value.float(), atol=1e-3, rtol=1e-3)
    # the export's batch-norm statistics are the average's, re-measured, not those G's training left behind
    assert not torch.allclose(G.state_dict()["net.1.running_var"], run.G.state_dict()["net.1.running_var"], atol=1e-2)
    assert _train("dcgan", "--epochs", "3", "--out", str(out), *TINY, "--resume") == 0  # the settings travel
    assert gh.training.load_run(out).G_average.updates == 6


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--ema-decay", "1", "in \\[0, 1\\)"), ("--augment", "rotate", "choose none or from translation, cutout")],
)
def test_bad_recipe_flags_are_one_line_usage_errors(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "dcgan", flag, value])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()[-1]) > 0


def test_the_exported_d_reads_real_digits_in_eval_mode_as_training_saw_them(tmp_path):
    """The export re-measures D's batch norm on real batches: eval-mode D(real) matches train-mode D on real batches."""
    out, weights = tmp_path / "run", tmp_path / "w.pt"
    argv = ["dcgan", "--epochs", "2", "--out", str(out), "--width", "8", "--batch-size", "32", "--limit-images", "256",
            "--no-progress", "--no-download", "--export", str(weights)]
    assert _train(*argv) == 0
    _, D, info = gh.models.load_weights(weights)
    assert info["d_batch_norm"] == "real" and not D.training
    images, _ = gh.data.load_offline_sample()
    real = gh.metrics.as_unit_images(images[:256])
    with torch.no_grad():
        eval_mode = torch.sigmoid(D(real)).mean()
        trained = gh.training.load_run(out).D.train()
        train_mode = torch.stack([torch.sigmoid(trained(real[i : i + 32])).mean() for i in range(0, 256, 32)]).mean()
        left_behind = torch.sigmoid(gh.training.load_run(out).D.eval()(real)).mean()
    assert abs(eval_mode - train_mode) < 0.02 < abs(left_behind - train_mode)
