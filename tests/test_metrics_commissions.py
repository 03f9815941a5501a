"""Commission analytics worked by hand on a small ledger, on SQLite and PostgreSQL.

As of D = 2025-06-15, P = 90: the period is (2025-03-17, 2025-06-15], the month 2025-06-01..15.

Reps: R1, R2 (group East), R3 (group West). Customers: C1 (R1, North, Retail), C2 (R2, South,
Wholesale), C3 (R3, North, Retail). Invoices (due = issue + 30):
    I1 C1 2025-01-10 1000.00  unpaid: 126 days past due at D (90+)
    I2 C1 2025-04-01 2000.00  P1 500.00 on 05-10 (P2 1500.00 on 06-20 is after D)
    I3 C2 2025-05-05  400.00  dispute opened 05-20, still open
    I4 C3 2025-02-01  300.00  written off 05-31
    I5 C3 2025-05-10 1000.00  P3 1000.00 on 06-01
    I6 C1 2025-03-01  600.00  P4 200.00 on 03-10 (before the period), P5 400.00 on 04-10
    I7 C2 2025-06-01  100.00  disputed flag, no dispute row, unpaid
    N1 C2 2025-05-15  -50.00  credit note, no invoice
Credit sales in the period: 2000 + 400 + 1000 + 100 - 50 = 3450.00.

Commissions:
    K1  R1 I1   01-10 100.00 unsettled
    K2  R1 I2   04-01 100.00 settled 06-10
    K3  R2 I3   05-05  20.00 unsettled
    K4  R3 I4   02-01  15.00 unsettled
    K5  R3 I5   05-10  80.00 settled 06-20 (after D: still accrued at D)
    K6  R1 I6   03-01  10.01 settled 04-15
    K7  R2 -    06-01  12.34 unsettled (no invoice)
    K8  R3 -    05-01   7.00 settled, no settlement date (paid on its earned date)
    K9  R3 I1   01-10   6.00 unsettled (R3's commission on R1's customer)
    K10 R2 I7   06-01   4.00 unsettled
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dashboard.metrics import commissions as com
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date.fromisoformat
AS_OF = D("2025-06-15")
EVERYONE = Scope.everyone()
REP1 = Scope(sales_rep_ids=frozenset({"R1"}), label="sales rep R1")
REP2 = Scope(sales_rep_ids=frozenset({"R2"}), label="sales rep R2")
REP3 = Scope(sales_rep_ids=frozenset({"R3"}), label="sales rep R3")
EAST = Scope(sales_rep_ids=frozenset({"R1", "R2"}), label="sales group East")


def _inv(invoice_id, customer_id, issue, amount, **extra):
    due = (D(issue) + dt.timedelta(days=30)).isoformat()
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issue_date": issue,
        "due_date": due,
        "amount": amount,
        **extra,
    }


def _com(commission_id, rep, invoice_id, earned, amount, settled=False, settlement=None, rate=None):
    return {
        "commission_id": commission_id,
        "sales_rep_id": rep,
        "invoice_id": invoice_id,
        "earned_date": earned,
        "amount": amount,
        "settled": settled,
        "settlement_date": settlement,
        "rate": rate,
    }


LEDGER = {
    "sales_reps": [
        {"sales_rep_id": "R1", "name": "Rep One", "group": "East"},
        {"sales_rep_id": "R2", "name": "Rep Two", "group": "East", "manager_id": "R1"},
        {"sales_rep_id": "R3", "name": "Rep Three", "group": "West"},
    ],
    "customers": [
        {
            "customer_id": "C1",
            "name": "Acme",
            "sales_rep_id": "R1",
            "region": "North",
            "segment": "Retail",
        },
        {
            "customer_id": "C2",
            "name": "Beta",
            "sales_rep_id": "R2",
            "region": "South",
            "segment": "Wholesale",
        },
        {
            "customer_id": "C3",
            "name": "Gamma",
            "sales_rep_id": "R3",
            "region": "North",
            "segment": "Retail",
        },
    ],
    "invoices": [
        _inv("I1", "C1", "2025-01-10", "1000.00"),
        _inv("I2", "C1", "2025-04-01", "2000.00"),
        _inv("I3", "C2", "2025-05-05", "400.00"),
        _inv("I4", "C3", "2025-02-01", "300.00"),
        _inv("I5", "C3", "2025-05-10", "1000.00"),
        _inv("I6", "C1", "2025-03-01", "600.00"),
        _inv("I7", "C2", "2025-06-01", "100.00", disputed=True),
        _inv("N1", "C2", "2025-05-15", "-50.00"),
    ],
    "payments": [
        {"payment_id": "P1", "customer_id": "C1", "date": "2025-05-10", "amount": "500.00"},
        {"payment_id": "P2", "customer_id": "C1", "date": "2025-06-20", "amount": "1500.00"},
        {"payment_id": "P3", "customer_id": "C3", "date": "2025-06-01", "amount": "1000.00"},
        {"payment_id": "P4", "customer_id": "C1", "date": "2025-03-10", "amount": "200.00"},
        {"payment_id": "P5", "customer_id": "C1", "date": "2025-04-10", "amount": "400.00"},
    ],
    "allocations": [
        {"payment_id": "P1", "invoice_id": "I2", "amount": "500.00"},
        {"payment_id": "P2", "invoice_id": "I2", "amount": "1500.00"},
        {"payment_id": "P3", "invoice_id": "I5", "amount": "1000.00"},
        {"payment_id": "P4", "invoice_id": "I6", "amount": "200.00"},
        {"payment_id": "P5", "invoice_id": "I6", "amount": "400.00"},
    ],
    "write_offs": [{"invoice_id": "I4", "date": "2025-05-31", "amount": "300.00"}],
    "disputes": [
        {"dispute_id": "DS1", "invoice_id": "I3", "opened_on": "2025-05-20", "amount": "400.00"}
    ],
    "commissions": [
        _com("K1", "R1", "I1", "2025-01-10", "100.00", rate=0.1),
        _com("K2", "R1", "I2", "2025-04-01", "100.00", True, "2025-06-10", 0.05),
        _com("K3", "R2", "I3", "2025-05-05", "20.00", rate=0.05),
        _com("K4", "R3", "I4", "2025-02-01", "15.00", rate=0.05),
        _com("K5", "R3", "I5", "2025-05-10", "80.00", True, "2025-06-20", 0.08),
        _com("K6", "R1", "I6", "2025-03-01", "10.01", True, "2025-04-15"),
        _com("K7", "R2", None, "2025-06-01", "12.34"),
        _com("K8", "R3", None, "2025-05-01", "7.00", True, None),
        _com("K9", "R3", "I1", "2025-01-10", "6.00"),
        _com("K10", "R2", "I7", "2025-06-01", "4.00", rate=0.04),
    ],
}


@pytest.fixture
def snap(db_url):
    clear_snapshots()
    add_ledger(db_url, **LEDGER)
    yield get_snapshot(db_url)
    clear_snapshots()


def cents(text: str) -> int:
    whole, part = text.split(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(part))


def tiles(snap, as_of=AS_OF, scope=EVERYONE, **filters) -> dict:
    return com.tiles(snap, as_of, 90, Filters(**filters), scope)


# ---- tiles --------------------------------------------------------------------------------------


def test_tiles_worked_by_hand(snap):
    t = tiles(snap)
    # accrued at D: K1 100 + K3 20 + K4 15 + K5 80 (settled after D) + K7 12.34 + K9 6 + K10 4
    assert t["accrued_cents"] == cents("237.34")
    assert t["accrued_rows"] == 7 and t["accrued_reps"] == 3
    # paid 2025-06-01..15: K2 (06-10); K5 settles 06-20
    assert t["paid_mtd_cents"] == cents("100.00") and t["paid_mtd_rows"] == 1
    # earned in (03-17, 06-15]: K2 100 + K3 20 + K5 80 + K7 12.34 + K8 7 + K10 4 = 223.34
    assert t["earned_cents"] == cents("223.34")
    assert t["sales_cents"] == cents("3450.00")
    assert t["avg_rate_pct"] == 6.47  # 223.34 / 3450 x 100 = 6.4736...
    # at risk: K1 100 + K9 6 (I1 90+ overdue), K3 20 (open dispute), K10 4 (flag), K4 15 (written off)
    assert t["at_risk_cents"] == cents("145.00") and t["at_risk_rows"] == 5
    # cash: K2 100 x 500/2000 = 25.00; K5 80 x 1000/1000 = 80.00; K6 R(10.01 x 600/600) - R(10.01 x 200/600) = 10.01 - 3.34
    assert t["cash_cents"] == cents("25.00") + cents("80.00") + cents("6.67")
    # K2 100 + K3 20 + K5 80 + K10 4 (I7 issued 06-01)
    assert t["invoiced_cents"] == cents("204.00")
    assert t["collected_cents"] == cents("1900.00")  # 500 + 1000 + 400 in the period
    assert t["period_start"] == D("2025-03-18") and t["month_start"] == D("2025-06-01")


def test_tiles_backdated(snap):
    # K2 not settled yet (06-10): still accrued, nothing paid in June
    t = tiles(snap, D("2025-06-09"))
    assert t["accrued_cents"] == cents("337.34")
    assert t["paid_mtd_cents"] == 0
    early = tiles(snap, D("2025-05-19"))  # before the dispute on I3 opened, before I7 existed
    # accrued at 05-19: K1 100, K2 100, K3 20, K4 15, K5 80, K9 6 (K8 earned and paid 05-01)
    assert early["accrued_cents"] == cents("321.00")
    # at risk: K1, K9 (I1 99 days past due), K4 (written off 05-31 is after 05-19: no), K3 (dispute not open): 106.00
    assert early["at_risk_cents"] == cents("106.00")
    # K8 (no settlement date: paid on earned date 05-01)
    assert early["paid_mtd_cents"] == cents("7.00")


def test_average_rate_is_none_without_sales(snap):
    assert tiles(snap, D("2024-06-30"))["avg_rate_pct"] is None


# ---- drill-downs sum to the tiles ---------------------------------------------------------------


def test_drill_rows_sum_to_each_tile(snap):
    t = tiles(snap)
    expected = {
        "commissions_accrued": (t["accrued_cents"], {"K1", "K3", "K4", "K5", "K7", "K9", "K10"}),
        "commissions_paid_mtd": (t["paid_mtd_cents"], {"K2"}),
        "commissions_earned": (t["earned_cents"], {"K2", "K3", "K5", "K7", "K8", "K10"}),
        "commissions_at_risk": (t["at_risk_cents"], {"K1", "K3", "K4", "K9", "K10"}),
        "commissions_cash": (t["cash_cents"], {"K2", "K5", "K6"}),
        "commissions_invoiced": (t["invoiced_cents"], {"K2", "K3", "K5", "K10"}),
    }
    for key, (total, ids) in expected.items():
        rows = com.drill(snap, key, AS_OF, 90, Filters(), EVERYONE)
        assert int(rows["amount_cents"].sum()) == total, key
        assert set(rows["commission_id"]) == ids, key
        assert rows["amount_cents"].dtype == np.int64 and rows.columns[-1] == "amount_cents"
    risk = (
        com.drill(snap, "commissions_at_risk", AS_OF).set_index("commission_id")["reason"].to_dict()
    )
    assert risk == {
        "K1": "90+ days overdue",
        "K9": "90+ days overdue",
        "K3": "disputed",
        "K10": "disputed",
        "K4": "written off",
    }
    cash = com.drill(snap, "commissions_cash", AS_OF).set_index("commission_id")
    assert cash.loc["K6", "amount_cents"] == 667 and cash.loc["K6", "collected_cents"] == 40000
    assert cash.loc["K2", "invoice_amount_cents"] == 200000
    k7 = com.drill(snap, "commissions_accrued", AS_OF).set_index("commission_id").loc["K7"]
    assert k7["invoice_id"] == "" and k7["customer_id"] == "" and k7["rep_name"] == "Rep Two"
    with pytest.raises(ValueError):
        com.drill(snap, "no_such_key", AS_OF)


def test_month_and_group_drills(snap):
    may_earned = com.drill(snap, "commissions_month_earned", AS_OF, month="2025-05")
    assert set(may_earned["commission_id"]) == {"K3", "K5", "K8"} and may_earned[
        "amount_cents"
    ].sum() == cents("107.00")
    may_paid = com.drill(snap, "commissions_month_paid", AS_OF, month="2025-05")
    assert list(may_paid["commission_id"]) == ["K8"]
    east = com.drill(snap, "commissions_group", AS_OF, group="East")
    assert east["amount_cents"].sum() == cents("136.34")
    with pytest.raises(ValueError):
        com.drill(snap, "commissions_month_paid", AS_OF, month="2025-07")
    with pytest.raises(ValueError):
        com.drill(snap, "commissions_month_paid", AS_OF, month="June")


# ---- charts -------------------------------------------------------------------------------------


def test_top_reps_by_accrued(snap):
    top = com.top_reps(snap, AS_OF)
    # R3: K4 15 + K5 80 + K9 6 = 101.00; R1: K1 100.00; R2: K3 20 + K7 12.34 + K10 4 = 36.34
    assert list(top["sales_rep_id"]) == ["R3", "R1", "R2"]
    assert list(top["accrued_cents"]) == [cents("101.00"), cents("100.00"), cents("36.34")]
    assert list(top["rep_name"]) == ["Rep Three", "Rep One", "Rep Two"]
    assert list(top["rows"]) == [3, 1, 3]
    assert int(top["accrued_cents"].sum()) == tiles(snap)["accrued_cents"]


def test_monthly_accrued_vs_paid(snap):
    m = com.monthly(snap, AS_OF, 12).set_index("month")
    assert list(m.index) == [
        f"{y}-{mo:02d}"
        for y, mo in [(2024, x) for x in range(7, 13)] + [(2025, x) for x in range(1, 7)]
    ]
    assert m.loc["2025-06", "month_end"] == AS_OF
    earned = {
        "2025-01": "106.00",
        "2025-02": "15.00",
        "2025-03": "10.01",
        "2025-04": "100.00",
        "2025-05": "107.00",
        "2025-06": "16.34",
    }
    paid = {"2025-04": "10.01", "2025-05": "7.00", "2025-06": "100.00"}
    unpaid = {
        "2025-01": "106.00",
        "2025-02": "121.00",
        "2025-03": "131.01",
        "2025-04": "221.00",
        "2025-05": "321.00",
        "2025-06": "237.34",
    }
    for month in m.index:
        assert m.loc[month, "earned_cents"] == cents(earned.get(month, "0.00")), month
        assert m.loc[month, "paid_cents"] == cents(paid.get(month, "0.00")), month
        assert m.loc[month, "unpaid_cents"] == cents(unpaid.get(month, "0.00")), month
    # the liability rolls forward: unpaid(end) = unpaid(start) + earned - paid
    months = list(m.index)
    for prev, cur in zip(months, months[1:], strict=False):
        assert (
            m.loc[cur, "unpaid_cents"]
            == m.loc[prev, "unpaid_cents"] + m.loc[cur, "earned_cents"] - m.loc[cur, "paid_cents"]
        )


def test_distribution_by_group(snap):
    g = com.by_group(snap, AS_OF, 90).set_index("group_name")
    # East: K2 100 + K3 20 + K7 12.34 + K10 4 = 136.34; West: K5 80 + K8 7 = 87.00; total 223.34
    assert g.loc["East", "earned_cents"] == cents("136.34") and g.loc[
        "West", "earned_cents"
    ] == cents("87.00")
    assert g.loc["East", "share_pct"] == 61.05 and g.loc["West", "share_pct"] == 38.95
    assert int(g["earned_cents"].sum()) == tiles(snap)["earned_cents"]


# ---- beyond the concept -------------------------------------------------------------------------


def test_commission_at_risk_per_rep(snap):
    r = com.at_risk_by_rep(snap, AS_OF)
    assert list(r["sales_rep_id"]) == ["R1", "R2", "R3"]
    r = r.set_index("sales_rep_id")
    assert (
        r.loc["R1", "overdue_90_cents"] == cents("100.00") and r.loc["R1", "at_risk_pct"] == 100.0
    )
    assert r.loc["R2", "accrued_cents"] == cents("36.34") and r.loc[
        "R2", "disputed_cents"
    ] == cents("24.00")
    assert r.loc["R2", "at_risk_pct"] == 66.04  # 24 / 36.34
    assert r.loc["R3", "written_off_cents"] == cents("15.00") and r.loc[
        "R3", "overdue_90_cents"
    ] == cents("6.00")
    # 21 / 101
    assert r.loc["R3", "at_risk_cents"] == cents("21.00") and r.loc["R3", "at_risk_pct"] == 20.79
    parts = r[["written_off_cents", "disputed_cents", "overdue_90_cents"]].sum(axis=1)
    assert (parts == r["at_risk_cents"]).all()
    assert int(r["at_risk_cents"].sum()) == tiles(snap)["at_risk_cents"]


def test_cash_vs_invoiced_per_rep(snap):
    c = com.cash_and_invoiced(snap, AS_OF, 90).set_index("sales_rep_id")
    assert c.loc["R1", "invoiced_cents"] == cents("100.00") and c.loc["R1", "cash_cents"] == cents(
        "31.67"
    )
    assert c.loc["R1", "collected_cents"] == cents("900.00")
    assert c.loc["R2", "invoiced_cents"] == cents("24.00") and c.loc["R2", "cash_cents"] == 0
    assert c.loc["R3", "invoiced_cents"] == cents("80.00") and c.loc["R3", "cash_cents"] == cents(
        "80.00"
    )
    assert (c["difference_cents"] == c["cash_cents"] - c["invoiced_cents"]).all()


def test_prorate_rounds_half_away_from_zero_exactly():
    got = com.prorate(
        np.array([1, -1, 3, 10001, 2**40]),
        np.array([1, 1, 1, 50000, 2**40]),
        np.array([2, 2, 2, 200000, 2**41]),
    )
    assert list(got) == [1, -1, 2, 2500, 2**39]
    # product beyond int64
    big = com.prorate(np.array([10**12]), np.array([10**12]), np.array([3 * 10**11]))
    assert list(big) == [3333333333333]


# ---- scope and filters --------------------------------------------------------------------------


def test_a_rep_sees_only_own_commissions(snap):
    t = tiles(snap, scope=REP1)
    # C1's commissions of R1: K1 accrued; K9 (R3's, on C1) is not R1's
    assert t["accrued_cents"] == cents("100.00")
    assert t["paid_mtd_cents"] == cents("100.00")
    assert (
        t["earned_cents"] == cents("100.00")
        and t["sales_cents"] == cents("2000.00")
        and t["avg_rate_pct"] == 5.0
    )
    assert t["cash_cents"] == cents("31.67")
    for key in com.DRILL_KEYS:
        rows = com.drill(snap, key, AS_OF, 90, Filters(), REP1, month="2025-06", group="East")
        assert set(rows["sales_rep_id"]) <= {"R1"}, key
    two = tiles(snap, scope=REP2)
    assert two["accrued_cents"] == cents("36.34")  # K3, K10 on C2 and K7 with no invoice
    three = tiles(snap, scope=REP3)
    # K4 15 + K5 80; K8 (no invoice) is paid; K9 is on C1, a customer outside R3's scope
    assert three["accrued_cents"] == cents("95.00")
    assert three["earned_cents"] == cents("87.00") and three["avg_rate_pct"] == 8.7


def test_a_manager_sees_only_the_groups_commissions(snap):
    t = tiles(snap, scope=EAST)
    assert t["accrued_cents"] == cents("136.34")  # K1 100 + K3 20 + K7 12.34 + K10 4
    assert t["earned_cents"] == cents("136.34")
    assert t["sales_cents"] == cents("2450.00") and t["avg_rate_pct"] == 5.56
    assert set(com.top_reps(snap, AS_OF, Filters(), EAST)["sales_rep_id"]) == {"R1", "R2"}
    assert set(com.by_group(snap, AS_OF, 90, Filters(), EAST)["group_name"]) == {"East"}
    assert set(com.at_risk_by_rep(snap, AS_OF, Filters(), EAST)["sales_rep_id"]) == {"R1", "R2"}


def test_another_reps_filter_inside_a_reps_scope_gives_zero(snap):
    t = tiles(snap, scope=REP1, sales_rep="R3")
    for key in (
        "accrued_cents",
        "paid_mtd_cents",
        "earned_cents",
        "sales_cents",
        "at_risk_cents",
        "cash_cents",
        "invoiced_cents",
    ):
        assert t[key] == 0, key
    assert t["avg_rate_pct"] is None
    assert com.top_reps(snap, AS_OF, Filters(sales_rep="R3"), REP1).empty
    assert com.monthly(snap, AS_OF, 12, Filters(sales_rep="R3"), REP1)["unpaid_cents"].eq(0).all()
    assert tiles(snap, scope=Scope.nothing())["accrued_cents"] == 0


def test_filters_select_customers_and_the_rep_filter_the_commissions(snap):
    # segment Retail: C1 and C3; commissions without an invoice drop out under an attribute filter
    # K1 100, K9 6, K4 15, K5 80
    assert tiles(snap, segment="Retail")["accrued_cents"] == cents("201.00")
    # sales rep R3: C3's rows of R3 and R3's row without an invoice; K9 is on R1's customer
    r3 = tiles(snap, sales_rep="R3")
    assert r3["accrued_cents"] == cents("95.00")
    assert r3["earned_cents"] == cents("87.00")  # K5 80 + K8 7
    # a finance user narrowed to a region: no commissions without an invoice
    north = tiles(snap, scope=Scope(regions=frozenset({"North"}), label="North"))
    assert north["accrued_cents"] == cents("201.00")


# ---- figures --------------------------------------------------------------------------------------


def test_figures_show_exact_amounts_and_have_empty_states(snap):
    from dashboard.figures import commissions as figs
    from dashboard.figures.base import is_empty

    top = com.top_reps(snap, AS_OF)
    bar = figs.top_reps_bar(top, "USD", selected="R1")
    assert [row[0] for row in bar["data"][0]["customdata"]] == ["R3", "R1", "R2"]
    assert list(bar["data"][0]["text"]) == ["$101.00", "$100.00", "$36.34"]
    trend = figs.earned_vs_paid(com.monthly(snap, AS_OF, 12), "USD")
    assert list(trend["data"][0]["customdata"][-1][:3]) == [
        "commissions_month_earned",
        "2025-06",
        "$16.34",
    ]
    pie = figs.group_pie(com.by_group(snap, AS_OF, 90), "USD")
    assert [list(row[:2]) for row in pie["data"][0]["customdata"]] == [
        ["East", "$136.34"],
        ["West", "$87.00"],
    ]
    cash = figs.cash_vs_invoiced_bar(com.cash_and_invoiced(snap, AS_OF, 90), "USD")
    assert [t["name"] for t in cash["data"]] == ["On invoices issued", "On cash collected"]
    none = Filters(sales_rep="R3")
    assert is_empty(figs.top_reps_bar(com.top_reps(snap, AS_OF, none, REP1)))
    assert is_empty(figs.earned_vs_paid(com.monthly(snap, AS_OF, 12, none, REP1)))
    assert is_empty(figs.group_pie(com.by_group(snap, AS_OF, 90, none, REP1)))
    assert is_empty(figs.cash_vs_invoiced_bar(com.cash_and_invoiced(snap, AS_OF, 90, none, REP1)))


def test_a_ledger_without_commissions_gives_zeros_and_empty_tables(db_url):
    clear_snapshots()
    add_ledger(
        db_url,
        customers=[{"customer_id": "C1"}],
        invoices=[_inv("I1", "C1", "2025-05-01", "100.00")],
    )
    snap = get_snapshot(db_url)
    t = tiles(snap)
    assert (
        t["accrued_cents"],
        t["paid_mtd_cents"],
        t["earned_cents"],
        t["at_risk_cents"],
        t["cash_cents"],
    ) == (0, 0, 0, 0, 0)
    assert t["sales_cents"] == cents("100.00") and t["avg_rate_pct"] == 0.0
    assert com.top_reps(snap, AS_OF).empty and com.by_group(snap, AS_OF).empty
    assert com.at_risk_by_rep(snap, AS_OF).empty and com.cash_and_invoiced(snap, AS_OF).empty
    assert com.monthly(snap, AS_OF)["earned_cents"].eq(0).all()
    for key in com.DRILL_KEYS:
        assert com.drill(snap, key, AS_OF, month="2025-06", group="East").empty, key
    clear_snapshots()
