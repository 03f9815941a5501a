"""Demo data: determinism, the ledger invariants the metrics rely on, feature coverage, loading.

Every check recomputes what it asserts from the rows with its own pandas or SQL code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.data.db import get_engine
from dashboard.data.demo import generate_demo, ledger_is_empty, load_demo

TODAY = dt.date(2026, 11, 20)
T = pd.Timestamp(TODAY)
SMALL = {"customers": 300, "invoices": 5000, "seed": 42, "today": TODAY}
TABLES = (
    "sales_reps", "customers", "invoices", "payments", "allocations", "write_offs",
    "promises", "disputes", "commissions", "activities", "fx_rates",
)  # fmt: skip
DATE_COLUMNS = {
    "customers": ["created_on"],
    "invoices": ["issue_date", "due_date"],
    "payments": ["date"],
    "allocations": ["date"],
    "write_offs": ["date"],
    "promises": ["made_on", "promised_date"],
    "disputes": ["opened_on", "resolved_on"],
    "commissions": ["earned_date", "settlement_date"],
    "fx_rates": ["date"],
    "activities": ["date"],
}
ID_PATTERNS = {
    ("sales_reps", "sales_rep_id"): r"R\d{4}",
    ("customers", "customer_id"): r"C\d{6}",
    ("invoices", "invoice_id"): r"(INV|CN)\d{7}",
    ("payments", "payment_id"): r"PAY\d{8}",
    ("promises", "promise_id"): r"PRM\d{7}",
    ("disputes", "dispute_id"): r"DSP\d{6}",
    ("commissions", "commission_id"): r"COM\d{8}",
    ("activities", "activity_id"): r"ACT\d{8}",
}
MONEY = {
    "invoices": ["amount_cents", "cost_cents"],
    "payments": ["amount_cents"],
    "allocations": ["amount_cents"],
    "write_offs": ["amount_cents"],
    "promises": ["amount_cents"],
    "disputes": ["amount_cents"],
    "commissions": ["amount_cents"],
}


@cache
def _small() -> dict[str, pd.DataFrame]:
    """The small demo, generated once per test session."""
    return generate_demo(SMALL["customers"], SMALL["invoices"], SMALL["seed"], TODAY)


def frames() -> dict[str, pd.DataFrame]:
    """A fresh copy of the small demo's frames."""
    return {k: v.copy() for k, v in _small().items()}


def frame_hash(tables: dict[str, pd.DataFrame]) -> str:
    """One digest over every table's values, column names and dtypes."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        digest.update(json.dumps([name, list(df.columns), [str(t) for t in df.dtypes]]).encode())
        digest.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def read_back(url: str) -> dict[str, pd.DataFrame]:
    """Every ledger table from the database, dates parsed, booleans as bool."""
    out = {}
    with get_engine(url).connect() as conn:
        for table in TABLES:
            df = pd.read_sql(text(f"SELECT * FROM {table}"), conn)
            for col in DATE_COLUMNS.get(table, []):
                df[col] = pd.to_datetime(df[col])
            for col in ("disputed", "settled"):
                if col in df:
                    df[col] = df[col].astype(bool)
            out[table] = df.drop(columns=["id"], errors="ignore")
    return out


# --- independent reference computations -------------------------------------------------------


def applications(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Everything applied to positive invoices: (invoice_id, date, amount_cents, kind)."""
    pay_date = f["payments"].set_index("payment_id")["date"]
    al = f["allocations"]
    alloc = pd.DataFrame(
        {
            "invoice_id": al["invoice_id"],
            "date": al["date"].fillna(al["payment_id"].map(pay_date)),
            "amount_cents": al["amount_cents"],
            "kind": "payment",
        }
    )
    inv = f["invoices"]
    cn = inv[inv["applies_to"].notna()]
    credit = pd.DataFrame(
        {
            "invoice_id": cn["applies_to"],
            "date": cn["issue_date"],
            "amount_cents": -cn["amount_cents"],
            "kind": "credit",
        }
    )
    wo = f["write_offs"].assign(kind="write_off")[["invoice_id", "date", "amount_cents", "kind"]]
    return pd.concat([alloc, credit, wo], ignore_index=True)


