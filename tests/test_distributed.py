"""Issue 17: ``torchrun --nproc_per_node=N -m gan_helpers train`` trains in N processes with DistributedDataParallel.

Two processes on the CPU over gloo. The processes of the library-level tests and of most command-line runs are
forked by a fork server (a fresh interpreter that imports the package once), with the variables torchrun would give
them; one test runs the real ``python -m torch.distributed.run --standalone`` and interrupts it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
from indexed_images import indexed_images, indices

import gan_helpers as gh
from gan_helpers import cli
from gan_helpers.data import DeviceBatches, to_unit_range
from gan_helpers.training import distributed

ROOT = Path(__file__).resolve().parents[1]
WORLD = 2
IMAGES, BATCH = 70, 8  # two ranks: 4 steps of 2 x 8 images per epoch, 70 - 64 = 6 images left out
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["gan_helpers.cli", "torch._dynamo", "test_distributed"])  # DDP imports torch._dynamo
# The command-line runs: a tiny DCGAN (batch norm in G and D) on 200 digits of the offline sample, batches of 8 per
# process, so one process takes 25 steps an epoch and two take 12 (16 digits left out).
RUN = ["dcgan", "--width", "4", "--latent-dim", "8", "--limit-images", "200", "--batch-size", "8", "--no-download"]
EPOCHS = 8
QUIET = ["--no-progress"]


def _child_environment(rank: int, world_size: int, port: int) -> None:
    """What torchrun sets in each process it starts (one machine), and the CPU with one thread."""
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GAN_HELPERS_DEVICE="cpu", OMP_NUM_THREADS="1",
    )
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")


def _cli_rank(rank: int, world_size: int, port: int, argv: list[str], logs: Path) -> None:
    """One process of a command-line run, as torchrun would start it; its stdout and stderr go to ``logs``."""
    _child_environment(rank, world_size, port)
    with open(logs / f"rank{rank}.log", "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    sys.exit(cli.main(["train", *argv]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_ranks(target: Any, *args: Any) -> list[multiprocessing.process.BaseProcess]:
    processes = [CONTEXT.Process(target=target, args=(rank, WORLD, *args)) for rank in range(WORLD)]
    for process in processes:
        process.start()
    return processes


def _exit_codes(processes: list[multiprocessing.process.BaseProcess], timeout: float = 180.0) -> list[int | None]:
    """Wait for ``processes`` (killing them after ``timeout`` s: a hang fails instead of blocking the suite)."""
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
    return [process.exitcode for process in processes]


def _run_cli_ranks(argv: list[str], logs: Path) -> list[int | None]:
    logs.mkdir(parents=True, exist_ok=True)
    return _exit_codes(_start_ranks(_cli_rank, _free_port(), argv, logs))


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(folder.glob("*.log")))


def _train_here(*argv: str) -> int:
    """A one-process run of the command line in this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cli.main(["train", *argv])
        except SystemExit as exc:
            return int(exc.code)


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- the shards of an epoch (one process, no process group) ---


def _indexed_images(n: int, side: int = 28) -> torch.Tensor:
    """Random images (as a DCGAN's input would be) that carry their index: see :mod:`indexed_images`."""
    return indexed_images(n, side, random_pixels=True)


@pytest.mark.parametrize(("n", "batch_size", "world_size"), [(70, 8, 2), (1000, 32, 3), (64, 8, 4), (33, 4, 1)])
def test_the_shards_of_an_epoch_cover_it_once_in_the_same_order(n, batch_size, world_size):
    """Rank r's batch i is slice r of global batch i of the common order; together the ranks use the first
    floor(n / (W B)) W B images of the order once each, and leave out the last n mod W B."""
    shards = [
        DeviceBatches(_indexed_images(n, 4), batch_size=batch_size, generator=torch.Generator().manual_seed(5),
                      rank=rank, world_size=world_size)
        for rank in range(world_size)
    ]
    steps = n // (world_size * batch_size)
    assert [len(shard) for shard in shards] == [steps] * world_size
    for _ in range(2):  # two epochs, each in a fresh order, the same in every rank
        orders = [shard.permutation().tolist() for shard in shards]
        assert all(order == orders[0] for order in orders)
        order = orders[0]
        seen = [[indices(batch) for batch in shard.iter_order(torch.tensor(order))] for shard in shards]
        for rank, batches in enumerate(seen):
            first = [(i * world_size + rank) * batch_size for i in range(steps)]
            assert batches == [order[f : f + batch_size] for f in first]
        used = [i for batches in seen for batch in batches for i in batch]
        assert sorted(used) == sorted(order[: steps * world_size * batch_size])  # each once
        assert set(range(n)) - set(used) == set(order[steps * world_size * batch_size :])  # n mod W B left out
    if world_size == 1:  # rank 0 of 1 is the unsharded source, batch for batch
        one, shard = (
            DeviceBatches(_indexed_images(n, 4), batch_size=batch_size, generator=torch.Generator().manual_seed(5),
                          **kwargs)
            for kwargs in ({}, {"rank": 0, "world_size": 1})
        )
        assert [indices(b) for b in one] == [indices(b) for b in shard]


