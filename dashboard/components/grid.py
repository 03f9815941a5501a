"""`data_grid(id)`: an AG Grid with quick search, a date-range filter, exact totals and CSV/XLSX export.

How a page uses it:

    from dashboard.components import grid

    def invoices_source(source: dict) -> grid.GridFrame:     # runs on the server, per request
        scope = identity.scope()                              # never trust `source` for access
        frame = ...                                           # money columns: int cents, *_cents
        return grid.GridFrame(frame, currency="USD", date_field="issue_date", file_name="invoices")

    grid.register_source("account-invoices", invoices_source)
    layout: grid.data_grid("account-invoices")
    callback: Output(grid.source_id("account-invoices"), "data") <- any JSON params

Grids of any size: a data_grid uses AG Grid's infinite row model (`rowModelType="infinite"`). The
browser asks for blocks of BLOCK_ROWS rows (`getRowsRequest`: startRow, endRow, sortModel,
filterModel); the server rebuilds the frame from the grid's source data in the asking user's scope
(cached per data version, user, scope and source data), applies the column filters, the quick search
and the sort over EVERY row, and answers the block (`getRowsResponse`: rowData, rowCount). The pinned
totals row and the caption are computed on the server over every matching row (exact integer cents).
CSV/XLSX buttons link to /export/grid/<name>.csv|xlsx with the grid's source data, sort, filters and
search; the route streams every matching row.

A grid with row checkboxes (`select=True`, whose header box selects every row the search leaves)
keeps the client-side row model: the browser gets at most CLIENT_ROWS rows and the caption says so
(never silently); totals and exports still cover every row.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.dependencies import Wildcard
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard.components import callbacks as cb
from dashboard.components import identity

# rows per getRowsRequest (AG Grid cacheBlockSize); the server pages over every row
BLOCK_ROWS = 500
MAX_BLOCKS = 40  # blocks the browser keeps (maxBlocksInCache); older blocks are fetched again
# the most rows one getRowsRequest may ask for (a block size, never a cap on the rows)
MAX_REQUEST_ROWS = 5000
# rows sent to a client-side grid (select=True only); its caption says when there are more
CLIENT_ROWS = 5000
MAX_ROWS = CLIENT_ROWS  # old name
FRAME_CACHE = 8  # computed source frames kept per process (data version, user, scope, source data)
VIEW_CACHE = 16  # filtered and sorted views kept per process
SEARCH_DEBOUNCE_MS = 400

LABELS = {
    "invoice_id": "Invoice",
    "payment_id": "Payment",
    "id": "Item",
    "type": "Type",
    "customer_id": "Customer #",
    "customer_name": "Customer",
    "name": "Customer",
    "segment": "Segment",
    "region": "Region",
    "tier": "Tier",
    "sales_rep_id": "Rep",
    "issue_date": "Issued",
    "due_date": "Due",
    "date": "Date",
    "settled_on": "Settled",
    "made_on": "Made on",
    "promised_date": "Promised for",
    "opened_on": "Opened",
    "resolved_on": "Resolved",
    "invoice_amount_cents": "Invoice amount",
    "amount_cents": "Amount",
    "balance_cents": "Balance",
    "unapplied_cents": "Unapplied",
    "days_past_due": "Days past due",
    "aging_due": "Aging",
    "aging_transaction": "Age",
    "disputed": "Disputed",
    "terms": "Terms",
    "terms_group": "Terms group",
    "credit_limit_cents": "Credit limit",
    "overdue_cents": "Overdue",
    "over_limit_cents": "Over limit",
    "utilization_pct": "Utilization %",
    "days_to_pay": "Days to pay",
    "days_late": "Days late",
    "reason": "Reason",
    "status": "Status",
    "overdue_60_plus_cents": "Overdue 60+",
    "overdue_90_plus_cents": "Overdue 90+",
    "channel": "Channel",
    "outcome": "Outcome",
    "note": "Note",
    "currency": "Currency",
    "amount_in_currency": "In transaction currency",
    "balance_base": "Balance in base currency",
}
HIDDEN = frozenset({"segment", "region", "terms_group", "tier"})
DATE_COLUMNS = frozenset(
    {
        "issue_date",
        "due_date",
        "date",
        "settled_on",
        "made_on",
        "promised_date",
        "opened_on",
        "resolved_on",
    }
)
CUSTOMER_LINK_COLUMNS = frozenset({"customer_name", "customer_id"})
NO_ROWS = "No rows match these filters"
# dates typed as ISO text like every other date on screen (type=date would show the browser's locale: 11/29/2026)
ISO_DATE_INPUT = {
    "type": "text",
    "placeholder": "YYYY-MM-DD",
    "pattern": r"\d{4}-\d{2}-\d{2}",
    "maxLength": 10,
    "inputMode": "numeric",
    "debounce": 800,
}
LONG_TEXT = frozenset({"reason", "note", "recommended_action", "outcome", "next_action", "terms"})
# money columns left out of the totals row (none: limits add up to exposure)
NOT_SUMMED: frozenset[str] = frozenset()


@dataclass
class GridFrame:
    """What a grid source returns: the full frame plus how to show it."""

    frame: pd.DataFrame
    currency: str | None = None
    date_field: str | None = None
    file_name: str = "rows"
    labels: dict[str, str] = field(default_factory=dict)  # column -> header, overriding LABELS
    hidden: frozenset[str] = HIDDEN
    link_customers: bool = True
    stamp: str = ""  # one line put on top of the CSV (filters, scope, as-of, generated at)
    # column -> extra AG Grid props (cellStyle, width...)
    columns: dict[str, dict] = field(default_factory=dict)
    # the money column totalled for searched rows (default amount_cents)
    total_field: str | None = None

    def matched_field(self) -> str | None:
        """The money column whose total is shown for the rows a search leaves."""
        money = [c for c in self.frame.columns if str(c).endswith("_cents") and c not in NOT_SUMMED]
        if self.total_field in money:
            return self.total_field
        return "amount_cents" if "amount_cents" in money else (money[-1] if money else None)


GridSource = Callable[[dict], GridFrame | None]
_SOURCES: dict[str, GridSource] = {}
_TOKENS: dict[str, Callable[[], Any]] = {}


def register_source(
    grid_id: str, source: GridSource, token: Callable[[], Any] | None = None
) -> None:
    """Tell the grid `grid_id` where its rows come from (a server-side function of its params).

    token: what else the rows depend on besides the data version, user and params (e.g. which
    prediction model is trained); a new token value is a new cache entry.
    """
    _SOURCES[grid_id] = source
    if token is not None:
        _TOKENS[grid_id] = token


def grid_id(name: str | Wildcard) -> dict:
    """The AgGrid component id of a data_grid."""
    return {"type": "ar-grid", "grid": name}


def source_id(name: str | Wildcard) -> dict:
    """The store whose data (any JSON) selects the rows; pages write it."""
    return {"type": "ar-grid-source", "grid": name}


def _part(kind: str, name: str | Wildcard) -> dict:
    return {"type": f"ar-grid-{kind}", "grid": name}


SELECTION = {
    "mode": "multiRow",
    "checkboxes": True,
    "headerCheckbox": True,
    "selectAll": "filtered",
    "enableClickSelection": False,
}  # AG Grid's object form (dash-ag-grid 33+)
SELECTION_COLUMN = {
    "pinned": "left",
    "width": 44,
    "maxWidth": 44,
    "resizable": False,
    "suppressHeaderMenuButton": True,
    "headerTooltip": "Tick customers (the header box: every row the search leaves)",
}


def data_grid(
    name: str,
    height: int = 440,
    search_placeholder: str = "Search (e.g. OVERDUE, a name, an amount)",
    select: bool = False,
) -> html.Div:
    """The grid skeleton (no data): toolbar, caption, grid, download, source store.

    `select`: a checkbox per row (the header's selects the rows the grid's search and filters leave);
    the chosen rows are the grid's `selectedRows` (browser data: re-check them on the server). Such a
    grid keeps the client-side row model (AG Grid's header box cannot select the rows of an infinite
    model); every other grid pages, sorts, filters and searches on the server.
    """
    server = not select
    toolbar = html.Div(
        [
            dbc.Input(
                id=_part("search", name),
                type="search",
                placeholder=search_placeholder,
                size="sm",
                className="ar-grid-search",
                debounce=SEARCH_DEBOUNCE_MS if server else False,
            ),
            html.Div(
                [
                    html.Span("From", className="small text-muted"),
                    dbc.Input(
                        id=_part("from", name),
                        size="sm",
                        className="ar-grid-date",
                        **ISO_DATE_INPUT,
                    ),
                    html.Span("to", className="small text-muted"),
                    dbc.Input(
                        id=_part("to", name), size="sm", className="ar-grid-date", **ISO_DATE_INPUT
                    ),
                ],
                id=_part("dates", name),
                # not Bootstrap's d-flex: its !important would beat display:none
                className="ar-grid-dates",
            ),
            dbc.Button(
                "Download CSV",
                id=_part("csv", name),
                size="sm",
                color="secondary",
                outline=True,
                className="ms-auto text-nowrap",
                title="Every matching row as CSV (current sort and filters)",
            ),
            dbc.Button(
                "XLSX",
                id=_part("xlsx", name),
                size="sm",
                color="secondary",
                outline=True,
                className="text-nowrap",
                title="Every matching row as an Excel workbook (stamped, exact totals)",
            ),
            dcc.Store(id=_part("export", name)),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )
    model = (
        {"rowModelType": "infinite"} if server else {"rowModelType": "clientSide", "rowData": []}
    )
    paging = (
        {
            "cacheBlockSize": BLOCK_ROWS,
            "maxBlocksInCache": MAX_BLOCKS,
            "maxConcurrentDatasourceRequests": 1,
            "infiniteInitialRowCount": 1,
            "blockLoadDebounceMillis": 50,
        }
        if server
        else {}
    )
    grid = dag.AgGrid(
        id=grid_id(name),
        className=f"ar-grid ar-grid-{name}" + (" ar-grid-server" if server else ""),
        columnDefs=[],
        **model,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": True,
            "minWidth": 80,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "localeText": {"noRowsToShow": NO_ROWS},
            "animateRows": False,
            "suppressCellFocus": True,
            "tooltipShowDelay": 400,
            "enableCellTextSelection": True,
            "context": {"dateField": None},
            **paging,
            **(
                {"rowSelection": SELECTION, "selectionColumnDef": SELECTION_COLUMN}
                if select
                else {}
            ),
        },
        style={"height": f"{height}px", "width": "100%"},
        **({"selectedRows": []} if select else {}),
    )
    return html.Div(
        [
            toolbar,
            html.Div(
                [
                    html.Span(id=_part("caption", name)),
                    html.Span(id=_part("matched", name), className="ms-2 ar-grid-matched"),
                ],
                className="small text-muted mb-1 ar-grid-caption",
            ),
            dcc.Loading(grid, type="dot", delay_show=300) if not server else grid,
            dcc.Store(id=source_id(name)),
            # the pinned totals of the matching rows (server grids)
            dcc.Store(id=_part("totals", name)),
            dcc.Store(id=_part("purged", name)),
            dcc.Store(id=_part("pinned", name)),
            dcc.Store(id=_part("block", name)),  # the server's answer to the last getRowsRequest
        ],
        className=f"ar-grid-wrap ar-grid-wrap-{name}",
    )


# ---- frames to grid props ------------------------------------------------------------------------


WIDTHS = {
    "customer_id": 115,
    "sales_rep_id": 90,
    "reason": 180,
    "status": 115,
    "type": 140,
    "terms": 105,
    "aging_due": 95,
    "aging_transaction": 105,
}
FLEX_COLUMNS = frozenset({"customer_name", "name", "note", "outcome"})


def _width(name: str, series: pd.Series) -> dict:
    """Sizing of a column: at least a width that fits its values, sharing any spare width (names twice)."""
    if name in FLEX_COLUMNS:
        return {"flex": 2, "minWidth": 190}
    if name in WIDTHS:
        width = WIDTHS[name]
    elif name.endswith("_cents"):
        width = 145
    elif name in DATE_COLUMNS:
        width = 118
    elif name.endswith("_id") or name == "id":
        width = 130
    elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        width = 105
    else:
        width = 130
    return {"flex": 1, "minWidth": width}


def column_defs(gf: GridFrame) -> list[dict]:
    """AG Grid columns for a frame: money formatted, dates filterable, customers linked."""
    cols = []
    labels = {**LABELS, **gf.labels}
    currency = gf.currency or fmt.default_currency()
    for name in gf.frame.columns:
        series = gf.frame[name]
        col: dict = {
            "field": name,
            "headerName": labels.get(name, name.replace("_", " ").capitalize()),
            **_width(name, series),
        }
        if name in gf.hidden:
            col["hide"] = True
        if name.endswith("_cents"):
            col.update(
                type="rightAligned",
                filter="agNumberColumnFilter",
                valueFormatter={"function": f"arMoney(params.value, '{currency}')"},
                getQuickFilterText={"function": "arMoneySearch(params.value)"},
                cellDataType="number",
            )
        elif name in DATE_COLUMNS:
            col.update(
                filter="agDateColumnFilter",
                cellDataType="dateString",
                filterParams={"inRangeInclusive": True},
            )
        elif (
            gf.link_customers
            and name in CUSTOMER_LINK_COLUMNS
            and "customer_id" in gf.frame.columns
        ):
            col.update(cellRenderer="CustomerLink", cellDataType="text")
        elif pd.api.types.is_bool_dtype(series):
            col.update(cellDataType="text", valueFormatter={"function": "arYesNo(params.value)"})
        elif pd.api.types.is_numeric_dtype(series):
            col.update(type="rightAligned", filter="agNumberColumnFilter", cellDataType="number")
        else:
            col.update(cellDataType="text")
        if name in LONG_TEXT or str(name).endswith("name"):
            col["tooltipField"] = name  # a name cut by the column's width shows in full on hover
        extra = gf.columns.get(name, {})
        if "width" in extra and "flex" not in extra:
            col.pop("flex", None)  # an explicit width means a fixed width
        col.update(extra)
        cols.append(col)
    return cols


def _cell(value):
    """A JSON-ready cell (ints stay ints: cents are exact)."""
    if value is None:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value if isinstance(value, int | str) else str(value)


def rows(frame: pd.DataFrame, cap: int | None = None) -> list[dict]:
    """The frame's rows (at most `cap` when given) as JSON-ready dicts."""
    head = frame if cap is None else frame.head(cap)
    columns = list(head.columns)
    return [
        dict(zip(columns, (_cell(v) for v in row), strict=True))
        for row in head.itertuples(index=False, name=None)
    ]


