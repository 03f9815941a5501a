"""`python -m dashboard` / `ar-dashboard`: one CLI for every operation."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


def cmd_init_db(args: argparse.Namespace) -> int:
    """Create or upgrade the schema."""
    from dashboard.data.schema import init_db

    init_db(args.database_url)
    print("database ready", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import a directory of canonical (or mapped) files, all or nothing."""
    from dashboard.data.importer import ImportFailed, run_import
    from dashboard.data.schema import init_db

    init_db(args.database_url)
    try:
        result = run_import(
            Path(args.directory),
            mapping=Path(args.mapping) if args.mapping else None,
            dry_run=args.dry_run,
            url=args.database_url,
            progress=not args.quiet,
        )
    except ImportFailed as failure:
        for line in failure.errors:
            print(line, file=sys.stderr)
        print(
            f"import aborted: {len(failure.errors)} error(s); the database is unchanged",
            file=sys.stderr,
        )
        return 1
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    verb = "would import" if args.dry_run else "imported"
    summary = ", ".join(f"{n} {table}" for table, n in result.counts.items())
    print(f"{verb}: {summary or 'nothing'}", file=sys.stderr)
    return 0


DEMO_CURRENCIES = ("USD", "EUR", "GBP", "CAD")


def _currencies(text: str) -> tuple[str, ...]:
    """'USD,eur' -> ('USD', 'EUR'); each a three-letter code."""
    codes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    if not codes or any(not re.fullmatch(r"[A-Z]{3}", c) for c in codes):
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of three-letter currency codes: {text!r}"
        )
    return codes


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate deterministic demo data and load it."""
    from dashboard.data.demo import load_demo
    from dashboard.data.schema import init_db

    init_db(args.database_url)
    stats = load_demo(
        url=args.database_url,
        customers=args.customers,
        invoices=args.invoices,
        seed=args.seed,
        today=args.today,
        progress=not args.quiet,
        currencies=args.currencies,
    )
    print(json.dumps(stats, default=str), file=sys.stderr)
    return 0


def cmd_kpis(args: argparse.Namespace) -> int:
    """Print the KPI contract's JSON object for an as-of date and filters."""
    from dashboard.metrics.filters import Filters
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot(args.database_url)
    filters = Filters(
        segment=args.segment, region=args.region, tier=args.tier, sales_rep=args.sales_rep
    )
    result = compute_kpis(snap, args.as_of or dt.date.today(), args.period_days, filters)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the payment prediction of every invoice open at the as-of date (JSON list)."""
    from dashboard.metrics import predict_store, predict_views
    from dashboard.metrics.filters import Filters
    from dashboard.metrics.snapshot import get_snapshot, to_day
    from dashboard.predict_jobs import train_for_current_version

    snap = get_snapshot(args.database_url)
    bundle = predict_store.current_bundle(snap)
    if bundle is None and not args.no_train:
        train_for_current_version(snap.url)
        bundle = predict_store.current_bundle(snap)
    day = to_day(args.as_of or dt.date.today())
    filters = Filters(
        segment=args.segment,
        region=args.region,
        tier=args.tier,
        sales_rep=args.sales_rep,
        terms_group=args.terms_group,
    )
    pred = predict_views.scoped(
        snap, predict_store.predictions_at(snap, day, bundle), filters, None
    )
    print(predict_store.describe(bundle, day), file=sys.stderr)
    rows = predict_views.prediction_rows(snap, pred)
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(" ".join(str(v) for v in row.values()))
    return 0


def cmd_train_predictions(args: argparse.Namespace) -> int:
    """Train the payment prediction models for the current data version (what the job queue runs)."""
    from dashboard.predict_jobs import train_for_current_version

    train_for_current_version(args.database_url, force=args.force)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """Manage users."""
    from dashboard.auth import users

    return users.run_cli(args)


def cmd_run(args: argparse.Namespace) -> int:
    """Serve the dashboard (development server)."""
    from dashboard.app import create_app, prepare_database
    from dashboard.config import get_settings
    from dashboard.ops.lifecycle import exit_on_sigterm
    from dashboard.ops.system import log_system_checks

    settings = get_settings()
    if settings.check_system:
        log_system_checks()
    prepare_database(print_passwords=True, settings=settings)
    app = create_app(settings)
    exit_on_sigterm()  # so that the kaleido browser and job threads end with the server
    from dashboard.subscriptions.runner import start_in_process

    start_in_process()  # SQLite default: the scheduler runs in this process (AR_SCHEDULER)
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run queued background jobs (RQ worker on REDIS_URL)."""
    # lazy (b): the worker's modules (the web start and other commands do not load them)
    import dashboard.predict_jobs  # noqa: F401 - registers the "predict" job kind
    from dashboard.data.schema import init_db
    from dashboard.jobs import work

    init_db(args.database_url)
    if not args.burst:
        from dashboard.config import get_settings
        from dashboard.subscriptions.runner import start_in_process

        # the production worker also runs the scheduler
        if get_settings().scheduler.lower() != "off":
            start_in_process(get_settings().model_copy(update={"scheduler": "on"}))
    ran = work(burst=args.burst, max_jobs=args.max_jobs)
    print(f"worker: {ran} job(s) run", file=sys.stderr)
    return 0


def cmd_config(_args: argparse.Namespace) -> int:
    """Print the effective settings (secrets masked)."""
    from dashboard.config import get_settings

    for name, value in get_settings().masked().items():
        print(f"{name}={'' if value is None else value}")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    """Check the system packages the exports need; exit 1 when one is missing."""
    from dashboard.ops.system import check_system

    checks = check_system()
    for check in checks:
        print(f"{'ok' if check.ok else 'MISSING'} {check.name}: {check.detail}")
    return 0 if all(c.ok for c in checks) else 1


