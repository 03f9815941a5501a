"""The ledger as of any date, for a selection of customers.

A Selection is the set of customers a (filters, scope) pair leaves, with daily flow series whose
running sums give AR, credit sales, collections, write-offs and unapplied credits at any date in
O(1). Open items at one date D come from the precomputed settlement dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from dashboard.data.ledger_load import NO_DATE
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import Snapshot, sum_by, to_day

MAX_CACHED_SELECTIONS = 64


def customer_mask(snap: Snapshot, filters: Filters, scope: Scope) -> np.ndarray:
    """Customers left by the scope, then the filters (the scope is applied first)."""
    mask = np.ones(snap.n_customers, dtype=bool)
    if scope.sales_rep_ids is not None:
        mask &= np.isin(snap.cust_rep, list(scope.sales_rep_ids))
    if scope.regions is not None:
        mask &= np.isin(snap.region, list(scope.regions))
    if scope.segments is not None:
        mask &= np.isin(snap.segment, list(scope.segments))
    for value, column in (
        (filters.segment, snap.segment),
        (filters.region, snap.region),
        (filters.tier, snap.tier),
        (filters.sales_rep, snap.cust_rep),
    ):
        if value:
            mask &= column == value
    if filters.terms_group:
        mask &= snap.short_terms if filters.terms_group == "short" else ~snap.short_terms
    return mask


@dataclass
class Selection:
    """The selected customers and the running totals of their ledger, by day."""

    snap: Snapshot
    cust_mask: np.ndarray
    inv: np.ndarray  # selected positive invoices
    inv_issue: np.ndarray
    inv_settle: np.ndarray
    unclean: np.ndarray  # selected invoices whose AR must be computed directly
    cum_ar: np.ndarray
    cum_sales: np.ndarray
    cum_collections: np.ndarray
    cum_write_offs: np.ndarray
    cum_unapplied: np.ndarray

    def at(self, cum: np.ndarray, day: int) -> int:
        """A running total as it stood at the end of day."""
        i = day - self.snap.day0
        if i < 0:
            return 0
        return int(cum[min(i, len(cum) - 1)])

    def between(self, cum: np.ndarray, start: int, end: int) -> int:
        """The flow over the days (start, end]."""
        return self.at(cum, end) - self.at(cum, start)

    def ar(self, day: int) -> int:
        """Total AR (sum of positive open balances) at the end of day."""
        total = self.at(self.cum_ar, day)
        if len(self.unclean):
            total += int(np.maximum(open_balances(self.snap, self.unclean, day), 0).sum())
        return total


FLOWS = ("ar", "sales", "collections", "write_offs", "unapplied")
RANGE_SELECT_SHARE = 0.3  # below this share of customers, gather events by customer ranges


@dataclass
class Events:
    """Every dated amount behind the running totals, sorted by customer (CSR layout)."""

    slot: np.ndarray  # flow * ndays + day index
    cents: np.ndarray
    starts: np.ndarray  # per customer: first event position (len n_customers + 1)


def _event_parts(snap: Snapshot) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(flow, customer, day, cents) for each kind of event."""
    pos_inv = (snap.inv_cust >= 0) & ~snap.is_cn
    clean = pos_inv & snap.clean
    app_ok = clean[snap.app_inv]
    pay_ok = snap.pay_cust >= 0
    wo_ok = snap.wo_inv >= 0
    wo_inv = snap.wo_inv[wo_ok]
    loose = snap.pay_loose[snap.pay_cust[snap.pay_loose] >= 0]
    alloc = snap.alloc_loose[snap.pay_cust[snap.alloc_pay[snap.alloc_loose]] >= 0]
    alloc_pay = snap.alloc_pay[alloc]
    cn = snap.free_credit_notes
    all_inv = snap.inv_cust >= 0
    return [
        (0, snap.inv_cust[clean], snap.issue[clean], snap.amount[clean]),
        (0, snap.inv_cust[snap.app_inv[app_ok]], snap.app_date[app_ok], -snap.app_amount[app_ok]),
        (1, snap.inv_cust[all_inv], snap.issue[all_inv], snap.amount[all_inv]),
        (2, snap.pay_cust[pay_ok], snap.pay_date[pay_ok], snap.pay_amount[pay_ok]),
        (3, snap.inv_cust[wo_inv], snap.wo_date[wo_ok], snap.wo_amount[wo_ok]),
        (4, snap.pay_cust[loose], snap.pay_date[loose], snap.pay_amount[loose]),
        (4, snap.pay_cust[alloc_pay], np.maximum(snap.alloc_date[alloc], snap.pay_date[alloc_pay]), -snap.alloc_amount[alloc]),
        (4, snap.inv_cust[cn], snap.issue[cn], -snap.amount[cn]),
        (4, snap.inv_cust[snap.excess_inv], snap.excess_day, snap.excess_cents),
        (4, snap.pend_cust, snap.pend_start, snap.pend_cents),
        (4, snap.pend_cust, snap.pend_end, -snap.pend_cents),
    ]


def events(snap: Snapshot) -> Events:
    """The snapshot's events, built once and kept with it."""
    with snap.lock:
        cached = snap.cache.get("events")
    if cached is not None:
        return cached
    cust, slot, cents = [], [], []
    for flow, c, day, amount in _event_parts(snap):
        idx = day.astype(np.int64) - snap.day0
        keep = (day != NO_DATE) & (idx >= 0) & (c >= 0)
        cust.append(c[keep])
        slot.append(flow * snap.ndays + np.minimum(idx[keep], snap.ndays - 1))
        cents.append(amount[keep])
    cust_all = np.concatenate(cust)
    order = np.argsort(cust_all, kind="stable")
    built = Events(
        slot=np.concatenate(slot)[order].astype(np.int64),
        cents=np.concatenate(cents)[order],
        starts=np.searchsorted(cust_all[order], np.arange(snap.n_customers + 1)),
    )
    with snap.lock:
        snap.cache["events"] = built
    return built


