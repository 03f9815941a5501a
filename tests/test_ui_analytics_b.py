"""Forecast, disputes & promises, invoice workspace and collections pages: figures, numbers that tie, scope.

Callbacks run through the test client (POST /_dash-update-component) so the role and scope checks run
as they do behind the browser. The ledger below is worked out by hand as of D = 2025-06-30:

    A  S1  rep R1  limit 1,000.00   A1 due 07-03   500.00 open (not due)    activity 06-25 (call)
                                    A2 due 05-20   800.00 open (41 days)    A owes 1,300.00 > limit: over limit
    B  S2  rep R2  no limit         B1 due 07-25   200.00 open (not due)    promise 150.00 for 07-05 (pending)
                                    B2 due 05-01   300.00 open, dispute D1 opened 05-15
                                    B3 due 03-31   100.00 open, litigation D2 opened 04-10
                                    payment PU 06-28 40.00 unallocated      activity 05-05 (old)
    C  S1  no rep  no limit         C1 due 06-25    50.25 open (5 days)     promise for 06-20 (broken)
                                    C2 due 05-31   120.00 paid 06-05        promise for 06-10 (kept); dispute
                                                                           D3 05-10 -> 06-01 (22 days)

    total AR 1,950.25 = not due 700.00 + overdue 850.25 + in dispute 300.00 + in litigation 100.00;
    unapplied credits 40.00 beside it.
    workspace: hotlist A1, A2 (A over limit), B2 (dispute), B3 (litigation); current B1, C1; paid C2.
    coverage: overdue 1,250.25 (A2, B2, B3, C1); covered 800.00 (A2: A's call on 06-25) = 63.99 %.
    latency (due in the last 90 days, open at the end of the due date): A2 36 days (05-20 -> 06-25),
    B2 4 days (05-01 -> 05-05); never contacted C1 (still open) and C2 (paid since).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import pandas as pd
import pytest
from auth_helpers import add_user

from dashboard import format as fmt
from dashboard.figures import collections as figs
from dashboard.figures.base import annotation_text, is_empty
from dashboard.metrics import collections as coll
from dashboard.metrics import forecast
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)
FILTERS = {"as_of": D.isoformat(), "basis": "due", "query": f"?as_of={D.isoformat()}"}


def _inv(invoice_id, customer, issue, due, amount):
    return {
        "invoice_id": invoice_id,
        "customer_id": customer,
        "issue_date": issue,
        "due_date": due,
        "amount": amount,
    }


def add_b_ledger(url: str) -> None:
    """Insert the ledger of the module docstring."""
    add_ledger(
        url,
        sales_reps=[
            {"sales_rep_id": "R1", "name": "Rita One"},
            {"sales_rep_id": "R2", "name": "Rob Two"},
        ],
        customers=[
            {
                "customer_id": "A",
                "name": "Alpha",
                "segment": "S1",
                "credit_limit": "1000.00",
                "sales_rep_id": "R1",
            },
            {"customer_id": "B", "name": "Beta", "segment": "S2", "sales_rep_id": "R2"},
            {"customer_id": "C", "name": "Gamma", "segment": "S1"},
        ],
        invoices=[
            _inv("A1", "A", "2025-06-01", "2025-07-03", "500.00"),
            _inv("A2", "A", "2025-05-01", "2025-05-20", "800.00"),
            _inv("B1", "B", "2025-06-10", "2025-07-25", "200.00"),
            _inv("B2", "B", "2025-04-01", "2025-05-01", "300.00"),
            _inv("B3", "B", "2025-03-01", "2025-03-31", "100.00"),
            _inv("C1", "C", "2025-06-15", "2025-06-25", "50.25"),
            _inv("C2", "C", "2025-05-01", "2025-05-31", "120.00"),
        ],
        payments=[
            {"payment_id": "PC", "customer_id": "C", "date": "2025-06-05", "amount": "120.00"},
            {"payment_id": "PU", "customer_id": "B", "date": "2025-06-28", "amount": "40.00"},
        ],
        allocations=[{"payment_id": "PC", "invoice_id": "C2", "amount": "120.00"}],
        promises=[
            {
                "promise_id": "P1",
                "invoice_id": "B1",
                "made_on": "2025-06-20",
                "promised_date": "2025-07-05",
                "amount": "150.00",
            },
            {
                "promise_id": "P2",
                "invoice_id": "C1",
                "made_on": "2025-06-16",
                "promised_date": "2025-06-20",
                "amount": "50.25",
            },
            {
                "promise_id": "P3",
                "invoice_id": "C2",
                "made_on": "2025-05-25",
                "promised_date": "2025-06-10",
                "amount": "120.00",
            },
        ],
        disputes=[
            {"dispute_id": "D1", "invoice_id": "B2", "opened_on": "2025-05-15", "amount": "300.00"},
            {
                "dispute_id": "D2",
                "invoice_id": "B3",
                "opened_on": "2025-04-10",
                "amount": "100.00",
                "status": "litigation",
            },
            {
                "dispute_id": "D3",
                "invoice_id": "C2",
                "opened_on": "2025-05-10",
                "resolved_on": "2025-06-01",
                "amount": "120.00",
                "status": "resolved",
            },
        ],
        activities=[
            {"activity_id": "T1", "customer_id": "A", "date": "2025-06-25", "channel": "call"},
            {"activity_id": "T2", "customer_id": "B", "date": "2025-05-05", "channel": "email"},
        ],
    )


def cents(text: str | None) -> int:
    """'$1,234.50' -> 123450."""
    return fmt.to_cents(text.replace("$", "").replace(",", "")) if text else 0


# ---- figure builders: empty states (no database) ---------------------------------------------------


def test_every_builder_has_an_empty_state():
    empty = {
        "due": pd.DataFrame(columns=["bucket", "amount_cents", "invoices"]),
        "behaviour": pd.DataFrame(
            columns=[
                "bucket",
                "week",
                "start",
                "end",
                "expected_cents",
                "promised_cents",
                "by_due_date_cents",
            ]
        ),
        "by_date": pd.DataFrame(
            columns=["as_of", "weeks_compared", "actual_cents", "wape_behaviour", "wape_due_date"]
        ),
        "weeks": pd.DataFrame(
            columns=[
                "as_of",
                "week",
                "start",
                "end",
                "actual_cents",
                "behaviour_cents",
                "due_date_cents",
            ]
        ),
        "composition": pd.DataFrame(
            columns=["component", "label", "amount_cents", "invoices", "part_of_total_ar"]
        ),
        "cycle": pd.DataFrame(columns=["month", "resolved", "mean_days", "median_days"]),
        "promises": pd.DataFrame(
            columns=["month", "promises", "kept", "broken", "pending", "kept_pct"]
        ),
        "coverage": pd.DataFrame(
            columns=[
                "segment",
                "overdue_cents",
                "covered_cents",
                "coverage_pct",
                "overdue_customers",
                "covered_customers",
            ]
        ),
        "latency": pd.DataFrame(
            columns=[
                "segment",
                "became_overdue",
                "contacted",
                "uncontacted",
                "mean_days",
                "median_days",
            ]
        ),
    }
    cases = [
        (figs.due_date_bars(empty["due"]), "Nothing is outstanding"),
        (figs.behaviour_forecast_chart(empty["behaviour"]), "Nothing is expected"),
        (figs.wape_by_date_chart(empty["by_date"]), "Nothing was collected"),
        (figs.backtest_weeks_chart(empty["weeks"], D), "No backtest weeks"),
        (figs.composition_donut(empty["composition"]), "Nothing is outstanding"),
        (figs.dispute_cycle_chart(empty["cycle"]), "No dispute was resolved"),
        (figs.promise_adherence_chart(empty["promises"]), "No promise fell due"),
        (figs.coverage_chart(empty["coverage"]), "Nothing is overdue"),
        (figs.latency_chart(empty["latency"]), "No invoice became overdue"),
    ]
    for fig, message in cases:
        assert is_empty(fig) and message in annotation_text(fig), message
        json.dumps(fig)  # plain JSON for dcc.Graph and kaleido


@pytest.fixture
def snap(sqlite_url):
    clear_snapshots()
    add_b_ledger(sqlite_url)
    yield get_snapshot(sqlite_url)
    clear_snapshots()


def test_builders_empty_on_a_selection_without_rows(snap):
    """Real metric frames for a segment nobody is in: every builder shows its empty state."""
    nobody = Filters(segment="Nobody")
    bt = forecast.forecast_backtest(snap, forecast.default_backtest_dates(D), nobody, None, as_of=D)
    activity = coll.collections_activity(snap, D, nobody)
    figures = [
        figs.due_date_bars(forecast.due_date_forecast(snap, D, nobody)),
        figs.behaviour_forecast_chart(forecast.behaviour_forecast(snap, D, nobody)),
        figs.wape_by_date_chart(bt["by_date"]),
        figs.backtest_weeks_chart(bt["weeks"]),
        figs.composition_donut(coll.outstanding_composition(snap, D, nobody)),
        figs.dispute_cycle_chart(coll.dispute_cycle_time(snap, D, nobody)["by_month"]),
        figs.promise_adherence_chart(coll.promise_adherence(snap, D, nobody)["by_month"]),
        figs.coverage_chart(activity["coverage"]),
        figs.latency_chart(activity["latency"]),
    ]
    assert all(is_empty(f) for f in figures)


def test_figures_tie_to_the_metrics(snap):
    total = 195025  # hand-worked total AR
    assert fmt.to_cents(compute_kpis(snap, D)["total_ar"]) == total
    due = figs.due_date_bars(forecast.due_date_forecast(snap, D), "USD")
    assert due["layout"]["meta"]["total_cents"] == total
    # Week 1: A1 (due in 3 days) 500.00; Week 4: B1 (due in 25 days) 200.00; overdue A2, B2, B3, C1 1,250.25
    amounts = {c[0]: c[1] for c in due["data"][0]["customdata"]}
    assert (amounts["Week 1"], amounts["Week 4"], amounts["Overdue"]) == (
        "$500.00",
        "$200.00",
        "$1,250.25",
    )

    frame = forecast.behaviour_forecast(snap, D)
    chart = figs.behaviour_forecast_chart(frame, "USD")
    weeks = frame[frame["week"].notna()]
    assert chart["layout"]["meta"]["expected_cents"] == int(weeks["expected_cents"].sum())
    # P1: 150.00 promised for 5 July (week 1)
    assert chart["layout"]["meta"]["promised_cents"] == 15000
    assert [t["name"] for t in chart["data"]] == [
        "From payment behaviour",
        "Promised",
        "By due date",
    ]
    promised_w1 = chart["data"][1]["customdata"][0]
    assert promised_w1[:2] == ["Week 1", "$150.00"]
    # the disputed B2 and B3 (400.00) are left out of the weeks; weeks + later + disputed = total AR
    assert int(frame["expected_cents"].sum()) == total
    assert int(frame.set_index("bucket").loc["Disputed (excluded)", "expected_cents"]) == 40000

    donut = figs.composition_donut(coll.outstanding_composition(snap, D), "USD")
    assert donut["layout"]["meta"]["total_cents"] == total
    assert [c[:2] for c in donut["data"][0]["customdata"]] == [
        ["not_due", "$700.00"],
        ["overdue", "$850.25"],
        ["in_dispute", "$300.00"],
        ["in_litigation", "$100.00"],
    ]
    assert "$1,950.25" in annotation_text(donut)

    activity = coll.collections_activity(snap, D)
    cov = figs.coverage_chart(activity["coverage"], "segment", "USD")
    bars = dict(zip(cov["data"][0]["y"], cov["data"][0]["x"], strict=True))
    assert bars == {"S1": pytest.approx(94.09), "S2": 0.0}  # S1: 800.00 of 850.25; S2: 0 of 400.00
    assert "All 64.0 %" in annotation_text(cov)  # 800.00 / 1,250.25 = 63.99 %
    lat = figs.latency_chart(activity["latency"], "segment")
    assert lat["data"][0]["x"] == [36.0, 4.0]  # mean days: A2 (S1) 36, B2 (S2) 4
    assert lat["data"][-1]["name"] == "All: mean 20.0"


# ---- pages in the real app ------------------------------------------------------------------------


class World:
    """The app over the ledger above, with an admin and rep1 (R1)."""

    def __init__(self, url: str):
        from dashboard.app import create_app

        add_b_ledger(url)
        add_user("admin", "admin")
        add_user("rep1", "sales_rep", sales_rep_id="R1")
        self.app = create_app()
        self.app.server.test_client().get("/")  # Dash fills callback_map on the first request

    def login(self, username: str):
        from auth_helpers import login

        client = self.app.server.test_client()
        assert login(client, username).status_code == 302
        return client

    def find(self, *parts: str) -> tuple[str, dict]:
        for output, spec in self.app.callback_map.items():
            if all(part in output for part in parts):
                return output, spec
        raise AssertionError(f"no callback with {parts}")

    @staticmethod
    def page(path: str):
        """The page module Dash imported for path."""
        import dash

        module = next(p["module"] for p in dash.page_registry.values() if p["path"] == path)
        return sys.modules[module]


@pytest.fixture
def world(sqlite_url):
    clear_snapshots()
    yield World(sqlite_url)
    clear_snapshots()


def call(
    client, output: str, inputs: list[dict], state: list[dict] | None = None, outputs=None
) -> dict:
    """Run one callback with explicit inputs; its response ({} when nothing changed)."""
    body = {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [
            f"{json.dumps(i['id'], separators=(',', ':')) if isinstance(i['id'], dict) else i['id']}.{i['property']}"
            for i in inputs[:1]
        ],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    return (response.get_json() or {}).get("response", {}) if response.status_code == 200 else {}


def fill_grid(world: World, client, name: str, data: dict) -> dict:
    """The shared grid's columns, every row (paged from the server like the browser does) and totals."""
    from grid_helpers import fill_grid as fill

    return fill(world.app, client, name, data)


