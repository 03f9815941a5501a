"""The audit log: who logged in, failed to, logged out, exported or changed users."""

from __future__ import annotations

import datetime as dt
import logging

from flask import has_request_context, request
from sqlalchemy import func, select

from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    """Naive UTC now (the audit_log column is naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def client_ip() -> str | None:
    """The client's address (after ProxyFix when AR_BEHIND_PROXY=1)."""
    return request.remote_addr if has_request_context() else None


def _current_username() -> str | None:
    """The logged-in user's name, or None."""
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user.username if getattr(current_user, "is_authenticated", False) else None


def write_audit(event: str, username: str | None, detail: str | None = None) -> None:
    """Insert one audit row (explicit username)."""
    ip = client_ip()
    row = AuditLog(
        at=utcnow(),
        username=username[:100] if username else None,
        event=event[:50],
        detail=detail,
        remote_addr=ip[:64] if ip else None,
    )
    with session_scope() as session:
        session.add(row)
    log.info("audit %s user=%s %s", event, username, detail or "")


def audit(event: str, detail: str | None = None) -> None:
    """Record an event for the current user (flask_login.current_user; None outside a request)."""
    write_audit(event, _current_username(), detail)


def count_events(event: str, since: dt.datetime, username: str | None = None, ip: str | None = None) -> int:
    """How many rows of an event since a time, for a username and/or an address."""
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.event == event, AuditLog.at >= since)
    if username is not None:
        stmt = stmt.where(AuditLog.username == username)
    if ip is not None:
        stmt = stmt.where(AuditLog.remote_addr == ip)
    with session_scope() as session:
        return int(session.execute(stmt).scalar() or 0)


def last_event_at(event: str, since: dt.datetime, username: str | None = None, ip: str | None = None,
                  detail: str | None = None) -> dt.datetime | None:
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
