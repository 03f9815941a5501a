"""Customer value: revenue, gross profit, margin, tiers, tier validation and tier storage."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.data.schema import data_version
from dashboard.data.tiers import DEFAULT_TIERS, load_tiers, save_tiers, validate_tiers
from dashboard.metrics.filters import Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from dashboard.metrics.value import assign_tiers, customer_value, tier_summary
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)  # 12 months: issued in (2024-06-30, 2025-06-30]


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


# ---------------------------------------------------------------- tiers


@pytest.mark.parametrize(
    ("revenue", "tier"),
    [
        (-500, "Standard"),  # net credit: no tier
        (0, "Standard"),  # no revenue: Standard although Bronze starts at 0.00
        (1, "Bronze"),
        (999_999, "Bronze"),  # 9,999.99
        (1_000_000, "Silver"),  # 10,000.00
        (4_999_999, "Silver"),
        (5_000_000, "Gold"),
        (24_999_999, "Gold"),
        (25_000_000, "Platinum"),
        (10**12, "Platinum"),
    ],
)
def test_default_tier_boundaries(revenue, tier):
    assert assign_tiers(np.array([revenue]))[0] == tier


def test_revenue_in_a_gap_is_standard():
    tiers = [("Bronze", 0, 49_999), ("Silver", 100_000, None)]
    assert list(assign_tiers(np.array([49_999, 50_000, 99_999, 100_000]), tiers)) == [
        "Bronze",
        "Standard",
        "Standard",
        "Silver",
    ]


def test_default_tiers_are_valid():
    assert validate_tiers(DEFAULT_TIERS) == []
    # the seed's good example: Bronze 0-499.99 and Silver 500-999.99 (plus an open top tier)
    assert (
        validate_tiers([("Bronze", 0, 49_999), ("Silver", 50_000, 99_999), ("Gold", 100_000, None)])
        == []
    )


def test_overlap_at_one_amount_is_reported():
    # the seed's bad example: Bronze 0-500 and Silver 500-1000 overlap at 500
    errors = validate_tiers(
        [("Bronze", 0, 50_000), ("Silver", 50_000, 100_000), ("Gold", 100_001, None)]
    )
    assert errors == ["tiers Bronze (0.00-500.00) and Silver (500.00-1000.00) overlap at 500.00"]


def test_overlapping_ranges_and_two_open_tiers():
    errors = validate_tiers(
        [("Bronze", 0, 70_000), ("Silver", 50_000, None), ("Gold", 60_000, None)]
    )
    assert len(errors) == 3
    assert "tiers Bronze (0.00-700.00) and Silver (500.00+) overlap from 500.00 to 700.00" in errors
    assert "tiers Silver (500.00+) and Gold (600.00+) overlap from 600.00" in errors


def test_gap_between_tiers():
    assert validate_tiers([("Bronze", 0, 49_999), ("Silver", 60_000, None)]) == [
        "gap between Bronze and Silver: revenue 500.00-599.99 would be Standard"
    ]
    # continuous by one cent is not a gap
    assert validate_tiers([("Bronze", 0, 49_999), ("Silver", 50_000, None)]) == []


def test_gaps_below_and_above():
    errors = validate_tiers([("Silver", 100_000, 199_999)])
    assert errors == [
        "gap below Silver: revenue 0.01-999.99 would be Standard",
        "gap above Silver: revenue from 2000.00 would be Standard (leave the highest maximum empty)",
    ]
    assert validate_tiers([("Only", 1, None)]) == []  # starting at 0.01 is continuous from 0.00


def test_min_above_max_duplicates_and_names():
    assert "tier Gold: minimum 1000.00 is above maximum 999.99" in validate_tiers(
        [("Bronze", 0, 99_999), ("Gold", 100_000, 99_999), ("Top", 100_000, None)]
    )
    errors = validate_tiers([("Bronze", 0, 99_999), (" bronze ", 100_000, None)])
    assert errors == ["duplicate tier name 'bronze'"]
    assert validate_tiers([("Standard", 0, None)]) == [
        "tier 'Standard': 'Standard' is reserved for customers in no tier"
    ]
    assert validate_tiers([("", 0, None)]) == ["tier 1: a name is required"]
    assert validate_tiers([]) == ["at least one tier is required"]
    assert validate_tiers([("Bronze", 0.5, None)]) == [
        "tier Bronze: bounds must be whole cents (max may be empty)"
    ]
    assert validate_tiers([("Bronze", -100, None)]) == ["tier Bronze: minimum -1.00 is below 0.00"]


# ---------------------------------------------------------------- the table on both databases


def _ledger(url: str) -> None:
    add_ledger(
        url,
        sales_reps=[{"sales_rep_id": "R1"}],
        customers=[
            {"customer_id": "V1", "sales_rep_id": "R1"},
            {"customer_id": "V2"},
            {"customer_id": "V3"},
            {"customer_id": "V4"},
            {"customer_id": "V5"},  # never invoiced: not listed
        ],
        invoices=[
            {
                "invoice_id": "A",
                "customer_id": "V1",
                "issue_date": "2025-01-01",
                "due_date": "2025-01-31",
                "amount": "9999.99",
                "cost": "6000.00",
            },
            # after D
            {
                "invoice_id": "A-late",
                "customer_id": "V1",
                "issue_date": "2025-07-01",
                "amount": "50000.00",
                "cost": "1.00",
            },
            {
                "invoice_id": "B",
                "customer_id": "V2",
                "issue_date": "2024-07-01",
                "due_date": "2024-07-31",
                "amount": "12000.00",
                "cost": "9000.00",
            },
            {
                "invoice_id": "B-CN",
                "customer_id": "V2",
                "issue_date": "2025-02-01",
                "amount": "-2000.00",
                "applies_to": "B",
            },
            # D-365: out
            {
                "invoice_id": "B-old",
                "customer_id": "V2",
                "issue_date": "2024-06-30",
                "amount": "5000.00",
                "cost": "1000.00",
            },
            {
                "invoice_id": "C",
                "customer_id": "V3",
                "issue_date": "2024-05-01",
                "amount": "3000.00",
                "cost": "100.00",
            },
            {
                "invoice_id": "E",
                "customer_id": "V4",
                "issue_date": "2025-06-01",
                "due_date": "2025-07-01",
                "amount": "300000.00",
            },
        ],
        payments=[
            {"payment_id": "PA", "customer_id": "V1", "date": "2025-01-31", "amount": "9999.99"}
        ],
        allocations=[{"payment_id": "PA", "invoice_id": "A", "amount": "9999.99"}],
    )


def test_customer_value_by_hand(db_url):
    _ledger(db_url)
    table = customer_value(get_snapshot(db_url), D)
    assert list(table["customer_id"]) == ["V4", "V2", "V1", "V3"]  # by revenue, largest first
    t = table.set_index("customer_id")
    # V1: 9,999.99 revenue (the 1 July invoice is after D), cost 6,000.00 -> GP 3,999.99,
    # margin 3,999.99 / 9,999.99 = 39.99996 % -> 40.00; Bronze; paid 1 -> 31 Jan = 30 days
    v1 = t.loc["V1"]
    assert (v1["revenue_12m_cents"], v1["gross_profit_cents"], v1["margin_pct"]) == (
        999_999,
        399_999,
        40.0,
    )
    assert v1["value_tier"] == "Bronze" and v1["avg_payment_days"] == 30.0
    # V2: 12,000.00 (1 July 2024, inside) - 2,000.00 credit note = 10,000.00 -> Silver; the 30 June 2024
    # invoice is exactly 365 days old: outside. GP where cost is known: 12,000 - 9,000 = 3,000 over
    # costed revenue 12,000 -> 25.00 %
    v2 = t.loc["V2"]
    assert (v2["revenue_12m_cents"], v2["costed_revenue_12m_cents"]) == (1_000_000, 1_200_000)
    assert (v2["gross_profit_cents"], v2["margin_pct"], v2["value_tier"]) == (
        300_000,
        25.0,
        "Silver",
    )
    assert np.isnan(v2["avg_payment_days"])
    # V3: only an invoice older than 12 months: 0 revenue -> Standard, no cost in the window
    v3 = t.loc["V3"]
    assert v3["revenue_12m_cents"] == 0 and v3["value_tier"] == "Standard"
    assert v3["gross_profit_cents"] is pd.NA and np.isnan(v3["margin_pct"])
    # V4: 300,000.00 with no cost -> Platinum, no gross profit
    v4 = t.loc["V4"]
    assert v4["value_tier"] == "Platinum" and v4["gross_profit_cents"] is pd.NA
    # shares of 319,999.99: V4 93.750002.. -> 93.75; V2 3.1250000.. -> 3.13; V1 3.1249997.. -> 3.12; V3 0
    assert list(table["share_of_turnover_pct"]) == [93.75, 3.13, 3.12, 0.0]


def test_custom_tiers_and_scope(db_url):
    _ledger(db_url)
    snap = get_snapshot(db_url)
    tiers = [("Small", 0, 999_999), ("Big", 1_000_000, None)]
    t = customer_value(snap, D, tiers=tiers).set_index("customer_id")["value_tier"]
    assert dict(t) == {"V4": "Big", "V2": "Big", "V1": "Small", "V3": "Standard"}
    scoped = customer_value(snap, D, scope=Scope(sales_rep_ids=frozenset({"R1"})))
    assert list(scoped["customer_id"]) == ["V1"] and list(scoped["share_of_turnover_pct"]) == [
        100.0
    ]
    summary = tier_summary(snap, D).set_index("value_tier")
    assert list(summary.index) == ["Bronze", "Silver", "Gold", "Platinum", "Standard"]
    assert list(summary["customers"]) == [1, 1, 0, 1, 1]
    assert summary.loc["Platinum", "revenue_12m_cents"] == 30_000_000


def test_tiers_storage_validates_and_bumps_the_version(db_url):
    assert load_tiers(db_url) == list(DEFAULT_TIERS)  # nothing stored yet
    before = data_version(db_url)
    saved = save_tiers([("Gold", 100_000, None), ("Silver", 0, 99_999)], db_url)
    assert saved == [("Silver", 0, 99_999), ("Gold", 100_000, None)]
    assert load_tiers(db_url) == [("Silver", 0, 99_999), ("Gold", 100_000, None)]
    assert data_version(db_url) == before + 1
    with pytest.raises(ValueError, match="overlap at 500.00") as err:
        save_tiers(
            [("Bronze", 0, 50_000), ("Silver", 50_000, None), ("Silver", 60_000, None)], db_url
        )
    assert "duplicate tier name 'Silver'" in str(err.value)
    assert load_tiers(db_url) == [("Silver", 0, 99_999), ("Gold", 100_000, None)]  # nothing saved
    assert data_version(db_url) == before + 1
