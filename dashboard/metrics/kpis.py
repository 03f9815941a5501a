"""The KPI contract of shared/BRIEF.md: one JSON-ready dict for an as-of date, filters and scope."""

from __future__ import annotations

import calendar
import datetime as dt
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from dashboard.metrics.behaviour import settled_in_window
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.ledger import (
    OpenItems,
    Selection,
    limits_at,
    open_items,
    select,
    unapplied_items,
)
from dashboard.metrics.numbers import mean_days, money, ratio
from dashboard.metrics.snapshot import KIND_PAYMENT, Snapshot, sum_by, to_day

DUE_BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")
DUE_EDGES = np.array([0, 30, 60, 90])
TRANSACTION_BUCKETS = ("current", "1_month", "2_months", "3+_months")
COUNTBACK_MONTHS = 24
# a selection holding this share of the invoices or more finds those settled in a window in the
# stored settle order (behaviour.settle_order) rather than in a pass over its own invoices
SETTLE_ORDER_SHARE = 0.2


def due_bucket_index(days_past_due: np.ndarray, edges: np.ndarray = DUE_EDGES) -> np.ndarray:
    """Bucket of each days-past-due value; upper bounds inclusive (0 = not due)."""
    return np.searchsorted(edges, days_past_due, side="left")


def months_since_issue(snap: Snapshot, inv: np.ndarray, as_of: dt.date) -> npt.NDArray[np.int32]:
    """Whole calendar months from each invoice's issue date to as_of (16 Apr to 10 May is 0)."""
    ymd: npt.NDArray[np.int32] = snap.issue_ymd[inv]
    months = (as_of.year - ymd[:, 0]) * 12 + (as_of.month - ymd[:, 1])
    return months - (as_of.day < ymd[:, 2])


def transaction_bucket_index(
    snap: Snapshot, inv: np.ndarray, as_of: dt.date
) -> npt.NDArray[np.int32]:
    """0 current, 1 one month, 2 two months, 3 three or more months: months_since_issue clipped to
    0-3, from the issue day alone (k or more whole months exactly when issued on or before the
    date k months before as_of: its day of the month, or that month's last day)."""
    edges = [to_day(months_before(as_of, k)) for k in (3, 2, 1)]
    index: npt.NDArray[np.int32] = 3 - np.searchsorted(edges, snap.issue[inv], side="left").astype(
        np.int32
    )
    return index


def months_before(day: dt.date, months: int) -> dt.date:
    """The date `months` calendar months before day (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def aging_due(items: OpenItems, snap: Snapshot) -> dict[str, int]:
    """Open balances by days past due (cents)."""
    idx = due_bucket_index(items.day - snap.due[items.inv].astype(np.int64))
    sums = sum_by(idx, items.balance, len(DUE_BUCKETS))
    return dict(zip(DUE_BUCKETS, (int(v) for v in sums), strict=True))


def aging_transaction(items: OpenItems, snap: Snapshot, as_of: dt.date) -> dict[str, int]:
    """Open balances by whole months since issue (cents)."""
    idx = transaction_bucket_index(snap, items.inv, as_of)
    sums = sum_by(idx, items.balance, len(TRANSACTION_BUCKETS))
    return dict(zip(TRANSACTION_BUCKETS, (int(v) for v in sums), strict=True))


def customer_balances(items: OpenItems, snap: Snapshot) -> np.ndarray:
    """Each customer's share of total AR at D (cents, indexed by customer position)."""
    return sum_by(items.cust, items.balance, snap.n_customers)


def top_debtors(snap: Snapshot, balances: np.ndarray, limit: int = 10) -> list[dict[str, Any]]:
    """Up to `limit` customers by open balance, largest first, ties by id."""
    owing = np.flatnonzero(balances > 0)
    if len(owing) > limit:
        kth = np.partition(balances[owing], len(owing) - limit)[len(owing) - limit]
        owing = owing[balances[owing] >= kth]
    ranked = sorted(owing, key=lambda c: (-int(balances[c]), snap.cust_ids[c]))[:limit]
    return [
        {"customer_id": snap.cust_ids[c], "name": snap.cust_name[c], "balance": money(balances[c])}
        for c in ranked
    ]