def invoice_state(f: dict[str, pd.DataFrame], as_of: pd.Timestamp = T) -> pd.DataFrame:
    """Positive invoices with open balance and settlement date as of a date."""
    apps = applications(f)
    apps = apps[apps["date"] <= as_of]
    inv = f["invoices"]
    pos = inv[inv["amount_cents"] > 0].set_index("invoice_id")
    applied = apps.groupby("invoice_id")["amount_cents"].sum()
    pos["open"] = pos["amount_cents"] - applied.reindex(pos.index, fill_value=0)
    apps = apps.sort_values(["invoice_id", "date"])
    apps["cum"] = apps.groupby("invoice_id")["amount_cents"].cumsum()
    apps["total"] = apps["invoice_id"].map(pos["amount_cents"])
    settled = apps[apps["cum"] == apps["total"]].groupby("invoice_id")["date"].min()
    pos["settled_on"] = settled.reindex(pos.index)
    return pos


# --- invariants ------------------------------------------------------------------------------


def check_signs(f):
    """Invoices > 0, credit notes < 0; every other amount > 0."""
    inv = f["invoices"]
    is_cn = inv["invoice_id"].str.startswith("CN")
    assert (inv.loc[~is_cn, "amount_cents"] > 0).all()
    assert (inv.loc[is_cn, "amount_cents"] < 0).all()
    for table in ("payments", "allocations", "write_offs", "promises", "disputes", "commissions"):
        assert (f[table]["amount_cents"] > 0).all(), table


def check_allocations_within_payments(f):
    """Σ allocations per payment <= the payment amount."""
    allocated = f["allocations"].groupby("payment_id")["amount_cents"].sum()
    amount = f["payments"].set_index("payment_id")["amount_cents"]
    assert (allocated <= amount.reindex(allocated.index)).all()


def check_balances_never_negative(f):
    """Allocations + credit notes + write-offs never exceed an invoice's amount."""
    apps = applications(f)
    total = apps.groupby("invoice_id")["amount_cents"].sum()
    amount = f["invoices"].set_index("invoice_id")["amount_cents"]
    assert (total <= amount.reindex(total.index)).all()
    assert (amount.reindex(total.index) > 0).all()  # only positive invoices receive anything


def check_application_dates(f):
    """Nothing applied before the invoice's issue date or after today."""
    apps = applications(f)
    issue = f["invoices"].set_index("invoice_id")["issue_date"]
    assert (apps["date"] >= apps["invoice_id"].map(issue)).all()
    assert (apps["date"] <= T).all()


def check_nothing_after_today(f):
    """No payment, invoice, promise, dispute, activity or commission dated after today."""
    for table, cols in DATE_COLUMNS.items():
        for col in cols:
            if col not in ("promised_date", "due_date"):
                assert (f[table][col].dropna() <= T).all(), (table, col)


def check_allocation_dates(f):
    """Allocation.date is None (= payment date) or on/after the payment date."""
    al = f["allocations"]
    pay_date = al["payment_id"].map(f["payments"].set_index("payment_id")["date"])
    own = al["date"].notna()
    assert (al.loc[own, "date"] >= pay_date[own]).all()


def check_due_dates(f):
    """due = issue + terms (net) or end of the issue month + terms (eom)."""
    inv = f["invoices"].merge(
        f["customers"][["customer_id", "terms_days", "terms_type"]], on="customer_id"
    )
    month_end = inv["issue_date"] + pd.offsets.MonthEnd(0)
    base = inv["issue_date"].where(inv["terms_type"] == "net", month_end)
    expected = base + pd.to_timedelta(inv["terms_days"], unit="D")
    assert (inv["due_date"] == expected).all()


