"""Disputes, promises, outstanding composition, collections activity and the invoice workspace.

Sources: LeanPay (outstanding by status: not due, overdue, in dispute, in litigation, credits) and
Plixo (dispute cycle time, promise adherence, collections coverage and latency, the invoice
workspace with its risk hotlist, current cycle and paid tabs, and the portfolio pulse chips).
Rules and thresholds are documented in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from dashboard.metrics.behaviour import (
    DISPUTE_LITIGATION,
    DISPUTE_NONE,
    DISPUTE_OPEN,
    analytics_cache,
    customer_columns,
    dispute_state,
    dispute_status,
    invoice_rank,
    latest_promises,
    open_dispute_rows,
    percent,
    promise_arrays,
    round2,
    to_dates,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import customer_balances
from dashboard.metrics.ledger import (
    OpenItems,
    Selection,
    limits_at,
    open_balances,
    open_items,
    revalue,
    select,
)
from dashboard.metrics.snapshot import (
    KIND_CREDIT,
    KIND_PAYMENT,
    KIND_WRITE_OFF,
    NO_DATE,
    Snapshot,
    sum_by,
    to_day,
)
from dashboard.metrics.tables import month_ends, unapplied_by_customer, with_currency

COMPONENTS = (
    ("not_due", "Not due"),
    ("overdue", "Overdue"),
    ("in_dispute", "In dispute"),
    ("in_litigation", "In litigation"),
)
COVERAGE_DAYS = 14
LATENCY_DAYS = 90
PAID_DAYS = 90
HOTLIST_DPD = 30
DUE_SOON_DAYS = 7
NO_OWNER = "(none)"
WORKSPACE_TABS = ("hotlist", "current", "paid")
STATUSES = ("open", "overdue", "disputed", "paid")
SETTLED_LABELS = np.array(["payment", "credit note", "write-off", ""], dtype=object)  # by settle_kind (-1: none)
assert (KIND_PAYMENT, KIND_CREDIT, KIND_WRITE_OFF) == (0, 1, 2)
# risk score points (capped at 100)
SCORE_DPD_MAX, SCORE_DPD_DAYS = 50, 120
SCORE_DISPUTE, SCORE_LITIGATION = 20, 25
SCORE_OVER_LIMIT, SCORE_BROKEN_PROMISE = 15, 10
SCORE_SIZE_MAX, SCORE_SIZE_CENTS = 15, 1_000_000
ACTIONS = (
    "LEGAL - Follow up the litigation with counsel",
    "RESOLVE DISPUTE - Agree a credit or send evidence",
    "ESCALATE - Promise to pay broken",
    "MONITOR - Promise to pay pending",
    "FINAL NOTICE - Refer to collections",
    "CALL - Senior collector call",
    "CALL - Reminder call and statement",
    "HOLD ORDERS - Customer over credit limit",
    "REMIND - Send overdue reminder",
    "NONE - Not yet due",
)
ACTION_LABELS = np.array(ACTIONS, dtype=object)


# ---------------------------------------------------------------- outstanding composition


def composition_index(snap: Snapshot, items: OpenItems) -> np.ndarray:
    """Component of each open item: 0 not due, 1 overdue, 2 in dispute, 3 in litigation (dispute state wins)."""
    state = dispute_state(snap, items.day)[items.inv]
    overdue = snap.due[items.inv] < items.day
    return np.select([state == DISPUTE_LITIGATION, state == DISPUTE_OPEN, overdue], [3, 2, 1], default=0)


def outstanding_composition(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """Total AR at D split into not due, overdue, in dispute, in litigation; unapplied credits beside it.

    The four rows with part_of_total_ar sum exactly to total AR; unapplied credits are shown apart.
    """
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    items = open_items(sel, day)
    idx = composition_index(snap, items)
    amounts = sum_by(idx, items.balance, len(COMPONENTS))
    counts = np.bincount(idx, minlength=len(COMPONENTS))
    pairs = np.unique(idx.astype(np.int64) * snap.n_customers + items.cust)
    customers = np.bincount(pairs // max(snap.n_customers, 1), minlength=len(COMPONENTS)).tolist()
    unapplied = unapplied_by_customer(sel, day)
    credits = sel.at(sel.cum_unapplied, day) if not snap.multi else int(unapplied.sum())  # base items at day
    return pd.DataFrame(
        {
            "component": [c for c, _ in COMPONENTS] + ["unapplied_credits"],
            "label": [label for _, label in COMPONENTS] + ["Unapplied credits"],
            "amount_cents": np.r_[amounts, credits].astype(np.int64),
            "invoices": pd.array(list(counts) + [None], dtype="Int64"),
            "customers": customers + [int(np.count_nonzero(unapplied))],
            "part_of_total_ar": [True] * len(COMPONENTS) + [False],
        }
    )


# ---------------------------------------------------------------- disputes


def _selected_rows(frame: pd.DataFrame, sel: Selection) -> np.ndarray:
    if not len(frame):
        return np.zeros(0, dtype=bool)
    cust = frame["cust"].to_numpy(dtype=np.int64)
    return (cust >= 0) & sel.cust_mask[np.maximum(cust, 0)]


def _month_key(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM' of each day number."""
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]"), unit="M").astype(object)


