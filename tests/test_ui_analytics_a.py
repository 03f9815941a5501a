"""Customer aging, credit, reliability and value pages: range parsing, per-user ranges, tier save rights, grid totals.

Callbacks are driven through the test client (POST /_dash-update-component) so the role and scope checks run
as they do behind the browser. The ledger is tests/ui_ledger.py's, worked out by hand as of 2024-06-30:

    A1 Alpha  short terms  limit 1000.00  R1   I1 1200.00 15 days late          -> Over Limit (120 %)
    B2 Beta   30-day+      no limit       R2   I2 300.10 91 days late, I3 0.20 not due -> Critical
    C3 Gamma  30-day+      limit 500.00   R1   I4 460.00 51 days late           -> Overdue (92 %: Critical risk)
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from auth_helpers import add_user, callback_body

from dashboard import format as fmt
from dashboard.data.user_prefs import (
    DEFAULT_RANGES,
    load_aging_ranges,
    parse_aging_ranges,
    save_aging_ranges,
)
from dashboard.metrics.snapshot import clear_snapshots
from tests.ui_ledger import AS_OF, add_ui_ledger

FILTERS = {"as_of": AS_OF.isoformat(), "basis": "due", "query": f"?as_of={AS_OF.isoformat()}"}
USERS = {"admin": "admin", "exec": "executive", "clerk": "ar_clerk"}


class World:
    """The app over the UI ledger, with users admin, exec, clerk and rep1 (rep R1)."""

    def __init__(self, url: str):
        from dashboard.app import create_app

        add_ui_ledger(url)
        for name, role in USERS.items():
            add_user(name, role)
        add_user("rep1", "sales_rep", sales_rep_id="R1")
        self.url = url
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


@pytest.fixture
def world(sqlite_url):
    clear_snapshots()
    yield World(sqlite_url)
    clear_snapshots()


def post(client, output: str, spec: dict, values: dict, changed: list[str] | None = None) -> dict:
    """Run one callback; the JSON response (empty when nothing changed)."""
    body = callback_body(output, spec, values)
    outputs = spec["output"] if isinstance(spec["output"], list | tuple) else [spec["output"]]
    specs = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    body["outputs"] = specs if len(specs) != 1 else specs[0]
    body["changedPropIds"] = changed or []
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    return (response.get_json() or {}).get("response", {}) if response.status_code == 200 else {}


def fill_grid(world: World, client, name: str, data: dict) -> dict:
    """The shared grid's columns, every row (paged from the server like the browser does) and totals."""
    from grid_helpers import fill_grid as fill

    return fill(world.app, client, name, data)


def download_csv(world: World, client, name: str, data: dict) -> list[dict]:
    """The grid's server-side CSV as rows (the stamp line skipped), from the streamed export route."""
    from grid_helpers import export

    response = export(client, name, "csv", data)
    assert response.status_code == 200, response.text
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("# ")  # stamped with filters, scope and time
    return list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))


def cents(text: str | None) -> int:
    """'$1,234.50' -> 123450."""
    return fmt.to_cents(text.replace("$", "").replace(",", "")) if text else 0


# ---- aging ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30,abc,90", "“abc” is not a whole number of days"),
        ("30;60;90", "“30;60;90” is not a whole number of days"),
        ("30,60.5", "“60.5” is not a whole number of days"),
        ("90,60", "must increase from left to right: 60 comes after 90"),
        ("30,30", "must increase from left to right: 30 comes after 30"),
        ("0,30", "1 or more; “0”"),
        ("-30,60", "1 or more; “-30”"),
        ("30,99999", "at most 36,500"),
        (",".join(str(10 * i) for i in range(1, 14)), "13 limits is too many: at most 12"),
    ],
)
def test_bad_ranges_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError) as error:
        parse_aging_ranges(text)
    assert message in str(error.value)


def test_good_ranges():
    assert parse_aging_ranges("30,60,90,120,180,365,720") == (30, 60, 90, 120, 180, 365, 720)
    assert parse_aging_ranges(" 30 , 60,,90, ") == (30, 60, 90)
    assert parse_aging_ranges("") == parse_aging_ranges(None) == DEFAULT_RANGES == (30, 60, 90)
    assert parse_aging_ranges("7") == (7,)


