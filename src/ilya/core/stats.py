"""Statistics every report needs: mean, standard error, confidence intervals for means and rates.

>>> s = summarize([1.0, 2.0, 3.0]); round(s.mean, 3), round(s.se, 3)
(2.0, 0.577)
>>> lo, hi = wilson_interval(8, 10); round(lo, 3), round(hi, 3)
(0.49, 0.943)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

# two-sided 95 % Student t quantiles for 1..30 degrees of freedom (beyond: the normal's 1.96)
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042)


@dataclass(frozen=True)
class Summary:
    """n values: their mean, standard error of the mean and a confidence interval for it."""

    n: int
    mean: float
    se: float
    lo: float
    hi: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.se:.2g} (n={self.n})"

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mean": self.mean, "se": self.se, "lo": self.lo, "hi": self.hi}


def t_quantile(df: int, level: float = 0.95) -> float:
    """The two-sided Student t quantile (exact table at 95 %, normal approximation otherwise)."""
    if level == 0.95 and 1 <= df <= len(_T95):
        return _T95[df - 1]
    return NormalDist().inv_cdf(0.5 + level / 2)


def mean_se(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample s.d. / sqrt(n); 0 for fewer than two values)."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("mean_se of no values")
    n = len(xs)
    mean = math.fsum(xs) / n
    if n < 2:
        return mean, 0.0
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, math.sqrt(var / n)


def summarize(values: Iterable[float], level: float = 0.95) -> Summary:
    """`Summary` with a t-interval for the mean."""
    xs = [float(v) for v in values]
    mean, se = mean_se(xs)
    half = t_quantile(len(xs) - 1, level) * se if len(xs) > 1 else 0.0
    return Summary(len(xs), mean, se, mean - half, mean + half, level)


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a success rate (good at 0 %, 100 % and small n)."""
    if trials <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int, level: float = 0.95) -> Summary:
    """A success rate as a `Summary`: binomial standard error and the Wilson interval."""
    p = successes / trials if trials else 0.0
    se = math.sqrt(p * (1 - p) / trials) if trials else 0.0
    lo, hi = wilson_interval(successes, trials, level)
    return Summary(trials, p, se, lo, hi, level)
