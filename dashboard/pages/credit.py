"""Credit utilization (Retailer "Credit Utilization" tab): limit use, risk level and recommended action."""

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
from dashboard.metrics import credit, service
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.service import customers_with_limit
from dashboard.views import credit as credit_views
from dashboard.views.warm import add_page_step

dash.register_page(
    __name__, path="/credit", name="Credit", title="Credit utilization", nav_order=30
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "cr-grid"
ALL, NO_LIMIT, RISK_CHOICES = credit_views.ALL, credit_views.NO_LIMIT, credit_views.RISK_CHOICES
LABELS = credit_views.LABELS
RULES = (
    "Utilization = outstanding / credit limit × 100 (customers with a limit only; blank limit = no limit). "
    "Risk level: Low; Moderate > 50 %; High > 75 %; Critical > 90 %; Over Limit > 100 % (blank without a limit). "
    "Recommended action, first match wins: STANDARD TERMS without a limit; HOLD ORDERS over the limit; "
    f"CONSIDER INCREASE above 80 % with average days to pay ≤ {credit.GOOD_PAYER_DAYS}; MONITOR CLOSELY above 75 % "
    f"and the account younger than {credit.NEW_ACCOUNT_MONTHS} months; REVIEW below 10 % and older than "
    f"{credit.OLD_ACCOUNT_MONTHS} months; else NO ACTION. Payments and sales: the last 12 months; average days to "
    "pay: invoice date to its first payment. Listed: customers with a balance at some point in the last 12 months."
)
credit_table = service.credit_utilization
credit_summary = service.credit_summary


def warm(snap, req) -> None:
    """The page's first visit's table and summary (the snapshot's warm-up, dashboard/views/warm.py)."""
    credit_table(snap, req.as_of, req.filters, req.scope)
    credit_summary(snap, req.as_of, req.filters, req.scope)


add_page_step("credit", warm)


# ---- layout ---------------------------------------------------------------------------------------


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    summary = html.Div(
        [
            html.Div(id="cr-summary", className="d-flex flex-wrap align-items-center gap-2"),
            html.Div(
                [
                    html.Span("Risk level", className="ar-filter-label me-1"),
                    dbc.RadioItems(
                        id="cr-risk",
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
                    html.Span("Credit utilization per customer", className="ar-card-title"),
                    *info("cr-info", RULES),
                ],
                className="d-flex justify-content-between align-items-center py-2",
            ),
            dbc.CardBody(
                grid.data_grid(
                    GRID,
                    height=560,
                    search_placeholder="Search (a name, HOLD, Over Limit, an amount)",
                ),
                className="p-2",
            ),
        ],
        className="ar-card mb-2",
    )
    return html.Div(
        [
            page_header("Credit utilization", "cr-caption", pdf="credit"),
            summary,
            table,
        ],
        id="cr-page",
    )


# ---- rows (server side, in the user's scope) -----------------------------------------------------


def risk_choice(value) -> str:
    """A risk-level filter value from the browser, re-checked (anything else means all)."""
    return value if value in RISK_CHOICES else ALL


# the grid (GRID): the table view credit_utilization of dashboard/views/credit.py


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(
    Output("cr-caption", "children"),
    Output("cr-summary", "children"),
    Output("cr-risk", "options"),
)
def summary(filters_data, _version):
    """Caption, the average-utilization chip and the risk-level choices with their counts."""
    if filters_data is None:
        raise PreventUpdate
    as_of, _basis, filters = gf.parse(filters_data)
    scope = identity.scope()
    snap = snapshots.get_snapshot()
    s = credit_summary(snap, as_of, filters, scope)
    # the same function as the home page's tile
    limited = customers_with_limit(snap, filters, scope)
    no_limit = s["customers"] - s["customers_with_limit"]
    chips = [
        chip(
            "Average utilization",
            fmt.pct(s["avg_utilization_pct"]),
            "cr-avg-info",
            "Mean of outstanding / limit × 100 over the listed customers with a credit limit (not weighted by "
            f"amount: 90 % and 50 % give 70 %); {s['customers_with_limit']:,} customers.",
        ),
        chip(
            "Customers with a limit",
            f"{limited:,}",
            "cr-limit-info",
            f"Every selected customer with a credit limit (the same count as on Receivables Health). "
            f"{s['customers_with_limit']:,} of them are listed here, having had a balance in the last 12 months; "
            f"{s['customers']:,} customers are listed in all.",
        ),
        chip("Listed", f"{s['customers']:,} ({s['customers_with_limit']:,} with a limit)"),
    ]
    options = [{"label": f"All {s['customers']:,}", "value": ALL}]
    for level in RISK_CHOICES:
        count = no_limit if level == NO_LIMIT else s["risk_levels"].get(level, 0)
        options.append(
            {"label": f"{'No limit' if level == NO_LIMIT else level} {count:,}", "value": level}
        )
    caption = f"{gf.describe(filters_data)} · {scope.label} · 12 months to the as-of date"
    return caption, chips, options


@callback(Output(grid.source_id(GRID), "data"), *INPUTS, Input("cr-risk", "value"))
def grid_source(filters_data, _version, risk):
    """Point the grid at the filters and risk level (rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data, "risk": risk_choice(risk)}