def test_ranges_are_saved_per_user_and_loaded(db_url):
    from sqlalchemy import select

    from dashboard.data.db import session_scope
    from dashboard.data.models import User

    add_user("u1", "ar_clerk")
    add_user("u2", "ar_clerk")
    with session_scope(db_url) as s:
        ids = dict(s.execute(select(User.username, User.id)).all())
    assert load_aging_ranges(ids["u1"], db_url) == DEFAULT_RANGES  # nothing saved yet
    assert save_aging_ranges(ids["u1"], " 30, 60,90,120", db_url) == (30, 60, 90, 120)
    assert load_aging_ranges(ids["u1"], db_url) == (30, 60, 90, 120)
    # another user's ranges are theirs
    assert load_aging_ranges(ids["u2"], db_url) == DEFAULT_RANGES
    with pytest.raises(ValueError):
        save_aging_ranges(ids["u1"], "120,60", db_url)
    assert load_aging_ranges(ids["u1"], db_url) == (30, 60, 90, 120)  # a bad list saved nothing
    with session_scope(db_url) as s:
        assert s.get(User, ids["u1"]).aging_ranges == "30,60,90,120"  # canonical form
    with pytest.raises(ValueError):
        save_aging_ranges(10_000, "30", db_url)
    assert load_aging_ranges(None, db_url) == DEFAULT_RANGES


def test_ranges_apply_and_load_through_the_page_callbacks(world):
    apply_out, apply_spec = world.find("ag-ranges-msg.children")
    load_out, load_spec = world.find("ag-ranges.value", "ag-edges.data")

    def apply(username: str, text: str) -> dict:
        values = {("ag-apply", "n_clicks"): 1, ("ag-ranges", "value"): text}
        return post(world.login(username), apply_out, apply_spec, values, ["ag-apply.n_clicks"])

    def load(username: str) -> dict:
        return post(world.login(username), load_out, load_spec, {("ag-init", "data"): 0})

    bad = apply("clerk", "30,sixty")
    assert "ag-edges" not in bad and "ag-ranges" not in bad  # changes nothing
    assert "Not applied" in json.dumps(bad["ag-ranges-msg"]) and "sixty" in json.dumps(
        bad["ag-ranges-msg"]
    )
    assert load("clerk")["ag-ranges"]["value"] == "30,60,90"

    good = apply("clerk", "30, 60, 90, 120")
    assert good["ag-edges"]["data"] == [30, 60, 90, 120]
    assert good["ag-ranges"]["value"] == "30,60,90,120"
    assert "Saved: 30, 60, 90, 120 days" in json.dumps(good["ag-ranges-msg"])
    assert load("clerk") == {
        "ag-ranges": {"value": "30,60,90,120"},
        "ag-edges": {"data": [30, 60, 90, 120]},
    }
    assert load("admin")["ag-edges"]["data"] == [30, 60, 90]  # per user


# ---- grid sources: totals equal the metrics to the cent ----------------------------------------------


def test_aging_grids_buckets_sum_to_totals_and_tie_to_the_metric(world):
    from dashboard.metrics import tables
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.snapshot import get_snapshot

    client = world.login("clerk")
    data = {"filters": FILTERS, "ranges": [30, 60, 90, 120]}
    long_, short = (
        fill_grid(world, client, "ag-long", data),
        fill_grid(world, client, "ag-short", data),
    )
    buckets = [
        "not_due_cents",
        "1-30_cents",
        "31-60_cents",
        "61-90_cents",
        "91-120_cents",
        "120+_cents",
    ]
    fields = [c["field"] for c in long_["columns"]]
    assert fields[:5] == [
        "customer_id",
        "customer_name",
        "terms",
        "credit_limit_cents",
        "amount_cents",
    ]
    assert fields[5:11] == buckets and fields[11:13] == ["max_days", "status"]
    headers = {c["field"]: c["headerName"] for c in long_["columns"]}
    assert headers["91-120_cents"] == "91–120 days" and headers["120+_cents"] == "120+ days"
    assert (
        next(c for c in long_["columns"] if c["field"] == "customer_name")["cellRenderer"]
        == "CustomerLink"
    )

    rows = {r["customer_id"]: r for r in long_["rows"]}
    assert set(rows) == {"B2", "C3"} and [r["customer_id"] for r in short["rows"]] == ["A1"]
    assert (
        rows["B2"]["amount_cents"] == 30030
        and rows["B2"]["91-120_cents"] == 30010
        and rows["B2"]["not_due_cents"] == 20
    )
    assert rows["B2"]["credit_limit_cents"] is None  # blank = no limit
    assert rows["C3"]["31-60_cents"] == 46000 and rows["C3"]["credit_limit_cents"] == 50000
    assert (rows["B2"]["status"], rows["C3"]["status"], short["rows"][0]["status"]) == (
        "Critical",
        "Overdue",
        "Over Limit",
    )
    assert (rows["B2"]["max_days"], rows["C3"]["max_days"]) == (91, 51)
    for row in long_["rows"] + short["rows"]:
        assert sum(row[b] for b in buckets) == row["amount_cents"]
    for result, expected in ((long_, 76030), (short, 120000)):
        totals = result["totals"][0]
        assert totals["customer_id"] == "Total"
        assert cents(totals["amount_cents"]) == expected
        # the buckets always sum to the total
        assert sum(cents(totals.get(b)) for b in buckets) == expected

    snap = get_snapshot()
    metric = tables.customer_aging(
        snap, AS_OF, Filters(), Scope.everyone(), "due", (30, 60, 90, 120)
    )
    assert int(metric["amount_cents"].sum()) == 76030 + 120000
    exported = download_csv(world, client, "ag-long", data)
    assert sum(fmt.to_cents(r["amount"]) for r in exported) == 76030
    assert {r["customer_id"]: r["credit_limit"] for r in exported} == {"B2": "", "C3": "500.00"}

    mine = fill_grid(world, world.login("rep1"), "ag-long", data)  # R1 owns A1 and C3 only
    assert [r["customer_id"] for r in mine["rows"]] == ["C3"] and cents(
        mine["totals"][0]["amount_cents"]
    ) == 46000


