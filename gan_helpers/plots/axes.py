r"""Axis helpers shared by every plot module: plain tick labels on log axes that span a narrow range.

On a log axis that spans less than about a decade, matplotlib labels the minor ticks in mathtext as
:math:`2\times10^{0}`, :math:`3\times10^{0}`, ... :func:`plain_log_ticks` makes them read ``2``, ``3``, ...
while leaving wide axes (decade labels :math:`10^{-3}`, :math:`10^{0}`, ...) as they are.
"""

from __future__ import annotations

import math
from typing import Literal

from matplotlib import ticker
from matplotlib.axes import Axes

__all__ = ["PlainLogFormatter", "plain_log_ticks"]


class PlainLogFormatter(ticker.LogFormatterSciNotation):
    r"""Matplotlib's log formatter, but with plain numbers (``"2.5"``, ``"0.03"``) on a narrow axis.

    Which ticks get a label is matplotlib's choice, unchanged; only the text differs. The axis counts as
    narrow while its view interval :math:`[a, b]` spans at most ``max_decades`` decades,
    :math:`\log_{10}(b / a) \le` ``max_decades``; that is decided at draw time, so it follows later changes
    of the limits.
    """

    def __init__(self, *args: object, max_decades: float = 2.0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.max_decades = max_decades

    def narrow(self) -> bool:
        """True while the axis' view interval spans at most ``max_decades`` decades (and is positive)."""
        if self.axis is None:
            return False
        low, high = sorted(self.axis.get_view_interval())
        return low > 0 and math.log10(high / low) <= self.max_decades

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = super().__call__(x, pos)
        if not text or not self.narrow():
            return text
        return f"{x:.3g}"


def plain_log_ticks(ax: Axes, axis: Literal["x", "y", "both"] = "y", max_decades: float = 2.0) -> Axes:
    """Give ``ax``'s log ``axis`` (``"x"``, ``"y"`` or ``"both"``) plain tick labels while it spans at most
    ``max_decades`` decades (:class:`PlainLogFormatter`); linear axes are left alone.

    Call it after the last ``semilogy``/``set_yscale("log")`` on ``ax``: setting the scale resets the formatters.
    Returns ``ax``.
    """
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both', got {axis!r}")
    chosen = [ax.xaxis, ax.yaxis] if axis == "both" else [ax.xaxis if axis == "x" else ax.yaxis]
    for which in chosen:
        if which.get_scale() != "log":
            continue
        base = which.get_transform().base
        which.set_major_formatter(PlainLogFormatter(base, max_decades=max_decades))
        which.set_minor_formatter(PlainLogFormatter(base, labelOnlyBase=False, max_decades=max_decades))
    return ax
