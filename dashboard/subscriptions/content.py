"""What a subscription sends, computed as the recipient at send time.

`eligibility` decides whether a user gets anything (active, allowed to open the page, allowed to
export, some customers in scope); `report_email` builds the page summary with the page's filters
inside the recipient's scope: the page's own tiles and charts inline and its own PDF sheet attached
(dashboard.export.page_pdf) when it has one, else Receivables Health's (see docs/subscriptions.md);
`alert_email` lists the rows behind new firings. Each carries an unsubscribe link.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from dashboard import format as fmt
from dashboard import params
from dashboard.auth.roles import can, page_allowed, page_rule
from dashboard.auth.scope import scope_for
from dashboard.auth.users import AuthUser
from dashboard.data.subscriptions import address_of
from dashboard.export.email import html_body, render_html, render_text
from dashboard.export.page_pdf import page_pdf as sheet_pdf
from dashboard.export.page_pdf import sheet_for_path
from dashboard.export.pdf import account_pdf, page_pdf, receivables_summary
from dashboard.export.png import RenderError, figure_png
from dashboard.export.tables import Stamp
from dashboard.figures import aging as aging_fig
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import filter_options
from dashboard.subscriptions.page_tables import page_table
from dashboard.subscriptions.schedule import describe
from dashboard.subscriptions.store import CONDITIONS
from dashboard.views import VIEWS, ChartRequest

log = logging.getLogger(__name__)

PAGE_TITLES = {
    "/": "Receivables Health",
    "/aging": "Customer aging",
    "/credit": "Credit utilization",
    "/reliability": "Payment reliability",
    "/value": "Customer value",
    "/forecast": "Payment forecast",
    "/predictions": "Payment predictions",
    "/disputes": "Disputes & promises",
    "/invoices": "Invoice workspace",
    "/collections": "Collections activity",
    "/commissions": "Commission analytics",
    "/customers": "Account 360",
}


@dataclass(frozen=True)
class Recipient:
    """A user who may receive a send: name, role, scope and address."""

    username: str
    role: str
    scope: Scope
    address: str | None


def page_title(path: str) -> str:
    """The page's title for a path ('/customers/C1' -> 'Account 360')."""
    if path in PAGE_TITLES:
        return PAGE_TITLES[path]
    return PAGE_TITLES.get(
        page_rule(path), PAGE_TITLES.get("/" + path.strip("/").split("/")[0], "Dashboard page")
    )


def eligibility(user: Any, page: str, override: str | None) -> tuple[Recipient | None, str]:
    """(the recipient, '') when the user may receive this page now, else (None, the reason)."""
    if user is None:
        return None, "user no longer exists"
    if not user.active:
        return None, "user is disabled"
    auth = AuthUser.from_row(user)
    path = urlsplit(page).path or "/"
    if not page_allowed(auth.role, path):
        return None, f"role {auth.role} may not open {path}"
    if not can(auth, "export"):
        return None, f"role {auth.role} may not export"
    sheet = _sheet(path)
    if sheet is not None and sheet.capability and not can(auth, sheet.capability):
        return None, f"role {auth.role} may not {sheet.capability.replace('_', ' ')}"
    scope = scope_for(auth)
    if scope.sales_rep_ids is not None and not scope.sales_rep_ids:
        return None, "no customers in the user's scope"
    address = override or address_of(user)
    if not address:
        return None, "no email address for the user (set one on the Subscriptions page)"
    return Recipient(user.username, auth.role, scope, address), ""


def page_filters(
    snap: Any, page: str, scope: Scope, today: dt.date
) -> tuple[dt.date, str, Filters, list[str]]:
    """(as_of, basis, filters, messages) of the page's query string, checked against the scope's choices."""
    raw = params.parse_query(urlsplit(page).query)
    clean, messages = params.validate(raw, filter_options(snap, scope), now=today)
    filters = params.filters_of(clean)
    return dt.date.fromisoformat(clean["as_of"]), clean["basis"], filters, messages


def _filters_text(basis: str, filters: Filters) -> str:
    described = params.filters_text(filters)
    return f"{basis}-date aging" + ("" if described == "no filters" else f" · {described}")


@dataclass
class Built:
    """A message ready to send and what it showed (for the history and the audit)."""

    message: EmailMessage
    stamp: Stamp
    rows: int
    summary: str
    payload: dict = field(default_factory=dict)


