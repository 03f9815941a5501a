"""Background import jobs (dashboard.jobs), the `worker` command and the /admin/data page."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from auth_helpers import World, callback_body, make_world
from sqlalchemy import func, select

from dashboard import jobs
from dashboard.data.db import dispose_engines, get_engine
from dashboard.data.models import Customer, Invoice
from dashboard.data.schema import version_stamp
from dashboard.metrics.store import store_for

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("AR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 60

CUSTOMERS = "customer_id,name,terms_days\nK1,Kappa,30\nK2,Lambda,15\n"
INVOICES = (
    "invoice_id,customer_id,issue_date,amount\n"
    "J1,K1,2024-01-10,100.00\nJ2,K1,2024-02-10,25.50\nJ3,K2,2024-02-11,9.99\n"
)
BAD_INVOICES = (
    "invoice_id,customer_id,issue_date,amount\n"
    "J1,K1,2024-01-10,100.00\nJ2,K9,2024-02-10,25.50\nJ3,K2,2024/02/11,9.99\n"
)


def write_files(directory: Path, invoices: str = INVOICES) -> Path:
    """A directory with customers.csv and invoices.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "customers.csv").write_text(CUSTOMERS)
    (directory / "invoices.csv").write_text(invoices)
    return directory


def counts(url: str) -> tuple[int, int]:
    """(customers, invoices) stored."""
    with get_engine(url).connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Customer)).scalar_one(),
            conn.execute(select(func.count()).select_from(Invoice)).scalar_one(),
        )


def wait_finished(job_id: str, store=None) -> dict:
    """The job's state once it is done or failed (bounded wait)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = jobs.get_job(job_id, store)
        if job is not None and job["state"] in jobs.FINISHED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {jobs.get_job(job_id, store)}")


class RecordingStore(jobs.MemoryStore):
    """A memory store that remembers every (state, progress) it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[str, int]] = []

    def save(self, job: dict) -> None:
        self.history.append((job["state"], job["progress"]))
        super().save(job)


@pytest.fixture
def no_redis(monkeypatch):
    """Jobs in threads of this process (no REDIS_URL)."""
    monkeypatch.delenv("REDIS_URL", raising=False)


def test_thread_job_imports_and_reports_progress(db_url, tmp_path, no_redis, monkeypatch):
    """Without Redis the import runs in a thread; progress climbs to 100 and the rows are written."""
    monkeypatch.setattr(jobs, "REPORT_EVERY_SECONDS", 0.0)  # keep every update
    store = RecordingStore()
    job_id = jobs.submit_import(
        write_files(tmp_path / "in"), url=db_url, owner="admin", store=store
    )
    job = wait_finished(job_id, store)
    assert job["state"] == jobs.DONE, job
    assert job["progress"] == 100
    assert job["counts"] == {"customers": 2, "invoices": 3}
    assert job["message"] == "imported: 2 customers, 3 invoices"
    assert job["owner"] == "admin" and job["errors"] == []
    assert counts(db_url) == (2, 3)
    progress = [p for _, p in store.history]
    assert progress == sorted(progress), progress  # never goes back
    states = [s for s, _ in store.history]
    assert states[0] == jobs.QUEUED and jobs.RUNNING in states and states[-1] == jobs.DONE
    writing = [p for s, p in store.history if s == jobs.RUNNING and 20 <= p < 100]
    assert writing, store.history  # the write stage was reported between 20 and 99
    assert (tmp_path / "in").exists()  # cleanup=False keeps the files


def test_failed_job_lists_every_error_and_writes_nothing(db_url, tmp_path, no_redis):
    """A bad file fails the job with file:row:column: reason lines; the database is unchanged."""
    job_id = jobs.submit_import(
        write_files(tmp_path / "in", BAD_INVOICES), url=db_url, cleanup=True
    )
    job = wait_finished(job_id)
    assert job["state"] == jobs.FAILED
    assert job["errors"] == [
        "invoices.csv:3:customer_id: unknown customer 'K9'",
        "invoices.csv:4:issue_date: not a date (expected YYYY-MM-DD): '2024/02/11'",
    ]
    assert job["error_count"] == 2
    assert job["message"] == "import aborted: 2 error(s); the database is unchanged"
    assert counts(db_url) == (0, 0)
    assert not (tmp_path / "in").exists()  # cleanup=True removes the upload after an import


