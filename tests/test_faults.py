"""Faults: the database restarting mid-session, an import killed half-way, two imports at once, and
web workers restarting (sessions are signed cookies, so they survive).

The PostgreSQL restart test stops and starts the local cluster with pg_ctlcluster (root or the
postgres user); it is skipped where that is not possible, or with AR_TEST_SKIP_DB_RESTART=1 (a
restart briefly disconnects every other client of the cluster).
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from auth_helpers import PASSWORD, callback_body, make_world
from sqlalchemy import text

from dashboard.auth import DB_UNAVAILABLE
from dashboard.data.db import dispose_engines, get_engine
from dashboard.data.importer import LOCK_BUSY, ImportFailed, import_lock, run_import

ROOT = Path(__file__).resolve().parent.parent
LEDGER_TABLES = (
    "sales_reps",
    "customers",
    "invoices",
    "payments",
    "allocations",
    "write_offs",
    "promises",
    "disputes",
    "commissions",
    "activities",
    "data_version",
)
KPIS = "/api/kpis?as_of=2024-03-01"
SECRET = "test-secret-key-" + "x" * 32


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """(row count, sha256 of the sorted rows) per ledger table."""
    out = {}
    with get_engine(url).connect() as conn:
        for table in LEDGER_TABLES:
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {table}")))
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def write_csv(path: Path, header: str, rows) -> None:
    """A CSV file from a header and an iterable of row strings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        handle.write(header + "\n")
        for row in rows:
            handle.write(row + "\n")


def seed_small(url: str, directory: Path) -> None:
    """20 customers, 50 invoices, 10 payments through the importer."""
    write_csv(
        directory / "customers.csv",
        "customer_id,name,terms_days",
        (f"S{i:03d},Seed {i},30" for i in range(20)),
    )
    write_csv(
        directory / "invoices.csv",
        "invoice_id,customer_id,issue_date,amount",
        (f"SI{i:04d},S{i % 20:03d},2024-01-{1 + i % 28:02d},{100 + i}.25" for i in range(50)),
    )
    write_csv(
        directory / "payments.csv",
        "payment_id,customer_id,date,amount,invoice_id",
        (f"SP{i:03d},S{i % 20:03d},2024-02-01,{100 + i}.25,SI{i:04d}" for i in range(10)),
    )
    run_import(directory, url=url, progress=False)


def write_big(directory: Path, invoices: int, customers: int = 3000) -> int:
    """Files that update the seeded customers and add many customers and invoices; rows to write."""
    write_csv(
        directory / "customers.csv",
        "customer_id,name,terms_days",
        [f"S{i:03d},Renamed {i},45" for i in range(20)]
        + [f"B{i:05d},Big {i},30" for i in range(customers)],
    )
    write_csv(
        directory / "invoices.csv",
        "invoice_id,customer_id,issue_date,amount",
        (
            f"BI{i:07d},B{i % customers:05d},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i % 5000}.{i % 100:02d}"
            for i in range(invoices)
        ),
    )
    return 20 + customers + invoices


def env_for(url: str, **extra: str) -> dict[str, str]:
    """The environment of a dashboard subprocess on url."""
    return {**os.environ, "DATABASE_URL": url, "AR_DEMO_ON_EMPTY": "0", **extra}


# ---- (b) an import killed half-way ---------------------------------------------------------------


PROGRESS = re.compile(rb"(\d+)/(\d+) \[")