def exact_sum(series: pd.Series) -> int:
    """The exact sum of integer cents (blanks skipped) as a Python int: in int64 when the sum cannot
    overflow it (bounded by rows × largest magnitude), else one Python int per value."""
    values = series.dropna()
    if values.empty:
        return 0
    if pd.api.types.is_integer_dtype(values):
        ints = values.to_numpy(dtype="int64")
        bound = int(np.abs(ints).max()) * len(ints)
        if bound < 2**63:
            return int(ints.sum())
    return sum(int(v) for v in values.tolist())


def money_totals(frame: pd.DataFrame) -> dict[str, int]:
    """Exact sums (Python ints) of the frame's money columns over every row, blanks skipped."""
    return {
        name: exact_sum(frame[name])
        for name in frame.columns
        if str(name).endswith("_cents") and name not in NOT_SUMMED
    }


def totals_row(gf: GridFrame, frame: pd.DataFrame | None = None) -> dict:
    """The pinned bottom row: exact sums of every money column over ALL rows of `frame` (default the
    whole source frame), as formatted text."""
    frame = gf.frame if frame is None else frame
    out: dict = {}
    label_col = next(
        (
            c
            for c in frame.columns
            if not c.endswith("_cents") and not frame[c].dtype == bool and c not in gf.hidden
        ),
        None,
    )
    if label_col is not None:
        out[label_col] = "Total"
    for name, total in money_totals(frame).items():
        out[name] = fmt.money(total, gf.currency)
    return out


