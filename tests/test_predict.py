"""Payment predictions: a hand-made ledger with obvious answers, the backtest against the CLI, cohorts, scope.

Ledger (worked out by hand): customer A (rep RA) gets an invoice of 100.00 every 7 days from
2023-01-02, net 30, and always pays it 10 days after its due date. Customer B (rep RB) gets an
invoice of 200.00 every 14 days from 2023-01-09 and never pays. The data ends on 2025-06-30 (D).
At D, A's invoice issued 2025-06-09 (due 2025-07-09) will be paid on 2025-07-19 = D + 19 days:
not within 7 days, surely within 30. No invoice of B is ever paid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import time
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import select

from dashboard.data.db import get_engine
from dashboard.data.models import Allocation, Invoice, Payment
from dashboard.metrics import predict as pm
from dashboard.metrics import predict_backtest as pb
from dashboard.metrics import predict_store as st
from dashboard.metrics import predict_views as pv
from dashboard.metrics.filters import Scope
from dashboard.metrics.ledger import select as select_customers
from dashboard.metrics.snapshot import clear_snapshots, get_snapshot, to_day
from tests.ledger import add_ledger

D = dt.date(2025, 6, 30)
START_A, START_B = dt.date(2023, 1, 2), dt.date(2023, 1, 9)


@pytest.fixture(autouse=True)
def _fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("AR_MODEL_DIR", str(tmp_path / "models"))
    clear_snapshots()
    yield
    clear_snapshots()


def _ledger(url: str) -> None:
    invoices, payments = [], []
    day, k = START_A, 0
    while day <= D:
        due, paid = day + dt.timedelta(days=30), day + dt.timedelta(days=40)
        invoices.append(
            {
                "invoice_id": f"A{k:03d}",
                "customer_id": "A",
                "issue_date": day.isoformat(),
                "due_date": due.isoformat(),
                "amount": "100.00",
            }
        )
        if paid <= D:
            payments.append(
                {
                    "payment_id": f"PA{k:03d}",
                    "customer_id": "A",
                    "date": paid.isoformat(),
                    "amount": "100.00",
                    "invoice_id": f"A{k:03d}",
                }
            )
        day, k = day + dt.timedelta(days=7), k + 1
    day, k = START_B, 0
    while day <= D:
        invoices.append(
            {
                "invoice_id": f"B{k:03d}",
                "customer_id": "B",
                "issue_date": day.isoformat(),
                "due_date": (day + dt.timedelta(days=30)).isoformat(),
                "amount": "200.00",
            }
        )
        day, k = day + dt.timedelta(days=14), k + 1
    allocations = [
        {"payment_id": p["payment_id"], "invoice_id": p["invoice_id"], "amount": p["amount"]}
        for p in payments
    ]
    add_ledger(
        url,
        sales_reps=[{"sales_rep_id": "RA"}, {"sales_rep_id": "RB"}],
        customers=[
            {"customer_id": "A", "segment": "S", "sales_rep_id": "RA"},
            {"customer_id": "B", "segment": "S", "sales_rep_id": "RB"},
        ],
        invoices=invoices,
        payments=payments,
        allocations=allocations,
    )


def _train_through_the_queue(url: str) -> st.Bundle:
    """Train as the app does: a job of kind 'predict' (in a thread without Redis)."""
    from dashboard.jobs import MemoryStore, get_job
    from dashboard.predict_jobs import submit_predict_training

    store = MemoryStore()
    job_id = submit_predict_training(url, store=store)
    for _ in range(1200):
        job = get_job(job_id, store)
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.25)
    assert job["state"] == "done", job["message"]
    bundle = st.current_bundle(get_snapshot(url))
    assert bundle is not None
    return bundle


def _cli_rows(url: str, as_of: dt.date, *extra: str) -> list[dict]:
    from dashboard.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["--database-url", url, "predict", "--as-of", as_of.isoformat(), *extra, "--json"])
            == 0
        )
    return json.loads(out.getvalue())


def _settled_on(url: str) -> dict[str, dt.date]:
    """Settlement date of each invoice, from the database: the day its allocations reach its amount."""
    engine = get_engine(url)
    with engine.connect() as conn:
        amounts = dict(conn.execute(select(Invoice.invoice_id, Invoice.amount_cents)).all())
        pay_dates = dict(conn.execute(select(Payment.payment_id, Payment.date)).all())
        allocs = conn.execute(
            select(
                Allocation.payment_id,
                Allocation.invoice_id,
                Allocation.amount_cents,
                Allocation.date,
            )
        ).all()
    paid: dict[str, list] = {}
    for pay, inv, cents, when in allocs:
        paid.setdefault(inv, []).append((when or pay_dates[pay], cents))
    settled = {}
    for inv, rows in paid.items():
        total = 0
        for when, cents in sorted(rows):
            total += cents
            if total >= amounts[inv]:
                settled[inv] = when
                break
    return settled


def test_obvious_ledger_predictions_and_backtest(db_url):
    _ledger(db_url)
    bundle = _train_through_the_queue(db_url)
    assert bundle.meta["seed"] == pm.SEED and bundle.meta["model_version"].startswith("hgb")
    assert bundle.meta["cutoff"] == D.isoformat()

    rows = {r["invoice_id"]: r for r in _cli_rows(db_url, D)}
    # issued 9 June, due 9 July, paid late -> 19 July
    a = rows[f"A{(dt.date(2025, 6, 9) - START_A).days // 7:03d}"]
    assert a["customer_id"] == "A" and a["open_balance"] == "100.00"
    assert a["p_paid_7"] < 0.2 and a["p_paid_30"] > 0.8
    expected = dt.date.fromisoformat(a["expected_date"])
    assert abs((expected - dt.date(2025, 7, 19)).days) <= 7
    assert (
        dt.date.fromisoformat(a["expected_date_low"])
        <= expected
        <= dt.date.fromisoformat(a["expected_date_high"])
    )
    b = [r for r in rows.values() if r["customer_id"] == "B"]
    assert len(b) == 65 and all(r["p_paid_90"] < 0.1 for r in b)  # every B invoice is open at D
    assert all(r["expected_date"] is None for r in b)  # not expected within 180 days
    for r in rows.values():
        assert r["p_paid_7"] <= r["p_paid_30"] <= r["p_paid_90"]

    # reproducible: the stored predictions at the cutoff = scoring again = training again from scratch
    snap = get_snapshot(db_url)
    day = to_day(D)
    stored = st.stored_predictions(snap, bundle, day)
    again = pm.model_predictions(snap, bundle.models[day], day)
    assert (
        stored is not None
        and np.array_equal(stored.cdf, again.cdf)
        and np.array_equal(stored.expected, again.expected)
    )
    from dashboard.predict_jobs import train_bundle

    _meta, models, backtest, scored = train_bundle(snap)
    assert np.array_equal(scored[day]["cdf"], stored.cdf)
    assert all(
        np.array_equal(backtest[d]["cdf"], bundle.backtest[d]["cdf"]) for d in bundle.backtest
    )

    # the model's weekly cash forecast (used by the Forecast page when it wins) ties to total AR and to its drills
    from dashboard.metrics.forecast import behaviour_forecast

    frame = pv.model_weekly_frame(stored, behaviour_forecast(snap, D), 13)
    assert (
        int(frame["expected_cents"].sum()) == int(stored.balance.sum()) == 6 * 10_000 + 65 * 20_000
    )
    for bucket in ("Week 1", "Week 3", "Later"):
        rows = pv.model_week_rows(snap, stored, bucket, 13)
        assert int(rows["amount_cents"].sum()) == int(
            frame.loc[frame["bucket"] == bucket, "expected_cents"].iloc[0]
        )

    # the worklist: B's never-paid 200.00 invoices carry the largest expected loss, and say why
    wl = pv.worklist(snap, st.predictions_at(snap, to_day(D), bundle))
    assert (
        set(wl["customer_id"].head(65)) == {"B"}
        and (wl["expected_loss_cents"].head(65) > 18_000).all()
    )
    first = wl.iloc[0]["reason"]
    assert (
        "chance it is not paid within 30 days" in first
        and "customer has paid no invoice in the last 12 months" in first
    )
    assert "days past due" in first
    a_reason = wl[wl["customer_id"] == "A"].iloc[0]["reason"]
    assert "customer usually pays 10 days late" in a_reason

    # the app's calibration = a recomputation from the CLI's output and the ledger, at every backtest date
    result = pb.backtest(snap, select_customers(snap), bundle)
    settled = _settled_on(db_url)
    assert len(result["by_date"]) == 6
    for row in result["by_date"].itertuples():
        cli = _cli_rows(db_url, row.as_of)
        outcome = [
            1.0 if inv in settled and settled[inv] <= row.as_of + dt.timedelta(days=30) else 0.0
            for inv in (r["invoice_id"] for r in cli)
        ]
        mine = float(
            np.mean([(r["p_paid_30"] - y) ** 2 for r, y in zip(cli, outcome, strict=True)])
        )
        assert len(cli) == row.invoices
        assert mine == pytest.approx(row.brier_model, abs=1e-3)
    # targets on this ledger: the model beats both baselines
    overall = result["overall"]
    assert overall["model"]["brier"] < min(
        overall["due date"]["brier"], overall["customer's average delay"]["brier"]
    )
    rel = result["reliability"]
    assert (rel.loc[rel["enough"], "gap_points"] <= 10).all()


def test_scope_on_predictions_worklist_aging_and_cohorts(db_url):
    _ledger(db_url)
    snap = get_snapshot(db_url)
    day = to_day(D)
    pred = st.predictions_at(snap, day, None)  # no model yet: the baseline, said so
    assert pred.source == "customer's average delay"
    assert "No model trained" in st.describe(None, day)
    rep_a = Scope(sales_rep_ids=frozenset({"RA"}), label="sales rep RA")
    mine = pv.scoped(snap, pred, None, rep_a)
    # A's invoices open at D: issued 26 May, 2, 9, 16, 23 and 30 June (each is paid 40 days after issue)
    assert set(snap.cust_ids[mine.cust]) == {"A"} and len(mine.inv) == 6
    wl = pv.worklist(snap, mine)
    assert set(wl["customer_id"]) == {"A"}
    # the pages' baseline of a selection is computed over its own open invoices: the same rows
    from dashboard.metrics import predict_ui

    own, _ = predict_ui.predictions(snap, D, None, rep_a)
    for name in ("inv", "balance", "cust", "cdf", "expected", "low", "high"):
        assert np.array_equal(getattr(own, name), getattr(mine, name)), name
    aging = pv.predicted_aging(snap, mine)
    assert aging[aging["ahead_days"] == 0]["amount_cents"].sum() == 6 * 10_000
    coh = pv.cohorts(snap, D, None, rep_a)
    assert set(pv.cohort_cell(snap, D, None, rep_a, "2025-06", 0)["customer_id"]) == {"A"}
    assert coh["summary"]["invoiced_cents"].sum() == 10_000 * len(
        [k for k in range(200) if dt.date(2023, 7, 1) <= START_A + dt.timedelta(days=7 * k) <= D]
    )
    nobody = pv.scoped(snap, pred, None, Scope.nothing())
    assert len(nobody.inv) == 0 and pv.worklist(snap, nobody).empty


def test_cohorts_sum_to_invoiced_amounts(db_url):
    _ledger(db_url)
    snap = get_snapshot(db_url)
    coh = pv.cohorts(snap, D, months=24)
    summary, curve = coh["summary"], coh["curve"]
    # by hand: A invoices 100.00 weekly, B 200.00 fortnightly, issued July 2023 .. June 2025
    a = [START_A + dt.timedelta(days=7 * k) for k in range(200)]
    b = [START_B + dt.timedelta(days=14 * k) for k in range(100)]
    window = lambda d: dt.date(2023, 7, 1) <= d <= D  # noqa: E731
    expected = 10_000 * sum(map(window, a)) + 20_000 * sum(map(window, b))
    assert int(summary["invoiced_cents"].sum()) == expected
    june = summary.set_index("cohort").loc["2025-06"]
    # June 2025: A on 2, 9, 16, 23, 30 June; B on 9 and 23 June (every 14 days from 9 Jan 2023)
    assert int(june["invoiced_cents"]) == 5 * 10_000 + 2 * 20_000 and int(june["invoices"]) == 7
    # March 2025 cohort: A's invoices of March are paid 40 days after issue; by the end of April
    # those issued up to 21 March are paid (3, 10, 17 March -> 12, 19, 26 April; 24, 31 March -> May)
    march = curve[(curve["cohort"] == "2025-03")].set_index("months_since")
    assert int(march.loc[1, "collected_cents"]) == 3 * 10_000
    assert int(march.loc[2, "collected_cents"]) == 5 * 10_000
    cell = pv.cohort_cell(snap, D, None, None, "2025-03", 1)
    assert int(cell["invoice_amount_cents"].sum()) == int(march.loc[1, "invoiced_cents"])
    assert int(cell["amount_cents"].sum()) == int(march.loc[1, "collected_cents"])
    # B never pays: every matured B invoice is still unpaid 90 days after due; A's never are
    assert int(summary["unpaid_90_cents"].sum()) == 20_000 * sum(
        1 for d in b if window(d) and d + dt.timedelta(days=120) <= D
    )


def test_predicted_aging_ties_to_rows():
    snapless = pm.Predictions(
        day=0,
        inv=np.array([0, 1]),
        balance=np.array([10_001, 333]),
        cust=np.array([0, 0]),
        cdf=np.tile(np.linspace(0.1, 0.8, len(pm.EDGES)), (2, 1)),
        expected=np.array([5, 5]),
        low=np.array([1, 1]),
        high=np.array([9, 9]),
        source="model",
    )
    # 30 days: P(paid) = cdf[3] = 0.4 -> open 60 %: 6,000.6 -> 6,001 and 199.8 -> 200
    assert list(pv.expected_open(snapless, 30)) == [6_001, 200]
    assert pv.half_up(np.array([2.5, 3.49999])).tolist() == [3, 3]


def test_api_predictions_scope_and_parameters(db_url, monkeypatch):
    from auth_helpers import AS_OF, make_world

    queued = []
    monkeypatch.setattr(
        "dashboard.predict_jobs.request_training", lambda snap: queued.append(snap.version) or True
    )
    world = make_world(db_url)
    rep1 = world.login("rep1")
    response = rep1.get(f"/api/predictions?as_of={AS_OF}")
    assert response.status_code == 200 and "baseline" in response.headers["X-AR-Prediction-Source"]
    rows = response.get_json()
    # rep1 owns C1 (I1 600.00 after a 400.00 payment, I2 234.56) and C2 (I3 50.05)
    assert {(r["invoice_id"], r["customer_id"], r["open_balance"]) for r in rows} == {
        ("I1", "C1", "600.00"),
        ("I2", "C1", "234.56"),
        ("I3", "C2", "50.05"),
    }
    assert queued  # the request queued training, it did not train
    everyone = world.login("admin").get(f"/api/predictions?as_of={AS_OF}").get_json()
    assert Decimal(sum(Decimal(r["open_balance"]) for r in everyone)) == Decimal("2462.39")
    assert rep1.get("/api/predictions?as_of=2024-13-01").status_code == 400
    bad = rep1.get("/api/predictions?as_of=2024-03-01&bogus=1")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "bogus"
    assert world.client().get("/api/predictions").status_code in (302, 401)


# ---- targets on real and demo data (slow) ---------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
IBM_CSV = __import__("pathlib").Path(
    __import__("os").environ.get("AR_IBM_CSV")
    or ROOT.parent / "shared" / "external" / "ibm-late-payment-histories.csv"
)
IBM_MAPPING = ROOT / "dashboard" / "mappings" / "ibm-late-payment-histories.toml"


def _assert_targets(url: str) -> dict:
    """Train as the job does, backtest, and check the issue's targets at every backtest date."""
    from dashboard.predict_jobs import train_for_current_version

    train_for_current_version(url, log=lambda _m: None)
    snap = get_snapshot(url)
    result = pb.backtest(snap, select_customers(snap), st.current_bundle(snap))
    by_date = result["by_date"]
    assert len(by_date) >= 4
    best = np.minimum(by_date["brier_due_date"], by_date["brier_delay"])
    assert (by_date["brier_model"] < best).all(), by_date
    rel = result["reliability"]
    assert rel["enough"].sum() >= 2 and (rel.loc[rel["enough"], "gap_points"] <= 10).all(), rel
    assert result["decision"]["use_model"]
    return result


