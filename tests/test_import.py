"""Canonical import: every file, every error kind, all or nothing, upserts, XLSX, dry run."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from dashboard.data.db import get_engine
from dashboard.data.importer import ImportFailed, run_import
from dashboard.data.importer import write as importer
from dashboard.data.models import Base

BASIC = Path(__file__).parent / "fixtures" / "import" / "basic"
BASIC_COUNTS = {
    "sales_reps": 2,
    "customers": 3,
    "invoices": 6,
    "payments": 3,
    "allocations": 3,
    "write_offs": 1,
    "promises": 1,
    "disputes": 2,
    "commissions": 2,
    "activities": 2,
    "fx_rates": 1,
}


def dump(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, to compare a database before and after."""
    with get_engine(url).connect() as conn:
        return {
            t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def rows(url: str, sql_table: str, *columns: str) -> list[tuple]:
    """Selected columns of a table, sorted."""
    t = Base.metadata.tables[sql_table]
    with get_engine(url).connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*(t.c[c] for c in columns))))


def make_dir(tmp_path: Path, files: dict[str, str], name: str = "in") -> Path:
    """A directory holding the given files (name -> CSV text)."""
    directory = tmp_path / name
    directory.mkdir()
    for file, text in files.items():
        (directory / file).write_text(text, encoding="utf-8")
    return directory


def basic_copy(tmp_path: Path) -> Path:
    """A writable copy of the basic fixture set."""
    return Path(shutil.copytree(BASIC, tmp_path / "basic"))


@pytest.fixture
def loaded(db_url: str) -> str:
    """A database holding the basic fixture set."""
    run_import(BASIC, url=db_url, progress=False)
    return db_url


# ---------------------------------------------------------------- a clean import


def test_basic_import_counts_and_values(db_url):
    result = run_import(BASIC, url=db_url, progress=False)
    assert result.counts == BASIC_COUNTS
    assert result.warnings == []
    assert rows(
        db_url, "customers", "customer_id", "terms_days", "terms_type", "credit_limit_cents"
    ) == [
        ("0001", 30, "net", 1_000_000),
        ("0002", 15, "eom", None),  # credit limit 0 = no limit
        ("0003", 30, "net", None),  # blank terms = 30 days net
    ]
    assert rows(db_url, "sales_reps", "sales_rep_id", "group_name", "manager_id") == [
        ("007", "East", None),
        ("008", "West", "007"),
    ]


def test_due_dates_default_from_terms(db_url):
    run_import(BASIC, url=db_url, progress=False)
    assert rows(db_url, "invoices", "invoice_id", "issue_date", "due_date", "amount_cents") == [
        ("CN-001", dt.date(2024, 2, 10), dt.date(2024, 3, 11), -10000),  # net 30
        ("CN-002", dt.date(2024, 2, 12), dt.date(2024, 3, 15), -2000),  # eom 15: 29 Feb + 15
        ("INV-001", dt.date(2024, 1, 10), dt.date(2024, 2, 9), 100000),
        ("INV-002", dt.date(2024, 2, 5), dt.date(2024, 3, 1), 25050),  # given
        ("INV-003", dt.date(2024, 1, 20), dt.date(2024, 2, 15), 9999),  # eom 15: 31 Jan + 15
        ("INV-004", dt.date(2024, 3, 31), dt.date(2024, 4, 30), 1),  # default 30 net
    ]


def test_due_date_uses_terms_of_customer_already_in_database(loaded, tmp_path):
    directory = make_dir(
        tmp_path,
        {"invoices.csv": "invoice_id,customer_id,issue_date,amount\nINV-9,0002,2024-04-10,1.00\n"},
    )
    run_import(directory, url=loaded, progress=False)
    assert ("INV-9", dt.date(2024, 5, 15)) in rows(loaded, "invoices", "invoice_id", "due_date")


