"""Train the MNIST classifier whose features the evaluation metrics use, and save its weights.

    python scripts/train_classifier.py                      # writes data/weights/mnist_classifier.pt
    python scripts/train_classifier.py --test-dir DIR       # measure on t10k files in DIR

Trains on whatever ``gh.data.load_mnist("train")`` returns: full MNIST (60,000 digits) when it
can be found or downloaded, else the 5,000-digit offline sample shipped with the project. The
test accuracy is measured on the MNIST test set when it is available (``--test-dir``, or
``load_mnist("test")``) and stored in the weights file with how the weights were made.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

import gan_helpers as gh

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
DIGITS_SEEN = 100_000  # default training length: epochs = max(3, round(DIGITS_SEEN / N))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--epochs", type=int, default=None,
        help="passes over the training set (default: about 100,000 digits seen, at least 3 epochs: "
        "20 for the 5,000-digit offline sample, 3 for full MNIST)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate, decayed by a cosine")
    parser.add_argument("--no-augment", action="store_true", help="train without random shifts/rotations/scaling")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: its own)")
    parser.add_argument("--root", type=Path, default=None, help="data root for load_mnist (default: data/)")
    parser.add_argument("--no-download", action="store_true", help="use only files already on disk")
    parser.add_argument("--test-dir", type=Path, default=None, help=f"folder holding {' and '.join(TEST_FILES)}")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N digits only (for tests)")
    parser.add_argument(
        "--out", type=Path, default=gh.models.weights_dir() / gh.classifier.CLASSIFIER_WEIGHTS, help="weights file"
    )
    return parser


def load_test_set(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """The MNIST test set from ``--test-dir`` or ``load_mnist("test")``, or None when it cannot be had."""
    if args.test_dir is not None:
        images = gh.data.read_idx(args.test_dir / TEST_FILES[0], expected_shape=(None, 28, 28))
        labels = gh.data.read_idx(args.test_dir / TEST_FILES[1], expected_shape=(None,))
        return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)), f"MNIST test set ({args.test_dir})"
    try:
        download = not args.no_download
        images, labels, info = gh.data.load_mnist("test", root=args.root, download=download, return_info=True)
    except gh.data.DataUnavailableError as why:
        print(f"No test set, so no test accuracy: {str(why).splitlines()[0]}", file=sys.stderr)
        return None
    return images, labels, f"MNIST test set ({info.source})"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = gh.runtime.get_device(args.device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", gh.data.OfflineSampleWarning)
        images, labels, info = gh.data.load_mnist(
            "train", root=args.root, download=not args.no_download, return_info=True
        )
    if caught:
        print("Full MNIST not available: training on the offline sample.", file=sys.stderr)
    if args.limit is not None:
        images, labels = images[: args.limit], labels[: args.limit]
    epochs = args.epochs if args.epochs is not None else max(3, round(DIGITS_SEEN / len(images)))
    gh.runtime.seed_everything(args.seed)
    model = gh.classifier.MNISTClassifier()
    start = time.perf_counter()
    history = gh.classifier.train_classifier(
        model, images, labels, epochs=epochs, batch_size=args.batch_size, lr=args.lr,
        augment=not args.no_augment, device=device, seed=args.seed,
    )
    seconds = time.perf_counter() - start
    record: dict[str, str | int | float] = {
        "command": "python scripts/train_classifier.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "train_data": f"{info.name} {info.split}, {len(images):,} digits ({info.source})",
        "epochs": epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "augment": int(not args.no_augment),
        "seed": args.seed,
        "device": str(device),
        "torch": str(torch.__version__),
        "date": datetime.date.today().isoformat(),
        "train_seconds": round(seconds, 1),
        "final_train_loss": round(history.last("loss"), 4),
    }
    test = load_test_set(args)
    if test is not None:
        test_images, test_labels, test_name = test
        record["test_accuracy"] = gh.metrics.classifier_accuracy(model, test_images, test_labels, device=device)
        record["test_data"] = f"{test_name}, {len(test_images):,} digits"
    gh.classifier.save_classifier(model.cpu(), args.out, **record)
    for key, value in record.items():
        print(f"{key}: {value}")
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
