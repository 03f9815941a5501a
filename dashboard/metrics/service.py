"""Cached entry points of the analytics pages' figures (the pages and their exports call these).

Each is the metrics function of the same name memoised in the one cache (`dashboard.metrics.cache`),
keyed by data version, scope, filters, as-of and every other argument; a page and the export of
the same chart share the entry. `maxsize` is how many requests of that function are kept: tables
of one row per customer or invoice keep few, small summaries more. The drill-downs are in
`metrics.drill`, the commission figures in `metrics.commissions` (`cached_*`), the predictions in
`metrics.predict_ui`; they use the same cache.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any, TypedDict

import numpy as np

from dashboard.metrics import account, collections, credit, forecast, reliability, tables, value
from dashboard.metrics.behaviour import delay_sums, settle_order
from dashboard.metrics.cache import cached
from dashboard.metrics.filters import TERMS_GROUPS, Filters, Scope
from dashboard.metrics.kpis import compute_kpis, month_start
from dashboard.metrics.kpis import period_speed as _period_speed
from dashboard.metrics.ledger import (
    ALL_CUSTOMERS,
    ATTRIBUTE_TOTALS,
    attribute_codes,
    attribute_totals,
    customer_invoices,
    customer_mask,
    month_end_ar,
    select,
)
from dashboard.metrics.snapshot import Snapshot, to_day

# ---- Receivables Health and Account 360 ----------------------------------------------------------

kpis = cached(compute_kpis)


def derived_arrays(snap: Snapshot) -> Iterator[str]:
    """Build (once per version and machine) or map the arrays stored beside a version's columns
    that a filtered or past-date Receivables Health uses, one at a time (yields each one's name):
    each filter value's customers, each segment's, region's, tier's and terms group's selection,
    each customer's invoices (a rep's selection), the running sums of payment delays and the
    invoices in settle order, and AR at every month end (the trends) of every customer and of
    each stored selection."""
    attribute_codes(snap, "sales_rep")
    yield "codes_sales_rep"
    for name in ATTRIBUTE_TOTALS:
        attribute_totals(snap, name)
        yield f"attribute_{name}"
    customer_invoices(snap)
    yield "customer_invoices"
    delay_sums(snap)
    yield "delay_sums"
    settle_order(snap)
    yield "settle_order"
    for name in (ALL_CUSTOMERS, *ATTRIBUTE_TOTALS):
        month_end_ar(snap, name)
        yield f"month_end_ar_{name}"


period_speed = cached(_period_speed)
aging_by_terms_group = cached(tables.aging_by_terms_group)
aging_reconciliation = cached(tables.aging_reconciliation)
at_risk_accounts = cached(tables.at_risk_accounts)
at_risk_summary = cached(tables.at_risk_summary)
monthly_trend = cached(tables.monthly_trend)
account_360 = cached(account.account_360)


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


# ---- figures beyond the KPI contract -----------------------------------------------------------------------------


def previous_as_of(as_of: dt.date, period_days: int) -> dt.date:
    """The end of the previous period: as_of - P."""
    return as_of - dt.timedelta(days=period_days)


class MonthToDate(TypedDict):
    """month_to_date's answer."""

    month_start: dt.date
    period_days: int
    credit_sales_cents: int
    collections_cents: int


@cached
def month_to_date(snap: Snapshot, as_of: dt.date, filters: Filters, scope: Scope) -> MonthToDate:
    """Credit sales and collections from the 1st of as_of's month to as_of (cents)."""
    sel = select(snap, filters, scope)
    start, end = to_day(month_start(as_of)) - 1, to_day(as_of)
    return {
        "month_start": month_start(as_of),
        "period_days": as_of.day,
        "credit_sales_cents": sel.between(sel.cum_sales, start, end),
        "collections_cents": sel.between(sel.cum_collections, start, end),
    }


@cached
def kpi_inputs(
    snap: Snapshot, as_of: dt.date, period_days: int, filters: Filters, scope: Scope
) -> dict[str, int]:
    """The inputs of CEI and turnover the contract does not list: AR at D-P and D-365, sales in 365 days."""
    sel = select(snap, filters, scope)
    d = to_day(as_of)
    return {
        "ar_start_cents": sel.ar(d - period_days),
        "ar_year_ago_cents": sel.ar(d - 365),
        "sales_year_cents": sel.between(sel.cum_sales, d - 365, d),
    }


@cached
def filter_options(snap: Snapshot, scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """(value, label) choices for each customer-attribute filter, within the scope only."""
    mask = customer_mask(snap, Filters(), scope)

    def values(column: np.ndarray) -> list[tuple[str, str]]:
        found = sorted({str(v) for v in column[mask] if v})
        return [(v, v) for v in found]

    rep_names = {}
    if len(snap.reps):
        rep_names = dict(
            zip(snap.reps["sales_rep_id"].astype(str), snap.reps["name"].astype(str), strict=True)
        )
    reps = sorted({str(v) for v in snap.cust_rep[mask] if v})
    return {
        "segment": values(snap.segment),
        "region": values(snap.region),
        "tier": values(snap.tier),
        "sales_rep": sorted(
            ((r, rep_names.get(r, r)) for r in reps), key=lambda item: (item[1], item[0])
        ),
        "terms_group": [(g, TERMS_GROUP_LABELS[g]) for g in TERMS_GROUPS],
    }


TERMS_GROUP_LABELS = {"short": "Short terms (< 30 days)", "long": "30-day+ terms"}


@cached
def currency_for(snap: Snapshot, filters: Filters, scope: Scope, default: str = "USD") -> str:
    """The currency figures are shown in: the base currency when the ledger has several, else the
    selected customers' (the most common one), else default."""
    if snap.multi:
        return snap.base_currency
    mask = customer_mask(snap, filters, scope)
    found = Counter(str(c).upper() for c in snap.currency[mask] if c)
    return found.most_common(1)[0][0] if found else default


@cached
def customers_with_limit(snap: Snapshot, filters: Filters, scope: Scope) -> int:
    """How many selected customers have a credit limit."""
    mask = customer_mask(snap, filters, scope)
    return int(np.count_nonzero(mask & (snap.credit_limit > 0)))
