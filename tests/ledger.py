"""Build small hand-made ledgers in a test database (money given as decimal strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dashboard.data.db import session_scope
from dashboard.data.models import (
    Activity,
    Allocation,
    Commission,
    Customer,
    Dispute,
    Invoice,
    Payment,
    Promise,
    SalesRep,
    WriteOff,
)
from dashboard.data.schema import bump_data_version


def cents(value: str | int | None) -> int | None:
    """'12.34' -> 1234 (exactly)."""
    if value is None:
        return None
    return int(Decimal(str(value)) * 100)


def d(value: str | dt.date | None) -> dt.date | None:
    """ISO text -> date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def add_ledger(url: str, **tables: list[dict]) -> None:
    """Insert rows given per table (keys as in the import contract) and bump the data version."""
    builders = {
        "sales_reps": lambda r: SalesRep(
            sales_rep_id=r["sales_rep_id"],
            name=r.get("name", r["sales_rep_id"]),
            group_name=r.get("group"),
            manager_id=r.get("manager_id"),
        ),
        "customers": lambda r: Customer(
            customer_id=r["customer_id"],
            name=r.get("name", r["customer_id"]),
            segment=r.get("segment"),
            region=r.get("region"),
            tier=r.get("tier"),
            terms_days=r.get("terms_days", 30),
            terms_type=r.get("terms_type", "net"),
            credit_limit_cents=cents(r.get("credit_limit")),
            sales_rep_id=r.get("sales_rep_id"),
            created_on=d(r.get("created_on")),
            currency=r.get("currency", "USD"),
        ),
        "invoices": lambda r: Invoice(
            invoice_id=r["invoice_id"],
            customer_id=r["customer_id"],
            issue_date=d(r["issue_date"]),
            due_date=d(r.get("due_date") or r["issue_date"]),
            amount_cents=cents(r["amount"]),
            cost_cents=cents(r.get("cost")),
            applies_to=r.get("applies_to"),
            disputed=r.get("disputed", False),
        ),
        "payments": lambda r: Payment(
            payment_id=r["payment_id"],
            customer_id=r["customer_id"],
            date=d(r["date"]),
            amount_cents=cents(r["amount"]),
            invoice_id=r.get("invoice_id"),
        ),
        "allocations": lambda r: Allocation(
            payment_id=r["payment_id"],
            invoice_id=r["invoice_id"],
            amount_cents=cents(r["amount"]),
            date=d(r.get("date")),
        ),
        "write_offs": lambda r: WriteOff(
            invoice_id=r["invoice_id"],
            date=d(r["date"]),
            amount_cents=cents(r["amount"]),
            reason=r.get("reason"),
        ),
        "promises": lambda r: Promise(
            promise_id=r["promise_id"],
            invoice_id=r["invoice_id"],
            made_on=d(r["made_on"]),
            promised_date=d(r["promised_date"]),
            amount_cents=cents(r["amount"]),
        ),
        "disputes": lambda r: Dispute(
            dispute_id=r["dispute_id"],
            invoice_id=r["invoice_id"],
            opened_on=d(r["opened_on"]),
            amount_cents=cents(r["amount"]),
            resolved_on=d(r.get("resolved_on")),
            status=r.get("status", "open"),
            reason=r.get("reason"),
        ),
        "commissions": lambda r: Commission(
            commission_id=r["commission_id"],
            sales_rep_id=r["sales_rep_id"],
            earned_date=d(r["earned_date"]),
            amount_cents=cents(r["amount"]),
            invoice_id=r.get("invoice_id"),
            rate=r.get("rate"),
            settled=r.get("settled", False),
            settlement_date=d(r.get("settlement_date")),
        ),
        "activities": lambda r: Activity(
            activity_id=r["activity_id"],
            customer_id=r["customer_id"],
            date=d(r["date"]),
            channel=r.get("channel", "call"),
            invoice_id=r.get("invoice_id"),
            outcome=r.get("outcome"),
        ),
    }
    order = [
        "sales_reps",
        "customers",
        "invoices",
        "payments",
        "allocations",
        "write_offs",
        "promises",
        "disputes",
        "commissions",
        "activities",
    ]
    with session_scope(url) as session:
        for name in order:
            for row in tables.get(name, []):
                session.add(builders[name](row))
            session.flush()
        bump_data_version(session)
