"""Per-user preferences kept on the users row: the customer-aging day ranges (User.aging_ranges).

edges = parse_aging_ranges("30,60,90,120")      # ValueError with a message a user can act on
save_aging_ranges(user_id, "30,60,90,120")      # validates first; saves nothing on error
load_aging_ranges(user_id)                      # the saved ranges, else DEFAULT_RANGES
"""

from __future__ import annotations

from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import User

DEFAULT_RANGES: tuple[int, ...] = (30, 60, 90)
MAX_RANGES = 12  # at most 12 limits (14 columns with "not due" and the last open bucket)
MAX_DAYS = 36_500  # 100 years
EXAMPLE = "e.g. 30,60,90 or 30,60,90,120,180,365,720"


def parse_aging_ranges(text: str | None) -> tuple[int, ...]:
    """'30, 60,90' -> (30, 60, 90): increasing whole days; empty text -> DEFAULT_RANGES.

    Raises ValueError with one message naming what is wrong (the first problem found).
    """
    raw = "" if text is None else str(text)
    if len(raw) > 200:
        raise ValueError(
            f"That is too long: enter at most {MAX_RANGES} day limits separated by commas ({EXAMPLE})."
        )
    parts = [part.strip() for part in raw.split(",")]
    parts = [part for part in parts if part]
    if not parts:
        return DEFAULT_RANGES
    edges: list[int] = []
    for part in parts:
        if part.startswith("-") and part[1:].isascii() and part[1:].isdigit():
            raise ValueError(f"Day limits must be 1 or more; “{part}” is not.")
        if not part.isascii() or not part.isdigit():
            raise ValueError(
                f"“{part}” is not a whole number of days. Enter day limits separated by commas ({EXAMPLE})."
            )
        edges.append(int(part))
    if len(edges) > MAX_RANGES:
        raise ValueError(f"{len(edges)} limits is too many: at most {MAX_RANGES}.")
    for edge in edges:
        if edge <= 0:
            raise ValueError(f"Day limits must be 1 or more; “{edge}” is not.")
        if edge > MAX_DAYS:
            raise ValueError(f"Day limits must be at most {MAX_DAYS:,}; “{edge}” is not.")
    for low, high in zip(edges, edges[1:], strict=False):
        if high <= low:
            raise ValueError(
                f"Day limits must increase from left to right: {high} comes after {low}."
            )
    return tuple(edges)


def format_ranges(edges: tuple[int, ...] | list[int]) -> str:
    """(30, 60, 90) -> '30,60,90' (the stored, canonical form)."""
    return ",".join(str(int(e)) for e in edges)


def load_aging_ranges(user_id: int | None, url: str | None = None) -> tuple[int, ...]:
    """The user's saved aging ranges; DEFAULT_RANGES when none are saved (or what is stored is unusable)."""
    if user_id is None:
        return DEFAULT_RANGES
    with session_scope(url) as session:
        text = session.execute(
            select(User.aging_ranges).where(User.id == user_id)
        ).scalar_one_or_none()
    try:
        return parse_aging_ranges(text)
    except ValueError:
        return DEFAULT_RANGES


def save_aging_ranges(user_id: int, text: str | None, url: str | None = None) -> tuple[int, ...]:
    """Validate and store the user's aging ranges; ValueError (nothing saved) on bad input or unknown user."""
    edges = parse_aging_ranges(text)
    with session_scope(url) as session:
        user = session.get(User, user_id)
        if user is None:
            raise ValueError("Unknown user: the ranges were not saved.")
        user.aging_ranges = format_ranges(edges)
    return edges
