"""Background jobs for long imports, with progress.

With REDIS_URL set, a job is queued in Redis and run by `python -m dashboard worker` (any number of
workers, on any machine that sees the uploaded files and the database). Without it, the job runs in
a thread of the web process and its state lives in that process's memory (the single-process
embedded profile). Either way the state is a dict:

    {"id", "kind", "state": queued|running|done|failed, "progress": 0-100, "message",
     "errors": ["file:row:column: reason", ...], "warnings", "counts", "owner", "created_at",
     "started_at", "finished_at", "heartbeat"}

A running job refreshes its heartbeat every HEARTBEAT_SECONDS. One whose heartbeat is older than
STALE_SECONDS (its worker was killed or restarted) is reported as failed; the import it ran was one
transaction, so nothing of it was written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = frozenset({DONE, FAILED})
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
JOB_TTL_SECONDS = 7 * 24 * 3600
RETRY_SECONDS = 2.0  # a worker that lost Redis tries again after this long
REPORT_EVERY_SECONDS = 0.5  # at most this often a progress update is stored
MAX_ERRORS = 1000  # errors kept in a job's state (the count is always exact)
# Share of the progress bar per stage: reading the files, checking rows, writing rows.
STAGES = {"read": (0, 10), "check": (10, 20), "write": (20, 100)}
STAGE_TEXT = {"read": "reading files", "check": "checking every row", "write": "writing rows"}
ID_CHARS = frozenset("0123456789abcdef")


def prefix() -> str:
    """Key prefix of this deployment's jobs in Redis (AR_JOBS_PREFIX, default "ar:jobs")."""
    return os.environ.get("AR_JOBS_PREFIX") or "ar:jobs"


def valid_id(job_id: Any) -> bool:
    """True for a job id this module could have made (32 lowercase hex digits)."""
    return isinstance(job_id, str) and len(job_id) == 32 and set(job_id) <= ID_CHARS


def _now() -> float:
    return time.time()


# ---- stores -----------------------------------------------------------------------------------


class MemoryStore:
    """Job states in this process (no Redis): jobs run in threads of the same process."""

    queued = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, dict] = {}

    def save(self, job: dict) -> None:
        """Store a job's whole state."""
        with self._lock:
            self._jobs[job["id"]] = json.loads(json.dumps(job))

    def load(self, job_id: str) -> dict | None:
        """A copy of a job's state, or None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return json.loads(json.dumps(job)) if job is not None else None


class RedisStore:
    """Job states and the queue in Redis: {prefix}:job:<id> (JSON) and the list {prefix}:queue."""

    queued = True

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30,
                                          socket_connect_timeout=5, health_check_interval=30)

    def key(self, job_id: str) -> str:
        """The Redis key of a job."""
        return f"{prefix()}:job:{job_id}"

    def save(self, job: dict) -> None:
        """Store a job's whole state (kept JOB_TTL_SECONDS)."""
        self.redis.set(self.key(job["id"]), json.dumps(job), ex=JOB_TTL_SECONDS)

    def load(self, job_id: str) -> dict | None:
        """A job's state, or None."""
        raw = self.redis.get(self.key(job_id))
        return json.loads(raw) if raw else None

    def push(self, job_id: str) -> None:
        """Queue a job for the workers."""
        self.redis.rpush(f"{prefix()}:queue", job_id)

    def pop(self, timeout: float) -> str | None:
        """The next queued job id, waiting up to timeout seconds (None when there is none)."""
        item = self.redis.blpop([f"{prefix()}:queue"], timeout=max(int(timeout), 1))
        return item[1] if item else None

    def queue_length(self) -> int:
        """Jobs waiting for a worker."""
        return int(self.redis.llen(f"{prefix()}:queue"))


_stores: dict[str, MemoryStore | RedisStore] = {}
_stores_lock = threading.Lock()


def get_store(redis_url: str | None = None) -> MemoryStore | RedisStore:
    """The process-wide store: Redis when REDIS_URL (or redis_url) is set, else memory."""
    from dashboard.config import get_settings

    url = redis_url or get_settings().redis_url or ""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = RedisStore(url) if url else MemoryStore()
            _stores[url] = store
        return store


# ---- submitting and reading -------------------------------------------------------------------


def new_job(kind: str, params: dict, owner: str | None = None) -> dict:
    """A queued job's initial state."""
    return {"id": uuid.uuid4().hex, "kind": kind, "params": params, "owner": owner, "state": QUEUED,
            "progress": 0, "message": "waiting for a worker", "errors": [], "error_count": 0,
            "warnings": [], "counts": {}, "created_at": _now(), "started_at": None,
            "finished_at": None, "heartbeat": None}


