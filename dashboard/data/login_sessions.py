"""Server-side login sessions and the atomic login throttle, both kept in the database.

The session cookie carries only a random token (flask-login's user id); the table keeps its SHA-256,
so logout, a password change, disabling a user or changing the role ends the session at once.
The throttle reserves each password check with one conditional UPDATE (or INSERT) per key, so no more
than the limit is ever checked, however many threads or workers race.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Update, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.data.db import get_engine, session_scope
from dashboard.data.models import AuthSession, LoginThrottle, User

TOKEN_BYTES = 32


def utcnow() -> dt.datetime:
    """Naive UTC now (the columns are naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(user_id: int, lifetime: dt.timedelta) -> str:
    """Create a session for a user; returns the token the cookie carries."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    with session_scope() as session:
        # sweep expired rows
        session.execute(delete(AuthSession).where(AuthSession.expires_at <= now))
        session.add(
            AuthSession(
                token_hash=token_hash(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return token


def session_user(token: str) -> User | None:
    """The active user of a live session token, else None (expired, ended or disabled)."""
    if not token or len(token) > 200:
        return None
    stmt = (
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == token_hash(token), AuthSession.expires_at > utcnow())
    )
    with session_scope() as session:
        row = session.execute(stmt).scalar_one_or_none()
        if row is not None and not row.active:
            end_user_sessions(row.id, session)
            return None
        return row


def end_session(token: str | None) -> None:
    """End one session (logout)."""
    if token:
        with session_scope() as session:
            session.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def end_user_sessions(user_id: int, session: Session | None = None) -> None:
    """End every session of a user (password change, disable, role change)."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user_id)
    if session is not None:
        session.execute(stmt)
        return
    with session_scope() as own:
        own.execute(stmt)


# ---- login throttle ------------------------------------------------------------------------------


def _try_update(stmt: Update) -> bool:
    """Run one conditional statement in its own transaction; True when it changed a row."""
    with get_engine().begin() as conn:
        return conn.execute(stmt).rowcount > 0


def reserve(key: str, limit: int, window: dt.timedelta) -> bool:
    """Reserve one password check for a key; False when the key has used its limit in the window."""
    t = LoginThrottle
    for _ in range(3):
        now = utcnow()
        since = now - window
        if _try_update(
            update(t)
            .where(t.key == key, t.window_start > since, t.attempts < limit)
            .values(attempts=t.attempts + 1)
        ):
            return True
        if _try_update(
            update(t)
            .where(t.key == key, t.window_start <= since)
            .values(window_start=now, attempts=1)
        ):
            return True
        try:
            with get_engine().begin() as conn:
                row = conn.execute(select(t.window_start, t.attempts).where(t.key == key)).first()
                if row is None:
                    conn.execute(insert(t).values(key=key, window_start=now, attempts=1))
                    return limit > 0
            if row.window_start > since and row.attempts >= limit:
                return False  # in its window and at its limit
            continue  # another request created or reset the row after our updates: go round again
        except IntegrityError:  # another request inserted it first: go round again
            continue
    return False


def refund(key: str) -> None:
    """Give back one reserved check (a successful login, or a check never made)."""
    t = LoginThrottle
    _try_update(update(t).where(t.key == key, t.attempts > 0).values(attempts=t.attempts - 1))


def locked_until(key: str, window: dt.timedelta) -> dt.datetime | None:
    """When the current window of a key ends (for Retry-After), or None."""
    with session_scope() as session:
        start = session.execute(
            select(LoginThrottle.window_start).where(LoginThrottle.key == key)
        ).scalar()
    return start + window if start is not None else None
