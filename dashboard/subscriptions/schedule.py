"""Schedule slots: the latest moment at or before `now` when a subscription is due, in its time zone."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EVERY = ("daily", "weekly", "monthly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A schedule the user must correct (unknown zone, bad time)."""


def zone(name: str) -> ZoneInfo:
    """The zoneinfo time zone of an IANA name (ScheduleError when unknown)."""
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(
            f"unknown time zone {str(name)[:64]!r} (use an IANA name such as Europe/Berlin)"
        ) from error


def parse_time(text: str) -> dt.time:
    """HH:MM (24 hours) as a time."""
    match = TIME_RE.match(str(text).strip())
    if not match:
        raise ScheduleError(f"not a time of day (HH:MM, 24 hours): {str(text)[:20]!r}")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _local_date(every: str, today: dt.date, weekday: int, monthday: int, back: int) -> dt.date:
    """The local date of the slot `back` periods before the one of `today`'s period."""
    if every == "daily":
        return today - dt.timedelta(days=back)
    if every == "weekly":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 + 7 * back)
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, min(monthday, calendar.monthrange(year, month)[1]))


def latest_slot(
    every: str, at: str, tz: str, now: dt.datetime, weekday: int = 0, monthday: int = 1
) -> dt.datetime:
    """The latest slot at or before now, as an aware UTC datetime."""
    if every not in EVERY:
        raise ScheduleError(f"--every must be one of {', '.join(EVERY)}")
    local_zone, time_of_day = zone(tz), parse_time(at)
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    today = now.astimezone(local_zone).date()
    for back in range(3):
        day = _local_date(every, today, weekday, monthday, back)
        slot = dt.datetime.combine(day, time_of_day, tzinfo=local_zone).astimezone(dt.UTC)
        if slot <= now:
            return slot
    raise ScheduleError("no slot found")  # unreachable: one of three periods back is in the past


def slot_key(slot: dt.datetime) -> str:
    """The slot as stored in the send history (ISO, UTC, minutes)."""
    return slot.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def describe(every: str, at: str, tz: str, weekday: int = 0, monthday: int = 1) -> str:
    """'weekly on Monday at 08:00 Europe/Berlin'."""
    when = {
        "daily": "daily",
        "weekly": f"weekly on {WEEKDAYS[weekday % 7]}",
        "monthly": f"monthly on day {monthday}",
    }.get(every, every)
    return f"{when} at {at} {tz}"
