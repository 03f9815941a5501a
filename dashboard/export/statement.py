"""Customer statements: one PDF per customer as of a date, downloaded or emailed to its billing address.

The figures are those of Account 360 (dashboard.metrics.account.account_360) for the same customer,
date and scope: the open items sum to Account 360's "total outstanding" and the aging buckets sum
to it too; unapplied credits are the KPI contract's (payments not yet allocated, credit notes with
no invoice, over-application). Balance due = open items − unapplied credits. Amounts are in the
customer's currency (the `currency` column, else the base currency setting).

Emailing writes an activity on the customer (channel `email`, outcome `statement sent`), bumps the
data version so Account 360 shows it, and writes an `export` audit row. A dry run sends nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import numpy as np

from dashboard import format as fmt
from dashboard.auth.audit import write_audit
from dashboard.config import get_settings
from dashboard.data.customers import add_activity, customer_email
from dashboard.export import pdf as p
from dashboard.export.email import ADDRESS_RE
from dashboard.export.mailer import MailError, deliver
from dashboard.export.tables import Stamp, audit_detail, safe_file_part
from dashboard.format import to_cents
from dashboard.metrics.filters import Scope
from dashboard.metrics.ledger import unapplied_items
from dashboard.metrics.snapshot import NO_DATE, from_day, to_day
from dashboard.views.account import account_data

log = logging.getLogger(__name__)

AGING_LABELS = {
    "not_due": "Not yet due",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "Over 90 days",
}


class StatementError(ValueError):
    """A statement that cannot be made or sent (unknown customer, out of scope, no address)."""


@dataclass
class Statement:
    """Everything a statement shows; money in integer cents of the customer's currency."""

    customer_id: str
    name: str
    email: str | None
    currency: str
    as_of: dt.date
    items: list[dict]
    aging: dict[str, int]
    credits: list[dict]
    open_cents: int
    unapplied_cents: int
    overdue_cents: int
    scope: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def balance_cents(self) -> int:
        """What the customer owes net of unapplied credits."""
        return self.open_cents - self.unapplied_cents


def _cents(text: str | None) -> int:
    return int(to_cents(text) or 0)


def _credits(snap: Any, pos: int, day: int) -> tuple[list[dict], int]:
    """(the unapplied payments and credits, their total), in the customer's own currency units.

    The items are those of the KPI contract's unapplied credits (free payments and credit notes,
    over-applied invoices, credits waiting for their invoice); the statement shows them in the
    customer's currency, not converted to the base currency.
    """
    items = unapplied_items(snap, day)
    pick = np.flatnonzero(items.cust == pos)
    when = [
        "" if items.day[i] == NO_DATE else from_day(int(items.day[i])).isoformat() for i in pick
    ]
    rows: list[dict[str, Any]] = [
        {
            "id": str(items.ref[i]),
            "type": str(items.kind[i]),
            "date": w,
            "amount_cents": int(items.own[i]),
        }
        for i, w in zip(pick, when, strict=True)
    ]
    return rows, sum(r["amount_cents"] for r in rows)


def build_statement(snap: Any, customer_id: str, as_of: dt.date, scope: Scope) -> Statement:
    """The statement of a customer the scope allows (StatementError otherwise)."""
    data, currency = account_data(snap, customer_id, as_of, scope)
    if data is None:
        raise StatementError(f"customer {customer_id!r} not found")
    items = [
        {
            "invoice_id": i["invoice_id"],
            "issue_date": i["issue_date"],
            "due_date": i["due_date"],
            "days_past_due": int(i["days_past_due"] or 0),
            "amount_cents": _cents(i["amount"]),
            "balance_cents": _cents(i["balance"]),
            "disputed": i["disputed"],
        }
        for i in data["invoices"]
        if i["status"] in ("OPEN", "OVERDUE")
    ]
    items.sort(key=lambda i: (i["due_date"], i["invoice_id"]))
    credits, unapplied = _credits(snap, snap.cust_index[customer_id], to_day(as_of))
    return Statement(
        customer_id=customer_id,
        name=data["name"],
        email=customer_email(customer_id),
        currency=currency,
        as_of=as_of,
        items=items,
        aging={k: _cents(v) for k, v in data["aging_due"].items()},
        credits=credits,
        open_cents=_cents(data["summary"]["total_outstanding"]),
        unapplied_cents=unapplied,
        overdue_cents=_cents(data["summary"]["overdue"]),
        scope=scope.label,
    )


