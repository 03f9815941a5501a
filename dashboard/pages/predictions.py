"""Payment predictions: the model's measured accuracy against the baselines, predicted aging, cohort
curves and the worklist ranked by expected loss (docs/analytics.md, "Payment predictions")."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import views
from dashboard.components import drill, grid, identity
from dashboard.components.page_kit import card, graph, page_header, request_context
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.figures import predict as figs
from dashboard.metrics import predict_ui as pui

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
LABELS = {
    "rank": "#",
    "days_past_due": "Days past due",
    "balance_cents": "Open balance",
    "p_paid_30": "P(paid ≤ 30 d) %",
    "expected_loss_cents": "Expected loss",
    "expected_date": "Expected",
    "reason": "Why",
    "invoice_amount_cents": "Invoice amount",
    "amount_cents": "Collected by then",
    "open_at_as_of_cents": "Open at as-of",
}
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
            page_header("Payment predictions", "pr-caption", margin="mb-1"),
            html.Div(id="pr-source", className="small mb-2 pr-source"),
            top,
            middle,
            html.Div(cohort, className="mb-2"),
            rows,
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


@callback(Output("pr-caption", "children"), *INPUTS)
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


@callback(
    Output("pr-source", "children"),
    Output("pr-accuracy", "children"),
    Output("pr-reliability", "figure"),
    *INPUTS,
)
def accuracy(filters_data, _version):
    """What the predictions are based on, the backtest table and the reliability curve."""
    snap, as_of, _basis, filters, scope, _cur = request_context(filters_data)
    _pred, source = pui.predictions(snap, as_of, filters, scope)
    result = pui.backtest(snap, filters, scope)
    rel = result["reliability"] if result else pd.DataFrame(columns=["invoices", "enough"])
    return source, accuracy_table(result), figs.reliability_chart(rel)


@callback(Output("pr-aging", "figure"), *INPUTS)
def aging(filters_data, _version):
    """Aging today, in 30 and in 60 days."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    return figs.aging_ahead_chart(pui.predicted_aging(snap, as_of, filters, scope), cur)


@callback(Output("pr-cohorts", "figure"), Output("pr-unpaid", "figure"), *INPUTS)
def cohorts(filters_data, _version):
    """Cohort curves and unpaid 90+ per cohort."""
    snap, as_of, _basis, filters, scope, _cur = request_context(filters_data)
    result = pui.cohorts(snap, as_of, filters, scope)
    return figs.cohort_heatmap(result["curve"]), figs.unpaid_90_chart(result["summary"])


def cohort_rows(
    snap, _key, as_of, _period_days, filters, scope, bucket=None, **_params
) -> pd.DataFrame:
    """The invoices of one cohort cell (bucket = 'YYYY-MM|months since'); scope applied by the metric."""
    if not bucket or "|" not in bucket:
        raise ValueError("bucket required")
    cohort, _, months = bucket.partition("|")
    if len(cohort) != 7 or not months.isdigit() or int(months) > 400:
        raise ValueError("bad cohort cell")
    return pui.cohort_cell(snap, as_of, filters, scope, cohort, int(months)).reset_index(drop=True)


views.register_drill("pr_cohort", cohort_rows, LABELS)


@callback(
    Output("drill-request", "data", allow_duplicate=True),
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


def worklist_source(data: dict) -> grid.GridFrame | None:
    """The worklist in the current user's scope."""
    from dashboard import params as gf
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.metrics.ui_support import currency_for

    if not isinstance(data, dict) or data.get("filters") is None:
        return None
    as_of, _basis, filters = gf.parse(data.get("filters"))
    scope = identity.scope()
    snap = get_snapshot()
    frame = pui.worklist(snap, as_of, filters, scope)
    frame = frame[
        ["invoice_id", "rank", *[c for c in frame.columns if c not in ("invoice_id", "rank")]]
    ]
    frame = frame.assign(p_paid_30=(frame["p_paid_30"] * 100).round(1))
    return grid.GridFrame(
        frame,
        currency=currency_for(snap, filters, scope, fmt.default_currency()),
        file_name="worklist-expected-loss",
        labels=LABELS,
        total_field="expected_loss_cents",
        stamp=f"Worklist by expected loss | {describe(data.get('filters'))} | scope: {scope.label}",
    )


def _model_token() -> tuple:
    """Which model the worklist is ranked by: the bundle file of this data version, once trained."""
    from dashboard.metrics.predict_store import model_path
    from dashboard.metrics.snapshot import get_snapshot

    path = model_path(get_snapshot())
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError:
        return (str(path), None)


grid.register_source(GRID, worklist_source, token=_model_token)


@callback(Output(grid.source_id(GRID), "data"), *INPUTS)
def grid_source(filters_data, _version):
    """Point the worklist grid at the current filters (rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data}
