"""`python -m dashboard email-summary` against a local SMTP server (aiosmtpd) the test starts.

Figures are those of tests/auth_helpers.py (as of 2024-03-01): total AR 2462.39, overdue 1877.77;
rep R1 sees C1 Acme 834.56 and C2 Beta 50.05 only (884.61).
"""

from __future__ import annotations

import email
import io
import json
import shutil
import socket
import struct
from email import policy

import pytest
from auth_helpers import AS_OF, seed_ledger, seed_users
from sqlalchemy import select, update

from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog, User

HAS_BROWSER = any(
    shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
)


class Sink:
    """An SMTP handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """A local SMTP server on a free port; SMTP_* point at it."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "ar-reports@example.com")
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.delenv("SMTP_STARTTLS", raising=False)
    yield sink
    controller.stop()


@pytest.fixture
def ledger(db_url):
    """The hand-made ledger and users, fresh snapshots."""
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    seed_ledger()
    seed_users()
    yield db_url
    clear_snapshots()
    clear_cache()


def run(*args: str) -> int:
    from dashboard.cli import main

    return main(["email-summary", "--as-of", AS_OF, *args])


def parts(envelope) -> dict:
    """The parsed message and its parts by role."""
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return {
        "message": message,
        "html": html.get_content(),
        "text": text.get_content(),
        "images": images,
        "pdfs": pdfs,
    }


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split()
    )


def audit_rows() -> list[tuple[str | None, dict]]:
    with session_scope() as s:
        rows = s.execute(
            select(AuditLog.username, AuditLog.detail)
            .where(AuditLog.event == "export")
            .order_by(AuditLog.id)
        ).all()
    return [(u, json.loads(d)) for u, d in rows]


def test_unrestricted_summary_has_figures_inline_chart_and_pdf(ledger, smtp, capsys):
    assert run("--to", "cfo@example.com", "--to", "controller@example.com,board@example.com") == 0
    assert (
        "sent to cfo@example.com, controller@example.com, board@example.com"
        in capsys.readouterr().out
    )
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "ar-reports@example.com"
    assert envelope.rcpt_tos == ["cfo@example.com", "controller@example.com", "board@example.com"]
    got = parts(envelope)
    message = got["message"]
    assert message["Subject"] == (
        "AR summary as of 2024-03-01: total AR $2,462.39, overdue $1,877.77 "
        "(all customers (no --as-user))"
    )
    assert message["To"] == "cfo@example.com, controller@example.com, board@example.com"
    html = got["html"]
    for expected in (
        "Weekly AR summary",
        "$2,462.39",
        "$1,877.77",
        "Acme",
        "$834.56",
        "Delta",
        "$777.77",
        "as of 2024-03-01",
        "scope: all customers (no --as-user)",
    ):
        assert expected in html, expected
    assert "$2,462.39" in got["text"] and "Acme (C1): $834.56" in got["text"]
    [pdf] = got["pdfs"]
    assert pdf.get_filename() == "receivables-2024-03-01.pdf"
    body = pdf.get_content()
    assert body.startswith(b"%PDF-") and "$2,462.39" in pdf_text(body)
    if HAS_BROWSER:
        [image] = got["images"]
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        png = image.get_content()
        # 640x340 at 1.5
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (960, 510)
    [(username, detail)] = audit_rows()
    assert username is None
    assert (
        detail["format"] == "email"
        and detail["export"] == "email_summary"
        and detail["via"] == "cli"
    )
    assert detail["to"] == ["cfo@example.com", "controller@example.com", "board@example.com"]
    assert detail["scope"] == "all customers (no --as-user)" and detail["total_ar"] == "2462.39"
    assert detail["rows"] == 5


def test_as_user_honours_that_users_scope(ledger, smtp):
    # usernames are case-insensitive
    assert run("--to", "rep@example.com", "--as-user", "REP1") == 0
    got = parts(smtp.envelopes[0])
    assert (
        "total AR $884.61" in got["message"]["Subject"]
        and "(sales rep R1)" in got["message"]["Subject"]
    )
    html = got["html"]
    assert "$884.61" in html and "Acme" in html and "Beta" in html
    for other in ("Gamma", "Delta", "Epsilon", "$2,462.39"):
        assert other not in html, other
    text = pdf_text(got["pdfs"][0].get_content())
    assert "$884.61" in text and "scope: sales rep R1" in text and "Delta" not in text
    username, detail = audit_rows()[-1]
    assert (
        username == "rep1" and detail["scope"] == "sales rep R1" and detail["total_ar"] == "884.61"
    )


def test_unknown_or_disabled_user_is_refused_with_exit_2(ledger, smtp, capsys):
    assert run("--to", "x@example.com", "--as-user", "nobody") == 2
    assert "unknown user 'nobody'" in capsys.readouterr().err
    with session_scope() as s:
        s.execute(update(User).where(User.username == "rep1").values(active=False))
    assert run("--to", "x@example.com", "--as-user", "rep1") == 2
    assert "user 'rep1' is disabled" in capsys.readouterr().err
    assert run("--to", "not an address") == 2
    assert "not an email address" in capsys.readouterr().err
    assert smtp.envelopes == [] and audit_rows() == []


def test_unreachable_mail_server_exits_1(ledger, monkeypatch, capsys):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    assert run("--to", "cfo@example.com") == 1
    assert "could not send through 127.0.0.1" in capsys.readouterr().err
    assert audit_rows() == []
