"""Disputes & promises: outstanding composition (ties to total AR), dispute cycle time, promise adherence,
open disputes and broken promises."""

from __future__ import annotations

from typing import cast

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import views
from dashboard.components import drill, grid, identity
from dashboard.components.page_kit import card, export_tools, graph, page_header, request_context
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.components.shell import filters_for_layout
from dashboard.components.views import chart_callback, page_callback
from dashboard.figures import collections as figs
from dashboard.metrics import collections as metrics
from dashboard.metrics import service
from dashboard.views import disputes as disputes_views

dash.register_page(
    __name__,
    path="/disputes",
    name="Disputes & promises",
    title="Disputes & promises",
    nav_order=65,
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
MONTHS = disputes_views.MONTHS
BROKEN_GRID, OPEN_GRID = "dp-broken", "dp-open"
LABELS = disputes_views.GRID_LABELS
COMPONENT_INFO = (
    "Every invoice open at the as-of date sits in exactly one part, by precedence: in litigation, in "
    "dispute, overdue (due date before the as-of date), not due. An overdue invoice in dispute counts "
    "in dispute, with its whole open balance. The four parts sum exactly to total AR. Unapplied credits "
    "(payments not yet allocated and credit notes without an invoice) are shown beside them, not netted. "
    "Click a slice or an amount for the rows behind it."
)


# ---- cached metric calls ------------------------------------------------------------------------

composition = service.outstanding_composition
cycle_time = service.dispute_cycle_time
adherence = service.promise_adherence
open_invoices = service.forecast_invoices


# ---- layout -------------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    """The page skeleton; the grids' sources are set for the filters in the address (prefill)."""
    composition_body = dbc.Row(
        [
            dbc.Col(graph("dp-composition", 300), md=4),
            dbc.Col(
                dcc.Loading(html.Div(id="dp-composition-table"), type="dot", delay_show=400),
                md=8,
                className="d-flex align-items-center",
            ),
        ],
        className="g-1",
    )
    top = dbc.Row(
        [
            dbc.Col(
                card(
                    "Outstanding composition",
                    composition_body,
                    COMPONENT_INFO,
                    "dp-info-composition",
                    menu=export_tools("disputes_composition"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    f"Dispute cycle time · {MONTHS} months",
                    [
                        html.Div(id="dp-cycle-summary", className="small text-muted px-1"),
                        graph("dp-cycle", 300),
                    ],
                    "Disputes resolved in each calendar month (bars, right axis) and the mean and median days "
                    "from opened to resolved (lines). The current month runs to the as-of date. Disputes flagged "
                    "on the invoice without dates are not counted.",
                    "dp-info-cycle",
                    menu=export_tools("disputes_cycle"),
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    middle = dbc.Row(
        [
            dbc.Col(
                card(
                    f"Promise adherence · {MONTHS} months",
                    [
                        html.Div(id="dp-promise-summary", className="small text-muted px-1"),
                        graph("dp-promises", 300),
                    ],
                    "Promises to pay by the month of the promised date. Kept = the invoice was paid in full "
                    "(not written off) by the promised date; broken = not kept and the date has passed; pending "
                    "= the date is still ahead. Share kept = kept / (kept + broken) × 100 (line, left axis).",
                    "dp-info-promises",
                    menu=export_tools("disputes_promises"),
                ),
                xs=12,
            ),
            # full width: every column and about ten rows visible at 1440 px, no horizontal scrollbar
            dbc.Col(
                card(
                    "Open disputes",
                    grid.data_grid(OPEN_GRID, height=420, search_placeholder="Search disputes"),
                    "Disputes open at the as-of date (opened on or before it, not resolved by it), oldest "
                    "first: the disputed amount, the invoice's open balance and the age in days.",
                    "dp-info-open",
                    menu=[],
                ),
                xs=12,
            ),
        ],
        className="g-2 mb-2",
    )
    broken = card(
        "Broken promises",
        grid.data_grid(BROKEN_GRID, height=380, search_placeholder="Search promises"),
        f"Promises whose date fell in the last {MONTHS} months and passed without the invoice being paid in "
        "full, most recently broken first, with the invoice's open balance at the as-of date.",
        "dp-info-broken",
        menu=[],
    )
    return prefill(
        html.Div(
            [
                page_header("Disputes & promises", "dp-caption", pdf="disputes"),
                top,
                middle,
                broken,
                drill.relay("dp"),
            ],
            id="dp-page",
        ),
        query,
    )


# ---- data helpers -------------------------------------------------------------------------------


def component_of(frame: pd.DataFrame) -> pd.Series:
    """The composition part of each open invoice of forecast_invoices (same precedence as the metric)."""
    dispute = frame["dispute"].astype(str)
    overdue = frame["days_until_due"] < 0
    out = pd.Series("not_due", index=frame.index, dtype=object)
    out[overdue] = "overdue"
    out[dispute == "dispute"] = "in_dispute"
    out[dispute == "litigation"] = "in_litigation"
    return out


def drill_rows(
    snap, _key, as_of, _period_days, filters, scope, bucket=None, **_params
) -> pd.DataFrame:
    """Open invoices in one composition part (amount_cents = open balance; sums to the part)."""
    if bucket not in {c for c, _ in metrics.COMPONENTS}:
        raise ValueError("unknown part")
    frame = open_invoices(snap, as_of, filters, scope)
    rows = frame[component_of(frame) == bucket]
    rows = rows.assign(
        amount_cents=rows["balance_cents"].astype("int64"), days_past_due=-rows["days_until_due"]
    )
    return rows[
        [
            "invoice_id",
            "customer_name",
            "customer_id",
            "sales_rep_id",
            "due_date",
            "days_past_due",
            "dispute",
            "amount_cents",
        ]
    ].reset_index(drop=True)


views.register_drill(
    "dp_component", drill_rows, {"amount_cents": "Open balance", "dispute": "Dispute"}
)


# the two grids (BROKEN_GRID, OPEN_GRID): table views of dashboard/views/disputes.py


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(Output("dp-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


def _amount_link(
    cents: int, cur: str, key: str, title: str, class_name: str, **params
) -> dbc.Button:
    return dbc.Button(
        fmt.money(cents, cur),
        id=drill.trigger_id(key, title, **params),
        n_clicks=0,
        color="link",
        size="sm",
        className=f"p-0 text-decoration-none text-end {class_name}",
        title="Show the rows behind this amount",
    )


def composition_table(frame: pd.DataFrame, cur: str) -> html.Table:
    """The parts with amount, share of total AR, invoices and customers; total AR; unapplied credits beside."""
    parts = frame[frame["part_of_total_ar"]]
    total = int(parts["amount_cents"].sum())
    head = html.Thead(
        html.Tr(
            [
                html.Th("Part"),
                html.Th("Amount", className="text-end"),
                html.Th("Share", className="text-end"),
                html.Th("Invoices", className="text-end"),
            ]
        )
    )
    body = []
    for row in parts.itertuples(index=False):
        # pandas types a row's fields as any scalar; outstanding_composition's are text, text, int64 and
        # Int64 (no missing count on a part of total AR)
        component, label = cast(str, row.component), cast(str, row.label)
        cents, invoices = int(cast(int, row.amount_cents)), cast(int, row.invoices)
        share = fmt.pct(cents * 100 / total if total else None)
        swatch = html.Span(
            className="d-inline-block rounded-circle me-2",
            style={
                "width": "0.6rem",
                "height": "0.6rem",
                "background": figs.COMPONENT_COLORS[component],
            },
        )
        body.append(
            html.Tr(
                [
                    html.Td([swatch, label]),
                    html.Td(
                        _amount_link(
                            cents,
                            cur,
                            "dp_component",
                            f"{label} · {fmt.money(cents, cur)}",
                            f"dp-part-{component}",
                            bucket=component,
                        ),
                        className="text-end",
                    ),
                    html.Td(share, className="text-end text-muted"),
                    html.Td(fmt.number(invoices), className="text-end text-muted"),
                ]
            )
        )
    body.append(
        html.Tr(
            [
                html.Td(html.Strong("Total AR")),
                html.Td(
                    _amount_link(
                        total,
                        cur,
                        "total_ar",
                        f"Total AR · {fmt.money(total, cur)}",
                        "fw-semibold dp-total-ar",
                    ),
                    className="text-end",
                ),
                html.Td("100.0 %" if total else fmt.DASH, className="text-end text-muted"),
                html.Td(fmt.number(int(parts["invoices"].sum())), className="text-end text-muted"),
            ],
            className="border-top border-dark-subtle",
        )
    )
    credit = frame[~frame["part_of_total_ar"]].iloc[0]
    body.append(
        html.Tr(
            [
                html.Td(
                    [
                        "Unapplied credits",
                        html.Div("beside total AR, not netted", className="small text-muted"),
                    ]
                ),
                html.Td(
                    _amount_link(
                        int(credit.amount_cents),
                        cur,
                        "unapplied_credits",
                        f"Unapplied credits · {fmt.money(int(credit.amount_cents), cur)}",
                        "dp-unapplied",
                    ),
                    className="text-end",
                ),
                html.Td("", className="text-end"),
                html.Td(f"{fmt.number(credit.customers)} cust.", className="text-end text-muted"),
            ]
        )
    )
    return dbc.Table(
        [head, html.Tbody(body)],
        size="sm",
        className="mb-0 small ar-small-table w-100 dp-composition",
    )


# the three charts: their views (the same cached metric calls as the summaries beside them)
composition_chart = chart_callback("dp-composition", "disputes_composition", __name__)
cycle_chart = chart_callback("dp-cycle", "disputes_cycle", __name__)
promise_chart = chart_callback("dp-promises", "disputes_promises", __name__)


@page_callback(Output("dp-composition-table", "children"))
def composition_view(filters_data, _version):
    """The numbers beside the donut."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    return composition_table(composition(snap, as_of, filters, scope), cur)


@page_callback(Output("dp-cycle-summary", "children"))
def cycle_view(filters_data, _version):
    """The line under the cycle-time chart: resolved in twelve months, and the disputes open now."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    s = cycle_time(snap, as_of, filters, scope, MONTHS)["summary"]
    return (
        f"{fmt.number(s['resolved'])} resolved in {MONTHS} months · mean {fmt.days(s['mean_cycle_days'])} · median "
        f"{fmt.days(s['median_cycle_days'])} · {fmt.number(s['open'])} open now ({fmt.money(s['open_amount_cents'], cur)}, "
        f"mean age {fmt.days(s['mean_open_age_days'])})"
    )


@page_callback(Output("dp-promise-summary", "children"))
def promise_view(filters_data, _version):
    """The line under the promise-adherence chart."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    s = adherence(snap, as_of, filters, scope, MONTHS)["summary"]
    return (
        f"{fmt.pct(s['kept_pct'])} kept ({fmt.number(s['kept'])} kept, {fmt.number(s['broken'])} broken) · "
        f"{fmt.number(s['pending'])} pending ({fmt.money(s['pending_amount_cents'], cur)})"
    )


def prefill(page, query: dict):
    """Both grids' sources in the layout: the grids fill as the page arrives (no round trip)."""
    filters_data = filters_for_layout(query)
    if filters_data is not None:
        data = {"filters": filters_data}
        grid.prefill(page, {BROKEN_GRID: data, OPEN_GRID: data})
    return page


@callback(
    Output(grid.source_id(BROKEN_GRID), "data"),
    Output(grid.source_id(OPEN_GRID), "data"),
    *INPUTS,
    prevent_initial_call=True,
)  # the layout fills them (prefill)
def grid_sources(filters_data, _version):
    """Point both grids at the current filters (their rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    data = {"filters": filters_data}
    return data, data


@callback(
    Output(drill.relay_id("dp"), "data"),
    Input("dp-composition", "clickData"),
    prevent_initial_call=True,
)
def slice_drill(click):
    """A slice opens the open invoices in that part."""
    if not click or not click.get("points"):
        raise PreventUpdate
    data = click["points"][0].get("customdata")
    if not data:
        raise PreventUpdate
    label = dict(metrics.COMPONENTS).get(data[0], data[0])
    return drill.request("dp_component", f"{label} · {data[1]}", bucket=data[0])
