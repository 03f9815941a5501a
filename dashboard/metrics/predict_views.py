"""What the predictions are used for: predicted aging, the expected-loss worklist, cohort curves.

All are pure functions of (snapshot, as_of, filters, scope, predictions); money is int64 cents and
each expected amount is rounded half up per invoice before it is summed, so every total ties to its rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics import predict as pm
from dashboard.metrics.behaviour import (
    DISPUTE_NONE,
    customer_columns,
    dispute_state,
    invoice_rank,
    to_dates,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.ledger import OpenItems, open_balances, select
from dashboard.metrics.snapshot import KIND_PAYMENT, NO_DATE, Snapshot, sum_by, to_day

AGING_BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")
AHEAD_DAYS = (0, 30, 60)
COHORT_MONTHS = 24


def half_up(values: np.ndarray) -> np.ndarray:
    """Non-negative floats rounded half up to whole cents."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


def aging_index(days_past_due: np.ndarray) -> np.ndarray:
    """Index into AGING_BUCKETS (upper bounds inclusive, as the KPI contract)."""
    x = np.asarray(days_past_due, dtype=np.int64)
    return np.select([x <= 0, x <= 30, x <= 60, x <= 90], [0, 1, 2, 3], default=4)


def scoped(
    snap: Snapshot, pred: pm.Predictions, filters: Filters | None, scope: Scope | None
) -> pm.Predictions:
    """The predictions of the customers the filters leave within the scope."""
    return pm.restrict(pred, snap, select(snap, filters, scope).cust_mask)


def expected_open(pred: pm.Predictions, days: int) -> np.ndarray:
    """Per invoice: expected balance still open `days` after the as-of date (cents, half up)."""
    if days == 0:
        return pred.balance.copy()
    return half_up(pred.balance * (1 - pred.p(days)))


def predicted_aging(snap: Snapshot, pred: pm.Predictions) -> pd.DataFrame:
    """Aging buckets today and as expected 30 and 60 days ahead (invoices open today only; new sales not included)."""
    due = snap.due[pred.inv].astype(np.int64)
    rows = []
    for ahead in AHEAD_DAYS:
        amounts = sum_by(
            aging_index(pred.day + ahead - due), expected_open(pred, ahead), len(AGING_BUCKETS)
        )
        rows += [
            {"ahead_days": ahead, "bucket": b, "amount_cents": int(a)}
            for b, a in zip(AGING_BUCKETS, amounts, strict=True)
        ]
    return pd.DataFrame(rows)


# ---- the worklist ---------------------------------------------------------------------------------


def reasons(snap: Snapshot, pred: pm.Predictions, rows: np.ndarray | None = None) -> np.ndarray:
    """Why each invoice (of pred, or only pred's rows `rows`) ranks where it does, in a clerk's
    words (most important first). The customer's figures (share 90+ days past due, open invoices)
    are over every open invoice of the customer in pred, not only over the rows explained."""
    rows = np.arange(len(pred.inv)) if rows is None else np.asarray(rows, dtype=np.int64)
    # in each invoice's currency (pred.balance is in the base)
    book = OpenItems(pred.day, pred.inv, pred.balance, pred.cust, np.zeros(0), np.zeros(0))
    inv = pred.inv[rows]
    own = open_balances(snap, inv, pred.day)
    items = OpenItems(pred.day, inv, pred.balance[rows], pred.cust[rows], own, snap.inv_cur[inv])
    x = pm.features(snap, pred.day, items, book)
    col = {name: x[:, k] for k, name in enumerate(pm.FEATURES)}
    p30 = pred.p(30)[rows]
    out = []
    for i in range(len(inv)):
        out.append("; ".join(_reason_parts({k: v[i] for k, v in col.items()}, p30[i], pred.day)))
    return np.array(out, dtype=object)


def _reason_parts(f: dict[str, Any], p30: float, day: int) -> list[str]:
    """The phrases of one invoice's reason."""
    parts = [f"{(1 - p30) * 100:.0f} % chance it is not paid within 30 days"]
    if f["dispute"] >= 2:
        parts.append("in litigation")
    elif f["dispute"] >= 1:
        parts.append("in dispute")
    if f["promise_broken"] > 0:
        parts.append(f"promise to pay broken {int(-f['promise_days'])} days ago")
    elif not np.isnan(f["promise_days"]):
        parts.append(f"payment promised in {int(f['promise_days'])} days")
    dpd = int(f["days_past_due"])
    parts.append(
        f"{dpd} days past due" if dpd > 0 else f"due in {-dpd} days" if dpd < 0 else "due today"
    )
    if np.isnan(f["cust_delay"]):
        parts.append("customer has paid no invoice in the last 12 months")
    elif f["cust_delay"] >= 5:
        parts.append(f"customer usually pays {f['cust_delay']:.0f} days late")
    elif f["cust_delay"] <= -3:
        parts.append(f"customer usually pays {-f['cust_delay']:.0f} days early")
    else:
        parts.append("customer usually pays on time")
    if f["cust_share_90_plus"] >= 0.25:
        parts.append(
            f"{f['cust_share_90_plus'] * 100:.0f} % of the customer's balance is 90+ days past due"
        )
    if f["paid_share"] > 0:
        parts.append(f"{f['paid_share'] * 100:.0f} % already paid")
    return parts


