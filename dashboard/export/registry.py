"""The tables the UI shows, by export name (the table views of dashboard/views), and their exact CSV
rendering (money to the cent)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics.columns import money_text
from dashboard.metrics.filters import Filters, Scope
from dashboard.views import ChartRequest, View, table_views

TableBuilder = Callable[[Any, dt.date, int, Filters, Scope], pd.DataFrame]
MONEY_SUFFIX = "_cents"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


def _table_builder(view: View) -> TableBuilder:
    def build(
        snapshot: Any, as_of: dt.date, period_days: int, filters: Filters, scope: Scope
    ) -> pd.DataFrame:
        return view.table(snapshot, ChartRequest(as_of, "due", period_days, filters, scope))

    return build


# Export name -> builder(snapshot, as_of, period_days, filters, scope), from the table views of
# dashboard/views. Every builder applies the scope it is given; the API passes the server-side scope
# of the logged-in user.
TABLES: dict[str, TableBuilder] = {name: _table_builder(v) for name, v in table_views().items()}


def cents_to_decimal(value: Any) -> str:
    """Integer cents as a decimal string with exactly 2 places (1234 -> "12.34"); blank for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"money in cents must be whole: {value!r}")
        value = int(value)
    cents = int(value)
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{rest:02d}"


def neutralise_text(value: Any) -> Any:
    """Keep spreadsheet apps from running a text cell as a formula (prefix a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER_RE.match(value):
        return "'" + value
    return value


def money_name(column: str, taken: set[str]) -> str:
    """A money column's CSV name: without the _cents suffix unless that name is taken."""
    name = column[: -len(MONEY_SUFFIX)]
    return name if name and name not in taken else column


def _text_cells(series: pd.Series) -> Any:
    """A text or object column's cells, neutralised (neutralise_text) without a Python call per
    cell where it can: a text column's cells that may start like a formula are found by a
    vectorised test and only those are looked at; an object column of dates (and blanks) holds no
    text at all."""
    if series.dtype != object:
        maybe = series.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
        if not maybe.any():
            return series.array  # as they are (no index: a chunk's rows keep their order)
        cells = series.copy()
        cells[maybe] = [neutralise_text(v) for v in series[maybe].tolist()]
        return cells.array
    if pd.api.types.infer_dtype(series, skipna=True) in ("date", "empty", "integer"):
        return series.array
    return [neutralise_text(v) for v in series.tolist()]


def csv_column(series: pd.Series) -> Any:
    """One column as CSV cells (csv_frame): the values to_csv writes the same text for as it does
    for the cells of csv_frame's plain rules, built without a Python call per cell where it can."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("").tolist()
    numpy = isinstance(series.dtype, np.dtype)
    if numpy and series.dtype.kind == "b":
        return np.where(series.to_numpy(), "true", "false").astype(object)
    if pd.api.types.is_bool_dtype(series):
        return ["true" if v else "false" for v in series.tolist()]
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return _text_cells(series)
    if numpy and series.dtype.kind in "iu":
        return series.to_numpy()
    return series.tolist()


def money_cells(series: pd.Series) -> Any:
    """A money column's cells: exact decimal text ("-12.05"), blank for missing."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        # whole cents, nothing missing: formatted in Arrow's kernels
        return money_text(series.to_numpy())
    return [cents_to_decimal(v) for v in series.tolist()]


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as CSV cells: money as exact decimal strings, dates ISO, text neutralised."""
    out = {}
    taken = set(frame.columns)
    for column in frame.columns:
        series = frame[column]
        if str(column).endswith(MONEY_SUFFIX):
            out[money_name(str(column), taken)] = money_cells(series)
        else:
            out[column] = csv_column(series)
    return pd.DataFrame(out, columns=list(out))


def to_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV text (header row, no index, \\n line endings)."""
    return csv_frame(frame).to_csv(index=False, lineterminator="\n")


def build_table(
    name: str, snapshot: Any, as_of: dt.date, period_days: int, filters: Filters, scope: Scope
) -> pd.DataFrame:
    """Build an exportable table by name; KeyError for an unknown name."""
    return TABLES[name](snapshot, as_of, period_days, filters, scope)