def test_due_date_uses_stored_terms_when_the_customers_file_omits_them(loaded, tmp_path):
    files = {
        "customers.csv": "customer_id,name\n0002,Beta Group\n",  # terms stay eom 15
        "invoices.csv": "invoice_id,customer_id,issue_date,amount\nINV-9,0002,2024-04-10,1.00\n",
    }
    run_import(make_dir(tmp_path, files), url=loaded, progress=False)
    assert ("INV-9", dt.date(2024, 5, 15)) in rows(loaded, "invoices", "invoice_id", "due_date")
    assert ("0002", "Beta Group", 15, "eom") in rows(
        loaded, "customers", "customer_id", "name", "terms_days", "terms_type"
    )


def test_not_utf8_is_reported_on_its_row(sqlite_url, tmp_path):
    directory = make_dir(tmp_path, {})
    (directory / "customers.csv").write_bytes(b"customer_id,name\n0001,A\n0002,\xff\n")
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, url=sqlite_url, progress=False)
    assert failure.value.errors == ["customers.csv:3:-: not UTF-8 text (byte 29)"]


def test_leading_zeros_and_flags_survive(db_url):
    run_import(BASIC, url=db_url, progress=False)
    assert rows(db_url, "invoices", "invoice_id", "customer_id", "sales_rep_id", "disputed")[
        :3
    ] == [
        ("CN-001", "0001", None, False),
        ("CN-002", "0002", None, False),
        ("INV-001", "0001", "007", False),
    ]
    assert ("INV-002", True) in rows(db_url, "invoices", "invoice_id", "disputed")
    assert rows(db_url, "commissions", "commission_id", "rate", "settled", "settlement_date") == [
        ("C-1", 0.05, True, dt.date(2024, 2, 28)),
        ("C-2", 0.05, False, None),
    ]
    assert rows(db_url, "disputes", "dispute_id", "status") == [
        ("D-1", "open"),
        ("D-2", "resolved"),
    ]
    assert rows(db_url, "activities", "activity_id", "note") == [
        ("A-1", 'Called AP, they said "next week"'),
        ("A-2", None),
    ]


def test_payment_with_invoice_id_becomes_an_allocation(db_url):
    run_import(BASIC, url=db_url, progress=False)
    assert rows(db_url, "allocations", "payment_id", "invoice_id", "amount_cents", "date") == [
        ("P-001", "INV-001", 40000, dt.date(2024, 2, 2)),
        ("P-002", "INV-002", 25050, None),  # the whole payment; dated by the payment
        ("P-003", "INV-003", 5000, None),
    ]


def test_credit_note_applies_to_invoice(db_url):
    run_import(BASIC, url=db_url, progress=False)
    assert rows(db_url, "invoices", "invoice_id", "applies_to")[:2] == [
        ("CN-001", "INV-001"),
        ("CN-002", None),
    ]


def test_credit_note_may_apply_to_invoice_already_in_database(loaded, tmp_path):
    text = (
        "invoice_id,customer_id,issue_date,amount,applies_to\nCN-9,0001,2024-04-01,-5.00,INV-002\n"
    )
    run_import(make_dir(tmp_path, {"invoices.csv": text}), url=loaded, progress=False)
    assert ("CN-9", -500, "INV-002") in rows(
        loaded, "invoices", "invoice_id", "amount_cents", "applies_to"
    )


def test_import_bumps_data_version(db_url):
    from dashboard.data.schema import data_version

    before = data_version(db_url)
    run_import(BASIC, url=db_url, progress=False)
    assert data_version(db_url) == before + 1


def test_money_is_exact_cents(db_url, tmp_path):
    amounts = ["0.1", "0.2", "19.99", "+3", "-0.05", "1234567890123.45", "7.", ".5", "2.500"]
    lines = "".join(f"I{i},0001,2024-01-01,{a}\n" for i, a in enumerate(amounts))
    directory = make_dir(
        tmp_path,
        {
            "customers.csv": "customer_id,name\n0001,A\n",
            "invoices.csv": "invoice_id,customer_id,issue_date,amount\n" + lines,
        },
    )
    run_import(directory, url=db_url, progress=False)
    got = dict(rows(db_url, "invoices", "invoice_id", "amount_cents"))
    assert [got[f"I{i}"] for i in range(len(amounts))] == [
        10,
        20,
        1999,
        300,
        -5,
        123456789012345,
        700,
        50,
        250,
    ]


# ---------------------------------------------------------------- warnings