def _buttons(component) -> dict[str, str]:
    """{last class name: text} of every button in a rendered component."""
    import dash_bootstrap_components as dbc

    out: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dbc.Button):
            out[node.className.split()[-1]] = node.children
            return
        children = getattr(node, "children", None)
        for child in (
            children
            if isinstance(children, list | tuple)
            else [children]
            if children is not None
            else []
        ):
            walk(child)

    walk(component)
    return out


def test_composition_numbers_tie_to_total_ar_to_the_cent(world):
    page = world.page("/disputes")
    snap = get_snapshot()
    shown = _buttons(page.composition_table(coll.outstanding_composition(snap, D), "USD"))
    parts = [
        cents(shown[f"dp-part-{p}"]) for p in ("not_due", "overdue", "in_dispute", "in_litigation")
    ]
    assert parts == [70000, 85025, 30000, 10000]
    total_ar = fmt.to_cents(compute_kpis(snap, D)["total_ar"])
    assert sum(parts) == cents(shown["dp-total-ar"]) == total_ar == 195025
    assert cents(shown["dp-unapplied"]) == 4000  # beside total AR, not in it
    # each part drills to open invoices whose balances sum to it
    for part, expected in zip(
        ("not_due", "overdue", "in_dispute", "in_litigation"), parts, strict=True
    ):
        rows = page.drill_rows(
            snap, "dp_component", D, 90, Filters(), Scope.everyone(), bucket=part
        )
        assert int(rows["amount_cents"].sum()) == expected, part
    assert sorted(
        page.drill_rows(snap, "dp_component", D, 90, Filters(), Scope.everyone(), bucket="overdue")[
            "invoice_id"
        ]
    ) == ["A2", "C1"]


