"""data_version.ledger_id, ledger_changes.written_at: which ledger, and which write, a version is

A database recreated at the same URL starts again at data version 1; the snapshot store on disk may
still hold the old ledger's versions. The ledger id (random, set once when the row is created) is part
of every version's stamp, so the store never takes one ledger's version for the other's. written_at
(data_version.updated_at of each version) lets the next version be built on a previous one only when
the database wrote that version at that moment (a restored backup may have gone another way since).

Revision ID: 0006
Revises: 0005
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ledger_id", sa.String(length=32), nullable=True))
    op.get_bind().execute(
        sa.text("UPDATE data_version SET ledger_id = :ledger WHERE ledger_id IS NULL"),
        {"ledger": uuid.uuid4().hex},
    )
    with op.batch_alter_table("ledger_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_changes", schema=None) as batch_op:
        batch_op.drop_column("written_at")
    with op.batch_alter_table("data_version", schema=None) as batch_op:
        batch_op.drop_column("ledger_id")