def test_extra_column_and_unknown_file_warn(db_url, tmp_path):
    directory = make_dir(
        tmp_path,
        {
            "customers.csv": "customer_id,name,favourite_colour\n0001,Acme,blue\n",
            "notes.txt": "hello\n",
            "invoices_2023.csv": "x\n",
        },
    )
    result = run_import(directory, url=db_url, progress=False)
    assert result.counts == {"customers": 1}
    assert result.warnings == [
        "customers.csv: column favourite_colour ignored",
        "invoices_2023.csv: unknown file ignored (not one of sales_reps, customers, invoices, payments, "
        "allocations, write_offs, promises, disputes, commissions, activities, fx_rates as .csv or .xlsx)",
        "notes.txt: unknown file ignored (not one of sales_reps, customers, invoices, payments, "
        "allocations, write_offs, promises, disputes, commissions, activities, fx_rates as .csv or .xlsx)",
    ]


# ---------------------------------------------------------------- every error kind, nothing written

INV = "invoice_id,customer_id,issue_date,amount\n"
INV_AT = "invoice_id,customer_id,issue_date,amount,applies_to\n"
PAY = "payment_id,customer_id,date,amount,invoice_id\n"
ALLOC = "payment_id,invoice_id,amount\n"

ERROR_CASES = {
    "missing required column": (
        {"customers.csv": "customer_id,segment\nC9,SMB\n"},
        ["customers.csv:1:name: required column missing"],
    ),
    "blank required value": (
        {"customers.csv": "customer_id,name\nC9,Zeta\nC10,\n"},
        ["customers.csv:3:name: required value is blank"],
    ),
    "bad date format": (
        {"invoices.csv": INV + "X1,0001,2024/01/10,5.00\n"},
        ["invoices.csv:2:issue_date: not a date (expected YYYY-MM-DD): '2024/01/10'"],
    ),
    "impossible date": (
        {"invoices.csv": INV + "X1,0001,2024-02-30,5.00\n"},
        ["invoices.csv:2:issue_date: not a date (expected YYYY-MM-DD): '2024-02-30'"],
    ),
    "non-numeric amount": (
        {"invoices.csv": INV + 'X1,0001,2024-01-10,"12,50"\n'},
        ["invoices.csv:2:amount: not a number: '12,50'"],
    ),
    "more than 2 decimal places": (
        {"invoices.csv": INV + "X1,0001,2024-01-10,1.005\n"},
        ["invoices.csv:2:amount: more than 2 decimal places: '1.005'"],
    ),
    "NaN and inf": (
        {
            "invoices.csv": INV
            + "X1,0001,2024-01-10,NaN\nX2,0001,2024-01-10,inf\nX3,0001,2024-01-10,-Infinity\n"
        },
        [
            "invoices.csv:2:amount: not a number: 'NaN'",
            "invoices.csv:3:amount: not a number: 'inf'",
            "invoices.csv:4:amount: not a number: '-Infinity'",
        ],
    ),
    "bad terms_type": (
        {"customers.csv": "customer_id,name,terms_type\nC9,Zeta,monthly\n"},
        ["customers.csv:2:terms_type: not one of net, eom: 'monthly'"],
    ),
    "bad terms_days": (
        {"customers.csv": "customer_id,name,terms_days\nC9,Zeta,-5\n"},
        ["customers.csv:2:terms_days: not a whole number of days: '-5'"],
    ),
    "bad dispute status": (
        {
            "disputes.csv": "dispute_id,invoice_id,opened_on,amount,status\nD9,INV-001,2024-03-01,1.00,closed\n"
        },
        ["disputes.csv:2:status: not one of open, resolved, litigation: 'closed'"],
    ),
    "bad settled flag": (
        {
            "commissions.csv": "commission_id,sales_rep_id,earned_date,amount,settled\nC9,007,2024-03-01,1.00,maybe\n"
        },
        ["commissions.csv:2:settled: not true or false: 'maybe'"],
    ),
    "unknown customer": (
        {"invoices.csv": INV + "X1,C404,2024-01-10,5.00\n"},
        ["invoices.csv:2:customer_id: unknown customer 'C404'"],
    ),
    "unknown invoice": (
        {"payments.csv": PAY + "P-9,0001,2024-03-01,5.00,INV-404\n"},
        ["payments.csv:2:invoice_id: unknown invoice 'INV-404'"],
    ),
    "unknown payment": (
        {"allocations.csv": ALLOC + "P-404,INV-001,5.00\n"},
        ["allocations.csv:2:payment_id: unknown payment 'P-404'"],
    ),
    "unknown sales rep": (
        {"customers.csv": "customer_id,name,sales_rep_id\nC9,Zeta,7\n"},
        ["customers.csv:2:sales_rep_id: unknown sales rep '7'"],
    ),
    "duplicate id in a file": (
        {
            "invoices.csv": INV
            + "X1,0001,2024-01-10,5.00\nX2,0001,2024-01-10,5.00\nX1,0001,2024-01-11,6.00\n"
        },
        ["invoices.csv:4:invoice_id: duplicate invoice_id 'X1' (first on row 2)"],
    ),
    "duplicate allocation pair": (
        {
            "payments.csv": PAY + "P-9,0001,2024-03-01,100.00,\n",
            "allocations.csv": ALLOC + "P-9,INV-002,1.00\nP-9,INV-002,2.00\n",
        },
        ["allocations.csv:3:invoice_id: duplicate payment_id and invoice_id (first on row 2)"],
    ),
    "allocations exceed their payment": (
        {
            "payments.csv": PAY + "P-9,0001,2024-03-01,100.00,\n",
            "allocations.csv": ALLOC + "P-9,INV-001,60.00\nP-9,INV-002,40.01\n",
        },
        [
            "allocations.csv:3:amount: allocations of payment 'P-9' total 100.01, more than its amount 100.00"
        ],
    ),
    "allocations exceed their payment with stored ones": (
        {
            "allocations.csv": ALLOC + "P-001,INV-002,0.01\n"
        },  # P-001 (400.00) already allocates 400.00
        [
            "allocations.csv:2:amount: allocations of payment 'P-001' total 400.01, more than its amount 400.00"
        ],
    ),
    "payment cut below its stored allocations": (
        {"payments.csv": PAY + "P-001,0001,2024-02-01,399.99,\n"},
        [
            "payments.csv:2:amount: allocations of payment 'P-001' total 400.00, more than its amount 399.99"
        ],
    ),
    "allocation to a credit note": (
        {
            "payments.csv": PAY + "P-9,0002,2024-03-01,10.00,\n",
            "allocations.csv": ALLOC + "P-9,CN-002,10.00\n",
        },
        ["allocations.csv:2:invoice_id: invoice 'CN-002' is a credit note"],
    ),
    "allocation to another customer's invoice": (
        {"allocations.csv": ALLOC + "P-003,INV-001,0.00\n"},
        ["allocations.csv:2:invoice_id: invoice 'INV-001' belongs to customer '0001', not '0002'"],
    ),
    "allocation doubling a payment's invoice_id": (
        {
            "payments.csv": PAY + "P-9,0001,2024-03-01,10.00,INV-001\n",
            "allocations.csv": ALLOC + "P-9,INV-001,10.00\n",
        },
        [
            "allocations.csv:2:invoice_id: payment 'P-9' already applies in full to this invoice (its invoice_id)"
        ],
    ),
    "negative payment amount": (
        {"payments.csv": PAY + "P-9,0001,2024-03-01,-5.00,\n"},
        ["payments.csv:2:amount: must not be negative: '-5.00'"],
    ),
    "payment to a credit note": (
        {"payments.csv": PAY + "P-9,0001,2024-03-01,5.00,CN-001\n"},
        ["payments.csv:2:invoice_id: invoice 'CN-001' is a credit note"],
    ),
    "credit note applies to an unknown invoice": (
        {"invoices.csv": INV_AT + "CN-9,0001,2024-03-01,-5.00,INV-404\n"},
        ["invoices.csv:2:applies_to: unknown invoice 'INV-404'"],
    ),
    "credit note applies to another customer's invoice": (
        {"invoices.csv": INV_AT + "CN-9,0002,2024-03-01,-5.00,INV-001\n"},
        ["invoices.csv:2:applies_to: invoice 'INV-001' belongs to customer '0001', not '0002'"],
    ),
    "credit note applies to a credit note": (
        {"invoices.csv": INV_AT + "CN-9,0001,2024-03-01,-5.00,CN-9\n"},
        ["invoices.csv:2:applies_to: invoice 'CN-9' is a credit note"],
    ),
    "applies_to on a positive invoice": (
        {"invoices.csv": INV_AT + "X1,0001,2024-03-01,5.00,INV-001\n"},
        ["invoices.csv:2:applies_to: only a credit note (negative amount) applies to an invoice"],
    ),
    "due date before issue date": (
        {
            "invoices.csv": "invoice_id,customer_id,issue_date,due_date,amount\nX1,0001,2024-03-01,2024-02-28,5.00\n"
        },
        ["invoices.csv:2:due_date: due_date is before issue_date"],
    ),
    "negative write-off": (
        {"write_offs.csv": "invoice_id,date,amount\nINV-001,2024-06-30,-1.00\n"},
        ["write_offs.csv:2:amount: must not be negative: '-1.00'"],
    ),
    "dispute resolved before opened": (
        {
            "disputes.csv": "dispute_id,invoice_id,opened_on,amount,resolved_on\nD9,INV-001,2024-03-01,1.00,2024-02-01\n"
        },
        ["disputes.csv:2:resolved_on: resolved_on is before opened_on"],
    ),
    "value too long for its column": (
        {"customers.csv": "customer_id,name,currency\nC9,Zeta,EURO\n"},
        ["customers.csv:2:currency: longer than 3 characters: 'EURO'"],
    ),
    "ragged row": (
        {"customers.csv": "customer_id,name\nC9,Zeta\nC10,Eta,extra\n"},
        ["customers.csv:3:-: 3 fields, the header has 2"],
    ),
    "duplicate header": (
        {"customers.csv": "customer_id,name,name\nC9,Zeta,Z\n"},
        ["customers.csv:1:name: duplicate column"],
    ),
}


