"""Exports: PNG, CSV, XLSX and PDF of charts, tables and summaries; stamp, scope, audit, exact totals.

Expected figures are worked out by hand in tests/auth_helpers.py (as of 2024-03-01, every customer on
net 30, so every balance is in the 30-day+ terms group):
    I1 C1 600.00 due 02-09 (21 days) | I2 C1 234.56 due 03-16 | I3 C2 50.05 due 03-02 | I4 C3 500.00 due
    02-19 (11 days) | I5 C4 777.77 due 02-04 (26 days) | I6 C5 300.01 due 03-21
    not due 584.62 + 1-30 days 1877.77 = total AR 2462.39; rep R1 (C1, C2) 884.61; group East 1384.61.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import struct
import threading
import zlib
from decimal import Decimal

import pandas as pd
import pytest
from auth_helpers import AS_OF, make_world
from openpyxl import load_workbook
from sqlalchemy import select

from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog
from dashboard.export import tables
from dashboard.export.tables import Stamp

HAS_BROWSER = any(
    shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
)
needs_browser = pytest.mark.skipif(not HAS_BROWSER, reason="no chromium for kaleido")


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    from dashboard.metrics.cache import clear_cache
    from dashboard.metrics.snapshot import clear_snapshots

    clear_snapshots()
    clear_cache()
    yield make_world(db_url)
    clear_snapshots()
    clear_cache()


def get(client, path: str, **params):
    """GET an export as of AS_OF with extra parameters."""
    query = "&".join(f"{k}={v}" for k, v in {"as_of": AS_OF, **params}.items())
    return client.get(f"{path}?{query}")


def read_csv(response) -> tuple[str, list[dict]]:
    """(stamp line, rows) of a stamped CSV download."""
    stamp, _, body = response.data.decode("utf-8").partition("\n")
    return stamp, list(csv.DictReader(io.StringIO(body)))


def export_rows() -> list[dict]:
    """Every `export` audit row's detail, oldest first."""
    with session_scope() as s:
        rows = s.execute(
            select(AuditLog.username, AuditLog.detail)
            .where(AuditLog.event == "export")
            .order_by(AuditLog.id)
        ).all()
    return [{"username": u, **json.loads(d)} for u, d in rows]


def png_info(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed image data) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


# ---- units: stamp, CSV, XLSX ----------------------------------------------------------------------


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", '=HYPERLINK("x")'],
            "issue_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)],
            # 1.2 trillion: 15 digits, exact in Excel too
            "amount_cents": [100000, 23456, 123456789012345],
            "balance_cents": pd.array([1, None, 2], dtype="Int64"),
        }
    )


STAMP = Stamp(
    "Open invoices, by customer",
    dt.date(2024, 3, 1),
    "due-date aging · segment Retail, North",
    "sales rep R1",
    dt.datetime(2024, 3, 5, 10, 12, tzinfo=dt.UTC),
    user="rep1",
)


def test_csv_stamp_is_one_cell_on_line_one_then_header_and_exact_rows():
    text = tables.csv_bytes(frame(), STAMP).decode()
    lines = text.splitlines()
    assert lines[0] == (
        "# Open invoices; by customer | as of 2024-03-01 | filters: due-date aging · segment Retail;"
        " North | scope: sales rep R1 | generated 2024-03-05 10:12:00 UTC by rep1 | 3 rows | "
        # 1000.00 + 234.56 + 1234567890123.45
        "total amount 1234567891358.01; total balance 0.03"
    )
    assert next(csv.reader([lines[0]])) == [lines[0]]  # one cell: no comma, no quote
    assert lines[1] == "invoice_id,issue_date,amount,balance"
    assert lines[2:] == [
        "I1,2024-01-01,1000.00,0.01",
        "I2,2024-01-02,234.56,",
        '"\'=HYPERLINK(""x"")",2024-01-03,1234567890123.45,0.02',
    ]
    # how docs/exports.md says to read it
    skipped = pd.read_csv(io.StringIO(text), skiprows=1, dtype=str)
    assert (
        list(skipped.columns) == ["invoice_id", "issue_date", "amount", "balance"]
        and len(skipped) == 3
    )


