"""Collections views: coverage and contact latency, per segment, region, rep or tier."""

from __future__ import annotations

from typing import Any

from dashboard.figures import collections as figs
from dashboard.metrics import collections as metrics
from dashboard.metrics import service
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register

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