def check_ids(f):
    """Ids unique, zero-padded strings of the documented shape."""
    for (table, col), pattern in ID_PATTERNS.items():
        ids = f[table][col]
        assert ids.is_unique, table
        assert ids.astype(str).str.fullmatch(pattern).all(), table
    for table in ("allocations",):
        assert not f[table].duplicated(["payment_id", "invoice_id"]).any()
    assert not f["write_offs"].duplicated(["invoice_id", "date"]).any()


def check_references(f):
    """Every foreign id points at an existing row; credit notes credit the same customer."""
    ids = {t: set(f[t].iloc[:, 0]) for t in ("sales_reps", "customers", "invoices", "payments")}
    pairs = [
        ("customers", "sales_rep_id", "sales_reps"), ("invoices", "customer_id", "customers"),
        ("invoices", "sales_rep_id", "sales_reps"), ("payments", "customer_id", "customers"),
        ("allocations", "payment_id", "payments"), ("allocations", "invoice_id", "invoices"),
        ("write_offs", "invoice_id", "invoices"), ("promises", "invoice_id", "invoices"),
        ("disputes", "invoice_id", "invoices"), ("commissions", "sales_rep_id", "sales_reps"),
        ("commissions", "invoice_id", "invoices"), ("activities", "customer_id", "customers"),
        ("activities", "invoice_id", "invoices"), ("invoices", "applies_to", "invoices"),
        ("payments", "invoice_id", "invoices"),
    ]  # fmt: skip
    for table, col, target in pairs:
        assert f[table][col].dropna().isin(ids[target]).all(), (table, col)
    inv = f["invoices"].set_index("invoice_id")
    cn = inv[inv["applies_to"].notna()]
    assert (
        cn["customer_id"].to_numpy() == inv.loc[cn["applies_to"], "customer_id"].to_numpy()
    ).all()
    al = f["allocations"]
    pay_cust = al["payment_id"].map(f["payments"].set_index("payment_id")["customer_id"])
    assert (pay_cust == al["invoice_id"].map(inv["customer_id"])).all()


def check_payment_invoice_id(f):
    """A payment naming an invoice has exactly one allocation: its whole amount to that invoice."""
    pay = f["payments"][f["payments"]["invoice_id"].notna()].set_index("payment_id")
    al = f["allocations"][f["allocations"]["payment_id"].isin(pay.index)]
    assert al["payment_id"].is_unique and len(al) == len(pay)
    al = al.set_index("payment_id").loc[pay.index]
    assert (al["invoice_id"] == pay["invoice_id"]).all()
    assert (al["amount_cents"] == pay["amount_cents"]).all()


def check_money_is_integer(f):
    """Money columns hold whole cents."""
    for table, cols in MONEY.items():
        for col in cols:
            assert pd.api.types.is_integer_dtype(f[table][col].dtype), (table, col)
    assert pd.api.types.is_integer_dtype(f["customers"]["credit_limit_cents"].dtype)


def check_reps(f):
    """max(4, 5 % of customers) reps; one manager per group, everyone else reports to them."""
    reps = f["sales_reps"]
    assert len(reps) == max(4, round(0.05 * len(f["customers"])))
    managers = reps[reps["manager_id"].isna()]
    assert managers["group_name"].is_unique
    assert set(managers["group_name"]) == set(reps["group_name"])
    group_of = reps.set_index("sales_rep_id")["group_name"]
    staff = reps[reps["manager_id"].notna()]
    assert (staff["manager_id"].map(group_of) == staff["group_name"]).all()
    assert staff["manager_id"].isin(managers["sales_rep_id"]).all()


def check_customers(f):
    """Terms, terms types, currency and creation dates are in range."""
    cu = f["customers"]
    assert set(cu["terms_days"]) <= {7, 14, 15, 21, 30, 45, 60}
    assert set(cu["terms_type"]) <= {"net", "eom"}
    # about 20 % abroad (docs/demo.md)
    assert cu["currency"].isin(["USD", "EUR", "GBP", "CAD"]).all()
    first = f["invoices"].groupby("customer_id")["issue_date"].min()
    assert (cu.set_index("customer_id")["created_on"].reindex(first.index) <= first).all()
    assert (f["invoices"]["issue_date"] > T - pd.Timedelta(days=3 * 366)).all()


