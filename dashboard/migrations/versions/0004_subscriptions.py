"""subscriptions, send history, alert firings, notification addresses; customers.email

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("page", sa.String(length=1000), nullable=False),
        sa.Column("every", sa.String(length=10), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("monthday", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=30), nullable=True),
        sa.Column("threshold", sa.String(length=30), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("evaluated_version", sa.BigInteger(), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subscriptions_username", "subscriptions", ["username"])
    op.create_table(
        "subscription_sends",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=120), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("scope", sa.String(length=300), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "slot", "username", name="uq_subscription_slot"),
    )
    op.create_index(
        "ix_subscription_sends_subscription_id", "subscription_sends", ["subscription_id"]
    )
    op.create_index("ix_subscription_sends_created_at", "subscription_sends", ["created_at"])
    op.create_table(
        "alert_firings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("firing_key", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("fired_on", sa.Date(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "username", "firing_key", name="uq_alert_firing"),
    )
    op.create_index("ix_alert_firings_subscription_id", "alert_firings", ["subscription_id"])
    op.create_table(
        "notification_addresses",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("notification_addresses")
    op.drop_index("ix_alert_firings_subscription_id", table_name="alert_firings")
    op.drop_table("alert_firings")
    op.drop_index("ix_subscription_sends_created_at", table_name="subscription_sends")
    op.drop_index("ix_subscription_sends_subscription_id", table_name="subscription_sends")
    op.drop_table("subscription_sends")
    op.drop_index("ix_subscriptions_username", table_name="subscriptions")
    op.drop_table("subscriptions")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("email")
