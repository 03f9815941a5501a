"""Over-application, prepayments, and the null and rounding rules (BRIEF "Over-application").

Hand-worked examples go through the real import on both databases; the conservation identity
total_ar - unapplied_credits = issued - paid - written off is checked on random ledgers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.data.importer import run_import
from dashboard.metrics import tables
from dashboard.metrics.account import account_360
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.numbers import ratio, round2
from dashboard.metrics.snapshot import build_snapshot, clear_snapshots, get_snapshot
from tests.reference import Ledger, Reference
from tests.test_metrics_kpis import AS_OF, PROPS, _frames, ledgers

D = dt.date.fromisoformat
CUSTOMERS = "customer_id,name,segment\nC1,Alpha,SMB\nC2,Beta,Ent\n"


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


def load(url: str, tmp_path, **files: str) -> None:
    """Import the given CSV texts (file stem -> text) with the two customers above."""
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "customers.csv").write_text(CUSTOMERS)
    for stem, text in files.items():
        (directory / f"{stem}.csv").write_text(text)
    run_import(directory, url=url, progress=False)


def kpis(url: str, as_of: str, period: int = 90, **filters) -> dict:
    return compute_kpis(get_snapshot(url), D(as_of), period, Filters(**filters))


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


# ---------------------------------------------------------------- hand-worked examples


def test_issue_example_overpayment_becomes_unapplied_credit(db_url, tmp_path):
    load(
        db_url,
        tmp_path,
        invoices="invoice_id,customer_id,issue_date,due_date,amount\nI1,C1,2025-06-01,2025-07-01,100.00\n",
        payments="payment_id,customer_id,date,amount,invoice_id\nP1,C1,2025-06-10,150.00,I1\n",
    )
    k = kpis(db_url, "2025-06-30")
    assert (k["total_ar"], k["unapplied_credits"], k["collections"]) == ("0.00", "50.00", "150.00")
    # the day before the payment: the invoice is open, nothing is in credit
    before = kpis(db_url, "2025-06-09")
    assert (before["total_ar"], before["unapplied_credits"]) == ("100.00", "0.00")
    rows = tables.drill(get_snapshot(db_url), "unapplied_credits", D("2025-06-30"))
    assert rows[["id", "type", "customer_id", "amount_cents"]].values.tolist() == [
        ["I1", "over-applied invoice", "C1", 5000]
    ]
    assert str(rows.loc[0, "date"]) == "2025-06-10"
    acct = account_360(get_snapshot(db_url), "C1", D("2025-06-30"), Scope.everyone())
    assert acct["summary"]["total_outstanding"] == "0.00"
    assert acct["summary"]["unapplied_credits"] == "50.00"
    assert acct["invoices"][0]["over_applied"] == "50.00"
    assert acct["invoices"][0]["balance"] == "0.00"


def test_credit_note_on_a_paid_invoice_is_a_credit_from_its_date(db_url, tmp_path):
    load(
        db_url,
        tmp_path,
        invoices=(
            "invoice_id,customer_id,issue_date,due_date,amount,applies_to\n"
            "I1,C1,2025-06-01,2025-07-01,100.00,\nN1,C1,2025-06-20,2025-06-20,-30.00,I1\n"
        ),
        payments="payment_id,customer_id,date,amount,invoice_id\nP1,C1,2025-06-05,100.00,I1\n",
    )
    assert kpis(db_url, "2025-06-19")["unapplied_credits"] == "0.00"
    k = kpis(db_url, "2025-06-30")
    # 100.00 invoiced - 30.00 credited = 70.00 of credit sales; paid 100.00; so 30.00 is owed to C1
    assert (k["total_ar"], k["unapplied_credits"], k["credit_sales"]) == ("0.00", "30.00", "70.00")
    assert k["avg_days_to_pay"] == 4.0  # settled by the payment on 5 June, issued 1 June


def test_prepayment_and_early_credit_note_take_effect_on_the_issue_date(db_url, tmp_path):
    load(
        db_url,
        tmp_path,
        invoices=(
            "invoice_id,customer_id,issue_date,due_date,amount,applies_to\n"
            "I2,C1,2025-06-15,2025-07-15,200.00,\nN2,C1,2025-06-05,2025-06-05,-50.00,I2\n"
        ),
        payments="payment_id,customer_id,date,amount\nP2,C1,2025-06-01,80.00\n",
        allocations="payment_id,invoice_id,amount\nP2,I2,80.00\n",
    )
    early = kpis(db_url, "2025-06-10")
    # before the invoice exists: no AR; the prepayment 80.00 and the credit note 50.00 are credits
    assert (early["total_ar"], early["unapplied_credits"]) == ("0.00", "130.00")
    # credit sales of the period are -50.00 (the credit note only): a negative denominator is null
    assert early["credit_sales"] == "-50.00"
    assert (
        early["dso"] is None
        and early["best_possible_dso"] is None
        and early["bad_debt_ratio"] is None
    )
    rows = tables.drill(get_snapshot(db_url), "unapplied_credits", D("2025-06-10"))
    assert sorted(rows[["id", "type", "amount_cents"]].values.tolist()) == [
        ["N2", "credit note before its invoice", 5000],
        ["P2", "unapplied payment", 8000],
    ]
    on_issue = kpis(db_url, "2025-06-15")
    # 200 - 80 - 50
    assert (on_issue["total_ar"], on_issue["unapplied_credits"]) == ("70.00", "0.00")


def test_write_off_dated_before_its_invoice_waits_for_it(db_url, tmp_path):
    load(
        db_url,
        tmp_path,
        invoices="invoice_id,customer_id,issue_date,due_date,amount\nI3,C2,2025-03-10,2025-04-09,40.00\n",
        write_offs="invoice_id,date,amount\nI3,2025-03-01,40.00\n",
    )
    k = kpis(db_url, "2025-03-05")
    assert (k["total_ar"], k["unapplied_credits"]) == ("0.00", "40.00")
    k = kpis(db_url, "2025-03-31")
    assert (k["total_ar"], k["unapplied_credits"]) == ("0.00", "0.00")
    # written off 40.00 / credit sales 40.00, both in the period
    assert k["bad_debt_ratio"] == 100.0


def test_rounding_is_half_up_from_the_exact_value(db_url, tmp_path):
    # AR 17.00 against credit sales of 8.00 in a one-day period: dso = 17 / 8 x 1 = 2.125 -> 2.13
    load(
        db_url,
        tmp_path,
        invoices=(
            "invoice_id,customer_id,issue_date,due_date,amount\n"
            "I1,C1,2025-01-10,2025-03-01,9.00\nI2,C1,2025-02-01,2025-03-01,8.00\n"
        ),
    )
    k = kpis(db_url, "2025-02-01", period=1)
    assert (k["total_ar"], k["credit_sales"], k["dso"]) == ("17.00", "8.00", 2.13)


def test_ratio_rules():
    assert round2(Decimal("2.125")) == 2.13
    assert round2(Decimal("-2.125")) == -2.13  # half away from zero, like Decimal ROUND_HALF_UP
    assert ratio(1, 0) is None and ratio(1, -5) is None and ratio(0, -5) is None
    assert ratio(17, 8) == 2.13


# ---------------------------------------------------------------- the identity on random ledgers


def _identity_cents(led: Ledger, as_of: dt.date, keep: set[str]) -> int:
    """Σ invoices and credit notes issued ≤ D - Σ payments ≤ D - Σ write-offs ≤ D, in cents."""
    owner = {i["invoice_id"]: i["customer_id"] for i in led.invoices}
    issued = sum(
        i["amount"] for i in led.invoices if i["customer_id"] in keep and i["issue_date"] <= as_of
    )
    paid = sum(p["amount"] for p in led.payments if p["customer_id"] in keep and p["date"] <= as_of)
    written = sum(
        w["amount"] for w in led.write_offs if owner[w["invoice_id"]] in keep and w["date"] <= as_of
    )
    return int((Decimal(issued) - Decimal(paid) - Decimal(written)) * 100)


@PROPS
@given(
    ledgers(same_customer=True),
    st.lists(AS_OF, min_size=1, max_size=4),
    st.sampled_from([None, "SMB", "Ent"]),
)
def test_conservation_identity_holds_for_every_date_and_filter(led, dates, segment):
    snap = build_snapshot(_frames(led))
    keep = {c["customer_id"] for c in led.customers if segment is None or c["segment"] == segment}
    for as_of in dates:
        k = compute_kpis(snap, as_of, 90, Filters(segment=segment))
        assert cents(k["total_ar"]) - cents(k["unapplied_credits"]) == _identity_cents(
            led, as_of, keep
        )
        ref = Reference(led, keep=lambda c: c["customer_id"] in keep).kpis(as_of)
        assert (k["total_ar"], k["unapplied_credits"]) == (
            ref["total_ar"],
            ref["unapplied_credits"],
        )
        rows = tables.drill(snap, "unapplied_credits", as_of, filters=Filters(segment=segment))
        assert int(rows["amount_cents"].sum()) == cents(k["unapplied_credits"])
        per_customer = tables.unapplied_by_customer(
            tables.select(snap, Filters(segment=segment)), (as_of - dt.date(1970, 1, 1)).days
        )
        assert int(per_customer.sum()) == cents(k["unapplied_credits"])


@PROPS
@given(ledgers(same_customer=True), AS_OF)
def test_conservation_identity_per_sales_rep_scope(led, as_of):
    snap = build_snapshot(_frames(led))
    for rep in ("R1", "R2"):
        keep = {c["customer_id"] for c in led.customers if c["sales_rep_id"] == rep}
        k = compute_kpis(snap, as_of, 30, None, Scope(sales_rep_ids=frozenset({rep})))
        assert cents(k["total_ar"]) - cents(k["unapplied_credits"]) == _identity_cents(
            led, as_of, keep
        )