def test_aging_on_transaction_basis_and_forged_ranges(world):
    client = world.login("clerk")
    data = {"filters": dict(FILTERS, basis="transaction"), "ranges": [30, 60, 90, 120]}
    long_ = fill_grid(world, client, "ag-long", data)
    headers = {c["field"]: c["headerName"] for c in long_["columns"]}
    assert [f for f in headers if f.endswith("_cents")][2:] == [
        "current_cents",
        "1_month_cents",
        "2_months_cents",
        "3+_months_cents",
    ]
    assert headers["max_days"] == "Max months since invoice"
    b2 = next(r for r in long_["rows"] if r["customer_id"] == "B2")
    # 2024-03-01 is 3 months before 06-30
    assert b2["3+_months_cents"] == 30010 and b2["current_cents"] == 20
    forged = fill_grid(world, client, "ag-long", {"filters": FILTERS, "ranges": ["x", 5000000]})
    assert [c["field"] for c in forged["columns"]][5:10] == [
        "not_due_cents",
        "1-30_cents",
        "31-60_cents",
        # defaults
        "61-90_cents",
        "90+_cents",
    ]


def test_credit_reliability_and_value_grids_tie_to_the_metrics(world):
    from dashboard.metrics import credit, reliability, value
    from dashboard.metrics.filters import Filters, Scope
    from dashboard.metrics.snapshot import get_snapshot

    snap, everyone = get_snapshot(), Scope.everyone()
    client = world.login("clerk")
    expected = {
        "cr-grid": credit.credit_utilization(snap, AS_OF, Filters(), everyone),
        "rl-grid": reliability.payment_reliability(snap, AS_OF, Filters(), everyone),
        "val-grid": value.customer_value(snap, AS_OF, Filters(), everyone),
    }
    for name, frame in expected.items():
        result = fill_grid(world, client, name, {"filters": FILTERS})
        assert len(result["rows"]) == len(frame) > 0, name
        totals = result["totals"][0]
        for column in (c for c in frame.columns if c.endswith("_cents")):
            assert cents(totals[column]) == int(frame[column].dropna().astype("int64").sum()), (
                name,
                column,
            )
        assert all(r["customer_id"] for r in result["rows"])
        link = next(c for c in result["columns"] if c["field"] == "customer_name")
        assert link["cellRenderer"] == "CustomerLink", name

    credit_rows = {
        r["customer_id"]: r
        for r in fill_grid(world, client, "cr-grid", {"filters": FILTERS})["rows"]
    }
    assert (
        credit_rows["A1"]["risk_level"] == "Over Limit"
        and credit_rows["A1"]["recommended_action"] == credit.HOLD
    )
    assert (
        credit_rows["A1"]["available_credit_cents"] == -20000
        and credit_rows["A1"]["utilization_pct"] == 120.0
    )
    assert (
        credit_rows["C3"]["risk_level"] == "Critical"
        and credit_rows["C3"]["utilization_pct"] == 92.0
    )
    assert (
        credit_rows["B2"]["risk_level"] == ""
        and credit_rows["B2"]["available_credit_cents"] is None
    )
    over = fill_grid(world, client, "cr-grid", {"filters": FILTERS, "risk": "Over Limit"})
    assert [r["customer_id"] for r in over["rows"]] == ["A1"] and cents(
        over["totals"][0]["outstanding_cents"]
    ) == 120000
    none = fill_grid(world, client, "cr-grid", {"filters": FILTERS, "risk": "none"})
    assert [r["customer_id"] for r in none["rows"]] == ["B2"]
    assert (
        len(fill_grid(world, client, "cr-grid", {"filters": FILTERS, "risk": "<script>"})["rows"])
        == 3
    )

    scores = [
        r["reliability_score"]
        for r in fill_grid(world, client, "rl-grid", {"filters": FILTERS})["rows"]
    ]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored)  # worst payers first
    mine = fill_grid(world, world.login("rep1"), "val-grid", {"filters": FILTERS})
    assert {r["customer_id"] for r in mine["rows"]} == {"A1", "C3"}  # the rep's own customers only


