"""The app factory: a Dash multipage app on a guarded Flask server."""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from flask import Flask

from dashboard.api import bp as api_bp
from dashboard.api import init_api
from dashboard.auth import init_auth
from dashboard.auth.users import ensure_demo_users
from dashboard.components.callbacks import register_all
from dashboard.components.shell import shell_layout
from dashboard.components.views import prefill_chart_pages
from dashboard.config import ROOT, Settings, get_settings, local_secret_key
from dashboard.data.schema import init_db
from dashboard.export.routes import bp as export_bp
from dashboard.logs import configure_logging
from dashboard.ops import init_ops
from dashboard.ops.health import database_check
from dashboard.ops.lifecycle import register_shutdown
from dashboard.ops.system import log_system_checks
from dashboard.subscriptions.tokens import init_routes

log = logging.getLogger(__name__)


def prepare_database(print_passwords: bool = False, settings: Settings | None = None) -> None:
    """Migrate the schema; on an empty development database load demo data and demo users."""
    settings = settings or get_settings()
    init_db(settings.database_url)
    if settings.production or not settings.demo_on_empty:
        return
    # lazy (b): demo data is for development only (with tqdm 35 ms)
    from dashboard.data.demo import ledger_is_empty, load_demo

    if ledger_is_empty(settings.database_url):
        log.info(
            "empty database: loading demo data (%s customers, %s invoices)",
            settings.demo_customers,
            settings.demo_invoices,
        )
        load_demo(
            url=settings.database_url,
            customers=settings.demo_customers,
            invoices=settings.demo_invoices,
            seed=42,
            progress=False,
        )
    ensure_demo_users(print_passwords=print_passwords)


def start_web(settings: Settings) -> None:
    """What a web process does once before it serves (app.py, under gunicorn).

    Logging and the system check; then, in development, migrate and load demo data (one process at
    a time, see init_db's lock). In production migrations are the release step
    (`python -m dashboard init-db`): a web process only reports a schema behind head, and /readyz
    stays 503 until it is migrated.
    """
    configure_logging(settings)
    if settings.check_system:
        log_system_checks()
    if not settings.production:
        prepare_database(print_passwords=True, settings=settings)
        return

    reachable, at_head = database_check(settings.database_url)
    if reachable and not at_head:
        log.error(
            "the database schema is not at the newest migration: run `python -m dashboard init-db` "
            "(the Procfile's release step); /readyz answers 503 until then"
        )


def create_server(settings: Settings | None = None) -> Flask:
    """The Flask server with its configuration."""
    settings = settings or get_settings()
    server = Flask("dashboard", root_path=str(ROOT))
    if settings.secret_key is None:
        if settings.production:
            raise RuntimeError("SECRET_KEY must be set when AR_ENV=production")
        server.config["SECRET_KEY"] = local_secret_key()
    else:
        server.config["SECRET_KEY"] = settings.secret_key
    return server


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app from the settings (read from the environment when not given)."""
    settings = settings or get_settings()
    register_shutdown()
    server = create_server(settings)
    server.config["AR_SETTINGS"] = settings
    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash's hint omits a Flask app, which it documents
        use_pages=True,
        pages_folder=str(ROOT / "dashboard" / "pages"),
        assets_folder=str(ROOT / "assets"),
        # Bootstrap first, then assets/app.css can override it (Dash adds assets/ CSS after these).
        external_stylesheets=["/assets/vendor/bootstrap.min.css"],
        # matched against file names: Bootstrap is linked above instead; the partial plotly.js bundle
        # is loaded by assets/plotly_early.js once the first callback is on its way, not by the index
        assets_ignore=r"^(bootstrap\.min\.css|plotly-cartesian-[0-9.]+\.min\.js)$",
        suppress_callback_exceptions=True,
        title="AR Dashboard",
        update_title=None,  # type: ignore[arg-type]  # None (no title while updating) is documented
        serve_locally=True,
    )

    init_ops(server, settings)  # request ids, request log, metrics; /healthz /readyz /metrics
    # the one guard in front of every route, callback and API call; init_api mounts /api and /export
    init_auth(server, api_bp=api_bp, export_bp=export_bp, routes=init_api)

    app.layout = shell_layout
    prefill_chart_pages()  # the pages' layouts draw their charts (no first round trip per chart)
    register_all(app)

    init_routes(server)  # unsubscribe links, statement PDFs
    _ = dbc  # the vendored Bootstrap CSS lives in assets/vendor
    return app
