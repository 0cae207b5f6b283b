"""Command line: ``python -m gan_helpers series`` runs the notebooks; ``train`` trains an image GAN."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PRECISION_CHOICES = ("auto", "fp32", "bf16")  # gan_helpers.acceleration.PRECISIONS, without importing torch here

__all__ = ["build_parser", "main"]


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


def _add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train an image GAN (DCGAN or the fully connected GAN) on MNIST",
        description="Train with the same code as the notebooks (gan_helpers.training.train_epochs). Writes "
        "OUT/checkpoint.pt after every epoch (and on Ctrl-C), OUT/samples/epoch_NNN.png and "
        "OUT/summary.json. A notebook loads the run with gh.training.load_run(OUT).",
    )
    p.add_argument(
        "model",
        choices=("dcgan", "mlp", "cdcgan"),
        help="dcgan: Radford et al. (2015); mlp: fully connected; cdcgan: conditional DCGAN with a projection D",
    )
    p.add_argument("--epochs", type=int, default=20, help="total epochs (a resumed run continues up to this)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/MODEL)")
    p.add_argument("--data", choices=("mnist", "fashion-mnist"), default="mnist", help="training images")
    p.add_argument("--data-root", type=Path, default=None, help="folder of the IDX files (default: data/)")
    p.add_argument("--no-download", action="store_true", help="never download (MNIST: use the offline sample)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4, help="Adam's learning rate for both players")
    p.add_argument("--latent-dim", type=int, default=100)
    p.add_argument("--width", type=int, default=64, help="dcgan: filters of D's first layer and G's last")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: its own choice)")
    p.add_argument("--limit-images", type=int, default=None, help="train on the first N images only (tests)")
    p.add_argument("--steps-per-epoch", type=int, default=None, help="fewer steps per epoch (tests)")
    p.add_argument("--log-every", type=int, default=10, help="steps between logged means")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                   help="auto: bf16 autocast where the device multiplies bf16 natively (CUDA, AMX CPUs), else fp32")
    p.add_argument("--compile", action="store_true", help="torch.compile G and D (worth it on a GPU)")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--overwrite", action="store_true", help="start again even if --out holds a checkpoint")
    p.add_argument("--export", type=Path, default=None, help="also write small float16 weights (G and D) here")
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="cdcgan: start from these unconditional DCGAN weights (gh.models.conditional_from_unconditional)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for log files)")
    p.set_defaults(func=_run_train)


def _load_images(name: str, root: Path | None, download: bool) -> tuple[Any, Any]:
    from gan_helpers import data

    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    images, _, info = loader("train", root=root, download=download, return_info=True)
    return images, info


def _load_labels(args: argparse.Namespace) -> Any:
    """The class labels of the training images (the conditional GAN's second input)."""
    from gan_helpers import data

    loader = data.load_mnist if args.data == "mnist" else data.load_fashion_mnist
    return loader("train", root=args.data_root, download=not args.no_download)[1]


def _build_gan(args: argparse.Namespace, image_shape: tuple[int, int, int]) -> tuple[Any, Any]:
    from gan_helpers import models

    if args.model == "cdcgan" and args.init_from is not None:
        G, D, _ = models.load_weights(args.init_from)
        if not isinstance(G, models.DCGANGenerator) or not isinstance(D, models.DCGANDiscriminator):
            raise SystemExit(f"--init-from needs DCGAN weights (train dcgan --export ...), got {type(G).__name__}")
        return models.conditional_from_unconditional(G, D, num_classes=10)
    if args.init_from is not None:
        raise SystemExit("--init-from applies to cdcgan only")
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


def _epoch_report(epochs: int, samples_dir: Path) -> Any:
    """A training callback that, after each epoch, writes the sample-grid PNGs not yet written and prints one line."""
    from gan_helpers import plots, training

    class EpochReportCallback(training.Callback):
        def on_epoch_end(self, run: Any) -> None:
            for epoch, images in zip(run.sample_epochs, run.samples, strict=True):
                png = samples_dir / f"epoch_{epoch:03d}.png"
                if not png.exists():
                    plots.save_image_grid(images, png)
            h = run.history
            print(
                f"epoch {run.epoch}/{epochs}: {h.last('epoch_seconds'):.1f} s, {h.last('images_per_s'):.0f} images/s, "
                f"loss_d {h.last('loss_d'):.3f}, loss_g {h.last('loss_g'):.3f}, D(x) {h.last('d_real'):.2f}, "
                f"D(G(z)) {h.last('d_fake'):.2f}, diversity {h.last('diversity'):.2f}",
                flush=True,
            )

    return EpochReportCallback()


def _summary(
    args: argparse.Namespace, run: Any, info: Any, num_images: int, device: Any, earlier: list[str]
) -> dict[str, Any]:
    """What the run folder's summary.json (and exported weights) record; ``earlier``: commands of earlier sessions."""
    from datetime import datetime, timezone

    import torch

    from gan_helpers import acceleration, models

    h = run.history
    seconds = [float(s) for s in h["epoch_seconds"]] if "epoch_seconds" in h else []
    rates = [float(r) for r in h["images_per_s"]] if "images_per_s" in h else []
    commands = [*earlier, "python -m gan_helpers " + " ".join(args.argv)]
    return {
        "command": commands[0],
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
        "precision": acceleration.resolve_precision(run.config.precision, device, (run.G, run.D), run.config.loss),
        "compile": run.config.compile,
        "seconds_total": round(run.seconds, 1),
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "images_per_s": round(sum(rates) / len(rates), 1) if rates else None,
        "final_diversity": round(h.last("diversity"), 3) if "diversity" in h else None,
        "parameters_G": models.count_parameters(run.G),
        "parameters_D": models.count_parameters(run.D),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _run_train(args: argparse.Namespace) -> int:
    import json

    import torch

    from gan_helpers import data, models, runtime, training

    if args.threads:
        torch.set_num_threads(args.threads)
    device = runtime.get_device(args.device)
    runtime.seed_everything(args.seed)
    out = args.out if args.out is not None else Path("runs") / args.model
    images, info = _load_images(args.data, args.data_root, not args.no_download)
    labels = _load_labels(args) if args.model == "cdcgan" else None
    if args.limit_images:
        images = images[: args.limit_images]
        labels = labels[: args.limit_images] if labels is not None else None
    print(f"data: {info.name} {info.split}, {len(images):,} images ({info.source})")
    print(f"device: {_device_name(device)}; run folder: {out}", flush=True)
    batches = data.DeviceBatches(images, labels=labels, batch_size=args.batch_size, device=device)
    G, D = _build_gan(args, tuple(batches.images.shape[1:]))
    config = training.TrainConfig(lr=args.lr, log_every=args.log_every, precision=args.precision, compile=args.compile)
    if (out / training.CHECKPOINT_NAME).exists() and not (args.resume or args.overwrite):
        print(f"{out} already holds a checkpoint: add --resume to continue it, or --overwrite.", file=sys.stderr)
        return 2
    run = training.train_epochs(
        G,
        D,
        batches,
        config,
        epochs=args.epochs,
        out_dir=out,
        resume=args.resume,
        overwrite=args.overwrite,
        callbacks=[_epoch_report(args.epochs, out / "samples")],
        steps_per_epoch=args.steps_per_epoch,
        progress=not args.no_progress,
    )
    if run.interrupted:
        print(f"Interrupted; continue with: python -m gan_helpers {' '.join(args.argv)} --resume")
        return 130
    summary_file = out / "summary.json"
    earlier = []
    if args.resume and summary_file.exists():  # keep the commands of the earlier sessions of this run
        previous = json.loads(summary_file.read_text())
        earlier = previous.get("commands", [previous["command"]])
    summary = _summary(args, run, info, len(images), device, earlier)
    summary_file.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"done: {run.epoch} epochs, {run.seconds:.0f} s of training; {out / training.CHECKPOINT_NAME}")
    if args.export is not None:
        print(f"weights: {models.export_weights(run.G, run.D, args.export, info=summary)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_helpers", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_series_parser(subparsers)
    _add_train_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded with a training run
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