def cmd_email_summary(args: argparse.Namespace) -> int:
    """Send the weekly summary email."""
    from dashboard.export.email import run_email_summary

    return run_email_summary(args)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """Build, list or clean this machine's snapshot store (docs/production.md "Snapshots")."""
    import time

    from dashboard.config import get_settings
    from dashboard.data.schema import version_stamp
    from dashboard.metrics.snapshot import build_version
    from dashboard.metrics.store import store_for

    url = args.database_url or get_settings().database_url
    store = store_for(url)
    if args.action == "build":
        started = time.perf_counter()
        path = build_version(url, wait=not args.no_wait)
        if path is None:
            print("another process is building this version; not waiting (--no-wait)")
            return 1
        print(f"{path} ready in {time.perf_counter() - started:.1f} s")
        return 0
    version, stamp = version_stamp(url)
    if args.action == "gc":
        with store.build_lock() as _:
            removed = store.collect(version, stamp)
        print("\n".join(removed) or "nothing to remove")
        return 0
    current = store.find(version, stamp)
    print(f"store: {store.dir}")
    print(f"data version: {version} ({'built' if current else 'not built yet'})")
    for number, path in store.versions():
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        print(f"  v{number}  {size / 1e6:,.0f} MB  {path.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--database-url", default=None, help="overrides DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init-db", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("import", help="import CSV/XLSX files from a directory (all or nothing)")
    p.add_argument("directory")
    p.add_argument("--mapping", help="mapping file (TOML) for a foreign layout")
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "snapshot", help="build, list or clean the shared snapshot store of this machine"
    )
    p.add_argument("action", choices=("build", "status", "gc"))
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="build: give up at once if another process is building",
    )
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("demo", help="generate and load deterministic demo data")
    p.add_argument("--customers", type=_positive_int, default=600)
    p.add_argument("--invoices", type=_positive_int, default=20000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--today", type=_date, default=None, help="last day of the data (default today)")
    p.add_argument(
        "--currencies",
        type=_currencies,
        default=DEMO_CURRENCIES,
        help="comma-separated ISO codes; customers abroad use the ones other than AR_BASE_CURRENCY "
        f"(default {','.join(DEMO_CURRENCIES)}; USD alone: a single-currency ledger)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("kpis", help="print the KPI contract for an as-of date")
    p.add_argument("--as-of", type=_date, default=None)
    p.add_argument("--period-days", type=_positive_int, default=90)
    p.add_argument("--segment")
    p.add_argument("--region")
    p.add_argument("--tier")
    p.add_argument("--sales-rep")
    p.add_argument("--json", action="store_true", help="print the JSON object only")
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser(
        "predict", help="print each open invoice's payment prediction at an as-of date"
    )
    p.add_argument("--as-of", type=_date, default=None)
    p.add_argument("--segment")
    p.add_argument("--region")
    p.add_argument("--tier")
    p.add_argument("--sales-rep")
    p.add_argument("--terms-group", choices=("short", "long"))
    p.add_argument(
        "--no-train",
        action="store_true",
        help="never train here: without a stored model use the baseline",
    )
    p.add_argument("--json", action="store_true", help="print the JSON list only")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "train-predictions", help="train the payment prediction models for the current data"
    )
    p.add_argument(
        "--force", action="store_true", help="train again even if this data version has models"
    )
    p.set_defaults(func=cmd_train_predictions)

    p = sub.add_parser("users", help="manage users (add, list, disable, set-password)")
    usub = p.add_subparsers(dest="users_command", required=True)
    u = usub.add_parser("add", help="add a user; the password is read from stdin")
    u.add_argument("--username", required=True)
    u.add_argument("--role", required=True)
    u.add_argument("--sales-rep")
    u.add_argument("--group")
    u.add_argument("--region", action="append", help="limit to a region (repeatable)")
    u.add_argument("--segment", action="append", help="limit to a segment (repeatable)")
    u.add_argument("--password-stdin", action="store_true", required=True)
    usub.add_parser("list", help="list users")
    u = usub.add_parser("disable", help="disable a user")
    u.add_argument("--username", required=True)
    u = usub.add_parser("enable", help="enable a user")
    u.add_argument("--username", required=True)
    u = usub.add_parser("set-password", help="set a password read from stdin")
    u.add_argument("--username", required=True)
    u.add_argument("--password-stdin", action="store_true", required=True)
    u = usub.add_parser("set-role", help="change a user's role")
    u.add_argument("--username", required=True)
    u.add_argument("--role", required=True)
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("run", help="serve the dashboard on HOST:PORT (default 127.0.0.1:8050)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "worker", help="run background jobs (imports) queued in Redis (REDIS_URL), with RQ"
    )
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.add_argument("--max-jobs", type=_positive_int, default=None, help="stop after this many jobs")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("config", help="print the effective settings, secrets masked")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("check", help="check system packages: Chromium (PNG export), fonts (PDF)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("email-summary", help="email the weekly summary")
    p.add_argument("--to", required=True, action="append")
    p.add_argument("--as-of", type=_date, default=None)
    p.add_argument("--as-user", default=None)
    p.set_defaults(func=cmd_email_summary)

    from dashboard.subscriptions.cli import add_parsers

    add_parsers(sub)  # subscriptions, scheduler, statement
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: validate the settings, configure logging, run the command."""
    from dashboard.config import SettingsError, get_settings
    from dashboard.logs import configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database_url:
        import os

        # read by get_settings and by child processes
        os.environ["DATABASE_URL"] = args.database_url
    try:
        settings = get_settings()
    except SettingsError as error:
        print(f"python -m dashboard: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "run":
        args.host = args.host or settings.host
        args.port = args.port or settings.port
    return int(args.func(args) or 0)