def test_xlsx_has_stamp_block_headers_money_numbers_and_exact_totals():
    book = load_workbook(io.BytesIO(tables.xlsx_bytes(frame(), STAMP, "EUR")))
    ws = book.active
    rows = list(ws.iter_rows(values_only=True))
    block = {r[0]: r[1] for r in rows[1:8] if r[0]}
    assert rows[0][0] == "Open invoices, by customer"
    assert (
        block["As of"] == "2024-03-01" and block["Scope"] == "sales rep R1" and block["Rows"] == 3
    )
    assert (
        block["Filters"] == "due-date aging · segment Retail, North" and block["Currency"] == "EUR"
    )
    assert block["Generated"] == "2024-03-05 10:12:00 UTC by rep1"
    header = rows.index(("invoice_id", "issue_date", "amount", "balance"))
    assert ws.freeze_panes == f"A{header + 2}"
    data = rows[header + 1 :]
    assert data[0][:1] == ("I1",) and data[0][1] == dt.datetime(2024, 1, 1) and data[0][2] == 1000
    # text, not a formula
    assert data[2][0] == '=HYPERLINK("x")' and ws.cell(header + 4, 1).data_type == "s"
    amount = ws.cell(header + 2, 3)
    assert (
        amount.data_type == "n" and "€" in amount.number_format and "0.00" in amount.number_format
    )
    total = data[3]
    assert total[0] == "Total" and Decimal(str(total[3])) == Decimal("0.03")
    # the XML holds the exact decimal text of the total (Excel keeps 15 significant digits)
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(tables.xlsx_bytes(frame(), STAMP, "EUR"))).read(
        "xl/worksheets/sheet1.xml"
    )
    assert (
        b"<v>1234567891358.01</v>" in sheet
        and b"<v>1234567890123.45</v>" in sheet
        and b"<f>" not in sheet
    )


# ---- charts: CSV / XLSX / PNG ---------------------------------------------------------------------


def test_chart_data_csv_ties_to_the_kpis_and_is_stamped(world):
    admin = world.login("admin")
    kpis = get(admin, "/api/kpis").get_json()
    response = get(admin, "/export/chart/top_debtors.csv", segment="")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="top_debtors-2024-03-01.csv"'
    )
    assert (
        response.headers["X-AR-Scope"] == "all customers"
        and response.headers["Cache-Control"] == "no-store"
    )
    stamp, rows = read_csv(response)
    assert stamp.startswith(
        "# Top 10 debtors | as of 2024-03-01 | filters: due-date aging | scope: all customers"
    )
    assert "5 rows" in stamp and "total balance 2462.39" in stamp
    assert [(r["customer_id"], r["balance"]) for r in rows] == [
        ("C1", "834.56"),
        ("C4", "777.77"),
        ("C3", "500.00"),
        ("C5", "300.01"),
        ("C2", "50.05"),
    ]
    assert (
        sum(Decimal(r["balance"]) for r in rows) == Decimal(kpis["total_ar"]) == Decimal("2462.39")
    )

    _, aging = read_csv(get(admin, "/export/chart/aging_long.csv"))
    assert {r["bucket"]: r["amount"] for r in aging} == {
        "not_due": "584.62",
        "1-30": "1877.77",
        "31-60": "0.00",
        "61-90": "0.00",
        "90+": "0.00",
    }
    _, short = read_csv(get(admin, "/export/chart/aging_short.csv"))
    assert sum(Decimal(r["amount"]) for r in short) == 0


def test_chart_xlsx_reads_back_with_headers_rows_totals_and_stamp(world):
    response = get(world.login("mgr_east"), "/export/chart/aging_long.xlsx", basis="due")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="aging_long-2024-03-01.xlsx"'
    )
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Aging · 30-day+ terms"
    block = {r[0]: r[1] for r in rows[1:8] if r[0]}
    assert block["As of"] == "2024-03-01" and block["Scope"].startswith("sales group East")
    header = rows.index(("terms_group", "bucket", "bucket_label", "amount"))
    data = rows[header + 1 :]
    amounts = {r[1]: Decimal(str(r[3])) for r in data[:-1]}
    assert amounts == {
        "not_due": Decimal("284.61"),
        "1-30": Decimal("1100"),
        "31-60": 0,
        "61-90": 0,
        "90+": 0,
    }
    # East: C1, C2, C3
    assert data[-1][0] == "Total" and Decimal(str(data[-1][3])) == Decimal("1384.61")


def test_a_rep_exports_only_their_rows_even_with_a_forged_filter(world):
    rep = world.login("rep1")
    stamp, rows = read_csv(get(rep, "/export/chart/top_debtors.csv"))
    assert "scope: sales rep R1" in stamp
    assert [(r["customer_id"], r["balance"]) for r in rows] == [("C1", "834.56"), ("C2", "50.05")]
    _, forged = read_csv(get(rep, "/export/chart/top_debtors.csv", sales_rep="R3"))
    assert forged == []
    xlsx = get(rep, "/export/table/open_invoices.xlsx", sales_rep="R3")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0] == "Rows"} == {"Rows": 0}
    # R3's customer
    assert get(rep, "/export/chart/account_aging.csv", customer_id="C4").status_code == 404
    assert get(rep, "/export/customers/C4.pdf").status_code == 404
    # a scope, role or user in the query is refused, never used
    assert get(rep, "/export/chart/top_debtors.csv", scope="all").status_code == 400