@pytest.mark.slow
@pytest.mark.skipif(not IBM_CSV.exists(), reason="shared/external sample not present")
def test_targets_on_the_ibm_sample(sqlite_url):
    from dashboard.data.importer import run_import

    run_import(IBM_CSV.parent, mapping=IBM_MAPPING, url=sqlite_url, progress=False)
    _assert_targets(sqlite_url)


@pytest.mark.slow
def test_targets_on_the_demo_ledger(sqlite_url):
    from dashboard.data.demo import load_demo

    load_demo(sqlite_url, customers=300, invoices=8000, seed=3, progress=False, today=D)
    _assert_targets(sqlite_url)


def test_worklist_grids_hold_the_scope(sqlite_url):
    """The Predictions worklist and the workspace's worklist tab, through the app: a rep sees only their customers."""
    from test_ui_analytics_b import FILTERS, World, fill_grid

    world = World(sqlite_url)
    admin, rep1 = world.login("admin"), world.login("rep1")
    for grid_name, data in (
        ("pr-worklist", {"filters": FILTERS}),
        ("ws-invoices", {"filters": FILTERS, "tab": "worklist", "status": [], "owner": "__all__"}),
    ):
        everyone = fill_grid(world, admin, grid_name, data)["rows"]
        mine = fill_grid(world, rep1, grid_name, data)["rows"]
        assert mine and {r["sales_rep_id"] for r in mine} == {"R1"}, grid_name
        assert len(everyone) > len(mine) and {r["invoice_id"] for r in mine} < {
            r["invoice_id"] for r in everyone
        }
        assert all("chance it is not paid within 30 days" in r["reason"] for r in mine)