# ---- the PDF ---------------------------------------------------------------------------------------


def company_lines(settings: Any) -> list[str]:
    """The company's details from the settings (name, address lines, contact)."""
    lines = [settings.company_name]
    lines += [part.strip() for part in (settings.company_address or "").split("|") if part.strip()]
    contact = " · ".join(p for p in (settings.company_email, settings.company_phone) if p)
    if contact:
        lines.append(contact)
    if settings.company_tax_id:
        lines.append(f"Tax id {settings.company_tax_id}")
    return lines


def statement_pdf(st: Statement, stamp: Stamp, settings: Any) -> bytes:
    """The statement: company details, customer, open items, aging, credits, balance due."""
    doc = p._new_pdf(stamp, stamp.title)
    money = lambda cents: fmt.money(cents, st.currency)  # noqa: E731
    company = company_lines(settings)
    p._font(doc, 13, bold=True)
    doc.cell(p.CONTENT, 6, p.clean(doc, company[0]), new_x="LMARGIN", new_y="NEXT")
    p._font(doc, 8.5, color=p.MUTED)
    for line in company[1:]:
        doc.cell(p.CONTENT, 4, p.clean(doc, line), new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    p._heading(
        doc,
        f"Statement of account · {st.as_of:%d %B %Y}",
        stamp,
        f"{st.name} (customer #{st.customer_id})"
        + (f" · {st.email}" if st.email else "")
        + f" · amounts in {st.currency}",
    )
    p._tiles(
        doc,
        [
            p.Tile("Open invoices", money(st.open_cents), f"{len(st.items)} items"),
            p.Tile("Overdue", money(st.overdue_cents), "past their due date"),
            p.Tile(
                "Unapplied credits",
                money(st.unapplied_cents),
                "payments and credit notes not applied",
            ),
            p.Tile("Balance due", money(st.balance_cents), f"as of {st.as_of.isoformat()}"),
        ],
        per_row=4,
    )
    p._section(doc, "Aging (days past due)", need=18)
    labels = [AGING_LABELS[k] for k in st.aging]
    width = p.CONTENT / (len(labels) + 1)
    p._table(
        doc,
        [(label, width, "R") for label in labels] + [("Total", width, "R")],
        [[money(v) for v in st.aging.values()] + [money(sum(st.aging.values()))]],
    )
    p._section(doc, f"Open items ({len(st.items)})", need=25)
    columns = [
        ("Invoice", 36, "L"),
        ("Issued", 24, "L"),
        ("Due", 24, "L"),
        ("Days past due", 24, "R"),
        ("Amount", 39, "R"),
        ("Open balance", 39, "R"),
    ]
    rows = [
        [
            i["invoice_id"] + (" (disputed)" if i["disputed"] else ""),
            i["issue_date"],
            i["due_date"],
            str(i["days_past_due"]),
            money(i["amount_cents"]),
            money(i["balance_cents"]),
        ]
        for i in st.items
    ]
    if rows:
        p._table(doc, columns, rows, ["Total open items", "", "", "", "", money(st.open_cents)])
    else:
        p._font(doc, 8.5, color=p.MUTED)
        doc.cell(p.CONTENT, 6, "No open invoices.", new_x="LMARGIN", new_y="NEXT")
    if st.credits:
        p._section(doc, "Unapplied credits", need=20)
        p._table(
            doc,
            [("Reference", 46, "L"), ("Type", 70, "L"), ("Date", 30, "L"), ("Amount", 40, "R")],
            [[c["id"], c["type"], c["date"], money(c["amount_cents"])] for c in st.credits],
            ["Total", "", "", money(st.unapplied_cents)],
        )
    p._section(doc, "Balance", need=20)
    p._table(
        doc,
        [("", 146, "L"), ("", 40, "R")],
        [
            ["Open items", money(st.open_cents)],
            ["Less unapplied credits", money(-st.unapplied_cents)],
        ],
        ["Balance due", money(st.balance_cents)],
    )
    if settings.company_payment_note:
        p._font(doc, 8.5)
        doc.multi_cell(p.CONTENT, 4.5, p.clean(doc, settings.company_payment_note), align="L")
    return p._output(doc)


def statement_stamp(st: Statement, user: str | None) -> Stamp:
    """The stamp of a statement (title names the customer)."""
    return Stamp(
        title=f"Statement · {st.name} #{st.customer_id}",
        as_of=st.as_of,
        filters="customer statement",
        scope=st.scope,
        user=user,
    )


def statement_file_name(st: Statement) -> str:
    """statement-<customer>-<date>.pdf (safe characters only)."""
    return f"statement-{safe_file_part(st.customer_id)}-{st.as_of.isoformat()}.pdf"


# ---- sending ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened (or would happen, in a dry run) for one customer."""

    customer_id: str
    name: str
    email: str | None
    status: str  # sent, would send, no address, failed
    balance: str
    detail: str = ""


def _message(st: Statement, pdf: bytes, settings: Any) -> EmailMessage:
    money = lambda cents: fmt.money(cents, st.currency)  # noqa: E731
    message = EmailMessage()
    message["Subject"] = (
        f"Statement of account as of {st.as_of.isoformat()} · {settings.company_name}"
    )
    message["From"] = settings.smtp_from
    message["To"] = st.email or ""
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ar-dashboard.local")
    message.set_content(
        f"Dear {st.name},\n\nplease find attached your statement of account as of {st.as_of.isoformat()}.\n\n"
        f"Open invoices: {money(st.open_cents)}\nUnapplied credits: {money(st.unapplied_cents)}\n"
        f"Balance due: {money(st.balance_cents)}\n\n" + "\n".join(company_lines(settings)) + "\n"
    )
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=statement_file_name(st)
    )
    return message