def submit_import(directory: str | Path, *, dry_run: bool = False, mapping: str | None = None,
                  url: str | None = None, owner: str | None = None, cleanup: bool = False,
                  store: MemoryStore | RedisStore | None = None) -> str:
    """Queue an import of directory (see dashboard.data.importer.run_import); returns the job id.

    url=None means the worker's own DATABASE_URL. cleanup=True removes directory when the job ends.
    """
    store = store or get_store()
    params = {"directory": str(directory), "dry_run": bool(dry_run), "mapping": mapping, "url": url,
              "cleanup": bool(cleanup)}
    job = new_job("import", params, owner)
    store.save(job)
    if isinstance(store, RedisStore):
        store.push(job["id"])
    else:
        threading.Thread(target=run_job, args=(job["id"], store), daemon=True,
                         name=f"job-{job['id'][:8]}").start()
    return job["id"]


def get_job(job_id: str, store: MemoryStore | RedisStore | None = None) -> dict | None:
    """A job's state (None when unknown); a running job whose worker died is reported as failed."""
    if not valid_id(job_id):
        return None
    job = (store or get_store()).load(job_id)
    if job is not None and job["state"] == RUNNING and _now() - (job.get("heartbeat") or 0) > STALE_SECONDS:
        job = {**job, "state": FAILED, "message": "the worker stopped reporting on this job (restart or "
               "crash). An import is one transaction: if it stopped before the end, nothing was written. "
               "Running it again is safe (the same rows are updated, never duplicated)."}
    return job


# ---- running ----------------------------------------------------------------------------------


class Reporter:
    """Turns run_import's on_progress(stage, done, total) into stored progress, throttled."""

    def __init__(self, store: MemoryStore | RedisStore, job: dict) -> None:
        self.store, self.job, self.lock = store, job, threading.Lock()
        self.last = 0.0

    def set(self, force: bool = False, **fields: Any) -> None:
        """Update fields and store them (at most every REPORT_EVERY_SECONDS unless forced)."""
        with self.lock:
            self.job.update(fields)
            now = _now()
            if not force and now - self.last < REPORT_EVERY_SECONDS:
                return
            self.job["heartbeat"] = now
            self.last = now
            try:
                self.store.save(self.job)
            except Exception as exc:  # noqa: BLE001 - a lost progress update must not fail the import
                if force:
                    raise
                print(f"job {self.job['id']}: progress not stored: {exc}", file=sys.stderr)

    def __call__(self, stage: str, done: int, total: int) -> None:
        low, high = STAGES.get(stage, (0, 100))
        share = done / total if total else 1.0
        percent = int(low + (high - low) * min(max(share, 0.0), 1.0))
        text = STAGE_TEXT.get(stage, stage)
        if stage == "write" or stage == "read":
            text += f" ({done:,} of {total:,})"
        self.set(force=done >= total and stage == "write", progress=min(percent, 99), message=text)

    def beat(self, stop: threading.Event) -> None:
        """Refresh the heartbeat until stop is set (a long check or write reports nothing)."""
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self.set(force=True)
            except Exception as exc:  # noqa: BLE001 - a lost heartbeat must not kill the job
                print(f"job {self.job['id']}: heartbeat failed: {exc}", file=sys.stderr)


def _summary(counts: dict[str, int], dry_run: bool) -> str:
    verb = "would import" if dry_run else "imported"
    return f"{verb}: " + (", ".join(f"{n:,} {table}" for table, n in counts.items()) or "nothing")


def run_import_job(job: dict, report: Reporter) -> None:
    """Run one import job's run_import and record its outcome in job."""
    from dashboard.data.importer import ImportFailed, run_import
    from dashboard.data.schema import init_db

    params = job["params"]
    try:
        init_db(params.get("url"))
        result = run_import(Path(params["directory"]), mapping=Path(params["mapping"]) if params.get("mapping") else None,
                            dry_run=params.get("dry_run", False), url=params.get("url"), progress=False,
                            on_progress=report)
    except ImportFailed as failure:
        verb = "dry run" if params.get("dry_run") else "import aborted"
        report.set(force=True, state=FAILED, errors=failure.errors[:MAX_ERRORS], error_count=len(failure.errors),
                   message=f"{verb}: {len(failure.errors):,} error(s); the database is unchanged")
        return
    report.set(force=True, state=DONE, progress=100, counts=result.counts, warnings=result.warnings[:MAX_ERRORS],
               message=_summary(result.counts, params.get("dry_run", False)))


def run_predict_job(job: dict, report: Reporter) -> None:
    """Train the payment-prediction models of the current data version (dashboard.predict_jobs)."""
    from dashboard.predict_jobs import run_training_job

    run_training_job(job, report)