def test_large_ledger_parameters_keep_the_obvious_answers(sqlite_url, monkeypatch):
    """A ledger with at least LARGE_LEDGER_ROWS training rows gets LARGE_PARAMS (fewer, larger steps:
    cheaper scoring); on the hand-made ledger they still give A's and B's obvious answers."""
    _ledger(sqlite_url)
    snap = get_snapshot(sqlite_url)
    cutoff = to_day(D)
    x, y, total = pm.training_rows(snap, cutoff)
    assert total == len(y) == len(x) > 0
    small, _ = pm.train(snap, cutoff)
    assert small.get_params()["max_iter"] == pm.MODEL_PARAMS["max_iter"]
    monkeypatch.setattr(pm, "LARGE_LEDGER_ROWS", total)
    large, _ = pm.train(snap, cutoff)
    assert large.get_params()["max_iter"] == pm.LARGE_PARAMS["max_iter"]
    assert large.get_params()["learning_rate"] == pm.LARGE_PARAMS["learning_rate"]
    pred = pm.model_predictions(snap, large, cutoff)
    ids = snap.inv_ids[pred.inv]
    a = pred.inv[ids == f"A{(dt.date(2025, 6, 9) - START_A).days // 7:03d}"]
    row = np.flatnonzero(pred.inv == a[0])[0]
    assert pred.p(7)[row] < 0.2 and pred.p(30)[row] > 0.8
    assert abs(int(pred.expected[row]) - to_day(dt.date(2025, 7, 19))) <= 7
    is_b = np.array([str(i).startswith("B") for i in ids])
    assert is_b.sum() == 65 and (pred.p(90)[is_b] < 0.1).all()


