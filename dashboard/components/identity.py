"""Who is asking: the logged-in user and their scope, always from the server (never a store or URL).

Every page callback gets its scope from `scope()` and checks write rights with `can()`.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from dashboard.auth import current_scope
from dashboard.auth.roles import can as role_can
from dashboard.metrics.filters import Scope


def scope() -> Scope:
    """The logged-in user's scope (Scope.nothing() when nobody is logged in)."""
    return current_scope()


def user() -> Any:
    """The flask-login current user (an anonymous user outside a login)."""
    return current_user if has_request_context() else None


def can(capability: str) -> bool:
    """True when the current user's role has the capability (see dashboard.auth.roles)."""
    return role_can(user(), capability)


def user_id() -> int | None:
    """The database id of the logged-in user, else None."""
    current = user()
    if current is None or not getattr(current, "is_authenticated", False):
        return None
    return getattr(current, "id", None)


def username() -> str | None:
    """The logged-in user's name, else None."""
    current = user()
    if current is None or not getattr(current, "is_authenticated", False):
        return None
    return getattr(current, "username", None)


def role() -> str | None:
    """The logged-in user's role, else None."""
    current = user()
    if current is None or not getattr(current, "is_authenticated", False):
        return None
    return getattr(current, "role", None)
