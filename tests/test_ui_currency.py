"""Several currencies on screen: the Receivables Health panel and caption, drill grids and Account 360,
through the real app's callbacks (POST /_dash-update-component) over the hand-worked ledger of
tests/test_metrics_currency.py (as of 2025-03-15: EUR 1.20, GBP 1.25)."""

from __future__ import annotations

import pytest
from auth_helpers import add_user

from dashboard.data.importer import run_import
from dashboard.metrics.snapshot import clear_snapshots
from tests.test_metrics_currency import FILES, write
from tests.test_ui_analytics_b import call, fill_grid

FILTERS = {"as_of": "2025-03-15", "basis": "due", "query": "?as_of=2025-03-15"}
INPUTS = [
    {"id": "filters", "property": "data", "value": FILTERS},
    {"id": "data-version", "property": "data", "value": {"version": 1}},
]


class World:
    """The app over the three-currency ledger, with an admin."""

    def __init__(self, url: str, tmp_path):
        from dashboard.app import create_app

        run_import(write(tmp_path, FILES), url=url, progress=False)
        add_user("admin", "admin")
        self.app = create_app()
        self.app.server.test_client().get("/")

    def client(self):
        from auth_helpers import login

        client = self.app.server.test_client()
        assert login(client, "admin").status_code == 302
        return client

    def find(self, *parts: str) -> tuple[str, dict]:
        return next(
            (o, spec) for o, spec in self.app.callback_map.items() if all(p in o for p in parts)
        )

    def output(self, *parts: str) -> str:
        return next(o for o in self.app.callback_map if all(p in o for p in parts))