def check_disputes(f):
    """Resolved disputes carry resolved_on; invoices are flagged while a dispute is open."""
    d = f["disputes"]
    resolved = d["status"] == "resolved"
    assert set(d["status"]) <= {"open", "resolved", "litigation"}
    assert (
        d.loc[resolved, "resolved_on"].notna().all()
        and d.loc[~resolved, "resolved_on"].isna().all()
    )
    assert (d.loc[resolved, "resolved_on"] >= d.loc[resolved, "opened_on"]).all()
    issue = d["invoice_id"].map(f["invoices"].set_index("invoice_id")["issue_date"])
    assert (d["opened_on"] >= issue).all()
    flagged = set(f["invoices"].loc[f["invoices"]["disputed"], "invoice_id"])
    assert flagged == set(d.loc[~resolved, "invoice_id"])


def check_promises(f):
    """Promises are made after issue, on or before today, for a later date and an open amount."""
    p = f["promises"].merge(
        f["invoices"][["invoice_id", "issue_date", "amount_cents"]],
        on="invoice_id",
        suffixes=("", "_inv"),
    )
    assert (p["made_on"] >= p["issue_date"]).all()
    assert (p["promised_date"] > p["made_on"]).all()
    assert (p["amount_cents"] <= p["amount_cents_inv"]).all()


def check_commissions(f):
    """One per invoice: group rate 2-8 %, earned on issue, settled ones carry a settlement date."""
    c = f["commissions"].merge(
        f["invoices"][["invoice_id", "issue_date", "amount_cents"]],
        on="invoice_id",
        suffixes=("", "_inv"),
    )
    assert len(c) == (f["invoices"]["amount_cents"] > 0).sum()
    assert c["rate"].between(0.02, 0.08).all()
    assert (c["earned_date"] == c["issue_date"]).all()
    assert (c["amount_cents"] - (c["amount_cents_inv"] * c["rate"]).round()).abs().max() <= 1
    assert (c["settled"] == c["settlement_date"].notna()).all()
    assert (c.loc[c["settled"], "settlement_date"] > c.loc[c["settled"], "earned_date"]).all()
    group = c["sales_rep_id"].map(f["sales_reps"].set_index("sales_rep_id")["group_name"])
    assert (c.groupby(group)["rate"].nunique() == 1).all()


def check_activities(f):
    """Activities belong to the invoice's customer."""
    a = f["activities"]
    cust = a["invoice_id"].map(f["invoices"].set_index("invoice_id")["customer_id"])
    assert (cust == a["customer_id"]).all()


def check_realistic_ar(f):
    """At least 97 % of invoices older than 6 months settled and nothing open more than a year past due
    (the collections policy writes it off); AR 1.5-2.5 months of sales; an overdue tail."""
    state = invoice_state(f)
    old = state["issue_date"] < T - pd.Timedelta(days=182)
    assert 0.97 <= (state.loc[old, "open"] == 0).mean() < 1.0
    assert not ((state["open"] > 0) & (state["due_date"] < T - pd.Timedelta(days=365))).any()
    recent = f["invoices"]["issue_date"] > T - pd.Timedelta(days=90)
    months = state["open"].sum() / f["invoices"].loc[recent, "amount_cents"].sum() * 3
    assert 1.5 <= months <= 2.5
    assert (state["open"] >= 0).all()
    assert ((state["open"] > 0) & (state["due_date"] < T - pd.Timedelta(days=90))).any()
    young = state["issue_date"] > T - pd.Timedelta(days=30)
    assert (state.loc[young, "open"] > 0).mean() > 0.5


