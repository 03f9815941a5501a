"""Cached entry points of the analytics pages' figures (the pages and their exports call these).

Each is the metrics function of the same name memoised in the one cache (`dashboard.metrics.cache`),
keyed by data version, scope, filters, as-of and every other argument; a page and the export of
the same chart share the entry. `maxsize` is how many requests of that function are kept: tables
of one row per customer or invoice keep few, small summaries more. The Receivables Health figures
and the drill-downs are in `metrics.ui_support`, the commission figures in `metrics.commissions`
(`cached_*`), the predictions in `metrics.predict_ui`; they use the same cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dashboard.metrics import collections, credit, forecast, reliability, tables, value
from dashboard.metrics.cache import cached
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import Snapshot

# ---- customer tables (one row per customer: keep few) -------------------------------------------

customer_aging = cached(tables.customer_aging, maxsize=16)
payment_reliability = cached(reliability.payment_reliability, maxsize=16)
credit_utilization = cached(credit.credit_utilization, maxsize=16)
customer_value = cached(value.customer_value, maxsize=16)

# ---- summaries ------------------------------------------------------------------------------------

reliability_summary = cached(reliability.reliability_summary, maxsize=32)
credit_summary = cached(credit.credit_summary, maxsize=32)
tier_summary = cached(value.tier_summary, maxsize=32)

# ---- collections, disputes, promises, the invoice workspace -----------------------------------

outstanding_composition = cached(collections.outstanding_composition)
dispute_cycle_time = cached(collections.dispute_cycle_time)
promise_adherence = cached(collections.promise_adherence)
collections_activity = cached(collections.collections_activity, maxsize=64)
invoice_workspace = cached(collections.invoice_workspace, maxsize=64)
workspace_pulse = cached(collections.workspace_pulse)

# ---- the payment forecast -----------------------------------------------------------------------

due_date_forecast = cached(forecast.due_date_forecast)
behaviour_forecast = cached(forecast.behaviour_forecast)
forecast_invoices = cached(forecast.forecast_invoices, maxsize=16)


@cached(maxsize=32)
def forecast_backtest(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None,
    scope: Scope | None,
    dates: int,
    weeks: int,
) -> dict[str, Any]:
    """forecast_backtest at the `dates` default past dates before as_of, `weeks` ahead (the slowest
    call of the forecast page)."""
    past = forecast.default_backtest_dates(as_of, dates)
    return forecast.forecast_backtest(snap, past, filters, scope, weeks, as_of=as_of)


def chosen_weekly(
    snap: Snapshot, as_of: dt.date, filters: Filters | None, scope: Scope | None, weeks: int
) -> tuple[Any, bool, str]:
    """The forecast page's weekly frame, whether it is the model's and why (forecast.chosen_weekly
    on the cached behaviour forecast; the model's parts are cached in predict_ui). The page, its
    chart view and its PDF sheet share it."""
    base = behaviour_forecast(snap, as_of, filters, scope, weeks)
    return forecast.chosen_weekly(snap, as_of, filters, scope, weeks, base=base)
