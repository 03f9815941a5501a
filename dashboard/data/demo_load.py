"""Bulk-load demo frames: raw executemany on SQLite, COPY on PostgreSQL, in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from dashboard.data.models import ValueTier
from dashboard.data.schema import bump_data_version

if TYPE_CHECKING:
    import psycopg

# Deleted children first; notes hang off customers, so they go with the ledger they annotate.
CLEAR_ORDER = (
    "allocations",
    "write_offs",
    "promises",
    "disputes",
    "commissions",
    "activities",
    "payments",
    "notes",
    "invoices",
    "customers",
    "sales_reps",
    "fx_rates",
)
LOAD_ORDER = (
    "sales_reps",
    "customers",
    "invoices",
    "payments",
    "allocations",
    "write_offs",
    "promises",
    "disputes",
    "commissions",
    "activities",
    "fx_rates",
)
DEFAULT_VALUE_TIERS = (  # name, min cents, max cents (inclusive; None = no upper bound)
    ("Bronze", 0, 999_999),
    ("Silver", 1_000_000, 4_999_999),
    ("Gold", 5_000_000, 24_999_999),
    ("Platinum", 25_000_000, None),
)
BATCH_ROWS = 100_000
NULL_TEXT = "\\N"
Tick = Callable[[int], None]


def _dates(series: pd.Series) -> np.ndarray:
    """ISO date strings (None for NaT), formatted once per distinct day."""
    days = series.to_numpy(dtype="datetime64[D]")
    missing = np.isnat(days)
    uniq, inverse = np.unique(
        np.where(missing, np.datetime64("1970-01-01"), days), return_inverse=True
    )
    out = np.datetime_as_string(uniq).astype(object)[inverse]
    out[missing] = None
    return out


def column_values(series: pd.Series) -> list[Any]:
    """A column as plain Python values for the driver (dates as ISO text, NULL as None)."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        dates: list[str | None] = _dates(series).tolist()
        return dates
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
        return series.astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return series.tolist()
    # pandas-stubs reject na_value=None
    values: list[Any] = series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return values


def row_batches(frame: pd.DataFrame, size: int = BATCH_ROWS) -> Iterator[list[tuple[Any, ...]]]:
    """Rows as tuples of Python values, in batches."""
    for start in range(0, len(frame), size):
        part = frame.iloc[start : start + size]
        yield list(zip(*(column_values(part[c]) for c in part.columns), strict=True))


def _seed_value_tiers(conn: Connection) -> None:
    """Insert the default customer-value tiers when the table is empty."""
    if conn.execute(select(func.count()).select_from(ValueTier)).scalar():
        return
    rows = [
        {"name": n, "min_revenue_cents": lo, "max_revenue_cents": hi}
        for n, lo, hi in DEFAULT_VALUE_TIERS
    ]
    conn.execute(insert(ValueTier), rows)


def _finish(conn: Connection) -> None:
    """Default value tiers and a new data version, inside the loading transaction."""
    _seed_value_tiers(conn)
    bump_data_version(conn)


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_pragmas(cur: sqlite3.Cursor, names: tuple[str, ...]) -> dict[str, object]:
    """Current values of some PRAGMAs."""
    return {name: cur.execute(f"PRAGMA {name}").fetchone()[0] for name in names}


def _sqlite_set(cur: sqlite3.Cursor, settings: dict[str, object]) -> None:
    """Apply PRAGMAs, ignoring refusals (a checkpoint blocked by a reader only costs disk space)."""
    for name, value in settings.items():
        try:
            cur.execute(f"PRAGMA {name}={value}")
        except Exception:  # noqa: BLE001 - best effort, never worth failing the load
            pass


def _sqlite_indexes(cur: sqlite3.Cursor) -> list[tuple[str, str]]:
    """Secondary indexes (name, CREATE statement) of the ledger tables."""
    marks = ",".join("?" * len(LOAD_ORDER))
    sql = f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({marks})"
    return cur.execute(sql, LOAD_ORDER).fetchall()


def _sqlite_fill(cur: sqlite3.Cursor, frames: dict[str, pd.DataFrame], tick: Tick) -> None:
    """Clear the ledger and insert every frame, secondary indexes rebuilt afterwards."""
    for table in CLEAR_ORDER:
        cur.execute(f"DELETE FROM {table}")
    indexes = _sqlite_indexes(cur)
    for name, _sql in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for table in LOAD_ORDER:
        frame = frames[table]
        cols = ", ".join(frame.columns)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(frame.columns))})"
        for rows in row_batches(frame):
            cur.executemany(sql, rows)
            tick(len(rows))
    for _name, sql in indexes:
        cur.execute(sql)


