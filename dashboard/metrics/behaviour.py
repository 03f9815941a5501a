"""Shared building blocks of the analytics modules (credit, reliability, value, forecast, collections).

Per-customer payment behaviour as of a date, dispute state of each invoice at a date, date helpers
and output columns. Everything is vectorised over the snapshot's column arrays; nothing dated after
the as-of day is read (precomputed per-invoice dates are only compared with the as-of day).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.fx import convert
from dashboard.metrics.snapshot import KIND_PAYMENT, NO_DATE, Snapshot, from_day, search, to_day
from dashboard.metrics.store import derived

T = TypeVar("T")

YEAR_DAYS = 365
DISPUTE_NONE, DISPUTE_OPEN, DISPUTE_LITIGATION = 0, 1, 2


def add_months(day: dt.date, months: int) -> dt.date:
    """day moved by whole calendar months, the day clamped to the month's length (31 Mar - 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def to_dates(days: np.ndarray) -> np.ndarray:
    """Day numbers as an object array of datetime.date (None for NO_DATE)."""
    days = np.asarray(days)
    out = np.full(len(days), None, dtype=object)
    known = days != NO_DATE
    if known.any():
        stamps = days[known].astype("int64").astype("datetime64[D]")
        out[known] = stamps.astype(object)
    return out


def customer_columns(snap: Snapshot, cust: np.ndarray) -> dict[str, Any]:
    """Identity columns of each customer position in cust."""
    return {
        "customer_id": snap.cust_ids[cust],
        "customer_name": snap.cust_name[cust],
        "segment": snap.segment[cust],
        "region": snap.region[cust],
        "sales_rep_id": snap.cust_rep[cust],
    }


def round2(values: np.ndarray | float) -> npt.NDArray[np.float64]:
    """Floats rounded half away from zero to 2 decimals (NaN stays NaN)."""
    v = np.asarray(values, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) * 100 + 0.5 + 1e-9) / 100


