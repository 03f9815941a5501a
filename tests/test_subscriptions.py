"""Subscriptions, alerts and the scheduler against a local SMTP server (aiosmtpd), on both backends.

Figures are those of tests/auth_helpers.py as of 2024-03-01, worked out by hand:
    rep1 (R1): C1 Acme 834.56 + C2 Beta 50.05 = 884.61
    mgr_east (group East: R1, R2): + C3 Gamma 500.00 = 1384.61
    clerk_north (region North): C1 834.56 + C3 500.00 + C5 Epsilon 300.01 = 1634.57
    DSO of rep1, 90 days: credit sales I1 1000.00 + I2 234.56 + I3 50.05 = 1284.61;
        884.61 / 1284.61 x 90 = 61.977... -> 61.98
"""

from __future__ import annotations

import datetime as dt
import email
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from auth_helpers import AS_OF, seed_ledger, seed_users
from sqlalchemy import select, update
from test_email_summary import HAS_BROWSER, free_port, pdf_text

from dashboard.data.db import session_scope
from dashboard.data.models import (
    AlertFiring,
    AuditLog,
    Customer,
    Dispute,
    Promise,
    Subscription,
    SubscriptionSend,
    User,
)

PAGE = f"/?as_of={AS_OF}"
NOW = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)  # a Monday, after 08:00 UTC
LONG_AGO = dt.datetime(2024, 1, 1)