def caption(gf: GridFrame, cap: int = CLIENT_ROWS) -> str:
    """What a client-side grid shows, and that the totals row covers every row."""
    n = len(gf.frame)
    if n == 0:
        return NO_ROWS + "."
    if n > cap:
        return (
            f"Showing the first {cap:,} of {n:,} rows; the totals row is for all {n:,} rows. "
            "Download CSV for every row."
        )
    return fmt.plural(n, "row") + "."


def grid_props(gf: GridFrame | None, cap: int = CLIENT_ROWS) -> tuple:
    """(columnDefs, rowData, pinned totals, caption, date field) for a client-side grid."""
    if gf is None:
        return [], [], [], NO_ROWS + ".", None
    date_field = gf.date_field if gf.date_field in gf.frame.columns else None
    return (
        column_defs(gf),
        rows(gf.frame, cap),
        [totals_row(gf)] if len(gf.frame) else [],
        caption(gf, cap),
        date_field,
    )


def csv_text(gf: GridFrame) -> str:
    """Every row as CSV (dashboard.export.registry rules: exact decimals, ISO dates, no formulas), stamped."""
    from dashboard.export.registry import to_csv

    return (f"# {gf.stamp}\n" if gf.stamp else "") + to_csv(gf.frame)


# ---- server-side rows: filter, search, sort over every row ---------------------------------------------


