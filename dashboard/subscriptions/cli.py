"""Command line: `subscriptions add|list|remove`, `scheduler [--once] [--now ISO]`, `statement CUSTOMER_ID`.

The command line acts as an admin (whoever has a shell on the server can read the database).
Exit status: 0 done, 1 a send or a statement email failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from pathlib import Path

# The commands import what they use inside themselves, like dashboard/cli.py: every `python -m
# dashboard` command builds these parsers, and these imports at the top cost about 2.4 s of each
# command's start-up (`--help` measured 0.7 s before, 3.6-5.1 s with them at the top).


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The subcommands of this module on the main parser."""
    p = sub.add_parser(
        "subscriptions", help="scheduled page summaries and alerts (add, list, remove)"
    )
    ssub = p.add_subparsers(dest="subscriptions_command", required=True)
    a = ssub.add_parser(
        "add", help="subscribe a user (or every user of a role) to a page or an alert"
    )
    who = a.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="recipient username")
    who.add_argument("--role", help="every active user of this role")
    a.add_argument(
        "--page", default="/", help="page path with its query string, e.g. '/?segment=SMB'"
    )
    a.add_argument("--every", choices=("daily", "weekly", "monthly"), default="weekly")
    a.add_argument("--at", default="08:00", help="HH:MM local time (default 08:00)")
    a.add_argument("--tz", default="UTC", help="IANA time zone (default UTC)")
    a.add_argument("--weekday", type=int, default=0, help="weekly: 0 = Monday ... 6 = Sunday")
    a.add_argument(
        "--day", type=int, default=1, help="monthly: day of the month (last day if shorter)"
    )
    a.add_argument(
        "--alert",
        help="watch a condition instead: dso_above, cei_below, over90_share_above, "
        "over_limit, promise_broken, dispute_older",
    )
    a.add_argument("--threshold", help="N of the alert condition")
    a.add_argument("--email", help="deliver to this address instead of the user's")
    ssub.add_parser("list", help="list subscriptions")
    r = ssub.add_parser("remove", help="remove a subscription")
    r.add_argument("id", type=int)
    h = ssub.add_parser("history", help="the latest sends and their status")
    h.add_argument("--limit", type=int, default=50)
    e = ssub.add_parser("set-email", help="where a user's subscriptions are delivered")
    e.add_argument("--user", required=True)
    e.add_argument("--email", required=True)
    p.set_defaults(func=cmd_subscriptions)

    p = sub.add_parser(
        "scheduler", help="send due subscriptions and alerts (every minute, or --once)"
    )
    p.add_argument(
        "--once", action="store_true", help="run what is due now once, then exit (for cron)"
    )
    p.add_argument(
        "--now",
        default=None,
        help="the moment to run for (ISO datetime; default now, UTC if no zone)",
    )
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser(
        "statement", help="a customer's statement PDF as of a date (download or email)"
    )
    p.add_argument("customer_id", nargs="+")
    p.add_argument("--as-of", default=None, help="YYYY-MM-DD (default today)")
    p.add_argument("--out", default=None, help="PDF file (one customer) or directory (several)")
    p.add_argument(
        "--email", action="store_true", help="email it to the customer's billing address"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="with --email: list who would receive what"
    )
    p.set_defaults(func=cmd_statement)


def _fail(command: str, message: str) -> int:
    print(f"{command}: {message}", file=sys.stderr)
    return 2


