"""The columnar snapshot of the ledger that every figure is computed on.

Built once per data version from the SQL system of record and held in the process. Dates are int32
days since 1970-01-01, money int64 cents. Each invoice's settlement date is precomputed, so "open
at D" is a vectorised comparison; only invoices partly paid at D need their applications summed.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.config import get_settings
from dashboard.data.ledger_load import (
    CORE_TABLES,
    LAZY_TABLES,
    ROW_KEYS,
    Changes,
    LedgerTables,
    read_ledger,
    read_since,
)
from dashboard.data.ledger_load import NO_DATE as NO_DATE
from dashboard.data.schema import version_stamp
from dashboard.metrics.fx import Rates, build_rates, convert
from dashboard.metrics.store import (
    HISTORY,
    LedgerStore,
    Sharing,
    SortedIndex,
    Staging,
    VersionGone,
    open_snapshot,
    read_columns,
    read_frame,
    store_for,
)
from dashboard.telemetry import snapshot_loaded

log = logging.getLogger(__name__)
EPOCH = dt.date(1970, 1, 1)
EXACT_LIMIT = 2**53  # every integer below this is exact in float64 (see sum_by)
KIND_PAYMENT, KIND_CREDIT, KIND_WRITE_OFF = 0, 1, 2
VERSION_CHECK_SECONDS = 2.0
BACKGROUND_BUILD_SECONDS = 1.0
WARM_DELAY_SECONDS = (
    5.0  # a new version's per-version tables are computed this long after it is served
)
PAGE_WARM_SECONDS = 120.0  # a version's page warm-up stops after this long (wall clock)
IDLE_POLL_SECONDS = (
    0.1  # a warm-up step waits while requests are being answered, polling this often
)


def to_day(value: dt.date) -> int:
    """A date as days since 1970-01-01."""
    return (value - EPOCH).days


def from_day(day: int) -> dt.date:
    """Days since 1970-01-01 as a date."""
    return EPOCH + dt.timedelta(days=int(day))


def search(sorted_values: np.ndarray, needles: Any, side: Literal["left", "right"] = "left") -> Any:
    """np.searchsorted with the needles in the sorted integers' own type (clipped to its range):
    a Python int or int64 needle makes NumPy convert the whole sorted array to int64 first (14 ms
    for nine million int32 days) for a search of microseconds."""
    kind = np.iinfo(sorted_values.dtype)
    typed = np.clip(needles, kind.min, kind.max).astype(sorted_values.dtype)
    return np.searchsorted(sorted_values, typed, side=side)


def sum_by(index: np.ndarray, cents: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums of cents grouped by index.

    np.bincount adds in float64; every partial sum is an integer whose magnitude is below 2**53
    (the snapshot refuses ledgers whose absolute total reaches it), so each addition is exact.
    """
    if len(index) == 0:
        return np.zeros(size, dtype=np.int64)
    return np.rint(np.bincount(index, weights=cents, minlength=size)).astype(np.int64)


def runs(lo: np.ndarray, hi: np.ndarray) -> npt.NDArray[np.int64]:
    """The positions of the runs [lo[i], hi[i]) one after the other."""
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets: npt.NDArray[np.int64] = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _days(series: pd.Series) -> np.ndarray:
    """Nullable day numbers as int32 with NO_DATE for nulls."""
    values = pd.to_numeric(series, errors="coerce")
    return values.fillna(NO_DATE).to_numpy(dtype=np.int64).astype(np.int32)


def _cents(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def _text(series: pd.Series) -> np.ndarray:
    return series.astype(object).where(series.notna(), "").to_numpy(dtype=object)


def _arrow_text(values: pd.Series | np.ndarray) -> pa.Array:
    """Text as one Arrow string array (zero-copy for the Arrow-backed columns the reader returns)."""
    arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.string() else arr.cast(pa.string())


class HashIndex:
    """The build's id index: an Arrow hash lookup (C++, no Python object per id)."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = _arrow_text(ids)

    def lookup(self, keys: pd.Series) -> npt.NDArray[np.int32]:
        """Positions of many ids (-1 when unknown or null)."""
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int32)
        found = pc.index_in(_arrow_text(keys), value_set=self.ids)  # pyarrow is untyped (Any)
        positions: npt.NDArray[np.int32] = (
            found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        )
        return positions


def _lookup(index: SortedIndex | HashIndex, keys: pd.Series) -> np.ndarray:
    """Map string ids to positions (-1 when unknown or null).

    The build hashes the ids once (HashIndex); a served snapshot only has its SortedIndex (binary
    search over the stored order, nothing per process).
    """
    return index.lookup(keys)


def _ids(series: pd.Series) -> np.ndarray:
    """Ids as a fixed-width unicode array (mapped and shared once stored; no Python objects)."""
    values = _arrow_text(series).fill_null("").to_numpy(zero_copy_only=False)
    return values.astype(str) if len(values) else np.zeros(0, dtype="<U1")


@dataclass
class Snapshot:
    """Column arrays of the whole ledger at one data version."""

    version: int
    loaded_at: float
    # customers
    cust_ids: np.ndarray
    cust_index: SortedIndex
    cust_name: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    tier: np.ndarray
    terms_days: np.ndarray
    terms_type: np.ndarray
    credit_limit: np.ndarray  # cents, 0 = no limit
    cust_rep: np.ndarray
    cust_group: np.ndarray
    created_on: np.ndarray
    currency: np.ndarray
    # invoices (positive) and credit notes (negative)
    inv_ids: np.ndarray
    inv_index: SortedIndex
    inv_cust: np.ndarray
    issue: np.ndarray
    due: np.ndarray
    amount: np.ndarray
    cost: np.ndarray
    has_cost: np.ndarray
    disputed: np.ndarray
    is_cn: np.ndarray
    applies_to: np.ndarray
    issue_ymd: np.ndarray  # (n, 3) year, month, day
    free_credit_notes: np.ndarray  # credit notes applied to no invoice (unapplied credits)
    # derived per invoice
    settle: np.ndarray
    settle_kind: np.ndarray
    first_app: np.ndarray
    clean: np.ndarray  # never over-applied (applications take effect on or after the issue date)
    over_applied: np.ndarray  # invoices whose applications exceed their amount at some date
    excess_inv: np.ndarray  # steps of over-applied amounts: invoice, effective day, cents added
    excess_day: np.ndarray
    excess_cents: np.ndarray
    # credit notes / write-offs dated before their invoice: row of the note or invoice
    pend_ref: np.ndarray
    pend_kind: np.ndarray  # KIND_CREDIT or KIND_WRITE_OFF
    pend_cust: np.ndarray
    pend_start: np.ndarray  # own date: unapplied credit from here ...
    pend_end: np.ndarray  # ... until the invoice's issue date
    pend_cents: np.ndarray
    pend_cur: np.ndarray
    # currencies: index into rates.codes (0 = base); flows converted at their own date's rate
    rates: Rates
    cust_cur: np.ndarray
    inv_cur: np.ndarray
    pay_cur: np.ndarray
    inv_rate_issue: np.ndarray  # rate x 10**10 at each invoice's issue date (booking rate)
    inv_base: np.ndarray  # amount in base cents at the issue date's rate
    pay_base: np.ndarray
    wo_base: np.ndarray
    # applications to positive invoices, sorted by (invoice, date)
    app_inv: np.ndarray
    app_date: np.ndarray
    app_amount: np.ndarray
    app_kind: np.ndarray
    app_key: np.ndarray
    app_cum: np.ndarray
    # where each application comes from: allocation row, credit note invoice row, write-off row
    app_src: np.ndarray
    # payments and allocations
    pay_ids: np.ndarray
    pay_index: SortedIndex
    pay_cust: np.ndarray
    pay_date: np.ndarray
    pay_amount: np.ndarray
    alloc_pay: np.ndarray
    alloc_inv: np.ndarray
    alloc_amount: np.ndarray
    alloc_date: np.ndarray  # effective: allocation date, else payment date
    # payments not fully allocated on their own date (the only ones ever unapplied)
    pay_loose: np.ndarray
    alloc_loose: np.ndarray  # allocations of those payments
    # write-offs
    wo_inv: np.ndarray
    wo_date: np.ndarray
    wo_amount: np.ndarray
    # other tables as frames with position columns
    reps: pd.DataFrame
    promises: pd.DataFrame
    disputes: pd.DataFrame
    day0: int
    ndays: int
    short_terms: np.ndarray  # per customer: terms under 30 days and not EOM
    terms_text: np.ndarray  # per customer: "Net 30", "EOM + 15"
    url: str | None = None
    stamp: str = ""  # ledger id / when the version was written (dashboard.data.schema.version_of)
    # (directory, meta) when mapped from the store
    source: tuple[Path, dict[str, Any]] | None = field(default=None, repr=False)
    lazy: dict[str, Any] = field(default_factory=dict, repr=False)
    cache: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    lazy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def commissions(self) -> pd.DataFrame:
        """Commission rows with positions (read on first use)."""
        return self._lazy("commissions")

    @property
    def activities(self) -> pd.DataFrame:
        """Collection activities with positions (read on first use)."""
        return self._lazy("activities")

    def lazy_columns(self, name: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Numeric columns of a table read on first use: mapped from the stored version when it
        has them (the whole frame, text and all, is not read), else from the frame."""
        if self.source is not None and name not in self.lazy:
            found = read_columns(self.source[0], name, self.source[1], columns)
            if found is not None:
                return found
        frame = self._lazy(name)
        return {c: frame[c].to_numpy() for c in columns}

    def _lazy(self, name: str) -> pd.DataFrame:
        with self.lazy_lock:  # one reader per table, however many callers arrive at once
            frame = self.lazy.get(name)
            if frame is None and self.source is not None:
                frame = read_frame(self.source[0], name, self.source[1])
            if frame is None:
                frame = self._prepare(name, read_ledger(self.url, (name,)).frames[name])
                self.lazy[name] = frame
        return frame

    def _prepare(self, name: str, raw: pd.DataFrame) -> pd.DataFrame:
        if name == "commissions":
            groups = dict(
                zip(
                    self.reps["sales_rep_id"],
                    self.reps["group_name"].where(self.reps["group_name"].notna(), ""),
                    strict=True,
                )
            )
            return _commissions(raw, self.inv_index, self.inv_cust, groups)
        return _activities(raw, self.cust_index)

    @property
    def multi(self) -> bool:
        """True when the ledger holds a currency other than the base currency."""
        return self.rates.multi

    @property
    def base_currency(self) -> str:
        """The base currency code (AR_BASE_CURRENCY when the snapshot was built)."""
        return self.rates.base

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.cust_ids)


