"""Customer-value tiers stored in the value_tiers table (Setup -> Customer Value Tiers)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from dashboard.data.db import session_scope
from dashboard.data.models import ValueTier
from dashboard.data.schema import bump_data_version
from dashboard.metrics.value import DEFAULT_TIERS, Tier, validate_tiers


def load_tiers(url: str | None = None) -> list[Tier]:
    """The configured tiers ordered by minimum revenue; the default tiers when none are stored."""
    with session_scope(url) as session:
        rows = session.execute(select(ValueTier).order_by(ValueTier.min_revenue_cents, ValueTier.name)).scalars().all()
        tiers = [(r.name, int(r.min_revenue_cents), None if r.max_revenue_cents is None else int(r.max_revenue_cents)) for r in rows]
    return tiers or list(DEFAULT_TIERS)


def save_tiers(tiers: Sequence[Tier], url: str | None = None) -> list[Tier]:
    """Replace the stored tiers after validating them; ValueError with every message, nothing saved, on error."""
    errors = validate_tiers(tiers)
    if errors:
        raise ValueError("; ".join(errors))
    clean = sorted(((str(n).strip(), int(lo), None if hi is None else int(hi)) for n, lo, hi in tiers), key=lambda t: t[1])
    with session_scope(url) as session:
        session.execute(delete(ValueTier))
        session.flush()
        for name, low, high in clean:
            session.add(ValueTier(name=name, min_revenue_cents=low, max_revenue_cents=high))
        session.flush()
        bump_data_version(session)
    return clean
