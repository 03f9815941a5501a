"""The view registry (dashboard/views), the generic chart callback and the page kit (issue 13)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auth_helpers import World, callback_body, make_world

from dashboard import views
from dashboard.export.charts import CHARTS
from dashboard.export.registry import TABLES
from dashboard.views import VIEWS, ChartRequest, View, register

DEMO_DAY = dt.date(2026, 6, 30)
DEMO_FILTERS = {"as_of": DEMO_DAY.isoformat(), "basis": "due", "query": "?as_of=2026-06-30"}
PAGES = {
    "receivables", "account", "collections", "disputes", "commissions", "value", "forecast",
    "customer_aging", "workspace", "predictions", "reliability", "credit",
}  # fmt: skip


def test_exports_read_the_registry():
    assert CHARTS == views.chart_views() and all(CHARTS[n] is VIEWS[n] for n in CHARTS)
    assert (
        set(TABLES)
        == set(views.table_views())
        == {
            "open_invoices",
            "customers",
            "customer_aging",
            "at_risk",
        }
    )
    for view in VIEWS.values():
        assert view.page is None or view.page in PAGES, view.name
        assert (
            view.formats
            in {
                "chart": [("png", "csv", "xlsx")],
                "table": [("csv", "xlsx"), ("grid",)],
            }[view.kind]
        )
    # the commission charts need the capability, the others none
    assert {n for n, v in VIEWS.items() if v.capability} == {
        "commissions_top_reps",
        "commissions_trend",
        "commissions_groups",
        "commissions_cash",
        "commissions_at_risk_by_rep",
        "commissions_cash_by_rep",
    }
    # grid-only tables: exported by their grid's download, not under /export/table
    assert {n for n, v in VIEWS.items() if v.formats == ("grid",)} == {
        "commissions_at_risk_by_rep",
        "commissions_cash_by_rep",
        # every other data_grid's rows (issue 13: one view per grid)
        "account_invoices",
        "account_payments",
        "collections_groups",
        "collections_uncontacted",
        "credit_utilization",
        "customer_aging_long",
        "customer_aging_short",
        "customer_value",
        "disputes_broken_promises",
        "disputes_open",
        "drill",
        "forecast_invoices",
        "payment_reliability",
        "predictions_worklist",
        "workspace_invoices",
    }


def test_a_view_is_declared_once_and_is_a_chart_or_a_table():
    with pytest.raises(ValueError, match="twice"):
        register(View("top_debtors", "Again", build=lambda snap, req: None))
    with pytest.raises(ValueError, match="exactly one"):
        register(View("both", "Both", build=lambda s, r: None, frame=lambda s, r: None))
    with pytest.raises(ValueError, match="exactly one"):
        register(View("neither", "Neither"))
    assert "both" not in VIEWS and "neither" not in VIEWS
    with pytest.raises(TypeError):
        VIEWS["customers"].chart(None, None)
    with pytest.raises(TypeError):
        VIEWS["top_debtors"].table(None, None)


@pytest.fixture
def world(db_url):
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    yield make_world(db_url)
    clear_snapshots()
    clear_cache()


def test_every_declared_drill_key_opens_rows(world):
    from dashboard.metrics.drill import all_drill_keys

    known = set(all_drill_keys()) | set(views.DRILLS)  # pages declare theirs when Dash loads them
    for view in VIEWS.values():
        assert set(view.drill_keys) <= known, view.name
    assert {"dp_component", "fc_due", "fc_week", "fc_model_week", "pr_cohort"} <= set(views.DRILLS)
    assert views.DRILLS["commissions_group"].capability == "view_commissions"


def _figure(client, app, output: str, filters: dict, **controls: str) -> dict | None:
    """A figure output drawn through Dash for the filters (and page controls: id=value)."""
    values = {("filters", "data"): filters, ("data-version", "data"): {"version": 1}}
    values.update({(control, "value"): value for control, value in controls.items()})
    body = callback_body(output, app.callback_map[output], values)
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    if response.status_code == 204:
        return None
    return json.loads(response.text)["response"][output.split(".")[0]]["figure"]


@pytest.fixture
def demo_world(db_url):
    """Demo data (it has commissions, which the small ledger of auth_helpers has not) and an admin."""
    from auth_helpers import add_user

    from dashboard.app import create_app
    from dashboard.data.demo import load_demo
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    load_demo(url=db_url, customers=60, invoices=900, seed=7, today=DEMO_DAY, progress=False)
    clear_snapshots()
    add_user("admin", "admin")
    yield World(app=create_app(), url=db_url)
    clear_snapshots()
    clear_cache()


def test_the_generic_chart_callback_draws_what_the_page_drew(demo_world):
    """The four commission charts, the forecast's due-date bars and accuracy, the collections charts
    (by region), the disputes page's three, the value tiers, three prediction charts: the pages'
    former figures, built independently."""
    from plotly.io.json import to_json_plotly

    from dashboard.data.tiers import load_tiers
    from dashboard.figures import collections as col_figs
    from dashboard.figures import commissions as com_figs
    from dashboard.figures import predict as predict_figs
    from dashboard.figures.analytics import tier_summary_bar
    from dashboard.format import default_currency
    from dashboard.metrics import collections, forecast, predict_ui
    from dashboard.metrics import commissions as com
    from dashboard.metrics import predict_views as pv
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.service import currency_for
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.metrics.value import tier_summary

    world = demo_world
    snap, as_of, everyone = get_snapshot(), DEMO_DAY, Scope.everyone()
    cur = currency_for(snap, Filters(), everyone, default_currency())
    activity = collections.collections_activity(snap, as_of, Filters(), everyone, by="region")
    cohorts = pv.cohorts(snap, as_of, Filters(), everyone)
    backtest = forecast.forecast_backtest(
        snap, forecast.default_backtest_dates(as_of, 6), Filters(), everyone, 13, as_of=as_of
    )
    made_on = sorted({str(d) for d in backtest["weeks"]["as_of"]})[0]  # not the default (latest)
    expected = {
        "com-top-reps": com_figs.top_reps_bar(com.top_reps(snap, as_of, Filters(), everyone), cur),
        "com-trend": com_figs.earned_vs_paid(
            com.monthly(snap, as_of, 12, Filters(), everyone), cur
        ),
        "com-groups": com_figs.group_pie(
            com.by_group(snap, as_of, 90, Filters(), everyone), cur, 90
        ),
        "com-cash-chart": com_figs.cash_vs_invoiced_bar(
            com.cash_and_invoiced(snap, as_of, 90, Filters(), everyone), cur
        ),
        "fc-due": col_figs.due_date_bars(
            forecast.due_date_forecast(snap, as_of, Filters(), everyone), cur
        ),
        "col-coverage": col_figs.coverage_chart(activity["coverage"], "region", cur),
        "col-latency": col_figs.latency_chart(activity["latency"], "region"),
        "dp-composition": col_figs.composition_donut(
            collections.outstanding_composition(snap, as_of, Filters(), everyone), cur
        ),
        "dp-cycle": col_figs.dispute_cycle_chart(
            collections.dispute_cycle_time(snap, as_of, Filters(), everyone, 12)["by_month"]
        ),
        "dp-promises": col_figs.promise_adherence_chart(
            collections.promise_adherence(snap, as_of, Filters(), everyone, 12)["by_month"]
        ),
        "val-tier-chart": tier_summary_bar(
            tier_summary(snap, as_of, Filters(), everyone, tuple(load_tiers())), cur
        ),
        "pr-aging": predict_figs.aging_ahead_chart(
            pv.predicted_aging(snap, predict_ui.predictions(snap, as_of, Filters(), everyone)[0]),
            cur,
        ),
        "pr-cohorts": predict_figs.cohort_heatmap(cohorts["curve"]),
        "pr-unpaid": predict_figs.unpaid_90_chart(cohorts["summary"]),
        "fc-behaviour": col_figs.behaviour_forecast_chart(
            forecast.chosen_weekly(snap, as_of, Filters(), everyone, 13)[0], cur
        ),
        "fc-backtest": col_figs.backtest_weeks_chart(backtest["weeks"], made_on, cur),
        "fc-wape": col_figs.wape_by_date_chart(
            forecast.forecast_backtest(
                snap,
                forecast.default_backtest_dates(as_of, 6),
                Filters(),
                everyone,
                13,
                as_of=as_of,
            )["by_date"]
        ),
    }
    from dashboard.figures.base import is_empty

    assert not any(is_empty(f) for f in expected.values())
    admin = world.login("admin")
    for graph_id, figure in expected.items():
        controls = {"col-by": "region", "fc-bt-date": made_on}
        drawn = _figure(admin, world.app, f"{graph_id}.figure", DEMO_FILTERS, **controls)
        # to_json_plotly: NaN -> null, as Dash sends it
        assert json.loads(json.dumps(drawn)) == json.loads(to_json_plotly(figure)), graph_id
    # the same builder makes the export: its PNG/CSV/XLSX tie to the screen
    req = ChartRequest(as_of, "due", 90, Filters(), everyone)
    assert VIEWS["commissions_trend"].chart(snap, req).figure == expected["com-trend"]


def test_page_kit_card_graph_and_header():
    from dashboard.components.page_kit import card, export_tools, graph, info, page_header

    plain = card("Title", "body", "help", "x-info")
    header = plain.children[0].children
    assert [type(c).__name__ for c in header] == ["Span", "Span", "Span"]
    assert header[1].id == "x-info" and header[2].id == "x-info-tip"
    assert getattr(header[1], "aria-describedby") == "x-info-tip" and header[2].role == "tooltip"
    assert header[2].className == "ar-tip" and header[2].children == "help"
    grouped = card("Title", "body", "help", "x-info", menu=export_tools("top_debtors"))
    group = grouped.children[0].children[1]
    assert [type(c).__name__ for c in group.children] == ["Span", "Span", "Details"]
    assert card("T", "b", "h", "i", menu=[]).children[0].children[1].children[-1].id == "i-tip"
    assert plain.className == "h-100 ar-card"
    assert card("T", "b", class_name="ar-card mb-2").children[0].children[1:] == []
    assert (
        not hasattr(graph("g", 300).children, "figure") or graph("g", 300).children.figure is None
    )
    assert graph("g", 300, {"data": []}).children.figure == {"data": []}
    assert len(info("a", "b")) == 2
    head = page_header("Credit", "cr-caption", pdf="credit")
    assert head.children[0].children == "Credit" and head.children[1].id == "cr-caption"
    assert head.children[-1].className == "ms-auto"


def test_generic_callbacks_and_grids_answer_only_the_roles_of_their_page(world):
    """The guard checks a callback by the page that shows it: the generic ones are the page's too."""
    from dashboard.auth.guard import module_page_path
    from dashboard.components import grid

    clerk = world.login(
        "clerk"
    )  # ar_clerk: not a role of /commissions (Dash maps callbacks on a request)
    output = "com-top-reps.figure"
    assert module_page_path(world.app.callback_map[output]["callback"]) == "/commissions"
    assert grid.source_page("com-at-risk") == grid.source_page("com-cash") == "/commissions"
    assert module_page_path(world.app.callback_map["fc-due.figure"]["callback"]) == "/forecast"
    filters = {"as_of": "2024-03-01", "basis": "due", "query": "?as_of=2024-03-01"}
    body = callback_body(
        output,
        world.app.callback_map[output],
        {("filters", "data"): filters, ("data-version", "data"): {"version": 1}},
    )
    assert clerk.post("/_dash-update-component", json=body).status_code == 403
    assert world.login("admin").post("/_dash-update-component", json=body).status_code == 200


