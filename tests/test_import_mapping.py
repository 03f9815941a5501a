"""Mapping files (TOML) for foreign layouts, and the IBM late-payment sample through its mapping."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.data.db import get_engine
from dashboard.data.importer import ImportFailed, run_import
from dashboard.data.models import Allocation, Base, Customer, Invoice, Payment

ROOT = Path(__file__).resolve().parent.parent
IBM_DIR = ROOT.parent / "shared" / "external"
IBM_CSV = IBM_DIR / "ibm-late-payment-histories.csv"
IBM_MAPPING = ROOT / "dashboard" / "mappings" / "ibm-late-payment-histories.toml"
FOREIGN = Path(__file__).parent / "fixtures" / "import" / "foreign"
IGNORED = [
    "ibm-late-payment-histories.csv: column PaperlessDate ignored",
    "ibm-late-payment-histories.csv: column PaperlessBill ignored",
    "ibm-late-payment-histories.csv: column DaysToSettle ignored",
    "ibm-late-payment-histories.csv: column DaysLate ignored",
]
needs_ibm = pytest.mark.skipif(not IBM_CSV.exists(), reason="shared/external sample not present")


def dump(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, to compare a database before and after."""
    with get_engine(url).connect() as conn:
        return {
            t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def scalar(url: str, stmt) -> object:
    """One value from the database."""
    with get_engine(url).connect() as conn:
        return conn.execute(stmt).scalar()


def cents(text: str) -> int:
    """A decimal amount in cents, independently of the importer."""
    value = Decimal(text) * 100
    assert value == value.to_integral_value()
    return int(value)


def mdy(text: str) -> dt.date:
    """An M/D/YYYY date."""
    return dt.datetime.strptime(text, "%m/%d/%Y").date()


def read_ibm() -> list[dict[str, str]]:
    """The IBM sample read with the csv module."""
    with IBM_CSV.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def foreign_copy(tmp_path: Path) -> Path:
    """A writable copy of the small IBM-layout fixture."""
    return Path(shutil.copytree(FOREIGN, tmp_path / "foreign"))


# ---------------------------------------------------------------- the IBM sample


@needs_ibm
def test_ibm_sample_imports_with_counts_and_sums_of_the_file(db_url):
    source = read_ibm()
    settled = [r for r in source if r["SettledDate"].strip()]
    result = run_import(IBM_DIR, mapping=IBM_MAPPING, url=db_url, progress=False)
    assert result.counts == {
        "customers": len({r["customerID"] for r in source}),
        "invoices": len(source),
        "payments": len(settled),
        "allocations": len(settled),
    }
    assert result.counts["invoices"] == 2466
    assert result.warnings == IGNORED
    assert scalar(db_url, select(func.count()).select_from(Invoice)) == len(source)
    assert scalar(db_url, select(func.sum(Invoice.amount_cents))) == sum(
        cents(r["InvoiceAmount"]) for r in source
    )
    assert scalar(db_url, select(func.sum(Payment.amount_cents))) == sum(
        cents(r["InvoiceAmount"]) for r in settled
    )
    assert scalar(db_url, select(func.sum(Allocation.amount_cents))) == sum(
        cents(r["InvoiceAmount"]) for r in settled
    )
    disputed = sum(r["Disputed"] == "Yes" for r in source)
    assert (
        scalar(db_url, select(func.count()).select_from(Invoice).where(Invoice.disputed.is_(True)))
        == disputed
    )


@needs_ibm
def test_ibm_sample_rows_match_the_file_one_by_one(db_url):
    source = read_ibm()
    run_import(IBM_DIR, mapping=IBM_MAPPING, url=db_url, progress=False)
    with get_engine(db_url).connect() as conn:
        invoices = {
            tuple(r)
            for r in conn.execute(
                select(
                    Invoice.invoice_id,
                    Invoice.customer_id,
                    Invoice.issue_date,
                    Invoice.due_date,
                    Invoice.amount_cents,
                )
            )
        }
        payments = {
            tuple(r)
            for r in conn.execute(select(Payment.invoice_id, Payment.date, Payment.amount_cents))
        }
        regions = dict(conn.execute(select(Customer.customer_id, Customer.region)).all())
    assert invoices == {
        (
            r["invoiceNumber"],
            r["customerID"],
            mdy(r["InvoiceDate"]),
            mdy(r["DueDate"]),
            cents(r["InvoiceAmount"]),
        )
        for r in source
    }
    assert payments == {
        (r["invoiceNumber"], mdy(r["SettledDate"]), cents(r["InvoiceAmount"]))
        for r in source
        if r["SettledDate"]
    }
    assert regions == {r["customerID"]: r["countryCode"] for r in source}
    assert any(i.startswith("000") for i, *_ in invoices)  # leading zeros kept


@needs_ibm
def test_ibm_sample_reimport_changes_nothing(sqlite_url):
    first = run_import(IBM_DIR, mapping=IBM_MAPPING, url=sqlite_url, progress=False)
    bookkeeping = {"data_version", "ledger_changes"}  # the version counter and its change log
    before = {k: v for k, v in dump(sqlite_url).items() if k not in bookkeeping}
    second = run_import(IBM_DIR, mapping=IBM_MAPPING, url=sqlite_url, progress=False)
    assert second.counts == first.counts
    assert {k: v for k, v in dump(sqlite_url).items() if k not in bookkeeping} == before


@needs_ibm
def test_documented_command_from_the_repo_root(sqlite_url, monkeypatch, capsys):
    from dashboard.cli import main

    monkeypatch.chdir(ROOT)
    args = [
        "import",
        "../shared/external",
        "--mapping",
        "dashboard/mappings/ibm-late-payment-histories.toml",
    ]
    assert main([*args, "--quiet"]) == 0
    assert (
        "imported: 100 customers, 2466 invoices, 2466 payments, 2466 allocations"
        in capsys.readouterr().err
    )


# ---------------------------------------------------------------- the mapping features


def test_blank_settled_date_means_no_payment(db_url):
    result = run_import(FOREIGN, mapping=IBM_MAPPING, url=db_url, progress=False)
    assert result.counts == {"customers": 2, "invoices": 3, "payments": 2, "allocations": 2}
    with get_engine(db_url).connect() as conn:
        paid = sorted(
            tuple(r)
            for r in conn.execute(
                select(Allocation.payment_id, Allocation.invoice_id, Allocation.amount_cents)
            )
        )
        customers = sorted(
            tuple(r)
            for r in conn.execute(
                select(Customer.customer_id, Customer.name, Customer.region, Customer.terms_days)
            )
        )
        disputed = dict(conn.execute(select(Invoice.invoice_id, Invoice.disputed)).all())
    assert paid == [("PAY-0000611365", "0000611365", 5594), ("PAY-0007900770", "0007900770", 6174)]
    assert customers == [
        ("0379-NEVHP", "0379-NEVHP", "391", 30),
        ("8976-AMJEO", "8976-AMJEO", "406", 30),
    ]
    assert disputed == {"0000611365": False, "0007900770": True, "0009231909": False}


def test_packaged_mapping_by_name(sqlite_url):
    result = run_import(
        FOREIGN, mapping=Path("ibm-late-payment-histories"), url=sqlite_url, progress=False
    )
    assert result.counts["invoices"] == 3


def test_source_errors_name_the_source_file_row_and_column(db_url, tmp_path):
    directory = foreign_copy(tmp_path)
    path = directory / "ibm-late-payment-histories.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("1/26/2013", "13/45/2013").replace(",Yes,", ",Maybe,")
    lines[3] = lines[3].replace(",94,", ",abc,").replace("0009231909", "0000611365")
    path.write_text("\n".join(lines) + "\n")
    run_import(FOREIGN, mapping=IBM_MAPPING, url=db_url, progress=False)
    before = dump(db_url)
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, mapping=IBM_MAPPING, url=db_url, progress=False)
    src = "ibm-late-payment-histories.csv"
    assert failure.value.errors == [
        f"{src}:3:InvoiceDate: not a date (expected %m/%d/%Y): '13/45/2013'",
        f"{src}:3:Disputed: not true or false: 'Maybe'",
        f"{src}:4:InvoiceAmount: not a number: 'abc'",
        f"{src}:4:invoiceNumber: duplicate invoice_id '0000611365' (first on row 2)",
    ]
    assert dump(db_url) == before


