"""Customer value views: revenue by value tier."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.data.tiers import Tier, load_tiers
from dashboard.figures import analytics as figs
from dashboard.metrics import service
from dashboard.views.base import Chart, ChartRequest, View, chart_currency, register

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
