"""The UI's extra metrics tie to the hand-worked ledger of tests/ui_ledger.py."""

from __future__ import annotations

import pytest

from dashboard.metrics import service as ui
from dashboard.metrics.cache import clear_cache
from dashboard.metrics.drill import drill_any
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ui_ledger import AS_OF, add_ui_ledger

EVERYONE = Scope.everyone()
R1 = Scope(sales_rep_ids=frozenset({"R1"}), label="sales rep R1")


@pytest.fixture
def snap(sqlite_url):
    clear_snapshots()
    clear_cache()
    add_ui_ledger(sqlite_url)
    yield get_snapshot(sqlite_url)
    clear_snapshots()


def total(frame) -> int:
    return int(frame["amount_cents"].sum())


def test_month_to_date(snap):
    mtd = ui.month_to_date(snap, AS_OF, Filters(), EVERYONE)
    assert (mtd["credit_sales_cents"], mtd["collections_cents"]) == (130020, 15000)
    assert total(drill_any(snap, "credit_sales_mtd", AS_OF, 90, Filters(), EVERYONE)) == 130020
    assert total(drill_any(snap, "collections_mtd", AS_OF, 90, Filters(), EVERYONE)) == 15000


def test_month_drills_tie_to_the_trend(snap):
    trend = ui.monthly_trend(snap, AS_OF, 12, 90, Filters(), EVERYONE).set_index("month")
    assert trend.loc["2024-06", "credit_sales_cents"] == 130020
    assert trend.loc["2024-05", "ar_cents"] == 76010
    assert (
        total(drill_any(snap, "month_sales", AS_OF, 90, Filters(), EVERYONE, month="2024-06"))
        == 130020
    )
    assert (
        total(drill_any(snap, "month_collections", AS_OF, 90, Filters(), EVERYONE, month="2024-06"))
        == 15000
    )
    assert total(drill_any(snap, "ar_at", AS_OF, 90, Filters(), EVERYONE, month="2024-05")) == 76010
    with pytest.raises(ValueError):
        drill_any(snap, "month_sales", AS_OF, 90, Filters(), EVERYONE, month="2024-07")
    with pytest.raises(ValueError):
        drill_any(snap, "nonsense", AS_OF, 90, Filters(), EVERYONE)


def test_donut_and_tile_drills_sum_to_their_figures(snap):
    aging = ui.aging_by_terms_group(snap, AS_OF, Filters(), EVERYONE, "due")
    by_group = aging.groupby("terms_group")["amount_cents"].sum().to_dict()
    assert by_group == {"short": 120000, "long": 76030}
    for group in ("short", "long"):
        for row in aging[aging["terms_group"] == group].itertuples():
            rows = drill_any(
                snap,
                "aging_due",
                AS_OF,
                90,
                Filters(),
                EVERYONE,
                bucket=row.bucket,
                terms_group_name=group,
            )
            assert total(rows) == row.amount_cents
    kpis = ui.kpis(snap, AS_OF, 90, Filters(), EVERYONE)
    assert kpis["total_ar"] == "1960.30"
    assert total(drill_any(snap, "total_ar", AS_OF, 90, Filters(), EVERYONE)) == 196030
    assert (
        total(drill_any(snap, "total_ar", AS_OF, 90, Filters(), EVERYONE, customer_id="B2"))
        == 30030
    )


def test_at_risk_in_retailer_order(snap):
    table = ui.at_risk_accounts(snap, AS_OF, Filters(), EVERYONE)
    assert list(table["customer_id"]) == ["A1", "B2", "C3"]
    rows = drill_any(snap, "at_risk", AS_OF, 90, Filters(), EVERYONE)
    assert list(rows["customer_id"]) == ["A1", "B2", "C3"]
    assert list(rows["reason"]) == [
        "Over credit limit",
        "90+ days overdue",
        "Above 90% of credit limit",
    ]
    assert total(rows) == 196030
    # the page's cards and count line: the list's first rows and its priorities, counted
    head, counts = ui.at_risk_summary(snap, AS_OF, Filters(), EVERYONE, 2)
    assert head.equals(table.head(2))
    assert counts == {1: 1, 2: 1, 3: 0, 4: 1}


def test_filter_options_and_kpi_inputs_respect_the_scope(snap):
    everyone = ui.filter_options(snap, EVERYONE)
    assert [v for v, _ in everyone["segment"]] == ["Retail", "Wholesale"]
    assert everyone["sales_rep"] == [("R1", "Rita One"), ("R2", "Rob Two")]
    mine = ui.filter_options(snap, R1)
    assert [v for v, _ in mine["segment"]] == ["Retail"]
    assert mine["sales_rep"] == [("R1", "Rita One")]
    assert ui.kpis(snap, AS_OF, 90, Filters(), R1)["total_ar"] == "1660.00"
    extra = ui.kpi_inputs(snap, AS_OF, 90, Filters(), EVERYONE)
    assert extra["ar_start_cents"] == 30010  # at 2024-04-01 only I2 was open
    assert ui.customers_with_limit(snap, Filters(), EVERYONE) == 2
    assert ui.currency_for(snap, Filters(), EVERYONE) == "USD"


def test_cache_is_keyed_by_scope_and_snapshot(snap):
    first = ui.kpis(snap, AS_OF, 90, Filters(), EVERYONE)
    assert ui.kpis(snap, AS_OF, 90, Filters(), EVERYONE) is first
    assert ui.kpis(snap, AS_OF, 90, Filters(), R1) is not first
    assert ui.kpis(snap, AS_OF, 90, Filters(), R1)["total_ar"] != first["total_ar"]


def test_concurrent_callers_compute_once(snap):
    import threading
    import time

    calls = []

    @ui.cached
    def slow(snapshot, value):
        calls.append(value)
        time.sleep(0.2)
        return value * 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(snap, 21))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 5 and calls == [21]

    @ui.cached
    def failing(snapshot):
        calls.append("boom")
        raise RuntimeError("boom")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            failing(snap)
    assert calls.count("boom") == 2  # failures are not cached
