"""Issue 16's smaller items: compact tile money, round ticks, plurals, ISO as-of, rep names, scope message, file names."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components.filters import filter_bar
from dashboard.components.kpi_card import tile_body
from dashboard.export.tables import file_name
from dashboard.figures import base
from dashboard.metrics.filters import Filters


def test_compact_money_for_narrow_tiles_keeps_the_exact_value():
    assert fmt.compact_money_text("$16,463,812.34") == "$16.46M"
    assert fmt.compact_money_text("-$12,345.00") == "-$12.35K"
    assert fmt.compact_money_text("CHF 1,234,567.00") == "CHF 1.23M"
    assert fmt.compact_money_text("$999.00") is None  # already short
    assert fmt.compact_money_text("45.3 days") is None
    value = tile_body("$16,463,812.34", "sub")[0]
    assert value.title == "$16,463,812.34"  # exact on hover
    full, short = value.children
    assert (full.children, short.children) == ("$16,463,812.34", "$16.46M")
    assert "ar-money-full" in full.className and "ar-money-short" in short.className
    assert tile_body("60.4 days")[0].children == "60.4 days"


def test_round_tick_steps():
    # counts up to 77 * 2.2 = 169.4 in four steps: 50 (0/50/100/150/200), never 43/86/129 or 77/154/231
    assert base.count_step(169.4) == 50
    assert base.count_step(231) == 100
    assert base.count_step(3) == 1
    assert [base.nice_step(v) for v in (0.3, 7, 12, 77, 130)] == [0.5, 10, 20, 100, 200]


def test_count_axis_of_the_dispute_chart_is_round():
    from dashboard.figures.collections import dispute_cycle_chart

    months = pd.DataFrame(
        {
            "month": [f"2024-{m:02d}" for m in range(1, 13)],
            "resolved": [77] + [10] * 11,
            "mean_days": [5.0] * 12,
            "median_days": [4.0] * 12,
        }
    )
    axis = dispute_cycle_chart(months)["layout"]["yaxis2"]
    assert axis["dtick"] == 50 and axis["range"] == [0, 200]


def test_one_row_is_singular():
    from dashboard.components.grid import GridFrame, Query, make_view

    def caption(gf: GridFrame) -> str:
        return make_view(gf, Query()).caption()

    assert (
        fmt.plural(1, "row") == "1 row"
        and fmt.plural(2, "row") == "2 rows"
        and fmt.plural(1234, "row") == "1,234 rows"
    )
    assert caption(GridFrame(pd.DataFrame({"a": [1]}))) == "1 row."
    assert caption(GridFrame(pd.DataFrame({"a": [1, 2]}))) == "2 rows."


def test_filter_line_shows_rep_names_and_terms_labels():
    options = {"sales_rep": [("R0004", "Ann Lee")]}
    text = gf.describe(
        {"as_of": "2024-05-31", "sales_rep": "R0004", "terms_group": "long"}, options
    )
    assert text == "as of 2024-05-31 · due date aging · sales rep Ann Lee (R0004) · terms 30-day+"


def test_out_of_scope_rep_gets_a_message_naming_the_scope():
    options = {"sales_rep": [("R0001", "Me")], "segment": [], "region": [], "tier": []}
    clean, messages = gf.validate({"sales_rep": "R0004"}, options, scope_label="sales rep R0001")
    assert clean["sales_rep"] is None
    assert messages == [
        "Sales rep “R0004” is outside what you may see; your own scope applies (sales rep R0001), "
        "so these are your figures, not R0004's."
    ]
    _clean, unrestricted = gf.validate({"sales_rep": "R9999"}, options)
    assert unrestricted == ["Unknown sales rep “R9999”; showing all reps."]


def test_as_of_box_is_iso_text_and_selects_have_no_empty_option():
    found = {}

    def walk(node):
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == "gf":
            found[node_id["name"]] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)

    walk(filter_bar())
    assert found["as_of"].type == "text" and found["as_of"].placeholder == "YYYY-MM-DD"
    # dbc's hidden placeholder option is never blank
    assert found["sales_rep"].placeholder == "All reps"


def test_export_file_names_carry_as_of_and_filters_not_today():
    day = dt.date(2024, 3, 1)
    assert file_name("top_debtors", day, "due", Filters(), "png") == "top_debtors-2024-03-01.png"
    assert (
        file_name(
            "credit-page", day, "transaction", Filters(segment="Retail", sales_rep="R 1"), "pdf"
        )
        == "credit-page-2024-03-01-segment-Retail-sales_rep-R-1.pdf"
    )
    assert (
        file_name("x", day, "due", Filters(), "csv", (("by", "region"),))
        == "x-2024-03-01-by-region.csv"
    )


def test_graphs_offer_no_unstamped_camera():
    assert "toImage" not in str(base.GRAPH_CONFIG["modeBarButtons"])