def log_activity(st: Statement, user: str | None) -> str:
    """An `email` activity on the customer for a sent statement; bumps the data version."""
    activity_id = f"STMT-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    note = (
        f"Statement as of {st.as_of.isoformat()} emailed to {st.email} by {user or 'the command line'}: "
        f"balance due {fmt.money(st.balance_cents, st.currency)}"
    )
    add_activity(activity_id, st.customer_id, dt.date.today(), "email", "statement sent", note)
    return activity_id


def send_statements(
    snap: Any,
    customer_ids: list[str],
    as_of: dt.date,
    scope: Scope,
    user: str | None,
    dry_run: bool = False,
    via: str = "ui",
) -> list[Outcome]:
    """Email each customer's statement to its billing address (or say what would be sent)."""
    settings = get_settings()
    outcomes = []
    for customer_id in customer_ids:
        st = build_statement(snap, customer_id, as_of, scope)
        balance = fmt.money(st.balance_cents, st.currency)
        if not st.email or not ADDRESS_RE.match(st.email):
            outcomes.append(
                Outcome(
                    customer_id,
                    st.name,
                    st.email,
                    "no address",
                    balance,
                    "no valid billing email on the customer",
                )
            )
            continue
        if dry_run:
            outcomes.append(Outcome(customer_id, st.name, st.email, "would send", balance))
            continue
        stamp = statement_stamp(st, user)
        try:
            deliver(
                _message(st, statement_pdf(st, stamp, settings), settings), [st.email], settings
            )
        except MailError as error:
            outcomes.append(Outcome(customer_id, st.name, st.email, "failed", balance, str(error)))
            write_audit(
                "export",
                user,
                audit_detail(
                    "email",
                    "statement_failed",
                    stamp,
                    len(st.items),
                    customer_id=customer_id,
                    to=[st.email],
                    via=via,
                    error=str(error),
                ),
            )
            continue
        activity = log_activity(st, user)
        write_audit(
            "export",
            user,
            audit_detail(
                "email",
                "statement",
                stamp,
                len(st.items),
                customer_id=customer_id,
                to=[st.email],
                via=via,
                balance=fmt.to_cents(st.balance_cents),
                activity_id=activity,
            ),
        )
        outcomes.append(Outcome(customer_id, st.name, st.email, "sent", balance))
    return outcomes


def statement_download(
    snap: Any, customer_id: str, as_of: dt.date, scope: Scope, user: str | None, via: str = "ui"
) -> tuple[bytes, str]:
    """(PDF bytes, file name) of one statement, audited."""
    st = build_statement(snap, customer_id, as_of, scope)
    stamp = statement_stamp(st, user)
    data = statement_pdf(st, stamp, get_settings())
    write_audit(
        "export",
        user,
        audit_detail(
            "pdf",
            "statement",
            stamp,
            len(st.items),
            customer_id=customer_id,
            via=via,
            balance=st.balance_cents,
        ),
    )
    return data, statement_file_name(st)
