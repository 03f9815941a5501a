"""Account 360: everything about one customer as of a date, JSON-ready."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics.behaviour import customer_days_to_pay
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import DUE_BUCKETS, due_bucket_index
from dashboard.metrics.ledger import applied_at, customer_mask, revalue, unapplied_items
from dashboard.metrics.numbers import mean_days, money, ratio
from dashboard.metrics.snapshot import KIND_PAYMENT, NO_DATE, Snapshot, from_day, sum_by, to_day
from dashboard.metrics.tables import customer_unapplied, month_ends, terms_label

BEHAVIOUR_DAYS = 90  # per-customer DSO and days late look at the last three months (LeanPay)


def _iso(day: int) -> str | None:
    return None if day == NO_DATE else from_day(day).isoformat()


def in_scope(snap: Snapshot, customer_id: str, scope: Scope) -> int | None:
    """The customer's position if it exists and the scope allows it, else None."""
    pos = snap.cust_index.get(customer_id)
    if pos is None or not customer_mask(snap, Filters(), scope)[pos]:
        return None
    return pos


def _invoices(
    snap: Snapshot, c: int, day: int
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    inv = np.flatnonzero((snap.inv_cust == c) & (snap.issue <= day))
    inv = inv[np.argsort(-snap.issue[inv].astype(np.int64), kind="stable")]
    balance = np.where(snap.is_cn[inv], 0, snap.amount[inv] - applied_at(snap, inv, day))
    records = []
    for i, b in zip(inv, balance, strict=True):
        dpd = day - int(snap.due[i])
        if snap.is_cn[i]:
            status = "CREDIT NOTE"
        elif b <= 0:
            status = "PAID"
        elif dpd > 0:
            status = "OVERDUE"
        else:
            status = "OPEN"
        records.append(
            {
                "invoice_id": snap.inv_ids[i],
                "issue_date": _iso(snap.issue[i]),
                "due_date": _iso(snap.due[i]),
                "amount": money(snap.amount[i]),
                "balance": money(max(int(b), 0)),
                "over_applied": money(max(-int(b), 0)),
                "days_past_due": max(dpd, 0) if b > 0 else 0,
                "status": status,
                "disputed": bool(snap.disputed[i]),
                "settled_on": _iso(snap.settle[i]) if snap.settle[i] <= day else None,
            }
        )
    return records, inv, balance


def _base_balances(
    snap: Snapshot, records: list[dict[str, Any]], inv: np.ndarray, balance: np.ndarray, day: int
) -> np.ndarray:
    """Add each invoice's currency and open balance in the base currency at day's rate; return those."""
    base = revalue(snap, balance, snap.inv_cur[inv], day)
    codes = (
        np.array(snap.rates.codes, dtype=object)[snap.inv_cur[inv].astype(np.int64)]
        if len(inv)
        else []
    )
    for record, code, value in zip(records, codes, base, strict=True):
        record["currency"] = code
        record["balance_base"] = money(int(value))
    return np.asarray(base, dtype=np.int64)


def _payments(snap: Snapshot, c: int, day: int) -> list[dict[str, Any]]:
    pay = np.flatnonzero((snap.pay_cust == c) & (snap.pay_date <= day))
    pay = pay[np.argsort(-snap.pay_date[pay].astype(np.int64), kind="stable")]
    used = (snap.alloc_pay >= 0) & (snap.alloc_date <= day)
    allocated = sum_by(snap.alloc_pay[used], snap.alloc_amount[used], len(snap.pay_ids))
    return [
        {
            "payment_id": snap.pay_ids[p],
            "date": _iso(snap.pay_date[p]),
            "amount": money(snap.pay_amount[p]),
            "unapplied": money(snap.pay_amount[p] - allocated[p]),
            "currency": snap.rates.codes[int(snap.pay_cur[p])],
            "amount_base": money(int(snap.pay_base[p])),  # at the rate of the payment's date
        }
        for p in pay
    ]


def _frame_records(
    frame: pd.DataFrame,
    c: int,
    day: int,
    date_col: str,
    money_cols: list[str],
    date_cols: list[str],
) -> list[dict[str, Any]]:
    rows = frame[(frame["cust"] == c) & (frame[date_col] <= day)].sort_values(
        date_col, ascending=False
    )
    out = []
    for row in rows.to_dict("records"):
        rec = {
            str(k): v
            for k, v in row.items()
            if k not in ("inv", "cust") and not str(k).endswith("_cents")
        }
        for col in money_cols:
            rec[col.removesuffix("_cents")] = money(row[col])
        for col in date_cols:
            rec[col] = _iso(int(row[col]))
        out.append(rec)
    return out


def _promise_status(promise: dict[str, Any], snap: Snapshot, day: int) -> str:
    """kept: a payment settled the invoice in full by the promised date; broken: not, and the date has passed."""
    inv = snap.inv_index.get(promise["invoice_id"])
    promised = to_day(dt.date.fromisoformat(promise["promised_date"]))
    if (
        inv is not None
        and snap.settle[inv] <= min(promised, day)
        and snap.settle_kind[inv] == KIND_PAYMENT
    ):
        return "kept"
    return "broken" if promised < day else "open"


def _behaviour(snap: Snapshot, c: int, day: int, balance: int) -> dict[str, Any]:
    """Days to pay, days late and DSO; DSO in base cents (balance at day's rate, sales at each
    invoice's issue-date rate), so a customer with invoices in several currencies adds like units."""
    inv = np.flatnonzero((snap.inv_cust == c) & ~snap.is_cn)
    paid = inv[(snap.settle[inv] <= day) & (snap.settle_kind[inv] == KIND_PAYMENT)]
    recent = paid[snap.settle[paid] > day - BEHAVIOUR_DAYS]
    window = (snap.inv_cust == c) & (snap.issue > day - BEHAVIOUR_DAYS) & (snap.issue <= day)
    sales = int(snap.inv_base[window].sum())
    settle = snap.settle.astype(np.int64)
    return {
        # the same function as Credit utilization and Customer value, so the three screens agree
        "avg_days_to_pay": customer_days_to_pay(snap, c, day),
        "avg_days_late_90d": mean_days(
            int(np.maximum(settle[recent] - snap.due[recent], 0).sum()), len(recent)
        ),
        "dso_90d": ratio(balance, sales, BEHAVIOUR_DAYS),
    }


def _trend(snap: Snapshot, c: int, as_of: dt.date) -> list[dict[str, Any]]:
    """Invoiced and paid per month, in the transaction currency and in base (each item at its date's rate)."""
    rows = []
    for start, end in month_ends(as_of, 12):
        s, e = to_day(start), to_day(end)
        inv = (snap.inv_cust == c) & (snap.issue >= s) & (snap.issue <= e)
        pay = (snap.pay_cust == c) & (snap.pay_date >= s) & (snap.pay_date <= e)
        rows.append(
            {
                "month": start.strftime("%Y-%m"),
                "invoiced": money(snap.amount[inv].sum()),
                "paid": money(snap.pay_amount[pay].sum()),
                "invoiced_base": money(snap.inv_base[inv].sum()),
                "paid_base": money(snap.pay_base[pay].sum()),
            }
        )
    return rows


def account_360(
    snap: Snapshot, customer_id: str, as_of: dt.date, scope: Scope
) -> dict[str, Any] | None:
    """Summary boxes, items, promises, disputes, activities, aging, trend and behaviour; None if out of scope."""
    c = in_scope(snap, customer_id, scope)
    if c is None:
        return None
    day = to_day(as_of)
    invoices, inv, balance = _invoices(snap, c, day)
    open_mask = (balance > 0) & ~snap.is_cn[inv]
    total = int(balance[open_mask].sum())
    base_open = _base_balances(snap, invoices, inv, np.where(open_mask, balance, 0), day)[open_mask]
    base_total = int(base_open.sum())
    dpd = day - snap.due[inv[open_mask]].astype(np.int64)
    aging = sum_by(due_bucket_index(dpd), balance[open_mask], len(DUE_BUCKETS))
    payments = _payments(snap, c, day)
    promises = _frame_records(
        snap.promises, c, day, "made_on", ["amount_cents"], ["made_on", "promised_date"]
    )
    for promise in promises:
        promise["status"] = _promise_status(promise, snap, day)
    disputes = _frame_records(
        snap.disputes, c, day, "opened_on", ["amount_cents"], ["opened_on", "resolved_on"]
    )
    for dispute in disputes:
        if dispute["resolved_on"] and dispute["resolved_on"] > as_of.isoformat():
            dispute["resolved_on"], dispute["status"] = None, "open"
    activities = _frame_records(snap.activities, c, day, "date", [], ["date"])
    year_start = to_day(as_of.replace(month=1, day=1))
    # the denominator is the turnover the user may see: the whole company for unrestricted roles,
    # the rep's or group's own portfolio otherwise (no company totals leak through a ratio)
    visible = customer_mask(snap, Filters(), scope)
    year = (snap.issue >= year_start) & (snap.issue <= day) & (snap.inv_cust >= 0)
    year &= visible[np.maximum(snap.inv_cust, 0)]
    limit = int(snap.credit_limit[c])
    behaviour = _behaviour(snap, c, day, base_total)
    credits = unapplied_items(snap, day)
    return {
        "customer_id": customer_id,
        "name": snap.cust_name[c],
        "segment": snap.segment[c],
        "region": snap.region[c],
        "tier": snap.tier[c],
        "sales_rep_id": snap.cust_rep[c],
        "as_of": as_of.isoformat(),
        "summary": {
            "total_outstanding": money(total),
            "last_payment_date": payments[0]["date"] if payments else None,
            "last_payment_amount": payments[0]["amount"] if payments else None,
            "last_payment_amount_base": payments[0]["amount_base"] if payments else None,
            "terms": terms_label(snap, np.array([c]))[0],
            "average_days_to_pay": behaviour["avg_days_to_pay"],
            "credit_limit": money(limit) if limit > 0 else None,
            "overdue": money(int(balance[open_mask][dpd > 0].sum())),
            "utilization_pct": ratio(total, limit, 100) if limit > 0 else None,
            # in the base currency
            "unapplied_credits": money(int(customer_unapplied(snap, day)[c])),
            "unapplied_credits_in_currency": money(int(credits.own[credits.cust == c].sum())),
            "overdue_base": money(int(base_open[dpd > 0].sum())),
            "currency": snap.rates.codes[int(snap.cust_cur[c])],
            "base_currency": snap.base_currency,
            "total_outstanding_base": money(base_total),
        },
        "dso_90d": behaviour["dso_90d"],
        "avg_days_late_90d": behaviour["avg_days_late_90d"],
        # in base at issue-date rates: customers in other currencies add up in like units
        "share_of_turnover_pct": ratio(
            int(snap.inv_base[year & (snap.inv_cust == c)].sum()),
            int(snap.inv_base[year].sum()),
            100,
        ),
        "aging_due": {k: money(v) for k, v in zip(DUE_BUCKETS, aging, strict=True)},
        "invoices": invoices,
        "payments": payments,
        "promises": promises,
        "disputes": disputes,
        "activities": activities,
        "trend": _trend(snap, c, as_of),
    }
