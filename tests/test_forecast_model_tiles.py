"""Forecast page tiles and summary line when the payment-prediction model is the source.

The model predicts every open invoice, disputed ones too: its weekly frame has weeks 1-13 and the
rest (Later), no 'not expected (history)' nor 'disputed (excluded)' part. The tiles and the summary
say so and still add up to total AR; the part in dispute is shown beside them, not as a term.

The ledger, worked out by hand as of D = 2025-06-30 (week 1 = 1-7 July, week 2 = 8-14 ...):

    X1  X  due 07-10  1,000.00 open                 promise 400.00 for 07-15 (behaviour only)
    X2  X  due 06-15    300.00 open                 dispute DX2 opened 06-20
    Y1  Y  due 07-20    333.33 open
    Y2  Y  due 05-01  1,000.00, 100.00 paid 05-10   900.00 open, litigation LY2 opened 05-20

    total AR 2,533.33; in dispute or litigation 300.00 + 900.00 = 1,200.00.

The model's path is forced: predict_ui.backtest says the model wins, and predict_ui.predictions
gives each open invoice a settlement curve chosen here (P(settled within 7, 14, 21, 30, 45, 60, 90,
180 days), linear in between):

    X1  0.5 from day 7 on              week 1: 1,000.00 x 0.5  = 500.00     rest 500.00
    X2  0 at 7, 0.25 from day 14 on    week 2:   300.00 x 0.25 =  75.00     rest 225.00
    Y1  0.5 from day 7 on              week 1:   333.33 x 0.5  = 166.665 -> 166.67 (half up)
                                                                             rest 166.66
    Y2  0 up to day 21, 0.9 from 30    day 28 = 21 + 7/9 of the way to 30: 0.9 x 7/9 = 0.7
                                       week 4 (days 21-28):   900.00 x 0.7 = 630.00
                                       week 5 (days 28-35):   900.00 x 0.2 = 180.00   rest 90.00

    weeks 1-13: 500.00 + 75.00 + 166.67 + 630.00 + 180.00 = 1,551.67
    later or not expected (model): 500.00 + 225.00 + 166.66 + 90.00 = 981.66
    1,551.67 + 981.66 = 2,533.33 = total AR
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import numpy as np
import pytest
from auth_helpers import add_user
from test_ui_analytics_b import call

from dashboard.metrics import predict as pm
from dashboard.metrics import predict_ui, service
from dashboard.metrics import predict_views as pv
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)
FILTERS = {"as_of": D.isoformat(), "basis": "due", "query": f"?as_of={D.isoformat()}"}
VERSION = {"version": 1}

# P(settled within pm.EDGES = 7, 14, 21, 30, 45, 60, 90, 180 days) per invoice (see the docstring)
CURVES = {
    "X1": [0.5] * 8,
    "X2": [0.0] + [0.25] * 7,
    "Y1": [0.5] * 8,
    "Y2": [0.0, 0.0, 0.0] + [0.9] * 5,
}
BALANCES = {"X1": 100_000, "X2": 30_000, "Y1": 33_333, "Y2": 90_000}
TOTAL_AR = 253_333
WEEKS = {1: 50_000 + 16_667, 2: 7_500, 4: 63_000, 5: 18_000}
WEEKS_TOTAL = 155_167
LATER = 98_166  # 50_000 + 22_500 + 16_666 + 9_000
IN_DISPUTE = 120_000  # X2 300.00 (dispute) + Y2 900.00 (litigation)


def add_model_ledger(url: str) -> None:
    """Insert the ledger of the module docstring."""
    add_ledger(
        url,
        customers=[
            {"customer_id": "X", "name": "Xeno", "segment": "S1"},
            {"customer_id": "Y", "name": "Yarrow", "segment": "S2"},
        ],
        invoices=[
            {
                "invoice_id": i,
                "customer_id": c,
                "issue_date": issue,
                "due_date": due,
                "amount": amount,
            }
            for i, c, issue, due, amount in (
                ("X1", "X", "2025-06-10", "2025-07-10", "1000.00"),
                ("X2", "X", "2025-05-16", "2025-06-15", "300.00"),
                ("Y1", "Y", "2025-06-20", "2025-07-20", "333.33"),
                ("Y2", "Y", "2025-04-01", "2025-05-01", "1000.00"),
            )
        ],
        payments=[
            {"payment_id": "PY2", "customer_id": "Y", "date": "2025-05-10", "amount": "100.00"}
        ],
        allocations=[{"payment_id": "PY2", "invoice_id": "Y2", "amount": "100.00"}],
        promises=[
            {
                "promise_id": "PX1",
                "invoice_id": "X1",
                "made_on": "2025-06-25",
                "promised_date": "2025-07-15",
                "amount": "400.00",
            }
        ],
        disputes=[
            {
                "dispute_id": "DX2",
                "invoice_id": "X2",
                "opened_on": "2025-06-20",
                "amount": "300.00",
            },
            {
                "dispute_id": "LY2",
                "invoice_id": "Y2",
                "opened_on": "2025-05-20",
                "amount": "900.00",
                "status": "litigation",
            },
        ],
    )


def force_model(monkeypatch) -> None:
    """The model wins the backtest, and its predictions are the curves above (real open invoices)."""
    real = predict_ui.predictions

    def predictions(snap, as_of, filters, scope):
        pred, _source = real(snap, as_of, filters, scope)
        ids = snap.inv_ids[pred.inv]
        cdf = np.array([CURVES[str(i)] for i in ids], dtype=np.float64).reshape(-1, len(pm.EDGES))
        return pm.Predictions(
            pred.day,
            pred.inv,
            pred.balance,
            pred.cust,
            cdf,
            pred.expected,
            pred.low,
            pred.high,
            "model",
        ), "model (test)"

    monkeypatch.setattr(predict_ui, "predictions", predictions)
    monkeypatch.setattr(
        predict_ui,
        "backtest",
        lambda snap, filters, scope: {
            "decision": {"use_model": True, "why": "its backtest beats both baselines (test)"}
        },
    )


@pytest.fixture
def app(sqlite_url):
    from dashboard.app import create_app

    clear_snapshots()
    add_model_ledger(sqlite_url)
    add_user("admin", "admin")
    dash_app = create_app()
    dash_app.server.test_client().get("/")  # Dash fills callback_map on the first request
    yield dash_app
    clear_snapshots()


def _login(app):
    from auth_helpers import login

    client = app.server.test_client()
    assert login(client, "admin").status_code == 302
    return client


def _callback(app, client, output: str) -> str:
    """The children of a forecast page callback, as JSON text."""
    key = next(k for k in app.callback_map if output in k)
    reply = call(
        client,
        key,
        [
            {"id": "filters", "property": "data", "value": FILTERS},
            {"id": "data-version", "property": "data", "value": VERSION},
        ],
        outputs={"id": output.split(".")[0], "property": "children"},
    )
    return json.dumps(reply)


def _tiles(text: str) -> dict[str, tuple[str, str, str]]:
    """CSS class of each tile's value -> (title, value shown, note)."""
    tree = json.loads(text)
    row = tree["fc-tiles"]["children"]["props"]["children"]
    out = {}
    for col in row:
        body = col["props"]["children"]["props"]["children"]["props"]["children"]
        title, value, note = (part["props"] for part in body)
        cls = next(c for c in value["className"].split() if c.startswith("fc-tile-"))
        out[cls] = (title["children"], value["title"], note["children"])
    return out