def _app_key(inv: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (inv.astype(np.int64) << 32) | (day.astype(np.int64) & 0xFFFFFFFF)


def _applications(snap: dict[str, Any], allocs: pd.DataFrame, wos: pd.DataFrame) -> dict[str, Any]:
    """Every amount that reduces a positive invoice: allocations, credit notes, write-offs.

    An application takes effect on its own date or, if that is earlier, on the invoice's issue
    date (BRIEF "Over-application"); `own` keeps the date it carries.
    """
    parts = _application_parts(snap, allocs, wos, (0, 0, 0))
    apps = _application_rows(parts, snap["issue"])
    order = _by_invoice_date_kind(apps["inv"], apps["date"], apps["kind"])
    return _with_cum({name: values[order] for name, values in apps.items()})


Parts = list[tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]]


def _application_parts(
    snap: dict[str, Any], allocs: pd.DataFrame, wos: pd.DataFrame, since: tuple[int, int, int]
) -> Parts:
    """(invoice, own date, amount, kind, source row) of the allocations, credit notes applied to
    an invoice and write-offs, from the given first rows of each (allocations, invoices,
    write-offs) on: the applications in the order a full build lists them before sorting."""
    first_alloc, first_inv, first_wo = since
    cn = first_inv + np.flatnonzero(
        snap["is_cn"][first_inv:] & (snap["applies_to"][first_inv:] >= 0)
    )
    a, w = allocs.iloc[first_alloc:], wos.iloc[first_wo:]
    return [
        (
            a["inv"].to_numpy(),
            a["date"].to_numpy(),
            a["amount"].to_numpy(),
            KIND_PAYMENT,
            a.index.to_numpy(),
        ),
        (snap["applies_to"][cn], snap["issue"][cn], -snap["amount"][cn], KIND_CREDIT, cn),
        (
            w["inv"].to_numpy(),
            w["date"].to_numpy(),
            w["amount"].to_numpy(),
            KIND_WRITE_OFF,
            w.index.to_numpy(),
        ),
    ]


def _application_rows(parts: Parts, issue: np.ndarray) -> dict[str, np.ndarray]:
    """The parts as columns (applications to no known invoice dropped), each dated on its own
    date or, if that is earlier, its invoice's issue date."""
    inv = np.concatenate([p[0] for p in parts]).astype(np.int32)
    own = np.concatenate([p[1] for p in parts]).astype(np.int32)
    amount = np.concatenate([p[2] for p in parts]).astype(np.int64)
    kind = np.concatenate([np.full(len(p[0]), p[3], dtype=np.int8) for p in parts])
    src = np.concatenate([p[4] for p in parts]).astype(np.int64)
    keep = inv >= 0
    inv, own, amount, kind, src = inv[keep], own[keep], amount[keep], kind[keep], src[keep]
    date = np.maximum(own, issue[inv]).astype(np.int32) if len(inv) else own
    return {"inv": inv, "date": date, "own": own, "amount": amount, "kind": kind, "src": src}