def cmd_subscriptions(args: argparse.Namespace) -> int:
    """subscriptions add|list|remove|history|set-email."""
    from dashboard.data.schema import init_db  # lazy (b): CLI start-up (see the top)
    from dashboard.subscriptions import store

    init_db()
    actor = store.CLI_ACTOR
    try:
        if args.subscriptions_command == "add":
            data = store.add_subscription(
                actor,
                username=args.user,
                role=args.role,
                kind="alert" if args.alert else "report",
                page=args.page,
                every=args.every,
                at_time=args.at,
                tz=args.tz,
                weekday=args.weekday,
                monthday=args.day,
                condition=args.alert,
                threshold=args.threshold,
                address=args.email,
            )
            print(json.dumps(data))
        elif args.subscriptions_command == "list":
            for row in store.list_subscriptions(actor):
                print(json.dumps(row))
        elif args.subscriptions_command == "remove":
            store.remove_subscription(actor, args.id)
            print(f"subscriptions: removed {args.id}", file=sys.stderr)
        elif args.subscriptions_command == "history":
            for row in store.history(actor, args.limit):
                print(json.dumps(row))
        else:
            store.set_address(store.check_user(args.user), args.email)
            print(f"subscriptions: {args.user} receives at {args.email}", file=sys.stderr)
    except store.SubscriptionError as error:
        return _fail("subscriptions", str(error))
    return 0


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run due subscriptions once (--once) or every AR_SCHEDULER_SECONDS."""
    from dashboard.data.schema import init_db  # lazy (b): CLI start-up (see the top)
    from dashboard.subscriptions.runner import run_due, run_forever

    try:
        now = _moment(args.now)
    except ValueError:
        return _fail("scheduler", f"--now is not an ISO datetime: {args.now!r}")
    if now is not None and not args.once:
        return _fail("scheduler", "--now needs --once")
    init_db()
    if not args.once:
        from dashboard.jobs import SCHEDULES, run_scheduler  # lazy (b): CLI start-up (see the top)

        # periodic jobs registered with jobs.register(..., every=) are queued too
        stop = threading.Event()
        threading.Thread(
            target=run_scheduler, args=(stop,), name="job-scheduler", daemon=True
        ).start()
        kinds = (
            ", ".join(f"{kind} every {every:g} s" for kind, (every, _) in SCHEDULES.items())
            or "none"
        )
        print(f"scheduler: running (Ctrl-C to stop); periodic jobs: {kinds}", file=sys.stderr)
        try:
            run_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
        return 0
    counts = run_due(now)
    print(
        "scheduler: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing due"),
        file=sys.stderr,
    )
    return 1 if counts.get("failed") or counts.get("errors") else 0


def cmd_statement(args: argparse.Namespace) -> int:
    """Write statement PDFs, or email them (--email, --dry-run)."""
    # lazy (b): CLI start-up (see the top)
    from dashboard.export.statement import StatementError, send_statements, statement_download
    from dashboard.metrics.filters import Scope
    from dashboard.metrics.snapshot import get_snapshot

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    except ValueError:
        return _fail("statement", f"--as-of is not a date (YYYY-MM-DD): {args.as_of!r}")
    if not args.email and not args.out:
        return _fail("statement", "say where: --out FILE.pdf, --email, or both")
    snap, scope = get_snapshot(), Scope.everyone()
    try:
        if args.out:
            _write(snap, args.customer_id, as_of, scope, Path(args.out), statement_download)
        if args.email:
            outcomes = send_statements(
                snap, args.customer_id, as_of, scope, None, dry_run=args.dry_run, via="cli"
            )
            for o in outcomes:
                print(
                    f"{o.customer_id}\t{o.name}\t{o.email or '-'}\t{o.balance}\t{o.status}"
                    + (f"\t{o.detail}" if o.detail else "")
                )
            if any(o.status in ("failed", "no address") for o in outcomes):
                return 1
    except StatementError as error:
        return _fail("statement", str(error))
    return 0


def _write(snap, ids: list[str], as_of: dt.date, scope, out: Path, download) -> None:
    """One PDF to out, or one per customer into the directory out."""
    if len(ids) > 1:
        out.mkdir(parents=True, exist_ok=True)
    for customer_id in ids:
        body, name = download(snap, customer_id, as_of, scope, None, via="cli")
        target = out / name if len(ids) > 1 or out.is_dir() else out
        target.write_bytes(body)
        print(f"statement: wrote {target}", file=sys.stderr)
