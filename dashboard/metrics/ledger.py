"""The ledger as of any date, for a selection of customers.

A Selection is the set of customers a (filters, scope) pair leaves, with daily flow series whose
running sums give AR, credit sales, collections, write-offs and unapplied credits at any date in
O(1). Open items at one date D come from the precomputed settlement dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.data.ledger_load import NO_DATE
from dashboard.metrics.cache import byte_budget
from dashboard.metrics.columns import CUSTOMER_TEXT
from dashboard.metrics.columns import cache_key as text_key
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.fx import convert
from dashboard.metrics.snapshot import (
    KIND_CREDIT,
    Snapshot,
    from_day,
    runs,
    search,
    sum_by,
    to_day,
)
from dashboard.metrics.store import day_arrays, derived

if TYPE_CHECKING:
    from dashboard.metrics.store import Staging

MAX_CACHED_SELECTIONS = 64
# The selections and per-day items kept with a snapshot are bounded by count and by the bytes of
# their arrays: this share of AR_CACHE_MAX_MB (at 10M invoices the selection of every customer
# holds about 190 MB, and the open items of one date about 20 MB).
SELECTION_SHARE = 0.5
OPEN_DAYS_KEPT = 4  # open items kept per selection: the dates asked for last
# AR at a day kept per selection: the trends ask for the same month ends and the days a period
# before them whatever the as-of date in the month, so most of a new as-of date's 24 are known
AR_DAYS_KEPT = 2048


def customer_mask(snap: Snapshot, filters: Filters, scope: Scope) -> np.ndarray:
    """Customers left by the scope, then the filters (the scope is applied first)."""
    mask = np.ones(snap.n_customers, dtype=bool)
    if scope.sales_rep_ids is not None:
        mask &= np.isin(snap.cust_rep, list(scope.sales_rep_ids))
    if scope.regions is not None:
        mask &= np.isin(snap.region, list(scope.regions))
    if scope.segments is not None:
        mask &= np.isin(snap.segment, list(scope.segments))
    for name in FILTER_ATTRIBUTES:
        value = getattr(filters, name)
        if value:
            coded = attribute_codes(snap, name)
            at = int(np.searchsorted(coded["values"], value))
            found = at < len(coded["values"]) and coded["values"][at] == value
            mask &= (np.asarray(coded["codes"]) == at) if found else False
    return mask


FILTER_ATTRIBUTES = ("segment", "region", "tier", "sales_rep", "terms_group")


def attribute_column(snap: Snapshot, name: str) -> np.ndarray:
    """Each customer's value of a filter attribute as text ("" where it has none; terms_group is
    "short" or "long")."""
    if name == "terms_group":
        return np.where(snap.short_terms, "short", "long")
    column = snap.cust_rep if name == "sales_rep" else getattr(snap, name)
    return np.array(["" if v is None or v != v else str(v) for v in column], dtype=str)


def attribute_codes(snap: Snapshot, name: str) -> dict[str, np.ndarray]:
    """The sorted distinct values of a filter attribute (`values`) and each customer's position
    among them (`codes`), built once per version and machine beside the columns: a filter is an
    integer comparison, not one of strings per customer (36 ms for a sales rep at 500k)."""

    def build() -> dict[str, np.ndarray]:
        values, codes = np.unique(attribute_column(snap, name), return_inverse=True)
        return {"values": values, "codes": codes.astype(np.int32)}

    return derived(snap, f"codes_{name}", build)


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
    cum_unapplied: np.ndarray  # base-currency items only when the ledger has several currencies
    cum_by_currency: np.ndarray  # currencies x flows x days; AR and unapplied in own units
    # selected positive invoices in a currency other than the base, by issue date
    foreign: np.ndarray
    foreign_issue: np.ndarray
    foreign_settle: np.ndarray
    # (name, row) of this selection's AR at every month end in month_end_ar (None: computed)
    month_ends: tuple[str, int] | None = None

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
        """Total AR (sum of positive open balances) at the end of day, in base cents.

        Base-currency invoices come from the running totals; invoices in other currencies are
        revalued one by one at day's rates (each rounded, as the contract asks).
        """
        cache: dict[int, int] = self.__dict__.setdefault("_ar_cache", {})
        if day in cache:
            return cache[day]
        stored = _stored_ar(self, day)
        if stored is None:  # the open items of day when kept (the date's KPIs): their sum
            items: OpenItems | None = self.__dict__.get("_open_cache", {}).get(("open", day))
            stored = int(items.balance.sum()) if items is not None else None
        total = stored if stored is not None else self._computed_ar(day)
        if len(cache) > AR_DAYS_KEPT:
            cache.clear()
        cache[day] = total
        return total

    def _computed_ar(self, day: int) -> int:
        """ar(day) from the running totals and the open invoices (never from month_end_ar)."""
        snap = self.snap
        total = self.at(self.cum_ar, day)
        unclean = self.unclean[snap.inv_cur[self.unclean] == 0] if snap.multi else self.unclean
        if len(unclean):
            total += int(np.maximum(open_balances(snap, unclean, day), 0).sum())
        if snap.multi and len(self.foreign):
            # sorted by issue date
            issued = int(search(self.foreign_issue, day, side="right"))
            open_ = self.foreign[:issued][self.foreign_settle[:issued] > day]
            balance = open_balances(snap, open_, day)
            keep = balance > 0
            total += int(revalue(snap, balance[keep], snap.inv_cur[open_[keep]], day).sum())
        return total


FLOWS = ("ar", "sales", "collections", "write_offs", "unapplied")
RANGE_SELECT_SHARE = 0.3  # below this share of customers, gather events by customer ranges


@dataclass
class Events:
    """Every dated amount behind the running totals, sorted by customer (CSR layout)."""

    slot: np.ndarray  # flow * ndays + day index
    cents: np.ndarray
    starts: np.ndarray  # per customer: first event position (len n_customers + 1)


def _event_parts(
    snap: Snapshot, only: np.ndarray | None = None
) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray | int]]:
    """(flow, customer, day, cents, currency) for each kind of event (only: of the customers in
    this mask alone).

    Sales, collections and write-offs are in base cents (converted at their own date); AR and
    unapplied credits stay in each item's own currency, revalued when a date is asked for.
    """

    def mine(cust: np.ndarray) -> np.ndarray:
        """Known customers (and, with only, those in it)."""
        known = cust >= 0
        return known if only is None else known & only[np.maximum(cust, 0)]

    all_inv = mine(snap.inv_cust)
    pos_inv = all_inv & ~snap.is_cn
    clean = pos_inv & snap.clean
    app_ok = clean[snap.app_inv]
    pay_ok = mine(snap.pay_cust)
    wo_ok = snap.wo_inv >= 0
    wo_ok[wo_ok] = all_inv[snap.wo_inv[wo_ok]]
    wo_inv = snap.wo_inv[wo_ok]
    loose = snap.pay_loose[pay_ok[snap.pay_loose]]
    alloc = snap.alloc_loose[pay_ok[snap.alloc_pay[snap.alloc_loose]]]
    alloc_pay = snap.alloc_pay[alloc]
    cn = snap.free_credit_notes[all_inv[snap.free_credit_notes]]
    excess = snap.excess_inv[all_inv[snap.excess_inv]] if only is not None else snap.excess_inv
    excess_at = all_inv[snap.excess_inv] if only is not None else slice(None)
    pend = mine(snap.pend_cust) if only is not None else slice(None)
    app_inv = snap.app_inv[app_ok]
    return [
        (0, snap.inv_cust[clean], snap.issue[clean], snap.amount[clean], snap.inv_cur[clean]),
        (
            0,
            snap.inv_cust[app_inv],
            snap.app_date[app_ok],
            -snap.app_amount[app_ok],
            snap.inv_cur[app_inv],
        ),
        (1, snap.inv_cust[all_inv], snap.issue[all_inv], snap.inv_base[all_inv], 0),
        (2, snap.pay_cust[pay_ok], snap.pay_date[pay_ok], snap.pay_base[pay_ok], 0),
        (3, snap.inv_cust[wo_inv], snap.wo_date[wo_ok], snap.wo_base[wo_ok], 0),
        (
            4,
            snap.pay_cust[loose],
            snap.pay_date[loose],
            snap.pay_amount[loose],
            snap.pay_cur[loose],
        ),
        (
            4,
            snap.pay_cust[alloc_pay],
            np.maximum(snap.alloc_date[alloc], snap.pay_date[alloc_pay]),
            -snap.alloc_amount[alloc],
            snap.pay_cur[alloc_pay],
        ),
        (4, snap.inv_cust[cn], snap.issue[cn], -snap.amount[cn], snap.inv_cur[cn]),
        (
            4,
            snap.inv_cust[excess],
            snap.excess_day[excess_at],
            snap.excess_cents[excess_at],
            snap.inv_cur[excess],
        ),
        (
            4,
            snap.pend_cust[pend],
            snap.pend_start[pend],
            snap.pend_cents[pend],
            snap.pend_cur[pend],
        ),
        (4, snap.pend_cust[pend], snap.pend_end[pend], -snap.pend_cents[pend], snap.pend_cur[pend]),
    ]


def events(snap: Snapshot) -> Events:
    """The snapshot's events, built once and kept with it."""
    with snap.lock:
        cached: Events | None = snap.cache.get("events")
    if cached is not None:
        return cached
    built = _build_events(snap)
    with snap.lock:
        snap.cache["events"] = built
    return built


