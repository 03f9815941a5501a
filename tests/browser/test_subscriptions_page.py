"""Browser tests: create, edit and delete a subscription on /subscriptions; email a statement from Account 360."""

from __future__ import annotations

import email
import os
from email import policy

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.helpers import (
    click,
    console_errors,
    login,
    shot,
    text_of,
    wait_idle,
    wait_text,
)

pytestmark = pytest.mark.browser


def _subs(username: str) -> list:
    from sqlalchemy import select

    from dashboard.data.db import session_scope
    from dashboard.data.models import Subscription

    with session_scope() as s:
        return [
            (r.id, r.page, r.every, r.at_time)
            for r in s.execute(
                select(Subscription).where(Subscription.username == username)
            ).scalars()
        ]


def _type(driver, element_id: str, text: str) -> None:
    box = driver.find_element(By.ID, element_id)
    box.clear()
    box.send_keys(text)


def test_create_edit_delete_subscription(live_app, browser):
    login(browser, live_app.url, "ui_rep")
    browser.get(live_app.url + "/subscriptions")
    wait_text(browser, "#sub-list", lambda t: "No subscriptions yet" in t)
    nav = browser.find_element(By.CSS_SELECTOR, "#nav-links").text
    assert "Subscriptions" in nav
    _type(browser, "sub-address", "rep@example.com")
    click(browser, browser.find_element(By.ID, "sub-address-save"))
    wait_text(browser, "#sub-address-msg", lambda t: t == "Saved.")

    Select(browser.find_element(By.ID, "sub-path")).select_by_value("/aging")
    _type(browser, "sub-query", "?region=North")
    Select(browser.find_element(By.ID, "sub-every")).select_by_value("daily")
    _type(browser, "sub-at", "07:15")
    click(browser, browser.find_element(By.ID, "sub-save"))
    wait_text(
        browser,
        "#sub-msg",
        lambda t: t.startswith("Subscribed: Summary of /aging?region=North, daily at 07:15"),
    )
    wait_text(
        browser,
        "#sub-list",
        lambda t: "Summary of /aging?region=North" in t and "daily at 07:15 UTC" in t,
    )
    [(sub_id, page, every, at)] = _subs("ui_rep")
    assert (page, every, at) == ("/aging?region=North", "daily", "07:15")
    shot(browser, "subscriptions-1440")

    click(
        browser, browser.find_element(By.XPATH, "//table[@id='sub-table']//button[text()='Edit']")
    )
    wait_text(browser, "#sub-form-title", lambda t: t == f"Edit subscription {sub_id}")
    Select(browser.find_element(By.ID, "sub-every")).select_by_value("weekly")
    Select(browser.find_element(By.ID, "sub-weekday")).select_by_value("4")
    _type(browser, "sub-at", "09:45")
    click(browser, browser.find_element(By.ID, "sub-save"))
    wait_text(browser, "#sub-list", lambda t: "weekly on Friday at 09:45 UTC" in t)
    assert _subs("ui_rep") == [(sub_id, "/aging?region=North", "weekly", "09:45")]

    _type(browser, "sub-at", "9 o'clock")  # a bad time is refused with a message, nothing saved
    click(browser, browser.find_element(By.ID, "sub-save"))
    wait_text(browser, "#sub-msg", lambda t: "not a time of day" in t)

    click(
        browser, browser.find_element(By.XPATH, "//table[@id='sub-table']//button[text()='Delete']")
    )
    wait_text(browser, "#sub-msg", lambda t: t == f"Deleted subscription {sub_id}.")
    wait_text(browser, "#sub-list", lambda t: "No subscriptions yet" in t)
    assert _subs("ui_rep") == []
    wait_idle(browser)
    assert console_errors(browser) == []


