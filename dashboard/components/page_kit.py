"""The page kit: what every page is built from (card, graph, info, page header, request context).

header = page_header("Disputes & promises", "dp-caption", pdf="disputes")
card("Promise adherence", graph("dp-promises", 300), "How many promises were kept…", "dp-info-promises",
     menu=export_tools("disputes_promises"))
ctx = request_context(filters_data)          # in a callback: snapshot, as_of, basis, filters, scope, currency
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, cast

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import identity
from dashboard.components.export_menu import export_menu, page_pdf_button
from dashboard.components.tips import info_tip
from dashboard.figures import base as figure_base
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import currency_for

CARD_CLASS = "h-100 ar-card"
# figures/ never imports Dash (import contract), so its GRAPH_CONFIG is a plain dict: the same dict,
# typed as the config dcc.Graph takes
GRAPH_CONFIG = cast("dcc.Graph.Config", figure_base.GRAPH_CONFIG)


def info(info_id: str, text: str) -> list:
    """The (i) of a card: a focusable "i" and its tooltip (components/tips.py)."""
    return info_tip(info_id, text)


def chip(label: str, value: str, tip_id: str | None = None, tip: str | None = None) -> html.Span:
    """A summary chip beside a page's caption: label, value and, with tip_id, its (i)."""
    body: list[Any] = [
        html.Span(label, className="text-muted me-1"),
        html.Span(value, className="fw-semibold"),
    ]
    if tip_id:
        body += [html.Span(" ", className="me-1"), *info(tip_id, tip or "")]
    return html.Span(
        body,
        className="d-inline-flex align-items-center border rounded-pill px-2 py-1 small bg-light",
    )


def export_tools(chart: str | None) -> list:
    """The card tools of an exportable chart: its PNG / CSV / XLSX menu (none without a chart)."""
    return [export_menu(chart)] if chart else []


def card(
    title: Any,
    body: Any,
    info_text: str | None = None,
    info_id: str | None = None,
    *,
    menu: list | None = None,
    title_id: str | None = None,
    class_name: str = CARD_CLASS,
) -> dbc.Card:
    """A card with a title, an optional (i) and, when `menu` is a list, the (i) and the menu grouped right."""
    title_span = (
        html.Span(title, id=title_id, className="ar-card-title")
        if title_id
        else html.Span(title, className="ar-card-title")
    )
    icons = info(info_id or "", info_text) if info_text else []
    header: list[Component] = [title_span]
    if menu is None:
        header += icons
    else:
        header.append(html.Div([*icons, *menu], className="d-flex align-items-center gap-1"))
    return dbc.Card(
        [
            dbc.CardHeader(
                header, className="d-flex justify-content-between align-items-center py-2"
            ),
            dbc.CardBody(body, className="p-2"),
        ],
        className=class_name,
    )


def graph(graph_id: str, height: int, figure: dict | None = None) -> dcc.Loading:
    """A chart of a fixed height behind a delayed spinner (drawn when `figure` is given)."""
    drawn: dict[str, Any] = {"figure": figure} if figure is not None else {}  # no figure: not set
    return dcc.Loading(
        dcc.Graph(
            id=graph_id,
            config=GRAPH_CONFIG,
            style={"height": f"{height}px"},
            className="ar-graph",
            **drawn,
        ),
        type="circle",
        delay_show=400,
    )


def page_header(
    title: str,
    caption_id: str,
    *tools: Any,
    pdf: str | None = None,
    caption: Any = None,
    align: str = "baseline",
    margin: str = "mb-2",
) -> html.Div:
    """The page title, its caption (filled by a callback) and the page's tools (PDF button right)."""
    children = [
        html.H1(title, className="h4 mb-0"),
        html.Span(caption, id=caption_id, className="text-muted small"),
        *tools,
    ]
    if pdf:
        children.append(html.Div(page_pdf_button(pdf), className="ms-auto"))
    return html.Div(children, className=f"d-flex align-items-{align} gap-3 {margin} flex-wrap")


class RequestContext(NamedTuple):
    """What a callback works on: the snapshot, the validated request and the server-side scope."""

    snap: Any
    as_of: dt.date
    basis: str
    filters: Filters
    scope: Scope
    currency: str


def request_context(filters_data: Any, capability: str | None = None) -> RequestContext:
    """The context of a callback; scope from the server only. No update without filters or access."""

    if filters_data is None or (capability is not None and not identity.can(capability)):
        raise PreventUpdate
    as_of, basis, filters = gf.parse(filters_data)
    scope = identity.scope()
    # looked up on the module at each call, so a test can patch it
    snap = snapshots.get_snapshot()
    currency = currency_for(snap, filters, scope, fmt.default_currency())
    return RequestContext(snap, as_of, basis, filters, scope, currency)


def describe_without_basis(filters_data: Any) -> str:
    """The filters as a caption, without the aging basis (for pages that do not age)."""
    return " · ".join(p for p in gf.describe(filters_data).split(" · ") if not p.endswith(" aging"))
