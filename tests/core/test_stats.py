"""ilya.core.stats against hand-computed values and scipy."""

from __future__ import annotations

import math

import pytest

from ilya.core.stats import mean_se, rate, summarize, t_quantile, wilson_interval


def test_mean_se_by_hand() -> None:
    m, se = mean_se([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5
    assert se == pytest.approx(math.sqrt(((1.5**2 + 0.5**2) * 2 / 3) / 4))
    assert mean_se([7.0]) == (7.0, 0.0)
    with pytest.raises(ValueError):
        mean_se([])


def test_t_interval_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    xs = [0.3, 0.1, 0.5, 0.2, 0.4]
    s = summarize(xs)
    lo, hi = stats.t.interval(0.95, len(xs) - 1, loc=s.mean, scale=stats.sem(xs))
    assert (s.lo, s.hi) == (pytest.approx(lo, abs=1e-3), pytest.approx(hi, abs=1e-3))
    for df in (1, 2, 10, 30):
        assert t_quantile(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-3)


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-3)
    r = rate(45, 100)
    assert r.mean == 0.45 and r.se == pytest.approx(math.sqrt(0.45 * 0.55 / 100))
    assert r.lo < 0.45 < r.hi
