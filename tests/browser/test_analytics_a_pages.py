"""Browser test of Customer aging, Credit, Reliability and Customer value: grids fill, ranges change, roles.

Expected totals come from dashboard.metrics on the same snapshot, not from the UI.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import TODAY
from tests.browser.helpers import (
    console_errors,
    login,
    logout,
    money,
    shot,
    text_of,
    wait_idle,
    wait_text,
)

pytestmark = pytest.mark.browser
TIMEOUT = 25


def grid_rows(driver, name: str, timeout: float = TIMEOUT) -> int:
    """Wait until grid `name` shows rows; how many are rendered."""
    css = f".ar-grid-{name} .ag-center-cols-container .ag-row"
    return WebDriverWait(driver, timeout).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, css))
    )


def headers(driver, name: str) -> str:
    return text_of(driver, f".ar-grid-{name} .ag-header") or ""


def aging_total(group: str) -> int:
    from dashboard.metrics import tables
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.snapshot import get_snapshot

    table = tables.customer_aging(get_snapshot(), TODAY, Filters(), Scope.everyone())
    return int(table.loc[table["terms_group"] == group, "amount_cents"].sum())


def test_analytics_pages_ranges_and_tier_editor(live_app, browser):
    """The four pages fill their grids; new aging ranges add columns and are kept; only admins get the tier editor."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/aging")
    assert grid_rows(browser, "ag-long") > 0 and grid_rows(browser, "ag-short") > 0
    for group, name in (("long", "ag-long"), ("short", "ag-short")):
        assert money(aging_total(group)) in wait_text(
            browser, f".ar-grid-{name} .ag-floating-bottom", lambda t: "Total" in t
        )
    assert "91–120 days" not in headers(browser, "ag-long")
    wait_idle(browser)
    shot(browser, "aging-1440")

    box = browser.find_element(By.ID, "ag-ranges")
    box.clear()
    box.send_keys("30,60,90,120")
    browser.find_element(By.ID, "ag-apply").click()
    assert "Saved: 30, 60, 90, 120 days" in wait_text(browser, "#ag-ranges-msg", bool)
    WebDriverWait(browser, TIMEOUT).until(lambda d: "91–120 days" in headers(d, "ag-long"))
    assert "120+ days" in headers(browser, "ag-long") and "91–120 days" in headers(
        browser, "ag-short"
    )
    assert money(aging_total("long")) in text_of(browser, ".ar-grid-ag-long .ag-floating-bottom")
    box.clear()
    box.send_keys("30,sixty")
    browser.find_element(By.ID, "ag-apply").click()
    assert "“sixty” is not a whole number" in wait_text(
        browser, "#ag-ranges-msg", lambda t: "Not applied" in t
    )
    assert "91–120 days" in headers(browser, "ag-long")  # a bad list changes nothing
    wait_idle(browser)
    shot(browser, "aging-ranges-1440")
    browser.get(live_app.url + "/aging")  # the saved ranges come back next time
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_element(By.ID, "ag-ranges").get_attribute("value") == "30,60,90,120"
    )
    WebDriverWait(browser, TIMEOUT).until(lambda d: "91–120 days" in headers(d, "ag-long"))
    link = browser.find_element(By.CSS_SELECTOR, ".ar-grid-ag-long a.ar-customer-link")
    assert "/customers/" in link.get_attribute("href")

    browser.get(live_app.url + "/credit")
    assert grid_rows(browser, "cr-grid") > 0
    assert "Average utilization" in wait_text(browser, "#cr-summary", lambda t: "%" in t)
    wait_idle(browser)
    shot(browser, "credit-1440")

    browser.get(live_app.url + "/reliability")
    assert grid_rows(browser, "rl-grid") > 0
    assert "Portfolio score" in wait_text(browser, "#rl-summary", lambda t: "%" in t)
    wait_idle(browser)
    shot(browser, "reliability-1440")

    browser.get(live_app.url + "/value")
    assert grid_rows(browser, "val-grid") > 0
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#val-tier-chart .bars .point path")
    )
    editor = WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, "#val-tier-editor .ag-center-cols-container .ag-row"
        )
    )
    assert len(editor) == 4 and browser.find_elements(By.ID, "val-tier-save")
    # a new tier that overlaps Platinum: refused, nothing saved
    browser.find_element(By.ID, "val-tier-add").click()
    new_row = "#val-tier-editor .ag-center-cols-container .ag-row[row-index='4']"
    WebDriverWait(browser, TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, new_row))
    browser.find_element(By.CSS_SELECTOR, f"{new_row} [col-id='name']").click()
    browser.switch_to.active_element.send_keys("Diamond", Keys.TAB)
    browser.switch_to.active_element.send_keys("1000000", Keys.ENTER)
    browser.find_element(By.ID, "val-tier-save").click()
    message = wait_text(browser, "#val-tier-msg", lambda t: "Not saved" in t)
    assert "Platinum" in message and "Diamond" in message and "overlap" in message
    wait_idle(browser)
    shot(browser, "value-admin-1440")
    assert console_errors(browser) == []

    logout(browser, live_app.url)
    login(browser, live_app.url, "ui_exec")
    browser.get(live_app.url + "/value")
    assert grid_rows(browser, "val-grid") > 0
    assert "Platinum" in wait_text(browser, "#val-tiers", lambda t: "Platinum" in t)
    assert not browser.find_elements(By.ID, "val-tier-save") and not browser.find_elements(
        By.ID, "val-tier-editor"
    )
    wait_idle(browser)
    assert console_errors(browser) == []
