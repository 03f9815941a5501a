"""The users table: look-ups and writes for login and user management.

auth/users.py holds the rules (password hashing, username/role/password checks, which rep or group a
sales role needs, the demo users file); this module runs the statements. A write that needs a rule
inside its transaction takes it as a function, so check and write stay one transaction:

    add_user(row_values, sales_fields)  # sales_fields(lookup_rep) -> (sales_rep_id, group_name)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.data.db import session_scope
from dashboard.data.login_sessions import end_user_sessions
from dashboard.data.models import Customer, SalesRep, User

RepLookup = Callable[[str], SalesRep | None]
SalesFields = Callable[[RepLookup], tuple[str | None, str | None]]


class UserError(ValueError):
    """A user-management request that cannot be carried out (bad role, unknown rep, ...)."""


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return (username or "").strip().lower()


def get_user_row(session: Session, username: str) -> User | None:
    """The User row of a username (case-insensitive), or None."""
    return session.execute(
        select(User).where(User.username == normalise_username(username))
    ).scalar_one_or_none()


def find_user(username: str) -> User | None:
    """The User row of a username (case-insensitive), or None (detached; read its columns freely)."""
    with session_scope() as session:
        return get_user_row(session, username)


def add_user(
    name: str,
    password_hash: str,
    role: str,
    regions: str | None,
    segments: str | None,
    sales_fields: SalesFields,
) -> User:
    """Insert an active user; UserError when the name is taken or sales_fields refuses the rep/group."""
    with session_scope() as session:
        if get_user_row(session, name) is not None:
            raise UserError(f"user {name!r} already exists")
        sales_rep_id, group = sales_fields(lambda rep_id: session.get(SalesRep, rep_id))
        row = User(
            username=name,
            password_hash=password_hash,
            role=role,
            sales_rep_id=sales_rep_id,
            group_name=group,
            regions=regions,
            segments=segments,
            active=True,
        )
        session.add(row)
    return row


def _require_user(session: Session, username: str) -> User:
    """The User row, or a UserError."""
    row = get_user_row(session, username)
    if row is None:
        raise UserError(f"no user {normalise_username(username)!r}")
    return row


def set_user_active(username: str, active: bool) -> None:
    """Enable or disable a user and end its sessions (re-enabling never revives an old cookie)."""
    with session_scope() as session:
        row = _require_user(session, username)
        row.active = active
        end_user_sessions(row.id, session)


def set_user_password_hash(username: str, password_hash: str) -> None:
    """Store a new password hash and end the user's sessions."""
    with session_scope() as session:
        row = _require_user(session, username)
        row.password_hash = password_hash
        end_user_sessions(row.id, session)


def set_user_role(
    username: str,
    role: str,
    sales_fields: Callable[[RepLookup, str | None, str | None], tuple[str | None, str | None]],
) -> None:
    """Change a user's role; sales_fields(lookup_rep, current rep, current group) gives the new rep and group."""
    with session_scope() as session:
        row = _require_user(session, username)
        row.sales_rep_id, row.group_name = sales_fields(
            lambda rep_id: session.get(SalesRep, rep_id), row.sales_rep_id, row.group_name
        )
        row.role = role
        end_user_sessions(row.id, session)


def list_users() -> list[User]:
    """Every user, by username."""
    with session_scope() as session:
        return list(session.execute(select(User).order_by(User.username)).scalars())


def active_usernames() -> list[str]:
    """The usernames of active users, by username."""
    with session_scope() as session:
        return list(
            session.execute(
                select(User.username).where(User.active.is_(True)).order_by(User.username)
            ).scalars()
        )


# ---- demo users ------------------------------------------------------------------------------


def any_user() -> bool:
    """True when the users table has a row."""
    with session_scope() as session:
        return bool(session.execute(select(func.count()).select_from(User)).scalar())


def _manager_rep(session: Session) -> SalesRep | None:
    """A rep who manages others (first group alphabetically), else the first rep with a group."""
    reps = list(
        session.execute(
            select(SalesRep).order_by(SalesRep.group_name, SalesRep.sales_rep_id)
        ).scalars()
    )
    managers = {rep.manager_id for rep in reps if rep.manager_id}
    grouped = [rep for rep in reps if rep.group_name]
    for rep in grouped:
        if rep.sales_rep_id in managers:
            return rep
    return grouped[0] if grouped else None


def _rep_with_customers(session: Session, group: str | None, manager_id: str | None) -> str | None:
    """A rep with customers: in the group and not its manager if possible (most customers, then id)."""
    count = func.count(Customer.customer_id)
    stmt = (
        select(SalesRep.sales_rep_id, SalesRep.group_name)
        .join(Customer, Customer.sales_rep_id == SalesRep.sales_rep_id)
        .group_by(SalesRep.sales_rep_id, SalesRep.group_name)
        .order_by(count.desc(), SalesRep.sales_rep_id)
    )
    rows = session.execute(stmt).all()
    in_group = [rep_id for rep_id, rep_group in rows if group and rep_group == group]
    preferred = (
        [rep_id for rep_id in in_group if rep_id != manager_id] + in_group + [r[0] for r in rows]
    )
    return preferred[0] if preferred else None


def demo_reps() -> tuple[SalesRep | None, str | None]:
    """(the rep for a demo sales manager or None, the rep id for a demo sales rep or None)."""
    with session_scope() as session:
        manager = _manager_rep(session)
        rep_id = _rep_with_customers(
            session,
            manager.group_name if manager else None,
            manager.sales_rep_id if manager else None,
        )
        return manager, rep_id


def add_users_if_none(rows: list[dict[str, Any]]) -> bool:
    """Insert active users (column values) when the table is still empty; False when it was not
    (or another worker inserted them first)."""
    with session_scope() as session:
        if session.execute(select(func.count()).select_from(User)).scalar():
            return False
        for values in rows:
            session.add(User(active=True, **values))
        try:
            session.flush()
        except IntegrityError:  # another worker created them first
            session.rollback()
            return False
    return True