INVARIANTS = [
    check_signs, check_allocations_within_payments, check_balances_never_negative,
    check_application_dates, check_nothing_after_today, check_allocation_dates, check_due_dates,
    check_ids, check_references, check_payment_invoice_id, check_reps, check_customers,
    check_disputes, check_promises, check_commissions, check_activities, check_realistic_ar,
]  # fmt: skip


# --- features ---------------------------------------------------------------------------------


def promise_outcomes(f) -> pd.Series:
    """kept / broken / pending per promise, from the settlement dates."""
    settled = invoice_state(f)["settled_on"]
    p = f["promises"]
    on = p["invoice_id"].map(settled)
    kept = on.notna() & (on <= p["promised_date"])
    pending = ~kept & (p["promised_date"] >= T)
    return pd.Series(np.select([kept, pending], ["kept", "pending"], "broken"), index=p.index)


def features(f) -> dict[str, bool]:
    """Each feature the demo must show, computed independently from the rows."""
    inv, pay, al, cu = f["invoices"], f["payments"], f["allocations"], f["customers"]
    cn = inv[inv["amount_cents"] < 0]
    allocated = (
        al.groupby("payment_id")["amount_cents"].sum().reindex(pay["payment_id"], fill_value=0)
    )
    state = invoice_state(f)
    balance = state.groupby("customer_id")["open"].sum().reindex(cu["customer_id"], fill_value=0)
    limit = cu.set_index("customer_id")["credit_limit_cents"]
    outcomes = promise_outcomes(f)
    com = f["commissions"]
    months = (
        inv[inv["amount_cents"] > 0].groupby(inv["issue_date"].dt.quarter)["amount_cents"].count()
    )
    return {
        "credit notes applied": cn["applies_to"].notna().any(),
        "credit notes unapplied": cn["applies_to"].isna().any(),
        "payments never allocated": (allocated.to_numpy() == 0).any(),
        "payments partly allocated": (
            (allocated.to_numpy() > 0) & (allocated.to_numpy() < pay["amount_cents"].to_numpy())
        ).any(),
        "allocations dated after the payment": al["date"].notna().any(),
        "partial payments": (al.groupby("invoice_id").size() >= 2).any(),
        "payments covering several invoices": (al.groupby("payment_id").size() >= 2).any(),
        "write-offs": len(f["write_offs"]) > 0,
        "disputes open": (f["disputes"]["status"] == "open").any(),
        "disputes resolved": (f["disputes"]["status"] == "resolved").any(),
        "disputes in litigation": (f["disputes"]["status"] == "litigation").any(),
        "promises kept": (outcomes == "kept").any(),
        "promises broken": (outcomes == "broken").any(),
        "commissions settled": com["settled"].any(),
        "commissions unsettled": (~com["settled"]).any(),
        "customers over limit": ((limit > 0) & (balance > limit)).any(),
        "customers without limit": limit.isna().any(),
        "eom terms": (cu["terms_type"] == "eom").any(),
        "short terms (7/14 days)": cu["terms_days"].isin([7, 14]).mean() >= 0.1,
        "new customers (< 6 months)": (cu["created_on"] > T - pd.Timedelta(days=182)).any(),
        "four segments, five regions, four tiers": (
            cu["segment"].nunique(),
            cu["region"].nunique(),
            cu["tier"].nunique(),
        )
        == (4, 5, 4),
        "Q4 busiest": months.idxmax() == 4,
        "calls, emails and letters": set(f["activities"]["channel"]) == {"call", "email", "letter"},
        "margins 15-45 %": (1 - inv["cost_cents"] / inv["amount_cents"])[inv["amount_cents"] > 0]
        .between(0.149, 0.451)
        .all(),
    }


# --- tests ------------------------------------------------------------------------------------


def test_same_inputs_give_identical_frames():
    """Same (customers, invoices, seed, today) -> same hash; another seed or day -> another."""
    first = frame_hash(generate_demo(120, 1500, 7, TODAY))
    assert first == frame_hash(generate_demo(120, 1500, 7, TODAY))
    assert first != frame_hash(generate_demo(120, 1500, 8, TODAY))
    assert first != frame_hash(generate_demo(120, 1500, 7, TODAY - dt.timedelta(days=1)))


