"""Schema management through Alembic, and the data version that tells caches to refresh."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, insert, inspect, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.data.db import get_engine, normalise_url
from dashboard.data.models import DataVersion, LedgerChange

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
MIGRATE_LOCK_KEY = 0x41525F4D494752  # pg_advisory_lock key of migrations ("AR_MIGR")
log = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    rendered = normalise_url(str(get_engine(url).url.render_as_string(hide_password=False)))
    # ConfigParser interpolates "%": a socket path (?host=%2Fvar%2Frun%2Fpostgresql) must be escaped.
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


@contextmanager
def migration_lock(url: str | None = None) -> Iterator[None]:
    """One migrating process at a time: a second one waits, then finds the schema at head.

    PostgreSQL: a session advisory lock on a connection held for the upgrade. SQLite: an OS file
    lock (filelock) next to the database file.
    """
    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATE_LOCK_KEY})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATE_LOCK_KEY})")
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    from filelock import FileLock  # lazy (b): migrations only (not a web start-up), 16 ms

    with FileLock(f"{database}.migrate.lock"):
        yield


def init_db(url: str | None = None) -> None:
    """Create or upgrade the schema in place to the newest migration (one process at a time)."""
    with migration_lock(url):
        _upgrade(url)


def _upgrade(url: str | None) -> None:
    command.upgrade(alembic_config(url), "head")
    with Session(get_engine(url)) as session:
        if session.get(DataVersion, 1) is None:
            session.add(
                DataVersion(
                    id=1,
                    version=1,
                    updated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    ledger_id=uuid.uuid4().hex,
                )
            )
            session.commit()


def is_initialised(url: str | None = None) -> bool:
    """True when the schema exists."""
    return inspect(get_engine(url)).has_table("data_version")


ALL_TABLES = "*"  # a change log entry meaning "anything may have changed"
MAX_CHANGED_KEYS = 10_000  # more changed rows of one table are logged as the whole table
KEEP_CHANGE_VERSIONS = 1_000  # change log entries older than this many versions are dropped


def bump_data_version(
    conn: Session | Connection, changed: Mapping[str, Iterable[str] | None] | None = None
) -> None:
    """Mark the ledger as changed; call inside the writing transaction.

    `changed` says what changed, for incremental snapshot builds: table name -> the keys of the rows
    written (None: any rows of that table). Without it the change is "anything" (a full build).
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, updated_at=now)
    )
    version = int(conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one())
    rows: list[tuple[str, str | None]] = []
    for table, keys in (changed or {ALL_TABLES: None}).items():
        listed = None if keys is None else list(dict.fromkeys(keys))
        if listed is None or len(listed) > MAX_CHANGED_KEYS:
            rows.append((table, None))
        else:
            rows.extend((table, key) for key in listed)
    conn.execute(
        insert(LedgerChange),
        [{"version": version, "table_name": t, "row_key": k, "written_at": now} for t, k in rows],
    )
    conn.execute(delete(LedgerChange).where(LedgerChange.version <= version - KEEP_CHANGE_VERSIONS))


def changes_between(
    conn: Connection, after: int, upto: int, after_stamp: str | None = None
) -> dict[str, set[str] | None] | None:
    """What versions after+1 .. upto changed: table -> keys (None: any row), or None when unknown.

    Unknown: a version logged "anything", or a version in the range has no entry (written before
    the log existed, or dropped from it), or (after_stamp given) the log cannot show that version
    `after` was written at the moment of after_stamp (a restored backup that went another way).
    """
    if upto <= after:
        return {}
    if after_stamp is not None:
        written = conn.execute(
            text("SELECT written_at FROM ledger_changes WHERE version = :v LIMIT 1"), {"v": after}
        ).scalar()
        # raw values, as version_of reads updated_at: SQLite text, PostgreSQL datetime
        if written is None or str(written) != written_of(after_stamp):
            return None
    rows = conn.execute(
        select(LedgerChange.version, LedgerChange.table_name, LedgerChange.row_key).where(
            LedgerChange.version > after, LedgerChange.version <= upto
        )
    ).all()
    if {int(r[0]) for r in rows} != set(range(after + 1, upto + 1)):
        return None
    out: dict[str, set[str] | None] = {}
    for _, table, key in rows:
        if table == ALL_TABLES:
            return None
        if key is None:
            out[table] = None
        elif table not in out or out[table] is not None:
            out.setdefault(table, set()).add(key)  # type: ignore[union-attr]
    return out


VERSION_SQL = "SELECT version, updated_at, ledger_id FROM data_version WHERE id = 1"


def version_of(row: Sequence[Any] | None) -> tuple[int, str]:
    """(version, stamp) of a VERSION_SQL row. The stamp is "<ledger id>/<when the version was
    written>" (updated_at as str(): SQLite text, PostgreSQL datetime): it tells apart two ledgers at
    one version, also a database recreated at the same URL (see dashboard/metrics/store.py)."""
    if not row:
        return 0, ""
    written = str(row[1])
    return int(row[0] or 0), f"{row[2]}/{written}" if row[2] else written


def read_version(conn: Connection) -> tuple[int, str]:
    """(data version, stamp) as this connection sees them (inside a read's transaction: its snapshot)."""
    return version_of(conn.exec_driver_sql(VERSION_SQL).first())


def version_stamp(url: str | None = None) -> tuple[int, str]:
    """The current data version and its stamp (version_of)."""
    with get_engine(url).connect() as conn:
        return read_version(conn)


def written_of(stamp: str) -> str:
    """The updated_at part of a stamp."""
    return stamp.split("/", 1)[1] if "/" in stamp else stamp


def ledger_of(stamp: str) -> str:
    """The ledger id part of a stamp ("" for a stamp written before ledger ids existed)."""
    return stamp.split("/", 1)[0] if "/" in stamp else ""


def data_version(url: str | None = None) -> int:
    """The current data version (0 before init)."""
    with get_engine(url).connect() as conn:
        value = conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar()
    return int(value or 0)


def applied_revisions(url: str | None = None) -> tuple[set[str] | None, str]:
    """(the revision(s) recorded in alembic_version, "") with one short query; (None, the first line of
    the error) when the database cannot be reached or read."""
    try:
        with get_engine(url).connect() as conn:
            return {
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            }, ""
    except SQLAlchemyError as error:
        return None, str(error).splitlines()[0][:200]
