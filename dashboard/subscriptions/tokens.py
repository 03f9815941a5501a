"""Signed unsubscribe links, the unsubscribe route and the statement download route.

    GET /unsubscribe/<token>                           switch the subscription off for that user
    GET /export/statement/<customer_id>.pdf?as_of=D    the customer's statement (404 outside the scope)

Tokens are signed with the app's SECRET_KEY (itsdangerous, which Flask already depends on): they
name a subscription and a user, cannot be forged or altered, and work only for that pair.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from dashboard.auth.guard import json_error
from dashboard.auth.roles import can
from dashboard.auth.scope import current_scope
from dashboard.config import get_settings, local_secret_key
from dashboard.export.statement import StatementError, statement_download
from dashboard.metrics.snapshot import get_snapshot
from dashboard.params import BASE_PARAMS
from dashboard.subscriptions.store import opt_out

SALT = "ar-unsubscribe"
# the page's filters ride along on export links; a statement uses as_of only (it is one customer)
STATEMENT_PARAMS = BASE_PARAMS
bp = Blueprint("subscriptions", __name__)


def _secret(settings: Any) -> str:
    if settings.secret_key:
        return settings.secret_key

    return local_secret_key()


def make_token(sub_id: int, username: str, settings: Any) -> str:
    """A signed token for (subscription, user)."""
    return URLSafeSerializer(_secret(settings), salt=SALT).dumps({"s": int(sub_id), "u": username})


def read_token(token: str, settings: Any) -> tuple[int, str] | None:
    """(subscription id, username) of a valid token, else None."""
    try:
        data = URLSafeSerializer(_secret(settings), salt=SALT).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("s"), int)
        or not isinstance(data.get("u"), str)
    ):
        return None
    return data["s"], data["u"]


def unsubscribe_url(sub_id: int, username: str, settings: Any) -> str:
    """The absolute unsubscribe link of a send."""
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{make_token(sub_id, username, settings)}"


def _page(title: str, text: str, status: int = 200) -> Response:
    body = (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css"></head>'
        f'<body class="p-4"><h1 class="h4">{escape(title)}</h1><p>{escape(text)}</p>'
        '<a href="/subscriptions">Manage your subscriptions</a></body></html>'
    )
    return Response(body, status=status, mimetype="text/html")


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Response:
    """Switch a subscription off for the user the signed token names."""
    parsed = read_token(token, get_settings())
    if parsed is None:
        return _page("Link not valid", "This unsubscribe link is not valid.", 404)
    if not opt_out(*parsed):
        return _page("Already gone", "That subscription no longer exists.", 404)
    return _page("Unsubscribed", f"You will receive no more emails from subscription {parsed[0]}.")


@bp.get("/export/statement/<path:customer_id>.pdf")
def statement(customer_id: str) -> Response:
    """The statement PDF of a customer in the user's scope, as of ?as_of= (default today)."""

    if not can(current_user, "export"):
        return json_error(403, "your role may not export")
    unknown = sorted(set(request.args) - STATEMENT_PARAMS)
    if unknown:
        return json_error(400, f"unknown parameter {unknown[0]!r}", parameter=unknown[0])
    raw = request.args.get("as_of") or dt.date.today().isoformat()
    try:
        as_of = dt.date.fromisoformat(raw)
    except ValueError:
        return json_error(400, "as_of must be a date (YYYY-MM-DD)", parameter="as_of")
    try:
        body, name = statement_download(
            get_snapshot(), customer_id, as_of, current_scope(), current_user.username
        )
    except StatementError:
        return json_error(404, "no such customer")
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def init_routes(server: Flask) -> None:
    """Register the unsubscribe and statement routes (once)."""
    if "subscriptions" not in server.blueprints:
        server.register_blueprint(bp)