def test_frames_use_the_model_columns():
    """Each frame's columns exist in its table; money is int64 cents."""
    from dashboard.data import models

    tables = models.Base.metadata.tables
    for name, df in frames().items():
        assert set(df.columns) <= set(tables[name].columns.keys()), name
    check_money_is_integer(frames())
    assert frames()["invoices"]["amount_cents"].dtype == np.int64


@pytest.mark.parametrize("check", INVARIANTS, ids=lambda c: c.__name__)
def test_generated_invariant(check):
    """Each invariant holds on the generated frames."""
    check(frames())


@cache
def small_features() -> dict[str, bool]:
    """The features of the small demo, computed once."""
    return features(frames())


@pytest.mark.parametrize("name", list(small_features()))
def test_feature_present(name):
    """Each required feature appears in the small demo."""
    assert small_features()[name]


ODD_SIZES = [(1, 1, 0), (5, 3, 1), (1000, 10, 2), (4, 200, 3), (2, 5000, 6), (200, 3000, 5)]


@pytest.mark.parametrize("customers,invoices,seed", ODD_SIZES)
def test_invariants_hold_for_odd_sizes(customers, invoices, seed, monkeypatch):
    """Tiny, lopsided and leap-day demos keep every structural invariant."""
    today = dt.date(2024, 2, 29)
    monkeypatch.setitem(globals(), "T", pd.Timestamp(today))
    f = generate_demo(customers, invoices, seed, today)
    assert (f["invoices"]["amount_cents"] > 0).sum() == invoices
    for check in INVARIANTS:
        if check is not check_realistic_ar:
            check(f)


def test_small_counts():
    """Invoice count as asked; credit notes come on top; dates end at today."""
    f = frames()
    assert (f["invoices"]["amount_cents"] > 0).sum() == SMALL["invoices"]
    assert len(f["customers"]) == SMALL["customers"]
    assert f["invoices"]["issue_date"].max() <= T


SQL_CHECKS = {
    "over-allocated payments": (
        "SELECT p.payment_id FROM payments p JOIN (SELECT payment_id, SUM(amount_cents) s FROM allocations "
        "GROUP BY payment_id) a ON a.payment_id = p.payment_id WHERE a.s > p.amount_cents"
    ),
    "negative balances": (
        "SELECT i.invoice_id FROM invoices i "
        "LEFT JOIN (SELECT invoice_id, SUM(amount_cents) s FROM allocations GROUP BY invoice_id) a ON a.invoice_id = i.invoice_id "
        "LEFT JOIN (SELECT applies_to, -SUM(amount_cents) s FROM invoices WHERE applies_to IS NOT NULL GROUP BY applies_to) c "
        "ON c.applies_to = i.invoice_id "
        "LEFT JOIN (SELECT invoice_id, SUM(amount_cents) s FROM write_offs GROUP BY invoice_id) w ON w.invoice_id = i.invoice_id "
        "WHERE COALESCE(a.s, 0) + COALESCE(c.s, 0) + COALESCE(w.s, 0) "
        "> CASE WHEN i.amount_cents > 0 THEN i.amount_cents ELSE 0 END"
    ),
    "allocations before issue or after today": (
        "SELECT a.id FROM allocations a JOIN payments p ON p.payment_id = a.payment_id "
        "JOIN invoices i ON i.invoice_id = a.invoice_id "
        "WHERE COALESCE(a.date, p.date) < i.issue_date OR COALESCE(a.date, p.date) > :today"
    ),
    "payments after today": "SELECT payment_id FROM payments WHERE date > :today",
    "orphan allocations": (
        "SELECT a.id FROM allocations a LEFT JOIN invoices i ON i.invoice_id = a.invoice_id "
        "LEFT JOIN payments p ON p.payment_id = a.payment_id WHERE i.invoice_id IS NULL OR p.payment_id IS NULL"
    ),
}


