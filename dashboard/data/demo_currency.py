"""Currencies in the demo ledger: about a fifth of the customers abroad, with daily rates that drift.

Drawn from their own random stream (seeded from the demo seed), so the rest of the ledger is the
same whichever currencies are asked for, and `--currencies USD` gives a single-currency ledger.
Amounts stay as generated, read in the customer's currency (the currencies used are all within a
factor of two of the dollar, so the sizes stay plausible).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.data.demo_calendar import to_datetime

DEFAULT_CURRENCIES = ("USD", "EUR", "GBP", "CAD")
# start of the window
USD_VALUE = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.74, "CHF": 1.12, "AUD": 0.66}
FOREIGN_SHARE = 0.2  # of customers
FOREIGN_WEIGHTS = (0.5, 0.3, 0.2, 0.1, 0.1)  # the first foreign currency is the most common
DAILY_VOLATILITY = 0.004  # about 6 % a year, like the major currency pairs
MEAN_REVERSION = 0.002  # a slow pull back to the start value, so three years never run away
RATE_DECIMALS = 6
STREAM = 1515  # the currency stream's key beside the demo seed


def _walk(rng: np.random.Generator, start: float, days: int) -> np.ndarray:
    """A mean-reverting random walk of log rates, one value per day."""
    shocks = rng.normal(0.0, DAILY_VOLATILITY, days)
    out = np.empty(days)
    level = 0.0
    for i, shock in enumerate(shocks):
        level += shock - MEAN_REVERSION * level
        out[i] = level
    return start * np.exp(out)


def fx_rates_frame(
    rng: np.random.Generator, base: str, foreign: list[str], first_day: int, last_day: int
) -> pd.DataFrame:
    """Daily rates (units of base per unit) for each foreign currency from first_day to last_day."""
    days = np.arange(first_day, last_day + 1)
    parts = []
    for code in foreign:
        start = USD_VALUE.get(code, 1.0) / USD_VALUE.get(base, 1.0)
        rate = np.round(_walk(rng, start, len(days)), RATE_DECIMALS)
        parts.append(
            pd.DataFrame(
                {
                    "currency": code,
                    "date": to_datetime(days),
                    "rate_e10": np.rint(rate * 10**RATE_DECIMALS).astype(np.int64)
                    * 10 ** (10 - RATE_DECIMALS),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "currency": pd.Series([], dtype=object),
                "date": pd.Series([], dtype="datetime64[ns]"),
                "rate_e10": pd.Series([], dtype=np.int64),
            }
        )
    return pd.concat(parts, ignore_index=True)


def add_currencies(
    frames: dict[str, pd.DataFrame],
    seed: int,
    first_day: int,
    last_day: int,
    base: str,
    currencies: tuple[str, ...],
) -> None:
    """Give customers, invoices and payments a currency, and add the fx_rates frame (in place)."""
    rng = np.random.default_rng([seed, STREAM])
    foreign = [c.upper() for c in currencies if c.upper() != base]
    cust = frames["customers"]
    code = np.full(len(cust), base, dtype=object)
    if foreign:
        weights = np.asarray(FOREIGN_WEIGHTS[: len(foreign)], dtype=float)
        abroad = rng.random(len(cust)) < FOREIGN_SHARE
        code = np.where(
            abroad,
            np.asarray(foreign, dtype=object)[
                rng.choice(len(foreign), len(cust), p=weights / weights.sum())
            ],
            base,
        )
    cust["currency"] = code
    of = dict(zip(cust["customer_id"], code, strict=True))
    for table in ("invoices", "payments"):
        frames[table]["currency"] = frames[table]["customer_id"].map(of).to_numpy(dtype=object)
    frames["fx_rates"] = fx_rates_frame(rng, base, foreign, first_day, last_day)
