"""Issue 16 in a real browser: every touched page at 390, 768, 1280 and 1920 px, and the stamped exports.

At each width: the page never scrolls sideways, no tile or card is wider than the window or than its
own box, no KPI value is cut, and the console has no SEVERE entry. Every chart has an Export menu
whose PNG/CSV/XLSX links answer a stamped file, and every page has a Page PDF that answers a PDF.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import ElementNotInteractableException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import console_errors, login, shot, text_of, wait_idle, wait_text

pytestmark = pytest.mark.browser
TIMEOUT = 30
WIDTHS = (390, 768, 1280, 1920)
PAGES = (
    "/",
    "/collections",
    "/disputes",
    "/commissions",
    "/value",
    "/credit",
    "/reliability",
    "/aging",
)

OVERFLOW_JS = """
const width = document.documentElement.clientWidth;
const problems = [];
if (document.documentElement.scrollWidth > width + 1) {
    problems.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + width);
}
const name = (el) => (el.id || el.className || el.tagName).toString().slice(0, 80);
document.querySelectorAll(".ar-kpi, .ar-card, .ar-filter-toggle, .navbar, .ar-page h1").forEach((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0) { return; }
    if (box.right > width + 1 || box.left < -1) { problems.push("outside the window: " + name(el)); }
    if (el.scrollWidth > el.clientWidth + 1) { problems.push("wider than its box: " + name(el)); }
});
document.querySelectorAll(".ar-kpi-value").forEach((el) => {
    if (el.scrollWidth > el.clientWidth + 1) { problems.push("tile value cut: " + el.innerText); }
});
return problems;
"""

# Axis tick labels of every chart that run into each other: two labels of one axis collide when their boxes,
# turned by the labels' own angle (plotly stands crowded labels at 30 or 90 degrees), overlap both along
# the text and across it. getBBox is the unturned box; the centres come from the drawn position.
TICK_OVERLAP_JS = r"""
const found = [];
document.querySelectorAll('.js-plotly-plot').forEach((plot) => {
    const owner = plot.closest('[id]');
    for (const kind of ['xtick', 'ytick']) {
        const labels = Array.from(plot.querySelectorAll('g.' + kind + ' text')).filter(
            (t) => t.textContent.trim() && t.getBoundingClientRect().width > 0
        ).map((t) => {
            const turn = /rotate\(([-\d.]+)/.exec(t.getAttribute('transform') || '');
            const angle = (turn ? parseFloat(turn[1]) : 0) * Math.PI / 180;
            const box = t.getBBox(), drawn = t.getBoundingClientRect();
            return {text: t.textContent, w: box.width, h: box.height, angle,
                    x: drawn.left + drawn.width / 2, y: drawn.top + drawn.height / 2};
        });
        for (let i = 0; i < labels.length; i++) {
            for (let j = i + 1; j < labels.length; j++) {
                const a = labels[i], b = labels[j];
                const dx = b.x - a.x, dy = b.y - a.y;
                const along = Math.abs(dx * Math.cos(a.angle) + dy * Math.sin(a.angle));
                const across = Math.abs(-dx * Math.sin(a.angle) + dy * Math.cos(a.angle));
                if (along < (a.w + b.w) / 2 - 1 && across < (a.h + b.h) / 2 - 1) {
                    found.push((owner ? owner.id : '?') + ' ' + kind + ': ' + a.text + ' / ' + b.text);
                }
            }
        }
    }
});
return found;
"""

FETCH_JS = """
const [href, done] = [arguments[0], arguments[arguments.length - 1]];
fetch(href, {credentials: "same-origin"}).then(async (r) => {
    const body = new Uint8Array(await r.arrayBuffer());
    done([r.status, r.headers.get("Content-Type"), r.headers.get("X-AR-As-Of"), r.headers.get("Content-Disposition"),
          Array.from(body.slice(0, 8))]);
}).catch((e) => done([0, String(e)]));
"""


def set_width(driver, width: int) -> None:
    """An exact CSS viewport width (a phone at 390 px is a mobile viewport)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def open_page(driver, base: str, path: str) -> None:
    """Open a page and wait until its figures and grids have settled."""
    driver.get(base + path)
    WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ar-page h1"))
    wait_idle(driver, TIMEOUT)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_overflow_at_each_width(live_app, browser, width):
    """Every touched page fits the window at this width; tiles show their whole value."""
    login(browser, live_app.url, "ui_admin")
    set_width(browser, width)
    found = {}
    for path in PAGES:
        open_page(browser, live_app.url, path)
        problems = browser.execute_script(OVERFLOW_JS)
        if problems:
            found[path] = problems
        if width in (390, 1920) and path in ("/", "/disputes"):
            shot(browser, f"responsive{path.replace('/', '-') or '-home'}-{width}", width)
            set_width(browser, width)
    assert found == {}
    assert console_errors(browser) == []


def test_phone_menu_and_filter_panel(live_app, browser):
    """At 390 px the navigation hides behind a menu button and the filters sit in an off-canvas panel."""
    login(browser, live_app.url, "ui_admin")
    set_width(browser, 390)
    open_page(browser, live_app.url, "/")
    nav = browser.find_element(By.ID, "nav-links")
    assert not nav.is_displayed()
    browser.find_element(By.ID, "nav-toggle").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_element(By.ID, "nav-links").is_displayed()
    )
    browser.find_element(By.ID, "nav-toggle").click()
    # the menu closes with an animation: wait until it is gone, or the layout is still moving
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: not d.find_element(By.ID, "nav-links").is_displayed()
    )
    wait_idle(browser, TIMEOUT)
    segment = browser.find_element(By.CSS_SELECTOR, "#filter-bar select")
    assert not segment.is_displayed()  # the filter bar is off-canvas
    first_tile = browser.find_element(By.CSS_SELECTOR, ".ar-kpi").rect
    assert first_tile["y"] < 575  # the first tile is on the first screen of a phone
    browser.find_element(By.ID, "filters-open").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#filter-bar select").is_displayed()
    )
    # the panel slides in: its close button takes clicks once it has arrived
    WebDriverWait(browser, TIMEOUT, ignored_exceptions=(ElementNotInteractableException,)).until(
        lambda d: d.find_element(By.ID, "filters-close").click() or True
    )
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: not d.find_element(By.CSS_SELECTOR, "#filter-bar select").is_displayed()
    )
    # compact money on the narrow tiles, the exact value on hover
    value = browser.find_element(By.CSS_SELECTOR, ".ar-kpi-total_ar .ar-kpi-value")
    exact = value.get_attribute("title")
    assert exact.startswith("$") and "," in exact
    assert value.text != exact and value.text[-1] in "KMB"
    assert console_errors(browser) == []