def cents(text: str) -> int:
    """'$1,234.50' -> 123450."""
    return int(re.sub(r"[$,.]", "", text))


def _plain(text: str) -> str:
    """The summary's words without the component markup."""
    tree = json.loads(text)["fc-behaviour-summary"]["children"]

    def walk(node) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, list):
            return "".join(walk(n) for n in node)
        return walk(node.get("props", {}).get("children", ""))

    return walk(tree)


def test_model_weekly_frame_by_hand(sqlite_url, monkeypatch):
    clear_snapshots()
    add_model_ledger(sqlite_url)
    force_model(monkeypatch)
    snap, f, everyone = get_snapshot(sqlite_url), Filters(), Scope.everyone()
    pred, _ = predict_ui.predictions(snap, D, f, everyone)
    balances = dict(
        zip((str(i) for i in snap.inv_ids[pred.inv]), pred.balance.tolist(), strict=True)
    )
    assert balances == BALANCES
    total_ar = int(Decimal(str(compute_kpis(snap, D, 90, f, everyone)["total_ar"])) * 100)
    assert total_ar == TOTAL_AR == sum(BALANCES.values())

    frame, use_model, _why = service.chosen_weekly(snap, D, f, everyone, 13)
    assert use_model
    # the model's frame: weeks 1-13 and the rest, no zero 'not expected' / 'disputed' rows
    assert list(frame["bucket"]) == [f"Week {k}" for k in range(1, 14)] + ["Later"]
    shown = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    for k in range(1, 14):
        assert shown[f"Week {k}"] == WEEKS.get(k, 0), k
    assert shown["Later"] == LATER
    assert sum(shown.values()) == WEEKS_TOTAL + LATER == TOTAL_AR
    assert int(frame["promised_cents"].sum()) == 0
    assert pv.in_dispute_cents(snap, pred) == IN_DISPUTE
    # the Later bar's invoices sum to it, disputed ones among them
    later = pv.model_week_rows(snap, pred, "Later", 13).set_index("invoice_id")["amount_cents"]
    assert later.to_dict() == {"X1": 50_000, "X2": 22_500, "Y1": 16_666, "Y2": 9_000}


