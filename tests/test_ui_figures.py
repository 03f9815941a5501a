"""Figure builders: values tie to the metrics, labels are exact money, every builder has an empty state."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.figures import aging, debtors, trends
from dashboard.figures.base import EMPTY_TEXT, annotation_text, empty_figure, is_empty
from dashboard.metrics import service as ui
from dashboard.metrics.cache import clear_cache
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ui_ledger import AS_OF, add_ui_ledger


@pytest.fixture
def snap(sqlite_url):
    clear_snapshots()
    clear_cache()
    add_ui_ledger(sqlite_url)
    yield get_snapshot(sqlite_url)
    clear_snapshots()


def test_aging_donuts_tie_to_the_metrics(snap):
    frame = ui.aging_by_terms_group(snap, AS_OF, Filters(), Scope.everyone(), "due")
    long = aging.aging_donut(frame, "long", "due", "USD")
    pie = long["data"][0]
    assert pie["labels"] == ["Not due", "1–30 days", "31–60 days", "61–90 days", "90+ days"]
    assert [c[1] for c in pie["customdata"]] == ["$0.20", "$0.00", "$460.00", "$0.00", "$300.10"]
    assert [c[0] for c in pie["customdata"]] == ["not_due", "1-30", "31-60", "61-90", "90+"]
    assert "$760.30" in annotation_text(long)
    assert long["layout"]["meta"]["total_cents"] == 76030
    assert pie["hole"] > 0.5 and pie["sort"] is False
    short = aging.aging_donut(frame, "short", "due", "USD")
    assert "$1,200.00" in annotation_text(short)


def test_transaction_basis_donut(snap):
    frame = ui.aging_by_terms_group(snap, AS_OF, Filters(), Scope.everyone(), "transaction")
    fig = aging.aging_donut(frame, "long", "transaction", "USD")
    assert fig["data"][0]["labels"] == ["Current", "1 month", "2 months", "3+ months"]
    assert "$760.30" in annotation_text(fig)


def test_empty_donut_when_a_group_owes_nothing(snap):
    frame = ui.aging_by_terms_group(
        snap, AS_OF, Filters(segment="Wholesale"), Scope.everyone(), "due"
    )
    fig = aging.aging_donut(frame, "short", "due", "USD")
    assert is_empty(fig) and "No open balances" in annotation_text(fig)
    assert is_empty(
        aging.aging_donut(pd.DataFrame(columns=["terms_group", "bucket", "amount_cents"]), "long")
    )


def test_top_debtors_bar_largest_first(snap):
    top = ui.kpis(snap, AS_OF, 90, Filters(), Scope.everyone())["top_debtors"]
    fig = debtors.top_debtors_bar(top, "USD")
    bar = fig["data"][0]
    assert bar["y"] == ["Alpha", "Gamma", "Beta"]
    assert bar["text"] == ["$1,200.00", "$460.00", "$300.30"]
    assert [c[0] for c in bar["customdata"]] == ["A1", "C3", "B2"]
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert is_empty(debtors.top_debtors_bar([], "USD"))


def test_long_and_duplicate_names_stay_readable():
    rows = [
        {
            "customer_id": "X1",
            "name": "A very long customer name that goes on and on",
            "balance": "5.00",
        },
        {
            "customer_id": "X2",
            "name": "A very long customer name that goes on and on",
            "balance": "4.00",
        },
    ]
    labels = debtors.top_debtors_bar(rows)["data"][0]["y"]
    assert len(labels[0]) <= debtors.MAX_LABEL and labels[0] != labels[1]


def test_trends_carry_drill_keys_and_exact_labels(snap):
    trend = ui.monthly_trend(snap, AS_OF, 12, 90, Filters(), Scope.everyone())
    fig = trends.sales_collections(trend, "USD")
    sales, collections = fig["data"]
    assert sales["customdata"][-1][:3] == ["month_sales", "2024-06", "$1,300.20"]
    assert collections["customdata"][-1][:3] == ["month_collections", "2024-06", "$150.00"]
    assert len(sales["x"]) == 12
    dso = trends.dso_trend(trend, 90, "USD")
    assert dso["data"][0]["customdata"][-2][:3] == ["ar_at", "2024-05", "$760.10"]


def test_trend_empty_states():
    frame = pd.DataFrame(
        {
            "month": ["2024-06"],
            "month_end": ["2024-06-30"],
            "credit_sales_cents": [0],
            "collections_cents": [0],
            "ar_cents": [0],
            "dso": [None],
        }
    )
    assert is_empty(trends.sales_collections(frame))
    assert is_empty(trends.dso_trend(frame))
    assert is_empty(trends.customer_trend([]))
    assert is_empty(aging.customer_aging_bar({"not_due": "0.00"}))


def test_account_figures(snap):
    data = ui.account_360(snap, "B2", AS_OF, Scope.everyone())
    bar = aging.customer_aging_bar(data["aging_due"], "USD")["data"][0]
    assert bar["customdata"] == ["$0.20", "$0.00", "$0.00", "$0.00", "$300.10"]
    line = trends.customer_trend(data["trend"], "USD")
    assert [t["name"] for t in line["data"]] == ["Invoiced", "Paid"]
    assert line["data"][0]["customdata"][-1] == "$0.20"


def test_empty_figure_says_why():
    fig = empty_figure()
    assert is_empty(fig) and EMPTY_TEXT in annotation_text(fig)
    assert fig["layout"]["xaxis"]["visible"] is False


def test_figures_are_valid_plotly():
    """Plain dicts, but every property must be one plotly accepts (validated here, not per request)."""
    import plotly.graph_objects as go

    rows = [{"customer_id": "X1", "name": "X", "balance": "5.00"}]
    frame = pd.DataFrame({"terms_group": ["long"], "bucket": ["90+"], "amount_cents": [500]})
    trend = pd.DataFrame(
        {
            "month": ["2024-06"],
            "month_end": ["2024-06-30"],
            "credit_sales_cents": [100],
            "collections_cents": [50],
            "ar_cents": [70],
            "dso": [12.5],
        }
    )
    for fig in (
        debtors.top_debtors_bar(rows),
        aging.aging_donut(frame, "long"),
        trends.sales_collections(trend),
        trends.dso_trend(trend),
        trends.customer_trend([{"month": "2024-06", "invoiced": "1.00", "paid": "0.50"}]),
        aging.customer_aging_bar({"90+": "5.00"}),
        empty_figure(),
    ):
        go.Figure(fig)  # raises on any invalid property
