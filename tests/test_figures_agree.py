"""Issue 16: figures shown on two screens come from one function and agree; the smaller UI fixes.

Hand-made ledger, as of D = 2024-06-30 (all amounts worked out by hand below):
    A  limit 1,000.00: A1 1,500.00 issued 06-01 (open); A0 400.00 issued 01-10 paid 02-04 (25 days);
       A2 200.00 issued 02-01 paid 03-02 (30 days); A9 100.00 issued 2023-01-01 paid 2023-03-02
       (60 days, before the 12 months)
    B  limit 100.00:   B1 800.00 issued 05-01 (open)
    C  limit 2,000.00: no invoices at all
    X  no limit:       X1 100.00 issued 06-10 (open); payment PX 250.00 on 06-15, not allocated
Total AR = 1,500 + 800 + 100 = 2,400.00. X's credit (250) exceeds its balance (100): X1 is left out
of the aging donuts, which total 2,300.00; 2,300.00 + 100.00 = 2,400.00.
Customers with a limit: A, B, C = 3 (C is not listed on Credit: no balance in 12 months; 2 listed).
Average days to pay of A over the 12 months to D: (25 + 30) / 2 = 27.5 on every screen.
Over limit: B by 700.00, A by 500.00 (B first, although A owes more).
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date(2024, 6, 30)


@pytest.fixture
def snap(db_url):
    """The ledger above, loaded."""
    clear_snapshots()
    add_ledger(
        db_url,
        customers=[
            {"customer_id": "A", "credit_limit": "1000.00"},
            {"customer_id": "B", "credit_limit": "100.00"},
            {"customer_id": "C", "credit_limit": "2000.00"},
            {"customer_id": "X"},
        ],
        invoices=[
            {
                "invoice_id": "A9",
                "customer_id": "A",
                "issue_date": "2023-01-01",
                "due_date": "2023-01-31",
                "amount": "100.00",
            },
            {
                "invoice_id": "A0",
                "customer_id": "A",
                "issue_date": "2024-01-10",
                "due_date": "2024-02-09",
                "amount": "400.00",
            },
            {
                "invoice_id": "A2",
                "customer_id": "A",
                "issue_date": "2024-02-01",
                "due_date": "2024-03-02",
                "amount": "200.00",
            },
            {
                "invoice_id": "A1",
                "customer_id": "A",
                "issue_date": "2024-06-01",
                "due_date": "2024-07-01",
                "amount": "1500.00",
            },
            {
                "invoice_id": "B1",
                "customer_id": "B",
                "issue_date": "2024-05-01",
                "due_date": "2024-05-31",
                "amount": "800.00",
            },
            {
                "invoice_id": "X1",
                "customer_id": "X",
                "issue_date": "2024-06-10",
                "due_date": "2024-07-10",
                "amount": "100.00",
            },
        ],
        payments=[
            {
                "payment_id": "PA9",
                "customer_id": "A",
                "date": "2023-03-02",
                "amount": "100.00",
                "invoice_id": "A9",
            },
            {
                "payment_id": "PA0",
                "customer_id": "A",
                "date": "2024-02-04",
                "amount": "400.00",
                "invoice_id": "A0",
            },
            {
                "payment_id": "PA2",
                "customer_id": "A",
                "date": "2024-03-02",
                "amount": "200.00",
                "invoice_id": "A2",
            },
            {"payment_id": "PX", "customer_id": "X", "date": "2024-06-15", "amount": "250.00"},
        ],
        allocations=[
            {"payment_id": "PA9", "invoice_id": "A9", "amount": "100.00"},
            {"payment_id": "PA0", "invoice_id": "A0", "amount": "400.00"},
            {"payment_id": "PA2", "invoice_id": "A2", "amount": "200.00"},
        ],
    )
    yield get_snapshot(db_url)
    clear_snapshots()


def test_aging_donuts_reconcile_to_total_ar(snap):
    from dashboard.figures.aging import reconciling_line
    from dashboard.metrics.service import kpis
    from dashboard.metrics.tables import aging_by_terms_group, aging_reconciliation

    rec = aging_reconciliation(snap, D)
    assert rec == {
        "total_ar_cents": 240_000,
        "donuts_cents": 230_000,
        "left_out_cents": 10_000,
        "customers_left_out": 1,
    }
    frame = aging_by_terms_group(snap, D)
    assert int(frame["amount_cents"].sum()) == rec["donuts_cents"]
    assert kpis(snap, D, 90, Filters(), Scope())["total_ar"] == "2400.00"
    line = reconciling_line(frame, rec, "USD")
    assert line == (
        "Donuts: short terms $0.00 + 30-day+ terms $2,300.00 + $100.00 owed by 1 customer whose unapplied "
        "credits exceed their balance (left out of the donuts) = total AR $2,400.00."
    )


def test_customers_with_a_limit_is_one_count(snap):
    from dashboard.metrics.credit import credit_summary
    from dashboard.metrics.service import customers_with_limit

    assert customers_with_limit(snap, Filters(), Scope()) == 3  # home tile and Credit chip: A, B, C
    # of them listed on Credit (C had no balance)
    assert credit_summary(snap, D)["customers_with_limit"] == 2


def test_average_days_to_pay_agrees_on_account_credit_and_value(snap):
    from dashboard.metrics.account import account_360
    from dashboard.metrics.credit import credit_utilization
    from dashboard.metrics.value import customer_value

    account = account_360(snap, "A", D, Scope())["summary"]["average_days_to_pay"]
    credit = credit_utilization(snap, D).set_index("customer_id").loc["A", "avg_days_to_pay"]
    value = customer_value(snap, D).set_index("customer_id").loc["A", "avg_payment_days"]
    assert account == credit == value == 27.5


def test_over_limit_drill_sorted_by_amount_over_limit(snap):
    from dashboard.metrics.tables import drill

    rows = drill(snap, "customers_over_limit", D)
    assert list(rows["customer_id"]) == ["B", "A"]
    assert list(rows["over_limit_cents"]) == [70_000, 50_000]
    assert list(rows["amount_cents"]) == [80_000, 150_000]
