"""Disputes (Plixo): cycle time by month resolved, and the disputes open at D. Rules in docs/analytics.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics.behaviour import (
    customer_columns,
    dispute_status,
    open_dispute_rows,
    round2,
    to_dates,
)
from dashboard.metrics.collections.months import month_frame, month_key
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import Selection, open_balances, revalue, select
from dashboard.metrics.snapshot import NO_DATE, Snapshot, to_day
from dashboard.metrics.tables import with_currency


def _selected_rows(frame: pd.DataFrame, sel: Selection) -> npt.NDArray[np.bool_]:
    if not len(frame):
        return np.zeros(0, dtype=bool)
    cust = frame["cust"].to_numpy(dtype=np.int64)
    selected: npt.NDArray[np.bool_] = (cust >= 0) & sel.cust_mask[np.maximum(cust, 0)]
    return selected


def dispute_cycle_time(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters | None = None,
    scope: Scope | None = None,
    months: int = 12,
) -> dict[str, Any]:
    """Cycle time (opened -> resolved, days) by month resolved over `months` months, and the disputes open at D."""
    sel = select(snap, filters, scope)
    day = to_day(as_of)
    frame = snap.disputes
    mine = _selected_rows(frame, sel)
    spans = month_frame(as_of, months)
    first = to_day(spans["start"].iloc[0])
    if len(frame):
        opened = frame["opened_on"].to_numpy(dtype=np.int64)
        resolved = frame["resolved_on"].to_numpy(dtype=np.int64)
        done = (
            mine
            & (resolved != NO_DATE)
            & (resolved >= first)
            & (resolved <= day)
            & (opened <= resolved)
        )
        cycles = pd.DataFrame(
            {
                "month": month_key(resolved[done]),
                "days": (resolved[done] - opened[done]).astype(np.float64),
            }
        )
        live = mine & open_dispute_rows(snap, day)
    else:
        cycles = pd.DataFrame(
            {"month": pd.Series(dtype=object), "days": pd.Series(dtype=np.float64)}
        )
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
            "mean_open_age_days": float(round2(open_rows["age_days"].mean()))
            if len(open_rows)
            else None,
        },
    }


def _open_disputes(snap: Snapshot, frame: pd.DataFrame, live: np.ndarray, day: int) -> pd.DataFrame:
    rows = frame[live] if len(frame) else frame
    inv = rows["inv"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    cust = rows["cust"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    opened = (
        rows["opened_on"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    )
    status = dispute_status(rows) if len(rows) else np.zeros(0, dtype=object)
    own = (
        rows["amount_cents"].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    )
    cur = snap.inv_cur[inv].astype(np.int64) if len(inv) else np.zeros(0, dtype=np.int64)
    out = pd.DataFrame(
        {
            "dispute_id": rows["dispute_id"].to_numpy(dtype=object)
            if len(rows)
            else np.zeros(0, dtype=object),
            "invoice_id": snap.inv_ids[inv],
            **customer_columns(snap, cust),
            "opened_on": to_dates(opened),
            "status": np.where(status == "litigation", "litigation", "open").astype(object),
            "amount_cents": revalue(snap, own, cur, day),  # open at D: base cents at D's rate
            "invoice_balance_cents": revalue(
                snap, np.maximum(open_balances(snap, inv, day), 0), cur, day
            ),
            "age_days": day - opened,
        }
    )
    out = with_currency(snap, out, cur, own)
    return out.sort_values(["age_days", "dispute_id"], ascending=[False, True], ignore_index=True)