def _build_events(snap: Snapshot, only: np.ndarray | None = None) -> Events:
    """The events of every customer, or (only: a mask per customer) of those customers alone: the
    same events in the same order as theirs in the whole set."""
    cust, slot, cents = [], [], []
    for flow, c, day, amount, cur in _event_parts(snap, only):
        idx = day.astype(np.int64) - snap.day0
        keep = (day != NO_DATE) & (idx >= 0) & (c >= 0)
        group = np.asarray(cur, dtype=np.int64)
        group = group[keep] if group.ndim else group
        cust.append(c[keep])
        slot.append(
            (group * len(FLOWS) + flow) * snap.ndays + np.minimum(idx[keep], snap.ndays - 1)
        )
        cents.append(amount[keep])
    cust_all = np.concatenate(cust).astype(np.int64)
    # grouped by customer, in part order within one: an unstable sort of (customer, row) packed in
    # one int64 gives the stable order ~3x quicker than a stable sort of the customers
    order = np.argsort(cust_all * len(cust_all) + np.arange(len(cust_all), dtype=np.int64))
    counts = np.bincount(cust_all, minlength=snap.n_customers)[: snap.n_customers]
    return Events(
        slot=np.concatenate(slot)[order].astype(np.int64),
        cents=np.concatenate(cents)[order],
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )


