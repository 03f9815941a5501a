"""Reliability, payment delay, promises, outstanding composition and the days-to-pay drill with two
currencies, worked by hand, through the real import on SQLite and PostgreSQL.

Base USD; EUR at 1.10 from 2025-01-01 and 1.20 from 2025-06-01. D = 2025-06-30 (rate 1.20).
    CU (USD): U1 issued 03-01 due 03-31 100.00, paid by PU1 on 03-31 (on time); PU2 5.00 unapplied
              on 06-20. Promise PRU (made 03-10) of 100.00 for 03-31: kept.
    CE (EUR): E1 issued 03-01 due 03-31 100.00 EUR; PE1 50.05 on 04-15 (15 days late) -> 55.055 =
              55.06 USD; 49.95 EUR still open and overdue at D -> 59.94 USD.
              E2 issued 06-10 due 07-10 200.00 EUR (not due: not assessed) -> 240.00 USD booked.
              E3 issued 02-01 due 03-03 10.00 EUR, paid by PE3 on 03-13 (10 days late) -> 11.00 USD.
              PE2 10.01 EUR unapplied on 06-20 -> 12.012 = 12.01 USD at D (and at its date).
              Promise PRE (made 05-01) of 49.95 EUR for 05-15 on E1: broken -> 54.945 = 54.95 USD.
              Dispute DS1 on E1 of 49.95 EUR, open since 05-20 -> 59.94 USD at D. (DS2 on U1 of
              1.00 USD, open since 03-05.)

Reliability of CE in USD: credit 55.06 x 75/90 + 11.00 x 80/90 = 55.6611; assessed 55.06 + 11.00
+ 59.94 = 126.00; score 44.1755 -> 44.18 (in EUR units it would be 46.00). CU scores 100.00 on 100.00.
Portfolio (weighted by assessed USD): (100 x 100.00 + 44.18 x 126.00) / 226.00 = 68.879 -> 68.88.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.data.importer import run_import
from dashboard.metrics.behaviour import payment_delay
from dashboard.metrics.collections import (
    dispute_cycle_time,
    outstanding_composition,
    promise_adherence,
)
from dashboard.metrics.reliability import payment_reliability, reliability_summary
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot, to_day
from dashboard.metrics.tables import settled_invoices

D = dt.date(2025, 6, 30)

FILES = {
    "fx_rates": "date,currency,rate\n2025-01-01,EUR,1.10\n2025-06-01,EUR,1.20\n",
    "customers": "customer_id,name,currency\nCU,Dollar Co,USD\nCE,Euro GmbH,EUR\n",
    "invoices": (
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        "U1,CU,2025-03-01,2025-03-31,100.00\nE1,CE,2025-03-01,2025-03-31,100.00\n"
        "E2,CE,2025-06-10,2025-07-10,200.00\nE3,CE,2025-02-01,2025-03-03,10.00\n"
    ),
    "payments": (
        "payment_id,customer_id,date,amount,invoice_id\nPU1,CU,2025-03-31,100.00,U1\n"
        "PU2,CU,2025-06-20,5.00,\nPE1,CE,2025-04-15,50.05,E1\nPE2,CE,2025-06-20,10.01,\n"
        "PE3,CE,2025-03-13,10.00,E3\n"
    ),
    "promises": (
        "promise_id,invoice_id,made_on,promised_date,amount\nPRU,U1,2025-03-10,2025-03-31,100.00\n"
        "PRE,E1,2025-05-01,2025-05-15,49.95\n"
    ),
    "disputes": "dispute_id,invoice_id,opened_on,amount\nDS1,E1,2025-05-20,49.95\nDS2,U1,2025-03-05,1.00\n",
}


@pytest.fixture
def snap(db_url, tmp_path):
    clear_snapshots()
    directory = tmp_path / "in"
    directory.mkdir()
    for stem, text in FILES.items():
        (directory / f"{stem}.csv").write_text(text)
    run_import(directory, url=db_url, progress=False)
    yield get_snapshot(db_url)
    clear_snapshots()


def test_reliability_in_base(snap):
    table = payment_reliability(snap, D).set_index("customer_id")
    assert table.loc["CE", "reliability_score"] == 44.18
    assert table.loc["CU", "reliability_score"] == 100.0
    assert table.loc["CE", "assessed_6m_cents"] == 12600
    assert table.loc["CE", "total_invoiced_6m_cents"] == 11000 + 24000 + 1100
    assert table.loc["CE", "total_paid_6m_cents"] == 5506 + 1100 + 1201
    assert table.loc["CE", "outstanding_6m_cents"] == 5994 + 24000
    assert table.loc["CU", "total_paid_6m_cents"] == 10500
    assert reliability_summary(snap, D)["portfolio_score"] == 68.88


def test_payment_delay_weighted_in_base(snap):
    delay = payment_delay(snap, _everyone(snap), to_day(D))
    ce, cu = snap.cust_index["CE"], snap.cust_index["CU"]
    assert delay["customer"][ce] == pytest.approx(10.0)
    assert delay["customer"][cu] == pytest.approx(0.0)
    # U1 100.00 USD on time, E3 10.00 EUR = 11.00 USD 10 days late: 110 / 111 (in own units 100 / 110)
    assert float(delay["portfolio"]) == pytest.approx(110 / 111)
    assert delay["customer_weight"][ce] == pytest.approx(1100)


def _everyone(snap):
    import numpy as np

    return np.ones(snap.n_customers, dtype=bool)


def test_promises_in_base_at_the_date_made(snap):
    result = promise_adherence(snap, D)
    months = result["by_month"].set_index("month")
    assert months.loc["2025-03", "kept_amount_cents"] == 10000
    assert months.loc["2025-05", "broken_amount_cents"] == 5495  # 49.95 EUR x 1.10 = 54.945
    broken = result["broken"].iloc[0]
    assert (broken["promise_id"], broken["currency"], broken["amount_in_currency"]) == (
        "PRE",
        "EUR",
        "49.95",
    )
    # balance at D's rate
    assert (broken["amount_cents"], broken["invoice_balance_cents"]) == (5495, 5994)


def test_outstanding_composition_counts_every_unapplied_credit_in_base(snap):
    parts = outstanding_composition(snap, D).set_index("component")["amount_cents"]
    assert int(parts.drop("unapplied_credits").sum()) == 5994 + 24000
    assert parts["unapplied_credits"] == 500 + 1201  # 5.00 USD + 10.01 EUR x 1.20


def test_days_to_pay_drill_in_base_with_the_currency(snap):
    rows = settled_invoices(snap, D, 180).set_index("invoice_id")
    assert (
        rows.loc["E3", "amount_cents"] == 1100 and rows.loc["E3", "amount_in_currency"] == "10.00"
    )
    assert rows.loc["U1", "amount_cents"] == 10000 and rows.loc["U1", "currency"] == "USD"


def test_open_disputes_in_base_at_d(snap):
    result = dispute_cycle_time(snap, D)
    rows = result["open"].set_index("dispute_id")
    assert (rows.loc["DS1", "amount_cents"], rows.loc["DS1", "amount_in_currency"]) == (
        5994,
        "49.95",
    )
    assert rows.loc["DS1", "invoice_balance_cents"] == 5994
    assert result["summary"]["open_amount_cents"] == 5994 + 100  # not 49.95 + 1.00 read as one unit


def test_cohorts_at_booking_rates(snap):
    """Cohorts convert each invoice and what it collected at the invoice's issue-date rate.

    2025-02: E3 10.00 EUR x 1.10 = 11.00, collected in month 1 (PE3, 03-13).
    2025-03: U1 100.00 + E1 100.00 EUR x 1.10 = 210.00; PU1 100.00 in month 0, PE1 50.05 EUR x 1.10
    = 55.055 -> 55.06 in month 1 (155.06 by then); 90 days after due (06-29) E1 still owed
    49.95 EUR x 1.10 = 54.945 -> 54.95 of the 210.00 matured.
    2025-06: E2 200.00 EUR x 1.20 (issued 06-10) = 240.00, nothing collected.
    """
    from dashboard.metrics import predict_views as pv

    coh = pv.cohorts(snap, D, months=12)
    curve = coh["curve"].set_index(["cohort", "months_since"])
    assert curve.loc[("2025-02", 1), "collected_cents"] == 1100
    assert curve.loc[("2025-02", 1), "invoiced_cents"] == 1100
    assert curve.loc[("2025-03", 0), "collected_cents"] == 10000
    assert curve.loc[("2025-03", 1), "collected_cents"] == 15506
    assert curve.loc[("2025-03", 1), "invoiced_cents"] == 21000
    summary = coh["summary"].set_index("cohort")
    assert summary.loc["2025-06", "invoiced_cents"] == 24000
    assert summary.loc["2025-03", "matured_cents"] == 21000
    assert summary.loc["2025-03", "unpaid_90_cents"] == 5495
    cell = pv.cohort_cell(snap, D, None, None, "2025-03", 1)
    assert cell["amount_cents"].sum() == 15506
    assert cell["invoice_amount_cents"].sum() == 21000