def test_table_exports_csv_and_xlsx_tie_to_the_cent(world):
    east = world.login("mgr_east")
    stamp, rows = read_csv(get(east, "/export/table/open_invoices.csv"))
    assert (
        stamp.startswith("# Open invoices | as of 2024-03-01") and "total amount 1384.61" in stamp
    )
    assert sorted(r["invoice_id"] for r in rows) == ["I1", "I2", "I3", "I4"]
    ws = load_workbook(io.BytesIO(get(east, "/export/table/open_invoices.xlsx").data)).active
    values = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(values) if r[0] == "invoice_id")
    amount = values[header].index("amount")
    body = values[header + 1 : -1]
    assert sorted(r[0] for r in body) == ["I1", "I2", "I3", "I4"]
    assert sum(Decimal(str(r[amount])) for r in body) == Decimal("1384.61")
    assert values[-1][amount] == 1384.61 and "Total" in values[-1]


def test_account_chart_exports(world):
    rep = world.login("rep1")
    _, aging = read_csv(get(rep, "/export/chart/account_aging.csv", customer_id="C1"))
    assert {r["bucket"]: r["amount"] for r in aging if r["amount"] != "0.00"} == {
        "not_due": "234.56",
        "1-30": "600.00",
    }
    _, trend = read_csv(get(rep, "/export/chart/account_trend.csv", customer_id="C1"))
    assert len(trend) == 12 and sum(Decimal(r["invoiced"]) for r in trend) == Decimal("1234.56")
    assert sum(Decimal(r["paid"]) for r in trend) == Decimal("400.00")
    assert get(rep, "/export/chart/account_aging.csv").status_code == 400  # customer_id required


def test_bad_requests_and_guard(world):
    client = world.client()
    anonymous = client.get("/export/chart/top_debtors.csv")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    admin = world.login("admin")
    assert get(admin, "/export/chart/nope.csv").status_code == 404
    assert get(admin, "/export/table/nope.xlsx").status_code == 404
    # no route: the app shell
    assert admin.get("/export/chart/top_debtors.gif").mimetype == "text/html"
    bad = get(admin, "/export/chart/top_debtors.csv", basis="sideways")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "basis"
    assert get(admin, "/export/chart/top_debtors.png", width="0").status_code == 400
    assert admin.get("/export/chart/top_debtors.csv?as_of=2024-13-01").status_code == 400


def test_every_export_writes_an_audit_row(world):
    rep = world.login("rep1")
    get(rep, "/export/chart/top_debtors.csv")
    get(rep, "/export/table/customers.xlsx", region="North")
    get(rep, "/export/customers/C1.pdf")
    rows = [r for r in export_rows() if r["username"] == "rep1"]
    assert [(r["format"], r["export"]) for r in rows] == [
        ("csv", "chart:top_debtors"),
        ("xlsx", "table:customers"),
        ("pdf", "account"),
    ]
    assert all(r["scope"] == "sales rep R1" and r["as_of"] == AS_OF for r in rows)
    assert (
        rows[0]["rows"] == 2
        and rows[1]["filters"] == "due-date aging · region North"
        and rows[1]["rows"] == 1
    )
    assert rows[2]["customer_id"] == "C1" and rows[2]["total_outstanding"] == "834.56"


# ---- the grid's downloads (Dash callbacks) ----------------------------------------------------------


DRILL = {
    "request": {"key": "total_ar", "title": "Total AR", "params": {}},
    "filters": {"as_of": AS_OF, "basis": "due", "query": f"?as_of={AS_OF}"},
}


def grid_download(world, username: str, kind: str) -> dict:
    """The drill grid's CSV or XLSX button as username: GET /export/grid/drill.<kind> (what the button
    opens), as {"filename", "content", "base64"} like the dcc.Download data it replaced."""
    import base64
    import re

    from grid_helpers import export

    # Dash fills callback_map (and registers the grid sources) on the first request
    world.client().get("/")
    reply = export(world.login(username), "drill", kind, DRILL)
    assert reply.status_code == 200, reply.text
    filename = re.search(r'filename="([^"]+)"', reply.headers["Content-Disposition"]).group(1)
    if kind == "csv":
        return {"filename": filename, "content": reply.get_data(as_text=True), "base64": False}
    return {
        "filename": filename,
        "content": base64.b64encode(reply.get_data()).decode(),
        "base64": True,
    }


