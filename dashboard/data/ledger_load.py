"""Read the ledger tables into typed column arrays for the metrics snapshot.

Dates come back as whole days since 1970-01-01 (computed in SQL, per dialect) and money as
integer cents. On SQLite and PostgreSQL the tables are fetched as Arrow columns through the ADBC
drivers (PostgreSQL: binary COPY inside the driver), so no per-row Python objects are made: the
Arrow buffers become the frames' columns (text stays Arrow strings in pandas' str dtype).
Any other dialect falls back to chunked DBAPI fetches, typed the same way.

Column types of every frame (both paths):
  date columns       Int32   (days since 1970-01-01, <NA> for null)
  money and integers Int64   (exact cents, <NA> for null)
  disputed, settled  boolean
  rate               float64 (NaN for null)
  everything else    str     (pandas' Arrow-backed string dtype, NaN for null; what pandas 3 makes
                              of text anyway, and no Python object per value)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray, ExtensionDtype
from sqlalchemy import Connection, bindparam, make_url, text

from dashboard.config import get_settings
from dashboard.data.db import get_engine, normalise_url
from dashboard.data.schema import VERSION_SQL, changes_between, read_version, version_of

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

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
        "SELECT a.payment_id, a.invoice_id, a.amount_cents, {a_date} AS date FROM allocations a"
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
        "{rate} AS rate, settled, {settlement_date} AS settlement_date FROM commissions"
    ),
    "activities": (
        "SELECT activity_id, customer_id, {date} AS date, channel, invoice_id, outcome FROM activities"
    ),
}

DATE_COLUMNS = {
    "created_on",
    "issue_date",
    "due_date",
    "date",
    "a_date",
    "made_on",
    "promised_date",
    "opened_on",
    "resolved_on",
    "earned_date",
    "settlement_date",
}


CORE_TABLES = (
    "sales_reps",
    "customers",
    "invoices",
    "payments",
    "allocations",
    "write_offs",
    "promises",
    "disputes",
    "fx_rates",
)
LAZY_TABLES = ("commissions", "activities")  # read on first use: the AR figures never need them
FETCH_ROWS = 200_000


@dataclass
class LedgerTables:
    """The raw ledger: one DataFrame per table, dates as int days, money as int cents."""

    version: int
    frames: dict[str, pd.DataFrame]
    # the version's ledger id and when it was written (schema.version_of)
    stamp: str = ""


TEXT = pd.StringDtype(na_value=np.nan)  # the "str" dtype (Arrow storage)
INT_COLUMNS = {"terms_days", "rate_e10"}
BOOL_COLUMNS = {"disputed", "settled"}
FLOAT_COLUMNS = {"rate"}
READERS = ("adbc", "dbapi")
# one batch per table: the SQLite driver infers each column's type from its first batch
SQLITE_BATCH_ROWS = 1 << 30


def _kind(column: str) -> str:
    if column in DATE_COLUMNS:
        return "days"
    if column.endswith("_cents") or column in INT_COLUMNS:
        return "int"
    if column in BOOL_COLUMNS:
        return "bool"
    if column in FLOAT_COLUMNS:
        return "float"
    return "text"


def _render(sql: str, dialect: str) -> str:
    names = {name: _days(dialect, "a.date" if name == "a_date" else name) for name in DATE_COLUMNS}
    names["rate"] = "rate" if dialect == "sqlite" else "CAST(rate AS DOUBLE PRECISION)"
    return sql.format(**names)


# --- typing (shared by both paths) ---------------------------------------------------------------


# pyarrow has no type information: its objects are Any here (pyarrow.Table, pyarrow.ChunkedArray)
ArrowTable = Any
Column = ExtensionArray | npt.NDArray[np.float64]  # one typed column of a frame


def _typed_values(values: np.ndarray, kind: str) -> Column:
    """One column of Python values (DBAPI rows) as the typed array of its kind."""
    if kind == "text":
        return pd.array(values.astype(object), dtype=TEXT)
    if kind == "float":
        return pd.to_numeric(pd.Series(values, dtype=object), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if kind == "days":
        return pd.array(values.astype(object), dtype="Int32")
    if kind == "int":
        return pd.array(values.astype(object), dtype="Int64")
    if kind != "bool":
        raise KeyError(kind)
    return pd.array(values.astype(object), dtype="boolean")


def _from_arrow(dtype: ExtensionDtype, column: Any) -> ExtensionArray:
    """dtype.__from_arrow__(column): pandas' Arrow conversion protocol, which pandas-stubs omit."""
    array: ExtensionArray = dtype.__from_arrow__(column)  # type: ignore[attr-defined]
    return array


