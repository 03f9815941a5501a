"""Invoice workspace (Plixo): pulse chips, Risk hotlist / Current cycle / Paid tabs, status / owner / DPD
filters, and a row inspector with the risk score, the recommended next action and a link to Account 360."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard.components import grid, identity
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.components.page_kit import page_header, request_context
from dashboard.components.tips import info_tip
from dashboard.components.views import page_callback
from dashboard.metrics import collections as metrics
from dashboard.metrics import predict_ui, service
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.service import filter_options
from dashboard.views import workspace as ws
from dashboard.views.warm import add_page_step

dash.register_page(
    __name__, path="/invoices", name="Invoices", title="Invoice workspace", nav_order=40
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "ws-invoices"
# the grid's table view (dashboard/views/workspace.py) and what it shows
TABS, WORKLIST, ANY_OWNER, MAX_DPD = ws.TABS, ws.WORKLIST, ws.ANY_OWNER, ws.MAX_DPD
LABELS, OPEN_COLUMNS, PAID_COLUMNS = ws.LABELS, ws.OPEN_COLUMNS, ws.PAID_COLUMNS
workspace_params, action_verbs = ws.workspace_params, ws.action_verbs
WORKLIST_LABEL = "Worklist · expected loss"
STATUS_LABELS = {
    "open": "Not yet due",
    "overdue": "Overdue",
    "disputed": "Disputed",
    "paid": "Paid",
}
CHIP_INFO = {
    "hotlist": "Σ open balances of the Risk hotlist: invoices more than 30 days past due, in dispute or litigation, "
    "or of a customer over its credit limit.",
    "due7": "Σ open balances due in the next 7 days: due date from the as-of date to 7 days after it (as the "
    "forecast's Week 1).",
    "owner": "Owner coverage = open exposure whose customer has a sales rep / all open exposure × 100.",
}


# ---- cached metric calls ------------------------------------------------------------------------

workspace = service.invoice_workspace
pulse = service.workspace_pulse


def warm(snap, req) -> None:
    """The page's pulse line (the snapshot's warm-up, dashboard/views/warm.py; its grid's rows depend
    on the tab and controls, and are not warmed)."""
    pulse(snap, req.as_of, req.filters, req.scope)


add_page_step("workspace", warm)


# ---- layout -------------------------------------------------------------------------------------


def selectable(node):
    """Make the AG Grid inside a data_grid select one row on click (the inspector reads selectedRows)."""
    if isinstance(node, dag.AgGrid):
        options = dict(node.dashGridOptions or {})
        options["rowSelection"] = {
            "mode": "singleRow",
            "checkboxes": False,
            "enableClickSelection": True,
        }
        node.dashGridOptions = options
        return node
    children = getattr(node, "children", None)
    for child in (
        children
        if isinstance(children, list | tuple)
        else [children]
        if children is not None
        else []
    ):
        selectable(child)
    return node


def _chip(chip: str, label: str) -> html.Div:
    info_id = f"ws-chip-info-{chip}"
    return html.Div(
        [
            html.Span(label, className="ar-kpi-title"),
            html.Span("…", id=f"ws-chip-{chip}", className="fw-semibold ws-chip-value"),
            *info_tip(info_id, CHIP_INFO[chip]),
        ],
        className="d-inline-flex align-items-center gap-2 bg-white border rounded-pill px-3 py-1 ws-chip",
    )


def _filters() -> html.Div:
    label = "ar-filter-label"
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label("Status", className=label),
                    dbc.Checklist(
                        id="ws-status",
                        options=[{"label": v, "value": k} for k, v in STATUS_LABELS.items()],
                        value=[],
                        inline=True,
                        className="small ws-status",
                    ),
                ],
                className="ar-filter",
            ),
            html.Div(
                [
                    dbc.Label("Owner (sales rep)", className=label),
                    dbc.Select(
                        id="ws-owner",
                        options=[{"label": "All owners", "value": ANY_OWNER}],
                        value=ANY_OWNER,
                        size="sm",
                        className="ar-filter-select",
                        style={"width": "12rem"},
                    ),
                ],
                className="ar-filter",
            ),
            html.Div(
                [
                    dbc.Label("Days past due", className=label),
                    html.Div(
                        [
                            dbc.Input(
                                id="ws-dpd-min",
                                type="number",
                                min=0,
                                max=MAX_DPD,
                                step=1,
                                placeholder="from",
                                size="sm",
                                debounce=True,
                                style={"width": "5.5rem"},
                            ),
                            html.Span("–", className="text-muted"),
                            dbc.Input(
                                id="ws-dpd-max",
                                type="number",
                                min=0,
                                max=MAX_DPD,
                                step=1,
                                placeholder="to",
                                size="sm",
                                debounce=True,
                                style={"width": "5.5rem"},
                            ),
                        ],
                        className="d-flex align-items-center gap-1",
                    ),
                ],
                className="ar-filter",
            ),
            html.Div(
                dbc.Button("Clear", id="ws-clear", size="sm", color="link", className="px-1"),
                className="ar-filter justify-content-end",
            ),
        ],
        className="d-flex flex-wrap align-items-end gap-3 bg-white border rounded px-3 py-2 mb-2 ws-filters",
    )


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    chips = html.Div(
        [
            _chip("hotlist", "Hotlist exposure"),
            _chip("due7", "Due in next 7 days"),
            _chip("owner", "Owner coverage"),
        ],
        className="d-flex flex-wrap gap-2 mb-2 ws-pulse",
    )
    tabs = dbc.Tabs(
        [dbc.Tab(label=label, tab_id=tab, id=f"ws-tab-{tab}") for tab, label in TABS]
        + [dbc.Tab(label=WORKLIST_LABEL, tab_id=WORKLIST, id=f"ws-tab-{WORKLIST}")],
        id="ws-tab",
        active_tab="hotlist",
        className="mb-2",
    )
    inspector = dbc.Card(
        [
            dbc.CardHeader(html.Span("Inspector", className="ar-card-title"), className="py-2"),
            dbc.CardBody(html.Div(id="ws-inspector", children=_hint()), className="p-2"),
        ],
        className="ar-card sticky-top ws-inspector-card",
        style={"top": "5rem"},
    )
    body = dbc.Row(
        [
            dbc.Col(
                selectable(
                    grid.data_grid(
                        GRID, height=560, search_placeholder="Search invoices, customers, actions"
                    )
                ),
                lg=8,
                xxl=9,
            ),
            dbc.Col(inspector, lg=4, xxl=3),
        ],
        className="g-2",
    )
    return html.Div(
        [
            page_header("Invoices", "ws-caption"),
            chips,
            tabs,
            _filters(),
            body,
        ],
        id="ws-page",
    )


def _hint() -> html.Div:
    return html.Div(
        "Click a row to see the invoice's details, risk score and recommended next action.",
        className="text-muted small p-2 ws-hint",
    )


# ---- data helpers -------------------------------------------------------------------------------


def source_data(filters_data, tab, status, owner, dpd_min, dpd_max) -> dict:
    """What the grid's source store holds: the global filters and the workspace controls."""
    return {
        "filters": filters_data,
        "tab": tab,
        "status": list(status or []),
        "owner": owner,
        "dpd_min": dpd_min,
        "dpd_max": dpd_max,
    }


