"""The audit_log table: one row per login, failed login, logout, export or user change.

auth/audit.py decides what is recorded (and for whom); this module only reads and writes rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog


def insert_audit_row(
    at: dt.datetime, event: str, username: str | None, detail: str | None, remote_addr: str | None
) -> None:
    """Insert one audit row (username cut to 100, event to 50 and address to 64 characters)."""
    row = AuditLog(
        at=at,
        username=username[:100] if username else None,
        event=event[:50],
        detail=detail,
        remote_addr=remote_addr[:64] if remote_addr else None,
    )
    with session_scope() as session:
        session.add(row)


def count_events(
    event: str, since: dt.datetime, username: str | None = None, ip: str | None = None
) -> int:
    """How many rows of an event since a time, for a username and/or an address."""
    stmt = (
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.event == event, AuditLog.at >= since)
    )
    if username is not None:
        stmt = stmt.where(AuditLog.username == username)
    if ip is not None:
        stmt = stmt.where(AuditLog.remote_addr == ip)
    with session_scope() as session:
        return int(session.execute(stmt).scalar() or 0)


def last_event_at(
    event: str,
    since: dt.datetime,
    username: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> dt.datetime | None:
    """The latest time of an event since a time (matching username/address/detail), or None."""
    stmt = select(func.max(AuditLog.at)).where(AuditLog.event == event, AuditLog.at >= since)
    if username is not None:
        stmt = stmt.where(AuditLog.username == username)
    if ip is not None:
        stmt = stmt.where(AuditLog.remote_addr == ip)
    if detail is not None:
        stmt = stmt.where(AuditLog.detail == detail)
    with session_scope() as session:
        return session.execute(stmt).scalar()
