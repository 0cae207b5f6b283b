"""Command line: ``python -m gan_helpers series`` runs the notebooks; ``train`` trains an image GAN."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gan_helpers.cli_checks import (
    augmentations,
    check_device,
    check_init_from,
    check_paths,
    check_session_flags,
    ema_decay,
    learning_rate,
    non_negative_int,
    positive_int,
)
from gan_helpers.cli_settings import (
    DEFAULTS,
    KEPT,
    LOCATIONS,
    UsageError,
    check_same_data,
    data_digest,
    earlier_commands,
    prepare_folder,
    run_settings,
    saved_settings,
    settle,
    stored,
)

PRECISION_CHOICES = ("auto", "fp32", "bf16")  # gan_helpers.acceleration.PRECISIONS, without importing torch here
COMPILE_MODE_CHOICES = ("default", "reduce-overhead", "max-autotune")  # gan_helpers.acceleration.COMPILE_MODES

__all__ = ["build_parser", "main", "settings_of"]


def _add_series_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "series",
        help="execute the notebooks headless",
        description="Execute every notebook top to bottom in a fresh kernel. By default executed "
        "copies go to --out and the committed notebooks are left untouched.",
    )
    p.add_argument("names", nargs="*", help="run only these notebooks (e.g. 00 02_toy_gan_1d)")
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="folder of the series")
    p.add_argument("--out", type=Path, default=Path("build/notebooks"), help="where executed copies go")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="fast mode (GAN_HELPERS_FAST=1)")
    mode.add_argument("--full", action="store_true", help="full mode (GAN_HELPERS_FAST=0)")
    p.add_argument(
        "--inplace",
        action="store_true",
        help="maintainers: write outputs into the committed notebooks (use with --full)",
    )
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    p.set_defaults(func=_run_series)


def _run_series(args: argparse.Namespace) -> int:
    from gan_helpers.series import run_series

    fast = True if args.fast else False if args.full else None
    runs = run_series(args.notebooks, None if args.inplace else args.out, args.names, fast, args.timeout)
    total = sum(r.seconds for r in runs)
    print(f"{len(runs)} notebook(s) executed in {total:.0f} s")
    return 0


def _with_default(text: str, name: str) -> str:
    """``text`` with the default of setting ``name`` (the flags default to None, so that typed ones can be told)."""
    return f"{text} (default: {DEFAULTS[name]})"


def _add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train an image GAN (DCGAN or the fully connected GAN) on MNIST",
        description="Train with the same code as the notebooks (gan_helpers.training.train_epochs). Writes "
        "OUT/checkpoint.pt after every epoch (and on Ctrl-C), OUT/samples/epoch_NNN.png and "
        "OUT/summary.json. A notebook loads the run with gh.training.load_run(OUT). A --resume takes "
        "every training setting from the run; a flag typed with it must agree with the run's (only "
        "--epochs may change). Under torchrun --nproc_per_node=N each of the N processes trains on its share "
        "of every epoch (DistributedDataParallel; global batch N x --batch-size, --lr unchanged) and rank 0 "
        "writes; a run resumes in any number of processes.",
    )
    p.add_argument(
        "model",
        choices=("dcgan", "mlp", "cdcgan"),
        help="dcgan: Radford et al. (2016); mlp: fully connected; cdcgan: conditional DCGAN with a projection D",
    )
    p.add_argument("--epochs", type=positive_int, help=_with_default("total epochs (a resumed run: its own)", "epochs"))
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/MODEL)")
    p.add_argument("--data", choices=("mnist", "fashion-mnist"), help=_with_default("training images", "data"))
    p.add_argument("--data-root", type=Path, help="folder of the IDX files (default: data/)")
    p.add_argument(
        "--no-download", action="store_true", default=None, help="never download (MNIST: use the offline sample)"
    )
    p.add_argument("--batch-size", type=positive_int, help=_with_default("images per batch", "batch_size"))
    p.add_argument("--lr", type=learning_rate, help=_with_default("Adam's learning rate for both players", "lr"))
    p.add_argument("--lr-d", type=learning_rate, help="D's learning rate, if not --lr (two time-scale updates)")
    p.add_argument("--lr-g", type=learning_rate, help="G's learning rate, if not --lr")
    p.add_argument(
        "--ema-decay",
        type=ema_decay,
        help=_with_default("decay of the average of G's weights that is sampled and exported (0: none)", "ema_decay"),
    )
    p.add_argument(
        "--augment",
        type=augmentations,
        help=_with_default("differentiable augmentation of D's inputs: translation,cutout or none", "augment"),
    )
    p.add_argument("--latent-dim", type=positive_int, help=_with_default("size of G's noise vector", "latent_dim"))
    p.add_argument(
        "--width", type=positive_int, help=_with_default("dcgan: filters of D's first layer and G's last", "width")
    )
    p.add_argument("--seed", type=non_negative_int, help=_with_default("seeds Python, NumPy and PyTorch", "seed"))
    p.add_argument(
        "--deterministic",
        action="store_true",
        default=None,
        help="deterministic kernels only (slower on a GPU; a CPU run repeats bit for bit without it)",
    )
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    p.add_argument("--threads", type=positive_int, help="CPU threads for PyTorch (default: its own choice)")
    p.add_argument("--limit-images", type=positive_int, help="train on the first N images only (tests)")
    p.add_argument("--steps-per-epoch", type=positive_int, help="fewer steps per epoch (tests)")
    p.add_argument("--log-every", type=positive_int, help=_with_default("steps between logged means", "log_every"))
    p.add_argument(
        "--precision",
        choices=PRECISION_CHOICES,
        help="auto (the default): bf16 autocast where the device multiplies bf16 natively (CUDA, AMX CPUs), else fp32",
    )
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile G and D (worth it on a GPU)")
    p.add_argument(
        "--compile-mode",
        choices=COMPILE_MODE_CHOICES,
        help="torch.compile's mode, with --compile (default: default). reduce-overhead records CUDA graphs, one "
        "launch per pass for this launch-bound model (CUDA only: refused elsewhere); max-autotune also tunes kernels",
    )
    p.add_argument(
        "--sync-batchnorm",
        action="store_true",
        help="under torchrun: batch norm over the global batch of all processes (SyncBatchNorm, CUDA only). "
        "Default: off, each process normalises with its own batch's statistics",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in --out, with its own settings")
    again.add_argument("--overwrite", action="store_true", help="remove the run in --out and start a new one")
    p.add_argument("--export", type=Path, default=None, help="also write small float16 weights (G and D) here")
    p.add_argument(
        "--init-from",
        type=Path,
        help="cdcgan: start from these unconditional DCGAN weights (gh.models.conditional_from_unconditional)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for log files)")
    p.set_defaults(func=_run_train, parser=p)


# --- data and models ---


def _training_data(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The training images (the first ``--limit-images``), their labels for cdcgan (else None) and their DatasetInfo."""
    from gan_helpers import data

    loader = data.load_mnist if args.data == "mnist" else data.load_fashion_mnist
    images, labels, info = loader("train", root=args.data_root, download=not args.no_download, return_info=True)
    if args.limit_images is not None:
        images, labels = images[: args.limit_images], labels[: args.limit_images]
    return images, (labels if args.model == "cdcgan" else None), info


