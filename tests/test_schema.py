"""Migrations build the whole schema from empty, and upgrade in place."""

from sqlalchemy import inspect, text

from dashboard.data.db import get_engine
from dashboard.data.models import Base
from dashboard.data.schema import data_version, init_db, is_initialised


def head_revision(url: str) -> str:
    """The newest migration of dashboard/migrations (the chain grows with each feature)."""
    from alembic.script import ScriptDirectory

    from dashboard.data.schema import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_migrations_from_empty_create_every_table(empty_db_url):
    assert not is_initialised(empty_db_url)
    init_db(empty_db_url)
    tables = set(inspect(get_engine(empty_db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with get_engine(empty_db_url).connect() as conn:
        assert conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar() == head_revision(empty_db_url)
    assert data_version(empty_db_url) == 1


def test_init_db_upgrades_in_place_and_keeps_data(db_url):
    with get_engine(db_url).begin() as conn:
        conn.execute(text("INSERT INTO sales_reps (sales_rep_id, name) VALUES ('R1', 'Rep')"))
    init_db(db_url)
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT name FROM sales_reps")).scalar() == "Rep"
    assert data_version(db_url) == 1
