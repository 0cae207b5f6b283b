"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

REAL_MNIST_ENV = "GAN_HELPERS_REAL_MNIST"
REAL_MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz")


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """Folder with the official MNIST test files and training labels, named by $GAN_HELPERS_REAL_MNIST.

    A relative value is taken relative to the repository root (CI: ``../shared/data/mnist``).
    Unset: the test is skipped. Set but incomplete: the test fails, so CI cannot silently skip.
    """
    value = os.environ.get(REAL_MNIST_ENV, "").strip()
    if not value:
        pytest.skip(
            f"needs real MNIST files: set {REAL_MNIST_ENV} to a folder holding {', '.join(REAL_MNIST_FILES)} "
            "(CI sets it to ../shared/data/mnist)"
        )
    folder = Path(value).expanduser()
    if not folder.is_absolute():
        folder = REPO / folder
    missing = [name for name in REAL_MNIST_FILES if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"{REAL_MNIST_ENV}={value!r} points to {folder}, which lacks {', '.join(missing)}")
    return folder


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test runs PyTorch on one thread: the models under test are tiny, and on a 2-core
    machine a second thread only adds synchronisation (and contention when the CPU is shared)."""
    import gan_helpers as gh

    with gh.runtime.cpu_threads(1):
        yield