def test_a_shard_that_cannot_work_is_refused():
    images, generator = _indexed_images(40, 4), torch.Generator()
    with pytest.raises(ValueError, match="rank must be in"):
        DeviceBatches(images, batch_size=4, generator=generator, rank=2, world_size=2)
    with pytest.raises(ValueError, match="generator seeded alike"):
        DeviceBatches(images, batch_size=4, rank=0, world_size=2)
    with pytest.raises(ValueError, match="drop_last=False cannot be sharded"):
        DeviceBatches(images, batch_size=4, drop_last=False, generator=generator, rank=0, world_size=2)
    with pytest.raises(ValueError, match="x world_size 3 yields nothing"):
        DeviceBatches(images, batch_size=16, generator=generator, rank=0, world_size=3)


def test_an_epoch_resumed_with_another_number_of_processes_goes_on_where_its_images_stopped():
    """p steps of W ranks used the first p W B images of the order: W' ranks go on at floor(p W / W')."""
    assert distributed.continued_position(8, 2, 1, 25) == 16  # 2 -> 1: the same images, exactly
    assert distributed.continued_position(7, 1, 2, 12) == 3  # 1 -> 2: 56 images done, 48 taken as done, 8 again
    assert distributed.continued_position(24, 1, 2, 12) == 11  # at least one step of the epoch is left
    assert distributed.continued_position(1, 1, 4, 6) == 1  # the saved order goes on
    assert distributed.continued_position(5, 2, 2, 12) == 5 and distributed.continued_position(0, 1, 2, 12) == 0
    assert distributed.saved_world_size({"torch": None}) == 1
    assert distributed.saved_world_size({"ranks": [{}, {}, {}]}) == 3


# --- two processes through the library: the same weights after every step, the math of one process ---


