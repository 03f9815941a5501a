"""The shell in Chromium. The first page drawn in the layout (components/page_container.py,
assets/first_page.js): a page load shows its own page with no console error, and a layout drawn for
another address than the browser shows (a trimmed or wrong Referer) is replaced by the router with
the right page. The (i) explanations (components/tips.py, assets/tips.js): shown on hover and focus,
inside the viewport at desktop and phone widths."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import TIMEOUT, console_errors, login, wait_idle

pytestmark = pytest.mark.browser


def heading(driver) -> str:
    # read in one script call: the router may replace the page between a find and a read, and a
    # found element would then be stale
    text = driver.execute_script(
        "const h = document.querySelector('#_pages_content h1'); return h ? h.innerText : '';"
    )
    return text or ""


def test_a_page_load_shows_its_page_from_the_layout(live_app, browser):
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/disputes")
    WebDriverWait(browser, TIMEOUT).until(lambda d: heading(d).startswith("Disputes"))
    wait_idle(browser)
    drawn = browser.execute_script(
        "return document.getElementById('_pages_content').getAttribute('data-first-page')"
    )
    assert drawn == "/disputes"
    assert console_errors(browser) == []


def test_a_layout_drawn_for_another_address_is_replaced_by_the_right_page(live_app, browser):
    login(browser, live_app.url, "ui_admin")
    browser.execute_cdp_cmd("Network.enable", {})
    # every request of the next page load names /credit as its Referer: the layout draws Credit
    browser.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Referer": live_app.url + "/credit"}}
    )
    try:
        browser.get(live_app.url + "/disputes")
        WebDriverWait(browser, TIMEOUT).until(lambda d: heading(d).startswith("Disputes"))
        wait_idle(browser)
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    assert browser.execute_script("return window.location.pathname") == "/disputes"
    assert heading(browser).startswith("Disputes")
    assert console_errors(browser) == []


TIP_BOX = """
const info = arguments[0], tip = info.nextElementSibling, r = tip.getBoundingClientRect();
return {shown: getComputedStyle(tip).display !== "none", left: r.left, right: r.right, top: r.top,
        bottom: r.bottom, width: document.documentElement.clientWidth,
        height: document.documentElement.clientHeight, text: tip.innerText};
"""


@pytest.mark.parametrize("width", [1440, 390])
def test_an_info_tip_shows_on_hover_and_focus_inside_the_viewport(live_app, browser, width):
    browser.set_window_size(width, 900)
    try:
        login(browser, live_app.url, "ui_admin")
        browser.get(live_app.url + "/")
        wait_idle(browser)

        def shown_infos(d):
            found = d.find_elements(By.CSS_SELECTOR, ".ar-kpi .ar-info")
            return [i for i in found if i.is_displayed()] if len(found) >= 4 else None

        infos = WebDriverWait(browser, TIMEOUT).until(shown_infos)
        assert len(infos) >= 4
        hidden = browser.execute_script(TIP_BOX, infos[0])
        assert not hidden["shown"]
        # the last tile of a row sits at the right edge: its tip must not leave the screen
        for info in (infos[0], infos[-1]):
            browser.execute_script(
                "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", info
            )
            ActionChains(browser).move_to_element(info).perform()
            WebDriverWait(browser, TIMEOUT).until(
                lambda d, i=info: d.execute_script(TIP_BOX, i)["shown"]
            )
            browser.execute_script("return new Promise(r => requestAnimationFrame(() => r()))")
            box = browser.execute_script(TIP_BOX, info)
            assert box["text"].strip(), box
            assert 0 <= box["left"] and box["right"] <= box["width"], box
            assert 0 <= box["top"] and box["bottom"] <= box["height"], box
        # keyboard: focus shows it too
        ActionChains(browser).move_by_offset(0, 0).perform()
        browser.execute_script("arguments[0].focus()", infos[1])
        assert browser.execute_script(TIP_BOX, infos[1])["shown"]
        assert console_errors(browser) == []
    finally:
        browser.set_window_size(1440, 1000)


def test_a_chart_click_opens_its_drill_down_through_the_pages_relay(live_app, browser):
    """components/drill.py relay: the chart's callback writes the page's relay store, the browser
    hands it to the drill-down (no server call on the page's arrival; one on the click)."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/")
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#rh-aging-long g.slice path.surface")
    )
    wait_idle(browser)
    slices = browser.find_elements(By.CSS_SELECTOR, "#rh-aging-long g.slice path.surface")
    # a slice whose box's middle is on the slice (a large one's is in the donut's hole)
    on_slice = browser.execute_script(
        """return arguments[0].findIndex(p => {
               const b = p.getBBox();
               return p.isPointInFill(new DOMPoint(b.x + b.width / 2, b.y + b.height / 2));
           });""",
        slices,
    )
    assert on_slice >= 0, len(slices)
    ActionChains(browser).move_to_element(slices[on_slice]).click().perform()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".ar-drill-modal.show")
    )
    title = WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_element(By.ID, "drill-title").text
    )
    assert title.startswith("Aging "), title
    wait_idle(browser)
    assert console_errors(browser) == []


def test_an_export_menu_opens_and_closes_like_a_dropdown(live_app, browser):
    """components/export_menu.py (a native <details>) and assets/menus.js: a click opens it with its
    three links, a click elsewhere or Escape closes it, opening one closes the others."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/disputes")
    wait_idle(browser)
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".ar-export-toggle")) >= 2
    )
    toggles = [
        t for t in browser.find_elements(By.CSS_SELECTOR, ".ar-export-toggle") if t.is_displayed()
    ]
    assert len(toggles) >= 2
    opened = "return document.querySelectorAll('details.ar-export-menu[open]').length"
    toggles[0].click()
    links = [
        a
        for a in browser.find_elements(By.CSS_SELECTOR, "details[open] .ar-export-items a")
        if a.is_displayed()
    ]
    assert [a.text for a in links] == ["Image (PNG)", "Data (CSV)", "Data (Excel)"]
    toggles[1].click()
    assert browser.execute_script(opened) == 1  # the first closed as the second opened
    browser.find_element(By.CSS_SELECTOR, "#_pages_content h1").click()
    assert browser.execute_script(opened) == 0
    toggles[0].click()
    assert browser.execute_script(opened) == 1
    ActionChains(browser).send_keys("\ue00c").perform()  # Escape
    assert browser.execute_script(opened) == 0
    assert console_errors(browser) == []
