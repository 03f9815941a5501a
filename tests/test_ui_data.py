"""Saved views and notes: the small data-access functions of the UI, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from dashboard.data import notes, saved_views
from dashboard.data.db import session_scope
from dashboard.data.models import User
from dashboard.data.schema import data_version
from tests.ledger import add_ledger


@pytest.fixture
def users(db_url) -> tuple[int, int]:
    with session_scope() as s:
        a, b = (
            User(username="ann", password_hash="x", role="controller"),
            User(username="bob", password_hash="x", role="ar_clerk"),
        )
        s.add_all([a, b])
        s.flush()
        return a.id, b.id


def test_saved_views_crud_per_user(users):
    ann, bob = users
    assert saved_views.save_view(ann, "  Month   end ", "?as_of=2024-05-31") == "Month end"
    saved_views.save_view(ann, "Retail", "?segment=Retail")
    saved_views.save_view(bob, "Retail", "?segment=Retail&region=North")
    # overwrite, no duplicate
    saved_views.save_view(ann, "Retail", "?segment=Retail&basis=transaction")
    assert saved_views.list_views(ann) == [
        ("Month end", "?as_of=2024-05-31"),
        ("Retail", "?segment=Retail&basis=transaction"),
    ]
    assert saved_views.rename_view(ann, "Month end", "May close") == "May close"
    with pytest.raises(saved_views.ViewError, match="already exists"):
        saved_views.rename_view(ann, "May close", "Retail")
    with pytest.raises(saved_views.ViewError, match="No saved view"):
        saved_views.rename_view(bob, "May close", "Mine now")  # another user's view
    assert saved_views.get_view(bob, "May close") is None
    assert saved_views.delete_view(bob, "May close") is False
    assert saved_views.delete_view(ann, "May close") is True
    assert saved_views.list_views(ann) == [("Retail", "?segment=Retail&basis=transaction")]
    assert saved_views.get_view(bob, "Retail") == "?segment=Retail&region=North"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(saved_views.ViewError):
            saved_views.save_view(ann, bad, "")


def test_adding_a_note_bumps_the_data_version(db_url):
    add_ledger(db_url, customers=[{"customer_id": "C1", "name": "Acme"}])
    before = data_version()
    first = notes.add_note("C1", "ann", "  Called, promised Friday  ")
    notes.add_note("C1", "bob", "Second note")
    assert data_version() == before + 2
    listed = notes.list_notes("C1")
    assert [(n["author"], n["text"]) for n in listed] == [
        ("bob", "Second note"),
        ("ann", "Called, promised Friday"),
    ]
    assert listed[1]["id"] == first
    for customer, text in (("C1", "   "), ("C1", "x" * 4001), ("NOPE", "hello")):
        with pytest.raises(notes.NoteError):
            notes.add_note(customer, "ann", text)
    assert data_version() == before + 2