class _RecordingBatches(DeviceBatches):
    """DeviceBatches that records the indices of the images of every batch it yields (``seen[epoch][step]``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[list[list[int]]] = []

    def iter_order(self, order: torch.Tensor, start: int = 0) -> Any:
        self.seen.append([])
        for batch in super().iter_order(order, start):
            self.seen[-1].append(indices(batch))
            yield batch


class _Snapshots(gh.training.Callback):
    """After every step (``log_every=1``): every parameter of G and D, flattened."""

    def __init__(self) -> None:
        self.params: list[torch.Tensor] = []

    def on_log(self, step: int, history: Any, G: torch.nn.Module, D: torch.nn.Module) -> None:
        self.params.append(torch.cat([p.detach().flatten().clone() for p in (*G.parameters(), *D.parameters())]))


def _models(kind: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    if kind == "dcgan":  # batch norm in G and D
        return gh.models.DCGANGenerator(8, width=4), gh.models.DCGANDiscriminator(width=4)
    # no batch norm, no dropout: a step of two ranks of B images is then a step of one process on 2 B
    G = gh.models.MLPImageGenerator(8, hidden=(32,), batch_norm=False)
    return G, gh.models.MLPImageDiscriminator(hidden=(32,), dropout=0.0)


CONFIG = gh.training.TrainConfig(log_every=1, precision="fp32")


def _api_rank(rank: int, world_size: int, store: str, kind: str, out: Path) -> None:
    """One process training ``kind`` for 2 epochs with train_epochs(distributed=...); what it saw goes to ``out``."""
    _child_environment(rank, world_size, 0)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    team = distributed.Distributed(rank, world_size, torch.device("cpu"))
    gh.runtime.seed_everything(0)
    batches = _RecordingBatches(_indexed_images(IMAGES), batch_size=BATCH, generator=team.data_generator(0),
                                rank=rank, world_size=world_size)
    G, D = _models(kind)
    initial = {name: {k: v.clone() for k, v in m.state_dict().items()} for name, m in (("G", G), ("D", D))}
    noise: list[torch.Tensor] = []
    G.register_forward_pre_hook(lambda m, args: noise.append(args[0].detach().clone()) if m.training else None)
    snapshots = _Snapshots()
    run = gh.training.train_epochs(G, D, batches, CONFIG, epochs=2, out_dir=out / "run", callbacks=[snapshots],
                                   progress=False, diagnostics=False, distributed=team)
    torch.save({"params": snapshots.params, "seen": batches.seen, "noise": noise, "initial": initial,
                "G": G.state_dict(), "D": D.state_dict(), "grad_norm_d": [float(v) for v in run.history["grad_norm_d"]],
                "grad_norm_g": [float(v) for v in run.history["grad_norm_g"]]}, out / f"rank{rank}.pt")
    team.close()


def _train_two_processes(kind: str, out: Path) -> list[dict[str, Any]]:
    codes = _exit_codes(_start_ranks(_api_rank, str(out / "store"), kind, out))
    assert codes == [0] * WORLD, f"exit codes {codes}"
    return [torch.load(out / f"rank{rank}.pt", weights_only=True) for rank in range(WORLD)]


def test_two_processes_hold_the_same_weights_after_every_step_each_on_its_own_shard(tmp_path):
    """DCGAN (batch norm in both players, D called three times a step): every parameter bitwise the same in both
    ranks after each of the 8 steps; the ranks drew different noise; each epoch, rank r's batch i was slice r of
    global batch i of the order both drew from the seeded generator, so the ranks together used 64 of the 70
    images once each and left out the last 6 of the order; at the end (after the checkpoint's sync of rank 0's
    batch-norm statistics) both hold the checkpoint's weights and buffers; the checkpoint keeps both ranks'
    random states, which differ."""
    rank0, rank1 = _train_two_processes("dcgan", tmp_path)
    assert len(rank0["params"]) == len(rank1["params"]) == 2 * 4
    assert all(torch.equal(a, b) for a, b in zip(rank0["params"], rank1["params"], strict=True))
    assert not torch.equal(rank0["params"][0], rank0["params"][-1])  # it trained
    assert all(not torch.equal(a, b) for a, b in zip(rank0["noise"], rank1["noise"], strict=True))
    generator = torch.Generator().manual_seed(0)
    for epoch in range(2):
        order = torch.randperm(IMAGES, generator=generator).tolist()
        for rank, record in enumerate((rank0, rank1)):
            firsts = [(2 * i + rank) * BATCH for i in range(4)]  # slice `rank` of global batch i
            assert record["seen"][epoch] == [order[first : first + BATCH] for first in firsts]
        used = [i for record in (rank0, rank1) for batch in record["seen"][epoch] for i in batch]
        assert sorted(used) == sorted(order[:64]) and len(set(used)) == 64
        assert set(range(IMAGES)) - set(used) == set(order[64:])
    saved = gh.checkpoints.load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    for name in ("G", "D"):
        assert _same_state(rank0[name], rank1[name]) and _same_state(saved[name], rank0[name])
    ranks = saved["rng"]["ranks"]
    assert len(ranks) == WORLD and not torch.equal(ranks[0]["torch"], ranks[1]["torch"])
    assert torch.equal(ranks[0]["torch"], saved["rng"]["torch"])  # rank 0's is the checkpoint's own


def test_two_processes_take_the_step_one_process_takes_on_both_batches(tmp_path):
    """Without batch norm and dropout, a DDP step of 2 ranks on B images each is the step of one process on the
    2 B images and 2 B noise vectors together: replayed by hand with d_step and g_step, the weights after every
    step and the logged gradient norms of D and G agree with rank 0's to float rounding (a gradient summed instead
    of averaged, or one of D leaking from G's update, would not)."""
    rank0, rank1 = _train_two_processes("mlp", tmp_path)
    G, D = _models("mlp")
    G.load_state_dict(rank0["initial"]["G"])
    D.load_state_dict(rank0["initial"]["D"])
    opt_G, opt_D = gh.training.make_optimizers(G, D, CONFIG)
    images = to_unit_range(_indexed_images(IMAGES))[:, None]
    batches = [batch for record in (rank0, rank1) for batch in [[b for epoch in record["seen"] for b in epoch]]]
    norms_d, norms_g = [], []
    for step, expected in enumerate(rank0["params"]):
        x_real = torch.cat([images[batches[rank][step]] for rank in range(WORLD)])  # (2 B, 1, 28, 28)
        x_fake = G(torch.cat([rank0["noise"][step], rank1["noise"][step]]))
        gh.training.d_step(D, opt_D, x_real, x_fake, CONFIG)
        gh.training.g_step(D, opt_G, x_fake, CONFIG)
        norms_d.append(float(gh.training.grad_norm(D)))
        norms_g.append(float(gh.training.grad_norm(G)))
        mine = torch.cat([p.detach().flatten() for p in (*G.parameters(), *D.parameters())])
        torch.testing.assert_close(mine, expected, rtol=1e-4, atol=1e-6, msg=f"step {step + 1}")
    torch.testing.assert_close(torch.tensor(norms_d), torch.tensor(rank0["grad_norm_d"]), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(torch.tensor(norms_g), torch.tensor(rank0["grad_norm_g"]), rtol=1e-4, atol=1e-7)


# --- the command line: torchrun, Ctrl-C, resume in as many or another number of processes ---


def _torchrun(out: Path, log: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "GAN_HELPERS_DEVICE": "cpu", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
               "-m", "gan_helpers", "train", *argv, "--out", str(out)]
    with open(log, "w") as sink:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_for_checkpoint(out: Path, process: subprocess.Popen, log: Path, timeout: float = 240.0) -> None:
    """Wait until ``process`` has written its first checkpoint (epoch 1 done: it is training)."""
    deadline = time.monotonic() + timeout
    while not (out / gh.training.CHECKPOINT_NAME).exists():
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.02)