def distinct(customers: np.ndarray, n_customers: int) -> int:
    """How many different customers (positions) are named: a mark per customer, no sort."""
    seen = np.zeros(n_customers, dtype=bool)
    seen[customers] = True
    return int(np.count_nonzero(seen))


def month_start(day: dt.date) -> dt.date:
    """First day of the month of day."""
    return day.replace(day=1)


def previous_month_end(day: dt.date) -> dt.date:
    """Last day of the month before day's month."""
    return month_start(day) - dt.timedelta(days=1)


def dso_countback(sel: Selection, as_of: dt.date, total_ar: int) -> float | None:
    """Count-back DSO: exhaust AR against each month's credit sales, newest month first."""
    remaining = total_ar
    days = Fraction(0)
    end = as_of
    for _ in range(COUNTBACK_MONTHS):
        if remaining <= 0:
            return ratio(days, 1)
        start = month_start(end)
        span = (end - start).days + 1
        sales = sel.between(sel.cum_sales, to_day(start) - 1, to_day(end))
        if sales <= 0:
            return None
        if remaining > sales:
            days += span
            remaining -= sales
        else:
            days += Fraction(remaining, sales) * span
            remaining = 0
        end = start - dt.timedelta(days=1)
    return ratio(days, 1) if remaining <= 0 else None


def payment_timing(
    snap: Snapshot, sel: Selection, start: int, end: int
) -> tuple[float | None, float | None, np.ndarray]:
    """Mean days to pay and days late over invoices settled by a payment in (start, end] (and
    those invoices, not in position order)."""
    if len(sel.inv) >= SETTLE_ORDER_SHARE * len(snap.settle):
        inv, to_pay, late = settled_in_window(snap, sel.cust_mask, start, end)
        return mean_days(to_pay, len(inv)), mean_days(late, len(inv)), inv
    inv = sel.inv[(sel.inv_settle > start) & (sel.inv_settle <= end) & (sel.inv_issue <= end)]
    inv = inv[snap.settle_kind[inv] == KIND_PAYMENT]
    to_pay = (snap.settle[inv].astype(np.int64) - snap.issue[inv]).sum()
    late = np.maximum(snap.settle[inv].astype(np.int64) - snap.due[inv], 0).sum()
    return mean_days(int(to_pay), len(inv)), mean_days(int(late), len(inv)), inv


