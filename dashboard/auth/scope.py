"""Row-level security: the Scope of a user, computed from the database on every request."""

from __future__ import annotations

from typing import Any

from dash import callback_context
from flask import g, has_request_context
from flask_login import current_user

from dashboard.auth.roles import FINANCE_ROLES, SALES_MANAGER, SALES_REP
from dashboard.data.customers import customer_visible, group_rep_ids
from dashboard.metrics.filters import Scope


def _as_set(value: Any) -> frozenset[str] | None:
    """A user's regions/segments (set or comma-separated string) as a set, None when unrestricted."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    items = frozenset(str(part) for part in value if part)
    return items or None


def _label(base: str, regions: frozenset[str] | None, segments: frozenset[str] | None) -> str:
    """A human-readable scope description for stamps and captions."""
    parts = [base]
    if regions:
        parts.append("regions " + ", ".join(sorted(regions)))
    if segments:
        parts.append("segments " + ", ".join(sorted(segments)))
    return "; ".join(parts)


def _rep_ids_for(user: Any) -> tuple[frozenset[str] | None, str]:
    """(sales_rep_ids, label) for the user's role; an empty set means no customers."""
    role = getattr(user, "role", None)
    if role in FINANCE_ROLES:
        return None, "all customers"
    own = getattr(user, "sales_rep_id", None)
    if role == SALES_REP:
        return (frozenset({own}), f"sales rep {own}") if own else (frozenset(), "no customers")
    if role == SALES_MANAGER:
        group = getattr(user, "group_name", None)
        reps = group_rep_ids(group) if group else frozenset()
        reps = reps | ({own} if own else set())
        return frozenset(reps), f"sales group {group or '-'} ({len(reps)} reps)"
    return frozenset(), "no customers"


def scope_for(user: Any) -> Scope:
    """What a user may see: by role, then narrowed by the user's regions and segments."""
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not getattr(user, "active", True)
    ):
        return Scope.nothing()
    rep_ids, base = _rep_ids_for(user)
    regions, segments = (
        _as_set(getattr(user, "regions", None)),
        _as_set(getattr(user, "segments", None)),
    )
    if rep_ids is not None and not rep_ids:
        return Scope.nothing()
    return Scope(
        sales_rep_ids=rep_ids,
        regions=regions,
        segments=segments,
        label=_label(base, regions, segments),
    )


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    """A set as a sorted list (None stays None)."""
    return None if values is None else sorted(values)


def _frozen(values: list[str] | None) -> frozenset[str] | None:
    """A list as a set (None stays None)."""
    return None if values is None else frozenset(values)


def scope_to_dict(scope: Scope) -> dict:
    """A JSON-ready form of a scope (for dash custom_data and audit rows)."""
    return {
        "sales_rep_ids": _sorted(scope.sales_rep_ids),
        "regions": _sorted(scope.regions),
        "segments": _sorted(scope.segments),
        "label": scope.label,
    }


def scope_from_dict(data: dict) -> Scope:
    """The inverse of scope_to_dict."""
    return Scope(
        sales_rep_ids=_frozen(data.get("sales_rep_ids")),
        regions=_frozen(data.get("regions")),
        segments=_frozen(data.get("segments")),
        label=data.get("label", ""),
    )


def _scope_from_callback_context() -> Scope | None:
    """The scope a request put into dash's custom_data (reaches background callbacks)."""
    try:
        data = (callback_context.custom_data or {}).get("auth")
    except Exception:  # noqa: BLE001 - no dash context
        return None
    return scope_from_dict(data["scope"]) if data and data.get("scope") else None


def current_scope() -> Scope:
    """The logged-in user's scope (Scope.nothing() when nobody is logged in)."""
    if not has_request_context():
        return _scope_from_callback_context() or Scope.nothing()
    cached = g.get("ar_scope")
    if cached is None:
        cached = scope_for(current_user)
        g.ar_scope = cached
    return cached


def customer_in_scope(customer_id: str, scope: Scope) -> bool:
    """True when the customer exists and lies inside the scope (for write callbacks such as notes)."""
    if scope.sales_rep_ids is not None and not scope.sales_rep_ids:
        return False
    return customer_visible(customer_id, scope.sales_rep_ids, scope.regions, scope.segments)
