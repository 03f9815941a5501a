"""Operations: settings, health and readiness, metrics, logs, the migration lock, shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from auth_helpers import make_world
from sqlalchemy import text

from dashboard.config import SettingsError, load_settings
from dashboard.data.db import dispose_engines, get_engine

ROOT = Path(__file__).resolve().parent.parent
KPIS = "/api/kpis?as_of=2024-03-01"
SECRET = "ops-test-secret-" + "k" * 32


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python -m dashboard ARGS` in the repository."""
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(predicate, seconds: float, step: float = 0.2):
    """predicate() once truthy within seconds, else its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


# ---- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("PORT", "x"),
        ("PORT", "70000"),
        ("AR_ENV", "prod"),
        ("AR_DEMO_ON_EMPTY", "maybe"),
        ("AR_DEMO_INVOICES", "-5"),
        ("AR_REFRESH_SECONDS", "0"),
        ("SMTP_PORT", "twenty-five"),
        ("LOG_FORMAT", "xml"),
        ("AR_SESSION_HOURS", "soon"),
        ("AR_IMPORT_LOCK_TIMEOUT", "-1"),
        ("AR_CURRENCY", "dollars"),
        ("WEB_CONCURRENCY", "0"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, name, value):
    """Every bad value fails with the variable's name and value."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"{name}='{value}'"):
        load_settings()


def test_cli_refuses_bad_settings_and_prints_masked_config():
    """`config` exits 2 naming PORT; with good values it prints them, secrets and passwords masked."""
    bad = run_cli("config", env={"PORT": "x"})
    assert bad.returncode == 2 and "PORT='x'" in bad.stderr and "Traceback" not in bad.stderr
    good = run_cli(
        "config",
        env={
            "PORT": "9123",
            "SECRET_KEY": "s3cret-value",
            "METRICS_TOKEN": "tok-123",
            "DATABASE_URL": "postgresql://ar:pw-9@db.example:5432/ar",
            "LOG_FORMAT": "JSON",
            "AR_DEMO_ON_EMPTY": "",
        },
    )
    assert good.returncode == 0, good.stderr
    lines = dict(line.split("=", 1) for line in good.stdout.splitlines())
    assert lines["PORT"] == "9123" and lines["LOG_FORMAT"] == "json"
    assert lines["SECRET_KEY"] == "********" and lines["METRICS_TOKEN"] == "********"
    assert lines["DATABASE_URL"] == "postgresql://ar:***@db.example:5432/ar"
    assert lines["AR_DEMO_ON_EMPTY"] == "True"  # empty means the default
    assert (
        "s3cret-value" not in good.stdout
        and "pw-9" not in good.stdout
        and "tok-123" not in good.stdout
    )


def test_gunicorn_refuses_bad_settings_naming_the_variable(tmp_path):
    """gunicorn.conf.py validates the settings before any worker starts."""
    run = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "app:server"],
        cwd=ROOT,
        env={**os.environ, "GUNICORN_THREADS": "many"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "GUNICORN_THREADS='many'" in run.stderr + run.stdout


def test_create_app_takes_the_settings_object(sqlite_url, monkeypatch):
    """create_app(settings) uses the object it is given, not the environment."""
    from dashboard.app import create_app

    monkeypatch.setenv("AR_SESSION_HOURS", "12")
    settings = load_settings(session_hours=3, secret_key=SECRET)
    server = create_app(settings).server
    assert server.config["AR_SETTINGS"] is settings
    assert server.config["SECRET_KEY"] == SECRET


# ---- health and readiness -------------------------------------------------------------------------


def test_healthz_and_readyz_answer_anonymously_without_ledger_data(db_url):
    """Public, JSON, no cookies needed; readyz turns 200 once the snapshot is loaded."""
    world = make_world(db_url)
    client = world.client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json == {"status": "ok"}
    assert health.headers["Cache-Control"] == "no-store" and health.headers["X-Request-ID"]
    first = client.get("/readyz")
    assert first.status_code in (200, 503)
    if first.status_code == 503:  # still loading its first snapshot: said so, not "failing"
        assert first.json["checks"] == {"database": "ok", "migrations": "ok", "snapshot": "loading"}
    ready = wait_until(lambda: client.get("/readyz").status_code == 200, 60)
    assert ready, client.get("/readyz").json
    body = client.get("/readyz").json
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "snapshot": "ok"},
    }
    for path in ("/healthz", "/readyz"):
        text_ = client.get(path).text
        assert "2462" not in text_ and "Acme" not in text_ and "C1" not in text_
    assert client.get(KPIS).status_code == 401  # the rest stays behind the login


