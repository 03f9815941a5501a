"""Exportable charts by name, read from the view registry (dashboard/views): each rebuilds the figure and
the data behind it from the pure functions the page uses, so an export ties to the screen.

    spec = CHARTS["top_debtors"]
    chart = spec.build(snapshot, ChartRequest(as_of, "due", 90, filters, scope))   # None: 404
    chart.figure, chart.frame (money in *_cents), chart.total_columns

Declare a chart in dashboard/views/<page>.py (`register(View(name, title, page, build))`).
"""

from __future__ import annotations

from dashboard.views import PERIOD_DAYS, Chart, ChartRequest, View, chart_currency, chart_views
from dashboard.views.account import account_data

# every chart view by name (the registry is complete once dashboard.views is imported)
CHARTS: dict[str, View] = chart_views()

__all__ = [
    "CHARTS",
    "PERIOD_DAYS",
    "Chart",
    "ChartRequest",
    "account_data",
    "chart_currency",
]
