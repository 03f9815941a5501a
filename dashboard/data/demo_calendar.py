"""Vectorised calendar helpers on day numbers (int64 days since 1970-01-01)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

EPOCH = dt.date(1970, 1, 1)
# Relative invoice volume by calendar month (January first): a Q4 peak and a summer dip.
MONTH_WEIGHT = np.array(
    [0.85, 0.88, 1.0, 0.96, 0.98, 0.97, 0.88, 0.9, 1.04, 1.12, 1.22, 1.3], dtype=np.float64
)
WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.06, 0.03], dtype=np.float64)  # Monday first
ANNUAL_GROWTH = 0.10

Days = npt.NDArray[np.int64]  # day numbers


def to_day(value: dt.date) -> int:
    """A date as days since 1970-01-01."""
    return (value - EPOCH).days


def weekday(days: Days) -> Days:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def month_start(days: Days) -> Days:
    """The first day of each day's month."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def next_month_start(days: Days) -> Days:
    """The first day of the following month."""
    months = days.astype("datetime64[D]").astype("datetime64[M]") + 1
    return months.astype("datetime64[D]").astype(np.int64)


def month_of_year(days: Days) -> Days:
    """Calendar month 0..11."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def due_dates(issue: Days, terms_days: Days, eom: npt.NDArray[np.bool_]) -> Days:
    """issue + terms (net), or the end of the issue month + terms (eom)."""
    base = np.where(eom, next_month_start(issue) - 1, issue)
    return base + terms_days


def to_business_day(days: Days) -> Days:
    """Move Saturdays and Sundays forward to the next Monday."""
    wd = weekday(days)
    return days + np.where(wd >= 5, 7 - wd, 0)


def next_weekday(days: Days, target: Days) -> Days:
    """The first day on or after each day that falls on the target weekday."""
    return days + (target - weekday(days)) % 7


def day_weights(start: int, end: int) -> npt.NDArray[np.float64]:
    """Relative invoice volume per day in [start, end]: season, weekday and growth."""
    days = np.arange(start, end + 1)
    growth = (1 + ANNUAL_GROWTH) ** ((days - start) / 365.25)
    return MONTH_WEIGHT[month_of_year(days)] * WEEKDAY_WEIGHT[weekday(days)] * growth


def sample_days(
    rng: np.random.Generator, weights: npt.NDArray[np.float64], low: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """One day index per row, drawn from weights restricted to [low, len(weights) - 1]."""
    cum: npt.NDArray[np.float64] = np.concatenate(([0.0], np.cumsum(weights)))
    lo = cum[low]
    target: npt.NDArray[np.float64] = lo + rng.random(len(low)) * (cum[-1] - lo)
    idx = np.searchsorted(cum, target, side="right") - 1
    return np.clip(idx, low, len(weights) - 1)


NO_DAY = np.iinfo(np.int64).min  # becomes NaT


def to_datetime(days: np.ndarray) -> np.ndarray:
    """Day numbers as datetime64[ns] (NO_DAY becomes NaT)."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
