"""Selenium helpers shared by the browser tests (log in, wait for Dash, read text, screenshots)."""

from __future__ import annotations

import time

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, PASSWORD

TIMEOUT = 25


def login(driver, base: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the Flask login form and wait to leave it."""
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, TIMEOUT).until(lambda d: "/login" not in d.current_url)


def wait_idle(driver, timeout: float = TIMEOUT) -> None:
    """Until Dash has no callback in flight and no loading spinner shows."""
    script = (
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
        " + document.querySelectorAll('.dash-spinner, .dash-default-spinner').length"
    )
    time.sleep(0.3)
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script) == 0)


def text_of(driver, css: str) -> str | None:
    """The visible text of the first element matching css (read in one step: never stale)."""
    text = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", css
    )
    return None if text is None else " ".join(text.split())


def wait_text(driver, css: str, predicate, timeout: float = TIMEOUT) -> str:
    """Wait until the element's text satisfies predicate; return it."""

    def check(d):
        text = text_of(d, css)
        return text if text is not None and predicate(text) else False

    try:
        return WebDriverWait(driver, timeout).until(check)
    except TimeoutException as error:
        raise AssertionError(f"{css}: last text {text_of(driver, css)!r}") from error


def click(driver, element) -> None:
    """Scroll the element to the middle of the window (clear of the sticky filter bar) and click it."""
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element
    )


def shot(driver, name: str, width: int = 1440) -> None:
    """A full-page screenshot at `width` px into test-artifacts/ (waits for the height to settle)."""
    height = 0
    for _ in range(3):
        new, chrome = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
        )
        if new == height:
            break
        height = new
        driver.set_window_size(width, min(max(height + chrome, 900), 4000))
        time.sleep(0.5)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(width, 1000)


def console_errors(driver) -> list[str]:
    """SEVERE entries of the browser console."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def money(cents: int) -> str:
    """The app's own money format in USD."""
    from dashboard.format import money as fmt

    return fmt(cents, "USD")


def logout(driver, base: str) -> None:
    """Log out through the logout form (a POST with the CSRF token) and wait for the login page."""
    driver.get(base + "/logout")
    driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button[type=submit]").click()
    WebDriverWait(driver, TIMEOUT).until(lambda d: "/login" in d.current_url)