def next_events(
    prev: Snapshot, snap: Snapshot, touched: np.ndarray, staging: Staging | None = None
) -> Events:
    """snap's events from prev's, when snap is prev plus appended ledger rows whose events (and
    those of every row whose derived figures they change) all belong to the customers in touched
    (a mask per customer): those customers' events built again, every other customer's kept, in
    the order events(snap) gives. Without a shared day range, events(snap). With staging (the
    next version's directory) and prev's events mapped from its files, the kept runs are copied
    file to file into the new version's event files (no copy in this process)."""
    old = events(prev)
    if snap.day0 != prev.day0 or snap.ndays < prev.ndays or snap.n_customers != prev.n_customers:
        return events(snap)
    fresh = _build_events(snap, touched)
    old_starts = np.asarray(old.starts)
    counts = np.diff(old_starts)
    fresh_counts = np.diff(fresh.starts)
    starts = np.concatenate([[0], np.cumsum(np.where(touched, fresh_counts, counts))]).astype(
        np.int64
    )
    hit = np.flatnonzero(touched)
    lows, highs = np.r_[0, hit + 1], np.r_[hit, len(touched)]
    if staging is not None and all(
        isinstance(a, np.memmap) and a.dtype == b.dtype
        for a, b in ((old.slot, fresh.slot), (old.cents, fresh.cents))
    ):
        built = Events(
            slot=staging.pieces(
                "events_slot",
                old.slot,
                _pieces(old_starts, lows, highs, fresh.slot, fresh.starts, hit),
                None
                if snap.ndays == prev.ndays
                else lambda s: s // prev.ndays * snap.ndays + s % prev.ndays,
            ),
            cents=staging.pieces(
                "events_cents",
                old.cents,
                _pieces(old_starts, lows, highs, fresh.cents, fresh.starts, hit),
            ),
            starts=starts,
        )
        with snap.lock:
            snap.cache["events"] = built
        return built
    old_slot, old_cents = np.asarray(old.slot), np.asarray(old.cents)
    slot = np.empty(int(starts[-1]), dtype=np.int64)
    cents = np.empty(int(starts[-1]), dtype=old_cents.dtype)
    # the customers between two touched ones keep their events: one contiguous run in both versions
    # (a slice copy, no per-event gather); the touched customers' fresh events go in between
    # the same days over a longer range: slot = group-flow * ndays + day, moved to the new ndays
    wider = snap.ndays != prev.ndays
    for lo, hi in zip(lows[lows < highs].tolist(), highs[lows < highs].tolist(), strict=True):
        src, dst = slice(old_starts[lo], old_starts[hi]), slice(starts[lo], starts[hi])
        if wider:
            group_flow, day = np.divmod(old_slot[src], prev.ndays)
            slot[dst] = group_flow * snap.ndays + day
        else:
            slot[dst] = old_slot[src]
        cents[dst] = old_cents[src]
    n_fresh = fresh_counts[hit]
    at = np.repeat(starts[hit] - fresh.starts[hit], n_fresh) + np.arange(
        int(n_fresh.sum()), dtype=np.int64
    )
    # fresh holds only the touched customers' events, in customer order: event j of customer c
    # (fresh.starts[c] <= j) goes to starts[c] + j - fresh.starts[c]
    slot[at] = fresh.slot
    cents[at] = fresh.cents
    built = Events(slot=slot, cents=cents, starts=starts)
    with snap.lock:
        snap.cache["events"] = built
    return built


