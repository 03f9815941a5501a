"""Shutdown: the kaleido browser and in-process job threads end with the server.

Registered once per process with atexit (gunicorn workers exit through sys.exit, which runs it) and
called from gunicorn's worker_exit hook; `python -m dashboard run` turns SIGTERM into a normal exit
so that the same handlers run.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading

from dashboard import jobs
from dashboard.export import png

log = logging.getLogger(__name__)
_state = {"registered": False, "done": False}
_lock = threading.Lock()


def shutdown() -> None:
    """Stop in-process jobs (their imports roll back) and close the kaleido browser (once)."""
    with _lock:
        if _state["done"]:
            return
        _state["done"] = True

    try:
        jobs.shutdown()
    except Exception as error:  # noqa: BLE001 - keep shutting down
        log.warning("shutdown: jobs: %s", error)
    try:
        png.stop()
    except Exception as error:  # noqa: BLE001
        log.warning("shutdown: kaleido: %s", error)


def register_shutdown() -> None:
    """atexit(shutdown), once per process."""
    with _lock:
        if _state["registered"]:
            return
        _state["registered"] = True
    atexit.register(shutdown)


def exit_on_sigterm() -> None:
    """SIGTERM (systemd stop, docker stop) exits like Ctrl-C, so atexit handlers run."""

    def handler(signum, _frame) -> None:
        log.info("signal %s: shutting down", signum)
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
