"""Exportable charts of the analytics pages (Collections, Disputes, Commissions, Customer value).

Each builder uses the same metric and figure builder as its page, in the scope and filters of the
request, so the PNG, CSV and XLSX tie to the screen. Registered on import by dashboard.export.charts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.export.charts import Chart, ChartRequest, chart_currency, register_chart
from dashboard.metrics import service
from dashboard.params import PERIOD_DAYS

COMMISSIONS = "view_commissions"
MONTHS = 12


def _collections(snap: Any, req: ChartRequest) -> tuple[dict, str]:
    by = req.option("by") or "segment"
    return _activity(snap, req.as_of, req.filters, req.scope, by), by


_activity = service.collections_activity  # the Collections page's entry (same key, shared)


def _coverage(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs

    cur = chart_currency(snap, req)
    result, by = _collections(snap, req)
    frame = result["coverage"].copy()
    label = figs.GROUP_TITLES.get(by, by)
    return Chart(
        "collections_coverage",
        f"Coverage by {label.lower()} · activity in the last 14 days",
        # has an "All" row
        figs.coverage_chart(frame, by, cur),
        frame,
        cur,
        total_columns=[],
    )


def _latency(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs

    cur = chart_currency(snap, req)
    result, by = _collections(snap, req)
    frame = result["latency"].copy()
    label = figs.GROUP_TITLES.get(by, by)
    return Chart(
        "collections_latency",
        f"Contact latency by {label.lower()}",
        figs.latency_chart(frame, by),
        frame,
        cur,
        total_columns=[],
    )


def _composition(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs
    from dashboard.metrics import collections as metrics

    cur = chart_currency(snap, req)
    frame = metrics.outstanding_composition(snap, req.as_of, req.filters, req.scope)
    parts = (
        frame[frame["part_of_total_ar"]].drop(columns=["part_of_total_ar"]).reset_index(drop=True)
    )
    return Chart(
        "disputes_composition",
        "Outstanding composition (sums to total AR)",
        figs.composition_donut(frame, cur),
        parts,
        cur,
        width=700,
        height=460,
    )


def _cycle(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs
    from dashboard.metrics import collections as metrics

    cur = chart_currency(snap, req)
    frame = metrics.dispute_cycle_time(snap, req.as_of, req.filters, req.scope, MONTHS)["by_month"]
    return Chart(
        "disputes_cycle",
        f"Dispute cycle time · {MONTHS} months",
        figs.dispute_cycle_chart(frame),
        frame.copy(),
        cur,
        total_columns=[],
    )


def _promises(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs
    from dashboard.metrics import collections as metrics

    cur = chart_currency(snap, req)
    frame = metrics.promise_adherence(snap, req.as_of, req.filters, req.scope, MONTHS)["by_month"]
    return Chart(
        "disputes_promises",
        f"Promise adherence · {MONTHS} months",
        figs.promise_adherence_chart(frame),
        frame.copy(),
        cur,
    )


def _top_reps(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import commissions as figs
    from dashboard.metrics.commissions import cached_top_reps

    cur = chart_currency(snap, req)
    frame = cached_top_reps(snap, req.as_of, req.filters, req.scope)
    return Chart(
        "commissions_top_reps",
        "Top sales reps by accrued commission",
        figs.top_reps_bar(frame, cur, selected=req.filters.sales_rep),
        frame.copy(),
        cur,
    )


def _trend(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import commissions as figs
    from dashboard.metrics.commissions import cached_monthly

    cur = chart_currency(snap, req)
    frame = cached_monthly(snap, req.as_of, MONTHS, req.filters, req.scope)
    # the unpaid balance at month ends does not add up across months
    return Chart(
        "commissions_trend",
        f"Commissions accrued vs paid · {MONTHS} months",
        figs.earned_vs_paid(frame, cur),
        frame.copy(),
        cur,
        total_columns=["earned_cents", "paid_cents"],
    )


def _groups(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import commissions as figs
    from dashboard.metrics.commissions import cached_by_group

    cur = chart_currency(snap, req)
    frame = cached_by_group(snap, req.as_of, PERIOD_DAYS, req.filters, req.scope)
    return Chart(
        "commissions_groups",
        f"Commission by sales group · {PERIOD_DAYS} days",
        figs.group_pie(frame, cur, PERIOD_DAYS),
        frame.copy(),
        cur,
        width=700,
        height=460,
    )


def _cash(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import commissions as figs
    from dashboard.metrics.commissions import cached_cash_and_invoiced

    cur = chart_currency(snap, req)
    frame = cached_cash_and_invoiced(snap, req.as_of, PERIOD_DAYS, req.filters, req.scope)
    return Chart(
        "commissions_cash",
        f"Commission on cash vs on invoices · {PERIOD_DAYS} days",
        figs.cash_vs_invoiced_bar(frame, cur),
        frame.copy(),
        cur,
    )


def _tiers(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.data.tiers import load_tiers
    from dashboard.figures import analytics as figs
    from dashboard.metrics import value

    cur = chart_currency(snap, req)
    tiers = tuple(tuple(t) for t in load_tiers())
    frame = value.tier_summary(snap, req.as_of, req.filters, req.scope, tiers)
    return Chart(
        "value_tiers",
        "Revenue by value tier · 12 months",
        figs.tier_summary_bar(frame, cur),
        pd.DataFrame(frame).copy(),
        cur,
    )


GROUPINGS = {"by": ("segment", "region", "sales_rep_id", "tier")}  # metrics.collections.GROUPINGS
register_chart("collections_coverage", "Collections coverage", _coverage, options=GROUPINGS)
register_chart("collections_latency", "Contact latency", _latency, options=GROUPINGS)
register_chart("disputes_composition", "Outstanding composition", _composition)
register_chart("disputes_cycle", "Dispute cycle time", _cycle)
register_chart("disputes_promises", "Promise adherence", _promises)
register_chart(
    "commissions_top_reps", "Top reps by accrued commission", _top_reps, capability=COMMISSIONS
)
register_chart("commissions_trend", "Commissions accrued vs paid", _trend, capability=COMMISSIONS)
register_chart("commissions_groups", "Commission by sales group", _groups, capability=COMMISSIONS)
register_chart("commissions_cash", "Commission on cash vs invoices", _cash, capability=COMMISSIONS)
register_chart("value_tiers", "Revenue by value tier", _tiers)


# ---- payment forecast -----------------------------------------------------------------------------

FORECAST_WEEKS = 13
FORECAST_BACKTEST_DATES = 6


def _forecast_backtest(snap: Any, as_of: Any, filters: Any, scope: Any) -> dict:
    return service.forecast_backtest(
        snap, as_of, filters, scope, FORECAST_BACKTEST_DATES, FORECAST_WEEKS
    )


def _forecast_expected(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs
    from dashboard.metrics import forecast

    cur = chart_currency(snap, req)
    frame, use_model, _why = forecast.chosen_weekly(
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
    from dashboard.figures import collections as figs
    from dashboard.metrics import forecast

    cur = chart_currency(snap, req)
    frame = forecast.due_date_forecast(snap, req.as_of, req.filters, req.scope)
    return Chart(
        "forecast_due",
        "Open balances by due date",
        figs.due_date_bars(frame, cur),
        frame.copy(),
        cur,
        total_columns=["amount_cents"],
    )


def _forecast_wape(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs

    cur = chart_currency(snap, req)
    by_date = _forecast_backtest(snap, req.as_of, req.filters, req.scope)["by_date"]
    return Chart(
        "forecast_wape",
        "Forecast accuracy · WAPE per past date",
        figs.wape_by_date_chart(by_date),
        by_date.copy(),
        cur,
        total_columns=[],
    )


def _forecast_backtest_chart(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import collections as figs

    cur = chart_currency(snap, req)
    weeks = _forecast_backtest(snap, req.as_of, req.filters, req.scope)["weeks"]
    latest = weeks["as_of"].max() if len(weeks) else None
    title = "Backtest · forecast vs collected" + (
        f" (picture: forecast made on {latest})" if latest else ""
    )
    return Chart(
        "forecast_backtest",
        title,
        figs.backtest_weeks_chart(weeks, latest, cur),
        weeks.copy(),
        cur,
        total_columns=[],
    )


register_chart("forecast_expected", "Expected collections", _forecast_expected)
register_chart("forecast_due", "By due date", _forecast_due)
register_chart("forecast_wape", "Forecast accuracy", _forecast_wape)
register_chart("forecast_backtest", "Backtest · forecast vs collected", _forecast_backtest_chart)
