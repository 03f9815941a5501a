"""Shared fixtures: a fresh database on each backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

BACKENDS = [b.strip() for b in os.environ.get("AR_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
PG_ADMIN_URL = os.environ.get("AR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_create() -> str:
    from sqlalchemy import create_engine, text

    name = f"ar_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_drop(url: str) -> None:
    from sqlalchemy import create_engine, text

    from dashboard.data.db import dispose_engines

    dispose_engines()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_db_url(backend: str, tmp_path) -> str:
    """A new, empty database URL on the backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return _pg_create()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch) -> Iterator[str]:
    """An empty, migrated database on each backend; DATABASE_URL points at it."""
    from dashboard.data.db import dispose_engines
    from dashboard.data.schema import init_db

    url = make_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    init_db(url)
    yield url
    dispose_engines()
    if request.param == "postgresql":
        _pg_drop(url)


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch) -> Iterator[str]:
    """An empty, migrated SQLite database only."""
    from dashboard.data.db import dispose_engines
    from dashboard.data.schema import init_db

    url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    init_db(url)
    yield url
    dispose_engines()
