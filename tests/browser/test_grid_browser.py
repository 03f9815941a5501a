"""A drill-down of 6,000 invoices in the browser: the infinite row model scrolls to the very last row.

Its own server (a subprocess over its own SQLite database, so the session's live_app is untouched)
with the 6,000-invoice ledger of tests/test_grid_server.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.browser.helpers import (
    TIMEOUT,
    click,
    console_errors,
    login,
    money,
    shot,
    text_of,
    wait_idle,
    wait_text,
)

pytestmark = pytest.mark.browser
TESTS = Path(__file__).resolve().parents[1]
SERVER = r"""
import sys
sys.path.insert(0, sys.argv[1])
from dashboard.data.schema import init_db
import os
url = os.environ["DATABASE_URL"]
init_db(url)
import test_grid_server as g
from ledger import add_ledger
add_ledger(url, sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}],
           customers=[{"customer_id": c, "name": f"Customer {c}", "sales_rep_id": r, "region": reg, "segment": "S",
                       "tier": "A", "created_on": "2023-01-01"} for c, (r, reg) in g.CUSTOMERS.items()],
           invoices=[{"invoice_id": v["invoice_id"], "customer_id": v["customer_id"], "issue_date": v["issue_date"],
                      "amount": f"{v['amount_cents'] // 100}.{v['amount_cents'] % 100:02d}"} for v in g.INVOICES])
from dashboard.auth.users import create_user
create_user("grid_admin", "admin", sys.argv[2])
from dashboard.app import create_app
from werkzeug.serving import make_server
server = make_server("127.0.0.1", 0, create_app().server, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    """The dashboard over 6,000 open invoices, in its own process; its base URL."""
    workdir = tmp_path_factory.mktemp("bigrid")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'big.db'}",
        "SECRET_KEY": "grid-browser-tests",
        "AR_DEMO_ON_EMPTY": "0",
        "AR_PREDICT_AUTOTRAIN": "0",
        "AR_MODEL_DIR": str(workdir / "models"),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(TESTS), PASSWORD],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(workdir / "server.log", "w"),
        text=True,
        cwd=str(TESTS.parent),
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), (workdir / "server.log").read_text()[-3000:]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_drill_of_6000_rows_scrolls_to_the_last_row(big_app, browser):
    from test_grid_server import AS_OF, INVOICES, N

    login(browser, big_app, "grid_admin")
    browser.get(f"{big_app}/?as_of={AS_OF}")
    total = sum(v["amount_cents"] for v in INVOICES)
    tile = wait_text(browser, ".ar-kpi-total_ar .ar-kpi-value", lambda t: t.startswith("$"))
    assert tile == money(total)
    click(browser, browser.find_element(By.CSS_SELECTOR, ".ar-kpi-total_ar .ar-kpi-click"))
    assert wait_text(browser, ".ar-drill-total", bool) == money(total)
    assert wait_text(
        browser, ".ar-grid-wrap-drill .ar-grid-caption", lambda t: "rows" in t
    ).startswith("6,000 rows")
    assert money(total) in wait_text(
        browser, ".ar-grid-drill .ag-floating-bottom", lambda t: "Total" in t
    )
    wait_idle(browser)
    shot(browser, "drill-6000-rows-1440")

    # scroll the grid's own viewport to the bottom, as a user dragging the scrollbar does
    last = (
        f".ar-grid-drill .ag-center-cols-container .ag-row[row-index='{N - 1}'] [col-id=invoice_id]"
    )
    scroll = (
        "const v = document.querySelector('.ar-grid-drill .ag-body-viewport'); v.scrollTop = v.scrollHeight;"
        " return v.scrollTop;"
    )

    def at_bottom(driver):
        driver.execute_script(scroll)
        text = text_of(driver, last)
        return text if text and text.startswith("I") else False

    last_id = WebDriverWait(browser, TIMEOUT).until(at_bottom)
    assert last_id in {v["invoice_id"] for v in INVOICES}
    rows = browser.find_elements(
        By.CSS_SELECTOR, ".ar-grid-drill .ag-center-cols-container .ag-row"
    )
    assert len(rows) < 200  # only the rows in view are in the page: the 6,000 stay on the server
    # the window as it is: scrolled
    browser.save_screenshot(str(ARTIFACTS / "drill-6000-rows-last-1440.png"))
    # sort by amount on the server: the first row is then the largest amount of all 6,000
    browser.execute_script(
        "document.querySelector('.ar-grid-drill .ag-body-viewport').scrollTop = 0;"
    )
    header = browser.find_element(
        By.CSS_SELECTOR, ".ar-grid-drill .ag-header-cell[col-id=amount_cents] .ag-header-cell-label"
    )
    click(browser, header)
    click(browser, header)  # ascending, then descending
    largest = money(max(v["amount_cents"] for v in INVOICES))
    wait_text(
        browser,
        ".ar-grid-drill .ag-center-cols-container .ag-row[row-index='0'] [col-id=amount_cents]",
        lambda t: t == largest,
    )
    wait_idle(browser)
    time.sleep(0.3)
    shot(browser, "drill-6000-rows-bottom-1440")
    browser.set_window_size(390, 900)
    time.sleep(0.5)
    shot(browser, "drill-6000-rows-390", width=390)
    assert console_errors(browser) == []
