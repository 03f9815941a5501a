"""Collections activity (Plixo): coverage of overdue exposure by recent activity and contact latency, per group.

Rules in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.behaviour import (
    analytics_cache,
    customer_columns,
    invoice_rank,
    percent,
    round2,
    to_dates,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import Selection, open_balances, open_items, revalue, select
from dashboard.metrics.snapshot import NO_DATE, Snapshot, sum_by, to_day

COVERAGE_DAYS = 14
LATENCY_DAYS = 90
NO_OWNER = "(none)"


GROUPINGS = ("segment", "region", "sales_rep_id", "tier")


def group_codes(snap: Snapshot, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: a group code, and the group names in code order ('' shown as '(none)')."""
    columns = {
        "segment": snap.segment,
        "region": snap.region,
        "sales_rep_id": snap.cust_rep,
        "tier": snap.tier,
    }
    if by not in columns:
        raise ValueError(f"unknown grouping: {by!r} (one of {', '.join(GROUPINGS)})")
    names, codes = np.unique(columns[by].astype(str), return_inverse=True)
    names = np.where(names == "", NO_OWNER, names).astype(object)
    return codes.astype(np.int64), names


def activity_keys(snap: Snapshot) -> npt.NDArray[np.int64]:
    """Every activity with a known customer as a sorted (customer << 32 | date) key (cached per snapshot)."""
    cache = analytics_cache(snap)
    if "activity_keys" not in cache:
        columns = snap.lazy_columns("activities", ("cust", "date"))
        if len(columns["cust"]):
            cust = np.asarray(columns["cust"], dtype=np.int64)
            date = np.asarray(columns["date"], dtype=np.int64)
            known = (cust >= 0) & (date != NO_DATE)
            keys = np.sort((cust[known] << 32) | (date[known] & 0xFFFFFFFF))
        else:
            keys = np.zeros(0, dtype=np.int64)
        cache["activity_keys"] = keys
    activity_keys: npt.NDArray[np.int64] = cache["activity_keys"]
    return activity_keys