def test_grid_csv_download_is_stamped_scoped_and_audited(world):
    data = grid_download(world, "rep1", "csv")
    stamp, _, body = data["content"].partition("\n")
    assert stamp.startswith("# Total AR | as of 2024-03-01") and "scope: sales rep R1" in stamp
    assert "3 rows" in stamp and "total amount 884.61" in stamp and "," not in stamp
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(r["invoice_id"] for r in rows) == ["I1", "I2", "I3"]
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("884.61")
    [row] = [r for r in export_rows() if r["username"] == "rep1"]
    assert (row["format"], row["export"], row["scope"], row["rows"]) == (
        "csv",
        "grid:drill",
        "sales rep R1",
        3,
    )
    assert row["stamp"].startswith("Total AR | as of 2024-03-01")


def test_grid_xlsx_download_reads_back_with_totals(world):
    data = grid_download(world, "mgr_east", "xlsx")
    assert (
        data["filename"].startswith("drill-total_ar-")
        and data["filename"].endswith(".xlsx")
        and data["base64"]
    )
    import base64

    ws = load_workbook(io.BytesIO(base64.b64decode(data["content"]))).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "Total AR"
    block = {r[0]: r[1] for r in values[1:8] if r[0]}
    assert (
        block["Scope"].startswith("sales group East")
        and block["Rows"] == 4
        and block["Currency"] == "USD"
    )
    assert "as of 2024-03-01" in block["Filters"]
    header = next(i for i, r in enumerate(values) if r and r[0] == "invoice_id")
    amount = values[header].index("amount")
    assert sorted(r[0] for r in values[header + 1 : -1]) == ["I1", "I2", "I3", "I4"]
    assert "Total" in values[-1] and Decimal(str(values[-1][amount])) == Decimal("1384.61")
    assert [r["format"] for r in export_rows() if r["username"] == "mgr_east"] == ["xlsx"]


# ---- PDF ------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> tuple[int, str]:
    """(page count, all text) of a PDF."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_receivables_pdf_has_the_kpis_charts_debtors_and_stamp(world):
    response = get(world.login("controller"), "/export/receivables.pdf", basis="transaction")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="receivables-2024-03-01.pdf"'
    )
    pages, text = pdf_text(response.data)
    assert 1 <= pages <= 4
    flat = " ".join(text.split())
    for expected in (
        "Receivables Health",
        "Total AR",
        "$2,462.39",
        "Overdue",
        "$1,877.77",
        "Top debtors",
        "Acme",
        "$834.56",
        "Delta",
        "$777.77",
        "scope: all customers",
        "as of 2024-03-01",
        "transaction aging",
        f"Page 1 of {pages}",
    ):
        assert expected in flat, expected
    assert export_rows()[-1]["format"] == "pdf" and export_rows()[-1]["total_ar"] == "2462.39"


def test_account_pdf_for_a_sales_call(world):
    rep = world.login("rep1")
    response = get(rep, "/export/customers/C1.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    _, text = pdf_text(response.data)
    flat = " ".join(text.split())
    for expected in (
        "Acme",
        "#C1",
        "Total outstanding",
        "$834.56",
        "I1",
        "$600.00",
        "I2",
        "$234.56",
        "P1",
        "$400.00",
        "scope: sales rep R1",
    ):
        assert expected in flat, expected
    assert "I3" not in flat  # C2's invoice
    assert get(rep, "/export/customers/NOPE.pdf").status_code == 404


# ---- PNG (kaleido + chromium) ----------------------------------------------------------------------


@needs_browser
def test_chart_png_is_rendered_captioned_and_scoped(world):
    response = get(
        world.login("rep1"),
        "/export/chart/top_debtors.png",
        width="640",
        height="360",
        segment="Retail",
    )
    assert response.status_code == 200, response.text
    assert response.mimetype == "image/png"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="top_debtors-2024-03-01-segment-Retail.png"'
    )
    width, height, distinct = png_info(response.data)
    assert (width, height) == (640, 360)
    assert distinct > 20  # bars, text and the caption; a blank image has one or two byte values
    last = export_rows()[-1]
    assert (last["format"], last["export"], last["scope"], last["rows"]) == (
        "png",
        "chart:top_debtors",
        "sales rep R1",
        1,
    )
    assert last["filters"] == "due-date aging · segment Retail"


@needs_browser
def test_concurrent_png_exports_get_their_own_images():
    from dashboard.export.png import figure_png

    def fig(n: int) -> dict:
        return {
            "data": [{"type": "bar", "x": list(range(n)), "y": list(range(1, n + 1))}],
            "layout": {},
        }

    sizes = [(300 + 40 * i, 200 + 30 * i) for i in range(4)]
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        results[i] = figure_png(fig(i + 2), *sizes[i], caption=f"Chart {i}\nsecond line", scale=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [png_info(results[i])[:2] for i in range(4)] == sizes
    double = figure_png(fig(3), 300, 200, caption="", scale=2)
    assert png_info(double)[:2] == (600, 400)