def _month_number(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_frame(as_of: dt.date, months: int) -> pd.DataFrame:
    spans = month_ends(as_of, months)
    return pd.DataFrame({"month": [s.strftime("%Y-%m") for s, _ in spans], "start": [s for s, _ in spans], "end": [e for _, e in spans]})


def dispute_cycle_time(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None, months: int = 12
) -> dict:
    """Cycle time (opened -> resolved, days) by month resolved over `months` months, and the disputes open at D."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    frame = snap.disputes
    mine = _selected_rows(frame, sel)
    spans = _month_frame(as_of, months)
    first = to_day(spans["start"].iloc[0])
    if len(frame):
        opened = frame["opened_on"].to_numpy(dtype=np.int64)
        resolved = frame["resolved_on"].to_numpy(dtype=np.int64)
        done = mine & (resolved != NO_DATE) & (resolved >= first) & (resolved <= day) & (opened <= resolved)
        cycles = pd.DataFrame({"month": _month_key(resolved[done]), "days": (resolved[done] - opened[done]).astype(np.float64)})
        live = mine & open_dispute_rows(snap, day)
    else:
        cycles = pd.DataFrame({"month": pd.Series(dtype=object), "days": pd.Series(dtype=np.float64)})
        live = np.zeros(0, dtype=bool)
    grouped = cycles.groupby("month")["days"].agg(["count", "mean", "median"])
    by_month = spans.join(grouped, on="month")
    by_month["resolved"] = by_month["count"].fillna(0).astype(np.int64)
    by_month["mean_days"] = round2(by_month["mean"].to_numpy(dtype=np.float64))
    by_month["median_days"] = round2(by_month["median"].to_numpy(dtype=np.float64))
    by_month = by_month[["month", "start", "end", "resolved", "mean_days", "median_days"]]
    open_rows = _open_disputes(snap, frame, live, day)
    days = cycles["days"].to_numpy()
    return {
        "by_month": by_month,
        "open": open_rows,
        "summary": {
            "resolved": len(days),
            "mean_cycle_days": float(round2(days.mean())) if len(days) else None,
            "median_cycle_days": float(round2(np.median(days))) if len(days) else None,
            "open": len(open_rows),
            "open_amount_cents": int(open_rows["amount_cents"].sum()) if len(open_rows) else 0,
            "mean_open_age_days": float(round2(open_rows["age_days"].mean())) if len(open_rows) else None,
        },
    }


def _open_disputes(snap: Snapshot, frame: pd.DataFrame, live: np.ndarray, day: int) -> pd.DataFrame:
    rows = frame[live] if len(frame) else frame
    inv = rows["inv"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    cust = rows["cust"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    opened = rows["opened_on"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    status = dispute_status(rows) if len(rows) else np.zeros(0, dtype=object)
    own = rows["amount_cents"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    cur = snap.inv_cur[inv].astype(np.int64) if len(inv) else np.zeros(0, dtype=np.int64)
    out = pd.DataFrame(
        {
            "dispute_id": rows["dispute_id"].to_numpy(dtype=object) if len(rows) else np.zeros(0, dtype=object),
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, cust),
            "opened_on": to_dates(opened),
            "status": np.where(status == "litigation", "litigation", "open").astype(object),
            "amount_cents": revalue(snap, own, cur, day),  # open at D: base cents at D's rate
            "invoice_balance_cents": revalue(snap, np.maximum(open_balances(snap, inv, day), 0), cur, day),
            "age_days": day - opened,
        }
    )
    out = with_currency(snap, out, cur, own)
    return out.sort_values(["age_days", "dispute_id"], ascending=[False, True], ignore_index=True)


# ---------------------------------------------------------------- promises


PROMISE_STATES = np.array(["kept", "broken", "pending"], dtype=object)


def promise_status_code(snap: Snapshot, inv: np.ndarray, promised: np.ndarray, day: int) -> np.ndarray:
    """0 kept (invoice settled by the promised date, not by a write-off), 1 broken (date before D, not kept), 2 pending."""
    settle = snap.settle[inv].astype(np.int64)
    kept = (settle <= np.minimum(promised, day)) & (snap.settle_kind[inv] != KIND_WRITE_OFF)
    return np.select([kept, promised < day], [0, 1], default=2)


def promise_status(snap: Snapshot, inv: np.ndarray, promised: np.ndarray, day: int) -> np.ndarray:
    """'kept', 'broken' or 'pending' at day (see promise_status_code)."""
    return PROMISE_STATES[promise_status_code(snap, inv, promised, day)]


def promise_adherence(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None, months: int = 12
) -> dict:
    """Promises made on or before D by month of promised date (kept, broken, share kept) and the broken ones."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    p = promise_arrays(snap)
    spans = _month_frame(as_of, months)
    first = to_day(spans["start"].iloc[0])
    mine = (p["inv"] >= 0) & (p["cust"] >= 0) & (p["made"] <= day)
    mine[mine] = sel.cust_mask[p["cust"][mine]]
    rows = np.flatnonzero(mine)
    # amounts in base cents at the rate of the day each promise was made (a flow at its own date)
    inv, promised, amount = p["inv"][rows], p["promised"][rows], p["base"][rows]
    code = promise_status_code(snap, inv, promised, day)
    window = (promised >= first) & (promised <= day)
    month = _month_number(promised[window]) - _month_number(np.array([first]))[0]
    k = len(spans)
    counts = np.bincount(month * 3 + code[window], minlength=3 * k).reshape(k, 3)
    sums = sum_by(month * 3 + code[window], amount[window], 3 * k).reshape(k, 3)
    by_month = spans.copy()
    by_month["promises"] = counts.sum(axis=1)
    for j, name in enumerate(PROMISE_STATES):
        by_month[name] = counts[:, j]
    by_month["kept_pct"] = percent(counts[:, 0], counts[:, 0] + counts[:, 1])
    by_month["kept_amount_cents"] = sums[:, 0]
    by_month["broken_amount_cents"] = sums[:, 1]
    broken = rows[window & (code == 1)]
    b_inv, b_promised = p["inv"][broken], p["promised"][broken]
    order = np.lexsort((p["rank"][broken], day - b_promised))  # most recently broken first
    broken, b_inv, b_promised = broken[order], b_inv[order], b_promised[order]
    broken_rows = pd.DataFrame(
        {
            "promise_id": p["id"][broken],
            "invoice_id": snap.inv_ids[b_inv],
            **customer_columns(snap, p["cust"][broken]),
            "made_on": to_dates(p["made"][broken]),
            "promised_date": to_dates(b_promised),
            "amount_cents": p["base"][broken],
            "invoice_balance_cents": revalue(snap, np.maximum(open_balances(snap, b_inv, day), 0),
                                             snap.inv_cur[b_inv], day),
            "days_since_promised": day - b_promised,
        }
    )
    broken_rows = with_currency(snap, broken_rows, p["cur"][broken], p["amount"][broken])
    pending = code == 2
    kept_n, broken_n = int(counts[:, 0].sum()), int(counts[:, 1].sum())
    return {
        "by_month": by_month[["month", "start", "end", "promises", "kept", "broken", "pending", "kept_pct", "kept_amount_cents", "broken_amount_cents"]],
        "broken": broken_rows,
        "summary": {
            "kept": kept_n,
            "broken": broken_n,
            "kept_pct": float(percent(np.array([kept_n]), np.array([kept_n + broken_n]))[0]) if kept_n + broken_n else None,
            "pending": int(pending.sum()),
            "pending_amount_cents": int(amount[pending].sum()),
        },
    }


# ---------------------------------------------------------------- collections activity


GROUPINGS = ("segment", "region", "sales_rep_id", "tier")


def group_codes(snap: Snapshot, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: a group code, and the group names in code order ('' shown as '(none)')."""
    columns = {"segment": snap.segment, "region": snap.region, "sales_rep_id": snap.cust_rep, "tier": snap.tier}
    if by not in columns:
        raise ValueError(f"unknown grouping: {by!r} (one of {', '.join(GROUPINGS)})")
    names, codes = np.unique(columns[by].astype(str), return_inverse=True)
    names = np.where(names == "", NO_OWNER, names).astype(object)
    return codes.astype(np.int64), names


def activity_keys(snap: Snapshot) -> np.ndarray:
    """Every activity with a known customer as a sorted (customer << 32 | date) key (cached per snapshot)."""
    cache = analytics_cache(snap)
    if "activity_keys" not in cache:
        frame = snap.activities
        if len(frame):
            cust = frame["cust"].to_numpy(dtype=np.int64)
            date = frame["date"].to_numpy(dtype=np.int64)
            known = (cust >= 0) & (date != NO_DATE)
            keys = np.sort((cust[known] << 32) | (date[known] & 0xFFFFFFFF))
        else:
            keys = np.zeros(0, dtype=np.int64)
        cache["activity_keys"] = keys
    return cache["activity_keys"]


def _search(keys: np.ndarray, probes: np.ndarray, side: str) -> np.ndarray:
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


def first_activity_from(snap: Snapshot, cust: np.ndarray, start: np.ndarray, day: int) -> np.ndarray:
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
) -> dict:
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


def _coverage(snap: Snapshot, sel: Selection, day: int, by: str, window: int, codes: np.ndarray, names: np.ndarray) -> pd.DataFrame:
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


def _latency(snap: Snapshot, sel: Selection, day: int, by: str, window: int, codes: np.ndarray, names: np.ndarray) -> dict:
    inv = sel.inv
    due = snap.due[inv].astype(np.int64)
    m = (due >= day - window) & (due <= day - 1) & (snap.issue[inv] <= due) & (snap.settle[inv].astype(np.int64) > due)
    inv, due = inv[m], due[m]
    cust = snap.inv_cust[inv]
    first = first_activity_from(snap, cust, due, day)
    contacted = first >= 0
    latency = (first - due)[contacted]
    g, k = codes[cust], len(names)
    became = np.r_[np.bincount(g, minlength=k), len(inv)]
    reached = np.r_[np.bincount(g[contacted], minlength=k), len(latency)]
    total = np.r_[np.bincount(g[contacted], weights=latency.astype(np.float64), minlength=k), latency.sum()]
    medians = pd.Series(latency.astype(np.float64)).groupby(g[contacted]).median()
    median = np.r_[medians.reindex(np.arange(k)).to_numpy(dtype=np.float64), np.median(latency) if len(latency) else np.nan]
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
            "balance_cents": revalue(snap, np.maximum(open_balances(snap, inv[un], day), 0), snap.inv_cur[inv[un]], day),
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


# ---------------------------------------------------------------- invoice workspace


def risk_score(dpd: np.ndarray, dispute: np.ndarray, over_limit: np.ndarray, broken_promise: np.ndarray, balance: np.ndarray) -> np.ndarray:
    """0-100: 50 x min(dpd, 120)/120 + 20 dispute (25 litigation) + 15 over limit + 10 broken promise + 15 x min(1, balance / 10,000.00)."""
    d = np.clip(np.asarray(dpd, dtype=np.float64), 0, SCORE_DPD_DAYS)
    points = SCORE_DPD_MAX * d / SCORE_DPD_DAYS
    points = points + np.select([dispute == DISPUTE_LITIGATION, dispute == DISPUTE_OPEN], [SCORE_LITIGATION, SCORE_DISPUTE], default=0)
    points = points + np.where(over_limit, SCORE_OVER_LIMIT, 0) + np.where(broken_promise, SCORE_BROKEN_PROMISE, 0)
    points = points + SCORE_SIZE_MAX * np.minimum(np.asarray(balance, dtype=np.float64) / SCORE_SIZE_CENTS, 1.0)
    return np.minimum(np.floor(points + 0.5), 100).astype(np.int64)


def next_action_code(dpd: np.ndarray, dispute: np.ndarray, over_limit: np.ndarray, promise: np.ndarray) -> np.ndarray:
    """Index into ACTIONS of the first matching rule (see next_action)."""
    return np.select(
        [
            dispute == DISPUTE_LITIGATION,
            dispute == DISPUTE_OPEN,
            promise == "broken",
            promise == "pending",
            dpd > 90,
            dpd > 60,
            dpd > 30,
            over_limit,
            dpd > 0,
        ],
        np.arange(len(ACTIONS) - 1),
        default=len(ACTIONS) - 1,
    )


def next_action(dpd: np.ndarray, dispute: np.ndarray, over_limit: np.ndarray, promise: np.ndarray) -> np.ndarray:
    """The first matching action of ACTIONS (litigation, dispute, broken promise, pending promise, 90+, 60+, 30+, over limit, overdue, else none)."""
    return ACTION_LABELS[next_action_code(dpd, dispute, over_limit, promise)]


def _invoice_promises(snap: Snapshot, inv: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Per open invoice at day: the latest promise made on or before day, 'pending' (date >= day) or 'broken'; and its date."""
    state = np.full(len(inv), "", dtype=object)
    when = np.full(len(inv), NO_DATE, dtype=np.int64)
    rows = latest_promises(snap, day)
    if not len(rows) or not len(inv):
        return state, when
    p = promise_arrays(snap)
    pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
    pos[inv] = np.arange(len(inv))
    rows = rows[pos[p["inv"][rows]] >= 0]
    at = pos[p["inv"][rows]]
    promised = p["promised"][rows]
    state[at] = np.where(promised >= day, "pending", "broken")
    when[at] = promised
    return state, when


def _open_rows(snap: Snapshot, sel: Selection, day: int, detail: bool = True) -> dict:
    """Arrays of the invoices open at day: balance, days past due, dispute, over limit, hot; with detail also promises."""
    items = open_items(sel, day)
    inv, bal, cust = items.inv, items.balance, items.cust
    balances = customer_balances(items, snap)
    limit = limits_at(snap, day)
    over = ((limit > 0) & (balances > limit))[cust]
    dpd = day - snap.due[inv].astype(np.int64)
    dispute = dispute_state(snap, day)[inv]
    hot = (dpd > HOTLIST_DPD) | (dispute != DISPUTE_NONE) | over
    rows = {"inv": inv, "cust": cust, "balance": bal, "dpd": dpd, "dispute": dispute, "over": over, "hot": hot}
    if detail:
        rows["promise"], rows["promised"] = _invoice_promises(snap, inv, day)
    return rows


STATUS_LABELS = np.array(STATUSES, dtype=object)  # open, overdue, disputed, paid
DISPUTE_LABELS = np.array(["", "dispute", "litigation"], dtype=object)
TAB_LABELS = np.array(WORKSPACE_TABS, dtype=object)


def _open_part(snap: Snapshot, rows: dict, keep: np.ndarray) -> dict:
    r = {k: v[keep] for k, v in rows.items()}
    dpd, dispute, n = r["dpd"], r["dispute"], int(keep.sum())
    return {
        "inv": r["inv"], "cust": r["cust"], "balance": r["balance"], "dpd": np.maximum(dpd, 0),
        "status": np.where(dispute != DISPUTE_NONE, 2, np.where(dpd > 0, 1, 0)),
        "dispute": dispute, "over": r["over"], "promise": r["promise"], "promised": r["promised"],
        "score": risk_score(dpd, dispute, r["over"], r["promise"] == "broken", r["balance"]),
        "action": next_action_code(dpd, dispute, r["over"], r["promise"]),
        "settle": np.full(n, NO_DATE, dtype=np.int64), "kind": np.full(n, 3, dtype=np.int64),
        "tab": np.where(r["hot"], 0, 1),
    }


def _paid_part(snap: Snapshot, sel: Selection, day: int, window: int) -> dict:
    inv = sel.inv[(sel.inv_settle > day - window) & (sel.inv_settle <= day) & (sel.inv_issue <= day)]
    settle = snap.settle[inv].astype(np.int64)
    kind = snap.settle_kind[inv].astype(np.int64)
    n = len(inv)
    zeros = np.zeros(n, dtype=np.int64)
    return {
        "inv": inv, "cust": snap.inv_cust[inv], "balance": zeros, "dpd": np.maximum(settle - snap.due[inv], 0),
        "status": np.full(n, 3), "dispute": zeros, "over": np.zeros(n, dtype=bool),
        "promise": np.full(n, "", dtype=object), "promised": np.full(n, NO_DATE, dtype=np.int64),
        "score": zeros, "action": np.full(n, -1), "settle": settle, "kind": np.where(kind >= 0, kind, 3),
        "tab": np.full(n, 2),
    }


def _workspace_frame(snap: Snapshot, r: dict) -> pd.DataFrame:
    inv = r["inv"]
    action_labels = np.r_[ACTION_LABELS, np.array([""], dtype=object)]  # -1 (paid) -> ""
    return pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, r["cust"]),
            "issue_date": to_dates(snap.issue[inv]),
            "due_date": to_dates(snap.due[inv]),
            "amount_cents": snap.inv_base[inv],  # base currency (issue-date rate), like the balance (rate at D)
            "balance_cents": r["balance"].astype(np.int64),
            "days_past_due": r["dpd"].astype(np.int64),
            "status": STATUS_LABELS[r["status"]],
            "dispute": DISPUTE_LABELS[r["dispute"]],
            "customer_over_limit": r["over"].astype(bool),
            "promise": r["promise"],
            "promised_date": to_dates(r["promised"]),
            "risk_score": r["score"].astype(np.int64),
            "next_action": action_labels[r["action"]],
            "settled_on": to_dates(r["settle"]),
            "settled_by": SETTLED_LABELS[r["kind"]],
            "tab": TAB_LABELS[r["tab"]],
        }
    )


