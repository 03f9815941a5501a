"""Every page renders under the Content-Security-Policy with no SEVERE console entry (issue 14).

A CSP violation (an inline script without its hash, an eval, a blocked style or image) is logged by
Chromium as a SEVERE console entry, so an empty SEVERE log means the pages pass the policy.
"""

from __future__ import annotations

import dash
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import TIMEOUT, console_errors, login, wait_idle

pytestmark = pytest.mark.browser


def page_paths(live_app) -> list[str]:
    """Every registered page (deep links filled with a customer of the ledger)."""
    paths = []
    for page in dash.page_registry.values():
        path = page.get("path_template") or page["path"]
        paths.append(path.replace("<customer_id>", live_app.rep_customer))
    return sorted(set(paths))


def test_every_page_renders_under_the_csp(live_app, browser):
    import requests

    headers = requests.get(live_app.url + "/login", timeout=10).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors" in csp and "'unsafe-eval'" not in csp
    browser.get(live_app.url + "/login")
    assert console_errors(browser) == []
    login(browser, live_app.url, "ui_admin")
    for path in page_paths(live_app):
        browser.get(live_app.url + path)
        WebDriverWait(browser, TIMEOUT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#_pages_content *")
        )
        wait_idle(browser)
        assert console_errors(browser) == [], path
    browser.get(live_app.url + "/")
    wait_idle(browser)
    # the shell's POST form with its CSRF token
    browser.find_element(By.ID, "logout-button").click()
    WebDriverWait(browser, TIMEOUT).until(lambda d: "/login" in d.current_url)
    browser.get(live_app.url + "/")
    WebDriverWait(browser, TIMEOUT).until(lambda d: "/login" in d.current_url)
    assert console_errors(browser) == []


def test_the_grid_code_is_loaded_while_the_first_page_is_idle(live_app, browser):
    """assets/grid_warm.js: once the home page (no grid of its own) has settled, a hidden grid is
    mounted in the shell, so AG Grid's code is ready for the first grid page; no console error."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/")
    wait_idle(browser)
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#ar-grid-warm .ag-root-wrapper")
    )
    box = browser.find_element(By.ID, "ar-grid-warm")
    assert box.get_attribute("aria-hidden") == "true" and box.rect["x"] < 0  # off screen
    assert console_errors(browser) == []
