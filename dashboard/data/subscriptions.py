"""The subscription tables: subscriptions, their sends (history, retries, opt-outs), alert firings
and users' delivery addresses.

subscriptions/store.py decides who may do what and validates values; subscriptions/runner.py decides
what is due and sends it. This module runs their statements. A change that must be checked against
the stored row inside its transaction takes the check as a function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.data.db import session_scope
from dashboard.data.models import (
    AlertFiring,
    NotificationAddress,
    SalesRep,
    Subscription,
    SubscriptionSend,
    User,
)

OPT_OUT_SLOT = "unsubscribed"


def to_dict(row: Subscription) -> dict[str, Any]:
    """A JSON-ready subscription."""
    return {
        "id": row.id,
        "kind": row.kind,
        "username": row.username,
        "role": row.role,
        "page": row.page,
        "every": row.every,
        "at_time": row.at_time,
        "tz": row.tz,
        "weekday": row.weekday,
        "monthday": row.monthday,
        "condition": row.condition,
        "threshold": row.threshold,
        "address": row.address,
        "active": row.active,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


# ---- users and addresses -------------------------------------------------------------------------


def user_exists(username: str) -> bool:
    """True when a user has exactly this (normalised) name."""
    with session_scope() as session:
        return session.execute(select(User.id).where(User.username == username)).first() is not None


def user_named(username: str) -> User | None:
    """The User row with exactly this name, or None."""
    with session_scope() as session:
        return session.execute(select(User).where(User.username == username)).scalar()


def _address_of(session: Session, user: User) -> str | None:
    row = session.get(NotificationAddress, user.username)
    if row is not None:
        return row.email
    if user.sales_rep_id:
        rep = session.get(SalesRep, user.sales_rep_id)
        if rep is not None and rep.email:
            return rep.email.strip() or None
    return None


def address_of(user: User) -> str | None:
    """The user's delivery address: their own setting, else their sales rep's email."""
    with session_scope() as session:
        return _address_of(session, user)


def user_address(username: str) -> str | None:
    """The delivery address of a user by name (None when the user or the address is unknown)."""
    with session_scope() as session:
        user = session.execute(select(User).where(User.username == username)).scalar()
        return _address_of(session, user) if user else None


def save_address(username: str, address: str | None) -> None:
    """Where the user's subscriptions go (None removes it)."""
    with session_scope() as session:
        row = session.get(NotificationAddress, username)
        if address is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(NotificationAddress(username=username, email=address))
        else:
            row.email = address


# ---- subscriptions -------------------------------------------------------------------------------


def insert_subscription(values: dict[str, Any]) -> dict[str, Any]:
    """Store a subscription (column values); returns it."""
    with session_scope() as session:
        row = Subscription(**values)
        session.add(row)
        session.flush()
        return to_dict(row)


