"""The charts are drawn by the vendored plotly.js partial bundle: bar, scatter, pie and heatmap traces
render, the plotly package's full bundle is never requested, and the console stays clean."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import TIMEOUT, console_errors, login, wait_idle
from tests.browser.test_analytics_b_pages import drawn

pytestmark = pytest.mark.browser

# (graph id, the SVG/canvas part of its trace type that shows plotted data)
TRACES = {
    "/": [
        ("rh-aging-short", ".pielayer .slice path"),  # pie (donut)
        ("rh-top-debtors", ".barlayer .point path"),  # bar
        ("rh-dso-trend", ".scatterlayer .trace .js-line"),  # scatter
    ],
    "/predictions": [("pr-cohorts", ".heatmaplayer image, .heatmaplayer .hm")],  # heatmap
}
RESOURCES = "return performance.getEntriesByType('resource').map(e => e.name)"


def test_charts_render_with_the_partial_bundle_and_the_full_one_is_never_fetched(live_app, browser):
    login(browser, live_app.url, "ui_admin")
    for path, graphs in TRACES.items():
        browser.get(live_app.url + path)
        drawn(browser, *(g for g, _ in graphs))
        for graph, part in graphs:
            WebDriverWait(browser, TIMEOUT).until(
                lambda d, g=graph, p=part: (
                    d.execute_script(
                        "return document.getElementById(arguments[0]).querySelectorAll(arguments[1]).length",
                        g,
                        p,
                    )
                    > 0
                ),
                message=f"{graph}: no {part}",
            )
        wait_idle(browser)
        assert browser.execute_script("return window.Plotly && window.Plotly.version") == "4.1.1"
        fetched = browser.execute_script(RESOURCES)
        assert any("/assets/vendor/plotly-cartesian-4.1.1.min.js" in u for u in fetched), path
        assert not any("plotly.min.js" in u for u in fetched), path
        assert console_errors(browser) == [], path
