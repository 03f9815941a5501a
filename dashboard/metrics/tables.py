"""Row-level tables behind the figures: open invoices, per-customer aging, drill-downs, trends.

Money columns are int64 cents and end in `_cents`; in every drill-down table `amount_cents` is the
row's contribution to the figure clicked, so the rows always sum to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics import columns
from dashboard.metrics.behaviour import invoice_rank
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import (
    DUE_BUCKETS,
    TRANSACTION_BUCKETS,
    due_bucket_index,
    month_start,
    months_since_issue,
    payment_timing,
    transaction_bucket_index,
)
from dashboard.metrics.kpis import (
    customer_balances as balances_by_customer,
)
from dashboard.metrics.ledger import (
    OpenItems,
    Selection,
    limits_at,
    open_items,
    select,
    unapplied_items,
)
from dashboard.metrics.numbers import ratio, ratio_array
from dashboard.metrics.snapshot import Snapshot, sum_by, to_day

STATUS_ORDER = ("Over Limit", "Critical", "Overdue", "Late", "Current")
STATUS_RULES = (
    "Over Limit: outstanding above a credit limit > 0; Critical: an item more than 90 days past due; "
    "Overdue: more than 30 days; Late: 1 to 30 days; Current: nothing past due."
)


def _dates(days: np.ndarray) -> pd.Series:
    """Day numbers as datetime.date objects (None for no date)."""
    return columns.dates(days)


def _customer_columns(snap: Snapshot, cust: np.ndarray) -> dict[str, Any]:
    return columns.customer_columns(snap, cust)


def terms_label(snap: Snapshot, cust: np.ndarray) -> npt.NDArray[np.object_]:
    """'Net 30', 'EOM + 15' ... per customer."""
    labels: npt.NDArray[np.object_] = snap.terms_text[cust]
    return labels


def terms_group(snap: Snapshot, cust: np.ndarray) -> np.ndarray:
    """'short' for terms under 30 days (not EOM), else 'long'."""
    return np.where(snap.short_terms[cust], "short", "long").astype(object)


def _open_frame(snap: Snapshot, items: OpenItems, pick: np.ndarray, as_of: dt.date) -> pd.DataFrame:
    """Rows for the open items at positions pick."""
    inv, cust, balance = items.inv[pick], items.cust[pick], items.balance[pick]
    dpd = items.day - snap.due[inv].astype(np.int64)
    frame = pd.DataFrame(
        {
            "invoice_id": columns.ids(snap.inv_ids[inv]),
            **_customer_columns(snap, cust),
            "issue_date": _dates(snap.issue[inv]),
            "due_date": _dates(snap.due[inv]),
            "invoice_amount_cents": snap.inv_base[inv],  # base cents at the issue date's rate
            "amount_cents": balance,
            "days_past_due": dpd,
            "aging_due": columns.labels(DUE_BUCKETS, due_bucket_index(dpd)),
            "aging_transaction": columns.labels(
                TRANSACTION_BUCKETS, transaction_bucket_index(snap, inv, as_of)
            ),
            "disputed": snap.disputed[inv],
            "terms_group": columns.labels(("long", "short"), snap.short_terms[cust]),
        }
    )
    return with_currency(snap, frame, items.cur[pick], items.own[pick])


def open_invoices(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Every invoice open at as_of with its balance, days past due and aging buckets."""
    return _open_plan(snap, select(snap, filters, scope), to_day(as_of), as_of).frame()


def _open_order(snap: Snapshot, items: OpenItems) -> np.ndarray:
    """Open items in open_invoices' order: days past due descending, then invoice id (ranks sort
    like the ids), in numpy before any frame is built (no sort of the ids' text)."""
    dpd = items.day - snap.due[items.inv].astype(np.int64)
    return np.lexsort((invoice_rank(snap)[items.inv], -dpd))


def _open_plan(
    snap: Snapshot, sel: Selection, day: int, as_of: dt.date, keep: np.ndarray | None = None
) -> RowsPlan:
    """open_invoices' rows (those of keep, a mask over the open items, when given) as a plan."""
    items = open_items(sel, day)
    order = _open_order(snap, items)
    pick = order if keep is None else order[keep[order]]
    return RowsPlan(
        len(pick),
        {
            "invoice_amount_cents": _total(snap.inv_base[items.inv[pick]]),
            "amount_cents": _total(items.balance[pick]),
        },
        lambda a, b: _open_frame(snap, items, pick[a:b], as_of),
        (items.inv, items.balance, items.cust, items.own, items.cur, pick),
    )


