"""The tables the UI shows, by export name (the table views of dashboard/views), and their exact CSV
rendering (money to the cent)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics.columns import money_text

try:  # Arrow writes big CSVs (pyarrow is a dependency; the plain path stays for any other column)
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - pyarrow is installed with the app
    pa = pc = None
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
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.array  # nullable integers: written as the numbers, <NA> blank
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
    return cells_csv(csv_frame(frame))


def _quoted_characters() -> tuple[str, ...]:
    """The characters that make the csv module quote a field (QUOTE_MINIMAL, "\\n" lines): the
    delimiter, the quote and the line terminator, and a lone "\\r" only in some Python versions."""
    probe = io.StringIO()
    csv.writer(probe, lineterminator="\n").writerow(["\r", "x"])
    return (",", '"', "\n") + (("\r",) if probe.getvalue().startswith('"') else ())


QUOTED = _quoted_characters()
NEEDS_QUOTES = "[" + "".join(QUOTED).replace("\r", "\\r").replace("\n", "\\n") + "]"  # RE2


def cells_csv(cells: pd.DataFrame, header: bool = True) -> str:
    """csv_frame's cells as the text `cells.to_csv(index=False, header=header,
    lineterminator="\\n")` writes, byte for byte. Columns of text (or blanks) and of integers are
    quoted and joined in Arrow's kernels, a few times quicker than pandas' row-by-row writer on
    millions of rows; a frame with any other column, or a single column, goes to pandas."""
    arrays = _arrow_cells(cells) if len(cells.columns) > 1 and len(cells) else None
    if arrays is None:
        return cells.to_csv(index=False, header=header, lineterminator="\n")
    head = io.StringIO()
    if header:
        csv.writer(head, lineterminator="\n").writerow([str(c) for c in cells.columns])
    empty = pa.scalar("", pa.large_string())
    rows = pc.binary_join_element_wise(*arrays, pa.scalar(",", pa.large_string()))
    lines = pc.binary_join_element_wise(rows, empty, pa.scalar("\n", pa.large_string()))
    return head.getvalue() + _joined(lines)


def _joined(lines: Any) -> str:
    """The strings of an Arrow large_string array, one after another."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = lines.buffers()[2]
    if data is None:
        return ""
    return data.to_pybytes()[int(offsets[0]) : int(offsets[-1])].decode("utf-8")


def _may_need_quotes(text: Any) -> bool:
    """Whether any cell of an Arrow text array may hold a character that needs quotes (a look
    through its bytes at memchr speed; the buffer may hold a little more than the array)."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    data = text.buffers()[2]
    if data is None:
        return False
    raw = memoryview(data).tobytes()
    return any(raw.find(c.encode()) >= 0 for c in QUOTED)


def _arrow_cells(cells: pd.DataFrame) -> list[Any] | None:
    """Each column as Arrow text cells quoted as the csv module would, or None when a column is
    neither text nor integers (floats, dates, mixed objects: pandas writes those)."""
    if pa is None:
        return None
    out = []
    for column in cells.columns:
        values = cells[column]
        if pd.api.types.is_integer_dtype(values.dtype):  # numpy or nullable (<NA> blank)
            ints = pa.array(
                values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
            )
            out.append(pc.fill_null(pc.cast(ints, pa.large_string()), ""))
            continue
        if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
            # as pandas writes a float column: numpy's str of each value, NaN blank
            floats = values.to_numpy()
            text = np.where(np.isnan(floats), "", floats.astype(str))
            out.append(pa.array(text, type=pa.large_string()))
            continue
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            return None
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "date":
            dates = pa.array(values.array, type=pa.date32(), from_pandas=True)
            out.append(pc.fill_null(pc.cast(dates, pa.large_string()), ""))  # ISO, as str(date)
            continue
        try:
            text = pa.array(values.array, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # not all text
        if not _may_need_quotes(text):
            out.append(pc.fill_null(text, ""))
            continue
        mark = pa.scalar('"', pa.large_string())
        quoted = pc.binary_join_element_wise(
            mark, pc.replace_substring(text, '"', '""'), mark, pa.scalar("", pa.large_string())
        )
        text = pc.if_else(pc.match_substring_regex(text, NEEDS_QUOTES), quoted, text)
        out.append(pc.fill_null(text, ""))
    return out


def build_table(
    name: str, snapshot: Any, as_of: dt.date, period_days: int, filters: Filters, scope: Scope
) -> pd.DataFrame:
    """Build an exportable table by name; KeyError for an unknown name."""
    return TABLES[name](snapshot, as_of, period_days, filters, scope)
