"""The columnar (ADBC / Arrow) ledger read gives the same frames as a plain SQL read, on both backends."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, text

from dashboard.data.db import get_engine
from dashboard.data.ledger_load import (
    CORE_TABLES,
    LAZY_TABLES,
    adbc_target,
    arrow_frame,
    read_arrow,
    read_ledger,
)
from dashboard.data.models import (
    Activity,
    Allocation,
    Commission,
    Customer,
    Dispute,
    FxRate,
    Invoice,
    Payment,
    Promise,
    SalesRep,
    WriteOff,
)
from dashboard.data.schema import bump_data_version, written_of

ALL = CORE_TABLES + LAZY_TABLES
FILLER = 1_500  # more than the SQLite driver's default 1,024-row type-inference batch
D = dt.date


def _fill(url: str) -> None:
    """Nulls, negative amounts and three currencies; the first FILLER invoices have no applies_to,
    cost or currency, so those columns are NULL for the first 1,500 rows and text only after."""
    filler = [
        {
            "invoice_id": f"F{i:05d}",
            "customer_id": "C1",
            "issue_date": D(2024, 1, 1),
            "due_date": D(2024, 1, 31),
            "amount_cents": 100 + i,
            "cost_cents": None,
            "applies_to": None,
            "disputed": False,
            "currency": None,
        }
        for i in range(FILLER)
    ]
    rows = {
        SalesRep: [
            {"sales_rep_id": "R1", "name": "Ann", "group_name": "East", "manager_id": None},
            {"sales_rep_id": "R2", "name": "Bo", "group_name": None, "manager_id": "R1"},
        ],
        Customer: [
            {
                "customer_id": "C1",
                "name": "Acme",
                "segment": "SMB",
                "region": "EU",
                "tier": None,
                "terms_days": 30,
                "terms_type": "net",
                "credit_limit_cents": 5_000_000,
                "sales_rep_id": "R1",
                "created_on": D(2020, 2, 29),
                "currency": "USD",
            },
            {
                "customer_id": "C2",
                "name": "Bäckerei Ü",
                "segment": None,
                "region": None,
                "tier": "Gold",
                "terms_days": 15,
                "terms_type": "eom",
                "credit_limit_cents": None,
                "sales_rep_id": None,
                "created_on": None,
                "currency": "EUR",
            },
            {
                "customer_id": "C3",
                "name": "Yen Co",
                "segment": "ENT",
                "region": "APAC",
                "tier": None,
                "terms_days": 60,
                "terms_type": "net",
                "credit_limit_cents": 0,
                "sales_rep_id": "R2",
                "created_on": D(1969, 12, 31),
                "currency": None,
            },
        ],
        Invoice: filler
        + [
            {
                "invoice_id": "I1",
                "customer_id": "C2",
                "issue_date": D(2025, 3, 1),
                "due_date": D(2025, 3, 31),
                "amount_cents": 987_654_321_012,
                "cost_cents": 1,
                "applies_to": None,
                "disputed": True,
                "currency": "EUR",
            },
            {
                "invoice_id": "CN1",
                "customer_id": "C2",
                "issue_date": D(2025, 3, 2),
                "due_date": D(2025, 3, 2),
                "amount_cents": -12_345,
                "cost_cents": None,
                "applies_to": "I1",
                "disputed": False,
                "currency": "EUR",
            },
            {
                "invoice_id": "I3",
                "customer_id": "C3",
                "issue_date": D(1970, 1, 1),
                "due_date": D(1970, 1, 2),
                "amount_cents": 0,
                "cost_cents": -5,
                "applies_to": None,
                "disputed": False,
                "currency": "JPY",
            },
        ],
        Payment: [
            {
                "payment_id": "P1",
                "customer_id": "C2",
                "date": D(2025, 3, 10),
                "amount_cents": 50_000,
                "currency": "EUR",
            },
            {
                "payment_id": "P2",
                "customer_id": "C1",
                "date": D(2025, 3, 11),
                "amount_cents": -700,
                "currency": None,
            },
            {
                "payment_id": "P3",
                "customer_id": "C3",
                "date": D(2025, 3, 12),
                "amount_cents": 9_999,
                "currency": "JPY",
            },
        ],
        Allocation: [
            {"payment_id": "P1", "invoice_id": "I1", "amount_cents": 50_000, "date": None},
            {
                "payment_id": "P2",
                "invoice_id": "F00000",
                "amount_cents": -700,
                "date": D(2025, 3, 11),
            },
        ],
        WriteOff: [{"invoice_id": "I3", "date": D(2025, 4, 1), "amount_cents": -1, "reason": None}],
        Promise: [
            {
                "promise_id": "PR1",
                "invoice_id": "I1",
                "made_on": D(2025, 3, 5),
                "promised_date": D(2025, 3, 20),
                "amount_cents": 10_000,
            }
        ],
        Dispute: [
            {
                "dispute_id": "DS1",
                "invoice_id": "I1",
                "opened_on": D(2025, 3, 6),
                "amount_cents": 500,
                "resolved_on": None,
                "status": "open",
                "reason": None,
            },
            {
                "dispute_id": "DS2",
                "invoice_id": "I3",
                "opened_on": D(2025, 3, 7),
                "amount_cents": 1,
                "resolved_on": D(2025, 3, 8),
                "status": "resolved",
                "reason": "x",
            },
        ],
        Commission: [
            {
                "commission_id": "K1",
                "sales_rep_id": "R1",
                "earned_date": D(2025, 3, 1),
                "amount_cents": 1_234,
                "invoice_id": "I1",
                "rate": 0.025,
                "settled": True,
                "settlement_date": D(2025, 4, 1),
            },
            {
                "commission_id": "K2",
                "sales_rep_id": "R2",
                "earned_date": D(2025, 3, 2),
                "amount_cents": -34,
                "invoice_id": None,
                "rate": None,
                "settled": False,
                "settlement_date": None,
            },
        ],
        Activity: [
            {
                "activity_id": "A1",
                "customer_id": "C1",
                "date": D(2025, 3, 3),
                "channel": "call",
                "invoice_id": None,
                "outcome": None,
            },
            {
                "activity_id": "A2",
                "customer_id": "C2",
                "date": D(2025, 3, 4),
                "channel": "email",
                "invoice_id": "I1",
                "outcome": "promised",
            },
        ],
        FxRate: [
            {"currency": "EUR", "date": D(2025, 1, 1), "rate_e10": 10_800_000_000},
            {"currency": "JPY", "date": D(2025, 1, 1), "rate_e10": 66_000_000},
        ],
    }
    with get_engine(url).begin() as conn:
        for model, values in rows.items():
            conn.execute(insert(model.__table__), values)
        bump_data_version(conn)


@pytest.fixture
def ledger_url(db_url):
    _fill(db_url)
    return db_url


def _plain(url: str, sql: str) -> list[tuple]:
    """Rows of a plain SQLAlchemy query, dates as day numbers (worked out in Python, not SQL)."""
    epoch = D(1970, 1, 1)
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(sql)).all()
    out = []
    for row in rows:
        values = []
        for v in row:
            # SQLite dates come back as text
            if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                v = D.fromisoformat(v)
            values.append((v - epoch).days if isinstance(v, dt.date) else v)
        out.append(tuple(values))
    return out


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame.astype(object).itertuples(index=False)
    ]


def test_adbc_read_equals_dbapi_read_on_every_table(ledger_url):
    adbc = read_ledger(ledger_url, ALL, reader="adbc")
    dbapi = read_ledger(ledger_url, ALL, reader="dbapi")
    assert adbc.version == dbapi.version == 2  # 1 after migrations, bumped once by _fill
    assert adbc.stamp == dbapi.stamp and written_of(adbc.stamp).startswith(
        str(dt.date.today().year)
    )
    assert set(adbc.frames) == set(ALL)
    for name in ALL:
        pd.testing.assert_frame_equal(
            adbc.frames[name], dbapi.frames[name], check_exact=True, obj=name
        )
    assert read_ledger(ledger_url).frames.keys() == set(CORE_TABLES)


@pytest.mark.parametrize("reader", ["adbc", "dbapi"])
def test_frames_match_a_plain_sql_read(ledger_url, reader):
    frames = read_ledger(ledger_url, ALL, reader=reader).frames
    for name, sql in {
        "invoices": "SELECT invoice_id, customer_id, issue_date, due_date, amount_cents, cost_cents, applies_to, disputed, currency FROM invoices",
        "payments": "SELECT payment_id, customer_id, date, amount_cents, currency FROM payments",
        "customers": "SELECT customer_id, name, segment, region, tier, terms_days, terms_type, credit_limit_cents, sales_rep_id, created_on, currency FROM customers",
        "allocations": "SELECT payment_id, invoice_id, amount_cents, date FROM allocations",
        "commissions": "SELECT commission_id, sales_rep_id, earned_date, amount_cents, invoice_id, rate, settled, settlement_date FROM commissions",
        "disputes": "SELECT dispute_id, invoice_id, opened_on, amount_cents, resolved_on, status FROM disputes",
    }.items():
        plain = _plain(ledger_url, sql)
        plain = [
            tuple(
                bool(v)
                if c in ("disputed", "settled")
                else (float(v) if c == "rate" and v is not None else v)
                for c, v in zip(frames[name].columns, row, strict=True)
            )
            for row in plain
        ]
        assert sorted(_rows(frames[name]), key=repr) == sorted(plain, key=repr), name


@pytest.mark.parametrize("reader", ["adbc", "dbapi"])
def test_types_nulls_and_values_worked_by_hand(ledger_url, reader):
    f = read_ledger(ledger_url, ALL, reader=reader).frames
    inv = f["invoices"].set_index("invoice_id")
    assert len(inv) == FILLER + 3
    assert str(inv["issue_date"].dtype) == "Int32" and str(inv["amount_cents"].dtype) == "Int64"
    assert str(inv["disputed"].dtype) == "boolean" and inv["currency"].dtype == "str"
    # 2025-03-01: 55 years after 1970 with 14 leap days (1972..2024) = 20089 days to 2025-01-01, + 31 + 28
    assert inv.loc["I1", "issue_date"] == 20_148 and inv.loc["CN1", "issue_date"] == 20_149
    assert inv.loc["I3", "issue_date"] == 0 and inv.loc["I3", "due_date"] == 1
    assert inv.loc["I1", "amount_cents"] == 987_654_321_012  # above 2**32, exact
    assert inv.loc["CN1", "amount_cents"] == -12_345 and inv.loc["I3", "cost_cents"] == -5
    assert pd.isna(inv.loc["CN1", "cost_cents"]) and pd.isna(inv.loc["F00000", "cost_cents"])
    assert inv.loc["CN1", "applies_to"] == "I1" and pd.isna(inv.loc["F01499", "applies_to"])
    assert inv.loc["I1", "disputed"] and not inv.loc["CN1", "disputed"]
    assert inv["currency"].value_counts(dropna=False).to_dict() == {
        np.nan: FILLER,
        "EUR": 2,
        "JPY": 1,
    }
    cust = f["customers"].set_index("customer_id")
    # 2020-02-29: 50 years + 12 leap days (1972..2016) = 18262, + 31 + 28
    assert cust.loc["C1", "created_on"] == 18_321
    assert cust.loc["C3", "created_on"] == -1 and pd.isna(cust.loc["C2", "created_on"])
    assert (
        cust.loc["C2", "name"] == "Bäckerei Ü"
        and pd.isna(cust.loc["C2", "segment"])
        and pd.isna(cust.loc["C2", "credit_limit_cents"])
    )
    assert cust.loc["C3", "credit_limit_cents"] == 0 and cust.loc["C2", "terms_days"] == 15
    al = f["allocations"].set_index("payment_id")
    assert pd.isna(al.loc["P1", "date"]) and al.loc["P2", "amount_cents"] == -700
    com = f["commissions"].set_index("commission_id")
    assert com.loc["K1", "rate"] == pytest.approx(0.025) and np.isnan(com.loc["K2", "rate"])
    assert (
        com.loc["K1", "settled"]
        and not com.loc["K2", "settled"]
        and pd.isna(com.loc["K2", "settlement_date"])
    )
    assert f["fx_rates"]["rate_e10"].tolist() == [10_800_000_000, 66_000_000]
    assert pd.isna(f["activities"].set_index("activity_id").loc["A1", "outcome"])


WRITER = """
import datetime as dt, sys
from sqlalchemy import insert
from dashboard.data.db import get_engine
from dashboard.data.models import Invoice
from dashboard.data.schema import bump_data_version
with get_engine(sys.argv[1]).begin() as conn:
    conn.execute(insert(Invoice.__table__), [{"invoice_id": "LATE", "customer_id": "C1", "issue_date": dt.date(2025, 5, 1),
                                              "due_date": dt.date(2025, 5, 1), "amount_cents": 1, "disputed": False}])
    bump_data_version(conn)
