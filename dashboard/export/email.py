"""`python -m dashboard email-summary --to ADDR [--to ADDR2] [--as-of D] [--as-user USERNAME]`.

Renders the weekly summary (key tiles, the aging chart, top debtors) as an HTML email with the chart
inline (a cid: image) and the Receivables Health PDF attached, and sends it through the SMTP server
of the environment (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS).

Scope: with --as-user the figures are those that user sees in the dashboard (an unknown or disabled
user is refused, exit status 2); without it the scope is every customer (whoever can run the command
on the server can read the whole database anyway). Each sent summary writes an `export` audit row.
Exit status: 0 sent, 1 the mail server refused or could not be reached, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import logging
import re
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from dashboard import format as fmt
from dashboard.auth.audit import write_audit
from dashboard.auth.roles import can
from dashboard.auth.scope import scope_for
from dashboard.auth.users import AuthUser, normalise_username
from dashboard.config import get_settings
from dashboard.data.users import find_user
from dashboard.export.pdf import Tile, receivables_pdf, receivables_summary
from dashboard.export.png import RenderError, figure_png
from dashboard.export.tables import Stamp, audit_detail
from dashboard.figures import aging as aging_fig
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import kpis
from dashboard.metrics.snapshot import get_snapshot
from dashboard.params import PERIOD_DAYS

log = logging.getLogger(__name__)

WEEK_DAYS = 7
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.?[^@\s<>,;\"']*$")
SMTP_TIMEOUT = 30
UNRESTRICTED_LABEL = "all customers (no --as-user)"


class SummaryError(ValueError):
    """A request the command refuses (unknown or disabled user, bad address); exit status 2."""


@dataclass(frozen=True)
class Recipient:
    """Whose view the summary shows: a username (None: unrestricted) and the scope."""

    username: str | None
    scope: Scope


def resolve_scope(username: str | None) -> Recipient:
    """The scope of --as-user (refusing unknown, disabled or non-exporting users), else everyone."""
    if username is None:
        return Recipient(None, Scope(label=UNRESTRICTED_LABEL))
    name = normalise_username(username)
    if not name:
        raise SummaryError("--as-user needs a username")
    row = find_user(name)
    if row is None:
        raise SummaryError(f"unknown user {name!r} (see `python -m dashboard users list`)")
    if not row.active:
        raise SummaryError(
            f"user {name!r} is disabled; enable the user or choose another --as-user"
        )
    user = AuthUser.from_row(row)
    if not can(user, "export"):
        raise SummaryError(f"user {name!r} (role {user.role}) may not export")
    return Recipient(name, scope_for(user))


def check_addresses(addresses: list[str] | None) -> list[str]:
    """The --to addresses, each a plain address (no display names, no header injection)."""
    out = []
    for raw in addresses or []:
        for address in (part.strip() for part in raw.split(",")):
            if not address:
                continue
            if not ADDRESS_RE.match(address):
                raise SummaryError(f"not an email address: {address[:80]!r}")
            out.append(address)
    if not out:
        raise SummaryError("--to needs at least one address")
    return out


# ---- content ----------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What the email shows and carries."""

    subject: str
    text: str
    html: str
    chart_png: bytes | None
    chart_cid: str
    pdf: bytes
    pdf_name: str
    stamp: Stamp
    rows: int
    kpis: dict