def test_dry_run_job_writes_nothing(db_url, tmp_path, no_redis):
    """A dry run reports what it would import and leaves the database and the files alone."""
    job = wait_finished(
        jobs.submit_import(write_files(tmp_path / "in"), url=db_url, dry_run=True, cleanup=True)
    )
    assert job["state"] == jobs.DONE and job["progress"] == 100
    assert job["message"] == "would import: 2 customers, 3 invoices"
    assert counts(db_url) == (0, 0)
    assert (tmp_path / "in" / "invoices.csv").exists()  # kept for the real import


def test_stale_running_job_is_reported_failed():
    """A running job whose heartbeat stopped (worker killed) reads as failed, with a clear message."""
    store = jobs.MemoryStore()
    job = jobs.new_job("import", {"directory": "/nowhere"})
    job.update(state=jobs.RUNNING, heartbeat=time.time() - jobs.STALE_SECONDS - 1)
    store.save(job)
    seen = jobs.get_job(job["id"], store)
    assert seen["state"] == jobs.FAILED
    assert "worker stopped" in seen["message"] and "nothing was written" in seen["message"]
    job.update(heartbeat=time.time())
    store.save(job)
    assert jobs.get_job(job["id"], store)["state"] == jobs.RUNNING
    assert jobs.get_job("../../etc/passwd", store) is None


def test_job_crash_fails_the_job_not_the_worker(tmp_path, no_redis, monkeypatch):
    """An unexpected exception marks the job failed (with its type) and the heartbeat stops."""
    store = jobs.MemoryStore()

    def boom(_job, _report):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.RUNNERS, "import", boom)
    job = jobs.new_job("import", {"directory": str(tmp_path)})
    store.save(job)
    final = jobs.run_job(job["id"], store)
    assert final["state"] == jobs.FAILED
    assert final["message"] == "failed: RuntimeError: disk on fire"


# ---- Redis and `python -m dashboard worker` ------------------------------------------------------


