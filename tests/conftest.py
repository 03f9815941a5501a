"""Shared fixtures: a fresh database on each backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

BACKENDS = [
    b.strip()
    for b in os.environ.get("AR_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
PG_ADMIN_URL = os.environ.get(
    "AR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_create(template: str | None = None) -> str:
    name = f"ar_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _pg_url(name)


def _pg_drop(url: str) -> None:
    from dashboard.data.db import dispose_engines

    dispose_engines()
    _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def make_db_url(backend: str, tmp_path) -> str:
    """A new, empty (unmigrated) database URL on the backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return _pg_create()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """One database per backend migrated from empty once; each test gets a copy of it."""
    from dashboard.data.db import dispose_engines
    from dashboard.data.schema import init_db

    templates: dict[str, str] = {}
    if "sqlite" in BACKENDS:
        path = tmp_path_factory.mktemp("template") / "template.db"
        init_db(f"sqlite:///{path}")
        templates["sqlite"] = str(path)
    if "postgresql" in BACKENDS:
        url = _pg_create()
        init_db(url)
        templates["postgresql"] = url.rsplit("/", 1)[1]
    dispose_engines()
    yield templates
    dispose_engines()
    if "postgresql" in templates:
        _pg_admin(f'DROP DATABASE IF EXISTS "{templates["postgresql"]}" WITH (FORCE)')


def _copy_of_template(backend: str, templates: dict[str, str], tmp_path) -> str:
    if backend == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(templates["sqlite"], target)
        return f"sqlite:///{target}"
    return _pg_create(template=templates["postgresql"])


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch, migrated_templates) -> Iterator[str]:
    """An empty, migrated database on each backend; DATABASE_URL points at it."""
    from dashboard.data.db import dispose_engines

    url = _copy_of_template(request.param, migrated_templates, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()
    if request.param == "postgresql":
        _pg_drop(url)


@pytest.fixture(params=BACKENDS)
def empty_db_url(request, tmp_path, monkeypatch) -> Iterator[str]:
    """An empty database with no schema at all, on each backend."""
    from dashboard.data.db import dispose_engines

    url = make_db_url(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()
    if request.param == "postgresql":
        _pg_drop(url)


@pytest.fixture
def world(db_url):
    """The seeded app of auth_helpers (make_world) with no snapshot or cached figure from another
    test, before and after (a test module may define its own `world` instead)."""
    from auth_helpers import make_world

    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    yield make_world(db_url)
    clear_snapshots()
    clear_cache()


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch, migrated_templates) -> Iterator[str]:
    """An empty, migrated SQLite database only."""
    from dashboard.data.db import dispose_engines

    if "sqlite" in migrated_templates:
        url = _copy_of_template("sqlite", migrated_templates, tmp_path)
    else:
        from dashboard.data.schema import init_db

        url = f"sqlite:///{tmp_path / 'test.db'}"
        init_db(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture(autouse=True)
def _prediction_models(tmp_path, monkeypatch) -> None:
    """Model files go to the test's own directory; pages never queue training in tests unless asked."""
    monkeypatch.setenv("AR_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("AR_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    monkeypatch.setenv("AR_SNAPSHOT_FSYNC", "0")  # durability across power cuts is not tested here
    monkeypatch.setenv("AR_PREDICT_AUTOTRAIN", "0")
    monkeypatch.setenv(
        "AR_WARM_PAGES", "0"
    )  # no background warm-up between tests (tests/test_warm.py)
