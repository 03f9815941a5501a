"""Migrations build the whole schema from empty, and upgrade in place."""

from sqlalchemy import inspect

from dashboard.data.db import get_engine
from dashboard.data.models import Base
from dashboard.data.schema import data_version, init_db


def test_migrations_from_empty_create_every_table(db_url):
    tables = set(inspect(get_engine(db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_init_db_is_idempotent_and_versioned(db_url):
    before = data_version(db_url)
    init_db(db_url)
    assert data_version(db_url) == before == 1
