"""Payment forecast: by due date (Retailer buckets), from payment behaviour plus promises (13 weeks),
its measured accuracy (backtest WAPE), and the invoices behind both forecasts."""

from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard import views
from dashboard.components import drill, grid, identity
from dashboard.components.export_menu import export_menu
from dashboard.components.kpi_card import money_value
from dashboard.components.page_kit import card, export_tools, graph, page_header, request_context
from dashboard.components.page_kit import describe_without_basis as describe
from dashboard.components.shell import filters_for_layout
from dashboard.components.views import chart_callback, page_callback
from dashboard.metrics import forecast as metrics
from dashboard.metrics import predict_ui, predict_views, service
from dashboard.views import forecast as forecast_views
from dashboard.views.warm import add_page_step

dash.register_page(
    __name__, path="/forecast", name="Forecast", title="Payment forecast", nav_order=60
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
GRID = "fc-invoices"
WEEKS = forecast_views.FORECAST_WEEKS
BACKTEST_DATES = forecast_views.FORECAST_BACKTEST_DATES
LATER, DISPUTED, UNCOLLECTIBLE = "Later", "Disputed (excluded)", metrics.UNCOLLECTIBLE
LABELS = forecast_views.GRID_LABELS
WAPE_INFO = (
    "WAPE (weighted absolute percentage error) = Σ |forecast − collected| / Σ collected × 100, week by week. "
    f"Each forecast is rerun as it stood at {BACKTEST_DATES} past dates 28 days apart (the latest {WEEKS} weeks "
    f"before the as-of date, so all {WEEKS} weeks have passed) and compared with the payments really applied "
    "in each week to the invoices open then. 0 % is perfect; 50 % means the weekly misses add up to half of "
    "what came in. Lower is better."
)


# ---- cached metric calls (per data version, scope, filters and as-of) ----------------------------

invoices = service.forecast_invoices


def warm(snap, req) -> None:
    """The invoices behind the page's grid and drills (the snapshot's warm-up, dashboard/views/warm.py)."""
    invoices(snap, req.as_of, req.filters, req.scope)


add_page_step("forecast", warm)


backtest = forecast_views.backtest


# ---- layout -------------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    """The page skeleton; the grids' sources are set for the filters in the address (prefill)."""
    top = dbc.Row(
        [
            dbc.Col(
                card(
                    f"Expected collections · next {WEEKS} weeks",
                    [
                        graph("fc-behaviour", 320),
                        html.Div(id="fc-behaviour-summary", className="small text-muted px-1"),
                    ],
                    "Each open invoice is expected on its due date + its customer's average payment delay "
                    "(amount-weighted, invoices paid in the last 12 months; else the segment's, else everyone's), "
                    "at the earliest tomorrow. Once that date has passed, the ledger's own history decides: of "
                    "the invoices that were once as many days past due, the share paid within "
                    f"{metrics.WINDOW_DAYS} days is expected (on the as-of date + their median days to "
                    "payment); the rest is shown apart as 'Not expected' (grey). An open promise puts its amount on the promised date (green). "
                    "Invoices in dispute or litigation are left out. When the prediction model is chosen instead "
                    "(see the source line under the chart), each open invoice, disputed ones included, is spread "
                    "over the weeks by its predicted chance of payment. The dotted line is the naive forecast: every "
                    "balance on its due date (overdue ones in week 1). Click a bar for its invoices.",
                    "fc-info-behaviour",
                    menu=export_tools("forecast_expected"),
                ),
                lg=8,
            ),
            dbc.Col(
                card(
                    "Forecast accuracy · backtest",
                    [html.Div(id="fc-accuracy", className="px-1"), graph("fc-wape", 210)],
                    WAPE_INFO,
                    "fc-info-accuracy",
                    menu=export_tools("forecast_wape"),
                ),
                lg=4,
            ),
        ],
        className="g-2 mb-2",
    )
    middle = dbc.Row(
        [
            dbc.Col(
                card(
                    "By due date",
                    graph("fc-due", 300),
                    "Open balances at the as-of date by days until due = due date − as-of: Week 1 = 0–7 days "
                    "(due today is not overdue), Week 2 = 8–14, Week 3 = 15–21, Week 4 = 22–30, Weeks 5-8 = "
                    "more than 30, Overdue = past due. No payment behaviour is assumed. The six bars sum to "
                    "total AR. Click a bar for its invoices.",
                    "fc-info-due",
                    menu=export_tools("forecast_due"),
                ),
                lg=5,
            ),
            dbc.Col(
                card(
                    "Backtest · forecast vs collected",
                    [
                        html.Div(
                            [
                                html.Span("Forecast made on", className="small text-muted"),
                                dbc.Select(id="fc-bt-date", size="sm", className="w-auto"),
                            ],
                            className="d-flex align-items-center gap-2 px-1 mb-1",
                        ),
                        graph("fc-backtest", 268),
                    ],
                    "What both forecasts said at a past date, week by week, against what was really collected "
                    "on the invoices open then (payments applied in each week, in base currency at each "
                    "payment's date). The export holds every past date; its picture the one chosen here.",
                    "fc-info-backtest",
                    # the chosen past date goes into the export's links (backtest_export)
                    menu=[html.Div(export_tools("forecast_backtest"), id="fc-export-backtest")],
                ),
                lg=7,
            ),
        ],
        className="g-2 mb-2",
    )
    rows = card(
        "Invoices behind the forecast",
        grid.data_grid(GRID, height=420, search_placeholder="Search invoices, customers, buckets"),
        "Every invoice open at the as-of date: its due-date bucket, the delay the behaviour forecast "
        "uses and where it comes from, the expected payment date and week, and any open promise. "
        "Expected (behaviour) is the balance less the promised part; it is 0 for disputed invoices. "
        "Totals are exact sums over every row.",
        "fc-info-rows",
        menu=[],
    )
    return prefill(
        html.Div(
            [
                page_header("Payment forecast", "fc-caption", pdf="forecast"),
                html.Div(id="fc-tiles", className="mb-2"),
                top,
                middle,
                rows,
                drill.relay("fc"),
            ],
            id="fc-page",
        ),
        query,
    )


# ---- data helpers -------------------------------------------------------------------------------


def week_label(week: int) -> str:
    """The behaviour-forecast bucket of a forecast week (beyond the horizon: Later)."""
    return f"Week {week}" if week <= WEEKS else LATER


def bucket_rows(frame: pd.DataFrame, as_of: dt.date, key: str, bucket: str) -> pd.DataFrame:
    """The rows of forecast_invoices behind one bar, with amount_cents = the part of each invoice in it.

    fc_due: the due-date bucket (whole balances). fc_week: a behaviour bucket (Week k, Later, Disputed
    (excluded)); an invoice with a promise may sit in two weeks: its promised part and the rest.
    """
    if key == "fc_due":
        rows = frame[frame["due_bucket"] == bucket]
        return rows.assign(amount_cents=rows["balance_cents"].astype("int64"))
    disputed = frame["dispute"].astype(str) != ""
    rest = frame["balance_cents"] - frame["promised_cents"]
    if bucket == DISPUTED:
        part = rest.where(disputed, 0)
    elif bucket == UNCOLLECTIBLE:
        part = frame["uncollectible_cents"].where(~disputed, 0)
    else:
        promise_week = [
            ((d - as_of).days - 1) // 7 + 1 if c > 0 and isinstance(d, dt.date) else None
            for d, c in zip(frame["promised_date"], frame["promised_cents"], strict=True)
        ]
        in_promise = pd.Series(
            [w is not None and week_label(w) == bucket for w in promise_week], index=frame.index
        )
        in_rest = pd.Series(
            [not pd.isna(w) and week_label(int(w)) == bucket for w in frame["expected_week"]],
            index=frame.index,
        )
        part = frame["promised_cents"].where(in_promise, 0) + frame["expected_cents"].where(
            in_rest & ~disputed, 0
        )
    rows = frame.assign(amount_cents=part.astype("int64"))
    return rows[rows["amount_cents"] != 0]


def drill_rows(
    snap, key, as_of, _period_days, filters, scope, bucket=None, **_params
) -> pd.DataFrame:
    """Rows behind a forecast bar (registered with the drill modal; scope applied by the metric)."""
    if not bucket:
        raise ValueError("bucket required")
    rows = bucket_rows(invoices(snap, as_of, filters, scope), as_of, key, bucket)
    columns = [
        "invoice_id",
        "customer_name",
        "customer_id",
        "due_date",
        "days_until_due",
        "due_bucket",
        "dispute",
        "age_days",
        "collectable_share",
        "delay_days",
        "delay_basis",
        "expected_date",
        "promised_date",
        "balance_cents",
        "amount_cents",
    ]
    return rows[columns].reset_index(drop=True)


views.register_drill("fc_due", drill_rows, LABELS)
views.register_drill("fc_week", drill_rows, LABELS)


# the invoices grid (GRID): the table view forecast_invoices of dashboard/views/forecast.py


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(Output("fc-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope."""
    if filters_data is None:
        raise PreventUpdate
    return f"{describe(filters_data)} · {identity.scope().label}"


# the six due-date buckets: view forecast_due (dashboard/views/forecast.py)
due_chart = chart_callback("fc-due", "forecast_due", __name__)


def behaviour_summary(frame: pd.DataFrame, cur: str) -> list:
    """Weeks 1-13 + Later + Disputed = total AR, as text that ties to the chart."""
    cents = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    weeks = sum(v for k, v in cents.items() if k not in (LATER, DISPUTED, UNCOLLECTIBLE))
    promised = int(frame["promised_cents"].sum())
    total = sum(cents.values())
    return [
        html.Span(
            [f"Weeks 1–{WEEKS}: ", html.Strong(fmt.money(weeks, cur), className="fc-sum-weeks")]
        ),
        f" (promised {fmt.money(promised, cur)}) + later {fmt.money(cents.get(LATER, 0), cur)} + not expected "
        f"(history) {fmt.money(cents.get(UNCOLLECTIBLE, 0), cur)} + in dispute, "
        f"not forecast {fmt.money(cents.get(DISPUTED, 0), cur)} = total AR ",
        html.Strong(fmt.money(total, cur), className="fc-sum-total"),
    ]


def model_summary(frame: pd.DataFrame, cur: str, disputed: int) -> list:
    """The model's forecast: weeks 1-13 + later or not expected = total AR, as text that ties to the
    chart; the part in dispute after it, not a term (the model forecasts it like the rest)."""
    cents = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    total = sum(cents.values())
    weeks = sum(v for k, v in cents.items() if k not in (LATER, DISPUTED, UNCOLLECTIBLE))
    return [
        html.Span(
            [f"Weeks 1–{WEEKS}: ", html.Strong(fmt.money(weeks, cur), className="fc-sum-weeks")]
        ),
        " + later or not expected (model) ",
        html.Span(fmt.money(total - weeks, cur), className="fc-sum-later"),
        " = total AR ",
        html.Strong(fmt.money(total, cur), className="fc-sum-total"),
        ". In dispute: ",
        html.Span(fmt.money(disputed, cur), className="fc-sum-disputed"),
        " of total AR, included in the model's forecast (not a separate term).",
    ]


def model_choice(snap, filters, scope) -> dict:
    """Whether the prediction model's backtest beats the baselines on these filters (dashboard.metrics.predict_ui)."""
    result = predict_ui.backtest(snap, filters, scope)
    if result is None:
        return {
            "use_model": False,
            "why": "no prediction model is trained for this data version yet",
        }
    return result["decision"]


def forecast_tiles(frame: pd.DataFrame, cur: str) -> dbc.Row:
    """Total AR, expected in the horizon, not expected (history) and in dispute: they add up to total AR."""
    cents = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    total = sum(cents.values())
    weeks = sum(v for k, v in cents.items() if k not in (LATER, DISPUTED, UNCOLLECTIBLE))
    lost = cents.get(UNCOLLECTIBLE, 0)

    def share(value: int) -> str:
        return f"{fmt.pct(value / total * 100 if total > 0 else None)} of total AR"

    tiles = [
        ("Total AR", total, "fc-tile-total", "open at the as-of date"),
        (f"Expected in {WEEKS} weeks", weeks, "fc-tile-weeks", share(weeks)),
        ("Not expected (history)", lost, "fc-tile-uncollectible", share(lost)),
        (
            "In dispute, not forecast",
            cents.get(DISPUTED, 0),
            "fc-tile-disputed",
            share(cents.get(DISPUTED, 0)),
        ),
    ]
    return tile_row(tiles, cur)


def model_tiles(frame: pd.DataFrame, cur: str, disputed: int) -> dbc.Row:
    """The model's forecast: total AR = expected in the horizon + later or not expected (the model's
    rest); beside them the part of total AR in dispute, which the model includes (not a term)."""
    cents = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    total = sum(cents.values())
    weeks = sum(v for k, v in cents.items() if k not in (LATER, DISPUTED, UNCOLLECTIBLE))

    def share(value: int) -> str:
        return f"{fmt.pct(value / total * 100 if total > 0 else None)} of total AR"

    tiles = [
        ("Total AR", total, "fc-tile-total", "open at the as-of date"),
        (f"Expected in {WEEKS} weeks", weeks, "fc-tile-weeks", share(weeks)),
        ("Later or not expected (model)", total - weeks, "fc-tile-later", share(total - weeks)),
        (
            "In dispute",
            disputed,
            "fc-tile-in-dispute",
            f"{share(disputed)}, included in the model's forecast (not a term of the sum)",
        ),
    ]
    return tile_row(tiles, cur)


def tile_row(tiles: list[tuple[str, int, str, str]], cur: str) -> dbc.Row:
    """(title, cents, CSS class of the value, note) as a row of KPI tiles."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(title, className="ar-kpi-title"),
                            html.Div(
                                money_value(fmt.money(value, cur)),
                                title=fmt.money(value, cur),
                                className=f"ar-kpi-value {cls}",
                            ),
                            html.Div(note, className="small text-muted"),
                        ],
                        className="p-2",
                    ),
                    className="ar-card ar-kpi h-100",
                ),
                xs=6,
                lg=3,
            )
            for title, value, cls, note in tiles
        ],
        className="g-2",
    )


def _chosen(filters_data) -> tuple[pd.DataFrame, bool, str, str, int]:
    """The weekly frame the page shows (model or behaviour), whether it is the model's, why, the
    currency, and on the model's path the part of its total AR in dispute (else 0)."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    frame, use_model, why = service.chosen_weekly(snap, as_of, filters, scope, WEEKS)
    disputed = 0
    if use_model:
        pred, _ = predict_ui.predictions(snap, as_of, filters, scope)
        disputed = predict_views.in_dispute_cents(snap, pred)
    return frame, use_model, why, cur, disputed


@page_callback(Output("fc-tiles", "children"))
def tiles(filters_data, _version):
    """Behaviour: total AR = expected in the horizon + later + not expected (history) + in dispute.
    Model: total AR = expected in the horizon + later or not expected; the part in dispute beside."""
    frame, use_model, _why, cur, disputed = _chosen(filters_data)
    return model_tiles(frame, cur, disputed) if use_model else forecast_tiles(frame, cur)


# the 13-week forecast: the prediction model where its backtest beats the baselines, else behaviour
behaviour_chart = chart_callback("fc-behaviour", "forecast_expected", __name__)


@page_callback(Output("fc-behaviour-summary", "children"))
def behaviour_source(filters_data, _version):
    """Which forecast the chart shows and why, and its summary lines."""
    frame, use_model, why, cur, disputed = _chosen(filters_data)
    if use_model:
        source = "Source: the payment-prediction model, because " + why + " (see Predictions). "
        return [html.Span(source, className="fc-source")] + model_summary(frame, cur, disputed)
    source = (
        "Source: payment behaviour (customer's average delay + promises, then the ledger's history of "
        "invoices of the same age), because " + why + ". "
    )
    return [html.Span(source, className="fc-source")] + behaviour_summary(frame, cur)


def model_week_rows(
    snap, key, as_of, _period_days, filters, scope, bucket=None, **_params
) -> pd.DataFrame:
    """Rows behind a bar of the model's weekly forecast (scope applied by the metric)."""
    if not bucket:
        raise ValueError("bucket required")
    pred, _ = predict_ui.predictions(snap, as_of, filters, scope)
    return predict_views.model_week_rows(snap, pred, bucket, WEEKS)


views.register_drill(
    "fc_model_week",
    model_week_rows,
    {**LABELS, "p_paid_30": "P(paid ≤ 30 d)", "amount_cents": "Expected this week"},
)


def accuracy_summary(result: dict) -> html.Div:
    """Overall WAPE of both forecasts, which is better, and over what."""
    overall = result["overall"]
    by_date = result["by_date"]
    b, d = overall["wape_behaviour"], overall["wape_due_date"]
    values = html.Div(
        [
            html.Div(
                [
                    html.Div("Behaviour", className="ar-kpi-title"),
                    html.Div(fmt.pct(b), className="ar-kpi-value fc-wape-behaviour"),
                ]
            ),
            html.Div(
                [
                    html.Div("Due date", className="ar-kpi-title"),
                    html.Div(fmt.pct(d), className="ar-kpi-value fc-wape-due"),
                ]
            ),
        ],
        className="d-flex gap-4",
    )
    if b is None or d is None:
        note = "Not enough history: nothing was collected in the backtest weeks."
    else:
        first, last = by_date["as_of"].iloc[0], by_date["as_of"].iloc[-1]
        span = f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
        better = "behaviour" if b < d else "due-date" if d < b else "neither"
        note = (
            f"WAPE over {overall['weeks_compared']} weeks at {overall['dates']} past dates ({span}); lower is "
            f"better: the {better} forecast was closer."
            if better != "neither"
            else f"WAPE over {overall['weeks_compared']} weeks at {overall['dates']} past dates ({span})."
        )
    return html.Div([values, html.Div(note, className="small text-muted")], className="mb-1")


wape_chart = chart_callback("fc-wape", "forecast_wape", __name__)


@page_callback(
    Output("fc-accuracy", "children"),
    Output("fc-bt-date", "options"),
    Output("fc-bt-date", "value"),
    extra=(State("fc-bt-date", "value"),),
)
def accuracy(filters_data, _version, chosen):
    """Overall WAPE of both forecasts; the past dates for the backtest chart (the per-date WAPE
    chart: the view, from the same cached backtest)."""
    snap, as_of, _basis, filters, scope, _cur = request_context(filters_data)
    result = backtest(snap, as_of, filters, scope)
    dates = [d.isoformat() for d in result["by_date"]["as_of"]]
    options = [{"label": d, "value": d} for d in reversed(dates)]
    value = chosen if chosen in dates else (dates[-1] if dates else None)
    return accuracy_summary(result), options, value


# both forecasts made on the chosen past date against what was collected: the view
backtest_chart = chart_callback(
    "fc-backtest", "forecast_backtest", __name__, options={"made_on": "fc-bt-date"}
)


@page_callback(Output("fc-export-backtest", "children"), extra=(Input("fc-bt-date", "value"),))
def backtest_export(filters_data, _version, chosen):
    """The backtest chart's export links, for the past date chosen (the picture on screen)."""
    if filters_data is None:
        raise PreventUpdate
    query = filters_data.get("query") or ""
    made_on = chosen if gf.option_allowed(gf.DATE_OPTION, chosen) else None
    return export_menu("forecast_backtest", query=query, made_on=made_on)


def prefill(page, query: dict):
    """The grid's source in the layout: the grid fills as the page arrives (no round trip)."""
    filters_data = filters_for_layout(query)
    if filters_data is not None:
        grid.prefill(page, {GRID: {"filters": filters_data}})
    return page


# the layout fills it (prefill)
@callback(Output(grid.source_id(GRID), "data"), *INPUTS, prevent_initial_call=True)
def grid_source(filters_data, _version):
    """Point the grid at the current filters (its rows are built on the server)."""
    if filters_data is None:
        raise PreventUpdate
    return {"filters": filters_data}


@callback(
    Output(drill.relay_id("fc"), "data"),
    Input("fc-due", "clickData"),
    Input("fc-behaviour", "clickData"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def chart_drill(due_click, behaviour_click, filters_data):
    """A bar opens the invoices behind it (the amounts in the modal sum to the bar)."""
    trigger = ctx.triggered_id
    click = due_click if trigger == "fc-due" else behaviour_click
    if not click or not click.get("points"):
        raise PreventUpdate
    data = click["points"][0].get("customdata")
    if not data:
        raise PreventUpdate
    if trigger == "fc-due":
        return drill.request("fc_due", f"Due-date forecast · {data[0]} · {data[1]}", bucket=data[0])
    if data[0] == UNCOLLECTIBLE:
        return drill.request(
            "fc_week", f"Not expected to be collected · {data[1]}", bucket=UNCOLLECTIBLE
        )
    if click["points"][0].get("curveNumber", 0) > 1:  # the due-date line
        raise PreventUpdate
    snap, _as_of, _basis, filters, scope, _cur = request_context(filters_data)
    if model_choice(snap, filters, scope)["use_model"]:
        return drill.request(
            "fc_model_week", f"Expected by the model · {data[3]} · {data[2]}", bucket=data[0]
        )
    return drill.request(
        "fc_week", f"Expected by behaviour · {data[3]} · {data[2]}", bucket=data[0]
    )