def _search(keys: np.ndarray, probes: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    """np.searchsorted with the probes sorted first (much faster on large, unordered probes)."""
    order = np.argsort(probes, kind="stable")
    pos = np.empty(len(probes), dtype=np.int64)
    pos[order] = np.searchsorted(keys, probes[order], side=side)
    return pos


def last_activity(snap: Snapshot, cust: np.ndarray, day: int) -> np.ndarray:
    """For each customer position in cust: the day of its latest activity on or before day (-1 when none)."""
    keys = activity_keys(snap)
    out = np.full(len(cust), -1, dtype=np.int64)
    if not len(keys) or not len(cust):
        return out
    c = np.asarray(cust, dtype=np.int64)
    pos = _search(keys, (c << 32) | (day & 0xFFFFFFFF), "right") - 1
    ok = pos >= 0
    hit = np.zeros(len(c), dtype=bool)
    hit[ok] = (keys[pos[ok]] >> 32) == c[ok]
    out[hit] = keys[pos[hit]] & 0xFFFFFFFF
    return out


def first_activity_from(
    snap: Snapshot, cust: np.ndarray, start: np.ndarray, day: int
) -> np.ndarray:
    """Per (customer, start day): the day of the customer's first activity dated in [start, day]; -1 when none."""
    keys = activity_keys(snap)
    out = np.full(len(cust), -1, dtype=np.int64)
    if not len(keys) or not len(cust):
        return out
    c = np.asarray(cust, dtype=np.int64)
    pos = _search(keys, (c << 32) | (np.asarray(start, dtype=np.int64) & 0xFFFFFFFF), "left")
    ok = pos < len(keys)
    found = np.zeros(len(c), dtype=bool)
    found[ok] = (keys[pos[ok]] >> 32) == c[ok]
    dates = np.where(found, keys[np.minimum(pos, len(keys) - 1)] & 0xFFFFFFFF, -1)
    return np.where(found & (dates <= day), dates, out)


def collections_activity(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    by: str = "segment",
    coverage_days: int = COVERAGE_DAYS,
    latency_days: int = LATENCY_DAYS,
) -> dict[str, Any]:
    """Coverage of overdue exposure by recent activity, and contact latency after the due date, per group.

    coverage: share of overdue open balances at D whose customer had an activity dated in
    (D - 14, D]. latency: for invoices that became overdue in (D - 90, D] (due date in
    [D - 90, D - 1] and still open at the end of the due date), days from the due date to the
    customer's first activity on or after it (up to D); never-contacted invoices are listed apart
    (`uncontacted`), contacted ones with their first contact (`contacted`). Both tables end with an
    'All' row.
    """
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    codes, names = group_codes(snap, by)
    return {
        "coverage": _coverage(snap, sel, day, by, coverage_days, codes, names),
        **_latency(snap, sel, day, by, latency_days, codes, names),
    }


def _groups_present(sel: Selection, codes: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes[sel.cust_mask], minlength=size) > 0


def _coverage(
    snap: Snapshot,
    sel: Selection,
    day: int,
    by: str,
    window: int,
    codes: np.ndarray,
    names: np.ndarray,
) -> pd.DataFrame:
    items = open_items(sel, day)
    overdue = snap.due[items.inv] < day
    cust, bal = items.cust[overdue], items.balance[overdue]
    covered = last_activity(snap, cust, day) > day - window
    g, k = codes[cust], len(names)
    owing = np.unique(cust)
    owing_cov = np.unique(cust[covered])
    overdue_c = np.r_[sum_by(g, bal, k), bal.sum()]
    covered_c = np.r_[sum_by(g[covered], bal[covered], k), bal[covered].sum()]
    keep = np.r_[_groups_present(sel, codes, k), True]
    out = pd.DataFrame(
        {
            by: np.r_[names, np.array(["All"], dtype=object)],
            "overdue_cents": overdue_c.astype(np.int64),
            "covered_cents": covered_c.astype(np.int64),
            "coverage_pct": percent(covered_c, overdue_c),
            "overdue_customers": np.r_[np.bincount(codes[owing], minlength=k), len(owing)],
            "covered_customers": np.r_[np.bincount(codes[owing_cov], minlength=k), len(owing_cov)],
        }
    )
    return out[keep].reset_index(drop=True)


def _latency(
    snap: Snapshot,
    sel: Selection,
    day: int,
    by: str,
    window: int,
    codes: np.ndarray,
    names: np.ndarray,
) -> dict[str, Any]:
    inv = sel.inv
    due = snap.due[inv].astype(np.int64)
    m = (
        (due >= day - window)
        & (due <= day - 1)
        & (snap.issue[inv] <= due)
        & (snap.settle[inv].astype(np.int64) > due)
    )
    inv, due = inv[m], due[m]
    cust = snap.inv_cust[inv]
    first = first_activity_from(snap, cust, due, day)
    contacted = first >= 0
    latency = (first - due)[contacted]
    g, k = codes[cust], len(names)
    became = np.r_[np.bincount(g, minlength=k), len(inv)]
    reached = np.r_[np.bincount(g[contacted], minlength=k), len(latency)]
    total = np.r_[
        np.bincount(g[contacted], weights=latency.astype(np.float64), minlength=k), latency.sum()
    ]
    medians = pd.Series(latency.astype(np.float64)).groupby(g[contacted]).median()
    median = np.r_[
        medians.reindex(np.arange(k)).to_numpy(dtype=np.float64),
        np.median(latency) if len(latency) else np.nan,
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(reached > 0, total / np.maximum(reached, 1), np.nan)
    keep = np.r_[_groups_present(sel, codes, k), True]
    table = pd.DataFrame(
        {
            by: np.r_[names, np.array(["All"], dtype=object)],
            "became_overdue": became,
            "contacted": reached,
            "uncontacted": became - reached,
            "mean_days": round2(mean),
            "median_days": round2(median),
        }
    )[keep].reset_index(drop=True)
    rank = invoice_rank(snap)
    un = np.flatnonzero(~contacted)
    un = un[np.lexsort((rank[inv[un]], due[un]))]  # earliest due first (longest uncontacted)
    uncontacted = pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv[un]],
            **customer_columns(snap, cust[un]),
            "due_date": to_dates(due[un]),
            "days_since_due": day - due[un],
            "amount_cents": snap.inv_base[inv[un]],  # base currency (issue-date rate)
            "balance_cents": revalue(
                snap, np.maximum(open_balances(snap, inv[un], day), 0), snap.inv_cur[inv[un]], day
            ),
        }
    )
    ok = np.flatnonzero(contacted)
    ok = ok[np.lexsort((rank[inv[ok]], due[ok]))]
    contacted_rows = pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv[ok]],
            "customer_id": snap.cust_ids[cust[ok]],
            "due_date": to_dates(due[ok]),
            "first_contact": to_dates(first[ok]),
            "latency_days": first[ok] - due[ok],
        }
    )
    return {"latency": table, "uncontacted": uncontacted, "contacted": contacted_rows}
