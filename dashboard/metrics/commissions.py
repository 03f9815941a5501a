"""Commission analytics (concept section 5): accrued, paid, rate, reps, trend, groups, risk, cash basis.

Pure functions of (snapshot, as-of D, period P, filters, scope). Money is int64 cents; every drill
table has an `amount_cents` column whose rows sum exactly to the figure it explains. The rules
(docs/commissions.md repeats them):

Which commission rows count (`in_view`)
    * A row with an invoice counts when the invoice's customer is selected by the filters inside
      the scope (the same customers as every AR figure).
    * A row with no (known) invoice counts only when no customer-attribute filter other than the
      sales rep is set, and the scope is unrestricted or lists the row's rep.
    * When the scope lists reps, the row's own sales_rep_id must be one of them (a rep sees only
      their own commissions, a manager their group's); the sales-rep filter likewise keeps only
      that rep's rows.

Dates
    * A row is earned on `earned_date`. It is paid on its settlement date when `settled` is true;
      settled with no settlement date, or a settlement date before the earned date, counts as
      paid on the earned date. An unsettled row is never paid, whatever its settlement date says.
    * Accrued at D: earned <= D and not paid by D (so backdating reproduces the liability then).

Currencies
    * A commission is in its customer's currency (the base currency when it has no customer).
      Flows (earned, paid, by group, on invoices issued, on cash) are converted at the rate in force
      on the earned date; balances (accrued, at risk, unpaid at a month end) at the rate of that
      date. Each row is converted and rounded half up first; every figure is the sum of its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.data.ledger_load import NO_DATE
from dashboard.metrics.behaviour import flag_only_disputes, open_dispute_rows
from dashboard.metrics.cache import MAX_VERSIONS, cached
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.kpis import DUE_EDGES, month_start
from dashboard.metrics.ledger import open_balances, select
from dashboard.metrics.numbers import ratio, ratio_array
from dashboard.metrics.snapshot import Snapshot, from_day, sum_by, to_day
from dashboard.metrics.tables import with_currency

NO_GROUP = "No group"
TOP_REPS = 10
OVERDUE_AT_RISK_DAYS = int(DUE_EDGES[-1])  # more than 90 days past due: the "90+" aging bucket
RISK_WRITTEN_OFF, RISK_DISPUTED, RISK_OVERDUE = 1, 2, 3
RISK_REASONS = {
    RISK_WRITTEN_OFF: "written off",
    RISK_DISPUTED: "disputed",
    RISK_OVERDUE: "90+ days overdue",
}

FORMULAS = {
    "accrued": "Accrued = Σ commission earned on or before D and not paid by D (unsettled, or settled after D)",
    "paid_mtd": "Paid this month = Σ commission settled from the 1st of D's month to D",
    "avg_rate": "Average rate = commission earned in (D − P, D] / credit sales in (D − P, D] × 100",
    "at_risk": (
        "At risk = Σ accrued commission on invoices that at D are written off (a write-off dated ≤ D), "
        "disputed (a dispute open at D, or the disputed flag while the invoice is open) or more than "
        "90 days past due"
    ),
    "cash": (
        "On cash collected = Σ commission × (part of its invoice paid by payments in (D − P, D]) / invoice "
        "amount, rounded half away from zero on the running total"
    ),
    "invoiced": "On invoices issued = Σ commission on invoices issued in (D − P, D]",
}


# ---- the commission rows as arrays ------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """snap.commissions as numpy arrays (positions match the frame's rows)."""

    commission_id: np.ndarray
    rep: np.ndarray
    group: np.ndarray
    rep_code: np.ndarray  # int64 position of rep in rep_ids
    rep_ids: np.ndarray  # distinct rep ids (object)
    group_code: np.ndarray  # int64 position of group in group_names
    group_names: np.ndarray  # distinct group names (object; "" = none)
    earned: np.ndarray  # int64 day
    paid: np.ndarray  # int64 day the row counts as paid; NO_DATE when unsettled
    amount: np.ndarray  # int64 cents
    inv: np.ndarray  # invoice position or -1
    cust: np.ndarray  # customer position or -1
    rate: np.ndarray  # float (as imported), NaN when missing
    cur: np.ndarray  # currency of the row (its customer's; 0 = base)
    earned_base: np.ndarray  # int64 base cents at the earned date's rate

    def __len__(self) -> int:
        return len(self.amount)


def _text(series: pd.Series) -> np.ndarray:
    return series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)