@pytest.fixture
def world(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    clear_snapshots()
    yield World(sqlite_url, tmp_path)
    clear_snapshots()


def _text(node) -> str:
    """All text in a rendered component tree (as JSON from the callback)."""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return " ".join(_text(n) for n in node)
    if isinstance(node, dict):
        return _text(node.get("props", {}).get("children", "")) if "props" in node else ""
    return ""


def test_by_currency_panel_and_caption_name_the_base_currency(world):
    client = world.client()
    # State: what the page already shows
    built = {"id": "rh-built", "property": "data", "value": None}
    reply = call(
        client,
        "rh-by-currency.children",
        [*INPUTS, built],
        outputs={"id": "rh-by-currency", "property": "children"},
    )
    text = _text(reply["rh-by-currency"]["children"])
    # each currency in its own units, its rate at D, then the base totals and the revaluation
    for piece in (
        "EUR",
        "€800.00",
        "€600.00",
        "€200.00",
        "1.2",
        "GBP",
        "£0.04",
        "£10.00",
        "1.25",
        "$400.00",
        "$1,360.06",
        "$1,300.06",
        "$60.00",
        "base USD",
    ):
        assert piece in text, piece
    caption = _text(
        call(
            client,
            "rh-caption.children",
            [*INPUTS, built],
            outputs={"id": "rh-caption", "property": "children"},
        )["rh-caption"]["children"]
    )
    assert "amounts in USD at the rates of 2025-03-15" in caption


def test_drill_grid_shows_currency_and_base_amount_side_by_side(world):
    client = world.client()
    grid = fill_grid(
        world,
        client,
        "drill",
        {"request": {"key": "total_ar", "title": "Total AR"}, "filters": FILTERS},
    )
    fields = [c["field"] for c in grid["columns"]]
    assert (
        fields.index("currency") + 1
        == fields.index("amount_in_currency")
        == fields.index("amount_cents") - 1
    )
    e1 = next(r for r in grid["rows"] if r["invoice_id"] == "E1")
    assert (e1["currency"], e1["amount_in_currency"], e1["amount_cents"]) == (
        "EUR",
        "600.00",
        72000,
    )
    totals = grid["totals"][0]
    # the base column adds up; the own-currency one is not summed
    assert totals["amount_cents"] == "$1,360.06"
    assert "amount_in_currency" not in totals


def test_account_360_shows_the_base_equivalent(world):
    client = world.client()
    output = world.output("acct-total.children")
    names = (
        "acct-total",
        "acct-last-date",
        "acct-terms",
        "acct-avg-days",
        "acct-limit",
        "acct-last-amount",
    )
    reply = call(
        client,
        output,
        [{"id": "acct-id", "property": "data", "value": "C2"}, *INPUTS],
        outputs=[{"id": n, "property": "children"} for n in names],
    )
    text = _text(reply["acct-total"]["children"])
    assert "€800.00" in text and "$960.00" in text


def test_csv_and_xlsx_exports_carry_both_columns_and_name_the_base_currency(world):
    import csv
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    client = world.client()
    response = client.get("/export/table/open_invoices.csv?as_of=2025-03-15")
    assert response.status_code == 200
    stamp, _, body = response.data.decode("utf-8").partition("\n")
    assert (
        "amounts in: USD; other currencies converted at the rates in force on 2025-03-15" in stamp
    )
    rows = {r["invoice_id"]: r for r in csv.DictReader(io.StringIO(body))}
    assert (rows["E1"]["currency"], rows["E1"]["amount_in_currency"]) == ("EUR", "600.00")
    # the base column ties to total AR
    assert sum(Decimal(r["amount"]) for r in rows.values()) == Decimal("1360.06")
    xlsx = client.get("/export/table/open_invoices.xlsx?as_of=2025-03-15")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    block = {row[0]: row[1] for row in cells if row and row[0] and len(row) > 1}
    assert block["Amounts in"].startswith(
        "USD; other currencies converted at the rates in force on 2025-03-15"
    )
    header = next(row for row in cells if row and row[0] == "invoice_id")
    assert "currency" in header and "amount_in_currency" in header


def test_account_360_grids_put_transaction_and_base_amounts_side_by_side(world):
    client = world.client()
    source = {"customer_id": "C2", "filters": FILTERS}
    invoices = fill_grid(world, client, "acct-invoices", source)
    e1 = next(r for r in invoices["rows"] if r["invoice_id"] == "E1")
    # 600 EUR x 1.20
    assert (e1["currency"], e1["balance_cents"], e1["balance_base"]) == ("EUR", 60000, "720.00")
    payments = fill_grid(world, client, "acct-payments", source)
    pe1 = payments["rows"][0]
    assert (pe1["payment_id"], pe1["currency"], pe1["amount_cents"], pe1["amount_base"]) == (
        "PE1",
        "EUR",
        40000,
        "480.00",
    )


def test_account_360_boxes_trend_and_dso_give_both_currencies(world):
    """C2 (EUR): overdue 600 EUR = 720.00 USD, last payment 400 EUR = 480.00 USD, DSO 64.48 in base,
    March's trend point 200.00 EUR invoiced = 240.00 USD (see test_metrics_currency)."""
    client = world.client()
    names = (
        "acct-total",
        "acct-last-date",
        "acct-terms",
        "acct-avg-days",
        "acct-limit",
        "acct-last-amount",
    )
    source = [{"id": "acct-id", "property": "data", "value": "C2"}, *INPUTS]
    reply = call(
        client,
        world.output("acct-total.children"),
        source,
        outputs=[{"id": n, "property": "children"} for n in names],
    )
    assert "overdue $720.00" in _text(reply["acct-total"]["children"])
    last = _text(reply["acct-last-amount"]["children"])
    assert "€400.00" in last and "$480.00" in last
    behaviour = _text(
        call(
            client,
            world.output("acct-behaviour.children"),
            source,
            outputs={"id": "acct-behaviour", "property": "children"},
        )["acct-behaviour"]["children"]
    )
    assert "64.5 days" in behaviour and "both in USD" in behaviour and "72.82 %" in behaviour
    charts = call(
        client,
        world.output("acct-trend.figure"),
        source,
        outputs=[
            {"id": "acct-aging", "property": "figure"},
            {"id": "acct-trend", "property": "figure"},
        ],
    )
    invoiced = charts["acct-trend"]["figure"]["data"][0]
    assert "€200.00 = $240.00" in invoiced["customdata"]


def test_commissions_caption_names_the_base_currency_and_the_rates(world):
    client = world.client()
    reply = call(
        client,
        world.output("com-caption.children"),
        INPUTS,
        outputs={"id": "com-caption", "property": "children"},
    )
    text = _text(reply["com-caption"]["children"])
    assert (
        "amounts in USD" in text and "earned date's rate" in text and "rates of 2025-03-15" in text
    )
