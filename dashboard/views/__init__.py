"""The view registry: every chart and table, declared once (dashboard/views/<page>.py).

A view holds its name, title, page, data function (snapshot, request) -> frame or chart, drill keys,
grid column labels, export formats and the capability it needs. Pages lay out the views they show
(`components.page_kit`), exports, the API and the e-mail/PDF summaries iterate over `VIEWS`, and
the drill modal accepts the drill keys declared here. No Dash in this package.
"""

from __future__ import annotations

from dashboard.params import PERIOD_DAYS

# the declaring modules: importing them registers their views
from dashboard.views import (
    account,
    collections,
    commissions,
    credit,
    customer_aging,
    disputes,
    drill,
    forecast,
    grids,
    predictions,
    receivables,
    reliability,
    tables,
    value,
    warm,  # last: it warms the views above
    workspace,
)
from dashboard.views.base import (
    CHART_FORMATS,
    DRILLS,
    TABLE_FORMATS,
    VIEWS,
    Chart,
    ChartRequest,
    Drill,
    View,
    chart_currency,
    register,
    register_drill,
)

__all__ = [
    "CHART_FORMATS",
    "DRILLS",
    "PERIOD_DAYS",
    "TABLE_FORMATS",
    "VIEWS",
    "Chart",
    "ChartRequest",
    "Drill",
    "View",
    "account",
    "chart_currency",
    "chart_views",
    "collections",
    "commissions",
    "credit",
    "customer_aging",
    "disputes",
    "drill",
    "forecast",
    "grids",
    "predictions",
    "receivables",
    "register",
    "register_drill",
    "reliability",
    "table_views",
    "tables",
    "value",
    "workspace",
    "warm",
]


def chart_views() -> dict[str, View]:
    """Every chart view by name."""
    return {name: v for name, v in VIEWS.items() if v.kind == "chart"}


def table_views() -> dict[str, View]:
    """Every exported table view by name (/export/table, /api/export; not the grid-only ones)."""
    return {name: v for name, v in VIEWS.items() if v.kind == "table" and "csv" in v.formats}