class Sink:
    """Keeps every message; refuses RCPT for addresses starting with 'bad', DATA `fail_data` times."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.fail_data = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bad"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 try again later"
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def to(self, address: str) -> list:
        """The parsed messages sent to an address."""
        return [
            email.message_from_bytes(e.content, policy=policy.default)
            for e in self.envelopes
            if address in e.rcpt_tos
        ]


@pytest.fixture
def smtp(monkeypatch):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "ar-reports@example.com")
    monkeypatch.setenv("AR_SMTP_RETRY_SECONDS", "0")
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.delenv("SMTP_STARTTLS", raising=False)
    yield sink
    controller.stop()


@pytest.fixture
def ledger(db_url):
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots
    from dashboard.subscriptions.store import set_address

    clear_snapshots()
    clear_cache()
    seed_ledger()
    seed_users()
    for name in ("admin", "rep1", "rep3", "mgr_east", "clerk_north", "clerk"):
        set_address(name, f"{name}@example.com")
    yield db_url
    clear_snapshots()
    clear_cache()


def subscribe(**fields) -> int:
    """A subscription made by the command line's admin, dated long ago so today's slot is due."""
    from dashboard.subscriptions.store import CLI_ACTOR, add_subscription

    data = add_subscription(
        CLI_ACTOR, **{"page": PAGE, "every": "weekly", "at_time": "08:00", **fields}
    )
    with session_scope() as s:
        s.execute(
            update(Subscription).where(Subscription.id == data["id"]).values(created_at=LONG_AGO)
        )
    return data["id"]


def run(now: dt.datetime = NOW):
    from dashboard.subscriptions.runner import run_due

    return run_due(now)


def sends() -> list[tuple[str, str, str]]:
    with session_scope() as s:
        rows = s.execute(select(SubscriptionSend).order_by(SubscriptionSend.id)).scalars().all()
        return [(r.username, r.status, r.detail or "") for r in rows]


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_each_recipient_gets_their_own_scope(ledger, smtp):
    for user in ("rep1", "mgr_east", "clerk_north"):
        subscribe(username=user)
    counts = run()
    assert counts["sent"] == 3
    expected = {
        "rep1": ("$884.61", "sales rep R1", ["Acme", "Beta"], ["Gamma", "Delta", "Epsilon"]),
        "mgr_east": (
            "$1,384.61",
            "sales group East",
            ["Acme", "Beta", "Gamma"],
            ["Delta", "Epsilon"],
        ),
        "clerk_north": (
            "$1,634.57",
            "regions North",
            ["Acme", "Gamma", "Epsilon"],
            ["Beta", "Delta"],
        ),
    }
    for user, (total, scope, present, absent) in expected.items():
        [message] = smtp.to(f"{user}@example.com")
        assert f"total AR {total}" in message["Subject"] and scope in message["Subject"], message[
            "Subject"
        ]
        html = html_of(message)
        for name in present:
            assert name in html, (user, name)
        for name in absent:
            assert name not in html, (user, name)
        assert "/unsubscribe/" in html and message["List-Unsubscribe"].startswith("<http")
        if HAS_BROWSER:  # the aging chart and the top debtors chart inline (cid: images)
            images = [p for p in message.walk() if p.get_content_type() == "image/png"]
            assert [i.get_filename() for i in images] == ["aging.png", "top-debtors.png"]
            for image in images:
                assert f'src="cid:{image["Content-ID"].strip().strip("<>")}"' in html
        [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        text = pdf_text(pdf.get_content())
        # the page's own sheet (dashboard.export.page_pdf): its tiles and its at-risk table, as the recipient
        assert (
            total in text
            and "Receivables Health · subscription" in text
            and "At-risk accounts" in text
        )
        for name in absent:
            assert name not in text
    with session_scope() as s:
        audits = (
            s.execute(select(AuditLog.username).where(AuditLog.event == "export")).scalars().all()
        )
    assert sorted(audits) == ["clerk_north", "mgr_east", "rep1"]


def test_page_filters_apply_inside_the_scope(ledger, smtp):
    subscribe(username="rep1", page=f"/aging?as_of={AS_OF}&region=South")
    run()
    [message] = smtp.to("rep1@example.com")
    assert "Customer aging as of 2024-03-01: total AR $50.05" in message["Subject"]  # C2 Beta only
    [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "aging-2024-03-01.pdf"
    text = pdf_text(pdf.get_content())
    # the Customer aging page's own sheet; I3 50.05 is due 2024-03-02: not yet due at 2024-03-01
    assert (
        "Customer aging · subscription" in text
        and "Customer aging, largest balances first (1)" in text
    )
    assert "Total outstanding $50.05 1 customers not due $50.05 1-30 $0.00" in text
    assert "C2 Beta Net 30 $50.05 0 Current Total of all 1 $50.05" in text and "Acme" not in text


def test_disabled_user_or_lost_access_gets_nothing(ledger, smtp):
    subscribe(username="rep1")
    subscribe(username="clerk", page="/commissions")  # an AR clerk may not open commissions
    with session_scope() as s:
        s.execute(update(User).where(User.username == "rep1").values(active=False))
    counts = run()
    assert smtp.envelopes == [] and counts["skipped"] == 2
    assert sorted(sends()) == [
        ("clerk", "skipped", "role ar_clerk may not open /commissions"),
        ("rep1", "skipped", "user is disabled"),
    ]


def test_role_subscription_reaches_every_user_of_the_role_in_their_scope(ledger, smtp):
    subscribe(role="sales_rep")
    run()
    assert "total AR $884.61" in smtp.to("rep1@example.com")[0]["Subject"]
    assert "total AR $777.77" in smtp.to("rep3@example.com")[0]["Subject"]  # C4 Delta only


def test_one_send_per_slot_with_two_schedulers_racing(ledger, smtp):
    for user in ("rep1", "mgr_east", "clerk_north", "admin"):
        subscribe(username=user, every="daily")
    barrier = threading.Barrier(3)
    results = []

    def worker():
        barrier.wait()
        results.append(run())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 4 and len(smtp.envelopes) == 4
    assert run(NOW + dt.timedelta(hours=3))["sent"] == 0  # same slot later the same day
    assert run(NOW + dt.timedelta(days=1))["sent"] == 4  # the next day's slot
    assert len(smtp.envelopes) == 8


def test_schedule_slots_respect_time_zone_and_period():
    from dashboard.subscriptions.schedule import latest_slot

    now = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)  # Monday 10:00 in Berlin (UTC+1)
    assert latest_slot("daily", "09:30", "Europe/Berlin", now) == dt.datetime(
        2024, 3, 4, 8, 30, tzinfo=dt.UTC
    )
    assert latest_slot("daily", "10:30", "Europe/Berlin", now) == dt.datetime(
        2024, 3, 3, 9, 30, tzinfo=dt.UTC
    )
    assert latest_slot("weekly", "08:00", "UTC", now, weekday=2) == dt.datetime(
        2024, 2, 28, 8, 0, tzinfo=dt.UTC
    )
    assert latest_slot("monthly", "08:00", "UTC", now, monthday=31) == dt.datetime(
        2024, 2, 29, 8, 0, tzinfo=dt.UTC
    )
    # New York 08:00 is 13:00 UTC in winter and 12:00 UTC after the DST change (10 March 2024)
    assert latest_slot(
        "daily", "08:00", "America/New_York", dt.datetime(2024, 3, 11, 23, 0, tzinfo=dt.UTC)
    ) == dt.datetime(2024, 3, 11, 12, 0, tzinfo=dt.UTC)


def test_over_limit_alert_fires_once_with_the_rows_in_scope(ledger, smtp):
    from dashboard.data.schema import bump_data_version

    with session_scope() as s:
        s.execute(
            update(Customer).where(Customer.customer_id == "C1").values(credit_limit_cents=50000)
        )
        s.execute(
            update(Customer).where(Customer.customer_id == "C4").values(credit_limit_cents=10000)
        )
        bump_data_version(s)
    subscribe(username="rep1", kind="alert", condition="over_limit")
    subscribe(username="admin", kind="alert", condition="over_limit")
    assert run()["fired"] == 3  # rep1: C1; admin: C1 and C4
    [rep] = smtp.to("rep1@example.com")
    html = html_of(rep)
    assert "Acme" in html and "$500.00" in html and "$834.56" in html and "$334.56" in html
    assert "Delta" not in html
    [admin] = smtp.to("admin@example.com")
    assert "Acme" in html_of(admin) and "Delta" in html_of(admin) and "$677.77" in html_of(admin)
    with session_scope() as s:
        bump_data_version(s)  # new data: evaluated again, still over the limit: no new email
    run(NOW + dt.timedelta(minutes=5))
    run(NOW + dt.timedelta(days=1))  # the daily evaluation: still nothing new
    assert len(smtp.envelopes) == 2
    with session_scope() as s:
        assert len(s.execute(select(AlertFiring)).scalars().all()) == 3


def test_kpi_threshold_alert_fires_once_per_crossing(ledger, smtp):
    subscribe(username="rep1", kind="alert", condition="dso_above", threshold="61.97")
    subscribe(username="mgr_east", kind="alert", condition="dso_above", threshold="70")
    run()
    [message] = smtp.to("rep1@example.com")
    assert "DSO 61.98 against a threshold of 61.97" in message["Subject"]
    assert "$884.61" in html_of(message) and "$1,284.61" in html_of(message)
    # East: 1384.61 / 1784.61 x 90 = 69.83, not above 70
    assert smtp.to("mgr_east@example.com") == []
    run(NOW + dt.timedelta(days=1))
    assert len(smtp.envelopes) == 1


def test_promise_and_dispute_alerts(ledger, smtp):
    from dashboard.data.schema import bump_data_version

    with session_scope() as s:
        s.add(
            Promise(
                promise_id="PR1",
                invoice_id="I1",
                made_on=dt.date(2024, 2, 10),
                promised_date=dt.date(2024, 2, 20),
                amount_cents=60000,
            )
        )
        s.add(
            Dispute(
                dispute_id="D1",
                invoice_id="I5",
                opened_on=dt.date(2024, 1, 15),
                amount_cents=77777,
                status="open",
            )
        )
        s.add(
            Dispute(
                dispute_id="D2",
                invoice_id="I6",
                opened_on=dt.date(2024, 2, 25),
                amount_cents=1000,
                status="open",
            )
        )
        bump_data_version(s)
    subscribe(username="rep1", kind="alert", condition="promise_broken")
    subscribe(username="rep1", kind="alert", condition="dispute_older", threshold="30")
    subscribe(username="admin", kind="alert", condition="dispute_older", threshold="30")
    run()
    [promise] = smtp.to("rep1@example.com")  # rep1 sees no dispute (C4 and C5 are not theirs)
    assert "PR1" in html_of(promise) and "2024-02-20" in html_of(promise)
    [dispute] = smtp.to("admin@example.com")
    # D2 is 5 days old
    assert "D1" in html_of(dispute) and "46" in html_of(dispute) and "D2" not in html_of(dispute)
    with session_scope() as s:
        bump_data_version(s)
    run(NOW + dt.timedelta(days=2))
    assert len(smtp.envelopes) == 2


def test_smtp_outage_is_retried_and_reported(ledger, smtp, monkeypatch):
    subscribe(username="rep1")
    real_port = smtp_port = None
    import os

    real_port = os.environ["SMTP_PORT"]
    smtp_port = str(free_port())  # nothing listens there
    monkeypatch.setenv("SMTP_PORT", smtp_port)
    counts = run()
    assert counts["retry"] == 1 and counts.get("errors", 0) == 0
    [(user, status, detail)] = sends()
    assert (
        status == "retry"
        and "could not send through 127.0.0.1" in detail
        and "next try at" in detail
    )
    assert run(NOW + dt.timedelta(minutes=5))["sent"] == 0  # not yet due for a retry
    monkeypatch.setenv("SMTP_PORT", real_port)
    smtp.fail_data = 1  # one temporary refusal, then the server accepts: retried within the send
    assert run(NOW + dt.timedelta(minutes=20))["sent"] == 1
    assert sends() == [("rep1", "sent", sends()[0][2])] and "2 SMTP attempt(s)" in sends()[0][2]
    with session_scope() as s:
        assert s.execute(select(SubscriptionSend.attempts)).scalar() == 2
    assert len(smtp.to("rep1@example.com")) == 1


def test_bad_address_fails_without_stopping_the_others(ledger, smtp):
    from dashboard.subscriptions.store import set_address

    set_address("rep1", "bad-rep@example.com")
    subscribe(username="rep1")
    subscribe(username="admin")
    counts = run()
    assert counts["failed"] == 1 and counts["sent"] == 1
    statuses = dict((u, (s, d)) for u, s, d in sends())
    assert statuses["rep1"][0] == "failed" and "address refused" in statuses["rep1"][1]
    assert statuses["admin"][0] == "sent"
    assert run(NOW + dt.timedelta(hours=2))["sent"] == 0  # a refused address is not retried


def test_unsubscribe_link_switches_the_subscription_off(ledger, smtp):
    import re

    from dashboard.app import create_app

    sub_id = subscribe(username="rep1", every="daily")
    run()
    link = re.search(
        r'href="(http[^"]+/unsubscribe/[^"]+)"', html_of(smtp.to("rep1@example.com")[0])
    ).group(1)
    app = create_app()
    from auth_helpers import login

    client = app.server.test_client()
    login(client, "rep1")
    path = "/unsubscribe/" + link.rsplit("/", 1)[1]
    assert client.get(path[:-3] + "xyz").status_code == 404  # tampered
    response = client.get(path)
    assert response.status_code == 200 and "Unsubscribed" in response.text
    with session_scope() as s:
        assert s.get(Subscription, sub_id).active is False
    assert run(NOW + dt.timedelta(days=1))["sent"] == 0


def test_only_admins_subscribe_others(ledger):
    from dashboard.subscriptions.store import (
        Actor,
        SubscriptionError,
        add_subscription,
        list_subscriptions,
    )

    rep = Actor("rep1", "sales_rep")
    mine = add_subscription(
        rep, page="/aging?segment=Retail", every="daily", at_time="07:30", tz="Europe/Paris"
    )
    assert mine["username"] == "rep1" and mine["tz"] == "Europe/Paris"
    with pytest.raises(SubscriptionError, match="only subscribe yourself"):
        add_subscription(rep, username="rep3")
    with pytest.raises(SubscriptionError, match="only an admin"):
        add_subscription(rep, role="sales_rep")
    with pytest.raises(SubscriptionError, match="unknown time zone"):
        add_subscription(rep, tz="Mars/Olympus")
    with pytest.raises(SubscriptionError, match="not a time of day"):
        add_subscription(rep, at_time="25:00")
    with pytest.raises(SubscriptionError, match="not a page"):
        add_subscription(rep, page="https://evil.example.com/")
    assert [s["id"] for s in list_subscriptions(Actor("rep3", "sales_rep"))] == []
    with session_scope() as s:
        events = (
            s.execute(select(AuditLog.detail).where(AuditLog.event == "subscription"))
            .scalars()
            .all()
        )
    adds = [e for e in events if '"action": "add"' in e]
    assert (
        len(adds) == 1
        and '"by": "rep1"' in adds[0]
        and '"page": "/aging?segment=Retail"' in adds[0]
    )


def test_cli_add_list_remove_and_scheduler_once(ledger, smtp, capsys):
    import json

    from dashboard.cli import main

    assert (
        main(
            [
                "subscriptions",
                "add",
                "--user",
                "rep1",
                "--page",
                PAGE,
                "--every",
                "daily",
                "--at",
                "06:00",
                "--tz",
                "Europe/Berlin",
            ]
        )
        == 0
    )
    sub = json.loads(capsys.readouterr().out)
    assert sub["every"] == "daily" and sub["tz"] == "Europe/Berlin"
    assert main(["subscriptions", "add", "--user", "rep1", "--tz", "Nowhere/City"]) == 2
    assert "unknown time zone" in capsys.readouterr().err
    assert main(["subscriptions", "list"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [sub["id"]]
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=6, minute=0)
    assert main(["scheduler", "--once", "--now", tomorrow.strftime("%Y-%m-%dT%H:%M:%S+01:00")]) == 0
    assert "1 sent" in capsys.readouterr().err
    assert main(["scheduler", "--once", "--now", tomorrow.strftime("%Y-%m-%dT%H:%M:%S+01:00")]) == 0
    assert "nothing due" in capsys.readouterr().err
    assert main(["subscriptions", "remove", str(sub["id"])]) == 0
    assert main(["subscriptions", "list"]) == 0 and capsys.readouterr().out == ""


def test_one_send_per_slot_with_two_scheduler_processes(ledger, smtp):
    import os
    import subprocess
    import sys

    for user in ("rep1", "mgr_east", "clerk_north"):
        subscribe(username=user, every="daily")
    env = {**os.environ, "AR_TEST_BACKENDS": "", "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-m", "dashboard", "scheduler", "--once", "--now", NOW.isoformat()]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(smtp.envelopes) == 3
    assert sorted(e.rcpt_tos[0] for e in smtp.envelopes) == [
        "clerk_north@example.com",
        "mgr_east@example.com",
        "rep1@example.com",
    ]
    assert sorted(u for u, s, _d in sends()) == ["clerk_north", "mgr_east", "rep1"]


def test_customers_csv_email_column_is_imported(db_url, tmp_path):
    from dashboard.data.importer import run_import

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,name,email\n007,Bond Ltd,ap@bond.example.com\n008,Q Ltd,\n"
    )
    result = run_import(folder, url=db_url, progress=False)
    assert result.warnings == []
    with session_scope() as s:
        assert (
            s.get(Customer, "007").email == "ap@bond.example.com"
            and s.get(Customer, "008").email is None
        )


def test_over90_share_alert_lists_the_invoices_behind_it(ledger, smtp):
    # as of 2024-05-15 rep1's I1 (due 2024-02-09, 600.00 open) is 96 days past due; I2 and I3 are not 90+:
    # share 600.00 / 884.61 = 67.83 %
    page = "/?as_of=2024-05-15"
    subscribe(
        username="rep1", kind="alert", condition="over90_share_above", threshold="60", page=page
    )
    subscribe(
        username="mgr_east", kind="alert", condition="over90_share_above", threshold="70", page=page
    )
    run(dt.datetime(2024, 5, 15, 9, 0, tzinfo=dt.UTC))
    [message] = smtp.to("rep1@example.com")
    assert "90+ share (%) 67.83 against a threshold of 60" in message["Subject"]
    html = html_of(message)
    assert "Invoice I1 · Acme · due 2024-02-09" in html and "$600.00" in html and "I2" not in html
    # East adds I4 (500.00, due 2024-02-19, 86 days): 600.00 / 1384.61 = 43.33 %, below 70
    assert smtp.to("mgr_east@example.com") == []


def test_account_360_subscription_attaches_that_customers_pdf_only_in_scope(ledger, smtp):
    subscribe(username="rep1", page=f"/customers/C1?as_of={AS_OF}")
    # rep3's customer
    subscribe(username="rep1", page=f"/customers/C4?as_of={AS_OF}", every="daily")
    run()
    first, second = smtp.to("rep1@example.com")
    [pdf] = [p for p in first.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = pdf_text(pdf.get_content())
    assert "Acme #C1" in text and "Account 360" in text and "$834.56" in text
    for message in (first, second):
        body = html_of(message) + "".join(
            pdf_text(p.get_content()) for p in message.iter_attachments()
        )
        assert "Delta" not in body and "$777.77" not in body


def test_collections_subscription_attaches_that_pages_own_pdf_in_the_reps_scope(ledger, smtp):
    # As of 2024-03-01 (no activities logged), worked by hand:
    #   rep1 (C1, C2): overdue only I1 (due 2024-02-09, 1000.00 - 400.00 = 600.00), 21 days past due;
    #       I2 (due 03-16) and I3 (due 03-02) are not due. Never contacted: 1 of 1 new overdue.
    #   mgr_east adds I4 Gamma (due 2024-02-19, 500.00, 11 days): 1,100.00 over 2 customers.
    subscribe(username="rep1", page=f"/collections?as_of={AS_OF}")
    subscribe(username="mgr_east", page=f"/collections?as_of={AS_OF}&by=region")
    run()
    [message] = smtp.to("rep1@example.com")
    [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "collections-2024-03-01.pdf"
    text = pdf_text(pdf.get_content())
    assert text.startswith("Collections As of 2024-03-01") and "scope: sales rep R1" in text
    assert "Overdue $600.00 1 customers Covered by activity (14 days) 0.0 % $0.00" in text
    assert "Never contacted 1 of 1 new overdue" in text and "Coverage by segment" in text
    assert "Overdue invoices never contacted (1)" in text
    assert "I1 Acme 2024-02-09 21 $600.00 Total of all 1 $600.00" in text
    html = html_of(message)
    for other in ("Gamma", "Delta", "Epsilon", "$500.00", "$777.77", "$1,100.00"):
        assert other not in text and other not in html, other
    # the body shows the Collections page's own tiles, not Receivables Health's
    assert "Never contacted" in html and "Mean days to first contact" in html and "DSO" not in html
    assert "The Collections activity page is attached" in html
    if HAS_BROWSER:
        images = [p.get_filename() for p in message.walk() if p.get_content_type() == "image/png"]
        assert images == ["collections_coverage.png", "collections_latency.png"]
    [east] = smtp.to("mgr_east@example.com")
    [pdf] = [p for p in east.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = pdf_text(pdf.get_content())
    # by=region kept
    assert "Overdue $1,100.00 2 customers" in text and "Coverage by region" in text
    assert "I4 Gamma 2024-02-19 11 $500.00 Total of all 2 $1,100.00" in text and "Delta" not in text


def test_page_without_a_sheet_keeps_the_receivables_fallback(ledger, smtp):
    subscribe(username="rep1", page=f"/invoices?as_of={AS_OF}")
    run()
    [message] = smtp.to("rep1@example.com")
    [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = pdf_text(pdf.get_content())
    assert "Invoice workspace · summary" in text and "Open invoices" in text and "$884.61" in text
    assert "DSO" in html_of(message) and "Gamma" not in text
