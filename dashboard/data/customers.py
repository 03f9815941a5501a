"""Customers and sales reps: look-ups for row-level security (auth/scope.py turns them into a Scope),
billing addresses and logged activities (statements)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import Activity, Customer, SalesRep
from dashboard.data.schema import bump_data_version


def group_rep_ids(group_name: str) -> frozenset[str]:
    """Every rep whose group is group_name."""
    with session_scope() as session:
        rows = session.execute(
            select(SalesRep.sales_rep_id).where(SalesRep.group_name == group_name)
        ).scalars()
        return frozenset(rows)


def customer_visible(
    customer_id: str,
    sales_rep_ids: Iterable[str] | None,
    regions: Iterable[str] | None,
    segments: Iterable[str] | None,
) -> bool:
    """True when the customer exists and matches every restriction given (None: unrestricted)."""
    stmt = select(Customer.customer_id).where(Customer.customer_id == customer_id)
    if sales_rep_ids is not None:
        stmt = stmt.where(Customer.sales_rep_id.in_(sorted(sales_rep_ids)))
    if regions is not None:
        stmt = stmt.where(Customer.region.in_(sorted(regions)))
    if segments is not None:
        stmt = stmt.where(Customer.segment.in_(sorted(segments)))
    with session_scope() as session:
        return session.execute(stmt).first() is not None


def customer_email(customer_id: str) -> str | None:
    """The customer's billing address (stripped), or None when unknown or empty."""
    with session_scope() as session:
        row = session.get(Customer, customer_id)
        return (row.email or "").strip() or None if row is not None else None


def add_activity(
    activity_id: str, customer_id: str, day: dt.date, channel: str, outcome: str, note: str
) -> None:
    """Store one collection activity on a customer and bump the data version (pages refresh)."""
    with session_scope() as session:
        session.add(
            Activity(
                activity_id=activity_id,
                customer_id=customer_id,
                date=day,
                channel=channel,
                outcome=outcome,
                note=note,
            )
        )
        bump_data_version(session, {"activities": [activity_id]})
