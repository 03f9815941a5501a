"""multi-currency: currency on invoices and payments, fx_rates

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    op.create_table(
        "fx_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("rate_e10", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "date"),
    )


def downgrade() -> None:
    op.drop_table("fx_rates")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("currency")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("currency")