def test_loaded_demo_keeps_every_invariant(db_url):
    """Loaded into the database (both backends), the rows keep every invariant and all features."""
    stats = load_demo(db_url, **SMALL, progress=False)
    f = read_back(db_url)
    assert stats["rows"] == {t: len(f[t]) for t in TABLES}
    assert frame_hash(
        {t: f[t][["invoice_id", "amount_cents"]] for t in ("invoices",)}
    ) == frame_hash({t: frames()[t][["invoice_id", "amount_cents"]] for t in ("invoices",)})
    for check in INVARIANTS:
        check(f)
    assert all(features(f).values()), [k for k, v in features(f).items() if not v]
    with get_engine(db_url).connect() as conn:
        for name, sql in SQL_CHECKS.items():
            assert conn.execute(text(sql), {"today": TODAY}).fetchall() == [], name


def test_reload_replaces_and_keeps_users_and_tiers(db_url):
    """A second load replaces the ledger; users and existing value tiers stay; version moves on."""
    assert ledger_is_empty(db_url)
    load_demo(db_url, customers=80, invoices=900, seed=1, today=TODAY, progress=False)
    assert not ledger_is_empty(db_url)
    engine = get_engine(db_url)
    with engine.begin() as conn:
        tiers = conn.execute(
            text(
                "SELECT name, min_revenue_cents, max_revenue_cents FROM value_tiers ORDER BY min_revenue_cents"
            )
        ).fetchall()
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role, active) VALUES ('ann', 'x', 'admin', :t)"
            ),
            {"t": True},
        )
        conn.execute(text("DELETE FROM value_tiers WHERE name = 'Platinum'"))
        version = conn.execute(text("SELECT version FROM data_version")).scalar()
    assert [tuple(t) for t in tiers] == [
        ("Bronze", 0, 999_999), ("Silver", 1_000_000, 4_999_999),
        ("Gold", 5_000_000, 24_999_999), ("Platinum", 25_000_000, None),
    ]  # fmt: skip
    stats = load_demo(db_url, customers=60, invoices=700, seed=2, today=TODAY, progress=False)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES}
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM value_tiers")).scalar() == 3
        assert conn.execute(text("SELECT version FROM data_version")).scalar() == version + 1
    assert counts == stats["rows"]
    assert counts["customers"] == 60 and stats["invoices"] == 700


def test_cli_demo(sqlite_url, capsys):
    """`python -m dashboard demo` loads the data and reports the counts."""
    from dashboard.cli import main

    assert (
        main(
            [
                "--database-url",
                sqlite_url,
                "demo",
                "--customers",
                "40",
                "--invoices",
                "400",
                "--today",
                "2026-11-20",
                "--quiet",
            ]
        )
        == 0
    )
    stats = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert stats["customers"] == 40 and stats["invoices"] == 400
    assert not ledger_is_empty(sqlite_url)


# --- currencies ---------------------------------------------------------------------------------


def test_about_a_fifth_of_customers_are_abroad_with_daily_drifting_rates():
    """EUR, GBP and CAD customers (about 20 %), their invoices and payments in their currency."""
    f = generate_demo(600, 6000, 11, TODAY)
    cust = f["customers"]
    abroad = cust["currency"] != "USD"
    assert 0.15 <= abroad.mean() <= 0.25
    assert set(cust.loc[abroad, "currency"]) == {"EUR", "GBP", "CAD"}
    of = dict(zip(cust["customer_id"], cust["currency"], strict=True))
    for table in ("invoices", "payments"):
        assert (f[table]["currency"] == f[table]["customer_id"].map(of)).all(), table
    rates = f["fx_rates"]
    assert set(rates["currency"]) == {"EUR", "GBP", "CAD"}
    for code, part in rates.groupby("currency"):
        days = part["date"].sort_values()
        assert (days.diff().dropna() == pd.Timedelta(days=1)).all(), code  # one rate a day, no gaps
        assert days.iloc[0] <= f["invoices"]["issue_date"].min() and days.iloc[-1] == pd.Timestamp(
            TODAY
        )
        rate = part.sort_values("date")["rate_e10"].to_numpy() / 1e10
        assert np.abs(np.diff(np.log(rate))).max() < 0.03, code  # daily moves stay small
        assert 0.7 < rate.min() / rate.max() <= 1, code  # drift, but no run-away over three years
        assert len(np.unique(rate)) > 100, code


