"""Exact money strings and the contract's rounding rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np


def money(cents: int) -> str:
    """Integer cents as a decimal string with exactly two places ("-12.05")."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def round2(value: Fraction | int) -> float:
    """An exact rational rounded half-up to 2 decimals, as a JSON number."""
    exact = Fraction(value) * 100
    # round half away from zero on the exact rational, not on a binary approximation
    sign = -1 if exact < 0 else 1
    magnitude = abs(exact)
    whole = magnitude.numerator // magnitude.denominator
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return float(Decimal(sign * whole) / 100)


def ratio(
    numerator: int | Fraction, denominator: int | Fraction, scale: int | Fraction = 1
) -> float | None:
    """numerator / denominator x scale rounded half up to 2 places; None when the denominator is
    zero or negative (BRIEF "Null and rounding")."""
    if denominator <= 0:
        return None
    return round2(Fraction(numerator) * Fraction(scale) / Fraction(denominator))


def mean_days(total_days: int, count: int) -> float | None:
    """A mean number of days rounded to 2 places; None when there is nothing to average."""
    return ratio(total_days, count)


def ratio_array(numerator: np.ndarray, denominator: np.ndarray, scale: int = 100) -> np.ndarray:
    """Element-wise numerator / denominator x scale rounded half-up to 2 places (NaN where the denominator is ≤ 0).

    Integer arithmetic throughout, so results equal ratio() for each element.
    """
    num = np.asarray(numerator, dtype=np.int64) * scale * 100
    den = np.asarray(denominator, dtype=np.int64)
    safe = np.where(den <= 0, 1, den)
    sign = np.sign(num) * np.sign(safe)
    q, r = np.divmod(np.abs(num), np.abs(safe))
    q = q + (2 * r >= np.abs(safe))
    return np.where(den <= 0, np.nan, sign * q / 100)
