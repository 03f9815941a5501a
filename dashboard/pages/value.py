"""Customer value (Retailer "Customer Value" tab): 12-month revenue, profit, margin and value tier; admins edit tiers."""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.auth.audit import audit
from dashboard.components import grid, identity
from dashboard.components.page_kit import GRAPH_CONFIG, card, export_tools, info, page_header
from dashboard.components.views import chart_callback, page_callback
from dashboard.data.tiers import save_tiers, validate_tiers
from dashboard.figures import analytics as fig
from dashboard.metrics import service
from dashboard.views import value as value_views
from dashboard.views.value import current_tiers

dash.register_page(
    __name__, path="/value", name="Customer value", title="Customer value", nav_order=50
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "val-grid"
CAPABILITY = "admin_tiers"
LABELS = value_views.LABELS
RULES = (
    "Revenue 12m = invoices less credit notes issued in the 365 days to the as-of date. Gross profit = revenue − "
    "cost over the documents that carry a cost (blank when none does); margin = gross profit / that costed revenue "
    "× 100. Tier: the configured range that holds the revenue (Standard for 0 or less, or no range). Avg payment "
    "days: invoice date to its first payment. Share of turnover = revenue / revenue of all listed customers × 100."
)
customer_value = service.customer_value
tier_summary = service.tier_summary


# ---- layout ---------------------------------------------------------------------------------------


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    chart = dcc.Loading(
        dcc.Graph(
            id="val-tier-chart",
            config=GRAPH_CONFIG,
            style={"height": "300px"},
            className="ar-graph",
        ),
        type="circle",
        delay_show=400,
    )
    top = dbc.Row(
        [
            dbc.Col(
                card(
                    "Revenue by value tier · 12 months",
                    chart,
                    "12-month revenue and number of customers per value tier on these filters; hover a bar "
                    "for the exact amount and its share of turnover.",
                    "val-chart-info",
                    menu=export_tools("value_tiers"),
                ),
                lg=7,
            ),
            dbc.Col(
                card(
                    "Value tiers",
                    [html.Div(id="val-tiers"), html.Div(id="val-tier-msg", role="status")],
                    "Revenue ranges (inclusive, in currency units) that set each customer's tier. Ranges may "
                    "not overlap (Bronze 0–500 and Silver 500–1,000 share 500.00) or leave gaps; the highest "
                    "has no maximum. Only administrators can change them.",
                    "val-tiers-info",
                    menu=[],
                ),
                lg=5,
            ),
        ],
        className="g-2 mb-2",
    )
    table = dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Customers by revenue · 12 months", className="ar-card-title"),
                    *info("val-info", RULES),
                ],
                className="d-flex justify-content-between align-items-center py-2",
            ),
            dbc.CardBody(
                grid.data_grid(
                    GRID, height=520, search_placeholder="Search (a name, Gold, an amount)"
                ),
                className="p-2",
            ),
        ],
        className="ar-card mb-2",
    )
    return html.Div(
        [
            page_header("Customer value", "val-caption", pdf="value"),
            top,
            table,
            dcc.Store(id="val-init", data=0),
            dcc.Store(id="val-saved"),
        ],
        id="val-page",
    )


# ---- the value grid (server side, in the user's scope) -------------------------------------------


# the grid (GRID): the table view customer_value of dashboard/views/value.py


tiers_text, units = value_views.tiers_text, value_views.units


# ---- the tier editor (admins) ---------------------------------------------------------------------


def parse_amount(text) -> tuple[int | None, str | None]:
    """(cents, None) from '1,234.50' / '$1234.5' / '' (None), or (None, why) when it is not an amount."""
    raw = "" if text is None else str(text).strip()
    for ch in (",", " ", "$", "€", "£"):
        raw = raw.replace(ch, "")
    if raw == "":
        return None, None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None, "is not an amount"
    if not amount.is_finite():
        return None, "is not an amount"
    if amount != amount.quantize(Decimal("0.01")):
        return None, "has more than 2 decimals"
    if abs(amount) >= Decimal(10) ** 13:
        return None, "is too large"
    return int(amount * 100), None


