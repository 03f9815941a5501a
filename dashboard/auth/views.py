"""The Flask-rendered login and logout pages (not Dash pages: page routing is itself a callback)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template_string,
    request,
    session,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from dashboard.auth.audit import audit, client_ip, utcnow, write_audit
from dashboard.auth.users import authenticate, normalise_username
from dashboard.config import get_settings
from dashboard.data.login_sessions import end_session, locked_until, refund, reserve, start_session

bp = Blueprint("auth", __name__)

CSRF_KEY = "csrf_token"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · AR Dashboard</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css">
{% for href in prefetch %}<link rel="prefetch" href="{{ href }}" as="script">
{% endfor %}</head>
<body class="bg-light">
<main class="container" style="max-width: 26rem; margin-top: 12vh;">
<h1 class="h4 mb-3">AR Dashboard</h1>
{% if message %}<div class="alert alert-{{ level }}" role="alert">{{ message }}</div>{% endif %}
{% if form %}
<form method="post" action="/login" class="card card-body shadow-sm" autocomplete="on">
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  <input type="hidden" name="next" value="{{ next_url }}">
  <div class="mb-3">
    <label for="username" class="form-label">Username</label>
    <input id="username" name="username" class="form-control" value="{{ username }}"
           autocomplete="username" required autofocus>
  </div>
  <div class="mb-3">
    <label for="password" class="form-label">Password</label>
    <input id="password" name="password" type="password" class="form-control"
           autocomplete="current-password" required>
  </div>
  <button type="submit" class="btn btn-primary w-100">Log in</button>
</form>
{% elif logout %}
<form method="post" action="/logout" class="card card-body shadow-sm">
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  <button type="submit" class="btn btn-primary w-100">Log out</button>
</form>
{% else %}
<p><a href="{{ link }}">{{ link_text }}</a></p>
{% endif %}
</main>
</body>
</html>"""


def render_page(status: int = 200, **context) -> Response:
    """Render the login-style page (autoescaped) with a status code."""
    defaults: dict[str, object] = {
        "title": "Log in",
        "message": None,
        "level": "danger",
        "form": False,
        "link": "/",
        "link_text": "Back to the dashboard",
        "logout": False,
        "username": "",
        "next_url": "/",
        "csrf_token": "",
        "prefetch": [],
    }
    html = render_template_string(PAGE, **{**defaults, **context})
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def forbidden_page() -> Response:
    """The 403 page for a logged-in user who opens a page outside their role."""
    return render_page(
        403,
        title="Not allowed",
        level="warning",
        message="Your role does not give access to this page.",
    )


def safe_next(target: str | None) -> str:
    """A same-site relative path to go to after login ("/" for anything else)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return target


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_valid(submitted: str | None) -> bool:
    """True when the form's token matches the session's."""
    expected = session.get(CSRF_KEY)
    return bool(expected and submitted) and secrets.compare_digest(str(expected), str(submitted))


def throttle_keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    """The throttle keys of a login attempt and their limits: the username, and the address."""
    settings = get_settings()
    keys = [("user:" + username, settings.login_max_per_user)]
    if ip:
        keys.append(("ip:" + ip, settings.login_max_per_ip))
    return keys


def window() -> dt.timedelta:
    """The throttle window."""
    return dt.timedelta(minutes=get_settings().login_window_minutes)


def reserve_check(username: str, ip: str | None) -> str | None:
    """Reserve one password check on every key; the key that refused (after refunds), else None."""
    taken: list[str] = []
    for key, limit in throttle_keys(username, ip):
        if not reserve(key, limit, window()):
            for done in taken:
                refund(done)
            return key
        taken.append(key)
    return None


# Scripts the dashboard loads on demand, not listed in its index: plotly.js (the vendored cartesian
# partial bundle, 1.5 MB, that assets/plotly_early.js loads; the plotly package's full bundle is then
# never fetched) and the chunks whose addresses the Dash renderer, dcc and dash-ag-grid fix (webpack
# chunk names).
PLOTLY_BUNDLE = "assets/vendor/plotly-cartesian-4.1.1.min.js"
LAZY_SCRIPTS = (
    PLOTLY_BUNDLE,
    "_dash-component-suites/dash/dcc/async-graph.js",
    "_dash-component-suites/dash_ag_grid/async-community.js",
)
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"')


def dashboard_scripts() -> list[str]:
    """Every script the dashboard's first page loads, for the login page to prefetch while the user types.

    The bundles Dash lists in its index (versioned addresses, cached for a year) and the lazy chunks
    above; worked out once per server.
    """
    from dashboard.auth.guard import dash_app_for  # lazy (a): guard imports this module

    server = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's object
    found = server.extensions.get("ar_prefetch")
    if found is None:
        app = dash_app_for(server)
        if app is None:  # a bare Flask server (tests of the auth blueprint alone)
            return []
        prefix = app.config.requests_pathname_prefix
        found = SCRIPT_SRC.findall(app._generate_scripts_html())  # noqa: SLF001 - Dash's own index
        found += [prefix + path for path in LAZY_SCRIPTS]
        server.extensions["ar_prefetch"] = found
    return list(found)


def login_form(
    status: int = 200, message: str | None = None, username: str = "", next_url: str = "/"
) -> Response:
    """The login form; it prefetches the dashboard's scripts so the first page after login finds them cached."""
    return render_page(
        status,
        form=True,
        message=message,
        username=username,
        next_url=safe_next(next_url),
        csrf_token=csrf_token(),
        prefetch=dashboard_scripts(),
    )


