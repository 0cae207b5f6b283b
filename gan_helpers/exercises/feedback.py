"""The verdict every checker returns, and the helpers the checkers share (calling a student's function, comparing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Feedback"]


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``ok`` and a message (with a hint when not ok)."""

    ok: bool
    message: str

    def __str__(self) -> str:
        return ("Correct: " if self.ok else "Not yet: ") + self.message

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.ok


def _verdict(ok: bool, success: str, hint: str) -> Feedback:
    """Build a ``Feedback``: ``success`` when right, otherwise ``hint``."""
    return Feedback(ok, success if ok else hint)


def _student_result(fn: Callable[..., Any], *args: Any) -> tuple[torch.Tensor | None, Feedback | None]:
    """Call a student's function; return its result as a float64 tensor, or a Feedback saying what failed."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, Feedback(False, "the function is not written yet (it raises NotImplementedError).")
    except Exception as exc:  # a student's bug of any kind becomes a hint, not a traceback
        return None, Feedback(False, f"your function raised {type(exc).__name__}: {exc}")
    if result is None:
        return None, Feedback(False, "your function returned None: did you forget `return`?")
    try:
        return torch.as_tensor(result, dtype=torch.float64).detach(), None
    except (TypeError, ValueError, RuntimeError):
        return None, Feedback(False, f"return a tensor or a number, not {type(result).__name__}.")


def _student_number(
    fn: Callable[..., Any], *args: Any, what: str = "one number"
) -> tuple[float | None, Feedback | None]:
    """Call a student's function that must return one number; return it as a float, or a Feedback saying what failed.

    ``what`` describes the expected number in the hint ("one number (a share between 0 and 1)", say).
    """
    got, problem = _student_result(fn, *args)
    if problem is not None:
        return None, problem
    if got.numel() != 1:
        return None, Feedback(False, f"return {what}, got {got.numel()} values (shape {tuple(got.shape)}).")
    return float(got.reshape(())), None


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> bool:
    """Same shape, all finite, and equal within the tolerances (no broadcasting of a wrong shape)."""
    return a.shape == b.shape and bool(torch.isfinite(a).all()) and torch.allclose(a, b, rtol=rtol, atol=atol)