def submit_predict_training(url: str | None = None, owner: str | None = None,
                            store: MemoryStore | RedisStore | None = None) -> str:
    """Queue training of the prediction models for the data version of url (None: the worker's own)."""
    store = store or get_store()
    job = new_job("predict", {"url": url}, owner)
    store.save(job)
    if isinstance(store, RedisStore):
        store.push(job["id"])
    else:
        threading.Thread(target=run_job, args=(job["id"], store), daemon=True, name=f"job-{job['id'][:8]}").start()
    return job["id"]


RUNNERS: dict[str, Callable[[dict, Reporter], None]] = {"import": run_import_job, "predict": run_predict_job}


def run_job(job_id: str, store: MemoryStore | RedisStore | None = None) -> dict | None:
    """Run a queued job to its end, keeping its state current; returns the final state."""
    store = store or get_store()
    job = store.load(job_id)
    if job is None or job["state"] != QUEUED:
        return job
    report = Reporter(store, job)
    report.set(force=True, state=RUNNING, started_at=_now(), message="starting")
    stop = threading.Event()
    beat = threading.Thread(target=report.beat, args=(stop,), daemon=True, name=f"beat-{job_id[:8]}")
    beat.start()
    try:
        RUNNERS[job["kind"]](job, report)
    except Exception as exc:  # noqa: BLE001 - the job fails, the worker carries on
        first = str(exc).splitlines()[0] if str(exc) else ""
        report.set(force=True, state=FAILED, message=f"failed: {type(exc).__name__}: {first}"[:500])
    finally:
        stop.set()
        beat.join(timeout=HEARTBEAT_SECONDS + 1)
        job["finished_at"] = _now()
        if job["state"] not in FINISHED:
            job["state"] = FAILED
        store.save(job)
        if job["params"].get("cleanup") and not job["params"].get("dry_run"):
            shutil.rmtree(job["params"]["directory"], ignore_errors=True)
    return job


def work(burst: bool = False, poll_seconds: float = 5.0, max_jobs: int | None = None) -> int:
    """The worker loop of `python -m dashboard worker`: run queued jobs one at a time.

    burst=True stops when the queue is empty. SIGTERM/SIGINT stop it after the current job.
    Returns the number of jobs run.
    """
    store = get_store()
    if not isinstance(store, RedisStore):
        raise SystemExit("the worker needs REDIS_URL (without it, jobs run inside the web process)")
    stopping = threading.Event()

    def stop(signum, _frame) -> None:
        print(f"worker: signal {signum}, stopping after the current job", file=sys.stderr)
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    store.redis.ping()
    print(f"worker: waiting for jobs on {prefix()}:queue", file=sys.stderr)
    done = 0
    while not stopping.is_set() and (max_jobs is None or done < max_jobs):
        try:
            job_id = _pop_now(store) if burst else store.pop(poll_seconds)
            if job_id is None:
                if burst:
                    break
                continue
            job = run_job(job_id, store)
        except Exception as exc:  # noqa: BLE001 - Redis restarting: wait and carry on
            print(f"worker: {type(exc).__name__}: {exc}; retrying in {RETRY_SECONDS:g} s", file=sys.stderr)
            stopping.wait(RETRY_SECONDS)
            continue
        done += 1
        if job is not None:
            print(f"worker: job {job_id} {job['state']}: {job['message']}", file=sys.stderr)
    return done


def _pop_now(store: RedisStore) -> str | None:
    """The next queued job id without waiting."""
    return store.redis.lpop(f"{prefix()}:queue")


# ---- uploads ----------------------------------------------------------------------------------


def upload_root() -> Path:
    """Where uploaded import files are kept until their import ran (AR_UPLOAD_DIR).

    The workers read them from there, so with several machines it must be a shared directory.
    """
    root = Path(os.environ.get("AR_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "ar-uploads")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def new_upload_dir() -> tuple[str, Path]:
    """A fresh private directory for one upload: (its token, its path). Old ones are purged."""
    purge_uploads()
    token = uuid.uuid4().hex
    path = upload_root() / token
    path.mkdir(mode=0o700)
    return token, path


def upload_dir(token: Any) -> Path | None:
    """The directory of an upload token (None for anything that is not one of ours)."""
    if not valid_id(token):
        return None
    path = upload_root() / token
    return path if path.is_dir() else None


def purge_uploads(max_age_seconds: float = 24 * 3600) -> None:
    """Remove upload directories older than max_age_seconds."""
    root = upload_root()
    for path in root.iterdir():
        try:
            if path.is_dir() and valid_id(path.name) and _now() - path.stat().st_mtime > max_age_seconds:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