def invoice_workspace(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    tab: str = "hotlist",
    status: str | Iterable[str] | None = None,
    owner: str | None = None,
    dpd_min: int | None = None,
    dpd_max: int | None = None,
) -> pd.DataFrame:
    """The Plixo invoice workspace: tab 'hotlist', 'current', 'paid' or 'all', then the status/owner/DPD filters.

    hotlist: open at D and (more than 30 days past due, in dispute or litigation, or the customer
    over its credit limit), riskiest first; current: every other open invoice, earliest due first;
    paid: settled in (D - 90, D], latest first. status is one or more of open (not yet due), overdue,
    disputed, paid; owner a sales rep id ('' or '(none)' for no owner); DPD bounds are inclusive.
    """
    if tab not in (*WORKSPACE_TABS, "all"):
        raise ValueError(f"unknown tab: {tab!r}")
    wanted = None
    if status is not None:
        wanted = {status} if isinstance(status, str) else set(status)
        unknown = wanted - set(STATUSES)
        if unknown:
            raise ValueError(f"unknown status: {sorted(unknown)}")
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    parts = []
    if tab in ("hotlist", "current", "all"):
        rows = _open_rows(snap, sel, day)
        keep = rows["hot"] if tab == "hotlist" else ~rows["hot"] if tab == "current" else np.ones(len(rows["inv"]), dtype=bool)
        parts.append(_open_part(snap, rows, keep))
    if tab in ("paid", "all"):
        parts.append(_paid_part(snap, sel, day, PAID_DAYS))
    r = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    mask = np.ones(len(r["inv"]), dtype=bool)
    if wanted is not None:
        mask &= np.isin(r["status"], [STATUSES.index(s) for s in wanted])
    if owner is not None:
        mask &= snap.cust_rep[r["cust"]] == ("" if owner == NO_OWNER else owner)
    if dpd_min is not None:
        mask &= r["dpd"] >= dpd_min
    if dpd_max is not None:
        mask &= r["dpd"] <= dpd_max
    r = {k: v[mask] for k, v in r.items()}
    rank = invoice_rank(snap)[r["inv"]]
    due = snap.due[r["inv"]].astype(np.int64)
    if tab == "hotlist":
        order = np.lexsort((rank, -r["balance"], -r["score"]))
    elif tab == "current":
        order = np.lexsort((rank, -r["balance"], due))
    elif tab == "paid":
        order = np.lexsort((rank, -r["settle"]))
    else:
        order = np.lexsort((rank, -np.where(r["settle"] == NO_DATE, 0, r["settle"]), -r["score"], r["tab"]))
    return _workspace_frame(snap, {k: v[order] for k, v in r.items()})


def workspace_pulse(snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None) -> dict:
    """Portfolio pulse chips: hotlist exposure, due in the next 7 days, owner coverage of open exposure."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    rows = _open_rows(snap, sel, day, detail=False)
    bal = rows["balance"]
    until_due = -rows["dpd"]
    due_soon = (until_due >= 0) & (until_due <= DUE_SOON_DAYS)
    owned = snap.cust_rep[rows["cust"]] != ""
    total = int(bal.sum())
    owned_cents = int(bal[owned].sum())
    return {
        "open_exposure_cents": total,
        "hotlist_exposure_cents": int(bal[rows["hot"]].sum()),
        "hotlist_invoices": int(rows["hot"].sum()),
        "due_next_7_days_cents": int(bal[due_soon].sum()),
        "due_next_7_days_invoices": int(due_soon.sum()),
        "owned_exposure_cents": owned_cents,
        "owner_coverage_pct": float(percent(np.array([owned_cents]), np.array([total]))[0]) if total else None,
    }
