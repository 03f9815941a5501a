"""Commissions with two currencies, worked by hand, through the real import on both databases.

Base USD; EUR at 1.10 from 2025-01-01 and 1.20 from 2025-06-01. As of D = 2025-06-15, P = 90: the
period is (2025-03-17, 2025-06-15], the month 2025-06-01..15. A commission is in its customer's
currency; flows are converted at the earned date's rate, balances at the rate of their date, each
row rounded half up first.

Customers CU (USD, rep R1, East) and CE (EUR, rep R2, West). Invoices (terms 30):
    IU1 CU 2025-04-01 1000.00 USD  paid in full by PU1 on 05-10
    IE1 CE 2025-04-10 1000.00 EUR  PE1 400.00 EUR on 05-20; dispute open since 05-25
    IE2 CE 2025-06-05  500.00 EUR  unpaid
Credit sales in the period: 1000.00 + 1000 x 1.10 + 500 x 1.20 = 2700.00.

Commissions (own units -> at the earned date's rate -> at D's rate 1.20):
    KU1 R1 IU1 04-01 50.00 USD unsettled        -> 50.00 -> 50.00
    KE1 R2 IE1 04-10 10.05 EUR unsettled        -> 11.055 = 11.06 -> 12.06
    KE3 R2 IE1 04-10  0.03 EUR unsettled        -> 0.033 = 0.03 -> 0.036 = 0.04
    KE4 R2 IE1 04-10  0.03 EUR unsettled        -> 0.03 -> 0.04
    KE5 R2 IE1 05-01  2.05 EUR settled 05-15    -> 2.255 = 2.26
    KE2 R2 IE2 06-05  0.05 EUR settled 06-10    -> 0.06 (rate 1.20)
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.data.importer import run_import
from dashboard.metrics import commissions as com
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot

D = dt.date.fromisoformat
AS_OF = D("2025-06-15")

FILES = {
    "fx_rates": "date,currency,rate\n2025-01-01,EUR,1.10\n2025-06-01,EUR,1.20\n",
    "sales_reps": "sales_rep_id,name,group\nR1,Rep One,East\nR2,Rep Two,West\n",
    "customers": "customer_id,name,sales_rep_id,currency\nCU,Dollar Co,R1,USD\nCE,Euro GmbH,R2,EUR\n",
    "invoices": (
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        "IU1,CU,2025-04-01,2025-05-01,1000.00\nIE1,CE,2025-04-10,2025-05-10,1000.00\n"
        "IE2,CE,2025-06-05,2025-07-05,500.00\n"
    ),
    "payments": (
        "payment_id,customer_id,date,amount,invoice_id\nPU1,CU,2025-05-10,1000.00,IU1\n"
        "PE1,CE,2025-05-20,400.00,IE1\n"
    ),
    "disputes": "dispute_id,invoice_id,opened_on,amount\nDS1,IE1,2025-05-25,600.00\n",
    "commissions": (
        "commission_id,sales_rep_id,earned_date,amount,invoice_id,settled,settlement_date\n"
        "KU1,R1,2025-04-01,50.00,IU1,false,\nKE1,R2,2025-04-10,10.05,IE1,false,\n"
        "KE3,R2,2025-04-10,0.03,IE1,false,\nKE4,R2,2025-04-10,0.03,IE1,false,\n"
        "KE5,R2,2025-05-01,2.05,IE1,true,2025-05-15\nKE2,R2,2025-06-05,0.05,IE2,true,2025-06-10\n"
    ),
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


def test_tiles_convert_each_row_first(snap):
    t = com.tiles(snap, AS_OF, 90, Filters(), Scope.everyone())
    # accrued at D's rate: 50.00 + 12.06 + 0.04 + 0.04 (10.11 EUR at once would give 12.13)
    assert t["accrued_cents"] == 6214
    assert t["paid_mtd_cents"] == 6  # KE2 at its earned date's rate
    # earned in the period at the earned dates' rates: 50.00 + 11.06 + 0.03 + 0.03 + 2.26 + 0.06
    assert t["earned_cents"] == 6344
    assert t["sales_cents"] == 270000
    assert t["avg_rate_pct"] == 2.35  # 63.44 / 2700.00 = 2.3496 %
    assert t["at_risk_cents"] == 1214  # the disputed IE1's accrued rows at D: 12.06 + 0.04 + 0.04
    # cash basis: IU1 paid in full (50.00); IE1 40 % paid: KE1 4.02 EUR -> 4.42, KE3/KE4 0.012 -> 0.01
    # EUR -> 0.01, KE5 0.82 EUR -> 0.90
    assert t["cash_cents"] == 5000 + 442 + 1 + 1 + 90
    assert t["invoiced_cents"] == 6344


def test_drills_sum_to_tiles_and_show_the_currency(snap):
    accrued = com.drill(snap, "commissions_accrued", AS_OF)
    assert accrued.set_index("commission_id")["amount_cents"].to_dict() == {
        "KU1": 5000,
        "KE1": 1206,
        "KE3": 4,
        "KE4": 4,
    }
    assert accrued.set_index("commission_id")["currency"].to_dict() == {
        "KU1": "USD",
        "KE1": "EUR",
        "KE3": "EUR",
        "KE4": "EUR",
    }
    assert accrued.set_index("commission_id")["amount_in_currency"]["KE1"] == "10.05"
    earned = com.drill(snap, "commissions_earned", AS_OF).set_index("commission_id")["amount_cents"]
    assert earned.to_dict() == {"KU1": 5000, "KE1": 1106, "KE3": 3, "KE4": 3, "KE5": 226, "KE2": 6}
    assert int(com.drill(snap, "commissions_paid_mtd", AS_OF)["amount_cents"].sum()) == 6
    assert int(com.drill(snap, "commissions_at_risk", AS_OF)["amount_cents"].sum()) == 1214
    cash = com.drill(snap, "commissions_cash", AS_OF).set_index("commission_id")
    assert cash["amount_cents"].to_dict() == {
        "KU1": 5000,
        "KE1": 442,
        "KE3": 1,
        "KE4": 1,
        "KE5": 90,
    }
    assert cash.loc["KE1", "amount_in_currency"] == "4.02"
    assert cash.loc["KE1", "invoice_amount_cents"] == 110000  # at the issue date's rate


def test_charts_in_base(snap):
    reps = com.top_reps(snap, AS_OF).set_index("sales_rep_id")["accrued_cents"].to_dict()
    assert reps == {"R1": 5000, "R2": 1214}
    month = com.monthly(snap, AS_OF, 3).set_index("month")
    # unpaid at each month end at that day's rate: 30 April and 31 May at 1.10, 15 June at 1.20
    assert month.loc["2025-04"].tolist()[1:] == [6112, 0, 6112]
    assert month.loc["2025-05"].tolist()[1:] == [226, 226, 6112]
    assert month.loc["2025-06"].tolist()[1:] == [6, 6, 6214]  # 1.02 of revaluation in June
    groups = com.by_group(snap, AS_OF).set_index("group_name")
    assert groups["earned_cents"].to_dict() == {"East": 5000, "West": 1344}
    assert groups["share_pct"].to_dict() == {"East": 78.81, "West": 21.19}
    risk = com.at_risk_by_rep(snap, AS_OF).set_index("sales_rep_id")
    assert risk.loc["R2", ["accrued_cents", "disputed_cents", "at_risk_cents"]].tolist() == [
        1214,
        1214,
        1214,
    ]
    assert risk.loc["R2", "at_risk_pct"] == 100.0
    flows = com.cash_and_invoiced(snap, AS_OF).set_index("sales_rep_id")
    assert flows.loc["R2", ["invoiced_cents", "cash_cents"]].tolist() == [1344, 442 + 1 + 1 + 90]
    # cash collected per commission row at its earned date's rate: 4 rows x 400 EUR x 1.10
    assert flows.loc["R2", "collected_cents"] == 4 * 44000