def hidden_columns(gf: GridFrame) -> set[str]:
    """Columns the grid does not show (left out of the quick search, as AG Grid does)."""
    return {str(c) for c in gf.frame.columns if c in gf.hidden or gf.columns.get(c, {}).get("hide")}


def _search_text(series: pd.Series, name: str) -> pd.Series:
    """One column as the text AG Grid's quick filter reads (money as arMoneySearch writes it: "1234.50
    1,234.50"), lower case; vectorised (a million rows in seconds, not minutes)."""
    if name.endswith("_cents"):
        values = pd.to_numeric(series, errors="coerce")
        missing = values.isna().to_numpy()
        cents = values.fillna(0).astype("int64").tolist()
        money = [
            f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d} {'-' if c < 0 else ''}{abs(c) // 100:,}.{abs(c) % 100:02d}"
            for c in cents
        ]
        return pd.Series(money, index=series.index, dtype=object).where(~missing, "")
    present = series.notna().to_numpy()
    text: pd.Series
    if pd.api.types.is_bool_dtype(series):
        text = pd.Series(
            np.where(series.fillna(False).to_numpy(dtype=bool), "true", "false"), index=series.index
        )
    elif pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(series):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(floats) & (np.mod(floats, 1) == 0)
        text = pd.Series(
            np.where(whole, np.nan_to_num(floats).astype("int64").astype(str), floats.astype(str)),
            index=series.index,
        )
    else:
        text = series.astype(str)
    return text.where(present, "").astype(str).str.lower()


def search_haystack(gf: GridFrame) -> pd.Series:
    """Per row, the text of every shown column joined (what the quick search looks in)."""
    hidden = hidden_columns(gf)
    shown = [c for c in gf.frame.columns if str(c) not in hidden]
    if not shown or gf.frame.empty:
        return pd.Series([""] * len(gf.frame), index=gf.frame.index, dtype=object)
    columns = [_search_text(gf.frame[name], str(name)).tolist() for name in shown]
    return pd.Series(
        ["\n".join(texts) for texts in zip(*columns, strict=True)],
        index=gf.frame.index,
        dtype=object,
    )