def _pieces(
    old_starts: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    fresh: np.ndarray,
    fresh_starts: np.ndarray,
    hit: np.ndarray,
) -> list[tuple[int, int] | np.ndarray]:
    """The next version's events in order: each run of kept customers [lows[i], highs[i]) as a
    range of the old events, then touched customer hit[i]'s fresh events (fresh: only theirs)."""
    parts: list[tuple[int, int] | np.ndarray] = []
    for i, (lo, hi) in enumerate(zip(lows.tolist(), highs.tolist(), strict=True)):
        if hi > lo:
            parts.append((int(old_starts[lo]), int(old_starts[hi])))
        if i < len(hit):
            c = int(hit[i])
            if fresh_starts[c + 1] > fresh_starts[c]:
                parts.append(fresh[fresh_starts[c] : fresh_starts[c + 1]])
    return parts


def _ranges(starts: np.ndarray, customers: np.ndarray) -> npt.NDArray[np.int64]:
    """Concatenated positions [starts[c], starts[c+1]) for each customer c."""
    return runs(starts[customers], starts[customers + 1])


def _running_totals(snap: Snapshot, mask: np.ndarray) -> np.ndarray:
    """Running totals by day of each flow for the customers in mask (currencies x flows x days)."""
    ev = events(snap)
    groups = len(snap.rates.codes)
    size = groups * len(FLOWS) * snap.ndays
    chosen = np.flatnonzero(mask)
    if len(chosen) == len(mask):
        sums = sum_by(ev.slot, ev.cents, size)
    elif len(chosen) < RANGE_SELECT_SHARE * len(mask):
        pick = _ranges(ev.starts, chosen)
        sums = sum_by(ev.slot[pick], ev.cents[pick], size)
    else:
        per_event = np.repeat(mask, np.diff(ev.starts))
        sums = sum_by(ev.slot[per_event], ev.cents[per_event], size)
    return np.cumsum(sums.reshape(groups, len(FLOWS), snap.ndays), axis=2)


# a filter on one alone (within an unrestricted scope): stored selection
ATTRIBUTE_TOTALS = ("segment", "region", "tier", "terms_group")
ALL_CUSTOMERS = "all"  # month_end_ar of the selection of every customer
SMALL_SELECTION_SHARE = 0.02  # below this share of customers, a selection's invoices by customer
SELECTION_PARTS = ("inv", "unclean", "foreign")  # invoice lists (by position; foreign by issue)


def attribute_totals(snap: Snapshot, name: str) -> dict[str, np.ndarray]:
    """Every value of a customer attribute with its selection ready-made: running totals (values x
    currencies x flows x days), the invoice lists of build_selection one value after another
    (`<part>` with `<part>_starts` per value, and `<part>_issue` and `<part>_settle` beside them),
    and each customer's value code. Built once per version and machine beside the columns
    (dashboard.metrics.store.derived_arrays) and mapped by every process, so the selection of a
    segment, region or tier is a few slices of shared pages, neither summed nor kept privately."""
    return derived(snap, f"attribute_{name}", lambda: _totals(snap, name))


