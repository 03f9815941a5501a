"""Customer-value tiers stored in the value_tiers table (Setup -> Customer Value Tiers).

A tier is (name, min_cents, max_cents or None) with inclusive bounds; `validate_tiers` refuses
overlaps, gaps, inverted ranges and duplicate names. metrics/value.py assigns customers to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import delete, select

from dashboard.data.db import session_scope
from dashboard.data.models import ValueTier
from dashboard.data.schema import bump_data_version
from dashboard.format import plain_money

Tier = tuple[str, int, int | None]
STANDARD_TIER = "Standard"
DEFAULT_TIERS: tuple[Tier, ...] = (
    ("Bronze", 0, 999_999),
    ("Silver", 1_000_000, 4_999_999),
    ("Gold", 5_000_000, 24_999_999),
    ("Platinum", 25_000_000, None),
)
MAX_NAME = 50


def _range_text(low: int, high: int | None) -> str:
    return f"{plain_money(low)}-{plain_money(high)}" if high is not None else f"{plain_money(low)}+"


def validate_tiers(tiers: Sequence[Tier]) -> list[str]:
    """Every problem with a tier list (empty when it is usable).

    Checks: at least one tier; names present, unique (case-insensitive), not 'Standard', at most 50
    characters; bounds whole cents, min >= 0, min <= max; no two ranges share a cent (Bronze 0-500 and
    Silver 500-1000 overlap at 500.00); consecutive ranges continuous to the cent (a gap leaves those
    revenues Standard), starting at 0.00 or 0.01 and ending open (max None).
    """
    errors: list[str] = []
    if not tiers:
        return ["at least one tier is required"]
    clean: list[Tier] = []
    seen: dict[str, str] = {}
    for i, tier in enumerate(tiers):
        try:
            name, low, high = tier
        except (TypeError, ValueError):
            errors.append(f"tier {i + 1}: expected (name, min_cents, max_cents)")
            continue
        label = str(name or "").strip()
        if not label:
            errors.append(f"tier {i + 1}: a name is required")
        elif len(label) > MAX_NAME:
            errors.append(f"tier {label!r}: name longer than {MAX_NAME} characters")
        elif label.lower() == STANDARD_TIER.lower():
            errors.append(f"tier {label!r}: 'Standard' is reserved for customers in no tier")
        elif label.lower() in seen:
            errors.append(f"duplicate tier name {label!r}")
        seen.setdefault(label.lower(), label)
        bad = [
            v
            for v in (low, high)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer))
        ]
        if low is None or bad:
            errors.append(f"tier {label or i + 1}: bounds must be whole cents (max may be empty)")
            continue
        if low < 0:
            errors.append(f"tier {label}: minimum {plain_money(low)} is below 0.00")
        if high is not None and low > high:
            errors.append(
                f"tier {label}: minimum {plain_money(low)} is above maximum {plain_money(high)}"
            )
            continue
        clean.append((label, int(low), None if high is None else int(high)))
    for a in range(len(clean)):
        for b in range(a + 1, len(clean)):
            (na, la, ha), (nb, lb, hb) = clean[a], clean[b]
            highs = [h for h in (ha, hb) if h is not None]
            lo, hi = max(la, lb), (min(highs) if highs else None)
            if hi is None or lo <= hi:
                where = (
                    f"at {plain_money(lo)}"
                    if hi == lo
                    else f"from {plain_money(lo)}"
                    + (f" to {plain_money(hi)}" if hi is not None else "")
                )
                errors.append(
                    f"tiers {na} ({_range_text(la, ha)}) and {nb} ({_range_text(lb, hb)}) overlap {where}"
                )
    if clean and not any(e.startswith("tiers ") for e in errors):
        ordered = sorted(clean, key=lambda t: t[1])
        if ordered[0][1] > 1:
            errors.append(
                f"gap below {ordered[0][0]}: revenue 0.01-{plain_money(ordered[0][1] - 1)} would be Standard"
            )
        for (na, _, ha), (nb, lb, _) in zip(ordered, ordered[1:], strict=False):
            if ha is not None and lb > ha + 1:
                errors.append(
                    f"gap between {na} and {nb}: revenue {plain_money(ha + 1)}-{plain_money(lb - 1)} would be Standard"
                )
        top = ordered[-1]
        if top[2] is not None:
            errors.append(
                f"gap above {top[0]}: revenue from {plain_money(top[2] + 1)} would be Standard (leave the highest maximum empty)"
            )
    return errors


def load_tiers(url: str | None = None) -> list[Tier]:
    """The configured tiers ordered by minimum revenue; the default tiers when none are stored."""
    with session_scope(url) as session:
        rows = (
            session.execute(select(ValueTier).order_by(ValueTier.min_revenue_cents, ValueTier.name))
            .scalars()
            .all()
        )
        tiers = [
            (
                r.name,
                int(r.min_revenue_cents),
                None if r.max_revenue_cents is None else int(r.max_revenue_cents),
            )
            for r in rows
        ]
    return tiers or list(DEFAULT_TIERS)


def save_tiers(tiers: Sequence[Tier], url: str | None = None) -> list[Tier]:
    """Replace the stored tiers after validating them; ValueError with every message, nothing saved, on error."""
    errors = validate_tiers(tiers)
    if errors:
        raise ValueError("; ".join(errors))
    clean = sorted(
        ((str(n).strip(), int(lo), None if hi is None else int(hi)) for n, lo, hi in tiers),
        key=lambda t: t[1],
    )
    with session_scope(url) as session:
        session.execute(delete(ValueTier))
        session.flush()
        for name, low, high in clean:
            session.add(ValueTier(name=name, min_revenue_cents=low, max_revenue_cents=high))
        session.flush()
        bump_data_version(session, {"value_tiers": None})
    return clean
