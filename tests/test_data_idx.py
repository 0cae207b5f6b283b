"""Tests of gan_helpers.data.idx: the strict IDX reader and writer, on real MNIST files and fuzzed bytes."""

from __future__ import annotations

import gzip
import math
import os
import socket
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_helpers.data.idx import IDX_DTYPES, DataFileError, idx_bytes, read_idx, write_idx

# Published class counts of the MNIST test and training sets (LeCun, Cortes, Burges).
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _valid_idx() -> bytes:
    """A small valid IDX file: 3 images of 2x4 uint8 pixels."""
    return idx_bytes(np.arange(24, dtype=np.uint8).reshape(3, 2, 4))


# ---------------------------------------------------------------- real MNIST files


def test_real_test_images(real_mnist_dir: Path) -> None:
    images = read_idx(real_mnist_dir / "t10k-images-idx3-ubyte.gz", expected_shape=(None, 28, 28), expected_dtype="u1")
    assert images.shape == (10000, 28, 28)
    assert images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert images.flags.writeable


def test_real_test_labels_have_the_published_class_counts(real_mnist_dir: Path) -> None:
    labels = read_idx(real_mnist_dir / "t10k-labels-idx1-ubyte.gz", expected_shape=(None,))
    assert labels.shape == (10000,)
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_COUNTS


def test_real_train_labels(real_mnist_dir: Path) -> None:
    labels = read_idx(real_mnist_dir / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60000,)
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TRAIN_COUNTS


