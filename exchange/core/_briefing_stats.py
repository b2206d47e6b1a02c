"""The briefing's periods, baselines and exceedance rule (exchange.core.briefing states them in RULES).

Pure arithmetic on dates and counts: the period a briefing covers, the baseline it is compared with,
the part of the baseline the feed holds data for, the expected count, and the Poisson exceedance
test that marks a count above or below its baseline.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PERIODS = ("day", "week", "month")
ALPHA = 0.05  # the exceedance probability below which a change is flagged
MIN_COUNT = 5  # ... and the count (observed for a rise, expected for a fall) it needs


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Whole days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%a} {self.start.day} {self.start:%b %Y}"
        if self.start.year == self.end.year:
            return f"{self.start.day} {self.start:%b} to {self.end.day} {self.end:%b %Y}"
        return f"{self.start.day} {self.start:%b %Y} to {self.end.day} {self.end:%b %Y}"


def _months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_window(kind: str, day: dt.date) -> Window:
    """The period a briefing for `day` covers (see the module docstring)."""
    if kind == "day":
        return Window(day, day)
    if kind == "week":
        return Window(day - dt.timedelta(days=6), day)
    if kind == "month":
        return Window(day.replace(day=1), day)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {kind!r}")


def baseline_window(kind: str, period: Window) -> Window:
    """The days the period is compared with: 28 days, 12 weeks or 12 calendar months before it."""
    end = period.start - dt.timedelta(days=1)
    if kind == "day":
        return Window(period.start - dt.timedelta(days=28), end)
    if kind == "week":
        return Window(period.start - dt.timedelta(days=84), end)
    if kind == "month":
        return Window(_months_back(period.start, 12), end)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {kind!r}")


def covered_window(baseline: Window, first_day: dt.date | None) -> Window | None:
    """The part of the baseline on or after the first day the feed holds data for (None: no part)."""
    if first_day is None or first_day > baseline.end:
        return None
    return Window(max(baseline.start, first_day), baseline.end)


def expected_count(baseline_count: int, covered: Window | None, period: Window) -> float | None:
    """The baseline's average per day times the days of the period (None without a baseline)."""
    if covered is None:
        return None
    return baseline_count / covered.days * period.days


def daily_counts(days: Iterable[dt.date], window: Window) -> tuple[tuple[dt.date, int], ...]:
    """Records per day for every day of `window`, days with none included (as 0)."""
    counts = Counter(d for d in days if d in window)
    return tuple((day, counts[day]) for day in window.each_day())


# --- the exceedance rule ------------------------------------------------------------------------


def _log_pmf(i: int, mean: float) -> float:
    return -mean + i * math.log(mean) - math.lgamma(i + 1)


def poisson_at_least(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k <= mean:
        return max(0.0, 1.0 - poisson_at_most(k - 1, mean))
    total, i = 0.0, k  # the upper tail is the small side: sum it directly
    while True:
        term = math.exp(_log_pmf(i, mean))
        total += term
        if term <= total * 1e-17:
            return min(1.0, total)
        i += 1


def poisson_at_most(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    if k >= mean:
        return max(0.0, 1.0 - poisson_at_least(k + 1, mean))
    return min(1.0, math.fsum(math.exp(_log_pmf(i, mean)) for i in range(k + 1)))


def change_of(observed: int, expected: float | None) -> tuple[str | None, float | None]:
    """("above" | "below" | None, the tail probability of the direction the count moved in)."""
    if expected is None:
        return None, None
    if observed >= expected:
        p = poisson_at_least(observed, expected)
        return ("above" if observed >= MIN_COUNT and p < ALPHA else None), p
    p = poisson_at_most(observed, expected)
    return ("below" if expected >= MIN_COUNT and p < ALPHA else None), p


@dataclass(frozen=True, slots=True)
class Change:
    """One count of the period against its baseline."""

    label: str
    observed: int
    baseline: int  # records in the covered baseline days
    expected: float | None
    change: str | None  # "above", "below" or None
    p: float | None


def compare(label: str, observed: int, baseline: int, covered: Window | None, period: Window) -> Change:
    expected = expected_count(baseline, covered, period)
    change, p = change_of(observed, expected)
    return Change(label, observed, baseline, expected, change, p)
