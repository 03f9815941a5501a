"""Browser test of the Predictions page over a trained model: accuracy table, reliability curve, predicted
aging, cohort curves and the expected-loss worklist with a total that ties to the metric."""

from __future__ import annotations

import pytest

from tests.browser.conftest import TODAY
from tests.browser.helpers import console_errors, login, money, shot, wait_idle, wait_text
from tests.browser.test_analytics_b_pages import drawn, pinned_total

pytestmark = pytest.mark.browser


def test_predictions_page(live_app, browser):
    """With a trained model the page says so, shows its backtest and a worklist whose total ties."""
    from dashboard.metrics import predict_ui
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.predict_jobs import train_for_current_version

    train_for_current_version(live_app.db_url, log=lambda _m: None)
    snap = get_snapshot(live_app.db_url)
    expected_loss = int(
        predict_ui.worklist(snap, TODAY, Filters(), Scope.everyone())["expected_loss_cents"].sum()
    )
    login(browser, live_app.url, "ui_admin")
    browser.get(live_app.url + "/predictions")
    assert "Model hgb" in wait_text(
        browser, ".pr-source", lambda t: "Model" in t or "baseline" in t
    )
    assert "Brier" in wait_text(browser, ".pr-accuracy-table", lambda t: "Brier" in t)
    assert "forecast page uses" in wait_text(browser, ".pr-decision", lambda t: "uses" in t)
    drawn(browser, "pr-reliability", "pr-aging", "pr-cohorts")
    assert money(expected_loss) in pinned_total(browser, "pr-worklist")
    nav = browser.execute_script("return document.getElementById('nav-links').textContent")
    assert "Predictions" in nav
    wait_idle(browser)
    shot(browser, "predictions-1440")
    assert console_errors(browser) == []