def _total(cents: np.ndarray) -> int:
    """The exact sum of integer cents (a Python int)."""
    cents = np.asarray(cents, dtype=np.int64)
    if not len(cents):
        return 0
    if int(np.abs(cents).max()) * len(cents) < 2**63:
        return int(cents.sum())
    return sum(int(v) for v in cents.tolist())


@dataclass
class RowsPlan:
    """The rows of a table without their frame: how many, the exact totals of every money
    column, and rows start..end-1 as a frame on demand (`part`; `frame()`: all of them), the same
    as those rows of the whole frame. A drill-down's modal and first block need no more."""

    n_rows: int
    totals: dict[str, int]
    part: Callable[[int, int], pd.DataFrame]
    kept: tuple[np.ndarray, ...] = ()  # the arrays `part` holds (what a cached plan weighs)

    def head(self, k: int) -> pd.DataFrame:
        """The first k rows."""
        return self.part(0, k)

    def frame(self) -> pd.DataFrame:
        """Every row."""
        return self.part(0, self.n_rows)


def customer_balances(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Customers with a balance at as_of: balance, overdue part, limit, utilization."""
    sel = select(snap, filters, scope)
    items = open_items(sel, to_day(as_of))
    balances = balances_by_customer(items, snap)
    overdue = sum_by(
        items.cust[snap.due[items.inv] < items.day],
        items.balance[snap.due[items.inv] < items.day],
        snap.n_customers,
    )
    cust = np.flatnonzero(balances > 0)
    limit = limits_at(snap, items.day)[cust]
    frame = pd.DataFrame(
        {
            **_customer_columns(snap, cust),
            "terms": terms_label(snap, cust),
            "credit_limit_cents": limit,
            "amount_cents": balances[cust],
            "overdue_cents": overdue[cust],
            "utilization_pct": ratio_array(balances[cust], limit),
        }
    )
    return frame.sort_values(
        ["amount_cents", "customer_id"], ascending=[False, True], ignore_index=True
    )


def parse_ranges(text: str | None) -> tuple[int, ...]:
    """'30,60,90' -> (30, 60, 90): strictly increasing positive day limits; ValueError otherwise."""
    if text is None or not str(text).strip():
        return (30, 60, 90)
    try:
        edges = tuple(int(part.strip()) for part in str(text).split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(
            f"aging ranges must be whole numbers separated by commas: {text!r}"
        ) from exc
    if (
        not edges
        or any(e <= 0 for e in edges)
        or any(b <= a for a, b in zip(edges, edges[1:], strict=False))
    ):
        raise ValueError(f"aging ranges must be positive and increasing: {text!r}")
    return edges


def bucket_labels(edges: tuple[int, ...], basis: str = "due") -> list[str]:
    """Column labels for the buckets of edges."""
    if basis == "transaction":
        return ["current", "1_month", "2_months", "3+_months"]
    labels = ["not_due"]
    low = 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{edges[-1]}+")
    return labels


def customer_aging(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    basis: str = "due",
    ranges: tuple[int, ...] = (30, 60, 90),
) -> pd.DataFrame:
    """One row per customer with a balance: terms, limit, total, buckets, max days, status."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    labels = bucket_labels(ranges, basis)
    if basis == "transaction":
        idx = transaction_bucket_index(snap, items.inv, as_of)
        age = months_since_issue(snap, items.inv, as_of)
    else:
        age = day - snap.due[items.inv].astype(np.int64)
        idx = due_bucket_index(age, np.array((0, *ranges)))
    n, nb = snap.n_customers, len(labels)
    grid = sum_by(items.cust * nb + idx, items.balance, n * nb).reshape(n, nb)
    total = grid.sum(axis=1)
    cust = np.flatnonzero(total > 0)
    dpd = day - snap.due[items.inv].astype(np.int64)
    max_dpd = _group_max(items.cust, dpd, n, -(10**9))
    max_age = _group_max(items.cust, age, n, -(10**9))
    frame = pd.DataFrame(
        {
            **_customer_columns(snap, cust),
            "terms": terms_label(snap, cust),
            "terms_group": terms_group(snap, cust),
            "credit_limit_cents": limits_at(snap, day)[cust],
            "amount_cents": total[cust],
        }
    )
    for j, label in enumerate(labels):
        frame[f"{label}_cents"] = grid[cust, j]
    frame["max_days"] = np.maximum(max_age[cust], 0)
    frame["status"] = aging_status(total[cust], limits_at(snap, day)[cust], max_dpd[cust])
    return frame.sort_values(
        ["amount_cents", "customer_id"], ascending=[False, True], ignore_index=True
    )


def aging_status(
    balance: np.ndarray, limit: np.ndarray, max_days_past_due: np.ndarray
) -> np.ndarray:
    """The worst condition of each customer (see STATUS_RULES)."""
    return np.select(
        [
            (limit > 0) & (balance > limit),
            max_days_past_due > 90,
            max_days_past_due > 30,
            max_days_past_due > 0,
        ],
        ["Over Limit", "Critical", "Overdue", "Late"],
        default="Current",
    ).astype(object)


def aging_by_terms_group(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    basis: str = "due",
) -> pd.DataFrame:
    """Donut data: open balances per terms group and bucket, leaving out customers in credit."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    net = balances_by_customer(items, snap) - unapplied_by_customer(sel, day)
    keep = net[items.cust] >= 0
    inv, bal, cust = items.inv[keep], items.balance[keep], items.cust[keep]
    labels: tuple[str, ...]
    if basis == "transaction":
        labels, idx = TRANSACTION_BUCKETS, transaction_bucket_index(snap, inv, as_of)
    else:
        labels, idx = DUE_BUCKETS, due_bucket_index(day - snap.due[inv].astype(np.int64))
    group = (~snap.short_terms[cust]).astype(np.int64)
    sums = sum_by(group * len(labels) + idx, bal, 2 * len(labels)).reshape(2, len(labels))
    rows = [
        {"terms_group": g, "bucket": label, "amount_cents": int(sums[gi, j])}
        for gi, g in enumerate(("short", "long"))
        for j, label in enumerate(labels)
    ]
    return pd.DataFrame(rows)


def aging_reconciliation(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> dict[str, Any]:
    """Why the two aging donuts (aging_by_terms_group) total less than total AR, to the cent.

    total_ar_cents = donuts_cents + left_out_cents, where left_out_cents is the open balance of the
    customers whose unapplied credits exceed their open balances (net in credit), left out of the donuts.
    """
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    net = balances_by_customer(items, snap) - unapplied_by_customer(sel, day)
    out = net[items.cust] < 0
    total = int(items.balance.sum())
    left = int(items.balance[out].sum())
    return {
        "total_ar_cents": total,
        "donuts_cents": total - left,
        "left_out_cents": left,
        "customers_left_out": int(len(np.unique(items.cust[out]))),
    }


def unapplied_by_customer(sel: Selection, day: int) -> np.ndarray:
    """Each selected customer's unapplied credits at day (cents)."""
    return np.where(sel.cust_mask, customer_unapplied(sel.snap, day), 0)


def customer_unapplied(snap: Snapshot, day: int) -> np.ndarray:
    """Every customer's unapplied credits at day (base cents): unallocated payments, free credit
    notes, amounts applied beyond an invoice's amount, and applications waiting for their invoice."""
    items = unapplied_items(snap, day)
    return sum_by(items.cust, items.base, snap.n_customers)


def top_overdue_invoices(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The largest overdue open invoices at as_of (ties by invoice id)."""
    items = open_items(select(snap, filters, scope), to_day(as_of))
    overdue = np.flatnonzero(snap.due[items.inv] < items.day)
    balance = items.balance[overdue]
    if len(overdue) > limit:
        kth = np.partition(balance, len(balance) - limit)[len(balance) - limit]
        overdue = overdue[balance >= kth]
    frame = _open_frame(snap, items, overdue, as_of)
    return (
        frame.sort_values(["amount_cents", "invoice_id"], ascending=[False, True])
        .head(limit)
        .reset_index(drop=True)
    )


AT_RISK_REASONS = {
    1: "Over credit limit",
    2: "90+ days overdue",
    3: "60+ days overdue",
    4: "Above 90% of credit limit",
}


def _group_max(
    groups: np.ndarray, values: np.ndarray, size: int, empty: int, only: np.ndarray | None = None
) -> np.ndarray:
    """Maximum of values per group (empty where a group has none; only: of the groups in this
    mask alone, the others left empty)."""
    out = np.full(size, empty, dtype=np.int64)
    if len(groups):
        if only is not None:
            keep = only[groups]
            groups, values = groups[keep], values[keep]
        np.maximum.at(out, groups, np.asarray(values, dtype=np.int64))
        seen = np.zeros(size, dtype=bool)
        seen[groups] = True
        # a group whose values are all below `empty` keeps its maximum (as the groupby did)
        below = seen & (out == empty)
        if below.any():
            out[below] = _exact_group_max(groups, values, below)
    return out


def _exact_group_max(groups: np.ndarray, values: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Maximum of values per group for the groups in the mask `which` (in group order)."""
    keep = which[groups]
    series = pd.Series(np.asarray(values)[keep]).groupby(np.asarray(groups)[keep]).max()
    return series.to_numpy(dtype=np.int64)


def at_risk_accounts(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """At-risk customers in the Retailer seed's order: over limit, 90+ then 60+ overdue, > 90 % of limit.

    Within a priority the largest amount at risk comes first, ties by customer id.
    """
    ranked = _at_risk(snap, as_of, filters, scope)
    return ranked.frame(ranked.cust[:limit] if limit else ranked.cust)


def at_risk_summary(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    limit: int = 6,
) -> tuple[pd.DataFrame, dict[int, int]]:
    """The first `limit` rows of at_risk_accounts and how many accounts there are of each priority
    (the page's cards and count line), without the frame of every at-risk account."""
    ranked = _at_risk(snap, as_of, filters, scope)
    counts = np.bincount(ranked.priority[ranked.cust], minlength=len(AT_RISK_REASONS) + 1)
    return ranked.frame(ranked.cust[:limit]), {p: int(counts[p]) for p in AT_RISK_REASONS}


@dataclass
class _AtRisk:
    """Every selected customer's at-risk figures at a day, and the at-risk ones in list order."""

    snap: Snapshot
    items: OpenItems
    dpd: np.ndarray
    cust: np.ndarray  # at-risk customers, in list order
    priority: np.ndarray  # per customer (0: not at risk)
    risk: np.ndarray
    bal: np.ndarray
    over60: np.ndarray
    over90: np.ndarray
    lim: np.ndarray

    def frame(self, cust: np.ndarray) -> pd.DataFrame:
        """The list's rows of these customers."""
        snap, n = self.snap, self.snap.n_customers
        listed = np.zeros(n, dtype=bool)
        listed[cust] = True
        max_dpd = _group_max(self.items.cust, self.dpd, n, -(10**9), only=listed)[cust]
        bal, lim = self.bal[cust], self.lim[cust]
        frame = pd.DataFrame(
            {
                **_customer_columns(snap, cust),
                "terms": columns.text(snap, "terms_text", cust),
                "terms_group": columns.labels(("long", "short"), snap.short_terms[cust]),
                "credit_limit_cents": lim,
                "amount_cents": bal,
                "overdue_60_plus_cents": self.over60[cust],
                "overdue_90_plus_cents": self.over90[cust],
                "max_days": np.maximum(max_dpd, 0),
                "status": aging_status(bal, lim, max_dpd),
                "priority": self.priority[cust],
                "risk_amount_cents": self.risk[cust],
                "utilization_pct": ratio_array(bal, lim),
            }
        )
        frame["reason"] = frame["priority"].map(AT_RISK_REASONS)
        return frame


def _at_risk(
    snap: Snapshot, as_of: dt.date, filters: Filters | None, scope: Scope | None
) -> _AtRisk:
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    n = snap.n_customers
    dpd = day - snap.due[items.inv].astype(np.int64)
    bal = sum_by(items.cust, items.balance, n)
    over60 = sum_by(items.cust[dpd > 60], items.balance[dpd > 60], n)
    over90 = sum_by(items.cust[dpd > 90], items.balance[dpd > 90], n)
    lim = limits_at(snap, day)
    has_limit = lim > 0
    priority = np.select(
        [has_limit & (bal > lim), over90 > 0, over60 > 0, has_limit & (bal * 10 > lim * 9)],
        [1, 2, 3, 4],
        default=0,
    )
    priority = np.where(sel.cust_mask & (bal > 0), priority, 0)
    risk = np.select([priority == 2, priority == 3], [over90, over60], default=bal)
    cust = np.flatnonzero(priority > 0)
    # positions follow customer id order
    cust = cust[np.lexsort((cust, -risk[cust], priority[cust]))]
    return _AtRisk(snap, items, dpd, cust, priority, risk, bal, over60, over90, lim)


def month_ends(as_of: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of the last `months` months, the month of as_of cut at as_of; oldest first."""
    spans = []
    end = as_of
    for _ in range(months):
        start = month_start(end)
        spans.append((start, end))
        end = start - dt.timedelta(days=1)
    return spans[::-1]


def monthly_trend(
    snap: Snapshot,
    as_of: dt.date,
    months: int = 12,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Per month: credit sales, collections, AR at month end and DSO at month end (P-day period)."""
    sel = select(snap, filters, scope)
    rows = []
    for start, end in month_ends(as_of, months):
        s, e = to_day(start) - 1, to_day(end)
        ar = sel.ar(e)
        sales_p = sel.between(sel.cum_sales, e - period_days, e)
        rows.append(
            {
                "month": start.strftime("%Y-%m"),
                "month_end": end,
                "credit_sales_cents": sel.between(sel.cum_sales, s, e),
                "collections_cents": sel.between(sel.cum_collections, s, e),
                "ar_cents": ar,
                "dso": ratio(ar, sales_p, period_days),
            }
        )
    return pd.DataFrame(rows)


def settled_invoices(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Invoices settled by a payment in the period: the rows behind avg_days_to_pay / avg_days_late."""
    sel = select(snap, filters, scope)
    d = to_day(as_of)
    inv = np.sort(payment_timing(snap, sel, d - period_days, d)[2])  # by position
    cust = snap.inv_cust[inv]
    settle = snap.settle[inv].astype(np.int64)
    frame = pd.DataFrame(
        {
            "invoice_id": columns.ids(snap.inv_ids[inv]),
            **_customer_columns(snap, cust),
            "issue_date": _dates(snap.issue[inv]),
            "due_date": _dates(snap.due[inv]),
            "settled_on": _dates(snap.settle[inv]),
            "amount_cents": snap.inv_base[inv],  # base cents at the issue date's rate
            "days_to_pay": settle - snap.issue[inv],
            "days_late": np.maximum(settle - snap.due[inv], 0),
        }
    )
    return with_currency(snap, frame, snap.inv_cur[inv], snap.amount[inv])


def _period_rows(kind: str, snap: Snapshot, sel: Selection, start: int, end: int) -> pd.DataFrame:
    """Invoices/credit notes issued, payments received or write-offs dated in (start, end]."""
    return _period_plan(kind, snap, sel, start, end).frame()


def _period_plan(kind: str, snap: Snapshot, sel: Selection, start: int, end: int) -> RowsPlan:
    """_period_rows as a plan: the rows' positions, their total, their frame on demand."""
    if kind == "credit_sales":
        inv = np.flatnonzero(
            sel.cust_mask[snap.inv_cust]
            & (snap.inv_cust >= 0)
            & (snap.issue > start)
            & (snap.issue <= end)
        )
        return RowsPlan(
            len(inv),
            {"amount_cents": _total(snap.inv_base[inv])},
            lambda a, b: _period_frame(kind, snap, inv[a:b]),
            (inv,),
        )
    if kind == "collections":
        pay = np.flatnonzero(
            (snap.pay_cust >= 0)
            & sel.cust_mask[np.maximum(snap.pay_cust, 0)]
            & (snap.pay_date > start)
            & (snap.pay_date <= end)
        )
        return RowsPlan(
            len(pay),
            {"amount_cents": _total(snap.pay_base[pay])},
            lambda a, b: _period_frame(kind, snap, pay[a:b]),
            (pay,),
        )
    wo = np.flatnonzero((snap.wo_inv >= 0) & (snap.wo_date > start) & (snap.wo_date <= end))
    wo = wo[sel.cust_mask[snap.inv_cust[snap.wo_inv[wo]]]]
    return RowsPlan(
        len(wo),
        {"amount_cents": _total(snap.wo_base[wo])},
        lambda a, b: _period_frame(kind, snap, wo[a:b]),
        (wo,),
    )


def _period_frame(kind: str, snap: Snapshot, rows: np.ndarray) -> pd.DataFrame:
    """The frame of _period_rows for the invoice, payment or write-off positions `rows`."""
    if kind == "credit_sales":
        inv = rows
        frame = pd.DataFrame(
            {
                "invoice_id": columns.ids(snap.inv_ids[inv]),
                **_customer_columns(snap, snap.inv_cust[inv]),
                "issue_date": _dates(snap.issue[inv]),
                "due_date": _dates(snap.due[inv]),
                "type": np.where(snap.is_cn[inv], "credit note", "invoice").astype(object),
                "amount_cents": snap.inv_base[inv],
            }
        )
        return with_currency(snap, frame, snap.inv_cur[inv], snap.amount[inv])
    if kind == "collections":
        pay = rows
        frame = pd.DataFrame(
            {
                "payment_id": columns.ids(snap.pay_ids[pay]),
                **_customer_columns(snap, snap.pay_cust[pay]),
                "date": _dates(snap.pay_date[pay]),
                "amount_cents": snap.pay_base[pay],
            }
        )
        return with_currency(snap, frame, snap.pay_cur[pay], snap.pay_amount[pay])
    wo = rows
    frame = pd.DataFrame(
        {
            "invoice_id": columns.ids(snap.inv_ids[snap.wo_inv[wo]]),
            **_customer_columns(snap, snap.inv_cust[snap.wo_inv[wo]]),
            "date": _dates(snap.wo_date[wo]),
            "amount_cents": snap.wo_base[wo],
        }
    )
    return with_currency(snap, frame, snap.inv_cur[snap.wo_inv[wo]], snap.wo_amount[wo])


def unapplied_rows(snap: Snapshot, sel: Selection, day: int) -> pd.DataFrame:
    """Unapplied payments, free credit notes, over-applied invoices and early credits at day."""
    items = unapplied_items(snap, day)
    pick = np.flatnonzero(sel.cust_mask[items.cust])
    frame = pd.DataFrame(
        {
            "id": items.ref[pick],
            "type": items.kind[pick],
            **_customer_columns(snap, items.cust[pick]),
            "date": _dates(items.day[pick]),
            "amount_cents": items.base[pick],
        }
    )
    return with_currency(snap, frame, items.cur[pick], items.own[pick])


def with_currency(
    snap: Snapshot,
    frame: pd.DataFrame,
    cur: np.ndarray,
    own: np.ndarray,
    after: str = "amount_cents",
) -> pd.DataFrame:
    """Put the transaction currency and the amount in it (exact decimal text, never summed across
    currencies) before the base amount; only when the ledger has several currencies."""
    if not snap.multi:
        return frame
    at = list(frame.columns).index(after) if after in frame.columns else len(frame.columns)
    frame.insert(at, "currency", columns.labels(snap.rates.codes, np.asarray(cur, dtype=np.int64)))
    frame.insert(at + 1, "amount_in_currency", columns.money_text(own))
    return frame


DRILLS = (
    "total_ar",
    "overdue_ar",
    "not_due_ar",
    "unapplied_credits",
    "credit_sales",
    "collections",
    "write_offs",
    "customers_with_balance",
    "customers_overdue",
    "customers_over_limit",
    "avg_days_to_pay",
    "aging_due",
    "aging_transaction",
    "customer",
)


def drill(
    snap: Snapshot,
    key: str,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
    bucket: str | None = None,
    customer_id: str | None = None,
    terms_group_name: str | None = None,
) -> pd.DataFrame:
    """The rows behind a figure; `amount_cents` sums to it (ValueError for an unknown key)."""
    if key not in DRILLS:
        raise ValueError(f"unknown figure: {key!r}")
    sel = select(snap, filters, scope)
    d = to_day(as_of)
    if key in ("credit_sales", "collections", "write_offs"):
        return _period_rows(key, snap, sel, d - period_days, d)
    if key == "unapplied_credits":
        return unapplied_rows(snap, sel, d)
    if key == "avg_days_to_pay":
        return settled_invoices(snap, as_of, period_days, filters, scope)
    if key in ("customers_with_balance", "customers_over_limit"):
        table = customer_balances(snap, as_of, period_days, filters, scope)
        if key == "customers_over_limit":
            lim = table["credit_limit_cents"]
            table = table[(lim > 0) & (table["amount_cents"] > lim)]
            # the amount over the limit, largest first: what a controller acts on
            table = table.assign(
                over_limit_cents=(table["amount_cents"] - table["credit_limit_cents"]).astype(
                    "int64"
                )
            )
            table = table.sort_values(["over_limit_cents", "customer_id"], ascending=[False, True])
        return table.reset_index(drop=True)
    plan = drill_plan(
        snap, key, as_of, period_days, filters, scope, bucket, customer_id, terms_group_name
    )
    assert plan is not None  # every other key has a plan
    return plan.frame()


PLANNED = (
    "credit_sales",
    "collections",
    "write_offs",
    "total_ar",
    "overdue_ar",
    "not_due_ar",
    "customers_overdue",
    "aging_due",
    "aging_transaction",
    "customer",
)


def drill_plan(
    snap: Snapshot,
    key: str,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
    bucket: str | None = None,
    customer_id: str | None = None,
    terms_group_name: str | None = None,
) -> RowsPlan | None:
    """drill's rows as a plan (count, exact totals, the first rows on demand): every invoice
    drill-down; None for the keys whose rows are one per customer or few (build those whole)."""
    if key not in DRILLS:
        raise ValueError(f"unknown figure: {key!r}")
    if key not in PLANNED:
        return None
    sel = select(snap, filters, scope)
    d = to_day(as_of)
    if key in ("credit_sales", "collections", "write_offs"):
        return _period_plan(key, snap, sel, d - period_days, d)
    # the open invoices' rows, kept by the same tests as on their frame (in numpy)
    items = open_items(sel, d)
    dpd = items.day - snap.due[items.inv].astype(np.int64)
    keep = np.ones(len(items.inv), dtype=bool)
    if key in ("overdue_ar", "customers_overdue"):
        keep &= dpd > 0
    elif key == "not_due_ar":
        keep &= dpd <= 0
    elif key == "aging_due":
        keep &= _bucket_is(DUE_BUCKETS, due_bucket_index(dpd), bucket)
    elif key == "aging_transaction":
        index = transaction_bucket_index(snap, items.inv, as_of)
        keep &= _bucket_is(TRANSACTION_BUCKETS, index, bucket)
    if key in ("aging_due", "aging_transaction") and terms_group_name:
        short = snap.short_terms[items.cust]
        group = short if terms_group_name == "short" else ~short
        keep &= group if terms_group_name in ("short", "long") else False
        keep &= ~_in_credit_mask(snap, sel, d)[items.cust]
    if customer_id is not None:
        keep &= items.cust == snap.cust_index.get(customer_id, -1)
    return _open_plan(snap, sel, d, as_of, keep)


def _bucket_is(buckets: tuple[str, ...], index: np.ndarray, bucket: str | None) -> np.ndarray:
    """Rows whose bucket (buckets[index]) is `bucket` (none for an unknown or no bucket)."""
    if bucket not in buckets:
        return np.zeros(len(index), dtype=bool)
    same: np.ndarray = np.asarray(index) == buckets.index(bucket)
    return same


def _customers_in_credit(snap: Snapshot, sel: Selection, day: int) -> set[str]:
    """Customers whose unapplied credits exceed their open balances (left out of the donuts)."""
    return set(snap.cust_ids[np.flatnonzero(_in_credit_mask(snap, sel, day))])


def _in_credit_mask(snap: Snapshot, sel: Selection, day: int) -> np.ndarray:
    """Per customer: _customers_in_credit as a mask."""
    items = open_items(sel, day)
    net = balances_by_customer(items, snap) - unapplied_by_customer(sel, day)
    mask: np.ndarray = (net < 0) & sel.cust_mask
    return mask