def test_forecast_bars_drill_to_rows_that_sum_to_them(world):
    page = world.page("/forecast")
    snap, f, s = get_snapshot(), Filters(), Scope.everyone()
    frame = forecast.behaviour_forecast(snap, D, f, s)
    for bucket, expected in zip(frame["bucket"], frame["expected_cents"], strict=True):
        rows = page.drill_rows(snap, "fc_week", D, 90, f, s, bucket=bucket)
        assert int(rows["amount_cents"].sum()) == int(expected), bucket
    # B1 sits in two buckets: its promised 150.00 in week 1, the other 50.00 at its expected date
    week1 = page.drill_rows(snap, "fc_week", D, 90, f, s, bucket="Week 1").set_index("invoice_id")
    assert week1.loc["B1", "amount_cents"] == 15000
    disputed = page.drill_rows(snap, "fc_week", D, 90, f, s, bucket="Disputed (excluded)")
    assert sorted(disputed["invoice_id"]) == ["B2", "B3"]
    for bucket, expected in forecast.due_date_forecast(snap, D, f, s)[
        ["bucket", "amount_cents"]
    ].itertuples(index=False):
        assert int(
            page.drill_rows(snap, "fc_due", D, 90, f, s, bucket=bucket)["amount_cents"].sum()
        ) == int(expected)
    with pytest.raises(ValueError):
        page.drill_rows(snap, "fc_week", D, 90, f, s)


