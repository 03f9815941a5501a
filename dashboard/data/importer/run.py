"""Running an import: one at a time (import_lock), every file checked, then all of it written or nothing.

Nothing is written unless every row of every file is valid; the writes run in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dashboard.config import get_settings
from dashboard.data.db import get_engine
from dashboard.data.importer.check import Checker
from dashboard.data.importer.contract import ImportFailed, ImportResult, Issues, Progress
from dashboard.data.importer.read import collect_sources, parse_source
from dashboard.data.importer.write import counts_by_table, plan_steps, write
from dashboard.data.mapping import ReadLimits, TimeLimit, use_limits

SQLITE_CACHE_KIB = -262_144  # PRAGMA cache_size while importing: 256 MiB
IMPORT_LOCK_TIMEOUT = 30.0  # seconds an import waits for another one (AR_IMPORT_LOCK_TIMEOUT)
IMPORT_LOCK_KEY = 0x41525F494D504F  # pg_advisory_xact_lock key of imports ("AR_IMPO")
LOCK_BUSY = "database:-:-: another import is running; try again"
SQLITE_BUSY_MS = 30_000  # busy_timeout of dashboard.data.db, restored after the lock


# ---------------------------------------------------------------- entry point


@contextmanager
def _big_cache(conn: Connection) -> Iterator[None]:
    """A large SQLite page cache while importing (index updates of big files), restored after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _lock_sqlite(conn: Connection, timeout: float) -> None:
    """BEGIN IMMEDIATE: take SQLite's write lock, waiting up to timeout for another writer."""
    conn.exec_driver_sql(f"PRAGMA busy_timeout={max(int(timeout * 1000), 0)}")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise ImportFailed([LOCK_BUSY]) from exc
        raise
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def _lock_postgresql(conn: Connection, timeout: float) -> None:
    """A transaction-scoped advisory lock, tried until timeout (released at commit or rollback)."""
    deadline = time.monotonic() + timeout
    while not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({IMPORT_LOCK_KEY})").scalar():
        if time.monotonic() >= deadline:
            raise ImportFailed([LOCK_BUSY])
        time.sleep(0.2)


def lock_timeout_default() -> float:
    """AR_IMPORT_LOCK_TIMEOUT seconds, else IMPORT_LOCK_TIMEOUT."""
    return get_settings().import_lock_timeout


def import_lock(conn: Connection, timeout: float | None = None) -> None:
    """Make imports one at a time: a second one waits up to timeout, then fails with LOCK_BUSY.

    Taken first in the import transaction, before the checks read the database, so the checks
    see exactly the rows the writes will build on.
    """
    timeout = lock_timeout_default() if timeout is None else timeout
    if conn.dialect.name == "sqlite":
        _lock_sqlite(conn, timeout)
    elif conn.dialect.name == "postgresql":
        _lock_postgresql(conn, timeout)


def run_import(
    directory: Path,
    mapping: Path | None = None,
    dry_run: bool = False,
    url: str | None = None,
    progress: bool = True,
    on_progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> ImportResult:
    """Validate every file in directory, then upsert all of it in one transaction (or nothing).

    on_progress(stage, done, total) is called as files are read ("read"), when the checks start
    ("check") and as rows are written ("write"). Imports run one at a time (import_lock).
    """
    limits = ReadLimits.from_settings()  # caps on rows, bytes and time (issue 14)
    use_limits(limits)
    try:
        return _run_import(
            directory, mapping, dry_run, url, progress, on_progress, lock_timeout, limits
        )
    except TimeLimit as exc:
        raise ImportFailed([f"{f}:{r}:{c}: {why}" for f, r, c, why in exc.problems]) from exc
    finally:
        use_limits(None)


def _run_import(
    directory: Path,
    mapping: Path | None,
    dry_run: bool,
    url: str | None,
    progress: bool,
    on_progress: Progress | None,
    lock_timeout: float | None,
    limits: ReadLimits,
) -> ImportResult:
    """run_import within its caps."""
    issues = Issues()
    sources = collect_sources(Path(directory), mapping, issues)
    parsed = {}
    for i, source in enumerate(sources):
        parsed[source.table] = parse_source(source, issues)
        if on_progress is not None:
            on_progress("read", i + 1, len(sources))
    limits.check_time("-")
    rank = {s.file: i for i, s in enumerate(sources)}
    if not sources and not issues.errors:
        issues.warnings.append(f"{directory}: no import files found")
    try:
        with get_engine(url).begin() as conn, _big_cache(conn):
            if not dry_run:
                import_lock(conn, lock_timeout)
            if on_progress is not None:
                on_progress("check", 0, 1)
            checker = Checker(conn, parsed, issues)
            checker.run()
            if issues.errors:
                raise ImportFailed(issues.lines(rank))
            steps = plan_steps(parsed, checker.derived)
            limits.check_time("-")
            if not dry_run:
                write(conn, steps, checker.stale, progress, on_progress)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ImportFailed([f"database:-:-: {reason}; nothing was written"]) from exc
    return ImportResult(counts_by_table(steps), issues.warnings)
