"""Commission Analytics views (role capability view_commissions)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures import commissions as figs
from dashboard.metrics.commissions import (
    cached_at_risk_by_rep,
    cached_by_group,
    cached_cash_and_invoiced,
    cached_monthly,
    cached_top_reps,
)
from dashboard.params import PERIOD_DAYS
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register

PAGE = "commissions"
COMMISSIONS = "view_commissions"
MONTHS = 12
GRID_LABELS = {
    "sales_rep_id": "Rep",
    "name": "Name",
    "group_name": "Group",
    "accrued_cents": "Accrued",
    "written_off_cents": "Written off",
    "disputed_cents": "Disputed",
    "overdue_90_cents": "90+ overdue",
    "at_risk_cents": "At risk",
    "at_risk_pct": "At risk %",
    "invoiced_cents": "On invoices issued",
    "cash_cents": "On cash collected",
    "collected_cents": "Cash collected",
    "difference_cents": "Cash − invoiced",
}


def _top_reps(snap: Any, req: ChartRequest) -> Chart:
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
    cur = chart_currency(snap, req)
    frame = cached_cash_and_invoiced(snap, req.as_of, PERIOD_DAYS, req.filters, req.scope)
    return Chart(
        "commissions_cash",
        f"Commission on cash vs on invoices · {PERIOD_DAYS} days",
        figs.cash_vs_invoiced_bar(frame, cur),
        frame.copy(),
        cur,
    )


register(
    View(
        "commissions_top_reps",
        "Top reps by accrued commission",
        PAGE,
        _top_reps,
        capability=COMMISSIONS,
    )
)
register(
    View(
        "commissions_trend",
        "Commissions accrued vs paid",
        PAGE,
        _trend,
        drill_keys=("commissions_month_earned", "commissions_month_paid"),
        capability=COMMISSIONS,
    )
)
register(
    View(
        "commissions_groups",
        "Commission by sales group",
        PAGE,
        _groups,
        drill_keys=("commissions_group",),
        capability=COMMISSIONS,
    )
)
register(
    View("commissions_cash", "Commission on cash vs invoices", PAGE, _cash, capability=COMMISSIONS)
)


# the two per-rep grids ("name" stretches to the grid's width); their CSV/XLSX are the grid's own
REP_GRID = {"link_customers": False, "hidden": frozenset()}


def _at_risk_by_rep(snap: Any, req: ChartRequest) -> pd.DataFrame:
    frame = cached_at_risk_by_rep(snap, req.as_of, req.filters, req.scope)
    return frame.rename(columns={"rep_name": "name"})


def _cash_by_rep(snap: Any, req: ChartRequest) -> pd.DataFrame:
    frame = cached_cash_and_invoiced(snap, req.as_of, PERIOD_DAYS, req.filters, req.scope)
    return frame.rename(columns={"rep_name": "name"})


register(
    View(
        "commissions_at_risk_by_rep",
        "Commission at risk per rep",
        PAGE,
        frame=_at_risk_by_rep,
        columns=GRID_LABELS,
        formats=("grid",),
        capability=COMMISSIONS,
        grid="com-at-risk",
        show={"file_name": "commissions-risk", **REP_GRID},
    )
)
register(
    View(
        "commissions_cash_by_rep",
        "Cash vs invoiced commission per rep",
        PAGE,
        frame=_cash_by_rep,
        columns=GRID_LABELS,
        formats=("grid",),
        capability=COMMISSIONS,
        grid="com-cash",
        show={"file_name": "commissions-cash", **REP_GRID},
    )
)
