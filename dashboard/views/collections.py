"""Collections views: coverage and contact latency, per segment, region, rep or tier."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures import collections as figs
from dashboard.metrics import collections as metrics
from dashboard.metrics import service
from dashboard.params import BOOL_OPTION
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register
from dashboard.views.grids import HIDDEN, GridFrame, stamp_line

PAGE = "collections"
GROUPINGS: dict[str, tuple[str, ...]] = {"by": metrics.GROUPINGS}


def activity_for(snap: Any, req: ChartRequest) -> tuple[dict, str]:
    """(collections activity, grouping) for a request (cached; page sheets use it too)."""
    by = req.option("by") or "segment"
    return _activity(snap, req.as_of, req.filters, req.scope, by), by


# the Collections page's entry (same key, shared)
_activity = service.collections_activity


def _coverage(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    result, by = activity_for(snap, req)
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
    cur = chart_currency(snap, req)
    result, by = activity_for(snap, req)
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


register(View("collections_coverage", "Collections coverage", PAGE, _coverage, options=GROUPINGS))
register(View("collections_latency", "Contact latency", PAGE, _latency, options=GROUPINGS))


# ---- the groups and uncontacted-invoices grids ------------------------------------------------------

GROUP_LABELS = figs.GROUP_TITLES
GRID_LABELS = {
    "overdue_cents": "Overdue",
    "covered_cents": "Covered",
    "coverage_pct": "Share covered %",
    "overdue_customers": "Overdue cust.",
    "covered_customers": "Covered cust.",
    "became_overdue": "New overdue (90 d)",
    "contacted": "Reached",
    "uncontacted": "Never reached",
    "mean_days": "Mean days",
    "median_days": "Median days",
    "days_since_due": "Days since due",
    "amount_cents": "Amount",
    "balance_cents": "Open balance",
}


def group_table(result: dict, by: str) -> pd.DataFrame:
    """Coverage and latency side by side per group, without the 'All' row (the grid's totals row is everyone)."""
    merged = result["coverage"].merge(result["latency"], on=by, how="outer")
    merged = merged[merged[by] != "All"].reset_index(drop=True)
    for column in (
        "overdue_cents",
        "covered_cents",
        "overdue_customers",
        "covered_customers",
        "became_overdue",
        "contacted",
        "uncontacted",
    ):
        merged[column] = merged[column].fillna(0).astype("int64")
    return merged


def _groups(snap: Any, req: ChartRequest) -> GridFrame:
    """Coverage and latency per group, in the request's scope."""
    result, by = activity_for(snap, req)
    return GridFrame(
        group_table(result, by),
        currency=chart_currency(snap, req),
        file_name=f"collections-by-{by}",
        labels={**GRID_LABELS, by: GROUP_LABELS[by]},
        link_customers=False,
        hidden=frozenset(),
        stamp=stamp_line(
            f"Collections coverage and latency by {GROUP_LABELS[by].lower()}", req, basis=False
        ),
    )


def _uncontacted(snap: Any, req: ChartRequest) -> GridFrame:
    """Overdue invoices never contacted (open ones only unless open_only is false)."""
    result, _by = activity_for(snap, req)
    frame = result["uncontacted"]
    if req.option("open_only") != "false":
        frame = frame[frame["balance_cents"] > 0]
    return GridFrame(
        frame.reset_index(drop=True),
        currency=chart_currency(snap, req),
        date_field="due_date",
        file_name="uncontacted-overdue-invoices",
        labels=GRID_LABELS,
        hidden=HIDDEN | {"customer_id"},
        stamp=stamp_line("Overdue invoices never contacted", req, basis=False),
    )


register(
    View(
        "collections_groups",
        "Collections coverage and latency by group",
        PAGE,
        frame=_groups,
        formats=("grid",),
        grid="col-groups",
        options=GROUPINGS,
        needs_filters=True,
    )
)
register(
    View(
        "collections_uncontacted",
        "Overdue invoices never contacted",
        PAGE,
        frame=_uncontacted,
        formats=("grid",),
        grid="col-uncontacted",
        options={**GROUPINGS, "open_only": BOOL_OPTION},
        needs_filters=True,
    )
)
