"""Credit utilization: risk levels, recommended actions and the Retailer columns, worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics.credit import (
    HOLD,
    INCREASE,
    MONITOR,
    NO_ACTION,
    REVIEW,
    STANDARD,
    credit_summary,
    credit_utilization,
    recommended_action,
    risk_level,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import NO_DATE, clear_snapshots, get_snapshot, to_day
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)
DAY = to_day(D)
LIMIT = 1_000_000  # 10,000.00


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


# ---------------------------------------------------------------- risk level (exact cents)


@pytest.mark.parametrize(
    ("outstanding", "expected"),
    [
        (0, "Low"),
        (500_000, "Low"),  # 50.00 % is not above 50 %
        (500_001, "Moderate"),  # 50.0001 %
        (500_100, "Moderate"),  # 50.01 %
        (750_000, "Moderate"),  # 75.00 %
        (750_100, "High"),  # 75.01 %
        (900_000, "High"),  # 90.00 %
        (900_100, "Critical"),  # 90.01 %
        (1_000_000, "Critical"),  # exactly at the limit is not over it
        (1_000_001, "Over Limit"),  # one cent over
    ],
)
def test_risk_level_boundaries(outstanding, expected):
    assert risk_level(np.array([outstanding]), np.array([LIMIT]))[0] == expected


def test_risk_level_is_blank_without_a_limit():
    assert list(risk_level(np.array([5_000_000, 0]), np.array([0, 0]))) == ["", ""]


# ---------------------------------------------------------------- recommended action

# D = 2025-06-30: "younger than 6 months" = account start after 2024-12-30;
# "older than 12 months" = account start before 2024-06-30.
NEW = to_day(dt.date(2025, 1, 15))
SIX_MONTHS = to_day(dt.date(2024, 12, 30))  # exactly 6 months old: not new
JUST_NEW = to_day(dt.date(2024, 12, 31))
MID = to_day(dt.date(2024, 9, 1))  # 10 months old: neither new nor old
TWELVE_MONTHS = to_day(dt.date(2024, 6, 30))  # exactly 12 months old: not old
OLD = to_day(dt.date(2024, 6, 29))


@pytest.mark.parametrize(
    ("outstanding", "limit", "days_to_pay", "start", "expected"),
    [
        (5_000_000, 0, 10.0, NEW, STANDARD),  # no limit, whatever else
        (1_000_001, LIMIT, 10.0, NEW, HOLD),  # over limit beats increase and monitor
        (1_000_001, LIMIT, np.nan, OLD, HOLD),
        (800_100, LIMIT, 45.0, NEW, INCREASE),  # 80.01 % and 45 days: increase beats monitor
        (800_100, LIMIT, 45.0, MID, INCREASE),
        (800_100, LIMIT, 45.01, MID, NO_ACTION),  # slower than 45 days
        (800_100, LIMIT, 45.01, NEW, MONITOR),  # not a good payer, but new
        (800_100, LIMIT, np.nan, NEW, MONITOR),  # no payment history is not "good"
        (800_000, LIMIT, 10.0, MID, NO_ACTION),  # exactly 80 % is not above it
        (750_100, LIMIT, np.nan, JUST_NEW, MONITOR),  # 75.01 %, 5 months 30 days old
        (750_100, LIMIT, np.nan, SIX_MONTHS, NO_ACTION),  # exactly 6 months old
        (750_000, LIMIT, np.nan, NEW, NO_ACTION),  # exactly 75 %
        (99_999, LIMIT, np.nan, OLD, REVIEW),  # 9.9999 %, older than 12 months
        (0, LIMIT, np.nan, OLD, REVIEW),
        (99_999, LIMIT, np.nan, TWELVE_MONTHS, NO_ACTION),  # exactly 12 months old
        (100_000, LIMIT, np.nan, OLD, NO_ACTION),  # exactly 10 %
        (99_999, LIMIT, np.nan, NO_DATE, NO_ACTION),  # account age unknown
        (500_000, LIMIT, 30.0, OLD, NO_ACTION),
    ],
)
def test_recommended_action_branches(outstanding, limit, days_to_pay, start, expected):
    got = recommended_action(
        np.array([outstanding]), np.array([limit]), np.array([days_to_pay]), np.array([start]), DAY
    )
    assert got[0] == expected


# ---------------------------------------------------------------- the table on both databases


def _ledger(url: str) -> None:
    add_ledger(
        url,
        sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}],
        customers=[
            {
                "customer_id": "A",
                "credit_limit": "10000.00",
                "created_on": "2020-01-01",
                "segment": "Retail",
                "sales_rep_id": "R1",
            },
            {"customer_id": "B", "segment": "Retail", "sales_rep_id": "R1"},  # no limit
            {
                "customer_id": "C",
                "credit_limit": "1000.00",
                "created_on": "2023-01-01",
                "segment": "Trade",
                "sales_rep_id": "R2",
            },
            {
                "customer_id": "E",
                "credit_limit": "5000.00",
                "segment": "Trade",
                "sales_rep_id": "R2",
            },
            {
                "customer_id": "F",
                "credit_limit": "5000.00",
                "segment": "Trade",
                "sales_rep_id": "R2",
            },
            {
                "customer_id": "G",
                "credit_limit": "2000.00",
                "created_on": "2025-02-15",
                "segment": "Trade",
                "sales_rep_id": "R2",
            },
        ],
        invoices=[
            {
                "invoice_id": "A1",
                "customer_id": "A",
                "issue_date": "2025-01-10",
                "due_date": "2025-02-09",
                "amount": "6000.00",
            },
            {
                "invoice_id": "A2",
                "customer_id": "A",
                "issue_date": "2025-05-01",
                "due_date": "2025-05-31",
                "amount": "8500.00",
            },
            {
                "invoice_id": "A3",
                "customer_id": "A",
                "issue_date": "2025-06-30",
                "due_date": "2025-07-30",
                "amount": "100.00",
            },
            {
                "invoice_id": "B1",
                "customer_id": "B",
                "issue_date": "2025-06-01",
                "due_date": "2025-07-01",
                "amount": "500.00",
            },
            {
                "invoice_id": "C1",
                "customer_id": "C",
                "issue_date": "2025-03-01",
                "due_date": "2025-03-31",
                "amount": "1200.00",
            },
            {
                "invoice_id": "E1",
                "customer_id": "E",
                "issue_date": "2024-03-01",
                "due_date": "2024-03-31",
                "amount": "300.00",
            },
            {
                "invoice_id": "F1",
                "customer_id": "F",
                "issue_date": "2024-03-01",
                "due_date": "2024-03-31",
                "amount": "200.00",
            },
            {
                "invoice_id": "G1",
                "customer_id": "G",
                "issue_date": "2025-06-10",
                "due_date": "2025-07-10",
                "amount": "1600.00",
            },
            # after D
            {
                "invoice_id": "A4",
                "customer_id": "A",
                "issue_date": "2025-07-01",
                "due_date": "2025-07-31",
                "amount": "9999.00",
            },
        ],
        payments=[
            {"payment_id": "PA1", "customer_id": "A", "date": "2025-02-04", "amount": "6000.00"},
            {"payment_id": "PA3", "customer_id": "A", "date": "2025-06-30", "amount": "100.00"},
            {"payment_id": "PE1", "customer_id": "E", "date": "2024-03-31", "amount": "300.00"},
            {"payment_id": "PF1", "customer_id": "F", "date": "2024-08-01", "amount": "200.00"},
            # after D
            {"payment_id": "PC1", "customer_id": "C", "date": "2025-07-05", "amount": "1200.00"},
        ],
        allocations=[
            {"payment_id": "PA1", "invoice_id": "A1", "amount": "6000.00"},
            {"payment_id": "PA3", "invoice_id": "A3", "amount": "100.00"},
            {"payment_id": "PE1", "invoice_id": "E1", "amount": "300.00"},
            {"payment_id": "PF1", "invoice_id": "F1", "amount": "200.00"},
            {"payment_id": "PC1", "invoice_id": "C1", "amount": "1200.00"},
        ],
    )


def test_credit_utilization_table(db_url):
    _ledger(db_url)
    table = credit_utilization(get_snapshot(db_url), D).set_index("customer_id")
    # E was paid up on 2024-03-31, before the 12 months (2024-06-30, 2025-06-30]: not listed.
    # F's invoice stayed open until 2024-08-01, inside the 12 months: listed with nothing outstanding.
    # Order: utilization, highest first (C 120 %, A 85 %, G 80 %, F 0 %), customers without a limit last.
    assert list(table.index) == ["C", "A", "G", "F", "B"]

    a = table.loc["A"]
    # outstanding A2 8,500.00 (A3 was paid on D; A4 is issued after D) of a 10,000.00 limit
    assert a["credit_limit_cents"] == 1_000_000 and a["limit_status"] == "LIMITED"
    assert a["outstanding_cents"] == 850_000
    assert a["utilization_pct"] == 85.0
    assert a["available_credit_cents"] == 150_000
    assert a["payments_12m_cents"] == 610_000  # 6,000.00 + 100.00 (on D)
    assert a["sales_12m_cents"] == 1_460_000  # 6,000 + 8,500 + 100
    assert a["avg_monthly_sales_cents"] == 121_667  # 14,600.00 / 12 = 1,216.666.. -> 1,216.67
    # A1: 10 Jan -> 4 Feb = 25 days; A3 (issued and paid on D) is left out
    assert a["avg_days_to_pay"] == 25.0
    assert a["risk_level"] == "High"
    assert a["recommended_action"] == INCREASE  # 85 % > 80 % and 25 <= 45 days

    c = table.loc["C"]
    assert c["outstanding_cents"] == 120_000  # the payment of 5 July is after D
    assert c["utilization_pct"] == 120.0
    assert c["available_credit_cents"] == -20_000
    assert c["payments_12m_cents"] == 0
    assert np.isnan(c["avg_days_to_pay"])
    assert (c["risk_level"], c["recommended_action"]) == ("Over Limit", HOLD)

    # 1,600 of 2,000 = exactly 80 %: High, not above 80 %; created 2025-02-15 (new)
    g = table.loc["G"]
    assert (g["utilization_pct"], g["risk_level"], g["recommended_action"]) == (
        80.0,
        "High",
        MONITOR,
    )

    # nothing outstanding, account from its first invoice 2024-03-01 (> 12 months)
    f = table.loc["F"]
    assert f["outstanding_cents"] == 0 and f["utilization_pct"] == 0.0
    assert f["payments_12m_cents"] == 20_000 and f["sales_12m_cents"] == 0
    assert f["avg_days_to_pay"] == 153.0  # 1 March -> 1 August 2024
    assert (f["risk_level"], f["recommended_action"]) == ("Low", REVIEW)

    b = table.loc["B"]
    assert b["limit_status"] == "NO LIMIT" and b["credit_limit_cents"] == 0
    assert np.isnan(b["utilization_pct"]) and b["available_credit_cents"] is pd.NA
    assert (b["risk_level"], b["recommended_action"]) == ("", STANDARD)


def test_credit_utilization_filters_scope_and_backdating(db_url):
    _ledger(db_url)
    snap = get_snapshot(db_url)
    assert list(credit_utilization(snap, D, Filters(segment="Trade"))["customer_id"]) == [
        "C",
        "G",
        "F",
    ]
    assert list(
        credit_utilization(snap, D, None, Scope(sales_rep_ids=frozenset({"R1"})))["customer_id"]
    ) == ["A", "B"]
    # on 2025-07-10 C has paid (5 July) but is still listed: it owed within the last 12 months;
    # 0 % of its limit and an account from 2023: REVIEW
    later = credit_utilization(snap, dt.date(2025, 7, 10)).set_index("customer_id")
    assert (
        later.loc["C", "outstanding_cents"] == 0 and later.loc["C", "recommended_action"] == REVIEW
    )
    # A4 (1 July) now counts: 8,500 + 9,999 = 18,499.00 of 10,000.00
    assert (
        later.loc["A", "outstanding_cents"] == 1_849_900
        and later.loc["A", "risk_level"] == "Over Limit"
    )


def test_credit_summary_averages_utilization_over_limited_customers(db_url):
    _ledger(db_url)
    summary = credit_summary(get_snapshot(db_url), D)
    # C 120 %, A 85 %, G 80 %, F 0 %: mean 71.25 %
    assert summary["avg_utilization_pct"] == 71.25
    assert summary["customers"] == 5 and summary["customers_with_limit"] == 4
    assert summary["risk_levels"] == {
        "Low": 1,
        "Moderate": 0,
        "High": 2,
        "Critical": 0,
        "Over Limit": 1,
    }
    assert summary["actions"][HOLD] == 1 and summary["actions"][STANDARD] == 1