def test_readyz_reports_a_schema_behind_head(db_url):
    """A database whose migrations are not at head is not ready (503, Retry-After)."""
    world = make_world(db_url)
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    answer = world.client().get("/readyz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert (
        answer.json["checks"]["migrations"] == "failing"
        and answer.json["checks"]["database"] == "ok"
    )


# ---- metrics --------------------------------------------------------------------------------------


def test_metrics_series_after_a_few_requests(db_url, monkeypatch):
    """Latency by route and callback, errors, snapshot, import jobs and exports are exposed."""
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    world = make_world(db_url)
    admin = world.login("admin")
    assert admin.get(KPIS).status_code == 200
    assert admin.get("/api/export/open_invoices.csv?as_of=2024-03-01").status_code == 200
    # a plain (non-pattern) callback
    key = next(k for k in world.app.callback_map if k == "rh-caption.children")
    from auth_helpers import callback_body

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
    assert admin.post("/_dash-update-component", json=body).status_code == 200
    metrics = world.client().get("/metrics")
    assert metrics.status_code == 200 and metrics.content_type.startswith("text/plain")
    page = metrics.text
    assert (
        'ar_http_request_duration_seconds_count{callback="",method="GET",route="/api/kpis"}' in page
    )
    assert f'callback="{key}"' in page and 'route="/_dash-update-component"' in page
    assert 'ar_http_requests_total{method="GET",route="/api/kpis",status="200"}' in page
    assert "ar_http_errors_total" in page
    assert "ar_snapshot_version" in page and "ar_snapshot_build_seconds_count" in page
    assert "ar_snapshot_age_seconds{" in page
    assert 'ar_import_jobs{state="queued"}' in page and 'ar_import_jobs{state="running"}' in page
    assert 'ar_exports_total{format="csv",status="ok"}' in page
    assert 'ar_export_duration_seconds_count{format="csv"}' in page


def test_metrics_need_loopback_or_the_bearer_token(db_url, monkeypatch):
    """No token: loopback only. METRICS_TOKEN: the right bearer token from anywhere, else 401."""
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    world = make_world(db_url)
    client = world.client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=remote).status_code == 401
    monkeypatch.setenv("METRICS_TOKEN", "tok-" + "m" * 20)
    assert client.get("/metrics").status_code == 401  # loopback is not enough once a token is set
    assert (
        client.get(
            "/metrics", headers={"Authorization": "Bearer wrong"}, environ_base=remote
        ).status_code
        == 401
    )
    ok = client.get(
        "/metrics", headers={"Authorization": "Bearer tok-" + "m" * 20}, environ_base=remote
    )
    assert ok.status_code == 200 and "ar_http_requests_total" in ok.text


# ---- the migration lock ------------------------------------------------------------------------------