def run_until_writing(
    cmd: list[str], env: dict[str, str], share: float = 0.3, timeout: float = 180
) -> tuple[subprocess.Popen, int, int]:
    """Start cmd; return once its tqdm bar shows at least share of the rows written, not all:
    (process, rows done, rows in all)."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    buffer, deadline = b"", time.monotonic() + timeout
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffer += chunk
            for done, total in PROGRESS.findall(buffer[-4000:])[-1:]:
                if share * int(total) <= int(done) < int(total) and int(done) > 0:
                    return proc, int(done), int(total)
        elif proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    raise AssertionError(
        f"import never reached the write phase: {buffer[-2000:].decode(errors='replace')}"
    )


def test_killed_import_leaves_the_database_as_it_was(db_url, tmp_path):
    """kill -9 of `python -m dashboard import` while it writes: every table is exactly as before."""
    seed_small(db_url, tmp_path / "seed")
    before = fingerprint(db_url)
    rows = write_big(tmp_path / "big", invoices=200_000)
    dispose_engines()
    cmd = [
        sys.executable,
        "-m",
        "dashboard",
        "--database-url",
        db_url,
        "import",
        str(tmp_path / "big"),
    ]
    proc, done, total = run_until_writing(cmd, env_for(db_url))
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert total == rows and 0.3 * total <= done < total  # killed in the middle of the write phase
    assert fingerprint(db_url) == before
    if db_url.startswith("sqlite"):
        with get_engine(db_url).connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # Nothing is left locked: the next import goes through at once and is applied in full.
    result = run_import(tmp_path / "seed", url=db_url, progress=False, lock_timeout=10)
    assert result.counts["customers"] == 20
    after = fingerprint(db_url)
    assert {t: v for t, v in after.items() if t != "data_version"} == {
        t: v for t, v in before.items() if t != "data_version"
    }


# ---- (c) two imports at once -------------------------------------------------------------------


def seed_payment(url: str, directory: Path) -> None:
    """C1 with invoices I1 and I2 (100.00 each) and an unallocated payment P1 of 100.00."""
    write_csv(directory / "customers.csv", "customer_id,name", ["C1,One"])
    write_csv(
        directory / "invoices.csv",
        "invoice_id,customer_id,issue_date,amount",
        ["I1,C1,2024-01-10,100.00", "I2,C1,2024-01-11,100.00"],
    )
    write_csv(
        directory / "payments.csv",
        "payment_id,customer_id,date,amount",
        ["P1,C1,2024-02-01,100.00"],
    )
    run_import(directory, url=url, progress=False)


def allocation_dir(directory: Path, invoice: str) -> Path:
    write_csv(
        directory / "allocations.csv", "payment_id,invoice_id,amount", [f"P1,{invoice},100.00"]
    )
    return directory


def allocations(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT payment_id, invoice_id, amount_cents FROM allocations")
            )
        ]


def run_concurrently(url: str, first: Path, second: Path, second_timeout: float, hold: float = 1.5):
    """Start import first; while it holds the import lock (for hold seconds), start second.

    Returns (first's outcome, second's outcome, seconds second took); an outcome is an
    ImportResult or the ImportFailed raised.
    """
    outcomes: dict[str, object] = {}
    locked = threading.Event()

    def on_progress(stage: str, _done: int, _total: int) -> None:
        if stage == "check" and not locked.is_set():  # the lock is taken before the checks start
            locked.set()
            time.sleep(hold)

    def run(name: str, directory: Path, **kwargs) -> None:
        try:
            outcomes[name] = run_import(directory, url=url, progress=False, **kwargs)
        except ImportFailed as failure:
            outcomes[name] = failure

    a = threading.Thread(target=run, args=("a", first), kwargs={"on_progress": on_progress})
    a.start()
    assert locked.wait(30)
    started = time.monotonic()
    run("b", second, lock_timeout=second_timeout)
    took = time.monotonic() - started
    a.join(60)
    return outcomes["a"], outcomes["b"], took


def test_second_import_waits_and_then_checks_against_the_first(db_url, tmp_path):
    """Imports are serialised: the second waits, then its checks see the first one's rows.

    Both allocate all of P1 (100.00), to different invoices. Checked side by side, both would pass
    and P1 would end up allocated twice; serialised, the second is refused.
    """
    seed_payment(db_url, tmp_path / "seed")
    a, b, took = run_concurrently(
        db_url,
        allocation_dir(tmp_path / "a", "I1"),
        allocation_dir(tmp_path / "b", "I2"),
        second_timeout=30,
    )
    assert not isinstance(a, ImportFailed), a.errors
    assert isinstance(b, ImportFailed)
    assert b.errors == [
        "allocations.csv:2:amount: allocations of payment 'P1' total 200.00, more than its amount 100.00"
    ]
    assert took >= 1.0  # it waited for the first import
    assert allocations(db_url) == [("P1", "I1", 10000)]


def test_second_import_waits_and_then_succeeds(db_url, tmp_path):
    """A compatible second import waits for the first and is then applied in full."""
    seed_payment(db_url, tmp_path / "seed")
    other = tmp_path / "b"
    write_csv(other / "customers.csv", "customer_id,name", ["C2,Two"])
    a, b, took = run_concurrently(
        db_url, allocation_dir(tmp_path / "a", "I1"), other, second_timeout=30
    )
    assert b.counts == {"customers": 1} and a.counts == {"allocations": 1}
    assert took >= 1.0
    with get_engine(db_url).connect() as conn:
        assert conn.execute(
            text("SELECT name FROM customers ORDER BY customer_id")
        ).scalars().all() == ["One", "Two"]


def test_second_import_gives_up_with_a_clear_message(db_url, tmp_path):
    """Past its lock timeout the second import fails with "another import is running; try again"."""
    seed_payment(db_url, tmp_path / "seed")
    before = fingerprint(db_url)
    other = tmp_path / "b"
    write_csv(other / "customers.csv", "customer_id,name", ["C2,Two"])
    a, b, took = run_concurrently(
        db_url, allocation_dir(tmp_path / "a", "I1"), other, second_timeout=0.3, hold=3
    )
    assert isinstance(b, ImportFailed) and b.errors == [LOCK_BUSY]
    assert LOCK_BUSY == "database:-:-: another import is running; try again"
    assert took < 2.5
    assert not isinstance(a, ImportFailed)
    after = fingerprint(db_url)
    assert after["customers"] == before["customers"]  # C2 was not written
    assert after["allocations"][0] == before["allocations"][0] + 1  # the first import was


def test_cli_import_refused_while_another_runs(db_url, tmp_path):
    """`python -m dashboard import` during another import: exit 1, a clear message, no traceback."""
    directory = tmp_path / "in"
    write_csv(directory / "customers.csv", "customer_id,name", ["C2,Two"])
    with get_engine(db_url).begin() as conn:
        import_lock(conn, 5)  # another import holds the lock
        run = subprocess.run(
            [sys.executable, "-m", "dashboard", "import", str(directory), "--quiet"],
            cwd=ROOT,
            env=env_for(db_url, AR_IMPORT_LOCK_TIMEOUT="1"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 1
    assert LOCK_BUSY in run.stderr and "Traceback" not in run.stderr
    assert "import aborted: 1 error(s); the database is unchanged" in run.stderr


# ---- (a) the database restarting mid-session -------------------------------------------------------


def local_cluster(url: str) -> tuple[str, str] | None:
    """(version, name) of the local PostgreSQL cluster serving url's port, if pg_lsclusters knows it."""
    port = re.search(r":(\d+)/", url)
    try:
        listing = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 3 and port and parts[2] == port.group(1):
            return parts[0], parts[1]
    return None


