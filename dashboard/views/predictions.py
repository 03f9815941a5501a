"""Payment prediction views: calibration, predicted aging, cohort curves and unpaid 90+ per cohort,
and the cohort-cell drill."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures import predict as figs
from dashboard.metrics import predict_ui as pui
from dashboard.metrics.predict_store import model_path
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register, register_drill
from dashboard.views.grids import GridFrame, stamp_line

PAGE = "predictions"
LABELS = {  # the worklist grid and the cohort drill
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


def _reliability(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    result = pui.backtest(snap, req.filters, req.scope)
    rel = result["reliability"] if result else pd.DataFrame(columns=["invoices", "enough"])
    return Chart(
        "predictions_reliability",
        "Reliability · paid within 30 days",
        figs.reliability_chart(rel),
        rel.copy(),
        cur,
        total_columns=[],  # shares per probability bin: no totals row
    )


def _aging(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame = pui.predicted_aging(snap, req.as_of, req.filters, req.scope)
    return Chart(
        "predictions_aging",
        "Predicted aging · today, in 30 and in 60 days",
        figs.aging_ahead_chart(frame, cur),
        frame.copy(),
        cur,
        total_columns=[],  # three pictures of one ledger: their sum means nothing
    )


def _cohorts(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    curve = pui.cohorts(snap, req.as_of, req.filters, req.scope)["curve"]
    return Chart(
        "predictions_cohorts",
        "Cohort curves · share collected by months since issue",
        figs.cohort_heatmap(curve),
        curve.copy(),
        cur,
        total_columns=[],  # cumulative per month since issue
        height=500,
    )


def _unpaid(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    summary = pui.cohorts(snap, req.as_of, req.filters, req.scope)["summary"]
    return Chart(
        "predictions_unpaid",
        "Unpaid 90 days after due · by issue month",
        figs.unpaid_90_chart(summary),
        summary.copy(),
        cur,
    )


def cohort_rows(
    snap: Any,
    _key: str,
    as_of: Any,
    _period_days: int,
    filters: Any,
    scope: Any,
    bucket=None,
    **_params: Any,
) -> pd.DataFrame:
    """The invoices of one cohort cell (bucket = 'YYYY-MM|months since'); scope applied by the metric."""
    if not bucket or "|" not in bucket:
        raise ValueError("bucket required")
    cohort, _, months = bucket.partition("|")
    if len(cohort) != 7 or not months.isdigit() or int(months) > 400:
        raise ValueError("bad cohort cell")
    return pui.cohort_cell(snap, as_of, filters, scope, cohort, int(months)).reset_index(drop=True)


register_drill("pr_cohort", cohort_rows, LABELS)
register(View("predictions_reliability", "Prediction reliability", PAGE, _reliability))
register(View("predictions_aging", "Predicted aging", PAGE, _aging))
register(View("predictions_cohorts", "Cohort curves", PAGE, _cohorts, drill_keys=("pr_cohort",)))
register(View("predictions_unpaid", "Unpaid 90 days after due", PAGE, _unpaid))


# ---- the worklist grid -----------------------------------------------------------------------------


def _worklist(snap: Any, req: ChartRequest) -> GridFrame:
    """The worklist by expected loss, in the request's scope."""
    frame = pui.worklist(snap, req.as_of, req.filters, req.scope)
    frame = frame[
        ["invoice_id", "rank", *[c for c in frame.columns if c not in ("invoice_id", "rank")]]
    ]
    frame = frame.assign(p_paid_30=(frame["p_paid_30"] * 100).round(1))
    return GridFrame(
        frame,
        currency=chart_currency(snap, req),
        file_name="worklist-expected-loss",
        labels=LABELS,
        total_field="expected_loss_cents",
        stamp=stamp_line("Worklist by expected loss", req, basis=False),
    )


def model_token(snap: Any) -> tuple:
    """Which model the worklist is ranked by: the bundle file of this data version, once trained."""
    path = model_path(snap)
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError:
        return (str(path), None)


register(
    View(
        "predictions_worklist",
        "Worklist by expected loss",
        PAGE,
        frame=_worklist,
        formats=("grid",),
        grid="pr-worklist",
        needs_filters=True,
        token=model_token,
    )
)