def _totals(snap: Snapshot, name: str) -> dict[str, np.ndarray]:
    coded = attribute_codes(snap, name)
    values, codes = np.asarray(coded["values"]), np.asarray(coded["codes"])
    ev = events(snap)
    size = len(snap.rates.codes) * len(FLOWS) * snap.ndays
    per_event = np.repeat(codes.astype(np.int64), np.diff(np.asarray(ev.starts)))
    sums = sum_by(per_event * size + np.asarray(ev.slot), np.asarray(ev.cents), len(values) * size)
    shape = (len(values), len(snap.rates.codes), len(FLOWS), snap.ndays)
    out = {
        "values": values,
        "codes": codes.astype(np.int32),
        "cum": np.cumsum(sums.reshape(shape), axis=3),
    }
    known = snap.inv_cust >= 0
    inv_code = np.zeros(len(snap.inv_cust), dtype=np.int64)
    inv_code[known] = codes[snap.inv_cust[known]]
    lists = _invoice_lists(snap, known)
    for part in SELECTION_PARTS:
        # grouped by value, each value's list in its own order (a stable sort of the codes)
        inv = lists[part][np.argsort(inv_code[lists[part]], kind="stable")]
        counts = np.bincount(inv_code[inv], minlength=len(values))
        out[part] = inv
        out[f"{part}_starts"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        out[f"{part}_issue"] = snap.issue[inv]
        out[f"{part}_settle"] = snap.settle[inv]
    return out


def _invoice_lists(snap: Snapshot, inv_sel: np.ndarray) -> dict[str, np.ndarray]:
    """A selection's positive invoices and those whose AR is computed directly (unclean), both by
    position, and those in other currencies by issue date (inv_sel: a mask per invoice)."""
    pos = inv_sel & ~snap.is_cn
    foreign = np.flatnonzero(pos & (snap.inv_cur != 0)) if snap.multi else np.zeros(0, np.int64)
    return {
        "inv": np.flatnonzero(pos),
        "unclean": np.flatnonzero(pos & ~snap.clean),
        "foreign": _by_issue(snap, foreign),
    }


def _lists_of(snap: Snapshot, inv: np.ndarray) -> dict[str, np.ndarray]:
    """_invoice_lists of a selection's positive invoices inv (by position)."""
    foreign = inv[snap.inv_cur[inv] != 0] if snap.multi else np.zeros(0, np.int64)
    return {"inv": inv, "unclean": inv[~snap.clean[inv]], "foreign": _by_issue(snap, foreign)}


def _by_issue(snap: Snapshot, inv: np.ndarray) -> np.ndarray:
    """inv by issue date, ties by position."""
    return inv[np.argsort(snap.issue[inv], kind="stable")]


def _stored_selection(
    snap: Snapshot, mask: np.ndarray, attribute: tuple[str, str]
) -> dict[str, Any] | None:
    """The invoice lists and running totals of the customers whose attribute has this value, when
    they are exactly the customers in mask (else None: build_selection computes them)."""
    name, value = attribute
    stored = attribute_totals(snap, name)
    at = int(np.searchsorted(stored["values"], value))
    if at >= len(stored["values"]) or stored["values"][at] != value:
        return None
    if not np.array_equal(np.asarray(stored["codes"]) == at, mask):
        return None
    out: dict[str, Any] = {"cum": stored["cum"][at], "row": at}
    for part in SELECTION_PARTS:
        lo, hi = (int(v) for v in stored[f"{part}_starts"][at : at + 2])
        for key in (part, f"{part}_issue", f"{part}_settle"):
            out[key] = stored[key][lo:hi]
    return out


def month_end_days(snap: Snapshot) -> np.ndarray:
    """The last day of every month of the ledger's days (day numbers, ascending)."""
    days = np.arange(snap.day0, snap.day0 + snap.ndays, dtype=np.int64)
    dates = days.astype("datetime64[D]")
    last: np.ndarray = days[(dates + 1).astype("datetime64[M]") != dates.astype("datetime64[M]")]
    return last


def month_end_ar(snap: Snapshot, name: str) -> dict[str, np.ndarray]:
    """Total AR at every month end of the ledger (`days`), of every customer (name "all": one row)
    or of each value of an ATTRIBUTE_TOTALS attribute (a row per value of attribute_totals):
    built once per version and machine beside the columns, so the trends of a new as-of date
    (twelve month ends, each a pass over the open foreign invoices) are look-ups."""
    return derived(snap, f"month_end_ar_{name}", lambda: _month_end_ar(snap, name))


def _month_end_ar(snap: Snapshot, name: str) -> dict[str, np.ndarray]:
    days = month_end_days(snap)
    if name == ALL_CUSTOMERS:
        masks = [np.ones(snap.n_customers, dtype=bool)]
        attributes: list[tuple[str, str] | None] = [None]
    else:
        stored = attribute_totals(snap, name)
        codes = np.asarray(stored["codes"])
        masks = [codes == at for at in range(len(stored["values"]))]
        attributes = [(name, str(value)) for value in stored["values"]]
    ar = np.zeros((len(masks), len(days)), dtype=np.int64)
    for row, (mask, attribute) in enumerate(zip(masks, attributes, strict=True)):
        sel = build_selection(snap, mask, attribute)
        ar[row] = [sel._computed_ar(int(day)) for day in days]
    return {"days": days, "ar": ar}


def _stored_ar(sel: Selection, day: int) -> int | None:
    """The selection's AR at day from month_end_ar when day is a month end it holds, else None."""
    if sel.month_ends is None:
        return None
    name, row = sel.month_ends
    snap = sel.snap
    if not snap.day0 <= day < snap.day0 + snap.ndays or from_day(day + 1).day != 1:
        return None
    stored = month_end_ar(snap, name)
    at = int(np.searchsorted(stored["days"], day))
    return int(stored["ar"][row, at])


def customer_invoices(snap: Snapshot) -> dict[str, np.ndarray]:
    """Each customer's positive invoices (`inv`, by customer then position; `starts` per customer),
    built once per version and machine beside the columns: a small selection (a sales rep's
    customers) gathers its invoices by customer instead of passing over every invoice."""
    return derived(snap, "customer_invoices", lambda: _by_customer(snap))


def _by_customer(snap: Snapshot) -> dict[str, np.ndarray]:
    inv = np.flatnonzero((snap.inv_cust >= 0) & ~snap.is_cn)
    inv = inv[np.argsort(snap.inv_cust[inv], kind="stable")]
    counts = np.bincount(snap.inv_cust[inv], minlength=snap.n_customers)[: snap.n_customers]
    return {"inv": inv, "starts": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)}


