"""`data_grid(id)`: an AG Grid with quick search, a date-range filter, exact totals and CSV download.

How a page uses it:

    from dashboard.components import grid

    def invoices_source(source: dict) -> grid.GridFrame:     # runs on the server, per request
        scope = identity.scope()                              # never trust `source` for access
        frame = ...                                           # money columns: int cents, *_cents
        return grid.GridFrame(frame, currency="USD", date_field="issue_date", file_name="invoices")

    grid.register_source("account-invoices", invoices_source)
    layout: grid.data_grid("account-invoices")
    callback: Output(grid.source_id("account-invoices"), "data") <- any JSON params

The grid fills itself from the registered source whenever its source store (or the data version)
changes; the CSV button exports every row of the same source on the server. The browser gets at
most MAX_ROWS rows; the pinned totals row is summed in Python over all rows (exact cents), never in
JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components import callbacks as cb
from dashboard.components import format as fmt

MAX_ROWS = 5000

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
DATE_COLUMNS = frozenset({"issue_date", "due_date", "date", "settled_on", "made_on", "promised_date", "opened_on", "resolved_on"})
CUSTOMER_LINK_COLUMNS = frozenset({"customer_name", "customer_id"})
NO_ROWS = "No rows match these filters"
# dates typed as ISO text like every other date on screen (type=date would show the browser's locale: 11/29/2026)
ISO_DATE_INPUT = {"type": "text", "placeholder": "YYYY-MM-DD", "pattern": r"\d{4}-\d{2}-\d{2}", "maxLength": 10,
                  "inputMode": "numeric", "debounce": 800}
LONG_TEXT = frozenset({"reason", "note", "recommended_action", "outcome", "next_action", "terms"})
NOT_SUMMED: frozenset[str] = frozenset()  # money columns left out of the totals row (none: limits add up to exposure)


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
    columns: dict[str, dict] = field(default_factory=dict)  # column -> extra AG Grid props (cellStyle, width...)
    total_field: str | None = None  # the money column totalled for searched rows (default amount_cents)

    def matched_field(self) -> str | None:
        """The money column whose total is shown for the rows a search leaves."""
        money = [c for c in self.frame.columns if str(c).endswith("_cents") and c not in NOT_SUMMED]
        if self.total_field in money:
            return self.total_field
        return "amount_cents" if "amount_cents" in money else (money[-1] if money else None)


GridSource = Callable[[dict], GridFrame | None]
_SOURCES: dict[str, GridSource] = {}


def register_source(grid_id: str, source: GridSource) -> None:
    """Tell the grid `grid_id` where its rows come from (a server-side function of its params)."""
    _SOURCES[grid_id] = source


def grid_id(name: str) -> dict:
    """The AgGrid component id of a data_grid."""
    return {"type": "ar-grid", "grid": name}


def source_id(name: str) -> dict:
    """The store whose data (any JSON) selects the rows; pages write it."""
    return {"type": "ar-grid-source", "grid": name}


def _part(kind: str, name: str) -> dict:
    return {"type": f"ar-grid-{kind}", "grid": name}


SELECTION = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "selectAll": "filtered",
             "enableClickSelection": False}  # AG Grid's object form (dash-ag-grid 33+)
SELECTION_COLUMN = {"pinned": "left", "width": 44, "maxWidth": 44, "resizable": False, "suppressHeaderMenuButton": True,
                    "headerTooltip": "Tick customers (the header box: every row the search leaves)"}


def data_grid(name: str, height: int = 440, search_placeholder: str = "Search (e.g. OVERDUE, a name, an amount)",
              select: bool = False) -> html.Div:
    """The grid skeleton (no data): toolbar, caption, grid, download, source store.

    `select`: a checkbox per row (the header's selects the rows the grid's search and filters leave);
    the chosen rows are the grid's `selectedRows` (browser data: re-check them on the server).
    """
    toolbar = html.Div(
        [
            dbc.Input(id=_part("search", name), type="search", placeholder=search_placeholder, size="sm",
                      className="ar-grid-search", debounce=False),
            html.Div(
                [
                    html.Span("From", className="small text-muted"),
                    dbc.Input(id=_part("from", name), size="sm", className="ar-grid-date", **ISO_DATE_INPUT),
                    html.Span("to", className="small text-muted"),
                    dbc.Input(id=_part("to", name), size="sm", className="ar-grid-date", **ISO_DATE_INPUT),
                ],
                id=_part("dates", name),
                className="ar-grid-dates",  # not Bootstrap's d-flex: its !important would beat display:none
            ),
            dbc.Button("Download CSV", id=_part("csv", name), size="sm", color="secondary", outline=True,
                       className="ms-auto text-nowrap"),
            dbc.Button("XLSX", id=_part("xlsx", name), size="sm", color="secondary", outline=True,
                       className="text-nowrap", title="Every row as an Excel workbook (stamped, exact totals)"),
            dcc.Download(id=_part("download", name)),
            dcc.Download(id=_part("xlsx-file", name)),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )
    grid = dag.AgGrid(
        id=grid_id(name),
        className=f"ar-grid ar-grid-{name}",
        columnDefs=[],
        rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 80,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={
            "localeText": {"noRowsToShow": NO_ROWS},
            "animateRows": False,
            "suppressCellFocus": True,
            "tooltipShowDelay": 400,
            "enableCellTextSelection": True,
            "context": {"dateField": None},
            **({"rowSelection": SELECTION, "selectionColumnDef": SELECTION_COLUMN} if select else {}),
        },
        style={"height": f"{height}px", "width": "100%"},
        **({"selectedRows": []} if select else {}),
    )
    return html.Div(
        [
            toolbar,
            html.Div(
                [html.Span(id=_part("caption", name)), html.Span(id=_part("matched", name), className="ms-2 ar-grid-matched")],
                className="small text-muted mb-1 ar-grid-caption",
            ),
            dcc.Loading(grid, type="dot", delay_show=300),
            dcc.Store(id=source_id(name)),
        ],
        className=f"ar-grid-wrap ar-grid-wrap-{name}",
    )


# ---- frames to grid props ------------------------------------------------------------------------


WIDTHS = {"customer_id": 115, "sales_rep_id": 90, "reason": 180, "status": 115, "type": 140, "terms": 105,
          "aging_due": 95, "aging_transaction": 105}
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
        col: dict = {"field": name, "headerName": labels.get(name, name.replace("_", " ").capitalize()),
                     **_width(name, series)}
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
            col.update(filter="agDateColumnFilter", cellDataType="dateString", filterParams={"inRangeInclusive": True})
        elif gf.link_customers and name in CUSTOMER_LINK_COLUMNS and "customer_id" in gf.frame.columns:
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


def rows(frame: pd.DataFrame, cap: int = MAX_ROWS) -> list[dict]:
    """At most `cap` rows as JSON-ready dicts."""
    head = frame.head(cap)
    columns = list(head.columns)
    return [dict(zip(columns, (_cell(v) for v in row), strict=True)) for row in head.itertuples(index=False, name=None)]


def totals_row(gf: GridFrame) -> dict:
    """The pinned bottom row: exact sums of every money column over ALL rows, as formatted text."""
    frame = gf.frame
    out: dict = {}
    label_col = next((c for c in frame.columns if not c.endswith("_cents") and not frame[c].dtype == bool and c not in gf.hidden), None)
    if label_col is not None:
        out[label_col] = "Total"
    for name in frame.columns:
        if name.endswith("_cents") and name not in NOT_SUMMED:
            total = sum(int(v) for v in frame[name].dropna().tolist())  # Python ints: exact
            out[name] = fmt.money(total, gf.currency)
    return out


def caption(gf: GridFrame, cap: int = MAX_ROWS) -> str:
    """What the grid shows, and that the totals row covers every row."""
    n = len(gf.frame)
    if n == 0:
        return NO_ROWS + "."
    if n > cap:
        return (f"Showing the first {cap:,} of {n:,} rows; the totals row is for all {n:,} rows. "
                "Download CSV for every row.")
    return fmt.plural(n, "row") + "."


def grid_props(gf: GridFrame | None, cap: int = MAX_ROWS) -> tuple:
    """(columnDefs, rowData, pinned totals, caption, date field) for a grid frame."""
    if gf is None:
        return [], [], [], NO_ROWS + ".", None
    date_field = gf.date_field if gf.date_field in gf.frame.columns else None
    return column_defs(gf), rows(gf.frame, cap), [totals_row(gf)] if len(gf.frame) else [], caption(gf, cap), date_field


def csv_text(gf: GridFrame) -> str:
    """Every row as CSV (dashboard.export.registry rules: exact decimals, ISO dates, no formulas), stamped."""
    from dashboard.export.registry import to_csv

    return (f"# {gf.stamp}\n" if gf.stamp else "") + to_csv(gf.frame)


# ---- callbacks shared by every grid ---------------------------------------------------------------


def _source(name: str, data: dict | None) -> GridFrame | None:
    source = _SOURCES.get(name)
    if source is None or data is None:
        return None
    return source(data)


@cb.callback(
    Output(grid_id(MATCH), "columnDefs"),
    Output(grid_id(MATCH), "rowData"),
    Output(grid_id(MATCH), "dashGridOptions"),
    Output(_part("caption", MATCH), "children"),
    Input(source_id(MATCH), "data"),
    Input("data-version", "data"),
    State(grid_id(MATCH), "dashGridOptions"),
)
def fill_grid(data, _version, options):
    """Fill a grid from its registered source (scope is applied inside the source)."""
    if data is None:
        raise PreventUpdate
    name = ctx.outputs_list[0]["id"]["grid"]
    source = _source(name, data)
    columns, row_data, pinned, text, date_field = grid_props(source)
    options = dict(options or {})
    options["pinnedBottomRowData"] = pinned
    total_field = source.matched_field() if source else None
    label = ({**LABELS, **source.labels}.get(total_field, "Total") if total_field else None)
    options["context"] = {"dateField": date_field, "currency": source.currency if source else None,
                          "totalField": total_field, "totalLabel": label}
    return columns, row_data, options, text


@cb.callback(
    Output(_part("download", MATCH), "data"),
    Input(_part("csv", MATCH), "n_clicks"),
    State(source_id(MATCH), "data"),
    prevent_initial_call=True,
)
def download_csv(n_clicks, data):
    """Every row of the grid's source as CSV, built on the server."""
    if not n_clicks:
        raise PreventUpdate
    name = ctx.triggered_id["grid"]
    gf = _source(name, data)
    if gf is None:
        raise PreventUpdate
    from dashboard.export.tables import grid_download  # stamped (scope, time, totals) and audited

    return grid_download(name, gf, "csv", data) or no_update


@cb.callback(
    Output(_part("xlsx-file", MATCH), "data"),
    Input(_part("xlsx", MATCH), "n_clicks"),
    State(source_id(MATCH), "data"),
    prevent_initial_call=True,
)
def download_xlsx(n_clicks, data):
    """Every row of the grid's source as an XLSX workbook (stamp block, exact totals row), audited."""
    from dashboard.export.tables import grid_download

    if not n_clicks:
        raise PreventUpdate
    name = ctx.triggered_id["grid"]
    gf = _source(name, data)
    if gf is None:
        raise PreventUpdate
    return grid_download(name, gf, "xlsx", data) or no_update


cb.clientside_callback(
    """
    function(text, options) {
        const next = Object.assign({}, options || {});
        next.quickFilterText = text || "";
        return next;
    }
    """,
    Output(grid_id(MATCH), "dashGridOptions", allow_duplicate=True),
    Input(_part("search", MATCH), "value"),
    State(grid_id(MATCH), "dashGridOptions"),
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
    function(visible, rows, options, search, start, end) {
        // Rows left by the search / column filters, and their exact total: integer cents added as
        // BigInt (never floats). Blank when nothing is filtered.
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
