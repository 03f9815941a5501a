"""Customer value (Retailer "Customer Value" tab): 12-month revenue, gross profit, margin and value tier.

Tiers are (name, min_cents, max_cents or None) with inclusive bounds; `validate_tiers` refuses
overlaps, gaps, inverted ranges and duplicate names. Customers whose revenue is 0 or below, or falls
in no tier, are "Standard".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

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
from dashboard.metrics.numbers import money
from dashboard.metrics.snapshot import Snapshot, sum_by, to_day

Tier = tuple[str, int, int | None]
STANDARD_TIER = "Standard"
DEFAULT_TIERS: tuple[Tier, ...] = (
    ("Bronze", 0, 999_999),
    ("Silver", 1_000_000, 4_999_999),
    ("Gold", 5_000_000, 24_999_999),
    ("Platinum", 25_000_000, None),
)
MAX_NAME = 50


def _range_text(low: int, high: int | None) -> str:
    return f"{money(low)}-{money(high)}" if high is not None else f"{money(low)}+"


def validate_tiers(tiers: Sequence[Tier]) -> list[str]:
    """Every problem with a tier list (empty when it is usable).

    Checks: at least one tier; names present, unique (case-insensitive), not 'Standard', at most 50
    characters; bounds whole cents, min >= 0, min <= max; no two ranges share a cent (Bronze 0-500 and
    Silver 500-1000 overlap at 500.00); consecutive ranges continuous to the cent (a gap leaves those
    revenues Standard), starting at 0.00 or 0.01 and ending open (max None).
    """
    errors: list[str] = []
    if not tiers:
        return ["at least one tier is required"]
    clean: list[Tier] = []
    seen: dict[str, str] = {}
    for i, tier in enumerate(tiers):
        try:
            name, low, high = tier
        except (TypeError, ValueError):
            errors.append(f"tier {i + 1}: expected (name, min_cents, max_cents)")
            continue
        label = str(name or "").strip()
        if not label:
            errors.append(f"tier {i + 1}: a name is required")
        elif len(label) > MAX_NAME:
            errors.append(f"tier {label!r}: name longer than {MAX_NAME} characters")
        elif label.lower() == STANDARD_TIER.lower():
            errors.append(f"tier {label!r}: 'Standard' is reserved for customers in no tier")
        elif label.lower() in seen:
            errors.append(f"duplicate tier name {label!r}")
        seen.setdefault(label.lower(), label)
        bad = [v for v in (low, high) if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer))]
        if low is None or bad:
            errors.append(f"tier {label or i + 1}: bounds must be whole cents (max may be empty)")
            continue
        if low < 0:
            errors.append(f"tier {label}: minimum {money(low)} is below 0.00")
        if high is not None and low > high:
            errors.append(f"tier {label}: minimum {money(low)} is above maximum {money(high)}")
            continue
        clean.append((label, int(low), None if high is None else int(high)))
    for a in range(len(clean)):
        for b in range(a + 1, len(clean)):
            (na, la, ha), (nb, lb, hb) = clean[a], clean[b]
            highs = [h for h in (ha, hb) if h is not None]
            lo, hi = max(la, lb), (min(highs) if highs else None)
            if hi is None or lo <= hi:
                where = f"at {money(lo)}" if hi == lo else f"from {money(lo)}" + (f" to {money(hi)}" if hi is not None else "")
                errors.append(f"tiers {na} ({_range_text(la, ha)}) and {nb} ({_range_text(lb, hb)}) overlap {where}")
    if clean and not any(e.startswith("tiers ") for e in errors):
        ordered = sorted(clean, key=lambda t: t[1])
        if ordered[0][1] > 1:
            errors.append(f"gap below {ordered[0][0]}: revenue 0.01-{money(ordered[0][1] - 1)} would be Standard")
        for (na, _, ha), (nb, lb, _) in zip(ordered, ordered[1:], strict=False):
            if ha is not None and lb > ha + 1:
                errors.append(f"gap between {na} and {nb}: revenue {money(ha + 1)}-{money(lb - 1)} would be Standard")
        top = ordered[-1]
        if top[2] is not None:
            errors.append(f"gap above {top[0]}: revenue from {money(top[2] + 1)} would be Standard (leave the highest maximum empty)")
    return errors


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
    revenue = sum_by(cust_of[year], snap.inv_base[year], n)  # base currency at each issue date's rate
    costed = year & snap.has_cost
    costed_revenue = sum_by(cust_of[costed], snap.inv_base[costed], n)
    cost_base = convert(snap.cost[costed], snap.inv_rate_issue[costed]) if snap.multi else snap.cost[costed]
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
            "share_of_turnover_pct": percent(revenue[cust], np.full(len(cust), total)) if total else np.full(len(cust), np.nan),
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
        rows.append({"value_tier": name, "customers": len(part), "revenue_12m_cents": int(part["revenue_12m_cents"].sum())})
    frame = pd.DataFrame(rows)
    total = int(frame["revenue_12m_cents"].sum())
    frame["share_of_turnover_pct"] = percent(frame["revenue_12m_cents"].to_numpy(), np.full(len(frame), total)) if total else np.nan
    return frame
