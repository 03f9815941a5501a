"""The engine agrees with the benchmark's naive SQL (one query per figure) on demo data, on both databases."""

from __future__ import annotations

import datetime as dt
import sys
from fractions import Fraction
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from naive_sql import NaiveSQL  # noqa: E402

from dashboard.data.demo import load_demo  # noqa: E402
from dashboard.metrics.filters import Filters  # noqa: E402
from dashboard.metrics.kpis import compute_kpis  # noqa: E402
from dashboard.metrics.numbers import money, ratio  # noqa: E402
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot  # noqa: E402

TODAY = dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    "back,filters", [(0, {}), (45, {"segment": "SMB"}), (200, {"region": "West"})]
)
def test_engine_equals_naive_sql(db_url, back, filters):
    clear_snapshots()
    # the naive SQL knows one currency; several currencies are checked against tests/reference.py
    load_demo(
        url=db_url,
        customers=120,
        invoices=2500,
        seed=5,
        today=TODAY,
        progress=False,
        currencies=("USD",),
    )
    as_of = TODAY - dt.timedelta(days=back)
    k = compute_kpis(get_snapshot(db_url), as_of, 90, Filters(**filters))
    n = NaiveSQL(db_url, filters).figure_set(as_of, 90)
    assert k["total_ar"] == money(n["total_ar"]) and int(n["total_ar"]) > 0
    assert k["overdue_ar"] == money(n["overdue_ar"])
    assert k["not_due_ar"] == money(n["not_due_ar"])
    assert k["unapplied_credits"] == money(n["unapplied_credits"])
    assert k["customers_with_balance"] == n["customers_with_balance"]
    assert k["customers_overdue"] == n["customers_overdue"]
    assert k["aging_due"] == {b: money(v) for b, v in n["aging_due"].items()}
    assert k["credit_sales"] == money(n["credit_sales"])
    assert k["collections"] == money(n["collections"])
    assert k["customers_over_limit"] == n["customers_over_limit"]
    assert k["bad_debt_ratio"] == ratio(n["write_offs"], n["credit_sales"], 100)
    assert k["cei"] == ratio(
        n["ar_start"] + n["credit_sales"] - n["total_ar"],
        n["ar_start"] + n["credit_sales"] - n["not_due_ar"],
        100,
    )
    assert k["ar_turnover"] == ratio(n["sales_year"], Fraction(n["ar_year_ago"] + n["total_ar"], 2))
    assert k["avg_days_to_pay"] == (
        None if n["avg_days_to_pay"] is None else ratio(n["avg_days_to_pay"], 1)
    )
    assert k["avg_days_late"] == (
        None if n["avg_days_late"] is None else ratio(n["avg_days_late"], 1)
    )
    assert [(d["customer_id"], d["balance"]) for d in k["top_debtors"]] == [
        (c, money(b)) for c, b in n["top_debtors"]
    ]
    clear_snapshots()
