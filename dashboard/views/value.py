"""Customer value views: revenue by value tier."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from dashboard import params as gf
from dashboard.data.tiers import Tier, load_tiers
from dashboard.figures import analytics as figs
from dashboard.metrics import service
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register
from dashboard.views.grids import GridFrame

PAGE = "value"


def current_tiers() -> tuple[Tier, ...]:
    """The configured tiers (a small read; saving them bumps the data version), hashable: part of
    the result cache's key."""
    return tuple(load_tiers())


def _tiers(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    frame = service.tier_summary(snap, req.as_of, req.filters, req.scope, current_tiers())
    return Chart(
        "value_tiers",
        "Revenue by value tier · 12 months",
        figs.tier_summary_bar(frame, cur),
        pd.DataFrame(frame).copy(),
        cur,
    )


register(View("value_tiers", "Revenue by value tier", PAGE, _tiers))


# ---- the customer value grid -------------------------------------------------------------------------

LABELS = {
    "customer_id": "Customer #",
    "customer_name": "Customer",
    "revenue_12m_cents": "Revenue 12m",
    "costed_revenue_12m_cents": "Costed revenue 12m",
    "gross_profit_cents": "Gross profit",
    "margin_pct": "Margin",
    "value_tier": "Tier",
    "avg_payment_days": "Avg payment days",
    "share_of_turnover_pct": "Share of turnover",
}
PCT = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value) + ' %'"}
DAYS = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}


def units(cents: int | None) -> str:
    """Cents as plain currency units ('1234.50'); '' for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def tiers_text(tiers: Any) -> str:
    """'Bronze 0.00-9999.99, ..., Platinum 250000.00+' (for the CSV stamp)."""
    return ", ".join(
        f"{n} {units(lo)}" + (f"-{units(hi)}" if hi is not None else "+") for n, lo, hi in tiers
    )


def _customer_value(snap: Any, req: ChartRequest) -> GridFrame:
    """Customer value rows for the request, tiered by the configured tiers."""
    tiers = current_tiers()
    frame = service.customer_value(snap, req.as_of, req.filters, req.scope, tiers)
    frame = frame.assign(gross_profit_cents=frame["gross_profit_cents"].astype("float64"))
    colors = figs.tier_colors([t[0] for t in tiers])
    currency = chart_currency(snap, req)
    columns = figs.fitted_columns(
        frame,
        currency,
        {
            "customer_id": {"width": 96, "suppressHeaderFilterButton": True},
            "customer_name": {"flex": 1, "minWidth": 220, "tooltipField": "customer_name"},
            "margin_pct": {"width": 100, "valueFormatter": PCT},
            "value_tier": {"width": 120, "cellStyle": figs.tier_cell_style(colors)},
            "avg_payment_days": {"width": 100, "valueFormatter": DAYS},
            "share_of_turnover_pct": {"width": 110, "valueFormatter": PCT},
        },
    )
    described = gf.describe_request(req.as_of, req.basis, req.filters)
    stamp = (
        f"Customer value | tiers {tiers_text(tiers)} | {described} | scope: {req.scope.label} "
        f"| generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return GridFrame(
        frame,
        currency=currency,
        file_name="customer-value",
        labels=LABELS,
        hidden=frozenset({"segment", "region", "sales_rep_id", "costed_revenue_12m_cents"}),
        stamp=stamp,
        columns=columns,
    )


# the grid's source data also holds "saved" (a tier save): part of the cache key, so it refreshes
register(
    View(
        "customer_value",
        "Customer value",
        PAGE,
        frame=_customer_value,
        formats=("grid",),
        grid="val-grid",
    )
)