def workspace_rows(data: dict) -> tuple[pd.DataFrame, dict, str]:
    """(rows of invoice_workspace for the source data, the parameters used, currency), in the user's scope."""
    snap, as_of, _basis, filters, scope, cur = request_context((data or {}).get("filters") or {})
    params = workspace_params(data)
    return ws.tab_rows(snap, as_of, filters, scope, params), params, cur


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(Output("ws-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


@page_callback(
    Output("ws-chip-hotlist", "children"),
    Output("ws-chip-due7", "children"),
    Output("ws-chip-owner", "children"),
)
def pulse_chips(filters_data, _version):
    """Hotlist exposure, due in the next 7 days, owner coverage."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    p = pulse(snap, as_of, filters, scope)
    return (
        [
            fmt.money(p["hotlist_exposure_cents"], cur),
            html.Span(
                f" · {fmt.number(p['hotlist_invoices'])} invoices",
                className="small text-muted fw-normal",
            ),
        ],
        [
            fmt.money(p["due_next_7_days_cents"], cur),
            html.Span(
                f" · {fmt.number(p['due_next_7_days_invoices'])} invoices",
                className="small text-muted fw-normal",
            ),
        ],
        [
            fmt.pct(p["owner_coverage_pct"]),
            html.Span(
                f" of {fmt.money(p['open_exposure_cents'], cur)}",
                className="small text-muted fw-normal",
            ),
        ],
    )


@page_callback(Output("ws-owner", "options"))
def owner_options(filters_data, _version):
    """The sales reps in the user's scope, and customers without one."""
    if filters_data is None:
        raise PreventUpdate
    reps = filter_options(snapshots.get_snapshot(), identity.scope()).get("sales_rep", [])
    return (
        [{"label": "All owners", "value": ANY_OWNER}]
        + [
            {"label": f"{label} ({value})" if label != value else value, "value": value}
            for value, label in reps
        ]
        + [{"label": "No owner", "value": metrics.NO_OWNER}]
    )


CONTROLS = [
    Input("ws-tab", "active_tab"),
    Input("ws-status", "value"),
    Input("ws-owner", "value"),
    Input("ws-dpd-min", "value"),
    Input("ws-dpd-max", "value"),
]


@callback(Output(grid.source_id(GRID), "data"), *INPUTS, *CONTROLS)
def grid_source(filters_data, _version, tab, status, owner, dpd_min, dpd_max):
    """Point the grid at the tab and filters (its rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return source_data(filters_data, tab, status, owner, dpd_min, dpd_max)


@callback([Output(f"ws-tab-{tab}", "label") for tab, _ in TABS], *INPUTS, *CONTROLS[1:])
def tab_labels(filters_data, _version, status, owner, dpd_min, dpd_max):
    """Each tab's name with its row count under the current filters."""
    if filters_data is None:
        raise PreventUpdate
    labels = []
    for tab, label in TABS:
        frame, _params, _cur = workspace_rows(
            source_data(filters_data, tab, status, owner, dpd_min, dpd_max)
        )
        labels.append(f"{label} ({len(frame):,})")
    return labels


@callback(
    Output("ws-status", "value"),
    Output("ws-owner", "value"),
    Output("ws-dpd-min", "value"),
    Output("ws-dpd-max", "value"),
    Input("ws-clear", "n_clicks"),
    prevent_initial_call=True,
)
def clear(_n):
    """Clear the workspace filters."""
    return [], ANY_OWNER, None, None


# ---- the row inspector ----------------------------------------------------------------------------


def score_parts(row: dict) -> list[tuple[str, float]]:
    """The points behind a risk score (collections.risk_score), largest rule first."""
    dpd = min(max(int(row["days_past_due"]), 0), metrics.SCORE_DPD_DAYS)
    dispute = {"litigation": metrics.SCORE_LITIGATION, "dispute": metrics.SCORE_DISPUTE}.get(
        row["dispute"] or "", 0
    )
    size = metrics.SCORE_SIZE_MAX * min(int(row["balance_cents"]) / metrics.SCORE_SIZE_CENTS, 1.0)
    parts = [
        (
            f"{int(row['days_past_due'])} days past due (max 50 at 120 days)",
            metrics.SCORE_DPD_MAX * dpd / metrics.SCORE_DPD_DAYS,
        ),
        ("in litigation" if row["dispute"] == "litigation" else "in dispute", dispute),
        (
            "customer over credit limit",
            metrics.SCORE_OVER_LIMIT if row["customer_over_limit"] else 0,
        ),
        (
            "latest promise broken",
            metrics.SCORE_BROKEN_PROMISE if row["promise"] == "broken" else 0,
        ),
        ("balance size (max 15 at 10,000.00)", size),
    ]
    return [(label, points) for label, points in parts if points > 0]


def prediction_facts(invoice_id: str, cur: str, frame: pd.DataFrame | None) -> list:
    """P(paid within 30 days), expected date, expected loss and its reason, from the user's own worklist frame."""
    if frame is None:
        return []
    match = frame[frame["invoice_id"] == invoice_id]
    if match.empty:
        return []
    r = match.iloc[0]
    expected = fmt.date(r["expected_date"]) if r["expected_date"] is not None else "after 180 days"
    return [
        html.Div(
            [
                html.Span("Expected loss", className="ar-kpi-title"),
                html.Span(
                    f"{fmt.money(int(r['expected_loss_cents']), cur)} · #{int(r['rank']):,}",
                    className="fw-semibold ws-inspector-loss",
                ),
            ],
            className="d-flex justify-content-between",
        ),
        html.Div(
            f"P(paid within 30 days) {r['p_paid_30'] * 100:.0f} % · expected {expected}",
            className="small",
        ),
        html.Div(str(r["reason"]), className="small text-muted mb-2 ws-inspector-reason"),
    ]


def _fact(label: str, value) -> html.Tr:
    return html.Tr(
        [
            html.Td(label, className="text-muted pe-2 text-nowrap"),
            html.Td(value, className="text-end"),
        ]
    )


def _score_color(score: int) -> str:
    return "danger" if score >= 60 else "warning" if score >= 30 else "success"


def inspector(row: dict, cur: str, query: str) -> html.Div:
    """The side panel of one workspace row."""
    paid = row["status"] == "paid"
    customer = row["customer_id"]
    status = html.Span(
        STATUS_LABELS.get(row["status"], row["status"]).upper(),
        className=f"badge text-bg-{'success' if paid else 'danger' if row['status'] != 'open' else 'secondary'}",
    )
    facts = [
        _fact(
            "Customer",
            dcc.Link(
                row["customer_name"] or customer,
                href=f"/customers/{customer}{query}",
                className="ar-customer-link ws-inspector-customer",
            ),
        ),
        _fact("Owner", row["sales_rep_id"] or "No owner"),
        _fact("Issued", fmt.date(row["issue_date"])),
        _fact("Due", fmt.date(row["due_date"])),
        _fact("Amount", fmt.money(int(row["amount_cents"]), cur)),
    ]
    if paid:
        facts += [
            _fact("Settled", f"{fmt.date(row['settled_on'])} by {row['settled_by']}"),
            _fact("Days late", fmt.number(row["days_past_due"])),
        ]
    else:
        facts += [
            _fact("Open balance", html.Strong(fmt.money(int(row["balance_cents"]), cur))),
            _fact("Days past due", fmt.number(row["days_past_due"])),
            _fact("Dispute", row["dispute"] or "none"),
            _fact(
                "Promise",
                f"{row['promise']} · {fmt.date(row['promised_date'])}"
                if row["promise"]
                else "none",
            ),
            _fact("Over credit limit", "yes" if row["customer_over_limit"] else "no"),
        ]
    parts = [
        html.Div(
            className="d-flex justify-content-between align-items-baseline mb-1",
            children=[html.H2(row["invoice_id"], className="h5 mb-0 ws-inspector-invoice"), status],
        ),
        dbc.Table(html.Tbody(facts), size="sm", borderless=True, className="small mb-2"),
    ]
    if not paid:
        score = int(row["risk_score"])
        verb, _, what = str(row["next_action"]).partition(" - ")
        parts += [
            html.Div(
                [
                    html.Span("Risk score", className="ar-kpi-title"),
                    html.Span(f"{score} / 100", className="fw-semibold ws-inspector-score"),
                ],
                className="d-flex justify-content-between",
            ),
            dbc.Progress(
                value=score, color=_score_color(score), className="mb-1", style={"height": "0.5rem"}
            ),
            html.Ul(
                [html.Li(f"+{points:.1f} {label}") for label, points in score_parts(row)]
                or [html.Li("no risk points")],
                className="small text-muted ps-3 mb-2",
            ),
            html.Div(id="ws-inspector-prediction"),
            html.Div("Recommended next action", className="ar-kpi-title"),
            html.Div(
                [html.Strong(verb), html.Span(f" – {what}" if what else "")],
                className="mb-2 ws-inspector-action",
            ),
        ]
    parts.append(
        dcc.Link(
            "Open Account 360 →",
            href=f"/customers/{customer}{query}",
            className="btn btn-sm btn-primary ws-inspector-360",
        )
    )
    return html.Div(parts, className="ws-inspector")


@callback(
    Output("ws-inspector", "children"),
    Input(grid.grid_id(GRID), "selectedRows"),
    State("filters", "data"),
)
def inspect(selected, filters_data):
    """The clicked row's details, looked up again on the server in the user's scope (never trusted from the browser)."""
    if (
        not selected
        or not isinstance(selected, list)
        or not isinstance(selected[0], dict)
        or filters_data is None
    ):
        return _hint()
    invoice_id = str(selected[0].get("invoice_id") or "")[:200]
    if not invoice_id:
        return _hint()
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    frame = workspace(snap, as_of, filters, scope, tab="all")
    match = frame[frame["invoice_id"] == invoice_id]
    if match.empty:
        return html.Div(
            "This invoice is not in the workspace on these filters.",
            className="text-muted small p-2",
        )
    return inspector(match.iloc[0].to_dict(), cur, (filters_data or {}).get("query") or "")


@callback(
    Output("ws-inspector-prediction", "children"),
    Input("ws-inspector", "children"),
    State(grid.grid_id(GRID), "selectedRows"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def inspect_prediction(_panel, selected, filters_data):
    """The clicked open invoice's expected loss, P(paid in 30 days), expected date and reason (own callback:
    the inspector never waits for the predictions); looked up in the user's own worklist."""
    if (
        not selected
        or not isinstance(selected, list)
        or not isinstance(selected[0], dict)
        or filters_data is None
    ):
        raise PreventUpdate
    invoice_id = str(selected[0].get("invoice_id") or "")[:200]
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    return prediction_facts(invoice_id, cur, predict_ui.worklist(snap, as_of, filters, scope))
