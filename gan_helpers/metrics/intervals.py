r"""How sure a measured mean is: Student-t confidence intervals, for paired differences above all.

Comparing two methods on the same test items (two inpainting methods on the same digits, a
classifier with and without augmentation on the same seed) is done best on the *paired
differences* :math:`d_i = a_i - b_i`: whatever makes one item hard for both cancels. With :math:`n`
differences of mean :math:`\bar d` and sample standard deviation :math:`s`, the two-sided interval

.. math:: \bar d \pm t_{1 - \alpha/2,\, n-1}\, \frac{s}{\sqrt n}

covers the true mean difference with probability :math:`1 - \alpha` when the :math:`d_i` are
independent and roughly normal (for :math:`n \gtrsim 30` the central limit theorem makes the second
condition mild). An interval that excludes 0 is the evidence that "A beats B"; one that straddles 0
says the measurement cannot tell.

With the two to five seeds a training run affords, an interval is too wide to be useful, and the series
uses the plainer rule of :func:`seed_verdict`: "A beats B" only when the gap between the means exceeds the
spread of the seeds; otherwise they are indistinguishable at this budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

__all__ = ["MeanInterval", "mean_interval", "paired_difference", "seed_verdict", "student_t_quantile"]


def student_t_quantile(p: float, dof: int) -> float:
    r"""The quantile :math:`t_{p,\nu}` of Student's t distribution with ``dof`` :math:`\nu` degrees of freedom.

    From the normal quantile :math:`z = \Phi^{-1}(p)` by the Cornish-Fisher expansion in :math:`1/\nu`,

    .. math:: t = z + \frac{z^3 + z}{4\nu} + \frac{5z^5 + 16z^3 + 3z}{96\nu^2}
              + \frac{3z^7 + 19z^5 + 17z^3 - 15z}{384\nu^3}
              + \frac{79z^9 + 776z^7 + 1482z^5 - 1920z^3 - 945z}{92160\nu^4},

    accurate to about :math:`10^{-3}` for :math:`\nu \ge 5` at :math:`p = 0.975` (the tests compare it
    with an exact quantile); for :math:`\nu < 5` it is refused rather than returned inaccurately.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p}")
    if dof < 5:
        raise ValueError(f"need at least 5 degrees of freedom (6 values) for this approximation, got {dof}")
    z = float(torch.special.ndtri(torch.tensor(p, dtype=torch.float64)))
    v = float(dof)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


class MeanInterval(NamedTuple):
    """A sample mean with its two-sided confidence interval (``low``, ``high``) over ``n`` values."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0: the sign of the mean is established."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.mean:+.2f} ({self.confidence:.0%} CI {self.low:+.2f} to {self.high:+.2f}, n = {self.n})"


def mean_interval(values: torch.Tensor | Sequence[float], confidence: float = 0.95) -> MeanInterval:
    r"""Mean of ``values`` with the Student-t interval :math:`\bar x \pm t_{1-\alpha/2,\,n-1}\, s / \sqrt n`."""
    x = torch.as_tensor(values, dtype=torch.float64).flatten()
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    if not torch.isfinite(x).all():
        raise ValueError("values must be finite (a NaN or infinity has no place in a mean)")
    n = len(x)
    if n < 6:
        raise ValueError(f"need at least 6 values for a confidence interval, got {n}")
    mean = float(x.mean())
    half = student_t_quantile(0.5 + confidence / 2, n - 1) * float(x.std()) / math.sqrt(n)
    return MeanInterval(mean, mean - half, mean + half, n, confidence)


def paired_difference(
    a: torch.Tensor | Sequence[float], b: torch.Tensor | Sequence[float], confidence: float = 0.95
) -> MeanInterval:
    r"""Mean of the paired differences :math:`a_i - b_i` with its confidence interval (:func:`mean_interval`).

    ``a`` and ``b`` hold one score per test item, in the same order (the same digits, the same seeds).
    """
    a, b = torch.as_tensor(a, dtype=torch.float64).flatten(), torch.as_tensor(b, dtype=torch.float64).flatten()
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one value per item in both: got {len(a)} and {len(b)} values")
    return mean_interval(a - b, confidence)


def seed_verdict(
    a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("A", "B"), lower_is_better: bool = True
) -> str:
    r"""The series' rule for a comparison over seeds: one method beats the other only when the gap between the
    two means exceeds the spread of the seeds, taken as the sum of the two ranges,

    .. math:: |\bar a - \bar b| > (\max_i a_i - \min_i a_i) + (\max_j b_j - \min_j b_j).

    With two seeds per method this asks for a gap of about two standard deviations of the difference of the means
    (the range of two draws is about 1.13 sigma), so a gap at the edge of the spread decides nothing. Each method
    needs at least two seeds: a single seed has no spread to compare with. Returns "A beats B", "B beats A" or
    "A and B are indistinguishable at this budget".
    """
    a, b = [float(v) for v in a], [float(v) for v in b]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least two seeds per method to see their spread, got {len(a)} and {len(b)}")
    if not all(math.isfinite(v) for v in a + b):
        raise ValueError("a seed's value is not finite (NaN or inf): a diverged run is a result to report, not average")
    gap = sum(a) / len(a) - sum(b) / len(b)
    spread = (max(a) - min(a)) + (max(b) - min(b))
    if abs(gap) <= spread:
        return f"{names[0]} and {names[1]} are indistinguishable at this budget"
    a_better = gap < 0 if lower_is_better else gap > 0
    return f"{names[0]} beats {names[1]}" if a_better else f"{names[1]} beats {names[0]}"