CHART_PAGES = ("/collections", "/disputes", "/commissions", "/value", "/forecast", "/predictions")


def test_every_chart_has_a_stamped_export_menu_and_every_page_a_pdf(live_app, browser):
    """Each chart card carries an Export menu whose three links answer stamped files; each page has a Page PDF."""
    login(browser, live_app.url, "ui_admin")
    set_width(browser, 1280)
    for path in (*CHART_PAGES, "/", "/credit", "/reliability", "/aging"):
        open_page(browser, live_app.url, path)
        cards = browser.execute_script(
            "return Array.from(document.querySelectorAll('.ar-card')).filter(c => c.querySelector('.js-plotly-plot'))"
            ".map(c => Array.from(c.querySelectorAll('.ar-export-menu a, a.ar-export-png, a.ar-export-csv, "
            "a.ar-export-xlsx')).map(a => a.getAttribute('href')))"
        )
        for hrefs in cards:
            formats = sorted({h.split("?")[0].rsplit(".", 1)[1] for h in hrefs})
            assert formats == ["csv", "png", "xlsx"], (path, hrefs)
            for href in hrefs:
                status, kind, as_of, disposition, head = browser.execute_async_script(
                    FETCH_JS, href
                )
                assert status == 200, (path, href, kind)
                # named by the as-of date
                assert as_of and f"-{as_of}" in disposition, (href, disposition)
                if href.split("?")[0].endswith(".csv"):
                    assert bytes(head[:2]) == b"# "  # the stamp line
                elif href.split("?")[0].endswith(".png"):
                    assert bytes(head[:4]) == b"\x89PNG"
                else:
                    assert bytes(head[:2]) == b"PK"
        if path in CHART_PAGES:
            assert cards, f"{path} shows charts"
        pdf = browser.find_element(By.CSS_SELECTOR, ".ar-page-pdf").get_attribute("href")
        status, kind, as_of, disposition, head = browser.execute_async_script(FETCH_JS, pdf)
        assert (status, kind, bytes(head[:4])) == (200, "application/pdf", b"%PDF"), (path, pdf)
    assert console_errors(browser) == []