def percent(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator x 100 rounded to 2 decimals; NaN where the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return round2(np.where(den != 0, num / np.where(den != 0, den, 1) * 100, np.nan))


def round_cents(numerator: np.ndarray, denominator: int) -> npt.NDArray[np.int64]:
    """Exact integer division of cents rounded half away from zero."""
    num = np.asarray(numerator, dtype=np.int64)
    q: npt.NDArray[np.int64] = (np.abs(num) * 2 + denominator) // (2 * denominator)
    return np.sign(num) * q


def analytics_cache(snap: Snapshot) -> dict[str, Any]:
    """Per-snapshot cache of date-independent arrays derived by the analytics modules."""
    with snap.lock:
        cache: dict[str, Any] = snap.__dict__.setdefault("_analytics_cache", {})
    return cache


def first_payment_day(snap: Snapshot) -> npt.NDArray[np.int32]:
    """Per invoice: the date of the first payment allocated to it (NO_DATE if none), from the applications."""
    cache = analytics_cache(snap)
    if "first_pay" not in cache:
        first = np.full(len(snap.inv_ids), NO_DATE, dtype=np.int32)
        m = snap.app_kind == KIND_PAYMENT
        inv, day = snap.app_inv[m], snap.app_date[m]
        if len(inv):
            # rows are sorted by (invoice, date): the first row of each invoice is its earliest payment
            starts = np.flatnonzero(np.r_[True, inv[1:] != inv[:-1]])
            first[inv[starts]] = day[starts]
        cache["first_pay"] = first
    first_pay: npt.NDArray[np.int32] = cache["first_pay"]
    return first_pay


def first_invoice_day(snap: Snapshot) -> npt.NDArray[np.int64]:
    """Per customer: the issue date of its first invoice (NO_DATE if none)."""
    cache = analytics_cache(snap)
    if "first_invoice" not in cache:
        first = np.full(snap.n_customers, NO_DATE, dtype=np.int64)
        known = snap.inv_cust >= 0
        np.minimum.at(first, snap.inv_cust[known], snap.issue[known].astype(np.int64))
        cache["first_invoice"] = first
    first_invoice: npt.NDArray[np.int64] = cache["first_invoice"]
    return first_invoice


def invoice_rank(snap: Snapshot) -> npt.NDArray[np.int64]:
    """Per invoice: its rank in invoice_id order (a numeric tie-breaker that sorts like the ids)."""
    cache = analytics_cache(snap)
    if "inv_rank" not in cache:
        rank = np.empty(len(snap.inv_ids), dtype=np.int64)
        # the id index's sort order (stored with the snapshot; ids are unique, so it is the one
        # order), else a sort of the ids
        order = getattr(getattr(snap, "inv_index", None), "order", None)
        if order is None or len(order) != len(rank):
            order = np.argsort(snap.inv_ids, kind="stable")
        rank[np.asarray(order)] = np.arange(len(snap.inv_ids))
        cache["inv_rank"] = rank
    inv_rank: npt.NDArray[np.int64] = cache["inv_rank"]
    return inv_rank


def take_sorted(frame: pd.DataFrame, *keys: np.ndarray) -> pd.DataFrame:
    """Rows of frame ordered by numeric keys (first key primary, ascending), index reset."""
    if not len(frame):
        return frame.reset_index(drop=True)
    order = np.lexsort(tuple(reversed(keys)))
    return frame.take(order).reset_index(drop=True)


def _promise_currency(snap: Snapshot, inv: np.ndarray, cust: np.ndarray) -> np.ndarray:
    """Each promise's currency: its invoice's, else its customer's, else the base (0)."""
    cur = np.zeros(len(inv), dtype=np.int64)
    if len(snap.inv_ids):
        cur = np.where(inv >= 0, snap.inv_cur[np.maximum(inv, 0)], cur)
    if snap.n_customers:
        cur = np.where((inv < 0) & (cust >= 0), snap.cust_cur[np.maximum(cust, 0)], cur)
    return cur.astype(np.int64)


def promise_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    """The promises as arrays sorted by (invoice, made_on, promise_id), cached per snapshot.

    Keys: id, inv, cust, made, promised, amount (cents in the invoice's currency), cur (that
    currency), base (base cents at the rate of the day the promise was made) and rank (position in
    promise_id order).
    """
    cache = analytics_cache(snap)
    if "promises" not in cache:
        frame = snap.promises
        if len(frame):
            ids = frame["promise_id"].astype(str).to_numpy(dtype=object)
            rank = np.empty(len(ids), dtype=np.int64)
            rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
            inv = frame["inv"].to_numpy(dtype=np.int64)
            made = frame["made_on"].to_numpy(dtype=np.int64)
            amount = frame["amount_cents"].to_numpy(dtype=np.int64)
            cust = frame["cust"].to_numpy(dtype=np.int64)
            cur = _promise_currency(snap, inv, cust)
            order = np.lexsort((rank, made, inv))
            arrays = {
                "id": ids,
                "inv": inv,
                "cust": cust,
                "made": made,
                "promised": frame["promised_date"].to_numpy(dtype=np.int64),
                "amount": amount,
                "cur": cur,
                "base": convert(amount, snap.rates.on(cur, made)) if snap.multi else amount,
                "rank": rank,
            }
            arrays = {k: v[order] for k, v in arrays.items()}
        else:
            empty = np.zeros(0, dtype=np.int64)
            arrays = {
                "id": np.zeros(0, dtype=object),
                "inv": empty,
                "cust": empty,
                "made": empty,
                "promised": empty,
                "amount": empty,
                "cur": empty,
                "base": empty,
                "rank": empty,
            }
        cache["promises"] = arrays
    promises: dict[str, np.ndarray] = cache["promises"]
    return promises


def latest_promises(snap: Snapshot, day: int) -> np.ndarray:
    """Row numbers in promise_arrays of each invoice's latest promise made on or before day (ties: highest id)."""
    p = promise_arrays(snap)
    rows = np.flatnonzero((p["inv"] >= 0) & (p["made"] <= day))
    if not len(rows):
        return rows
    inv = p["inv"][rows]
    return rows[np.r_[inv[1:] != inv[:-1], True]]


def dispute_record_flags(snap: Snapshot) -> npt.NDArray[np.bool_]:
    """Per invoice: True when the disputes table holds any row for it."""
    cache = analytics_cache(snap)
    if "dispute_rows" not in cache:
        has = np.zeros(len(snap.inv_ids), dtype=bool)
        inv = (
            snap.disputes["inv"].to_numpy(dtype=np.int64)
            if len(snap.disputes)
            else np.array([], dtype=np.int64)
        )
        has[inv[inv >= 0]] = True
        cache["dispute_rows"] = has
    dispute_rows: npt.NDArray[np.bool_] = cache["dispute_rows"]
    return dispute_rows


def flag_only_disputes(snap: Snapshot) -> npt.NDArray[np.bool_]:
    """Per invoice: flagged `disputed` on import but with no row in the disputes table."""
    cache = analytics_cache(snap)
    if "flag_only" not in cache:
        cache["flag_only"] = snap.disputed & ~dispute_record_flags(snap)
    flag_only: npt.NDArray[np.bool_] = cache["flag_only"]
    return flag_only


def dispute_status(frame: pd.DataFrame) -> np.ndarray:
    """The status column of the disputes frame, lower-cased and stripped."""
    if not len(frame):
        return np.array([], dtype=object)
    return (
        frame["status"]
        .astype(object)
        .where(frame["status"].notna(), "")
        .astype(str)
        .str.strip()
        .str.lower()
        .to_numpy(dtype=object)
    )


def _dispute_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    """The disputes frame as arrays: inv, opened, resolved, litigation flag, resolved-without-date flag."""
    cache = analytics_cache(snap)
    if "dispute_arrays" not in cache:
        frame = snap.disputes
        status = dispute_status(frame)
        empty = np.zeros(0, dtype=np.int64)
        cache["dispute_arrays"] = {
            "inv": frame["inv"].to_numpy(dtype=np.int64) if len(frame) else empty,
            "opened": frame["opened_on"].to_numpy(dtype=np.int64) if len(frame) else empty,
            "resolved": frame["resolved_on"].to_numpy(dtype=np.int64) if len(frame) else empty,
            "litigation": status == "litigation",
            "undated_resolved": (status == "resolved")
            & (
                (frame["resolved_on"].to_numpy(dtype=np.int64) == NO_DATE)
                if len(frame)
                else np.zeros(0, dtype=bool)
            ),
        }
    arrays: dict[str, np.ndarray] = cache["dispute_arrays"]
    return arrays


def open_dispute_rows(snap: Snapshot, day: int) -> npt.NDArray[np.bool_]:
    """Boolean mask over snap.disputes: the disputes open at the end of day.

    Open = opened on or before day and not resolved by day: resolved_on is empty or later than day,
    and a row whose status is 'resolved' with no resolved_on is treated as resolved (its date is
    unknown, so it can never be counted as open).
    """
    a = _dispute_arrays(snap)
    undated: npt.NDArray[np.bool_] = a["undated_resolved"]
    return (a["opened"] <= day) & (a["resolved"] > day) & ~undated & (a["inv"] >= 0)


def dispute_state(snap: Snapshot, day: int) -> npt.NDArray[np.int8]:
    """Per invoice at the end of day: 0 no dispute, 1 in dispute, 2 in litigation.

    A dispute row open at day (see open_dispute_rows) puts its invoice in dispute, in litigation when
    its status is 'litigation' (litigation wins over an ordinary dispute). An invoice flagged
    `disputed` on import with no dispute row at all is in dispute (the flag carries no date).
    """
    state = np.zeros(len(snap.inv_ids), dtype=np.int8)
    a = _dispute_arrays(snap)
    if len(a["inv"]):
        rows = open_dispute_rows(snap, day)
        code = np.where(a["litigation"], DISPUTE_LITIGATION, DISPUTE_OPEN).astype(np.int8)
        np.maximum.at(state, a["inv"][rows], code[rows])
    state[flag_only_disputes(snap) & (state == DISPUTE_NONE)] = DISPUTE_OPEN
    return state


def avg_days_to_pay(
    snap: Snapshot, cust_mask: np.ndarray, day: int, window: int = YEAR_DAYS
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: mean days from issue to the first payment allocated, and the invoice count.

    Over positive invoices whose first payment allocation is dated in (day - window, day - 1]:
    transactions dated on the as-of day itself are left out (Retailer). Days below zero (payment
    allocated before the issue date) count as 0. NaN where a customer has no such invoice.
    """
    first = first_payment_day(snap).astype(np.int64)
    m = (
        (first > day - window)
        & (first <= day - 1)
        & (snap.issue <= day - 1)
        & ~snap.is_cn
        & (snap.inv_cust >= 0)
    )
    m[m] = cust_mask[snap.inv_cust[m]]
    cust = snap.inv_cust[m]
    days = np.maximum(first[m] - snap.issue[m], 0).astype(np.float64)
    count = np.bincount(cust, minlength=snap.n_customers)
    total = np.bincount(cust, weights=days, minlength=snap.n_customers)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def customer_days_to_pay(
    snap: Snapshot, cust: int, day: int, window: int = YEAR_DAYS
) -> float | None:
    """One customer's average days to pay exactly as Credit utilization and Customer value show it (None: no history).

    The one definition every screen uses (Account 360, Credit, Value): avg_days_to_pay, rounded like them.
    """
    mask = np.zeros(snap.n_customers, dtype=bool)
    mask[cust] = True
    mean, _count = avg_days_to_pay(snap, mask, day, window)
    value = float(round2(mean[cust : cust + 1])[0])
    return None if np.isnan(value) else value


DELAY_DAYS_KEPT = 4  # payment_delay of every customer kept for this many dates per snapshot


def _per_day(snap: Snapshot, key: tuple[object, ...], build: Callable[[], T]) -> T:
    """build() kept with the snapshot under key, for the last DELAY_DAYS_KEPT keys asked (a result
    for every customer at one date: the expected-loss lines and their baseline ask for the same
    one within a request; a few, as each holds arrays of every customer)."""
    with snap.lock:
        kept: OrderedDict[tuple[object, ...], object] = snap.__dict__.setdefault(
            "_per_day", OrderedDict()
        )
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
            return cast(T, found)
    built = build()
    with snap.lock:
        kept[key] = built
        while len(kept) > DELAY_DAYS_KEPT:
            kept.popitem(last=False)
    return built


def _frozen(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)  # shared between requests
    return values


def settled_by_payment(
    snap: Snapshot, cust_mask: np.ndarray, day: int, window: int = YEAR_DAYS
) -> np.ndarray:
    """Positive invoices of selected customers settled by a payment in (day - window, day]."""
    settle = snap.settle
    m = (
        (settle > day - window)
        & (settle <= day)
        & (snap.issue <= day)
        & (snap.settle_kind == KIND_PAYMENT)
        & ~snap.is_cn
        & (snap.inv_cust >= 0)
    )
    m[m] = cust_mask[snap.inv_cust[m]]
    return np.flatnonzero(m)


def payment_delay(
    snap: Snapshot, cust_mask: np.ndarray, day: int, window: int = YEAR_DAYS
) -> dict[str, np.ndarray]:
    """Amount-weighted signed delay (settled - due, days; early is negative) per customer and segment.

    The weight is each invoice's amount in base cents at its issue date's rate.

    Over invoices settled by a payment in (day - window, day]. Returns per-customer `customer`
    (NaN without history), `customer_weight`, `customer_count` (invoices settled) and
    `customer_late30` (of them, settled more than 30 days after due), and `segment` (the customer's segment's average over
    the selected customers, NaN without history) and the scalar `portfolio` (NaN without history).
    """
    if bool(cust_mask.all()):
        return _per_day(
            snap,
            ("payment_delay", int(day), int(window)),
            lambda: {
                k: _frozen(v) if isinstance(v, np.ndarray) else v
                for k, v in _payment_delay(snap, cust_mask, day, window).items()
            },
        )
    return _payment_delay(snap, cust_mask, day, window)


def _payment_delay(
    snap: Snapshot, cust_mask: np.ndarray, day: int, window: int
) -> dict[str, np.ndarray]:
    sums = delay_sums(snap)
    if bool(sums["exact"]):
        w_c, d_c, count, late30 = window_sums(snap, sums, day, window)
        if not bool(cust_mask.all()):
            w_c, d_c = np.where(cust_mask, w_c, 0.0), np.where(cust_mask, d_c, 0.0)
            count, late30 = np.where(cust_mask, count, 0.0), np.where(cust_mask, late30, 0.0)
        return _delays(snap, w_c, d_c, count, late30)
    return _payment_delay_direct(snap, cust_mask, day, window)


def _payment_delay_direct(
    snap: Snapshot, cust_mask: np.ndarray, day: int, window: int
) -> dict[str, np.ndarray]:
    """payment_delay from the invoices settled in the window themselves (one pass over them)."""
    inv = settled_by_payment(snap, cust_mask, day, window)
    cust = snap.inv_cust[inv]
    weight = snap.inv_base[inv].astype(np.float64)  # base cents at the issue date's rate
    delay = snap.settle[inv].astype(np.float64) - snap.due[inv]
    n = snap.n_customers
    return _delays(
        snap,
        np.bincount(cust, weights=weight, minlength=n),
        np.bincount(cust, weights=weight * delay, minlength=n),
        np.bincount(cust, minlength=n).astype(np.float64),
        np.bincount(cust[delay > 30], minlength=n).astype(np.float64),
    )


def _delays(
    snap: Snapshot, w_c: np.ndarray, d_c: np.ndarray, count: np.ndarray, late30: np.ndarray
) -> dict[str, np.ndarray]:
    """payment_delay's result from each customer's weight and weighted delay sums (whole cents
    times days: exact in float64, so any order of summing gives the same figures)."""
    cache = analytics_cache(snap)
    if "segment_codes" not in cache:
        cache["segment_codes"] = np.unique(snap.segment.astype(str), return_inverse=True)
    seg_codes, seg_of_cust = cache["segment_codes"]
    w_s = np.bincount(seg_of_cust, weights=w_c, minlength=len(seg_codes))
    d_s = np.bincount(seg_of_cust, weights=d_c, minlength=len(seg_codes))
    with np.errstate(divide="ignore", invalid="ignore"):
        by_cust = np.where(w_c > 0, d_c / np.where(w_c > 0, w_c, 1), np.nan)
        by_seg = np.where(w_s > 0, d_s / np.where(w_s > 0, w_s, 1), np.nan)
    total_w = float(w_c.sum())
    portfolio = float(d_c.sum() / total_w) if total_w > 0 else float("nan")
    return {
        "customer": by_cust,
        "customer_weight": w_c,
        "customer_count": count,
        "customer_late30": late30,
        "segment": by_seg[seg_of_cust],
        "portfolio": np.float64(portfolio),
    }


DELAY_STEP = 64  # days between the stored per-customer running sums of payment delays
EXACT_SUM = float(2**53)  # beyond this a float64 sum of whole numbers may round


def delay_sums(snap: Snapshot) -> dict[str, np.ndarray]:
    """Each customer's running sums of invoices settled by a payment, every DELAY_STEP days (built
    once per version and machine, and mapped by every process: dashboard.metrics.store.
    derived_arrays), with those invoices in settle order, so the sums over any window are two
    stored rows and two short slices rather than a pass over every invoice."""
    return derived(snap, "delay_sums", lambda: _delay_sums(snap))


def settle_order(snap: Snapshot) -> dict[str, np.ndarray]:
    """The positive invoices of known customers settled by a payment: those issued on or before
    their settle day in settle order (`inv`; beside it their settle `days`, customer, days to pay
    and days late), and the few settled before they were issued (`odd`, by position). Built once
    per version and machine beside the columns: the invoices settled in any window are a slice."""
    return derived(snap, "settle_order", lambda: _settle_order(snap))


def _settle_order(snap: Snapshot) -> dict[str, np.ndarray]:
    settle = snap.settle
    inv = np.flatnonzero(
        (snap.settle_kind == KIND_PAYMENT)
        & ~snap.is_cn
        & (snap.inv_cust >= 0)
        & (settle != NO_DATE)
    )
    normal = snap.issue[inv] <= settle[inv]
    odd = inv[~normal]  # settled before issued: the window's own test (issued by then) applies
    inv = inv[normal]
    inv = inv[np.argsort(settle[inv], kind="stable")]
    days = settle[inv].astype(np.int64)
    return {
        "inv": inv,
        "days": days.astype(np.int32),
        "cust": snap.inv_cust[inv].astype(np.int32),
        "to_pay": (days - snap.issue[inv]).astype(np.int32),
        "late": np.maximum(days - snap.due[inv], 0).astype(np.int32),
        "odd": odd,
    }


def settled_in_window(
    snap: Snapshot, cust_mask: np.ndarray, start: int, end: int
) -> tuple[np.ndarray, int, int]:
    """The positive invoices of the customers in cust_mask settled by a payment in (start, end]
    and issued by end (not in position order), with their total days to pay and days late: a
    slice of settle_order and its odd ones, no pass over every invoice."""
    order = settle_order(snap)
    lo, hi = (int(v) for v in search(order["days"], [start, end], side="right"))
    mine = cust_mask[order["cust"][lo:hi]]
    odd = np.asarray(order["odd"])
    odd = odd[(snap.settle[odd] > start) & (snap.settle[odd] <= end) & (snap.issue[odd] <= end)]
    odd = odd[cust_mask[snap.inv_cust[odd]]]
    settle = snap.settle[odd].astype(np.int64)
    to_pay = int(
        order["to_pay"][lo:hi][mine].sum(dtype=np.int64) + (settle - snap.issue[odd]).sum()
    )
    late = int(
        order["late"][lo:hi][mine].sum(dtype=np.int64) + np.maximum(settle - snap.due[odd], 0).sum()
    )
    return np.concatenate([order["inv"][lo:hi][mine], odd]), to_pay, late


def _delay_sums(snap: Snapshot) -> dict[str, np.ndarray]:
    settle = snap.settle
    order = settle_order(snap)
    inv, odd, days, cust = (np.asarray(order[k]) for k in ("inv", "odd", "days", "cust"))
    weight = snap.inv_base[inv].astype(np.float64)
    delay = settle[inv].astype(np.int64) - snap.due[inv]
    n = snap.n_customers
    base = int(days[0]) if len(days) else 0
    steps = (int(days[-1]) - base) // DELAY_STEP + 1 if len(days) else 0
    edges = np.searchsorted(days, base + DELAY_STEP * np.arange(steps + 1), side="left")
    running = np.zeros((4, steps + 1, n), dtype=np.float64)
    for k in range(1, steps + 1):
        part = slice(edges[k - 1], edges[k])
        c, w, d = cust[part], weight[part], delay[part]
        running[:, k] = running[:, k - 1] + [
            np.bincount(c, weights=w, minlength=n),
            np.bincount(c, weights=w * d, minlength=n),
            np.bincount(c, minlength=n),
            np.bincount(c[d > 30], minlength=n),
        ]
    every = np.concatenate([inv, odd])  # the bound of any sum of them, in the direct path too
    w_all = snap.inv_base[every].astype(np.float64)
    d_all = settle[every].astype(np.float64) - snap.due[every]
    exact = float(w_all.sum()) < EXACT_SUM and float(np.abs(w_all * d_all).sum()) < EXACT_SUM
    return {
        "days": days,
        "cust": cust,
        "weight": weight,
        "delay": delay.astype(np.int32),
        "odd": odd,
        "edges": edges.astype(np.int64),
        "base": np.array([base], dtype=np.int64),
        "running": running,
        "exact": np.array(exact),
    }


def window_sums(
    snap: Snapshot, sums: dict[str, np.ndarray], day: int, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer over invoices settled by a payment in (day - window, day]: weight, weight x
    delay, count, and count settled more than 30 days after due (as _payment_delay_direct)."""
    n = snap.n_customers
    hi, lo = _running_at(sums, n, day), _running_at(sums, n, day - window)
    w, d, count, late = (hi[k] - lo[k] for k in range(4))
    odd = sums["odd"]
    if len(odd):
        s = snap.settle[odd]
        odd = odd[(s > day - window) & (s <= day) & (snap.issue[odd] <= day)]
        c = snap.inv_cust[odd]
        ow = snap.inv_base[odd].astype(np.float64)
        od = snap.settle[odd].astype(np.float64) - snap.due[odd]
        w = w + np.bincount(c, weights=ow, minlength=n)
        d = d + np.bincount(c, weights=ow * od, minlength=n)
        count = count + np.bincount(c, minlength=n)
        late = late + np.bincount(c[od > 30], minlength=n)
    return w, d, count, late


def _running_at(sums: dict[str, np.ndarray], n: int, day: int) -> list[np.ndarray]:
    """The running sums over invoices settled on or before day: a stored row plus the rest."""
    edges, running = sums["edges"], sums["running"]
    k = int(np.clip((day + 1 - int(sums["base"][0])) // DELAY_STEP, 0, len(edges) - 1))
    days = sums["days"]
    end = int(search(days, day, side="right"))
    part = slice(int(edges[k]), max(end, int(edges[k])))
    c, w, d = sums["cust"][part], sums["weight"][part], sums["delay"][part]
    return [
        running[0, k] + np.bincount(c, weights=w, minlength=n),
        running[1, k] + np.bincount(c, weights=w * d, minlength=n),
        running[2, k] + np.bincount(c, minlength=n),
        running[3, k] + np.bincount(c[d > 30], minlength=n),
    ]


def day_of(value: dt.date | int) -> int:
    """A date or a day number as a day number."""
    return int(value) if isinstance(value, int | np.integer) else to_day(value)


def date_of(day: int) -> dt.date:
    """A day number as a date."""
    return from_day(day)


def nullable_cents(values: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
    """Cents as a nullable Int64 array, <NA> where not valid."""
    out = pd.array(np.where(valid, values, 0).astype(np.int64), dtype="Int64")
    out[~np.asarray(valid, dtype=bool)] = pd.NA
    return out