def test_account_charts_on_screen_are_their_views_also_in_a_foreign_currency(demo_world):
    """Account 360's aging bar and trend are drawn by their views' builders, so the export is the
    screen: a foreign-currency customer's trend hover names the base equivalent on both."""
    from plotly.io.json import to_json_plotly

    from dashboard.figures.trends import customer_trend
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.service import account_360
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot()
    foreign = [
        str(c)
        for c, cur in zip(snap.cust_ids, snap.currency, strict=True)
        if str(cur) and str(cur).upper() != "USD"
    ]
    assert foreign, "the demo has customers billed in other currencies"
    customer = foreign[0]
    data = account_360(snap, customer, DEMO_DAY, Scope.everyone())
    cur = str(snap.currency[snap.cust_index.get(customer)]).upper()
    expected = customer_trend(data["trend"], cur, base="USD")
    assert " = $" in json.dumps(expected["data"])  # e.g. "£736.41 = $941.17": the base in the hover
    values = {
        ("acct-id", "data"): customer,
        ("filters", "data"): DEMO_FILTERS,
        ("data-version", "data"): {"version": 1},
    }
    output = "..acct-aging.figure...acct-trend.figure.."
    admin = demo_world.login("admin")
    body = callback_body(output, demo_world.app.callback_map[output], values)
    response = admin.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    drawn = json.loads(response.text)["response"]["acct-trend"]["figure"]
    assert drawn == json.loads(to_json_plotly(expected))
    req = ChartRequest(DEMO_DAY, "due", 90, Filters(), Scope.everyone(), customer)
    assert json.loads(to_json_plotly(VIEWS["account_trend"].chart(snap, req).figure)) == drawn


