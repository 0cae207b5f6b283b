"""Issue 16's end-to-end check: a CLI training run killed with SIGKILL at random moments, at least 20 times, and
restarted each time with a plain ``--resume``, ends bit-identical to an uninterrupted run, with no temporary file
left in its folder and every sample grid readable, one per epoch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from matplotlib import image

import gan_helpers as gh
from gan_helpers import files

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 16  # about 0.4 s an epoch here: the uninterrupted run trains for a few seconds
KILLS = 20
SESSION = ["--threads", "1", "--no-progress"]  # per session, not settings of the run
COMMAND = ["--limit-images", "128", "--batch-size", "16", "--epochs", str(EPOCHS), "--latent-dim", "8", "--no-download"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")


def _start(out: Path, *argv: str) -> subprocess.Popen:
    """Start a session of the run in ``out``; its stderr goes to ``out``'s sibling ``stderr.log``."""
    env = {**os.environ, "GAN_HELPERS_DEVICE": "cpu", "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "gan_helpers", "train", "mlp", "--out", str(out), *argv, *SESSION]
    with open(out.parent / "stderr.log", "a") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)


def _wait_for(process: subprocess.Popen, prefix: str) -> float | None:
    """Read ``process``'s output up to a line starting with ``prefix``; the time it came, or None at its end."""
    for line in process.stdout:
        if line.startswith(prefix):
            return time.monotonic()
    return None


def _timed_reference(out: Path) -> tuple[float, float]:
    """Run uninterrupted; seconds from start to training (the ``device:`` line) and per epoch."""
    start = time.monotonic()
    process = _start(out, *COMMAND)
    ready = _wait_for(process, "device:")
    assert ready is not None
    first = _wait_for(process, "epoch 1/")
    done = _wait_for(process, "done:")
    assert process.wait(timeout=300) == 0 and first is not None and done is not None
    return ready - start, (done - first) / (EPOCHS - 1)


def _kill_at_random(process: subprocess.Popen, rng: random.Random, ready: float, epoch: float, late: bool) -> bool:
    """SIGKILL ``process`` at a random moment: during start-up (importing, loading data, cleaning the folder), or
    (``late``) within the first epochs of training, checkpoint writes included. True if it landed."""
    if late:
        start = _wait_for(process, "device:")
        if start is not None:
            time.sleep(rng.uniform(0.0, 1.5 * epoch))
    else:
        time.sleep(rng.uniform(0.1, 0.9) * ready)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    code = process.wait(timeout=300)
    assert code in (0, -signal.SIGKILL), f"a session failed with exit status {code}; see stderr.log"
    return code == -signal.SIGKILL


def _epoch_done(out: Path) -> int:
    checkpoint = out / gh.training.CHECKPOINT_NAME
    return gh.checkpoints.load_checkpoint(checkpoint)["epoch"] if checkpoint.exists() else 0


def _temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if files.is_temporary_name(p.name) or p.suffix in files.TEMP_SUFFIXES]


def test_kill_minus_nine_twenty_times_then_resume_is_bit_identical(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    ready, epoch = _timed_reference(reference)
    rng = random.Random(16)
    landed, sessions, leftovers, began = 0, 0, 0, time.monotonic()
    while landed < KILLS:
        started = (killed / gh.training.CHECKPOINT_NAME).exists() or (killed / "settings.json").exists()
        process = _start(killed, "--resume") if started else _start(killed, *COMMAND)  # nothing yet: a first start
        late = _epoch_done(killed) < EPOCHS - 4 and rng.random() < 0.6
        landed += _kill_at_random(process, rng, ready, epoch, late)
        leftovers += len(_temporary_files(killed))  # what the kills left; the next start removes it
        sessions += 1
        assert sessions < 4 * KILLS, f"only {landed} of {sessions} kills landed"
    final = _start(killed, "--resume")
    assert _wait_for(final, "done:") is not None and final.wait(timeout=300) == 0
    seconds = time.monotonic() - began
    print(f"{landed} kills landed in {sessions} sessions, {seconds:.0f} s; {leftovers} temporary files left by kills")

    run, straight = gh.training.load_run(killed), gh.training.load_run(reference)
    assert run.epoch == straight.epoch == EPOCHS and run.step == straight.step
    for mine, theirs in ((run.G, straight.G), (run.D, straight.D)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert list(run.history["loss_d"]) == list(straight.history["loss_d"])
    assert _temporary_files(killed) == []
    grids = sorted((killed / "samples").iterdir())
    assert [p.name for p in grids] == [f"epoch_{e:03d}.png" for e in range(EPOCHS + 1)]
    for png in grids:
        assert image.imread(png).size > 0
        assert png.read_bytes() == (reference / "samples" / png.name).read_bytes()
