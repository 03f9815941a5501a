"""Browser test of Commission Analytics: tiles tie to the metrics, a rep bar filters the page, drill-down, scope.

Expected figures come from dashboard.metrics.commissions on the same snapshot, not from the UI.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import TODAY
from tests.browser.helpers import console_errors, login, money, shot, text_of, wait_idle, wait_text

pytestmark = pytest.mark.browser
TIMEOUT = 25


def tile(driver, name: str, expected: str) -> str:
    return wait_text(driver, f".ar-kpi-{name} .ar-kpi-value", lambda t: t == expected)


def expected(scope=None, **filters) -> dict:
    from dashboard.metrics import commissions
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot()
    args = (snap, TODAY)
    return {
        "tiles": commissions.tiles(*args, 90, Filters(**filters), scope or Scope.everyone()),
        "top": commissions.top_reps(*args, Filters(**filters), scope or Scope.everyone()),
    }


def test_commissions_page_tiles_rep_filter_and_drill(live_app, browser):
    """Tiles equal the metrics; clicking a rep bar filters the page via the URL; the accrued tile drills to its rows."""
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/commissions")
    full = expected()
    t = full["tiles"]
    assert t["accrued_cents"] > 0 and t["paid_mtd_cents"] >= 0
    tile(browser, "com_accrued", money(t["accrued_cents"]))
    tile(browser, "com_paid_mtd", money(t["paid_mtd_cents"]))
    tile(browser, "com_avg_rate", f"{t['avg_rate_pct']:,.2f} %")
    tile(browser, "com_at_risk", money(t["at_risk_cents"]))
    tile(browser, "com_cash", money(t["cash_cents"]))
    wait_idle(browser)
    for graph in ("com-top-reps", "com-trend", "com-groups", "com-cash-chart"):
        assert browser.find_elements(By.CSS_SELECTOR, f"#{graph} .main-svg"), f"{graph} not drawn"
    assert "Total" in wait_text(
        browser, ".ar-grid-com-at-risk .ag-floating-bottom", lambda x: "Total" in x
    )
    assert "Commissions" in text_of(browser, "#nav-links")
    shot(browser, "commissions-1440")

    # the drill-down of the accrued tile totals to the tile
    browser.find_element(By.CSS_SELECTOR, ".ar-kpi-com_accrued .ar-kpi-click").click()
    assert wait_text(browser, ".ar-drill-total", bool) == money(t["accrued_cents"])
    pinned = wait_text(browser, ".ar-grid-drill .ag-floating-bottom", lambda x: "Total" in x)
    assert money(t["accrued_cents"]) in pinned
    wait_idle(browser)
    shot(browser, "commissions-drill-accrued-1440")
    browser.find_element(By.CSS_SELECTOR, ".ar-drill-modal .btn-close").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".ar-drill-modal.show")
    )

    # click the top rep's bar: the page filters to that rep through the URL
    rep = str(full["top"]["sales_rep_id"].iloc[0])
    bar = WebDriverWait(browser, TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#com-top-reps .bars .point path")
    )[0]
    ActionChains(browser).move_to_element(bar).click().perform()
    WebDriverWait(browser, TIMEOUT).until(lambda d: f"sales_rep={rep}" in d.current_url)
    one = expected(sales_rep=rep)["tiles"]
    assert one["accrued_cents"] == int(full["top"]["accrued_cents"].iloc[0])
    tile(browser, "com_accrued", money(one["accrued_cents"]))
    tile(browser, "com_paid_mtd", money(one["paid_mtd_cents"]))
    # issue 16: the filter line names the rep, id beside it
    name = str(full["top"]["rep_name"].iloc[0])
    assert f"sales rep {name} ({rep})" in wait_text(browser, "#com-caption", lambda x: rep in x)
    wait_idle(browser)
    shot(browser, "commissions-rep-filter-1440")
    assert console_errors(browser) == []


def test_commissions_rep_scope(live_app, browser):
    """A rep sees only their own commissions; another rep in the URL is refused and shows their own again."""
    from dashboard.metrics.filters import Scope

    login(browser, live_app.url, "ui_rep")
    own = expected(scope=Scope(sales_rep_ids=frozenset({live_app.rep_id})))["tiles"]
    everyone = expected()["tiles"]
    assert own["accrued_cents"] < everyone["accrued_cents"]
    browser.get(f"{live_app.url}/commissions?sales_rep=SOMEONE-ELSE")
    assert "SOMEONE-ELSE" in wait_text(browser, ".ar-filter-message", bool)
    tile(browser, "com_accrued", money(own["accrued_cents"]))
    tile(browser, "com_paid_mtd", money(own["paid_mtd_cents"]))
    wait_idle(browser)
    assert console_errors(browser) == []
