"""Disputes & promises views: outstanding composition, dispute cycle time, promise adherence."""

from __future__ import annotations

from typing import Any

from dashboard.figures import collections as figs
from dashboard.metrics import service
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register

PAGE = "disputes"
MONTHS = 12


def _composition(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame = service.outstanding_composition(snap, req.as_of, req.filters, req.scope)
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
    cur = chart_currency(snap, req)
    frame = service.dispute_cycle_time(snap, req.as_of, req.filters, req.scope, MONTHS)["by_month"]
    return Chart(
        "disputes_cycle",
        f"Dispute cycle time · {MONTHS} months",
        figs.dispute_cycle_chart(frame),
        frame.copy(),
        cur,
        total_columns=[],
    )


def _promises(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame = service.promise_adherence(snap, req.as_of, req.filters, req.scope, MONTHS)["by_month"]
    return Chart(
        "disputes_promises",
        f"Promise adherence · {MONTHS} months",
        figs.promise_adherence_chart(frame),
        frame.copy(),
        cur,
    )


register(
    View(
        "disputes_composition",
        "Outstanding composition",
        PAGE,
        _composition,
        drill_keys=("dp_component",),
    )
)
register(View("disputes_cycle", "Dispute cycle time", PAGE, _cycle))
register(View("disputes_promises", "Promise adherence", PAGE, _promises))
