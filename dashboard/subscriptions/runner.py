"""The scheduler: runs every subscription and alert due at a moment, exactly once per slot and user.

Exactly once across threads, processes and machines: before sending, a worker inserts the send row
(subscription, slot, username) under a unique constraint; the one insert that succeeds owns the
send, every other worker gets an IntegrityError and skips it (the database decides, on SQLite and
PostgreSQL alike). Retries claim a row with a compare-and-set UPDATE (status 'retry' -> 'sending').
Alert firings have their own unique key (subscription, username, firing key), so a firing is
mailed once however many workers evaluate the condition.

A failing send never stops the run: SMTP failures are retried (settings.smtp_attempts in the call,
then again after settings.send_retry_minutes, up to settings.send_max_tries runs), a refused
address fails at once; every outcome is in the send history and the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dashboard.auth.audit import write_audit
from dashboard.config import get_settings
from dashboard.data import subscriptions as rows
from dashboard.data.models import Subscription, SubscriptionSend
from dashboard.data.schema import data_version
from dashboard.export.mailer import MailError, deliver
from dashboard.export.tables import audit_detail
from dashboard.metrics.snapshot import get_snapshot
from dashboard.subscriptions.alerts import Found, evaluate
from dashboard.subscriptions.content import Built, alert_email, eligibility, report_email
from dashboard.subscriptions.schedule import latest_slot, slot_key, zone
from dashboard.subscriptions.tokens import unsubscribe_url

log = logging.getLogger(__name__)


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def claim(
    sub_id: int, slot: str, username: str, now: dt.datetime, detail: str | None = None
) -> int | None:
    """Insert the send row; its id when this worker owns the send, None when another one does."""
    return rows.claim_send(sub_id, slot, username, _naive(now), detail)


def claim_retry(send_id: int, now: dt.datetime) -> bool:
    """Take a send due for retry (one worker wins the compare-and-set)."""
    return rows.claim_retry(send_id, _naive(now))


def finish(send_id: int, status: str, now: dt.datetime, **values: Any) -> None:
    """Record the outcome of a send."""
    rows.finish_send(send_id, status, _naive(now), **values)


def _audit_send(username: str, built: Any, sub: Any, slot: str, status: str, **extra: Any) -> None:
    stamp = built.stamp
    write_audit(
        "export",
        username,
        audit_detail(
            "email",
            "subscription" if sub.kind == "report" else "alert",
            stamp,
            built.rows,
            subscription_id=sub.id,
            slot=slot,
            status=status,
            page=sub.page,
            via="scheduler",
            **extra,
        ),
    )


def _send_built(
    send_id: int,
    sub: Any,
    who: Any,
    built: Any,
    slot: str,
    attempts_before: int,
    now: dt.datetime,
    settings: Any,
    counts: Counter,
) -> None:
    """Deliver a built message and record sent / retry / failed."""
    try:
        used = deliver(built.message, [who.address], settings)
    except MailError as error:
        tries = attempts_before + 1
        final = error.permanent or tries >= settings.send_max_tries
        status = "failed" if final else "retry"
        retry_at = (
            None if final else _naive(now + dt.timedelta(minutes=settings.send_retry_minutes))
        )
        finish(
            send_id,
            status,
            now,
            attempts=tries,
            address=who.address,
            scope=who.scope.label,
            as_of=built.stamp.as_of,
            next_try_at=retry_at,
            detail=_detail(
                sub,
                built,
                f"{error}" + ("" if final else f"; next try at {retry_at:%Y-%m-%d %H:%M} UTC"),
            ),
        )
        _audit_send(who.username, built, sub, slot, status, to=[who.address], error=str(error))
        counts[status] += 1
        return
    finish(
        send_id,
        "sent",
        now,
        attempts=attempts_before + 1,
        address=who.address,
        scope=who.scope.label,
        as_of=built.stamp.as_of,
        next_try_at=None,
        detail=_detail(sub, built, f"sent ({used} SMTP attempt(s))"),
    )
    _audit_send(who.username, built, sub, slot, "sent", to=[who.address])
    counts["sent"] += 1


def _detail(sub: Any, built: Any, note: str) -> str:
    """What the history shows; alert sends keep their rows so a retry sends the same firing."""
    if sub.kind != "alert":
        return f"{built.summary}; {note}"
    return json.dumps({"note": note, **built.payload})


# ---- reports -------------------------------------------------------------------------------------


def _report_for(
    sub: Any,
    username: str,
    send_id: int,
    slot: str,
    attempts: int,
    now: dt.datetime,
    settings: Any,
    counts: Counter,
) -> None:
    """Compute the page summary as the user (now) and send it, or record why not."""
    who, reason = eligibility(rows.user_named(username), sub.page, sub.address)
    if who is None:
        finish(send_id, "skipped", now, attempts=attempts, detail=reason)
        counts["skipped"] += 1
        return
    today = now.astimezone(zone(sub.tz)).date()
    built = report_email(
        get_snapshot(),
        sub,
        who,
        today,
        settings.smtp_from,
        unsubscribe_url(sub.id, username, settings),
    )
    _send_built(send_id, sub, who, built, slot, attempts, now, settings, counts)


def _run_report(sub: Subscription, now: dt.datetime, settings: Any, counts: Counter) -> None:
    slot = latest_slot(sub.every, sub.at_time, sub.tz, now, sub.weekday, sub.monthday)
    if slot < _aware(sub.created_at):
        return  # the first slot after the subscription was made is the first one sent
    key = slot_key(slot)
    for name in rows.recipients(sub):
        send_id = claim(sub.id, key, name, now)
        if send_id is not None:
            _report_for(sub, name, send_id, key, 0, now, settings, counts)


# ---- alerts --------------------------------------------------------------------------------------


def record_firings(
    sub_id: int, username: str, hits: list[Any], as_of: dt.date, now: dt.datetime
) -> list[Any]:
    """Close firings no longer true, insert new ones; the hits this worker fired first."""
    return rows.record_firings(sub_id, username, hits, as_of, _naive(now))


def _alert_as_of(sub: Any, now: dt.datetime) -> dt.date:
    """The page's as_of when it pins one, else today in the subscription's time zone."""

    today = now.astimezone(zone(sub.tz)).date()
    pinned = dict(parse_qsl(urlsplit(sub.page).query)).get("as_of")
    try:
        return min(dt.date.fromisoformat(pinned), today) if pinned else today
    except ValueError:
        return today


def _alert_for(
    sub: Any,
    username: str,
    snap: Any,
    as_of: dt.date,
    now: dt.datetime,
    settings: Any,
    counts: Counter,
) -> None:
    who, _reason = eligibility(rows.user_named(username), sub.page, sub.address)
    if who is None:
        # a disabled user or one without access gets nothing, and no firing is recorded for them
        return
    evaluation = evaluate(snap, sub.condition, sub.threshold, as_of, who.scope)
    fired = record_firings(sub.id, username, evaluation.hits, as_of, now)
    if not fired:
        return
    found = Found(
        evaluation.headline, evaluation.columns, [row for hit in fired for row in hit.rows]
    )
    keys = ",".join(sorted(hit.key for hit in fired))
    slot = f"alert {as_of.isoformat()} {hashlib.sha1(keys.encode()).hexdigest()[:16]}"
    built = alert_email(
        sub, who, found, as_of, settings.smtp_from, unsubscribe_url(sub.id, username, settings)
    )
    built.payload = {
        "headline": found.headline,
        "columns": found.columns,
        "rows": found.rows,
        "as_of": as_of.isoformat(),
    }
    send_id = claim(sub.id, slot, username, now)
    if send_id is not None:
        _send_built(send_id, sub, who, built, slot, 0, now, settings, counts)
        counts["fired"] += len(fired)


def _run_alert(sub: Subscription, now: dt.datetime, settings: Any, counts: Counter) -> None:
    version = data_version()
    as_of = _alert_as_of(sub, now)
    if sub.evaluated_version == version and sub.evaluated_on == as_of:
        return  # evaluated on this data version today already
    snap = get_snapshot()
    for name in rows.recipients(sub):
        _alert_for(sub, name, snap, as_of, now, settings, counts)
    rows.mark_evaluated(sub.id, version, as_of)


# ---- retries and the run -------------------------------------------------------------------------


def _retry(send: SubscriptionSend, now: dt.datetime, settings: Any, counts: Counter) -> None:
    if not claim_retry(send.id, now):
        return
    sub = rows.subscription_row(send.subscription_id)
    user = rows.user_named(send.username)
    who, reason = (
        eligibility(user, sub.page, sub.address) if sub else (None, "subscription removed")
    )
    if sub is None or not sub.active or who is None:
        finish(send.id, "skipped", now, detail=reason or "subscription switched off")
        counts["skipped"] += 1
        return
    if sub.kind == "report":
        _report_for(sub, send.username, send.id, send.slot, send.attempts, now, settings, counts)
        return
    payload = json.loads(send.detail or "{}")
    found = Found(payload.get("headline", ""), payload.get("columns", []), payload.get("rows", []))
    as_of = dt.date.fromisoformat(payload.get("as_of") or now.date().isoformat())
    built: Built = alert_email(
        sub, who, found, as_of, settings.smtp_from, unsubscribe_url(sub.id, send.username, settings)
    )
    built.payload = payload
    _send_built(send.id, sub, who, built, send.slot, send.attempts, now, settings, counts)


def run_due(now: dt.datetime | None = None, settings: Any = None) -> Counter:
    """Run everything due at `now` (default: the current time); counts of sent, skipped, retry, failed, fired."""
    settings = settings or get_settings()
    now = _aware(now or dt.datetime.now(dt.UTC))
    counts: Counter = Counter()
    subs = rows.active_subscriptions()
    retries = rows.due_retries(_naive(now))
    for sub in subs:
        try:
            (_run_report if sub.kind == "report" else _run_alert)(sub, now, settings, counts)
        except Exception:  # noqa: BLE001 - one broken subscription never stops the others
            log.exception("subscription %s failed", sub.id)
            counts["errors"] += 1
    for send in retries:
        try:
            _retry(send, now, settings, counts)
        except Exception:  # noqa: BLE001
            log.exception("retry of send %s failed", send.id)
            counts["errors"] += 1
    return counts


def run_forever(stop: threading.Event | None = None, settings: Any = None) -> None:
    """Run due subscriptions every settings.scheduler_seconds until stop is set."""
    settings = settings or get_settings()
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            counts = run_due(settings=settings)
            if counts:
                log.info("scheduler: %s", dict(counts))
        except Exception:  # noqa: BLE001 - the database may be restarting; try again next tick
            log.exception("scheduler tick failed")
        stop.wait(settings.scheduler_seconds)


def start_in_process(settings: Any = None) -> threading.Thread | None:
    """The in-process scheduler thread of the SQLite default (AR_SCHEDULER=auto|on|off)."""
    settings = settings or get_settings()
    mode = (settings.scheduler or "auto").lower()
    if mode == "off" or (mode == "auto" and not settings.database_url.startswith("sqlite")):
        return None
    thread = threading.Thread(
        target=run_forever, kwargs={"settings": settings}, name="ar-scheduler", daemon=True
    )
    thread.start()
    return thread
