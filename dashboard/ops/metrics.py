"""/metrics: every process's samples (dashboard/telemetry.py holds the instruments) plus series
computed at scrape time (snapshot age per process, import jobs by state).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dashboard import jobs
from dashboard.telemetry import multiprocess_dir


class LiveCollector(Collector):
    """Series computed at scrape time: snapshot age per process and import jobs by state."""

    def __init__(self, loaded_at: dict[str, float]) -> None:
        self.loaded_at = loaded_at

    def collect(self) -> Iterator[GaugeMetricFamily]:
        age = GaugeMetricFamily(
            "ar_snapshot_age_seconds",
            "Seconds since each process loaded its snapshot",
            labels=["pid"],
        )
        now = time.time()
        for pid, at in self.loaded_at.items():
            if at > 0:
                age.add_metric([pid or str(os.getpid())], max(0.0, now - at))
        yield age
        jobs = GaugeMetricFamily("ar_import_jobs", "Import jobs by state", labels=["state"])
        for state, count in job_counts().items():
            jobs.add_metric([state], count)
        yield jobs


def job_counts() -> dict[str, int]:
    """Jobs by state from the job store (zeros when it cannot be asked)."""
    try:
        return jobs.counts_by_state()
    except Exception:  # noqa: BLE001 - the queue being down must not break the metrics page
        return {}


def _loaded_at(registry: CollectorRegistry) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in registry.collect():
        if family.name == "ar_snapshot_loaded_timestamp_seconds":
            for sample in family.samples:
                out[sample.labels.get("pid", "")] = sample.value
    return out


def render() -> tuple[bytes, str]:
    """The exposition text of every process's metrics and its content type."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    out = CollectorRegistry()
    out.register(LiveCollector(_loaded_at(registry)))
    return generate_latest(registry) + generate_latest(out), CONTENT_TYPE_LATEST
