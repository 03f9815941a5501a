"""Saved views: a user's named filter query strings (SavedView table)."""

from __future__ import annotations

from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import SavedView

MAX_NAME = 100
MAX_QUERY = 2000


class ViewError(ValueError):
    """A saved-view operation the user must correct (bad name, duplicate, missing)."""


def clean_name(name: str | None) -> str:
    """A view name: 1-100 characters, surrounding spaces removed."""
    text = " ".join((name or "").split())
    if not text:
        raise ViewError("Give the view a name.")
    if len(text) > MAX_NAME:
        raise ViewError(f"View names have at most {MAX_NAME} characters.")
    return text


def list_views(user_id: int) -> list[tuple[str, str]]:
    """(name, query) of every view of the user, by name."""
    with session_scope() as session:
        rows = session.execute(
            select(SavedView.name, SavedView.query)
            .where(SavedView.user_id == user_id)
            .order_by(SavedView.name)
        ).all()
    return [(name, query) for name, query in rows]


def get_view(user_id: int, name: str) -> str | None:
    """The query string of one of the user's views, or None."""
    with session_scope() as session:
        return session.execute(
            select(SavedView.query).where(SavedView.user_id == user_id, SavedView.name == name)
        ).scalar_one_or_none()


def save_view(user_id: int, name: str, query: str) -> str:
    """Create the view, or overwrite the query of the user's view of that name; returns the name."""
    name = clean_name(name)
    if len(query) > MAX_QUERY:
        raise ViewError("This view's filters are too long to save.")
    with session_scope() as session:
        row = session.execute(
            select(SavedView).where(SavedView.user_id == user_id, SavedView.name == name)
        ).scalar_one_or_none()
        if row is None:
            session.add(SavedView(user_id=user_id, name=name, query=query))
        else:
            row.query = query
    return name


def rename_view(user_id: int, old: str, new: str) -> str:
    """Rename one of the user's views; refuses a name already taken."""
    new = clean_name(new)
    with session_scope() as session:
        rows = (
            session.execute(
                select(SavedView).where(
                    SavedView.user_id == user_id, SavedView.name.in_([old, new])
                )
            )
            .scalars()
            .all()
        )
        by_name = {row.name: row for row in rows}
        if old not in by_name:
            raise ViewError(f"No saved view called “{old}”.")
        if new != old and new in by_name:
            raise ViewError(f"A view called “{new}” already exists.")
        by_name[old].name = new
    return new


def delete_view(user_id: int, name: str) -> bool:
    """Delete one of the user's views; True when it existed."""
    with session_scope() as session:
        row = session.execute(
            select(SavedView).where(SavedView.user_id == user_id, SavedView.name == name)
        ).scalar_one_or_none()
        if row is None:
            return False
        session.delete(row)
    return True