"""


def test_one_read_transaction_sees_one_data_version(ledger_url):
    """A write committed (by another process) between two table reads is not seen by the later read,
    nor is its version. In-process ADBC on SQLite is safe here: this process holds no other connection."""
    from dashboard.data.db import dispose_engines

    dispose_engines()
    calls = []

    def convert(table):
        if not calls:
            subprocess.run([sys.executable, "-c", WRITER, ledger_url], check=True)
        calls.append(table.num_rows)
        return arrow_frame(table)

    got = read_arrow(ledger_url, ("sales_reps", "invoices"), convert=convert)
    version, frames = got.version, got.frames
    assert version == 2
    assert len(frames["invoices"]) == FILLER + 3 and "LATE" not in set(
        frames["invoices"]["invoice_id"]
    )
    for reader in ("adbc", "dbapi"):
        after = read_ledger(ledger_url, ("invoices",), reader=reader)
        assert after.version == 3 and "LATE" in set(after.frames["invoices"]["invoice_id"])


def test_dbapi_read_is_one_transaction_too(ledger_url, monkeypatch):
    import dashboard.data.ledger_load as ledger_load

    real, calls = ledger_load._read, []

    def read(conn, sql):
        frame = real(conn, sql)
        if not calls:
            subprocess.run([sys.executable, "-c", WRITER, ledger_url], check=True)
        calls.append(len(frame))
        return frame

    monkeypatch.setattr(ledger_load, "_read", read)
    got = read_ledger(ledger_url, ("sales_reps", "invoices"), reader="dbapi")
    assert got.version == 2 and "LATE" not in set(got.frames["invoices"]["invoice_id"])
    monkeypatch.setattr(ledger_load, "_read", real)
    after = read_ledger(ledger_url, ("invoices",), reader="dbapi")
    assert after.version == 3 and "LATE" in set(after.frames["invoices"]["invoice_id"])


def test_sqlite_reader_sees_writes_made_through_the_app_connection(sqlite_url):
    """The ADBC SQLite read runs in a child process: a write through this process's pysqlite
    connection is seen at once (two SQLite libraries in one process would read stale data)."""
    _fill(sqlite_url)
    assert read_ledger(sqlite_url, ("invoices",), reader="adbc").version == 2
    with get_engine(sqlite_url).begin() as conn:
        conn.execute(
            insert(Invoice.__table__),
            [
                {
                    "invoice_id": "NEW",
                    "customer_id": "C1",
                    "issue_date": D(2025, 5, 1),
                    "due_date": D(2025, 5, 1),
                    "amount_cents": 7,
                    "disputed": False,
                }
            ],
        )
        bump_data_version(conn)
    again = read_ledger(sqlite_url, ("invoices",), reader="adbc")
    assert again.version == 3 and "NEW" in set(again.frames["invoices"]["invoice_id"])


def test_default_reader_by_backend_and_size(ledger_url, monkeypatch):
    import dashboard.data.ledger_load as ledger_load

    used = []
    monkeypatch.setattr(
        ledger_load,
        "_read_adbc",
        lambda url, tables: used.append("adbc") or ledger_load._read_dbapi(url, tables),
    )
    monkeypatch.setattr(
        ledger_load,
        "_read_dbapi",
        lambda url, tables, real=ledger_load._read_dbapi: used.append("dbapi") or real(url, tables),
    )
    read_ledger(ledger_url, ("sales_reps",))
    monkeypatch.setattr(ledger_load, "SQLITE_CHILD_MIN_BYTES", 0)
    read_ledger(ledger_url, ("sales_reps",))
    if ledger_url.startswith("sqlite"):
        # a small file reads in process; any file at 0 bytes' threshold in the child
        assert used[0] == "dbapi" and used[-2] == "adbc"
    else:
        assert used[0] == "adbc" and used[-2] == "adbc"


def test_snapshot_builds_from_the_columnar_read(ledger_url):
    from dashboard.metrics.snapshot import build_snapshot

    snap = build_snapshot(
        read_ledger(ledger_url, ALL, reader="adbc"), ledger_url, base_currency="USD"
    )
    ref = build_snapshot(
        read_ledger(ledger_url, ALL, reader="dbapi"), ledger_url, base_currency="USD"
    )
    assert snap.version == ref.version == 2
    np.testing.assert_array_equal(snap.amount, ref.amount)
    np.testing.assert_array_equal(snap.issue, ref.issue)
    assert int(snap.amount[snap.inv_index["CN1"]]) == -12_345


def test_raw_arrow_tables_on_both_backends(ledger_url):
    from dashboard.data.ledger_load import read_ledger_arrow

    got = read_ledger_arrow(ledger_url, ("invoices", "fx_rates"))
    version, tables = got.version, got.frames
    assert (
        version == 2
        and got.stamp == read_ledger(ledger_url, ("sales_reps",), reader="dbapi").stamp != ""
    )
    inv = tables["invoices"]
    assert inv.num_rows == FILLER + 3 and inv.column("amount_cents").null_count == 0
    rows = {
        r["invoice_id"]: r
        for r in inv.filter(
            inv.column("customer_id").to_numpy(zero_copy_only=False) != "C1"
        ).to_pylist()
    }
    assert (
        rows["CN1"]["amount_cents"] == -12_345
        and rows["CN1"]["issue_date"] == 20_149
        and rows["CN1"]["cost_cents"] is None
    )
    assert tables["fx_rates"].column("rate_e10").to_pylist() == [10_800_000_000, 66_000_000]


def test_adbc_target_from_engine_urls(tmp_path):
    path = str(tmp_path / "x.db")
    assert adbc_target(f"sqlite:///{path}") == ("sqlite", path)
    assert adbc_target("postgresql+psycopg://postgres@127.0.0.1:5432/ar") == (
        "postgresql",
        "postgresql://postgres@127.0.0.1:5432/ar",
    )
    assert adbc_target("postgresql://u:p%40ss@db:6543/ar?sslmode=require") == (
        "postgresql",
        "postgresql://u:p%40ss@db:6543/ar?sslmode=require",
    )
    assert adbc_target("sqlite://") is None and adbc_target("sqlite:///:memory:") is None
    assert adbc_target("mysql+pymysql://u@h/db") is None
    with pytest.raises(ValueError, match="reader"):
        read_ledger(f"sqlite:///{path}", reader="odbc")
