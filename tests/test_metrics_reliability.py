"""Payment reliability: the score, its categories and the 6-month columns, worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dashboard.metrics.filters import Filters
from dashboard.metrics.reliability import (
    late_credit,
    payment_reliability,
    reliability_category,
    reliability_summary,
)
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)  # window: issued in (2024-12-30, 2025-06-30]


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (100.0, "Excellent"),
        (95.0, "Excellent"),
        (94.99, "Good"),
        (85.0, "Good"),
        (84.99, "Average"),
        (70.0, "Average"),
        (69.99, "Poor"),
        (50.0, "Poor"),
        (49.99, "At Risk"),
        (0.0, "At Risk"),
        (np.nan, "No Activity"),
    ],
)
def test_category_thresholds(score, category):
    assert reliability_category(np.array([score]))[0] == category


@pytest.mark.parametrize(
    ("days_late", "credit"),
    [
        (-5, 900.0),
        (0, 900.0),
        (1, 890.0),
        (30, 600.0),
        (45, 450.0),
        (89, 10.0),
        (90, 0.0),
        (200, 0.0),
    ],
)
def test_late_credit_decays_linearly_to_nothing_at_90_days(days_late, credit):
    # 900.00 paid L days late earns 900 x (90 - L) / 90
    assert late_credit(np.array([900.0]), np.array([days_late]))[0] == pytest.approx(credit)


def _ledger(url: str) -> None:
    add_ledger(
        url,
        customers=[
            {"customer_id": "R1", "segment": "S1"},
            {"customer_id": "R2", "segment": "S1"},
            {"customer_id": "R3", "segment": "S2"},
            {"customer_id": "R4", "segment": "S2"},
            {"customer_id": "R5", "segment": "S2"},
            {"customer_id": "R6", "segment": "S2"},
            {"customer_id": "R7", "segment": "S2"},  # nothing at all: not listed
        ],
        invoices=[
            # R1: on time, 30 days late, unpaid overdue, not yet due; I5 before the window
            {
                "invoice_id": "I1",
                "customer_id": "R1",
                "issue_date": "2025-01-10",
                "due_date": "2025-02-09",
                "amount": "1000.00",
            },
            {
                "invoice_id": "I2",
                "customer_id": "R1",
                "issue_date": "2025-02-01",
                "due_date": "2025-03-03",
                "amount": "900.00",
            },
            {
                "invoice_id": "I3",
                "customer_id": "R1",
                "issue_date": "2025-03-01",
                "due_date": "2025-03-31",
                "amount": "500.00",
            },
            {
                "invoice_id": "I4",
                "customer_id": "R1",
                "issue_date": "2025-06-20",
                "due_date": "2025-07-20",
                "amount": "400.00",
            },
            {
                "invoice_id": "I5",
                "customer_id": "R1",
                "issue_date": "2024-12-01",
                "due_date": "2024-12-31",
                "amount": "700.00",
            },
            # R2: paid on time, part credited, part written off
            {
                "invoice_id": "J1",
                "customer_id": "R2",
                "issue_date": "2025-04-01",
                "due_date": "2025-05-01",
                "amount": "2000.00",
            },
            {
                "invoice_id": "J1-CN",
                "customer_id": "R2",
                "issue_date": "2025-05-10",
                "amount": "-300.00",
                "applies_to": "J1",
            },
            # R3: only an invoice not yet due
            {
                "invoice_id": "K1",
                "customer_id": "R3",
                "issue_date": "2025-06-15",
                "due_date": "2025-07-15",
                "amount": "300.00",
            },
            # R4: an old open invoice, nothing in the window
            {
                "invoice_id": "L1",
                "customer_id": "R4",
                "issue_date": "2024-10-01",
                "due_date": "2024-10-31",
                "amount": "250.00",
            },
            # R5: paid early
            {
                "invoice_id": "M1",
                "customer_id": "R5",
                "issue_date": "2025-05-01",
                "due_date": "2025-05-31",
                "amount": "800.00",
            },
            # R6: 950 of 1,000 on time, 50 still open and overdue: exactly 95 %
            {
                "invoice_id": "N1",
                "customer_id": "R6",
                "issue_date": "2025-05-01",
                "due_date": "2025-05-31",
                "amount": "1000.00",
            },
        ],
        payments=[
            {"payment_id": "P1", "customer_id": "R1", "date": "2025-02-09", "amount": "1000.00"},
            {"payment_id": "P2", "customer_id": "R1", "date": "2025-04-02", "amount": "900.00"},
            # after D
            {"payment_id": "P3", "customer_id": "R1", "date": "2025-07-05", "amount": "500.00"},
            {"payment_id": "P5", "customer_id": "R1", "date": "2025-01-15", "amount": "700.00"},
            {"payment_id": "Q1", "customer_id": "R2", "date": "2025-05-01", "amount": "1500.00"},
            {"payment_id": "M", "customer_id": "R5", "date": "2025-05-20", "amount": "800.00"},
            {"payment_id": "N", "customer_id": "R6", "date": "2025-05-31", "amount": "950.00"},
        ],
        allocations=[
            {"payment_id": "P1", "invoice_id": "I1", "amount": "1000.00"},
            {"payment_id": "P2", "invoice_id": "I2", "amount": "900.00"},
            {"payment_id": "P3", "invoice_id": "I3", "amount": "500.00"},
            {"payment_id": "P5", "invoice_id": "I5", "amount": "700.00"},
            {"payment_id": "Q1", "invoice_id": "J1", "amount": "1500.00"},
            {"payment_id": "M", "invoice_id": "M1", "amount": "800.00"},
            {"payment_id": "N", "invoice_id": "N1", "amount": "950.00"},
        ],
        write_offs=[{"invoice_id": "J1", "date": "2025-06-01", "amount": "200.00"}],
    )


def test_reliability_scores_by_hand(db_url):
    _ledger(db_url)
    table = payment_reliability(get_snapshot(db_url), D)
    # worst first: R1 66.67, R2 88.24, R6 95.00, R5 100; then No Activity by outstanding (R3 300, R4 0)
    assert list(table["customer_id"]) == ["R1", "R2", "R6", "R5", "R3", "R4"]
    t = table.set_index("customer_id")

    r1 = t.loc["R1"]
    # I1 1,000 on time -> 1,000; I2 900 paid 30 days late (3 Mar -> 2 Apr) -> 600;
    # I3 500 overdue and unpaid at D (paid 5 July, after D) -> 0; I4 not yet due -> left out.
    # 1,600 / 2,400 = 66.666.. -> 66.67 %: Poor
    assert r1["reliability_score"] == 66.67
    assert r1["risk_category"] == "Poor"
    assert r1["assessed_6m_cents"] == 240_000
    assert r1["invoices_6m"] == 4
    assert r1["total_invoiced_6m_cents"] == 280_000  # I1 + I2 + I3 + I4
    # payments dated in the window: 1,000 + 900 + 700 (I5's, 15 Jan)
    assert r1["total_paid_6m_cents"] == 260_000
    assert r1["outstanding_6m_cents"] == 90_000  # I3 500 + I4 400
    assert r1["on_time_pct"] == 41.67  # 1,000 / 2,400

    r2 = t.loc["R2"]
    # 1,500 paid on time, 200 written off (no credit), 300 credited (left out): 1,500 / 1,700 = 88.235..
    assert r2["reliability_score"] == 88.24 and r2["risk_category"] == "Good"
    assert r2["total_invoiced_6m_cents"] == 200_000 and r2["outstanding_6m_cents"] == 0

    assert (t.loc["R6", "reliability_score"], t.loc["R6", "risk_category"]) == (95.0, "Excellent")
    assert (t.loc["R5", "reliability_score"], t.loc["R5", "risk_category"]) == (100.0, "Excellent")

    r3 = t.loc["R3"]  # invoiced in the window but nothing due yet: nothing to judge
    assert np.isnan(r3["reliability_score"]) and r3["risk_category"] == "No Activity"
    assert r3["invoices_6m"] == 1 and r3["outstanding_6m_cents"] == 30_000
    r4 = t.loc["R4"]  # owes an old invoice, invoiced nothing in the window
    assert (
        r4["risk_category"] == "No Activity"
        and r4["invoices_6m"] == 0
        and r4["total_invoiced_6m_cents"] == 0
    )


def test_reliability_after_the_late_payment_and_filters(db_url):
    _ledger(db_url)
    snap = get_snapshot(db_url)
    # on 2025-07-10 I3 is paid 5 July, 96 days late (31 Mar -> 5 Jul): no credit, so R1 stays at 66.67;
    # the window is now (2025-01-10, 2025-07-10]: I1 (10 Jan) drops out -> 600 / 1,400 = 42.857.. At Risk
    later = payment_reliability(snap, dt.date(2025, 7, 10)).set_index("customer_id")
    assert (
        later.loc["R1", "reliability_score"] == 42.86
        and later.loc["R1", "risk_category"] == "At Risk"
    )
    assert list(payment_reliability(snap, D, Filters(segment="S1"))["customer_id"]) == ["R1", "R2"]


def test_reliability_summary(db_url):
    _ledger(db_url)
    summary = reliability_summary(get_snapshot(db_url), D)
    assert summary["categories"] == {
        "At Risk": 0,
        "Poor": 1,
        "Average": 0,
        "Good": 1,
        "Excellent": 2,
        "No Activity": 2,
    }
    assert summary["customers"] == 6