@cached(maxsize=MAX_VERSIONS, shared=False)  # arrays of every commission row: per process
def rows(snap: Snapshot) -> Rows:
    """The commission rows of the snapshot as arrays (built once per snapshot)."""
    frame = snap.commissions
    earned = frame["earned_date"].to_numpy(dtype=np.int64)
    settlement = frame["settlement_date"].to_numpy(dtype=np.int64)
    settled = frame["settled"].to_numpy(dtype=bool)
    paid_on = np.where(settlement == NO_DATE, earned, np.maximum(settlement, earned))
    rep, group = _text(frame["sales_rep_id"]), _text(frame["group_name"])
    rep_code, rep_ids = pd.factorize(rep, sort=True)
    group_code, group_names = pd.factorize(group, sort=True)
    amount = frame["amount_cents"].to_numpy(dtype=np.int64)
    cust = frame["cust"].to_numpy(dtype=np.int64)
    cur = np.zeros(len(cust), dtype=np.int64)
    if snap.n_customers and len(cust):
        cur = np.where(cust >= 0, snap.cust_cur[np.maximum(cust, 0)], 0).astype(np.int64)
    return Rows(
        commission_id=_text(frame["commission_id"]),
        rep=rep,
        group=group,
        rep_code=rep_code.astype(np.int64),
        rep_ids=np.asarray(rep_ids, dtype=object),
        group_code=group_code.astype(np.int64),
        group_names=np.asarray(group_names, dtype=object),
        earned=earned,
        paid=np.where(settled, paid_on, NO_DATE).astype(np.int64),
        amount=amount,
        inv=frame["inv"].to_numpy(dtype=np.int64),
        cust=cust,
        rate=pd.to_numeric(frame["rate"], errors="coerce").to_numpy(dtype=np.float64),
        cur=cur,
        earned_base=_to_base(snap, amount, cur, earned),
    )


def _to_base(
    snap: Snapshot, amount: np.ndarray, cur: np.ndarray, days: np.ndarray | int
) -> np.ndarray:
    """Amounts in their currency converted to base cents at each day's rate, each rounded half up."""
    if not snap.multi:
        return amount
    days = np.broadcast_to(np.asarray(days, dtype=np.int64), amount.shape)
    return convert(amount, snap.rates.on(cur, days))


def balance_at(snap: Snapshot, pick: np.ndarray, day: int) -> np.ndarray:
    """Base cents of the rows at positions pick, revalued at the rate in force at day."""
    r = rows(snap)
    return _to_base(snap, r.amount[pick], r.cur[pick], day)


def in_view(
    snap: Snapshot, filters: Filters | None = None, scope: Scope | None = None
) -> np.ndarray:
    """Boolean mask over the commission rows that count for (filters, scope); see the module rules."""
    filters = filters or Filters()
    scope = scope or Scope.everyone()
    r = rows(snap)
    sel = select(snap, filters, scope)
    attached = r.cust >= 0
    mask = np.zeros(len(r), dtype=bool)
    mask[attached] = sel.cust_mask[r.cust[attached]]
    attribute_filter = any((filters.segment, filters.region, filters.tier, filters.terms_group))
    if not attribute_filter:
        if scope.unrestricted:
            mask |= ~attached
        elif scope.sales_rep_ids is not None:
            mask |= ~attached & _reps_in(r, scope.sales_rep_ids)
    if scope.sales_rep_ids is not None:
        mask &= _reps_in(r, scope.sales_rep_ids)
    if filters.sales_rep:
        mask &= _reps_in(r, {filters.sales_rep})
    return mask


def _reps_in(r: Rows, reps: Collection[str]) -> np.ndarray:
    """Rows whose sales_rep_id is one of reps."""
    wanted = np.isin(r.rep_ids, list(reps)) if len(r.rep_ids) else np.zeros(0, dtype=bool)
    return wanted[r.rep_code] if len(r.rep_code) else np.zeros(0, dtype=bool)