def _envelope(
    subject: str, sender: str, to: str, text: str, body_html: str, unsubscribe: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ar-dashboard.local")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message.set_content(text + f"\nUnsubscribe: {unsubscribe}\n")
    message.add_alternative(body_html, subtype="html")
    return message


def _footer(unsubscribe: str, schedule: str) -> str:
    e = html.escape
    return (
        f'<p style="font-size:11px;color:#6c757d;margin-top:18px">You receive this {e(schedule)}. '
        f'<a href="{e(unsubscribe)}">Unsubscribe</a>.</p>'
    )


def _png(figure: Any, title: str, stamp: Stamp) -> bytes | None:
    """A chart as an inline PNG (None when no browser can render it: the email says so instead)."""
    try:
        return figure_png(figure, 640, 340, f"{title}\n{stamp.text()}", scale=1.5)
    except RenderError as error:
        log.warning("subscription chart not rendered: %s", error)
        return None


def _sheet(path: str) -> Any:
    """The page's own PDF sheet (dashboard.export.page_pdf), None for pages without one."""
    return sheet_for_path(path)


def _options(sheet: Any, page: str, messages: list[str]) -> tuple[tuple[str, str], ...]:
    """The sheet's page-local choices (e.g. by=region) from the query string; unknown values are dropped."""
    query = params.parse_query(urlsplit(page).query)
    chosen: dict[str, str] = {}
    for name in sheet.charts:
        for key, allowed in VIEWS[name].options.items():
            value = query.get(key)
            if value in allowed:
                chosen[key] = value
            elif value is not None and key not in chosen:
                messages.append(f"“{value}” is not a choice of {key}; the page's default is shown.")
    return tuple(sorted(chosen.items()))


def _inline(
    snap: Any, sheet: Any, req: Any, summary: Any, stamp: Stamp
) -> list[tuple[str, str, bytes | None]]:
    """(title, file name, PNG) of the charts shown in the email body.

    A page whose sheet has charts shows them; Receivables Health and the pages without charts show
    the aging of total AR and the top 10 debtors.
    """
    if sheet is not None and sheet.charts and sheet.path != "/":
        built = [
            c for c in (VIEWS[name].chart(snap, req) for name in sheet.charts) if c is not None
        ]
        return [(c.title, f"{c.name}.png", _png(c.figure, c.title, stamp)) for c in built]
    k, cur = summary.kpis, summary.currency
    aging = _png(
        aging_fig.customer_aging_bar(k["aging_due"], cur, height=300),
        "Aging of total AR (days past due)",
        stamp,
    )
    debtors = next((c for c in summary.charts if c.name == "top_debtors"), None)
    debtors_png = _png(debtors.figure, "Top 10 debtors", stamp) if debtors is not None else None
    return [
        ("Aging of total AR (days past due)", "aging.png", aging),
        ("Top 10 debtors", "top-debtors.png", debtors_png),
    ]


def _fallback_pdf(snap: Any, path: str, req: Any, summary: Any, stamp: Stamp, title: str) -> bytes:
    """The PDF of a page without a sheet: Account 360's own, else Receivables Health plus the page's table."""
    if path.startswith("/customers/"):
        made = account_pdf(snap, path.split("/")[2], req.as_of, req.scope, lambda _data: stamp)
        if made:
            return made[0]
    table = page_table(snap, path, req.as_of, req.filters, req.scope, summary.currency)
    return page_pdf(summary, stamp, f"{title} · summary", table)


def _body(
    tiles: list,
    debtors: list,
    cur: str,
    stamp: Stamp,
    charts: list[tuple[str, str | None]],
    title: str,
    messages: list[str],
) -> str:
    """The HTML body: the page's tiles, its charts inline, top debtors, notes on refused filters."""
    body = render_html(tiles, debtors, cur, stamp, None, charts=charts)
    body = body.replace("Weekly AR summary</h1>", f"{html.escape(title)} · summary</h1>", 1)
    body = body.replace(
        "The full Receivables Health summary is attached",
        f"The {html.escape(title)} page is attached",
        1,
    )
    if messages:
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
        body = body.replace(
            "<table", f'<ul style="font-size:12px;color:#856404">{notes}</ul><table', 1
        )
    return body


def report_email(
    snap: Any, sub: Any, who: Recipient, today: dt.date, sender: str, unsubscribe: str
) -> Built:
    """The page summary as the recipient: the page's tiles and charts inline, top debtors, the page's PDF."""
    path = urlsplit(sub.page).path or "/"
    title = page_title(path)
    as_of, basis, filters, messages = page_filters(snap, sub.page, who.scope, today)
    sheet = _sheet(path)
    options = _options(sheet, sub.page, messages) if sheet is not None else ()
    req = ChartRequest(as_of, basis, params.PERIOD_DAYS, filters, who.scope, None, options)
    summary = receivables_summary(snap, as_of, basis, params.PERIOD_DAYS, filters, who.scope)
    cur, k = summary.currency, summary.kpis
    stamp = Stamp(
        title=f"{title} · subscription",
        as_of=as_of,
        filters=_filters_text(basis, filters),
        scope=who.scope.label,
        user=who.username,
    )
    tiles = (
        sheet.tiles(snap, req, cur)
        if sheet is not None and sheet.tiles is not None
        else summary.tiles[:8]
    )
    charts = _inline(snap, sheet, req, summary, stamp)
    pdf = (
        sheet_pdf(sheet, snap, req, stamp)[0]
        if sheet is not None
        else _fallback_pdf(snap, path, req, summary, stamp, title)
    )
    pdf_name = f"{path.strip('/').replace('/', '-') or 'receivables'}-{as_of.isoformat()}.pdf"
    cids = [
        make_msgid(idstring=name.removesuffix(".png"), domain="ar-dashboard.local")
        for _t, name, _p in charts
    ]
    debtors = summary.top_debtors[:10]
    shown = [
        (t, cid if png is not None else None)
        for (t, _n, png), cid in zip(charts, cids, strict=True)
    ]
    body = _body(tiles, debtors, cur, stamp, shown, title, messages)
    schedule = describe(sub.every, sub.at_time, sub.tz, sub.weekday, sub.monthday)
    body = body.replace("</body>", _footer(unsubscribe, schedule) + "</body>", 1)
    text = render_text(tiles, debtors, cur, stamp).replace(
        "Weekly AR summary", f"{title} summary", 1
    )
    text = text.replace(
        "The full Receivables Health summary is attached", f"The {title} page is attached", 1
    )
    subject = (
        f"{title} as of {as_of.isoformat()}: total AR {fmt.money(k['total_ar'], cur)}, overdue "
        f"{fmt.money(k['overdue_ar'], cur)} ({who.scope.label})"
    )
    message = _envelope(subject, sender, who.address or "", text, body, unsubscribe)
    for (_title, name, png), content_id in zip(charts, cids, strict=True):
        if png is not None:
            html_body(message).add_related(
                png,
                maintype="image",
                subtype="png",
                cid=content_id,
                filename=name,
                disposition="inline",
            )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return Built(message, stamp, len(debtors), f"total AR {k['total_ar']}")


def alert_email(
    sub: Any, who: Recipient, found: Any, as_of: dt.date, sender: str, unsubscribe: str
) -> Built:
    """One email for the new firings of an alert: what fired and the rows behind it."""
    e = html.escape
    label = CONDITIONS[sub.condition][0].replace("N", str(sub.threshold or ""), 1)
    stamp = Stamp(
        title=f"Alert · {label}",
        as_of=as_of,
        filters="live data",
        scope=who.scope.label,
        user=who.username,
    )
    head = "".join(
        f'<th style="text-align:left;padding:3px 8px">{e(c)}</th>' for c in found.columns
    )
    rows = "".join(
        "<tr>" + "".join(f'<td style="padding:3px 8px">{e(str(v))}</td>' for v in r) + "</tr>"
        for r in found.rows
    )
    body = (
        f'<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#212529">'
        f'<h1 style="font-size:19px">Alert: {e(label)}</h1><p>{e(found.headline)}</p>'
        f'<div style="font-size:12px;color:#6c757d">{e(stamp.text(" · "))}</div>'
        f'<table style="border-collapse:collapse;font-size:13px;margin-top:10px"><tr>{head}</tr>{rows}</table>'
        f"{_footer(unsubscribe, 'when this alert fires')}</body></html>"
    )
    text = (
        "\n".join(
            [
                f"Alert: {label}",
                found.headline,
                "",
                " | ".join(found.columns),
                *(" | ".join(str(v) for v in r) for r in found.rows),
                "",
                stamp.text(),
            ]
        )
        + "\n"
    )
    message = _envelope(
        f"Alert: {label} · {found.headline}", sender, who.address or "", text, body, unsubscribe
    )
    return Built(message, stamp, len(found.rows), found.headline)