def test_subscribe_button_prefills_the_current_page(live_app, browser):
    login(browser, live_app.url, "ui_rep")
    browser.get(f"{live_app.url}/customers/{live_app.rep_customer}")
    wait_text(browser, "#acct-name", lambda t: live_app.rep_customer in t)
    click(browser, browser.find_element(By.ID, "subscribe-here"))
    wait_text(browser, "#sub-form-title", lambda t: t == "New subscription")
    wait_idle(browser)
    path = Select(browser.find_element(By.ID, "sub-path")).first_selected_option
    assert path.get_attribute("value") == f"/customers/{live_app.rep_customer}"
    assert "Account 360" in path.text
    click(browser, browser.find_element(By.ID, "sub-save"))
    wait_text(browser, "#sub-list", lambda t: f"Summary of /customers/{live_app.rep_customer}" in t)
    [(sub_id, page, _every, _at)] = _subs("ui_rep")
    assert page == f"/customers/{live_app.rep_customer}"
    click(
        browser, browser.find_element(By.XPATH, "//table[@id='sub-table']//button[text()='Delete']")
    )
    wait_text(browser, "#sub-list", lambda t: "No subscriptions yet" in t)
    assert console_errors(browser) == []


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    from tests.test_email_summary import Sink, free_port

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: os.environ.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM")}
    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_FROM="billing@example.com")
    yield sink
    controller.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_email_statement_from_account_360(live_app, browser, smtp):
    from sqlalchemy import select, update

    from dashboard.data.db import session_scope
    from dashboard.data.models import Activity, Customer

    customer = live_app.rep_customer
    with session_scope() as s:
        s.execute(
            update(Customer)
            .where(Customer.customer_id == customer)
            .values(email="ap@customer.example.com")
        )
    login(browser, live_app.url, "ui_admin")
    browser.get(f"{live_app.url}/customers/{customer}")
    wait_text(browser, "#acct-name", lambda t: customer in t)
    link = browser.find_element(By.XPATH, "//a[contains(@href, '/export/statement/')]")
    assert f"/export/statement/{customer}.pdf" in link.get_attribute("href")
    click(browser, browser.find_element(By.ID, "acct-stmt-preview"))
    wait_text(
        browser,
        "#acct-stmt-msg",
        lambda t: (
            t.startswith("Would email 1 of 1 statement(s)")
            and "ap@customer.example.com" in t
            and "would send" in t
        ),
    )
    assert smtp.envelopes == []
    click(browser, browser.find_element(By.ID, "acct-stmt-send"))
    wait_text(
        browser,
        "#acct-stmt-msg",
        lambda t: t.startswith("Emailed 1 of 1 statement(s)") and "sent" in t,
    )
    [envelope] = smtp.envelopes
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert envelope.rcpt_tos == ["ap@customer.example.com"] and message["Subject"].startswith(
        "Statement of account"
    )
    assert [p.get_content_type() for p in message.iter_attachments()] == ["application/pdf"]
    with session_scope() as s:
        outcomes = (
            s.execute(
                select(Activity.outcome).where(
                    Activity.customer_id == customer, Activity.outcome == "statement sent"
                )
            )
            .scalars()
            .all()
        )
    assert outcomes == ["statement sent"]
    wait_idle(browser)
    shot(browser, "account-statement-1440")
    assert console_errors(browser) == []