def one_attribute(filters: Filters, scope: Scope) -> tuple[str, str] | None:
    """(attribute, value) when the filters choose one value of one ATTRIBUTE_TOTALS attribute and
    nothing else, within an unrestricted scope."""
    if not scope.unrestricted or filters.sales_rep:
        return None
    chosen = [(name, getattr(filters, name)) for name in ATTRIBUTE_TOTALS if getattr(filters, name)]
    return chosen[0] if len(chosen) == 1 else None


def build_selection(
    snap: Snapshot, mask: np.ndarray, attribute: tuple[str, str] | None = None
) -> Selection:
    """Daily running totals and open-item candidates for the customers in mask (attribute: the
    one attribute value mask stands for, whose selection is stored)."""
    stored = _stored_selection(snap, mask, attribute) if attribute else None
    month_ends = None
    if stored is not None and attribute is not None:
        lists, cum = stored, stored["cum"]
        month_ends = (attribute[0], int(stored["row"]))
    else:
        chosen = np.flatnonzero(mask)
        if len(chosen) < SMALL_SELECTION_SHARE * len(mask):
            index = customer_invoices(snap)
            picked = np.asarray(index["inv"])[_ranges(np.asarray(index["starts"]), chosen)]
            lists = _lists_of(snap, np.sort(picked))
        elif len(chosen) == len(mask):
            lists = _invoice_lists(snap, snap.inv_cust >= 0)
            month_ends = (ALL_CUSTOMERS, 0)
        else:
            lists = _invoice_lists(snap, mask[snap.inv_cust] & (snap.inv_cust >= 0))
        cum = _running_totals(snap, mask)
    inv, foreign = lists["inv"], lists["foreign"]
    return Selection(
        snap=snap,
        cust_mask=mask,
        inv=inv,
        inv_issue=lists["inv_issue"] if stored else snap.issue[inv],
        inv_settle=lists["inv_settle"] if stored else snap.settle[inv],
        unclean=lists["unclean"],
        cum_ar=cum[0, 0],
        cum_sales=cum[0, 1],
        cum_collections=cum[0, 2],
        cum_write_offs=cum[0, 3],
        cum_unapplied=cum[0, 4],
        cum_by_currency=cum,
        foreign=foreign,
        foreign_issue=lists["foreign_issue"] if stored else snap.issue[foreign],
        foreign_settle=lists["foreign_settle"] if stored else snap.settle[foreign],
        month_ends=month_ends,
    )


def select(snap: Snapshot, filters: Filters | None = None, scope: Scope | None = None) -> Selection:
    """The (cached) selection for filters within scope."""
    filters = filters or Filters()
    scope = scope or Scope.everyone()
    key = ("selection", filters.key(), scope.key())
    with snap.lock:
        cached: Selection | None = snap.cache.pop(key, None)
        if cached is not None:
            snap.cache[key] = cached  # the most recently used last: dropped last
    if cached is not None:
        return cached
    selection = build_selection(
        snap, customer_mask(snap, filters, scope), one_attribute(filters, scope)
    )
    with snap.lock:
        _make_room(snap)
        snap.cache[key] = selection
    return selection


# built once per snapshot, never dropped (the Arrow text columns: dashboard.metrics.columns)
KEPT_CACHE_KEYS = frozenset(
    {"events", "history", "load_seconds", "over_since", "loose_allocations"}
    | {text_key(name) for name in CUSTOMER_TEXT}
)


def held_bytes(value: object) -> int:
    """The bytes of the arrays a cached selection or per-day result holds itself (not those of the
    snapshot it points to), with the open items a selection keeps."""
    fields = getattr(value, "__dict__", None)
    if not isinstance(fields, dict):
        return 0
    # not the arrays mapped from the store (stored selections: shared pages, not the process's);
    # a copy of each dict first (one step under the GIL): another thread may add to it meanwhile
    # (a selection's open items, the credits' labels made when first asked for)
    total = sum(
        v.nbytes
        for v in tuple(fields.values())
        if isinstance(v, np.ndarray) and not isinstance(v, np.memmap)
    )
    for items in tuple(fields.get("_open_cache", {}).values()):
        total += held_bytes(items)
    return total


def _make_room(snap: Snapshot) -> None:
    """Drop the least recently used selections and per-day results until one more fits: at most
    MAX_CACHED_SELECTIONS entries, their arrays within SELECTION_SHARE of AR_CACHE_MAX_MB (call
    under snap.lock)."""
    budget = byte_budget() * SELECTION_SHARE
    droppable = [k for k in snap.cache if k not in KEPT_CACHE_KEYS]
    held = sum(held_bytes(snap.cache[k]) for k in droppable)
    while droppable and (len(snap.cache) >= MAX_CACHED_SELECTIONS or held > budget):
        held -= held_bytes(snap.cache.pop(droppable.pop(0)))


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


