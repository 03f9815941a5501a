"""ledger_changes: what each data version changed (incremental snapshot builds)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ledger_changes_version", "ledger_changes", ["version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ledger_changes_version", table_name="ledger_changes")
    op.drop_table("ledger_changes")
