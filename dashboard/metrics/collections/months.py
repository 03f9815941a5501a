"""Months of the dispute and promise tables: the month frame of the last N months and month keys of day numbers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.metrics.tables import month_ends


def month_key(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM' of each day number."""
    return np.datetime_as_string(
        np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]"), unit="M"
    ).astype(object)


def month_number(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of each day number."""
    return (
        np.asarray(days, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def month_frame(as_of: dt.date, months: int) -> pd.DataFrame:
    spans = month_ends(as_of, months)
    return pd.DataFrame(
        {
            "month": [s.strftime("%Y-%m") for s, _ in spans],
            "start": [s for s, _ in spans],
            "end": [e for _, e in spans],
        }
    )
