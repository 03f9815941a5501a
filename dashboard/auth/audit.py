"""The audit log: who logged in, failed to, logged out, exported or changed users.

This module knows the request (user, address); dashboard.data.audit_log stores and queries the rows.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import has_request_context, request
from flask_login import current_user

from dashboard.data.audit_log import insert_audit_row

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

    return current_user.username if getattr(current_user, "is_authenticated", False) else None


def write_audit(event: str, username: str | None, detail: str | None = None) -> None:
    """Insert one audit row (explicit username)."""
    insert_audit_row(utcnow(), event, username, detail, client_ip())
    log.info("audit %s user=%s %s", event, username, detail or "")


def audit(event: str, detail: str | None = None) -> None:
    """Record an event for the current user (flask_login.current_user; None outside a request)."""
    write_audit(event, _current_username(), detail)
