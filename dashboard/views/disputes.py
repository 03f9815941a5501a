"""Disputes & promises views: outstanding composition, dispute cycle time, promise adherence."""

from __future__ import annotations

from typing import Any

from dashboard.figures import collections as figs
from dashboard.metrics import service
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register
from dashboard.views.grids import HIDDEN, GridFrame, stamp_line

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


# ---- the broken-promises and open-disputes grids ----------------------------------------------------

GRID_LABELS = {
    "promise_id": "Promise",
    "dispute_id": "Dispute",
    "amount_cents": "Amount",
    "invoice_balance_cents": "Invoice balance",
    "days_since_promised": "Days late",
    "age_days": "Age (days)",
    "status": "Status",
}
BROKEN_COLUMNS = [
    "promise_id",
    "invoice_id",
    "customer_name",
    "customer_id",
    "sales_rep_id",
    "segment",
    "region",
    "made_on",
    "promised_date",
    "days_since_promised",
    "amount_cents",
    "invoice_balance_cents",
]
OPEN_COLUMNS = [
    "dispute_id",
    "invoice_id",
    "customer_name",
    "amount_cents",
    "invoice_balance_cents",
    "age_days",
    "status",
    "opened_on",
    "customer_id",
    "sales_rep_id",
    "segment",
    "region",
]


def _broken(snap: Any, req: ChartRequest) -> GridFrame:
    """Broken promises in the request's scope."""
    frame = service.promise_adherence(snap, req.as_of, req.filters, req.scope, MONTHS)["broken"]
    return GridFrame(
        frame[BROKEN_COLUMNS],
        currency=chart_currency(snap, req),
        date_field="promised_date",
        file_name="broken-promises",
        labels={**GRID_LABELS, "amount_cents": "Promised"},
        hidden=HIDDEN,
        stamp=stamp_line("Broken promises", req, basis=False),
    )


def _open(snap: Any, req: ChartRequest) -> GridFrame:
    """Open disputes in the request's scope."""
    frame = service.dispute_cycle_time(snap, req.as_of, req.filters, req.scope, MONTHS)["open"]
    return GridFrame(
        frame[OPEN_COLUMNS],
        currency=chart_currency(snap, req),
        date_field="opened_on",
        file_name="open-disputes",
        labels={**GRID_LABELS, "amount_cents": "Disputed"},
        # a half-width grid: the name links to Account 360
        hidden=HIDDEN | {"customer_id"},
        stamp=stamp_line("Open disputes", req, basis=False),
    )


register(
    View(
        "disputes_broken_promises",
        "Broken promises",
        PAGE,
        frame=_broken,
        formats=("grid",),
        grid="dp-broken",
    )
)
register(
    View("disputes_open", "Open disputes", PAGE, frame=_open, formats=("grid",), grid="dp-open")
)