def worklist(snap: Snapshot, pred: pm.Predictions, limit: int | None = None) -> pd.DataFrame:
    """Open invoices ranked by expected loss = open balance x P(not paid within 30 days), with the reason."""
    loss = half_up(pred.balance * (1 - pred.p(30)))
    order = ranked(loss, invoice_rank(snap)[pred.inv], limit or None)
    sub = _take(pred, order)
    due = snap.due[sub.inv].astype(np.int64)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(sub.inv) + 1),
            "invoice_id": snap.inv_ids[sub.inv],
            **customer_columns(snap, sub.cust),
            "due_date": to_dates(due),
            "days_past_due": sub.day - due,
            "balance_cents": sub.balance,
            "p_paid_30": np.round(sub.p(30), 4),
            "expected_loss_cents": loss[order],
            "expected_date": to_dates(sub.expected),
            "reason": reasons(snap, pred, order),
        }
    )


def ranked(loss: np.ndarray, rank: np.ndarray, limit: int | None) -> np.ndarray:
    """Positions by loss, largest first, ties by rank; only the first `limit` when given (the
    `limit` largest are found without sorting the rest)."""
    candidates = np.arange(len(loss))
    if limit is not None and len(loss) > limit:
        if limit <= 0:
            return candidates[:0]
        kth = np.partition(loss, len(loss) - limit)[len(loss) - limit]
        candidates = np.flatnonzero(loss >= kth)
    order = candidates[np.lexsort((rank[candidates], -loss[candidates]))]
    return order[:limit] if limit is not None else order


def _take(pred: pm.Predictions, order: np.ndarray) -> pm.Predictions:
    """The rows of pred in the given order."""
    return pm.Predictions(
        pred.day,
        pred.inv[order],
        pred.balance[order],
        pred.cust[order],
        pred.cdf[order],
        pred.expected[order],
        pred.low[order],
        pred.high[order],
        pred.source,
    )


def prediction_rows(snap: Snapshot, pred: pm.Predictions) -> list[dict[str, Any]]:
    """The CLI/API objects, one per open invoice in invoice id order (money as a 2-decimal string)."""
    order = np.argsort(invoice_rank(snap)[pred.inv], kind="stable")
    pred = _take(pred, order)
    dates = {k: to_dates(v) for k, v in (("e", pred.expected), ("l", pred.low), ("h", pred.high))}
    rows = []
    for i in range(len(pred.inv)):
        cents = int(pred.balance[i])
        rows.append(
            {
                "invoice_id": str(snap.inv_ids[pred.inv[i]]),
                "customer_id": str(snap.cust_ids[pred.cust[i]]),
                "open_balance": f"{cents // 100}.{cents % 100:02d}",
                "p_paid_7": round(float(pred.p(7)[i]), 4),
                "p_paid_30": round(float(pred.p(30)[i]), 4),
                "p_paid_90": round(float(pred.p(90)[i]), 4),
                **{
                    key: (d[i].isoformat() if d[i] is not None else None)
                    for key, d in (
                        ("expected_date", dates["e"]),
                        ("expected_date_low", dates["l"]),
                        ("expected_date_high", dates["h"]),
                    )
                },
            }
        )
    return rows


# ---- cohorts --------------------------------------------------------------------------------------


