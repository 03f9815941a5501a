"""Small pure metrics the UI needs beyond the KPI contract, and their cached entry points.

Everything here is a pure function of (snapshot, as_of, filters, scope, ...), memoised in the one
cache of the metrics layer (`dashboard.metrics.cache`), so a page showing ten figures computes each
once per (data version, scope, filters, as_of) however many users and callbacks ask for it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TypedDict

import numpy as np
import pandas as pd

from dashboard.metrics import account, tables
from dashboard.metrics.cache import cached
from dashboard.metrics.filters import TERMS_GROUPS, Filters, Scope
from dashboard.metrics.kpis import compute_kpis, month_start
from dashboard.metrics.ledger import customer_mask, select
from dashboard.metrics.snapshot import Snapshot, to_day

# ---- cached entry points of the metrics engine (same signatures, positional args) -------------

kpis = cached(compute_kpis)
aging_by_terms_group = cached(tables.aging_by_terms_group)
aging_reconciliation = cached(tables.aging_reconciliation)
at_risk_accounts = cached(tables.at_risk_accounts)
monthly_trend = cached(tables.monthly_trend)
account_360 = cached(account.account_360)


@cached(maxsize=8)
def drill_rows(
    snap: Snapshot,
    key: str,
    as_of: dt.date,
    period_days: int,
    filters: Filters,
    scope: Scope,
    bucket: str | None = None,
    customer_id: str | None = None,
    terms_group_name: str | None = None,
) -> pd.DataFrame:
    """tables.drill, cached."""
    return tables.drill(
        snap,
        key,
        as_of,
        period_days,
        filters,
        scope,
        bucket=bucket,
        customer_id=customer_id,
        terms_group_name=terms_group_name,
    )


# ---- extra figures -----------------------------------------------------------------------------


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


# ---- drill-downs beyond tables.DRILLS ----------------------------------------------------------

# Extra keys the UI drills into; each maps to tables.drill with another as-of date or period.
UI_DRILLS = (
    "credit_sales_mtd",
    "collections_mtd",
    "credit_sales_year",
    "month_sales",
    "month_collections",
    "ar_at",
    "at_risk",
)


def drill_any(
    snap: Snapshot,
    key: str,
    as_of: dt.date,
    period_days: int,
    filters: Filters,
    scope: Scope,
    bucket: str | None = None,
    customer_id: str | None = None,
    terms_group_name: str | None = None,
    month: str | None = None,
) -> pd.DataFrame:
    """The rows behind any figure of the UI; `amount_cents` sums to the figure clicked."""
    if key in tables.DRILLS:
        return drill_rows(
            snap, key, as_of, period_days, filters, scope, bucket, customer_id, terms_group_name
        )
    if key == "credit_sales_mtd":
        return drill_rows(snap, "credit_sales", as_of, as_of.day, filters, scope)
    if key == "collections_mtd":
        return drill_rows(snap, "collections", as_of, as_of.day, filters, scope)
    if key == "credit_sales_year":
        return drill_rows(snap, "credit_sales", as_of, 365, filters, scope)
    if key in ("month_sales", "month_collections", "ar_at"):
        start, end = month_span(month, as_of)
        if key == "ar_at":
            return drill_rows(snap, "total_ar", end, period_days, filters, scope)
        base = "credit_sales" if key == "month_sales" else "collections"
        return drill_rows(snap, base, end, (end - start).days + 1, filters, scope)
    if key == "at_risk":
        table = at_risk_accounts(snap, as_of, filters, scope)
        columns = [
            "customer_id",
            "customer_name",
            "reason",
            "terms",
            "credit_limit_cents",
            "utilization_pct",
            "overdue_60_plus_cents",
            "overdue_90_plus_cents",
            "amount_cents",
            "sales_rep_id",
        ]
        return table[[c for c in columns if c in table.columns]]
    raise ValueError(f"unknown figure: {key!r}")


def month_span(month: str | None, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of a "YYYY-MM" month, the month of as_of cut at as_of."""
    if not month:
        raise ValueError("month required")
    year, number = (int(part) for part in month.split("-"))
    start = dt.date(year, number, 1)
    nxt = dt.date(year + (number == 12), number % 12 + 1, 1)
    end = min(nxt - dt.timedelta(days=1), as_of)
    if end < start:
        raise ValueError(f"month {month} is after the as-of date")
    return start, end


def all_drill_keys() -> tuple[str, ...]:
    """Every key drill_any understands."""
    return (*tables.DRILLS, *UI_DRILLS)
