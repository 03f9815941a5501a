"""gunicorn settings of the production profile; gunicorn reads ./gunicorn.conf.py by itself.

Everything comes from the validated settings (dashboard.config): a bad value stops the master
before any worker starts, naming the variable. Command-line flags still override these.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile

from dashboard.config import load_settings
from dashboard.logs import logging_config

_settings = load_settings()

bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.web_concurrency
threads = _settings.gunicorn_threads
worker_class = "gthread"
# A worker busy longer than this is killed and replaced (a worker that finds no snapshot of the
# current version waits for its build: about a minute at 1M invoices; keep this well above it).
timeout = _settings.gunicorn_timeout
graceful_timeout = 30
keepalive = 5
# Load the app once in the master and fork ready workers: a worker serves within milliseconds of the
# fork (the snapshot is mapped from the shared store, see docs/production.md "Snapshots"), and the
# code pages are shared. Database connections the master opened are dropped in each child (post_fork).
preload_app = True
# Recycle a worker after this many requests (0: never), spread by the jitter so that they do not all
# restart at once. Each new worker reloads its snapshot, so keep it high on big ledgers.
max_requests = _settings.gunicorn_max_requests
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# One logging configuration for gunicorn and the app (LOG_FORMAT, LOG_LEVEL); requests are logged by
# the app itself, with request id, user and route.
logconfig_dict = logging_config(_settings)
accesslog = None
proc_name = "ar-dashboard"

# Prometheus multi-process mode: every worker writes its samples to this directory and /metrics
# aggregates them. Set before any worker imports prometheus_client.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ar-prometheus-")


def on_starting(_server) -> None:
    """Start with an empty metrics directory (samples of a previous run would be added up)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


# glibc gives each thread that allocates its own malloc arena (up to 8 per core), and the freed
# temporaries of the metrics (arrays of millions of rows) stay in those arenas: a gthread worker's
# private memory grows with its threads. Two arenas, as MALLOC_ARENA_MAX=2 would (that variable is
# read when a process starts, so it is set here, in the master, before any worker forks). A set
# MALLOC_ARENA_MAX wins.
if "MALLOC_ARENA_MAX" not in os.environ:
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


def post_fork(_server, _worker) -> None:
    """A new worker opens its own database connections (never the master's)."""
    from dashboard.data.db import dispose_engines

    dispose_engines(close=False)


def worker_exit(_server, _worker) -> None:
    """The worker's kaleido browser and job threads end with it."""
    from dashboard.ops.lifecycle import shutdown

    shutdown()


def child_exit(_server, worker) -> None:
    """Drop a dead worker's live gauges from /metrics."""
    from dashboard.telemetry import mark_process_dead

    mark_process_dead(worker.pid)


def on_exit(_server) -> None:
    """Remove the metrics directory this configuration created."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
