r"""Reading and writing IDX files (the MNIST file format), raw or gzip-compressed, with strict checks.

An IDX file is a 4-byte magic number ``00 00 T D`` (two zero bytes, a type code ``T``, the number
of dimensions ``D``), then ``D`` big-endian uint32 sizes :math:`n_1, \dots, n_D`, then exactly
:math:`s \prod_i n_i` bytes of big-endian values of size :math:`s` (1 for uint8/int8, 2 for int16,
4 for int32/float32, 8 for float64). Anything else (a short file, extra bytes, a bad gzip stream,
an unknown type) raises :class:`DataFileError`, which names the file and says what to do.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from gan_helpers.files import atomic_path

__all__ = ["IDX_DTYPES", "DataFileError", "read_idx", "write_idx"]

GZIP_MAGIC = b"\x1f\x8b"

#: IDX type code -> big-endian numpy dtype of the stored values.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# numpy 1.x supports at most 32 dimensions; MNIST files have 1 (labels) or 3 (images).
_MAX_NDIM = 32
# Deflate cannot expand data by more than about 1032:1, so a gzip file of c bytes holds at most
# about 1032 c bytes: a header that declares more is truncated or corrupt, and we say so
# before allocating anything.
_MAX_DEFLATE_RATIO = 1032
_HEADER_PREFIX = 4
# Decompressed bytes produced per step: memory stays bounded while a whole stream is checked.
_GUNZIP_CHUNK = 1 << 20
# zlib's messages for a stream whose trailer does not match its content.
_ZLIB_CHECKS = {"incorrect data check": "gzip CRC check failed", "incorrect length check": "gzip length check failed"}


class DataFileError(ValueError):
    """A data file is missing, truncated, corrupted or not what it should be.

    The message names the file and says what to do (usually: delete it and run again to download
    it afresh, or check the path).
    """


def _advice(path: Path) -> str:
    return f"Delete {path} and run again to download it afresh, or check that the path is right."


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _check_regular(path: Path, mode: int) -> None:
    """Raise :class:`DataFileError` unless ``mode`` is a regular file's (a FIFO would block the reader forever)."""
    if stat.S_ISDIR(mode):
        raise DataFileError(f"IDX file {path} is a folder, not a file: check the path.")
    if not stat.S_ISREG(mode):
        raise DataFileError(
            f"IDX file {path} is {_kind(mode)}, not a regular file: check the path; read_idx reads regular files only."
        )


def _read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, a regular file: checked with ``os.stat`` before opening, and again once open."""
    try:
        _check_regular(path, os.stat(path).st_mode)
        # O_NONBLOCK: should the path become a FIFO between the check and the open, open does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise DataFileError(f"IDX file {path} does not exist: check the path.") from None
    except OSError as err:  # no permission, an I/O error
        raise DataFileError(
            f"IDX file {path} cannot be read ({err.strerror or err}): check the path and its permissions."
        ) from None
    with os.fdopen(fd, "rb") as f:
        _check_regular(path, os.fstat(f.fileno()).st_mode)
        try:
            return f.read()
        except OSError as err:
            raise DataFileError(f"IDX file {path} cannot be read ({err.strerror or err}). {_advice(path)}") from None


def _zlib_failure(err: zlib.error, path: Path) -> DataFileError:
    """The error for zlib's ``err``: a failed CRC or length check says the file is damaged."""
    check = next((what for key, what in _ZLIB_CHECKS.items() if key in str(err)), None)
    if check is not None:
        return DataFileError(f"IDX file {path} is a corrupted gzip file: {check}: the file is damaged. {_advice(path)}")
    return DataFileError(f"IDX file {path} is a corrupted gzip file ({err}). {_advice(path)}")


