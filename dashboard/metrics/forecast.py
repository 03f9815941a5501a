"""Payment forecasts: by due date (Retailer), from each customer's payment behaviour plus open
promises (LeanPay), and a backtest that measures both against what was really collected.

Rules and thresholds are documented in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from dashboard.metrics import fx
from dashboard.metrics.behaviour import (
    DISPUTE_NONE,
    analytics_cache,
    avg_days_to_pay,
    customer_columns,
    dispute_state,
    invoice_rank,
    latest_promises,
    payment_delay,
    promise_arrays,
    round2,
    to_dates,
)
from dashboard.metrics.cache import shared_result
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import Selection, open_items, select
from dashboard.metrics.snapshot import NO_DATE, Snapshot, from_day, sum_by, to_day

# (a) due-date buckets: days until due = due_date - D
DUE_BUCKETS = ("Week 1", "Week 2", "Week 3", "Week 4", "Weeks 5-8", "Overdue")
DUE_BUCKET_RANGES = {
    "Week 1": (0, 7),
    "Week 2": (8, 14),
    "Week 3": (15, 21),
    "Week 4": (22, 30),
    "Weeks 5-8": (31, None),
    "Overdue": (None, -1),
}
HORIZON_WEEKS = 13
BASES = ("customer", "segment", "portfolio", "due date", "age history")
# collectability: invoices are grouped by age = days past due; bucket k holds ages [AGE_EDGES[k], AGE_EDGES[k+1])
AGE_EDGES = (0, 31, 61, 91, 121, 181, 271, 366, 546, 731)
AGE_LABELS = (
    "0-30",
    "31-60",
    "61-90",
    "91-120",
    "121-180",
    "181-270",
    "271-365",
    "366-545",
    "546-730",
    "731+",
)
# an invoice counts as paid from an age when paid within this many days of reaching it
WINDOW_DAYS = 180
# fewer observed invoices in an age bucket: the nearest bucket with enough history is used
MIN_HISTORY = 10
UNCOLLECTIBLE = "Not expected (collectability)"
DISPUTE_LABELS = np.array(["", "dispute", "litigation"], dtype=object)


def due_bucket_index(days_until_due: np.ndarray) -> np.ndarray:
    """Index into DUE_BUCKETS: 0..7 Week 1 (due today is not overdue), 8..14, 15..21, 22..30, > 30, < 0 Overdue."""
    x = np.asarray(days_until_due, dtype=np.int64)
    return np.select([x < 0, x <= 7, x <= 14, x <= 21, x <= 30], [5, 0, 1, 2, 3], default=4)


def due_date_forecast(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """Open balances at D by when they fall due (the six Retailer buckets; they sum to total AR)."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    idx = due_bucket_index(snap.due[items.inv].astype(np.int64) - day)
    amounts = sum_by(idx, items.balance, len(DUE_BUCKETS))
    counts = np.bincount(idx, minlength=len(DUE_BUCKETS))
    return pd.DataFrame(
        {
            "bucket": list(DUE_BUCKETS),
            "from_days": pd.array([DUE_BUCKET_RANGES[b][0] for b in DUE_BUCKETS], dtype="Int64"),
            "to_days": pd.array([DUE_BUCKET_RANGES[b][1] for b in DUE_BUCKETS], dtype="Int64"),
            "amount_cents": amounts,
            "invoices": counts,
        }
    )


def age_bucket(age_days: np.ndarray) -> np.ndarray:
    """Index into AGE_EDGES of each age (days past due; not yet due counts as 0)."""
    return (
        np.searchsorted(
            np.asarray(AGE_EDGES), np.maximum(np.asarray(age_days, dtype=np.int64), 0), side="right"
        )
        - 1
    )