def test_each_error_kind_is_reported_exactly_and_nothing_written(loaded, tmp_path):
    """One database per backend for all cases (each case is independent: nothing is ever written)."""
    before = dump(loaded)
    mismatches = {}
    for number, (case, (files, expected)) in enumerate(ERROR_CASES.items()):
        try:
            run_import(make_dir(tmp_path, files, name=f"case{number}"), url=loaded, progress=False)
            got: list[str] | str = "no error raised"
        except ImportFailed as failure:
            got = failure.errors
        if got != expected:
            mismatches[case] = got
        if dump(loaded) != before:
            mismatches[case] = "database changed"
    assert mismatches == {}


def test_every_error_is_collected_in_file_then_row_order(loaded, tmp_path):
    files = {
        "customers.csv": "customer_id,name,terms_type,credit_limit\nC9,,weekly,abc\nC10,Eta,net,-1\n",
        "invoices.csv": INV
        + "X1,C9,2024-13-01,5.00\nX2,C404,2024-01-01,5.001\nX1,0001,2024-01-01,1\n",
        "payments.csv": PAY + "P-9,C404,01/02/2024,-1,X404\n",
    }
    before = dump(loaded)
    with pytest.raises(ImportFailed) as failure:
        run_import(make_dir(tmp_path, files), url=loaded, progress=False)
    assert failure.value.errors == [
        "customers.csv:2:name: required value is blank",
        "customers.csv:2:terms_type: not one of net, eom: 'weekly'",
        "customers.csv:2:credit_limit: not a number: 'abc'",
        "customers.csv:3:credit_limit: must not be negative: '-1'",
        "invoices.csv:2:issue_date: not a date (expected YYYY-MM-DD): '2024-13-01'",
        "invoices.csv:3:amount: more than 2 decimal places: '5.001'",
        "invoices.csv:3:customer_id: unknown customer 'C404'",
        "invoices.csv:4:invoice_id: duplicate invoice_id 'X1' (first on row 2)",
        "payments.csv:2:date: not a date (expected YYYY-MM-DD): '01/02/2024'",
        "payments.csv:2:amount: must not be negative: '-1'",
        "payments.csv:2:customer_id: unknown customer 'C404'",
        "payments.csv:2:invoice_id: unknown invoice 'X404'",
    ]
    assert dump(loaded) == before


