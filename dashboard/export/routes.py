"""Export routes: PNG/CSV/XLSX of every chart, CSV/XLSX of every table, PDF summaries.

    GET /export/chart/<name>.png|csv|xlsx?as_of=&basis=&segment=&region=&tier=&sales_rep=&terms_group=
        [&customer_id=  (Account 360 charts)] [&width=&height=&scale=  (PNG)]
    GET /export/table/<table>.csv|xlsx?as_of=&period_days=&<filters>     (dashboard.export.registry.TABLES)
    GET /export/grid/<grid>.csv|xlsx?source=<json>&sort=<json>&filter=<json>&search=
                                                                           every matching row of a data_grid
                                                                           (CSV streamed), its sort/filters
    GET /export/receivables.pdf?<filters>                                  Receivables Health summary
    GET /export/customers/<customer_id>.pdf?as_of=                         Account 360 summary (404 outside scope)
    GET /export/page/<page>.pdf?<filters>                                  a whole page as a board-pack sheet
                                                                           (dashboard.export.page_pdf.PAGES)

Every route runs behind the login guard, checks can("export"), uses the server-side scope of the
logged-in user (filters in the query only narrow it), stamps the file (as-of, filters, scope,
generation time) and writes an `export` audit row (format, what, filters, scope, rows).
The UI links here with the page's current query string (dashboard.components.export_menu).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Blueprint, Flask, Response, request, stream_with_context
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from dashboard.auth import DB_UNAVAILABLE_ERRORS, database_unavailable
from dashboard.auth.audit import audit
from dashboard.auth.guard import json_error
from dashboard.auth.roles import can
from dashboard.auth.scope import current_scope
from dashboard.export import grids, tables
from dashboard.export.charts import CHARTS, ChartRequest
from dashboard.export.page_pdf import PAGES, page_pdf
from dashboard.export.pdf import account_pdf, receivables_pdf, receivables_summary
from dashboard.export.png import RenderError, TooManyPixels, check_pixels, figure_png
from dashboard.export.registry import TABLES, build_table
from dashboard.export.tables import Stamp
from dashboard.format import default_currency
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import currency_for
from dashboard.metrics.snapshot import get_snapshot
from dashboard.params import (
    BASE_PARAMS,
    CHART_PARAMS,
    GRID_PARAMS,
    BadParameter,
    check_known,
    json_param,
    parse_int,
    parse_options,
    parse_request,
    parse_search,
    single,
    stamp_text,
)
from dashboard.params import parse as parse_store
from dashboard.views.grids import Query

log = logging.getLogger(__name__)
bp = Blueprint("exports", __name__, url_prefix="/export")

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "pdf": "application/pdf",
}


# ---- request parsing -----------------------------------------------------------------------------


def parse_common(allowed: frozenset[str]) -> tuple[dt.date, str, int, Filters]:
    """(as_of, basis, period_days, filters) of an export request; unknown or repeated parameters: 400."""
    req = parse_request(allowed)
    return req.as_of, req.basis, req.period_days, req.filters


def _source_filters(source: dict | None) -> tuple[dt.date, str, Any]:
    """(as_of, basis, filters) of a grid's source data (its "filters" store), today when it has none."""
    data = source.get("filters") if isinstance(source, dict) else None
    return parse_store(data) if isinstance(data, dict) else (dt.date.today(), "due", None)


def username() -> str | None:
    """The logged-in user's name."""
    return (
        getattr(current_user, "username", None)
        if getattr(current_user, "is_authenticated", False)
        else None
    )


def snapshot() -> Any:
    """The process's snapshot of the ledger."""
    return get_snapshot()


def make_stamp(title: str, as_of: dt.date, basis: str, filters: Filters, scope: Scope) -> Stamp:
    """The stamp of an export for the logged-in user (with the base currency and rate date when the
    ledger has several currencies)."""
    return Stamp(
        title=title,
        as_of=as_of,
        filters=stamp_text(basis, filters),
        scope=scope.label,
        user=username(),
        currency=currency_note(snapshot(), as_of),
    )


def currency_note(snap: Any, as_of: dt.date) -> str:
    """ "USD; other currencies at the rates in force on 2025-03-15", or "" for one currency."""
    if not getattr(snap, "multi", False):
        return ""
    return f"{snap.base_currency}; other currencies converted at the rates in force on {as_of.isoformat()}"


