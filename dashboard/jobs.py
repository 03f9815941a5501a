"""Background jobs (imports and any registered kind), with progress and cancellation.

Production profile (REDIS_URL set): jobs go on an RQ queue and `python -m dashboard worker` (an RQ
worker) runs them, each in a forked work-horse. RQ handles what a home-made queue gets wrong: a job
is in RQ's started registry while it runs, so a horse that dies (OOM, SIGKILL) is marked failed by
its worker at once, and a whole worker that dies is found by the registry's heartbeat clean-up and
its job moved to the failed registry; cancelling a running job is RQ's stop-job command (the worker
kills the horse). An import is one transaction, so a killed job wrote nothing. Web processes only
enqueue and read state; they never run an import.

Single-machine default (no REDIS_URL): the job runs in a thread of the web process; its state is in
that process's memory; cancelling sets a flag the import checks at its next progress report.

Either way a job's state is a dict:

    {"id", "kind", "params", "owner", "state": queued|running|done|failed|cancelled, "progress": 0-100,
     "message", "errors": ["file:row:column: reason", ...], "error_count", "warnings", "counts",
     "created_at", "started_at", "finished_at", "heartbeat"}

Other kinds register a runner: `register("train", run_training)` where
`run_training(job: dict, report: Reporter) -> None` reports with `report.set(progress=..., message=...)`
and ends with `report.set(force=True, state=DONE, ...)`; `enqueue("train", {...})` queues one.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboard.config import get_settings
from dashboard.data.schema import init_db
from dashboard.logs import job_context
from dashboard.metrics.snapshot import build_version
from dashboard.metrics.store import wait_synced
from dashboard.telemetry import JOBS_FINISHED

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = frozenset({DONE, FAILED, CANCELLED})
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0  # in-process jobs only: RQ's registries watch the workers
JOB_TTL_SECONDS = 7 * 24 * 3600
JOB_TIMEOUT_SECONDS = 6 * 3600  # RQ kills a job running longer than this
REPORT_EVERY_SECONDS = 0.5  # at most this often a progress update is stored
MAX_ERRORS = 1000  # errors kept in a job's state (the count is always exact)
# Share of the progress bar per stage: reading the files, checking rows, writing rows.
STAGES = {"read": (0, 10), "check": (10, 20), "write": (20, 100)}
STAGE_TEXT = {"read": "reading files", "check": "checking every row", "write": "writing rows"}
ID_CHARS = frozenset("0123456789abcdef")
log = logging.getLogger(__name__)
STOPPED_MESSAGE = (
    "the worker stopped while running this job (killed, crashed or restarted). An import is one "
    "transaction: if it stopped before the end, nothing was written. Running it again is safe (the same rows are "
    "updated, never duplicated)."
)
CANCELLED_MESSAGE = "cancelled; an import is one transaction: nothing was written"


class JobCancelled(Exception):
    """Raised inside an in-process job when it was cancelled."""


class QueueRequired(RuntimeError):
    """AR_ENV=production without REDIS_URL: jobs never run inside a web worker there."""


def prefix() -> str:
    """Key prefix and queue name of this deployment's jobs (AR_JOBS_PREFIX, default "ar:jobs")."""
    return get_settings().jobs_prefix