def change_subscription(
    sub_id: int,
    allowed: Callable[[Subscription], bool],
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """Set the column values change(current values) on a subscription that allowed(row) accepts; its
    values after, or None when there is no such subscription or it is not allowed."""
    with session_scope() as session:
        row = session.get(Subscription, int(sub_id))
        if row is None or not allowed(row):
            return None
        for key, value in change(to_dict(row)).items():
            setattr(row, key, value)
        return to_dict(row)


def delete_subscription(
    sub_id: int, allowed: Callable[[Subscription], bool]
) -> dict[str, Any] | None:
    """Delete a subscription that allowed(row) accepts (its sends stay); what was removed, else None."""
    with session_scope() as session:
        row = session.get(Subscription, int(sub_id))
        if row is None or not allowed(row):
            return None
        data = to_dict(row)
        session.delete(row)
        return data


def list_subscriptions(
    username: str | None = None, role: str | None = None, everyone: bool = True
) -> list[dict[str, Any]]:
    """Every subscription (everyone), else those of the user and those of the role, by id."""
    stmt = select(Subscription).order_by(Subscription.id)
    if not everyone:
        stmt = stmt.where(or_(Subscription.username == username, Subscription.role == role))
    with session_scope() as session:
        return [to_dict(row) for row in session.execute(stmt).scalars()]


def get_subscription(sub_id: int) -> dict[str, Any] | None:
    """One subscription by id."""
    with session_scope() as session:
        row = session.get(Subscription, int(sub_id))
        return to_dict(row) if row else None


def subscription_row(sub_id: int) -> Subscription | None:
    """One subscription row by id (detached)."""
    with session_scope() as session:
        return session.get(Subscription, sub_id)


def active_subscriptions() -> list[Subscription]:
    """The switched-on subscriptions, by id."""
    with session_scope() as session:
        return list(
            session.execute(
                select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
            )
            .scalars()
            .all()
        )


def mark_evaluated(sub_id: int, version: int, as_of: dt.date) -> None:
    """Record that an alert was evaluated on this data version for this day."""
    with session_scope() as session:
        session.execute(
            update(Subscription)
            .where(Subscription.id == sub_id)
            .values(evaluated_version=version, evaluated_on=as_of)
        )


# ---- sends and opt-outs ----------------------------------------------------------------------------


def history(username: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The latest sends (all, or those of one user), newest first."""
    stmt = select(SubscriptionSend).order_by(SubscriptionSend.id.desc()).limit(limit)
    if username is not None:
        stmt = stmt.where(SubscriptionSend.username == username)
    with session_scope() as session:
        return [
            {
                "id": r.id,
                "subscription_id": r.subscription_id,
                "slot": r.slot,
                "username": r.username,
                "address": r.address,
                "status": r.status,
                "attempts": r.attempts,
                "detail": r.detail or "",
                "scope": r.scope,
                "as_of": r.as_of.isoformat() if r.as_of else None,
                "at": (r.finished_at or r.created_at).strftime("%Y-%m-%d %H:%M UTC"),
            }
            for r in session.execute(stmt).scalars()
        ]


def opt_out(sub_id: int, username: str, at: dt.datetime) -> dict[str, Any] | None:
    """Unsubscribe one user: a personal subscription is switched off, a role's gets an opt-out row.
    The subscription's values, or None when it does not exist."""
    with session_scope() as session:
        row = session.get(Subscription, int(sub_id))
        if row is None:
            return None
        if row.username == username:
            row.active = False
        else:
            try:
                with session.begin_nested():
                    session.add(
                        SubscriptionSend(
                            subscription_id=row.id,
                            slot=OPT_OUT_SLOT,
                            username=username,
                            status="unsubscribed",
                            attempts=0,
                            created_at=at,
                            detail="unsubscribed through the link in an email",
                        )
                    )
            except IntegrityError:
                pass
        return to_dict(row)


def _opted_out(session: Any, sub_id: int, username: str) -> bool:
    stmt = select(SubscriptionSend.id).where(
        SubscriptionSend.subscription_id == sub_id,
        SubscriptionSend.slot == OPT_OUT_SLOT,
        SubscriptionSend.username == username,
    )
    return session.execute(stmt).first() is not None


def opted_out(sub_id: int, username: str) -> bool:
    """True when the user unsubscribed from a role subscription."""
    with session_scope() as session:
        return _opted_out(session, sub_id, username)


def recipients(sub: Subscription) -> list[str]:
    """The usernames a subscription goes to: its one user, or every user of its role not opted out."""
    with session_scope() as session:
        if sub.username:
            return [sub.username]
        users = (
            session.execute(select(User).where(User.role == sub.role).order_by(User.username))
            .scalars()
            .all()
        )
        return [u.username for u in users if not _opted_out(session, sub.id, u.username)]


def claim_send(
    sub_id: int, slot: str, username: str, created_at: dt.datetime, detail: str | None = None
) -> int | None:
    """Insert the send row; its id when this worker owns the send, None when another one does."""
    try:
        with session_scope() as session:
            row = SubscriptionSend(
                subscription_id=sub_id,
                slot=slot,
                username=username,
                status="sending",
                attempts=0,
                created_at=created_at,
                detail=detail,
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def claim_retry(send_id: int, due_by: dt.datetime) -> bool:
    """Take a send due for retry by due_by (one worker wins the compare-and-set)."""
    with session_scope() as session:
        result = session.execute(
            update(SubscriptionSend)
            .where(
                SubscriptionSend.id == send_id,
                SubscriptionSend.status == "retry",
                SubscriptionSend.next_try_at <= due_by,
            )
            .values(status="sending")
        )
        return cast("CursorResult[Any]", result).rowcount == 1


def finish_send(send_id: int, status: str, finished_at: dt.datetime, **values: Any) -> None:
    """Record the outcome of a send."""
    with session_scope() as session:
        row = session.get_one(SubscriptionSend, send_id)
        row.status, row.finished_at = status, finished_at
        for key, value in values.items():
            setattr(row, key, value)


def due_retries(due_by: dt.datetime) -> list[SubscriptionSend]:
    """The sends waiting for a retry at or before due_by."""
    with session_scope() as session:
        return list(
            session.execute(
                select(SubscriptionSend).where(
                    SubscriptionSend.status == "retry", SubscriptionSend.next_try_at <= due_by
                )
            )
            .scalars()
            .all()
        )


# ---- alert firings -------------------------------------------------------------------------------


def record_firings(
    sub_id: int, username: str, hits: list[Any], as_of: dt.date, at: dt.datetime
) -> list[Any]:
    """Close firings no longer true, insert new ones; the hits (with .item and .key) this worker fired first."""
    fired = []
    with session_scope() as session:
        open_rows = (
            session.execute(
                select(AlertFiring).where(
                    AlertFiring.subscription_id == sub_id,
                    AlertFiring.username == username,
                    AlertFiring.cleared_at.is_(None),
                )
            )
            .scalars()
            .all()
        )
        current = {hit.item for hit in hits}
        for row in open_rows:
            if row.item not in current:
                row.cleared_at = at
        still_open = {row.item for row in open_rows if row.item in current}
        for hit in hits:
            if hit.item in still_open:
                continue
            try:
                with session.begin_nested():
                    session.add(
                        AlertFiring(
                            subscription_id=sub_id,
                            username=username,
                            firing_key=hit.key[:200],
                            item=hit.item[:200],
                            fired_on=as_of,
                            created_at=at,
                        )
                    )
                fired.append(hit)
            except IntegrityError:
                continue
    return fired
