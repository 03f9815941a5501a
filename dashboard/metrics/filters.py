"""Filters (what the user asked to see) and Scope (what the user may see).

Both select customers by their attributes. The scope comes from the server-side identity only and
is applied before any figure is computed; filters from the browser are intersected with it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

TERMS_GROUPS = ("short", "long")  # short: terms under 30 days; long: 30-day and monthly (EOM) terms


@dataclass(frozen=True)
class Filters:
    """Customer-attribute filters from the UI, CLI or API (None = no filter)."""

    segment: str | None = None
    region: str | None = None
    tier: str | None = None
    sales_rep: str | None = None
    terms_group: str | None = None

    def key(self) -> tuple[Any, ...]:
        """Hashable cache key."""
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class Scope:
    """The customers (and commissions) a user may see; None in a field means unrestricted."""

    sales_rep_ids: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    segments: frozenset[str] | None = None
    label: str = "all customers"

    @classmethod
    def everyone(cls) -> Scope:
        """No restriction (admins, executives, controllers, CLI)."""
        return cls()

    @classmethod
    def nothing(cls) -> Scope:
        """Sees no customer at all (a rep with no sales_rep_id, for example)."""
        return cls(sales_rep_ids=frozenset(), label="no customers")

    @property
    def unrestricted(self) -> bool:
        """True when the scope selects every customer."""
        return self.sales_rep_ids is None and self.regions is None and self.segments is None

    def key(self) -> tuple[Any, ...]:
        """Hashable cache key (every cache keyed by data must include it)."""
        return (
            None if self.sales_rep_ids is None else tuple(sorted(self.sales_rep_ids)),
            None if self.regions is None else tuple(sorted(self.regions)),
            None if self.segments is None else tuple(sorted(self.segments)),
        )
