"""Roles, page permissions and capabilities, as data (docs/roles.md explains them)."""

from __future__ import annotations

from typing import Any

ADMIN = "admin"
EXECUTIVE = "executive"
CONTROLLER = "controller"
AR_CLERK = "ar_clerk"
SALES_MANAGER = "sales_manager"
SALES_REP = "sales_rep"

ROLES: tuple[str, ...] = (ADMIN, EXECUTIVE, CONTROLLER, AR_CLERK, SALES_MANAGER, SALES_REP)
ALL_ROLES: frozenset[str] = frozenset(ROLES)
# Roles whose scope is every customer (narrowed only by the user's regions/segments, if set).
FINANCE_ROLES: frozenset[str] = frozenset({ADMIN, EXECUTIVE, CONTROLLER, AR_CLERK})
SALES_ROLES: frozenset[str] = frozenset({SALES_MANAGER, SALES_REP})

# Page path prefix -> roles that may open it. The longest matching prefix (whole path segments)
# decides; paths not listed inherit "/". What a page shows is further limited by the user's scope.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "/": ALL_ROLES,
    "/customers": ALL_ROLES,
    "/credit": ALL_ROLES,
    "/reliability": ALL_ROLES,
    "/value": ALL_ROLES,
    "/forecast": ALL_ROLES,
    "/predictions": ALL_ROLES,
    "/disputes": ALL_ROLES,
    "/commissions": frozenset({ADMIN, EXECUTIVE, CONTROLLER, SALES_MANAGER, SALES_REP}),
    "/admin": frozenset({ADMIN}),
}

# Capability -> roles that have it. Data-changing capabilities are still limited to the scope.
CAPABILITIES: dict[str, frozenset[str]] = {
    "view_dashboard": ALL_ROLES,
    "view_commissions": PAGE_ROLES["/commissions"],
    "export": ALL_ROLES,
    "save_views": ALL_ROLES,
    "edit_notes": frozenset({ADMIN, CONTROLLER, AR_CLERK, SALES_MANAGER, SALES_REP}),
    "edit_collections": frozenset({ADMIN, CONTROLLER, AR_CLERK}),
    "email_summary": frozenset({ADMIN, EXECUTIVE, CONTROLLER}),
    "admin_users": frozenset({ADMIN}),
    "admin_tiers": frozenset({ADMIN}),
}


def is_role(name: str | None) -> bool:
    """True when name is one of the known roles."""
    return name in ALL_ROLES


def _role_of(user: Any) -> str | None:
    """The role of an authenticated user object, else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "active", True) is False:
        return None
    return getattr(user, "role", None)


def can(user: Any, capability: str) -> bool:
    """True when the (authenticated, active) user's role has the capability."""
    role = _role_of(user)
    return role is not None and role in CAPABILITIES.get(capability, frozenset())


def _segments(path: str) -> list[str]:
    """The non-empty segments of a URL path."""
    return [part for part in path.split("/") if part]


def page_rule(path: str) -> str:
    """The PAGE_ROLES prefix that governs a path (longest whole-segment match)."""
    parts = _segments(path)
    best = "/"
    for prefix in PAGE_ROLES:
        prefix_parts = _segments(prefix)
        if parts[: len(prefix_parts)] == prefix_parts and len(prefix_parts) > len(_segments(best)):
            best = prefix
    return best


def page_allowed(role: str | None, path: str) -> bool:
    """True when the role may open the page at path."""
    return role is not None and role in PAGE_ROLES[page_rule(path)]


def allowed_prefixes(user: Any) -> list[str]:
    """The PAGE_ROLES prefixes the user may open (for building the navigation)."""
    role = _role_of(user)
    return [prefix for prefix, roles in PAGE_ROLES.items() if role in roles]