def test_templates_constants_values_distinct_and_delimiter(sqlite_url, tmp_path):
    directory = tmp_path / "erp"
    directory.mkdir()
    (directory / "open_items.txt").write_text(
        "Kunde;Name;Beleg;Datum;Betrag;Art\n"
        "K01;Alpha;100;31.01.2024;1.234,50;RE\n"
        "K01;Alpha AG;101;15.02.2024;10,00;GS\n"
        "K02;Beta;102;01.03.2024;5,00;RE\n"
    )
    (directory / "sales_reps.csv").write_text("sales_rep_id,name\nR1,Rita\n")
    mapping = tmp_path / "erp.toml"
    mapping.write_text(
        """
[files.customers]
source = "open_items.txt"
delimiter = ";"
distinct = ["customer_id"]
columns = { customer_id = "Kunde", name = "Name" }
constants = { sales_rep_id = "R1", terms_type = "eom", terms_days = 0 }

[files.invoices]
source = "open_items.txt"
delimiter = ";"
date_format = "%d.%m.%Y"
columns = { customer_id = "Kunde", issue_date = "Datum", amount = "Betrag", disputed = "Art" }
templates = { invoice_id = "{Art}-{Beleg}" }
values.disputed = { RE = "false", GS = "false" }
"""
    )
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, mapping=mapping, url=sqlite_url, progress=False)
    assert failure.value.errors == [  # no decimal-comma support: amounts must be plain decimals
        "open_items.txt:2:Betrag: not a number: '1.234,50'",
        "open_items.txt:3:Betrag: not a number: '10,00'",
        "open_items.txt:4:Betrag: not a number: '5,00'",
    ]
    text = (directory / "open_items.txt").read_text()
    (directory / "open_items.txt").write_text(
        text.replace("1.234,50", "1234.50").replace("10,00", "-10").replace("5,00", "5")
    )
    result = run_import(directory, mapping=mapping, url=sqlite_url, progress=False)
    assert result.counts == {"sales_reps": 1, "customers": 2, "invoices": 3}
    assert result.warnings == [
        "open_items.txt: column Name differs between rows of the same customer_id for 1 value(s) "
        "of customers; the first row of each was kept",
    ]
    with get_engine(sqlite_url).connect() as conn:
        invoices = sorted(
            tuple(r)
            for r in conn.execute(
                select(Invoice.invoice_id, Invoice.due_date, Invoice.amount_cents)
            )
        )
        names = dict(conn.execute(select(Customer.customer_id, Customer.name)).all())
    assert invoices == [
        ("GS-101", dt.date(2024, 2, 29), -1000),  # eom + 0 days
        ("RE-100", dt.date(2024, 1, 31), 123450),
        ("RE-102", dt.date(2024, 3, 31), 500),
    ]
    assert names == {"K01": "Alpha", "K02": "Beta"}