def test_torchrun_stops_on_ctrl_c_and_the_run_resumes_to_the_uninterrupted_weights(tmp_path):
    """The real command line: torchrun starts 2 processes, and Ctrl-C (SIGINT to torchrun, which passes it on to
    each process) after epoch 1 stops both at the same log point within the run, rank 0 saving a checkpoint with
    both ranks' random states. Only rank 0 printed (each epoch line once) and wrote. Resumed in 2 processes, the
    run ends bit for bit where an uninterrupted 2-process run ends (weights, buffers, losses, steps), and writes
    the summary. The checkpoints of 2 processes resume in one: the interrupted one mid-epoch where its images
    stopped, the finished one for another epoch of 25 steps."""
    straight, stopped, log = tmp_path / "straight", tmp_path / "stopped", tmp_path / "torchrun.log"
    torchrun = _torchrun(stopped, log, *RUN, "--epochs", str(EPOCHS), *QUIET)
    straight_logs = tmp_path / "straight_logs"
    straight_logs.mkdir()
    argv = [*RUN, "--epochs", str(EPOCHS), *QUIET, "--out", str(straight)]
    uninterrupted = _start_ranks(_cli_rank, _free_port(), argv, straight_logs)  # meanwhile: the same in 2 processes
    _wait_for_checkpoint(stopped, torchrun, log)
    torchrun.send_signal(signal.SIGINT)
    torchrun.wait(timeout=120)
    assert _exit_codes(uninterrupted) == [0, 0], _logs(straight_logs)
    printed = log.read_text()
    interrupted = gh.training.load_run(stopped)
    assert interrupted.interrupted and 1 <= interrupted.epoch < EPOCHS, printed
    assert printed.count("epoch 1/8:") == 1 and printed.count("Interrupt received") == 1, printed
    assert "Interrupted; continue with: torchrun --nproc_per_node=2 -m gan_helpers train dcgan" in printed
    assert distributed.saved_world_size(interrupted.rng_state) == WORLD
    assert interrupted.settings["commands"][0].startswith("torchrun --nproc_per_node=2 -m gan_helpers train dcgan")
    assert not (stopped / "summary.json").exists()
    shutil.copytree(stopped, tmp_path / "stopped_copy")

    codes = _run_cli_ranks(["dcgan", "--out", str(stopped), "--resume", *QUIET], tmp_path / "resume_logs")
    assert codes == [0, 0], _logs(tmp_path / "resume_logs")
    assert "epoch" not in (tmp_path / "resume_logs" / "rank1.log").read_text()  # rank 1 is quiet
    run, reference = gh.training.load_run(stopped), gh.training.load_run(straight)
    assert run.epoch == reference.epoch == EPOCHS and run.step == reference.step == EPOCHS * 12
    assert _same_state(run.G.state_dict(), reference.G.state_dict())
    assert _same_state(run.D.state_dict(), reference.D.state_dict())
    assert list(run.history["loss_d"]) == list(reference.history["loss_d"])
    summary = json.loads((stopped / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["global_batch_size"] == 16 and summary["batch_size"] == 8
    assert [p.name for p in sorted((stopped / "samples").iterdir())] == [f"epoch_{e:03d}.png" for e in range(9)]
    assert cli.settings_of(summary["commands"][0])["batch_size"] == 8

    copy = tmp_path / "stopped_copy"  # 2 -> 1 process within an epoch: 25 steps an epoch now
    position = distributed.continued_position(interrupted.position, WORLD, 1, 25)
    assert _train_here("dcgan", "--out", str(copy), "--resume", "--epochs", str(interrupted.epoch + 1), *QUIET) == 0
    alone = gh.training.load_run(copy)
    assert alone.epoch == interrupted.epoch + 1 and alone.step == interrupted.step + 25 - position
    assert distributed.saved_world_size(alone.rng_state) == 1
    assert _train_here("dcgan", "--out", str(straight), "--resume", "--epochs", str(EPOCHS + 1), *QUIET) == 0
    assert gh.training.load_run(straight).step == EPOCHS * 12 + 25


def test_a_one_process_run_resumes_in_two_and_ctrl_c_in_one_of_them_stops_both(tmp_path):
    """A checkpoint of one process resumes in two (12 steps an epoch now). SIGINT to rank 1 alone stops both ranks
    at the same log point (they agree at every log point), both exit with status 130 and rank 0 saves; the run then
    resumes in one process (25 steps an epoch again) and finishes that epoch where its images stopped."""
    out = tmp_path / "run"
    assert _train_here(*RUN, "--epochs", "1", *QUIET, "--out", str(out)) == 0
    first = gh.training.load_run(out)
    assert first.step == 25
    logs = tmp_path / "logs"
    logs.mkdir()
    argv = ["dcgan", "--out", str(out), "--resume", "--epochs", "12", *QUIET]
    processes = _start_ranks(_cli_rank, _free_port(), argv, logs)
    checkpoint = out / gh.training.CHECKPOINT_NAME
    before = checkpoint.stat().st_mtime_ns
    deadline = time.monotonic() + 240
    while checkpoint.stat().st_mtime_ns == before:  # the first epoch of two processes is saved: they train
        assert time.monotonic() < deadline and all(p.is_alive() for p in processes), _logs(logs)
        time.sleep(0.02)
    os.kill(processes[1].pid, signal.SIGINT)
    assert _exit_codes(processes) == [130, 130], _logs(logs)
    stopped = gh.training.load_run(out)
    assert stopped.interrupted and 2 <= stopped.epoch < 12 and distributed.saved_world_size(stopped.rng_state) == 2
    assert (stopped.step - 25 - 12 * (stopped.epoch - 1)) == stopped.position  # epochs after the first: 12 steps
    assert "Stopped at step" in (logs / "rank0.log").read_text()
    assert _train_here("dcgan", "--out", str(out), "--resume", "--epochs", str(stopped.epoch + 1), *QUIET) == 0
    position = distributed.continued_position(stopped.position, WORLD, 1, 25)
    alone = gh.training.load_run(out)
    assert alone.epoch == stopped.epoch + 1 and alone.step == stopped.step + 25 - position


# --- flags of the session: SyncBatchNorm, CUDA graphs ---


def test_cuda_only_flags_are_refused_on_the_cpu_in_one_line(tmp_path, capsys):
    out = str(tmp_path / "run")
    for flags, said in (
        (["--sync-batchnorm"], "SyncBatchNorm runs on CUDA only"),
        (["--compile", "--compile-mode", "reduce-overhead"], "records CUDA graphs, which need a CUDA device"),
        (["--compile-mode", "max-autotune"], "takes effect with --compile only"),
    ):
        assert _train_here(*RUN, "--epochs", "1", "--device", "cpu", *flags, "--out", out, *QUIET) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    helps = {a.dest: a.help for a in _train_parser()._actions}
    assert "Default: off" in helps["sync_batchnorm"] and "CUDA only" in helps["compile_mode"]
    assert cli.COMPILE_MODE_CHOICES == gh.acceleration.COMPILE_MODES


def _train_parser() -> argparse.ArgumentParser:
    subparsers = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["train"]


def test_compile_mode_reaches_torch_compile_and_cuda_graphs_need_cuda(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, *a, **k: calls.append(k))
    gh.acceleration.compile_once(torch.nn.Linear(2, 2), "max-autotune")
    gh.acceleration.compile_once(torch.nn.Linear(2, 2))
    assert calls == [{"mode": "max-autotune"}, {}]
    with pytest.raises(ValueError, match="CUDA graphs"):
        gh.acceleration.check_compile_mode("reduce-overhead", "cpu")
    with pytest.raises(ValueError, match="compile_mode"):
        gh.training.TrainConfig(compile_mode="fastest")
    with pytest.raises(ValueError, match="CUDA graphs"):
        gh.acceleration.prepare_training(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), precision="fp32",
                                         loss="nonsaturating", compile=True, device="cpu",
                                         compile_mode="reduce-overhead")


def test_sync_batch_norm_keeps_the_names_so_checkpoints_load_into_plain_batch_norm():
    G, D = _models("dcgan")
    keys = (list(G.state_dict()), list(D.state_dict()))
    params = [id(p) for p in (*G.parameters(), *D.parameters())]
    distributed.sync_batch_norm(G, D)
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in G.modules())
    assert not any(type(m) is torch.nn.BatchNorm2d for m in (*G.modules(), *D.modules()))
    assert (list(G.state_dict()), list(D.state_dict())) == keys
    assert [id(p) for p in (*G.parameters(), *D.parameters())] == params  # an optimiser built before still fits
    plain = _models("dcgan")[0]
    plain.load_state_dict(G.state_dict())