def _applied_by(snap: Snapshot, inv: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Total applied to each invoice on or before its own day (applied_at with one day per invoice)."""
    applied = np.zeros(len(inv), dtype=np.int64)
    some = snap.first_app[inv] <= days
    if some.any():
        probe = (inv[some].astype(np.int64) << 32) | (days[some].astype(np.int64) & 0xFFFFFFFF)
        applied[some] = snap.app_cum[np.searchsorted(snap.app_key, probe, side="right") - 1]
    return applied


def _history_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    """The date-independent columns collectability() reads: the version's stored ones (written by
    the snapshot build and mapped, shared by every process), else derived once in this process."""
    stored: dict[str, np.ndarray] | None = snap.cache.get("history")
    if stored is not None:
        return stored
    cache = analytics_cache(snap)
    found: dict[str, np.ndarray] | None = cache.get("collectability_arrays")
    if found is not None:
        return found
    arrays = history_arrays(snap)
    with snap.lock:
        kept: dict[str, np.ndarray] = cache.setdefault("collectability_arrays", arrays)
    return kept


def history_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    """Invoices with a positive amount (no credit notes) in snapshot order, and the allocations made to
    them in allocation order, each with its invoice's due date, days from due to settlement, and
    (for allocations) the days from due to the allocation and the amount weighted at the booking rate.
    Depends on the ledger rows only (not on promises, disputes or notes). The snapshot store writes
    them with each version (dashboard/metrics/store.py)."""
    inv = np.flatnonzero((snap.amount > 0) & ~snap.is_cn)
    due = snap.due[inv].astype(np.int64)
    weight = snap.inv_rate_issue[inv].astype(np.float64) / fx.RATE_SCALE
    pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
    pos[inv] = np.arange(len(inv))
    alloc_inv = np.asarray(snap.alloc_inv)
    a_at = np.where(alloc_inv >= 0, pos[np.where(alloc_inv >= 0, alloc_inv, 0)], -1)
    mine = np.flatnonzero(a_at >= 0)
    a_pos = a_at[mine]
    open_days = snap.settle[inv].astype(np.int64) - due  # settle > due + age  <=>  open_days > age
    return {
        "inv": inv,
        "due": due,
        "open_days": open_days,
        "weight": weight,
        "a_pos": a_pos,
        "a_due": due[a_pos],
        "a_open_days": open_days[a_pos],
        "a_after_due": snap.alloc_date[mine].astype(np.int64) - due[a_pos],
        "a_weighted": np.asarray(snap.alloc_amount)[mine] * weight[a_pos],
    }


# history columns whose rows only grow when ledger rows are appended (the next version appends
# to their files); open_days and a_open_days follow settlement, which new rows change
HISTORY_APPENDED = ("inv", "due", "weight", "a_pos", "a_due", "a_after_due", "a_weighted")


def next_history_arrays(
    history: dict[str, np.ndarray],
    prev: Snapshot,
    snap: Snapshot,
    extend: Callable[[str, np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """history_arrays(snap) from prev's (history), when snap is prev plus appended ledger rows:
    the new invoices and allocations added, the days open to settlement taken again. extend(name,
    old, new): the column name's old values followed by new ones (default np.concatenate; the
    builder's appends them to the previous version's file, see store.Staging)."""

    def grown(name: str, new: np.ndarray) -> np.ndarray:
        old = np.asarray(history[name])
        return np.concatenate([old, new]) if extend is None else extend(name, old, new)

    n_inv, n_alloc = len(prev.amount), len(prev.alloc_inv)
    new_inv = n_inv + np.flatnonzero((snap.amount[n_inv:] > 0) & ~snap.is_cn[n_inv:])
    inv = grown("inv", new_inv)
    new_due = snap.due[new_inv].astype(np.int64)
    due = grown("due", new_due)
    weight = grown("weight", snap.inv_rate_issue[new_inv].astype(np.float64) / fx.RATE_SCALE)
    # the new allocations to those invoices (old or new): their position among inv (ascending)
    alloc_inv = np.asarray(snap.alloc_inv[n_alloc:], dtype=np.int64)
    at = np.minimum(np.searchsorted(inv, alloc_inv), max(len(inv) - 1, 0))
    mine = np.flatnonzero((alloc_inv >= 0) & (inv[at] == alloc_inv)) if len(inv) else at[:0]
    a_pos = at[mine]
    open_days = snap.settle[inv].astype(np.int64) - due
    all_pos = grown("a_pos", a_pos)
    return {
        "inv": inv,
        "due": due,
        "open_days": open_days,
        "weight": weight,
        "a_pos": all_pos,
        "a_due": grown("a_due", due[a_pos]),
        "a_open_days": open_days[all_pos],
        "a_after_due": grown(
            "a_after_due", snap.alloc_date[n_alloc + mine].astype(np.int64) - due[a_pos]
        ),
        "a_weighted": grown(
            "a_weighted", np.asarray(snap.alloc_amount)[n_alloc + mine] * weight[a_pos]
        ),
    }


COLLECTABILITY_MEMO = 64  # collectability tables kept per snapshot (one per as-of day and setting)


def collectability(
    snap: Snapshot, day: int, window: int = WINDOW_DAYS, min_history: int = MIN_HISTORY
) -> pd.DataFrame:
    """Per age bucket, what the ledger's own history before `day` says about balances that reached that age.

    An invoice reaches age a when it is still open a days after its due date; it is observed there when
    due + a + window <= day (its whole window has passed). share = payments applied within `window` days
    after due + a / the balances open at due + a, over the observed invoices (amount-weighted, each
    currency at its booking rate); median_days = median days from due + a to those payments. Buckets with
    fewer than `min_history` observed invoices borrow the nearest younger bucket with enough history,
    else the nearest older one (`basis` says which; no history at all: everything expected).

    It reads the whole ledger (not a selection), so the table is kept per snapshot and day: every
    forecast, filter and backtest date of one data version shares it. Treat it as read-only.
    """
    cache = analytics_cache(snap)
    memo = cache.setdefault("collectability", {})
    key = (int(day), int(window), int(min_history))
    found: pd.DataFrame | None = memo.get(key)
    if found is not None:
        return found
    # computed by one worker of the version and shared (Redis), like the cached figures
    table = shared_result(snap, _collectability, int(day), int(window), int(min_history))
    with snap.lock:
        if len(memo) >= COLLECTABILITY_MEMO:
            memo.pop(next(iter(memo)))
        kept: pd.DataFrame = memo.setdefault(key, table)
    return kept


def _collectability(snap: Snapshot, day: int, window: int, min_history: int) -> pd.DataFrame:
    """collectability() computed (per age bucket: one pass over the invoices and one over the allocations)."""
    h = _history_arrays(snap)
    inv, due, open_days, weight = h["inv"], h["due"], h["open_days"], h["weight"]
    a_pos, a_due, a_open, a_after = h["a_pos"], h["a_due"], h["a_open_days"], h["a_after_due"]
    n = len(AGE_EDGES)
    observed, paid = np.zeros(n, np.int64), np.zeros(n, np.int64)
    open_w, paid_w, median = np.zeros(n), np.zeros(n), np.full(n, np.nan)
    hit = np.zeros(len(inv), dtype=bool)
    # The invoices observed at an age are a subset of those observed at the younger one (an earlier
    # due date, open longer), and so are the allocations to them: each age filters the previous
    # age's positions (ascending, as a pass over every row gives them) instead of every row.
    idx = np.arange(len(inv))
    observed_allocs = np.arange(len(a_pos))
    for k, age in enumerate(AGE_EDGES):
        last_due = (
            day - window - age
        )  # reached age a with its whole window passed: due + a + window <= day
        idx = idx[(due[idx] <= last_due) & (open_days[idx] > age)]
        observed_allocs = observed_allocs[
            (a_due[observed_allocs] <= last_due) & (a_open[observed_allocs] > age)
        ]
        # paid within the window after reaching the age, to an invoice observed there
        after = a_after[observed_allocs]
        won = observed_allocs[(after > age) & (after <= age + window)]
        balance = snap.amount[inv[idx]] - _applied_by(snap, inv[idx], due[idx] + age)
        observed[k] = len(idx)
        hit[a_pos[won]] = True
        paid[k] = int(np.count_nonzero(hit))
        hit[a_pos[won]] = False
        open_w[k] = float((balance * weight[idx]).sum())
        paid_w[k] = float(h["a_weighted"][won].sum())
        if len(won):
            median[k] = float(np.median(a_after[won] - age))
    own = observed >= min_history
    source = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        younger = [j for j in range(k, -1, -1) if own[j]]
        older = [j for j in range(k + 1, n) if own[j]]
        source[k] = younger[0] if younger else (older[0] if older else -1)
    has = source >= 0
    src = np.where(has, source, 0)
    share = np.where(
        has & (open_w[src] > 0), np.minimum(paid_w[src] / np.maximum(open_w[src], 1e-9), 1.0), 1.0
    )
    return pd.DataFrame(
        {
            "age": list(AGE_LABELS),
            "from_days": list(AGE_EDGES),
            "observed": observed,
            "paid": paid,
            "open_cents": np.rint(open_w).astype(np.int64),
            "collected_cents": np.rint(paid_w).astype(np.int64),
            "share": share,
            "median_days": np.where(has, median[src], np.nan),
            "basis": np.where(
                ~has, "no history", np.where(source == np.arange(n), "own", "borrowed")
            ),
        }
    )


def warm_history(
    snap: Snapshot,
    as_of: dt.date | None = None,
    backtest_dates: int = 6,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Compute the collectability tables the Forecast page will ask for first, ahead of it.

    For a new snapshot version (from a background thread, so no request waits): the table at `as_of`
    (default today, the page's default as-of) and at the backtest's default past dates, each one
    only while keep_going() says so (the version is still served). They read the whole ledger, not
    a selection, so every user, filter and export of the version then finds them kept, and other
    workers find them shared (about 1 s of CPU at 1M invoices, 10-20 s at 10M, once per version).
    """
    day = as_of or dt.date.today()
    for when in [day, *default_backtest_dates(day, backtest_dates)]:
        if not keep_going():
            return
        collectability(snap, to_day(when))