def tiers_from_rows(rows) -> tuple[list[tuple], list[str]]:
    """Tiers from the editor's rows (fully blank rows skipped), and a message per unreadable cell."""
    tiers, errors = [], []
    for i, row in enumerate(rows or [], start=1):
        if not isinstance(row, dict):
            continue
        name = str(row.get("name") or "").strip()
        if (
            not name
            and not str(row.get("min") or "").strip()
            and not str(row.get("max") or "").strip()
        ):
            continue
        label = f"Row {i}" + (f" ({name})" if name else "")
        low, why_low = parse_amount(row.get("min"))
        high, why_high = parse_amount(row.get("max"))
        if why_low:
            errors.append(f"{label}: minimum “{row.get('min')}” {why_low}.")
        elif low is None:
            errors.append(f"{label}: a minimum is required (0.00 for the lowest tier).")
        if why_high:
            errors.append(f"{label}: maximum “{row.get('max')}” {why_high}.")
        if not why_low and not why_high and low is not None:
            tiers.append((name, low, high))
    return tiers, errors


def editor_rows(tiers) -> list[dict]:
    """Editor rows (amounts as plain currency units; blank maximum = no upper limit)."""
    return [
        {"id": i, "name": n, "min": units(lo), "max": units(hi)}
        for i, (n, lo, hi) in enumerate(tiers)
    ]


def _editor(tiers) -> html.Div:
    editable = {"editable": True, "sortable": False, "resizable": True, "suppressMovable": True}
    return html.Div(
        [
            dag.AgGrid(
                id="val-tier-editor",
                columnDefs=[
                    {
                        "field": "name",
                        "headerName": "Tier name",
                        "flex": 1,
                        "minWidth": 120,
                        **editable,
                    },
                    {
                        "field": "min",
                        "headerName": "Min revenue",
                        "width": 130,
                        "type": "rightAligned",
                        **editable,
                    },
                    {
                        "field": "max",
                        "headerName": "Max revenue",
                        "width": 140,
                        "type": "rightAligned",
                        "headerTooltip": "Blank = no upper limit (the highest tier)",
                        **editable,
                    },
                ],
                rowData=editor_rows(tiers),
                getRowId="params.data.id",
                dashGridOptions={
                    "rowSelection": {
                        "mode": "singleRow",
                        "checkboxes": True,
                        "enableClickSelection": True,
                    },
                    "stopEditingWhenCellsLoseFocus": True,
                    "singleClickEdit": True,
                    "animateRows": False,
                    "domLayout": "autoHeight",
                },
                className="ar-grid val-tier-editor",
                style={"width": "100%"},
            ),
            html.Div(
                [
                    dbc.Button(
                        "Add tier",
                        id="val-tier-add",
                        size="sm",
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                    dbc.Button(
                        "Delete selected",
                        id="val-tier-delete",
                        size="sm",
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                    dbc.Button(
                        "Save tiers",
                        id="val-tier-save",
                        size="sm",
                        color="primary",
                        n_clicks=0,
                        className="ms-auto",
                    ),
                ],
                className="d-flex gap-2 mt-2",
            ),
            html.Div(
                "Amounts in currency units, bounds inclusive; leave the highest maximum blank. Click a cell to edit, "
                "tick a row to delete it.",
                className="small text-muted mt-1",
            ),
        ],
        id="val-tier-editor-wrap",
    )


def _readonly(tiers, currency: str) -> html.Div:
    colors = fig.tier_colors([t[0] for t in tiers])
    rows = [
        html.Tr(
            [
                html.Td(
                    html.Span(
                        n,
                        className="px-2 py-1 rounded fw-semibold",
                        style={"backgroundColor": colors[n][0], "color": colors[n][1]},
                    )
                ),
                html.Td(fmt.money(lo, currency), className="text-end"),
                html.Td(
                    fmt.money(hi, currency) if hi is not None else "no maximum",
                    className="text-end",
                ),
            ]
        )
        for n, lo, hi in tiers
    ]
    return html.Div(
        [
            html.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th("Tier"),
                                html.Th("From", className="text-end"),
                                html.Th("To", className="text-end"),
                            ]
                        )
                    ),
                    html.Tbody(rows),
                ],
                className="table table-sm mb-1 val-tiers-table",
            ),
            html.Div(
                "Revenue 0 or below, or in no range: Standard. Tiers are set by an administrator.",
                className="small text-muted",
            ),
        ]
    )


