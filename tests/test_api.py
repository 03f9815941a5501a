"""The JSON API and CSV exports: parameters, scope ∩ filters, exact money, audit rows.

Expected figures are worked out by hand in tests/auth_helpers.py.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from auth_helpers import AS_OF, make_world
from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog
from dashboard.export.registry import TABLES, cents_to_decimal, csv_frame, neutralise_text, to_csv


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    return make_world(db_url)


def kpis(client, **params):
    """GET /api/kpis as of AS_OF with extra parameters."""
    query = "&".join(f"{k}={v}" for k, v in {"as_of": AS_OF, **params}.items())
    return client.get(f"/api/kpis?{query}")


def export(client, table: str, **params):
    """GET /api/export/<table>.csv as of AS_OF; returns (response, rows as dicts)."""
    query = "&".join(f"{k}={v}" for k, v in {"as_of": AS_OF, **params}.items())
    response = client.get(f"/api/export/{table}.csv?{query}")
    rows = []
    if response.status_code == 200:
        # line 1 is the "# ..." stamp (docs/exports.md)
        stamp, _, body = response.text.partition("\n")
        assert stamp.startswith(f"# {table} (period ") and "scope: " in stamp
        rows = list(csv.DictReader(io.StringIO(body)))
    return response, rows


# ---- KPIs -------------------------------------------------------------------------------------


SCOPED_TOTALS = [
    ("admin", "2462.39", 5),
    ("exec", "2462.39", 5),
    ("controller", "2462.39", 5),
    ("clerk", "2462.39", 5),
    ("clerk_north", "1634.57", 3),
    ("mgr_east", "1384.61", 3),
    ("mgr_west", "1077.78", 2),
    ("rep1", "884.61", 2),
    ("rep3", "777.77", 1),
]


def test_kpis_are_restricted_to_the_scope(world):
    for user, total, customers in SCOPED_TOTALS:
        data = kpis(world.login(user)).get_json()
        assert data["as_of"] == AS_OF and data["period_days"] == 90, user
        assert (data["total_ar"], data["customers_with_balance"]) == (total, customers), user


def test_filters_only_narrow_the_scope(world):
    rep = world.login("rep1")
    other = kpis(rep, sales_rep="R3").get_json()
    assert (
        other["total_ar"] == "0.00"
        and other["customers_with_balance"] == 0
        and other["top_debtors"] == []
    )
    assert kpis(rep, sales_rep="R1").get_json()["total_ar"] == "884.61"
    assert kpis(rep, region="North").get_json()["total_ar"] == "834.56"  # C1 only
    east = world.login("mgr_east")
    assert kpis(east, sales_rep="R4").get_json()["total_ar"] == "0.00"
    assert kpis(east, sales_rep="R2").get_json()["total_ar"] == "500.00"
    assert {d["customer_id"] for d in kpis(east).get_json()["top_debtors"]} == {"C1", "C2", "C3"}
    assert kpis(world.login("admin"), sales_rep="R3").get_json()["total_ar"] == "777.77"


def test_kpis_match_the_cli_for_an_unrestricted_user(world, capsys):
    from dashboard.cli import main

    assert main(["kpis", "--as-of", AS_OF, "--segment", "Retail", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = kpis(world.login("controller"), segment="Retail").get_json()
    assert api == cli
    assert api["total_ar"] == "2112.33"  # Retail: C1 834.56 + C3 500.00 + C4 777.77


BAD_QUERIES = [
    ("as_of=2024-13-01", "as_of"),
    ("as_of=yesterday", "as_of"),
    ("as_of=20240301", "as_of"),
    ("as_of=2024-03-01&period_days=0", "period_days"),
    ("as_of=2024-03-01&period_days=-5", "period_days"),
    ("as_of=2024-03-01&period_days=abc", "period_days"),
    ("as_of=2024-03-01&period_days=1.5", "period_days"),
    ("as_of=2024-03-01&period_days=99999999999999999999", "period_days"),
    ("as_of=2024-03-01&colour=red", "colour"),
    ("as_of=2024-03-01&segment=a&segment=b", "segment"),
    ("as_of=2024-03-01&terms_group=medium", "terms_group"),
]


def test_bad_parameters_are_400_naming_the_parameter(world):
    client = world.login("admin")
    for query, parameter in BAD_QUERIES:
        response = client.get(f"/api/kpis?{query}")
        assert response.status_code == 400, query
        body = response.get_json()
        assert body["parameter"] == parameter and parameter in body["error"], query
        assert "Traceback" not in response.text


def test_blank_filters_and_default_period(world):
    data = (
        world.login("admin")
        .get(f"/api/kpis?as_of={AS_OF}&segment=&region=&tier=&sales_rep=")
        .get_json()
    )
    assert data["total_ar"] == "2462.39" and data["period_days"] == 90
    assert (
        world.login("admin")
        .get(f"/api/kpis?as_of={AS_OF}&period_days=30")
        .get_json()["period_days"]
        == 30
    )


# ---- Account 360 ------------------------------------------------------------------------------


def test_account_360_inside_the_scope(world):
    response = world.login("rep1").get(f"/api/customers/C1?as_of={AS_OF}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["customer_id"] == "C1" and data["summary"]["total_outstanding"] == "834.56"


def test_account_360_outside_the_scope_or_unknown_is_404(world):
    for user, customer in [
        ("rep1", "C4"),
        ("rep1", "C3"),
        ("mgr_east", "C4"),
        ("mgr_west", "C1"),
        ("clerk_north", "C2"),
        ("admin", "C99"),
    ]:
        response = world.login(user).get(f"/api/customers/{customer}?as_of={AS_OF}")
        assert response.status_code == 404, (user, customer)
        assert response.get_json() == {"error": "no such customer"}


def test_account_360_bad_parameter(world):
    client = world.login("admin")
    assert client.get("/api/customers/C1?as_of=2024-02-30").get_json()["parameter"] == "as_of"
    assert client.get("/api/customers/C1?sales_rep=R1").get_json()["parameter"] == "sales_rep"


# ---- exports ----------------------------------------------------------------------------------


def test_export_open_invoices_for_a_rep_holds_only_their_rows(world):
    rep = world.login("rep1")
    response, rows = export(rep, "open_invoices")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert sorted(r["invoice_id"] for r in rows) == ["I1", "I2", "I3"]
    assert {r["invoice_id"]: r["amount"] for r in rows} == {
        "I1": "600.00",
        "I2": "234.56",
        "I3": "50.05",
    }
    _, forged = export(rep, "open_invoices", sales_rep="R3")
    assert forged == []
    assert 'filename="open_invoices-2024-03-01.csv"' in response.headers["Content-Disposition"]
    assert response.headers["X-AR-Scope"] == "sales rep R1"


def test_export_totals_tie_to_the_kpis_to_the_cent(world):
    admin = world.login("admin")
    _, rows = export(admin, "open_invoices")
    assert len(rows) == 6
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("2462.39")
    assert all(len(r["amount"].split(".")[1]) == 2 for r in rows)


def test_export_customers_for_a_manager_never_shows_another_group(world):
    _, rows = export(world.login("mgr_east"), "customers")
    assert sorted(r["customer_id"] for r in rows) == ["C1", "C2", "C3"]
    assert {r["customer_id"]: r["amount"] for r in rows} == {
        "C1": "834.56",
        "C2": "50.05",
        "C3": "500.00",
    }
    _, west = export(world.login("mgr_west"), "customers")
    assert sorted(r["customer_id"] for r in west) == ["C4", "C5"]


def test_every_registered_table_exports_within_the_scope(world):
    rep = world.login("rep3")
    for table in sorted(TABLES):
        response, rows = export(rep, table)
        assert response.status_code == 200, (table, response.text)
        assert {r["customer_id"] for r in rows} <= {"C4"}, table


def test_export_unknown_table_is_404(world):
    response, _ = export(world.login("admin"), "users")
    assert response.status_code == 404
    assert "open_invoices" in response.get_json()["tables"]


def test_export_bad_parameter_is_400(world):
    response, _ = export(world.login("admin"), "customers", period_days="x")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "period_days"


def test_export_writes_an_audit_row(world):
    export(world.login("rep1"), "open_invoices", region="North")
    with session_scope() as session:
        rows = list(session.execute(select(AuditLog).where(AuditLog.event == "export")).scalars())
    assert len(rows) == 1
    assert rows[0].username == "rep1"
    detail = json.loads(rows[0].detail)
    assert detail == {
        "table": "open_invoices",
        "as_of": AS_OF,
        "period_days": 90,
        "filters": "region=North",
        "scope": "sales rep R1",
        "rows": 2,
    }


# ---- CSV rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cents, text",
    [
        (1234, "12.34"),
        (5, "0.05"),
        (-5, "-0.05"),
        (-1234, "-12.34"),
        (0, "0.00"),
        (100, "1.00"),
        (10**15 + 1, "10000000000000.01"),
        (1234.0, "12.34"),
        (None, ""),
    ],
)
def test_cents_to_decimal_is_exact(cents, text):
    assert cents_to_decimal(cents) == text


def test_cents_to_decimal_refuses_fractional_cents():
    with pytest.raises(ValueError):
        cents_to_decimal(12.5)


def test_csv_rendering_of_money_dates_and_text():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "name": ['=HYPERLINK("x")', "-5"],
            "amount_cents": [123456789, -1],
            "credit_limit_cents": pd.array([None, 500], dtype="Int64"),
            "due_date": pd.to_datetime(["2024-03-01", None]),
            "disputed": [True, False],
        }
    )
    cells = csv_frame(frame)
    assert list(cells.columns) == [
        "customer_id",
        "name",
        "amount",
        "credit_limit",
        "due_date",
        "disputed",
    ]
    text = to_csv(frame)
    assert text.splitlines()[1] == 'C1,"\'=HYPERLINK(""x"")",1234567.89,,2024-03-01,true'
    assert text.splitlines()[2] == "C2,-5,-0.01,5.00,,false"
    assert neutralise_text("@cmd") == "'@cmd" and neutralise_text("plain") == "plain"