def _as_number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _date_text(value) -> str | None:
    """'2024-03-01' from AG Grid's dateFrom ('2024-03-01 00:00:00'); None when not a date."""
    text = str(value or "")[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _condition_mask(series: pd.Series, name: str, model: dict) -> pd.Series:
    """Rows that one AG Grid filter condition keeps (text, number and date filters; unknown: all rows)."""
    kind = model.get("filterType")
    op = model.get("type") or ("inRange" if kind == "date" and model.get("dateTo") else "equals")
    blank = series.isna() | (series.astype(str) == "") if series.dtype == object else series.isna()
    if op == "blank":
        return blank
    if op == "notBlank":
        return ~blank
    if kind == "number":
        values = pd.to_numeric(series, errors="coerce")
        a, b = _as_number(model.get("filter")), _as_number(model.get("filterTo"))
        if a is None:
            return pd.Series(True, index=series.index)
        tests = {
            "equals": values == a,
            "notEqual": values != a,
            "lessThan": values < a,
            "lessThanOrEqual": values <= a,
            "greaterThan": values > a,
            "greaterThanOrEqual": values >= a,
        }
        if op == "inRange":
            # AG Grid: exclusive by default
            return (values > a) & (values < b) if b is not None else values > a
        return tests.get(op, pd.Series(True, index=series.index)).fillna(False)
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series.dt.strftime("%Y-%m-%d")
        else:
            values = (
                series.where(series.notna(), None)
                .astype(str)
                .str.slice(0, 10)
                .where(series.notna(), None)
            )
        start, end = _date_text(model.get("dateFrom")), _date_text(model.get("dateTo"))
        present = values.notna()
        text = values.fillna("")
        if start is None:
            return pd.Series(True, index=series.index)
        date_tests = {
            "equals": text == start,
            "notEqual": text != start,
            "lessThan": present & (text < start),
            "greaterThan": present & (text > start),
        }
        if op == "inRange":  # inclusive: the grid's date columns set inRangeInclusive
            return present & (text >= start) & (text <= (end or "9999-12-31"))
        return date_tests.get(op, pd.Series(True, index=series.index))
    # text (AG Grid's default filter): case-insensitive on the value's text
    needle = str(model.get("filter") or "").lower()
    text = (
        _search_text(series, "")
        if not name.endswith("_cents")
        else series.map(lambda v: "" if pd.isna(v) else str(int(v)))
    )
    text = text.str.lower()
    if not needle:
        return pd.Series(True, index=series.index)
    text_tests = {
        "contains": lambda: text.str.contains(needle, regex=False),
        "notContains": lambda: ~text.str.contains(needle, regex=False),
        "equals": lambda: text == needle,
        "notEqual": lambda: text != needle,
        "startsWith": lambda: text.str.startswith(needle),
        "endsWith": lambda: text.str.endswith(needle),
    }
    return text_tests.get(op, text_tests["contains"])()


def filter_mask(frame: pd.DataFrame, filter_model: dict) -> pd.Series:
    """Rows that every column filter keeps (AG Grid filterModel; conditions joined by AND/OR)."""
    keep = pd.Series(True, index=frame.index)
    for name, model in (filter_model or {}).items():
        if name not in frame.columns or not isinstance(model, dict):
            continue
        series = frame[name]
        conditions = model.get("conditions")
        if isinstance(conditions, list) and conditions:
            masks = [
                _condition_mask(series, str(name), {"filterType": model.get("filterType"), **c})
                for c in conditions[:5]
                if isinstance(c, dict)
            ]
            if masks:
                joined = masks[0]
                for m in masks[1:]:
                    joined = (
                        (joined | m) if str(model.get("operator")).upper() == "OR" else (joined & m)
                    )
                keep &= joined
            continue
        keep &= _condition_mask(series, str(name), model)
    return keep


def sort_frame(frame: pd.DataFrame, sort_model: list) -> pd.DataFrame:
    """The frame in the order of AG Grid's sortModel ([{colId, sort}]); stable, blanks last."""
    keys = [
        (m["colId"], m.get("sort") != "desc")
        for m in (sort_model or [])
        if isinstance(m, dict)
        and m.get("colId") in frame.columns
        and m.get("sort") in ("asc", "desc")
    ]
    if not keys or frame.empty:
        return frame
    by, ascending = [k for k, _ in keys], [a for _, a in keys]
    try:
        return frame.sort_values(by=by, ascending=ascending, kind="mergesort", na_position="last")
    except TypeError:  # mixed types in a column: sort on the text
        keyed = frame.assign(**{f"__sort{i}": frame[c].astype(str) for i, c in enumerate(by)})
        return keyed.sort_values(
            by=[f"__sort{i}" for i in range(len(by))],
            ascending=ascending,
            kind="mergesort",
            na_position="last",
        )[list(frame.columns)]


@dataclass
class Query:
    """What the grid asks for beyond its source: column filters, quick search, sort (browser data, checked)."""

    sort: list = field(default_factory=list)
    filter: dict = field(default_factory=dict)
    search: str = ""

    @classmethod
    def clean(cls, sort_model, filter_model, search) -> Query:
        sort = [
            {"colId": str(m.get("colId"))[:100], "sort": m.get("sort")}
            for m in (sort_model or [])[:10]
            if isinstance(sort_model, list)
            and isinstance(m, dict)
            and m.get("sort") in ("asc", "desc")
        ]
        filters = {
            str(k)[:100]: v
            for k, v in (filter_model.items() if isinstance(filter_model, dict) else [])
            if isinstance(v, dict)
        }
        text = (
            str(search)[:200]
            if isinstance(search, str | int | float) and not isinstance(search, bool)
            else ""
        )
        return cls(sort, filters, text.strip())

    def key(self) -> str:
        return json.dumps(
            [self.sort, self.filter, self.search.lower()], sort_keys=True, default=str
        )

    @property
    def narrows(self) -> bool:
        """True when a filter or the search leaves out rows (the caption then says "N of M")."""
        return bool(self.filter or self.search)


@dataclass
class View:
    """The matching rows of a source in display order, their exact totals and the source's row count."""

    gf: GridFrame
    frame: pd.DataFrame
    totals: dict[str, int]
    total_rows: int
    query: Query

    def block(self, start: int, end: int) -> list[dict]:
        """Rows start..end-1 of the matching rows, JSON-ready."""
        return rows(self.frame.iloc[start:end])

    def pinned(self) -> list[dict]:
        """The pinned totals row over every matching row ([] when none match)."""
        return [totals_row(self.gf, self.frame)] if len(self.frame) else []

    def caption(self) -> str:
        """The real row count of the source ("12,345 rows."); `matched` follows it with the count of the
        rows a filter or search leaves ("· 7 of 12,345 rows match · ...")."""
        if self.total_rows == 0:
            return NO_ROWS + "."
        return fmt.plural(self.total_rows, "row") + "."

    def matched(self) -> str:
        """'· 3 of 10 rows match · Open balance $1.00.' when a filter or the search narrows the rows."""
        if not self.query.narrows or self.total_rows == 0:
            return ""
        n = len(self.frame)
        text = f"{n:,} of {self.total_rows:,} " + ("row matches" if n == 1 else "rows match")
        money = self.gf.matched_field()
        if money:
            label = {**LABELS, **self.gf.labels}.get(money, "total")
            text += f" · {label} {fmt.money(self.totals.get(money, 0), self.gf.currency)}"
        return "· " + text + "."


def make_view(gf: GridFrame, query: Query, haystack: pd.Series | None = None) -> View:
    """Filter, search and sort every row of a source frame on the server."""
    frame = gf.frame
    mask = filter_mask(frame, query.filter) if query.filter else None
    if query.search:
        hay = search_haystack(gf) if haystack is None else haystack
        words = [w for w in query.search.lower().split() if w]
        found = pd.Series(True, index=frame.index)
        for word in words:
            found &= hay.str.contains(word, regex=False)
        mask = found if mask is None else (mask & found)
    matching = frame if mask is None else frame[mask.to_numpy(dtype=bool)]
    matching = sort_frame(matching, query.sort)
    return View(gf, matching, money_totals(matching), len(frame), query)


# ---- who asks, and the per-process caches ----------------------------------------------------------


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Bounded(Generic[_K, _V]):
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[_K, _V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: _K, value: _V) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


# key -> [frame, its search text once built]; (key, query) -> view
_FRAMES: _Bounded[tuple, list[Any]] = _Bounded(FRAME_CACHE)
_VIEWS: _Bounded[tuple, View] = _Bounded(VIEW_CACHE)


def clear_cache() -> None:
    """Forget every cached frame and view (tests; a new data version needs no call: it is in the key)."""
    _FRAMES.clear()
    _VIEWS.clear()


def source_page(name: str) -> str | None:
    """The page a grid belongs to (the page module that registered its source), None for shared grids."""
    from dashboard.auth.guard import module_page_path

    source = _SOURCES.get(name)
    return module_page_path(source) if source is not None else None


def may_use(name: str) -> bool:
    """True when the logged-in user may read grid `name`: a known grid of a page their role may open.

    The login guard checks Dash callbacks by the page that defined them; the grid's callbacks are shared,
    so the page of the grid's source is checked here on every request."""
    from dashboard.auth.roles import page_allowed

    if name not in _SOURCES:
        return False
    user = identity.user()
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    page = source_page(name)
    return page is None or page_allowed(identity.role(), page)


def _data_version() -> tuple:
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot()  # the version, when it was loaded and which object: a reload is a new key
    return (getattr(snap, "version", None), getattr(snap, "loaded_at", None), id(snap))


def _frame_key(name: str, data) -> tuple:
    """Who asks (user, role, scope) + the data version + the grid and its source data."""
    scope = identity.scope()
    token = _TOKENS.get(name)
    return (
        _data_version(),
        token() if token else None,
        identity.user_id(),
        identity.role(),
        scope.key(),
        name,
        json.dumps(data, sort_keys=True, default=str),
    )


def source_frame(
    name: str, data, cached: bool = True
) -> tuple[tuple | None, GridFrame | None, pd.Series | None]:
    """(cache key, the grid's frame for this user and source data, its search text) computed on the server.

    The source applies the caller's scope itself (identity.scope()); the key includes user, role and scope,
    so a cached frame is only ever given back to the same user in the same scope at the same data version.
    """
    if data is None or not may_use(name):
        return None, None, None
    key = _frame_key(name, data)
    hit = _FRAMES.get(key) if cached else None
    if hit is not None:
        return key, hit[0], hit[1]
    gf = _source(name, data)
    entry = [gf, None]
    if gf is not None and cached:
        _FRAMES.put(key, entry)
    return key, gf, None


def view_for(name: str, data, query: Query, cached: bool = True) -> View | None:
    """The matching rows of grid `name` for the logged-in user (None when they may not see it)."""
    key, gf, haystack = source_frame(name, data, cached)
    if key is None or gf is None:  # both None together: not a grid this user may read
        return None
    vkey = (key, query.key())
    hit = _VIEWS.get(vkey) if cached else None
    if hit is not None:
        return hit
    if query.search and haystack is None:
        haystack = search_haystack(gf)
        entry = _FRAMES.get(key)
        if entry is not None:
            entry[1] = haystack  # the search text is built once per frame
    view = make_view(gf, query, haystack)
    if cached:
        _VIEWS.put(vkey, view)
    return view


def rows_response(name: str, request: dict | None, data, search) -> tuple[dict, View | None]:
    """The getRowsResponse for one getRowsRequest, and the view it was cut from."""
    request = request if isinstance(request, dict) else {}
    query = Query.clean(request.get("sortModel"), request.get("filterModel"), search)
    view = view_for(name, data, query)
    if view is None:
        return {"rowData": [], "rowCount": 0}, None
    start = request.get("startRow")
    end = request.get("endRow")
    start = start if isinstance(start, int) and not isinstance(start, bool) and start >= 0 else 0
    end = (
        end
        if isinstance(end, int) and not isinstance(end, bool) and end > start
        else start + BLOCK_ROWS
    )
    end = min(end, start + MAX_REQUEST_ROWS)
    return {"rowData": view.block(start, end), "rowCount": len(view.frame)}, view


def export_query(name: str, fmt_: str, data, query: Query) -> str:
    """/export/grid/<name>.<fmt>?source=&sort=&filter=&search= for the grid's state."""
    from urllib.parse import urlencode

    params = {"source": json.dumps(data, separators=(",", ":"), default=str)}
    if query.sort:
        params["sort"] = json.dumps(query.sort, separators=(",", ":"))
    if query.filter:
        params["filter"] = json.dumps(query.filter, separators=(",", ":"))
    if query.search:
        params["search"] = query.search
    return f"/export/grid/{quote(name, safe='')}.{fmt_}?{urlencode(params)}"


# ---- callbacks shared by every grid ---------------------------------------------------------------


def _source(name: str, data: dict | None) -> GridFrame | None:
    source = _SOURCES.get(name)
    if source is None or data is None:
        return None
    return source(data)


def _context_options(options, source: GridFrame | None) -> dict:
    date_field = (
        source.date_field
        if source is not None and source.date_field in source.frame.columns
        else None
    )
    options = dict(options or {})
    total_field = source.matched_field() if source else None
    label = (
        {**LABELS, **source.labels}.get(total_field, "Total")
        if source is not None and total_field
        else None
    )
    options["context"] = {
        "dateField": date_field,
        "currency": source.currency if source else None,
        "totalField": total_field,
        "totalLabel": label,
    }
    return options


@cb.callback(
    Output(grid_id(MATCH), "columnDefs"),
    Output(grid_id(MATCH), "rowData"),
    Output(grid_id(MATCH), "dashGridOptions"),
    Output(_part("caption", MATCH), "children"),
    Input(source_id(MATCH), "data"),
    Input("data-version", "data"),
    State(grid_id(MATCH), "dashGridOptions"),
    State(grid_id(MATCH), "rowModelType"),
)
def fill_grid(data, _version, options, model=None):
    """Columns (and, for a client-side grid, its rows, totals and caption) from the registered source.

    A server-side (infinite) grid gets its rows, totals and caption from `get_rows` instead; this only
    sets its columns and context (the browser then purges its blocks and asks again)."""
    if data is None:
        raise PreventUpdate
    name = ctx.outputs_list[0]["id"]["grid"]
    if model == "infinite":
        _key, source, _hay = source_frame(name, data)
        options = _context_options(options, source)
        options.pop("pinnedBottomRowData", None)
        return (column_defs(source) if source is not None else []), no_update, options, no_update
    source = _source(name, data) if may_use(name) else None
    columns, row_data, pinned, text, _date_field = grid_props(source)
    options = _context_options(options, source)
    options["pinnedBottomRowData"] = pinned
    return columns, row_data, options, text


@cb.callback(
    Output(_part("block", MATCH), "data"),
    Input(grid_id(MATCH), "getRowsRequest"),
    State(source_id(MATCH), "data"),
    State(_part("search", MATCH), "value"),
    prevent_initial_call=True,
)
def get_rows(request, data, search):
    """One block of a server-side grid: filtered, searched and sorted over every row on the server, for
    the logged-in user's scope; with the caption and exact totals of every matching row.

    The answer echoes what it answers (block, sort, filters, search, source data): the browser always hands
    the rows to the grid (AG Grid asks one block at a time and ignores the answer for a block it purged
    meanwhile, then asks again), but shows its caption and totals only while the grid still asks exactly
    that (never the count of an older search under a newer one)."""
    if request is None:
        raise PreventUpdate
    name = ctx.outputs_list["id"]["grid"]
    response, view = rows_response(name, request, data, search)
    asked = (
        {k: request.get(k) for k in ("startRow", "endRow", "sortModel", "filterModel")}
        if isinstance(request, dict)
        else {}
    )
    answer = {
        "asked": asked,
        "search": search if isinstance(search, str) else "",
        "source": data,
        "response": response,
    }
    if view is None:
        return {
            **answer,
            "caption": NO_ROWS + "." if data is not None else "",
            "matched": "",
            "totals": [],
        }
    return {**answer, "caption": view.caption(), "matched": view.matched(), "totals": view.pinned()}


cb.clientside_callback(
    """
    function(block, request, search, source) {
        const nu = window.dash_clientside.no_update;
        if (!block || !request) { return [nu, nu, nu, nu]; }
        const same = (a, b) => JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
        const asked = block.asked || {};
        const current = asked.startRow === request.startRow && asked.endRow === request.endRow
            && same(asked.sortModel || [], request.sortModel || []) && same(asked.filterModel || {}, request.filterModel || {})
            && (block.search || "") === (search || "") && same(block.source, source);
        // The grid always gets its answer: AG Grid asks one block at a time (maxConcurrentDatasourceRequests 1)
        // and ignores an answer for a block it purged meanwhile (new search or source), then asks again.
        // The caption, matched line and totals change only for an answer to the question of the moment.
        if (!current) { return [block.response, nu, nu, nu]; }
        return [block.response, block.caption, block.matched, {rows: block.totals || []}];
    }
    """,
    Output(grid_id(MATCH), "getRowsResponse"),
    Output(_part("caption", MATCH), "children", allow_duplicate=True),
    Output(_part("matched", MATCH), "children", allow_duplicate=True),
    Output(_part("totals", MATCH), "data"),
    Input(_part("block", MATCH), "data"),
    State(grid_id(MATCH), "getRowsRequest"),
    State(_part("search", MATCH), "value"),
    State(source_id(MATCH), "data"),
    prevent_initial_call=True,
)


cb.clientside_callback(
    """
    function(_data, _search, _version, model) {
        // A server-side grid: new source data, search text or data version -> drop the loaded blocks and ask again.
        if (model !== "infinite") { return window.dash_clientside.no_update; }
        const id = window.dash_clientside.callback_context.outputs_list.id;
        const grid = {type: "ar-grid", grid: id.grid};
        window.dash_ag_grid.getApiAsync(grid).then(api => {
            if (api.getDisplayedRowCount() > 0) { api.ensureIndexVisible(0, "top"); }
            api.purgeInfiniteCache();
        }).catch(() => null);
        return Date.now();
    }
    """,
    Output(_part("purged", MATCH), "data"),
    Input(source_id(MATCH), "data"),
    Input(_part("search", MATCH), "value"),
    Input("data-version", "data"),
    State(grid_id(MATCH), "rowModelType"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    """
    function(totals) {
        // The exact totals of every matching row (computed on the server) in the pinned bottom row.
        const id = window.dash_clientside.callback_context.outputs_list.id;
        const rows = (totals && totals.rows) || [];
        window.dash_ag_grid.getApiAsync({type: "ar-grid", grid: id.grid}).then(api => {
            api.setGridOption("pinnedBottomRowData", rows);
        }).catch(() => null);
        return rows.length;
    }
    """,
    Output(_part("pinned", MATCH), "data"),
    Input(_part("totals", MATCH), "data"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    """
    function(csv, xlsx, data, search) {
        // Every matching row on the server, with the grid's current sort, column filters and search.
        const trigger = window.dash_clientside.callback_context.triggered_id;
        if (!trigger || !(csv || xlsx)) { return window.dash_clientside.no_update; }
        const kind = trigger.type === "ar-grid-xlsx" ? "xlsx" : "csv";
        const api = window.dash_ag_grid.getApi({type: "ar-grid", grid: trigger.grid});
        const sort = api ? api.getColumnState().filter(c => c.sort)
            .sort((a, b) => (a.sortIndex || 0) - (b.sortIndex || 0)).map(c => ({colId: c.colId, sort: c.sort})) : [];
        const filter = api ? (api.getFilterModel() || {}) : {};
        const params = new URLSearchParams({source: JSON.stringify(data || {})});
        if (sort.length) { params.set("sort", JSON.stringify(sort)); }
        if (Object.keys(filter).length) { params.set("filter", JSON.stringify(filter)); }
        if (search && search.trim()) { params.set("search", search.trim()); }
        const url = "/export/grid/" + encodeURIComponent(trigger.grid) + "." + kind + "?" + params.toString();
        const link = document.createElement("a");
        link.href = url;
        link.rel = "noopener";
        document.body.appendChild(link);
        link.click();
        link.remove();
        return url;
    }
    """,
    Output(_part("export", MATCH), "data"),
    Input(_part("csv", MATCH), "n_clicks"),
    Input(_part("xlsx", MATCH), "n_clicks"),
    State(source_id(MATCH), "data"),
    State(_part("search", MATCH), "value"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    """
    function(text, options, model) {
        if (model === "infinite") { return window.dash_clientside.no_update; }  // searched on the server
        const next = Object.assign({}, options || {});
        next.quickFilterText = text || "";
        return next;
    }
    """,
    Output(grid_id(MATCH), "dashGridOptions", allow_duplicate=True),
    Input(_part("search", MATCH), "value"),
    State(grid_id(MATCH), "dashGridOptions"),
    State(grid_id(MATCH), "rowModelType"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    r"""
    function(start, end, options, model) {
        const field = options && options.context && options.context.dateField;
        if (!field) { return window.dash_clientside.no_update; }
        const next = Object.assign({}, model || {});
        const iso = /^\d{4}-\d{2}-\d{2}$/;
        start = iso.test(start || "") ? start : "";
        end = iso.test(end || "") ? end : "";
        if (start || end) {
            next[field] = {filterType: "date", type: "inRange",
                           dateFrom: start || "0001-01-01", dateTo: end || "9999-12-31"};
        } else {
            delete next[field];
        }
        return next;
    }
    """,
    Output(grid_id(MATCH), "filterModel"),
    Input(_part("from", MATCH), "value"),
    Input(_part("to", MATCH), "value"),
    State(grid_id(MATCH), "dashGridOptions"),
    State(grid_id(MATCH), "filterModel"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    r"""
    function(visible, rows, options, search, start, end, model) {
        // Client-side grids only (a server-side grid's line comes from the server with its rows):
        // rows left by the search / column filters, and their exact total: integer cents added as
        // BigInt (never floats). Blank when nothing is filtered.
        if (model === "infinite") { return window.dash_clientside.no_update; }
        if (!visible || !rows) { return ""; }
        const filtered = (search && search.length) || start || end || visible.length !== rows.length;
        if (!filtered) { return ""; }
        const context = (options && options.context) || {};
        const money = context.totalField;
        let text = visible.length.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " shown " + (rows.length === 1 ? "row matches" : "rows match");
        if (money) {
            let total = BigInt(0);
            visible.forEach(r => { if (Number.isInteger(r[money])) { total += BigInt(r[money]); } });
            const neg = total < 0n; if (neg) { total = -total; }
            const whole = (total / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
            const part = (total % 100n).toString().padStart(2, "0");
            const code = context.currency || "";
            const fmt = window.dashAgGridFunctions && window.dashAgGridFunctions.arMoney;
            const symbol = fmt ? fmt(0, code || "USD").replace("0.00", "") : "";
            text += " · " + (context.totalLabel || "total") + " " + (neg ? "-" : "") + symbol + whole + "." + part;
        }
        return "· " + text + ".";
    }
    """,
    Output(_part("matched", MATCH), "children"),
    Input(grid_id(MATCH), "virtualRowData"),
    State(grid_id(MATCH), "rowData"),
    State(grid_id(MATCH), "dashGridOptions"),
    State(_part("search", MATCH), "value"),
    State(_part("from", MATCH), "value"),
    State(_part("to", MATCH), "value"),
    State(grid_id(MATCH), "rowModelType"),
    prevent_initial_call=True,
)

cb.clientside_callback(
    """
    function(options) {
        const field = options && options.context && options.context.dateField;
        return field ? {} : {display: "none"};
    }
    """,
    Output(_part("dates", MATCH), "style"),
    Input(grid_id(MATCH), "dashGridOptions"),
)