def test_xlsx_source_with_sheet(sqlite_url, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    directory = tmp_path / "x"
    directory.mkdir()
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Debtors")
    sheet.append(["No", "Company"])
    sheet.append(["00017", "Seventeen Ltd"])
    book.save(directory / "debtors.xlsx")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[files.customers]\nsource = "debtors.xlsx"\nsheet = "Debtors"\ncolumns = { customer_id = "No", name = "Company" }\n'
    )
    assert run_import(directory, mapping=mapping, url=sqlite_url, progress=False).counts == {
        "customers": 1
    }
    assert scalar(sqlite_url, select(Customer.customer_id)) == "00017"


MAPPING_ERRORS = {
    "unknown table": (
        '[files.debtors]\nsource = "a.csv"\n',
        [
            "m.toml:-:files.debtors: unknown table (expected one of sales_reps, customers, invoices, payments, allocations, write_offs, promises, disputes, commissions, activities, fx_rates)"
        ],
    ),
    "unknown column": (
        '[files.customers]\nsource = "a.csv"\ncolumns = { customer_id = "id", nickname = "n" }\n',
        ["m.toml:-:files.customers.columns.nickname: not a column of customers"],
    ),
    "unknown key": (
        '[files.customers]\nsource = "a.csv"\nrename = { customer_id = "id" }\n',
        [
            "m.toml:-:files.customers.rename: unknown key (expected columns, constants, date_format, delimiter, distinct, sheet, skip_if_blank, source, templates, values)"
        ],
    ),
    "no source": (
        '[files.customers]\ncolumns = { customer_id = "id" }\n',
        ["m.toml:-:files.customers.source: missing: the file in DIR to read"],
    ),
    "bad template": (
        '[files.customers]\nsource = "a.csv"\ntemplates = { name = "{id:>5}" }\n',
        ["m.toml:-:files.customers.templates.name: bad template: use plain {column} placeholders"],
    ),
    "defined twice": (
        '[files.customers]\nsource = "a.csv"\ncolumns = { name = "n" }\nconstants = { name = "x" }\n',
        ["m.toml:-:files.customers.constants.name: defined more than once"],
    ),
    "values of an unfilled column": (
        '[files.customers]\nsource = "a.csv"\nvalues.tier = { A = "Gold" }\n',
        ["m.toml:-:files.customers.values: tier is not filled by this mapping"],
    ),
    "not TOML": (
        "[files.customers\n",
        [
            "m.toml:-:-: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 17)"
        ],
    ),
}


