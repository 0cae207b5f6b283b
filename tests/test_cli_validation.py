"""The command line checks every argument and the run folder before loading data or training, and reports a
user's mistake in one line without a traceback (issue 16, points 8, 9 and the CLI's part of 10)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import gan_helpers as gh
from gan_helpers import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--limit-images", "64", "--batch-size", "16", "--steps-per-epoch", "1", "--no-progress", "--no-download"]


def _main(*argv: str) -> int:
    """``cli.main`` in process; argparse's exits become their status."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cli.main(list(argv))
        except SystemExit as exc:
            return int(exc.code)


def _one_line_error(err: str) -> str:
    """The error line of stderr (argparse's usage lines before it are allowed); no traceback."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--limit-images", "0"),  # trained on all 5,000 images
        ("--limit-images", "-5"),  # trained on 4,995
        ("--threads", "0"),  # ignored
        ("--threads", "-1"),  # a raw RuntimeError
        ("--lr", "inf"),  # reported as divergence at step 2
        ("--lr", "nan"),
        ("--lr", "0"),  # a ValueError with a full traceback
        ("--lr", "-1"),
        ("--epochs", "0"),
        ("--batch-size", "0"),
        ("--batch-size", "many"),
        ("--latent-dim", "0"),
        ("--width", "-3"),
        ("--steps-per-epoch", "0"),
        ("--log-every", "0"),
        ("--seed", "-1"),
    ],
)
def test_a_bad_value_is_refused_by_argparse_before_anything_runs(tmp_path, capsys, flag, value):
    out = tmp_path / "run"
    assert _main("train", "mlp", "--epochs", "1", "--out", str(out), *TINY, flag, value) == 2
    captured = capsys.readouterr()
    assert f"argument {flag}:" in _one_line_error(captured.err)
    assert captured.out == "" and not out.exists()  # no data loaded, nothing trained or written


def test_a_device_that_is_not_here_is_refused_naming_the_flag_and_the_devices(tmp_path, capsys):
    assert _main("train", "mlp", "--device", "cuda:99", "--out", str(tmp_path / "run"), *TINY) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "argument --device: 'cuda:99'" in line and "cpu" in line and "GAN_HELPERS_DEVICE" not in line


def test_an_unknown_device_is_refused_too(tmp_path, capsys):
    assert _main("train", "mlp", "--device", "tpu", "--out", str(tmp_path / "run"), *TINY) == 2
    assert "argument --device" in _one_line_error(capsys.readouterr().err)


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    """Issue 16, point 8: the file was found only after the first epoch's training was done and lost."""
    out = tmp_path / "notes.txt"
    out.write_text("keep me")
    assert _main("train", "mlp", "--epochs", "1", "--out", str(out), *TINY) == 2
    captured = capsys.readouterr()
    assert "argument --out:" in _one_line_error(captured.err) and "is a file" in captured.err
    assert "epoch 1/1" not in captured.out and out.read_text() == "keep me"


def test_an_out_inside_a_file_is_refused_before_training(tmp_path, capsys):
    """An --out that cannot be created (a file where a folder should be; root ignores permissions)."""
    blocker = tmp_path / "somefile"
    blocker.write_text("")
    assert _main("train", "mlp", "--epochs", "1", "--out", str(blocker / "sub"), *TINY) == 2
    captured = capsys.readouterr()
    assert "argument --out:" in _one_line_error(captured.err) and "epoch 1/1" not in captured.out


def test_a_read_only_out_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """A folder nothing can be written in (a read-only disk): the probe file cannot be created.

    Root ignores permission bits, so the read-only disk is simulated where the probe is created.
    """
    folder = tmp_path / "read-only"
    folder.mkdir()
    real_touch = Path.touch

    def read_only_touch(self, *args, **kwargs):
        if self.parent == folder:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_touch(self, *args, **kwargs)

    monkeypatch.setattr(Path, "touch", read_only_touch)
    assert _main("train", "mlp", "--epochs", "1", "--out", str(folder / "run"), *TINY) == 2
    assert "argument --out: cannot write in" in _one_line_error(capsys.readouterr().err)
    assert not (folder / "run").exists()


def test_an_export_that_cannot_be_written_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "somefile"
    blocker.write_text("")
    argv = ["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "run"), *TINY]
    assert _main(*argv, "--export", str(blocker / "w.pt")) == 2
    assert "argument --export:" in _one_line_error(capsys.readouterr().err)
    assert _main(*argv, "--export", str(tmp_path)) == 2  # a folder, not a file
    assert "is a folder" in _one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "run").exists()


def test_init_from_must_exist_and_is_for_cdcgan_only(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert _main("train", "cdcgan", "--init-from", str(tmp_path / "missing.pt"), "--out", out, *TINY) == 2
    assert "argument --init-from: no file" in _one_line_error(capsys.readouterr().err)
    (tmp_path / "w.pt").write_bytes(b"")
    assert _main("train", "mlp", "--init-from", str(tmp_path / "w.pt"), "--out", out, *TINY) == 2
    assert "cdcgan only" in _one_line_error(capsys.readouterr().err)


def test_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    assert _main("train", "mlp", "--resume", "--overwrite", "--out", str(tmp_path / "run"), *TINY) == 2
    assert "not allowed with" in _one_line_error(capsys.readouterr().err)


def test_a_value_only_the_data_can_refuse_is_one_line_without_a_traceback(tmp_path, capsys):
    """train_epochs' ValueError (more steps than batches) becomes ``error: ...``, exit 2."""
    argv = ["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "run"), *TINY, "--steps-per-epoch", "100"]
    assert _main(*argv) == 2
    assert _one_line_error(capsys.readouterr().err).startswith("error: an epoch has 4 batches")


def test_data_that_cannot_be_had_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gh.data.mnist, "FASHION_MNIST_SYSTEM_DIRS", (tmp_path / "no-debian-package",))
    argv = ["train", "mlp", "--data", "fashion-mnist", "--data-root", str(tmp_path / "none"), *TINY]
    assert _main(*argv, "--out", str(tmp_path / "run")) == 2
    assert _one_line_error(capsys.readouterr().err).startswith("error: Fashion-MNIST (train) is not available")


def test_a_damaged_checkpoint_is_one_line_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / gh.training.CHECKPOINT_NAME).write_bytes(b"PK\x03\x04 not a checkpoint")
    assert _main("train", "mlp", "--resume", "--out", str(out), *TINY) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert line.startswith("error: ") and "checkpoint.pt" in line and "weights_only=False" not in line


def test_a_bug_keeps_its_traceback(tmp_path, monkeypatch):
    def broken(args):
        raise ValueError("a bug outside gan_helpers' own checks")  # raised in this file, not in the package

    monkeypatch.setattr(cli, "_training_data", broken)
    with pytest.raises(ValueError, match="a bug outside"):
        cli.main(["train", "mlp", "--out", str(tmp_path / "run"), *TINY])


def test_errors_are_one_line_in_a_real_process(tmp_path):
    """What a user sees in a terminal: ``--threads -1`` gave a raw RuntimeError, ``--lr 0`` a traceback."""
    (tmp_path / "a-file").write_text("")
    for bad in (["--threads", "-1"], ["--lr", "0"], ["--out", str(tmp_path / "a-file")]):
        result = subprocess.run(
            [sys.executable, "-m", "gan_helpers", "train", "mlp", *TINY, *bad],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "GAN_HELPERS_DEVICE": "cpu"},
            timeout=120,
            check=False,
        )
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert "argument " + bad[0] in _one_line_error(result.stderr)
