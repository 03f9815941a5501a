"""Subscriptions in the database: add, change, list, remove, opt out; delivery addresses. All audited.

Who may do what: any user subscribes themselves (and changes or removes their own subscriptions);
an admin (or the command line) subscribes any user or every user of a role and manages every
subscription. The page is stored with its query string; what it shows is decided at send time by
the recipient's scope, never by who created the subscription. The rows are read and written by
dashboard.data.subscriptions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from dashboard.auth.audit import write_audit
from dashboard.auth.roles import is_role
from dashboard.auth.users import normalise_username
from dashboard.data import subscriptions as rows
from dashboard.export.email import ADDRESS_RE
from dashboard.subscriptions.schedule import EVERY, latest_slot, parse_time, zone

KINDS = ("report", "alert")
# condition -> (label, threshold unit or None when the condition takes no threshold)
CONDITIONS: dict[str, tuple[str, str | None]] = {
    "dso_above": ("DSO above N days", "days"),
    "cei_below": ("CEI below N %", "%"),
    "over90_share_above": ("90+ days share of AR above N %", "%"),
    "over_limit": ("a customer goes over its credit limit", None),
    "promise_broken": ("a promise to pay is broken", None),
    "dispute_older": ("a dispute open longer than N days", "days"),
}
MAX_PAGE = 1000


class SubscriptionError(ValueError):
    """A request to correct or refuse (bad value, unknown user, not allowed)."""


@dataclass(frozen=True)
class Actor:
    """Who asks: a username and role (the command line acts as an admin named None)."""

    username: str | None
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins and the command line manage every subscription."""
        return self.role == "admin"


CLI_ACTOR = Actor(None, "admin")


def utcnow() -> dt.datetime:
    """Naive UTC now (the database columns are naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def check_page(page: str) -> str:
    """A local page path with an optional query string ('/aging?segment=SMB')."""
    text = str(page or "").strip()
    parts = urlsplit(text)
    if (
        not text.startswith("/")
        or text.startswith("//")
        or parts.scheme
        or parts.netloc
        or len(text) > MAX_PAGE
    ):
        raise SubscriptionError(
            f"not a page of the dashboard (a path such as /?segment=SMB): {text[:80]!r}"
        )
    if any(ch.isspace() for ch in text):
        raise SubscriptionError("a page path has no spaces")
    return text


def check_threshold(condition: str | None, threshold: Any) -> str | None:
    """The threshold as decimal text when the condition needs one."""
    if condition not in CONDITIONS:
        raise SubscriptionError(
            f"unknown alert condition {condition!r}; one of {', '.join(CONDITIONS)}"
        )
    if CONDITIONS[condition][1] is None:
        return None
    try:
        value = Decimal(str(threshold).strip())
    except (InvalidOperation, ValueError) as error:
        raise SubscriptionError(f"{CONDITIONS[condition][0]}: N must be a number") from error
    if not value.is_finite() or value < 0 or value > 100000:
        raise SubscriptionError(f"{CONDITIONS[condition][0]}: N must be between 0 and 100000")
    return str(value)


def _check_schedule(fields: dict) -> None:
    if fields.get("every") not in EVERY:
        raise SubscriptionError(f"every must be one of {', '.join(EVERY)}")
    try:
        parse_time(fields["at_time"])
        zone(fields["tz"])
    except ValueError as error:
        raise SubscriptionError(str(error)) from error
    if not 0 <= int(fields.get("weekday", 0)) <= 6:
        raise SubscriptionError("weekday must be 0 (Monday) to 6 (Sunday)")
    if not 1 <= int(fields.get("monthday", 1)) <= 31:
        raise SubscriptionError("day of the month must be 1 to 31")


def _check_address(address: str | None) -> str | None:
    text = (address or "").strip()
    if not text:
        return None
    if not ADDRESS_RE.match(text) or len(text) > 200:
        raise SubscriptionError(f"not an email address: {text[:80]!r}")
    return text


def _check_target(
    actor: Actor, username: str | None, role: str | None
) -> tuple[str | None, str | None]:
    if role:
        if not actor.is_admin:
            raise SubscriptionError("only an admin can subscribe a role")
        if not is_role(role):
            raise SubscriptionError(f"unknown role {role!r}")
        return None, role
    name = normalise_username(username or actor.username or "")
    if not name:
        raise SubscriptionError("say which user (--user USERNAME) or role receives it")
    if not actor.is_admin and name != actor.username:
        raise SubscriptionError("you can only subscribe yourself; an admin can subscribe others")
    if not rows.user_exists(name):
        raise SubscriptionError(f"unknown user {name!r}")
    return name, None


def _clean(fields: dict) -> dict:
    """Validated column values from user input (kind, page, schedule, alert, address)."""
    kind = fields.get("kind") or "report"
    if kind not in KINDS:
        raise SubscriptionError(f"kind must be one of {', '.join(KINDS)}")
    out = {
        "kind": kind,
        "page": check_page(fields.get("page") or "/"),
        "every": fields.get("every") or "weekly",
        "at_time": (fields.get("at_time") or "08:00").strip(),
        "tz": (fields.get("tz") or "UTC").strip(),
        "weekday": int(fields.get("weekday") or 0),
        "monthday": int(fields.get("monthday") or 1),
        "address": _check_address(fields.get("address")),
        "condition": None,
        "threshold": None,
    }
    _check_schedule(out)
    if kind == "alert":
        condition = fields.get("condition")
        out["condition"] = condition
        out["threshold"] = check_threshold(condition, fields.get("threshold"))
    return out


def _audit(actor: Actor, action: str, data: dict) -> None:
    detail = {"action": action, "by": actor.username or "cli", **data}
    write_audit("subscription", actor.username, json.dumps(detail, default=str))


def add_subscription(
    actor: Actor, username: str | None = None, role: str | None = None, **fields: Any
) -> dict:
    """Create a subscription (validated, audited); returns it."""
    values = _clean(fields)
    user, role = _check_target(actor, username, role)
    data = rows.insert_subscription(
        {
            "username": user,
            "role": role,
            "active": True,
            "created_by": actor.username or "cli",
            "created_at": utcnow(),
            **values,
        }
    )
    _audit(actor, "add", data)
    return data


def _manages(actor: Actor) -> Any:
    """Whether the actor may change a subscription row: an admin any, a user their own."""
    return lambda row: (
        actor.is_admin or (row.username is not None and row.username == actor.username)
    )


def update_subscription(actor: Actor, sub_id: int, **fields: Any) -> dict:
    """Change a subscription's page, schedule, alert or address (its owner or an admin)."""

    def change(current: dict) -> dict:
        values = _clean({**current, **{k: v for k, v in fields.items() if k != "active"}})
        return {**values, "active": bool(fields["active"])} if "active" in fields else values

    data = rows.change_subscription(sub_id, _manages(actor), change)
    if data is None:
        raise SubscriptionError(f"no subscription {sub_id} of yours")
    _audit(actor, "update", data)
    return data


