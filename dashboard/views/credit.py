"""Credit views: the credit utilization grid."""

from __future__ import annotations

import time
from typing import Any

from dashboard import params as gf
from dashboard.figures.analytics import RISK_COLORS, fitted_columns, label_cell_style
from dashboard.metrics import credit, service
from dashboard.views.base import ChartRequest, View, chart_currency, register
from dashboard.views.grids import GridFrame

PAGE = "credit"
ALL, NO_LIMIT = "all", "none"
RISK_CHOICES = (*reversed(credit.RISK_LEVELS), NO_LIMIT)  # Over Limit first
LABELS = {
    "customer_id": "Customer #",
    "customer_name": "Customer",
    "credit_limit_cents": "Credit limit",
    "limit_status": "Limit status",
    "outstanding_cents": "Outstanding",
    "utilization_pct": "Utilization",
    "available_credit_cents": "Available credit",
    "payments_12m_cents": "Payments 12m",
    "sales_12m_cents": "Sales 12m",
    "avg_monthly_sales_cents": "Avg monthly sales",
    "avg_days_to_pay": "Avg days to pay",
    "risk_level": "Risk level",
    "recommended_action": "Recommended action",
}
PCT = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value) + ' %'"}
DAYS = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}


def _utilization(snap: Any, req: ChartRequest) -> GridFrame:
    """Credit utilization rows for the request's filters and risk level (option "risk")."""
    risk = req.option("risk") or ALL
    frame = service.credit_utilization(snap, req.as_of, req.filters, req.scope)
    if risk == NO_LIMIT:
        frame = frame[frame["limit_status"] == "NO LIMIT"]
    elif risk != ALL:
        frame = frame[frame["risk_level"] == risk]
    frame = frame.reset_index(drop=True)
    limit = frame["credit_limit_cents"].astype("float64")
    frame = frame.assign(
        credit_limit_cents=limit.where(limit > 0),  # blank = no limit
        available_credit_cents=frame["available_credit_cents"].astype("float64"),
    )
    currency = chart_currency(snap, req)
    no_limit = "params.node.rowPinned ? params.value : 'No limit'"
    limit_money = {
        "function": f"params.value == null ? ({no_limit}) : arMoney(params.value, {currency!r})"
    }
    columns = fitted_columns(
        frame,
        currency,
        {
            "customer_id": {"pinned": "left", "width": 84, "suppressHeaderFilterButton": True},
            "customer_name": {
                "pinned": "left",
                "width": 180,
                "flex": None,
                "tooltipField": "customer_name",
            },
            "credit_limit_cents": {
                "valueFormatter": limit_money,
                "headerTooltip": "Blank or 0 in the ledger = no limit "
                "(Limit status NO LIMIT in the CSV)",
            },
            "utilization_pct": {"width": 86, "valueFormatter": PCT},
            "avg_days_to_pay": {"width": 72, "valueFormatter": DAYS},
            "risk_level": {"width": 100, "cellStyle": label_cell_style(RISK_COLORS)},
            "recommended_action": {
                "flex": 1,
                "minWidth": 156,
                "tooltipField": "recommended_action",
                "valueFormatter": {"function": "params.value ? params.value.split(' - ')[0] : ''"},
            },
        },
    )
    what = (
        "all risk levels"
        if risk == ALL
        else ("no limit" if risk == NO_LIMIT else f"risk level {risk}")
    )
    described = gf.describe_request(req.as_of, req.basis, req.filters)
    stamp = (
        f"Credit utilization, {what} | {described} | scope: {req.scope.label} | "
        f"generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return GridFrame(
        frame,
        currency=currency,
        file_name="credit-utilization",
        labels=LABELS,
        hidden=frozenset({"segment", "region", "sales_rep_id", "limit_status"}),
        stamp=stamp,
        columns=columns,
    )


register(
    View(
        "credit_utilization",
        "Credit utilization",
        PAGE,
        frame=_utilization,
        formats=("grid",),
        grid="cr-grid",
        options={"risk": RISK_CHOICES},
    )
)