def test_forecast_grid_and_summary_tie_to_total_ar(world):
    client = world.login("admin")
    grid = fill_grid(world, client, "fc-invoices", {"filters": FILTERS})
    assert len(grid["rows"]) == 6  # every open invoice
    assert grid["totals"][0]["balance_cents"] == "$1,950.25"
    page = world.page("/forecast")
    summary = json.dumps(
        page.behaviour_summary(forecast.behaviour_forecast(get_snapshot(), D), "USD"),
        default=lambda o: o.to_plotly_json(),
    )
    assert "total AR " in summary and "$1,950.25" in summary and "not forecast $400.00" in summary


def test_backtest_is_cached_per_data_version(world, monkeypatch):
    page = world.page("/forecast")
    calls = []
    real = forecast.forecast_backtest

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast, "forecast_backtest", counting)
    monkeypatch.setattr(page.metrics, "forecast_backtest", counting)
    snap = get_snapshot()
    first = page.backtest(snap, D, Filters(segment="S1"), Scope.everyone())
    again = page.backtest(snap, D, Filters(segment="S1"), Scope.everyone())
    assert first is again and len(calls) == 1
    assert list(calls[0]) == forecast.default_backtest_dates(D, page.BACKTEST_DATES)


def test_workspace_params_from_the_ui(world):
    page = world.page("/invoices")
    assert page.workspace_params(None) == {
        "tab": "hotlist",
        "status": None,
        "owner": None,
        "dpd_min": None,
        "dpd_max": None,
    }
    raw = page.source_data(FILTERS, "current", ["paid", "overdue", "bogus"], "R1", "10", 60.7)
    assert page.workspace_params(raw) == {
        "tab": "current",
        "status": ("overdue", "paid"),
        "owner": "R1",
        "dpd_min": 10,
        "dpd_max": 60,
    }
    odd = {
        "tab": "all'; drop",
        "status": "overdue",
        "owner": page.ANY_OWNER,
        "dpd_min": "abc",
        "dpd_max": -5,
    }
    assert page.workspace_params(odd) == {
        "tab": "hotlist",
        "status": None,
        "owner": None,
        "dpd_min": None,
        "dpd_max": 0,
    }
    assert page.workspace_params({"owner": coll.NO_OWNER})["owner"] == coll.NO_OWNER