def _grids_in(component) -> set[str]:
    """The names of the data_grids in a layout (their AgGrid ids: {"type": "ar-grid", "grid": name})."""
    found = set()
    for child in [component, *component._traverse()]:
        ident = getattr(child, "id", None)
        if isinstance(ident, dict) and ident.get("type") == "ar-grid":
            found.add(ident["grid"])
    return found


def test_every_data_grid_on_every_page_is_fed_by_its_table_view(world):
    """A grid cannot bypass the registry (issue 13): every data_grid a page lays out (and the drill
    modal of the shell) is the grid of a registered table view of that page, and every grid a view
    declares is on its page."""
    import dash

    from dashboard.components.shell import shell_layout
    from dashboard.views.grids import grid_view, grid_views

    shown: dict[str, str | None] = {}
    for page in dash.page_registry.values():
        if page["module"].startswith("pages.") and callable(page["layout"]):
            kwargs = {"customer_id": "C1"} if page.get("path_template") else {}
            for name in _grids_in(page["layout"](**kwargs)):
                shown[name] = page["module"].rsplit(".", 1)[-1]
    for name in _grids_in(shell_layout()):
        shown[name] = None  # shared: the drill-down modal
    assert len(shown) == 17 and shown["drill"] is None and shown["cr-grid"] == "credit"
    for name, page in shown.items():
        view = grid_view(name)
        assert view is not None and view.kind == "table", name
        assert view.page == page and view.formats == ("grid",), name
    assert set(grid_views()) == set(shown)


def test_grid_rows_send_missing_values_as_null():
    """A nullable column's blanks (the forecast's expected week of an invoice in dispute) reach the
    grid as null, not as the text "<NA>" that a number column showed as "Invalid Number"."""
    import datetime as dt

    import pandas as pd

    from dashboard.views.grids import rows

    frame = pd.DataFrame(
        {
            "expected_week": pd.array([3, None], dtype="Int64"),
            "expected_date": [dt.date(2026, 12, 14), pd.NaT],
            "balance_cents": [12_345, 678],
        }
    )
    assert rows(frame) == [
        {"expected_week": 3, "expected_date": "2026-12-14", "balance_cents": 12_345},
        {"expected_week": None, "expected_date": None, "balance_cents": 678},
    ]