@callback(Output("val-tiers", "children"), Input("val-init", "data"), Input("val-saved", "data"))
def tiers_panel(_init, _saved):
    """The tier editor for administrators; a read-only list of the tiers for everyone else."""
    tiers = current_tiers()
    if identity.can(CAPABILITY):
        return _editor(tiers)
    return _readonly(tiers, fmt.default_currency())


@callback(
    Output("val-tier-editor", "rowData"),
    Input("val-tier-add", "n_clicks"),
    Input("val-tier-delete", "n_clicks"),
    State("val-tier-editor", "rowData"),
    State("val-tier-editor", "selectedRows"),
    prevent_initial_call=True,
)
def edit_rows(_add, _delete, rows, selected):
    """Add an empty row, or drop the selected one (nothing is saved until Save)."""
    rows = [r for r in (rows or []) if isinstance(r, dict)]
    if ctx.triggered_id == "val-tier-add":
        next_id = (
            max((int(r.get("id", 0)) for r in rows if str(r.get("id", "")).isdigit()), default=-1)
            + 1
        )
        return [*rows, {"id": next_id, "name": "", "min": "", "max": ""}]
    gone = {r.get("id") for r in (selected or []) if isinstance(r, dict)}
    if not gone:
        raise PreventUpdate
    return [r for r in rows if r.get("id") not in gone]


@callback(
    Output("val-tier-msg", "children"),
    Output("val-saved", "data"),
    Input("val-tier-save", "n_clicks"),
    State("val-tier-editor", "rowData"),
    prevent_initial_call=True,
)
def save(n_clicks, rows):
    """Validate and save the tiers (administrators only: the role is checked here, on the server)."""
    if not n_clicks:
        raise PreventUpdate
    if not identity.can(CAPABILITY):
        audit("tiers_refused", "tier save without the admin_tiers capability")
        return dbc.Alert(
            "Only administrators may change the value tiers. Nothing was saved.",
            color="danger",
            className="py-2 small mt-2 mb-0 val-tier-error",
        ), dash.no_update
    tiers, errors = tiers_from_rows(rows)
    errors += validate_tiers(tiers) if not errors else []
    if errors:
        return dbc.Alert(
            [
                html.Div("Not saved. Please fix:", className="fw-semibold"),
                html.Ul([html.Li(e) for e in errors], className="mb-0 ps-3"),
            ],
            color="danger",
            className="py-2 small mt-2 mb-0 val-tier-error",
        ), dash.no_update
    try:
        saved = save_tiers(tiers)
    except ValueError as error:  # validated above; a concurrent edit could still fail here
        return dbc.Alert(
            f"Not saved: {error}", color="danger", className="py-2 small mt-2 mb-0 val-tier-error"
        ), dash.no_update
    audit("tiers_saved", tiers_text(saved))
    return (
        dbc.Alert(
            f"Saved {len(saved)} tiers: {', '.join(t[0] for t in saved)}. The table below uses them now.",
            color="success",
            className="py-2 small mt-2 mb-0 val-tier-saved",
        ),
        time.time(),
    )


# ---- chart and caption ---------------------------------------------------------------------------


# the chart: its view, redrawn after a tier save too
tier_chart = chart_callback(
    "val-tier-chart", "value_tiers", __name__, triggers=[("val-saved", "data")]
)


@page_callback(Output("val-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope, the twelve months."""
    if filters_data is None:
        raise PreventUpdate
    return f"{gf.describe(filters_data)} · {identity.scope().label} · 12 months to the as-of date"


@callback(Output(grid.source_id(GRID), "data"), *INPUTS, Input("val-saved", "data"))
def grid_source(filters_data, _version, saved):
    """Point the grid at the filters (rows built on the server; a tier save refreshes it)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data, "saved": saved}