@pytest.fixture
def redis_prefix(monkeypatch):
    """A private key prefix on the local Redis (skip when Redis is not reachable)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    prefix = f"ar-test:{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("AR_JOBS_PREFIX", prefix)
    jobs._stores.clear()
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    jobs._stores.clear()


def test_redis_job_runs_in_worker_process(db_url, tmp_path, redis_prefix):
    """With REDIS_URL the job is queued, and `python -m dashboard worker --burst` runs it."""
    store = jobs.get_store()
    assert isinstance(store, jobs.RedisStore)
    ok = jobs.submit_import(write_files(tmp_path / "ok"), owner="admin")
    bad = jobs.submit_import(write_files(tmp_path / "bad", BAD_INVOICES), cleanup=True)
    assert jobs.get_job(ok)["state"] == jobs.QUEUED and store.queue_length() == 2
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "AR_JOBS_PREFIX": redis_prefix,
    }
    run = subprocess.run(
        [sys.executable, "-m", "dashboard", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    # the two imports and the snapshot job the good one queued
    assert "worker: 3 job(s) run" in run.stderr
    # the new version is built, once
    assert store_for(db_url).find(*version_stamp(db_url)) is not None
    done, failed = jobs.get_job(ok), jobs.get_job(bad)
    assert done["state"] == jobs.DONE and done["progress"] == 100, done
    assert done["counts"] == {"customers": 2, "invoices": 3}
    assert failed["state"] == jobs.FAILED and len(failed["errors"]) == 2
    assert counts(db_url) == (2, 3)
    assert store.queue_length() == 0
    assert not (tmp_path / "bad").exists()


def test_worker_without_redis_says_so(no_redis):
    """The worker command needs REDIS_URL and says so."""
    jobs._stores.clear()
    with pytest.raises(SystemExit, match="REDIS_URL"):
        jobs.work(burst=True)


# ---- the /admin/data page -----------------------------------------------------------------------


def _key(app, output_id: str) -> str:
    """The callback_map key of the callback writing output_id (e.g. "da-token.data")."""
    return next(k for k in app.callback_map if output_id in k)


def _call(world: World, client, output_id: str, values: dict, changed: str | None = None):
    key = _key(world.app, output_id)
    body = callback_body(key, world.app.callback_map[key], values)
    if changed:
        body["changedPropIds"] = [changed]
    return client.post(
        "/_dash-update-component", json=body, headers={"Referer": "http://localhost/admin/data"}
    )


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


@pytest.fixture
def world(db_url, tmp_path, monkeypatch, no_redis) -> World:
    """The app over the auth test ledger, uploads under tmp_path."""
    monkeypatch.setenv("AR_UPLOAD_DIR", str(tmp_path / "uploads"))
    return make_world(db_url)


def test_admin_uploads_dry_runs_and_imports_with_progress(world, tmp_path):
    """Upload -> dry run (nothing written) -> import (rows written), polled to 100 %."""
    admin = world.login("admin")
    assert admin.get("/admin/data").status_code == 200
    page = _call(
        world,
        admin,
        "_pages_content.children",
        {("_pages_location", "pathname"): "/admin/data", ("_pages_location", "search"): ""},
    )
    assert page.status_code == 200 and '"da-upload"' in page.text and '"da-progress"' in page.text
    before = counts(world.url)
    upload = _call(
        world,
        admin,
        "da-token.data",
        {
            ("da-upload", "contents"): [_data_url(CUSTOMERS), _data_url(INVOICES), _data_url("x")],
            ("da-upload", "filename"): ["customers.csv", "invoices.csv", "../evil.sh"],
        },
    )
    assert upload.status_code == 200, upload.text
    out = upload.json["response"]
    token = out["da-token"]["data"]
    assert jobs.valid_id(token)
    saved = sorted(p.name for p in (tmp_path / "uploads" / token).iterdir())
    assert saved == ["customers.csv", "invoices.csv"]
    assert "../evil.sh: not a .csv or .xlsx file name" in str(out["da-files"]["children"])
    assert out["da-import"]["disabled"] is False

    for button, message, expected in (
        ("da-dry-run", "would import: 2 customers, 3 invoices", before),
        ("da-import", "imported: 2 customers, 3 invoices", (before[0] + 2, before[1] + 3)),
    ):
        start = _call(
            world,
            admin,
            "da-job.data",
            {(button, "n_clicks"): 1, ("da-token", "data"): token},
            changed=f"{button}.n_clicks",
        )
        assert start.status_code == 200, start.text
        job_id = start.json["response"]["da-job"]["data"]
        wait_finished(job_id)
        poll = _call(
            world,
            admin,
            "da-progress.value",
            {("da-poll", "n_intervals"): 3, ("da-job", "data"): job_id},
        )
        result = poll.json["response"]
        assert result["da-progress"]["value"] == 100 and result["da-progress"]["color"] == "success"
        assert message in str(result)
        assert counts(world.url) == expected
    assert not (tmp_path / "uploads" / token).exists()  # removed after the import


def test_failed_import_shows_the_error_list(world):
    """A failing import shows a red bar and the file:row:column: reason list."""
    admin = world.login("admin")
    upload = _call(
        world,
        admin,
        "da-token.data",
        {
            ("da-upload", "contents"): [_data_url(CUSTOMERS), _data_url(BAD_INVOICES)],
            ("da-upload", "filename"): ["customers.csv", "invoices.csv"],
        },
    )
    token = upload.json["response"]["da-token"]["data"]
    start = _call(
        world,
        admin,
        "da-job.data",
        {("da-import", "n_clicks"): 1, ("da-token", "data"): token},
        changed="da-import.n_clicks",
    )
    job_id = start.json["response"]["da-job"]["data"]
    wait_finished(job_id)
    result = _call(
        world,
        admin,
        "da-progress.value",
        {("da-poll", "n_intervals"): 1, ("da-job", "data"): job_id},
    ).json["response"]
    assert result["da-progress"]["color"] == "danger"
    text = str(result)
    assert "invoices.csv:3:customer_id: unknown customer 'K9'" in text
    assert "invoices.csv:4:issue_date: not a date (expected YYYY-MM-DD): '2024/02/11'" in text
    assert "import aborted: 2 error(s); the database is unchanged" in text


def test_page_and_callbacks_are_admin_only(world):
    """Non-admins get 403 from the guard; the callbacks re-check the role themselves as well."""
    controller = world.login("controller")
    assert controller.get("/admin/data").status_code == 403
    refused = _call(
        world,
        controller,
        "da-token.data",
        {
            ("da-upload", "contents"): [_data_url(CUSTOMERS)],
            ("da-upload", "filename"): ["customers.csv"],
        },
    )
    assert refused.status_code == 403
    # Behind the guard: the callback functions themselves refuse a logged-in non-admin.
    from flask_login import login_user

    page = sys.modules["pages.data_admin"]
    with world.app.server.test_request_context("/_dash-update-component", method="POST"):
        login_user(_auth_user("controller"))
        assert page.is_admin() is False
        token, files, dry_disabled, import_disabled = _plain(page.upload)(
            [_data_url(CUSTOMERS)], ["customers.csv"]
        )
        assert token is None and dry_disabled and import_disabled and page.NOT_ALLOWED in str(files)
        assert _plain(page.start)(None, 1, "0" * 32)[0] is None
        assert _plain(page.poll)(1, "0" * 32)[-1] is True


def _plain(func):
    """The undecorated callback function."""
    return getattr(func, "__wrapped__", func)


def _auth_user(username: str):
    """The flask-login user object of a username."""
    from dashboard.auth.users import AuthUser
    from dashboard.data.db import session_scope
    from dashboard.data.models import User

    with session_scope() as s:
        return AuthUser.from_row(
            s.execute(select(User).where(User.username == username)).scalar_one()
        )


# ---- RQ: worker death, cancellation ----------------------------------------------------------------


def _big_import(directory: Path, invoices: int = 120_000) -> Path:
    """Files that add many customers and invoices (several seconds of writing)."""
    from test_faults import write_big

    write_big(directory, invoices=invoices)
    return directory


def _seeded(db_url: str, tmp_path: Path) -> dict:
    from test_faults import fingerprint, seed_small

    seed_small(db_url, tmp_path / "seed")
    return fingerprint(db_url)


def _worker(db_url: str, prefix: str) -> subprocess.Popen:
    """`python -m dashboard worker` in its own process group (so the test can kill it with its horse)."""
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "AR_JOBS_PREFIX": prefix}
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_writing(job_id: str, worker: subprocess.Popen, low: int = 25) -> dict:
    """The job's state once it is writing rows (progress >= low, not finished)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job = jobs.get_job(job_id)
        if job and job["state"] == jobs.RUNNING and low <= job["progress"] < 95:
            return job
        assert job is None or job["state"] not in jobs.FINISHED, job
        assert worker.poll() is None, "the worker exited"
        time.sleep(0.1)
    raise AssertionError(f"the import never reached the write phase: {jobs.get_job(job_id)}")