def pg_ctl(cluster: tuple[str, str], action: str) -> None:
    """pg_ctlcluster VERSION NAME action (fast stop: clients are disconnected at once)."""
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action, *extra],
        check=True,
        capture_output=True,
        timeout=120,
    )


def cluster_online(cluster: tuple[str, str]) -> bool:
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header", *cluster], capture_output=True, text=True, timeout=30
    ).stdout
    return " online " in f" {listing} "


def wait_until(predicate, seconds: float, step: float = 0.5):
    """predicate() once it is truthy, within seconds (else the last value)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def test_database_restart_gives_503_then_recovers(db_url):
    """PostgreSQL stops mid-session: API and callbacks answer 503 JSON, pages a self-refreshing 503
    page; once it is back the same app (no restart) answers 200 with the same figures."""
    if not db_url.startswith("postgresql"):
        pytest.skip(
            "restarts the PostgreSQL cluster; SQLite is embedded and has no server to restart"
        )
    if os.environ.get("AR_TEST_SKIP_DB_RESTART") == "1":
        pytest.skip("AR_TEST_SKIP_DB_RESTART=1")
    if shutil.which("pg_ctlcluster") is None:
        pytest.skip("pg_ctlcluster is not available: cannot restart the database here")
    if os.geteuid() != 0 and os.environ.get("USER") != "postgres":
        pytest.skip("pg_ctlcluster needs root or the postgres user")
    cluster = local_cluster(db_url)
    if cluster is None or not cluster_online(cluster):
        pytest.skip("the test database is not served by a local, online pg_ctlcluster cluster")
    world = make_world(db_url)
    client = world.login("admin")
    healthy = client.get(KPIS)
    assert healthy.status_code == 200
    # a plain (non-pattern) callback
    key = next(k for k in world.app.callback_map if k == "rh-caption.children")
    body = callback_body(
        key,
        world.app.callback_map[key],
        {
            ("filters", "data"): {
                "as_of": "2024-03-01",
                "basis": "due",
                "query": "?as_of=2024-03-01",
            },
            ("data-version", "data"): {"version": 1},
        },
    )
    assert client.post("/_dash-update-component", json=body).status_code == 200
    probe = world.client()  # anonymous, like a load balancer
    assert probe.get("/healthz").status_code == 200 and probe.get("/readyz").status_code == 200
    try:
        pg_ctl(cluster, "stop")
        assert probe.get("/healthz").status_code == 200  # the process is alive
        not_ready = probe.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json["checks"]["database"] == "failing"
        assert not_ready.headers["Retry-After"] == "5"
        api = client.get(KPIS)
        assert api.status_code == 503 and api.json == {"error": DB_UNAVAILABLE}
        assert api.headers["Retry-After"] == "5"
        callback = client.post("/_dash-update-component", json=body)
        assert callback.status_code == 503 and callback.json == {"error": DB_UNAVAILABLE}
        page = client.get("/")
        assert page.status_code == 503 and page.headers["Refresh"] == "5"
        assert "temporarily unavailable" in page.text and 'class="alert alert-warning"' in page.text
    finally:
        if not cluster_online(cluster):
            pg_ctl(cluster, "start")
    back = wait_until(lambda: client.get(KPIS).status_code == 200, 60)
    assert back, "the app did not recover after the database came back"
    assert client.get(KPIS).json == healthy.json
    assert client.post("/_dash-update-component", json=body).status_code == 200
    assert probe.get("/readyz").status_code == 200


# ---- (d) sessions survive worker restarts --------------------------------------------------------


def test_session_survives_a_new_app_instance(sqlite_url, monkeypatch):
    """The session is a cookie signed with SECRET_KEY: a new app with the key accepts it, another key not."""
    monkeypatch.setenv("SECRET_KEY", SECRET)
    world = make_world(sqlite_url)
    client = world.login("controller")
    cookie = client.get_cookie("session")
    assert cookie is not None and client.get(KPIS).status_code == 200
    from dashboard.app import create_app

    fresh = create_app().server.test_client()
    fresh.set_cookie("session", cookie.value)
    assert fresh.get(KPIS).status_code == 200
    monkeypatch.setenv("SECRET_KEY", "another-key-" + "y" * 32)
    stranger = create_app().server.test_client()
    stranger.set_cookie("session", cookie.value)
    assert stranger.get(KPIS).status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Process ids whose parent is pid."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


class Gunicorn:
    """`gunicorn app:server` on a free local port (the Procfile's command; ./gunicorn.conf.py is read
    by gunicorn itself); command="run" starts `python -m dashboard run` instead."""

    def __init__(
        self,
        url: str,
        secret: str,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        command: str | None = None,
    ) -> None:
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # read on failure; a pipe nobody reads could fill up
        self.base = f"http://127.0.0.1:{self.port}"
        env = env_for(
            url, SECRET_KEY=secret, AR_ENV="production", AR_SECURE_COOKIES="0", **(extra_env or {})
        )
        if command == "run":
            cmd = [
                sys.executable,
                "-m",
                "dashboard",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "gunicorn",
                "app:server",
                "-w",
                str(workers),
                "--threads",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
            ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log
        )

    def ready(self, seconds: float = 90) -> None:
        import requests

        def up() -> bool:
            try:
                return requests.get(self.base + "/login", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        if not wait_until(up, seconds):
            raise AssertionError("gunicorn did not come up: " + self.log_text()[-3000:])

    def workers(self) -> set[int]:
        return _children(self.proc.pid)

    def log_text(self) -> str:
        """Everything the server wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, keep_log: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not keep_log:
            self.log.close()


