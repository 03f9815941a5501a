"""CSV and XLSX writers for every export, with one stamp (what, as-of, filters, scope, generated at).

Money columns are int64 cents named `*_cents` (metrics convention). The writers never go through
floats: CSV cells are exact decimal strings (dashboard.export.registry rules), XLSX cells are
Decimal numbers with a currency format, and every total is a sum of Python ints.

CSV convention (docs/exports.md): the first line is the stamp, `# ...`, one cell with no commas or
quotes; the header row is line 2. HTTP downloads also carry the stamp in X-AR-* headers.
XLSX: a stamp block on top of the sheet, the header row (frozen, with filters) below it, the rows,
then a bold totals row computed in Python from cents (not a SUM formula).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from dashboard.auth.audit import audit
from dashboard.export.registry import (
    MONEY_SUFFIX,
    cells_csv,
    cents_to_decimal,
    csv_frame,
    money_name,
    to_csv,
)
from dashboard.format import default_currency, symbol
from dashboard.params import FILTER_PARAMS

XLSX_MAX_ROWS = 1_048_000  # Excel's sheet limit is 1,048,576 rows including the stamp block
APP_NAME = "AR Dashboard"


class ExportTooLarge(ValueError):
    """The rows do not fit the format (an XLSX sheet holds about a million rows)."""


def utc_now() -> dt.datetime:
    """Now in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def one_line(text: Any) -> str:
    """Text safe for the CSV stamp line and a header value: one line, no commas or quotes."""
    cleaned = " ".join(str(text or "").split())
    return cleaned.replace(",", ";").replace('"', "'")


