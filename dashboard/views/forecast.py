"""Payment forecast views: expected collections, balances by due date, accuracy and backtest."""

from __future__ import annotations

from typing import Any

from dashboard.figures import collections as figs
from dashboard.metrics import forecast, service
from dashboard.params import DATE_OPTION
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register
from dashboard.views.grids import HIDDEN, GridFrame, stamp_line

PAGE = "forecast"
FORECAST_WEEKS = forecast.HORIZON_WEEKS
FORECAST_BACKTEST_DATES = 6  # past dates, 28 days apart
due_forecast = service.due_date_forecast


def backtest(snap: Any, as_of: Any, filters: Any, scope: Any) -> dict:
    """forecast_backtest at the default past dates (the slowest call of the page: cached; the page,
    its charts and their exports share it)."""
    return service.forecast_backtest(
        snap, as_of, filters, scope, FORECAST_BACKTEST_DATES, FORECAST_WEEKS
    )


def _forecast_expected(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame, use_model, _why = service.chosen_weekly(
        snap, req.as_of, req.filters, req.scope, FORECAST_WEEKS
    )
    source = "prediction model" if use_model else "payment behaviour + collectability"
    rows = frame.drop(columns=["week"]).copy()
    return Chart(
        "forecast_expected",
        f"Expected collections · next {FORECAST_WEEKS} weeks ({source})",
        figs.behaviour_forecast_chart(frame, cur),
        rows,
        cur,
        total_columns=["expected_cents", "promised_cents", "by_due_date_cents"],
    )


def _forecast_due(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame = due_forecast(snap, req.as_of, req.filters, req.scope)
    return Chart(
        "forecast_due",
        "Open balances by due date",
        figs.due_date_bars(frame, cur),
        frame.copy(),
        cur,
        total_columns=["amount_cents"],
    )


def _forecast_wape(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    by_date = backtest(snap, req.as_of, req.filters, req.scope)["by_date"]
    return Chart(
        "forecast_wape",
        "Forecast accuracy · WAPE per past date",
        figs.wape_by_date_chart(by_date),
        by_date.copy(),
        cur,
        total_columns=[],
    )


def _forecast_backtest_chart(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    weeks = backtest(snap, req.as_of, req.filters, req.scope)["weeks"]
    made = sorted({str(d) for d in weeks["as_of"]})
    # the past date chosen on the page (made_on), else the latest; the data holds every date
    shown = req.option("made_on") if req.option("made_on") in made else (made[-1] if made else None)
    title = "Backtest · forecast vs collected" + (
        f" (picture: forecast made on {shown})" if shown else ""
    )
    return Chart(
        "forecast_backtest",
        title,
        figs.backtest_weeks_chart(weeks, shown, cur),
        weeks.copy(),
        cur,
        total_columns=[],
    )


register(
    View(
        "forecast_expected",
        "Expected collections",
        PAGE,
        _forecast_expected,
        drill_keys=("fc_week", "fc_model_week"),
    )
)
register(View("forecast_due", "By due date", PAGE, _forecast_due, drill_keys=("fc_due",)))
register(View("forecast_wape", "Forecast accuracy", PAGE, _forecast_wape))
register(
    View(
        "forecast_backtest",
        "Backtest · forecast vs collected",
        PAGE,
        _forecast_backtest_chart,
        options={"made_on": DATE_OPTION},
    )
)


# ---- the invoices grid behind both forecasts -----------------------------------------------------

GRID_COLUMNS = [
    "invoice_id",
    "customer_name",
    "customer_id",
    "sales_rep_id",
    "segment",
    "region",
    "due_date",
    "days_until_due",
    "due_bucket",
    "balance_cents",
    "dispute",
    "age_days",
    "collectable_share",
    "delay_days",
    "delay_basis",
    "expected_date",
    "expected_week",
    "expected_cents",
    "uncollectible_cents",
    "promise_id",
    "promised_date",
    "promised_cents",
]
GRID_LABELS = {
    "days_until_due": "Days until due",
    "due_bucket": "Due-date bucket",
    "balance_cents": "Open balance",
    "dispute": "Dispute",
    "delay_days": "Delay used (days)",
    "delay_basis": "Delay from",
    "expected_date": "Expected",
    "expected_week": "Week",
    "expected_cents": "Expected (behaviour)",
    "promise_id": "Promise",
    "promised_cents": "Promised",
    "amount_cents": "In this bucket",
    "age_days": "Days past due",
    "collectable_share": "Share paid at this age (history, 0-1)",
    "uncollectible_cents": "Not expected",
}


def _invoices(snap: Any, req: ChartRequest) -> GridFrame:
    """Every open invoice behind the forecasts, in the request's scope."""
    frame = service.forecast_invoices(snap, req.as_of, req.filters, req.scope)[GRID_COLUMNS]
    return GridFrame(
        frame,
        currency=chart_currency(snap, req),
        file_name="forecast-invoices",
        labels=GRID_LABELS,
        hidden=HIDDEN | {"promise_id", "customer_id"},
        stamp=stamp_line("Invoices behind the payment forecast", req, basis=False),
    )


register(
    View(
        "forecast_invoices",
        "Invoices behind the forecast",
        PAGE,
        frame=_invoices,
        formats=("grid",),
        grid="fc-invoices",
    )
)
