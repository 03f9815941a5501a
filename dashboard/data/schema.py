"""Schema management through Alembic, and the data version that tells caches to refresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, select, update
from sqlalchemy.orm import Session

from dashboard.data.db import get_engine, normalise_url
from dashboard.data.models import DataVersion

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(str(get_engine(url).url.render_as_string(hide_password=False))))
    return cfg


def init_db(url: str | None = None) -> None:
    """Create or upgrade the schema in place to the newest migration."""
    command.upgrade(alembic_config(url), "head")
    with Session(get_engine(url)) as session:
        if session.get(DataVersion, 1) is None:
            session.add(DataVersion(id=1, version=1, updated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
            session.commit()


def is_initialised(url: str | None = None) -> bool:
    """True when the schema exists."""
    return inspect(get_engine(url)).has_table("data_version")


def bump_data_version(conn: Session | Connection) -> None:
    """Mark the ledger as changed; call inside the writing transaction."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1, updated_at=now))


def data_version(url: str | None = None) -> int:
    """The current data version (0 before init)."""
    with get_engine(url).connect() as conn:
        value = conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar()
    return int(value or 0)
