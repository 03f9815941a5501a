"""The Prometheus instruments (prometheus_client), multi-process safe under gunicorn: a leaf module
(it imports nothing of the dashboard), so the snapshot engine and the job queue count into it from
their own layers; dashboard/ops serves them at /metrics (ops/metrics.py).

Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker imports
prometheus_client; each process writes its samples there and /metrics aggregates them. Without it
(`python -m dashboard run`, tests) the process's default registry is served.
"""

from __future__ import annotations

import os
import time

from prometheus_client import Counter, Gauge, Histogram, multiprocess

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BUILD_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320)

REQUEST_SECONDS = Histogram(
    "ar_http_request_duration_seconds",
    "Request latency by route and Dash callback",
    ["route", "callback", "method"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    "ar_http_requests_total", "Requests by route and status", ["route", "method", "status"]
)
ERRORS = Counter(
    "ar_http_errors_total",
    "Answers with status 5xx, by route and callback",
    ["route", "callback", "status"],
)
SNAPSHOT_VERSION = Gauge(
    "ar_snapshot_version",
    "Data version of the snapshot loaded in each process",
    multiprocess_mode="liveall",
)
SNAPSHOT_LOADED_AT = Gauge(
    "ar_snapshot_loaded_timestamp_seconds",
    "When each process loaded its snapshot",
    multiprocess_mode="liveall",
)
SNAPSHOT_BUILD_SECONDS = Histogram(
    "ar_snapshot_build_seconds", "Time to read and build a snapshot", buckets=BUILD_BUCKETS
)
EXPORTS = Counter("ar_exports_total", "Exports by format and status", ["format", "status"])
EXPORT_SECONDS = Histogram(
    "ar_export_duration_seconds", "Export duration by format", ["format"], buckets=LATENCY_BUCKETS
)
RESULT_CACHE = Counter(
    "ar_result_cache_lookups_total",
    "Shared result cache lookups after a process-local miss (dashboard/metrics/shared_cache.py)",
    ["level", "outcome"],
)
JOBS_FINISHED = Counter(
    "ar_jobs_finished_total", "Jobs that ended, by kind and final state", ["kind", "state"]
)


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR (prometheus_client's own variable), when gunicorn set it."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def snapshot_loaded(version: int, build_seconds: float | None = None) -> None:
    """Record that this process now serves a snapshot version (and how long its build took, if it built it)."""
    SNAPSHOT_VERSION.set(version)  # per process: the multi-process collector adds a pid label
    SNAPSHOT_LOADED_AT.set(time.time())
    if build_seconds is not None:
        SNAPSHOT_BUILD_SECONDS.observe(build_seconds)


def mark_process_dead(pid: int) -> None:
    """gunicorn child_exit: drop a dead worker's live gauges."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