def test_the_top_of_the_worklist_is_the_full_worklists_top_with_the_same_reasons(db_url):
    """The Receivables Health lines ask for the top 3 only: the same rows, losses and reasons as the
    full worklist's first 3, and the customer's share 90+ days past due is over the customer's
    whole open book, not over the rows shown.

    By hand, with the baseline (no model): A pays 10 days after due, so B (no history) takes the
    segment's 10 days; B's overdue invoices are expected tomorrow (no loss) and only B's last one
    (issued 2025-06-23, due 2025-07-23, expected 2025-08-02 = D + 33 days) is a full loss of
    200.00, the largest. B's 65 open invoices are issued every 14 days from 2023-01-09; those due
    before D - 90 days (2025-04-01), i.e. issued before 2025-03-02, are k = 0..55: 56 of 65 =
    86 % of B's balance (all equal) is 90+ days past due.
    """
    _ledger(db_url)
    snap = get_snapshot(db_url)
    pred = st.predictions_at(snap, to_day(D), None)
    full = pv.worklist(snap, pred)
    top = pv.worklist(snap, pred, limit=3)
    assert top.to_dict("records") == full.head(3).to_dict("records")
    first = top.iloc[0]
    assert first["invoice_id"] == "B064" and int(first["expected_loss_cents"]) == 20_000
    assert "86 % of the customer's balance is 90+ days past due" in first["reason"]
    assert pv.ranked(np.array([5, 7, 7, 1]), np.array([0, 2, 1, 3]), 2).tolist() == [2, 1]
    assert pv.ranked(np.array([5, 7, 7, 1]), np.array([0, 2, 1, 3]), None).tolist() == [2, 1, 0, 3]
