"""Collections: coverage of overdue exposure by recent activity and contact latency, per segment (or region,
rep, tier), and the overdue invoices nobody has contacted."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard.components import grid, identity
from dashboard.components.export_menu import export_menu, page_pdf_button
from dashboard.components.page_kit import card, graph, page_header, request_context
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.components.shell import filters_for_layout
from dashboard.components.views import chart_callback, page_callback
from dashboard.metrics import collections as metrics
from dashboard.metrics import service
from dashboard.views import collections as collections_views

dash.register_page(
    __name__, path="/collections", name="Collections", title="Collections activity", nav_order=50
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GROUP_GRID, UNCONTACTED_GRID = "col-groups", "col-uncontacted"
COVERAGE_DAYS, LATENCY_DAYS = metrics.COVERAGE_DAYS, metrics.LATENCY_DAYS
GROUP_LABELS = collections_views.GROUP_LABELS
GRID_LABELS = collections_views.GRID_LABELS

activity = service.collections_activity


# ---- layout -------------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    """The page skeleton; the grids' sources are set for the filters in the address (prefill)."""
    by = html.Div(
        [
            html.Span("By", className="small text-muted"),
            dbc.RadioItems(
                id="col-by",
                options=[{"label": label, "value": key} for key, label in GROUP_LABELS.items()],
                value="segment",
                inline=True,
                className="btn-group btn-group-sm ar-basis",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-primary btn-sm",
                labelCheckedClassName="active",
            ),
        ],
        className="d-flex align-items-center gap-2 ms-auto",
    )
    page_pdf = html.Div(id="col-page-pdf")
    charts = dbc.Row(
        [
            dbc.Col(
                card(
                    f"Coverage · activity in the last {COVERAGE_DAYS} days",
                    [
                        html.Div(id="col-coverage-summary", className="small text-muted px-1"),
                        graph("col-coverage", 300),
                    ],
                    f"Coverage = overdue open balance whose customer had any collection activity (call, email, "
                    f"letter…) dated in the {COVERAGE_DAYS} days up to the as-of date / all overdue open balance "
                    "× 100, per group. The dashed line is everyone. Green from 75 %, amber from 50 %.",
                    "col-info-coverage",
                    # filled with the grouping chosen
                    menu=[html.Div(id="col-export-coverage")],
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Contact latency · days from due date to first contact",
                    [
                        html.Div(id="col-latency-summary", className="small text-muted px-1"),
                        graph("col-latency", 300),
                    ],
                    f"For invoices that became overdue in the last {LATENCY_DAYS} days (due date in that window "
                    "and still open at the end of it, even if paid since): days from the due date to the "
                    "customer's first activity on or after it. Mean and median per group; invoices never "
                    "contacted are listed below.",
                    "col-info-latency",
                    menu=[html.Div(id="col-export-latency")],
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    table = card(
        html.Span(id="col-groups-title", children="By segment"),
        grid.data_grid(GROUP_GRID, height=300, search_placeholder="Search groups"),
        "Coverage and latency figures per group; the totals row sums the overdue and covered amounts of "
        "every group (= all overdue exposure).",
        "col-info-groups",
        menu=[],
    )
    uncontacted = card(
        "Overdue invoices never contacted",
        [
            dbc.Switch(
                id="col-open-only",
                label="Still open at the as-of date only",
                value=True,
                className="small mb-1",
            ),
            grid.data_grid(
                UNCONTACTED_GRID, height=400, search_placeholder="Search invoices, customers"
            ),
        ],
        f"Invoices that became overdue in the last {LATENCY_DAYS} days whose customer has had no activity since the "
        "due date, the longest waiting first. Switch off to include those paid since.",
        "col-info-uncontacted",
        menu=[],
    )
    return prefill(
        html.Div(
            [
                page_header("Collections", "col-caption", by, page_pdf, align="center"),
                charts,
                html.Div(table, className="mb-2"),
                uncontacted,
            ],
            id="col-page",
        ),
        query,
    )


# ---- data helpers -------------------------------------------------------------------------------


def grouping(value) -> str:
    """A grouping the metric knows (segment when the browser sends anything else)."""
    return value if value in metrics.GROUPINGS else "segment"


group_table = collections_views.group_table


# the two grids (GROUP_GRID, UNCONTACTED_GRID): table views of dashboard/views/collections.py


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(Output("col-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


def summaries(result: dict, by: str, cur: str) -> tuple[str, str]:
    """One line each for coverage and latency over everyone (the 'All' rows)."""
    cov = result["coverage"].set_index(by).loc["All"]
    lat = result["latency"].set_index(by).loc["All"]
    coverage = (
        f"All: {fmt.pct(None if pd.isna(cov['coverage_pct']) else float(cov['coverage_pct']))} of "
        f"{fmt.money(int(cov['overdue_cents']), cur)} overdue is covered ({fmt.money(int(cov['covered_cents']), cur)}); "
        f"{fmt.number(cov['covered_customers'])} of {fmt.number(cov['overdue_customers'])} overdue customers contacted"
    )
    mean = None if pd.isna(lat["mean_days"]) else float(lat["mean_days"])
    median = None if pd.isna(lat["median_days"]) else float(lat["median_days"])
    latency = (
        f"All: mean {fmt.days(mean)}, median {fmt.days(median)} · {fmt.number(lat['contacted'])} of "
        f"{fmt.number(lat['became_overdue'])} invoices contacted, {fmt.number(lat['uncontacted'])} never"
    )
    return coverage, latency


coverage_chart = chart_callback(
    "col-coverage", "collections_coverage", __name__, options={"by": "col-by"}
)
latency_chart = chart_callback(
    "col-latency", "collections_latency", __name__, options={"by": "col-by"}
)


@page_callback(
    Output("col-coverage-summary", "children"),
    Output("col-latency-summary", "children"),
    Output("col-groups-title", "children"),
    Output("col-export-coverage", "children"),
    Output("col-export-latency", "children"),
    Output("col-page-pdf", "children"),
    extra=(Input("col-by", "value"),),
)
def summaries_and_exports(filters_data, _version, by_value):
    """The one-line summaries, the grouping's title and the export links (the charts: the views;
    the activity is one cached metric call for all of them)."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    by = grouping(by_value)
    coverage, latency = summaries(activity(snap, as_of, filters, scope, by), by, cur)
    query = filters_data.get("query") or ""
    return (
        coverage,
        latency,
        f"Coverage and latency by {GROUP_LABELS[by].lower()}",
        export_menu("collections_coverage", query=query, by=by),
        export_menu("collections_latency", query=query, by=by),
        page_pdf_button("collections", query=query, by=by),
    )


def prefill(page, query: dict):
    """Both grids' sources in the layout (default grouping, open only): the grids fill as the page arrives."""
    filters_data = filters_for_layout(query)
    if filters_data is not None:
        grid.prefill(
            page,
            {
                GROUP_GRID: {"filters": filters_data, "by": "segment"},
                UNCONTACTED_GRID: {
                    "filters": filters_data,
                    "by": "segment",
                    "open_only": True,
                },
            },
        )
    return page


@callback(
    Output(grid.source_id(GROUP_GRID), "data"),
    Output(grid.source_id(UNCONTACTED_GRID), "data"),
    *INPUTS,
    Input("col-by", "value"),
    Input("col-open-only", "value"),
    prevent_initial_call=True,  # the layout fills them (prefill)
)
def grid_sources(filters_data, _version, by_value, open_only):
    """Point both grids at the filters and grouping (their rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    by = grouping(by_value)
    return {"filters": filters_data, "by": by}, {
        "filters": filters_data,
        "by": by,
        "open_only": bool(open_only),
    }