def _build_gan(args: argparse.Namespace, image_shape: tuple[int, int, int]) -> tuple[Any, Any]:
    from gan_helpers import models

    if args.init_from is not None:
        G, D, _ = models.load_weights(args.init_from)
        if not isinstance(G, models.DCGANGenerator) or not isinstance(D, models.DCGANDiscriminator):
            raise UsageError(f"--init-from needs DCGAN weights (train dcgan --export ...), got {type(G).__name__}")
        return models.conditional_from_unconditional(G, D, num_classes=10)
    if args.model == "cdcgan":
        G = models.ConditionalDCGANGenerator(args.latent_dim, 10, image_shape, width=args.width)
        return G, models.ConditionalDCGANDiscriminator(10, image_shape, width=args.width)
    if args.model == "dcgan":
        G = models.DCGANGenerator(args.latent_dim, image_shape, width=args.width)
        return G, models.DCGANDiscriminator(image_shape, width=args.width)
    return models.MLPImageGenerator(args.latent_dim, image_shape), models.MLPImageDiscriminator(image_shape)


def _device_name(device: Any) -> str:
    import platform

    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        return f"CPU ({platform.machine()}, {torch.get_num_threads()} PyTorch threads, {os.cpu_count()} cores)"
    return str(device)


def _readable_png(path: Path) -> bool:
    """Whether ``path`` is an image file that reads back (not missing, empty or truncated)."""
    from matplotlib import image

    try:
        image.imread(path)
    except Exception:  # any failure to read means: write it again
        return False
    return True


