"""The invoice workspace (Plixo): risk hotlist, current cycle and paid tabs, risk score, next action,
and the portfolio pulse chips. Rules in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.behaviour import (
    DISPUTE_LITIGATION,
    DISPUTE_NONE,
    DISPUTE_OPEN,
    customer_columns,
    dispute_state,
    invoice_rank,
    latest_promises,
    percent,
    promise_arrays,
    to_dates,
)
from dashboard.metrics.collections.activity import NO_OWNER
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import customer_balances
from dashboard.metrics.ledger import Selection, limits_at, open_items, select
from dashboard.metrics.snapshot import (
    KIND_CREDIT,
    KIND_PAYMENT,
    KIND_WRITE_OFF,
    NO_DATE,
    Snapshot,
    to_day,
)

PAID_DAYS = 90
HOTLIST_DPD = 30
DUE_SOON_DAYS = 7
WORKSPACE_TABS = ("hotlist", "current", "paid")
STATUSES = ("open", "overdue", "disputed", "paid")
# by settle_kind (-1: none)
SETTLED_LABELS = np.array(["payment", "credit note", "write-off", ""], dtype=object)
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


def risk_score(
    dpd: np.ndarray,
    dispute: np.ndarray,
    over_limit: np.ndarray,
    broken_promise: np.ndarray,
    balance: np.ndarray,
) -> npt.NDArray[np.int64]:
    """0-100: 50 x min(dpd, 120)/120 + 20 dispute (25 litigation) + 15 over limit + 10 broken promise + 15 x min(1, balance / 10,000.00)."""
    d = np.clip(np.asarray(dpd, dtype=np.float64), 0, SCORE_DPD_DAYS)
    points = SCORE_DPD_MAX * d / SCORE_DPD_DAYS
    points = points + np.select(
        [dispute == DISPUTE_LITIGATION, dispute == DISPUTE_OPEN],
        [SCORE_LITIGATION, SCORE_DISPUTE],
        default=0,
    )
    points = (
        points
        + np.where(over_limit, SCORE_OVER_LIMIT, 0)
        + np.where(broken_promise, SCORE_BROKEN_PROMISE, 0)
    )
    points = points + SCORE_SIZE_MAX * np.minimum(
        np.asarray(balance, dtype=np.float64) / SCORE_SIZE_CENTS, 1.0
    )
    score: npt.NDArray[np.int64] = np.minimum(np.floor(points + 0.5), 100).astype(np.int64)
    return score


def next_action_code(
    dpd: np.ndarray, dispute: np.ndarray, over_limit: np.ndarray, promise: np.ndarray
) -> np.ndarray:
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


def next_action(
    dpd: np.ndarray, dispute: np.ndarray, over_limit: np.ndarray, promise: np.ndarray
) -> npt.NDArray[np.object_]:
    """The first matching action of ACTIONS (litigation, dispute, broken promise, pending promise, 90+, 60+, 30+, over limit, overdue, else none)."""
    actions: npt.NDArray[np.object_] = ACTION_LABELS[
        next_action_code(dpd, dispute, over_limit, promise)
    ]
    return actions


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


def _open_rows(
    snap: Snapshot, sel: Selection, day: int, detail: bool = True
) -> dict[str, np.ndarray]:
    """Arrays of the invoices open at day: balance, days past due, dispute, over limit, hot; with detail also promises."""
    items = open_items(sel, day)
    inv, bal, cust = items.inv, items.balance, items.cust
    balances = customer_balances(items, snap)
    limit = limits_at(snap, day)
    over = ((limit > 0) & (balances > limit))[cust]
    dpd = day - snap.due[inv].astype(np.int64)
    dispute = dispute_state(snap, day)[inv]
    hot = (dpd > HOTLIST_DPD) | (dispute != DISPUTE_NONE) | over
    rows = {
        "inv": inv,
        "cust": cust,
        "balance": bal,
        "dpd": dpd,
        "dispute": dispute,
        "over": over,
        "hot": hot,
    }
    if detail:
        rows["promise"], rows["promised"] = _invoice_promises(snap, inv, day)
    return rows


STATUS_LABELS = np.array(STATUSES, dtype=object)  # open, overdue, disputed, paid
DISPUTE_LABELS = np.array(["", "dispute", "litigation"], dtype=object)
TAB_LABELS = np.array(WORKSPACE_TABS, dtype=object)


def _open_part(
    snap: Snapshot, rows: dict[str, np.ndarray], keep: np.ndarray
) -> dict[str, np.ndarray]:
    r = {k: v[keep] for k, v in rows.items()}
    dpd, dispute, n = r["dpd"], r["dispute"], int(keep.sum())
    return {
        "inv": r["inv"],
        "cust": r["cust"],
        "balance": r["balance"],
        "dpd": np.maximum(dpd, 0),
        "status": np.where(dispute != DISPUTE_NONE, 2, np.where(dpd > 0, 1, 0)),
        "dispute": dispute,
        "over": r["over"],
        "promise": r["promise"],
        "promised": r["promised"],
        "score": risk_score(dpd, dispute, r["over"], r["promise"] == "broken", r["balance"]),
        "action": next_action_code(dpd, dispute, r["over"], r["promise"]),
        "settle": np.full(n, NO_DATE, dtype=np.int64),
        "kind": np.full(n, 3, dtype=np.int64),
        "tab": np.where(r["hot"], 0, 1),
    }


def _paid_part(snap: Snapshot, sel: Selection, day: int, window: int) -> dict[str, np.ndarray]:
    inv = sel.inv[
        (sel.inv_settle > day - window) & (sel.inv_settle <= day) & (sel.inv_issue <= day)
    ]
    settle = snap.settle[inv].astype(np.int64)
    kind = snap.settle_kind[inv].astype(np.int64)
    n = len(inv)
    zeros = np.zeros(n, dtype=np.int64)
    return {
        "inv": inv,
        "cust": snap.inv_cust[inv],
        "balance": zeros,
        "dpd": np.maximum(settle - snap.due[inv], 0),
        "status": np.full(n, 3),
        "dispute": zeros,
        "over": np.zeros(n, dtype=bool),
        "promise": np.full(n, "", dtype=object),
        "promised": np.full(n, NO_DATE, dtype=np.int64),
        "score": zeros,
        "action": np.full(n, -1),
        "settle": settle,
        "kind": np.where(kind >= 0, kind, 3),
        "tab": np.full(n, 2),
    }


def _workspace_frame(snap: Snapshot, r: dict[str, np.ndarray]) -> pd.DataFrame:
    inv = r["inv"]
    action_labels = np.r_[ACTION_LABELS, np.array([""], dtype=object)]  # -1 (paid) -> ""
    return pd.DataFrame(
        {
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, r["cust"]),
            "issue_date": to_dates(snap.issue[inv]),
            "due_date": to_dates(snap.due[inv]),
            # base currency (issue-date rate), like the balance (rate at D)
            "amount_cents": snap.inv_base[inv],
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
        keep = (
            rows["hot"]
            if tab == "hotlist"
            else ~rows["hot"]
            if tab == "current"
            else np.ones(len(rows["inv"]), dtype=bool)
        )
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
        order = np.lexsort(
            (rank, -np.where(r["settle"] == NO_DATE, 0, r["settle"]), -r["score"], r["tab"])
        )
    return _workspace_frame(snap, {k: v[order] for k, v in r.items()})


def workspace_pulse(
    snap: Snapshot, as_of: dt.date, filters: Filters | None = None, scope: Scope | None = None
) -> dict[str, Any]:
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
        "owner_coverage_pct": float(percent(np.array([owned_cents]), np.array([total]))[0])
        if total
        else None,
    }