def test_aging_statements_for_the_ticked_customers(live_app, browser):
    """The aging grids are server-side (infinite row model): a box ticks a loaded row; "Select all N
    matching" picks every row the search leaves (resolved on the server); the caption says which."""
    import re
    from collections import Counter

    from selenium.webdriver.support.ui import WebDriverWait

    login(browser, live_app.url, "ui_rep")
    browser.get(live_app.url + "/aging")
    grid, wrap = ".ar-grid-ag-long", ".ar-grid-wrap-ag-long"
    first = f"{grid} .ag-row[row-index='0'] [col-id='customer_id']"
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, first))
    wait_idle(browser)
    # AG Grid's header box cannot tick an infinite grid's rows: the toolbar's buttons do
    header_boxes = browser.find_elements(By.CSS_SELECTOR, f"{grid} .ag-header-select-all")
    assert not any(box.is_displayed() for box in header_boxes)
    # nothing ticked: every customer with a balance on the filters
    click(browser, browser.find_element(By.ID, "ag-stmt-preview"))
    wait_text(browser, "#ag-stmt-msg", lambda t: t.startswith("Would email"))
    everyone = browser.find_element(By.ID, "ag-stmt-msg").text.split(" statement(s)")[0]
    assert not everyone.endswith(" of 1"), everyone
    boxes = browser.find_elements(
        By.CSS_SELECTOR, f"{grid} .ag-row[row-index='0'] .ag-selection-checkbox input"
    )
    assert boxes, "a selection checkbox on the first row"
    click(browser, boxes[0])
    customer = browser.find_element(By.CSS_SELECTOR, first).text
    wait_text(browser, f"{wrap} .ar-grid-selected", lambda t: t == "· 1 selected.")
    click(browser, browser.find_element(By.ID, "ag-stmt-preview"))
    wait_text(browser, "#ag-stmt-msg", lambda t: " of 1 statement(s)" in t and f"#{customer}" in t)
    wait_idle(browser)
    shot(browser, "aging-statement-selected-1440")

    # "Select all N matching" with a search: N is the server's count of the matching rows
    # the commonest status of the rows on screen: a search several rows match
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, f"{grid} [col-id='status']")]
    word = Counter(t for t in statuses if t and t != "Status").most_common(1)[0][0]
    search = browser.find_element(By.CSS_SELECTOR, f"{wrap} .ar-grid-search")
    search.send_keys(word)
    matched = wait_text(browser, f"{wrap} .ar-grid-matched", lambda t: " match" in t)
    n = int(re.search(r"([\d,]+) of [\d,]+ rows? match", matched).group(1).replace(",", ""))
    label = wait_text(
        browser, f"{wrap} .ar-grid-selall", lambda t: t == f"Select all {n:,} matching"
    )
    click(browser, browser.find_element(By.CSS_SELECTOR, f"{wrap} .ar-grid-selall"))
    wait_text(
        browser, f"{wrap} .ar-grid-selected", lambda t: t == f"· all {n:,} matching selected."
    )
    WebDriverWait(browser, 10).until(
        lambda d: (
            len(
                d.find_elements(
                    By.CSS_SELECTOR, f"{grid} .ag-center-cols-container .ag-row-selected"
                )
            )
            == min(
                n,
                len(d.find_elements(By.CSS_SELECTOR, f"{grid} .ag-center-cols-container .ag-row")),
            )
        )
    )
    click(browser, browser.find_element(By.ID, "ag-stmt-preview"))
    wait_text(browser, "#ag-stmt-msg", lambda t: f" of {min(n, 500)} statement(s)" in t)
    wait_idle(browser)
    shot(browser, "aging-select-all-1440")
    # a row unticked afterwards is left out
    assert n > 1, word
    click(
        browser,
        browser.find_elements(
            By.CSS_SELECTOR, f"{grid} .ag-row[row-index='0'] .ag-selection-checkbox input"
        )[0],
    )
    wait_text(
        browser,
        f"{wrap} .ar-grid-selected",
        lambda t: t == f"· {n - 1:,} of {n:,} matching selected.",
    )
    click(browser, browser.find_element(By.ID, "ag-stmt-preview"))
    wait_text(browser, "#ag-stmt-msg", lambda t: f" of {min(n - 1, 500)} statement(s)" in t)
    click(browser, browser.find_element(By.CSS_SELECTOR, f"{wrap} .ar-grid-selclear"))
    WebDriverWait(browser, 10).until(lambda d: text_of(d, f"{wrap} .ar-grid-selected") == "")
    assert label and not browser.find_elements(
        By.CSS_SELECTOR, f"{grid} .ag-center-cols-container .ag-row-selected"
    )
    click(browser, browser.find_element(By.ID, "ag-stmt-preview"))
    wait_text(browser, "#ag-stmt-msg", lambda t: t.startswith(everyone + " statement(s)"))
    browser.set_window_size(390, 900)
    wait_idle(browser)
    shot(browser, "aging-select-all-390", width=390)
    assert console_errors(browser) == []