def remove_subscription(actor: Actor, sub_id: int) -> dict:
    """Delete a subscription (its history stays); returns what was removed."""
    data = rows.delete_subscription(sub_id, _manages(actor))
    if data is None:
        raise SubscriptionError(f"no subscription {sub_id} of yours")
    _audit(actor, "remove", data)
    return data


def list_subscriptions(actor: Actor) -> list[dict]:
    """Every subscription for an admin; a user's own and those of their role otherwise."""
    return rows.list_subscriptions(actor.username, actor.role, everyone=actor.is_admin)


def history(actor: Actor, limit: int = 200) -> list[dict]:
    """The latest sends the actor may see (all for an admin, their own otherwise)."""
    return rows.history(None if actor.is_admin else actor.username, limit)


def opt_out(sub_id: int, username: str) -> bool:
    """Unsubscribe one user: a personal subscription is switched off, a role's gets an opt-out row."""
    data = rows.opt_out(sub_id, username, utcnow())
    if data is None:
        return False
    _audit(Actor(username, ""), "unsubscribe", data)
    return True


def set_address(username: str, email: str | None) -> None:
    """Where the user's subscriptions go (None removes it)."""
    address = _check_address(email)
    rows.save_address(username, address)
    _audit(Actor(username, ""), "address", {"username": username, "email": address})


def next_slot_text(sub: dict, now: dt.datetime | None = None) -> str:
    """When the subscription last fell due ('2024-03-04 08:00 Europe/Berlin'), for the page."""
    now = now or dt.datetime.now(dt.UTC)
    slot = latest_slot(
        sub["every"], sub["at_time"], sub["tz"], now, sub["weekday"], sub["monthday"]
    )
    return slot.astimezone(zone(sub["tz"])).strftime("%Y-%m-%d %H:%M %Z")


def check_user(username: str) -> str:
    """The normalised name of an existing user (SubscriptionError otherwise)."""
    name = normalise_username(username or "")
    if not rows.user_exists(name):
        raise SubscriptionError(f"unknown user {name!r}")
    return name
