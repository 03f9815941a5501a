"""The drill-down modal any page can open: the rows behind a figure, totalling to the figure clicked.

Two ways to open it:
  * a clickable element with id `trigger_id(key, title, **params)` (KPI tiles do this), or
  * a page callback with `Output(relay_id(page), "data")` returning `request(key, title, **params)`,
    with `relay(page)` in the page's layout (chart clicks do this; use prevent_initial_call=True).

`key` is any of dashboard.metrics.drill.all_drill_keys() or of the page drills declared in
dashboard.views (`register_drill`); params: bucket, customer_id,
terms_group_name, month. Rows come from the server for the user's own scope and the filters of the
moment, a block at a time (the grid's infinite row model: every row, however many, sorted, filtered
and searched on the server); customer cells link to Account 360.
"""

from __future__ import annotations

import json
import time

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import callbacks as cb
from dashboard.components import grid, identity

GRID = "drill"


def trigger_id(key: str, title: str, **params: str) -> dict:
    """Id for a clickable element that opens the drill-down of (key, params)."""
    spec = {"key": key, "title": title, **{k: v for k, v in params.items() if v is not None}}
    return {"type": "drill-trigger", "index": json.dumps(spec, sort_keys=True)}


def request(key: str, title: str, **params: str | None) -> dict:
    """Store "drill-request" data that opens the modal (a nonce makes a repeated click reopen it)."""
    return {
        "key": key,
        "title": title,
        "params": {k: v for k, v in params.items() if v is not None},
        "nonce": time.time(),
    }


def relay_id(page: str) -> dict:
    """The page-local store a page's chart-click callback writes its drill request to."""
    return {"type": "drill-relay", "page": page}


def relay(page: str) -> dcc.Store:
    """Put in a page whose chart clicks open drill-downs; its callback outputs
    `Output(drill.relay_id(page), "data")` (not "drill-request" itself: Dash calls a callback whose
    input arrives with a page while its output was already there, prevent_initial_call or not, so
    every visit of the page cost a round trip; this store arrives with the page)."""
    return dcc.Store(id=relay_id(page))


def drill_modal() -> dbc.Modal:
    """The modal skeleton (in the shell)."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="drill-title")),
            dbc.ModalBody(
                [html.Div(id="drill-header", className="mb-2"), grid.data_grid(GRID, height=480)]
            ),
        ],
        id="drill-modal",
        size="xl",
        is_open=False,
        scrollable=True,
        className="ar-drill-modal",
    )


# the grid (GRID): the table view "drill" of dashboard/views/drill.py, for every page


# A page's chart click (its relay store) opens the drill-down it asked for.
cb.clientside_callback(
    """
    function(values) {
        const context = window.dash_clientside.callback_context;
        const trigger = context.triggered_id;
        const ids = context.inputs_list[0] || [];
        const at = trigger ? ids.findIndex(item => item.id.page === trigger.page) : -1;
        return at >= 0 && values[at] ? values[at] : window.dash_clientside.no_update;
    }
    """,
    Output("drill-request", "data", allow_duplicate=True),
    Input({"type": "drill-relay", "page": ALL}, "data"),
    prevent_initial_call=True,
)

# A click on any drill trigger (KPI tile) asks for its drill-down: in the browser, as request() would
# (the request is browser data either way: open_drill checks it on the server). A server callback
# here cost a round trip on every page with tiles, as Dash calls an ALL callback when its set of
# triggers changes.
cb.clientside_callback(
    """
    function(_clicks) {
        const context = window.dash_clientside.callback_context;
        const trigger = context.triggered_id;
        const first = context.triggered && context.triggered[0];
        if (!trigger || !first || !first.value) { return window.dash_clientside.no_update; }
        const params = JSON.parse(trigger.index);
        const key = params.key, title = params.title;
        delete params.key;
        delete params.title;
        return {key: key, title: title, params: params, nonce: Date.now() / 1000};
    }
    """,
    Output("drill-request", "data", allow_duplicate=True),
    Input({"type": "drill-trigger", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


@cb.callback(
    Output("drill-modal", "is_open"),
    Output("drill-title", "children"),
    Output("drill-header", "children"),
    Output(grid.source_id(GRID), "data"),
    Input("drill-request", "data"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def open_drill(req, filters_data):
    """Open the modal on a drill request; the grid fills itself from the same source."""
    if not req:
        raise PreventUpdate
    data = {"request": req, "filters": filters_data}
    # cached: the grid's columns and first block come from this preview (count, totals and first
    # rows; no frame of every row), else its blocks page over this frame
    _key, preview = grid.source_preview(GRID, data)
    source = preview.gf if preview is not None else grid.source_frame(GRID, data)[1]
    if source is None:
        return (
            True,
            "Drill-down",
            dbc.Alert("This figure has no rows to show.", color="warning"),
            None,
        )
    frame = source.frame
    if preview is not None:
        total = preview.totals.get("amount_cents") if "amount_cents" in frame.columns else None
        count = preview.n_rows
    else:
        total = (
            grid.money_totals(frame[["amount_cents"]])["amount_cents"]
            if "amount_cents" in frame.columns
            else None
        )
        count = len(frame)
    header = html.Div(
        [
            html.Span(
                fmt.money(total, source.currency) if total is not None else "",
                className="fw-semibold me-2 ar-drill-total",
            ),
            html.Span(
                f"{count:,} rows · {gf.describe(filters_data)} · {identity.scope().label}",
                className="text-muted small",
            ),
        ]
    )
    return True, str(req.get("title") or "Drill-down")[:200], header, data


# Following a customer link (a page change) closes the modal: in the browser, no round trip per page.
cb.clientside_callback(
    "function(_pathname) { return false; }",
    Output("drill-modal", "is_open", allow_duplicate=True),
    Input("url", "pathname"),
    prevent_initial_call=True,
)