def test_same_table_twice_is_an_error(loaded, tmp_path):
    directory = make_dir(
        tmp_path,
        {"customers.csv": "customer_id,name\nC9,Z\n", "Customers.CSV": "customer_id,name\nC9,Z\n"},
    )
    before = dump(loaded)
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, url=loaded, progress=False)
    assert failure.value.errors == ["customers.csv:1:-: customers is also given by Customers.CSV"]
    assert dump(loaded) == before


def test_not_a_directory(sqlite_url, tmp_path):
    with pytest.raises(ImportFailed) as failure:
        run_import(tmp_path / "missing", url=sqlite_url, progress=False)
    assert failure.value.errors == [f"{tmp_path / 'missing'}:-:-: not a directory"]


# ---------------------------------------------------------------- all or nothing while writing


def test_failure_mid_write_leaves_database_unchanged(loaded, tmp_path, monkeypatch):
    directory = basic_copy(tmp_path)
    (directory / "customers.csv").write_text("customer_id,name\n0001,Renamed\nC-NEW,New\n")
    real = importer._upsert
    calls = []

    def failing(conn, step, batch):
        calls.append(step.spec.model.__tablename__)
        if step.spec.model.__tablename__ == "payments":
            raise RuntimeError("killed mid-write")
        real(conn, step, batch)

    monkeypatch.setattr(importer, "_upsert", failing)
    before = dump(loaded)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        run_import(directory, url=loaded, progress=False)
    assert {"sales_reps", "customers", "invoices"} <= set(calls)  # rows were written, then undone
    assert calls[-1] == "payments"
    assert dump(loaded) == before