def _horse_pids(worker: subprocess.Popen) -> set[int]:
    from test_faults import _children

    return _children(worker.pid)


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["horse", "worker"])
def test_worker_killed_mid_import_fails_the_job_and_writes_nothing(
    db_url, tmp_path, redis_prefix, victim
):
    """SIGKILL of the RQ work-horse (OOM killer) or of the whole worker while an import writes rows:
    the job ends failed (RQ: horse death at once, dead worker via its started registry) and every
    ledger table is exactly as before."""
    from rq.registry import StartedJobRegistry
    from test_faults import fingerprint

    before = _seeded(db_url, tmp_path)
    job_id = jobs.submit_import(_big_import(tmp_path / "big"), owner="admin")
    worker = _worker(db_url, redis_prefix)
    try:
        _wait_writing(job_id, worker)
        if victim == "horse":
            horses = _horse_pids(worker)
            assert horses, "no work-horse under the worker"
            for pid in horses:
                os.kill(pid, signal.SIGKILL)
        else:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
            store = jobs.get_store()
            # its heartbeat has not expired yet
            assert jobs.get_job(job_id)["state"] == jobs.RUNNING
            # What RQ's clean-up does once the dead worker's heartbeat TTL has passed:
            StartedJobRegistry(queue=store.queue).cleanup(timestamp=time.time() + 3600)
        job = wait_finished(job_id)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(60)
    assert job["state"] == jobs.FAILED, job
    assert "worker stopped" in job["message"] and "nothing was written" in job["message"]
    assert job["progress"] < 100
    dispose_engines()
    assert fingerprint(db_url) == before