def test_currencies_usd_keeps_a_single_currency_ledger_otherwise_identical():
    """--currencies USD: everyone in USD, no rates; every other column as in the default demo."""
    single = generate_demo(120, 1500, 7, TODAY, currencies=("USD",))
    multi = generate_demo(120, 1500, 7, TODAY)
    assert (single["customers"]["currency"] == "USD").all() and single["fx_rates"].empty
    for table in ("customers", "invoices", "payments", "allocations"):
        keep = [c for c in single[table].columns if c != "currency"]
        pd.testing.assert_frame_equal(single[table][keep], multi[table][keep])


def test_loaded_demo_has_every_currency_key(db_url):
    """Loaded (both backends): the KPIs break down by currency and the base totals tie to it."""
    from decimal import Decimal

    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import clear_snapshots, get_snapshot

    clear_snapshots()
    load_demo(db_url, customers=150, invoices=2500, seed=4, today=TODAY, progress=False)
    k = compute_kpis(get_snapshot(db_url), TODAY)
    clear_snapshots()
    assert k["base_currency"] == "USD" and set(k["by_currency"]) == {"USD", "EUR", "GBP", "CAD"}
    assert k["fx_revaluation"] != "0.00"
    revalued = Decimal(k["total_ar"]) - Decimal(k["total_ar_at_booking_rates"])
    assert revalued == Decimal(k["fx_revaluation"])


# --- a believable company: published benchmark ranges, through the KPI contract -------------------


@pytest.mark.slow
def test_default_demo_is_in_benchmark_ranges(db_url):
    """The default demo (600 customers, 20,000 invoices) looks like a mid-market company (docs/demo.md):
    DSO 35-60 days on mostly net-30 terms, 3-15 % of AR more than 90 days past due, nothing open more
    than a year past due, a handful of critical accounts, disputes and broken promises that matter."""
    from dashboard.metrics import collections, tables
    from dashboard.metrics.forecast import forecast_invoices
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import clear_snapshots, get_snapshot

    load_demo(db_url, today=TODAY, progress=False)
    clear_snapshots()
    snap = get_snapshot(db_url)
    k = compute_kpis(snap, TODAY)
    total = float(k["total_ar"])
    assert 35 <= float(k["dso"]) <= 60
    assert 0.03 <= float(k["aging_due"]["90+"]) / total <= 0.15
    assert (forecast_invoices(snap, TODAY)["days_until_due"] >= -365).all()
    with_balance = int(k["customers_with_balance"])
    risk = tables.at_risk_accounts(snap, TODAY)
    critical = int((risk["status"] == "Critical").sum())
    assert 5 <= critical <= 0.10 * with_balance
    assert len(risk) <= 0.25 * with_balance
    parts = collections.outstanding_composition(snap, TODAY).set_index("component")
    disputed = int(parts.loc[["in_dispute", "in_litigation"], "amount_cents"].sum())
    assert 0.005 * total * 100 <= disputed <= 0.10 * total * 100
    assert int(parts.loc[["in_dispute", "in_litigation"], "customers"].sum()) >= 5
    broken = collections.promise_adherence(snap, TODAY)["broken"]
    recent = broken[pd.to_datetime(broken["promised_date"]) > T - pd.Timedelta(days=90)]
    assert len(recent) >= 10 and int(recent["amount_cents"].sum()) > 0.01 * total * 100