def test_database_error_mid_write_is_reported_and_rolled_back(loaded, tmp_path, monkeypatch):
    def broken(conn, pairs):
        raise OperationalError("DELETE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(importer, "_delete_stale", broken)
    before = dump(loaded)
    with pytest.raises(ImportFailed) as failure:
        run_import(basic_copy(tmp_path), url=loaded, progress=False)
    assert failure.value.errors == ["database:-:-: disk I/O error; nothing was written"]
    assert dump(loaded) == before


def test_dry_run_validates_and_writes_nothing(db_url):
    before = dump(db_url)
    result = run_import(BASIC, url=db_url, dry_run=True, progress=False)
    assert result.counts == BASIC_COUNTS
    assert dump(db_url) == before


def test_dry_run_still_reports_errors(loaded, tmp_path):
    with pytest.raises(ImportFailed) as failure:
        run_import(
            make_dir(tmp_path, {"invoices.csv": INV + "X1,C404,2024-01-10,5.00\n"}),
            url=loaded,
            dry_run=True,
            progress=False,
        )
    assert failure.value.errors == ["invoices.csv:2:customer_id: unknown customer 'C404'"]


# ---------------------------------------------------------------- re-import


def test_reimport_is_idempotent(db_url):
    first = run_import(BASIC, url=db_url, progress=False)
    bookkeeping = {"data_version", "ledger_changes"}  # the version counter and its change log
    snapshot = {k: v for k, v in dump(db_url).items() if k not in bookkeeping}
    second = run_import(BASIC, url=db_url, progress=False)
    assert second.counts == first.counts
    assert {k: v for k, v in dump(db_url).items() if k not in bookkeeping} == snapshot


def test_reimport_updates_values_never_duplicates(loaded, tmp_path):
    directory = make_dir(
        tmp_path,
        {
            "customers.csv": "customer_id,name\n0001,Acme Holdings\n",
            "invoices.csv": INV + "INV-001,0001,2024-01-10,1200.00\n",
            "allocations.csv": ALLOC + "P-001,INV-001,350.00\n",
            "write_offs.csv": "invoice_id,date,amount,reason\nINV-003,2024-06-30,40.00,settled\n",
        },
    )
    result = run_import(directory, url=loaded, progress=False)
    assert result.counts == {"customers": 1, "invoices": 1, "allocations": 1, "write_offs": 1}
    customers = rows(loaded, "customers", "customer_id", "name", "segment", "credit_limit_cents")
    assert customers[0] == ("0001", "Acme Holdings", "Enterprise", 1_000_000)  # absent columns kept
    assert len(customers) == 3
    assert ("INV-001", 120000) in rows(loaded, "invoices", "invoice_id", "amount_cents")
    assert len(rows(loaded, "invoices", "invoice_id")) == 6
    allocations = rows(loaded, "allocations", "payment_id", "invoice_id", "amount_cents", "date")
    assert allocations[0] == ("P-001", "INV-001", 35000, dt.date(2024, 2, 2))
    assert len(allocations) == 3
    assert rows(loaded, "write_offs", "invoice_id", "date", "amount_cents", "reason") == [
        ("INV-003", dt.date(2024, 6, 30), 4000, "settled")
    ]


def test_changing_a_payments_invoice_moves_its_allocation(loaded, tmp_path):
    directory = make_dir(tmp_path, {"payments.csv": PAY + "P-002,0001,2024-03-01,250.50,INV-001\n"})
    run_import(directory, url=loaded, progress=False)
    allocations = rows(loaded, "allocations", "payment_id", "invoice_id", "amount_cents")
    assert ("P-002", "INV-002", 25050) not in allocations
    assert ("P-002", "INV-001", 25050) in allocations
    directory = make_dir(
        tmp_path, {"payments.csv": PAY + "P-002,0001,2024-03-01,250.50,\n"}, name="again"
    )
    run_import(directory, url=loaded, progress=False)
    assert [a for a in rows(loaded, "allocations", "payment_id") if a[0] == "P-002"] == []


# ---------------------------------------------------------------- XLSX


def test_xlsx_import(db_url, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    directory = tmp_path / "xlsx"
    directory.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer_id", "name", "credit_limit", "created_on"])
    sheet.append(["0001", "Acme", 2500.5, dt.datetime(2023, 1, 15)])
    sheet.append(["0002", "Beta", 100, "2023-02-01"])
    book.save(directory / "customers.xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["invoice_id", "customer_id", "issue_date", "amount"])
    sheet.append(["00042", "0001", dt.date(2024, 1, 10), 19.99])
    sheet.append([None, None, None, None])  # blank rows are skipped, numbering is kept
    sheet.append(["00043", "0002", "2024-01-11", "bad"])
    book.save(directory / "invoices.xlsx")
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, url=db_url, progress=False)
    assert failure.value.errors == ["invoices.xlsx:4:amount: not a number: 'bad'"]
    sheet["D4"] = 5
    book.save(directory / "invoices.xlsx")
    result = run_import(directory, url=db_url, progress=False)
    assert result.counts == {"customers": 2, "invoices": 2}
    assert rows(db_url, "customers", "customer_id", "credit_limit_cents", "created_on") == [
        ("0001", 250050, dt.date(2023, 1, 15)),
        ("0002", 10000, dt.date(2023, 2, 1)),
    ]
    assert rows(db_url, "invoices", "invoice_id", "issue_date", "amount_cents") == [
        ("00042", dt.date(2024, 1, 10), 1999),
        ("00043", dt.date(2024, 1, 11), 500),
    ]


# ---------------------------------------------------------------- CSV details


def test_csv_rows_are_physical_lines(db_url, tmp_path):
    text = 'customer_id,name\r\n"C1","multi\nline name"\r\n\r\nC2,\r\n'
    directory = make_dir(tmp_path, {})
    (directory / "customers.csv").write_bytes(text.encode("utf-8-sig"))
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, url=db_url, progress=False)
    assert failure.value.errors == ["customers.csv:5:name: required value is blank"]


def test_cli_import_reports_errors_and_exit_code(loaded, tmp_path, capsys):
    from dashboard.cli import main

    bad = make_dir(tmp_path, {"invoices.csv": INV + "X1,C404,2024-01-10,5.00\n"})
    assert main(["import", str(bad), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "invoices.csv:2:customer_id: unknown customer 'C404'" in err
    assert "the database is unchanged" in err
    assert main(["import", str(BASIC), "--quiet", "--dry-run"]) == 0
    assert "would import: 2 sales_reps, 3 customers, 6 invoices" in capsys.readouterr().err