def collectible_part(cents: np.ndarray, share: np.ndarray) -> np.ndarray:
    """cents x share rounded half up to whole cents (the rest is the uncollectible part)."""
    cents = np.asarray(cents, dtype=np.int64)
    part: np.ndarray = np.minimum(
        np.floor(cents * np.asarray(share, dtype=np.float64) + 0.5).astype(np.int64), cents
    )
    return part


def week_of(expected: np.ndarray, day: int) -> np.ndarray:
    """Forecast week of each expected day: D+1..D+7 is week 1."""
    return (np.asarray(expected, dtype=np.int64) - day - 1) // 7 + 1


class _Plan:
    """Each open invoice at D with its expected payment date, dispute state and open promise."""

    def __init__(
        self, snap: Snapshot, sel: Selection, day: int, history: dict[str, Any] | None = None
    ) -> None:
        items = open_items(sel, day)
        self.day = day
        self.inv, self.balance, self.cust = items.inv, items.balance, items.cust
        self.due = snap.due[self.inv].astype(np.int64)
        delay = payment_delay(snap, sel.cust_mask, day)
        own, seg, port = (
            delay["customer"][self.cust],
            delay["segment"][self.cust],
            float(delay["portfolio"]),
        )
        self.basis = np.select(
            [~np.isnan(own), ~np.isnan(seg), np.full(len(own), not np.isnan(port))],
            [0, 1, 2],
            default=3,
        )
        value = np.where(
            ~np.isnan(own), own, np.where(~np.isnan(seg), seg, 0.0 if np.isnan(port) else port)
        )
        self.delay = value
        shift = np.floor(value + 0.5).astype(np.int64)
        self.expected = np.maximum(day + 1, self.due + shift)
        self.state = dispute_state(snap, day)[self.inv]
        self.promised = np.zeros(len(self.inv), dtype=np.int64)
        self.promise_day = np.full(len(self.inv), NO_DATE, dtype=np.int64)
        self.promise_id = np.full(len(self.inv), None, dtype=object)
        self._promises(snap, day)
        self.rest = self.balance - self.promised
        self._collectability(snap, day, shift, history or {})

    def _collectability(
        self, snap: Snapshot, day: int, shift: np.ndarray, history: dict[str, Any]
    ) -> None:
        """Split the rest into the collectible part (at its expected date) and the part history says won't come.

        Overdue past the customer's usual delay: expected on D + the median days to payment from its age.
        """
        table = collectability(snap, day, **history)
        self.age = day - self.due
        k = age_bucket(self.age)
        self.share = table["share"].to_numpy()[k]
        self.collectible = collectible_part(self.rest, self.share)
        self.uncollectible = self.rest - self.collectible
        median = table["median_days"].to_numpy()[k]
        late = (self.due + shift <= day) & (self.age >= 0) & ~np.isnan(median)
        # median days, rounded half up
        wait = np.floor(np.nan_to_num(median) + 0.5).astype(np.int64)
        self.expected = np.where(late, day + np.maximum(1, wait), self.expected)
        self.basis = np.where(late, 4, self.basis)

    def _promises(self, snap: Snapshot, day: int) -> None:
        """The latest promise made on or before D of each open invoice, when its date is after D."""
        p = promise_arrays(snap)
        rows = latest_promises(snap, day)
        if not len(rows) or not len(self.inv):
            return
        pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
        pos[self.inv] = np.arange(len(self.inv))
        rows = rows[
            (pos[p["inv"][rows]] >= 0)
            & (p["promised"][rows] > day)
            & (p["promised"][rows] != NO_DATE)
        ]
        at = pos[p["inv"][rows]]
        base = fx.convert(
            p["amount"][rows], snap.rates.on(snap.inv_cur[self.inv[at]], np.full(len(at), day))
        )
        self.promised[at] = np.clip(base, 0, self.balance[at])
        self.promise_day[at] = p["promised"][rows]
        self.promise_id[at] = p["id"][rows]

    def weekly(self, horizon: int) -> dict[str, np.ndarray]:
        """Per index 0..horizon-1 (weeks), horizon (later), horizon+1 (not collectible), horizon+2 (disputed)."""
        size = horizon + 3
        excluded = horizon + 2
        day = self.day

        def idx(expected: np.ndarray) -> np.ndarray:
            week: np.ndarray = np.minimum(week_of(expected, day), horizon + 1) - 1
            return week

        has_promise = self.promised > 0
        p_idx = idx(np.where(has_promise, self.promise_day, day + 1))
        r_idx = np.where(self.state == DISPUTE_NONE, idx(self.expected), excluded)
        promised = sum_by(p_idx[has_promise], self.promised[has_promise], size)
        live = self.state == DISPUTE_NONE
        expected = promised + sum_by(r_idx, np.where(live, self.collectible, self.rest), size)
        expected[horizon + 1] = int(self.uncollectible[live].sum())
        by_due = sum_by(idx(np.maximum(day + 1, self.due)), self.balance, size)
        return {"expected": expected, "promised": promised, "by_due": by_due}