def compute_kpis(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Every key of the KPI contract for as_of, the period (as_of - P, as_of], filters and scope."""
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    sel = select(snap, filters, scope)
    d = to_day(as_of)
    p = period_days
    items = open_items(sel, d)
    overdue = snap.due[items.inv] < d
    total_ar, overdue_ar = ar_split(items, overdue)
    not_due_ar = total_ar - overdue_ar
    balances = customer_balances(items, snap)
    credit_sales = sel.between(sel.cum_sales, d - p, d)
    collections = sel.between(sel.cum_collections, d - p, d)
    write_offs = sel.between(sel.cum_write_offs, d - p, d)
    ar_start = sel.ar(d - p)
    ar_year_ago = sel.ar(d - 365)
    sales_year = sel.between(sel.cum_sales, d - 365, d)
    limits = limits_at(snap, d)
    credits = sel.at(sel.cum_unapplied, d) if not snap.multi else unapplied_total(sel, d)
    avg_to_pay, avg_late, _ = payment_timing(snap, sel, d - p, d)
    fast = speed(total_ar, not_due_ar, credit_sales, ar_start, p)
    return {
        "as_of": as_of.isoformat(),
        "period_days": p,
        "total_ar": money(total_ar),
        "overdue_ar": money(overdue_ar),
        "not_due_ar": money(not_due_ar),
        "unapplied_credits": money(credits),
        "customers_with_balance": int(np.count_nonzero(balances > 0)),
        "customers_overdue": distinct(items.cust[overdue], snap.n_customers),
        "aging_due": {k: money(v) for k, v in aging_due(items, snap).items()},
        "aging_transaction": {
            k: money(v) for k, v in aging_transaction(items, snap, as_of).items()
        },
        "credit_sales": money(credit_sales),
        "collections": money(collections),
        "dso": fast["dso"],
        "best_possible_dso": ratio(not_due_ar, credit_sales, p),
        "add": ratio(overdue_ar, credit_sales, p),
        "dso_countback": dso_countback(sel, as_of, total_ar),
        "cei": fast["cei"],
        "ar_turnover": ratio(sales_year, Fraction(ar_year_ago + total_ar, 2)),
        "bad_debt_ratio": ratio(write_offs, credit_sales, 100),
        "customers_over_limit": int(
            np.count_nonzero((limits > 0) & (balances > limits) & sel.cust_mask)
        ),
        "avg_days_to_pay": avg_to_pay,
        "avg_days_late": avg_late,
        "top_debtors": top_debtors(snap, balances),
        **currency_keys(snap, sel, items, total_ar),
    }


def speed(
    total_ar: int, not_due_ar: int, credit_sales: int, ar_start: int, p: int
) -> dict[str, float | None]:
    """The contract's dso and cei from their inputs (one home: compute_kpis and period_speed)."""
    return {
        "dso": ratio(total_ar, credit_sales, p),
        "cei": ratio(ar_start + credit_sales - total_ar, ar_start + credit_sales - not_due_ar, 100),
    }


def period_speed(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> dict[str, float | None]:
    """compute_kpis' dso and cei alone (the previous period's, beside the current one): the open
    items at as_of and two running totals, none of the contract's other keys."""
    sel = select(snap, filters, scope)
    d, p = to_day(as_of), period_days
    items = open_items(sel, d)
    total_ar, overdue_ar = ar_split(items, snap.due[items.inv] < d)
    credit_sales = sel.between(sel.cum_sales, d - p, d)
    return speed(total_ar, total_ar - overdue_ar, credit_sales, sel.ar(d - p), p)


def ar_split(items: OpenItems, overdue: np.ndarray) -> tuple[int, int]:
    """(total AR, overdue AR) of the open items, overdue marking those past due."""
    return int(items.balance.sum()), int(items.balance[overdue].sum())


def unapplied_total(sel: Selection, day: int) -> int:
    """Unapplied credits of the selection in base cents, each item revalued at day."""
    items = unapplied_items(sel.snap, day)
    return int(items.base[sel.cust_mask[items.cust]].sum())


def currency_keys(
    snap: Snapshot, sel: Selection, items: OpenItems, total_ar: int
) -> dict[str, Any]:
    """base_currency, by_currency (own units), total_ar_at_booking_rates and fx_revaluation."""
    booked = int(revalue_at_issue(snap, items).sum())
    return {
        "base_currency": snap.base_currency,
        "by_currency": by_currency(snap, sel, items),
        "total_ar_at_booking_rates": money(booked),
        "fx_revaluation": money(total_ar - booked),
    }


def revalue_at_issue(snap: Snapshot, items: OpenItems) -> np.ndarray:
    """Each open balance converted at the rate of its invoice's issue date (base cents)."""
    if not snap.multi:
        return items.own
    out = np.asarray(items.own, dtype=np.int64).copy()
    foreign = np.flatnonzero(items.cur != 0)  # base-currency balances are their own value
    out[foreign] = convert(out[foreign], snap.inv_rate_issue[items.inv[foreign]])
    return out


def by_currency(snap: Snapshot, sel: Selection, items: OpenItems) -> dict[str, Any]:
    """{code: {total_ar, overdue_ar, not_due_ar, unapplied_credits}} in each currency's own units."""
    groups = len(snap.rates.codes)
    overdue = snap.due[items.inv] < items.day
    total = sum_by(items.cur.astype(np.int64), items.own, groups)
    late = sum_by(items.cur[overdue].astype(np.int64), items.own[overdue], groups)
    credits = unapplied_items(snap, items.day)
    mine = sel.cust_mask[credits.cust]
    unapplied = sum_by(credits.cur[mine], credits.own[mine], groups)
    return {
        code: {
            "total_ar": money(total[g]),
            "overdue_ar": money(late[g]),
            "not_due_ar": money(total[g] - late[g]),
            "unapplied_credits": money(unapplied[g]),
        }
        for g, code in enumerate(snap.rates.codes)
        if total[g] or unapplied[g]
    }


def days_in_month(day: dt.date) -> int:
    """Number of days in day's month."""
    return calendar.monthrange(day.year, day.month)[1]


__all__ = ["compute_kpis", "DUE_BUCKETS", "TRANSACTION_BUCKETS", "select"]
