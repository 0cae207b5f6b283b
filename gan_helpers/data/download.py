"""How long a download may take: a per-read timeout, an overall deadline per file and a minimum average rate.

The defaults, and why:

- :data:`DOWNLOAD_TIMEOUT_S` = 30 s without a single byte ends the attempt (a hung server); the same
  timeout bounds connecting. It is also how far the deadline can be overrun: limits are checked
  each time a read returns.
- :data:`DOWNLOAD_MIN_RATE` = 20 kB/s, averaged over the whole download once the first
  :data:`DOWNLOAD_GRACE_S` = 20 s have passed (time enough for DNS, TLS and a slow start): a server
  that trickles (one byte every 2 s) fails after 20 s, where the per-read timeout never fires. 20 kB/s
  (160 kbit/s) is slower than any link on which the course is usable.
- :data:`DOWNLOAD_DEADLINE_S` = 30 min per file and mirror: the backstop. At the minimum rate the
  largest file (Fashion-MNIST's 26 MB training images) needs 22 minutes, so the deadline never
  stops a download that the rate check lets through.

A failed attempt raises :class:`DownloadTooSlowError` (a ``ConnectionError``), so the loaders try
the next mirror.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DOWNLOAD_DEADLINE_S",
    "DOWNLOAD_GRACE_S",
    "DOWNLOAD_MIN_RATE",
    "DOWNLOAD_TIMEOUT_S",
    "DownloadLimits",
    "DownloadTooSlowError",
    "copy_response",
]

DOWNLOAD_TIMEOUT_S = 30.0
DOWNLOAD_DEADLINE_S = 1800.0
DOWNLOAD_MIN_RATE = 20_000.0
DOWNLOAD_GRACE_S = 20.0

_CHUNK = 1 << 16


class DownloadTooSlowError(ConnectionError):
    """A download went past its deadline, fell below the minimum average rate, or stalled past the read timeout."""


def _check_number(name: str, value: float, allow_zero: bool, allow_inf: bool) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive number (or zero / infinity where allowed)."""
    ok = isinstance(value, int | float) and not math.isnan(value) and (value > 0 or (allow_zero and value == 0))
    if not ok or (math.isinf(value) and not allow_inf):
        extra = " or 0 to switch it off" if allow_zero else " or math.inf for none" if allow_inf else ""
        raise ValueError(f"{name} must be a positive number of {'B/s' if name == 'min_rate' else 's'}{extra}, "
                         f"got {value!r}")


@dataclass(frozen=True)
class DownloadLimits:
    """``timeout`` s per read (and to connect); ``deadline`` s per file and mirror (``math.inf``: none);
    at least ``min_rate`` bytes/s on average once ``grace`` s have passed (0: no minimum)."""

    timeout: float = DOWNLOAD_TIMEOUT_S
    deadline: float = DOWNLOAD_DEADLINE_S
    min_rate: float = DOWNLOAD_MIN_RATE
    grace: float = DOWNLOAD_GRACE_S

    def __post_init__(self) -> None:
        _check_number("timeout", self.timeout, allow_zero=False, allow_inf=False)
        _check_number("deadline", self.deadline, allow_zero=False, allow_inf=True)
        _check_number("min_rate", self.min_rate, allow_zero=True, allow_inf=False)
        _check_number("grace", self.grace, allow_zero=True, allow_inf=False)

    def describe(self) -> str:
        """The limits in words, for error messages."""
        deadline = "no deadline" if math.isinf(self.deadline) else f"a deadline of {self.deadline:g} s"
        return (f"{deadline}, at least {self.min_rate:,.0f} B/s after {self.grace:g} s, "
                f"{self.timeout:g} s per read")

    def check(self, url: str, received: int, elapsed: float) -> None:
        """Raise :class:`DownloadTooSlowError` if ``received`` bytes after ``elapsed`` s break a limit."""
        rate = received / elapsed if elapsed > 0 else math.inf
        progress = f"{received:,} bytes in {elapsed:.1f} s ({rate:,.1f} B/s)"
        if elapsed > self.deadline:
            raise DownloadTooSlowError(
                f"{url} did not finish within the deadline of {self.deadline:g} s: {progress}. "
                "Try another mirror, or allow more time with deadline=."
            )
        if elapsed > self.grace and rate < self.min_rate:
            raise DownloadTooSlowError(
                f"{url} is too slow: {progress}, below the minimum average rate of {self.min_rate:,.0f} B/s "
                f"required after the first {self.grace:g} s (deadline {self.deadline:g} s). Try another mirror, "
                "or allow slower downloads with min_rate= (0: no minimum) and deadline=."
            )


def copy_response(
    response: Any,
    url: str,
    limits: DownloadLimits,
    on_chunk: Callable[[bytes], None],
    start: float | None = None,
) -> int:
    """Read ``response`` to its end, passing each chunk to ``on_chunk``; returns the number of bytes.

    Reads with ``read1`` (one network read at a time, so a trickle of bytes returns control) and
    checks ``limits`` after each read, the clock starting at ``start`` (``time.monotonic()``; default:
    now). A read that waits longer than ``limits.timeout`` raises :class:`DownloadTooSlowError` too.
    """
    start = time.monotonic() if start is None else start
    read = getattr(response, "read1", response.read)
    received = 0
    while True:
        try:
            chunk = read(_CHUNK)
        except TimeoutError:
            raise DownloadTooSlowError(
                f"{url} sent nothing for {limits.timeout:g} s (the read timeout) after {received:,} bytes: "
                "the server hangs. Try another mirror, or allow longer waits with timeout=."
            ) from None
        if not chunk:
            return received
        on_chunk(chunk)
        received += len(chunk)
        limits.check(url, received, time.monotonic() - start)
