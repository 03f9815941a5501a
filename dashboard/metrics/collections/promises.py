"""Promises to pay (Plixo): kept, broken or pending, adherence by month of promised date. Rules in docs/analytics.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.behaviour import customer_columns, percent, promise_arrays, to_dates
from dashboard.metrics.collections.months import month_frame, month_number
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import open_balances, revalue, select
from dashboard.metrics.snapshot import KIND_WRITE_OFF, Snapshot, sum_by, to_day
from dashboard.metrics.tables import with_currency

PROMISE_STATES = np.array(["kept", "broken", "pending"], dtype=object)


def promise_status_code(
    snap: Snapshot, inv: np.ndarray, promised: np.ndarray, day: int
) -> np.ndarray:
    """0 kept (invoice settled by the promised date, not by a write-off), 1 broken (date before D, not kept), 2 pending."""
    settle = snap.settle[inv].astype(np.int64)
    kept = (settle <= np.minimum(promised, day)) & (snap.settle_kind[inv] != KIND_WRITE_OFF)
    return np.select([kept, promised < day], [0, 1], default=2)


def promise_status(
    snap: Snapshot, inv: np.ndarray, promised: np.ndarray, day: int
) -> npt.NDArray[np.object_]:
    """'kept', 'broken' or 'pending' at day (see promise_status_code)."""
    states: npt.NDArray[np.object_] = PROMISE_STATES[promise_status_code(snap, inv, promised, day)]
    return states


def promise_adherence(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    months: int = 12,
) -> dict[str, Any]:
    """Promises made on or before D by month of promised date (kept, broken, share kept) and the broken ones."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    p = promise_arrays(snap)
    spans = month_frame(as_of, months)
    first = to_day(spans["start"].iloc[0])
    mine = (p["inv"] >= 0) & (p["cust"] >= 0) & (p["made"] <= day)
    mine[mine] = sel.cust_mask[p["cust"][mine]]
    rows = np.flatnonzero(mine)
    # amounts in base cents at the rate of the day each promise was made (a flow at its own date)
    inv, promised, amount = p["inv"][rows], p["promised"][rows], p["base"][rows]
    code = promise_status_code(snap, inv, promised, day)
    window = (promised >= first) & (promised <= day)
    month = month_number(promised[window]) - month_number(np.array([first]))[0]
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
            "invoice_balance_cents": revalue(
                snap, np.maximum(open_balances(snap, b_inv, day), 0), snap.inv_cur[b_inv], day
            ),
            "days_since_promised": day - b_promised,
        }
    )
    broken_rows = with_currency(snap, broken_rows, p["cur"][broken], p["amount"][broken])
    pending = code == 2
    kept_n, broken_n = int(counts[:, 0].sum()), int(counts[:, 1].sum())
    return {
        "by_month": by_month[
            [
                "month",
                "start",
                "end",
                "promises",
                "kept",
                "broken",
                "pending",
                "kept_pct",
                "kept_amount_cents",
                "broken_amount_cents",
            ]
        ],
        "broken": broken_rows,
        "summary": {
            "kept": kept_n,
            "broken": broken_n,
            "kept_pct": float(percent(np.array([kept_n]), np.array([kept_n + broken_n]))[0])
            if kept_n + broken_n
            else None,
            "pending": int(pending.sum()),
            "pending_amount_cents": int(amount[pending].sum()),
        },
    }
