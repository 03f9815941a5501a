"""Payment forecasts: due-date buckets, the behaviour forecast with promises, and the backtest."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.data.db import get_engine
from dashboard.data.models import Allocation, Customer, FxRate, Invoice, Payment, WriteOff
from dashboard.metrics.filters import Filters
from dashboard.metrics.forecast import (
    DUE_BUCKETS,
    UNCOLLECTIBLE,
    behaviour_forecast,
    collectability,
    default_backtest_dates,
    due_bucket_index,
    due_date_forecast,
    forecast_backtest,
    forecast_invoices,
    payment_behaviour,
)
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot, to_day
from tests.ledger import add_ledger

# week 1 = 1-7 July, week 2 = 8-14, week 3 = 15-21, week 4 = 22-28 July ...
D = dt.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


# ---------------------------------------------------------------- (a) due-date buckets


@pytest.mark.parametrize(
    ("days_until_due", "bucket"),
    [
        (-30, "Overdue"),
        (-1, "Overdue"),
        (0, "Week 1"),  # due today is not overdue yet
        (7, "Week 1"),
        (8, "Week 2"),
        (14, "Week 2"),
        (15, "Week 3"),
        (21, "Week 3"),
        (22, "Week 4"),
        (30, "Week 4"),
        (31, "Weeks 5-8"),
        (365, "Weeks 5-8"),
    ],
)
def test_due_bucket_boundaries(days_until_due, bucket):
    assert DUE_BUCKETS[due_bucket_index(np.array([days_until_due]))[0]] == bucket


def test_due_date_forecast_sums_to_total_ar(db_url):
    offsets = [-1, 0, 7, 8, 14, 15, 21, 22, 30, 31, 200]
    add_ledger(
        db_url,
        customers=[{"customer_id": "C"}],
        invoices=[
            {
                "invoice_id": f"I{k}",
                "customer_id": "C",
                "issue_date": "2025-05-01",
                "due_date": (D + dt.timedelta(days=off)).isoformat(),
                "amount": str(2**k),
            }
            for k, off in enumerate(offsets)
        ],
    )
    snap = get_snapshot(db_url)
    table = due_date_forecast(snap, D).set_index("bucket")
    # amounts 1, 2, 4, ... 1024 (whole units) in the order of offsets
    assert table.loc["Overdue", "amount_cents"] == 100  # due yesterday
    assert table.loc["Week 1", "amount_cents"] == (2 + 4) * 100  # due today and in 7 days
    assert table.loc["Week 2", "amount_cents"] == (8 + 16) * 100  # 8 and 14 days
    assert table.loc["Week 3", "amount_cents"] == (32 + 64) * 100  # 15 and 21
    assert table.loc["Week 4", "amount_cents"] == (128 + 256) * 100  # 22 and 30
    assert table.loc["Weeks 5-8", "amount_cents"] == (512 + 1024) * 100  # 31 and 200
    assert list(table["invoices"]) == [2, 2, 2, 2, 2, 1]
    assert int(table["amount_cents"].sum()) == cents(compute_kpis(snap, D)["total_ar"])


# ---------------------------------------------------------------- (b) behaviour forecast


def _behaviour_ledger(url: str) -> None:
    inv = [
        # history settled by payment in the 12 months before D
        ("H1", "X", "2025-02-01", "2025-03-01", "1000.00"),  # paid 10 days late
        ("H2", "X", "2025-03-02", "2025-04-01", "3000.00"),  # paid 20 days late
        ("WH", "W", "2025-04-01", "2025-05-01", "1000.00"),  # paid 2 days late
        # open at D
        ("H3", "X", "2025-05-01", "2025-06-01", "1000.00"),  # paid 20 July, after D
        ("X1", "X", "2025-06-01", "2025-07-01", "500.00"),  # paid 19 July, after D
        ("X2", "X", "2025-05-01", "2025-06-01", "200.00"),
        ("X3", "X", "2025-06-05", "2025-07-05", "600.00"),  # open promise of 400.00 for 15 August
        ("X4", "X", "2025-06-15", "2025-07-15", "300.00"),  # in dispute
        ("Y1", "Y", "2025-06-10", "2025-07-10", "1000.00"),  # paid 2 July, after D
        ("V1", "V", "2025-06-06", "2025-07-06", "700.00"),
        # issued after every date used here, prepaid on 15 June: must never count as X's history
        ("XF", "X", "2025-08-20", "2025-09-19", "5000.00"),
    ]
    pays = [
        ("PH1", "X", "H1", "2025-03-11", "1000.00"),
        ("PH2", "X", "H2", "2025-04-21", "3000.00"),
        ("PWH", "W", "WH", "2025-05-03", "1000.00"),
        ("PH3", "X", "H3", "2025-07-20", "1000.00"),
        ("PX1", "X", "X1", "2025-07-19", "500.00"),
        ("PY1", "Y", "Y1", "2025-07-02", "1000.00"),
        ("PXF", "X", "XF", "2025-06-15", "5000.00"),
    ]
    add_ledger(
        url,
        customers=[
            {"customer_id": "X", "segment": "S1"},
            {"customer_id": "Y", "segment": "S3"},
            {"customer_id": "V", "segment": "S2"},
            {"customer_id": "W", "segment": "S2"},
        ],
        invoices=[
            {"invoice_id": i, "customer_id": c, "issue_date": s, "due_date": d, "amount": a}
            for i, c, s, d, a in inv
        ],
        payments=[
            {"payment_id": p, "customer_id": c, "date": d, "amount": a} for p, c, _, d, a in pays
        ],
        allocations=[{"payment_id": p, "invoice_id": i, "amount": a} for p, _, i, _, a in pays],
        promises=[
            {
                "promise_id": "PR1",
                "invoice_id": "X3",
                "made_on": "2025-06-25",
                "promised_date": "2025-08-15",
                "amount": "400.00",
            },
            # made after D
            {
                "promise_id": "PR2",
                "invoice_id": "Y1",
                "made_on": "2025-07-01",
                "promised_date": "2025-07-03",
                "amount": "1000.00",
            },
            # date passed
            {
                "promise_id": "PR3",
                "invoice_id": "X2",
                "made_on": "2025-06-01",
                "promised_date": "2025-06-20",
                "amount": "200.00",
            },
        ],
        disputes=[
            {"dispute_id": "DX4", "invoice_id": "X4", "opened_on": "2025-06-20", "amount": "300.00"}
        ],
    )


def test_behaviour_forecast_two_customers_promise_and_dispute(db_url):
    _behaviour_ledger(db_url)
    snap = get_snapshot(db_url)
    table = behaviour_forecast(snap, D)
    weekly = dict(zip(table["bucket"], table["expected_cents"], strict=True))
    # X's own delay, amount-weighted: (1,000 x 10 + 3,000 x 20) / 4,000 = 17.5 -> 18 days.
    #   X1 due 1 Jul -> 19 Jul (week 3); X2 and H3 due 1 Jun -> 19 Jun, overdue -> 1 Jul (week 1);
    #   X3: 400.00 promised for 15 Aug (week 7: 12-18 Aug), the other 200.00 at 5 Jul + 18 = 23 Jul (week 4);
    #   X4 is in dispute: excluded.
    # Y has no history and its segment S3 has none: portfolio (10,000 + 60,000 + 2,000) / 5,000 = 14.4
    #   -> 14 days: Y1 due 10 Jul -> 24 Jul (week 4). The promise made on 1 July is after D: ignored.
    # V has no history; its segment S2 has W's 2 days: V1 due 6 Jul -> 8 Jul (week 2).
    expected = {1: 120_000, 2: 70_000, 3: 50_000, 4: 120_000, 7: 40_000}
    for k in range(1, 14):
        assert weekly[f"Week {k}"] == expected.get(k, 0), k
    assert weekly["Later"] == 0
    assert weekly["Disputed (excluded)"] == 30_000
    assert int(table["expected_cents"].sum()) == cents(compute_kpis(snap, D)["total_ar"]) == 430_000
    assert dict(zip(table["bucket"], table["promised_cents"], strict=True))["Week 7"] == 40_000
    assert int(table["promised_cents"].sum()) == 40_000
    # naive: every balance at max(D + 1, due date): H3, X2, X1, X3, V1 in week 1; Y1 week 2; X4 week 3
    naive = dict(zip(table["bucket"], table["by_due_date_cents"], strict=True))
    assert (naive["Week 1"], naive["Week 2"], naive["Week 3"]) == (300_000, 100_000, 30_000)
    assert table.loc[0, "start"] == dt.date(2025, 7, 1) and table.loc[0, "end"] == dt.date(
        2025, 7, 7
    )
    assert table.loc[6, "start"] == dt.date(2025, 8, 12)


def test_forecast_invoices_show_basis_promise_and_dispute(db_url):
    _behaviour_ledger(db_url)
    rows = forecast_invoices(get_snapshot(db_url), D).set_index("invoice_id")
    assert rows.loc["X1", "delay_basis"] == "customer" and rows.loc["X1", "delay_days"] == 17.5
    assert (
        rows.loc["X1", "expected_date"] == dt.date(2025, 7, 19)
        and rows.loc["X1", "expected_week"] == 3
    )
    assert rows.loc["Y1", "delay_basis"] == "portfolio" and rows.loc["Y1", "delay_days"] == 14.4
    assert rows.loc["V1", "delay_basis"] == "segment" and rows.loc[
        "V1", "expected_date"
    ] == dt.date(2025, 7, 8)
    assert rows.loc["X3", "promise_id"] == "PR1" and rows.loc["X3", "promised_cents"] == 40_000
    assert (
        rows.loc["X3", "promised_date"] == dt.date(2025, 8, 15)
        and rows.loc["X3", "expected_cents"] == 20_000
    )
    assert rows.loc["X4", "dispute"] == "dispute" and rows.loc["X4", "expected_date"] is None
    assert rows.loc["X4", "expected_cents"] == 0
    assert rows.loc["X2", "due_bucket"] == "Overdue" and rows.loc["Y1", "due_bucket"] == "Week 2"
    assert len(rows) == 7


def test_payment_behaviour_per_customer(db_url):
    _behaviour_ledger(db_url)
    table = payment_behaviour(get_snapshot(db_url), D).set_index("customer_id")
    assert list(table.index) == ["V", "W", "X", "Y"]
    assert (
        table.loc["X", "settled_12m"],
        table.loc["X", "avg_delay_days"],
        table.loc["X", "delay_basis"],
    ) == (2, 17.5, "customer")
    # W: WH paid 3 May, due 1 May -> 2 days; issued 1 April -> 32 days to pay
    assert (
        table.loc["W", "forecast_delay_days"],
        table.loc["W", "avg_days_to_pay"],
        table.loc["W", "open_cents"],
    ) == (2.0, 32.0, 0)
    assert np.isnan(table.loc["V", "avg_delay_days"]) and (
        table.loc["V", "forecast_delay_days"],
        table.loc["V", "delay_basis"],
    ) == (2.0, "segment")
    assert (table.loc["Y", "forecast_delay_days"], table.loc["Y", "delay_basis"]) == (
        14.4,
        "portfolio",
    )


def test_forecast_respects_filters(db_url):
    _behaviour_ledger(db_url)
    snap = get_snapshot(db_url)
    # only segment S2: V1 has no own history; S2's W paid 2 days late -> 8 Jul, week 2
    table = behaviour_forecast(snap, D, Filters(segment="S2"))
    assert int(table["expected_cents"].sum()) == 70_000
    assert table.loc[1, "expected_cents"] == 70_000


# ---------------------------------------------------------------- (c) backtest


def test_backtest_by_hand(db_url):
    _behaviour_ledger(db_url)
    snap = get_snapshot(db_url)
    # At D, collected afterwards against the invoices open at D: Y1 1,000 on 2 Jul (week 1),
    # X1 500 on 19 Jul and H3 1,000 on 20 Jul (week 3). Actual [1000, 0, 1500, 0].
    # Behaviour [1200, 700, 500, 1200]: |200|+|700|+|1000|+|1200| = 3,100 / 2,500 = 124 %.
    # Due date  [3000, 1000, 300, 0]:   2,000 + 1,000 + 1,200 + 0 = 4,200 / 2,500 = 168 %.
    one = forecast_backtest(snap, [D], horizon_weeks=4, as_of=dt.date(2025, 8, 31))
    row = one["by_date"].iloc[0]
    assert (row["actual_cents"], row["behaviour_cents"], row["due_date_cents"]) == (
        250_000,
        360_000,
        430_000,
    )
    assert (row["wape_behaviour"], row["wape_due_date"]) == (124.0, 168.0)
    assert list(one["weeks"]["actual_cents"]) == [100_000, 0, 150_000, 0]

    # Only weeks ending by the reporting date count: on 14 July weeks 1 and 2.
    # Behaviour |1200-1000| + |700-0| = 900 / 1,000 = 90 %; due date 2,000 + 1,000 = 300 %.
    capped = forecast_backtest(snap, [D], horizon_weeks=4, as_of=dt.date(2025, 7, 14))
    row = capped["by_date"].iloc[0]
    assert row["weeks_compared"] == 2 and (row["wape_behaviour"], row["wape_due_date"]) == (
        90.0,
        300.0,
    )

    # A second date, 14 July: Y1 (paid 2 Jul, 8 days early) is now history, so the portfolio delay
    # changes but X (17.5) and S2 (2) do not. Open: H3, X1, X2 -> 15 Jul (week 1: 15-21 Jul),
    # V1 8 Jul -> 15 Jul, X3's 200 -> 23 Jul (week 2), its promised 400 (15 Aug) falls after week 4,
    # X4 disputed. Behaviour [2400, 200, 0, 0]; due date: all seven due by 15 Jul -> [3300, 0, 0, 0].
    # Actual: H3 + X1 in week 1 = [1500, 0, 0, 0]. Behaviour 900 + 200 = 1,100 / 1,500 = 73.33 %;
    # due date 1,800 / 1,500 = 120 %.
    both = forecast_backtest(
        snap, [dt.date(2025, 7, 14), D], horizon_weeks=4, as_of=dt.date(2025, 8, 31)
    )
    by_date = both["by_date"].set_index("as_of")
    assert (
        by_date.loc[dt.date(2025, 7, 14), "wape_behaviour"],
        by_date.loc[dt.date(2025, 7, 14), "wape_due_date"],
    ) == (73.33, 120.0)
    # overall: (3,100 + 1,100) / (2,500 + 1,500) = 105 %; (4,200 + 1,800) / 4,000 = 150 %
    assert both["overall"]["wape_behaviour"] == 105.0 and both["overall"]["wape_due_date"] == 150.0
    assert both["overall"]["actual_cents"] == 400_000 and both["overall"]["weeks_compared"] == 8


def test_default_backtest_dates():
    dates = default_backtest_dates(D, count=3, horizon_weeks=13, step_days=28)
    # the latest is D - 91 days (its 13 weeks end on D), then 28 days apart, oldest first
    assert dates == [dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 3, 31)]


def _rate_at(fx: pd.DataFrame, currency: str, day: dt.date, base: str) -> int:
    """The rate x 10**10 of currency in force on day (latest dated on or before it, else the first known)."""
    if currency == base:
        return 10**10
    rows = fx[fx["currency"] == currency].sort_values("date")
    before = rows[rows["date"] <= day]
    return int((before if len(before) else rows.head(1))["rate_e10"].iloc[-1])


def _to_base(cents: int, rate_e10: int) -> int:
    """cents x rate / 10**10, half up (away from zero), with Decimal."""
    value = (Decimal(cents) * Decimal(rate_e10) / Decimal(10**10)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return int(value)


def _independent_actuals(url: str, as_of: dt.date, horizon: int, base: str) -> list[int]:
    """Per week, allocations to invoices open at as_of, in base currency at the allocation's date, from the
    database with plain pandas and Decimal."""
    engine = get_engine(url)
    inv = pd.read_sql(
        select(
            Invoice.invoice_id,
            Invoice.customer_id,
            Invoice.issue_date,
            Invoice.amount_cents,
            Invoice.applies_to,
            Invoice.currency,
        ),
        engine,
    )
    cust = pd.read_sql(select(Customer.customer_id, Customer.currency), engine).set_index(
        "customer_id"
    )["currency"]
    fx = pd.read_sql(select(FxRate.currency, FxRate.date, FxRate.rate_e10), engine)
    fx["date"] = pd.to_datetime(fx["date"]).dt.date
    own = [
        c if isinstance(c, str) and c.strip() else cust.get(k)
        for c, k in zip(inv["currency"], inv["customer_id"], strict=True)
    ]
    inv_cur = {
        i: (c.strip().upper() if isinstance(c, str) and c.strip() else base)
        for i, c in zip(inv["invoice_id"], own, strict=True)
    }
    pay = pd.read_sql(select(Payment.payment_id, Payment.date), engine)
    al = pd.read_sql(
        select(
            Allocation.payment_id, Allocation.invoice_id, Allocation.amount_cents, Allocation.date
        ),
        engine,
    )
    wo = pd.read_sql(select(WriteOff.invoice_id, WriteOff.date, WriteOff.amount_cents), engine)
    for frame, col in ((inv, "issue_date"), (pay, "date"), (al, "date"), (wo, "date")):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    al = al.merge(pay.rename(columns={"date": "pay_date"}), on="payment_id")
    al["when"] = [p if pd.isna(a) else a for a, p in zip(al["date"], al["pay_date"], strict=True)]
    cn = inv[(inv["amount_cents"] < 0) & inv["applies_to"].notna() & (inv["issue_date"] <= as_of)]
    applied = (
        pd.concat(
            [
                al.loc[al["when"] <= as_of, ["invoice_id", "amount_cents"]],
                pd.DataFrame({"invoice_id": cn["applies_to"], "amount_cents": -cn["amount_cents"]}),
                wo.loc[wo["date"] <= as_of, ["invoice_id", "amount_cents"]],
            ]
        )
        .groupby("invoice_id")["amount_cents"]
        .sum()
    )
    pos = inv[(inv["amount_cents"] > 0) & (inv["issue_date"] <= as_of)].set_index("invoice_id")[
        "amount_cents"
    ]
    open_ids = set(pos.index[(pos - applied.reindex(pos.index).fillna(0)) > 0])
    weeks = [0] * horizon
    for row in al.itertuples():
        days = (row.when - as_of).days
        if row.invoice_id in open_ids and 1 <= days <= 7 * horizon:
            rate = _rate_at(fx, inv_cur[row.invoice_id], row.when, base)
            weeks[(days - 1) // 7] += _to_base(int(row.amount_cents), rate)
    return weeks


@pytest.mark.slow
def test_backtest_on_demo_data_ties_to_allocations(db_url):
    demo = pytest.importorskip("dashboard.data.demo")
    demo.load_demo(db_url, customers=200, invoices=4000, seed=1, progress=False, today=D)
    snap = get_snapshot(db_url)
    dates = default_backtest_dates(D, count=4)
    result = forecast_backtest(snap, dates, horizon_weeks=13, as_of=D)
    overall = result["overall"]
    assert overall["actual_cents"] > 0
    assert math.isfinite(overall["wape_behaviour"]) and math.isfinite(overall["wape_due_date"])
    assert len(result["by_date"]) == 4 and (result["by_date"]["weeks_compared"] == 13).all()
    weeks = result["weeks"]
    for t in dates:
        mine = weeks[weeks["as_of"] == t].sort_values("week")["actual_cents"].tolist()
        assert mine == _independent_actuals(db_url, t, 13, snap.base_currency), t
    # the demo holds foreign-currency invoices, so the conversion is exercised
    assert snap.rates.multi
    # the forecast at D distributes exactly the AR at D
    table = behaviour_forecast(snap, D)
    assert (
        int(table["expected_cents"].sum())
        == int(table["by_due_date_cents"].sum())
        == cents(compute_kpis(snap, D)["total_ar"])
    )


# ---------------------------------------------------------------- (d) collectability from the ledger's history

OLD = {"window": 30, "min_history": 3}  # small enough to work by hand


def _old_debts_ledger(url: str) -> None:
    """H pays 10 days late; O's debts of 2022 were paid late (2 of 5 at ~95-100 days, 1 at 560 days) or written
    off at 800 days; O still owes X1 (due 2023-12-13, 565 days past due at D) and X2 (100 days past due)."""
    g_due, g_issue = "2022-12-01", "2022-11-01"
    invoices = [
        {
            "invoice_id": f"G{k}",
            "customer_id": "O",
            "issue_date": g_issue,
            "due_date": g_due,
            "amount": "100.00",
        }
        for k in range(1, 6)
    ]
    h_due = ["2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31"]
    h_paid = ["2024-08-10", "2024-09-10", "2024-10-10", "2024-11-10"]
    invoices += [
        {
            "invoice_id": f"H{k + 1}",
            "customer_id": "H",
            "issue_date": (dt.date.fromisoformat(d) - dt.timedelta(days=30)).isoformat(),
            "due_date": d,
            "amount": "100.00",
        }
        for k, d in enumerate(h_due)
    ]
    invoices += [
        {
            "invoice_id": "X1",
            "customer_id": "O",
            "issue_date": "2023-11-13",
            "due_date": "2023-12-13",
            "amount": "1000.00",
        },
        {
            "invoice_id": "X2",
            "customer_id": "O",
            "issue_date": "2025-02-20",
            "due_date": "2025-03-22",
            "amount": "300.00",
        },
        {
            "invoice_id": "X3",
            "customer_id": "H",
            "issue_date": "2025-06-10",
            "due_date": "2025-07-10",
            "amount": "200.00",
        },
    ]
    pays = [
        ("PG1", "O", "G1", "2023-03-11"),
        ("PG5", "O", "G5", "2023-03-06"),
        ("PG2", "O", "G2", "2024-06-13"),
    ]
    pays += [(f"PH{k + 1}", "H", f"H{k + 1}", d) for k, d in enumerate(h_paid)]
    add_ledger(
        url,
        customers=[{"customer_id": "O", "segment": "S"}, {"customer_id": "H", "segment": "S"}],
        invoices=invoices,
        payments=[
            {"payment_id": p, "customer_id": c, "date": d, "amount": "100.00"}
            for p, c, _, d in pays
        ],
        allocations=[{"payment_id": p, "invoice_id": i, "amount": "100.00"} for p, _, i, _ in pays],
        write_offs=[
            {"invoice_id": i, "date": "2025-02-08", "amount": "100.00"} for i in ("G3", "G4")
        ],
    )


def test_collectability_learned_from_history(db_url):
    _old_debts_ledger(db_url)
    snap = get_snapshot(db_url)
    table = collectability(snap, to_day(D), **OLD).set_index("age")

    def row(age):
        r = table.loc[age]
        return (
            int(r["observed"]),
            int(r["open_cents"]),
            int(r["collected_cents"]),
            float(r["median_days"]),
        )

    # age 0 (at the due date), observed when due + 30 <= D and still open at due: H1-H4 (100.00 each, paid
    # 10 days after due), G1-G5 (100.00 each, none paid within 30 days), X1 (1,000.00) and X2 (300.00), both
    # still open -> 400.00 collected of 2,200.00 open = 2/11, median 10 days
    assert row("0-30") == (11, 220_000, 40_000, 10.0)
    # age 91: G1-G5 and X1 (X2 is only 100 days past due: its 30-day window has not passed); G5 paid 4 days
    # and G1 9 days after reaching 91 -> 200.00 of 1,500.00 = 2/15, median 6.5
    assert row("91-120") == (6, 150_000, 20_000, 6.5)
    # age 546: G2 (paid at 560: 14 days later), G3 and G4 (written off at 800, never paid) -> 1/3
    assert row("546-730") == (3, 30_000, 10_000, 14.0) and table.loc["546-730", "basis"] == "own"
    # age 731: G3 and G4 only (2 < 3): borrows the 546-730 bucket
    assert table.loc["731+", "observed"] == 2 and table.loc["731+", "basis"] == "borrowed"
    assert table.loc["731+", "share"] == pytest.approx(1 / 3)


def test_forecast_old_debts_low_probability_late_date(db_url):
    _old_debts_ledger(db_url)
    snap = get_snapshot(db_url)
    table = behaviour_forecast(snap, D, history=OLD)
    weekly = dict(zip(table["bucket"], table["expected_cents"], strict=True))
    # X2 (100 days past due, bucket 91-120): 300.00 x 2/15 = 40.00 at D + 7 (6.5 rounded half up) = 7 Jul, week 1
    # X1 (565 days past due, bucket 546-730): 1,000.00 x 1/3 = 333.33 at D + 14 = 14 Jul, week 2
    #   (the old forecast put the whole 1,000.00 in week 1: due + 10 days passed long ago)
    # X3 (not yet due; H's own delay 10 days): 200.00 x 2/11 = 36.36 at 10 Jul + 10 = 20 Jul, week 3
    assert (weekly["Week 1"], weekly["Week 2"], weekly["Week 3"]) == (4_000, 33_333, 3_636)
    assert all(weekly[f"Week {k}"] == 0 for k in range(4, 14)) and weekly["Later"] == 0
    # not expected: 260.00 + 666.67 + 163.64
    assert weekly[UNCOLLECTIBLE] == 26_000 + 66_667 + 16_364
    assert int(table["expected_cents"].sum()) == cents(compute_kpis(snap, D)["total_ar"]) == 150_000
    rows = forecast_invoices(snap, D, history=OLD).set_index("invoice_id")
    assert (
        rows.loc["X1", "expected_date"] == dt.date(2025, 7, 14)
        and rows.loc["X1", "age_days"] == 565
    )
    assert rows.loc["X1", "collectable_share"] == pytest.approx(0.3333)
    assert rows.loc["X1", "delay_basis"] == "age history"
    assert rows.loc["X2", "expected_date"] == dt.date(2025, 7, 7)
    assert (
        rows.loc["X3", "expected_date"] == dt.date(2025, 7, 20)
        and rows.loc["X3", "delay_basis"] == "customer"
    )
    assert int(rows["uncollectible_cents"].sum()) == weekly[UNCOLLECTIBLE]
    assert int((rows["expected_cents"] + rows["uncollectible_cents"]).sum()) == 150_000


def test_backtest_learns_only_from_history_before_each_date(db_url):
    _old_debts_ledger(db_url)
    snap = get_snapshot(db_url)
    # on 2023-06-30 no payment from age 546 had happened yet: G2 was paid in 2024
    early = collectability(snap, to_day(dt.date(2023, 6, 30)), **OLD).set_index("age")
    assert early.loc["546-730", "observed"] == 0 and early.loc["546-730", "basis"] != "own"
    assert early.loc["0-30", "collected_cents"] == 0  # H's invoices came later


def test_collectability_is_kept_per_snapshot_and_day(db_url):
    """One table per (day, window, min_history) and snapshot: the forecast, its filters and the backtest share it."""
    import dashboard.metrics.forecast as fc

    _old_debts_ledger(db_url)
    snap = get_snapshot(db_url)
    day = to_day(D)
    first = collectability(snap, day, **OLD)
    assert collectability(snap, day, **OLD) is first  # kept, not recomputed
    other_day = collectability(snap, day - 28, **OLD)
    assert other_day is not first and collectability(snap, day - 28, **OLD) is other_day
    assert collectability(snap, day) is not first  # another window is another table
    # the forecast at D uses the kept table: a table planted under its key is what it reads
    planted = first.copy()
    planted["share"] = 0.0
    planted["median_days"] = np.nan
    memo = fc.analytics_cache(snap)["collectability"]
    memo[(day, OLD["window"], OLD["min_history"])] = planted
    frame = behaviour_forecast(snap, D, history=OLD)
    timed = frame["bucket"].isin([f"Week {k}" for k in range(1, 14)] + ["Later"])
    # nothing collectible: only promises are expected, all the rest is "not expected"
    assert int(frame.loc[timed, "expected_cents"].sum()) == int(frame["promised_cents"].sum())
    assert int(frame.loc[frame["bucket"] == UNCOLLECTIBLE, "expected_cents"].sum()) > 0
    # bounded: the oldest days are dropped
    for k in range(fc.COLLECTABILITY_MEMO + 5):
        collectability(snap, day - 1000 - k, **OLD)
    assert len(memo) == fc.COLLECTABILITY_MEMO


def test_warm_history_keeps_the_tables_the_forecast_page_asks_for(db_url):
    """warm_history (the snapshot hook) computes the as-of table and the six backtest dates' tables."""
    import dashboard.metrics.forecast as fc

    _old_debts_ledger(db_url)
    snap = get_snapshot(db_url)
    fc.warm_history(snap, D)
    memo = fc.analytics_cache(snap)["collectability"]
    days = [to_day(D)] + [to_day(t) for t in default_backtest_dates(D, 6)]
    assert sorted(memo) == sorted((d, fc.WINDOW_DAYS, fc.MIN_HISTORY) for d in days)
    table = memo[(to_day(D), fc.WINDOW_DAYS, fc.MIN_HISTORY)]
    assert collectability(snap, to_day(D)) is table


def test_a_served_version_warms_the_forecast_tables(db_url, monkeypatch):
    """The snapshot cache starts the forecast's warm-up for each version it starts serving."""
    import threading

    import dashboard.metrics.forecast as fc
    import dashboard.metrics.snapshot as snapshot_mod

    warmed: list = []
    changed = threading.Condition()

    def record(snap, *args, **kwargs):
        with changed:
            warmed.append(snap)
            changed.notify_all()

    monkeypatch.setattr(fc, "warm_history", record)
    monkeypatch.setattr(snapshot_mod, "WARM_DELAY_SECONDS", 0.0)
    _old_debts_ledger(db_url)
    cache = snapshot_mod.SnapshotCache()
    snap = cache.get(db_url)
    # identity, not ==: a warm-up timer of an earlier test's snapshot may fire meanwhile
    with changed:
        assert changed.wait_for(lambda: any(w is snap for w in warmed), timeout=30)
