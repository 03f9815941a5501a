"""Typed SQLAlchemy 2.0 models for the whole brief.

Money is stored as integer cents (BigInteger columns named *_cents): exact on every backend.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The dates a ledger row may hold (the importer refuses others; request parameters are held to them too).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class SalesRep(Base):
    __tablename__ = "sales_reps"

    sales_rep_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str | None] = mapped_column(String(100), index=True)
    manager_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str | None] = mapped_column(String(100), index=True)
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    tier: Mapped[str | None] = mapped_column(String(100), index=True)
    terms_days: Mapped[int] = mapped_column(Integer, default=30)
    terms_type: Mapped[str] = mapped_column(String(8), default="net")
    credit_limit_cents: Mapped[int | None] = mapped_column(BigInteger)
    sales_rep_id: Mapped[str | None] = mapped_column(
        ForeignKey("sales_reps.sales_rep_id"), index=True
    )
    created_on: Mapped[dt.date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(200))  # billing contact for statements


class Invoice(Base):
    """An invoice, or a credit note when amount_cents < 0."""

    __tablename__ = "invoices"

    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    sales_rep_id: Mapped[str | None] = mapped_column(String(64))
    applies_to: Mapped[str | None] = mapped_column(String(64), index=True)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217; blank = the customer's

    __table_args__ = (
        Index("ix_invoices_customer_issue", "customer_id", "issue_date"),
        Index("ix_invoices_issue_date", "issue_date"),
        Index("ix_invoices_due_date", "due_date"),
    )


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217; blank = the customer's

    __table_args__ = (
        Index("ix_payments_customer_date", "customer_id", "date"),
        Index("ix_payments_date", "date"),
    )


class Allocation(Base):
    """Part of a payment applied to an invoice (a payment with invoice_id gets one for its whole amount)."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.payment_id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    date: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("payment_id", "invoice_id", name="uq_allocation"),)


class WriteOff(Base):
    __tablename__ = "write_offs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("invoice_id", "date", name="uq_write_off"),)


class Promise(Base):
    __tablename__ = "promises"

    promise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    made_on: Mapped[dt.date] = mapped_column(Date)
    promised_date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class Dispute(Base):
    __tablename__ = "disputes"

    dispute_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str | None] = mapped_column(String(200))


class Commission(Base):
    __tablename__ = "commissions"

    commission_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sales_rep_id: Mapped[str] = mapped_column(ForeignKey("sales_reps.sales_rep_id"), index=True)
    earned_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str | None] = mapped_column(String(64), index=True)
    rate: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    settlement_date: Mapped[dt.date | None] = mapped_column(Date)


class Activity(Base):
    __tablename__ = "activities"

    activity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(50))
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_activities_customer_date", "customer_id", "date"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    sales_rep_id: Mapped[str | None] = mapped_column(String(64))
    group_name: Mapped[str | None] = mapped_column(String(100))
    regions: Mapped[str | None] = mapped_column(String(500))
    segments: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    aging_ranges: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    text: Mapped[str] = mapped_column(Text)


class SavedView(Base):
    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_view"),)


class ValueTier(Base):
    """A customer-value tier: 12-month revenue in [min, max] (cents, inclusive)."""

    __tablename__ = "value_tiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    min_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    max_revenue_cents: Mapped[int | None] = mapped_column(BigInteger)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str | None] = mapped_column(String(100), index=True)
    event: Mapped[str] = mapped_column(String(50), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class DataVersion(Base):
    """One row whose version is bumped by every write to the ledger (imports, notes, demo)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # random, set when the row is created: two ledgers at one URL (a recreated database) differ
    ledger_id: Mapped[str | None] = mapped_column(String(32))


class LedgerChange(Base):
    """What each data version changed: a table (row_key NULL: any of its rows), or "*" (unknown: all).

    The snapshot store builds the next version from the previous one when only tables it can
    refresh on their own changed (dashboard/metrics/snapshot.py build_version).
    """

    __tablename__ = "ledger_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str | None] = mapped_column(String(64))
    # data_version.updated_at of that version: a version on disk is built on only if the database
    # wrote the same version at the same moment (not a restored backup that went another way)
    written_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# ---- subscriptions, alerts and their history (dashboard/subscriptions) ----------------------------


class Subscription(Base):
    """A scheduled page summary or an alert, for one user or every user of a role."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")  # report | alert
    username: Mapped[str | None] = mapped_column(String(100), index=True)  # recipient user, or
    role: Mapped[str | None] = mapped_column(String(20))  # every active user of this role
    page: Mapped[str] = mapped_column(String(1000), default="/")  # path and query string
    every: Mapped[str] = mapped_column(String(10), default="weekly")  # daily | weekly | monthly
    at_time: Mapped[str] = mapped_column(String(5), default="08:00")  # HH:MM, local to tz
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # weekly: 0 = Monday
    # monthly: 1..31 (last day if shorter)
    monthday: Mapped[int] = mapped_column(Integer, default=1)
    condition: Mapped[str | None] = mapped_column(String(30))  # alerts: dso_above, cei_below, ...
    threshold: Mapped[str | None] = mapped_column(String(30))  # alerts: decimal text
    address: Mapped[str | None] = mapped_column(String(200))  # overrides the recipient's address
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # alerts: data version last seen
    evaluated_version: Mapped[int | None] = mapped_column(BigInteger)
    evaluated_on: Mapped[dt.date | None] = mapped_column(Date)  # alerts: local day last evaluated


class SubscriptionSend(Base):
    """One delivery of a subscription slot (or alert firing batch) to one user: the send history.

    The unique key (subscription, slot, username) is the cross-process lock: whoever inserts the row
    owns the send; every other worker or machine gets an IntegrityError and skips it.
    """

    __tablename__ = "subscription_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    slot: Mapped[str] = mapped_column(String(120))
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # sending, sent, retry, failed, skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)  # error, skip reason, or what was sent
    scope: Mapped[str | None] = mapped_column(String(300))
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("subscription_id", "slot", "username", name="uq_subscription_slot"),
    )


class AlertFiring(Base):
    """One firing of an alert for one recipient: a condition (or one row of it) that became true."""

    __tablename__ = "alert_firings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(100))
    firing_key: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(200))
    fired_on: Mapped[dt.date] = mapped_column(Date)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("subscription_id", "username", "firing_key", name="uq_alert_firing"),
    )


class NotificationAddress(Base):
    """Where a user's subscriptions and alerts are delivered."""

    __tablename__ = "notification_addresses"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    email: Mapped[str] = mapped_column(String(200))


class AuthSession(Base):
    """A server-side login session: the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class LoginThrottle(Base):
    """Password checks reserved per key (a username or an address) in the current window."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class FxRate(Base):
    """Units of the base currency for one unit of `currency`, in force from `date` to the next rate."""

    __tablename__ = "fx_rates"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    # the rate x 10**10 (exact, up to 10 decimals)
    rate_e10: Mapped[int] = mapped_column(BigInteger)