def test_workspace_filters_reach_invoice_workspace(world, monkeypatch):
    from dashboard.views import workspace as rows

    page = world.page("/invoices")
    seen = []
    real = rows.workspace

    def spy(snap, as_of, filters, scope, **kwargs):
        seen.append(kwargs)
        return real(snap, as_of, filters, scope, **kwargs)

    # the grid's rows: its table view (dashboard/views/workspace.py)
    monkeypatch.setattr(rows, "workspace", spy)
    client = world.login("admin")

    def ids(tab, status=(), owner=None, dpd_min=None, dpd_max=None) -> list[str]:
        data = page.source_data(
            FILTERS, tab, list(status), owner or page.ANY_OWNER, dpd_min, dpd_max
        )
        return [r["invoice_id"] for r in fill_grid(world, client, "ws-invoices", data)["rows"]]

    assert ids("hotlist") == ["B3", "B2", "A2", "A1"]  # riskiest first
    assert ids("current") == ["C1", "B1"]  # earliest due first
    assert ids("paid") == ["C2"]
    assert ids("hotlist", ["overdue"], "R1", 10, 60) == ["A2"]
    assert seen[-1] == {
        "tab": "hotlist",
        "status": ("overdue",),
        "owner": "R1",
        "dpd_min": 10,
        "dpd_max": 60,
    }
    assert ids("current", owner=coll.NO_OWNER) == ["C1"]
    assert seen[-1]["owner"] == coll.NO_OWNER
    assert ids("hotlist", ["disputed"], dpd_min=61) == ["B3"]  # B3 91 days, B2 60 days
    direct = coll.invoice_workspace(
        get_snapshot(),
        D,
        Filters(),
        Scope.everyone(),
        tab="hotlist",
        status=("disputed",),
        dpd_min=61,
    )
    assert list(direct["invoice_id"]) == ["B3"]
    totals = fill_grid(
        world,
        client,
        "ws-invoices",
        page.source_data(FILTERS, "hotlist", [], page.ANY_OWNER, None, None),
    )["totals"][0]
    assert totals["balance_cents"] == "$1,700.00"  # 500.00 + 800.00 + 300.00 + 100.00