@pytest.mark.slow
def test_cancel_a_running_rq_import(db_url, tmp_path, redis_prefix):
    """Cancel while the import writes: RQ stops the horse, the job reads cancelled, nothing written."""
    from test_faults import fingerprint

    before = _seeded(db_url, tmp_path)
    job_id = jobs.submit_import(_big_import(tmp_path / "big"), owner="admin")
    worker = _worker(db_url, redis_prefix)
    try:
        _wait_writing(job_id, worker)
        assert jobs.cancel(job_id) is True
        job = wait_finished(job_id)
        assert worker.poll() is None  # the worker itself carries on
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
    assert job["state"] == jobs.CANCELLED and "nothing was written" in job["message"], job
    dispose_engines()
    assert fingerprint(db_url) == before


def test_cancel_a_queued_rq_job(db_url, tmp_path, redis_prefix):
    """A job nobody has started yet is cancelled in the queue and never runs."""
    job_id = jobs.submit_import(write_files(tmp_path / "in"))
    assert jobs.cancel(job_id) is True
    assert jobs.get_job(job_id)["state"] == jobs.CANCELLED
    assert jobs.get_store().queue_length() == 0
    assert jobs.cancel(job_id) is False  # already finished


def test_cancel_an_in_process_import(db_url, tmp_path, no_redis, monkeypatch):
    """Without Redis, cancel stops the import thread at its next progress report; nothing written."""
    import threading

    from test_faults import fingerprint

    before = _seeded(db_url, tmp_path)
    store = jobs.MemoryStore()
    # the import holds at its first progress report with rows written (a fast machine could
    # otherwise write all 60,000 between two of the test's looks), until the cancel is asked
    writing, asked = threading.Event(), threading.Event()
    report = jobs.Reporter.__call__

    def held(self, stage, done, total):
        if stage == "write" and done > 0 and not asked.is_set():
            writing.set()
            asked.wait(240)
        return report(self, stage, done, total)

    monkeypatch.setattr(jobs.Reporter, "__call__", held)
    job_id = jobs.submit_import(
        _big_import(tmp_path / "big", invoices=60_000), url=db_url, store=store
    )
    assert writing.wait(240), jobs.get_job(job_id, store)
    assert jobs.get_job(job_id, store)["state"] not in jobs.FINISHED
    assert jobs.cancel(job_id, store) is True
    asked.set()
    job = wait_finished(job_id, store)
    assert job["state"] == jobs.CANCELLED and "nothing was written" in job["message"]
    dispose_engines()
    assert fingerprint(db_url) == before