@pytest.mark.parametrize("case", list(MAPPING_ERRORS))
def test_mapping_file_errors(sqlite_url, tmp_path, case):
    text, expected = MAPPING_ERRORS[case]
    (tmp_path / "m.toml").write_text(text)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("id,n\n1,x\n")
    with pytest.raises(ImportFailed) as failure:
        run_import(tmp_path / "in", mapping=tmp_path / "m.toml", url=sqlite_url, progress=False)
    assert failure.value.errors == expected


def test_mapping_source_and_columns_must_exist(sqlite_url, tmp_path):
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "a.csv").write_text("id,n\n1,x\n")
    (directory / "customers.csv").write_text("customer_id,name\n1,x\n")
    (tmp_path / "m.toml").write_text(
        '[files.customers]\nsource = "a.csv"\ncolumns = { customer_id = "id", name = "Name" }\n'
        '[files.invoices]\nsource = "missing.csv"\ncolumns = { invoice_id = "x" }\n'
    )
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, mapping=tmp_path / "m.toml", url=sqlite_url, progress=False)
    assert failure.value.errors == [
        f"m.toml:-:files.invoices.source: no file 'missing.csv' in {directory}",
        "a.csv:1:Name: column missing (read by the mapping for customers)",
        "customers.csv:1:-: the mapping also defines customers; remove one of them",
    ]


def test_mapped_and_canonical_files_import_together(sqlite_url, tmp_path):
    directory = foreign_copy(tmp_path)
    (directory / "sales_reps.csv").write_text("sales_rep_id,name\n01,Ann\n")
    (directory / "activities.csv").write_text(
        "activity_id,customer_id,date,channel\nA1,0379-NEVHP,2013-02-01,call\n"
    )
    result = run_import(directory, mapping=IBM_MAPPING, url=sqlite_url, progress=False)
    assert result.counts == {
        "sales_reps": 1,
        "customers": 2,
        "invoices": 3,
        "payments": 2,
        "allocations": 2,
        "activities": 1,
    }
    assert Counter(w.split(":")[0] for w in result.warnings) == {
        "ibm-late-payment-histories.csv": 4
    }