def _arrow_values(column: Any, kind: str) -> Column:
    """One Arrow column (pyarrow.ChunkedArray) as the typed array of its kind, without Python rows."""
    if kind == "text":
        return _from_arrow(TEXT, column.cast(pa.large_string()))
    if kind == "float":
        floats: npt.NDArray[np.float64] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return floats  # NaN for null
    if kind == "days":
        return _from_arrow(pd.Int32Dtype(), column.cast(pa.int32()))
    if kind == "int":
        return _from_arrow(pd.Int64Dtype(), column.cast(pa.int64()))
    return _from_arrow(pd.BooleanDtype(), column.cast(pa.bool_()))


def arrow_frame(table: ArrowTable) -> pd.DataFrame:
    """A pyarrow.Table of one ledger query as the typed frame (the contract above)."""
    return pd.DataFrame(
        {name: _arrow_values(table.column(name), _kind(name)) for name in table.column_names}
    )


# --- DBAPI path (any dialect) --------------------------------------------------------------------


def _read(conn: Connection, sql: str) -> pd.DataFrame:
    """Run one query on the raw DBAPI cursor, in chunks, into typed columns."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        # per column, its chunks
        chunks: list[list[np.ndarray]] = [[] for _ in columns]
        while rows := cursor.fetchmany(FETCH_ROWS):
            for i, col in enumerate(zip(*rows, strict=True)):
                chunks[i].append(np.asarray(col, dtype=object))
            del rows
    finally:
        cursor.close()
    out: dict[str, Column] = {}
    for i, c in enumerate(columns):
        values = np.concatenate(chunks[i]) if chunks[i] else np.zeros(0, dtype=object)
        out[c] = _typed_values(values, _kind(c))
        chunks[i] = []  # free the column's chunks as soon as it is built
    return pd.DataFrame(out)


def _read_dbapi(url: str | None, tables: tuple[str, ...]) -> LedgerTables:
    engine = get_engine(url)
    dialect = engine.dialect.name
    options = {} if dialect == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if dialect == "sqlite":
            # pysqlite begins no transaction for reads: one WAL snapshot from here on
            conn.exec_driver_sql("BEGIN")
        version, stamp = read_version(conn)
        frames = {name: _read(conn, _render(QUERIES[name], dialect)) for name in tables}
    return LedgerTables(version=version, frames=frames, stamp=stamp)


# --- ADBC path (SQLite, PostgreSQL) --------------------------------------------------------------


def adbc_target(url: str | None) -> tuple[str, str] | None:
    """(dialect, ADBC URI) for an engine URL the ADBC drivers can read, else None.

    sqlite:///path -> the file path; postgresql+psycopg://user@host:port/db -> a libpq URI.
    In-memory SQLite (private to the engine's connection) and other dialects are not supported.
    """
    parsed = make_url(normalise_url(url or get_settings().database_url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or path.startswith("file:") or parsed.query:
            return None
        return "sqlite", path
    if backend == "postgresql":
        return "postgresql", parsed.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
    return None


def _adbc_connect(dialect: str, uri: str) -> AdbcConnection:
    if dialect == "sqlite":
        import adbc_driver_sqlite.dbapi  # lazy (b): only this dialect's driver, 22 ms

        return adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)
    import adbc_driver_postgresql.dbapi  # lazy (b): only this dialect's driver, 19 ms

    # the PostgreSQL driver ships no type information; it returns adbc_driver_manager's Connection
    conn: AdbcConnection = adbc_driver_postgresql.dbapi.connect(uri, autocommit=True)
    return conn


def read_arrow(
    url: str | None,
    tables: tuple[str, ...],
    convert: Callable[[ArrowTable], pd.DataFrame] = arrow_frame,
) -> LedgerTables:
    """Read tables in one read transaction over ADBC, in this process: frames {name: convert(pyarrow.Table)}.

    SQLite: one deferred transaction (a WAL snapshot from the first read on). PostgreSQL: one
    REPEATABLE READ, READ ONLY transaction. The data version is read first, in the same transaction.

    On SQLite call this only in a process that holds no other connection to the file: the ADBC
    driver carries its own copy of the SQLite library, and two copies in one process do not see
    each other's POSIX locks (sqlite.org/howtocorrupt.html, 2.2.1; here: stale reads after a write
    through the app's pysqlite connection). read_ledger therefore reads SQLite in a child process.
    """
    target = adbc_target(url)
    if target is None:
        raise ValueError("the ADBC read path supports file SQLite and PostgreSQL URLs only")
    dialect, uri = target
    conn = _adbc_connect(dialect, uri)
    try:
        cur = conn.cursor()
        if dialect == "sqlite":
            cur.execute("PRAGMA busy_timeout=30000")
            cur.fetchall()
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(SQLITE_BATCH_ROWS)}
            )
            cur.execute("BEGIN")
        else:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            cur.execute(VERSION_SQL)
            version, stamp = version_of(cur.fetchone())
            frames = {}
            for name in tables:
                cur.execute(_render(QUERIES[name], dialect))
                frames[name] = convert(cur.fetch_arrow_table())
        finally:
            cur.execute("ROLLBACK")  # read only: nothing to keep
            cur.close()
    finally:
        conn.close()
    return LedgerTables(version=version, frames=frames, stamp=stamp)


# The SQLite child: only pyarrow and the ADBC driver, no pandas or app imports (it starts in well
# under a second). argv: database path, batch rows; stdin: JSON list of SQL (the data version query
# first). stdout: each result as one Arrow IPC stream, in order, written straight to the pipe.
_SQLITE_CHILD = """
import json, sys
import pyarrow as pa
import adbc_driver_sqlite.dbapi as adbc

path, batch_rows = sys.argv[1], sys.argv[2]
queries = json.load(sys.stdin)
out = sys.stdout.buffer
conn = adbc.connect(path, autocommit=True)
cur = conn.cursor()
cur.execute("PRAGMA busy_timeout=30000")
cur.fetchall()
cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": batch_rows})
cur.execute("BEGIN")
for sql in queries:
    cur.execute(sql)
    table = cur.fetch_arrow_table()
    with pa.ipc.new_stream(out, table.schema) as writer:
        writer.write_table(table)
    del table
out.flush()
cur.execute("ROLLBACK")
conn.close()
"""
# smaller SQLite files: the in-process DBAPI read is quicker than starting a child
SQLITE_CHILD_MIN_BYTES = 32 << 20


def _read_frame(stream: IO[bytes]) -> ArrowTable:
    """The next Arrow IPC stream from the child's pipe, read to its end-of-stream marker."""
    try:
        return pa.ipc.open_stream(stream).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise EOFError("the ledger reader stopped early") from exc


def _read_sqlite_in_child(
    path: str,
    tables: tuple[str, ...],
    convert: Callable[[ArrowTable], pd.DataFrame] = arrow_frame,
) -> LedgerTables:
    """The ADBC SQLite read, in a child process with its own SQLite library and no other
    connection (see read_arrow); its Arrow tables come back over a pipe."""
    queries = [VERSION_SQL, *(_render(QUERIES[name], "sqlite") for name in tables)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SQLITE_CHILD, path, str(SQLITE_BATCH_ROWS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None  # PIPEs
    try:
        proc.stdin.write(json.dumps(queries).encode())
        proc.stdin.close()
        head = _read_frame(proc.stdout)
        version, stamp = version_of(
            [head.column(i)[0].as_py() for i in range(head.num_columns)] if head.num_rows else None
        )
        frames = {name: convert(_read_frame(proc.stdout)) for name in tables}
    except (EOFError, BrokenPipeError):
        proc.kill()
        proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip().splitlines()
        raise RuntimeError(
            f"reading the ledger failed: {err[-1] if err else proc.returncode}"
        ) from None
    finally:
        proc.stdout.close()
    proc.wait()
    proc.stderr.close()
    return LedgerTables(version=version, frames=frames, stamp=stamp)


def read_ledger_arrow(
    url: str | None,
    tables: tuple[str, ...] = CORE_TABLES,
    convert: Callable[[ArrowTable], Any] = lambda table: table,
) -> LedgerTables:
    """LedgerTables with frames {name: convert(pyarrow.Table)} of one read transaction, safely on both backends:
    SQLite in a child process, PostgreSQL in this one. With the default convert the raw Arrow tables
    (dates int32 days, money int64 cents, text strings) for column files or dictionary codes."""
    url = normalise_url(url or get_settings().database_url)
    target = adbc_target(url)
    if target is None:
        raise ValueError("the ADBC read path supports file SQLite and PostgreSQL URLs only")
    if target[0] == "sqlite":
        return _read_sqlite_in_child(target[1], tables, convert)
    return read_arrow(url, tables, convert)


def _read_adbc(url: str | None, tables: tuple[str, ...]) -> LedgerTables:
    return read_ledger_arrow(url, tables, arrow_frame)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path) + (
            os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
        )
    except OSError:
        return 0


def read_ledger(
    url: str | None = None, tables: tuple[str, ...] = CORE_TABLES, reader: str | None = None
) -> LedgerTables:
    """Read ledger tables in one read transaction (one consistent data version).

    reader: "adbc" (Arrow columns; the default for PostgreSQL and for SQLite files of at least
    SQLITE_CHILD_MIN_BYTES, read in a child process) or "dbapi" (chunked DBAPI rows in this process;
    the default for anything else). Both give identical frames.
    """
    if reader not in (None, *READERS):
        raise ValueError(f"reader must be one of {READERS}")
    if reader is None:
        target = adbc_target(url)
        small = (
            target is not None
            and target[0] == "sqlite"
            and _file_size(target[1]) < SQLITE_CHILD_MIN_BYTES
        )
        reader = "adbc" if target is not None and not small else "dbapi"
    if reader == "adbc":
        return _read_adbc(url, tables)
    return _read_dbapi(url, tables)


# Ledger tables whose changed rows the next snapshot version can take on their own (appended rows;
# dashboard/metrics/snapshot.py): the change log's key of each (bump_data_version) is this column,
# and what is read back is every row with one of the logged keys, in the table's physical order.
ROW_KEYS = {
    "invoices": "invoice_id",
    "payments": "payment_id",
    "allocations": "payment_id",
    "write_offs": "invoice_id",
}


@dataclass
class Changes:
    """What the next snapshot version needs from the database (read_since)."""

    version: int
    stamp: str
    frames: dict[str, pd.DataFrame]  # changed tables re-read whole
    rows: dict[str, pd.DataFrame]  # ROW_KEYS tables: every row with a changed key
    keys: dict[str, set[str]]  # ... and the changed keys (a key without rows: deleted)


def _read_keys(conn: Connection, dialect: str, table: str, keys: set[str]) -> pd.DataFrame:
    """The rows of table whose ROW_KEYS column is one of keys (at most MAX_CHANGED_KEYS: one query
    with that many bound values is within both backends' limits), typed as the full read types
    them, in physical order: the order a full read returns them (SQLite rowid, PostgreSQL ctid).
    Invoices: also the stored rows whose applies_to names one of the keys (if one is not among the
    keys, an older credit note names an invoice only now added: the caller builds in full)."""
    alias = "a." if table == "allocations" else ""
    order = alias + ("rowid" if dialect == "sqlite" else "ctid")
    where = f"{alias}{ROW_KEYS[table]} IN :keys"
    if table == "invoices":  # and credit notes naming one of them (no foreign key): not new rows
        where += " OR applies_to IN :keys"
    sql = f"{_render(QUERIES[table], dialect)} WHERE {where} ORDER BY {order}"
    result = conn.execute(
        text(sql).bindparams(bindparam("keys", expanding=True)), {"keys": sorted(keys)}
    )
    columns = list(result.keys())
    rows = result.all()
    return pd.DataFrame(
        {
            c: _typed_values(
                np.array([r[i] for r in rows], dtype=object) if rows else np.zeros(0, dtype=object),
                _kind(c),
            )
            for i, c in enumerate(columns)
        }
    )


def read_since(
    url: str | None,
    after: int,
    after_stamp: str,
    refreshable: AbstractSet[str],
    row_tables: AbstractSet[str] = frozenset(),
) -> Changes | None:
    """What the next snapshot version needs when it is built from version `after`: the changed
    tables of `refreshable` that QUERIES holds, re-read whole, and for the changed tables of
    `row_tables` (ROW_KEYS) only the rows with a logged key. None when anything else changed, a
    row table's change was logged without keys, or the change log cannot tell: a full read is needed.
    """
    engine = get_engine(url)
    dialect = engine.dialect.name
    options = {} if dialect == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN")  # one WAL snapshot for the version and the rows
        version, stamp = read_version(conn)
        changes = changes_between(conn, after, version, after_stamp)
        if changes is None or not set(changes) <= set(refreshable) | set(row_tables):
            return None
        keyed = {t: changes[t] for t in row_tables if t in changes}
        if any(keys is None for keys in keyed.values()):
            return None
        keys = {t: k for t, k in keyed.items() if k is not None}
        rows = {t: _read_keys(conn, dialect, t, k) for t, k in keys.items()}
    reread = tuple(name for name in QUERIES if name in changes and name not in row_tables)
    if not reread:
        return Changes(version, stamp, {}, rows, keys)
    tables = read_ledger(url, reread)
    # written meanwhile: let the full build catch up
    if (tables.version, tables.stamp) != (version, stamp):
        return None
    return Changes(version, stamp, tables.frames, rows, keys)