def revalue(snap: Snapshot, cents: np.ndarray, cur: np.ndarray, day: int) -> np.ndarray:
    """Amounts in their own currencies as base cents at the rates in force at day, item by item."""
    if not snap.multi:
        return cents
    out = np.asarray(cents, dtype=np.int64).copy()
    foreign = np.flatnonzero(cur != 0)
    if len(foreign):
        out[foreign] = convert(out[foreign], snap.rates.at(day)[cur[foreign]])
    return out


def limits_at(snap: Snapshot, day: int) -> np.ndarray:
    """Each customer's credit limit in base cents at day's rate (0 = no limit)."""
    return revalue(snap, snap.credit_limit, snap.cust_cur, day).astype(np.int64)


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
    balance: np.ndarray  # base cents, revalued at the rate in force at D
    cust: np.ndarray
    own: np.ndarray  # in the invoice's currency
    cur: np.ndarray


def open_items(sel: Selection, day: int) -> OpenItems:
    """Every selected invoice with a positive open balance at the end of day."""
    key = ("open", day)
    cache: dict[tuple[str, int], OpenItems] = sel.__dict__.setdefault("_open_cache", {})
    found = cache.get(key)
    if found is not None:
        return found
    if sel.month_ends is not None and sel.snap.source is not None:
        # every customer's, a segment's, ...: computed by one process of the machine, mapped by all
        name, row = sel.month_ends
        arrays = day_arrays(
            sel.snap.source[0], f"open_{name}_{row}_{day}", lambda: _open_arrays(sel, day)
        )
    else:
        arrays = _open_arrays(sel, day)
    items = OpenItems(day=day, **arrays)
    while len(cache) >= OPEN_DAYS_KEPT:
        try:  # the oldest date asked for first (another thread may have dropped it already)
            cache.pop(next(iter(cache)))
        except (KeyError, StopIteration, RuntimeError):
            break
    cache[key] = items
    return items


def _open_arrays(sel: Selection, day: int) -> dict[str, np.ndarray]:
    """OpenItems' arrays (but day) of the selection at the end of day."""
    candidates = sel.inv[(sel.inv_issue <= day) & (sel.inv_settle > day)]
    if len(sel.unclean):
        candidates = np.union1d(candidates, sel.unclean[sel.snap.issue[sel.unclean] <= day])
    balance = open_balances(sel.snap, candidates, day)
    keep = balance > 0
    inv = candidates[keep]
    own = balance[keep]
    cur = sel.snap.inv_cur[inv]
    return {
        "inv": inv,
        "balance": revalue(sel.snap, own, cur, day),
        "cust": sel.snap.inv_cust[inv],
        "own": own,
        "cur": cur,
    }


def as_day(value: dt.date | int) -> int:
    """A date or day number as a day number."""
    return value if isinstance(value, int | np.integer) else to_day(value)


@dataclass
class Credits:
    """Unapplied credit items at one date: what, whose, in which currency, how much (`kind` and
    `ref`, text per item, are made when first asked for: the KPIs need only the amounts)."""

    cust: np.ndarray
    day: np.ndarray  # since when
    cur: np.ndarray
    own: np.ndarray  # cents in the item's currency
    base: np.ndarray  # base cents at the rate in force at the date asked for
    # per part, in order: (label or labels, (id column, its items' positions in it))
    labels: list[tuple[Any, tuple[Any, np.ndarray]]]

    @cached_property
    def kind(self) -> np.ndarray:
        """The label of each item."""
        return np.concatenate(
            [
                np.broadcast_to(np.asarray(k, dtype=object), (len(at),))
                for k, (_ids, at) in self.labels
            ]
        )

    @cached_property
    def ref(self) -> np.ndarray:
        """The payment or invoice id of each item."""
        return np.concatenate([ids[at] for _k, (ids, at) in self.labels]).astype(object)


def unapplied_items(snap: Snapshot, day: int) -> Credits:
    """Every unapplied credit item at day, for all customers (cached per day with the snapshot)."""
    key = ("credits", int(day))
    with snap.lock:
        cached: Credits | None = snap.cache.get(key)
    if cached is not None:
        return cached
    items = _unapplied_items(snap, day)
    with snap.lock:
        _make_room(snap)
        snap.cache[key] = items
    return items


