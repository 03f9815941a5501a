"""The one parser of URL parameters shared by the API, the exports and the page callbacks.

Every refusal is a BadParameter naming the parameter; the API and export routes answer it with a
400 JSON body {"error": ..., "parameter": name}, the pages show it as a message.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import request

from dashboard.data.models import MAX_DATE, MIN_DATE
from dashboard.metrics.filters import TERMS_GROUPS, Filters

FILTER_PARAMS = ("segment", "region", "tier", "sales_rep", "terms_group")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Every date the app computes with (as-of dates, and D-365, D+horizon, 24 months of countback)
# stays well inside what datetime, numpy and pandas can represent.
MAX_PERIOD_DAYS = 36500
MAX_VALUE_LENGTH = 200
BASES = ("due", "transaction")


class BadParameter(ValueError):
    """A query parameter that cannot be accepted."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def single(name: str) -> str | None:
    """The one value of a query parameter (BadParameter when repeated)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0] if values else None


def check_known(allowed: frozenset[str]) -> None:
    """Refuse parameters the endpoint does not know."""
    for name in request.args:
        if name not in allowed:
            raise BadParameter(name, f"unknown parameter (allowed: {', '.join(sorted(allowed))})")


def check_date_range(name: str, day: dt.date) -> dt.date:
    """The date, or BadParameter when it lies outside MIN_DATE..MAX_DATE."""
    if not MIN_DATE <= day <= MAX_DATE:
        raise BadParameter(
            name,
            f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}, "
            f"not {day.isoformat()}",
        )
    return day


def parse_date(name: str, raw: str | None, default: dt.date | None = None) -> dt.date:
    """A YYYY-MM-DD date within the supported range (default when absent; today if no default)."""
    if raw is None or raw == "":
        return default or dt.date.today()
    if not DATE_RE.match(raw):
        raise BadParameter(name, f"not an ISO date (YYYY-MM-DD): {raw[:40]!r}")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadParameter(name, f"not a valid date: {raw!r}") from exc
    return check_date_range(name, day)


def parse_as_of(raw: str | None) -> dt.date:
    """as_of=YYYY-MM-DD (default today)."""
    return parse_date("as_of", raw)


def parse_period(raw: str | None) -> int:
    """period_days: a positive whole number (default 90)."""
    if raw is None or raw == "":
        return 90
    if not raw.isascii() or not raw.isdigit():
        raise BadParameter("period_days", f"not a positive whole number: {raw[:40]!r}")
    days = int(raw)
    if not 0 < days <= MAX_PERIOD_DAYS:
        raise BadParameter("period_days", f"must be between 1 and {MAX_PERIOD_DAYS}")
    return days


def parse_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A whole number within [low, high] (default when absent)."""
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def parse_basis(raw: str | None) -> str:
    """basis=due|transaction (default due)."""
    if raw is None or raw == "":
        return "due"
    if raw not in BASES:
        raise BadParameter("basis", f"must be one of {', '.join(BASES)}")
    return raw


def parse_filters() -> Filters:
    """The customer-attribute filters (blank means no filter); they only narrow the scope."""
    values: dict[str, str | None] = {}
    for name in FILTER_PARAMS:
        raw = single(name)
        if raw is not None and len(raw) > MAX_VALUE_LENGTH:
            raise BadParameter(name, "too long")
        values[name] = raw or None
    if values["terms_group"] is not None and values["terms_group"] not in TERMS_GROUPS:
        raise BadParameter("terms_group", f"must be one of {', '.join(TERMS_GROUPS)}")
    return Filters(**values)
