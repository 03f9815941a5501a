"""The one before_request guard in front of every route: pages, Dash callbacks, the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
from flask import Flask, Response, current_app, jsonify, redirect, request, session
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from dashboard.auth.roles import page_allowed
from dashboard.auth.views import forbidden_page
from dashboard.config import get_settings

# Public: the login/logout pages, static CSS/images of assets/, Dash's JavaScript bundles (code,
# not data), the favicon and the operator's probes (dashboard.ops: /healthz, /readyz and /metrics,
# which checks its own token). Everything else needs a logged-in, active user.
PUBLIC_PATHS = frozenset({"/login", "/logout", "/_favicon.ico", "/healthz", "/readyz", "/metrics"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
CALLBACK_PATH = "/_dash-update-component"
UPLOAD_PAGE = "/admin/data"
NO_STORE_PREFIXES = ("/api/", CALLBACK_PATH, "/_dash-layout", "/_dash-dependencies")


def json_error(status: int, message: str, **extra: Any) -> Response:
    """A JSON error body {"error": message} with a status code."""
    response = jsonify({"error": message, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def is_public(path: str) -> bool:
    """True for the few paths anyone may fetch."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_page_request(path: str) -> bool:
    """True for a browser navigation to a Dash page (not the API, not Dash's own endpoints)."""
    return (
        request.method in ("GET", "HEAD")
        and not path.startswith(("/_", "/api/"))
        and path != "/api"
    )


def unauthenticated(path: str) -> BaseResponse:
    """Anonymous: pages redirect to the login form, everything else gets 401 JSON."""
    if not is_page_request(path):
        return json_error(401, "login required")
    target = request.full_path.rstrip("?") if request.query_string else path
    return redirect("/login?" + urlencode({"next": target}))


def dash_app_for(server: Flask) -> dash.Dash | None:
    """The Dash app served by this Flask server (found through its before_request hook)."""
    app = server.extensions.get("ar_dash_app")
    if app is None:
        for func in server.before_request_funcs.get(None, []):
            owner = getattr(func, "__self__", None)
            if isinstance(owner, dash.Dash) and owner.server is server:
                app = owner
                server.extensions["ar_dash_app"] = app
                break
    return app


def module_page_path(func: Any) -> str | None:
    """The path of the page whose module defined a callback function, if any."""
    module = getattr(func, "__module__", None)
    return _path_where(lambda name: bool(module) and name == module)


def page_path(page: str | None) -> str | None:
    """The path of a page by its module's own name (e.g. credit, of dashboard/pages/credit.py ->
    /credit), if there is such a page."""
    return _path_where(lambda name: bool(page) and name.rsplit(".", 1)[-1] == page)


def _path_where(matches: Callable[[str], bool]) -> str | None:
    for page in dash.page_registry.values():
        if matches(page.get("module") or ""):
            path = (page.get("path_template") or page.get("path") or "/").split("<")[0]
            return path or "/"
    return None


def _flat(items: Any) -> list[dict]:
    """Callback inputs/state entries, flattening pattern-matching lists."""
    out: list[dict] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, list):
            out.extend(entry for entry in item if isinstance(entry, dict))
        elif isinstance(item, dict):
            out.append(item)
    return out


def pathnames_in(body: dict) -> list[str]:
    """Every URL pathname a callback receives (dcc.Location inputs or state, e.g. _pages_location)."""
    entries = _flat(body.get("inputs")) + _flat(body.get("state"))
    return [
        e["value"]
        for e in entries
        if e.get("property") == "pathname" and isinstance(e.get("value"), str)
    ]


def referer_path() -> str | None:
    """The path of a same-site Referer, if any."""
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path or "/"


def callback_pages(callback: dict, body: dict) -> list[str]:
    """The page paths a callback request belongs to: defining module, pathname inputs, Referer."""
    paths = pathnames_in(body)
    module_path = module_page_path(callback.get("callback"))
    if module_path is not None:
        paths.append(module_path)
    referer = referer_path()
    if referer is not None:
        paths.append(referer)
    return paths


def check_callback(role: str) -> Response | None:
    """Refuse a Dash callback that belongs to a page the role may not open."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return json_error(400, "malformed callback request")
    app = dash_app_for(current_app._get_current_object())  # type: ignore[attr-defined]
    callback = app.callback_map.get(body["output"]) if app is not None else None
    # clientside callbacks run in the browser only
    if callback is None or callback.get("callback") is None:
        return json_error(400, "unknown callback")
    for path in callback_pages(callback, body):
        if not page_allowed(role, path):
            return json_error(403, "your role does not give access to this page", page=path)
    return None


def may_upload() -> bool:
    """True when the logged-in user may use the upload page (known from the session, no body read)."""
    return bool(getattr(current_user, "is_authenticated", False)) and page_allowed(
        current_user.role, UPLOAD_PAGE
    )


def body_limit() -> int:
    """The largest body this request may send: big for an uploader's callbacks, small elsewhere."""
    settings = get_settings()
    if request.path == CALLBACK_PATH and may_upload():
        return settings.max_upload_bytes
    return settings.max_request_bytes


def limit_body() -> Response | None:
    """Refuse an oversized body from its Content-Length before anything reads it; cap streamed ones."""
    if request.method in ("GET", "HEAD", "OPTIONS") and not request.content_length:
        return None
    limit = body_limit()
    request.max_content_length = limit  # a body sent without Content-Length is cut at the limit too
    if request.content_length is not None and request.content_length > limit:
        return json_error(413, f"request body larger than the limit of {limit} bytes", limit=limit)
    return None


def callback_referer_refused(role: str) -> Response | None:
    """A callback sent from a page the role may not open: refused before its body is read."""
    page = referer_path()
    if page is not None and not page_allowed(role, page):
        return json_error(403, "your role does not give access to this page", page=page)
    return None


def check_api() -> Response | None:
    """Unknown /api/ paths get a JSON 404 (not the Dash page shell)."""
    rule = request.url_rule
    if rule is None or not (rule.endpoint or "").startswith("api."):
        return json_error(404, "no such API endpoint")
    return None


def guard() -> BaseResponse | None:
    """Allow public paths; demand a login elsewhere; then check the role for pages and callbacks."""
    path = request.path
    if is_public(path):
        return limit_body()
    if not current_user.is_authenticated:
        # logged out, disabled, password or role changed: end that session
        if "_user_id" in session:
            logout_user()
            session.clear()
        return unauthenticated(path)
    if path == CALLBACK_PATH:  # the role is checked, then the size, before the body is read
        return (
            callback_referer_refused(current_user.role)
            or limit_body()
            or check_callback(current_user.role)
        )
    refused = limit_body()
    if refused is not None:
        return refused
    if path.startswith("/api/") or path == "/api":
        return check_api()
    if path.startswith("/_"):
        # Dash's layout/dependencies: the shell, and the first page only where the role may open it
        # (components/page_container.py checks that itself)
        return None
    if not page_allowed(current_user.role, path):
        return forbidden_page()
    return None


def security_headers(response: Response) -> Response:
    """Headers on every response: no sniffing, no framing by other sites, no caching of data."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith(NO_STORE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response
