"""Browser test of Forecast, Disputes & promises, Invoices (workspace) and Collections on the demo data.

Expected figures come from the metrics (dashboard.metrics.forecast / collections) on the same snapshot.
One test walks the four pages in one browser session (CI budget): charts drawn, grids filled with
totals that tie, a workspace row opens the inspector, and the browser log stays clean.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import TODAY
from tests.browser.helpers import console_errors, login, money, shot, text_of, wait_idle, wait_text

pytestmark = pytest.mark.browser
TIMEOUT = 25


def drawn(driver, *graphs: str) -> None:
    """Every graph has plotted data (bars, slices or lines), not an empty state."""
    script = (
        "const g = document.getElementById(arguments[0]); if (!g) return 0;"
        " const p = g.querySelector('.js-plotly-plot') || g; return (p.data || []).length;"
    )
    for graph in graphs:
        WebDriverWait(driver, TIMEOUT).until(
            lambda d, g=graph: d.execute_script(script, g) > 0, message=f"{graph} has no data"
        )


def pinned_total(driver, grid: str) -> str:
    return wait_text(driver, f".ar-grid-{grid} .ag-floating-bottom", lambda t: "Total" in t)


def metrics() -> dict:
    from dashboard.metrics import collections, forecast
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import get_snapshot

    snap, f, s = get_snapshot(), Filters(), Scope.everyone()
    return {
        "total_ar": compute_kpis(snap, TODAY, 90, f, s)["total_ar"],
        "behaviour": forecast.behaviour_forecast(snap, TODAY, f, s),
        "backtest": forecast.forecast_backtest(
            snap, forecast.default_backtest_dates(TODAY), f, s, as_of=TODAY
        ),
        "broken": collections.promise_adherence(snap, TODAY, f, s)["broken"],
        "pulse": collections.workspace_pulse(snap, TODAY, f, s),
        "hotlist": collections.invoice_workspace(snap, TODAY, f, s, tab="hotlist"),
        "activity": collections.collections_activity(snap, TODAY, f, s),
    }


def test_analytics_b_pages(live_app, browser):
    """Forecast, Disputes & promises, Invoices and Collections render with data that ties to the metrics."""
    from dashboard.format import to_cents

    m = metrics()
    total_ar = money(to_cents(m["total_ar"]))
    login(browser, live_app.url, "ui_admin")

    # Forecast: charts drawn, weeks + later + disputed = total AR, WAPE shown, invoice grid totals to total AR
    browser.get(live_app.url + "/forecast")
    assert wait_text(browser, ".fc-sum-total", lambda t: t.startswith("$")) == total_ar
    overall = m["backtest"]["overall"]
    assert (
        wait_text(browser, ".fc-wape-behaviour", lambda t: "%" in t)
        == f"{overall['wape_behaviour']:.1f} %"
    )
    assert text_of(browser, ".fc-wape-due") == f"{overall['wape_due_date']:.1f} %"
    drawn(browser, "fc-behaviour", "fc-due", "fc-wape", "fc-backtest")
    assert total_ar in pinned_total(browser, "fc-invoices")
    nav = browser.execute_script("return document.getElementById('nav-links').textContent")
    for name in ("Invoices", "Collections", "Forecast", "Disputes & promises"):
        assert name in nav, name  # in the top bar (maybe inside a menu)
    wait_idle(browser)
    shot(browser, "forecast-1440")

    # Disputes & promises: composition ties to total AR; broken promises listed with their total
    browser.get(live_app.url + "/disputes")
    assert wait_text(browser, ".dp-total-ar", lambda t: t.startswith("$")) == total_ar
    drawn(browser, "dp-composition", "dp-cycle", "dp-promises")
    broken = m["broken"]
    assert len(broken) > 0
    assert money(int(broken["amount_cents"].sum())) in pinned_total(browser, "dp-broken")
    pinned_total(browser, "dp-open")
    wait_idle(browser)
    shot(browser, "disputes-1440")
    overdue = wait_text(browser, ".dp-part-overdue", lambda t: t.startswith("$"))
    # the part drills to its invoices
    browser.find_element(By.CSS_SELECTOR, ".dp-part-overdue").click()
    assert wait_text(browser, ".ar-drill-total", bool) == overdue
    assert overdue in pinned_total(browser, "drill")
    browser.find_element(By.CSS_SELECTOR, ".ar-drill-modal .btn-close").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".ar-drill-modal.show")
    )

    # Invoices: pulse chips, hotlist rows, a click opens the inspector with the risk score and next action
    browser.get(live_app.url + "/invoices")
    assert wait_text(browser, "#ws-chip-hotlist", lambda t: t.startswith("$")).startswith(
        money(m["pulse"]["hotlist_exposure_cents"])
    )
    assert money(int(m["hotlist"]["balance_cents"].sum())) in pinned_total(browser, "ws-invoices")
    wait_text(browser, "#ws-tab", lambda t: f"Risk hotlist ({len(m['hotlist']):,})" in t)
    first = m["hotlist"].iloc[0]
    # the infinite row model draws the row before its block arrives (an empty cell): wait for a text
    cell = WebDriverWait(
        browser, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)
    ).until(
        lambda d: [
            c
            for c in d.find_elements(
                By.CSS_SELECTOR,
                ".ar-grid-ws-invoices .ag-center-cols-container .ag-row[row-index='0'] [col-id=invoice_id]",
            )
            if c.text
        ]
    )[0]
    assert cell.text == first["invoice_id"]
    cell.click()
    assert wait_text(browser, ".ws-inspector-invoice", bool) == first["invoice_id"]
    assert text_of(browser, ".ws-inspector-score") == f"{int(first['risk_score'])} / 100"
    assert first["next_action"].split(" - ")[0] in text_of(browser, ".ws-inspector-action")
    href = browser.find_element(By.CSS_SELECTOR, ".ws-inspector-360").get_attribute("href")
    assert href.split("?")[0].endswith(f"/customers/{first['customer_id']}")
    wait_idle(browser)
    shot(browser, "invoices-1440")

    # Collections: coverage and latency drawn, group grid totals = all overdue, uncontacted listed
    browser.get(live_app.url + "/collections")
    drawn(browser, "col-coverage", "col-latency")
    every = m["activity"]["coverage"].set_index("segment").loc["All"]
    assert money(int(every["overdue_cents"])) in pinned_total(browser, "col-groups")
    still_open = m["activity"]["uncontacted"]
    still_open = still_open[still_open["balance_cents"] > 0]
    if len(still_open):
        assert money(int(still_open["balance_cents"].sum())) in pinned_total(
            browser, "col-uncontacted"
        )
    wait_idle(browser)
    shot(browser, "collections-1440")
    assert console_errors(browser) == []
