"""Issue 16: the stamped Export menu on every chart of the analytics pages and the whole-page PDF.

Ledger of tests/auth_helpers.py (as of 2024-03-01): total AR 2462.39, rep R1 owns C1 and C2 (884.61).
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from auth_helpers import AS_OF, make_world
from openpyxl import load_workbook

from dashboard.export.charts import CHARTS
from dashboard.export.page_pdf import PAGES

HAS_BROWSER = shutil.which("chromium") is not None
ANALYTICS_CHARTS = (
    "collections_coverage",
    "collections_latency",
    "disputes_composition",
    "disputes_cycle",
    "disputes_promises",
    "commissions_top_reps",
    "commissions_trend",
    "commissions_groups",
    "commissions_cash",
    "value_tiers",
    "forecast_expected",
    "forecast_due",
    "forecast_wape",
    "forecast_backtest",
    "predictions_reliability",
    "predictions_aging",
    "predictions_cohorts",
    "predictions_unpaid",
)
TOUCHED_PAGES = (
    "receivables",
    "collections",
    "disputes",
    "commissions",
    "value",
    "credit",
    "reliability",
    "customer_aging",
    "forecast",
    "predictions",
)


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    yield make_world(db_url)
    clear_snapshots()
    clear_cache()


def get(client, path: str, **params):
    """GET as of AS_OF with extra parameters."""
    query = "&".join(f"{k}={v}" for k, v in {"as_of": AS_OF, **params}.items())
    return client.get(f"{path}?{query}")


def test_every_analytics_chart_is_registered():
    assert set(ANALYTICS_CHARTS) <= set(CHARTS)
    assert set(TOUCHED_PAGES) <= set(PAGES)
    for page in PAGES.values():
        assert all(name in CHARTS for name in page.charts)


@pytest.mark.parametrize("name", ANALYTICS_CHARTS)
def test_chart_csv_and_xlsx_are_stamped_and_named_by_as_of_and_filters(world, name):
    admin = world.login("admin")
    response = get(admin, f"/export/chart/{name}.csv", region="East")
    assert response.status_code == 200, response.text
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="{name}-{AS_OF}-region-East.csv"'
    )
    stamp, _, body = response.data.decode().partition("\n")
    assert stamp.startswith("# ") and f"as of {AS_OF}" in stamp
    assert "region East" in stamp and "scope: all customers" in stamp and "generated" in stamp
    assert list(csv.reader(io.StringIO(body)))[0], "a header row"
    xlsx = get(admin, f"/export/chart/{name}.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["X-AR-As-Of"] == AS_OF
    values = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    block = {r[0]: r[1] for r in values[1:8] if r[0]}
    assert block["Scope"] == "all customers" and block["As of"] == AS_OF, block


def test_composition_csv_ties_to_total_ar(world):
    from decimal import Decimal

    _, _, body = (
        get(world.login("controller"), "/export/chart/disputes_composition.csv")
        .data.decode()
        .partition("\n")
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sum(Decimal(r["amount"]) for r in rows if r["component"] != "Total") == Decimal(
        "2462.39"
    )


def test_rep_exports_stay_in_scope(world):
    from decimal import Decimal

    _, _, body = (
        get(world.login("rep1"), "/export/chart/disputes_composition.csv")
        .data.decode()
        .partition("\n")
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sum(Decimal(r["amount"]) for r in rows if r["component"] != "Total") == Decimal("884.61")


def test_commission_charts_need_the_commission_capability(world):
    clerk = world.login("clerk")
    assert get(clerk, "/export/chart/commissions_trend.csv").status_code == 403
    assert get(clerk, "/export/page/commissions.pdf").status_code == 403
    assert get(clerk, "/export/chart/disputes_cycle.csv").status_code == 200


def test_page_local_choice_is_validated_and_named(world):
    admin = world.login("admin")
    response = get(admin, "/export/chart/collections_coverage.csv", by="region")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(
        f'collections_coverage-{AS_OF}-by-region.csv"'
    )
    _, _, body = response.data.decode().partition("\n")
    assert list(csv.DictReader(io.StringIO(body)))[0].keys() >= {"region", "overdue"}
    bad = get(admin, "/export/chart/collections_coverage.csv", by="colour")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "by"
    # the backtest's past date: any real date (the picture falls back to the latest without one)
    made_on = get(admin, "/export/chart/forecast_backtest.csv", made_on="2024-01-05")
    assert made_on.status_code == 200
    assert made_on.headers["Content-Disposition"].endswith(
        f'forecast_backtest-{AS_OF}-made_on-2024-01-05.csv"'
    ), made_on.headers["Content-Disposition"]
    for wrong in ("2024-02-30", "yesterday", "2024-1-5"):
        bad = get(admin, "/export/chart/forecast_backtest.csv", made_on=wrong)
        assert bad.status_code == 400 and bad.get_json()["parameter"] == "made_on", wrong


@pytest.mark.parametrize("page", TOUCHED_PAGES)
def test_page_pdf_is_a_stamped_sheet(world, page):
    from pypdf import PdfReader

    response = get(world.login("controller"), f"/export/page/{page}.pdf", segment="Retail")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="{page}-page-{AS_OF}-segment-Retail.pdf"'
    )
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert PAGES[page].title in text and f"as of {AS_OF}" in text and "segment Retail" in text
    assert "scope: all customers" in text.replace("\n", " ")


def test_unknown_page_is_404_and_bad_filter_400(world):
    admin = world.login("admin")
    assert get(admin, "/export/page/nope.pdf").status_code == 404
    assert get(admin, "/export/page/credit.pdf", as_of="2024-13-01").status_code == 400


@pytest.mark.skipif(not HAS_BROWSER, reason="no chromium for kaleido")
def test_chart_png_is_stamped(world):
    from tests.test_exports import png_info

    response = get(world.login("admin"), "/export/chart/commissions_trend.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    width, height, colours = png_info(response.data)
    assert (width, height) == (900, 450) and colours > 20  # bars, text and the caption
    assert response.headers["X-AR-Scope"] == "all customers"


def test_stamp_and_file_name_of_a_rep_filter(world):
    response = get(world.login("admin"), "/export/chart/commissions_top_reps.csv", sales_rep="R1")
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="commissions_top_reps-{AS_OF}-sales_rep-R1.csv"'
    )
    stamp = response.data.decode().partition("\n")[0]
    assert "sales rep Rep One (R1)" in stamp  # the rep's name, the id beside it
