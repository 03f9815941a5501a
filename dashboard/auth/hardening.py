"""Request hardening in front of every route: body-size limits, Origin/Referer checks, malformed
asset paths, security headers (CSP, HSTS, Permissions-Policy) and the API/export rate limits."""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

from dash.exceptions import DependencyException
from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from dashboard.auth.guard import dash_app_for, json_error
from dashboard.config import get_settings

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ASSET_PREFIXES = ("/_dash-component-suites/", "/assets/")
# A path segment Dash or Flask could resolve outside its folder: "..", a backslash, an encoded
# separator, a NUL or another control character.
BAD_ASSET_PATH = re.compile(r"(^|/)\.\.(/|$)|\\|%2f|%5c|%00|[\x00-\x1f\x7f]", re.IGNORECASE)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"


# ---- Origin / Referer ----------------------------------------------------------------------------


def trusted_hosts() -> set[str]:
    """The host[:port] of this request plus AR_TRUSTED_ORIGINS (comma-separated origins)."""
    hosts = {request.host.lower()}
    for origin in get_settings().trusted_origins.split(","):
        netloc = urlsplit(origin.strip()).netloc
        if netloc:
            hosts.add(netloc.lower())
    return hosts


def same_origin(url: str) -> bool:
    """True when an Origin or Referer URL names this site."""
    netloc = urlsplit(url).netloc.lower()
    return bool(netloc) and netloc in trusted_hosts()


def check_origin() -> Response | None:
    """Refuse a state-changing request whose Origin (else Referer) names another site."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null" or not same_origin(origin):
            return json_error(403, "cross-site request refused (Origin)")
        return None
    referer = request.headers.get("Referer")
    if referer and not same_origin(referer):
        return json_error(403, "cross-site request refused (Referer)")
    return None


# ---- malformed asset paths -----------------------------------------------------------------------


def check_asset_path() -> Response | None:
    """404 (no traceback) for asset paths with traversal, encoded separators or control characters."""
    if not request.path.startswith(ASSET_PREFIXES):
        return None
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw_path = raw.split("?", 1)[0]
    if BAD_ASSET_PATH.search(request.path) or BAD_ASSET_PATH.search(raw_path):
        return json_error(404, "not found")
    return None


def unknown_asset(_error: DependencyException) -> Response:
    """404 for a component-suite path Dash does not serve (it raises; Flask would log a traceback)."""
    return json_error(404, "not found")


# ---- security headers ----------------------------------------------------------------------------


def script_hashes(server: Flask) -> list[str]:
    """CSP hashes of Dash's inline scripts (computed once per server)."""
    cached = server.extensions.get("ar_csp_hashes")
    if cached is None:
        app = dash_app_for(server)
        cached = list(app.csp_hashes()) if app is not None else []
        server.extensions["ar_csp_hashes"] = cached
    return cached


def content_security_policy(server: Flask) -> str:
    """The CSP: own scripts plus the hashes of Dash's inline ones; styles inline (Plotly, Dash)."""
    scripts = " ".join(script_hashes(server))  # already quoted: 'sha256-...'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}".strip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def hardening_headers(response: Response) -> Response:
    """CSP with frame-ancestors, Permissions-Policy, and HSTS when cookies are secure."""
    from dashboard.auth import secure_cookies  # lazy (a): auth imports this module

    # the Flask object behind the proxy (Werkzeug LocalProxy API, not in its stubs)
    server = current_app._get_current_object()  # type: ignore[attr-defined]
    response.headers.setdefault("Content-Security-Policy", content_security_policy(server))
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if secure_cookies():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


# ---- rate limits ---------------------------------------------------------------------------------


def rate_key() -> str:
    """Rate limits count per logged-in user (by a hash of the username), else per address."""
    if getattr(current_user, "is_authenticated", False):
        return "user:" + hashlib.sha256(current_user.username.encode()).hexdigest()[:16]
    return "ip:" + (get_remote_address() or "?")


def rate_limited(error) -> Response:
    """429 JSON with the limit that was hit."""
    response = json_error(429, f"rate limit exceeded ({error.description})")
    retry = getattr(error, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(int(retry))
    return response


def init_rate_limits(
    server: Flask, api_bp: Blueprint | None = None, export_bp: Blueprint | None = None
) -> Limiter:
    """Flask-Limiter on /api/* and /export/* (the blueprints given; Redis storage when REDIS_URL is set,
    memory otherwise)."""
    settings = get_settings()
    limiter = Limiter(
        rate_key,
        app=server,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        headers_enabled=True,
        key_prefix="ar-dashboard",
    )
    if api_bp is not None:
        limiter.limit(settings.api_rate_limit, scope="api")(api_bp)
    if export_bp is not None:
        limiter.limit(settings.export_rate_limit, scope="export")(export_bp)
    server.register_error_handler(429, rate_limited)
    server.extensions["ar_limiter"] = limiter
    return limiter


def init_hardening(server: Flask) -> None:
    """Register the checks that run before the login guard, and the headers after every response."""
    server.config["MAX_CONTENT_LENGTH"] = max(
        get_settings().max_upload_bytes, get_settings().max_request_bytes
    )
    server.before_request(check_asset_path)
    server.register_error_handler(DependencyException, unknown_asset)
    server.before_request(check_origin)
    server.after_request(hardening_headers)