def send(body: bytes, fmt: str, filename: str, stamp: Stamp) -> Response:
    """A download: attachment, never cached, the stamp also in X-AR-* headers."""
    response = Response(body, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-AR-As-Of"] = stamp.as_of.isoformat() if stamp.as_of else ""
    response.headers["X-AR-Filters"] = header_safe(stamp.filters or "none")
    response.headers["X-AR-Scope"] = header_safe(stamp.scope)
    response.headers["X-AR-Generated-At"] = stamp.generated_at.isoformat()
    return response


def header_safe(text: str) -> str:
    """Printable ASCII only."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def allowed(capability: str | None = None) -> Response | None:
    """403 unless the user may export (and has the extra capability the export needs)."""
    if not can(current_user, "export"):
        return json_error(403, "your role may not export")
    if capability is not None and not can(current_user, capability):
        return json_error(403, "your role may not see this")
    return None


file_name = tables.file_name


# ---- charts ----------------------------------------------------------------------------------------


@bp.get("/chart/<name>.<any(png, csv, xlsx):fmt>")
def chart(name: str, fmt: str) -> Response:
    """One chart as a captioned PNG, or the data behind it as CSV/XLSX."""
    spec = CHARTS.get(name)
    if spec is None:
        return json_error(404, f"no exportable chart {name!r}", charts=sorted(CHARTS))
    refused = allowed(spec.capability)
    if refused is not None:
        return refused
    as_of, basis, period_days, filters = parse_common(CHART_PARAMS | set(spec.options))
    options = parse_options(spec.options)
    customer_id = single("customer_id")
    if spec.needs_customer and not customer_id:
        raise BadParameter("customer_id", "required for this chart")
    width = parse_int("width", single("width"), 0, 200, 4000)
    height = parse_int("height", single("height"), 0, 150, 4000)
    scale = parse_int("scale", single("scale"), 1, 1, 4)
    scope = current_scope()
    built = spec.chart(
        snapshot(), ChartRequest(as_of, basis, period_days, filters, scope, customer_id, options)
    )
    if built is None:
        return json_error(404, "no such customer")
    if fmt == "png":
        check_pixels(width or built.width, height or built.height, scale)
    stamp = make_stamp(built.title, as_of, basis, filters, scope)
    base = (
        f"{name}-{tables.safe_file_part(customer_id)}"
        if customer_id and spec.needs_customer
        else name
    )
    filename = file_name(base, as_of, basis, filters, fmt, options)
    if fmt == "png":
        try:
            body = figure_png(
                built.figure, width or built.width, height or built.height, stamp.caption(), scale
            )
        except RenderError as error:
            log.error("PNG export failed: %s", error)
            return json_error(503, "chart rendering is unavailable on this server; try CSV or XLSX")
    elif fmt == "csv":
        body = tables.csv_bytes(built.frame, stamp, built.total_columns)
    else:
        body = tables.xlsx_bytes(
            built.frame, stamp, built.currency, built.total_columns, sheet=name
        )
    audit(
        "export",
        tables.audit_detail(fmt, f"chart:{name}", stamp, len(built.frame), customer_id=customer_id),
    )
    return send(body, fmt, filename, stamp)


# ---- tables ----------------------------------------------------------------------------------------


@bp.get("/table/<name>.<any(csv, xlsx):fmt>")
def table(name: str, fmt: str) -> Response:
    """One of the registry's tables (the same as /api/export/<table>.csv) as CSV or XLSX."""
    if name not in TABLES:
        return json_error(404, f"no exportable table {name!r}", tables=sorted(TABLES))
    refused = allowed()
    if refused is not None:
        return refused
    as_of, basis, period_days, filters = parse_common(BASE_PARAMS)
    scope = current_scope()
    snap = snapshot()
    frame = build_table(name, snap, as_of, period_days, filters, scope)
    stamp = make_stamp(TABLE_TITLES.get(name, name), as_of, basis, filters, scope)
    if fmt == "csv":
        body = tables.csv_bytes(frame, stamp)
    else:
        body = tables.xlsx_bytes(
            frame, stamp, currency_for(snap, filters, scope, default_currency()), sheet=name
        )
    audit(
        "export",
        tables.audit_detail(fmt, f"table:{name}", stamp, len(frame), period_days=period_days),
    )
    return send(body, fmt, file_name(name, as_of, basis, filters, fmt), stamp)


TABLE_TITLES = {
    "open_invoices": "Open invoices",
    "customers": "Customers with a balance",
    "customer_aging": "Customer aging",
    "at_risk": "At-risk accounts",
}


# ---- the data grids (table views with a grid id: dashboard.views.grids) ------------------------------------------------------


@bp.get("/grid/<name>.<any(csv, xlsx):fmt>")
def grid(name: str, fmt: str) -> Response:
    """Every matching row of a data_grid, rebuilt on the server from its source data in the caller's scope
    (never rows from the browser), with the grid's sort, column filters and search; CSV streamed."""
    if grids.grid_view(name) is None:
        return json_error(404, f"no grid {name!r}")
    refused = allowed()
    if refused is not None:
        return refused
    if not grids.may_use(name):
        return json_error(
            403, "your role does not give access to this page", page=grids.grid_page(name)
        )
    check_known(GRID_PARAMS)
    source = json_param("source", dict, required=True)
    sort, filters = json_param("sort", list), json_param("filter", dict)
    search = parse_search()
    query = Query.clean(sort, filters, search)
    # fresh: the stamp's time is the export's
    view = grids.view_for(name, source, query, cached=False)
    if view is None:
        return json_error(404, "nothing to export: the grid's source gives no rows for you")
    as_of, basis, filters = _source_filters(source)
    made = tables.grid_file(
        name,
        view.gf,
        fmt,
        view.frame,
        query,
        scope=current_scope().label,
        user=username(),
        as_of=as_of,
        basis=basis,
        filters=filters,
    )
    body = (
        made.body
        if isinstance(made.body, bytes)  # XLSX; CSV is text pieces to stream
        else stream_with_context(part.encode("utf-8") for part in made.body)
    )
    response = Response(body, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{made.name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-AR-Scope"] = header_safe(made.scope)
    response.headers["X-AR-Rows"] = str(made.rows)
    return response


# ---- PDF summaries ---------------------------------------------------------------------------------


@bp.get("/receivables.pdf")
def receivables() -> Response:
    """The Receivables Health summary as PDF, for the caller's scope and the filters of the query."""
    refused = allowed()
    if refused is not None:
        return refused
    as_of, basis, period_days, filters = parse_common(BASE_PARAMS)
    scope = current_scope()
    summary = receivables_summary(snapshot(), as_of, basis, period_days, filters, scope)
    stamp = make_stamp("Receivables Health summary", as_of, basis, filters, scope)
    body = receivables_pdf(summary, stamp)
    audit(
        "export",
        tables.audit_detail(
            "pdf",
            "receivables",
            stamp,
            len(summary.top_debtors),
            period_days=period_days,
            total_ar=summary.kpis["total_ar"],
        ),
    )
    return send(body, "pdf", file_name("receivables", as_of, basis, filters, "pdf"), stamp)


@bp.get("/customers/<path:customer_id>.pdf")
def customer(customer_id: str) -> Response:
    """The Account 360 summary of one customer as PDF; 404 when unknown or outside the scope."""
    refused = allowed()
    if refused is not None:
        return refused
    as_of, basis, _period_days, filters = parse_common(BASE_PARAMS)
    scope = current_scope()

    stamps: list[Stamp] = []

    def stamp_for(data: dict) -> Stamp:
        stamps.append(
            Stamp(
                title=f"Account 360 · {data['customer_id']} {data['name']}",
                as_of=as_of,
                filters="",
                scope=scope.label,
                user=username(),
            )
        )
        return stamps[0]

    result = account_pdf(snapshot(), customer_id, as_of, scope, stamp_for)
    if result is None:
        return json_error(404, "no such customer")
    body, data = result
    stamp = stamps[0]
    audit(
        "export",
        tables.audit_detail(
            "pdf",
            "account",
            stamp,
            len(data["invoices"]),
            customer_id=customer_id,
            total_outstanding=data["summary"]["total_outstanding"],
        ),
    )
    return send(
        body, "pdf", f"account-{tables.safe_file_part(customer_id)}-{as_of.isoformat()}.pdf", stamp
    )


@bp.get("/page/<page>.pdf")
def page(page: str) -> Response:
    """A whole analytics page (tiles, every chart, its main table) as a stamped board-pack sheet."""
    sheet = PAGES.get(page)
    if sheet is None:
        return json_error(404, f"no exportable page {page!r}", pages=sorted(PAGES))
    refused = allowed(sheet.capability)
    if refused is not None:
        return refused
    extra = {key for name in sheet.charts for key in _chart_options(name)}
    as_of, basis, period_days, filters = parse_common(BASE_PARAMS | extra)
    options = parse_options(
        {k: v for name in sheet.charts for k, v in _chart_options(name).items()}
    )
    scope = current_scope()
    stamp = make_stamp(f"{sheet.title} · page export", as_of, basis, filters, scope)
    body, rows = page_pdf(
        sheet,
        snapshot(),
        ChartRequest(as_of, basis, period_days, filters, scope, None, options),
        stamp,
    )
    audit(
        "export", tables.audit_detail("pdf", f"page:{page}", stamp, rows, period_days=period_days)
    )
    return send(
        body, "pdf", file_name(f"{page}-page", as_of, basis, filters, "pdf", options), stamp
    )


def _chart_options(name: str) -> dict[str, tuple[str, ...]]:
    spec = CHARTS.get(name)
    return spec.options if spec is not None else {}


# ---- wiring ----------------------------------------------------------------------------------------


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter) -> Response:
    """400 naming the parameter."""
    return json_error(400, str(error), parameter=error.name)


@bp.errorhandler(TooManyPixels)
def too_many_pixels(error: TooManyPixels) -> Response:
    """400 stating the pixel cap."""
    return json_error(400, str(error), limit=error.limit, pixels=error.pixels)


@bp.errorhandler(Exception)
def internal_error(error: Exception) -> Response:
    """Never an HTML traceback page: log it, answer 500 JSON (HTTP errors keep their status)."""
    if isinstance(error, HTTPException):
        return json_error(error.code or 500, error.description or error.name)
    if isinstance(error, DB_UNAVAILABLE_ERRORS):
        return database_unavailable(error)
    log.exception("export error on %s", request.path, exc_info=error)
    return json_error(500, "internal error")


@bp.errorhandler(tables.ExportTooLarge)
def too_large(error: tables.ExportTooLarge) -> Response:
    """413 for an export that does not fit its format (too many rows for one XLSX sheet)."""
    return json_error(413, str(error))


def init_exports(server: Flask) -> None:
    """Register the export blueprint (once)."""
    if "exports" not in server.blueprints:
        server.register_blueprint(bp)