LOAD_PRAGMAS = {
    "foreign_keys": "OFF",
    "synchronous": "OFF",
    "cache_size": -262144,
    "temp_store": "MEMORY",
}


def load_sqlite(engine: Engine, frames: dict[str, pd.DataFrame], tick: Tick) -> None:
    """One transaction without fsync or FK checks, secondary indexes rebuilt once at the end.

    The journal mode stays as configured (WAL): a crash mid-load rolls back cleanly, readers keep
    working, and measured against journal_mode=MEMORY it costs no noticeable time.
    """
    with engine.connect() as conn:
        raw = cast(sqlite3.Connection, conn.connection.driver_connection)
        isolation = raw.isolation_level
        if raw.in_transaction:
            raw.rollback()
        raw.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        cur = raw.cursor()
        saved = _sqlite_pragmas(cur, tuple(LOAD_PRAGMAS))
        _sqlite_set(cur, LOAD_PRAGMAS)
        try:
            cur.execute("BEGIN IMMEDIATE")
            try:
                _sqlite_fill(cur, frames, tick)
                _finish(conn)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            _sqlite_set(cur, {"wal_checkpoint": "TRUNCATE"})
        finally:
            _sqlite_set(cur, saved)
            cur.close()
            raw.isolation_level = isolation
            conn.rollback()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_indexes(cur: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    """Secondary (non-constraint) indexes (name, CREATE statement) of the ledger tables."""
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        (list(LOAD_ORDER),),
    )
    return cur.fetchall()


def _pg_foreign_keys(cur: psycopg.Cursor[Any]) -> list[tuple[str, str, str]]:
    """Foreign keys (table, name, definition) declared on the ledger tables."""
    cur.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])",
        (list(LOAD_ORDER),),
    )
    return cur.fetchall()


def _by_value(values: np.ndarray, text: Callable[[np.ndarray], np.ndarray]) -> list[str]:
    """Format each distinct value once and spread the strings back over the rows."""
    uniq, inverse = np.unique(values, return_inverse=True)
    strings: list[str] = text(uniq).astype(object)[inverse].tolist()
    return strings


def column_text(series: pd.Series) -> list[str]:
    """A column in COPY text format (NULL as \\N); values never hold tabs or newlines."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        out = _dates(series)
        out[series.isna().to_numpy()] = NULL_TEXT
        dates: list[str] = out.tolist()
        return dates
    if pd.api.types.is_bool_dtype(dtype):
        flags: list[str] = np.where(series.to_numpy(), "t", "f").astype(object).tolist()
        return flags
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
        return [NULL_TEXT if v is None else str(v) for v in column_values(series)]
    if pd.api.types.is_integer_dtype(dtype):
        return list(map(str, series.tolist()))
    if pd.api.types.is_float_dtype(dtype):
        return _by_value(series.to_numpy(), lambda u: np.array([repr(float(x)) for x in u]))
    return series.to_numpy(dtype=object, na_value=NULL_TEXT).tolist()


def copy_text(frame: pd.DataFrame) -> bytes:
    """Rows of a frame as one COPY text-format block."""
    lines = map("\t".join, zip(*(column_text(frame[c]) for c in frame.columns), strict=True))
    return ("\n".join(lines) + "\n").encode()


def _pg_copy(cur: psycopg.Cursor[Any], table: str, frame: pd.DataFrame, tick: Tick) -> None:
    """COPY one frame into its table, a block of rows at a time."""
    cols = ", ".join(frame.columns)
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for start in range(0, len(frame), BATCH_ROWS):
            part = frame.iloc[start : start + BATCH_ROWS]
            copy.write(copy_text(part))
            tick(len(part))


def load_postgres(engine: Engine, frames: dict[str, pd.DataFrame], tick: Tick) -> None:
    """TRUNCATE, COPY with secondary indexes and foreign keys dropped, restore them, commit once."""
    with engine.connect() as conn:
        raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
        try:
            with raw.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
                cur.execute(f"TRUNCATE {', '.join(CLEAR_ORDER)} RESTART IDENTITY")
                indexes, fks = _pg_indexes(cur), _pg_foreign_keys(cur)
                for table, name, _sql in fks:
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for name, _sql in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                for table in LOAD_ORDER:
                    _pg_copy(cur, table, frames[table], tick)
                for _name, sql in indexes:
                    cur.execute(sql)
                for table, name, sql in fks:
                    cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}')
                cur.execute(f"ANALYZE {', '.join(LOAD_ORDER)}")
            _finish(conn)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
