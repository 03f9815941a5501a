"""Outstanding composition (LeanPay): total AR at D split into not due, overdue, in dispute and in
litigation, unapplied credits beside it. Rules in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.metrics.behaviour import DISPUTE_LITIGATION, DISPUTE_OPEN, dispute_state
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import OpenItems, open_items, select
from dashboard.metrics.snapshot import Snapshot, sum_by, to_day
from dashboard.metrics.tables import unapplied_by_customer

COMPONENTS = (
    ("not_due", "Not due"),
    ("overdue", "Overdue"),
    ("in_dispute", "In dispute"),
    ("in_litigation", "In litigation"),
)


def composition_index(snap: Snapshot, items: OpenItems) -> np.ndarray:
    """Component of each open item: 0 not due, 1 overdue, 2 in dispute, 3 in litigation (dispute state wins)."""
    state = dispute_state(snap, items.day)[items.inv]
    overdue = snap.due[items.inv] < items.day
    return np.select(
        [state == DISPUTE_LITIGATION, state == DISPUTE_OPEN, overdue], [3, 2, 1], default=0
    )


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
    # base items at day
    credits = sel.at(sel.cum_unapplied, day) if not snap.multi else int(unapplied.sum())
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
