"""/healthz (the process answers) and /readyz (database reachable, migrations at head, snapshot loaded).

Both are public, answer in milliseconds and say nothing about the ledger: only which check failed.
"""

from __future__ import annotations

import logging
import threading
from functools import cache

from alembic.script import ScriptDirectory

from dashboard.data.schema import alembic_config, applied_revisions
from dashboard.metrics.snapshot import get_snapshot, loaded_snapshot

log = logging.getLogger(__name__)
_warming = threading.Lock()


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the packaged Alembic migrations (read once per process)."""

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_check(url: str | None = None) -> tuple[bool, bool]:
    """(database reachable, migrations at head) with one short query."""
    revisions, error = applied_revisions(url)
    if revisions is None:
        log.warning("readyz: database check failed: %s", error)
        return False, False
    return True, revisions == set(migration_heads())


def _warm(url: str | None) -> None:
    """Load the snapshot in the background (a readiness probe never waits for it)."""
    if not _warming.acquire(blocking=False):
        return

    def run() -> None:
        try:
            get_snapshot(url)
        except Exception as error:  # noqa: BLE001 - retried by the next probe
            log.warning("readyz: snapshot load failed: %s", error)
        finally:
            _warming.release()

    threading.Thread(target=run, daemon=True, name="readyz-warm").start()


def readiness(url: str | None = None) -> dict[str, bool]:
    """Each readiness check and whether it passed (the snapshot starts loading if missing)."""
    reachable, at_head = database_check(url)
    snapshot = loaded_snapshot(url) is not None
    if reachable and at_head and not snapshot:
        _warm(url)
    return {"database": reachable, "migrations": at_head, "snapshot": snapshot}