def _write_missing_grids(run: Any, samples_dir: Path, checked: set[int]) -> None:
    """Write the sample grid PNG of every epoch of ``run`` whose PNG is missing or unreadable (once per epoch)."""
    from gan_helpers import plots

    for epoch, images in zip(run.sample_epochs, run.samples, strict=True):
        if epoch not in checked:
            png = samples_dir / f"epoch_{epoch:03d}.png"
            if not _readable_png(png):
                plots.save_image_grid(images, png)
            checked.add(epoch)


def _epoch_report(epochs: int, samples_dir: Path) -> Any:
    """A training callback that, after each epoch, writes the sample-grid PNGs not yet written and prints one line."""
    from gan_helpers import training

    class EpochReportCallback(training.Callback):
        def __init__(self) -> None:
            self.checked: set[int] = set()

        def write_grids(self, run: Any) -> None:
            _write_missing_grids(run, samples_dir, self.checked)

        def on_epoch_end(self, run: Any) -> None:
            self.write_grids(run)
            h = run.history
            print(
                f"epoch {run.epoch}/{epochs}: {h.last('epoch_seconds'):.1f} s, {h.last('images_per_s'):.0f} images/s, "
                f"loss_d {h.last('loss_d'):.3f}, loss_g {h.last('loss_g'):.3f}, D(x) {h.last('d_real'):.2f}, "
                f"D(G(z)) {h.last('d_fake'):.2f}, diversity {h.last('diversity'):.2f}",
                flush=True,
            )

    return EpochReportCallback()


