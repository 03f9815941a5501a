"""The drill-down modal any page can open: the rows behind a figure, totalling to the figure clicked.

Two ways to open it:
  * a clickable element with id `trigger_id(key, title, **params)` (KPI tiles do this), or
  * a page callback with `Output("drill-request", "data", allow_duplicate=True)` returning
    `request(key, title, **params)` (chart clicks do this; use prevent_initial_call=True).

`key` is any of dashboard.metrics.ui_support.all_drill_keys() or of the page drills declared in
dashboard.views (`register_drill`); params: bucket, customer_id,
terms_group_name, month. Rows come from the server for the user's own scope and the filters of the
moment, a block at a time (the grid's infinite row model: every row, however many, sorted, filtered
and searched on the server); customer cells link to Account 360.
"""

from __future__ import annotations

import json
import time

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import callbacks as cb
from dashboard.components import grid, identity
from dashboard.views import DRILLS

GRID = "drill"
PARAMS = ("bucket", "customer_id", "terms_group_name", "month")
AMOUNT_LABELS = {
    "credit_sales": "Amount",
    "credit_sales_mtd": "Amount",
    "credit_sales_year": "Amount",
    "month_sales": "Amount",
    "collections": "Payment",
    "collections_mtd": "Payment",
    "month_collections": "Payment",
    "write_offs": "Written off",
    "unapplied_credits": "Unapplied",
    "customers_with_balance": "Balance",
    "customers_over_limit": "Balance",
    "at_risk": "Balance",
    "avg_days_to_pay": "Invoice amount",
}
ORDER = (
    "invoice_id",
    "payment_id",
    "id",
    "type",
    "customer_name",
    "customer_id",
    "reason",
    "issue_date",
    "due_date",
    "date",
    "settled_on",
    "days_past_due",
    "aging_due",
    "aging_transaction",
    "days_to_pay",
    "days_late",
    "terms",
    "credit_limit_cents",
    "utilization_pct",
    "invoice_amount_cents",
    "overdue_cents",
    "overdue_60_plus_cents",
    "overdue_90_plus_cents",
    "currency",
    "amount_in_currency",
    "amount_cents",
)


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


def _clean_request(req: dict | None) -> tuple[str, str, dict] | None:
    """(key, title, params) from browser data, or None when malformed (never trusted for scope)."""
    from dashboard.metrics.ui_support import all_drill_keys

    if not isinstance(req, dict) or (
        req.get("key") not in all_drill_keys() and req.get("key") not in DRILLS
    ):
        return None
    given = req.get("params")
    raw = given if isinstance(given, dict) else {}
    params = {k: str(raw[k])[:200] for k in PARAMS if isinstance(raw.get(k), str | int)}
    return req["key"], str(req.get("title") or req["key"])[:200], params


def ordered(frame):
    """Columns in reading order (ids, customer, dates, ages, amounts; the figure's amount last), labels for keys."""
    from dashboard.figures.aging import DUE_LABELS, TRANSACTION_LABELS

    first = [c for c in ORDER if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    for column, labels in (("aging_due", DUE_LABELS), ("aging_transaction", TRANSACTION_LABELS)):
        if column in frame.columns:
            frame = frame.assign(**{column: frame[column].map(lambda v, m=labels: m.get(v, v))})
    return frame


def drill_source(data: dict) -> grid.GridFrame | None:
    """The drill rows for a request and filters, in the current user's scope (server-side)."""
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.metrics.ui_support import currency_for, drill_any

    cleaned = _clean_request((data or {}).get("request"))
    if cleaned is None:
        return None
    key, title, params = cleaned
    as_of, _basis, filters = gf.parse((data or {}).get("filters"))
    scope = identity.scope()
    snap = get_snapshot()
    page = DRILLS.get(key)
    if page is not None and page.capability is not None and not identity.can(page.capability):
        return None
    try:
        if page is not None:
            frame = page.rows(snap, key, as_of, gf.PERIOD_DAYS, filters, scope, **params)
        else:
            frame = drill_any(snap, key, as_of, gf.PERIOD_DAYS, filters, scope, **params)
    except ValueError:
        return None
    currency = currency_for(snap, filters, scope, fmt.default_currency())
    label = AMOUNT_LABELS.get(key, "Open balance")
    stamp = f"{title} | {gf.describe(data.get('filters'))} | scope: {scope.label} | generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    if snap.multi:
        stamp += f" | amounts in {currency} at the rates of {as_of.isoformat()} (transaction currency beside)"
    date_field = next((c for c in ("issue_date", "date", "settled_on") if c in frame.columns), None)
    labels = {"amount_cents": label} if page is None else {"amount_cents": "Amount", **page.labels}
    labels = {"currency": "Currency", "amount_in_currency": "In transaction currency", **labels}
    labels["amount_cents"] = (
        f"{labels['amount_cents']} ({currency})" if snap.multi else labels["amount_cents"]
    )
    return grid.GridFrame(
        ordered(frame) if page is None else frame,
        currency=currency,
        date_field=date_field,
        file_name=f"drill-{key}",
        labels=labels,
        stamp=stamp,
    )


grid.register_source(GRID, drill_source)


@cb.callback(
    Output("drill-request", "data", allow_duplicate=True),
    Input({"type": "drill-trigger", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def open_from_trigger(_clicks):
    """A click on any drill trigger (KPI tile) asks for its drill-down."""
    trigger = ctx.triggered_id
    if not trigger or not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    spec = json.loads(trigger["index"])
    return request(spec.pop("key"), spec.pop("title"), **spec)


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
    # cached: the grid's blocks page over this frame
    _key, source, _search = grid.source_frame(GRID, data)
    if source is None:
        return (
            True,
            "Drill-down",
            dbc.Alert("This figure has no rows to show.", color="warning"),
            None,
        )
    frame = source.frame
    total = (
        grid.money_totals(frame[["amount_cents"]])["amount_cents"]
        if "amount_cents" in frame.columns
        else None
    )
    header = html.Div(
        [
            html.Span(
                fmt.money(total, source.currency) if total is not None else "",
                className="fw-semibold me-2 ar-drill-total",
            ),
            html.Span(
                f"{len(frame):,} rows · {gf.describe(filters_data)} · {identity.scope().label}",
                className="text-muted small",
            ),
        ]
    )
    return True, str(req.get("title") or "Drill-down")[:200], header, data


@cb.callback(
    Output("drill-modal", "is_open", allow_duplicate=True),
    Input("url", "pathname"),
    prevent_initial_call=True,
)
def close_on_navigation(_pathname):
    """Following a customer link closes the modal."""
    return False
