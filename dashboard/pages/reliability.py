"""Payment reliability (Retailer "Payment Reliability" tab): a 6-month score per customer, worst payers first."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import grid, identity
from dashboard.components.page_kit import chip, info, page_header
from dashboard.components.views import page_callback
from dashboard.metrics import reliability, service
from dashboard.metrics import snapshot as snapshots
from dashboard.views import reliability as reliability_views
from dashboard.views.warm import add_page_step

dash.register_page(
    __name__, path="/reliability", name="Reliability", title="Payment reliability", nav_order=40
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "rl-grid"
ALL, LABELS, PCT = reliability_views.ALL, reliability_views.LABELS, reliability_views.PCT
L = reliability.LATE_ZERO_DAYS
RULE = (
    f"Score over the invoices issued in the last {reliability.WINDOW_MONTHS} months, weighted by amount: a payment "
    f"on or before the due date earns 100 % of its amount; one L days late earns ({L} − L) / {L} of it (nothing from "
    f"{L} days late); a write-off and an overdue unpaid balance earn nothing; credit notes and balances not yet due "
    "are left out. Score = credit / assessed amount × 100. 100 % = every assessed cent paid on time. Categories: "
    + ", ".join(f"{name} ≥ {low:g}" for name, low in reliability.CATEGORIES)
    + ", At Risk below; No Activity when nothing can be assessed yet. Sorted worst first."
)
reliability_table = service.payment_reliability
reliability_summary = service.reliability_summary


def warm(snap, req) -> None:
    """The page's first visit's table and summary (the snapshot's warm-up, dashboard/views/warm.py)."""
    reliability_table(snap, req.as_of, req.filters, req.scope)
    reliability_summary(snap, req.as_of, req.filters, req.scope)


add_page_step("reliability", warm)


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    summary = html.Div(
        [
            html.Div(id="rl-summary", className="d-flex flex-wrap align-items-center gap-2"),
            html.Div(
                [
                    html.Span("Category", className="ar-filter-label me-1"),
                    dbc.RadioItems(
                        id="rl-category",
                        options=[{"label": "All", "value": ALL}],
                        value=ALL,
                        inline=True,
                        className="btn-group btn-group-sm flex-wrap ar-chip-filter",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-secondary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-1",
            ),
        ],
        className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-2 p-2 bg-white border rounded",
    )
    table = dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span(
                        "Payment reliability · worst payers first", className="ar-card-title"
                    ),
                    *info("rl-info", RULE),
                ],
                className="d-flex justify-content-between align-items-center py-2",
            ),
            dbc.CardBody(
                grid.data_grid(
                    GRID, height=560, search_placeholder="Search (a name, At Risk, an amount)"
                ),
                className="p-2",
            ),
        ],
        className="ar-card mb-2",
    )
    return html.Div(
        [
            page_header("Payment reliability", "rl-caption", pdf="reliability"),
            summary,
            table,
        ],
        id="rl-page",
    )


def category_choice(value) -> str:
    """A category filter value from the browser, re-checked (anything else means all)."""
    return value if value in reliability.CATEGORY_ORDER else ALL


# the grid (GRID): the table view payment_reliability of dashboard/views/reliability.py


@page_callback(
    Output("rl-caption", "children"),
    Output("rl-summary", "children"),
    Output("rl-category", "options"),
)
def summary(filters_data, _version):
    """Caption, the portfolio score and the category choices with their counts."""
    if filters_data is None:
        raise PreventUpdate
    as_of, _basis, filters = gf.parse(filters_data)
    scope = identity.scope()
    s = reliability_summary(snapshots.get_snapshot(), as_of, filters, scope)
    chips = [
        chip(
            "Portfolio score",
            fmt.pct(s["portfolio_score"], 2),
            "rl-portfolio-info",
            "The customers' scores weighted by their assessed amounts = Σ credit / Σ assessed × 100 over every "
            "listed customer.",
        ),
        chip("Customers", f"{s['customers']:,}"),
    ]
    options = [{"label": f"All {s['customers']:,}", "value": ALL}]
    options += [
        {"label": f"{c} {s['categories'].get(c, 0):,}", "value": c}
        for c in reliability.CATEGORY_ORDER
    ]
    caption = f"{gf.describe(filters_data)} · {scope.label} · {reliability.WINDOW_MONTHS} months to the as-of date"
    return caption, chips, options


@callback(Output(grid.source_id(GRID), "data"), *INPUTS, Input("rl-category", "value"))
def grid_source(filters_data, _version, category):
    """Point the grid at the filters and category (rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data, "category": category_choice(category)}
