"""One logging configuration for the web app, gunicorn and the job worker.

Plain text by default; JSON lines (python-json-logger) with LOG_FORMAT=json. Every record carries
request_id, user and route: from the Flask request when there is one, else from the job being run.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
from typing import Any

from dashboard.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s %(route)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(route)s"
# Outside a request (a job, start-up): what the record is about, set by the job runner.
job_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "ar_job_context", default=None
)


def _request_fields() -> dict[str, str] | None:
    """request_id, user and route of the current Flask request (never touches the database)."""
    try:
        # lazy (b): Flask 60 ms; the CLI and gunicorn.conf.py import this module, web requests only
        from flask import g, has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    if not has_request_context():
        return None
    # set by flask-login once the guard loaded the user; never load it here
    user = g.get("_login_user")
    name = getattr(user, "username", None) if getattr(user, "is_authenticated", False) else None
    return {
        "request_id": g.get("request_id") or "-",
        "user": name or "-",
        "route": g.get("route_label") or request.path,
    }


class ContextFilter(logging.Filter):
    """Adds request_id, user and route to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _request_fields() or job_context.get() or {}
        for key in ("request_id", "user", "route"):
            if not hasattr(record, key):
                setattr(record, key, fields.get(key) or "-")
        return True


def logging_config(settings: Settings) -> dict[str, Any]:
    """The dictConfig of the app, gunicorn (logconfig_dict) and the worker."""
    if settings.log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["context"],
    }
    quiet = {"level": "WARNING", "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"level": settings.log_level, "handlers": ["main"]},
        "loggers": {
            # gunicorn's own loggers go through the same handler (no handlers of their own).
            "gunicorn.error": {"level": settings.log_level, "handlers": [], "propagate": True},
            # the app logs requests
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "rq.worker": {"level": settings.log_level, "handlers": [], "propagate": True},
            "werkzeug": quiet,
            "alembic.runtime.plugins": quiet,
            "choreographer": quiet,
            "kaleido": quiet,
            "logistro": quiet,
        },
    }


_configured: dict[str, Any] = {}


def configure_logging(settings: Settings, force: bool = False) -> None:
    """Apply logging_config once per process (again when the settings changed or force)."""
    config = logging_config(settings)
    if not force and _configured.get("config") == config:
        return
    logging.config.dictConfig(config)
    _configured["config"] = config