def _ranges(starts: np.ndarray, customers: np.ndarray) -> np.ndarray:
    """Concatenated positions [starts[c], starts[c+1]) for each customer c."""
    lo, hi = starts[customers], starts[customers + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _running_totals(snap: Snapshot, mask: np.ndarray) -> np.ndarray:
    """Running totals by day of each flow for the customers in mask (shape flows x days)."""
    ev = events(snap)
    size = len(FLOWS) * snap.ndays
    chosen = np.flatnonzero(mask)
    if len(chosen) == len(mask):
        sums = sum_by(ev.slot, ev.cents, size)
    elif len(chosen) < RANGE_SELECT_SHARE * len(mask):
        pick = _ranges(ev.starts, chosen)
        sums = sum_by(ev.slot[pick], ev.cents[pick], size)
    else:
        per_event = np.repeat(mask, np.diff(ev.starts))
        sums = sum_by(ev.slot[per_event], ev.cents[per_event], size)
    return np.cumsum(sums.reshape(len(FLOWS), snap.ndays), axis=1)


def build_selection(snap: Snapshot, mask: np.ndarray) -> Selection:
    """Daily running totals and open-item candidates for the customers in mask."""
    everyone = bool(mask.all())
    inv_sel = (snap.inv_cust >= 0) if everyone else (mask[snap.inv_cust] & (snap.inv_cust >= 0))
    pos = inv_sel & ~snap.is_cn
    inv = np.flatnonzero(pos)
    cum = _running_totals(snap, mask)
    return Selection(
        snap=snap,
        cust_mask=mask,
        inv=inv,
        inv_issue=snap.issue[inv],
        inv_settle=snap.settle[inv],
        unclean=np.flatnonzero(pos & ~snap.clean),
        cum_ar=cum[0],
        cum_sales=cum[1],
        cum_collections=cum[2],
        cum_write_offs=cum[3],
        cum_unapplied=cum[4],
    )


def select(snap: Snapshot, filters: Filters | None = None, scope: Scope | None = None) -> Selection:
    """The (cached) selection for filters within scope."""
    filters = filters or Filters()
    scope = scope or Scope.everyone()
    key = ("selection", filters.key(), scope.key())
    with snap.lock:
        cached = snap.cache.get(key)
    if cached is not None:
        return cached
    selection = build_selection(snap, customer_mask(snap, filters, scope))
    with snap.lock:
        if len(snap.cache) >= MAX_CACHED_SELECTIONS:
            snap.cache.pop(next(iter(snap.cache)))
        snap.cache[key] = selection
    return selection


def applied_at(snap: Snapshot, inv: np.ndarray, day: int) -> np.ndarray:
    """Total applied to each invoice in inv on or before day."""
    applied = np.zeros(len(inv), dtype=np.int64)
    some = snap.first_app[inv] <= day
    if some.any():
        sub = inv[some]
        probe = (sub.astype(np.int64) << 32) | (day & 0xFFFFFFFF)
        pos = np.searchsorted(snap.app_key, probe, side="right") - 1
        applied[some] = snap.app_cum[pos]
    return applied


def open_balances(snap: Snapshot, inv: np.ndarray, day: int) -> np.ndarray:
    """Open balance of each invoice in inv at the end of day (0 if issued later)."""
    issued = snap.issue[inv] <= day
    return np.where(issued, snap.amount[inv] - applied_at(snap, inv, day), 0)


def excess_at(snap: Snapshot, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Over-applied invoices at the end of day and the amount applied beyond each one's amount."""
    inv = snap.over_applied
    excess = np.maximum(applied_at(snap, inv, day) - np.maximum(snap.amount[inv], 0), 0)
    keep = excess > 0
    return inv[keep], excess[keep]


def pending_at(snap: Snapshot, day: int) -> np.ndarray:
    """Rows of the early credit notes and write-offs still waiting for their invoice at day."""
    return np.flatnonzero((snap.pend_start <= day) & (snap.pend_end > day) & (snap.pend_cust >= 0))


@dataclass
class OpenItems:
    """Invoices with a positive open balance at D, and their balances."""

    day: int
    inv: np.ndarray
    balance: np.ndarray
    cust: np.ndarray


def open_items(sel: Selection, day: int) -> OpenItems:
    """Every selected invoice with a positive open balance at the end of day."""
    key = ("open", day)
    cache = sel.__dict__.setdefault("_open_cache", {})
    if key in cache:
        return cache[key]
    candidates = sel.inv[(sel.inv_issue <= day) & (sel.inv_settle > day)]
    if len(sel.unclean):
        candidates = np.union1d(candidates, sel.unclean[sel.snap.issue[sel.unclean] <= day])
    balance = open_balances(sel.snap, candidates, day)
    keep = balance > 0
    inv = candidates[keep]
    items = OpenItems(day=day, inv=inv, balance=balance[keep], cust=sel.snap.inv_cust[inv])
    if len(cache) > 16:
        cache.clear()
    cache[key] = items
    return items


def as_day(value: dt.date | int) -> int:
    """A date or day number as a day number."""
    return value if isinstance(value, int | np.integer) else to_day(value)