def _month_no(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of day numbers."""
    return (
        np.asarray(days, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def _payments_capped(snap: Snapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(invoice, date, cents) of payment applications, each capped so an invoice never collects over its amount."""
    m = snap.app_kind == KIND_PAYMENT
    inv, day, amount = (
        snap.app_inv[m],
        snap.app_date[m].astype(np.int64),
        snap.app_amount[m].astype(np.int64),
    )
    if not len(inv):
        return inv, day, amount
    cum = np.cumsum(amount)
    starts = np.flatnonzero(np.r_[True, inv[1:] != inv[:-1]])
    before = np.repeat(np.r_[0, cum[starts[1:] - 1]], np.diff(np.r_[starts, len(inv)]))
    running = cum - before  # paid on this invoice up to and including the row
    limit = np.maximum(snap.amount[inv], 0)
    credited = np.clip(np.minimum(running, limit) - np.minimum(running - amount, limit), 0, None)
    return inv, day, credited


def at_issue_rate(snap: Snapshot, inv: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Amounts of invoices inv (in their own currency) as base cents at each invoice's issue-date rate.

    Cohorts compare what an invoice collected with what it was worth, so both are converted at the
    same (booking) rate, item by item, and the shares are not moved by exchange rates.
    """
    if not snap.multi:
        return np.asarray(cents, dtype=np.int64)
    return convert(np.asarray(cents, dtype=np.int64), snap.inv_rate_issue[inv])


def cohort_invoices(snap: Snapshot, day: int, cust_mask: np.ndarray, months: int) -> np.ndarray:
    """Positive invoices issued in the last `months` calendar months up to day, of the selected customers."""
    first = _month_no(np.array([day]))[0] - months + 1
    m = (~snap.is_cn) & (snap.inv_cust >= 0) & (snap.issue <= day) & (snap.issue != NO_DATE)
    m[m] = cust_mask[snap.inv_cust[m]]
    m[m] = _month_no(snap.issue[m]) >= first
    return np.flatnonzero(m)


def cohorts(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    months: int = COHORT_MONTHS,
) -> dict[str, pd.DataFrame]:
    """Invoices by issue month: share of value collected by months since issue, and share unpaid 90+ days past due.

    `curve`: cohort, months_since, collected_cents (payments dated on or before the end of that month
    and on or before D, capped at each invoice's amount), invoiced_cents, share. `summary`: per cohort
    invoiced, collected to date, and unpaid_90_cents = Σ open balances 90 days after due over the
    invoices whose due date + 90 is on or before D (`matured_cents` their amounts).
    """
    day = to_day(as_of)
    sel = select(snap, filters, scope)
    inv = cohort_invoices(snap, day, sel.cust_mask, months)
    now = _month_no(np.array([day]))[0]
    base = _month_no(np.array([day]))[0] - months + 1
    cohort = _month_no(snap.issue[inv]) - base
    amount = at_issue_rate(snap, inv, snap.amount[inv])
    n_coh = months
    invoiced = sum_by(cohort, amount, n_coh)
    pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
    pos[inv] = np.arange(len(inv))
    p_inv, p_day, p_amt = _payments_capped(snap)
    keep = (p_day <= day) & (pos[p_inv] >= 0) if len(p_inv) else np.zeros(0, dtype=bool)
    rows = pos[p_inv[keep]]
    p_amt = p_amt.copy()
    p_amt[keep] = at_issue_rate(snap, p_inv[keep], p_amt[keep])
    since = np.maximum(_month_no(p_day[keep]) - (cohort[rows] + base), 0)
    grid = sum_by(
        cohort[rows] * n_coh + np.minimum(since, n_coh - 1), p_amt[keep], n_coh * n_coh
    ).reshape(n_coh, n_coh)
    cum = np.cumsum(grid, axis=1)
    curve = []
    for c in range(n_coh):
        if invoiced[c] <= 0:
            continue
        for k in range(0, now - (base + c) + 1):
            curve.append(
                {
                    "cohort": _label(base + c),
                    "months_since": k,
                    "collected_cents": int(cum[c, k]),
                    "invoiced_cents": int(invoiced[c]),
                    "share": float(cum[c, k] / invoiced[c]),
                }
            )
    due = snap.due[inv].astype(np.int64)
    matured = due + 90 <= day
    unpaid = np.zeros(len(inv), dtype=np.int64)
    for at in np.unique(due[matured] + 90):
        sub = matured & (due + 90 == at)
        unpaid[sub] = at_issue_rate(
            snap, inv[sub], np.maximum(open_balances(snap, inv[sub], int(at)), 0)
        )
    summary = pd.DataFrame(
        {
            "cohort": [_label(base + c) for c in range(n_coh)],
            "invoices": np.bincount(cohort, minlength=n_coh),
            "invoiced_cents": invoiced,
            "collected_cents": cum[:, -1],
            "matured_cents": sum_by(cohort[matured], amount[matured], n_coh),
            "unpaid_90_cents": sum_by(cohort, unpaid, n_coh),
        }
    )
    summary = summary[summary["invoiced_cents"] > 0].reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["unpaid_90_share"] = np.where(
            summary["matured_cents"] > 0,
            summary["unpaid_90_cents"] / summary["matured_cents"],
            np.nan,
        )
    return {
        "curve": pd.DataFrame(
            curve, columns=["cohort", "months_since", "collected_cents", "invoiced_cents", "share"]
        ),
        "summary": summary,
    }


def cohort_cell(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None,
    scope: Scope | None,
    cohort: str,
    months_since: int,
    months: int = COHORT_MONTHS,
) -> pd.DataFrame:
    """The invoices of one cohort with what each had collected by the end of month `months_since` (and by D)."""
    day = to_day(as_of)
    sel = select(snap, filters, scope)
    inv = cohort_invoices(snap, day, sel.cust_mask, months)
    year, month = (int(p) for p in cohort.split("-"))
    c_no = (year - 1970) * 12 + month - 1
    inv = inv[_month_no(snap.issue[inv]) == c_no]
    inv = inv[np.argsort(invoice_rank(snap)[inv], kind="stable")]
    end_month = c_no + months_since
    last_day = (
        int(
            np.datetime64(
                f"{1970 + (end_month + 1) // 12:04d}-{(end_month + 1) % 12 + 1:02d}-01"
            ).astype(np.int64)
        )
        - 1
    )
    cutoff = min(last_day, day)
    p_inv, p_day, p_amt = _payments_capped(snap)
    pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
    pos[inv] = np.arange(len(inv))
    keep = (p_day <= cutoff) & (pos[p_inv] >= 0) if len(p_inv) else np.zeros(0, dtype=bool)
    collected = sum_by(pos[p_inv[keep]], at_issue_rate(snap, p_inv[keep], p_amt[keep]), len(inv))

    return pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, snap.inv_cust[inv]),
            "issue_date": to_dates(snap.issue[inv]),
            "due_date": to_dates(snap.due[inv]),
            "invoice_amount_cents": at_issue_rate(snap, inv, snap.amount[inv]),
            "amount_cents": collected,
            "open_at_as_of_cents": at_issue_rate(
                snap, inv, np.maximum(open_balances(snap, inv, day), 0)
            ),
        }
    )


def _label(month_no: int) -> str:
    """'YYYY-MM' of a month number."""
    return f"{1970 + month_no // 12:04d}-{month_no % 12 + 1:02d}"


# ---- the model's weekly cash forecast -------------------------------------------------------------


def weekly_parts(pred: pm.Predictions, weeks: int) -> np.ndarray:
    """(invoices, weeks) cents each invoice is expected to bring in each week (week 1 = D+1..D+7), half up."""
    from dashboard.metrics.predict_backtest import cdf_at  # lazy (a): it imports this module

    if not len(pred.inv):
        return np.zeros((0, weeks), dtype=np.int64)
    share = np.diff(cdf_at(pred.cdf, 7 * np.arange(0, weeks + 1)), axis=1)
    return half_up(pred.balance[:, None] * np.clip(share, 0, 1))


def model_weekly_frame(pred: pm.Predictions, behaviour: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """The weeks and Later rows of forecast.behaviour_forecast's frame, with expected_cents from the
    model: week k = Σ balance x P(paid in week k), Later = the rest of total AR (paid after the
    horizon or never, as the model sees it).

    The model has no part of its own for what history says is not collectable nor for disputes: it
    predicts every open invoice, disputed ones too. So the behaviour frame's two rows for them are
    left out rather than shown as 0 (in_dispute_cents tells how much of total AR is in dispute);
    expected_cents still sums to total AR. No promise is added on its own (promised_cents = 0), and
    by_due_date_cents (the naive forecast, never in those two rows) is kept.
    """
    parts = weekly_parts(pred, weeks)
    per_week = parts.sum(axis=0).astype(np.int64)
    later = int(pred.balance.sum()) - int(per_week.sum())
    out = behaviour.iloc[: weeks + 1].copy()
    out["expected_cents"] = np.r_[per_week, later].astype(np.int64)
    out["promised_cents"] = 0
    return out


def in_dispute_cents(snap: Snapshot, pred: pm.Predictions) -> int:
    """The part of the model's total AR (pred.balance) on invoices in dispute or litigation at pred.day;
    the model's forecast includes it (not a separate part of total AR as in the behaviour forecast)."""
    disputed = dispute_state(snap, pred.day)[pred.inv] != DISPUTE_NONE
    return int(pred.balance[disputed].sum())


def model_week_rows(snap: Snapshot, pred: pm.Predictions, bucket: str, weeks: int) -> pd.DataFrame:
    """The invoices behind one bar of the model's weekly forecast (amount_cents sums to the bar)."""
    parts = weekly_parts(pred, weeks)
    if bucket.startswith("Week ") and bucket[5:].isdigit() and 1 <= int(bucket[5:]) <= weeks:
        amount = parts[:, int(bucket[5:]) - 1]
    elif bucket == "Later":
        amount = pred.balance - parts.sum(axis=1)
    else:
        raise ValueError(f"unknown bucket: {bucket!r}")
    keep = amount != 0
    order = np.argsort(invoice_rank(snap)[pred.inv[keep]], kind="stable")
    inv = pred.inv[keep][order]
    return pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, pred.cust[keep][order]),
            "due_date": to_dates(snap.due[inv]),
            "p_paid_30": np.round(pred.p(30)[keep][order], 4),
            "expected_date": to_dates(pred.expected[keep][order]),
            "balance_cents": pred.balance[keep][order],
            "amount_cents": amount[keep][order],
        }
    )