def _gzip_member(decomp: zlib._Decompress, data: bytes, path: Path, produced: int) -> Iterator[bytes]:
    """The decompressed chunks of the gzip member at the start of ``data`` (``produced``: bytes of earlier members)."""
    while not decomp.eof:
        try:
            chunk = decomp.decompress(data, _GUNZIP_CHUNK)
        except zlib.error as err:
            raise _zlib_failure(err, path) from None
        produced += len(chunk)
        data = decomp.unconsumed_tail
        if not data and not decomp.eof and len(chunk) < _GUNZIP_CHUNK:
            raise DataFileError(
                f"IDX file {path} is a truncated gzip file: the compressed stream ends after "
                f"{produced} bytes of data. {_advice(path)}"
            )
        if chunk:
            yield chunk


def _gzip_chunks(raw: bytes, path: Path) -> Iterator[bytes]:
    """The decompressed chunks of every gzip member in ``raw``; CRC and length of each are checked by zlib."""
    data, produced = raw, 0
    while True:
        decomp = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
        for chunk in _gzip_member(decomp, data, path, produced):
            produced += len(chunk)
            yield chunk
        data = decomp.unused_data
        if not data:
            return
        if not data.startswith(GZIP_MAGIC):
            raise DataFileError(
                f"IDX file {path} has {len(data)} stray bytes after its gzip stream. {_advice(path)}"
            )


def _gunzip(raw: bytes, limit: int, path: Path, verify: bool = False) -> bytes:
    """The first ``limit + 1`` (at most) decompressed bytes of the gzip file ``raw``.

    Without ``verify`` decompression stops there (enough for the header); the CRC and length of
    every member are checked only if the stream ends within ``limit``. With ``verify`` the whole
    stream is decompressed (in bounded memory) so that a bad CRC is reported as damage, not as
    trailing bytes. A stream that ends early or fails a check raises :class:`DataFileError`.
    """
    out = bytearray()
    for chunk in _gzip_chunks(raw, path):
        out += chunk[: max(0, limit + 1 - len(out))]
        if len(out) > limit and not verify:
            break
    return bytes(out)