def _next_applications(
    prev: Snapshot,
    snap: dict[str, Any],
    allocs: pd.DataFrame,
    wos: pd.DataFrame,
    staging: Staging | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """_applications of prev's rows plus appended ones, from prev's sorted applications: only the
    new ones are sorted, then merged in where a full build's stable sort puts them (after every
    earlier application of the same invoice, date and kind, which comes from an earlier row).
    Also the invoices with new applications."""
    old = {
        "inv": np.asarray(prev.app_inv),
        "date": np.asarray(prev.app_date),
        "amount": np.asarray(prev.app_amount),
        "kind": np.asarray(prev.app_kind),
        "src": np.asarray(prev.app_src),
    }
    # each old application's own date, from its source row
    own = np.empty(len(old["src"]), dtype=np.int32)
    for kind, dates in (
        (KIND_PAYMENT, allocs["date"].to_numpy()),
        (KIND_CREDIT, snap["issue"]),
        (KIND_WRITE_OFF, wos["date"].to_numpy()),
    ):
        mine = old["kind"] == kind
        own[mine] = dates[old["src"][mine]]
    old["own"] = own
    since = (len(prev.alloc_inv), len(prev.amount), len(prev.wo_inv))
    new = _application_rows(_application_parts(snap, allocs, wos, since), snap["issue"])
    if len(new["inv"]) == 0:
        return {**old, "cum": np.asarray(prev.app_cum), "key": np.asarray(prev.app_key)}, new["inv"]
    order = _by_invoice_date_kind(new["inv"], new["date"], new["kind"])
    new = {name: values[order] for name, values in new.items()}
    # each new application's invoice's run of old ones (old is sorted by invoice, date, kind)
    lo = np.searchsorted(old["inv"], new["inv"], side="left")
    hi = np.searchsorted(old["inv"], new["inv"], side="right")
    rows = runs(lo, hi)
    dates = np.concatenate([old["date"][rows], new["date"]])
    low = int(dates.min()) if len(dates) else 0
    if len(new["inv"]) >= 1 << 29 or (len(dates) and int(dates.max()) - low >= 1 << 32):
        # the keys would not fit in one int64
        return _applications(snap, allocs, wos), np.unique(new["inv"])

    def key(segment: np.ndarray, date: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """(segment, date, kind) packed in one int64, in that order"""
        return (
            (segment.astype(np.int64) << 34)
            | ((date.astype(np.int64) - low) << 2)
            | kind.astype(np.int64)
        )

    # within each run: after every old application of the same invoice whose (date, kind) is not
    # greater (a full build's stable sort puts the new one after those, as it comes from a later row)
    counts = hi - lo
    segment = np.arange(len(lo), dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sorted_keys = key(np.repeat(segment, counts), old["date"][rows], old["kind"][rows])
    found = np.searchsorted(sorted_keys, key(segment, new["date"], new["kind"]), side="right")
    at = lo + found - first
    touched = np.unique(new["inv"])
    if staging is not None and len(at) <= STAGED_INSERTS:
        return _staged_applications(prev, old, new, at, touched, staging), touched
    merged = {name: np.insert(old[name], at, new[name]) for name in old}
    # the cumulative amounts: prev's for every invoice without a new application, the changed
    # invoices' (a contiguous run each in the merged order) worked out again
    cum = np.insert(np.asarray(prev.app_cum), at, 0)
    mine = runs(
        np.searchsorted(merged["inv"], touched, side="left"),
        np.searchsorted(merged["inv"], touched, side="right"),
    )
    cum[mine] = _with_cum({"inv": merged["inv"][mine], "amount": merged["amount"][mine]})["cum"]
    app_key = np.insert(np.asarray(prev.app_key), at, _app_key(new["inv"], new["date"]))
    return {**merged, "cum": cum, "key": app_key}, touched


STAGED_INSERTS = 100_000  # more new applications than this: merged in memory (np.insert)


def _staged_applications(
    prev: Snapshot,
    old: dict[str, np.ndarray],
    new: dict[str, np.ndarray],
    at: np.ndarray,
    touched: np.ndarray,
    staging: Staging,
) -> dict[str, Any]:
    """The merged applications (new ones inserted at positions at of the old ones) written into
    the next version's directory as they are stored, mapped from there: the old ones copied file to
    file (Staging.pieces), the cumulative amounts of the touched invoices (those with new ones)
    worked out again and every other invoice's copied. "own" (not stored) is merged in memory."""
    n = len(old["inv"])
    group = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])  # runs of new ones at one position
    ends = np.r_[group[1:], len(at)]

    def inserted(values: np.ndarray) -> list[tuple[int, int] | np.ndarray]:
        parts: list[tuple[int, int] | np.ndarray] = []
        done = 0
        for g0, g1 in zip(group.tolist(), ends.tolist(), strict=True):
            pos = int(at[g0])
            if pos > done:
                parts.append((done, pos))
            parts.append(values[g0:g1])
            done = pos
        if n > done:
            parts.append((done, n))
        return parts

    sources = {
        "inv": prev.app_inv,
        "date": prev.app_date,
        "amount": prev.app_amount,
        "kind": prev.app_kind,
        "src": prev.app_src,
    }
    merged: dict[str, Any] = {
        name: staging.pieces(f"app_{name}", np.asarray(source), inserted(new[name]), raw=True)
        for name, source in sources.items()
    }
    merged["own"] = np.insert(old["own"], at, new["own"])
    merged["key"] = staging.pieces(
        "app_key",
        np.asarray(prev.app_key),
        inserted(_app_key(new["inv"], new["date"])),
        raw=True,
    )
    # cumulative amounts: the touched invoices' runs (contiguous, sorted by invoice) again
    new_lo = np.searchsorted(merged["inv"], touched, side="left")
    new_hi = np.searchsorted(merged["inv"], touched, side="right")
    mine = runs(new_lo, new_hi)
    fresh = _with_cum({"inv": merged["inv"][mine], "amount": merged["amount"][mine]})["cum"]
    old_lo = np.searchsorted(old["inv"], touched, side="left")
    old_hi = np.searchsorted(old["inv"], touched, side="right")
    parts: list[tuple[int, int] | np.ndarray] = []
    done, offset = 0, 0
    for lo, hi, length in zip(
        old_lo.tolist(), old_hi.tolist(), (new_hi - new_lo).tolist(), strict=True
    ):
        if lo > done:
            parts.append((done, lo))
        parts.append(fresh[offset : offset + length])
        done, offset = hi, offset + length
    if n > done:
        parts.append((done, n))
    merged["cum"] = staging.pieces("app_cum", np.asarray(prev.app_cum), parts, raw=True)
    return merged


def _with_cum(apps: dict[str, np.ndarray]) -> dict[str, Any]:
    """Sorted applications with each one's cumulative amount applied to its invoice so far."""
    inv, amount = apps["inv"], apps["amount"]
    cum = np.cumsum(amount)
    starts = (
        np.flatnonzero(np.r_[True, inv[1:] != inv[:-1]])
        if len(inv)
        else np.array([], dtype=np.int64)
    )
    # cumulative applied per invoice: subtract the running total before each invoice's first row
    offsets = np.zeros(len(inv), dtype=np.int64)
    if len(inv):
        before = np.r_[0, cum[starts[1:] - 1]]
        offsets = np.repeat(before, np.diff(np.r_[starts, len(inv)]))
    return {**apps, "cum": cum - offsets}


def _by_invoice_date_kind(inv: np.ndarray, date: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The stable order by (invoice, date, kind): np.lexsort((kind, date, inv)), as one stable sort
    of a packed int64 key (about three times quicker) when the invoice positions fit in 29 bits."""
    if len(inv) == 0 or int(inv.max()) >= 1 << 29:
        return np.lexsort((kind, date, inv))
    key = (
        (inv.astype(np.int64) << 34)
        | ((date.astype(np.int64) - int(date.min())) << 2)  # < 2**32: int32 days
        | kind.astype(np.int64)  # 0..2
    )
    return np.argsort(key, kind="stable")


def _excess_steps(amount: np.ndarray, apps: dict[str, Any]) -> dict[str, Any]:
    """Where applications exceed an invoice's amount: each step of the excess (invoice, day, cents)."""
    inv, cum = apps["inv"], apps["cum"]
    if len(inv) == 0:
        empty = np.zeros(0, dtype=np.int32)
        return {"inv": empty, "day": empty, "cents": np.zeros(0, dtype=np.int64), "over": empty}
    excess = np.maximum(cum - np.maximum(amount[inv], 0), 0)
    first = np.r_[True, inv[1:] != inv[:-1]]
    delta = excess - np.where(first, 0, np.r_[0, excess[:-1]])
    step = delta != 0
    return {
        "inv": inv[step].astype(np.int32),
        "day": apps["date"][step].astype(np.int32),
        "cents": delta[step].astype(np.int64),
        "over": np.unique(inv[step]).astype(np.int32),
    }


def _pending(snap: dict[str, Any], apps: dict[str, Any]) -> dict[str, Any]:
    """Credit notes and write-offs dated before their invoice: unapplied credit until its issue date."""
    early = (apps["kind"] != KIND_PAYMENT) & (apps["own"] < apps["date"])
    inv = apps["inv"][early]
    kind = apps["kind"][early]
    return {
        "ref": np.where(kind == KIND_CREDIT, apps["src"][early], inv).astype(np.int64),
        "kind": kind,
        "cust": snap["inv_cust"][inv] if len(inv) else np.zeros(0, dtype=np.int32),
        "start": apps["own"][early],
        "end": apps["date"][early],
        "cents": apps["amount"][early],
        "cur": snap["inv_cur"][inv] if len(inv) else np.zeros(0, dtype=np.int8),
    }


def _settlement(
    n: int, amount: np.ndarray, issue: np.ndarray, apps: dict[str, Any]
) -> dict[str, Any]:
    """Per invoice: the date its balance first reaches zero, and the kind of that application."""
    settle = np.full(n, NO_DATE, dtype=np.int32)
    kind = np.full(n, -1, dtype=np.int8)
    first = np.full(n, NO_DATE, dtype=np.int32)
    total = np.zeros(n, dtype=np.int64)
    inv = apps["inv"]
    if len(inv):
        starts = np.flatnonzero(np.r_[True, inv[1:] != inv[:-1]])
        first[inv[starts]] = apps["date"][starts]
        reached = apps["cum"] >= amount[inv]
        hit = np.flatnonzero(reached)
        # first hit per invoice: rows are sorted by (invoice, date), so keep the first per invoice
        first_hit = hit[np.r_[True, inv[hit][1:] != inv[hit][:-1]]] if len(hit) else hit
        settle[inv[first_hit]] = apps["date"][first_hit]
        kind[inv[first_hit]] = apps["kind"][first_hit]
        ends = np.r_[starts[1:] - 1, len(inv) - 1]
        total[inv[ends]] = apps["cum"][ends]
    clean = total <= np.maximum(amount, 0)
    return {"settle": settle, "settle_kind": kind, "first_app": first, "clean": clean}


def _next_settlement(
    prev: Snapshot,
    amount: np.ndarray,
    issue: np.ndarray,
    apps: dict[str, Any],
    changed: np.ndarray,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """_settlement and _excess_steps when only the changed invoices' applications changed (prev's
    invoices plus appended ones): prev's figures kept for every other invoice, the changed ones'
    worked out again from their own applications (a contiguous run each: apps are sorted by
    invoice, and each one's cumulative amount is its own)."""
    n, n_prev = len(amount), len(prev.amount)
    rows = runs(
        np.searchsorted(apps["inv"], changed, side="left"),
        np.searchsorted(apps["inv"], changed, side="right"),
    )
    mine = {name: apps[name][rows] for name in ("inv", "date", "kind", "cum")}
    fresh = _settlement(n, amount, issue, mine)
    settle: dict[str, Any] = {}
    for name, default in (("settle", NO_DATE), ("settle_kind", -1), ("first_app", NO_DATE)):
        before = np.asarray(getattr(prev, name))
        values = np.concatenate([before, np.full(n - n_prev, default, dtype=before.dtype)])
        values[changed] = fresh[name][changed]
        settle[name] = values
    clean = np.concatenate([np.asarray(prev.clean), np.ones(n - n_prev, dtype=bool)])
    clean[changed] = fresh["clean"][changed]
    settle["clean"] = clean
    # excess steps: prev's of the other invoices, the changed ones' in their place (by invoice)
    steps = _excess_steps(amount, mine)
    keep = ~np.isin(prev.excess_inv, changed)
    kept = {
        "inv": np.asarray(prev.excess_inv)[keep],
        "day": np.asarray(prev.excess_day)[keep],
        "cents": np.asarray(prev.excess_cents)[keep],
    }
    at = np.searchsorted(kept["inv"], steps["inv"], side="left")
    excess = {name: np.insert(kept[name], at, steps[name]) for name in kept}
    excess["over"] = np.unique(excess["inv"]).astype(np.int32)
    return settle, excess


def _next_loose_payments(prev: Snapshot, rows: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """_loose_payments of prev's payments and allocations plus appended ones: only the new payments
    and those with new allocations are looked at again (their allocations: theirs alone)."""
    n_pay = len(rows["pay_amount"])
    if n_pay == 0:  # no payments: no allocation is known either
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new_alloc_pay = rows["alloc_pay"][len(prev.alloc_pay) :]
    changed = np.zeros(n_pay, dtype=bool)
    changed[len(prev.pay_amount) :] = True
    changed[new_alloc_pay[new_alloc_pay >= 0]] = True
    alloc_pay = rows["alloc_pay"]
    theirs = np.flatnonzero((alloc_pay >= 0) & changed[np.maximum(alloc_pay, 0)])
    pays = np.flatnonzero(changed)
    # their allocations, by position among the changed payments
    local = np.searchsorted(pays, alloc_pay[theirs])
    loose_local, _ = _loose_payments(
        local,
        rows["alloc_date"][theirs],
        rows["alloc_amount"][theirs],
        rows["pay_date"][pays],
        rows["pay_amount"][pays],
    )
    loose = np.zeros(n_pay, dtype=bool)
    loose[np.asarray(prev.pay_loose)] = True
    loose[pays] = False
    loose[pays[loose_local]] = True
    known = alloc_pay >= 0
    return np.flatnonzero(loose), np.flatnonzero(known & loose[np.where(known, alloc_pay, 0)])


def _allocation_dates(
    own: np.ndarray, paid: np.ndarray, inv: np.ndarray, issue: np.ndarray
) -> np.ndarray:
    """When each allocation takes effect: its date (else its payment's), never before the payment
    was received nor before the invoice was issued (a prepayment is unapplied credit until then)."""
    date = np.where(own == NO_DATE, paid, np.maximum(own, np.where(paid == NO_DATE, own, paid)))
    if len(issue):
        date = np.where(inv >= 0, np.maximum(date, issue[np.maximum(inv, 0)]), date)
    return date.astype(np.int32)


def _base_amounts(
    cur: dict[str, Any],
    amount: np.ndarray,
    issue: np.ndarray,
    pay_amount: np.ndarray,
    pay_date: np.ndarray,
    wos: pd.DataFrame,
) -> dict[str, Any]:
    """Invoices, payments and write-offs in base cents at the rate of their own date."""
    rates: Rates = cur["rates"]
    rate_issue = rates.on(cur["inv"], issue)
    wo_inv = wos["inv"].to_numpy()
    wo_cur = np.where(wo_inv >= 0, cur["inv"][np.maximum(wo_inv, 0)] if len(amount) else 0, 0)
    wo_amount = wos["amount"].to_numpy().astype(np.int64)
    if not rates.multi:
        return {"rate_issue": rate_issue, "inv": amount, "pay": pay_amount, "wo": wo_amount}
    return {
        "rate_issue": rate_issue,
        "inv": convert(amount, rate_issue),
        "pay": convert(pay_amount, rates.on(cur["pay"], pay_date)),
        "wo": convert(wo_amount, rates.on(wo_cur, wos["date"].to_numpy())),
    }


def _next_base_amounts(
    prev: Snapshot,
    rows: dict[str, Any],
    rates: Rates,
    wos: pd.DataFrame,
    staging: Staging | None = None,
) -> dict[str, Any]:
    """_base_amounts of rows that are prev's rows plus appended ones: each row's base amount
    depends on that row alone, so prev's are kept and only the new rows are converted (with
    staging: appended to prev's files, see Staging.extend)."""

    def extend(name: str, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        return np.concatenate([old, new]) if staging is None else staging.extend(name, old, new)

    n_inv, n_pay, n_wo = len(prev.amount), len(prev.pay_amount), len(prev.wo_amount)
    new = _base_amounts(
        {"rates": rates, "inv": rows["inv_cur"][n_inv:], "pay": rows["pay_cur"][n_pay:]},
        rows["amount"][n_inv:],
        rows["issue"][n_inv:],
        rows["pay_amount"][n_pay:],
        rows["pay_date"][n_pay:],
        wos.iloc[:0],
    )
    # a new write-off may be of an old invoice: its currency from every invoice
    wo_new = wos.iloc[n_wo:]
    wo_inv = wo_new["inv"].to_numpy()
    wo_cur = np.where(wo_inv >= 0, rows["inv_cur"][np.maximum(wo_inv, 0)], 0)
    wo_amount = wo_new["amount"].to_numpy().astype(np.int64)
    wo = (
        convert(wo_amount, rates.on(wo_cur, wo_new["date"].to_numpy()))
        if rates.multi
        else wo_amount
    )
    return {
        "rate_issue": extend("inv_rate_issue", prev.inv_rate_issue, new["rate_issue"]),
        "inv": extend("inv_base", prev.inv_base, new["inv"]),
        "pay": extend("pay_base", prev.pay_base, new["pay"]),
        "wo": extend("wo_base", prev.wo_base, wo),
    }


def _loose_payments(
    alloc_pay: np.ndarray,
    alloc_date: np.ndarray,
    alloc_amount: np.ndarray,
    pay_date: np.ndarray,
    pay_amount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Payments whose allocations do not exactly cover them on their own date, and their allocations.

    Every other payment is unapplied by zero on every date from its own, so per-customer unapplied
    credits only need to look at these.
    """
    n = len(pay_date)
    known = alloc_pay >= 0
    pay = np.where(known, alloc_pay, 0)
    same_day = known & (
        np.maximum(alloc_date, pay_date[pay] if n else alloc_date)
        == (pay_date[pay] if n else alloc_date)
    )
    on_date = sum_by(pay[same_day], alloc_amount[same_day], n)
    later = np.zeros(n, dtype=bool)
    later[pay[known & ~same_day]] = True
    loose = (on_date != pay_amount) | later
    return np.flatnonzero(loose), np.flatnonzero(known & loose[pay]) if n else np.flatnonzero(known)


def _codes(series: pd.Series | None, fallback: np.ndarray) -> np.ndarray:
    """Upper-case currency codes, with fallback where blank or absent (normalised once per distinct value)."""
    if series is None:
        return fallback.astype(object)
    encoded = _arrow_text(series).dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    clean = np.array([str(u).strip().upper() for u in uniques] + [""], dtype=object)
    # null: the trailing ""
    text = clean[encoded.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False)]
    return np.where(text == "", fallback, text).astype(object)


def _ymd(issue: np.ndarray) -> np.ndarray:
    """Issue dates as (year, month, day) rows."""
    issue_dt = pd.to_datetime(issue.astype("int64"), unit="D")
    return np.stack(
        [issue_dt.year.to_numpy(), issue_dt.month.to_numpy(), issue_dt.day.to_numpy()], axis=1
    ).astype(np.int32)


def _invoice_rows(
    inv: pd.DataFrame,
    cust_pos: SortedIndex | HashIndex,
    inv_pos: SortedIndex | HashIndex,
    per_cust: np.ndarray,
) -> dict[str, Any]:
    """The per-invoice columns of invoice rows (positions by the given indexes; currency codes, the
    customer's where blank: per_cust[customer position], whose last entry is for unknown customers)."""
    amount = _cents(inv["amount_cents"])
    inv_cust = _lookup(cust_pos, inv["customer_id"])
    issue = _days(inv["issue_date"])
    return {
        "inv_cust": inv_cust,
        "issue": issue,
        "due": _days(inv["due_date"]),
        "amount": amount,
        "cost": _cents(inv["cost_cents"]),
        "has_cost": inv["cost_cents"].notna().to_numpy(dtype=bool),
        "disputed": inv["disputed"].fillna(False).astype(bool).to_numpy(dtype=bool),
        "is_cn": amount < 0,
        "applies_to": _lookup(inv_pos, inv["applies_to"]),
        "issue_ymd": _ymd(issue),
        "inv_code": _codes(inv["currency"] if "currency" in inv else None, per_cust[inv_cust]),
    }


def _payment_rows(
    pays: pd.DataFrame, cust_pos: SortedIndex | HashIndex, per_cust: np.ndarray
) -> dict[str, Any]:
    pay_cust = _lookup(cust_pos, pays["customer_id"])
    return {
        "pay_cust": pay_cust,
        "pay_date": _days(pays["date"]),
        "pay_amount": _cents(pays["amount_cents"]),
        "pay_code": _codes(pays["currency"] if "currency" in pays else None, per_cust[pay_cust]),
    }


def _allocation_rows(
    al: pd.DataFrame,
    pay_pos: SortedIndex | HashIndex,
    inv_pos: SortedIndex | HashIndex,
    pay_date: np.ndarray,
    issue: np.ndarray,
) -> dict[str, Any]:
    alloc_pay = _lookup(pay_pos, al["payment_id"])
    alloc_own = _days(al["date"])
    pay_of_alloc = (
        np.where(alloc_pay >= 0, pay_date[np.maximum(alloc_pay, 0)], NO_DATE)
        if len(pay_date)
        else alloc_own
    )
    alloc_inv = _lookup(inv_pos, al["invoice_id"])
    return {
        "alloc_pay": alloc_pay,
        "alloc_inv": alloc_inv.astype(np.int32),
        "alloc_date": _allocation_dates(alloc_own, pay_of_alloc, alloc_inv, issue),
        "alloc_amount": _cents(al["amount_cents"]),
    }


def _write_off_rows(wo: pd.DataFrame, inv_pos: SortedIndex | HashIndex) -> dict[str, Any]:
    return {
        "wo_inv": _lookup(inv_pos, wo["invoice_id"]).astype(np.int32),
        "wo_date": _days(wo["date"]).astype(np.int32),
        "wo_amount": _cents(wo["amount_cents"]),
    }


def _derive(
    rows: dict[str, Any],
    rates: Rates,
    prev: Snapshot | None = None,
    staging: Staging | None = None,
) -> dict[str, Any]:
    """Every derived array of the snapshot from the per-row columns of invoices, payments,
    allocations and write-offs (positions, days, cents, currency indexes): applications, settlement,
    over-application steps, pending credits, base amounts, loose payments and the day range.
    The full build and the next version built from the previous one (prev: whose rows are the
    first rows of these, with the same rates) both derive through here; with staging (the next
    version's directory) the merged applications are written there as they are derived."""
    amount, issue = rows["amount"], rows["issue"]
    snap = {k: rows[k] for k in ("inv_cust", "issue", "amount", "is_cn", "applies_to", "inv_cur")}
    # copy=False: the columns as they are (a dict's default copies them into one block)
    allocs = pd.DataFrame(
        {"inv": rows["alloc_inv"], "date": rows["alloc_date"], "amount": rows["alloc_amount"]},
        copy=False,
    )
    wos = pd.DataFrame(
        {"inv": rows["wo_inv"], "date": rows["wo_date"], "amount": rows["wo_amount"]}, copy=False
    )
    if prev is None:
        apps = _applications(snap, allocs, wos)
        settle = _settlement(len(amount), amount, issue, apps)
        excess = _excess_steps(amount, apps)
    else:
        apps, applied = _next_applications(prev, snap, allocs, wos, staging)
        # the invoices whose applications changed: the new ones and those with new applications
        changed = np.union1d(np.arange(len(prev.amount), len(amount)), applied)
        settle, excess = _next_settlement(prev, amount, issue, apps, changed)
    pending = _pending(snap, apps)
    pay_amount, pay_date = rows["pay_amount"], rows["pay_date"]
    money = (
        _base_amounts(
            {"rates": rates, "inv": rows["inv_cur"], "pay": rows["pay_cur"]},
            amount,
            issue,
            pay_amount,
            pay_date,
            wos,
        )
        if prev is None
        else _next_base_amounts(prev, rows, rates, wos, staging)
    )
    pay_loose, alloc_loose = (
        _loose_payments(
            rows["alloc_pay"], rows["alloc_date"], rows["alloc_amount"], pay_date, pay_amount
        )
        if prev is None
        else _next_loose_payments(prev, rows)
    )
    total_abs = int(np.abs(amount).sum() + np.abs(pay_amount).sum() + np.abs(apps["amount"]).sum())
    if total_abs >= EXACT_LIMIT:
        raise ValueError("ledger totals exceed the exact range of the engine (2**53 cents)")
    all_days = np.concatenate(
        [
            issue,
            pay_date,
            apps["date"],
            apps["own"],
            np.array([to_day(dt.date.today())], dtype=np.int32),
        ]
    )
    all_days = all_days[all_days != NO_DATE]
    day0 = int(all_days.min()) - 1
    return {
        "free_credit_notes": np.flatnonzero(
            rows["is_cn"] & (rows["applies_to"] < 0) & (rows["inv_cust"] >= 0)
        ),
        "settle": settle["settle"],
        "settle_kind": settle["settle_kind"],
        "first_app": settle["first_app"],
        "clean": settle["clean"],
        "over_applied": excess["over"],
        "excess_inv": excess["inv"],
        "excess_day": excess["day"],
        "excess_cents": excess["cents"],
        "pend_ref": pending["ref"],
        "pend_kind": pending["kind"],
        "pend_cust": pending["cust"],
        "pend_start": pending["start"],
        "pend_end": pending["end"],
        "pend_cents": pending["cents"],
        "pend_cur": pending["cur"],
        "inv_rate_issue": money["rate_issue"],
        "inv_base": money["inv"],
        "pay_base": money["pay"],
        "wo_base": money["wo"],
        "app_inv": apps["inv"],
        "app_date": apps["date"],
        "app_amount": apps["amount"],
        "app_kind": apps["kind"],
        "app_key": apps["key"] if "key" in apps else _app_key(apps["inv"], apps["date"]),
        "app_cum": apps["cum"],
        "app_src": apps["src"],
        "pay_loose": pay_loose,
        "alloc_loose": alloc_loose,
        "day0": day0,
        "ndays": int(all_days.max()) - day0 + 1,
    }


def _currency_index(rates: Rates, codes: np.ndarray) -> np.ndarray:
    """Currency codes as indexes into rates.codes (each must be one of them)."""
    index = {c: i for i, c in enumerate(rates.codes)}
    return (
        np.array([index[c] for c in codes], dtype=np.int8)
        if len(codes)
        else np.zeros(0, dtype=np.int8)
    )


DERIVED_COLUMNS = (
    "free_credit_notes",
    "settle",
    "settle_kind",
    "first_app",
    "clean",
    "over_applied",
    "excess_inv",
    "excess_day",
    "excess_cents",
    "pend_ref",
    "pend_kind",
    "pend_cust",
    "pend_start",
    "pend_end",
    "pend_cents",
    "pend_cur",
    "inv_rate_issue",
    "inv_base",
    "pay_base",
    "wo_base",
    "app_inv",
    "app_date",
    "app_amount",
    "app_kind",
    "app_key",
    "app_cum",
    "app_src",
    "pay_loose",
    "alloc_loose",
    "day0",
    "ndays",
)  # what _derive returns
ROW_COLUMNS = (
    "inv_ids",
    "inv_cust",
    "issue",
    "due",
    "amount",
    "cost",
    "has_cost",
    "disputed",
    "is_cn",
    "applies_to",
    "issue_ymd",
    "inv_cur",
    "pay_ids",
    "pay_cust",
    "pay_date",
    "pay_amount",
    "pay_cur",
    "alloc_pay",
    "alloc_inv",
    "alloc_date",
    "alloc_amount",
    "wo_inv",
    "wo_date",
    "wo_amount",
)
# columns whose previous values are the first rows of the next version's by construction (the
# ledger's rows, appended by _append_rows, and each row's base amounts): appended to on disk
APPENDED = frozenset(ROW_COLUMNS) | {"inv_rate_issue", "inv_base", "pay_base", "wo_base"}


def build_snapshot(
    tables: LedgerTables, url: str | None = None, base_currency: str | None = None
) -> Snapshot:
    """Turn the raw ledger tables into a snapshot (commissions and activities may come later)."""
    base = (base_currency or get_settings().base_currency).upper()
    f = tables.frames
    reps = f["sales_reps"].copy()
    rep_group = dict(
        zip(
            reps["sales_rep_id"],
            reps["group_name"].where(reps["group_name"].notna(), ""),
            strict=True,
        )
    )
    cust = f["customers"].sort_values("customer_id", kind="stable").reset_index(drop=True)
    cust_ids = _ids(cust["customer_id"])
    cust_index, cust_pos = SortedIndex(cust_ids), HashIndex(cust_ids)
    cust_rep = _text(cust["sales_rep_id"])
    cust_code = _codes(
        cust["currency"] if "currency" in cust else None, np.full(len(cust), base, dtype=object)
    )
    per_cust = np.r_[cust_code, np.array([base], dtype=object)]  # position -1 (unknown) -> base
    inv_ids = _ids(f["invoices"]["invoice_id"])
    inv_index, inv_pos = SortedIndex(inv_ids), HashIndex(inv_ids)
    rows: dict[str, Any] = {"inv_ids": inv_ids, "pay_ids": _ids(f["payments"]["payment_id"])}
    rows.update(_invoice_rows(f["invoices"], cust_pos, inv_pos, per_cust))
    pay_index, pay_pos = SortedIndex(rows["pay_ids"]), HashIndex(rows["pay_ids"])
    rows.update(_payment_rows(f["payments"], cust_pos, per_cust))
    rows.update(
        _allocation_rows(f["allocations"], pay_pos, inv_pos, rows["pay_date"], rows["issue"])
    )
    rows.update(_write_off_rows(f["write_offs"], inv_pos))
    rates = build_rates(
        base,
        set(cust_code) | set(rows["inv_code"]) | set(rows["pay_code"]),
        f.get("fx_rates"),
    )
    cust_cur = _currency_index(rates, cust_code)
    rows["inv_cur"] = _currency_index(rates, rows.pop("inv_code"))
    rows["pay_cur"] = _currency_index(rates, rows.pop("pay_code"))
    limit = _cents(cust["credit_limit_cents"])
    terms_days = (
        pd.to_numeric(cust["terms_days"], errors="coerce").fillna(30).to_numpy(dtype=np.int32)
    )
    terms_type = _text(cust["terms_type"])
    short = (terms_days < 30) & (terms_type != "eom")
    terms_text = np.array(
        [
            f"EOM + {d}" if t == "eom" else f"Net {d}"
            for d, t in zip(terms_days, terms_type, strict=True)
        ],
        dtype=object,
    )
    lazy = {}
    if "commissions" in f:
        lazy["commissions"] = _commissions(f["commissions"], inv_pos, rows["inv_cust"], rep_group)
    if "activities" in f:
        lazy["activities"] = _activities(f["activities"], cust_pos)
    return Snapshot(
        version=tables.version,
        stamp=tables.stamp,
        loaded_at=time.time(),
        cust_ids=cust_ids,
        cust_index=cust_index,
        cust_name=_text(cust["name"]),
        segment=_text(cust["segment"]),
        region=_text(cust["region"]),
        tier=_text(cust["tier"]),
        terms_days=terms_days,
        terms_type=terms_type,
        credit_limit=np.maximum(limit, 0),
        cust_rep=cust_rep,
        cust_group=np.array([rep_group.get(r, "") or "" for r in cust_rep], dtype=object),
        created_on=_days(cust["created_on"]),
        currency=_text(cust["currency"]),
        inv_index=inv_index,
        rates=rates,
        cust_cur=cust_cur,
        pay_index=pay_index,
        reps=reps,
        promises=_with_positions(
            f["promises"], inv_pos, rows["inv_cust"], ["made_on", "promised_date"]
        ),
        disputes=_with_positions(
            f["disputes"], inv_pos, rows["inv_cust"], ["opened_on", "resolved_on"]
        ),
        short_terms=short,
        terms_text=terms_text,
        url=url,
        lazy=lazy,
        **rows,
        **_derive(rows, rates),
    )


def _with_positions(
    frame: pd.DataFrame, inv_index: SortedIndex | HashIndex, inv_cust: np.ndarray, dates: list[str]
) -> pd.DataFrame:
    """Add invoice and customer positions, and day numbers for date columns."""
    out = frame.copy()
    out["inv"] = _lookup(inv_index, out["invoice_id"])
    out["cust"] = np.where(
        out["inv"] >= 0, inv_cust[np.maximum(out["inv"].to_numpy(), 0)] if len(inv_cust) else -1, -1
    )
    for col in dates:
        out[col] = _days(out[col])
    out["amount_cents"] = _cents(out["amount_cents"])
    return out


def _commissions(
    frame: pd.DataFrame,
    inv_index: SortedIndex | HashIndex,
    inv_cust: np.ndarray,
    rep_group: dict[str, Any],
) -> pd.DataFrame:
    out = frame.copy()
    out["inv"] = _lookup(inv_index, out["invoice_id"])
    out["cust"] = np.where(
        out["inv"] >= 0, inv_cust[np.maximum(out["inv"].to_numpy(), 0)] if len(inv_cust) else -1, -1
    )
    out["earned_date"] = _days(out["earned_date"])
    out["settlement_date"] = _days(out["settlement_date"])
    out["amount_cents"] = _cents(out["amount_cents"])
    out["settled"] = out["settled"].fillna(False).astype(bool)
    out["rate"] = pd.to_numeric(out["rate"], errors="coerce")
    out["group_name"] = out["sales_rep_id"].map(rep_group).fillna("")
    return out


def _activities(frame: pd.DataFrame, cust_index: SortedIndex | HashIndex) -> pd.DataFrame:
    out = frame.copy()
    out["cust"] = _lookup(cust_index, out["customer_id"])
    out["date"] = _days(out["date"])
    return out


def build_version(url: str, wait: bool = True) -> Path | None:
    """Make sure this machine's store holds the database's current version; its directory.

    One process per machine builds (the store's build lock); the others wait for it (wait=True)
    or get None at once (wait=False) and keep serving what they have.
    """
    from dashboard.metrics.ledger import events  # lazy (a): it imports this module

    store = store_for(url)
    found = store.find(*version_stamp(url))
    if found is not None:
        return found
    with store.build_lock(wait) as got:
        if not got:
            return None
        version, stamp = version_stamp(url)
        found = store.find(version, stamp)  # built while we waited
        if found is not None:
            return found
        started = time.perf_counter()
        path = _next_version(store, url, stamp, started)
        if path is None:
            snap = build_snapshot(read_ledger(url, CORE_TABLES + LAZY_TABLES), url)
            path = store.publish(snap, events(snap), snap.stamp, time.perf_counter() - started)
            seconds = time.perf_counter() - started
            log.info("snapshot version %s built in %.1f s: %s", snap.version, seconds, path)
            _record_load(snap.version, seconds)
            version, stamp = snap.version, snap.stamp
        store.collect(version, stamp)
        return path


# Tables a version can change while the next version still shares every other column file of the
# previous one: not read by the snapshot at all, or kept as separate frames that are re-read whole.
UNREAD_TABLES = frozenset({"notes", "value_tiers"})
FRAME_TABLES = ("promises", "disputes", "commissions", "activities")
# Ledger tables whose new rows the next version takes from the previous one plus those rows
# (_append_rows); an update or delete of an existing row there is a full build.
ROW_TABLES = frozenset(ROW_KEYS)


def _next_version(store: LedgerStore, url: str, stamp: str, started: float) -> Path | None:
    """The next version built from the newest one of this ledger (stamp) on disk plus what changed
    (None: a full build is needed). Notes and tiers: every file shared; promises, disputes, commissions, activities: that
    table re-read; new invoices, payments, allocations, write-offs: those rows read, every derived
    array derived again from the previous version's columns plus them (_append_rows)."""
    previous = store.newest(stamp)
    if previous is None:
        return None
    prev = open_snapshot(previous, url)
    changed = read_since(
        url, prev.version, prev.stamp, UNREAD_TABLES | set(FRAME_TABLES), ROW_TABLES
    )
    if changed is None or changed.version <= prev.version:
        return None
    version, stamp = changed.version, changed.stamp
    if not changed.rows:
        prepared = {name: _prepare_frame(prev, name, f) for name, f in changed.frames.items()}
        path = store.publish_next(previous, version, stamp, prepared, time.perf_counter() - started)
    else:
        staging = store.staging(previous, version)
        try:
            built = _next_rows(store, prev, changed, staging, started)
        except BaseException:
            shutil.rmtree(staging.folder, ignore_errors=True)
            raise
        if built is None:
            shutil.rmtree(staging.folder, ignore_errors=True)
            log.info("snapshot version %s: changed rows not only appended: full build", version)
            return None
        path, prepared = built
    log.info(
        "snapshot version %s built from version %s (%s re-read%s) in %.2f s",
        version,
        prev.version,
        ", ".join(prepared) or "nothing",
        "".join(f", {len(f)} {t} rows read" for t, f in changed.rows.items()),
        time.perf_counter() - started,
    )
    _record_load(version, time.perf_counter() - started)
    return path


def _next_rows(
    store: LedgerStore, prev: Snapshot, changed: Changes, staging: Staging, started: float
) -> tuple[Path, dict[str, pd.DataFrame]] | None:
    """The next version after new ledger rows, built in staging and published (its directory and
    the frames re-read); None when a full build is needed (_append_rows)."""
    # lazy (a): both import this module
    from dashboard.metrics.forecast import HISTORY_APPENDED, next_history_arrays
    from dashboard.metrics.ledger import next_events

    snap = _append_rows(prev, changed, staging)
    if snap is None:
        return None
    prepared = {name: _prepare_frame(snap, name, f) for name, f in changed.frames.items()}
    for name in ("promises", "disputes"):
        if name in prepared:
            setattr(snap, name, prepared[name])
    previous = staging.previous
    path = store.publish_next(
        previous,
        changed.version,
        changed.stamp,
        prepared,
        time.perf_counter() - started,
        rebuilt=(
            snap,
            next_events(prev, snap, _touched(prev, snap), staging),
            Sharing(
                previous,
                unchanged=frozenset(
                    f.name
                    for f in fields(Snapshot)
                    if getattr(snap, f.name) is getattr(prev, f.name)
                ),
                appended=APPENDED | {HISTORY + name for name in HISTORY_APPENDED},
            ),
            next_history_arrays(prev.cache["history"], prev, snap, staging.extend_history),
        ),
        staging=staging,
    )
    return path, prepared


def _merged_index(
    old: SortedIndex, new_ids: np.ndarray, ids: np.ndarray | None = None
) -> SortedIndex:
    """The SortedIndex of old.ids followed by new_ids (none of them in old; ids: those two
    together, when already at hand): the old sort order with the new positions inserted where they
    belong (what argsort of all the ids gives, ids being unique)."""
    old_ids = np.asarray(old.ids)
    if len(new_ids) == 0:
        return old
    if ids is None:
        ids = np.concatenate([old_ids, new_ids]) if len(old_ids) else new_ids
    new_order = np.argsort(new_ids, kind="stable").astype(np.int64)
    # sorter=: binary search through the stored order (no sorted copy of every id)
    at = np.searchsorted(old_ids, new_ids[new_order], sorter=np.asarray(old.order))
    order = np.insert(np.asarray(old.order, dtype=np.int64), at, len(old_ids) + new_order)
    return SortedIndex(ids, order)


def _same_rows(
    prev_keys: np.ndarray,
    prev_values: list[np.ndarray],
    keys: np.ndarray,
    values: list[np.ndarray],
) -> np.ndarray | None:
    """Which re-read rows are new: their key (unique per table) is not among prev_keys, the previous
    version's rows of the changed keys. None when one of those previous rows was changed (a re-read
    row with its key has other values) or deleted (no re-read row has its key)."""
    old = np.isin(keys, prev_keys)
    if int(old.sum()) != len(prev_keys):
        return None
    if old.any():
        order = np.argsort(prev_keys, kind="stable")
        at = order[np.searchsorted(prev_keys, keys[old], sorter=order)]
        for prev_col, col in zip(prev_values, values, strict=True):
            if not np.array_equal(prev_col[at], col[old]):
                return None
    return ~old


def _pair(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    return (high.astype(np.int64) << 32) | (low.astype(np.int64) & 0xFFFFFFFF)


def _append_rows(
    prev: Snapshot, changed: Changes, staging: Staging | None = None
) -> Snapshot | None:
    """The next version's snapshot: prev plus the new invoices, payments, allocations and write-offs
    in changed.rows, appended after prev's rows (where a full read returns rows added later), every
    derived array derived again (_derive). None when the change is not only appended rows, a new
    currency code appears, or a new invoice resolves a commission's invoice id: a full build.
    With staging (the next version's directory), each grown row column is prev's file with the new
    rows appended, mapped (Staging.extend): no copy of the old rows in memory."""
    rows = changed.rows

    def extend(name: str, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        return np.concatenate([old, new]) if staging is None else staging.extend(name, old, new)

    cols: dict[str, Any] = {name: np.asarray(getattr(prev, name)) for name in ROW_COLUMNS}
    codes = np.array(prev.rates.codes, dtype=object)
    per_cust = np.r_[codes[np.asarray(prev.cust_cur)], np.array([prev.rates.base], dtype=object)]
    known = set(prev.rates.codes)
    inv_index, pay_index = prev.inv_index, prev.pay_index

    def keyed(table: str, id_column: str, index: SortedIndex) -> pd.DataFrame | None:
        """New rows of invoices or payments: every logged key read back and none of them known."""
        frame = rows.get(table)
        if frame is None:
            return frame
        ids = set(frame[id_column].astype(str))
        if ids != changed.keys[table] or (index.lookup(frame[id_column]) >= 0).any():
            return None  # deleted, or an existing row written again (perhaps changed)
        return frame

    inv = keyed("invoices", "invoice_id", inv_index)
    if "invoices" in rows and inv is None:
        return None
    if inv is not None and len(inv):
        new_ids = _ids(inv["invoice_id"])
        if _commission_resolves(prev, new_ids):
            return None
        inv_index = _merged_index(inv_index, new_ids, extend("inv_ids", cols["inv_ids"], new_ids))
        cols["inv_ids"] = np.asarray(inv_index.ids)
        new = _invoice_rows(inv, prev.cust_index, inv_index, per_cust)
        if not set(new["inv_code"]) <= known:
            return None
        new["inv_cur"] = _currency_index(prev.rates, new.pop("inv_code"))
        for name, values in new.items():
            cols[name] = extend(name, cols[name], values)
    pay = keyed("payments", "payment_id", pay_index)
    if "payments" in rows and pay is None:
        return None
    if pay is not None and len(pay):
        new_ids = _ids(pay["payment_id"])
        new = _payment_rows(pay, prev.cust_index, per_cust)
        if not set(new["pay_code"]) <= known:
            return None
        pay_index = _merged_index(pay_index, new_ids, extend("pay_ids", cols["pay_ids"], new_ids))
        cols["pay_ids"] = np.asarray(pay_index.ids)
        new["pay_cur"] = _currency_index(prev.rates, new.pop("pay_code"))
        for name, values in new.items():
            cols[name] = extend(name, cols[name], values)
    if "allocations" in rows:
        # every allocation of the logged payments: new pairs appended, the others unchanged
        new = _allocation_rows(
            rows["allocations"], pay_index, inv_index, cols["pay_date"], cols["issue"]
        )
        of = np.isin(cols["alloc_pay"], pay_index.lookup(sorted(changed.keys["allocations"])))
        fresh = _same_rows(
            _pair(cols["alloc_pay"][of], cols["alloc_inv"][of]),
            [cols["alloc_date"][of], cols["alloc_amount"][of]],
            _pair(new["alloc_pay"], new["alloc_inv"]),
            [new["alloc_date"], new["alloc_amount"]],
        )
        if fresh is None or (new["alloc_pay"] < 0).any() or (new["alloc_inv"] < 0).any():
            return None
        for name, values in new.items():
            cols[name] = extend(name, cols[name], values[fresh])
    if "write_offs" in rows:
        new = _write_off_rows(rows["write_offs"], inv_index)
        of = np.isin(cols["wo_inv"], inv_index.lookup(sorted(changed.keys["write_offs"])))
        fresh = _same_rows(
            _pair(cols["wo_inv"][of], cols["wo_date"][of]),
            [cols["wo_amount"][of]],
            _pair(new["wo_inv"], new["wo_date"]),
            [new["wo_amount"]],
        )
        if fresh is None or (new["wo_inv"] < 0).any():
            return None
        for name, values in new.items():
            cols[name] = extend(name, cols[name], values[fresh])
    kept = {
        f.name: getattr(prev, f.name)
        for f in fields(Snapshot)
        if f.init
        and f.name not in ROW_COLUMNS
        and f.name not in DERIVED_COLUMNS
        and f.name not in ("source", "lazy", "cache", "lock", "lazy_lock")
    }
    kept.update(
        version=changed.version,
        stamp=changed.stamp,
        loaded_at=time.time(),
        inv_index=inv_index,
        pay_index=pay_index,
    )
    return Snapshot(**kept, **cols, **_derive(cols, prev.rates, prev, staging))


def _touched(prev: Snapshot, snap: Snapshot) -> np.ndarray:
    """The customers (a mask) whose events snap's appended rows can change: those of the new
    invoices and credit notes and the invoices they apply to, of the new payments, of the payments
    and invoices of the new allocations, and of the invoices of the new write-offs. Every derived
    figure of an existing row (applications, settlement, excess, pending and loose credit) is its
    invoice's or payment's, so no other customer's events change."""
    inv = slice(len(prev.amount), len(snap.amount))
    targets = snap.applies_to[inv]
    alloc = slice(len(prev.alloc_pay), len(snap.alloc_pay))
    alloc_pay, alloc_inv = snap.alloc_pay[alloc], snap.alloc_inv[alloc]
    wo_inv = snap.wo_inv[len(prev.wo_inv) :]
    customers = np.concatenate(
        [
            snap.inv_cust[inv],
            snap.inv_cust[targets[targets >= 0]],
            snap.pay_cust[len(prev.pay_amount) :],
            snap.pay_cust[alloc_pay[alloc_pay >= 0]],
            snap.inv_cust[alloc_inv[alloc_inv >= 0]],
            snap.inv_cust[wo_inv[wo_inv >= 0]],
        ]
    ).astype(np.int64)
    touched = np.zeros(snap.n_customers, dtype=bool)
    touched[customers[customers >= 0]] = True
    return touched


def _commission_resolves(prev: Snapshot, new_ids: np.ndarray) -> bool:
    """True when a commission of prev names one of new_ids as its invoice (not yet known to prev):
    its invoice position would change, which the next version does not re-derive."""
    if prev.source is None:
        frame: pd.DataFrame | None = prev.commissions
    else:  # the positions first (numbers); the ids only if a position is unknown
        frame = read_frame(prev.source[0], "commissions", prev.source[1], ("inv",))
        if frame is None or not (frame["inv"] < 0).any():
            return False
        frame = read_frame(prev.source[0], "commissions", prev.source[1], ("inv", "invoice_id"))
    if frame is None or not len(frame):
        return False
    unknown = frame.loc[frame["inv"] < 0, "invoice_id"].dropna()
    return bool(len(unknown)) and bool(np.isin(unknown.astype(str).to_numpy(), new_ids).any())


def _prepare_frame(snap: Snapshot, name: str, raw: pd.DataFrame) -> pd.DataFrame:
    """A re-read table with the positions the snapshot's frames carry."""
    if name == "promises":
        return _with_positions(raw, snap.inv_index, snap.inv_cust, ["made_on", "promised_date"])
    if name == "disputes":
        return _with_positions(raw, snap.inv_index, snap.inv_cust, ["opened_on", "resolved_on"])
    return snap._prepare(name, raw)


OPEN_ATTEMPTS = 5


def load_snapshot(url: str) -> Snapshot:
    """The database's current snapshot, built on this machine if needed, mapped from the store.

    A version can be removed between build_version finding it and this process locking it (a newer
    version was published and nobody mapped this one yet): then the current version is looked up
    again (collect() never removes the newest, so this settles at once unless writes keep coming).
    """
    for attempt in range(OPEN_ATTEMPTS):
        path = build_version(url)
        assert path is not None  # wait=True
        try:
            return _open(path, url)
        except VersionGone:
            log.info("snapshot %s was removed before it was mapped (attempt %d)", path, attempt + 1)
    raise RuntimeError(f"no snapshot version stayed long enough to be mapped: {url}")


def _open(path: Path, url: str) -> Snapshot:
    started = time.perf_counter()
    snap = open_snapshot(path, url)
    snap.cache["load_seconds"] = time.perf_counter() - started
    _record_load(snap.version)
    return snap


def _record_load(version: int, build_seconds: float | None = None) -> None:
    """Snapshot version (and build time) for /metrics."""
    snapshot_loaded(version, build_seconds)


class SnapshotCache:
    """The snapshot each database URL is served from in this process, switched when the version changes.

    Every VERSION_CHECK_SECONDS the data version is read (one small query). When the store already
    holds it, switching is a mapping (milliseconds). When it must be built, a process that already
    serves a version keeps serving it while a background thread builds (or waits for the machine's
    builder) and then switches; a process with nothing yet waits for the build.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snaps: dict[str, Snapshot] = {}
        self._checked: dict[str, float] = {}
        self._building: set[str] = set()

    def get(self, url: str | None = None, max_age: float = VERSION_CHECK_SECONDS) -> Snapshot:
        """The snapshot for url, switched to the database's newer data version when there is one."""
        key = url or get_settings().database_url
        with self._lock:
            snap = self._snaps.get(key)
            now = time.monotonic()
            if snap is not None and (
                now - self._checked.get(key, 0) < max_age or key in self._building
            ):
                return snap
            self._checked[key] = now
            version, stamp = version_stamp(key)
            if snap is not None and (snap.version, snap.stamp) == (version, stamp):
                return snap
            path = store_for(key).find(version, stamp)
            if path is not None:
                try:
                    return self._swap(key, _open(path, key))
                except VersionGone:  # removed since found: a newer version exists; fall through
                    log.info("snapshot %s was removed before it was mapped", path)
            if snap is not None and _slow_build(snap):
                self._building.add(key)
                threading.Thread(
                    target=self._build, args=(key,), daemon=True, name="snapshot-build"
                ).start()
                return snap
            return self._swap(key, load_snapshot(key))

    def _swap(self, key: str, snap: Snapshot) -> Snapshot:
        """Serve snap from now on; versions nobody maps any more are then removed."""
        old = self._snaps.get(key)
        self._snaps[key] = snap
        if old is not snap:
            # the Forecast page's history tables, ahead of its first visit (~1 s CPU at 1M), after
            # the first requests of a starting worker; forecast imports this module
            # then the pages' default figures (add_warmer)
            warm = threading.Timer(WARM_DELAY_SECONDS, _warm_in_background, args=(snap, key))
            warm.daemon, warm.name = True, "forecast-warm"
            warm.start()
        if old is not None and old is not snap:
            threading.Thread(
                target=_collect_later,
                args=(key, snap.version, snap.stamp),
                daemon=True,
                name="snapshot-gc",
            ).start()
        return snap

    def _build(self, key: str) -> None:
        try:
            snap = load_snapshot(key)
            with self._lock:
                current = self._snaps.get(key)
                if current is None or current.version <= snap.version:
                    self._swap(key, snap)
        except Exception:  # noqa: BLE001 - the next request retries; the previous version keeps serving
            log.exception("snapshot build failed")
        finally:
            with self._lock:
                self._building.discard(key)
                self._checked[key] = 0

    def loaded(self, url: str | None = None) -> Snapshot | None:
        """The snapshot already held for url (never loads; /readyz)."""
        with self._lock:
            return self._snaps.get(url or get_settings().database_url)

    def clear(self) -> None:
        """Forget every snapshot (tests)."""
        with self._lock:
            self._snaps.clear()
            self._checked.clear()


# Warm-ups of higher layers (dashboard/views/warm.py): steps(snap) yields once after each unit of work
# (one page's figure), so the warm-up can stop between two of them.
Warmer = Callable[[Snapshot], Iterator[object]]
_WARMERS: list[Warmer] = []
_BUSY: list[Callable[[], bool]] = []


def add_warmer(steps: Warmer) -> None:
    """Run steps(snap) in the background for each version this process starts serving (once each)."""
    if steps not in _WARMERS:
        _WARMERS.append(steps)


def set_busy_probe(busy: Callable[[], bool]) -> None:
    """How the warm-up knows requests are being answered (it waits for them between its steps)."""
    _BUSY[:] = [busy]


def _served(snap: Snapshot, key: str | None) -> bool:
    """True while snap is the version this process serves for key (a newer one ends its warm-up)."""
    with _CACHE._lock:  # noqa: SLF001 - the module's own cache
        return key is None or _CACHE._snaps.get(key) is snap  # noqa: SLF001


def _idle(deadline: float) -> bool:
    """Wait until no request is being answered; False when the deadline passed first."""
    while any(busy() for busy in _BUSY):
        if time.monotonic() >= deadline:
            return False
        time.sleep(IDLE_POLL_SECONDS)
    return time.monotonic() < deadline


def warm_version(snap: Snapshot, key: str | None = None) -> None:
    """Per-version figures computed ahead of the first request that needs them (a timer thread),
    by one process per machine (the store's warm lock): first the forecast's history tables, at
    once (the other workers find them through the result cache's shared level), then each
    registered page warm-up step, each once the busy probe (ops: requests in flight or just
    ended) says the process is quiet; it stops when a newer version is served or after
    PAGE_WARM_SECONDS."""
    # lazy (a): forecast imports this module; (c) tests patch forecast.warm_history
    from dashboard.metrics.forecast import warm_history

    with _page_warm_lock(key) as mine:
        if not mine:
            log.info("version %s: another process of this machine warms it", snap.stamp)
            return
        started = time.monotonic()
        deadline, done = started + PAGE_WARM_SECONDS, 0

        try:
            warm_history(snap, keep_going=lambda: _served(snap, key))
        except Exception:  # a warm-up never fails a request; the page computes it again
            log.exception("warming the forecast tables of version %s failed", snap.stamp)
        if not _WARMERS or not _BUSY or not get_settings().warm_pages:
            return  # the pages' figures only where pages are served (ops sets the busy probe)
        for warmer in list(_WARMERS):
            steps = warmer(snap)
            while _served(snap, key) and _idle(deadline):
                try:
                    next(steps)
                except StopIteration:
                    break
                except Exception:  # noqa: BLE001 - a warm-up never fails a request
                    log.exception("warming version %s failed", snap.stamp)
                    break
                done += 1
        log.info(
            "version %s: %d page figures warmed in %.1f s",
            snap.stamp,
            done,
            time.monotonic() - started,
        )


@contextmanager
def _page_warm_lock(key: str | None) -> Iterator[bool]:
    """The store's warm lock (one warming process per machine); always granted without a store."""
    if key is None:
        yield True
        return
    with store_for(key).warm_lock() as mine:
        yield mine


def _warm_in_background(snap: Snapshot, key: str) -> None:
    """warm_version in its own timer thread at the lowest CPU priority (Linux: nice 19 for this
    thread only), so the warm-up gives way to the requests when they need the same cores."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: the warm-up runs as it is
        pass
    warm_version(snap, key)


def _slow_build(snap: Snapshot) -> bool:
    """True when the version being served took long enough to build that the next one is built in
    the background (small ledgers are rebuilt on the spot, so the page asking sees the new data)."""
    meta = snap.source[1] if snap.source else {}
    return float(meta.get("build_seconds", 0.0)) > BACKGROUND_BUILD_SECONDS


def _collect_later(key: str, version: int, stamp: str) -> None:
    """After a switch: remove versions nobody maps any more (skipped while a build runs)."""
    gc.collect()  # let the previous snapshot's file descriptors close
    try:
        store = store_for(key)
        with store.build_lock(wait=False) as got:
            if got:
                store.collect(version, stamp)
    except OSError:
        log.exception("snapshot store clean-up failed")


_CACHE = SnapshotCache()


def get_snapshot(url: str | None = None, max_age: float = VERSION_CHECK_SECONDS) -> Snapshot:
    """The process-wide snapshot of the database at url (DATABASE_URL by default)."""
    return _CACHE.get(url, max_age)


def loaded_snapshot(url: str | None = None) -> Snapshot | None:
    """The snapshot this process holds for url, without loading one."""
    return _CACHE.loaded(url)


def clear_snapshots() -> None:
    """Drop cached snapshots (tests)."""
    _CACHE.clear()
