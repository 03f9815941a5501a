"""`data_grid(id)`: an AG Grid with quick search, a date-range filter, exact totals and CSV/XLSX export.

How a page uses it: the grid's rows are a table view declared once in dashboard/views with the grid's
id (`View(..., frame=rows, grid="acct-invoices", options=...)`, see dashboard.views.grids); the page
only lays the grid out and says what it shows:

    layout: grid.data_grid("acct-invoices")
    callback: Output(grid.source_id("acct-invoices"), "data") <- {"filters": ..., <the view's options>}

Every grid is fed by the same callbacks from its view, for the logged-in user (the page's roles and the
view's capability are checked in dashboard.export.grids, which the CSV/XLSX route uses too).

Grids of any size: every data_grid uses AG Grid's infinite row model (`rowModelType="infinite"`). The
browser asks for blocks of BLOCK_ROWS rows (`getRowsRequest`: startRow, endRow, sortModel,
filterModel); the server rebuilds the frame from the grid's source data in the asking user's scope
(kept in the metrics service layer's one cache per data version, user, scope and source data), applies the column filters, the quick search
and the sort over EVERY row, and answers the block (`getRowsResponse`: rowData, rowCount). The pinned
totals row and the caption are computed on the server over every matching row (exact integer cents).
CSV/XLSX buttons link to /export/grid/<name>.csv|xlsx with the grid's source data, sort, filters and
search; the route streams every matching row.

A grid with row checkboxes (`select=True`) is server-side too: no grid ships all its rows. Its boxes tick
the rows as they load (AG Grid keeps a tick by row key across blocks, sorts and searches); AG Grid's
header box cannot select the rows of an infinite model, so the toolbar has "Select all N matching"
(every row the search, column filters and date range leave: N is the server's exact count) and "Clear
selection", and the caption says what is selected ("3 selected", "all 12,345 matching selected"). The
selection is the store `selection_id(name)`: {"all": false, "ids": [...]} or {"all": true, "except":
[unticked keys], "search", "filter", "sort"}; a page's action reads it as State and the server resolves it
(`dashboard.export.grids.selected_keys`: the same row engine as the grid's rows, in the asking user's
scope), never trusting the browser for which rows "all matching" are.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import MATCH, Input, Output, State, ctx, dcc, html
from dash.dependencies import Wildcard
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard.components import callbacks as cb
from dashboard.export.grids import (
    clear_cache,
    grid_page,
    may_use,
    source_frame,
    source_preview,
    view_for,
)
from dashboard.export.registry import to_csv
from dashboard.views.grids import (
    FRAME_CACHE,
    HIDDEN,
    LABELS,
    NO_ROWS,
    NOT_SUMMED,
    VIEW_CACHE,
    GridFrame,
    Query,
    RowsView,
    exact_sum,
    filter_mask,
    grid_view,
    hidden_columns,
    make_view,
    money_totals,
    search_haystack,
    sort_frame,
    totals_row,
)

# the names the grid's users knew (pages, tests): the rows engine lives in dashboard.views.grids,
# who may read a grid in dashboard.export.grids
View = RowsView
source_page = grid_page
__all__ = [
    "FRAME_CACHE",
    "HIDDEN",
    "LABELS",
    "NOT_SUMMED",
    "NO_ROWS",
    "VIEW_CACHE",
    "GridFrame",
    "Query",
    "View",
    "clear_cache",
    "exact_sum",
    "filter_mask",
    "grid_view",
    "hidden_columns",
    "make_view",
    "may_use",
    "money_totals",
    "search_haystack",
    "sort_frame",
    "source_frame",
    "source_page",
    "totals_row",
    "view_for",
]

# rows per getRowsRequest (AG Grid cacheBlockSize, its default); the server pages over every row.
# 500 made every grid's first answer 120-250 KB for a dozen rows on screen: 0.3-0.4 s of the
# browser's time on a page change (bench/bench_browser.py --profile)
BLOCK_ROWS = 100
MAX_BLOCKS = 200  # blocks the browser keeps (maxBlocksInCache); older blocks are fetched again
# the most rows one getRowsRequest may ask for (a block size, never a cap on the rows)
MAX_REQUEST_ROWS = 5000
SEARCH_DEBOUNCE_MS = 400

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


GRID_TYPE, SOURCE_TYPE = "ar-grid", "ar-grid-source"


def grid_id(name: str | Wildcard) -> dict:
    """The AgGrid component id of a data_grid."""
    return {"type": GRID_TYPE, "grid": name}


def source_id(name: str | Wildcard) -> dict:
    """The store whose data (any JSON) selects the rows; pages write it (or prefill, in the layout)."""
    return {"type": SOURCE_TYPE, "grid": name}


def _part(kind: str, name: str | Wildcard) -> dict:
    return {"type": f"ar-grid-{kind}", "grid": name}


def selection_id(name: str | Wildcard) -> dict:
    """The store of what is ticked in a grid with row checkboxes (pages read it as State; browser data)."""
    return _part("selection", name)


SELECTION = {
    "mode": "multiRow",
    "checkboxes": True,
    # AG Grid's header box selects only client-side rows: the toolbar's "Select all N matching" does it
    "headerCheckbox": False,
    "enableClickSelection": False,
}  # AG Grid's object form (dash-ag-grid 33+)
SELECTION_COLUMN = {
    "pinned": "left",
    "width": 44,
    "maxWidth": 44,
    "resizable": False,
    "suppressHeaderMenuButton": True,
    "headerTooltip": "Tick rows here; 'Select all … matching' above ticks every row the search and filters leave",
}


def _selection_tools(name: str) -> list:
    """'Select all N matching' and 'Clear selection' (grids with row checkboxes)."""
    return [
        dbc.Button(
            "Select all matching",
            id=_part("selall", name),
            size="sm",
            color="primary",
            outline=True,
            className="text-nowrap ar-grid-selall",
            title="Tick every row the search, column filters and date range leave: all of them, not "
            "only the rows loaded on screen",
        ),
        dbc.Button(
            "Clear selection",
            id=_part("selclear", name),
            size="sm",
            color="secondary",
            outline=True,
            disabled=True,
            className="text-nowrap ar-grid-selclear",
        ),
    ]


def data_grid(
    name: str,
    height: int = 440,
    search_placeholder: str = "Search (e.g. OVERDUE, a name, an amount)",
    select: bool = False,
    select_key: str = "customer_id",
) -> html.Div:
    """The grid skeleton (no data): toolbar, caption, grid, download, source store.

    Every grid pages, sorts, filters and searches on the server (AG Grid's infinite row model).
    `select`: a checkbox per row, keyed by column `select_key` (unique per row), with "Select all N
    matching" and "Clear selection" in the toolbar; what is ticked is the store `selection_id(name)`
    (browser data: resolve and re-check it on the server, dashboard.export.grids.selected_keys).
    """
    toolbar = html.Div(
        [
            dbc.Input(
                id=_part("search", name),
                type="search",
                placeholder=search_placeholder,
                size="sm",
                className="ar-grid-search",
                debounce=SEARCH_DEBOUNCE_MS,
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
            *(_selection_tools(name) if select else []),
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
    grid = dag.AgGrid(
        id=grid_id(name),
        className=f"ar-grid ar-grid-{name} ar-grid-server",
        columnDefs=[],
        rowModelType="infinite",
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
            "cacheBlockSize": BLOCK_ROWS,
            "maxBlocksInCache": MAX_BLOCKS,
            "maxConcurrentDatasourceRequests": 1,
            "infiniteInitialRowCount": 1,
            "blockLoadDebounceMillis": 50,
            **(
                {"rowSelection": SELECTION, "selectionColumnDef": SELECTION_COLUMN}
                if select
                else {}
            ),
        },
        # a tick stays with its row (by key) while blocks load, sort and search
        **({"getRowId": f"params.data.{select_key}"} if select else {}),
        style={"height": f"{height}px", "width": "100%"},
    )
    selection = (
        [
            html.Span(id=_part("selected", name), className="ms-2 ar-grid-selected"),
            dcc.Store(id=selection_id(name), data={"all": False, "ids": []}),
            # the exact count of the rows matching the grid's query (the server's, from its last answer)
            dcc.Store(id=_part("selcount", name)),
        ]
        if select
        else []
    )
    return html.Div(
        [
            toolbar,
            html.Div(
                [
                    html.Span(id=_part("caption", name)),
                    html.Span(id=_part("matched", name), className="ms-2 ar-grid-matched"),
                    *selection[:1],
                ],
                className="small text-muted mb-1 ar-grid-caption",
            ),
            grid,
            dcc.Store(id=source_id(name)),
            # the pinned totals of the matching rows
            dcc.Store(id=_part("totals", name)),
            dcc.Store(id=_part("purged", name)),
            dcc.Store(id=_part("pinned", name)),
            dcc.Store(id=_part("block", name)),  # the server's answer to the last getRowsRequest
            *selection[1:],
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


def csv_text(gf: GridFrame) -> str:
    """Every row as CSV (dashboard.export.registry rules: exact decimals, ISO dates, no formulas), stamped."""
    return (f"# {gf.stamp}\n" if gf.stamp else "") + to_csv(gf.frame)


# ---- the grid callbacks read rows through dashboard.export.grids (access) and dashboard.views.grids


def rows_response(name: str, request: dict | None, data, search) -> tuple[dict, RowsView | None]:
    """The getRowsResponse for one getRowsRequest, and the view it was cut from."""
    request = request if isinstance(request, dict) else {}
    query = Query.clean(request.get("sortModel"), request.get("filterModel"), search)
    view = view_for(name, data, query, preview=True)
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
    return {"rowData": view.block(start, end), "rowCount": view.count()}, view


def export_query(name: str, fmt_: str, data, query: Query) -> str:
    """/export/grid/<name>.<fmt>?source=&sort=&filter=&search= for the grid's state."""
    params = {"source": json.dumps(data, separators=(",", ":"), default=str)}
    if query.sort:
        params["sort"] = json.dumps(query.sort, separators=(",", ":"))
    if query.filter:
        params["filter"] = json.dumps(query.filter, separators=(",", ":"))
    if query.search:
        params["search"] = query.search
    return f"/export/grid/{quote(name, safe='')}.{fmt_}?{urlencode(params)}"


# ---- callbacks shared by every grid ---------------------------------------------------------------


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


def grid_props(name: str, data: dict, options: dict | None) -> tuple[list[dict], dict]:
    """(columnDefs, dashGridOptions) of a grid for its source data."""
    _key, preview = source_preview(name, data)
    # the columns of the first rows are those of every row (a preview's: no whole frame built)
    source = preview.gf if preview is not None else source_frame(name, data)[1]
    options = _context_options(options, source)
    options.pop("pinnedBottomRowData", None)
    return (column_defs(source) if source is not None else []), options


def prefill(tree, sources: dict[str, dict]) -> None:
    """Grids drawn with their page: each named grid's source store holds its data and the grid its
    columns (what fill_grid would answer), so the grid asks for its first rows as it mounts.
    A grid whose source comes from a page callback instead is filled by fill_grid when it arrives."""
    for component in tree._traverse():
        key = getattr(component, "id", None)
        if not isinstance(key, dict) or key.get("grid") not in sources:
            continue
        data = sources[key["grid"]]
        # Dash sets a component's props in __init__: its generated classes declare none of them
        if key.get("type") == SOURCE_TYPE:
            component.data = data  # type: ignore[attr-defined]
        elif key.get("type") == GRID_TYPE:
            component.columnDefs, component.dashGridOptions = grid_props(  # type: ignore[attr-defined]
                key["grid"],
                data,
                component.dashGridOptions,  # type: ignore[attr-defined]
            )


@cb.callback(
    Output(grid_id(MATCH), "columnDefs"),
    Output(grid_id(MATCH), "dashGridOptions"),
    Input(source_id(MATCH), "data"),
    Input("data-version", "data"),
    State(grid_id(MATCH), "dashGridOptions"),
    # a source in the layout comes with its columns (prefill); one set by a callback triggers this
    prevent_initial_call=True,
)
def fill_grid(data, _version, options):
    """The grid's columns and context from its registered source (no rows: the browser then purges its
    blocks and asks `get_rows` for them, with the caption and totals)."""
    if data is None:
        raise PreventUpdate
    return grid_props(ctx.outputs_list[0]["id"]["grid"], data, options)


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
        // The caption, matched line, totals and matching count change only for an answer to the question of the moment.
        if (!current) { return [block.response, nu, nu, nu]; }
        const name = window.dash_clientside.callback_context.outputs_list[0].id.grid;
        if (window.arGridSelect) { window.arGridSelect.answer(name, block); }
        return [block.response, block.caption, block.matched, {rows: block.totals || []}];
    }
    """,
    Output(grid_id(MATCH), "getRowsResponse"),
    Output(_part("caption", MATCH), "children"),
    Output(_part("matched", MATCH), "children"),
    Output(_part("totals", MATCH), "data"),
    Input(_part("block", MATCH), "data"),
    State(grid_id(MATCH), "getRowsRequest"),
    State(_part("search", MATCH), "value"),
    State(source_id(MATCH), "data"),
    prevent_initial_call=True,
)


cb.clientside_callback(
    """
    function(data, _search, _version) {
        // New source data, search text or data version -> drop the loaded blocks and ask again.
        const context = window.dash_clientside.callback_context;
        const id = context.outputs_list.id;
        const trigger = context.triggered_id;
        if (window.arGridSelect && trigger && trigger.type === "ar-grid-source") {
            window.arGridSelect.source(id.grid, data);  // other page filters: a selection is dropped
        }
        window.dash_ag_grid.getApiAsync({type: "ar-grid", grid: id.grid}).then(api => {
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
    """
    function(options) {
        const field = options && options.context && options.context.dateField;
        return field ? {} : {display: "none"};
    }
    """,
    Output(_part("dates", MATCH), "style"),
    Input(grid_id(MATCH), "dashGridOptions"),
)

# ---- row checkboxes over the infinite model (data_grid(select=True)) ------------------------------

# Defined once when the page script loads (an inline clientside function runs its IIFE then): per grid,
# what is ticked (explicit row keys, or "all matching" less the rows unticked since); AG Grid's ticks
# are redrawn from it on every loaded block, and the store selection_id(name) holds it for the server.
SELECT_JS = r"""
(function () {
    const USER = new Set(["checkboxSelected", "rowClicked", "spaceKey", "uiSelectAll",
                          "uiSelectAllFiltered", "uiSelectAllCurrentPage"]);
    const grids = {};
    const part = (kind, name) => ({type: "ar-grid-" + kind, grid: name});
    const fresh = (name, api) => ({name: name, api: api, all: false, ids: new Set(), except: new Set(),
                                   count: null, query: {search: "", filter: {}, sort: []}, qkey: null, full: null,
                                   source: null});
    const grid = name => grids[name] || (grids[name] = fresh(name, null));
    const state = g => g.all
        ? {all: true, except: Array.from(g.except), search: g.query.search, filter: g.query.filter, sort: g.query.sort}
        : {all: false, ids: Array.from(g.ids)};
    const push = g => window.dash_clientside.set_props(part("selection", g.name), {data: state(g)});
    function draw(g) {
        // tick exactly the loaded rows the selection holds
        const api = g.api;
        if (!api || api.isDestroyed()) { return; }
        const on = [], off = [];
        api.forEachNode(node => {
            if (!node.data || node.id == null) { return; }
            const want = g.all ? !g.except.has(node.id) : g.ids.has(node.id);
            if (want !== Boolean(node.isSelected())) { (want ? on : off).push(node); }
        });
        if (on.length) { api.setNodesSelected({nodes: on, newValue: true, source: "api"}); }
        if (off.length) { api.setNodesSelected({nodes: off, newValue: false, source: "api"}); }
    }
    function picked(g, event) {
        // a box ticked or unticked by the user: read the loaded rows back into the selection
        if (!USER.has(event.source)) { setTimeout(() => draw(g), 0); return; }
        g.api.forEachNode(node => {
            if (!node.data || node.id == null) { return; }
            const on = Boolean(node.isSelected());
            if (g.all) {
                if (on) { g.except.delete(node.id); } else { g.except.add(node.id); }
            } else if (on) {
                g.ids.add(node.id);
            } else {
                g.ids.delete(node.id);
            }
        });
        push(g);
    }
    function clear(g) {
        g.all = false; g.ids.clear(); g.except.clear();
        if (g.api && !g.api.isDestroyed()) { g.api.deselectAll(); }
        return state(g);
    }
    return {
        attach(name) {
            // a new grid (the page was opened again) starts with nothing ticked, like its store
            const g = grid(name);
            window.dash_ag_grid.getApiAsync({type: "ar-grid", grid: name}).then(api => {
                const held = grids[name];
                if (held.api === api) { return; }
                const next = held.api === null ? held : (grids[name] = fresh(name, null));
                next.api = api;
                api.addEventListener("modelUpdated", () => draw(next));
                api.addEventListener("selectionChanged", event => picked(next, event));
                draw(next);
            }).catch(() => null);
            return g;
        },
        selectAll(name) {
            const g = grid(name);
            g.all = true; g.except.clear(); g.ids.clear();
            draw(g);
            return state(g);
        },
        clear(name) { return clear(grid(name)); },
        answer(name, block) {
            // the server's answer to the grid's question of the moment: the exact count of its matching
            // rows, and the query "all matching" stands for (unticked rows are forgotten when it narrows)
            const g = grids[name];
            if (!g) { return; }
            const asked = block.asked || {};
            const query = {search: block.search || "", filter: asked.filterModel || {}, sort: asked.sortModel || []};
            const qkey = JSON.stringify([query.search, query.filter]);
            const full = JSON.stringify(query);
            if (g.all && g.qkey !== null && qkey !== g.qkey) { g.except.clear(); }
            const changed = full !== g.full;
            g.qkey = qkey; g.full = full; g.query = query;
            const count = (block.response || {}).rowCount;
            if (count !== g.count) {
                g.count = count;
                window.dash_clientside.set_props(part("selcount", name), {data: count});
            }
            if (g.all && changed) { push(g); }
        },
        source(name, data) {
            // the page's filters changed the grid's rows: what was ticked is dropped
            const g = grids[name];
            if (!g) { return; }
            const key = JSON.stringify(data === undefined ? null : data);
            const before = g.source;
            g.source = key;
            if (before !== null && before !== key && (g.all || g.ids.size)) { clear(g); push(g); }
        },
    };
})()
"""

cb.clientside_callback(
    """
    (function () {
        window.arGridSelect = window.arGridSelect || """
    + SELECT_JS.strip()
    + """;
        const number = n => Number(n).toLocaleString("en-US");
        return function (selection, count) {
            // what is selected, in the caption; the buttons' labels and states
            const name = window.dash_clientside.callback_context.outputs_list[0].id.grid;
            window.arGridSelect.attach(name);
            const sel = selection || {};
            const ids = Array.isArray(sel.ids) ? sel.ids.length : 0;
            const out = Array.isArray(sel.except) ? sel.except.length : 0;
            const known = Number.isInteger(count);
            let text = "";
            if (sel.all) {
                text = !known ? "all matching rows selected"
                    : out ? number(Math.max(count - out, 0)) + " of " + number(count) + " matching selected"
                    : "all " + number(count) + " matching selected";
            } else if (ids) {
                text = number(ids) + " selected";
            }
            const label = known ? "Select all " + number(count) + " matching" : "Select all matching";
            return [text ? "· " + text + "." : "", label, (known && count === 0) || Boolean(sel.all && !out),
                    !(sel.all || ids)];
        };
    })()
    """,
    Output(_part("selected", MATCH), "children"),
    Output(_part("selall", MATCH), "children"),
    Output(_part("selall", MATCH), "disabled"),
    Output(_part("selclear", MATCH), "disabled"),
    Input(selection_id(MATCH), "data"),
    Input(_part("selcount", MATCH), "data"),
)

cb.clientside_callback(
    """
    function(_all, _clear) {
        // "Select all N matching" / "Clear selection"
        const trigger = window.dash_clientside.callback_context.triggered_id;
        if (!trigger || !window.arGridSelect) { return window.dash_clientside.no_update; }
        return trigger.type === "ar-grid-selall"
            ? window.arGridSelect.selectAll(trigger.grid) : window.arGridSelect.clear(trigger.grid);
    }
    """,
    Output(selection_id(MATCH), "data"),
    Input(_part("selall", MATCH), "n_clicks"),
    Input(_part("selclear", MATCH), "n_clicks"),
    prevent_initial_call=True,
)
