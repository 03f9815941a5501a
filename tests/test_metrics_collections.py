"""Outstanding composition, disputes, promises, collections activity and the invoice workspace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from dashboard.metrics.collections import (
    ACTIONS,
    collections_activity,
    dispute_cycle_time,
    invoice_workspace,
    next_action,
    outstanding_composition,
    promise_adherence,
    risk_score,
    workspace_pulse,
)
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _inv(invoice_id, customer, due, amount, issue="2025-04-01", **extra):
    return {
        "invoice_id": invoice_id,
        "customer_id": customer,
        "issue_date": issue,
        "due_date": due,
        "amount": amount,
        **extra,
    }


# ---------------------------------------------------------------- composition and dispute cycle time


def _dispute_ledger(url: str) -> None:
    add_ledger(
        url,
        customers=[{"customer_id": "A", "segment": "S1"}, {"customer_id": "B", "segment": "S2"}],
        invoices=[
            _inv("A1", "A", "2025-07-15", "1000.00"),
            _inv("A2", "A", "2025-06-30", "2000.00"),  # due on D: not overdue
            _inv("A3", "A", "2025-06-01", "500.00"),  # 100.00 paid
            _inv("A4", "A", "2025-05-01", "700.00"),  # open dispute
            _inv("A5", "A", "2025-08-01", "400.00"),  # litigation
            _inv("A6", "A", "2025-05-01", "300.00"),  # dispute resolved 10 June
            _inv("A7", "B", "2025-05-01", "250.00", disputed=True),  # dispute opened after D
            _inv("A8", "B", "2025-07-31", "150.00", disputed=True),  # flagged, no dispute rows
            _inv("A9", "B", "2025-05-01", "800.00"),  # dispute resolved after D
            _inv("B1", "B", "2025-01-31", "100.00", issue="2025-01-01"),
            _inv("B2", "B", "2025-01-31", "100.00", issue="2025-01-01"),
            _inv("B3", "B", "2024-05-31", "100.00", issue="2024-05-01"),
            _inv("B4", "B", "2025-03-31", "100.00", issue="2025-03-01"),
            _inv("CN", "B", "2025-06-20", "-50.00", issue="2025-06-20"),  # credit note for nothing
        ],
        payments=[
            {"payment_id": "P3", "customer_id": "A", "date": "2025-06-15", "amount": "100.00"},
            # unallocated
            {"payment_id": "P9", "customer_id": "B", "date": "2025-06-15", "amount": "300.00"},
            {"payment_id": "PB", "customer_id": "B", "date": "2025-02-01", "amount": "400.00"},
        ],
        allocations=[
            {"payment_id": "P3", "invoice_id": "A3", "amount": "100.00"},
            {"payment_id": "PB", "invoice_id": "B1", "amount": "100.00"},
            {"payment_id": "PB", "invoice_id": "B2", "amount": "100.00"},
            {"payment_id": "PB", "invoice_id": "B3", "amount": "100.00"},
            {"payment_id": "PB", "invoice_id": "B4", "amount": "100.00"},
        ],
        disputes=[
            {"dispute_id": "D4", "invoice_id": "A4", "opened_on": "2025-06-01", "amount": "700.00"},
            {
                "dispute_id": "D5",
                "invoice_id": "A5",
                "opened_on": "2025-06-15",
                "amount": "400.00",
                "status": "litigation",
            },
            {
                "dispute_id": "D6",
                "invoice_id": "A6",
                "opened_on": "2025-05-05",
                "resolved_on": "2025-06-10",
                "amount": "300.00",
                "status": "resolved",
            },
            {"dispute_id": "D7", "invoice_id": "A7", "opened_on": "2025-07-01", "amount": "250.00"},
            {
                "dispute_id": "D9",
                "invoice_id": "A9",
                "opened_on": "2025-05-10",
                "resolved_on": "2025-07-10",
                "amount": "800.00",
                "status": "resolved",
            },
            {
                "dispute_id": "E1",
                "invoice_id": "B1",
                "opened_on": "2025-01-01",
                "resolved_on": "2025-01-31",
                "amount": "100.00",
                "status": "resolved",
            },
            {
                "dispute_id": "E2",
                "invoice_id": "B2",
                "opened_on": "2025-01-10",
                "resolved_on": "2025-01-20",
                "amount": "100.00",
                "status": "resolved",
            },
            {
                "dispute_id": "E3",
                "invoice_id": "B3",
                "opened_on": "2024-05-01",
                "resolved_on": "2024-06-15",
                "amount": "100.00",
                "status": "resolved",
            },
            # no date
            {
                "dispute_id": "E4",
                "invoice_id": "B4",
                "opened_on": "2025-03-01",
                "amount": "100.00",
                "status": "resolved",
            },
        ],
    )


def test_outstanding_composition_sums_to_total_ar(db_url):
    _dispute_ledger(db_url)
    snap = get_snapshot(db_url)
    table = outstanding_composition(snap, D).set_index("component")
    # not due: A1 1,000 + A2 2,000 (due on D);
    # overdue: A3 400 (500 - 100) + A6 300 (dispute resolved 10 June) + A7 250 (dispute opened after D;
    #   its disputed flag is ignored because it has dispute rows);
    # in dispute: A4 700 (overdue, but the dispute wins) + A8 150 (flag, no rows) + A9 800 (resolved after D);
    # in litigation: A5 400.
    assert table.loc["not_due", "amount_cents"] == 300_000
    assert table.loc["overdue", "amount_cents"] == 95_000
    assert table.loc["in_dispute", "amount_cents"] == 165_000
    assert table.loc["in_litigation", "amount_cents"] == 40_000
    assert list(table.loc[["not_due", "overdue", "in_dispute", "in_litigation"], "invoices"]) == [
        2,
        3,
        3,
        1,
    ]
    kpis = compute_kpis(snap, D)
    part = table[table["part_of_total_ar"]]
    assert int(part["amount_cents"].sum()) == cents(kpis["total_ar"]) == 600_000
    # unapplied beside it: P9 300.00 + the free credit note 50.00
    assert (
        table.loc["unapplied_credits", "amount_cents"] == cents(kpis["unapplied_credits"]) == 35_000
    )
    assert not table.loc["unapplied_credits", "part_of_total_ar"]


def test_composition_filter_and_backdating(db_url):
    _dispute_ledger(db_url)
    snap = get_snapshot(db_url)
    b = outstanding_composition(snap, D, Filters(segment="S2")).set_index("component")[
        "amount_cents"
    ]
    assert dict(b) == {
        "not_due": 0,
        "overdue": 25_000,
        "in_dispute": 95_000,
        "in_litigation": 0,
        "unapplied_credits": 35_000,
    }
    # on 2025-07-05 D7 is open (A7 in dispute) while the D9 dispute still runs until 10 July
    later = outstanding_composition(snap, dt.date(2025, 7, 5)).set_index("component")[
        "amount_cents"
    ]
    # A2 now overdue
    assert later["in_dispute"] == 165_000 + 25_000 and later["overdue"] == 95_000 - 25_000 + 200_000


def test_dispute_cycle_time(db_url):
    _dispute_ledger(db_url)
    result = dispute_cycle_time(get_snapshot(db_url), D)
    by_month = result["by_month"].set_index("month")
    assert list(by_month.index) == [f"2024-{m:02d}" for m in range(7, 13)] + [
        f"2025-{m:02d}" for m in range(1, 7)
    ]
    # January: E1 30 days (1 -> 31 Jan), E2 10 days: mean 20, median 20; June: D6 5 May -> 10 June = 36.
    # E3 was resolved in June 2024 (outside the 12 months); E4 has no resolution date; D9 resolves after D.
    assert (
        by_month.loc["2025-01", "resolved"],
        by_month.loc["2025-01", "mean_days"],
        by_month.loc["2025-01", "median_days"],
    ) == (2, 20.0, 20.0)
    assert (by_month.loc["2025-06", "resolved"], by_month.loc["2025-06", "mean_days"]) == (1, 36.0)
    assert by_month["resolved"].sum() == 3 and np.isnan(by_month.loc["2025-03", "mean_days"])
    assert result["summary"]["mean_cycle_days"] == 25.33  # (30 + 10 + 36) / 3
    assert result["summary"]["median_cycle_days"] == 30.0
    # open at D, oldest first: D9 (10 May: 51 days), D4 (1 June: 29), D5 litigation (15 June: 15)
    open_ = result["open"]
    assert list(open_["dispute_id"]) == ["D9", "D4", "D5"]
    assert list(open_["age_days"]) == [51, 29, 15]
    assert list(open_["status"]) == ["open", "open", "litigation"]
    assert result["summary"]["open"] == 3 and result["summary"]["mean_open_age_days"] == 31.67
    assert result["summary"]["open_amount_cents"] == 190_000


# ---------------------------------------------------------------- promise adherence


def test_promise_adherence(db_url):
    add_ledger(
        db_url,
        customers=[{"customer_id": "C"}],
        invoices=[
            _inv("Q1", "C", "2025-04-30", "1000.00"),
            _inv("Q2", "C", "2025-04-30", "500.00"),
            _inv("Q3", "C", "2025-05-31", "800.00"),
            _inv("Q4", "C", "2025-06-15", "300.00"),
            _inv("Q5", "C", "2025-05-31", "200.00"),
            _inv("Q6", "C", "2025-06-15", "100.00"),
        ],
        payments=[
            {"payment_id": "P1", "customer_id": "C", "date": "2025-05-14", "amount": "1000.00"},
            {"payment_id": "P2", "customer_id": "C", "date": "2025-05-25", "amount": "500.00"},
            {"payment_id": "P3", "customer_id": "C", "date": "2025-06-09", "amount": "400.00"},
        ],
        allocations=[
            {"payment_id": "P1", "invoice_id": "Q1", "amount": "1000.00"},
            {"payment_id": "P2", "invoice_id": "Q2", "amount": "500.00"},
            {"payment_id": "P3", "invoice_id": "Q3", "amount": "400.00"},
        ],
        write_offs=[{"invoice_id": "Q5", "date": "2025-06-14", "amount": "200.00"}],
        promises=[
            {
                "promise_id": "PR1",
                "invoice_id": "Q1",
                "made_on": "2025-05-01",
                "promised_date": "2025-05-15",
                "amount": "1000.00",
            },
            {
                "promise_id": "PR2",
                "invoice_id": "Q2",
                "made_on": "2025-05-10",
                "promised_date": "2025-05-20",
                "amount": "500.00",
            },
            {
                "promise_id": "PR3",
                "invoice_id": "Q3",
                "made_on": "2025-06-01",
                "promised_date": "2025-06-10",
                "amount": "800.00",
            },
            {
                "promise_id": "PR4",
                "invoice_id": "Q4",
                "made_on": "2025-06-20",
                "promised_date": "2025-07-05",
                "amount": "300.00",
            },
            {
                "promise_id": "PR5",
                "invoice_id": "Q5",
                "made_on": "2025-06-01",
                "promised_date": "2025-06-15",
                "amount": "200.00",
            },
            {
                "promise_id": "PR6",
                "invoice_id": "Q4",
                "made_on": "2025-07-01",
                "promised_date": "2025-07-10",
                "amount": "300.00",
            },
            {
                "promise_id": "PR7",
                "invoice_id": "Q6",
                "made_on": "2025-06-25",
                "promised_date": "2025-06-30",
                "amount": "100.00",
            },
        ],
    )
    result = promise_adherence(get_snapshot(db_url), D)
    by_month = result["by_month"].set_index("month")
    # May: PR1 kept (paid in full 14 May, promised 15 May); PR2 broken (paid 25 May, promised 20 May).
    may = by_month.loc["2025-05"]
    assert (may["promises"], may["kept"], may["broken"], may["pending"], may["kept_pct"]) == (
        2,
        1,
        1,
        0,
        50.0,
    )
    assert (may["kept_amount_cents"], may["broken_amount_cents"]) == (100_000, 50_000)
    # June: PR3 broken (only 400 of 800 paid); PR5 broken (written off, not paid); PR7 promised for D
    # itself, unpaid: still pending. PR4 (5 July) is pending outside the months; PR6 is made after D.
    june = by_month.loc["2025-06"]
    assert (june["promises"], june["kept"], june["broken"], june["pending"], june["kept_pct"]) == (
        3,
        0,
        2,
        1,
        0.0,
    )
    assert by_month.loc["2025-04", "promises"] == 0 and np.isnan(
        by_month.loc["2025-04", "kept_pct"]
    )
    broken = result["broken"]
    assert list(broken["promise_id"]) == ["PR5", "PR3", "PR2"]  # most recently broken first
    assert list(broken["invoice_balance_cents"]) == [0, 40_000, 0]
    assert list(broken["days_since_promised"]) == [15, 20, 41]
    assert result["summary"] == {
        "kept": 1,
        "broken": 3,
        "kept_pct": 25.0,
        "pending": 2,
        "pending_amount_cents": 40_000,
    }


# ---------------------------------------------------------------- coverage and latency


def test_coverage_and_latency(db_url):
    add_ledger(
        db_url,
        customers=[
            {"customer_id": "K1", "segment": "S1"},
            {"customer_id": "K2", "segment": "S1"},
            {"customer_id": "K3", "segment": "S2"},
        ],
        invoices=[
            _inv("K1a", "K1", "2025-06-01", "1000.00"),
            # overdue before the 90 days
            _inv("K1old", "K1", "2025-03-01", "10.00", issue="2025-02-01"),
            _inv("K2a", "K2", "2025-06-10", "500.00"),
            _inv("K2b", "K2", "2025-06-20", "300.00"),  # paid 25 June, late
            _inv("K3a", "K3", "2025-05-15", "2000.00"),
            _inv("K3b", "K3", "2025-06-05", "90.00"),  # paid on its due date: never overdue
        ],
        payments=[
            {"payment_id": "P2", "customer_id": "K2", "date": "2025-06-25", "amount": "300.00"},
            {"payment_id": "P3", "customer_id": "K3", "date": "2025-06-05", "amount": "90.00"},
            {"payment_id": "P1", "customer_id": "K1", "date": "2025-05-01", "amount": "10.00"},
        ],
        allocations=[
            {"payment_id": "P2", "invoice_id": "K2b", "amount": "300.00"},
            {"payment_id": "P3", "invoice_id": "K3b", "amount": "90.00"},
            {"payment_id": "P1", "invoice_id": "K1old", "amount": "10.00"},
        ],
        activities=[
            # D - 13: inside 14 days
            {"activity_id": "a1", "customer_id": "K1", "date": "2025-06-17"},
            {"activity_id": "a2", "customer_id": "K2", "date": "2025-06-16"},  # D - 14: outside
            {"activity_id": "a3", "customer_id": "K3", "date": "2025-06-30"},  # on D
            {"activity_id": "a4", "customer_id": "K3", "date": "2025-07-01"},  # after D
        ],
    )
    result = collections_activity(get_snapshot(db_url), D)
    cov = result["coverage"].set_index("segment")
    # overdue at D: K1a 1,000 (K1 covered), K2a 500 (K2 not covered), K3a 2,000 (covered)
    assert (
        cov.loc["S1", "overdue_cents"],
        cov.loc["S1", "covered_cents"],
        cov.loc["S1", "coverage_pct"],
    ) == (150_000, 100_000, 66.67)
    assert (
        cov.loc["S2", "overdue_cents"],
        cov.loc["S2", "covered_cents"],
        cov.loc["S2", "coverage_pct"],
    ) == (200_000, 200_000, 100.0)
    assert (
        cov.loc["All", "overdue_cents"],
        cov.loc["All", "covered_cents"],
        cov.loc["All", "coverage_pct"],
    ) == (350_000, 300_000, 85.71)
    assert (cov.loc["All", "overdue_customers"], cov.loc["All", "covered_customers"]) == (3, 2)
    assert list(result["coverage"]["segment"]) == ["S1", "S2", "All"]
    lat = result["latency"].set_index("segment")
    # became overdue with due dates in [2025-04-01, 2025-06-29] and open at the end of the due date:
    # K1a due 1 Jun -> first activity 17 Jun: 16 days; K2a due 10 Jun -> 16 Jun: 6 days;
    # K2b due 20 Jun (paid 25 Jun) -> no activity since: never contacted; K3a due 15 May -> 30 Jun: 46.
    assert (
        lat.loc["S1", "became_overdue"],
        lat.loc["S1", "contacted"],
        lat.loc["S1", "uncontacted"],
    ) == (3, 2, 1)
    assert (lat.loc["S1", "mean_days"], lat.loc["S1", "median_days"]) == (11.0, 11.0)
    assert (lat.loc["S2", "mean_days"], lat.loc["S2", "median_days"]) == (46.0, 46.0)
    assert (
        lat.loc["All", "became_overdue"],
        lat.loc["All", "mean_days"],
        lat.loc["All", "median_days"],
    ) == (4, 22.67, 16.0)
    assert list(result["uncontacted"]["invoice_id"]) == ["K2b"]
    assert (
        result["uncontacted"].loc[0, "balance_cents"] == 0
        and result["uncontacted"].loc[0, "days_since_due"] == 10
    )
    assert sorted(result["contacted"]["latency_days"]) == [6, 16, 46]


# ---------------------------------------------------------------- invoice workspace


def test_risk_score_and_next_action_rules():
    # 50 x 60/120 = 25 + 15 x 2,000/10,000 = 3 -> 28
    assert (
        risk_score(
            np.array([60]), np.array([0]), np.array([False]), np.array([False]), np.array([200_000])
        )[0]
        == 28
    )
    # every factor at its maximum is capped at 100
    assert (
        risk_score(
            np.array([500]), np.array([2]), np.array([True]), np.array([True]), np.array([10**9])
        )[0]
        == 100
    )
    cases = [
        (100, 2, True, "broken", ACTIONS[0]),  # litigation first
        (100, 1, True, "broken", ACTIONS[1]),  # then dispute
        (100, 0, True, "broken", ACTIONS[2]),  # broken promise
        (100, 0, True, "pending", ACTIONS[3]),
        (91, 0, True, "", ACTIONS[4]),
        (61, 0, True, "", ACTIONS[5]),
        (31, 0, True, "", ACTIONS[6]),
        (30, 0, True, "", ACTIONS[7]),  # over limit
        (30, 0, False, "", ACTIONS[8]),
        (0, 0, False, "", ACTIONS[9]),
    ]
    for dpd, dispute, over, promise, action in cases:
        assert (
            next_action(
                np.array([dpd]),
                np.array([dispute]),
                np.array([over]),
                np.array([promise], dtype=object),
            )[0]
            == action
        )


def _workspace_ledger(url: str) -> None:
    add_ledger(
        url,
        sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}],
        customers=[
            {"customer_id": "W1", "credit_limit": "1000.00", "sales_rep_id": "R1"},
            {"customer_id": "W2"},  # no limit, no owner
            {"customer_id": "W3", "credit_limit": "10000.00", "sales_rep_id": "R2"},
        ],
        invoices=[
            _inv("T1", "W1", "2025-06-20", "600.00"),
            _inv("T2", "W1", "2025-07-20", "600.00"),
            _inv("T3", "W2", "2025-05-01", "2000.00"),
            _inv("T4", "W2", "2025-05-31", "500.00"),
            _inv("T5", "W3", "2025-07-05", "300.00"),
            _inv("T6", "W3", "2025-07-03", "400.00"),
            _inv("T7", "W3", "2025-06-20", "1000.00"),
            _inv("T8", "W3", "2025-01-01", "100.00", issue="2024-12-01"),
            _inv("T9", "W2", "2025-04-15", "250.00"),
        ],
        payments=[
            {"payment_id": "P7", "customer_id": "W3", "date": "2025-06-25", "amount": "1000.00"},
            {"payment_id": "P8", "customer_id": "W3", "date": "2025-03-01", "amount": "100.00"},
        ],
        allocations=[
            {"payment_id": "P7", "invoice_id": "T7", "amount": "1000.00"},
            {"payment_id": "P8", "invoice_id": "T8", "amount": "100.00"},
        ],
        disputes=[
            {"dispute_id": "D5", "invoice_id": "T5", "opened_on": "2025-06-10", "amount": "300.00"}
        ],
        promises=[
            {
                "promise_id": "PR9",
                "invoice_id": "T9",
                "made_on": "2025-05-20",
                "promised_date": "2025-06-01",
                "amount": "250.00",
            }
        ],
    )


def test_workspace_tabs_scores_and_actions(db_url):
    _workspace_ledger(db_url)
    snap = get_snapshot(db_url)
    hot = invoice_workspace(snap, D)
    # W1 owes 1,200 of a 1,000 limit: T1 and T2 are hot; T3 is 60 days past due; T5 is in dispute;
    # T9 76 days past due with a broken promise. Scores:
    #   T9: 50 x 76/120 = 31.67 + 10 broken + 15 x 250/10,000 = 0.375 -> 42.04 -> 42
    #   T3: 25 + 3 -> 28;  T1: 50 x 10/120 = 4.17 + 15 over limit + 0.9 -> 20.07 -> 20
    #   T5: 20 dispute + 0.45 -> 20 (smaller balance than T1);  T2: 15 + 0.9 -> 16
    assert list(hot["invoice_id"]) == ["T9", "T3", "T1", "T5", "T2"]
    assert list(hot["risk_score"]) == [42, 28, 20, 20, 16]
    assert list(hot["next_action"]) == [ACTIONS[2], ACTIONS[6], ACTIONS[7], ACTIONS[1], ACTIONS[7]]
    assert list(hot["status"]) == ["overdue", "overdue", "overdue", "disputed", "open"]
    current = invoice_workspace(snap, D, tab="current")
    # T4 is exactly 30 days past due (not hot); T6 is due in 3 days; earliest due first
    assert list(current["invoice_id"]) == ["T4", "T6"]
    assert list(current["next_action"]) == [ACTIONS[8], ACTIONS[9]]
    paid = invoice_workspace(snap, D, tab="paid")
    # T7 settled 25 June (5 days late); T8 settled 1 March, before (D - 90, D]
    assert list(paid["invoice_id"]) == ["T7"]
    assert (paid.loc[0, "settled_on"], paid.loc[0, "settled_by"], paid.loc[0, "days_past_due"]) == (
        dt.date(2025, 6, 25),
        "payment",
        5,
    )
    assert len(invoice_workspace(snap, D, tab="all")) == 8


def test_workspace_filters_and_pulse(db_url):
    _workspace_ledger(db_url)
    snap = get_snapshot(db_url)
    assert set(invoice_workspace(snap, D, tab="all", status="overdue")["invoice_id"]) == {
        "T1",
        "T3",
        "T4",
        "T9",
    }
    assert set(
        invoice_workspace(snap, D, tab="all", status=["disputed", "paid"])["invoice_id"]
    ) == {"T5", "T7"}
    assert list(invoice_workspace(snap, D, owner="R1")["invoice_id"]) == ["T1", "T2"]
    assert list(invoice_workspace(snap, D, tab="current", owner="(none)")["invoice_id"]) == ["T4"]
    assert list(invoice_workspace(snap, D, dpd_min=25, dpd_max=65)["invoice_id"]) == ["T3"]
    with pytest.raises(ValueError):
        invoice_workspace(snap, D, status="late")
    pulse = workspace_pulse(snap, D)
    # open: 600 + 600 + 2,000 + 500 + 300 + 400 + 250 = 4,650; hot: T1 T2 T3 T5 T9 = 3,750;
    # due in [D, D + 7]: T6 (3 Jul) 400 + T5 (5 Jul) 300 = 700; W2 (no owner) owes 2,750:
    # owned 1,900 / 4,650 = 40.86 %
    assert pulse["open_exposure_cents"] == 465_000 == cents(compute_kpis(snap, D)["total_ar"])
    assert pulse["hotlist_exposure_cents"] == 375_000 and pulse["hotlist_invoices"] == 5
    assert pulse["due_next_7_days_cents"] == 70_000
    assert pulse["owner_coverage_pct"] == 40.86
    rep = workspace_pulse(snap, D, scope=Scope(sales_rep_ids=frozenset({"R1"})))
    assert rep["open_exposure_cents"] == 120_000 and rep["owner_coverage_pct"] == 100.0


# ---------------------------------------------------------------- every analytics function on an empty ledger


def test_every_analytics_function_handles_an_empty_ledger(db_url):
    from dashboard.metrics import credit, forecast, reliability, value

    add_ledger(db_url, customers=[{"customer_id": "A"}])
    snap = get_snapshot(db_url)
    for frame in (
        credit.credit_utilization(snap, D),
        reliability.payment_reliability(snap, D),
        value.customer_value(snap, D),
        forecast.forecast_invoices(snap, D),
        invoice_workspace(snap, D, tab="all"),
    ):
        assert len(frame) == 0
    assert int(forecast.behaviour_forecast(snap, D)["expected_cents"].sum()) == 0
    assert int(forecast.due_date_forecast(snap, D)["amount_cents"].sum()) == 0
    assert forecast.forecast_backtest(snap, [D], as_of=D)["overall"]["wape_behaviour"] is None
    assert int(outstanding_composition(snap, D)["amount_cents"].sum()) == 0
    assert dispute_cycle_time(snap, D)["summary"]["resolved"] == 0
    assert promise_adherence(snap, D)["summary"]["kept_pct"] is None
    coverage = collections_activity(snap, D)["coverage"]  # A has no segment: "(none)", then "All"
    assert coverage["segment"].tolist() == ["(none)", "All"] and coverage[
        "overdue_cents"
    ].tolist() == [0, 0]
    assert workspace_pulse(snap, D)["owner_coverage_pct"] is None
