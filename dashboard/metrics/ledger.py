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
        short = (snap.terms_days < 30) & (snap.terms_type != "eom")
        mask &= short if filters.terms_group == "short" else ~short
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


def _flow(snap: Snapshot, days: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Running sum by day of amounts dated on days."""
    idx = days.astype(np.int64) - snap.day0
    keep = (days != NO_DATE) & (idx >= 0)
    idx = np.minimum(idx[keep], snap.ndays - 1)
    return np.cumsum(sum_by(idx, cents[keep], snap.ndays))


def build_selection(snap: Snapshot, mask: np.ndarray) -> Selection:
    """Daily running totals for the customers in mask."""
    inv_sel = mask[snap.inv_cust] & (snap.inv_cust >= 0)
    pos = inv_sel & ~snap.is_cn
    inv = np.flatnonzero(pos)
    clean_inv = pos & snap.clean
    app_sel = clean_inv[snap.app_inv]
    ar_days = np.concatenate([snap.issue[clean_inv], snap.app_date[app_sel]])
    ar_cents = np.concatenate([snap.amount[clean_inv], -snap.app_amount[app_sel]])
    pay_sel = mask[snap.pay_cust] & (snap.pay_cust >= 0)
    alloc_sel = (snap.alloc_pay >= 0) & pay_sel[np.maximum(snap.alloc_pay, 0)]
    alloc_pay_date = snap.pay_date[np.maximum(snap.alloc_pay, 0)]
    alloc_effective = np.maximum(snap.alloc_date, alloc_pay_date)
    cn_free = inv_sel & snap.is_cn & (snap.applies_to < 0)
    unapplied_days = np.concatenate([snap.pay_date[pay_sel], alloc_effective[alloc_sel], snap.issue[cn_free]])
    unapplied_cents = np.concatenate([snap.pay_amount[pay_sel], -snap.alloc_amount[alloc_sel], -snap.amount[cn_free]])
    wo_sel = (snap.wo_inv >= 0) & inv_sel[np.maximum(snap.wo_inv, 0)]
    return Selection(
        snap=snap,
        cust_mask=mask,
        inv=inv,
        inv_issue=snap.issue[inv],
        inv_settle=snap.settle[inv],
        unclean=np.flatnonzero(pos & ~snap.clean),
        cum_ar=_flow(snap, ar_days, ar_cents),
        cum_sales=_flow(snap, snap.issue[inv_sel], snap.amount[inv_sel]),
        cum_collections=_flow(snap, snap.pay_date[pay_sel], snap.pay_amount[pay_sel]),
        cum_write_offs=_flow(snap, snap.wo_date[wo_sel], snap.wo_amount[wo_sel]),
        cum_unapplied=_flow(snap, unapplied_days, unapplied_cents),
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