def _alembic_rows(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_two_init_db_at_once_apply_the_migrations_once(empty_db_url):
    """Two `init-db` started together: both succeed, one alembic row at head, the schema complete."""
    from dashboard.ops.health import migration_heads

    env = {**os.environ, "DATABASE_URL": empty_db_url, "AR_DEMO_ON_EMPTY": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dashboard", "init-db"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(180), p.stderr.read()) for p in procs]
    for code, err in outcomes:
        assert code == 0, err
    assert _alembic_rows(empty_db_url) == sorted(migration_heads())
    with get_engine(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM data_version")).scalar() == 1


def test_second_init_db_waits_for_the_lock(empty_db_url):
    """While one runner holds the migration lock, `init-db` waits; once it is released it finishes."""
    from dashboard.data.schema import migration_lock

    env = {**os.environ, "DATABASE_URL": empty_db_url, "AR_DEMO_ON_EMPTY": "0"}
    released = threading.Event()
    with migration_lock(empty_db_url):
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "init-db"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            proc.wait(8)
        except subprocess.TimeoutExpired:
            released.set()  # still waiting for the lock, as it should
        assert released.is_set(), f"init-db did not wait for the lock: {proc.stderr.read()}"
        assert not _has_schema(empty_db_url)
    assert proc.wait(180) == 0, proc.stderr.read()
    assert _has_schema(empty_db_url)
    dispose_engines()


def _has_schema(url: str) -> bool:
    from sqlalchemy import inspect

    dispose_engines()
    return inspect(get_engine(url)).has_table("alembic_version")


# ---- logs -----------------------------------------------------------------------------------------


def test_json_log_lines_carry_request_id_user_and_route(sqlite_url, tmp_path):
    """Under gunicorn with LOG_FORMAT=json every stderr line is JSON; requests and audit carry ids."""
    import requests
    from test_faults import Gunicorn, _login

    make_world(sqlite_url)
    dispose_engines()
    server = Gunicorn(sqlite_url, SECRET, workers=2, extra_env={"LOG_FORMAT": "json"})
    try:
        server.ready()
        session = _login(server.base, "controller")
        answer = session.get(
            server.base + KPIS, headers={"X-Request-ID": "req-ops-test-0001"}, timeout=30
        )
        assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "req-ops-test-0001"
        generated = requests.get(server.base + "/healthz", timeout=10).headers["X-Request-ID"]
        assert len(generated) == 32
        # multi-process: both workers
        metrics = requests.get(server.base + "/metrics", timeout=10).text
        assert 'route="/api/kpis"' in metrics and "ar_snapshot_version{pid=" in metrics
    finally:
        server.stop(keep_log=True)
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    assert all(
        {"time", "level", "logger", "message", "request_id", "user", "route"} <= r.keys()
        for r in records
    )
    # the access line, and the
    kpis = [r for r in records if r["request_id"] == "req-ops-test-0001"]
    # snapshot build it may have started
    access = [r for r in kpis if "GET /api/kpis" in r["message"]]
    assert access and all(r["user"] == "controller" and r["route"] == "/api/kpis" for r in kpis)
    assert "GET /api/kpis 200" in access[0]["message"]
    audit = [r for r in records if r["message"].startswith("audit login")]
    assert audit and audit[0]["route"] == "/login" and len(audit[0]["request_id"]) == 32
    assert any(r["logger"] == "gunicorn.error" for r in records)  # gunicorn's own lines too


def test_text_logs_by_default():
    """Plain text by default: time, level, logger, [request id, user, route], message."""
    import logging

    from dashboard.logs import ContextFilter, logging_config

    config = logging_config(load_settings())
    formatter = logging.Formatter(config["formatters"]["main"]["format"])
    record = logging.LogRecord(
        "dashboard.x", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    ContextFilter().filter(record)
    line = formatter.format(record)
    assert line.endswith("INFO dashboard.x [- - -] hello world")


def test_no_print_outside_the_cli():
    """print() only in the CLI's own output: cli.py, the users and email-summary commands, and the
    demo passwords shown once on the console of a development start (deliberately not logged)."""
    import ast

    allowed = {
        "cli.py": None,
        "subscriptions/cli.py": None,
        "auth/users.py": {"run_cli", "_cli_list", "ensure_demo_users"},
        "export/email.py": {"run_email_summary"},
    }
    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        rel = path.relative_to(ROOT / "dashboard").as_posix()
        tree = ast.parse(path.read_text())
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    if rel in allowed and (allowed[rel] is None or func.name in allowed[rel]):
                        continue
                    offenders.append(f"{rel}:{node.lineno} in {func.name}")
    assert not offenders, offenders


# ---- system packages and shutdown ---------------------------------------------------------------------


def test_system_check_names_the_missing_package(monkeypatch):
    """Without Chromium or fonts, the check says which Debian package to install."""
    from dashboard.ops import system

    monkeypatch.setattr(system.shutil, "which", lambda _name: None)
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    check = system.chromium()
    assert not check.ok and "apt-get install chromium" in check.detail
    monkeypatch.setattr("dashboard.export.pdf.unicode_fonts", lambda: None)
    fonts = system.pdf_fonts()
    assert not fonts.ok and "apt-get install fonts-dejavu-core" in fonts.detail
    run = run_cli("check", env={"PATH": "/nonexistent", "BROWSER_PATH": ""})
    assert run.returncode == 1 and "MISSING chromium" in run.stdout


def _chromium_pids() -> set[int]:
    """Every live (not zombie) chromium process."""
    out = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "chrom" in Path(cmd).name and state != "Z":
            out.add(int(entry.name))
    return out


def _descendants(pid: int) -> set[int]:
    from test_faults import _children

    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("how", ["gunicorn", "run"])
def test_no_chromium_survives_a_server_stop(sqlite_url, how):
    """A PNG export starts the kaleido browser; SIGTERM to the server ends it as well."""
    from test_faults import Gunicorn, _login

    make_world(sqlite_url)
    dispose_engines()
    server = Gunicorn(sqlite_url, SECRET, workers=1, command=None if how == "gunicorn" else "run")
    try:
        server.ready()
        session = _login(server.base, "controller")
        png = session.get(
            server.base + "/export/chart/aging_long.png?as_of=2024-03-01", timeout=120
        )
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG"), png.text[:300]
        browsers = _descendants(server.proc.pid) & _chromium_pids()
        assert browsers, "the PNG export did not start a chromium under the server"
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) is not None
        survivors = wait_until(lambda: not (browsers & _chromium_pids()), 15)
        assert survivors, f"chromium processes survived the server: {browsers & _chromium_pids()}"
    finally:
        server.stop()


def test_lock_file_pins_every_dependency_with_hashes():
    """requirements.lock pins each pyproject dependency (and everything else) to one version with hashes."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = (ROOT / "requirements.lock").read_text()
    entries = re.findall(
        r"^([A-Za-z0-9_.\-]+)==([^ \\\n]+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
        lock,
        flags=re.MULTILINE,
    )
    pinned = {canonicalize_name(name): version for name, version, _ in entries}
    requirements = [line for line in lock.splitlines() if re.match(r"^[A-Za-z0-9_.\-]+==", line)]
    assert len(requirements) == len(entries) > 30  # every pin has its hashes
    assert not re.search(r"^--(extra-)?index-url|^--find-links|file://", lock, flags=re.MULTILINE)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        assert name in pinned, (
            f"{req.name} is not in requirements.lock: regenerate it (docs/production.md)"
        )
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"{req.name}=={pinned[name]} vs {dep}"
        )


def test_init_db_over_a_postgresql_socket_url(migrated_templates):
    """A DATABASE_URL with a percent-encoded socket path (the walk-through's) migrates fine."""
    if "postgresql" not in migrated_templates:
        pytest.skip("no PostgreSQL")
    from conftest import _pg_create, _pg_drop

    from dashboard.data.schema import init_db
    from dashboard.ops.health import database_check

    url = _pg_create()
    name = url.rsplit("/", 1)[1]
    socket_url = f"postgresql://postgres@/{name}?host=/var/run/postgresql"
    try:
        init_db(socket_url)
        assert database_check(socket_url) == (True, True)
    finally:
        _pg_drop(url)


def test_readyz_says_loading_for_a_snapshot_on_its_way():
    """A snapshot that is loading (the database answers) is 'loading'; anything else 'failing'."""
    from dashboard.ops import _not_ok

    fine = {"database": True, "migrations": True, "snapshot": False}
    assert _not_ok("snapshot", fine) == "loading"
    assert _not_ok("snapshot", {**fine, "database": False}) == "failing"
    assert _not_ok("snapshot", {**fine, "migrations": False}) == "failing"
    assert _not_ok("database", {**fine, "database": False}) == "failing"
