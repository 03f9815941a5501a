"""Credit utilization (Retailer "Credit Utilization" tab): limit use, risk level and recommended action.

Rules are in docs/analytics.md; the thresholds are compared on exact integer cents, so 50.00 %
is Low and 50.01 % is Moderate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.behaviour import (
    YEAR_DAYS,
    add_months,
    avg_days_to_pay,
    customer_columns,
    first_invoice_day,
    nullable_cents,
    percent,
    round2,
    round_cents,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import customer_balances
from dashboard.metrics.ledger import limits_at, open_items, select
from dashboard.metrics.snapshot import NO_DATE, Snapshot, sum_by, to_day

RISK_LEVELS = ("Low", "Moderate", "High", "Critical", "Over Limit")
HOLD = "HOLD ORDERS - Collect payment before processing"
INCREASE = "CONSIDER INCREASE - Good payment history"
MONITOR = "MONITOR CLOSELY - New customer"
REVIEW = "REVIEW - Low utilization or inactive"
NO_ACTION = "NO ACTION - Within normal range"
STANDARD = "STANDARD TERMS - No limit set"
ACTIONS = (HOLD, INCREASE, MONITOR, REVIEW, NO_ACTION, STANDARD)
GOOD_PAYER_DAYS = 45  # CONSIDER INCREASE: average days to pay at most this
NEW_ACCOUNT_MONTHS = 6  # MONITOR CLOSELY: account younger than this
OLD_ACCOUNT_MONTHS = 12  # REVIEW: account older than this


def risk_level(outstanding: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """'' without a limit; Low; Moderate > 50 %; High > 75 %; Critical > 90 %; Over Limit > 100 % (exact cents)."""
    o = np.asarray(outstanding, dtype=np.int64)
    lim = np.asarray(limit, dtype=np.int64)
    has = lim > 0
    return np.select(
        [~has, o > lim, o * 10 > lim * 9, o * 4 > lim * 3, o * 2 > lim],
        ["", "Over Limit", "Critical", "High", "Moderate"],
        default="Low",
    ).astype(object)


def recommended_action(
    outstanding: np.ndarray,
    limit: np.ndarray,
    days_to_pay: np.ndarray,
    account_start: np.ndarray,
    day: int,
) -> np.ndarray:
    """The Retailer recommendation, first match wins (see ACTIONS and docs/analytics.md).

    STANDARD TERMS without a limit; then HOLD ORDERS over the limit; CONSIDER INCREASE above 80 %
    with average days to pay <= 45; MONITOR CLOSELY above 75 % with an account younger than 6 months;
    REVIEW below 10 % with an account older than 12 months; else NO ACTION. account_start holds day
    numbers (NO_DATE when unknown: never new, never old).
    """
    o = np.asarray(outstanding, dtype=np.int64)
    lim = np.asarray(limit, dtype=np.int64)
    dtp = np.asarray(days_to_pay, dtype=np.float64)
    start = np.asarray(account_start, dtype=np.int64)
    as_of = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    new_since = to_day(add_months(as_of, -NEW_ACCOUNT_MONTHS))
    old_before = to_day(add_months(as_of, -OLD_ACCOUNT_MONTHS))
    known = start != NO_DATE
    with np.errstate(invalid="ignore"):
        good_payer = ~np.isnan(dtp) & (dtp <= GOOD_PAYER_DAYS)
    return np.select(
        [
            lim <= 0,
            o > lim,
            (o * 5 > lim * 4) & good_payer,
            (o * 4 > lim * 3) & known & (start > new_since),
            (o * 10 < lim) & known & (start < old_before),
        ],
        [STANDARD, HOLD, INCREASE, MONITOR, REVIEW],
        default=NO_ACTION,
    ).astype(object)


def account_start(snap: Snapshot) -> npt.NDArray[np.int64]:
    """Per customer: the earlier of created_on and the first invoice's issue date (NO_DATE if neither)."""
    created = snap.created_on.astype(np.int64)
    return np.minimum(created, first_invoice_day(snap))


def _had_balance(snap: Snapshot, inv: np.ndarray, day: int, window: int) -> np.ndarray:
    """Customers (mask) with a positive open balance at the end of some day in (day - window, day]."""
    issue = snap.issue[inv].astype(np.int64)
    settle = snap.settle[inv].astype(np.int64)
    first_day = day - window + 1
    m = (issue <= day) & (np.maximum(issue, first_day) < settle)
    out = np.zeros(snap.n_customers, dtype=bool)
    out[snap.inv_cust[inv[m]]] = True
    return out


def credit_utilization(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """One row per customer with an outstanding balance at some point in the last 12 months."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    outstanding = customer_balances(items, snap)
    cust = np.flatnonzero(_had_balance(snap, sel.inv, day, YEAR_DAYS) & sel.cust_mask)
    in_year = (snap.issue > day - YEAR_DAYS) & (snap.issue <= day) & (snap.inv_cust >= 0)
    sales = sum_by(snap.inv_cust[in_year], snap.inv_base[in_year], snap.n_customers)
    paid = (snap.pay_date > day - YEAR_DAYS) & (snap.pay_date <= day) & (snap.pay_cust >= 0)
    payments = sum_by(snap.pay_cust[paid], snap.pay_base[paid], snap.n_customers)
    dtp, _ = avg_days_to_pay(snap, sel.cust_mask, day, YEAR_DAYS)
    start = account_start(snap)
    limit = limits_at(snap, day)
    utilization = np.where(limit > 0, outstanding / np.maximum(limit, 1), -1.0)
    # highest use first, no limit last
    cust = cust[np.lexsort((cust, -outstanding[cust], -utilization[cust]))]
    lim = limit[cust]
    o = outstanding[cust]
    has = lim > 0
    return pd.DataFrame(
        {
            **customer_columns(snap, cust),
            "credit_limit_cents": lim,
            "limit_status": np.where(has, "LIMITED", "NO LIMIT").astype(object),
            "outstanding_cents": o,
            "utilization_pct": np.where(has, percent(o, lim), np.nan),
            "available_credit_cents": nullable_cents(lim - o, has),
            "payments_12m_cents": payments[cust],
            "sales_12m_cents": sales[cust],
            "avg_monthly_sales_cents": round_cents(sales[cust], 12),
            "avg_days_to_pay": round2(dtp[cust]),
            "risk_level": risk_level(o, lim),
            "recommended_action": recommended_action(o, lim, dtp[cust], start[cust], day),
        }
    )


def credit_summary(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> dict[str, Any]:
    """Tile data: average utilization over customers with a limit (Retailer), counts per risk level and action."""
    table = credit_utilization(snap, as_of, filters, scope)
    limited = table[table["limit_status"] == "LIMITED"]
    raw = (
        limited["outstanding_cents"].to_numpy()
        / np.maximum(limited["credit_limit_cents"].to_numpy(), 1)
        * 100
    )
    return {
        "customers": len(table),
        "customers_with_limit": len(limited),
        "avg_utilization_pct": float(round2(raw.mean())) if len(limited) else None,
        "risk_levels": {
            level: int((limited["risk_level"] == level).sum()) for level in RISK_LEVELS
        },
        "actions": {
            action: int((table["recommended_action"] == action).sum()) for action in ACTIONS
        },
    }