def test_gzip_is_detected_by_content_not_by_name(real_mnist_dir: Path, tmp_path: Path) -> None:
    compressed = (real_mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    raw_named_gz = _write(tmp_path / "raw-but-named.gz", gzip.decompress(compressed))
    gz_named_raw = _write(tmp_path / "gzip-but-named.idx1", compressed)
    expected = read_idx(real_mnist_dir / "t10k-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(read_idx(raw_named_gz), expected)
    np.testing.assert_array_equal(read_idx(gz_named_raw), expected)


def test_truncated_real_file_message_gives_sizes_and_advice(real_mnist_dir: Path, tmp_path: Path) -> None:
    raw = gzip.decompress((real_mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    path = _write(tmp_path / "t10k-images-idx3-ubyte", raw[: 16 + 1024])
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert f"expected {10000 * 28 * 28} bytes of data" in message and "found 1024" in message
    assert "Delete" in message


def test_labels_given_as_images_fail_clearly(real_mnist_dir: Path) -> None:
    path = real_mnist_dir / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DataFileError, match=r"shape \(10000,\), expected \(N, 28, 28\)") as info:
        read_idx(path, expected_shape=(None, 28, 28), expected_dtype=np.uint8)
    assert path.name in str(info.value)


# ---------------------------------------------------------------- damaged files


def _truncated_gzip(data: bytes) -> bytes:
    blob = gzip.compress(data, mtime=0)
    return blob[: len(blob) // 2]


def _corrupted_gzip(data: bytes) -> bytes:
    blob = bytearray(gzip.compress(data, mtime=0))
    middle = len(blob) // 2
    blob[middle : middle + 4] = bytes(b ^ 0xFF for b in blob[middle : middle + 4])
    return bytes(blob)


def _bad_crc_gzip(data: bytes) -> bytes:
    blob = bytearray(gzip.compress(data, mtime=0))
    blob[-8] ^= 0xFF  # the trailer is CRC32 then ISIZE, little-endian
    return bytes(blob)


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


# A payload that compresses well, so the damage lands inside the deflate stream.
_BIG = idx_bytes(np.tile(np.arange(256, dtype=np.uint8), 400))

DAMAGED = {
    "truncated gzip": (_truncated_gzip(_BIG), "truncated"),
    "corrupted gzip": (_corrupted_gzip(_BIG), "corrupt|truncated"),
    "bad CRC": (_bad_crc_gzip(_BIG), "corrupted gzip"),
    "garbage after gzip stream": (gzip.compress(_BIG, mtime=0) + b"junk", "stray bytes"),
    "truncated raw": (_valid_idx()[:-1], "truncated: expected 24 bytes of data for shape \\(3, 2, 4\\), found 23"),
    "trailing bytes raw": (_valid_idx() + b"\x00", "has 1 trailing byte"),
    "trailing bytes gzip": (gzip.compress(_valid_idx() + b"\x00\x00"), "has trailing bytes after the 24 bytes"),
    "header cut short": (_valid_idx()[:9], "header needs 16 bytes"),
    "shorter than magic": (b"\x00\x00", "fewer than the 4-byte magic"),
    "empty file": (b"", "fewer than the 4-byte magic"),
    "wrong magic": (b"\x01\x00" + _valid_idx()[2:], "not an IDX file"),
    "wrong type code": (_header(0x0A, 3) + b"abc", "unknown type code 0x0A"),
    "zero dimensions": (_header(0x08), "declares 0 dimensions"),
    "absurd declared size": (_header(0x0E, 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"x" * 10, "found 10"),
    "absurd size in gzip": (gzip.compress(_header(0x08, 2**32 - 1, 2**32 - 1)), "cannot hold"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_file_raises_data_file_error_naming_it(case: str, tmp_path: Path) -> None:
    data, pattern = DAMAGED[case]
    path = _write(tmp_path / "digits-idx3-ubyte.gz", data)
    with pytest.raises(DataFileError, match=pattern) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert "Delete" in str(info.value)


def _with_bad_crc(blob: bytes) -> bytes:
    damaged = bytearray(blob)
    damaged[-8] ^= 0xFF
    return bytes(damaged)


def _with_bad_length(blob: bytes) -> bytes:
    damaged = bytearray(blob)
    damaged[-1] ^= 0xFF  # ISIZE, the last 4 bytes
    return bytes(damaged)


@pytest.mark.parametrize(
    "data, check",
    [
        (_with_bad_crc(gzip.compress(_valid_idx() + b"\x00\x00", mtime=0)), "gzip CRC check failed"),  # longer too
        (_with_bad_crc(gzip.compress(_valid_idx(), mtime=0)), "gzip CRC check failed"),
        (_with_bad_crc(gzip.compress(_BIG, mtime=0)), "gzip CRC check failed"),
        (_with_bad_length(gzip.compress(_valid_idx() + b"\x00", mtime=0)), "gzip length check failed"),
    ],
    ids=["bad CRC and trailing data", "bad CRC", "bad CRC, big", "bad length"],
)
def test_a_failed_gzip_check_says_the_file_is_damaged(data: bytes, check: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "digits-idx3-ubyte.gz", data)
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    message = str(info.value)
    assert f"{check}: the file is damaged" in message and "trailing" not in message
    assert str(path) in message and "Delete" in message


def test_bad_crc_of_a_real_file(real_mnist_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "labels.gz", _with_bad_crc((real_mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes()))
    with pytest.raises(DataFileError, match="gzip CRC check failed: the file is damaged"):
        read_idx(path)


def _read_in_a_thread(path: Path, seconds: float = 5.0) -> BaseException | None:
    """What ``read_idx(path)`` raised, run in a thread that must finish within ``seconds``."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            read_idx(path)
        except BaseException as err:  # handed to the test
            outcome.append(err)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive() and path.exists():  # a reader blocked on a FIFO: a writer lets it go
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
    assert outcome, f"read_idx({path}) did not return within {seconds} s"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "train-images-idx3-ubyte"
    os.mkfifo(fifo)
    err = _read_in_a_thread(fifo)
    assert isinstance(err, DataFileError)
    assert "FIFO" in str(err) and "not a regular file" in str(err) and str(fifo) in str(err)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
def test_a_socket_and_a_device_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"  # short: socket paths are limited to about 100 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(path))
        except OSError as err:
            pytest.skip(f"cannot bind a Unix socket in {tmp_path}: {err}")
        assert "a socket, not a regular file" in str(_read_in_a_thread(path))
    if Path("/dev/null").exists():
        assert "a character device, not a regular file" in str(_read_in_a_thread(Path("/dev/null")))


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="is a folder, not a file: check the path"):
        read_idx(tmp_path)


def test_write_idx_is_atomic(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "sub" / "a.gz", np.arange(5, dtype=np.uint8))
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.gz"]
    np.testing.assert_array_equal(read_idx(path), np.arange(5, dtype=np.uint8))


def test_missing_file_and_folder_say_check_the_path(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.gz", tmp_path):
        with pytest.raises(DataFileError, match="check the path") as info:
            read_idx(path)
        assert str(path) in str(info.value)


def test_data_file_error_is_a_value_error() -> None:
    assert issubclass(DataFileError, ValueError)


def test_expected_dtype_mismatch(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "floats.idx", np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(DataFileError, match="holds float32 values, expected uint8"):
        read_idx(path, expected_shape=(None, 28, 28), expected_dtype=np.uint8)


# ---------------------------------------------------------------- writing and round trips


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0, 4)])
@pytest.mark.parametrize("suffix", [".idx", ".gz"])
def test_round_trip(dtype: type, shape: tuple[int, ...], suffix: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = (rng.standard_normal(shape) * 1e3).astype(dtype)
    path = write_idx(tmp_path / f"array{suffix}", array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path, expected_shape=shape, expected_dtype=dtype)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_bytes_on_disk_are_big_endian_idx(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "a.idx", np.array([[1, -2]], dtype=np.int16))
    # magic 00 00 0B 02, sizes 1 and 2 as big-endian uint32, then 0x0001 and 0xFFFE
    assert path.read_bytes() == bytes.fromhex("00000b02" "00000001" "00000002" "0001" "fffe")


def test_gzip_output_is_deterministic(tmp_path: Path) -> None:
    array = np.arange(100, dtype=np.uint8)
    first = write_idx(tmp_path / "one.gz", array).read_bytes()
    second = write_idx(tmp_path / "two-with-a-longer-name.gz", array).read_bytes()
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip mtime field


@pytest.mark.parametrize("array", [np.zeros(3, dtype=np.int64), np.zeros(3, dtype=bool), np.zeros((), dtype=np.uint8)])
def test_write_rejects_what_idx_cannot_store(array: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="IDX"):
        write_idx(tmp_path / "x.idx", array)


# ---------------------------------------------------------------- fuzzing


def _read_or_error(path: Path) -> np.ndarray | None:
    """The array, or None for DataFileError; any other exception fails the test."""
    try:
        return read_idx(path)
    except DataFileError as err:
        assert str(path) in str(err)
        return None


@FUZZ
@given(data=st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes, tmp_path: Path) -> None:
    result = _read_or_error(_write(tmp_path / "fuzz", data))
    assert result is None or isinstance(result, np.ndarray)


@FUZZ
@given(data=st.binary(max_size=300))
def test_fuzz_gzip_of_arbitrary_bytes(data: bytes, tmp_path: Path) -> None:
    result = _read_or_error(_write(tmp_path / "fuzz.gz", gzip.compress(data, mtime=0)))
    assert result is None or isinstance(result, np.ndarray)


_codes = st.sampled_from([*IDX_DTYPES, 0x00, 0x0A, 0xFF])


@FUZZ
@given(
    code=_codes,
    dims=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    payload=st.binary(max_size=400),
    compress=st.booleans(),
)
def test_fuzz_after_a_valid_looking_header(
    code: int, dims: list[int], payload: bytes, compress: bool, tmp_path: Path
) -> None:
    # Oracle: the file is valid exactly when the type code is known and the payload has the size
    # the header declares; then the values are the big-endian payload.
    data = _header(code, *dims) + payload
    path = _write(tmp_path / "fuzz", gzip.compress(data, mtime=0) if compress else data)
    result = _read_or_error(path)
    dtype = IDX_DTYPES.get(code)
    valid = dtype is not None and len(payload) == dtype.itemsize * math.prod(dims)
    assert (result is not None) == valid
    if valid:
        expected = np.frombuffer(payload, dtype=dtype).reshape(dims)
        np.testing.assert_array_equal(result, expected)  # NaNs compare equal here
        assert result.dtype.isnative


_VALID_GZ = gzip.compress(_valid_idx(), mtime=0)


@FUZZ
@given(position=st.integers(0, len(_VALID_GZ) - 1), flip=st.integers(1, 255), cut=st.booleans())
def test_fuzz_damaged_gzip_gives_the_original_or_an_error(position: int, flip: int, cut: bool, tmp_path: Path) -> None:
    blob = bytearray(_VALID_GZ)
    if cut:
        del blob[position:]
    else:
        blob[position] ^= flip
    result = _read_or_error(_write(tmp_path / "fuzz.gz", bytes(blob)))
    if result is not None:  # only bytes gzip does not check (mtime, flags' spare bits, OS) may change
        np.testing.assert_array_equal(result, np.arange(24, dtype=np.uint8).reshape(3, 2, 4))


def test_zlib_error_is_never_leaked(tmp_path: Path) -> None:
    # A gzip header followed by an invalid deflate block: zlib itself would raise zlib.error.
    path = _write(tmp_path / "bad.gz", gzip.compress(b"")[:10] + b"\xff" * 20)
    with pytest.raises(zlib.error):
        zlib.decompress(path.read_bytes(), wbits=31)
    with pytest.raises(DataFileError, match="corrupted gzip"):
        read_idx(path)
