"""A whole analytics page as one stamped PDF sheet for a board pack: its tiles, every chart, its main table.

A page adopts it with one line in its layout, `export_menu.page_pdf_button("credit")`, and one entry
here: `register_page_sheet(PageSheet("credit", "Credit utilization", charts=(...), tiles=..., table=...,
path="/credit"))`; with `path`, a subscription to that page attaches this sheet (dashboard.subscriptions).
Charts are the names of dashboard.views.VIEWS (the same builders as the PNG/CSV/XLSX menu),
tiles and tables are pure functions of (snapshot, ChartRequest), so the sheet ties to the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard import format as fmt
from dashboard.export import pdf
from dashboard.export.pdf import Tile
from dashboard.export.tables import Stamp
from dashboard.views import VIEWS, ChartRequest, chart_currency

TABLE_ROWS = 25
TilesFn = Callable[[Any, ChartRequest, str], list[Tile]]
TableFn = Callable[[Any, ChartRequest], tuple[str, pd.DataFrame, dict[str, str]]]


@dataclass(frozen=True)
class PageSheet:
    """What the PDF of one page holds."""

    name: str
    title: str
    charts: tuple[str, ...] = ()
    tiles: TilesFn | None = None
    # (title, frame, {column: header}) - the first TABLE_ROWS rows are printed
    table: TableFn | None = None
    capability: str | None = None
    path: str | None = None  # the screen's path: a subscription to it attaches this sheet


PAGES: dict[str, PageSheet] = {}


def register_page_sheet(sheet: PageSheet) -> None:
    """Make /export/page/<name>.pdf available."""
    PAGES[sheet.name] = sheet


def cell(value: Any, column: str, currency: str) -> str:
    """A table cell as text: money exact, numbers rounded, blanks for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column.endswith("_cents"):
        return fmt.money(int(value), currency)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _table(
    doc: Any, title: str, frame: pd.DataFrame, labels: dict[str, str], currency: str
) -> None:
    """The first TABLE_ROWS rows of a frame, in the columns named by labels, with money totals of every row."""
    columns = [c for c in labels if c in frame.columns]
    if not columns:
        return
    weights = [2.6 if c.endswith("name") or c in ("recommended_action",) else 1.0 for c in columns]
    unit = pdf.CONTENT / sum(weights)
    spec = [
        (
            labels[c],
            w * unit,
            "R" if c.endswith("_cents") or pd.api.types.is_numeric_dtype(frame[c]) else "L",
        )
        for c, w in zip(columns, weights, strict=True)
    ]
    shown = frame.head(TABLE_ROWS)
    rows = [
        [cell(v, c, currency) for c, v in zip(columns, row, strict=True)]
        for row in shown[columns].itertuples(index=False, name=None)
    ]
    total = None
    if any(c.endswith("_cents") for c in columns) and len(frame):
        total = [
            cell(int(frame[c].fillna(0).astype("int64").sum()), c, currency)
            if c.endswith("_cents")
            else ""
            for c in columns
        ]
        total[0] = f"Total of all {len(frame):,}"
    note = (
        (
            f"The first {len(shown):,} of {len(frame):,} rows; the totals cover all of them. The page's CSV/XLSX "
            "export has every row."
        )
        if len(frame) > len(shown)
        else None
    )
    pdf._section(doc, f"{title} ({len(frame):,})", need=30)
    if rows:
        pdf._table(doc, spec, rows, total, note)
    else:
        pdf._font(doc, 8.5, color=pdf.MUTED)
        doc.cell(pdf.CONTENT, 6, "No rows on these filters.", new_x="LMARGIN", new_y="NEXT")


def sheet_for_path(path: str) -> PageSheet | None:
    """The sheet of the page at a screen path ('/collections'), None when the page has none."""
    return next((sheet for sheet in PAGES.values() if sheet.path == path), None)


def page_pdf(sheet: PageSheet, snap: Any, req: ChartRequest, stamp: Stamp) -> tuple[bytes, int]:
    """(PDF bytes, rows in its table) of a page: heading and stamp, tiles, charts two by two, table."""
    cur = chart_currency(snap, req)
    doc = pdf._new_pdf(stamp, stamp.title)
    pdf._heading(
        doc,
        sheet.title,
        stamp,
        f"As of {req.as_of.isoformat()} · amounts in {cur} · board-pack sheet "
        "of the page as shown with these filters",
    )
    if sheet.tiles is not None:
        tiles = sheet.tiles(snap, req, cur)
        pdf._tiles(doc, tiles, per_row=min(5, max(len(tiles), 1)))
        doc.ln(2)
    charts = [c for c in (VIEWS[name].chart(snap, req) for name in sheet.charts) if c is not None]
    for start in range(0, len(charts), 2):
        pair = charts[start : start + 2]
        pdf._charts_row(doc, pair, 62 if len(pair) == 2 else 78)
    rows = 0
    if sheet.table is not None:
        title, frame, labels = sheet.table(snap, req)
        rows = len(frame)
        _table(doc, title, frame, labels, cur)
    return pdf._output(doc), rows


def _register() -> None:
    """The analytics pages' sheets."""
    # lazy (a): page_sheets imports this module (to register its sheets)
    import dashboard.export.page_sheets  # noqa: F401


_register()