def throttled(key: str, username: str) -> Response:
    """429: too many password checks for this username or address."""
    write_audit("login_throttled", username or None, key.split(":", 1)[0])
    until = locked_until(key, window()) or utcnow() + window()
    wait = max(1, int((until - utcnow()).total_seconds()))
    minutes = (wait + 59) // 60
    response = login_form(
        429, f"Too many failed logins. Try again in {minutes} minute(s).", username
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/login")
def login_get() -> BaseResponse:
    """Show the login form (or go on if already logged in)."""
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target)
    return login_form(next_url=target)


@bp.post("/login")
def login_post() -> BaseResponse:
    """Check the CSRF token, the throttle and the credentials; start the session."""
    username = normalise_username(request.form.get("username", ""))[:100]
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    if not csrf_valid(request.form.get(CSRF_KEY)):
        return login_form(400, "The form expired. Please try again.", username, target)
    if not username or not password:
        return login_form(401, "Unknown username or wrong password.", username, target)
    refused = reserve_check(username, client_ip())
    if refused is not None:
        return throttled(refused, username)
    user = authenticate(username, password)
    if user is None:
        write_audit("failed_login", username)
        return login_form(401, "Unknown username or wrong password.", username, target)
    for key, _limit in throttle_keys(username, client_ip()):
        refund(key)  # only failed checks count against the limits
    session.clear()  # a fresh session (and CSRF token) for the logged-in user
    user.session_token = start_session(user.id, session_lifetime())
    login_user(user, remember=False)
    session.permanent = True
    csrf_token()  # created now: callbacks racing each other never have to add it to the cookie
    audit("login")
    return redirect(target)


def session_lifetime() -> dt.timedelta:
    """How long a session lasts (AR_SESSION_HOURS)."""
    return dt.timedelta(hours=get_settings().session_hours)


@bp.get("/logout")
def logout_get() -> BaseResponse:
    """A logout confirmation form (logging out is a POST with the CSRF token, never a link)."""
    if not current_user.is_authenticated:
        return redirect("/login")
    return render_page(
        title="Log out",
        logout=True,
        csrf_token=csrf_token(),
        level="info",
        message=f"Logged in as {current_user.username}.",
    )


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session (CSRF token required)."""
    if not csrf_valid(request.form.get(CSRF_KEY)):
        return render_page(
            400,
            title="Log out",
            message="The form expired. Please try again.",
            logout=True,
            csrf_token=csrf_token(),
        )
    if current_user.is_authenticated:
        audit("logout")
        end_session(current_user.get_id())
    logout_user()
    session.clear()
    return redirect("/login")
