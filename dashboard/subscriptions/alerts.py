"""Alert conditions: what is true now within a scope, as items that fire once each.

A KPI threshold is one item ("kpi") while it holds; its firing key carries the day it started, so
when the figure goes back and crosses again later, that is a new firing. A customer over its limit
works the same way per customer. A broken promise and an old dispute fire once per promise or
dispute (their id is the key), never again. The rows of an item are the rows behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from dashboard import format as fmt
from dashboard.metrics.collections.disputes import dispute_cycle_time
from dashboard.metrics.collections.promises import promise_status_code
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import customer_balances
from dashboard.metrics.ledger import customer_mask, open_items, select
from dashboard.metrics.service import currency_for, kpis
from dashboard.metrics.snapshot import from_day, to_day
from dashboard.params import PERIOD_DAYS

RECENT_PROMISE_DAYS = 30  # a promise counts as newly broken for 30 days after its promised date


@dataclass
class Hit:
    """One true item: its id, its firing key (the dedup key), its rows."""

    item: str
    key: str
    rows: list[list[Any]]


@dataclass
class Evaluation:
    """Everything true now: a headline, the columns of the rows, the items."""

    columns: list[str]
    hits: list[Hit] = field(default_factory=list)
    headline: str = ""


@dataclass
class Found:
    """What an alert email shows: a headline, columns and the rows of the new firings."""

    headline: str
    columns: list[str]
    rows: list[list[Any]]


def _money(cents: int, cur: str) -> str:
    return fmt.money(int(cents), cur)


def _kpi(
    snap: Any, as_of: dt.date, scope: Scope, condition: str, threshold: Decimal, cur: str
) -> Evaluation:
    k = kpis(snap, as_of, PERIOD_DAYS, Filters(), scope)
    total = Decimal(k["total_ar"])
    if condition == "dso_above":
        value, label, holds = (
            k["dso"],
            "DSO",
            k["dso"] is not None and Decimal(str(k["dso"])) > threshold,
        )
        rows = [
            ["DSO (days)", k["dso"]],
            ["Total AR", _money(int(total * 100), cur)],
            ["Credit sales, last 90 days", _money(int(Decimal(k["credit_sales"]) * 100), cur)],
        ]
    elif condition == "cei_below":
        value, label, holds = (
            k["cei"],
            "CEI",
            k["cei"] is not None and Decimal(str(k["cei"])) < threshold,
        )
        rows = [
            ["CEI (%)", k["cei"]],
            ["Total AR", _money(int(total * 100), cur)],
            ["Not yet due", _money(int(Decimal(k["not_due_ar"]) * 100), cur)],
            ["Credit sales, last 90 days", _money(int(Decimal(k["credit_sales"]) * 100), cur)],
        ]
    else:
        over = Decimal(k["aging_due"]["90+"])
        share = (over * 100 / total).quantize(Decimal("0.01")) if total > 0 else None
        value, label, holds = share, "90+ share (%)", share is not None and share > threshold
        rows = [
            ["90+ days share of AR (%)", share],
            ["90+ days past due", _money(int(over * 100), cur)],
            ["Total AR", _money(int(total * 100), cur)],
        ]
        rows += _over90_rows(snap, as_of, scope, cur)
    evaluation = Evaluation(
        ["Figure", "Value"], headline=f"{label} {value} against a threshold of {threshold}"
    )
    if holds:
        evaluation.hits.append(Hit("kpi", f"kpi@{as_of.isoformat()}", rows))
    return evaluation


def _over90_rows(
    snap: Any, as_of: dt.date, scope: Scope, cur: str, limit: int = 50
) -> list[list[Any]]:
    """The invoices more than 90 days past due (largest first) as figure rows."""
    day = to_day(as_of)
    items = open_items(select(snap, Filters(), scope), day)
    late = np.flatnonzero(day - snap.due[items.inv].astype(np.int64) > 90)
    late = late[np.argsort(-items.balance[late], kind="stable")][:limit]
    return [
        [
            f"Invoice {snap.inv_ids[items.inv[i]]} · {snap.cust_name[items.cust[i]]} · due "
            f"{from_day(int(snap.due[items.inv[i]])).isoformat()}",
            _money(items.balance[i], cur),
        ]
        for i in late
    ]


def _over_limit(snap: Any, as_of: dt.date, scope: Scope, cur: str) -> Evaluation:
    items = open_items(select(snap, Filters(), scope), to_day(as_of))
    balances = customer_balances(items, snap)
    limits = snap.credit_limit.astype(np.int64)
    over = np.flatnonzero((limits > 0) & (balances > limits))
    out = Evaluation(["Customer #", "Customer", "Credit limit", "Balance", "Over by"])
    for c in over:
        cid = str(snap.cust_ids[c])
        out.hits.append(
            Hit(
                cid,
                f"{cid}@{as_of.isoformat()}",
                [
                    [
                        cid,
                        snap.cust_name[c],
                        _money(limits[c], cur),
                        _money(balances[c], cur),
                        _money(balances[c] - limits[c], cur),
                    ]
                ],
            )
        )
    out.headline = f"{len(over)} customer(s) over their credit limit"
    return out


def _promises(snap: Any, as_of: dt.date, scope: Scope, cur: str) -> Evaluation:
    out = Evaluation(["Promise", "Invoice", "Customer", "Promised for", "Amount"])
    frame = snap.promises
    if not len(frame):
        return out
    day = to_day(as_of)
    inv = frame["inv"].to_numpy(dtype=np.int64)
    cust = frame["cust"].to_numpy(dtype=np.int64)
    promised = frame["promised_date"].to_numpy(dtype=np.int64)
    made = frame["made_on"].to_numpy(dtype=np.int64)
    visible = (cust >= 0) & customer_mask(snap, Filters(), scope)[np.maximum(cust, 0)]
    status = np.full(len(frame), 2)
    status[inv >= 0] = promise_status_code(snap, inv[inv >= 0], promised[inv >= 0], day)
    broken = np.flatnonzero(
        visible & (made <= day) & (status == 1) & (promised >= day - RECENT_PROMISE_DAYS)
    )
    for i in broken:
        pid = str(frame["promise_id"].iloc[i])
        out.hits.append(
            Hit(
                pid,
                pid,
                [
                    [
                        pid,
                        snap.inv_ids[inv[i]],
                        snap.cust_name[cust[i]],
                        from_day(int(promised[i])).isoformat(),
                        _money(frame["amount_cents"].iloc[i], cur),
                    ]
                ],
            )
        )
    out.headline = f"{len(broken)} promise(s) to pay broken"
    return out


def _disputes(snap: Any, as_of: dt.date, scope: Scope, threshold: Decimal, cur: str) -> Evaluation:
    rows = dispute_cycle_time(snap, as_of, None, scope)["open"]
    old = rows[rows["age_days"] > int(threshold)]
    out = Evaluation(["Dispute", "Invoice", "Customer", "Opened", "Age (days)", "Amount"])
    for r in old.to_dict("records"):
        did = str(r["dispute_id"])
        out.hits.append(
            Hit(
                did,
                did,
                [
                    [
                        did,
                        r["invoice_id"],
                        r.get("name", r.get("customer_id")),
                        str(r["opened_on"])[:10],
                        int(r["age_days"]),
                        _money(r["amount_cents"], cur),
                    ]
                ],
            )
        )
    out.headline = f"{len(old)} dispute(s) open longer than {threshold} days"
    return out


def evaluate(
    snap: Any, condition: str, threshold: str | None, as_of: dt.date, scope: Scope
) -> Evaluation:
    """Every item of the condition that holds at as_of within the scope."""
    cur = currency_for(snap, Filters(), scope)
    limit = Decimal(threshold or "0")
    if condition in ("dso_above", "cei_below", "over90_share_above"):
        return _kpi(snap, as_of, scope, condition, limit, cur)
    if condition == "over_limit":
        return _over_limit(snap, as_of, scope, cur)
    if condition == "promise_broken":
        return _promises(snap, as_of, scope, cur)
    if condition == "dispute_older":
        return _disputes(snap, as_of, scope, limit, cur)
    raise ValueError(f"unknown alert condition {condition!r}")
