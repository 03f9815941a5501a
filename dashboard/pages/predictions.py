"""Payment predictions: the model's measured accuracy against the baselines, predicted aging, cohort
curves and the worklist ranked by expected loss (docs/analytics.md, "Payment predictions")."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html
from dash.exceptions import PreventUpdate

from dashboard.components import drill, grid, identity
from dashboard.components.page_kit import (
    card,
    export_tools,
    graph,
    page_header,
    request_context,
)
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.components.views import chart_callback, page_callback
from dashboard.metrics import predict_ui as pui
from dashboard.views import predictions as predict_views

dash.register_page(
    __name__,
    path="/predictions",
    name="Predictions",
    title="Payment predictions",
    nav_order=61,
    nav_group="Cash",
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "pr-worklist"
SOURCES = (
    ("model", "Model"),
    ("due date", "Due date"),
    ("customer's average delay", "Customer's avg delay"),
)
LABELS = predict_views.LABELS
ACCURACY_INFO = (
    "At six past dates (28 days apart, the latest 13 weeks before the data's end) each invoice open then "
    "is predicted from data dated up to that day only, by the model trained on that data and by two "
    "baselines: the due date, and the due date + the customer's average delay. Brier = mean (P(paid "
    "within 30 days) − what happened)², lower is better (a 0/1 baseline scores the share it got wrong). "
    "±7 days = share settled within a week of the expected date. WAPE = Σ |expected − collected| / Σ "
    "collected per week over 13 weeks."
)


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    top = dbc.Row(
        [
            dbc.Col(
                card(
                    "Accuracy · backtest",
                    html.Div(id="pr-accuracy"),
                    ACCURACY_INFO,
                    "pr-info-accuracy",
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Reliability · paid within 30 days",
                    graph("pr-reliability", 280),
                    "The model's predicted probability of payment within 30 days, in ten 10-point bins, against the "
                    "share of those invoices that really were paid (all backtest dates pooled). On the dotted "
                    "diagonal the model is perfectly calibrated; the grey lines are ±10 points. Open circles: bins "
                    "with fewer than 30 invoices.",
                    "pr-info-reliability",
                    menu=export_tools("predictions_reliability"),
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
                    "Predicted aging",
                    graph("pr-aging", 300),
                    "Today's aging buckets (days past due), and how the invoices open today are expected to age: in "
                    "30 and 60 days each balance counts × P(not yet paid then), in the bucket it will then be in. New "
                    "invoices issued after the as-of date are not included.",
                    "pr-info-aging",
                    menu=export_tools("predictions_aging"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Unpaid 90 days after due · by issue month",
                    graph("pr-unpaid", 300),
                    "Per issue month: the open balance 90 days after each invoice's due date / the amount of those "
                    "invoices, over invoices whose due date + 90 days is on or before the as-of date.",
                    "pr-info-unpaid",
                    menu=export_tools("predictions_unpaid"),
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    cohort = card(
        "Cohort curves · share collected by months since issue",
        graph("pr-cohorts", 380),
        "Invoices grouped by issue month (last 24 months); each cell is the share of their value collected "
        "(payments, capped at each invoice's amount) by the end of that month since issue, up to the as-of "
        "date. Click a cell for its invoices.",
        "pr-info-cohorts",
        menu=export_tools("predictions_cohorts"),
    )
    rows = card(
        "Worklist · ranked by expected loss",
        grid.data_grid(GRID, height=460, search_placeholder="Search invoices, customers, reasons"),
        "Every open invoice ranked by expected loss = open balance × P(not paid within 30 days), with the "
        "reason in words. The same ranking orders the invoice workspace's Worklist tab.",
        "pr-info-worklist",
    )
    return html.Div(
        [
            page_header("Payment predictions", "pr-caption", margin="mb-1", pdf="predictions"),
            html.Div(id="pr-source", className="small mb-2 pr-source"),
            top,
            middle,
            html.Div(cohort, className="mb-2"),
            rows,
            drill.relay("pr"),
        ],
        id="pr-page",
    )


def accuracy_table(result: dict | None) -> html.Div:
    """Brier, ±7 days and WAPE of the model and the baselines, and which one the forecast uses."""
    if result is None or not result["overall"]:
        return html.Div(
            "No backtest yet: the model is being trained for this data version. Until then the "
            "forecast and the worklist use the customer's average delay (baseline).",
            className="text-muted small pr-no-backtest",
        )
    overall = result["overall"]
    head = html.Thead(
        html.Tr([html.Th("")] + [html.Th(label, className="text-end") for _, label in SOURCES])
    )

    def line(title: str, key: str, render) -> html.Tr:
        return html.Tr(
            [html.Td(title)]
            + [
                html.Td(render(overall.get(s, {}).get(key)), className="text-end")
                for s, _ in SOURCES
            ]
        )

    body = html.Tbody(
        [
            line(
                "Brier score, paid ≤ 30 days", "brier", lambda v: "–" if v is None else f"{v:.3f}"
            ),
            line(
                "Paid within ±7 days of expected",
                "within7",
                lambda v: "–" if v is None else f"{v * 100:.1f} %",
            ),
            line(
                "Weekly cash WAPE (13 weeks)", "wape", lambda v: "–" if v is None else f"{v:.1f} %"
            ),
            line(
                "Invoice predictions compared", "invoices", lambda v: "–" if v is None else f"{v:,}"
            ),
        ]
    )
    dates = result["by_date"]["as_of"]
    decision = result["decision"]
    verdict = (
        (
            "The forecast page uses the model: "
            if decision["use_model"]
            else "The forecast page uses the baselines: "
        )
        + decision["why"]
        + "."
    )
    return html.Div(
        [
            dbc.Table([head, body], size="sm", className="small mb-1 pr-accuracy-table"),
            html.Div(
                f"{len(dates)} past dates from {dates.iloc[0]:%d %b %Y} to {dates.iloc[-1]:%d %b %Y}. {verdict}",
                className="small text-muted pr-decision",
            ),
        ]
    )


@page_callback(Output("pr-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


@callback(Output("pr-source", "children"), Output("pr-accuracy", "children"), *INPUTS)
def accuracy(filters_data, _version):
    """What the predictions are based on, and the backtest table."""
    snap, as_of, _basis, filters, scope, _cur = request_context(filters_data)
    _pred, source = pui.predictions(snap, as_of, filters, scope)
    return source, accuracy_table(pui.backtest(snap, filters, scope))


# the four charts: their views (exported, and on the page PDF, by the same builders)
reliability_chart = chart_callback("pr-reliability", "predictions_reliability", __name__)
aging_chart = chart_callback("pr-aging", "predictions_aging", __name__)
cohort_chart = chart_callback("pr-cohorts", "predictions_cohorts", __name__)
unpaid_chart = chart_callback("pr-unpaid", "predictions_unpaid", __name__)


@callback(
    Output(drill.relay_id("pr"), "data"),
    Input("pr-cohorts", "clickData"),
    prevent_initial_call=True,
)
def cohort_drill(click):
    """A cohort cell opens its invoices (Collected by then sums to the cell's amount)."""
    if not click or not click.get("points"):
        raise PreventUpdate
    data = click["points"][0].get("customdata")
    if not data:
        raise PreventUpdate
    return drill.request(
        "pr_cohort",
        f"Issued {data[0]} · collected by {data[1]} months later",
        bucket=f"{data[0]}|{data[1]}",
    )


# the worklist grid (GRID): the table view predictions_worklist of dashboard/views/predictions.py


@callback(Output(grid.source_id(GRID), "data"), *INPUTS)
def grid_source(filters_data, _version):
    """Point the worklist grid at the current filters (rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data}
