"""Browser tests against a live server: log in, filter, drill down, Account 360, backdating, live notes.

Expected figures come from the metrics engine (dashboard.metrics.kpis.compute_kpis), not from the UI.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import TODAY
from tests.browser.helpers import click, console_errors, login, shot, text_of, wait_idle, wait_text

pytestmark = pytest.mark.browser
TIMEOUT = 20


# ---- helpers ------------------------------------------------------------------------------------


def tile(driver, name: str, predicate=lambda t: t and t != "…") -> str:
    return wait_text(driver, f".ar-kpi-{name} .ar-kpi-value", predicate)


def expected_kpis(as_of: dt.date, scope=None, **filters) -> dict:
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import get_snapshot

    return compute_kpis(get_snapshot(), as_of, 90, Filters(**filters), scope or Scope.everyone())


def money(value) -> str:
    from dashboard.format import money as fmt

    return fmt(value, "USD")


# ---- tests ----------------------------------------------------------------------------------------


def test_filter_drill_down_and_account_360(live_app, browser):
    """Tiles tie to the metrics; a filter changes them and the URL; a tile drills to rows; a row opens Account 360."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/")
    expected = expected_kpis(TODAY)
    assert tile(browser, "total_ar", lambda t: t == money(expected["total_ar"])) == money(
        expected["total_ar"]
    )
    assert tile(browser, "overdue_ar") == money(expected["overdue_ar"])
    wait_idle(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "#rh-aging-long .main-svg"), (
        "aging donut not drawn"
    )
    shot(browser, "receivables-1440")

    segment = Select(
        browser.find_element(By.XPATH, '//select[contains(@id, \'"name":"segment"\')]')
    )
    choice = [
        o.get_attribute("value")
        for o in segment.options
        if o.get_attribute("value") not in ("", "__all__")
    ][0]
    segment.select_by_value(choice)
    filtered = expected_kpis(TODAY, segment=choice)
    assert filtered["total_ar"] != expected["total_ar"]
    tile(browser, "total_ar", lambda t: t == money(filtered["total_ar"]))
    assert f"segment={choice}" in browser.current_url

    click(browser, browser.find_element(By.CSS_SELECTOR, ".ar-kpi-total_ar .ar-kpi-click"))
    assert wait_text(browser, ".ar-drill-total", bool) == money(filtered["total_ar"])
    pinned = wait_text(browser, ".ar-grid-drill .ag-floating-bottom", lambda t: "Total" in t)
    assert money(filtered["total_ar"]) in pinned
    wait_idle(browser)
    shot(browser, "drill-total-ar-1440")

    link = WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".ar-grid-drill a.ar-customer-link")
    )[0]
    name = link.text
    click(browser, link)
    WebDriverWait(browser, TIMEOUT).until(lambda d: "/customers/" in d.current_url)
    assert wait_text(browser, "#acct-name", lambda t: name in t)
    assert f"segment={choice}" in browser.current_url, "the filters travel with the link"
    assert wait_text(browser, "#acct-total", lambda t: t.startswith("$"))
    search = browser.find_element(
        By.CSS_SELECTOR, ".ar-grid-wrap-acct-invoices input.ar-grid-search"
    )
    search.send_keys("OVERDUE")
    matched = wait_text(
        browser, ".ar-grid-wrap-acct-invoices .ar-grid-matched", lambda t: "match" in t
    )
    time.sleep(0.5)  # the grid searches on the server: the line above comes with the searched rows
    statuses = [
        e.text
        for e in browser.find_elements(
            By.CSS_SELECTOR, ".ar-grid-acct-invoices .ag-center-cols-container [col-id=status]"
        )
    ]
    assert statuses and all(s == "OVERDUE" for s in statuses)
    # the box also shows credits
    overdue = text_of(browser, "#acct-total").split("overdue ")[1].split()[0]
    # searched rows' exact total ties to the overdue box
    assert f"Open balance {overdue}" in matched
    wait_idle(browser)
    shot(browser, "account-360-1440")
    assert console_errors(browser) == []


def test_backdating_and_bad_filters(live_app, browser):
    """as_of in the URL backdates every tile; bad values show a message and fall back to defaults."""
    login(browser, live_app.url, "ui_exec")
    back = TODAY - dt.timedelta(days=120)
    expected = expected_kpis(back)
    browser.get(f"{live_app.url}/?as_of={back.isoformat()}&basis=transaction")
    assert tile(browser, "total_ar", lambda t: t == money(expected["total_ar"])) == money(
        expected["total_ar"]
    )
    assert expected["total_ar"] != expected_kpis(TODAY)["total_ar"]
    assert back.isoformat() in text_of(browser, "#rh-caption")
    wait_idle(browser)
    shot(browser, "receivables-backdated-1440")

    browser.get(f"{live_app.url}/?as_of=2999-01-01&segment=NoSuchSegment&basis=sideways")
    message = wait_text(browser, ".ar-filter-message", bool)
    assert "future" in message and "NoSuchSegment" in message and "sideways" in message
    today_total = money(expected_kpis(TODAY)["total_ar"])
    assert tile(browser, "total_ar", lambda t: t == today_total) == today_total
    wait_idle(browser)
    assert console_errors(browser) == []


def test_rep_scope_notes_and_live_refresh(live_app, browser):
    """A rep sees only their customers; adding a note shows at once and bumps the data version."""
    from dashboard.metrics.filters import Scope

    login(browser, live_app.url, "ui_rep")
    browser.get(live_app.url + "/")
    scoped = expected_kpis(TODAY, scope=Scope(sales_rep_ids=frozenset({live_app.rep_id})))
    assert tile(browser, "total_ar", lambda t: t == money(scoped["total_ar"])) == money(
        scoped["total_ar"]
    )

    browser.get(f"{live_app.url}/customers/{live_app.other_customer}")
    assert "Customer not found" in wait_text(browser, "#acct-header", bool)
    browser.get(f"{live_app.url}/customers/NO-SUCH-CUSTOMER")
    assert "Customer not found" in wait_text(browser, "#acct-header", bool)

    browser.get(f"{live_app.url}/customers/{live_app.rep_customer}")
    wait_text(browser, "#acct-name", bool)
    version = wait_text(browser, "#live-status", lambda t: "Live · v" in t)
    note = f"Called about the overdue items {time.time():.0f}"
    wait_idle(browser)
    box = WebDriverWait(browser, TIMEOUT).until(lambda d: d.find_elements(By.ID, "acct-note-text"))[
        0
    ]
    box.send_keys(note)
    click(browser, browser.find_element(By.ID, "acct-note-add"))
    assert note in wait_text(browser, "#acct-notes", lambda t: note in t)
    assert wait_text(
        browser, "#live-status", lambda t: "Live · v" in t and t != version, timeout=30
    )
    wait_idle(browser)
    assert console_errors(browser) == []