def _login(base: str, username: str):
    import requests

    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(
        base + "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text
    return session


def test_session_survives_worker_and_server_restarts(sqlite_url):
    """Log in through gunicorn; kill -9 its workers, then replace the whole server: same cookie, same user."""
    import requests

    make_world(sqlite_url)
    dispose_engines()
    servers = [Gunicorn(sqlite_url, SECRET)]
    try:
        first = servers[0]
        first.ready()
        session = _login(first.base, "controller")
        cookie = session.cookies.get("session")
        assert session.get(first.base + KPIS, timeout=30).json()["total_ar"] == "2462.39"
        old = first.workers()
        assert len(old) == 2
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: len(first.workers() - old) == 2, 60), (
            "gunicorn did not replace its workers"
        )
        first.ready()
        again = requests.get(first.base + KPIS, cookies={"session": cookie}, timeout=30)
        assert again.status_code == 200 and again.json()["total_ar"] == "2462.39"
        first.stop()
        second = Gunicorn(sqlite_url, SECRET, workers=1)
        servers.append(second)
        second.ready()
        assert (
            requests.get(second.base + KPIS, cookies={"session": cookie}, timeout=30).status_code
            == 200
        )
        second.stop()
        other = Gunicorn(sqlite_url, "a-different-key-" + "z" * 32, workers=1)
        servers.append(other)
        other.ready()
        assert (
            requests.get(other.base + KPIS, cookies={"session": cookie}, timeout=30).status_code
            == 401
        )
    finally:
        for server in servers:
            server.stop()
