"""Read the ledger tables into plain column arrays for the metrics snapshot.

Dates come back as whole days since 1970-01-01 (computed in SQL, per dialect) and money as
integer cents, so no per-row Python conversion is needed on a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from dashboard.data.db import get_engine

NO_DATE = np.iinfo(np.int32).max  # a date that never comes (unsettled, never)


def _days(dialect: str, column: str) -> str:
    """SQL for a DATE column as days since the epoch (NULL stays NULL)."""
    if dialect == "sqlite":
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
    return f"({column} - DATE '1970-01-01')"


QUERIES = {
    "sales_reps": "SELECT sales_rep_id, name, group_name, manager_id FROM sales_reps",
    "customers": (
        "SELECT c.customer_id, c.name, c.segment, c.region, c.tier, c.terms_days, c.terms_type, "
        "c.credit_limit_cents, c.sales_rep_id, {created_on} AS created_on, c.currency "
        "FROM customers c"
    ),
    "invoices": (
        "SELECT invoice_id, customer_id, {issue_date} AS issue_date, {due_date} AS due_date, "
        "amount_cents, cost_cents, applies_to, disputed, currency FROM invoices"
    ),
    "payments": "SELECT payment_id, customer_id, {date} AS date, amount_cents, currency FROM payments",
    "fx_rates": "SELECT currency, {date} AS date, rate_e10 FROM fx_rates ORDER BY currency, date",
    "allocations": (
        "SELECT a.payment_id, a.invoice_id, a.amount_cents, {a_date} AS date "
        "FROM allocations a"
    ),
    "write_offs": "SELECT invoice_id, {date} AS date, amount_cents FROM write_offs",
    "promises": (
        "SELECT promise_id, invoice_id, {made_on} AS made_on, {promised_date} AS promised_date, "
        "amount_cents FROM promises"
    ),
    "disputes": (
        "SELECT dispute_id, invoice_id, {opened_on} AS opened_on, amount_cents, "
        "{resolved_on} AS resolved_on, status FROM disputes"
    ),
    "commissions": (
        "SELECT commission_id, sales_rep_id, {earned_date} AS earned_date, amount_cents, invoice_id, "
        "rate, settled, {settlement_date} AS settlement_date FROM commissions"
    ),
    "activities": (
        "SELECT activity_id, customer_id, {date} AS date, channel, invoice_id, outcome FROM activities"
    ),
}

DATE_COLUMNS = {
    "created_on", "issue_date", "due_date", "date", "a_date", "made_on", "promised_date",
    "opened_on", "resolved_on", "earned_date", "settlement_date",
}


CORE_TABLES = (
    "sales_reps", "customers", "invoices", "payments", "allocations", "write_offs", "promises", "disputes", "fx_rates",
)
LAZY_TABLES = ("commissions", "activities")  # read on first use: the AR figures never need them
FETCH_ROWS = 200_000


@dataclass
class LedgerTables:
    """The raw ledger: one DataFrame per table, dates as int days, money as int cents."""

    version: int
    frames: dict[str, pd.DataFrame]
    stamp: str = ""  # when that version was written (data_version.updated_at): tells apart two ledgers at one version


def _render(sql: str, dialect: str) -> str:
    names = {name: _days(dialect, "a.date" if name == "a_date" else name) for name in DATE_COLUMNS}
    return sql.format(**names)


def _read(conn: Connection, sql: str) -> pd.DataFrame:
    """Run one query on the raw DBAPI cursor, in chunks, into a frame of object columns."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        parts: list[list[np.ndarray]] = []
        while rows := cursor.fetchmany(FETCH_ROWS):
            parts.append([np.asarray(col, dtype=object) for col in zip(*rows, strict=True)])
            del rows
    finally:
        cursor.close()
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame({c: np.concatenate([p[i] for p in parts]) for i, c in enumerate(columns)})


def _read_version(conn: Connection) -> tuple[int, str]:
    row = conn.exec_driver_sql("SELECT version, updated_at FROM data_version WHERE id = 1").first()
    return (int(row[0] or 0), str(row[1])) if row else (0, "")


def read_ledger(url: str | None = None, tables: tuple[str, ...] = CORE_TABLES) -> LedgerTables:
    """Read ledger tables in one read transaction (one consistent data version)."""
    engine = get_engine(url)
    dialect = engine.dialect.name
    options = {} if dialect == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        version, stamp = _read_version(conn)
        frames = {name: _read(conn, _render(QUERIES[name], dialect)) for name in tables}
    return LedgerTables(version=version, frames=frames, stamp=stamp)