# ---- value tiers: admin only, validated, every error shown --------------------------------------------


ROWS = [
    {"id": 0, "name": "Small", "min": "0", "max": "999.99"},
    {"id": 1, "name": "Big", "min": "1,000.00", "max": ""},
]


def test_tier_save_is_refused_for_non_admins_at_the_callback(world):
    from dashboard.data.tiers import load_tiers
    from dashboard.metrics.value import DEFAULT_TIERS

    output, spec = world.find("val-tier-msg.children", "val-saved.data")

    def save(username: str, rows: list[dict]) -> dict:
        values = {("val-tier-save", "n_clicks"): 1, ("val-tier-editor", "rowData"): rows}
        return post(world.login(username), output, spec, values, ["val-tier-save.n_clicks"])

    for username in ("exec", "clerk", "rep1"):
        reply = save(username, ROWS)
        assert (
            "Only administrators" in json.dumps(reply["val-tier-msg"]) and "val-saved" not in reply
        )
    assert load_tiers() == list(DEFAULT_TIERS)

    bad = [
        {"id": 0, "name": "Bronze", "min": "0", "max": "500"},
        {"id": 1, "name": "Silver", "min": "500", "max": "1000"},
        {"id": 2, "name": "silver", "min": "1000.01", "max": "2000"},
    ]
    text = json.dumps(save("admin", bad)["val-tier-msg"], ensure_ascii=False)
    # every error, not the first
    assert "duplicate tier name 'silver'" in text and "overlap at 500.00" in text
    cells = [{"id": 0, "name": "Bronze", "min": "abc", "max": "9.999"}]
    text = json.dumps(save("admin", cells)["val-tier-msg"], ensure_ascii=False)
    assert (
        "minimum “abc” is not an amount" in text
        and "maximum “9.999” has more than 2 decimals" in text
    )
    assert load_tiers() == list(DEFAULT_TIERS)  # nothing saved

    reply = save("admin", ROWS)
    assert "Saved 2 tiers" in json.dumps(reply["val-tier-msg"]) and reply["val-saved"]["data"]
    assert load_tiers() == [("Small", 0, 99_999), ("Big", 100_000, None)]
    assert save("exec", [{"id": 0, "name": "Mine", "min": "0", "max": ""}])["val-tier-msg"]
    assert load_tiers() == [("Small", 0, 99_999), ("Big", 100_000, None)]  # still the admin's tiers


def test_tier_editor_only_for_admins_and_grid_uses_saved_tiers(world):
    from dashboard.data.tiers import save_tiers

    output, spec = world.find("val-tiers.children")

    def panel(username: str) -> str:
        values = {("val-init", "data"): 0, ("val-saved", "data"): None}
        return json.dumps(post(world.login(username), output, spec, values))

    assert "val-tier-editor" in panel("admin") and "val-tier-save" in panel("admin")
    for username in ("exec", "clerk", "rep1"):
        text = panel(username)
        assert "val-tier-editor" not in text and "val-tier-save" not in text and "Platinum" in text
    save_tiers([("Small", 0, 99_999), ("Big", 100_000, None)], world.url)
    tiers = {
        r["customer_id"]: r["value_tier"]
        for r in fill_grid(
            world, world.login("clerk"), "val-grid", {"filters": FILTERS, "saved": 1}
        )["rows"]
    }
    assert tiers == {"A1": "Big", "B2": "Small", "C3": "Small"}  # revenue 1200.00, 300.30, 560.00


def test_tier_chart_and_empty_state():
    import pandas as pd

    from dashboard.figures.analytics import tier_colors, tier_summary_bar

    def is_empty(fig) -> bool:
        return len(fig["data"]) == 0

    empty = pd.DataFrame(
        {
            "value_tier": ["Gold", "Standard"],
            "customers": [0, 0],
            "revenue_12m_cents": [0, 0],
            "share_of_turnover_pct": [float("nan")] * 2,
        }
    )
    assert is_empty(tier_summary_bar(empty))
    frame = pd.DataFrame(
        {
            "value_tier": ["Bronze", "Custom", "Standard"],
            "customers": [2, 1, 1],
            "revenue_12m_cents": [12345, 100000, -500],
            "share_of_turnover_pct": [11.0, 89.5, -0.5],
        }
    )
    fig = tier_summary_bar(frame, "USD")
    assert not is_empty(fig) and fig["layout"]["meta"]["total_cents"] == 111845
    assert fig["data"][0]["customdata"][1][:3] == ["Custom", "$1,000.00", 1]
    assert fig["data"][0]["text"] == ["$123.45", "$1,000.00", "-$5.00"]
    colors = tier_colors(["Bronze", "Custom", "Standard"])
    assert colors["Bronze"] != colors["Custom"] and "Standard" in colors
