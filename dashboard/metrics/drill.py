"""The rows behind any figure of the UI (the drill-downs): the KPI contract's drill keys
(`tables.DRILLS`) and the extra keys the pages drill into, each cached in the one cache."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.metrics import tables
from dashboard.metrics.cache import cached
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import at_risk_accounts
from dashboard.metrics.snapshot import Snapshot


@cached(maxsize=8, shared=False)  # up to every invoice: per process
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


def drill_plan_any(
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
) -> tables.RowsPlan | None:
    """drill_any's rows as a plan (tables.drill_plan: count, exact totals, first rows on demand),
    with the same arguments; None for the keys without one (their rows: drill_any)."""
    if key in tables.DRILLS:
        return tables.drill_plan(
            snap, key, as_of, period_days, filters, scope, bucket, customer_id, terms_group_name
        )
    if key == "credit_sales_mtd":
        return tables.drill_plan(snap, "credit_sales", as_of, as_of.day, filters, scope)
    if key == "collections_mtd":
        return tables.drill_plan(snap, "collections", as_of, as_of.day, filters, scope)
    if key == "credit_sales_year":
        return tables.drill_plan(snap, "credit_sales", as_of, 365, filters, scope)
    if key in ("month_sales", "month_collections", "ar_at"):
        start, end = month_span(month, as_of)
        if key == "ar_at":
            return tables.drill_plan(snap, "total_ar", end, period_days, filters, scope)
        base = "credit_sales" if key == "month_sales" else "collections"
        return tables.drill_plan(snap, base, end, (end - start).days + 1, filters, scope)
    if key == "at_risk":
        return None
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
