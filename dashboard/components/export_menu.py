"""Export links for charts and summaries: plain links to /export/... that follow the global filters.

    from dashboard.components.export_menu import export_menu, export_link

    card header:   export_menu("top_debtors")                       # PNG / data CSV / data XLSX
    Account 360:   export_menu("account_aging", customer_id=cid)
    page header:   export_link("/export/receivables.pdf", "PDF summary")

The links carry the page's current query string (Store "filters" -> "query"), updated in the
browser by one clientside callback; the export routes (dashboard/export/routes.py) rebuild the
figure from the same metrics and figure builders, in the logged-in user's scope, and audit it.
No data goes through Dash callbacks. Charts are declared in the view registry (dashboard/views).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, html

from dashboard.components import callbacks as cb

LINK_TYPE = "ar-export-link"
FORMATS = (("png", "Image (PNG)"), ("csv", "Data (CSV)"), ("xlsx", "Data (Excel)"))


def link_id(path: str, extra: str = "") -> dict:
    """Pattern-matching id of an export link (path and fixed parameters; the filters are added)."""
    return {"type": LINK_TYPE, "path": path, "extra": extra}


def href(path: str, extra: str = "", query: str = "") -> str:
    """path?<query of the page>&<extra> (the Python twin of the clientside callback below)."""
    parts = [p for p in (query.lstrip("?"), extra) if p]
    return path + ("?" + "&".join(parts) if parts else "")


def chart_path(chart: str, fmt: str) -> str:
    """/export/chart/<chart>.<fmt>."""
    return f"/export/chart/{quote(chart, safe='')}.{fmt}"


def export_menu(chart: str, label: str = "Export", query: str = "", **params: str) -> html.Details:
    """A small menu for a chart card header: PNG of the chart, its data as CSV or XLSX.

    A native <details> menu styled as Bootstrap's dropdown (assets/menus.js closes it on a click
    elsewhere or Escape), not dbc.DropdownMenu: each of those creates a Popper as it mounts, which
    measures the styles of all its ancestors, on every page with charts.
    `query` is the page's filter query for the first href (the clientside callback keeps it current).
    """
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    items = [
        html.A(
            text,
            id=link_id(chart_path(chart, fmt), extra),
            href=href(chart_path(chart, fmt), extra, query),
            className=f"dropdown-item ar-export-{fmt} small",
        )
        for fmt, text in FORMATS
    ]
    return html.Details(
        [
            html.Summary(label, className="ar-export-toggle small"),
            html.Div(items, className="dropdown-menu dropdown-menu-end ar-export-items"),
        ],
        className="ar-export-menu",
    )


def export_link(
    path: str,
    text: str,
    icon: str = "↓",
    title: str | None = None,
    class_name: str = "",
    query: str = "",
    **params: str,
) -> dbc.Button:
    """A small button linking to an export (e.g. a PDF summary) with the page's filters."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return dbc.Button(
        [html.Span(icon, className="me-1"), text],
        id=link_id(path, extra),
        href=href(path, extra, query),
        external_link=True,
        size="sm",
        color="secondary",
        outline=True,
        title=title,
        class_name=f"ar-export-button text-nowrap {class_name}".strip(),
    )


def page_pdf_path(page: str) -> str:
    """/export/page/<page>.pdf (dashboard.export.page_pdf.PAGES)."""
    return f"/export/page/{quote(page, safe='')}.pdf"


def page_pdf_button(page: str, query: str = "", **params: str) -> dbc.Button:
    """The whole page (tiles, every chart, main table) as a stamped PDF sheet for a board pack."""
    return export_link(
        page_pdf_path(page),
        "Page PDF",
        class_name="ar-page-pdf",
        title="This page as a stamped PDF sheet (tiles, every chart, the main table) for a board pack",
        query=query,
        **params,
    )


def customer_pdf_path(customer_id: str) -> str:
    """/export/customers/<id>.pdf (the id URL-encoded)."""
    return f"/export/customers/{quote(customer_id, safe='')}.pdf"


cb.clientside_callback(
    """
    function(filters, ids) {
        const query = ((filters && filters.query) || "").replace(/^\\?/, "");
        return (ids || []).map(function(id) {
            const parts = [query, id.extra].filter(function(p) { return p; });
            return id.path + (parts.length ? "?" + parts.join("&") : "");
        });
    }
    """,
    Output({"type": LINK_TYPE, "path": ALL, "extra": ALL}, "href"),
    Input("filters", "data"),
    State({"type": LINK_TYPE, "path": ALL, "extra": ALL}, "id"),
)
