"""Payment reliability over the last 6 months (Retailer "Payment Reliability" tab).

Score: the amount-weighted share of the customer's invoices issued in the window that was paid on
time, with partial credit for late payment that decays linearly to nothing at 90 days late.

For every positive invoice issued in (D - 6 months, D], each amount that reduced it on or before D:
- a payment allocation dated on or before the due date earns full credit; one L days late earns
  (90 - L) / 90 of its amount (nothing from 90 days late on);
- a write-off earns nothing (the customer did not pay it);
- a credit note is left out (the customer never owed it).
The part still open at D earns nothing when the invoice is overdue (due date < D) and is left out
while it is not yet due (it cannot be judged yet). Score = credit / assessed amount x 100,
rounded to 2 decimals; the category is read off the rounded score (see CATEGORIES).

With several currencies every amount is in base cents, each item converted and rounded first:
payments and write-offs applied at the rate of their application date, the part still open at
D's rate, invoiced amounts at the issue date's rate, payments received at their date's rate. So
the score of a customer with invoices in several currencies, and the portfolio score weighted by
assessed amounts, add like units. One currency gives exactly the single-currency figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics.behaviour import add_months, customer_columns, round2
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.ledger import open_items, select
from dashboard.metrics.snapshot import KIND_PAYMENT, KIND_WRITE_OFF, Snapshot, sum_by, to_day

WINDOW_MONTHS = 6
LATE_ZERO_DAYS = 90  # a payment this many days late (or more) earns no credit
CATEGORIES = (("Excellent", 95.0), ("Good", 85.0), ("Average", 70.0), ("Poor", 50.0))
AT_RISK, NO_ACTIVITY = "At Risk", "No Activity"
CATEGORY_ORDER = ("At Risk", "Poor", "Average", "Good", "Excellent", "No Activity")


def reliability_category(score: np.ndarray) -> np.ndarray:
    """Excellent >= 95, Good >= 85, Average >= 70, Poor >= 50, else At Risk; NaN score -> No Activity."""
    s = np.asarray(score, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        conds = [np.isnan(s)] + [s >= low for _, low in CATEGORIES]
    return np.select(
        conds, [NO_ACTIVITY] + [name for name, _ in CATEGORIES], default=AT_RISK
    ).astype(object)


def late_credit(amount: np.ndarray, days_late: np.ndarray) -> np.ndarray:
    """Credit of amounts paid days_late after the due date: full when <= 0, (90 - L)/90, 0 from 90."""
    late = np.clip(np.asarray(days_late, dtype=np.int64), 0, LATE_ZERO_DAYS)
    return np.asarray(amount, dtype=np.float64) * (LATE_ZERO_DAYS - late) / LATE_ZERO_DAYS


def window_start(as_of: dt.date, months: int = WINDOW_MONTHS) -> int:
    """Day number of the window's exclusive start (D - months, calendar months)."""
    return to_day(add_months(as_of, -months))


def _base(snap: Snapshot, cents: np.ndarray, cur: np.ndarray, days: np.ndarray | int) -> np.ndarray:
    """Amounts in their currencies as base cents at each day's rate (unchanged with one currency)."""
    if not snap.multi:
        return cents
    days = np.broadcast_to(np.asarray(days, dtype=np.int64), np.shape(cents))
    return convert(cents, snap.rates.on(np.asarray(cur, dtype=np.int64), days))


def payment_reliability(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    months: int = WINDOW_MONTHS,
) -> pd.DataFrame:
    """One row per selected customer that invoiced in the window or owes at D; worst payers first."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    start = window_start(as_of, months)
    n = snap.n_customers
    inv = sel.inv[(sel.inv_issue > start) & (sel.inv_issue <= day)]
    in_window = np.zeros(len(snap.inv_ids), dtype=bool)
    in_window[inv] = True
    apps = in_window[snap.app_inv] & (snap.app_date <= day)
    a_inv, a_kind = snap.app_inv[apps], snap.app_kind[apps]
    a_amt = _base(snap, snap.app_amount[apps], snap.inv_cur[a_inv], snap.app_date[apps])
    a_cust = snap.inv_cust[a_inv]
    pay = a_kind == KIND_PAYMENT
    late = snap.app_date[apps].astype(np.int64) - snap.due[a_inv]
    credit = np.bincount(a_cust[pay], weights=late_credit(a_amt[pay], late[pay]), minlength=n)
    assessed = sum_by(
        a_cust[pay | (a_kind == KIND_WRITE_OFF)], a_amt[pay | (a_kind == KIND_WRITE_OFF)], n
    )
    applied = sum_by(a_inv, snap.app_amount[apps], len(snap.inv_ids))[inv]
    remaining = _base(snap, np.maximum(snap.amount[inv] - applied, 0), snap.inv_cur[inv], day)
    overdue = snap.due[inv] < day
    cust_inv = snap.inv_cust[inv]
    assessed = assessed + sum_by(cust_inv[overdue], remaining[overdue], n)
    invoiced = sum_by(cust_inv, snap.inv_base[inv], n)
    count = np.bincount(cust_inv, minlength=n)
    outstanding = sum_by(cust_inv, remaining, n)
    paid_days = (snap.pay_date > start) & (snap.pay_date <= day) & (snap.pay_cust >= 0)
    paid = sum_by(snap.pay_cust[paid_days], snap.pay_base[paid_days], n)
    on_time = sum_by(a_cust[pay & (late <= 0)], a_amt[pay & (late <= 0)], n)
    items = open_items(sel, day)
    owes = sum_by(items.cust, items.balance, n) > 0
    cust = np.flatnonzero(((count > 0) | owes) & sel.cust_mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = round2(
            np.where(assessed[cust] > 0, credit[cust] / np.maximum(assessed[cust], 1) * 100, np.nan)
        )
        on_time_pct = round2(
            np.where(
                assessed[cust] > 0, on_time[cust] / np.maximum(assessed[cust], 1) * 100, np.nan
            )
        )
    # worst first
    order = np.lexsort((cust, -outstanding[cust], np.where(np.isnan(score), np.inf, score)))
    cust, score, on_time_pct = cust[order], score[order], on_time_pct[order]
    return pd.DataFrame(
        {
            **customer_columns(snap, cust),
            "reliability_score": score,
            "on_time_pct": on_time_pct,
            "invoices_6m": count[cust],
            "total_invoiced_6m_cents": invoiced[cust],
            "total_paid_6m_cents": paid[cust],
            "outstanding_6m_cents": outstanding[cust],
            "assessed_6m_cents": assessed[cust],
            "risk_category": reliability_category(score),
        }
    )


def reliability_summary(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> dict[str, Any]:
    """Customers per risk category and the amount-weighted portfolio score."""
    table = payment_reliability(snap, as_of, filters, scope)
    scored = table[table["assessed_6m_cents"] > 0]
    weights = scored["assessed_6m_cents"].to_numpy(dtype=np.float64)
    portfolio = (
        float(round2((scored["reliability_score"].to_numpy() * weights).sum() / weights.sum()))
        if weights.sum() > 0
        else None
    )
    return {
        "customers": len(table),
        "categories": {c: int((table["risk_category"] == c).sum()) for c in CATEGORY_ORDER},
        "portfolio_score": portfolio,
    }
