"""Customer notes (Account 360): list and add; adding bumps the data version so pages refresh."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import Customer, Note
from dashboard.data.schema import bump_data_version

MAX_NOTE = 4000


class NoteError(ValueError):
    """A note the user must correct (empty, too long, unknown customer)."""


def list_notes(customer_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The customer's notes, newest first."""
    with session_scope() as session:
        rows = (
            session.execute(
                select(Note)
                .where(Note.customer_id == customer_id)
                .order_by(Note.created_at.desc(), Note.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return [
            {"id": r.id, "author": r.author, "created_at": r.created_at, "text": r.text}
            for r in rows
        ]


def add_note(customer_id: str, author: str, text: str) -> int:
    """Store a note by author on the customer and bump the data version; returns the note id.

    Callers check the author's right to write notes and the customer's scope first.
    """
    body = (text or "").strip()
    if not body:
        raise NoteError("Write something first.")
    if len(body) > MAX_NOTE:
        raise NoteError(f"Notes have at most {MAX_NOTE:,} characters.")
    with session_scope() as session:
        if session.get(Customer, customer_id) is None:
            raise NoteError("Customer not found.")
        note = Note(
            customer_id=customer_id,
            author=author,
            text=body,
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        session.add(note)
        session.flush()
        # not in the snapshot: the next version reuses its files
        bump_data_version(session, {"notes": None})
        return note.id