def build_summary(snap: Any, as_of: dt.date, who: Recipient) -> Summary:
    """Tiles, the aging chart (PNG), top debtors and the Receivables Health PDF for a scope."""
    filters = Filters()
    summary = receivables_summary(snap, as_of, "due", PERIOD_DAYS, filters, who.scope)
    cur = summary.currency
    k = summary.kpis
    week = kpis(snap, as_of, WEEK_DAYS, filters, who.scope)
    stamp = Stamp(
        title="Weekly AR summary",
        as_of=as_of,
        filters="due-date aging",
        scope=who.scope.label,
        user=who.username,
    )
    by_label = {t.label: t for t in summary.tiles}
    tiles = [
        by_label["Total AR"],
        by_label["Overdue"],
        by_label["DSO"],
        by_label["CEI"],
        Tile(
            "Collections · last 7 days",
            fmt.money(week["collections"], cur),
            f"{as_of - dt.timedelta(days=WEEK_DAYS - 1):%d %b} – {as_of:%d %b %Y}",
        ),
        Tile(
            "Credit sales · last 7 days",
            fmt.money(week["credit_sales"], cur),
            "invoices less credit notes",
        ),
        by_label["Customers over limit"],
        by_label["Unapplied credits"],
    ]
    figure = aging_fig.customer_aging_bar(k["aging_due"], cur, height=300)
    try:
        chart = figure_png(
            figure, 640, 340, f"Aging of total AR (days past due)\n{stamp.text()}", scale=1.5
        )
    except RenderError as error:
        log.warning("email chart not rendered: %s", error)
        chart = None
    pdf_stamp = Stamp(
        title="Receivables Health summary",
        as_of=as_of,
        filters=stamp.filters,
        scope=stamp.scope,
        generated_at=stamp.generated_at,
        user=who.username,
    )
    pdf = receivables_pdf(summary, pdf_stamp)
    cid = make_msgid(idstring="aging", domain="ar-dashboard.local")
    debtors = summary.top_debtors[:10]
    subject = (
        f"AR summary as of {as_of.isoformat()}: total AR {fmt.money(k['total_ar'], cur)}, "
        f"overdue {fmt.money(k['overdue_ar'], cur)} ({who.scope.label})"
    )
    return Summary(
        subject=subject.replace("\n", " "),
        text=render_text(tiles, debtors, cur, stamp),
        html=render_html(tiles, debtors, cur, stamp, cid if chart else None),
        chart_png=chart,
        chart_cid=cid,
        pdf=pdf,
        pdf_name=f"receivables-{as_of.isoformat()}.pdf",
        stamp=stamp,
        rows=len(debtors),
        kpis=k,
    )


def render_text(tiles: list[Any], debtors: list[dict], cur: str, stamp: Stamp) -> str:
    """The plain-text part."""
    as_of = stamp.as_of.isoformat() if stamp.as_of else "today"
    lines = [f"Weekly AR summary · as of {as_of}", ""]
    lines += [f"{t.label}: {t.value}" + (f" ({t.sub})" if t.sub else "") for t in tiles]
    lines += ["", "Top debtors:"]
    lines += [
        f"{i:>2}. {d['name']} ({d['customer_id']}): {fmt.money(d['balance'], cur)}"
        for i, d in enumerate(debtors, 1)
    ]
    if not debtors:
        lines.append("No customer owes anything.")
    lines += ["", "The full Receivables Health summary is attached (PDF).", "", stamp.text()]
    return "\n".join(lines) + "\n"


def _chart_html(title: str, cid: str | None) -> str:
    """One inline chart (cid:) under its heading, or a note when it could not be rendered."""
    e = html.escape
    img = (
        f'<img src="cid:{e(cid.strip("<>"))}" alt="{e(title)}" width="640" '
        'style="max-width:100%;height:auto;border:0">'
        if cid
        else '<p style="color:#6c757d">(This chart could not be rendered on the server.)</p>'
    )
    return f'<h2 style="font-size:15px;margin:12px 0 6px">{e(title)}</h2>\n{img}'