def test_rep_opening_another_reps_address_is_told_their_scope_applies(live_app, browser):
    """/?sales_rep=<another rep> for a sales rep: a visible message, and the address shows what applies."""
    from dashboard.metrics.snapshot import get_snapshot

    other = next(str(r) for r in get_snapshot().reps["sales_rep_id"] if str(r) != live_app.rep_id)
    login(browser, live_app.url, "ui_rep")
    browser.get(f"{live_app.url}/?sales_rep={other}")
    message = wait_text(browser, ".ar-filter-message", bool)
    assert other in message and "your own scope applies" in message and live_app.rep_id in message
    WebDriverWait(browser, TIMEOUT).until(lambda d: f"sales_rep={other}" not in d.current_url)
    wait_idle(browser)
    assert text_of(browser, ".ar-filter-message")  # still shown after the address was corrected
    assert console_errors(browser) == []


def test_saved_view_appears_at_once_with_a_link(live_app, browser):
    """Saving a view lists it straight away and gives a link to copy."""
    login(browser, live_app.url, "ui_admin")
    browser.get(f"{live_app.url}/credit?segment=" + live_app_segment())
    wait_idle(browser, TIMEOUT)
    browser.find_element(By.ID, "views-open").click()
    box = WebDriverWait(browser, TIMEOUT).until(
        lambda d: [e for e in d.find_elements(By.ID, "views-name") if e.is_displayed()]
    )[0]
    box.send_keys("Board pack view")
    browser.find_element(By.ID, "views-save").click()
    wait_text(browser, "#views-message", lambda t: "Saved" in t)
    selected = browser.execute_script(
        "const s = document.getElementById('views-select');return s.options[s.selectedIndex].text;"
    )
    assert selected == "Board pack view"
    link = WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_element(By.ID, "views-link").get_attribute("value")
    )
    assert link.startswith(live_app.url + "/credit?") and "segment=" in link
    browser.find_element(By.ID, "views-copy").click()
    assert wait_text(browser, "#views-copied", bool)
    assert console_errors(browser) == []


def live_app_segment() -> str:
    """A segment of the demo data."""
    from dashboard.metrics.snapshot import get_snapshot

    return sorted({str(s) for s in get_snapshot().segment if s})[0]


def test_open_disputes_grid_fits_at_1440(live_app, browser):
    """At 1440 px the open disputes grid shows every column without a sideways scrollbar, and many rows."""
    login(browser, live_app.url, "ui_admin")
    set_width(browser, 1440)
    open_page(browser, live_app.url, "/disputes")
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, ".ar-grid-dp-open .ag-center-cols-container .ag-row"
        )
    )
    fits, height = browser.execute_script(
        "const v = document.querySelector('.ar-grid-dp-open .ag-center-cols-viewport');"
        "const c = document.querySelector('.ar-grid-dp-open .ag-center-cols-container');"
        "return [c.scrollWidth <= v.clientWidth + 1, document.querySelector('.ar-grid-dp-open').clientHeight];"
    )
    assert fits, "columns hidden behind a horizontal scrollbar"
    assert height >= 400  # room for about ten rows, not four
    assert console_errors(browser) == []


@pytest.mark.parametrize("width", (390, 1440))
def test_axis_labels_do_not_run_together(live_app, browser, width):
    """No two tick labels of a chart axis overlap on any chart page, at a phone's width and a desktop's.

    The Forecast weeks (thirteen 'W1<br>1 Dec' labels) and the Predictions cohort months (every month of
    two years) ran together at 390 px.
    """
    login(browser, live_app.url, "ui_admin")
    set_width(browser, width)
    found = {}
    for path in (*PAGES, "/forecast", "/predictions"):
        open_page(browser, live_app.url, path)
        WebDriverWait(browser, TIMEOUT).until(
            lambda d: d.execute_script(
                "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
                ".every(g => g.querySelector('.main-svg'))"
            )
        )
        overlaps = browser.execute_script(TICK_OVERLAP_JS)
        if overlaps:
            found[path] = overlaps
        if width == 390 and path in ("/forecast", "/predictions"):
            shot(browser, f"ticks{path.replace('/', '-')}-{width}", width)
            set_width(browser, width)
    assert found == {}
    assert console_errors(browser) == []