def _summary(args: argparse.Namespace, run: Any, info: Any, num_images: int, team: Any) -> dict[str, Any]:
    """What the run folder's summary.json (and exported weights) record (``batch_size`` is per process)."""
    from datetime import datetime, timezone

    import torch

    from gan_helpers import acceleration, models

    device = team.device
    h = run.history
    seconds = [float(s) for s in h["epoch_seconds"]] if "epoch_seconds" in h else []
    rates = [float(r) for r in h["images_per_s"]] if "images_per_s" in h else []
    commands = list(run.settings.get("commands", []))
    return {
        "command": commands[0] if commands else None,
        "commands": commands,
        "model": args.model,
        "device": str(device),
        "device_name": _device_name(device),
        "torch": str(torch.__version__),  # a plain str: TorchVersion is not loadable with weights_only
        "data": f"{info.name} {info.split}: {num_images:,} images, {info.source}",
        "epochs": run.epoch,
        "steps": run.step,
        "batch_size": args.batch_size,
        "lr": run.config.lr,
        "lr_d": run.config.lr_discriminator,
        "lr_g": run.config.lr_generator,
        "ema_decay": run.config.ema_decay,
        "augment": ",".join(run.config.augment) or "none",
        "precision": acceleration.resolve_precision(run.config.precision, device, (run.G, run.D), run.config.loss),
        "compile": run.config.compile,
        "compile_mode": run.config.compile_mode,
        "processes": team.world_size,
        "global_batch_size": team.world_size * args.batch_size,
        "sync_batchnorm": bool(args.sync_batchnorm),
        "seconds_total": round(run.seconds, 1),
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "images_per_s": round(sum(rates) / len(rates), 1) if rates else None,
        "final_diversity": round(h.last("diversity"), 3) if "diversity" in h else None,
        "parameters_G": models.count_parameters(run.G),
        "parameters_D": models.count_parameters(run.D),
        "settings": {k: v for k, v in run.settings.items() if k != "commands"},
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _resumed_run(args: argparse.Namespace, checkpoint: Path) -> Any:
    """The run a ``--resume`` continues (its checkpoint, verified), or None when there is none yet."""
    from gan_helpers import training

    return training.load_run(checkpoint) if args.resume and checkpoint.exists() else None


def _launcher(team: Any) -> str:
    """How this session was started: ``python -m gan_helpers``, or torchrun with its number of processes."""
    if not team.parallel:
        return "python -m gan_helpers"
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", team.world_size))
    nodes = f"--nnodes={team.world_size // per_node} " if per_node != team.world_size else ""
    return f"torchrun {nodes}--nproc_per_node={per_node} -m gan_helpers"


def _plan(args: argparse.Namespace, out: Path, team: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Settle every flag (a resumed run's own, else the defaults) and clean the run folder for this session
    (rank 0 does, once every process has read the run's files).

    Returns the run being resumed (None for a new run), its saved settings and this session's settings.
    """
    from gan_helpers import training

    resumed = _resumed_run(args, out / training.CHECKPOINT_NAME)
    saved = saved_settings(out, resumed) if args.resume else {}
    settle(args, saved, out)
    check_init_from(args, resumed is not None)
    if args.compile_mode is not None and not args.compile:
        args.parser.error("argument --compile-mode: takes effect with --compile only; add --compile")
    commands = [*earlier_commands(out, saved, resumed), f"{_launcher(team)} " + " ".join(args.argv)]
    settings = run_settings(args, commands)
    team.barrier()
    if team.writer:
        prepare_folder(out, resumed, settings)
    return resumed, saved, settings


def _train(args: argparse.Namespace, out: Path, team: Any) -> tuple[Any, Any, Any]:
    """Load the data, check it against a resumed run's, and train; returns the run, the data's info and batches."""
    from gan_helpers import data, runtime, training

    device = team.device
    resumed, saved, settings = _plan(args, out, team)
    runtime.seed_everything(args.seed, deterministic=bool(args.deterministic))
    with team.writer_first():  # rank 0 downloads; the others then read what it wrote
        images, labels, info = _training_data(args)
    digest = data_digest(images, labels)
    if resumed is not None:
        check_same_data(saved, digest, len(images), info)
    settings.update(images=len(images), data_sha256=digest)
    print(f"data: {info.name} {info.split}, {len(images):,} images ({info.source})")
    processes = f" x {team.world_size} processes (global batch {team.world_size * args.batch_size})"
    print(f"device: {_device_name(device)}{processes if team.parallel else ''}; run folder: {out}", flush=True)
    shard = {"generator": team.data_generator(args.seed), "rank": team.rank, "world_size": team.world_size}
    batches = data.DeviceBatches(images, labels=labels, batch_size=args.batch_size, device=device, **shard)
    G, D = (resumed.G, resumed.D) if resumed is not None else _build_gan(args, tuple(batches.images.shape[1:]))
    if args.sync_batchnorm:
        training.distributed.sync_batch_norm(G, D)
    config = training.TrainConfig(
        lr=args.lr,
        lr_d=args.lr_d,
        lr_g=args.lr_g,
        ema_decay=args.ema_decay,
        augment=() if args.augment == "none" else tuple(args.augment.split(",")),
        log_every=args.log_every,
        precision=args.precision,
        compile=args.compile,
        compile_mode=args.compile_mode or "default",
    )
    report = _epoch_report(args.epochs, out / "samples")
    run = training.train_epochs(
        G,
        D,
        batches,
        config,
        epochs=args.epochs,
        out_dir=out,
        resume=resumed is not None,
        overwrite=True,  # _plan removed an old run's files already
        callbacks=[report] if team.writer else [],
        steps_per_epoch=args.steps_per_epoch,
        progress=not args.no_progress and team.writer,
        settings=settings,
        distributed=team,
    )
    if team.writer:
        report.write_grids(run)  # also when the run had no epoch left to train
    return run, info, batches


def _discriminator_for_export(D: Any, batches: Any, passes: int = 20) -> Any:
    """A copy of D whose batch-norm statistics are those of real training batches (see ``load_pretrained``)."""
    import copy
    from itertools import islice

    from gan_helpers import training

    inputs = (batch if isinstance(batch, tuple) else (batch,) for batch in islice(batches, passes))
    return training.remeasure_batch_norm(copy.deepcopy(D), inputs)


def _run_train(args: argparse.Namespace) -> int:
    """``train``: check every argument and the run folder, then load the data and train (see the parser's help)."""
    from gan_helpers import files, models, training

    out = args.out if args.out is not None else Path("runs") / args.model
    check_paths(args, out)
    device = check_device(args)
    check_session_flags(args, device)
    if (out / training.CHECKPOINT_NAME).exists() and not (args.resume or args.overwrite):
        print(f"{out} already holds a checkpoint: add --resume to continue it, or --overwrite.", file=sys.stderr)
        return 2
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    team = training.distributed.start(device)  # one process, unless torchrun started several
    try:
        with team.quiet():  # rank 0 speaks for all
            run, info, batches = _train(args, out, team)
    finally:
        team.close()  # before rank 0 exports: SyncBatchNorm is plain batch norm then
    if not team.writer:
        return 130 if run.interrupted else 0
    num_images = len(batches.images)
    if run.interrupted:
        print(f"Interrupted; continue with: {_launcher(team)} train {args.model} --out {out} --resume")
        return 130
    summary = _summary(args, run, info, num_images, team)
    files.atomic_write_json(out / "summary.json", summary)
    print(f"done: {run.epoch} epochs, {run.seconds:.0f} s of training; {run.path}")
    if args.export is not None:
        G = run.sampling_generator()  # the moving average of G when the run kept one
        D = _discriminator_for_export(run.D, batches)
        print(f"weights: {models.export_weights(G, D, args.export, info={**summary, 'd_batch_norm': 'real'})}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_helpers", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_series_parser(subparsers)
    _add_train_parser(subparsers)
    from gan_helpers import slides  # lecture mode; its parser lives with its code

    slides.add_parser(subparsers)
    return parser


def settings_of(command: str) -> dict[str, Any]:
    """The training settings that typing ``command`` (a new run's ``python -m gan_helpers train ...``) gives: every
    kept flag and data location, typed or the default, plus ``epochs``, as ``run.settings`` records them.

    A run's record holds the command it was started with and the settings it trained with; when
    ``settings_of(record["command"])`` equals those settings, the command reproduces the run. Raises ``ValueError``
    for a command that is not a new training run (another subcommand, or ``--resume``, which takes the run's own).
    """
    words = shlex.split(command)
    if words[:1] == ["torchrun"] and "-m" in words:  # torchrun [its options] -m gan_helpers train ...
        words = ["python", *words[words.index("-m") :]]
    prefix = ["python", "-m", "gan_helpers", "train"]
    if words[: len(prefix)] != prefix:
        raise ValueError(f"not a training command (it should start with {' '.join(prefix)!r}): {command!r}")
    args = build_parser().parse_args(words[3:])
    if args.resume:
        raise ValueError(f"a --resume takes the run's own settings, so its command does not say them: {command!r}")
    settle(args, {}, args.out or Path("runs") / args.model)
    return {name: stored(getattr(args, name)) for name in ("epochs", *KEPT, *LOCATIONS)}


def _raised_here(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by gan_helpers' own code (the innermost frame of its traceback is in the package)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(Path(__file__).parent)


#: Errors of the disk, not of the code: full, over quota, read-only, not permitted.
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def _user_error_code(exc: BaseException) -> int | None:
    """The exit status for an error the user can fix (3: training diverged; 2: the others), or None for a bug."""
    from gan_helpers.checkpoints import CheckpointError
    from gan_helpers.data import DataFileError, DataUnavailableError
    from gan_helpers.training import TrainingDiverged

    if isinstance(exc, TrainingDiverged):
        return 3
    if isinstance(exc, (UsageError, CheckpointError, DataFileError, DataUnavailableError, FileExistsError)):
        return 2
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
        return 2
    return 2 if isinstance(exc, ValueError) and _raised_here(exc) else None


def _one_line(exc: BaseException) -> str:
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; a user's error is one line ``error: ...`` on stderr (exit 2, or 3 for a diverged
    run), without a traceback; a bug keeps its traceback."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded with a training run
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        code = _user_error_code(exc)
        if code is None:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