def behaviour_forecast(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    weeks: int = HORIZON_WEEKS,
    history: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Expected collections per week (week 1 = D+1..D+7) for `weeks` weeks, then Later, the part history
    says will not be collected (UNCOLLECTIBLE) and the excluded disputes.

    `expected_cents` sums to total AR at D over all rows; `promised_cents` is the part from open
    promises (converted to base at D); `by_due_date_cents` is the naive forecast (each balance at
    max(D+1, due date)). `history` passes window/min_history to collectability().
    """
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    plan = _Plan(snap, sel, day, history)
    w = plan.weekly(weeks)
    starts = [from_day(day + 1 + 7 * k) for k in range(weeks)] + [
        from_day(day + 1 + 7 * weeks),
        None,
        None,
    ]
    ends = [from_day(day + 7 * (k + 1)) for k in range(weeks)] + [None, None, None]
    return pd.DataFrame(
        {
            "bucket": [f"Week {k + 1}" for k in range(weeks)]
            + ["Later", UNCOLLECTIBLE, "Disputed (excluded)"],
            "week": pd.array(list(range(1, weeks + 1)) + [None, None, None], dtype="Int64"),
            "start": starts,
            "end": ends,
            "expected_cents": w["expected"],
            "promised_cents": w["promised"],
            "by_due_date_cents": w["by_due"],
        }
    )


def forecast_invoices(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    history: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The rows behind both forecasts: each open invoice, its due bucket, collectability, expected date, promise."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    plan = _Plan(snap, sel, day, history)
    o = np.lexsort((invoice_rank(snap)[plan.inv], plan.due))  # earliest due first, then invoice id
    inv, due, state = plan.inv[o], plan.due[o], plan.state[o]
    disputed = state != DISPUTE_NONE
    collectible = plan.collectible[o]
    expected = np.where(disputed | (collectible <= 0), NO_DATE, plan.expected[o])
    week = pd.array(np.where(expected != NO_DATE, week_of(expected, day), 0), dtype="Int64")
    week[expected == NO_DATE] = pd.NA
    return pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, plan.cust[o]),
            "due_date": to_dates(due),
            "balance_cents": plan.balance[o],
            "days_until_due": due - day,
            "due_bucket": np.array(DUE_BUCKETS, dtype=object)[due_bucket_index(due - day)],
            "dispute": DISPUTE_LABELS[state],
            "delay_days": round2(plan.delay[o]),
            "delay_basis": np.array(BASES, dtype=object)[plan.basis[o]],
            "expected_date": to_dates(expected),
            "expected_week": week,
            "age_days": np.maximum(plan.age[o], 0),
            "collectable_share": np.round(plan.share[o], 4),
            "expected_cents": np.where(disputed, 0, collectible),
            "uncollectible_cents": np.where(disputed, 0, plan.uncollectible[o]),
            "promise_id": plan.promise_id[o],
            "promised_date": to_dates(plan.promise_day[o]),
            "promised_cents": plan.promised[o],
        }
    )


def payment_behaviour(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """Per selected customer with history or a balance: own delay, the delay the forecast uses and its basis.

    `avg_delay_days` is the customer's amount-weighted (settled - due) over invoices settled by a
    payment in the last 12 months (NaN without any); `forecast_delay_days` falls back to the
    segment's, then the portfolio's average (`delay_basis`); `avg_days_to_pay` as in Credit utilization.
    """
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    delay = payment_delay(snap, sel.cust_mask, day)
    settled = delay["customer_count"]
    items = open_items(sel, day)
    balance = sum_by(items.cust, items.balance, snap.n_customers)
    dtp, _ = avg_days_to_pay(snap, sel.cust_mask, day)
    cust = np.flatnonzero(((settled > 0) | (balance > 0)) & sel.cust_mask)
    own, seg, port = delay["customer"][cust], delay["segment"][cust], float(delay["portfolio"])
    basis = np.select(
        [~np.isnan(own), ~np.isnan(seg), np.full(len(cust), not np.isnan(port))],
        [0, 1, 2],
        default=3,
    )
    used = np.where(
        ~np.isnan(own), own, np.where(~np.isnan(seg), seg, 0.0 if np.isnan(port) else port)
    )
    return pd.DataFrame(
        {
            **customer_columns(snap, cust),
            "open_cents": balance[cust],
            "settled_12m": settled[cust].astype(np.int64),
            "avg_delay_days": round2(own),
            "forecast_delay_days": round2(used),
            "delay_basis": np.array(BASES, dtype=object)[basis],
            "avg_days_to_pay": round2(dtp[cust]),
        }
    )


def default_backtest_dates(
    as_of: dt.date, count: int = 6, horizon_weeks: int = HORIZON_WEEKS, step_days: int = 28
) -> list[dt.date]:
    """count as-of dates, step_days apart, the latest whose whole horizon has passed by as_of; oldest first."""
    last = as_of - dt.timedelta(days=7 * horizon_weeks)
    return [last - dt.timedelta(days=step_days * k) for k in range(count - 1, -1, -1)]


def _wape(forecast: np.ndarray, actual: np.ndarray) -> float | None:
    total = float(np.sum(actual))
    if total <= 0:
        return None
    return float(
        round2(np.abs(np.asarray(forecast, dtype=np.float64) - actual).sum() / total * 100)
    )


def actual_collections(
    snap: Snapshot, sel: Selection, day: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Allocations dated in (day, day + 7 x horizon] to invoices open at day, summed per week; and those invoices."""
    items = open_items(sel, day)
    open_mask = np.zeros(len(snap.inv_ids), dtype=bool)
    open_mask[items.inv] = True
    ad = snap.alloc_date.astype(np.int64)
    m = (snap.alloc_inv >= 0) & (ad > day) & (ad <= day + 7 * horizon)
    m[m] = open_mask[snap.alloc_inv[m]]
    base = fx.convert(snap.alloc_amount[m], snap.rates.on(snap.inv_cur[snap.alloc_inv[m]], ad[m]))
    return sum_by(week_of(ad[m], day) - 1, base, horizon), items.inv


def forecast_backtest(
    snap: Snapshot,
    as_of_dates: Iterable[dt.date],
    filters: Filters | None = None,
    scope: Scope | None = None,
    horizon_weeks: int = HORIZON_WEEKS,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Run both forecasts at past dates and compare them with what was collected, week by week.

    Actual = payment allocations dated in each week to the invoices open at that date, in base
    currency at each allocation's date. The behaviour forecast learns collectability only from
    history before each past date. Only weeks
    that end on or before `as_of` (the reporting date; no cap when None) are compared. WAPE =
    sum |forecast - actual| / sum actual x 100, per date and over every compared week of every date.
    """
    sel = select(snap, filters, scope)
    cap = to_day(as_of) if as_of is not None else None
    week_rows, date_rows = [], []
    for t in sorted(set(as_of_dates)):
        day = to_day(t)
        plan = _Plan(snap, sel, day)
        w = plan.weekly(horizon_weeks)
        actual, _ = actual_collections(snap, sel, day, horizon_weeks)
        ends = day + 7 * np.arange(1, horizon_weeks + 1)
        keep = ends <= cap if cap is not None else np.ones(horizon_weeks, dtype=bool)
        f_b, f_d, a = (
            w["expected"][:horizon_weeks][keep],
            w["by_due"][:horizon_weeks][keep],
            actual[keep],
        )
        for k in np.flatnonzero(keep):
            week_rows.append(
                {
                    "as_of": t,
                    "week": int(k + 1),
                    "start": from_day(day + 1 + 7 * int(k)),
                    "end": from_day(int(ends[k])),
                    "actual_cents": int(actual[k]),
                    "behaviour_cents": int(w["expected"][k]),
                    "due_date_cents": int(w["by_due"][k]),
                }
            )
        date_rows.append(
            {
                "as_of": t,
                "weeks_compared": int(keep.sum()),
                "open_ar_cents": int(plan.balance.sum()),
                "actual_cents": int(a.sum()),
                "behaviour_cents": int(f_b.sum()),
                "due_date_cents": int(f_d.sum()),
                "wape_behaviour": _wape(f_b, a),
                "wape_due_date": _wape(f_d, a),
            }
        )
    weeks = pd.DataFrame(
        week_rows,
        columns=[
            "as_of",
            "week",
            "start",
            "end",
            "actual_cents",
            "behaviour_cents",
            "due_date_cents",
        ],
    )
    by_date = pd.DataFrame(
        date_rows,
        columns=[
            "as_of",
            "weeks_compared",
            "open_ar_cents",
            "actual_cents",
            "behaviour_cents",
            "due_date_cents",
            "wape_behaviour",
            "wape_due_date",
        ],
    )
    for col in ("actual_cents", "behaviour_cents", "due_date_cents"):
        weeks[col] = weeks[col].astype(np.int64)
    actual_all = weeks["actual_cents"].to_numpy(dtype=np.float64)
    return {
        "by_date": by_date,
        "weeks": weeks,
        "overall": {
            "dates": len(by_date),
            "weeks_compared": len(weeks),
            "actual_cents": int(weeks["actual_cents"].sum()),
            "wape_behaviour": _wape(weeks["behaviour_cents"].to_numpy(), actual_all),
            "wape_due_date": _wape(weeks["due_date_cents"].to_numpy(), actual_all),
        },
    }


def chosen_weekly(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    weeks: int = HORIZON_WEEKS,
    base: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, bool, str]:
    """The Forecast page's weekly frame: the prediction model's where its backtest beats the baselines, else
    behaviour_forecast (or `base`, its cached result); with whether the model is used and why (the page and
    its exports share it)."""
    from dashboard.metrics import predict_ui, predict_views  # lazy (a): both import this module

    frame = behaviour_forecast(snap, as_of, filters, scope, weeks) if base is None else base
    result = predict_ui.backtest(snap, filters, scope)
    choice = (
        {"use_model": False, "why": "no prediction model is trained for this data version yet"}
        if result is None
        else result["decision"]
    )
    if choice["use_model"]:
        pred, _ = predict_ui.predictions(snap, as_of, filters, scope)
        frame = predict_views.model_weekly_frame(pred, frame, weeks)
    return frame, bool(choice["use_model"]), str(choice["why"])