def _parse_header(head: bytes, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    """Return the value dtype and the shape declared by an IDX header."""
    if len(head) < _HEADER_PREFIX:
        raise DataFileError(
            f"IDX file {path} is truncated: {len(head)} bytes, fewer than the 4-byte magic number. "
            f"{_advice(path)}"
        )
    zero0, zero1, code, ndim = head[:_HEADER_PREFIX]
    if zero0 != 0 or zero1 != 0:
        raise DataFileError(
            f"{path} is not an IDX file: its magic number {head[:4].hex()} does not start with two "
            f"zero bytes. {_advice(path)}"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataFileError(
            f"IDX file {path} has unknown type code 0x{code:02X} (known: {known}). {_advice(path)}"
        )
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataFileError(
            f"IDX file {path} declares {ndim} dimensions; expected 1 to {_MAX_NDIM}. {_advice(path)}"
        )
    header_len = _HEADER_PREFIX + 4 * ndim
    if len(head) < header_len:
        raise DataFileError(
            f"IDX file {path} is truncated: its header needs {header_len} bytes for {ndim} "
            f"dimensions, found {len(head)}. {_advice(path)}"
        )
    shape = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return IDX_DTYPES[code], shape


def _check_expected(
    array_shape: tuple[int, ...],
    dtype: np.dtype,
    path: Path,
    expected_shape: Sequence[int | None] | None,
    expected_dtype: np.dtype | type | str | None,
) -> None:
    if expected_dtype is not None and dtype.newbyteorder("=") != np.dtype(expected_dtype):
        raise DataFileError(
            f"IDX file {path} holds {dtype.newbyteorder('=').name} values, expected "
            f"{np.dtype(expected_dtype).name}: is it the right file? {_advice(path)}"
        )
    if expected_shape is None:
        return
    fits = len(array_shape) == len(expected_shape) and all(
        want is None or want == got for want, got in zip(expected_shape, array_shape, strict=True)
    )
    if not fits:
        wanted = "(" + ", ".join("N" if w is None else str(w) for w in expected_shape) + ")"
        raise DataFileError(
            f"IDX file {path} holds an array of shape {array_shape}, expected {wanted}: "
            f"is it the right file (images and labels swapped?)? {_advice(path)}"
        )


def read_idx(
    path: str | os.PathLike[str],
    expected_shape: Sequence[int | None] | None = None,
    expected_dtype: np.dtype | type | str | None = None,
) -> np.ndarray:
    r"""Read an IDX file (gzip-compressed or raw, told apart by the gzip magic bytes ``1f 8b``).

    The payload must be exactly :math:`s \prod_{i=1}^{D} n_i` bytes for the declared sizes
    :math:`n_i` and value size :math:`s`: a shorter file (truncated) and a longer one (trailing
    bytes) are both rejected. ``expected_shape`` (``None`` entries match any size, e.g.
    ``(None, 28, 28)``) and ``expected_dtype`` check the content, so that a labels file given as
    images fails clearly. Returns a writable array in native byte order.

    Raises:
        DataFileError: the file is missing, unreadable, truncated, corrupted, not IDX, or not of
            the expected shape/dtype. The message names the file and says what to do.
    """
    path = Path(path)
    raw = _read_bytes(path)
    compressed = raw.startswith(GZIP_MAGIC)
    # Enough output for the largest possible header; the CRC is checked in the second pass.
    head = _gunzip(raw, _HEADER_PREFIX + 4 * 255, path) if compressed else raw
    dtype, shape = _parse_header(head, path)
    header_len = _HEADER_PREFIX + 4 * len(shape)
    payload_len = dtype.itemsize * math.prod(shape)
    total_len = header_len + payload_len
    # Before decompressing, check the declared size against what the gzip file can hold. (A raw
    # file is already in memory, and its size is compared exactly below.)
    if compressed and total_len > _MAX_DEFLATE_RATIO * len(raw) + 1024:
        raise DataFileError(
            f"IDX file {path} is truncated: expected {payload_len} bytes of data for shape {shape}, "
            f"but the {len(raw)}-byte gzip file cannot hold that many. {_advice(path)}"
        )
    content = _gunzip(raw, total_len, path, verify=True) if compressed else raw
    found = len(content) - header_len
    if found < payload_len:
        raise DataFileError(
            f"IDX file {path} is truncated: expected {payload_len} bytes of data for shape {shape}, "
            f"found {found}. {_advice(path)}"
        )
    if found > payload_len:
        # Only the first byte past the declared size is kept, so only a raw file's excess is counted.
        extra = "trailing bytes" if compressed else f"{found - payload_len} trailing byte(s)"
        raise DataFileError(
            f"IDX file {path} has {extra} after the "
            f"{payload_len} bytes of data its header declares for shape {shape}. {_advice(path)}"
        )
    _check_expected(shape, dtype, path, expected_shape, expected_dtype)
    values = np.frombuffer(content, dtype=dtype, count=math.prod(shape), offset=header_len)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _type_code(dtype: np.dtype) -> int:
    for code, idx_dtype in IDX_DTYPES.items():
        if idx_dtype.newbyteorder("=") == dtype.newbyteorder("="):
            return code
    names = ", ".join(d.newbyteorder("=").name for d in IDX_DTYPES.values())
    raise ValueError(f"IDX cannot store {dtype.name} values; convert the array to one of: {names}.")


def idx_bytes(array: np.ndarray) -> bytes:
    """The uncompressed IDX encoding of ``array``: magic number, big-endian sizes, big-endian values."""
    array = np.asarray(array)
    code = _type_code(array.dtype)
    if not 1 <= array.ndim <= _MAX_NDIM:
        raise ValueError(f"IDX stores arrays with 1 to {_MAX_NDIM} dimensions, got {array.ndim}")
    if any(n >= 2**32 for n in array.shape):
        raise ValueError(f"IDX sizes must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The gzip output is deterministic (mtime 0, no file name in the header, level 9), so the same
    array gives the same bytes with the same zlib. The file is written atomically
    (:func:`gan_helpers.files.atomic_path`). Returns the path written.
    """
    path = Path(path)
    data = idx_bytes(array)
    with atomic_path(path) as tmp:
        if path.name.endswith(".gz"):
            with tmp.open("wb") as raw, gzip.GzipFile(
                filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0
            ) as gz:
                gz.write(data)
        else:
            tmp.write_bytes(data)
    return path
