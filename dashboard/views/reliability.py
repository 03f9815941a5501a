"""Payment reliability views: the customers' reliability grid."""

from __future__ import annotations

import time
from typing import Any

from dashboard import params as gf
from dashboard.figures.analytics import CATEGORY_COLORS, fitted_columns, label_cell_style
from dashboard.metrics import reliability, service
from dashboard.views.base import ChartRequest, View, chart_currency, register
from dashboard.views.grids import GridFrame

PAGE = "reliability"
ALL = "all"
LABELS = {
    "customer_id": "Customer #",
    "customer_name": "Customer",
    "reliability_score": "Reliability score",
    "on_time_pct": "Paid on time",
    "invoices_6m": "Invoices 6m",
    "total_invoiced_6m_cents": "Total invoiced 6m",
    "total_paid_6m_cents": "Total paid 6m",
    "outstanding_6m_cents": "Outstanding 6m",
    "assessed_6m_cents": "Assessed 6m",
    "risk_category": "Risk category",
}
PCT = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value) + ' %'"}


def _reliability(snap: Any, req: ChartRequest) -> GridFrame:
    """Reliability rows for the request's filters and category (option "category"), in its scope."""
    category = req.option("category") or ALL
    frame = service.payment_reliability(snap, req.as_of, req.filters, req.scope)
    if category != ALL:
        frame = frame[frame["risk_category"] == category]
    frame = frame.reset_index(drop=True)
    currency = chart_currency(snap, req)
    columns = fitted_columns(
        frame,
        currency,
        {
            "customer_id": {"pinned": "left", "width": 96, "suppressHeaderFilterButton": True},
            "customer_name": {
                "pinned": "left",
                "width": 230,
                "flex": None,
                "tooltipField": "customer_name",
            },
            "reliability_score": {
                "width": 112,
                "valueFormatter": PCT,
                "cellStyle": {"fontWeight": 600},
            },
            "on_time_pct": {"width": 100, "valueFormatter": PCT},
            "invoices_6m": {"width": 90},
            "risk_category": {
                "flex": 1,
                "minWidth": 120,
                "cellStyle": label_cell_style(CATEGORY_COLORS),
            },
        },
    )
    for name in (c for c in frame.columns if c.endswith("_cents")):
        columns[name].update(flex=1, minWidth=columns[name].pop("width"))
    what = "all categories" if category == ALL else category
    described = gf.describe_request(req.as_of, req.basis, req.filters)
    stamp = (
        f"Payment reliability, {what} | {described} | scope: {req.scope.label} | "
        f"generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return GridFrame(
        frame,
        currency=currency,
        file_name="payment-reliability",
        labels=LABELS,
        hidden=frozenset({"segment", "region", "sales_rep_id"}),
        stamp=stamp,
        columns=columns,
    )


register(
    View(
        "payment_reliability",
        "Payment reliability",
        PAGE,
        frame=_reliability,
        formats=("grid",),
        grid="rl-grid",
        options={"category": tuple(reliability.CATEGORY_ORDER)},
    )
)