def test_model_tiles_and_summary_tie_to_total_ar(app, monkeypatch):
    force_model(monkeypatch)
    client = _login(app)
    tiles = _tiles(_callback(app, client, "fc-tiles.children"))
    assert list(tiles) == ["fc-tile-total", "fc-tile-weeks", "fc-tile-later", "fc-tile-in-dispute"]
    assert tiles["fc-tile-total"][:2] == ("Total AR", "$2,533.33")
    assert tiles["fc-tile-weeks"][:2] == ("Expected in 13 weeks", "$1,551.67")
    assert tiles["fc-tile-later"][:2] == ("Later or not expected (model)", "$981.66")
    title, value, note = tiles["fc-tile-in-dispute"]
    assert (title, value) == ("In dispute", "$1,200.00")
    # 1,200.00 / 2,533.33 = 47.4 %; beside the sum, not in it
    assert "47.4 %" in note and "included in the model's forecast" in note
    assert "not a term of the sum" in note
    assert cents(tiles["fc-tile-total"][1]) == TOTAL_AR
    assert cents(tiles["fc-tile-weeks"][1]) == WEEKS_TOTAL
    assert cents(tiles["fc-tile-later"][1]) == LATER
    # the sum's terms: weeks + the model's rest = total AR, to the cent
    assert cents(tiles["fc-tile-weeks"][1]) + cents(tiles["fc-tile-later"][1]) == cents(
        tiles["fc-tile-total"][1]
    )
    text = json.dumps(tiles)
    assert "Not expected (history)" not in text and "not forecast" not in text

    raw = _callback(app, client, "fc-behaviour-summary.children")
    summary = _plain(raw)
    assert summary.startswith("Source: the payment-prediction model, because its backtest beats")
    assert (
        "Weeks 1–13: $1,551.67 + later or not expected (model) $981.66 = total AR $2,533.33."
        in summary
    )
    assert "In dispute: $1,200.00 of total AR, included in the model's forecast" in summary
    for gone in ("$0.00", "promised", "not expected (history)", "not forecast"):
        assert gone not in summary, gone
    for cls in ("fc-sum-weeks", "fc-sum-later", "fc-sum-total", "fc-sum-disputed"):
        assert cls in raw, cls


def test_behaviour_tiles_and_summary_unchanged(app):
    """Without a model the page shows the behaviour forecast's four parts, as before."""
    client = _login(app)
    tiles = _tiles(_callback(app, client, "fc-tiles.children"))
    assert list(tiles) == [
        "fc-tile-total",
        "fc-tile-weeks",
        "fc-tile-uncollectible",
        "fc-tile-disputed",
    ]
    # No invoice was ever settled by a payment: no delay to add (0 days), and X1 and Y1 are not due
    # yet, so history expects all of them: X1 600.00 on 10 July (week 2) + its promised 400.00 on
    # 15 July (week 3), Y1 333.33 on 20 July (week 3) = 1,333.33; nothing later, nothing lost.
    # X2 and Y2 (no promise on them) are left out whole: 300.00 + 900.00.
    assert tiles == {
        "fc-tile-total": ("Total AR", "$2,533.33", "open at the as-of date"),
        "fc-tile-weeks": ("Expected in 13 weeks", "$1,333.33", "52.6 % of total AR"),
        "fc-tile-uncollectible": ("Not expected (history)", "$0.00", "0.0 % of total AR"),
        "fc-tile-disputed": ("In dispute, not forecast", "$1,200.00", "47.4 % of total AR"),
    }
    terms = [
        cents(tiles[c][1]) for c in ("fc-tile-weeks", "fc-tile-uncollectible", "fc-tile-disputed")
    ]
    assert sum(terms) == TOTAL_AR
    summary = _plain(_callback(app, client, "fc-behaviour-summary.children"))
    assert summary.startswith("Source: payment behaviour")
    assert summary.endswith(
        ". Weeks 1–13: $1,333.33 (promised $400.00) + later $0.00 + not expected (history) $0.00 + in "
        "dispute, not forecast $1,200.00 = total AR $2,533.33"
    )


def test_export_tiles_on_the_model_path(sqlite_url, monkeypatch):
    from dashboard.export.page_sheets import _forecast_tiles
    from dashboard.views import ChartRequest

    clear_snapshots()
    add_model_ledger(sqlite_url)
    force_model(monkeypatch)
    req = ChartRequest(D, "due", 90, Filters(), Scope.everyone())
    tiles = _forecast_tiles(get_snapshot(sqlite_url), req, "USD")
    shown = {t.label: t.value for t in tiles}
    assert shown == {
        "Total AR": "$2,533.33",
        "Expected in 13 weeks": "$1,551.67",
        "Later or not expected (model)": "$981.66",
        "In dispute": "$1,200.00",
    }
    assert cents(shown["Expected in 13 weeks"]) + cents(
        shown["Later or not expected (model)"]
    ) == cents(shown["Total AR"])
    assert "not a term" in tiles[-1].sub
    assert not any("$0.00" == t.value for t in tiles)
