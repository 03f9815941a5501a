"""Customer statements: totals equal Account 360 to the cent, aging sums to the balance, email and dry run.

C1 Acme as of 2024-03-01 (tests/auth_helpers.py, plus a free credit note added here), by hand:
    I1 1000.00 issued 2024-01-10, due 2024-02-09, paid 400.00 -> open 600.00, 21 days past due (1-30)
    I2  234.56 issued 2024-02-15, due 2024-03-16                -> open 234.56, not due
    CN1 -50.00 issued 2024-02-20, no invoice                    -> unapplied credit 50.00
    open items 834.56 = not_due 234.56 + 1-30 600.00; balance due 834.56 - 50.00 = 784.56
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auth_helpers import AS_OF, seed_ledger, seed_users
from sqlalchemy import select, update
from test_email_summary import pdf_text
from test_subscriptions import Sink, free_port  # noqa: F401 - the SMTP sink

from dashboard.data.db import session_scope
from dashboard.data.models import Activity, AuditLog, Customer, Invoice
from dashboard.metrics.filters import Scope

D = dt.date.fromisoformat(AS_OF)


@pytest.fixture
def smtp(monkeypatch):
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "billing@example.com")
    monkeypatch.setenv("AR_SMTP_RETRY_SECONDS", "0")
    monkeypatch.setenv("AR_COMPANY_NAME", "Northwind Supplies Ltd")
    monkeypatch.setenv("AR_COMPANY_ADDRESS", "1 Harbour Road|Bristol BS1 4XX")
    yield sink
    controller.stop()


@pytest.fixture
def ledger(db_url):
    from dashboard.data.schema import bump_data_version
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    seed_ledger()
    seed_users()
    with session_scope() as s:
        s.add(
            Invoice(
                invoice_id="CN1",
                customer_id="C1",
                issue_date=dt.date(2024, 2, 20),
                due_date=dt.date(2024, 2, 20),
                amount_cents=-5000,
                sales_rep_id="R1",
            )
        )
        s.execute(
            update(Customer).where(Customer.customer_id == "C1").values(email="ap@acme.example.com")
        )
        s.execute(
            update(Customer)
            .where(Customer.customer_id == "C4")
            .values(email="bad@delta.example.com")
        )
        bump_data_version(s)
    yield db_url
    clear_snapshots()
    clear_cache()


def snapshot():
    from dashboard.metrics.snapshot import clear_snapshots, get_snapshot

    clear_snapshots()
    return get_snapshot()


def test_statement_ties_to_account_360_to_the_cent(ledger):
    from dashboard.export.statement import build_statement
    from dashboard.format import to_cents
    from dashboard.metrics.account import account_360

    snap = snapshot()
    st = build_statement(snap, "C1", D, Scope.everyone())
    acct = account_360(snap, "C1", D, Scope.everyone())
    assert st.open_cents == to_cents(acct["summary"]["total_outstanding"]) == 83456
    assert st.overdue_cents == to_cents(acct["summary"]["overdue"]) == 60000
    assert st.aging == {"not_due": 23456, "1-30": 60000, "31-60": 0, "61-90": 0, "90+": 0}
    assert sum(st.aging.values()) == st.open_cents == sum(i["balance_cents"] for i in st.items)
    assert [(i["invoice_id"], i["balance_cents"], i["days_past_due"]) for i in st.items] == [
        ("I1", 60000, 21),
        ("I2", 23456, 0),
    ]
    assert st.unapplied_cents == 5000 and st.balance_cents == 78456 and st.currency == "USD"
    assert st.credits == [
        {"id": "CN1", "type": "credit note", "date": "2024-02-20", "amount_cents": 5000}
    ]


def test_statement_pdf_and_scope(ledger, tmp_path, capsys):
    from dashboard.cli import main
    from dashboard.export.statement import StatementError, build_statement

    out = tmp_path / "acme.pdf"
    assert main(["statement", "C1", "--as-of", AS_OF, "--out", str(out)]) == 0
    text = pdf_text(out.read_bytes())
    for expected in (
        "Statement of account",
        "Acme",
        "$834.56",
        "$600.00",
        "$234.56",
        "$50.00",
        "$784.56",
        "CN1",
        "Our Company",
    ):
        assert expected in text, expected
    with pytest.raises(StatementError):  # rep3 may not see C1
        build_statement(snapshot(), "C1", D, Scope(sales_rep_ids=frozenset({"R3"})))
    assert main(["statement", "NOPE", "--as-of", AS_OF, "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err


def test_email_statement_dry_run_then_send_logs_an_activity(ledger, smtp, capsys):
    from dashboard.cli import main

    # C2 has no address
    assert main(["statement", "C1", "C2", "--as-of", AS_OF, "--email", "--dry-run"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "C1\tAcme\tap@acme.example.com\t$784.56\twould send",
        "C2\tBeta\t-\t$50.05\tno address\tno valid billing email on the customer",
    ]
    assert smtp.envelopes == []
    assert main(["statement", "C1", "--as-of", AS_OF, "--email"]) == 0
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["ap@acme.example.com"]
    import email
    from email import policy

    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert "Statement of account as of 2024-03-01 · Northwind Supplies Ltd" == message["Subject"]
    assert "Balance due: $784.56" in message.get_body(preferencelist=("plain",)).get_content()
    [pdf] = list(message.iter_attachments())
    assert pdf.get_filename() == "statement-C1-2024-03-01.pdf"
    assert "Northwind Supplies Ltd" in pdf_text(
        pdf.get_content()
    ) and "Bristol BS1 4XX" in pdf_text(pdf.get_content())
    with session_scope() as s:
        [activity] = s.execute(select(Activity).where(Activity.customer_id == "C1")).scalars().all()
        audit = s.execute(select(AuditLog.detail).where(AuditLog.event == "export")).scalars().all()
    assert activity.channel == "email" and activity.outcome == "statement sent"
    assert "ap@acme.example.com" in activity.note and "$784.56" in activity.note
    [detail] = [json.loads(a) for a in audit if '"statement"' in a and '"email"' in a]
    assert detail["to"] == ["ap@acme.example.com"] and detail["as_of"] == AS_OF


def test_refused_address_is_reported_not_raised(ledger, smtp, capsys):
    from dashboard.cli import main

    assert main(["statement", "C4", "C1", "--as-of", AS_OF, "--email"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("C4\tDelta\tbad@delta.example.com\t$777.77\tfailed\taddress refused")
    assert lines[1].endswith("sent")
    with session_scope() as s:
        assert s.execute(select(Activity.customer_id)).scalars().all() == ["C1"]


def test_statement_route_checks_scope(ledger):
    from dashboard.app import create_app

    app = create_app()
    from auth_helpers import login

    client = app.server.test_client()
    login(client, "rep1")
    ok = client.get(f"/export/statement/C1.pdf?as_of={AS_OF}")
    assert ok.status_code == 200 and ok.data.startswith(b"%PDF-") and "$784.56" in pdf_text(ok.data)
    # rep3's customer
    assert client.get(f"/export/statement/C4.pdf?as_of={AS_OF}").status_code == 404
    bad = client.get("/export/statement/C1.pdf?as_of=yesterday")
    assert bad.status_code == 400 and bad.json["parameter"] == "as_of"
    assert client.get("/export/statement/C1.pdf?foo=1").status_code == 400


def test_statement_of_a_foreign_customer_is_in_its_own_currency(db_url, tmp_path):
    """EUR customer, USD base, EUR 1.10 from 2025-01-01 and 1.20 from 2025-06-01, as of 2025-06-15:
    IE1 1000.00 EUR less PE1 400.00 -> 600.00 EUR open (36 days past due); PE2 30.03 EUR unapplied,
    CN1 0.05 EUR free credit note -> unapplied 30.08 EUR; balance due 569.92 EUR. In base the credits
    would be 36.04 + 0.06 = 36.10 USD: the statement must not show those."""
    from dashboard.data.importer import run_import
    from dashboard.export.statement import build_statement
    from dashboard.metrics.snapshot import clear_snapshots, get_snapshot

    files = {
        "fx_rates": "date,currency,rate\n2025-01-01,EUR,1.10\n2025-06-01,EUR,1.20\n",
        "customers": "customer_id,name,currency\nCE,Euro GmbH,EUR\nCU,Dollar Co,\n",
        "invoices": (
            "invoice_id,customer_id,issue_date,due_date,amount\n"
            "IE1,CE,2025-04-10,2025-05-10,1000.00\nCN1,CE,2025-06-03,2025-06-03,-0.05\n"
            "IU1,CU,2025-04-10,2025-05-10,70.00\n"
        ),
        "payments": (
            "payment_id,customer_id,date,amount,invoice_id\nPE1,CE,2025-05-20,400.00,IE1\n"
            "PE2,CE,2025-06-02,30.03,\n"
        ),
    }
    directory = tmp_path / "fx"
    directory.mkdir()
    for stem, text in files.items():
        (directory / f"{stem}.csv").write_text(text)
    run_import(directory, url=db_url, progress=False)
    clear_snapshots()
    st = build_statement(get_snapshot(db_url), "CE", dt.date(2025, 6, 15), Scope.everyone())
    assert st.currency == "EUR"
    assert (st.open_cents, st.overdue_cents, st.unapplied_cents, st.balance_cents) == (
        60000,
        60000,
        3008,
        56992,
    )
    assert [i["balance_cents"] for i in st.items] == [60000]
    assert sorted(c["amount_cents"] for c in st.credits) == [5, 3003]
    assert st.aging["31-60"] == 60000
    clear_snapshots()
