"""Exchange rates and exact conversion to the base currency (BRIEF "Multi-currency").

A rate is held as an integer: units of the base currency for one unit of a currency, times 10**10
(the contract allows up to 10 decimals). Converting cents multiplies by that integer and divides
by 10**10, rounding half up (away from zero) to the cent, exactly, on int64 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

RATE_SCALE = 10**10
ONE = RATE_SCALE  # the base currency's rate
HALF = RATE_SCALE // 2


def convert(cents: np.ndarray, rate_e10: np.ndarray | int) -> npt.NDArray[np.int64]:
    """cents x rate / 10**10, rounded half up to whole cents, exactly.

    A float64 quotient is within one cent of the answer; the remainder cents x rate - q x 10**10 is
    small, so int64 arithmetic (which wraps on overflow of the intermediate products) gives it
    exactly, and one or two corrections make q the exact half-up result.
    """
    cents = np.asarray(cents, dtype=np.int64)
    rate = np.broadcast_to(np.asarray(rate_e10, dtype=np.int64), cents.shape)
    magnitude = np.abs(cents)
    q = np.rint(magnitude.astype(np.float64) * (rate.astype(np.float64) / RATE_SCALE)).astype(
        np.int64
    )
    with np.errstate(over="ignore"):
        rem = magnitude * rate - q * RATE_SCALE  # exact: the true value is within a few 10**10
    for _ in range(2):
        down = rem < -HALF
        q = np.where(down, q - 1, q)
        rem = np.where(down, rem + RATE_SCALE, rem)
        up = rem >= HALF
        q = np.where(up, q + 1, q)
        rem = np.where(up, rem - RATE_SCALE, rem)
    converted: npt.NDArray[np.int64] = np.where(cents < 0, -q, q)
    return converted


def convert_one(cents: int, rate_e10: int) -> int:
    """One amount converted (Python integers, same rule as convert)."""
    q, rem = divmod(abs(int(cents)) * int(rate_e10), RATE_SCALE)
    q += 1 if 2 * rem >= RATE_SCALE else 0
    return -q if cents < 0 else q


@dataclass
class Rates:
    """Rates per currency (index into codes; 0 is the base currency) as sorted day arrays."""

    codes: list[str]
    days: list[np.ndarray]
    values: list[np.ndarray]

    @property
    def base(self) -> str:
        """The base currency code."""
        return self.codes[0]

    @property
    def multi(self) -> bool:
        """True when the ledger holds more than the base currency."""
        return len(self.codes) > 1

    def at(self, day: int) -> np.ndarray:
        """The rate of every currency in force at the end of day (first known rate if none yet)."""
        out = np.full(len(self.codes), ONE, dtype=np.int64)
        for g in range(1, len(self.codes)):
            out[g] = self._lookup(g, np.array([day]))[0]
        return out

    def on(self, cur: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The rate of each (currency, day) pair."""
        out = np.full(len(cur), ONE, dtype=np.int64)
        for g in range(1, len(self.codes)):
            mine = np.flatnonzero(cur == g)
            if len(mine):
                out[mine] = self._lookup(g, days[mine])
        return out

    def _lookup(self, g: int, days: np.ndarray) -> np.ndarray:
        known, values = self.days[g], self.values[g]
        if len(known) == 0:
            return np.full(len(days), ONE, dtype=np.int64)  # the importer refuses such ledgers
        pos = np.searchsorted(known, days, side="right") - 1
        return values[np.maximum(pos, 0)]


def build_rates(base: str, codes_in_use: set[str], frame: pd.DataFrame | None) -> Rates:
    """Rates for the base currency first, then every other currency in use, sorted by code."""
    codes = [base] + sorted(c for c in codes_in_use if c and c != base)
    days: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
    values: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for code in codes[1:]:
        part = frame.loc[frame["currency"] == code] if frame is not None and len(frame) else None
        if part is None or part.empty:
            days.append(np.zeros(0, dtype=np.int32))
            values.append(np.zeros(0, dtype=np.int64))
            continue
        part = part.sort_values("date", kind="stable")
        days.append(pd.to_numeric(part["date"]).to_numpy(dtype=np.int64).astype(np.int32))
        values.append(pd.to_numeric(part["rate_e10"]).to_numpy(dtype=np.int64))
    return Rates(codes, days, values)