def test_shutdown_stops_in_process_jobs(db_url, tmp_path, no_redis):
    """Server shutdown cancels job threads and waits for their rollback."""
    store = jobs.get_store()
    job_id = jobs.submit_import(_big_import(tmp_path / "big", invoices=60_000), url=db_url)
    deadline = time.monotonic() + 240
    while jobs.get_job(job_id)["state"] == jobs.QUEUED and time.monotonic() < deadline:
        time.sleep(0.05)
    jobs.shutdown(timeout=120)
    assert not any(t.is_alive() for t in store.threads.values())
    assert jobs.get_job(job_id)["state"] in jobs.FINISHED


def test_registered_kind_runs_and_is_scheduled(no_redis, monkeypatch):
    """Another job kind: register a runner, enqueue it; with every= the scheduler tick queues it."""
    seen = []

    def train(job, report):
        seen.append(job["params"])
        report.set(force=True, state=jobs.DONE, progress=100, message="trained")

    monkeypatch.setattr(jobs, "RUNNERS", dict(jobs.RUNNERS))
    monkeypatch.setattr(jobs, "SCHEDULES", {})
    jobs.register("train", train, every=3600, params={"model": "late-payment"})
    assert wait_finished(jobs.enqueue("train", {"model": "x"}))["message"] == "trained"
    queued = jobs.tick()
    assert len(queued) == 1 and wait_finished(queued[0])["state"] == jobs.DONE
    assert seen == [{"model": "x"}, {"model": "late-payment"}]
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.enqueue("nope", {})


def test_scheduler_slot_is_claimed_once(redis_prefix, monkeypatch):
    """Two schedulers: each interval of a kind is enqueued by one of them only."""
    monkeypatch.setattr(jobs, "SCHEDULES", {})
    monkeypatch.setattr(jobs, "RUNNERS", dict(jobs.RUNNERS))
    jobs.register("tick", lambda job, report: None, every=60)
    now = 1_800_000_000.0
    assert jobs.claim_slot("tick", 60, now) is True
    assert jobs.claim_slot("tick", 60, now + 1) is False  # same minute, another scheduler
    assert jobs.claim_slot("tick", 60, now + 60) is True


def test_cancel_button_on_the_data_page(world):
    """The admin's Cancel sends the cancellation; the poll then shows the job as cancelled."""
    admin = world.login("admin")
    store = jobs.get_store()
    job = jobs.new_job("import", {"directory": "/nowhere"}, owner="admin")
    job.update(state=jobs.RUNNING, heartbeat=time.time(), progress=40)
    store.save(job)
    key = next(
        k
        for k, spec in world.app.callback_map.items()
        if any(i["id"] == "da-cancel" for i in spec["inputs"])
    )
    body = callback_body(
        key,
        world.app.callback_map[key],
        {("da-cancel", "n_clicks"): 1, ("da-job", "data"): job["id"]},
    )
    answer = admin.post(
        "/_dash-update-component", json=body, headers={"Referer": "http://localhost/admin/data"}
    )
    assert answer.status_code == 200 and "Cancelling" in answer.text
    assert job["id"] in store.cancelled
    store.save({**job, "state": jobs.CANCELLED, "message": jobs.CANCELLED_MESSAGE})
    poll = _call(
        world,
        admin,
        "da-progress.value",
        {("da-poll", "n_intervals"): 1, ("da-job", "data"): job["id"]},
    )
    result = poll.json["response"]
    assert result["da-progress"]["color"] == "secondary" and result["da-cancel"]["disabled"] is True
    assert "nothing was written" in str(result)


def test_production_never_runs_jobs_in_the_web_process(no_redis, monkeypatch, tmp_path):
    """AR_ENV=production without REDIS_URL: enqueueing fails with a clear message, no thread starts."""
    monkeypatch.setenv("AR_ENV", "production")
    jobs._stores.clear()
    threads = threading.active_count()
    with pytest.raises(jobs.QueueRequired, match="REDIS_URL"):
        jobs.submit_import(write_files(tmp_path / "in"))
    assert threading.active_count() == threads
    jobs._stores.clear()
