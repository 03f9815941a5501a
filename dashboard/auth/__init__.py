"""Users, roles and row-level security for every route, callback, export and API call.

Use from other modules:
    from dashboard.auth import current_scope, can, audit
    scope = current_scope()            # the server-side scope of the logged-in user
    if not can(current_user, "export"): ...
    audit("export", "table=open_invoices rows=12")
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import wraps

import dash
from flask import Blueprint, Flask, Response, current_app, request
from flask_login import LoginManager, current_user
from markupsafe import escape
from werkzeug.exceptions import Forbidden
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.auth.audit import audit
from dashboard.auth.guard import guard, is_page_request, json_error, security_headers
from dashboard.auth.hardening import init_hardening, init_rate_limits
from dashboard.auth.roles import (
    CAPABILITIES,
    PAGE_ROLES,
    ROLES,
    allowed_prefixes,
    can,
    page_allowed,
)
from dashboard.auth.scope import current_scope, customer_in_scope, scope_for, scope_to_dict
from dashboard.auth.users import load_user
from dashboard.auth.views import bp
from dashboard.config import get_settings
from dashboard.data.db import UNAVAILABLE_ERRORS

__all__ = [
    "CAPABILITIES",
    "PAGE_ROLES",
    "ROLES",
    "allowed_prefixes",
    "audit",
    "can",
    "current_scope",
    "customer_in_scope",
    "init_auth",
    "page_allowed",
    "require",
    "scope_for",
]

_hook_registered = False
_api_db_handler = False

# Errors of a database that is down, restarting or unreachable (see dashboard.data.db): answered 503.
DB_UNAVAILABLE_ERRORS = UNAVAILABLE_ERRORS
DB_UNAVAILABLE = "database temporarily unavailable, retrying"
DB_RETRY_SECONDS = 5
log = logging.getLogger("dashboard.db")
DB_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Database unavailable · AR Dashboard</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 32rem; margin-top: 12vh;">
<h1 class="h4 mb-3">AR Dashboard</h1>
<div class="alert alert-warning" role="alert">The database is temporarily unavailable. This page
retries by itself every {seconds} seconds.</div>
<p><a href="{link}">Retry now</a></p></main></body></html>"""


def secure_cookies() -> bool:
    """Secure cookies when AR_SECURE_COOKIES says so, else in production."""
    return get_settings().secure_cookies


def configure_cookies(server: Flask) -> None:
    """HttpOnly, SameSite=Lax, Secure behind https; remember-me is never issued but gets the same flags."""
    settings = get_settings()
    secure = settings.secure_cookies
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
    )


def configure_proxy(server: Flask) -> None:
    """Trust one proxy's X-Forwarded-* headers when AR_BEHIND_PROXY=1."""
    if get_settings().behind_proxy and not server.extensions.get("ar_proxy_fix"):
        # Werkzeug's documented way to wrap the WSGI app
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=1, x_proto=1, x_host=1
        )
        server.extensions["ar_proxy_fix"] = True


def configure_login(server: Flask) -> None:
    """flask-login: the user is reloaded from the database on every request."""
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(load_user)
    manager.unauthorized_handler(lambda: json_error(401, "login required"))
    manager.init_app(server)


def _auth_custom_data(_context) -> dict | None:
    """Identity and scope for callback_context.custom_data["auth"] (reaches background callbacks)."""
    if not hasattr(current_app, "login_manager") or not current_user.is_authenticated:
        return None
    return {
        "username": current_user.username,
        "role": current_user.role,
        "scope": scope_to_dict(current_scope()),
    }


def register_dash_hook() -> None:
    """Register the custom_data hook once per process."""
    global _hook_registered
    if not _hook_registered:
        dash.hooks.custom_data("auth")(_auth_custom_data)
        _hook_registered = True


def database_unavailable(error: Exception) -> Response:
    """503 while the database is unreachable; pool_pre_ping reconnects once it is back."""
    log.warning("database unavailable on %s: %s", request.path, str(error).splitlines()[0][:200])
    if is_page_request(request.path):
        # Not render_template: flask-login's template context would ask the database for the user.
        page = DB_UNAVAILABLE_PAGE.format(
            seconds=DB_RETRY_SECONDS, link=escape(request.full_path.rstrip("?"))
        )
        response = Response(page, status=503, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Refresh"] = str(DB_RETRY_SECONDS)
    else:
        response = json_error(503, DB_UNAVAILABLE)
    response.headers["Retry-After"] = str(DB_RETRY_SECONDS)
    return response


def configure_db_errors(server: Flask, api_bp: Blueprint | None = None) -> None:
    """Answer database outages with 503 on every route, the API blueprint (api_bp) included."""
    global _api_db_handler
    for error in DB_UNAVAILABLE_ERRORS:
        server.register_error_handler(error, database_unavailable)
    # its catch-all Exception handler would answer first
    if api_bp is not None and not _api_db_handler:
        for error in DB_UNAVAILABLE_ERRORS:
            api_bp.register_error_handler(error, database_unavailable)
        _api_db_handler = True


def init_auth(
    server: Flask,
    app: dash.Dash | None = None,
    *,
    api_bp: Blueprint | None = None,
    export_bp: Blueprint | None = None,
    routes: Callable[[Flask], None] | None = None,
) -> None:
    """Wire login, the guard, the routes and security headers into the Flask server.

    The caller (dashboard.app, the composition root) passes the API and export blueprints, and
    `routes`, which registers them: auth sits below api and export and never imports them.
    """
    if app is not None:
        server.extensions["ar_dash_app"] = app
    configure_cookies(server)
    configure_proxy(server)
    configure_login(server)
    configure_db_errors(server, api_bp)
    server.register_blueprint(bp)
    if routes is not None:
        routes(server)
    init_hardening(server)  # asset paths and Origin/Referer: before the guard
    server.before_request(guard)
    init_rate_limits(server, api_bp, export_bp)  # after the guard: counted per logged-in user
    server.after_request(security_headers)
    register_dash_hook()


def require(capability: str):
    """Decorator for callbacks and views: 403 unless the current user has the capability."""

    def wrap(func):
        @wraps(func)
        def inner(*args, **kwargs):
            if not can(current_user, capability):
                raise Forbidden(f"missing capability {capability}")
            return func(*args, **kwargs)

        return inner

    return wrap
