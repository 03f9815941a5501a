"""Frame columns gathered from the snapshot without one Python object per row.

A drill-down or export at ten million invoices builds frames of millions of rows. Built the plain
way (`pd.DataFrame({"customer_name": snap.cust_name[cust], ...})`), pandas turns each gathered
fixed-width unicode array into its string dtype one value at a time, and `_dates` makes a
datetime.date per row through a Timestamp: most of a drill-down's time. Here, with the same
values and dtypes as the plain way:

- `text(snap, name, rows)`: a customer text column (ids, names, segment, region, rep, terms) as
  one Arrow `take` from the whole column converted once per snapshot and process (kept with it,
  `snap.cache`); `ids(values)` converts gathered ids (one value per row: no per-process copy of
  every id) in Arrow's C++ converter.
- `dates(days)`: day numbers as datetime.date objects (None for no date) taken from a small table
  of the dates the request spans.

When pandas' default string dtype is not Arrow-backed (no pyarrow), the plain way is used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from dashboard.data.ledger_load import NO_DATE
from dashboard.metrics.numbers import money
from dashboard.metrics.snapshot import Snapshot

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - pyarrow is a dependency
    pa = pc = None

EPOCH = dt.date(1970, 1, 1)
# the customer columns a frame may name (snapshot attribute -> kept Arrow array)
TABLE_DAYS = 40_000  # dates() builds a table of the days between the first and last asked for
CUSTOMER_TEXT = ("cust_ids", "cust_name", "segment", "region", "cust_rep", "terms_text")


def _string_dtype() -> Any:
    """pandas' default dtype for text (what pd.Series(<unicode array>) gives)."""
    return pd.Series(np.array(["a"])).dtype


STRING = _string_dtype()
ARROW = (
    pa is not None
    and isinstance(STRING, pd.StringDtype)
    and STRING.storage == "pyarrow"
    and hasattr(pd.arrays, "ArrowStringArray")
)


TEXT = pa.large_string() if pa is not None else None  # what pandas keeps its text in


def _wrap(values: Any) -> Any:
    """An Arrow text array as a pandas array of the default text dtype (no copy when it is
    already large_string, pandas' own layout)."""
    if values.type != TEXT:
        values = values.cast(TEXT)
    # the stubs do not know pandas 3's dtype argument (the default text dtype: NaN for missing)
    return pd.arrays.ArrowStringArray(values, dtype=STRING)  # type: ignore[call-arg]


def cache_key(name: str) -> str:
    """The snapshot cache key of a kept Arrow column (kept: dashboard.metrics.ledger.KEPT_CACHE_KEYS)."""
    return "arrow_text:" + name


def _arrow_column(snap: Snapshot, name: str) -> Any:
    """The whole customer column `name` as one Arrow string array (built once per snapshot)."""
    key = cache_key(name)
    with snap.lock:
        kept = snap.cache.get(key)
    if kept is not None:
        return kept
    built = pa.array(np.asarray(getattr(snap, name)), type=TEXT, from_pandas=True)
    with snap.lock:
        snap.cache[key] = built
    return built


def text(snap: Snapshot, name: str, rows: np.ndarray) -> Any:
    """getattr(snap, name)[rows] as a frame column (the default text dtype)."""
    rows = np.asarray(rows)
    if not ARROW or name not in CUSTOMER_TEXT or rows.dtype == bool:
        return getattr(snap, name)[rows]
    return _wrap(_arrow_column(snap, name).take(pa.array(rows.astype(np.int64, copy=False))))


def ids(values: np.ndarray) -> Any:
    """Gathered text values (one per row) as a frame column (the default text dtype)."""
    values = np.asarray(values)
    if not ARROW or values.dtype.kind not in "UO":
        return values
    return _wrap(pa.array(values, type=TEXT, from_pandas=True))


def labels(choices: tuple[str, ...] | list[str], index: np.ndarray) -> Any:
    """choices[index] per row as a frame column (the default text dtype): one label per row from a
    few (aging buckets, terms groups)."""
    index = np.asarray(index)
    if not ARROW:
        return np.array(choices, dtype=object)[index]
    return _wrap(pa.array(list(choices), type=TEXT).take(pa.array(index.astype(np.int64))))


def money_text(cents: np.ndarray) -> Any:
    """Integer cents as exact decimal text with two places ("-12.05", numbers.money) per row, as a
    frame column (the default text dtype), formatted in Arrow's kernels rather than one Python
    string operation per row."""
    cents = np.asarray(cents).astype(np.int64, copy=False)
    if not ARROW:
        return np.array([money(int(v)) for v in cents], dtype=object)
    magnitude = np.abs(cents)
    whole = pc.cast(pa.array(magnitude // 100), TEXT)
    part = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), TEXT), 2, "0")
    sign = pc.if_else(pa.array(cents < 0), pa.scalar("-", TEXT), pa.scalar("", TEXT))
    signed = pc.binary_join_element_wise(sign, whole, pa.scalar("", TEXT))
    return _wrap(pc.binary_join_element_wise(signed, part, pa.scalar(".", TEXT)))


def relabel(series: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """series.map(lambda v: mapping.get(v, v)) computed once per distinct value (bucket keys to
    their labels over millions of rows)."""
    if not ARROW or series.dtype != STRING:
        return series.map(lambda v: mapping.get(v, v))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = pa.array([mapping.get(v, v) for v in uniques], type=TEXT)
    picked = labels.take(pa.array(codes, mask=codes < 0))
    return pd.Series(_wrap(picked), index=series.index, name=series.name)


def customer_columns(snap: Snapshot, cust: np.ndarray) -> dict[str, Any]:
    """Identity columns of each customer position in cust."""
    return {
        "customer_id": text(snap, "cust_ids", cust),
        "customer_name": text(snap, "cust_name", cust),
        "segment": text(snap, "segment", cust),
        "region": text(snap, "region", cust),
        "sales_rep_id": text(snap, "cust_rep", cust),
    }


def dates(days: np.ndarray) -> pd.Series:
    """Day numbers as datetime.date objects, None for no date (an object Series)."""
    days = np.asarray(days).astype(np.int64, copy=False)
    known = days != NO_DATE
    out = np.full(len(days), None, dtype=object)
    if known.any():
        lo, hi = int(days[known].min()), int(days[known].max())
        if hi - lo > max(TABLE_DAYS, len(days)):  # a few far-apart dates: one conversion each
            out[known] = days[known].astype("datetime64[D]").astype(object)
            return pd.Series(out, dtype=object)
        first = EPOCH + dt.timedelta(days=lo)
        table = np.empty(hi - lo + 1, dtype=object)
        table[:] = [first + dt.timedelta(days=k) for k in range(hi - lo + 1)]
        out[known] = table[days[known] - lo]
    return pd.Series(out, dtype=object)