def _inspect(world, client, invoice_id: str) -> str:
    output, _spec = world.find("ws-inspector.children")
    reply = call(
        client,
        output,
        [
            {
                "id": {"type": "ar-grid", "grid": "ws-invoices"},
                "property": "selectedRows",
                "value": [{"invoice_id": invoice_id, "risk_score": 0}],
            }
        ],
        [{"id": "filters", "property": "data", "value": FILTERS}],
        {"id": "ws-inspector", "property": "children"},
    )
    return json.dumps(reply)


def test_inspector_reads_the_server_and_respects_the_scope(world):
    admin = _inspect(world, world.login("admin"), "B3")
    # B3: 91 days past due (50 x 91 / 120 = 37.9) + litigation 25 + size 15 x 100.00 / 10,000.00 (0.15) = 63
    assert "63 / 100" in admin and "LEGAL" in admin and "/customers/B?as_of=2025-06-30" in admin
    rep = world.login("rep1")
    assert "not in the workspace" in _inspect(world, rep, "B3")  # another rep's customer
    own = _inspect(world, rep, "A2")
    # A2: 41 days (17.1) + over limit 15 + size 15 x 800.00 / 10,000.00 (1.2) = 33; CALL (> 30 days)
    assert "33 / 100" in own and "CALL" in own and "Senior" not in own
    assert "Click a row" in _inspect(world, rep, "")


