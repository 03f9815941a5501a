"""Several currencies (BRIEF "Multi-currency"): hand-worked figures through the real import on both
databases, import errors, and the engine against the independent reference on random ledgers."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.data.importer import ImportFailed, run_import
from dashboard.data.ledger_load import LedgerTables
from dashboard.metrics import tables
from dashboard.metrics.filters import Filters
from dashboard.metrics.fx import convert, convert_one
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import EPOCH, build_snapshot, clear_snapshots, get_snapshot
from tests.reference import Ledger, Reference
from tests.test_import import dump
from tests.test_metrics_kpis import AS_OF, BASE, PROPS, _frames, check_selections, ledgers

D = dt.date.fromisoformat

FILES = {
    "fx_rates": "date,currency,rate\n2025-01-01,EUR,1.10\n2025-03-01,EUR,1.2\n2025-01-01,GBP,1.25\n",
    "customers": (
        "customer_id,name,credit_limit,currency\nC1,Dollar Co,300.00,\nC2,Euro GmbH,700.00,EUR\n"
        "C3,Pound Ltd,,gbp\n"
    ),
    "invoices": (
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        "U1,C1,2025-02-01,2025-03-03,500.00\nE1,C2,2025-02-10,2025-03-12,1000.00\n"
        "E2,C2,2025-03-05,2025-04-04,200.00\nG1,C3,2025-03-10,2025-04-09,0.02\nG2,C3,2025-03-11,2025-04-10,0.02\n"
    ),
    "payments": (
        "payment_id,customer_id,date,amount,invoice_id\nPE1,C2,2025-03-01,400.00,E1\n"
        "PU1,C1,2025-03-02,100.00,U1\nPG1,C3,2025-03-12,10.00,\n"
    ),
}


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


def write(tmp_path, files: dict[str, str], name: str = "in"):
    directory = tmp_path / name
    directory.mkdir()
    for stem, text in files.items():
        (directory / f"{stem}.csv").write_text(text)
    return directory


@pytest.fixture
def fx_db(db_url, tmp_path) -> str:
    run_import(write(tmp_path, FILES), url=db_url, progress=False)
    return db_url


def test_every_contract_key_on_a_hand_worked_three_currency_ledger(fx_db):
    k = compute_kpis(get_snapshot(fx_db), D("2025-03-15"))
    # Worked on paper, base USD, as of 15 March (EUR 1.20 since 1 March, GBP 1.25):
    #   U1 500 - 100 = 400.00 USD, 12 days late          -> 400.00
    #   E1 1000 - 400 = 600 EUR, 3 days late, x 1.20      -> 720.00 (booked at 1.10: 660.00)
    #   E2 200 EUR not due, x 1.20                         -> 240.00 (booked at 1.20: 240.00)
    #   G1, G2 0.02 GBP each, x 1.25 = 0.025 -> 0.03 each  -> 0.06 (0.04 GBP converted at once would be 0.05)
    # total 1360.06, overdue 1120.00, not due 240.06; unapplied PG1 10 GBP x 1.25 = 12.50.
    # credit sales at issue-date rates: 500 + 1000 x 1.10 + 200 x 1.20 + 0.03 + 0.03 = 1840.06
    # collections at payment-date rates: PE1 400 x 1.20 (rate of 1 March) + 100 + 12.50 = 592.50
    assert (k["total_ar"], k["overdue_ar"], k["not_due_ar"]) == ("1360.06", "1120.00", "240.06")
    assert k["unapplied_credits"] == "12.50"
    assert (k["credit_sales"], k["collections"]) == ("1840.06", "592.50")
    assert k["aging_due"] == {
        "not_due": "240.06",
        "1-30": "1120.00",
        "31-60": "0.00",
        "61-90": "0.00",
        "90+": "0.00",
    }
    assert k["base_currency"] == "USD"
    assert k["by_currency"] == {
        "USD": {
            "total_ar": "400.00",
            "overdue_ar": "400.00",
            "not_due_ar": "0.00",
            "unapplied_credits": "0.00",
        },
        "EUR": {
            "total_ar": "800.00",
            "overdue_ar": "600.00",
            "not_due_ar": "200.00",
            "unapplied_credits": "0.00",
        },
        "GBP": {
            "total_ar": "0.04",
            "overdue_ar": "0.00",
            "not_due_ar": "0.04",
            "unapplied_credits": "10.00",
        },
    }
    assert (k["total_ar_at_booking_rates"], k["fx_revaluation"]) == ("1300.06", "60.00")
    # limits in the customer's currency at D: C1 400 > 300 USD; C2 960.00 > 700 EUR x 1.20 = 840.00
    assert k["customers_over_limit"] == 2
    assert k["top_debtors"] == [
        {"customer_id": "C2", "name": "Euro GmbH", "balance": "960.00"},
        {"customer_id": "C1", "name": "Dollar Co", "balance": "400.00"},
        {"customer_id": "C3", "name": "Pound Ltd", "balance": "0.06"},
    ]
    dso = (Decimal("1360.06") / Decimal("1840.06") * 90).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert k["dso"] == float(dso)
    assert (k["customers_with_balance"], k["customers_overdue"]) == (3, 2)


def test_balances_are_revalued_at_each_date(fx_db):
    # 28 February: EUR still at 1.10, so E1's 1000 EUR is 1100.00 and nothing is revalued yet
    k = compute_kpis(get_snapshot(fx_db), D("2025-02-28"))
    assert (k["total_ar"], k["total_ar_at_booking_rates"], k["fx_revaluation"]) == (
        "1600.00",
        "1600.00",
        "0.00",
    )
    assert k["by_currency"] == {
        "USD": {
            "total_ar": "500.00",
            "overdue_ar": "0.00",
            "not_due_ar": "500.00",
            "unapplied_credits": "0.00",
        },
        "EUR": {
            "total_ar": "1000.00",
            "overdue_ar": "0.00",
            "not_due_ar": "1000.00",
            "unapplied_credits": "0.00",
        },
    }
    # 15 March with the period starting 1 March: AR at D-P (28 Feb) is 1600.00 at that day's rates
    later = compute_kpis(get_snapshot(fx_db), D("2025-03-15"), period_days=15)
    # credit sales (28 Feb, 15 Mar]: E2 240.00 + G1 0.03 + G2 0.03 = 240.06
    # CEI = (1600.00 + 240.06 - 1360.06) / (1600.00 + 240.06 - 240.06) x 100 = 480 / 1600 x 100 = 30.00
    assert (later["credit_sales"], later["cei"]) == ("240.06", 30.0)


def test_drills_and_customer_table_carry_both_currencies(fx_db):
    snap = get_snapshot(fx_db)
    rows = tables.drill(snap, "total_ar", D("2025-03-15"))
    assert int(rows["amount_cents"].sum()) == 136006
    by_id = rows.set_index("invoice_id")
    assert (
        by_id.loc["E1", "currency"],
        by_id.loc["E1", "amount_in_currency"],
        by_id.loc["E1", "amount_cents"],
    ) == ("EUR", "600.00", 72000)
    assert (
        by_id.loc["G1", "currency"],
        by_id.loc["G1", "amount_in_currency"],
        by_id.loc["G1", "amount_cents"],
    ) == ("GBP", "0.02", 3)
    credit = tables.drill(snap, "unapplied_credits", D("2025-03-15"))
    assert credit[["id", "currency", "amount_in_currency", "amount_cents"]].values.tolist() == [
        ["PG1", "GBP", "10.00", 1250]
    ]
    flows = tables.drill(snap, "collections", D("2025-03-15"))
    assert int(flows["amount_cents"].sum()) == 59250
    assert sorted(flows["currency"]) == ["EUR", "GBP", "USD"]


def test_filters_split_the_base_totals_exactly(fx_db):
    snap = get_snapshot(fx_db)
    whole = compute_kpis(snap, D("2025-03-15"))
    # every customer has their own segment-less row; split by sales rep is empty, so use the scope of one customer each
    parts = [
        tables.drill(snap, "total_ar", D("2025-03-15"), customer_id=c) for c in ("C1", "C2", "C3")
    ]
    assert sum(int(p["amount_cents"].sum()) for p in parts) == int(Decimal(whole["total_ar"]) * 100)


# ---------------------------------------------------------------- import errors


def _rejected(url: str, tmp_path, files: dict[str, str]) -> list[str]:
    before = dump(url)
    with pytest.raises(ImportFailed) as failure:
        run_import(write(tmp_path, files, "bad"), url=url, progress=False)
    assert dump(url) == before
    return failure.value.errors


def test_missing_rate_is_an_error_naming_the_row(fx_db, tmp_path):
    errors = _rejected(
        fx_db,
        tmp_path,
        {
            "invoices": "invoice_id,customer_id,issue_date,amount,currency\nJ1,C1,2025-02-01,100.00,JPY\nE9,C2,2024-12-31,5.00,\n",
        },
    )
    assert errors == [
        "invoices.csv:2:currency: no USD rate for JPY on or before 2025-02-01 (add it to fx_rates.csv)",
        "invoices.csv:3:currency: no USD rate for EUR on or before 2024-12-31 (add it to fx_rates.csv)",
    ]


def test_payment_without_currency_column_takes_its_customers_and_needs_a_rate(fx_db, tmp_path):
    errors = _rejected(
        fx_db, tmp_path, {"payments": "payment_id,customer_id,date,amount\nPX,C3,2024-06-01,1.00\n"}
    )
    assert errors == [
        "payments.csv:2:date: no USD rate for GBP on or before 2024-06-01 (add it to fx_rates.csv)"
    ]


def test_cross_currency_allocation_payment_and_credit_note_are_errors(fx_db, tmp_path):
    errors = _rejected(
        fx_db,
        tmp_path,
        {
            "invoices": "invoice_id,customer_id,issue_date,amount,applies_to,currency\nN1,C2,2025-03-20,-5.00,E1,USD\n",
            "payments": "payment_id,customer_id,date,amount,invoice_id,currency\nP8,C2,2025-03-20,5.00,E2,USD\nP9,C2,2025-03-20,5.00,,USD\n",
            "allocations": "payment_id,invoice_id,amount\nP9,E1,5.00\n",
        },
    )
    assert errors == [
        "invoices.csv:2:applies_to: credit note 'N1' is in USD but invoice 'E1' is in EUR; a payment or credit note applies only in its own currency",
        "payments.csv:2:invoice_id: payment 'P8' is in USD but invoice 'E2' is in EUR; a payment or credit note applies only in its own currency",
        "allocations.csv:2:invoice_id: payment 'P9' is in USD but invoice 'E1' is in EUR; a payment or credit note applies only in its own currency",
    ]


def test_bad_rates_are_errors(fx_db, tmp_path):
    errors = _rejected(
        fx_db,
        tmp_path,
        {
            "fx_rates": (
                "date,currency,rate\n2025-01-01,USD,1.5\n2025-01-02,EUR,0\n2025-01-03,EUR,1.12345678901\n"
                "2025-01-04,EURO,1\n2025-01-05,CHF,abc\n"
            ),
        },
    )
    assert errors == [
        "fx_rates.csv:2:rate: the base currency USD always has rate 1",
        "fx_rates.csv:3:rate: must be greater than 0: '0'",
        "fx_rates.csv:4:rate: more than 10 decimal places: '1.12345678901'",
        "fx_rates.csv:5:currency: longer than 3 characters: 'EURO'",
        "fx_rates.csv:6:rate: not a number: 'abc'",
    ]


def test_rates_are_stored_exactly(fx_db, tmp_path):
    run_import(
        write(tmp_path, {"fx_rates": "date,currency,rate\n2025-04-01,EUR,1.0823456789\n"}, "more"),
        url=fx_db,
        progress=False,
    )
    snap = get_snapshot(fx_db)
    assert (
        int(snap.rates.at((D("2025-04-02") - EPOCH).days)[snap.rates.codes.index("EUR")])
        == 10823456789
    )


# ---------------------------------------------------------------- conversion


def test_conversion_rounds_each_item_half_up_exactly():
    cents = [2, -2, 1, 123456789012345 // 100, 7, 0]
    rates = [12_500_000_000, 12_500_000_000, 5_000_000_000, 9_999_999_999_9, 1, 10**10]
    expected = [convert_one(c, r) for c, r in zip(cents, rates, strict=True)]
    assert expected[:3] == [3, -3, 1]  # 0.025 -> 0.03, -0.025 -> -0.03, 0.005 -> 0.01
    assert convert(cents, rates).tolist() == expected


@given(st.integers(-(2**52), 2**52), st.integers(1, 10**18 - 1))
def test_conversion_matches_decimal_half_up(cents, rate):
    exact = (Decimal(cents) * Decimal(rate) / Decimal(10**10)).quantize(Decimal(1), ROUND_HALF_UP)
    result = int(exact)
    if abs(result) < 2**53:
        assert int(convert([cents], [rate])[0]) == result


# ---------------------------------------------------------------- random ledgers in several currencies


RATE_START = BASE - dt.timedelta(days=30)


@st.composite
def fx_ledgers(draw) -> Ledger:
    """ledgers(same_customer=True) with customers in USD, EUR or GBP and rates that drift."""
    led = draw(ledgers(same_customer=True))
    for c in led.customers:
        c["currency"] = draw(st.sampled_from(["USD", "EUR", "GBP"]))
    for code in ("EUR", "GBP"):
        day = RATE_START
        for _ in range(draw(st.integers(1, 6))):
            led.rates.append(
                {
                    "date": day,
                    "currency": code,
                    "rate": Decimal(draw(st.integers(5000, 20000))) / 10000,
                }
            )
            day += dt.timedelta(days=draw(st.integers(1, 120)))
    return led


def fx_frames(led: Ledger) -> LedgerTables:
    """_frames with currencies and rates."""
    tables_ = _frames(led)
    f = tables_.frames
    cur = {c["customer_id"]: c.get("currency") for c in led.customers}
    f["customers"]["currency"] = [cur[c] for c in f["customers"]["customer_id"]]
    f["invoices"]["currency"] = [None] * len(f["invoices"])
    f["payments"]["currency"] = [None] * len(f["payments"])
    f["fx_rates"] = pd.DataFrame(
        [
            {
                "currency": r["currency"],
                "date": (r["date"] - EPOCH).days,
                "rate_e10": int(r["rate"] * 10**10),
            }
            for r in led.rates
        ],
        columns=["currency", "date", "rate_e10"],
    )
    return tables_


@PROPS
@given(fx_ledgers(), AS_OF, st.sampled_from([30, 90, 365]))
def test_engine_matches_reference_in_several_currencies(led, as_of, period):
    snap = build_snapshot(fx_frames(led), base_currency="USD")
    assert compute_kpis(snap, as_of, period) == Reference(led).kpis(as_of, period)


@PROPS
@given(fx_ledgers(), AS_OF, st.sampled_from([None, "SMB", "Ent"]))
def test_identity_per_currency_and_drills_sum_to_base_figures(led, as_of, segment):
    snap = build_snapshot(fx_frames(led), base_currency="USD")
    k = compute_kpis(snap, as_of, 90, Filters(segment=segment))
    keep = {c["customer_id"] for c in led.customers if segment is None or c["segment"] == segment}
    cur = {c["customer_id"]: c["currency"] for c in led.customers}
    owner = {i["invoice_id"]: i["customer_id"] for i in led.invoices}
    for code in ("USD", "EUR", "GBP"):
        mine = {c for c in keep if cur[c] == code}
        issued = sum(
            (
                i["amount"]
                for i in led.invoices
                if i["customer_id"] in mine and i["issue_date"] <= as_of
            ),
            Decimal(0),
        )
        paid = sum(
            (p["amount"] for p in led.payments if p["customer_id"] in mine and p["date"] <= as_of),
            Decimal(0),
        )
        written = sum(
            (
                w["amount"]
                for w in led.write_offs
                if owner[w["invoice_id"]] in mine and w["date"] <= as_of
            ),
            Decimal(0),
        )
        row = k["by_currency"].get(code, {"total_ar": "0.00", "unapplied_credits": "0.00"})
        assert (
            Decimal(row["total_ar"]) - Decimal(row["unapplied_credits"]) == issued - paid - written
        ), code
    cents = lambda s: int(Decimal(s) * 100)  # noqa: E731
    for key in (
        "total_ar",
        "overdue_ar",
        "not_due_ar",
        "unapplied_credits",
        "credit_sales",
        "collections",
    ):
        assert int(
            tables.drill(snap, key, as_of, filters=Filters(segment=segment))["amount_cents"].sum()
        ) == cents(k[key]), key
    assert sum(cents(v) for v in k["aging_due"].values()) == cents(k["total_ar"])
    over = tables.drill(snap, "customers_over_limit", as_of, filters=Filters(segment=segment))
    assert len(over) == k["customers_over_limit"]


def test_single_currency_ledger_is_unchanged_by_a_rates_table():
    led = Ledger(
        customers=[
            {
                "customer_id": "C0",
                "name": "A",
                "segment": "SMB",
                "region": "N",
                "tier": "T",
                "sales_rep_id": "R1",
            }
        ],
        invoices=[
            {
                "invoice_id": "I0",
                "customer_id": "C0",
                "issue_date": BASE,
                "due_date": BASE,
                "amount": Decimal("10.00"),
            }
        ],
        rates=[{"date": BASE, "currency": "EUR", "rate": Decimal("1.1")}],
    )
    with_rates = compute_kpis(build_snapshot(fx_frames(led), base_currency="USD"), BASE)
    plain = compute_kpis(build_snapshot(_frames(led), base_currency="USD"), BASE)
    assert with_rates == plain and plain["by_currency"] == {
        "USD": {
            "total_ar": "10.00",
            "overdue_ar": "0.00",
            "not_due_ar": "10.00",
            "unapplied_credits": "0.00",
        }
    }


def test_mapping_sets_currency_columns_and_imports_rates(db_url, tmp_path):
    """A foreign layout: rates with other headers and day-first dates, the currency from a column."""
    directory = write(
        tmp_path,
        {
            "clients": "Code,Client,Ccy\nK1,Kunde AG,eur\n",
            "rates": "Day;Code;Per unit\n01/01/2025;EUR;1.1\n01/03/2025;EUR;1.2\n",
            "bills": "No,Client,Date,Total,Ccy\nB1,K1,2025-02-01,100.00,EUR\n",
        },
    )
    (tmp_path / "m.toml").write_text(
        '[files.customers]\nsource = "clients.csv"\ncolumns = { customer_id = "Code", name = "Client", currency = "Ccy" }\n\n'
        '[files.fx_rates]\nsource = "rates.csv"\ndelimiter = ";"\ndate_format = "%d/%m/%Y"\n'
        'columns = { date = "Day", currency = "Code", rate = "Per unit" }\n\n'
        '[files.invoices]\nsource = "bills.csv"\n'
        'columns = { invoice_id = "No", customer_id = "Client", issue_date = "Date", amount = "Total", currency = "Ccy" }\n'
    )
    run_import(directory, mapping=tmp_path / "m.toml", url=db_url, progress=False)
    k = compute_kpis(get_snapshot(db_url), D("2025-03-15"))
    # 100 EUR booked at 1.10 on 1 February, revalued at 1.20 on 15 March
    assert (k["total_ar"], k["total_ar_at_booking_rates"], k["fx_revaluation"]) == (
        "120.00",
        "110.00",
        "10.00",
    )
    assert k["by_currency"] == {
        "EUR": {
            "total_ar": "100.00",
            "overdue_ar": "100.00",
            "not_due_ar": "0.00",
            "unapplied_credits": "0.00",
        }
    }


def test_account_360_own_currency_and_base_side_by_side(fx_db):
    """C2 (EUR) as of 15 March, worked on paper: E1 1000 - 400 = 600 EUR (3 days late) and E2 200 EUR
    not due -> 800.00 EUR = 720.00 + 240.00 = 960.00 USD at 1.20, overdue 600 EUR = 720.00 USD.
    Last payment PE1 400 EUR on 1 March at 1.20 = 480.00 USD. DSO over (15 Dec, 15 Mar] in base:
    960.00 / (1000 x 1.10 + 200 x 1.20 = 1340.00) x 90 = 64.477 -> 64.48 (own units would give 60.00).
    Share of 2025 turnover in base: 1340.00 / (500 + 1100 + 240 + 0.03 + 0.03 = 1840.06) = 72.82 %."""
    from dashboard.metrics.account import account_360
    from dashboard.metrics.filters import Scope

    snap = get_snapshot(fx_db)
    data = account_360(snap, "C2", D("2025-03-15"), Scope.everyone())
    s = data["summary"]
    assert (s["currency"], s["base_currency"]) == ("EUR", "USD")
    assert (s["total_outstanding"], s["total_outstanding_base"]) == ("800.00", "960.00")
    assert (s["overdue"], s["overdue_base"]) == ("600.00", "720.00")
    assert (s["last_payment_amount"], s["last_payment_amount_base"]) == ("400.00", "480.00")
    assert data["dso_90d"] == 64.48
    assert data["share_of_turnover_pct"] == 72.82
    trend = {r["month"]: r for r in data["trend"]}
    assert {k: trend["2025-02"][k] for k in ("invoiced", "invoiced_base", "paid", "paid_base")} == {
        "invoiced": "1000.00",
        "invoiced_base": "1100.00",
        "paid": "0.00",
        "paid_base": "0.00",
    }
    assert {k: trend["2025-03"][k] for k in ("invoiced", "invoiced_base", "paid", "paid_base")} == {
        "invoiced": "200.00",
        "invoiced_base": "240.00",
        "paid": "400.00",
        "paid_base": "480.00",
    }
    pound = account_360(snap, "C3", D("2025-03-15"), Scope.everyone())["summary"]
    # PG1 10 GBP unapplied: 10.00 GBP = 12.50 USD at 1.25
    assert (pound["unapplied_credits_in_currency"], pound["unapplied_credits"]) == (
        "10.00",
        "12.50",
    )


@PROPS
@given(fx_ledgers(), st.sampled_from(["segment", "region", "terms_group"]))
def test_stored_and_small_selections_in_several_currencies(led, name):
    """As test_metrics_kpis' check, with invoices in other currencies (the foreign lists)."""
    snap = build_snapshot(fx_frames(led), base_currency="USD")
    check_selections(snap, led, name)