def _production() -> bool:
    return get_settings().production


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
        self.cancelled: set[str] = set()
        self.threads: dict[str, threading.Thread] = {}

    def save(self, job: dict) -> None:
        """Store a job's whole state."""
        with self._lock:
            self._jobs[job["id"]] = json.loads(json.dumps(job))

    def load(self, job_id: str) -> dict | None:
        """A copy of a job's state, or None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return json.loads(json.dumps(job)) if job is not None else None

    def start(self, job: dict, timeout: float) -> None:
        """Run the job in a thread of this process."""
        _ = timeout
        thread = threading.Thread(
            target=run_job, args=(job["id"], self), daemon=True, name=f"job-{job['id'][:8]}"
        )
        self.threads[job["id"]] = thread
        thread.start()

    def cancel(self, job_id: str) -> bool:
        """Ask a queued or running job to stop at its next progress report."""
        job = self.load(job_id)
        if job is None or job["state"] in FINISHED:
            return False
        self.cancelled.add(job_id)
        return True

    def check_cancelled(self, job_id: str) -> None:
        """Raise JobCancelled when the job was cancelled."""
        if job_id in self.cancelled:
            raise JobCancelled()

    def counts(self) -> dict[str, int]:
        """Jobs held by state."""
        with self._lock:
            states = [job["state"] for job in self._jobs.values()]
        return {state: states.count(state) for state in STATES}

    def stop_all(self, timeout: float) -> None:
        """Cancel every unfinished job and wait up to timeout seconds for their threads."""
        for job_id, thread in list(self.threads.items()):
            if thread.is_alive():
                self.cancel(job_id)
        deadline = time.monotonic() + timeout
        for thread in list(self.threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))


class RedisStore:
    """Jobs on an RQ queue named after AR_JOBS_PREFIX; a job's state dict lives in its RQ meta."""

    queued = True

    def __init__(self, url: str) -> None:
        import redis  # lazy (b): RQ (REDIS_URL only), 54 ms
        from rq import Queue

        # RQ needs a bytes connection (no decode_responses).
        self.redis = redis.Redis.from_url(
            url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=30
        )
        self.queue = Queue(prefix(), connection=self.redis, default_timeout=JOB_TIMEOUT_SECONDS)

    def _fetch(self, job_id: str) -> Any:
        from rq.exceptions import NoSuchJobError  # lazy (b): RQ (REDIS_URL only), 54 ms
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return None

    def save(self, job: dict) -> None:
        """Store a job's state in its RQ job's meta (from inside the running job)."""
        rq_job = self._fetch(job["id"])
        if rq_job is None:
            return
        rq_job.meta["ar"] = job
        rq_job.save_meta()

    def start(self, job: dict, timeout: float) -> None:
        """Put the job on the RQ queue."""
        self.queue.enqueue(
            "dashboard.jobs.rq_entry",
            job["id"],
            job_id=job["id"],
            meta={"ar": job},
            job_timeout=int(timeout),
            result_ttl=JOB_TTL_SECONDS,
            failure_ttl=JOB_TTL_SECONDS,
            description=f"{job['kind']} {job['id']}",
        )

    def load(self, job_id: str) -> dict | None:
        """The job's state: its own report, corrected by RQ's status (failed, stopped, cancelled)."""
        rq_job = self._fetch(job_id)
        if rq_job is None:
            return None
        job = dict(rq_job.meta.get("ar") or {})
        if not job:
            return None
        status = rq_job.get_status(refresh=False)
        status = getattr(status, "value", status)
        if job.get("state") in FINISHED:
            return job
        if status in ("stopped", "canceled"):
            return {**job, "state": CANCELLED, "message": CANCELLED_MESSAGE}
        if status == "failed":
            return {**job, "state": FAILED, "message": _failure_message(rq_job)}
        if status == "finished":  # the runner ended without a final state
            return {**job, "state": FAILED, "message": "the job ended without reporting a result"}
        return job

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job, or stop a running one (RQ's stop-job command kills its work-horse)."""
        from rq.command import send_stop_job_command  # lazy (b): RQ (REDIS_URL only), 54 ms
        from rq.exceptions import InvalidJobOperation

        rq_job = self._fetch(job_id)
        if rq_job is None:
            return False
        status = getattr(rq_job.get_status(), "value", None)
        if status == "started":
            try:
                send_stop_job_command(self.redis, job_id)
            except InvalidJobOperation:
                return False
            return True
        if status in ("queued", "deferred", "scheduled"):
            rq_job.cancel()
            return True
        return False

    def check_cancelled(self, job_id: str) -> None:
        """Nothing to do: RQ stops a cancelled job by killing its work-horse."""
        _ = job_id

    def queue_length(self) -> int:
        """Jobs waiting for a worker."""
        return len(self.queue)

    def reap(self) -> None:
        """Move jobs of dead workers (heartbeat expired) to the failed registry (RQ's own clean-up)."""
        from rq.registry import StartedJobRegistry  # lazy (b): RQ (REDIS_URL only), 54 ms

        StartedJobRegistry(queue=self.queue).cleanup()

    def counts(self) -> dict[str, int]:
        """Jobs by state from RQ's registries."""
        # lazy (b): RQ (REDIS_URL only), 54 ms
        from rq.registry import (
            CanceledJobRegistry,
            FailedJobRegistry,
            FinishedJobRegistry,
            StartedJobRegistry,
        )

        q = self.queue
        return {
            QUEUED: len(q),
            RUNNING: StartedJobRegistry(queue=q).count,
            DONE: FinishedJobRegistry(queue=q).count,
            FAILED: FailedJobRegistry(queue=q).count,
            CANCELLED: CanceledJobRegistry(queue=q).count,
        }

    def stop_all(self, timeout: float) -> None:
        """Nothing runs in this process."""
        _ = timeout


def _failure_message(rq_job: Any) -> str:
    """Why RQ failed a job: a dead worker, a timeout, or the exception's last line."""
    info = (rq_job.latest_result().exc_string if rq_job.latest_result() else "") or ""
    if (
        "AbandonedJobError" in info
        or "terminated unexpectedly" in info
        or "Work-horse" in info
        or not info
    ):
        return STOPPED_MESSAGE
    if "JobTimeoutException" in info:
        return f"failed: the job ran longer than its limit; {STOPPED_MESSAGE}"
    last = [line for line in info.strip().splitlines() if line.strip()][-1:]
    return f"failed: {last[0].strip()}"[:500] if last else STOPPED_MESSAGE


_stores: dict[str, MemoryStore | RedisStore] = {}
_stores_lock = threading.Lock()


def get_store(redis_url: str | None = None) -> MemoryStore | RedisStore:
    """The process-wide store: RQ when REDIS_URL (or redis_url) is set, else memory."""
    url = redis_url or get_settings().redis_url or ""
    key = f"{url}|{prefix()}" if url else ""
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = RedisStore(url) if url else MemoryStore()
            _stores[key] = store
        return store


# ---- submitting, reading, cancelling ------------------------------------------------------------


def new_job(kind: str, params: dict, owner: str | None = None) -> dict:
    """A queued job's initial state."""
    return {
        "id": uuid.uuid4().hex,
        "kind": kind,
        "params": params,
        "owner": owner,
        "state": QUEUED,
        "progress": 0,
        "message": "waiting for a worker",
        "errors": [],
        "error_count": 0,
        "warnings": [],
        "counts": {},
        "created_at": _now(),
        "started_at": None,
        "finished_at": None,
        "heartbeat": None,
    }


def enqueue(
    kind: str,
    params: dict,
    owner: str | None = None,
    *,
    timeout: float = JOB_TIMEOUT_SECONDS,
    store: MemoryStore | RedisStore | None = None,
) -> str:
    """Queue a job of a registered kind (RQ with REDIS_URL, else a thread); returns its id."""
    if kind not in RUNNERS:
        raise ValueError(f"unknown job kind {kind!r}; register it with dashboard.jobs.register")
    if store is None:
        store = get_store()
        if not store.queued and _production():
            raise QueueRequired(
                "background jobs need REDIS_URL and `python -m dashboard worker` when "
                "AR_ENV=production (they never run inside a web worker)"
            )
    job = new_job(kind, params, owner)
    if not store.queued:
        store.save(job)
    store.start(job, timeout)
    return job["id"]


def submit_import(
    directory: str | Path,
    *,
    dry_run: bool = False,
    mapping: str | None = None,
    url: str | None = None,
    owner: str | None = None,
    cleanup: bool = False,
    store: MemoryStore | RedisStore | None = None,
) -> str:
    """Queue an import of directory (see dashboard.data.importer.run_import); returns the job id.

    url=None means the worker's own DATABASE_URL. cleanup=True removes directory when the job ends.
    """
    params = {
        "directory": str(directory),
        "dry_run": bool(dry_run),
        "mapping": mapping,
        "url": url,
        "cleanup": bool(cleanup),
    }
    return enqueue("import", params, owner, store=store)


def get_job(job_id: str, store: MemoryStore | RedisStore | None = None) -> dict | None:
    """A job's state (None when unknown); a running job whose worker died is reported as failed."""
    if not valid_id(job_id):
        return None
    store = store or get_store()
    if isinstance(store, RedisStore) and store.queued:
        try:
            store.reap()
        except Exception as error:  # noqa: BLE001 - reading the state still works
            log.debug("job registry clean-up failed: %s", error)
    job = store.load(job_id)
    if (
        job is not None
        and job["state"] == RUNNING
        and not store.queued
        and _now() - (job.get("heartbeat") or 0) > STALE_SECONDS
    ):
        job = {**job, "state": FAILED, "message": STOPPED_MESSAGE}
    return job


def cancel(job_id: str, store: MemoryStore | RedisStore | None = None) -> bool:
    """Cancel a queued or running job; True when a cancellation was sent."""
    if not valid_id(job_id):
        return False
    return (store or get_store()).cancel(job_id)


def counts_by_state(store: MemoryStore | RedisStore | None = None) -> dict[str, int]:
    """How many jobs are in each state (for /metrics)."""
    return (store or get_store()).counts()


def shutdown(timeout: float = 10.0) -> None:
    """Stop this process's job threads (in-process runner): cancel them and wait for their rollback."""
    for store in list(_stores.values()):
        store.stop_all(timeout)


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
                log.warning("job %s: progress not stored: %s", self.job["id"], exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.store.check_cancelled(self.job["id"])
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
                log.warning("job %s: heartbeat failed: %s", self.job["id"], exc)


def _summary(counts: dict[str, int], dry_run: bool) -> str:
    verb = "would import" if dry_run else "imported"
    return f"{verb}: " + (", ".join(f"{n:,} {table}" for table, n in counts.items()) or "nothing")


def run_import_job(job: dict, report: Reporter) -> None:
    """Run one import job's run_import and record its outcome in job."""
    # lazy (b): the importer, 40 ms, only when an import job runs (not at web start-up)
    from dashboard.data.importer import ImportFailed, run_import

    params = job["params"]
    try:
        init_db(params.get("url"))
        result = run_import(
            Path(params["directory"]),
            mapping=Path(params["mapping"]) if params.get("mapping") else None,
            dry_run=params.get("dry_run", False),
            url=params.get("url"),
            progress=False,
            on_progress=report,
        )
    except ImportFailed as failure:
        verb = "dry run" if params.get("dry_run") else "import aborted"
        # before the final state is visible: whoever sees it finished sees the upload gone
        _cleanup(job)
        report.set(
            force=True,
            state=FAILED,
            errors=failure.errors[:MAX_ERRORS],
            error_count=len(failure.errors),
            message=f"{verb}: {len(failure.errors):,} error(s); the database is unchanged",
        )
        return
    _cleanup(job)
    report.set(
        force=True,
        state=DONE,
        progress=100,
        counts=result.counts,
        warnings=result.warnings[:MAX_ERRORS],
        message=_summary(result.counts, params.get("dry_run", False)),
    )
    if not params.get("dry_run"):
        # the new version, built once
        enqueue("snapshot", {"url": params.get("url")}, job.get("owner"))


def run_snapshot_job(job: dict, report: Reporter) -> None:
    """Build this machine's snapshot of the current data version (waits if another process builds it)."""
    url = job["params"].get("url") or get_settings().database_url
    report.set(force=True, progress=5, message="building the snapshot of the current data version")
    path = build_version(url)
    report.set(
        force=True,
        state=DONE,
        progress=100,
        message=f"snapshot ready: {path.name if path else '-'}",
    )
    # served since its rename; its files are synced in the background: wait for that before the
    # job ends (a work-horse process may exit without waiting for threads)
    wait_synced()


Runner = Callable[[dict, Reporter], None]
RUNNERS: dict[str, Runner] = {
    "import": run_import_job,
    "snapshot": run_snapshot_job,
}
SCHEDULES: dict[str, tuple[float, dict]] = {}  # kind -> (every seconds, params) for `scheduler`


def register(
    kind: str, runner: Runner, every: float | None = None, params: dict | None = None
) -> None:
    """Make a job kind runnable: runner(job, report) does the work and reports through report.set.

    every=seconds also makes `python -m dashboard scheduler` enqueue it at that interval.
    """
    RUNNERS[kind] = runner
    if every is not None:
        if every <= 0:
            raise ValueError("every must be positive")
        SCHEDULES[kind] = (float(every), dict(params or {}))


def claim_slot(kind: str, every: float, now: float | None = None) -> bool:
    """True for exactly one scheduler per interval of a kind (Redis SET NX; in-process: always)."""
    store = get_store()
    if not isinstance(store, RedisStore):
        return True
    slot = int((now if now is not None else _now()) // every)
    key = f"{prefix()}:tick:{kind}:{slot}"
    return bool(store.redis.set(key, b"1", nx=True, ex=max(int(every * 2), 1)))


def tick(now: float | None = None) -> list[str]:
    """Enqueue every scheduled kind whose interval slot no other scheduler has claimed; their ids."""
    queued = []
    for kind, (every, params) in list(SCHEDULES.items()):
        if claim_slot(kind, every, now):
            queued.append(enqueue(kind, params, owner="scheduler"))
    return queued


def run_scheduler(stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """The loop of `python -m dashboard scheduler`: tick when each kind's interval slot changes."""
    last: dict[str, int] = {}
    while not stop.is_set():
        now = _now()
        for kind, (every, params) in list(SCHEDULES.items()):
            slot = int(now // every)
            if last.get(kind) != slot and claim_slot(kind, every, now):
                job_id = enqueue(kind, params, owner="scheduler")
                log.info("scheduler: queued %s job %s", kind, job_id)
            last[kind] = slot
        stop.wait(poll_seconds)


def _finish(job: dict, store: MemoryStore | RedisStore) -> None:
    job["finished_at"] = _now()
    if job["state"] not in FINISHED:
        job["state"] = FAILED
    store.save(job)
    JOBS_FINISHED.labels(job["kind"], job["state"]).inc()
    _cleanup(job)  # also when the runner crashed before its own clean-up


def _cleanup(job: dict) -> None:
    """Remove an import's uploaded files when the job asked for it (never after a dry run)."""
    if job["params"].get("cleanup") and not job["params"].get("dry_run"):
        shutil.rmtree(job["params"]["directory"], ignore_errors=True)


def run_job(job_id: str, store: MemoryStore | RedisStore | None = None) -> dict | None:
    """Run a queued job to its end, keeping its state current; returns the final state."""
    store = store or get_store()
    job = store.load(job_id)
    if job is None or job["state"] != QUEUED:
        return job
    token = job_context.set(
        {
            "request_id": f"job:{job_id}",
            "user": job.get("owner") or "-",
            "route": f"job:{job['kind']}",
        }
    )
    report = Reporter(store, job)
    stop = threading.Event()
    beat = threading.Thread(
        target=report.beat, args=(stop,), daemon=True, name=f"beat-{job_id[:8]}"
    )
    try:
        store.check_cancelled(job_id)
        report.set(force=True, state=RUNNING, started_at=_now(), message="starting")
        log.info("job %s (%s) started", job_id, job["kind"])
        beat.start()
        RUNNERS[job["kind"]](job, report)
    except JobCancelled:
        report.set(force=True, state=CANCELLED, message=CANCELLED_MESSAGE)
    except Exception as exc:  # noqa: BLE001 - the job fails, the worker carries on
        first = str(exc).splitlines()[0] if str(exc) else ""
        report.set(force=True, state=FAILED, message=f"failed: {type(exc).__name__}: {first}"[:500])
        log.exception("job %s failed", job_id)
    finally:
        stop.set()
        if beat.is_alive():
            beat.join(timeout=HEARTBEAT_SECONDS + 1)
        _finish(job, store)
        log.info("job %s %s: %s", job_id, job["state"], job["message"])
        job_context.reset(token)
    return job


def rq_entry(job_id: str) -> str:
    """What the RQ work-horse runs: the job's runner, its state kept in the RQ job's meta."""
    job = run_job(job_id, get_store())
    return job["state"] if job else "missing"


def work(burst: bool = False, max_jobs: int | None = None, with_scheduler: bool = True) -> int:
    """The worker of `python -m dashboard worker`: an RQ worker on this deployment's queue.

    burst=True stops when the queue is empty. SIGTERM/SIGINT stop it after the current job (RQ's
    warm shutdown). Returns the number of jobs run.
    """
    from rq import Worker  # lazy (b): RQ (REDIS_URL only), 54 ms

    class CountingWorker(Worker):
        """RQ's worker, counting the jobs it ran in this process."""

        ran = 0

        def execute_job(self, job: Any, queue: Any) -> Any:
            CountingWorker.ran += 1
            return super().execute_job(job, queue)

    store = get_store()
    if not isinstance(store, RedisStore):
        raise SystemExit("the worker needs REDIS_URL (without it, jobs run inside the web process)")
    store.redis.ping()
    worker = CountingWorker(
        [store.queue], connection=store.redis, default_result_ttl=JOB_TTL_SECONDS
    )
    log.info("worker: waiting for jobs on queue %s", store.queue.name)
    worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=with_scheduler, logging_level=None)
    return CountingWorker.ran


# ---- uploads ----------------------------------------------------------------------------------


def upload_root() -> Path:
    """Where uploaded import files are kept until their import ran (AR_UPLOAD_DIR).

    The workers read them from there, so with several machines it must be a shared directory.
    """
    root = get_settings().upload_dir
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
            if (
                path.is_dir()
                and valid_id(path.name)
                and _now() - path.stat().st_mtime > max_age_seconds
            ):
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
