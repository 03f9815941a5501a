"""The main table of a subscribed page for its PDF summary (largest rows first, totals over every row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from dashboard import format as fmt
from dashboard.export.pdf import PageTable
from dashboard.export.registry import TABLES
from dashboard.metrics.filters import Filters, Scope
from dashboard.params import PERIOD_DAYS

ROWS = 40
AGING = ("not_due_cents", "1-30_cents", "31-60_cents", "61-90_cents", "90+_cents")


def _money(value: Any, cur: str) -> str:
    return fmt.money(int(value), cur) if pd.notna(value) else fmt.DASH


def _note(frame: pd.DataFrame, shown: int) -> str | None:
    return (
        f"The {shown} largest of {len(frame)} rows; the totals cover all of them."
        if len(frame) > shown
        else None
    )


def _aging(frame: pd.DataFrame, cur: str) -> Any:
    top = frame.sort_values(["amount_cents", "customer_id"], ascending=[False, True]).head(ROWS)
    columns = [
        ("Customer", 50, "L"),
        ("Status", 20, "L"),
        ("Total", 21, "R"),
        ("Not due", 19, "R"),
        ("1–30", 19, "R"),
        ("31–60", 19, "R"),
        ("61–90", 19, "R"),
        ("90+", 19, "R"),
    ]
    rows = [
        [
            f"{r['customer_name']} #{r['customer_id']}",
            str(r["status"]),
            _money(r["amount_cents"], cur),
            *(_money(r[c], cur) for c in AGING),
        ]
        for r in top.to_dict("records")
    ]
    total = [
        "Total",
        "",
        _money(frame["amount_cents"].sum(), cur),
        *(_money(frame[c].sum(), cur) for c in AGING),
    ]
    return PageTable("Customer aging (days past due)", columns, rows, total, _note(frame, len(top)))


def _invoices(frame: pd.DataFrame, cur: str) -> Any:
    top = frame.sort_values(["amount_cents", "invoice_id"], ascending=[False, True]).head(ROWS)
    columns = [
        ("Invoice", 30, "L"),
        ("Customer", 62, "L"),
        ("Due", 24, "L"),
        ("Days past due", 26, "R"),
        ("Open balance", 44, "R"),
    ]
    rows = [
        [
            r["invoice_id"],
            f"{r['customer_name']} #{r['customer_id']}",
            str(r["due_date"])[:10],
            str(r["days_past_due"]),
            _money(r["amount_cents"], cur),
        ]
        for r in top.to_dict("records")
    ]
    return PageTable(
        "Open invoices",
        columns,
        rows,
        ["Total", "", "", "", _money(frame["amount_cents"].sum(), cur)],
        _note(frame, len(top)),
    )


def _credit(frame: pd.DataFrame, cur: str) -> Any:
    top = frame.sort_values(["amount_cents", "customer_id"], ascending=[False, True]).head(ROWS)
    columns = [
        ("Customer", 70, "L"),
        ("Credit limit", 34, "R"),
        ("Outstanding", 34, "R"),
        ("Overdue", 30, "R"),
        ("Used", 18, "R"),
    ]
    rows = [
        [
            f"{r['customer_name']} #{r['customer_id']}",
            _money(r["credit_limit_cents"], cur),
            _money(r["amount_cents"], cur),
            _money(r["overdue_cents"], cur),
            f"{r['utilization_pct']:.0f} %" if pd.notna(r["utilization_pct"]) else "–",
        ]
        for r in top.to_dict("records")
    ]
    total = [
        "Total",
        "",
        _money(frame["amount_cents"].sum(), cur),
        _money(frame["overdue_cents"].sum(), cur),
        "",
    ]
    return PageTable("Customers with a balance", columns, rows, total, _note(frame, len(top)))


PAGES = {
    "/aging": ("customer_aging", _aging),
    "/invoices": ("open_invoices", _invoices),
    "/credit": ("customers", _credit),
}


def page_table(
    snap: Any, path: str, as_of: dt.date, filters: Filters, scope: Scope, cur: str
) -> Any:
    """The page's table (dashboard.export.pdf.PageTable) or None for pages without one here."""
    if path not in PAGES:
        return None
    name, render = PAGES[path]
    return render(TABLES[name](snap, as_of, PERIOD_DAYS, filters, scope), cur)