def accrued_mask(r: Rows, day: int) -> np.ndarray:
    """Rows accrued (earned and not yet paid) at the end of day."""
    return (r.earned <= day) & (r.paid > day)


def earned_mask(r: Rows, start: int, end: int) -> np.ndarray:
    """Rows earned in the days (start, end]."""
    return (r.earned > start) & (r.earned <= end)


def paid_mask(r: Rows, start: int, end: int) -> np.ndarray:
    """Rows paid in the days (start, end]."""
    return (r.paid > start) & (r.paid <= end)


# ---- tiles ------------------------------------------------------------------------------------


def tiles(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """The tile figures with their live inputs (cents, counts, days and a rate rounded to 2 places)."""
    r = rows(snap)
    view = in_view(snap, filters, scope)
    d, p = to_day(as_of), period_days
    first = month_start(as_of)
    accrued = view & accrued_mask(r, d)
    paid = view & paid_mask(r, to_day(first) - 1, d)
    earned = view & earned_mask(r, d - p, d)
    sel = select(snap, filters, scope)
    sales = sel.between(sel.cum_sales, d - p, d)
    earned_cents = int(r.earned_base[earned].sum())
    risk = at_risk_rows(snap, as_of, filters, scope)
    flows = cash_and_invoiced(snap, as_of, period_days, filters, scope)
    return {
        "as_of": as_of,
        "period_days": p,
        "period_start": from_day(d - p + 1),
        "month_start": first,
        "accrued_cents": int(balance_at(snap, np.flatnonzero(accrued), d).sum()),
        "accrued_rows": int(accrued.sum()),
        "accrued_reps": len(np.unique(r.rep_code[accrued])),
        "paid_mtd_cents": int(r.earned_base[paid].sum()),
        "paid_mtd_rows": int(paid.sum()),
        "earned_cents": earned_cents,
        "earned_rows": int(earned.sum()),
        "sales_cents": int(sales),
        "avg_rate_pct": ratio(earned_cents, sales, 100),
        "at_risk_cents": int(risk["amount_cents"].sum()),
        "at_risk_rows": len(risk),
        "cash_cents": int(flows["cash_cents"].sum()),
        "invoiced_cents": int(flows["invoiced_cents"].sum()),
        "collected_cents": int(flows["collected_cents"].sum()),
        "formulas": FORMULAS,
    }


# ---- drill-down rows ----------------------------------------------------------------------------

DRILL_KEYS = (
    "commissions_accrued",
    "commissions_paid_mtd",
    "commissions_earned",
    "commissions_month_earned",
    "commissions_month_paid",
    "commissions_group",
    "commissions_at_risk",
    "commissions_cash",
    "commissions_invoiced",
)


def _rep_names(snap: Snapshot) -> dict[str, str]:
    reps = snap.reps
    if not len(reps):
        return {}
    return dict(
        zip(
            reps["sales_rep_id"].astype(str),
            reps["name"].astype(object).where(reps["name"].notna(), ""),
            strict=True,
        )
    )


def _rep_groups(snap: Snapshot) -> dict[str, str]:
    reps = snap.reps
    if not len(reps):
        return {}
    groups = reps["group_name"].astype(object).where(reps["group_name"].notna(), "")
    return dict(zip(reps["sales_rep_id"].astype(str), groups, strict=True))


def _days_to_dates(days: np.ndarray) -> list[Any]:
    return [None if v == NO_DATE else from_day(int(v)) for v in days]


def row_frame(
    snap: Snapshot,
    pick: np.ndarray,
    amount: np.ndarray | None = None,
    extra: dict[str, np.ndarray] | None = None,
    own: np.ndarray | None = None,
) -> pd.DataFrame:
    """Commission rows at positions pick (plus extra columns), by earned date, the figure's amount last.

    amount defaults to the rows' base cents at the earned date's rate; with several currencies the
    row's currency and its amount in it (own, default the commission amount) come before it."""
    r = rows(snap)
    names = _rep_names(snap)
    inv, cust = r.inv[pick], r.cust[pick]
    has_inv, has_cust = inv >= 0, cust >= 0
    frame = pd.DataFrame(
        {
            "commission_id": r.commission_id[pick],
            "sales_rep_id": r.rep[pick],
            "rep_name": [names.get(x, "") for x in r.rep[pick]],
            "invoice_id": np.where(
                has_inv, snap.inv_ids[np.maximum(inv, 0)] if len(snap.inv_ids) else "", ""
            ),
            "customer_name": np.where(
                has_cust, snap.cust_name[np.maximum(cust, 0)] if snap.n_customers else "", ""
            ),
            "customer_id": np.where(
                has_cust, snap.cust_ids[np.maximum(cust, 0)] if snap.n_customers else "", ""
            ),
            "date": _days_to_dates(r.earned[pick]),
            "settled_on": _days_to_dates(r.paid[pick]),
            "rate": r.rate[pick],
            **(extra or {}),
            "amount_cents": r.earned_base[pick] if amount is None else amount,
        }
    )
    frame = with_currency(snap, frame, r.cur[pick], r.amount[pick] if own is None else own)
    return frame.sort_values(["date", "commission_id"], ignore_index=True, kind="stable")


def drill(
    snap: Snapshot,
    key: str,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
    month: str | None = None,
    group: str | None = None,
) -> pd.DataFrame:
    """The commission rows behind a figure; amount_cents sums to it (ValueError for an unknown key)."""
    r = rows(snap)
    view = in_view(snap, filters, scope)
    d, p = to_day(as_of), period_days
    if key == "commissions_accrued":
        pick = np.flatnonzero(view & accrued_mask(r, d))
        return row_frame(snap, pick, balance_at(snap, pick, d))
    if key == "commissions_paid_mtd":
        return row_frame(
            snap, np.flatnonzero(view & paid_mask(r, to_day(month_start(as_of)) - 1, d))
        )
    if key == "commissions_earned":
        return row_frame(snap, np.flatnonzero(view & earned_mask(r, d - p, d)))
    if key in ("commissions_month_earned", "commissions_month_paid"):
        start, end = month_bounds(month, as_of)
        test = earned_mask if key == "commissions_month_earned" else paid_mask
        return row_frame(snap, np.flatnonzero(view & test(r, to_day(start) - 1, to_day(end))))
    if key == "commissions_group":
        wanted = "" if group in (None, NO_GROUP) else group
        in_group = (r.group_names == wanted)[r.group_code] if len(r) else np.zeros(0, dtype=bool)
        return row_frame(snap, np.flatnonzero(view & earned_mask(r, d - p, d) & in_group))
    if key == "commissions_at_risk":
        return at_risk_rows(snap, as_of, filters, scope)
    if key in ("commissions_cash", "commissions_invoiced"):
        return cash_rows(snap, as_of, period_days, filters, scope, cash=key == "commissions_cash")
    raise ValueError(f"unknown figure: {key!r}")


def month_bounds(month: str | None, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of a "YYYY-MM" month, cut at as_of (ValueError when malformed or later)."""
    try:
        year, number = (int(part) for part in str(month).split("-"))
        start = dt.date(year, number, 1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a month: {month!r}") from exc
    nxt = dt.date(year + (number == 12), number % 12 + 1, 1)
    end = min(nxt - dt.timedelta(days=1), as_of)
    if end < start:
        raise ValueError(f"month {month} is after the as-of date")
    return start, end


# ---- charts -------------------------------------------------------------------------------------


def _by_rep(snap: Snapshot, pick: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Exact per-rep sums of each cents column over the rows at positions pick, with names and groups."""
    r = rows(snap)
    names, group_of = _rep_names(snap), _rep_groups(snap)
    code = r.rep_code[pick]
    size = len(r.rep_ids)
    seen = (
        np.flatnonzero(np.bincount(code, minlength=size) > 0)
        if len(code)
        else np.zeros(0, dtype=np.int64)
    )
    ids = r.rep_ids[seen]
    out = {
        "sales_rep_id": ids,
        "rep_name": [names.get(i, i) or i for i in ids],
        "group_name": [group_of.get(i, "") or NO_GROUP for i in ids],
    }
    for name, values in columns.items():
        out[name] = sum_by(code, values, size)[seen]
    return pd.DataFrame(out)


def top_reps(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    limit: int = TOP_REPS,
) -> pd.DataFrame:
    """Reps by accrued commission at as_of, largest first (ties by id); only positive balances."""
    r = rows(snap)
    pick = in_view(snap, filters, scope) & accrued_mask(r, to_day(as_of))
    pick = np.flatnonzero(pick)
    frame = _by_rep(
        snap,
        pick,
        {
            "accrued_cents": balance_at(snap, pick, to_day(as_of)),
            "rows": np.ones(len(pick), dtype=np.int64),
        },
    )
    frame = frame[frame["accrued_cents"] > 0]
    return frame.sort_values(
        ["accrued_cents", "sales_rep_id"], ascending=[False, True], ignore_index=True
    ).head(limit)


def monthly(
    snap: Snapshot,
    as_of: dt.date,
    months: int = 12,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Per calendar month (the last one cut at as_of): commission earned, paid, and unpaid at month end."""
    r = rows(snap)
    view = in_view(snap, filters, scope)
    flow, earned, paid = r.earned_base[view], r.earned[view], r.paid[view]
    own, cur = r.amount[view], r.cur[view]
    out = []
    end = as_of
    spans = []
    for _ in range(months):
        start = month_start(end)
        spans.append((start, end))
        end = start - dt.timedelta(days=1)
    for start, end in reversed(spans):
        s, e = to_day(start) - 1, to_day(end)
        out.append(
            {
                "month": start.strftime("%Y-%m"),
                "month_end": end,
                "earned_cents": int(flow[(earned > s) & (earned <= e)].sum()),
                "paid_cents": int(flow[(paid > s) & (paid <= e)].sum()),
                "unpaid_cents": _unpaid(snap, own, cur, (earned <= e) & (paid > e), e),
            }
        )
    return pd.DataFrame(
        out, columns=["month", "month_end", "earned_cents", "paid_cents", "unpaid_cents"]
    )


def _unpaid(snap: Snapshot, own: np.ndarray, cur: np.ndarray, keep: np.ndarray, day: int) -> int:
    """Unpaid commission at the end of day in base cents, each row at that day's rate."""
    return int(_to_base(snap, own[keep], cur[keep], day).sum())


def by_group(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Commission earned in (D - P, D] per sales group, with its share of the total (%, 2 places)."""
    r = rows(snap)
    d = to_day(as_of)
    pick = in_view(snap, filters, scope) & earned_mask(r, d - period_days, d)
    code = r.group_code[pick]
    seen = (
        np.flatnonzero(np.bincount(code, minlength=len(r.group_names)) > 0)
        if len(code)
        else np.zeros(0, dtype=np.int64)
    )
    earned = sum_by(code, r.earned_base[pick], len(r.group_names))[seen]
    counts = (
        np.bincount(code, minlength=len(r.group_names))[seen]
        if len(code)
        else np.zeros(0, dtype=np.int64)
    )
    total = int(earned.sum())
    frame = pd.DataFrame(
        {
            "group_name": [n or NO_GROUP for n in r.group_names[seen]],
            "earned_cents": earned,
            "rows": counts,
        }
    )
    frame["share_pct"] = [ratio(int(v), total, 100) for v in earned]
    return frame.sort_values(
        ["earned_cents", "group_name"], ascending=[False, True], ignore_index=True
    )


# ---- beyond the concept: commission at risk ----------------------------------------------------


def risk_reason(snap: Snapshot, inv: np.ndarray, day: int) -> np.ndarray:
    """Per invoice position (-1 allowed): 1 written off, 2 disputed, 3 more than 90 days past due, 0 none.

    Written off: a write-off on the invoice dated <= day. Disputed: a dispute on it open at day
    (dashboard.metrics.behaviour.open_dispute_rows), or its disputed flag (import, no dispute rows)
    while it still has an open balance. Overdue: an open balance and day - due_date > 90. The first
    reason in that order wins, so each commission row is counted once.
    """
    n = len(snap.inv_ids)
    valid = inv >= 0
    safe = np.where(valid, inv, 0)
    written = np.zeros(n, dtype=bool)
    wo = (snap.wo_inv >= 0) & (snap.wo_date <= day)
    written[snap.wo_inv[wo]] = True
    disputed = np.zeros(n, dtype=bool)
    if len(snap.disputes):
        open_rows = open_dispute_rows(snap, day)
        disputed[snap.disputes["inv"].to_numpy(dtype=np.int64)[open_rows]] = True
    balance = np.zeros(len(inv), dtype=np.int64)
    if valid.any():
        balance[valid] = open_balances(snap, safe[valid], day)
    is_open = balance > 0
    flagged = flag_only_disputes(snap)[safe] & is_open if n else np.zeros(len(inv), dtype=bool)
    overdue = (
        is_open & (day - snap.due[safe].astype(np.int64) > OVERDUE_AT_RISK_DAYS) if n else is_open
    )
    reason = (
        np.select(
            [written[safe], disputed[safe] | flagged, overdue],
            [RISK_WRITTEN_OFF, RISK_DISPUTED, RISK_OVERDUE],
            default=0,
        )
        if n
        else np.zeros(len(inv), dtype=np.int64)
    )
    return np.where(valid, reason, 0)


def _at_risk(
    snap: Snapshot, as_of: dt.date, filters: Filters | None, scope: Scope | None
) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the rows accrued at D, the risk reason of each)."""
    r = rows(snap)
    d = to_day(as_of)
    pick = np.flatnonzero(in_view(snap, filters, scope) & accrued_mask(r, d))
    return pick, risk_reason(snap, r.inv[pick], d)


def at_risk_rows(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """Accrued commission rows whose invoice is at risk at as_of, with the reason."""
    pick, reason = _at_risk(snap, as_of, filters, scope)
    chosen = reason > 0
    labels = np.array([RISK_REASONS[int(x)] for x in reason[chosen]], dtype=object)
    at_d = balance_at(snap, pick[chosen], to_day(as_of))
    return row_frame(snap, pick[chosen], at_d, extra={"reason": labels})


def at_risk_by_rep(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """Per rep with accrued commission: accrued, at risk by reason, total at risk and its share (%)."""
    pick, reason = _at_risk(snap, as_of, filters, scope)
    amount = balance_at(snap, pick, to_day(as_of))
    frame = _by_rep(
        snap,
        pick,
        {
            "accrued_cents": amount,
            "written_off_cents": np.where(reason == RISK_WRITTEN_OFF, amount, 0),
            "disputed_cents": np.where(reason == RISK_DISPUTED, amount, 0),
            "overdue_90_cents": np.where(reason == RISK_OVERDUE, amount, 0),
            "at_risk_cents": np.where(reason > 0, amount, 0),
        },
    )
    frame["at_risk_pct"] = ratio_array(
        frame["at_risk_cents"].to_numpy(), frame["accrued_cents"].to_numpy()
    )
    frame = frame[(frame["accrued_cents"] != 0) | (frame["at_risk_cents"] != 0)]
    return frame.sort_values(
        ["at_risk_cents", "accrued_cents", "sales_rep_id"],
        ascending=[False, False, True],
        ignore_index=True,
    )


# ---- beyond the concept: commission on cash collected vs on invoices issued ------------------


def paid_by_payments(snap: Snapshot, day: int) -> np.ndarray:
    """Per invoice: payment allocations dated <= day (allocation date, else the payment's)."""
    keep = (snap.alloc_inv >= 0) & (snap.alloc_date <= day)
    return sum_by(snap.alloc_inv[keep], snap.alloc_amount[keep], len(snap.inv_ids))


def prorate(commission: np.ndarray, paid: np.ndarray, invoice: np.ndarray) -> npt.NDArray[np.int64]:
    """commission x paid / invoice per row, rounded half away from zero, exactly (invoice > 0)."""
    top = int(np.abs(commission).max(initial=0)) * int(np.abs(paid).max(initial=0))
    # else int64 products could overflow
    big = 2 * top + int(np.abs(invoice).max(initial=0)) >= 2**62
    c, a, n = (x.astype(object) if big else x.astype(np.int64) for x in (commission, paid, invoice))
    num = c * a
    sign = np.where(num < 0, -1, 1)
    magnitude = (2 * np.abs(num) + n) // (2 * n)
    prorated: npt.NDArray[np.int64] = (sign * magnitude).astype(np.int64)
    return prorated


def _cash_parts(
    snap: Snapshot, as_of: dt.date, period_days: int, filters: Filters | None, scope: Scope | None
) -> dict[str, Any]:
    """Per row in view: commission on cash collected in the period and on invoices issued in it."""
    r = rows(snap)
    d, p = to_day(as_of), period_days
    view = np.flatnonzero(in_view(snap, filters, scope) & (r.inv >= 0))
    inv = r.inv[view]
    invoice = snap.amount[inv]
    issued = (snap.issue[inv] > d - p) & (snap.issue[inv] <= d)
    positive = invoice > 0
    cash = np.zeros(len(view), dtype=np.int64)
    collected = np.zeros(len(view), dtype=np.int64)
    own_cash = np.zeros(len(view), dtype=np.int64)
    if positive.any():
        ip, cp, amt = inv[positive], r.amount[view][positive], invoice[positive]
        upto_end = np.clip(paid_by_payments(snap, d)[ip], 0, amt)
        upto_start = np.clip(paid_by_payments(snap, d - p)[ip], 0, amt)
        # each running total converted at the earned date's rate, so the periods still telescope
        cur, earned = r.cur[view][positive], r.earned[view][positive]
        end_cash, start_cash = prorate(cp, upto_end, amt), prorate(cp, upto_start, amt)
        own_cash[positive] = end_cash - start_cash
        cash[positive] = _to_base(snap, end_cash, cur, earned) - _to_base(
            snap, start_cash, cur, earned
        )
        inv_cur = snap.inv_cur[ip]
        collected[positive] = _to_base(snap, upto_end, inv_cur, earned) - _to_base(
            snap, upto_start, inv_cur, earned
        )
    return {
        "pick": view,
        "cash": cash,
        "own_cash": own_cash,
        "collected": collected,
        "invoiced": np.where(issued, r.earned_base[view], 0),
        "issued": issued,
    }


def cash_and_invoiced(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Per rep: commission on invoices issued in (D - P, D] beside commission on the cash collected then."""
    parts = _cash_parts(snap, as_of, period_days, filters, scope)
    pick = parts["pick"]
    frame = _by_rep(
        snap,
        pick,
        {
            "invoiced_cents": parts["invoiced"],
            "cash_cents": parts["cash"],
            "collected_cents": parts["collected"],
        },
    )
    frame["difference_cents"] = frame["cash_cents"] - frame["invoiced_cents"]
    frame = frame[(frame["invoiced_cents"] != 0) | (frame["cash_cents"] != 0)]
    return frame.sort_values(
        ["invoiced_cents", "cash_cents", "sales_rep_id"],
        ascending=[False, False, True],
        ignore_index=True,
    )


def cash_rows(
    snap: Snapshot,
    as_of: dt.date,
    period_days: int = 90,
    filters: Filters | None = None,
    scope: Scope | None = None,
    cash: bool = True,
) -> pd.DataFrame:
    """Rows behind commission on cash collected (cash=True) or on invoices issued in the period."""
    parts = _cash_parts(snap, as_of, period_days, filters, scope)
    r = rows(snap)
    keep = parts["cash"] != 0 if cash else parts["issued"]
    pick = parts["pick"][keep]
    inv = r.inv[pick]
    extra = {"invoice_amount_cents": snap.inv_base[inv]}
    if cash:
        extra["collected_cents"] = parts["collected"][keep]
        extra["commission_cents"] = r.earned_base[pick]
    own = parts["own_cash"][keep] if cash else None
    frame = row_frame(
        snap, pick, parts["cash"][keep] if cash else parts["invoiced"][keep], extra, own
    )
    # narrower: the cash basis does not depend on when the commission was paid or its stated rate
    return frame.drop(columns=["rep_name", "settled_on", "rate"]) if cash else frame


# ---- cached entry points for the UI (memoised per data version, scope, filters and as-of) -------

cached_tiles = cached(tiles)
cached_top_reps = cached(top_reps)
cached_monthly = cached(monthly)
cached_by_group = cached(by_group)
cached_at_risk_by_rep = cached(at_risk_by_rep)
cached_cash_and_invoiced = cached(cash_and_invoiced)
cached_drill = cached(maxsize=16, shared=False)(drill)  # rows: per process
