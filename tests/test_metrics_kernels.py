"""The per-request kernels of the busy pages (frame columns, drill-down frames, KPI passes,
expected-loss ranking): hand-worked figures on a small ledger, and the same frames as the plain way."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics import columns, tables
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import NO_DATE, clear_snapshots, get_snapshot, to_day
from tests.ledger import add_ledger

D = dt.date.fromisoformat


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    clear_snapshots()
    yield
    clear_snapshots()


def small_ledger(url: str) -> None:
    """C1 Acme (Retail, North, rep R1), C2 Beta (Wholesale, South, rep R2), both net 30.

    I1 C1 2025-01-10 100.00, 40.00 paid 2025-02-01 -> 60.00 open
    I2 C1 2025-02-20  25.50 open
    I3 C2 2025-01-05  80.00 paid in full 2025-02-10
    I4 C2 2025-02-25  12.34 open
    """
    add_ledger(
        url,
        sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}],
        customers=[
            {
                "customer_id": "C1",
                "name": "Acme",
                "segment": "Retail",
                "region": "North",
                "sales_rep_id": "R1",
            },
            {
                "customer_id": "C2",
                "name": "Beta",
                "segment": "Wholesale",
                "region": "South",
                "sales_rep_id": "R2",
            },
        ],
        invoices=[
            {
                "invoice_id": "I1",
                "customer_id": "C1",
                "issue_date": "2025-01-10",
                "due_date": "2025-02-09",
                "amount": "100.00",
            },
            {
                "invoice_id": "I2",
                "customer_id": "C1",
                "issue_date": "2025-02-20",
                "due_date": "2025-03-22",
                "amount": "25.50",
            },
            {
                "invoice_id": "I3",
                "customer_id": "C2",
                "issue_date": "2025-01-05",
                "due_date": "2025-02-04",
                "amount": "80.00",
            },
            {
                "invoice_id": "I4",
                "customer_id": "C2",
                "issue_date": "2025-02-25",
                "due_date": "2025-03-27",
                "amount": "12.34",
            },
        ],
        payments=[
            {"payment_id": "P1", "customer_id": "C1", "date": "2025-02-01", "amount": "40.00"},
            {"payment_id": "P2", "customer_id": "C2", "date": "2025-02-10", "amount": "80.00"},
        ],
        allocations=[
            {"payment_id": "P1", "invoice_id": "I1", "amount": "40.00"},
            {"payment_id": "P2", "invoice_id": "I3", "amount": "80.00"},
        ],
    )


# ---- frame columns (dashboard.metrics.columns) ----------------------------------------------------


def test_dates_are_date_objects_and_none_for_no_date():
    days = np.array([to_day(D("2025-03-01")), NO_DATE, to_day(D("2024-02-29"))], dtype=np.int32)
    out = columns.dates(days)
    assert out.dtype == object
    assert list(out) == [D("2025-03-01"), None, D("2024-02-29")]
    assert list(columns.dates(np.array([], dtype=np.int32))) == []
    assert list(columns.dates(np.array([NO_DATE]))) == [None]
    # far-apart days: converted one by one, same values
    far = np.array([0, 2_000_000, NO_DATE])
    assert list(columns.dates(far)) == [
        dt.date(1970, 1, 1),
        dt.date(1970, 1, 1) + dt.timedelta(days=2_000_000),
        None,
    ]


def test_money_text_is_exact_two_place_decimal_text():
    cents = np.array([0, 1, -1, 5, 99, 100, -100, 12345, -12305, 10**15 + 7])
    got = columns.money_text(cents)
    assert list(got) == [
        "0.00",
        "0.01",
        "-0.01",
        "0.05",
        "0.99",
        "1.00",
        "-1.00",
        "123.45",
        "-123.05",
        "10000000000000.07",
    ]
    assert pd.Series(got).dtype == pd.Series(np.array(["x"])).dtype
    assert list(columns.money_text(np.array([], dtype=np.int64))) == []
    assert list(columns.labels(("long", "short"), np.array([True, False, True]))) == [
        "short",
        "long",
        "short",
    ]


def test_relabel_maps_each_distinct_value_once():
    from dashboard.figures.aging import DUE_LABELS

    keys = pd.Series(np.array(["not_due", "1-30", "90+", "other", "1-30"]))
    got = columns.relabel(keys, DUE_LABELS)
    assert list(got) == ["Not due", "1–30 days", "90+ days", "other", "1–30 days"]
    pd.testing.assert_series_equal(got, keys.map(lambda v: DUE_LABELS.get(v, v)))
    blank = pd.Series(["not_due", None], dtype=keys.dtype)
    assert list(columns.relabel(blank, DUE_LABELS).isna()) == [False, True]


def test_text_columns_have_the_plain_dtype_and_values(db_url):
    small_ledger(db_url)
    snap = get_snapshot(db_url)
    cust = np.array([1, 0, 1])  # C2, C1, C2
    plain = pd.Series(np.array(["x"])).dtype
    got = columns.customer_columns(snap, cust)
    assert list(got["customer_id"]) == ["C2", "C1", "C2"]
    assert list(got["customer_name"]) == ["Beta", "Acme", "Beta"]
    assert list(got["segment"]) == ["Wholesale", "Retail", "Wholesale"]
    assert list(got["region"]) == ["South", "North", "South"]
    assert list(got["sales_rep_id"]) == ["R2", "R1", "R2"]
    assert all(pd.Series(v).dtype == plain for v in got.values())
    ids = columns.ids(snap.inv_ids[np.array([3, 0])])
    assert list(ids) == ["I4", "I1"] and pd.Series(ids).dtype == plain
    assert list(columns.ids(snap.inv_ids[np.array([], dtype=np.int64)])) == []


def test_open_invoices_frame_by_hand(db_url):
    small_ledger(db_url)
    snap = get_snapshot(db_url)
    frame = tables.open_invoices(snap, D("2025-03-01"), 90, Filters(), Scope.everyone())
    # open at 2025-03-01: I1 60.00 (20 days past due), I2 25.50 and I4 12.34 (not due);
    # order: days past due descending, then invoice id
    assert list(frame["invoice_id"]) == ["I1", "I2", "I4"]
    assert list(frame["amount_cents"]) == [6000, 2550, 1234]
    assert list(frame["days_past_due"]) == [20, -21, -26]
    assert list(frame["customer_name"]) == ["Acme", "Acme", "Beta"]
    assert list(frame["issue_date"]) == [D("2025-01-10"), D("2025-02-20"), D("2025-02-25")]
    assert list(frame["due_date"]) == [D("2025-02-09"), D("2025-03-22"), D("2025-03-27")]
    assert list(frame["aging_due"]) == ["1-30", "not_due", "not_due"]
    assert int(frame["amount_cents"].sum()) == 9784  # total AR 97.84
    collections = tables.drill(
        snap, "collections", D("2025-03-01"), 90, Filters(), Scope.everyone()
    )
    assert list(collections["payment_id"]) == ["P1", "P2"]
    assert list(collections["date"]) == [D("2025-02-01"), D("2025-02-10")]
    assert int(collections["amount_cents"].sum()) == 12000


# ---- unapplied payments from the loose allocations; per-day delays ------------------------------


def loose_ledger(url: str) -> None:
    """C1: I1 100.00 (due 2025-01-31) and I3 300.00 (due 2025-01-10), both issued 2025-01-01.

    P1 150.00 received 2025-01-10, 100.00 of it allocated to I1 on 2025-01-20 (loose: not fully
    allocated on its own date; 50.00 stays unapplied); P3 300.00 on 2025-01-20 pays I3;
    P2 30.00 received 2025-01-12, never allocated.
    """
    add_ledger(
        url,
        customers=[{"customer_id": "C1", "segment": "Retail"}],
        invoices=[
            {
                "invoice_id": "I1",
                "customer_id": "C1",
                "issue_date": "2025-01-01",
                "due_date": "2025-01-31",
                "amount": "100.00",
            },
            {
                "invoice_id": "I3",
                "customer_id": "C1",
                "issue_date": "2025-01-01",
                "due_date": "2025-01-10",
                "amount": "300.00",
            },
        ],
        payments=[
            {"payment_id": "P1", "customer_id": "C1", "date": "2025-01-10", "amount": "150.00"},
            {"payment_id": "P2", "customer_id": "C1", "date": "2025-01-12", "amount": "30.00"},
            {"payment_id": "P3", "customer_id": "C1", "date": "2025-01-20", "amount": "300.00"},
        ],
        allocations=[
            {"payment_id": "P1", "invoice_id": "I1", "amount": "100.00", "date": "2025-01-20"},
            {"payment_id": "P3", "invoice_id": "I3", "amount": "300.00"},
        ],
    )


def test_unapplied_payments_by_hand(db_url):
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.ledger import unapplied_items

    loose_ledger(db_url)
    snap = get_snapshot(db_url)

    def unapplied(day: str) -> dict[str, int]:
        items = unapplied_items(snap, to_day(D(day)))
        return {str(r): int(c) for r, c in zip(items.ref, items.own, strict=True)}

    assert unapplied("2025-01-09") == {}
    assert unapplied("2025-01-11") == {"P1": 15000}  # nothing allocated yet
    assert unapplied("2025-01-15") == {"P1": 15000, "P2": 3000}
    assert unapplied("2025-01-20") == {"P1": 5000, "P2": 3000}  # 100.00 applied to I1 on the 20th
    k = compute_kpis(snap, D("2025-01-15"), 30, Filters(), Scope.everyone())
    assert k["unapplied_credits"] == "180.00"
    assert k["total_ar"] == "400.00"
    k = compute_kpis(snap, D("2025-01-25"), 30, Filters(), Scope.everyone())
    assert k["unapplied_credits"] == "80.00"
    assert k["total_ar"] == "0.00"


def test_payment_delay_per_day_is_kept_and_read_only(db_url):
    from dashboard.metrics.behaviour import payment_delay, settled_by_payment

    loose_ledger(db_url)
    snap = get_snapshot(db_url)
    day = to_day(D("2025-02-01"))
    everyone = np.ones(snap.n_customers, dtype=bool)
    first = payment_delay(snap, everyone, day)
    # I1 settled 2025-01-20, due 2025-01-31: -11 days, weight 100.00; I3 settled 2025-01-20, due
    # 2025-01-10: +10 days, weight 300.00 -> (100 x -11 + 300 x 10) / 400 = 4.75
    assert first["customer"][0] == pytest.approx(4.75)
    assert float(first["portfolio"]) == pytest.approx(4.75)
    assert payment_delay(snap, everyone, day) is first
    assert not first["customer"].flags.writeable
    assert sorted(snap.inv_ids[settled_by_payment(snap, everyone, day)]) == ["I1", "I3"]
    # a filtered mask is computed afresh (same figures here: one customer)
    assert payment_delay(snap, snap.segment == "Retail", day)["customer"][0] == pytest.approx(4.75)
    before = payment_delay(snap, everyone, to_day(D("2025-01-15")))
    assert np.isnan(before["customer"][0])  # nothing settled by then


@pytest.mark.parametrize("few", [4096, 0])  # by binary search per invoice / by a pass over all
def test_promise_state_of_a_few_invoices_by_hand(db_url, few, monkeypatch):
    from dashboard.metrics import predict
    from dashboard.metrics.predict import promise_state

    monkeypatch.setattr(predict, "FEW_INVOICES", few)

    loose_ledger(db_url)
    add_ledger(
        db_url,
        promises=[
            # I1: promised on the 5th for the 25th, then on the 12th for the 28th
            {
                "promise_id": "PR1",
                "invoice_id": "I1",
                "made_on": "2025-01-05",
                "promised_date": "2025-01-25",
                "amount": "100.00",
            },
            {
                "promise_id": "PR2",
                "invoice_id": "I1",
                "made_on": "2025-01-12",
                "promised_date": "2025-01-28",
                "amount": "100.00",
            },
            # I3: promised on the 8th for the 9th (broken by the 10th)
            {
                "promise_id": "PR3",
                "invoice_id": "I3",
                "made_on": "2025-01-08",
                "promised_date": "2025-01-09",
                "amount": "300.00",
            },
        ],
    )
    clear_snapshots()
    snap = get_snapshot(db_url)
    i1, i3 = snap.inv_index["I1"], snap.inv_index["I3"]
    inv = np.array([i1, i3])
    # 2025-01-04: no promise made yet
    days, broken = promise_state(snap, to_day(D("2025-01-04")), inv)
    assert np.isnan(days).all() and list(broken) == [0.0, 0.0]
    # 2025-01-10: I1's latest is PR1 (the 25th, 15 days ahead); I3's PR3 (the 9th, passed)
    days, broken = promise_state(snap, to_day(D("2025-01-10")), inv)
    assert list(days) == [15.0, -1.0] and list(broken) == [0.0, 1.0]
    # 2025-01-20: I1's latest is PR2 (the 28th, 8 days ahead)
    days, broken = promise_state(snap, to_day(D("2025-01-20")), inv[:1])
    assert list(days) == [8.0] and list(broken) == [0.0]


# ---- CSV cells (dashboard.export.registry.csv_frame) -------------------------------------------


def test_csv_text_by_hand():
    from dashboard.export.registry import to_csv
    from dashboard.export.tables import totals_cents

    frame = pd.DataFrame(
        {
            "invoice_id": np.array(["I1", "=HYPERLINK(1)", "-12.05", "+x"]),
            "note": pd.Series(["ok", None, "@home", "-"], dtype=pd.Series(np.array(["a"])).dtype),
            "issue_date": pd.Series(
                [D("2025-01-02"), None, D("2024-12-31"), D("2025-03-01")], dtype=object
            ),
            "disputed": np.array([True, False, False, True]),
            "days": np.array([3, -1, 0, 12], dtype=np.int64),
            "amount_cents": np.array([123456, -5, 0, 100], dtype=np.int64),
        }
    )
    assert to_csv(frame) == (
        "invoice_id,note,issue_date,disputed,days,amount\n"
        "I1,ok,2025-01-02,true,3,1234.56\n"
        "'=HYPERLINK(1),,,false,-1,-0.05\n"
        "-12.05,'@home,2024-12-31,false,0,0.00\n"
        "'+x,'-,2025-03-01,true,12,1.00\n"
    )
    assert totals_cents(frame) == {"amount_cents": 123551}
    # a money column with a blank: cell by cell, the blank left empty
    blank = pd.DataFrame({"amount_cents": pd.Series([100, None], dtype=object), "n": [1, 2]})
    assert to_csv(blank) == "amount,n\n1.00,1\n,2\n"
    assert totals_cents(blank) == {"amount_cents": 100}


# ---- drill-down previews: count, totals and first rows without the whole frame -------------------


PREVIEW_KEYS = [
    ("total_ar", ()),
    ("overdue_ar", ()),
    ("not_due_ar", ()),
    ("customers_overdue", ()),
    ("aging_due", (("bucket", "1-30"),)),
    ("aging_due", (("bucket", "not_due"), ("terms_group_name", "long"))),
    ("aging_transaction", (("bucket", "current"),)),
    ("credit_sales", ()),
    ("collections", ()),
    ("credit_sales_year", ()),
    ("credit_sales_mtd", ()),
    ("customer", (("customer_id", "C2"),)),
    ("ar_at", (("month", "2025-02"),)),
]


@pytest.mark.parametrize(("key", "params"), PREVIEW_KEYS)
def test_drill_preview_is_the_whole_frame_cut_short(db_url, key, params, monkeypatch):
    from dashboard.views import VIEWS
    from dashboard.views import grids as vg
    from dashboard.views.base import ChartRequest

    small_ledger(db_url)
    snap = get_snapshot(db_url)
    view = VIEWS["drill"]
    req = ChartRequest(
        D("2025-03-01"),
        "due",
        90,
        Filters(),
        Scope.everyone(),
        options=(("key", key), ("title", key), *params),
    )
    monkeypatch.setattr(vg, "PREVIEW_ROWS", 1)  # first rows: one (the rest in blocks)
    from dashboard.views import drill as vd

    monkeypatch.setattr(vd, "PREVIEW_ROWS", 1)
    whole = view.frame(snap, req)
    preview = view.preview(snap, req)
    assert preview is not None and preview.covers()
    frame = whole.frame
    assert preview.n_rows == len(frame)
    assert preview.money_totals() == vg.money_totals(frame)
    pd.testing.assert_frame_equal(preview.gf.frame, frame.head(1), check_exact=True)
    assert preview.gf.labels == whole.labels and preview.gf.currency == whole.currency
    full = vg.make_view(whole, vg.Query())
    shown = vg.PreviewRowsView(preview)
    assert shown.count() == full.count() == len(frame)
    for start, end in ((0, 1), (0, 2), (1, 3), (2, 10), (len(frame), len(frame) + 5)):
        assert shown.block(start, end) == full.block(start, end)
    assert shown.pinned() == full.pinned()
    assert shown.caption() == full.caption()


def test_drill_preview_figures_by_hand(db_url):
    from dashboard.views import VIEWS
    from dashboard.views.base import ChartRequest

    small_ledger(db_url)
    snap = get_snapshot(db_url)
    req = ChartRequest(
        D("2025-03-01"),
        "due",
        90,
        Filters(),
        Scope.everyone(),
        options=(("key", "total_ar"), ("title", "Total AR")),
    )
    preview = VIEWS["drill"].preview(snap, req)
    # open at 2025-03-01: I1 60.00, I2 25.50, I4 12.34 -> 97.84 over 3 rows; invoice amounts 137.84
    assert preview.n_rows == 3
    assert preview.totals == {"invoice_amount_cents": 13784, "amount_cents": 9784}
    assert list(preview.gf.frame["invoice_id"]) == ["I1", "I2", "I4"]
    assert list(preview.gf.frame["aging_due"]) == ["1–30 days", "Not due", "Not due"]
    # the at-risk drill (one row per customer) has no preview: its frame is built
    other = ChartRequest(
        D("2025-03-01"), "due", 90, Filters(), Scope.everyone(), options=(("key", "at_risk"),)
    )
    assert VIEWS["drill"].preview(snap, other) is None


def test_group_max_by_hand():
    from dashboard.metrics.tables import _group_max

    groups = np.array([0, 2, 2, 0, 3])
    values = np.array([5, -3, 7, 1, -(3 * 10**9)])
    empty = -(10**9)
    assert list(_group_max(groups, values, 5, empty)) == [5, empty, 7, -(3 * 10**9), empty]
    only = np.array([False, False, True, True, False])
    assert list(_group_max(groups, values, 5, empty, only=only)) == [
        empty,
        empty,
        7,
        -(3 * 10**9),
        empty,
    ]
    assert list(_group_max(np.array([], dtype=np.int64), np.array([]), 2, 0)) == [0, 0]