@dataclass
class LooseAllocations:
    """The payments not fully allocated on their own date and their allocations, gathered once per
    snapshot (the unapplied payments at any date come from these alone)."""

    pay: np.ndarray  # snap.pay_loose (ascending)
    known: np.ndarray  # per loose payment: of a known customer
    pay_amount: np.ndarray
    effective: np.ndarray  # per loose allocation: when it takes effect (never before its payment)
    amount: np.ndarray  # per loose allocation
    slot: np.ndarray | None  # per loose allocation: its payment's position in pay (None: unsorted)


def loose_allocations(snap: Snapshot) -> LooseAllocations:
    """The snapshot's LooseAllocations (built once per snapshot and process)."""
    with snap.lock:
        kept: LooseAllocations | None = snap.cache.get("loose_allocations")
    if kept is not None:
        return kept
    pay = np.asarray(snap.pay_loose, dtype=np.int64)
    alloc = np.asarray(snap.alloc_loose, dtype=np.int64)
    alloc_pay = np.asarray(snap.alloc_pay)[alloc].astype(np.int64)
    pay_date = np.asarray(snap.pay_date)
    slot = None
    if len(pay) == 0 or bool(np.all(np.diff(pay) > 0)):
        slot = np.searchsorted(pay, alloc_pay)
        if len(alloc) and not bool(np.all(pay[np.minimum(slot, len(pay) - 1)] == alloc_pay)):
            slot = None
    built = LooseAllocations(
        pay=pay,
        known=np.asarray(snap.pay_cust)[pay] >= 0,
        pay_amount=np.asarray(snap.pay_amount)[pay],
        effective=np.maximum(np.asarray(snap.alloc_date)[alloc], pay_date[alloc_pay]),
        amount=np.asarray(snap.alloc_amount)[alloc],
        slot=slot,
    )
    with snap.lock:
        snap.cache["loose_allocations"] = built
    return built


def _unapplied_items(snap: Snapshot, day: int) -> Credits:
    """Every unapplied credit item at day, for all customers."""
    loose = loose_allocations(snap)
    received = (np.asarray(snap.pay_date)[loose.pay] <= day) & loose.known
    paid = loose.pay[received]
    if loose.slot is not None:
        # allocated to each loose payment by day, summed over the loose payments alone
        used = loose.effective <= day
        allocated = sum_by(loose.slot[used], loose.amount[used], len(loose.pay))
        remainder = loose.pay_amount[received] - allocated[received]
    else:
        alloc = snap.alloc_loose
        used = alloc[loose.effective <= day]
        allocated = sum_by(snap.alloc_pay[used], snap.alloc_amount[used], len(snap.pay_ids))
        remainder = snap.pay_amount[paid] - allocated[paid]
    paid, remainder = paid[remainder != 0], remainder[remainder != 0]
    cn = snap.free_credit_notes[snap.issue[snap.free_credit_notes] <= day]
    over, excess = excess_at(snap, day)
    known = snap.inv_cust[over] >= 0
    over, excess = over[known], excess[known]
    pend = pending_at(snap, day)
    early = np.where(
        snap.pend_kind[pend] == KIND_CREDIT,
        "credit note before its invoice",
        "write-off before its invoice",
    )
    parts = [
        (
            "unapplied payment",
            (snap.pay_ids, paid),
            snap.pay_cust[paid],
            snap.pay_date[paid],
            snap.pay_cur[paid],
            remainder,
        ),
        (
            "credit note",
            (snap.inv_ids, cn),
            snap.inv_cust[cn],
            snap.issue[cn],
            snap.inv_cur[cn],
            -snap.amount[cn],
        ),
        (
            "over-applied invoice",
            (snap.inv_ids, over),
            snap.inv_cust[over],
            over_applied_since(snap, over),
            snap.inv_cur[over],
            excess,
        ),
        (
            early,
            (snap.inv_ids, snap.pend_ref[pend]),
            snap.pend_cust[pend],
            snap.pend_start[pend],
            snap.pend_cur[pend],
            snap.pend_cents[pend],
        ),
    ]
    cur = np.concatenate([p[4] for p in parts]).astype(np.int64)
    own = np.concatenate([p[5] for p in parts]).astype(np.int64)
    return Credits(
        cust=np.concatenate([p[2] for p in parts]).astype(np.int64),
        day=np.concatenate([p[3] for p in parts]).astype(np.int64),
        cur=cur,
        own=own,
        base=revalue(snap, own, cur, day),
        labels=[(p[0], p[1]) for p in parts],
    )


def over_applied_since(snap: Snapshot, inv: np.ndarray) -> np.ndarray:
    """The day each invoice's applications first exceeded its amount (NO_DATE if never)."""
    with snap.lock:
        first = snap.cache.get("over_since")
    if first is None:
        first = pd.Series(snap.excess_day.astype(np.int64)).groupby(snap.excess_inv).min()
        with snap.lock:
            snap.cache["over_since"] = first
    return first.reindex(inv, fill_value=NO_DATE).to_numpy(dtype=np.int64)