def render_html(
    tiles: list[Any],
    debtors: list[dict],
    cur: str,
    stamp: Stamp,
    cid: str | None,
    charts: list[tuple[str, str | None]] | None = None,
) -> str:
    """The HTML part: tiles, the inline aging chart (cid:), top debtors, the stamp. Inline styles only.

    `charts` ((title, cid or None), ...) replaces the aging chart with a page's own charts.
    """
    e = html.escape
    cells = []
    for tile in tiles:
        cells.append(
            '<td style="padding:8px 10px;border:1px solid #dee2e6;background:#f8f9fa;vertical-align:top;width:25%">'
            f'<div style="font-size:11px;color:#6c757d">{e(tile.label)}</div>'
            f'<div style="font-size:17px;font-weight:bold;color:#212529">{e(tile.value)}</div>'
            f'<div style="font-size:11px;color:#6c757d">{e(tile.sub)}</div></td>'
        )
    rows_html = "".join(
        "<tr>" + "".join(cells[i : i + 4]) + "</tr>" for i in range(0, len(cells), 4)
    )
    chart = (
        f'<img src="cid:{e(cid.strip("<>"))}" alt="Aging of total AR by days past due" width="640" '
        'style="max-width:100%;height:auto;border:0">'
        if cid
        else '<p style="color:#6c757d">(The aging chart could not be rendered on the server.)</p>'
    )
    section = f'<h2 style="font-size:15px;margin:12px 0 6px">Aging of total AR (days past due)</h2>\n{chart}'
    if charts is not None:
        section = "\n".join(_chart_html(title, chart_cid) for title, chart_cid in charts)
    debtor_rows = (
        "".join(
            f'<tr><td style="padding:3px 8px;color:#6c757d">{i}</td><td style="padding:3px 8px">{e(d["name"])}</td>'
            f'<td style="padding:3px 8px;color:#6c757d">{e(d["customer_id"])}</td>'
            f'<td style="padding:3px 8px;text-align:right">{e(fmt.money(d["balance"], cur))}</td></tr>'
            for i, d in enumerate(debtors, 1)
        )
        or '<tr><td colspan="4" style="padding:3px 8px;color:#6c757d">No customer owes anything.</td></tr>'
    )
    top_total = sum(fmt.to_cents(d["balance"]) or 0 for d in debtors)
    return f"""<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;color:#212529;margin:0;padding:16px">
<h1 style="font-size:20px;margin:0 0 4px">Weekly AR summary</h1>
<div style="font-size:12px;color:#6c757d;margin-bottom:12px">{e(stamp.text(" · "))}</div>
<table style="border-collapse:collapse;width:100%;max-width:760px;margin-bottom:16px">{rows_html}</table>
{section}
<h2 style="font-size:15px;margin:16px 0 6px">Top debtors</h2>
<table style="border-collapse:collapse;font-size:13px;max-width:760px">
<tr><th style="text-align:left;padding:3px 8px">#</th><th style="text-align:left;padding:3px 8px">Customer</th>
<th style="text-align:left;padding:3px 8px">Customer #</th><th style="text-align:right;padding:3px 8px">Open balance</th></tr>
{debtor_rows}
<tr><td></td><td colspan="2" style="padding:3px 8px;font-weight:bold">Total of the top {len(debtors)}</td>
<td style="padding:3px 8px;text-align:right;font-weight:bold">{e(fmt.money(top_total, cur))}</td></tr>
</table>
<p style="font-size:12px;color:#6c757d;margin-top:16px">The full Receivables Health summary is attached (PDF).</p>
</body></html>
"""


def html_body(message: EmailMessage) -> EmailMessage:
    """The HTML part of a text + HTML message (set_content, then add_alternative), to attach images to."""
    parts = message.get_payload()
    assert isinstance(parts, list)  # multipart/alternative: [text, html]
    html_part = parts[1]
    assert isinstance(html_part, EmailMessage)
    return html_part


def build_message(summary: Summary, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/mixed: (multipart/related: (text | html) + the cid: chart) + the PDF attachment."""
    message = EmailMessage()
    message["Subject"] = summary.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ar-dashboard.local")
    message.set_content(summary.text)
    message.add_alternative(summary.html, subtype="html")
    if summary.chart_png is not None:
        html_part = html_body(message)
        html_part.add_related(
            summary.chart_png,
            maintype="image",
            subtype="png",
            cid=summary.chart_cid,
            filename="aging.png",
            disposition="inline",
        )
    message.add_attachment(
        summary.pdf, maintype="application", subtype="pdf", filename=summary.pdf_name
    )
    return message


def send(message: EmailMessage, recipients: list[str], settings: Any) -> None:
    """Deliver through SMTP_HOST:SMTP_PORT (STARTTLS and login when configured)."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message, from_addr=settings.smtp_from, to_addrs=recipients)


def run_email_summary(args: argparse.Namespace) -> int:
    """The `email-summary` command: build, send, audit; exit status 0, 1 (mail server) or 2 (arguments)."""
    settings = get_settings()
    as_of = getattr(args, "as_of", None) or dt.date.today()
    try:
        recipients = check_addresses(getattr(args, "to", None))
        who = resolve_scope(getattr(args, "as_user", None))
    except SummaryError as error:
        print(f"email-summary: {error}", file=sys.stderr)
        return 2
    summary = build_summary(get_snapshot(), as_of, who)
    message = build_message(summary, settings.smtp_from, recipients)
    try:
        send(message, recipients, settings)
    except (smtplib.SMTPException, OSError) as error:
        print(
            f"email-summary: could not send through {settings.smtp_host}:{settings.smtp_port}: {error}",
            file=sys.stderr,
        )
        return 1
    write_audit(
        "export",
        who.username,
        audit_detail(
            "email",
            "email_summary",
            summary.stamp,
            summary.rows,
            to=recipients,
            via="cli",
            total_ar=summary.kpis["total_ar"],
        ),
    )
    print(
        f"email-summary: sent to {', '.join(recipients)} (as of {as_of.isoformat()}, {who.scope.label})"
    )
    return 0