def test_collections_grids(world):
    client = world.login("admin")
    groups = fill_grid(world, client, "col-groups", {"filters": FILTERS, "by": "segment"})
    # no 'All' row: the totals row is everyone
    assert [r["segment"] for r in groups["rows"]] == ["S1", "S2"]
    assert groups["totals"][0]["overdue_cents"] == "$1,250.25"
    assert groups["totals"][0]["covered_cents"] == "$800.00"
    s1 = groups["rows"][0]
    assert (
        s1["coverage_pct"],
        s1["became_overdue"],
        s1["contacted"],
        s1["uncontacted"],
        s1["mean_days"],
    ) == (94.09, 3, 1, 2, 36.0)
    still_open = fill_grid(
        world, client, "col-uncontacted", {"filters": FILTERS, "open_only": True}
    )
    assert [r["invoice_id"] for r in still_open["rows"]] == ["C1"]
    every = fill_grid(world, client, "col-uncontacted", {"filters": FILTERS, "open_only": False})
    assert [r["invoice_id"] for r in every["rows"]] == ["C2", "C1"]  # longest waiting first
    rep = fill_grid(world, world.login("rep1"), "col-groups", {"filters": FILTERS, "by": "bogus"})
    assert [r["segment"] for r in rep["rows"]] == ["S1"] and rep["totals"][0][
        "overdue_cents"
    ] == "$800.00"


def test_disputes_grids_follow_the_scope(world):
    admin = world.login("admin")
    broken = fill_grid(world, admin, "dp-broken", {"filters": FILTERS})
    assert [r["promise_id"] for r in broken["rows"]] == ["P2"]
    assert broken["totals"][0]["amount_cents"] == "$50.25"
    disputes = fill_grid(world, admin, "dp-open", {"filters": FILTERS})
    assert [r["dispute_id"] for r in disputes["rows"]] == ["D2", "D1"]  # oldest first
    assert fill_grid(world, world.login("rep1"), "dp-open", {"filters": FILTERS})["rows"] == []


def test_pages_render_before_any_data(world, monkeypatch):
    """A date before the first invoice: every callback answers with empty states, no error."""
    from dashboard.components import identity

    monkeypatch.setattr(identity, "scope", Scope.everyone)
    early = {"as_of": "2020-01-31", "basis": "due", "query": "?as_of=2020-01-31"}
    version = {"version": 1}
    forecast_page, disputes_page = world.page("/forecast"), world.page("/disputes")
    collections_page, workspace_page = world.page("/collections"), world.page("/invoices")
    assert is_empty(forecast_page.due_chart(early, version))
    fig = forecast_page.behaviour_chart(early, version)
    summary = forecast_page.behaviour_source(early, version)
    assert is_empty(fig) and "$0.00" in json.dumps(summary, default=lambda o: o.to_plotly_json())
    accuracy, options, value = forecast_page.accuracy(early, version, None)
    wape = forecast_page.wape_chart(early, version)
    assert is_empty(wape) and "Not enough history" in json.dumps(
        accuracy, default=lambda o: o.to_plotly_json()
    )
    assert is_empty(forecast_page.backtest_chart(early, version, value))
    donut = disputes_page.composition_chart(early, version)
    table = disputes_page.composition_view(early, version)
    assert is_empty(donut) and _buttons(table)["dp-total-ar"] == "$0.00"
    assert is_empty(disputes_page.cycle_chart(early, version))
    assert is_empty(disputes_page.promise_chart(early, version))
    coverage = collections_page.coverage_chart(early, version, "region")
    latency = collections_page.latency_chart(early, version, "region")
    assert is_empty(coverage) and is_empty(latency)
    chips = json.dumps(
        workspace_page.pulse_chips(early, version), default=lambda o: o.to_plotly_json()
    )
    assert "$0.00" in chips
    assert workspace_page.tab_labels(early, version, [], workspace_page.ANY_OWNER, None, None) == [
        "Risk hotlist (0)",
        "Current cycle (0)",
        "Paid (0)",
    ]
