"""PDF summaries (fpdf2): Receivables Health for board packs, Account 360 for sales calls.

Both are computed from the same cached metrics and figure builders as the pages, in the scope the
caller passes (the logged-in user's, from the server), with charts rendered as PNG through the
process's kaleido browser (dashboard.export.png). Every page carries the stamp in its footer.
If charts cannot be rendered (no browser), the PDF says so in place of each chart.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import format as fmt
from dashboard.data.notes import list_notes
from dashboard.export.png import RenderError, figure_png
from dashboard.export.tables import Stamp
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import (
    customers_with_limit,
    kpis,
    month_to_date,
    period_speed,
    previous_as_of,
)
from dashboard.params import PERIOD_DAYS
from dashboard.views import VIEWS, ChartRequest, chart_currency
from dashboard.views.account import account_data

log = logging.getLogger(__name__)

PAGE_WIDTH = 210.0  # A4 portrait, mm
MARGIN = 12.0
CONTENT = PAGE_WIDTH - 2 * MARGIN
PX_PER_MM = 5.0  # chart pixels per millimetre (before scale): 186 mm -> 930 px
CHART_SCALE = 2.0  # rendered at twice the pixels for print
TEXT = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
TILE_FILL = (248, 249, 250)
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
FONT_FILES = {
    "dejavu": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "liberation": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
}
ASCII_FALLBACK = {
    "–": "-",
    "—": "-",
    "·": "-",
    "…": "...",
    "▲": "+",
    "▼": "-",
    "＝": "=",
    "×": "x",
    "≤": "<=",
    "≥": ">=",
    "−": "-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "€": "EUR ",
    "₹": "INR ",
}
TOP_DEBTORS_ROWS = 10
ACCOUNT_INVOICE_ROWS = 40


def unicode_fonts() -> tuple[str, str] | None:
    """(regular, bold) TTF paths of DejaVu Sans or Liberation Sans, when installed."""
    for folder in FONT_DIRS:
        for regular, bold in FONT_FILES.values():
            r, b = Path(folder) / regular, Path(folder) / bold
            if r.is_file() and b.is_file():
                return str(r), str(b)
    return None


@dataclass
class Tile:
    """One KPI tile: label, value, a short line under it."""

    label: str
    value: str
    sub: str = ""


@dataclass
class ReceivablesSummary:
    """Everything the Receivables Health PDF and the email summary show."""

    as_of: dt.date
    period_days: int
    currency: str
    kpis: dict
    tiles: list[Tile]
    charts: list[Any] = field(default_factory=list)  # dashboard.views.Chart
    top_debtors: list[dict] = field(default_factory=list)


def receivables_tiles(
    snap: Any, as_of: dt.date, period_days: int, filters: Filters, scope: Scope, cur: str
) -> tuple[dict, list[Tile]]:
    """(kpis, the page's ten tiles as text), from the same cached metrics as the page."""
    k = kpis(snap, as_of, period_days, filters, scope)
    prev_day = previous_as_of(as_of, period_days)
    prev = period_speed(snap, prev_day, period_days, filters, scope)
    month = month_to_date(snap, as_of, filters, scope)
    limited = customers_with_limit(snap, filters, scope)
    total, overdue = fmt.to_cents(k["total_ar"]) or 0, fmt.to_cents(k["overdue_ar"]) or 0
    share = fmt.pct(overdue * 100 / total if total else None)
    delta = ""
    if k["dso"] is not None and prev["dso"] is not None:
        change = round(k["dso"] - prev["dso"], 2)
        delta = "= " if change == 0 else f"{'▲' if change > 0 else '▼'} {abs(change):,.1f} "
    since = f"{month['month_start']:%d %b} – {as_of:%d %b %Y}"
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    tiles = [
        Tile(
            "Total AR",
            money(k["total_ar"]),
            f"{fmt.number(k['customers_with_balance'])} customers with a balance",
        ),
        Tile(
            "Overdue",
            money(k["overdue_ar"]),
            f"{share} of AR · {fmt.number(k['customers_overdue'])} customers",
        ),
        Tile("DSO", fmt.days(k["dso"]), f"{delta}vs {fmt.days(prev['dso'])} at {prev_day:%d %b}"),
        Tile("CEI", fmt.pct(k["cei"]), f"previous period: {fmt.pct(prev['cei'])}"),
        Tile(
            "AR turnover", fmt.ratio(k["ar_turnover"], "×"), "credit sales of 365 days / average AR"
        ),
        Tile(
            "Best possible DSO / ADD",
            f"{fmt.ratio(k['best_possible_dso'], '', 1)} / {fmt.ratio(k['add'], '', 1)} days"
            if k["best_possible_dso"] is not None
            else fmt.DASH,
            "best possible DSO / average days delinquent",
        ),
        Tile(
            "Customers over limit",
            fmt.number(k["customers_over_limit"]),
            f"of {fmt.number(limited)} customers with a limit",
        ),
        Tile(
            "Unapplied credits",
            money(k["unapplied_credits"]),
            "payments and credit notes not yet applied",
        ),
        Tile("Sales this month", fmt.money(month["credit_sales_cents"], cur), since),
        Tile("Collections this month", fmt.money(month["collections_cents"], cur), since),
    ]
    return k, tiles


RECEIVABLES_CHARTS = ("aging_short", "aging_long", "top_debtors", "sales_collections", "dso_trend")


def receivables_summary(
    snap: Any,
    as_of: dt.date,
    basis: str,
    period_days: int,
    filters: Filters,
    scope: Scope,
    charts: tuple[str, ...] = RECEIVABLES_CHARTS,
) -> ReceivablesSummary:
    """Tiles, charts and top debtors of Receivables Health for a scope and filters."""
    req = ChartRequest(as_of, basis, period_days, filters, scope)
    cur = chart_currency(snap, req)
    k, tiles = receivables_tiles(snap, as_of, period_days, filters, scope, cur)
    built = [VIEWS[name].chart(snap, req) for name in charts]
    return ReceivablesSummary(
        as_of, period_days, cur, k, tiles, [c for c in built if c is not None], k["top_debtors"]
    )


# ---- the document ------------------------------------------------------------------------------


def _new_pdf(stamp: Stamp, title: str) -> Any:
    """An A4 document with Unicode fonts when available and the stamp in every page's footer."""
    from fpdf import FPDF  # lazy (b): PDF exports only, 307 ms

    fonts = unicode_fonts()

    class Document(FPDF):
        unicode = fonts is not None
        family_name = "Helvetica"

        def footer(self) -> None:  # noqa: D102 - fpdf2 hook
            self.set_y(-11)
            self.set_draw_color(*RULE)
            self.line(MARGIN, self.get_y() - 1, PAGE_WIDTH - MARGIN, self.get_y() - 1)
            self.set_font(self.family_name, "", 6.5)
            self.set_text_color(*MUTED)
            self.cell(
                CONTENT - 25,
                4,
                clean(self, f"{stamp.title} · {stamp.text(' · ')}"),
                new_x="RIGHT",
                new_y="TOP",
            )
            self.cell(25, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    pdf = Document(orientation="P", unit="mm", format="A4")
    pdf.family_name = "ARSans" if fonts else "Helvetica"
    if fonts:
        pdf.add_font("ARSans", "", fonts[0])
        pdf.add_font("ARSans", "B", fonts[1])
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(title)
    pdf.set_author("AR Dashboard")
    pdf.set_creator("AR Dashboard")
    pdf.set_creation_date(stamp.generated_at)
    pdf.alias_nb_pages()
    pdf.add_page()
    return pdf


def clean(pdf: Any, text: Any) -> str:
    """Text the current font can draw (core fonts: Latin-1 with ASCII stand-ins)."""
    text = "" if text is None else str(text)
    if getattr(pdf, "unicode", False):
        return text
    for char, plain in ASCII_FALLBACK.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def _font(pdf: Any, size: float, bold: bool = False, color: tuple[int, int, int] = TEXT) -> None:
    pdf.set_font(pdf.family_name, "B" if bold else "", size)
    pdf.set_text_color(*color)


def _heading(pdf: Any, title: str, stamp: Stamp, subtitle: str | None = None) -> None:
    _font(pdf, 17, bold=True)
    pdf.cell(CONTENT, 8, clean(pdf, title), new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        _font(pdf, 9.5)
        pdf.multi_cell(CONTENT, 4.6, clean(pdf, subtitle), align="L", new_x="LMARGIN", new_y="NEXT")
    _font(pdf, 8, color=MUTED)
    pdf.multi_cell(
        CONTENT, 3.8, clean(pdf, stamp.text(" · ")), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)


def _section(pdf: Any, title: str, need: float = 20) -> None:
    """A section title (a new page first when less than `need` mm are left)."""
    if pdf.get_y() + need > pdf.h - 18:
        pdf.add_page()
    _font(pdf, 11, bold=True)
    pdf.cell(CONTENT, 6, clean(pdf, title), new_x="LMARGIN", new_y="NEXT")


def _tiles(pdf: Any, tiles: list[Tile], per_row: int) -> None:
    gap = 2.0
    width = (CONTENT - gap * (per_row - 1)) / per_row
    height = 19.0
    for start in range(0, len(tiles), per_row):
        y = pdf.get_y()
        for i, tile in enumerate(tiles[start : start + per_row]):
            x = MARGIN + i * (width + gap)
            pdf.set_fill_color(*TILE_FILL)
            pdf.set_draw_color(*RULE)
            pdf.rect(x, y, width, height, style="DF")
            pdf.set_xy(x + 1.5, y + 1.2)
            _font(pdf, 6.8, color=MUTED)
            pdf.cell(width - 3, 3.4, clean(pdf, tile.label))
            pdf.set_xy(x + 1.5, y + 5.2)
            size = 11.5
            _font(pdf, size, bold=True)
            while size > 7 and pdf.get_string_width(clean(pdf, tile.value)) > width - 3:
                size -= 0.5
                _font(pdf, size, bold=True)
            pdf.cell(width - 3, 6, clean(pdf, tile.value))
            pdf.set_xy(x + 1.5, y + 11.8)
            _font(pdf, 6, color=MUTED)
            pdf.multi_cell(width - 3, 2.8, clean(pdf, tile.sub), align="L", max_line_height=2.8)
        pdf.set_xy(MARGIN, y + height + gap)


def _chart_png(figure: dict, width_mm: float, height_mm: float) -> tuple[bytes | None, str]:
    """(PNG or None, reason) for a chart drawn width_mm x height_mm."""
    try:
        return figure_png(
            figure, round(width_mm * PX_PER_MM), round(height_mm * PX_PER_MM), scale=CHART_SCALE
        ), ""
    except RenderError as error:
        log.warning("PDF chart not rendered: %s", error)
        return None, str(error)


def _chart(
    pdf: Any, title: str, figure: dict, x: float, y: float, width: float, height: float
) -> None:
    """A chart title and its image at (x, y); a framed note instead when it cannot be rendered."""
    pdf.set_xy(x, y)
    _font(pdf, 9, bold=True)
    pdf.cell(width, 5, clean(pdf, title))
    image, reason = _chart_png(figure, width, height)
    if image is not None:
        pdf.image(io.BytesIO(image), x=x, y=y + 5.5, w=width, h=height)
    else:
        pdf.set_draw_color(*RULE)
        pdf.rect(x, y + 5.5, width, height)
        pdf.set_xy(x + 2, y + 5.5 + height / 2 - 3)
        _font(pdf, 8, color=MUTED)
        pdf.multi_cell(width - 4, 4, clean(pdf, f"Chart not available: {reason}"), align="C")


def _charts_row(pdf: Any, charts: list[Any], height: float) -> None:
    """One or two charts side by side, then move below them."""
    if not charts:
        return
    if pdf.get_y() + height + 8 > pdf.h - 18:
        pdf.add_page()
    gap = 4.0
    width = (CONTENT - gap * (len(charts) - 1)) / len(charts)
    y = pdf.get_y()
    for i, chart in enumerate(charts):
        _chart(pdf, chart.title, chart.figure, MARGIN + i * (width + gap), y, width, height)
    pdf.set_xy(MARGIN, y + height + 8)


def _table(
    pdf: Any,
    columns: Sequence[tuple[str, float, str]],
    rows: list[list[str]],
    total: list[str] | None = None,
    note: str | None = None,
) -> None:
    """A simple table: (header, width mm, align) columns, text rows, an optional bold totals row."""
    line_h = 5.0

    def header() -> None:
        _font(pdf, 7.5, bold=True, color=MUTED)
        pdf.set_draw_color(*RULE)
        for name, width, align in columns:
            pdf.cell(width, line_h, clean(pdf, name), border="B", align=align)
        pdf.ln(line_h)

    header()
    _font(pdf, 7.8)
    for row in rows:
        if pdf.get_y() + line_h > pdf.h - 18:
            pdf.add_page()
            header()
            _font(pdf, 7.8)
        for (_name, width, align), value in zip(columns, row, strict=True):
            text = clean(pdf, value)
            while text and pdf.get_string_width(text) > width - 1.5:
                text = text[:-2] + "…" if pdf.unicode else text[:-4] + "..."
            pdf.cell(width, line_h, text, align=align)
        pdf.ln(line_h)
    if total is not None:
        _font(pdf, 7.8, bold=True)
        for (_name, width, align), value in zip(columns, total, strict=True):
            pdf.cell(width, line_h + 0.5, clean(pdf, value), border="T", align=align)
        pdf.ln(line_h + 1)
    if note:
        _font(pdf, 7, color=MUTED)
        pdf.cell(CONTENT, 4, clean(pdf, note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _output(pdf: Any) -> bytes:
    return bytes(pdf.output())


# ---- Receivables Health -------------------------------------------------------------------------


def receivables_pdf(
    summary: ReceivablesSummary, stamp: Stamp, heading: str = "Receivables Health"
) -> bytes:
    """The Receivables Health summary: KPI tiles, aging donuts, top debtors, trends, debtor table."""
    pdf = _new_pdf(stamp, stamp.title)
    _receivables_body(pdf, summary, stamp, heading)
    return _output(pdf)


def _receivables_body(pdf: Any, summary: ReceivablesSummary, stamp: Stamp, heading: str) -> None:
    """Heading, tiles, charts and top debtors of a receivables summary into pdf."""
    _heading(
        pdf,
        heading,
        stamp,
        f"Period for DSO, CEI and collections: {summary.period_days} days "
        f"ending {summary.as_of.isoformat()}. Amounts in {summary.currency}.",
    )
    _tiles(pdf, summary.tiles, per_row=5)
    pdf.ln(2)
    by_name = {c.name: c for c in summary.charts}
    _charts_row(pdf, [by_name[n] for n in ("aging_short", "aging_long") if n in by_name], 62)
    _charts_row(pdf, [by_name[n] for n in ("top_debtors",) if n in by_name], 78)
    _charts_row(pdf, [by_name[n] for n in ("sales_collections",) if n in by_name], 68)
    _charts_row(pdf, [by_name[n] for n in ("dso_trend",) if n in by_name], 62)
    _section(pdf, "Top debtors", need=30)
    debtors = summary.top_debtors[:TOP_DEBTORS_ROWS]
    rows = [
        [str(i), d["customer_id"], d["name"], fmt.money(d["balance"], summary.currency)]
        for i, d in enumerate(debtors, start=1)
    ]
    top_total = sum(fmt.to_cents(d["balance"]) or 0 for d in debtors)
    total_ar = fmt.to_cents(summary.kpis["total_ar"]) or 0
    share = fmt.pct(top_total * 100 / total_ar if total_ar else None)
    columns = [
        ("#", 10, "R"),
        ("Customer #", 32, "L"),
        ("Customer", 104, "L"),
        ("Open balance", 40, "R"),
    ]
    if rows:
        _table(
            pdf,
            columns,
            rows,
            [
                "",
                "",
                f"Total of the top {len(rows)} ({share} of total AR)",
                fmt.money(top_total, summary.currency),
            ],
        )
    else:
        _font(pdf, 8.5, color=MUTED)
        pdf.cell(
            CONTENT, 6, "No customer owes anything on these filters.", new_x="LMARGIN", new_y="NEXT"
        )


@dataclass
class PageTable:
    """A page's main table for its PDF summary: title, (header, width mm, align) columns, rows, totals."""

    title: str
    columns: Sequence[tuple[str, float, str]]
    rows: list[list[str]]
    total: list[str] | None = None
    note: str | None = None


def page_pdf(
    summary: ReceivablesSummary, stamp: Stamp, heading: str, table: PageTable | None = None
) -> bytes:
    """A subscribed page's summary: the receivables tiles and charts under its filters, then its table."""
    pdf = _new_pdf(stamp, stamp.title)
    _receivables_body(pdf, summary, stamp, heading)
    if table is not None:
        _section(pdf, table.title, need=30)
        if table.rows:
            _table(pdf, table.columns, table.rows, table.total, table.note)
        else:
            _font(pdf, 8.5, color=MUTED)
            pdf.cell(CONTENT, 6, "No rows on these filters.", new_x="LMARGIN", new_y="NEXT")
    return _output(pdf)


# ---- Account 360 ---------------------------------------------------------------------------------


def account_pdf(
    snap: Any, customer_id: str, as_of: dt.date, scope: Scope, stamp_for: Any
) -> tuple[bytes, dict] | None:
    """The Account 360 summary for a sales call; None when the customer is unknown or outside the scope.

    stamp_for(data) builds the Stamp once the customer is known (its title names the customer).
    Returns (pdf bytes, the account_360 dict).
    """
    data, cur = account_data(snap, customer_id, as_of, scope)
    if data is None:
        return None
    stamp: Stamp = stamp_for(data)
    s = data["summary"]
    pdf = _new_pdf(stamp, stamp.title)
    attrs = " · ".join(
        f"{label} {value}"
        for label, value in (
            ("Segment", data["segment"]),
            ("Region", data["region"]),
            ("Tier", data["tier"]),
            ("Rep", data["sales_rep_id"]),
        )
        if value
    )
    _heading(
        pdf,
        f"{data['name']}  #{data['customer_id']}",
        stamp,
        f"Account 360 · {attrs or 'no attributes'} · amounts in {cur}",
    )
    limit = fmt.money(s["credit_limit"], cur) if s["credit_limit"] else "No limit"
    used = (
        f"{fmt.pct(s['utilization_pct'], 0)} used"
        if s["credit_limit"] and s["utilization_pct"] is not None
        else ""
    )
    tiles = [
        Tile(
            "Total outstanding",
            fmt.money(s["total_outstanding"], cur),
            f"overdue {fmt.money(s['overdue'], cur)}",
        ),
        Tile("Last payment date", fmt.date(s["last_payment_date"])),
        Tile("Payment terms", s["terms"] or fmt.DASH),
        Tile("Average days to pay", fmt.days(s["average_days_to_pay"])),
        Tile("Credit limit", limit, used),
        Tile(
            "Last payment amount",
            fmt.money(s["last_payment_amount"], cur) if s["last_payment_amount"] else fmt.DASH,
        ),
    ]
    _tiles(pdf, tiles, per_row=3)
    _font(pdf, 8.5)
    behaviour = (
        f"DSO (90 days): {fmt.days(data['dso_90d'])}   ·   Average days late (90 days): "
        f"{fmt.days(data['avg_days_late_90d'])}   ·   Share of turnover (year to date): "
        f"{fmt.pct(data['share_of_turnover_pct'], 2)}"
    )
    pdf.multi_cell(CONTENT, 4.5, clean(pdf, behaviour), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    req = ChartRequest(as_of, "due", PERIOD_DAYS, Filters(), scope, customer_id)
    charts = [
        c
        for c in (
            VIEWS["account_aging"].chart(snap, req),
            VIEWS["account_trend"].chart(snap, req),
        )
        if c
    ]
    for chart in charts:  # the PDF heading names the customer already
        chart.title = chart.title.split(" · ")[0] + (
            " · 12 months" if chart.name == "account_trend" else ""
        )
    _charts_row(pdf, charts, 55)

    open_items = [i for i in data["invoices"] if i["status"] in ("OPEN", "OVERDUE")]
    open_items.sort(key=lambda i: (-int(i["days_past_due"] or 0), i["invoice_id"]))
    _section(pdf, f"Open invoices ({len(open_items)})", need=25)
    columns = [
        ("Invoice", 30, "L"),
        ("Issued", 22, "L"),
        ("Due", 22, "L"),
        ("Days past due", 22, "R"),
        ("Status", 24, "L"),
        ("Amount", 33, "R"),
        ("Open balance", 33, "R"),
    ]
    shown = open_items[:ACCOUNT_INVOICE_ROWS]
    rows = [
        [
            i["invoice_id"],
            i["issue_date"],
            i["due_date"],
            str(i["days_past_due"]),
            i["status"].lower() + (" · disputed" if i["disputed"] else ""),
            fmt.money(i["amount"], cur),
            fmt.money(i["balance"], cur),
        ]
        for i in shown
    ]
    open_total = sum(fmt.to_cents(i["balance"]) or 0 for i in open_items)
    note = (
        f"Showing the {len(shown)} most overdue of {len(open_items)} open invoices; the total covers all of them."
        if len(open_items) > len(shown)
        else None
    )
    if rows:
        _table(pdf, columns, rows, ["Total", "", "", "", "", "", fmt.money(open_total, cur)], note)
    else:
        _font(pdf, 8.5, color=MUTED)
        pdf.cell(CONTENT, 6, "No open invoices.", new_x="LMARGIN", new_y="NEXT")

    _section(pdf, "Recent payments", need=20)
    payments = data["payments"][:10]
    if payments:
        _table(
            pdf,
            [("Payment", 46, "L"), ("Date", 40, "L"), ("Amount", 50, "R"), ("Unapplied", 50, "R")],
            [
                [
                    p["payment_id"],
                    p["date"],
                    fmt.money(p["amount"], cur),
                    fmt.money(p["unapplied"], cur),
                ]
                for p in payments
            ],
        )
    else:
        _font(pdf, 8.5, color=MUTED)
        pdf.cell(CONTENT, 6, "No payments.", new_x="LMARGIN", new_y="NEXT")

    promises = [p for p in data["promises"] if p.get("status") == "open"]
    disputes = [d for d in data["disputes"] if d.get("status") != "resolved"]
    _section(pdf, "Open promises and disputes", need=20)
    lines = [
        [f"Promise · {p['invoice_id']}", f"for {p['promised_date']}", fmt.money(p["amount"], cur)]
        for p in promises
    ]
    lines += [
        [
            f"Dispute · {d['invoice_id']}",
            f"opened {d['opened_on']} · {d.get('status') or 'open'}",
            fmt.money(d["amount"], cur),
        ]
        for d in disputes
    ]
    if lines:
        _table(pdf, [("Item", 60, "L"), ("When", 86, "L"), ("Amount", 40, "R")], lines)
    else:
        _font(pdf, 8.5, color=MUTED)
        pdf.cell(CONTENT, 6, "No open promises or disputes.", new_x="LMARGIN", new_y="NEXT")

    _section(pdf, "Latest activities and notes", need=20)
    activity = [
        [a.get("date") or "", a.get("channel") or "", a.get("outcome") or "", a.get("note") or ""]
        for a in data["activities"][:10]
    ]
    if activity:
        _table(
            pdf,
            [("Date", 24, "L"), ("Channel", 26, "L"), ("Outcome", 40, "L"), ("Note", 96, "L")],
            activity,
        )
    notes = _notes(data["customer_id"])
    for note_row in notes:
        _font(pdf, 7.5, bold=True)
        pdf.cell(
            CONTENT,
            4,
            clean(pdf, f"{note_row['author']} · {note_row['created_at']:%Y-%m-%d %H:%M} UTC"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _font(pdf, 8)
        pdf.multi_cell(
            CONTENT, 4, clean(pdf, note_row["text"][:600]), align="L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
    if not activity and not notes:
        _font(pdf, 8.5, color=MUTED)
        pdf.cell(CONTENT, 6, "No activities or notes.", new_x="LMARGIN", new_y="NEXT")
    return _output(pdf), data


def _notes(customer_id: str, limit: int = 5) -> list[dict]:
    """The customer's latest notes (none when the notes table cannot be read)."""
    try:
        return list_notes(customer_id, limit=limit)
    except Exception as error:  # noqa: BLE001 - a summary without notes beats no summary
        log.warning("notes not read for the PDF: %s", error)
        return []
