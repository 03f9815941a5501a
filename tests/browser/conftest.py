"""A live dashboard (real app factory, temp SQLite, demo data) and a headless Chromium for it.

One server per test session keeps the browser tests few and fast; they run on SQLite only.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-test-pw-42"
TODAY = dt.date.today()
CHROME_ARGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
).split()


@dataclass
class LiveApp:
    """A running dashboard: base URL, database URL and the users created for the tests."""

    url: str
    db_url: str
    rep_id: str
    rep_customer: str
    other_customer: str


def _make_users(rep_id: str) -> None:
    from dashboard.auth.users import create_user

    create_user("ui_admin", "admin", PASSWORD)
    create_user("ui_exec", "executive", PASSWORD)
    create_user("ui_rep", "sales_rep", PASSWORD, sales_rep_id=rep_id)


def _rep_and_customers() -> tuple[str, str, str]:
    """A rep with customers, one of its customers with a balance, and a customer of another rep."""
    from dashboard.metrics.ledger import open_items, select
    from dashboard.metrics.snapshot import get_snapshot, to_day

    snap = get_snapshot()
    items = open_items(select(snap), to_day(TODAY))
    owing = sorted({int(c) for c in items.cust})
    rep_id = str(snap.cust_rep[owing[0]])
    mine = next(snap.cust_ids[c] for c in owing if snap.cust_rep[c] == rep_id)
    other = next(snap.cust_ids[c] for c in owing if snap.cust_rep[c] != rep_id)
    return rep_id, str(mine), str(other)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    """Start create_app() on a free port in a thread over a demo-filled temp SQLite database."""
    from werkzeug.serving import make_server

    workdir = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{workdir / 'ui.db'}"
    saved = {
        k: os.environ.get(k)
        for k in (
            "DATABASE_URL",
            "SECRET_KEY",
            "AR_REFRESH_SECONDS",
            "AR_DEMO_ON_EMPTY",
            "AR_EXPORT_RATE_LIMIT",
        )
    }
    os.environ.update(
        DATABASE_URL=db_url,
        SECRET_KEY="browser-tests",
        AR_REFRESH_SECONDS="2",
        AR_DEMO_ON_EMPTY="0",
        # every chart of every page is exported; the limit has its own tests
        AR_EXPORT_RATE_LIMIT="1000 per minute",
    )
    from dashboard.data.db import dispose_engines
    from dashboard.data.demo import load_demo
    from dashboard.data.schema import init_db
    from dashboard.metrics.snapshot import clear_snapshots

    init_db(db_url)
    load_demo(url=db_url, customers=200, invoices=4000, seed=7, today=TODAY, progress=False)
    clear_snapshots()
    rep_id, mine, other = _rep_and_customers()
    _make_users(rep_id)
    from dashboard.app import create_app

    app = create_app()
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApp(f"http://127.0.0.1:{server.server_port}", db_url, rep_id, mine, other)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        dispose_engines()
        clear_snapshots()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def browser():
    """Headless Debian Chromium with the browser console log enabled."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1440, 1000)
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