@dataclass(frozen=True)
class Stamp:
    """What an export shows and for whom: printed on every CSV, XLSX, PNG, PDF and email."""

    title: str
    as_of: dt.date | None = None
    filters: str = ""  # human-readable ("due-date aging · segment Retail"), "" for none
    scope: str = ""
    generated_at: dt.datetime = field(default_factory=utc_now)
    user: str | None = None
    currency: str = ""  # several currencies: "USD; foreign amounts at the rates of 2025-03-15"

    @property
    def generated(self) -> str:
        """Generation time as text ("2024-03-05 10:12:00 UTC")."""
        return self.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")

    def parts(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the stamp block."""
        out = []
        if self.as_of is not None:
            out.append(("As of", self.as_of.isoformat()))
        out.append(("Filters", self.filters or "none"))
        if self.currency:
            out.append(("Amounts in", self.currency))
        if self.scope:
            out.append(("Scope", self.scope))
        out.append(("Generated", self.generated + (f" by {self.user}" if self.user else "")))
        return out

    def text(self, separator: str = " | ") -> str:
        """The stamp on one line ("as of 2024-03-01 | filters: ... | scope: ... | generated ...")."""
        pieces = []
        for label, value in self.parts():
            pieces.append(
                f"as of {value}"
                if label == "As of"
                else f"{label.lower()}: {value}"
                if label != "Generated"
                else f"generated {value}"
            )
        return separator.join(pieces)

    def caption(self) -> str:
        """Two lines for an image caption: the title, then the stamp."""
        return f"{self.title}\n{self.text()}"


def money_columns(frame: pd.DataFrame) -> list[str]:
    """The frame's money columns (int cents, `*_cents`)."""
    return [str(c) for c in frame.columns if str(c).endswith(MONEY_SUFFIX)]


def totals_cents(frame: pd.DataFrame, columns: list[str] | None = None) -> dict[str, int]:
    """Exact sums of money columns over every row (Python ints, blanks skipped)."""
    columns = money_columns(frame) if columns is None else columns
    return {c: _exact_total(frame[c]) for c in columns}


def _exact_total(series: pd.Series) -> int:
    """The exact sum of a money column (a Python int): in int64 when no partial sum can overflow
    it (rows x largest magnitude), else one Python int per value."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu" and len(series):
        values = series.to_numpy(dtype=np.int64)
        if int(np.abs(values).max()) * len(values) < 2**63:
            return int(values.sum())
    return sum(int(v) for v in series.tolist() if v is not None and not pd.isna(v))


def decimal_text(cents: int) -> str:
    """1234 -> "12.34" (exact)."""
    return cents_to_decimal(cents)


def totals_text(totals: dict[str, int], taken: set[str]) -> str:
    """ "total amount 2462.39; total overdue 10.00" for the stamp line."""
    return "; ".join(f"total {money_name(c, taken)} {decimal_text(v)}" for c, v in totals.items())


def csv_stamp_line(
    stamp: Stamp, rows: int, totals: dict[str, int] | None = None, columns: set[str] | None = None
) -> str:
    """The first line of every CSV export: `# title | as of | filters | scope | generated | N rows | totals`."""
    pieces = [stamp.title, stamp.text(), f"{rows} row" if rows == 1 else f"{rows} rows"]
    if totals:
        pieces.append(totals_text(totals, columns or set(totals)))
    return "# " + one_line(" | ".join(p for p in pieces if p))


def csv_bytes(frame: pd.DataFrame, stamp: Stamp, total_columns: list[str] | None = None) -> bytes:
    """A stamped CSV (UTF-8): the stamp line, the header row, the rows; money as exact decimals."""
    totals = totals_cents(frame, total_columns)
    line = csv_stamp_line(stamp, len(frame), totals, set(map(str, frame.columns)))
    return (line + "\n" + to_csv(frame)).encode("utf-8")


# ---- XLSX ------------------------------------------------------------------------------------------


def currency_format(currency: str | None) -> str:
    """An Excel number format for amounts in a currency ("$"#,##0.00, negatives with a minus)."""
    sign = symbol(currency).replace('"', "")
    return f'"{sign}"#,##0.00;-"{sign}"#,##0.00;"{sign}"0.00'


def _cell_value(value: Any) -> Any:
    """A Python value openpyxl writes as it is (numpy scalars, NaN, timestamps converted)."""
    if value is None:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | int | str | Decimal):
        return value
    return str(value)


def _money_value(value: Any) -> Decimal | None:
    """Cents as an exact Decimal of currency units (None for blank)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"money in cents must be whole: {value!r}")
    return Decimal(int(value)) / 100


def _label_column(frame: pd.DataFrame) -> int:
    """Index of the column that says "Total" in the totals row (the first non-money column)."""
    for index, column in enumerate(frame.columns):
        if not str(column).endswith(MONEY_SUFFIX):
            return index
    return 0


def xlsx_bytes(
    frame: pd.DataFrame,
    stamp: Stamp,
    currency: str | None = None,
    total_columns: list[str] | None = None,
    sheet: str = "Data",
) -> bytes:
    """A stamped workbook: stamp block, header row (frozen, filterable), rows, exact totals row."""
    from openpyxl import Workbook  # lazy (b): .xlsx exports only, openpyxl 74 ms
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, Side
    from openpyxl.utils import get_column_letter

    if len(frame) > XLSX_MAX_ROWS:
        raise ExportTooLarge(
            f"{len(frame):,} rows do not fit in one sheet (limit {XLSX_MAX_ROWS:,}); export CSV"
        )
    workbook = Workbook(write_only=True)
    workbook.properties.title = stamp.title
    workbook.properties.creator = APP_NAME
    ws = workbook.create_sheet(title=sheet[:31])
    columns = [str(c) for c in frame.columns]
    taken = set(columns)
    names = [money_name(c, taken) if c.endswith(MONEY_SUFFIX) else c for c in columns]
    money = [c.endswith(MONEY_SUFFIX) for c in columns]
    money_fmt = currency_format(currency)
    bold = Font(bold=True)

    def cell(
        value: Any,
        font: Font | None = None,
        number_format: str | None = None,
        border: Border | None = None,
    ):
        item = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            item.data_type = "s"  # text, never a formula
        if font is not None:
            item.font = font
        if number_format is not None:
            item.number_format = number_format
        if border is not None:
            item.border = border
        return item

    for index, name in enumerate(names, start=1):
        width = 16 if money[index - 1] else max(10, min(40, len(name) + 4))
        ws.column_dimensions[get_column_letter(index)].width = width
    block = [[cell(stamp.title, Font(bold=True, size=13))]]
    block += [[cell(label, bold), cell(value)] for label, value in stamp.parts()]
    block += [[cell("Rows", bold), cell(len(frame))]]
    if any(money):
        block += [[cell("Currency", bold), cell(currency or "")]]
    header_row = len(block) + 2
    ws.freeze_panes = f"A{header_row + 1}"
    if len(names):
        ws.auto_filter.ref = (
            f"A{header_row}:{get_column_letter(len(names))}{header_row + max(len(frame), 1)}"
        )
    for row in block:
        ws.append(row)
    ws.append([])
    line = Side(style="thin", color="999999")
    ws.append([cell(name, bold, border=Border(bottom=line)) for name in names])
    date_columns = {
        i for i, c in enumerate(columns) if pd.api.types.is_datetime64_any_dtype(frame[c])
    }
    for values in frame.itertuples(index=False, name=None):
        out = []
        for i, value in enumerate(values):
            if money[i]:
                out.append(cell(_money_value(value), number_format=money_fmt))
            else:
                item = _cell_value(value)
                fmt = (
                    "yyyy-mm-dd"
                    if i in date_columns
                    or (isinstance(item, dt.date) and not isinstance(item, dt.datetime))
                    else None
                )
                out.append(cell(item, number_format=fmt))
        ws.append(out)
    totals = totals_cents(frame, total_columns)
    if totals:
        top = Border(top=line)
        label_at = _label_column(frame)
        row = []
        for i, column in enumerate(columns):
            if column in totals:
                row.append(cell(Decimal(totals[column]) / 100, bold, money_fmt, top))
            else:
                row.append(cell("Total" if i == label_at else None, bold, border=top))
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- audit ------------------------------------------------------------------------------------------


def audit_detail(fmt: str, what: str, stamp: Stamp, rows: int, **extra: Any) -> str:
    """The JSON detail of an export audit row: format, table/chart, as-of, filters, scope, rows."""
    detail = {
        "format": fmt,
        "export": what,
        "as_of": stamp.as_of.isoformat() if stamp.as_of else None,
        "filters": stamp.filters or "none",
        "scope": stamp.scope,
        "rows": rows,
    }
    detail.update({k: v for k, v in extra.items() if v is not None})
    return json.dumps(detail, default=str)


def safe_file_part(text: str, limit: int = 80) -> str:
    """A piece of a file name: letters, digits, - and _ only."""
    cleaned = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in str(text)
    )
    return cleaned.strip("-")[:limit] or "export"


def file_name(
    base: str,
    as_of: dt.date | None,
    basis: str,
    filters: Any,
    fmt: str,
    options: tuple[tuple[str, str], ...] = (),
) -> str:
    """<base>-<as-of>[-<filter>-<value>...].<fmt>: the as-of date and attribute filters, never today's date.

    The aging basis is left out of the name (it is in the stamp): a file differs by what it selects.
    """
    del basis
    parts = [base] + ([as_of.isoformat()] if as_of else [])
    parts += [
        f"{key}-{getattr(filters, key)}" for key in FILTER_PARAMS if getattr(filters, key, None)
    ]
    parts += [f"{key}-{value}" for key, value in options]
    return safe_file_part("-".join(parts), limit=150) + f".{fmt}"


# ---- the grid's downloads ----------------------------------------------------------------------------


def grid_stamp_line(
    stamp_text: str, scope: str, rows: int, totals: dict[str, int], columns: set[str]
) -> str:
    """The "# ..." first line of a grid download: the source's stamp, plus scope and time if missing."""
    pieces = [stamp_text]
    if "scope:" not in stamp_text:
        pieces.append(f"scope: {scope}")
    if "generated" not in stamp_text:
        pieces.append(f"generated {utc_now().strftime('%Y-%m-%d %H:%M:%S UTC')}")
    pieces.append(f"{rows} row" if rows == 1 else f"{rows} rows")
    if totals:
        pieces.append(totals_text(totals, columns))
    return "# " + one_line(" | ".join(p for p in pieces if p))


CSV_CHUNK_ROWS = 5000  # rows per streamed CSV chunk


def csv_chunks(frame: pd.DataFrame, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[str]:
    """The frame as CSV text in pieces (header row first, then `chunk_rows` rows at a time): the same
    text as registry.to_csv(frame), never all of it in memory at once."""
    yield csv_frame(frame.iloc[:0]).to_csv(index=False, lineterminator="\n")
    for start in range(0, len(frame), chunk_rows):
        yield cells_csv(csv_frame(frame.iloc[start : start + chunk_rows]), header=False)


@dataclass
class GridFile:
    """A grid export ready to send: the body (bytes, or CSV text pieces to stream) and its file name."""

    name: str
    fmt: str
    body: bytes | Iterator[str]
    rows: int
    scope: str
    title: str


def query_text(query: Any) -> str:
    """The grid's own sort / column filters / search as stamp text ("" when none)."""
    if query is None:
        return ""
    pieces = []
    if getattr(query, "search", ""):
        pieces.append(f"search '{query.search}'")
    if getattr(query, "filter", None):
        pieces.append(
            "column filters "
            + "; ".join(
                f"{column} {model.get('type') or ''} {model.get('filter') or model.get('dateFrom') or ''}".strip()
                for column, model in query.filter.items()
            )
        )
    if getattr(query, "sort", None):
        pieces.append("sorted by " + "; ".join(f"{m['colId']} {m['sort']}" for m in query.sort))
    return " · ".join(pieces)


def grid_file(
    grid: str,
    gf: Any,
    fmt: str,
    frame: pd.DataFrame,
    query: Any,
    *,
    scope: str,
    user: str | None,
    as_of: dt.date,
    basis: str,
    filters: Any,
) -> GridFile:
    """Every matching row of a grid source (CSV streamed in pieces, or XLSX), stamped and audited.

    `gf` is a dashboard.components.grid.GridFrame built on the server in the user's scope, `frame` the
    rows to write (the grid's filtered and sorted view). The caller has checked that the user may
    export and passes who they are (`scope` label, `user`) and the source's as-of, basis and filters,
    which name the file as before.
    """
    title = gf.stamp or gf.file_name
    narrowed = query_text(query)
    if narrowed:
        title = f"{title} | {narrowed}"
    name = file_name(gf.file_name, as_of, basis, filters, fmt)
    if fmt == "xlsx":
        stamp = Stamp(
            title=title.split(" | ")[0],
            filters=" | ".join(title.split(" | ")[1:]),
            scope=scope,
            user=user,
        )
        body: bytes | Iterator[str] = xlsx_bytes(
            frame, stamp, gf.currency or default_currency(), sheet=safe_file_part(gf.file_name)
        )
    else:
        totals = totals_cents(frame)
        line = grid_stamp_line(title, scope, len(frame), totals, set(map(str, frame.columns)))

        def stream() -> Iterator[str]:
            yield line + "\n"
            yield from csv_chunks(frame)

        body = stream()
    # the grid's stamp text holds what the rows are and the filters they were selected with
    audit(
        "export",
        json.dumps(
            {
                "format": fmt,
                "export": f"grid:{grid}",
                "stamp": title,
                "scope": scope,
                "rows": len(frame),
                "file": gf.file_name,
            }
        ),
    )
    return GridFile(name, fmt, body, len(frame), scope, title)
