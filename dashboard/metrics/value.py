"""Customer value (Retailer "Customer Value" tab): 12-month revenue, gross profit, margin and value tier.

Tiers are (name, min_cents, max_cents or None) with inclusive bounds, defined and validated in
dashboard/data/tiers.py (where they are stored). Customers whose revenue is 0 or below, or falls
in no tier, are "Standard".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.data.tiers import DEFAULT_TIERS, STANDARD_TIER, Tier
from dashboard.metrics.behaviour import (
    YEAR_DAYS,
    avg_days_to_pay,
    customer_columns,
    nullable_cents,
    percent,
    round2,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.ledger import select
from dashboard.metrics.snapshot import Snapshot, sum_by, to_day


def assign_tiers(revenue: np.ndarray, tiers: Sequence[Tier] = DEFAULT_TIERS) -> np.ndarray:
    """The tier of each revenue (cents): the first tier whose [min, max] holds it; 'Standard' for <= 0 or none."""
    rev = np.asarray(revenue, dtype=np.int64)
    out = np.full(len(rev), STANDARD_TIER, dtype=object)
    free = rev > 0
    for name, low, high in tiers:
        hit = free & (rev >= low) & ((rev <= high) if high is not None else True)
        out[hit] = name
        free &= ~hit
    return out


def customer_value(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    tiers: Sequence[Tier] | None = None,
) -> pd.DataFrame:
    """One row per selected customer invoiced on or before D, by 12-month revenue (largest first)."""
    tiers = tuple(tiers) if tiers is not None else DEFAULT_TIERS
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    n = snap.n_customers
    known = (snap.inv_cust >= 0) & (snap.issue <= day)
    known[known] = sel.cust_mask[snap.inv_cust[known]]
    year = known & (snap.issue > day - YEAR_DAYS)
    cust_of = snap.inv_cust
    # base currency at each issue date's rate
    revenue = sum_by(cust_of[year], snap.inv_base[year], n)
    costed = year & snap.has_cost
    costed_revenue = sum_by(cust_of[costed], snap.inv_base[costed], n)
    cost_base = (
        convert(snap.cost[costed], snap.inv_rate_issue[costed]) if snap.multi else snap.cost[costed]
    )
    cost = sum_by(cust_of[costed], cost_base, n)
    has_cost = np.bincount(cust_of[costed], minlength=n) > 0
    invoiced = np.bincount(cust_of[known], minlength=n) > 0
    dtp, _ = avg_days_to_pay(snap, sel.cust_mask, day, YEAR_DAYS)
    cust = np.flatnonzero(invoiced & sel.cust_mask)
    cust = cust[np.lexsort((cust, -revenue[cust]))]  # largest revenue first
    total = int(revenue[cust].sum())
    gp = costed_revenue - cost
    return pd.DataFrame(
        {
            **customer_columns(snap, cust),
            "revenue_12m_cents": revenue[cust],
            "costed_revenue_12m_cents": costed_revenue[cust],
            "gross_profit_cents": nullable_cents(gp[cust], has_cost[cust]),
            "margin_pct": np.where(has_cost[cust], percent(gp[cust], costed_revenue[cust]), np.nan),
            "value_tier": assign_tiers(revenue[cust], tiers),
            "avg_payment_days": round2(dtp[cust]),
            "share_of_turnover_pct": percent(revenue[cust], np.full(len(cust), total))
            if total
            else np.full(len(cust), np.nan),
        }
    )


def tier_summary(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    tiers: Sequence[Tier] | None = None,
) -> pd.DataFrame:
    """Customers and 12-month revenue per tier (tiers in their order, then Standard)."""
    tiers = tuple(tiers) if tiers is not None else DEFAULT_TIERS
    table = customer_value(snap, as_of, filters, scope, tiers)
    names = [t[0] for t in tiers] + [STANDARD_TIER]
    rows = []
    for name in names:
        part = table[table["value_tier"] == name]
        rows.append(
            {
                "value_tier": name,
                "customers": len(part),
                "revenue_12m_cents": int(part["revenue_12m_cents"].sum()),
            }
        )
    frame = pd.DataFrame(rows)
    total = int(frame["revenue_12m_cents"].sum())
    frame["share_of_turnover_pct"] = (
        percent(frame["revenue_12m_cents"].to_numpy(), np.full(len(frame), total))
        if total
        else np.nan
    )
    return frame
