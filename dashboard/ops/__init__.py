"""Operations: request ids and the request log, /healthz, /readyz and /metrics.

`init_ops(server, settings)` registers it all on the Flask server; the guard lets PUBLIC_OPS_PATHS
through without a login (/metrics checks its own bearer token or loopback address).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import threading
import time
import uuid

from flask import Blueprint, Flask, Response, g, request

from dashboard import telemetry as m
from dashboard.config import Settings, get_settings
from dashboard.metrics.snapshot import set_busy_probe
from dashboard.ops.health import readiness
from dashboard.ops.metrics import render

PUBLIC_OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
CALLBACK_PATH = "/_dash-update-component"
log = logging.getLogger("dashboard.request")
bp = Blueprint("ops", __name__)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive (no database, no data)."""
    return _no_store(Response('{"status":"ok"}', status=200, mimetype="application/json"))


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to serve: database reachable, migrations at head, snapshot loaded; else 503."""
    checks = readiness()
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {k: "ok" if v else _not_ok(k, checks) for k, v in checks.items()},
    }
    response = Response(json.dumps(body), status=200 if ready else 503, mimetype="application/json")
    if not ready:
        response.headers["Retry-After"] = "5"
    return _no_store(response)


def _not_ok(check: str, checks: dict[str, bool]) -> str:
    """'loading' for a snapshot that is being loaded (the database answers, so it will be ready);
    'failing' for anything else."""
    loading = check == "snapshot" and checks.get("database") and checks.get("migrations")
    return "loading" if loading else "failing"


def metrics_allowed(settings: Settings) -> bool:
    """METRICS_TOKEN set: a matching bearer token; unset: a loopback client only."""
    if settings.metrics_token:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        )
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus exposition of every process's metrics."""
    if not metrics_allowed(get_settings()):
        response = Response(
            '{"error": "metrics: bearer token or loopback address required"}',
            status=401,
            mimetype="application/json",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _no_store(response)
    body, content_type = render()
    return _no_store(Response(body, status=200, content_type=content_type))


def _callback_label() -> str:
    """The outputs of the Dash callback being answered (its id in callback_map), else ""."""
    if request.path != CALLBACK_PATH or request.method != "POST":
        return ""
    body = request.get_json(silent=True, cache=True)
    output = body.get("output") if isinstance(body, dict) else None
    return output[:200] if isinstance(output, str) else "?"


class InFlight:
    """How many requests this process is answering, and since when it has answered none (the
    snapshot's background warm-up waits for QUIET_SECONDS without a request between its steps, so
    it stays out of a page being drawn: the browser's next request follows within that time)."""

    QUIET_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock, self.count, self.last = threading.Lock(), 0, 0.0

    def add(self, n: int) -> None:
        with self._lock:
            self.count += n
            self.last = time.monotonic()

    def busy(self) -> bool:
        """True while a request is answered or one ended less than QUIET_SECONDS ago."""
        return self.count > 0 or time.monotonic() - self.last < self.QUIET_SECONDS


IN_FLIGHT = InFlight()


def end_request(_error: BaseException | None = None) -> None:
    """The request is answered (teardown: also after an error or a refusal)."""
    if g.pop("ar_in_flight", False):
        IN_FLIGHT.add(-1)


def start_request() -> None:
    """Request id (X-Request-ID from the proxy when sane, else a new one), start time, route label."""
    if not g.get("ar_in_flight"):
        g.ar_in_flight = True
        IN_FLIGHT.add(1)
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    rule = request.url_rule.rule if request.url_rule is not None else None
    g.route_label = rule or ("<dash page>" if request.method == "GET" else "<unknown>")


def _export_format() -> str | None:
    """The format of an export request (/export/... or /api/export/...), else None."""
    path = request.path
    if path.startswith("/export/") or path.startswith("/api/export/"):
        return path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else "pdf"
    return None


def finish_request(response: Response) -> Response:
    """Log the request, count it in the metrics, echo the request id."""
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    status = response.status_code
    # The callback's label comes from its body only once Dash has read it (a refused request's body,
    # too large or from a forbidden page, is never read: see auth/guard.py).
    route, callback = g.get("route_label") or "?", _callback_label() if status < 400 else ""
    m.REQUEST_SECONDS.labels(route, callback, request.method).observe(seconds)
    m.REQUESTS.labels(route, request.method, str(status)).inc()
    if status >= 500:
        m.ERRORS.labels(route, callback, str(status)).inc()
    fmt = _export_format()
    if fmt is not None:
        m.EXPORTS.labels(fmt, "ok" if status < 400 else str(status)).inc()
        if status < 400:
            m.EXPORT_SECONDS.labels(fmt).observe(seconds)
    response.headers["X-Request-ID"] = g.request_id
    if request.path not in PUBLIC_OPS_PATHS:
        level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level,
            "%s %s %s %.1f ms%s",
            request.method,
            request.path,
            status,
            seconds * 1000,
            f" callback={callback}" if callback else "",
            extra={"status": status, "duration_ms": round(seconds * 1000, 1), "callback": callback},
        )
    return response


def init_ops(server: Flask, settings: Settings | None = None) -> None:
    """Register request ids, the request log and metrics hooks, and the ops endpoints."""
    _ = settings
    if "ops" in server.blueprints:
        return
    server.before_request(start_request)
    server.after_request(finish_request)
    server.teardown_request(end_request)
    set_busy_probe(IN_FLIGHT.busy)
    server.register_blueprint(bp)