def test_ctrl_c_noticed_at_an_epochs_last_step_ends_that_epoch_and_resumes(tmp_path):
    """One process: Ctrl-C seen at the epoch's last log point used to save position == steps, which no resume
    could continue; now the epoch ends as usual, the run stops after its checkpoint, and resumes bit for bit."""

    class PressAtStep4(gh.training.Callback):
        def on_log(self, step: int, history: Any, G: torch.nn.Module, D: torch.nn.Module) -> None:
            if step == 4:
                signal.raise_signal(signal.SIGINT)

    def train(out: Path, **kwargs: Any) -> gh.training.Run:
        torch.manual_seed(0)
        G, D = gh.models.MLPImageGenerator(8, hidden=(16,)), gh.models.MLPImageDiscriminator(hidden=(16,))
        batches = DeviceBatches(_indexed_images(64), batch_size=16)  # 4 steps an epoch
        config = gh.training.TrainConfig(log_every=2)
        return gh.training.train_epochs(G, D, batches, config, epochs=3, out_dir=out, progress=False, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = train(tmp_path / "straight")
        stopped = train(tmp_path / "stopped", callbacks=[PressAtStep4()])
        assert stopped.interrupted and stopped.epoch == 1 and stopped.position == 0 and stopped.step == 4
        torch.manual_seed(123)  # the resume takes the checkpoint's random state, not this one
        G, D = gh.models.MLPImageGenerator(8, hidden=(16,)), gh.models.MLPImageDiscriminator(hidden=(16,))
        resumed = gh.training.train_epochs(G, D, DeviceBatches(_indexed_images(64), batch_size=16),
                                           gh.training.TrainConfig(log_every=2), epochs=3,
                                           out_dir=tmp_path / "stopped", resume=True, progress=False)
    assert resumed.step == reference.step == 12 and not resumed.interrupted
    assert _same_state(resumed.G.state_dict(), reference.G.state_dict())
    assert list(resumed.history["loss_d"]) == list(reference.history["loss_d"])


def test_one_process_is_unchanged_by_the_distributed_code():
    """Alone, train_epochs' default ``distributed`` changes nothing: no process group, the step calls G and D."""
    alone = distributed.ONE_PROCESS
    G, D = _models("mlp")
    assert alone.wrap(G, D) == (G, D) and alone.any(True) and not alone.any(False)
    assert alone.data_generator(0) is None and alone.checkpoint_rng(None, G, D) is None
    assert distributed.start("cpu") == alone and not dist.is_initialized()
