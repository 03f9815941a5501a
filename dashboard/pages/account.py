"""Account 360: one customer's summary boxes, items, promises, disputes, activities, notes and trends."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import grid, identity
from dashboard.components.export_menu import customer_pdf_path, export_link, export_menu
from dashboard.components.page_kit import GRAPH_CONFIG
from dashboard.components.statements import register as register_statements
from dashboard.components.statements import statement_controls, statement_path
from dashboard.components.views import chart_figure
from dashboard.data.notes import NoteError, list_notes
from dashboard.data.notes import add_note as store_note
from dashboard.metrics import snapshot as snapshots
from dashboard.views.account import account_data

dash.register_page(
    __name__, path_template="/customers/<customer_id>", name="Account 360", title="Account 360"
)

INPUTS = [Input("acct-id", "data"), Input("filters", "data"), Input("data-version", "data")]
NOT_FOUND = "Customer not found"
LIST_ROWS = 50


def _box(label: str, box_id: str) -> dbc.Col:
    return dbc.Col(
        html.Div(
            [
                html.Div(label, className="ar-box-label"),
                html.Div("…", id=box_id, className="ar-box-value"),
            ],
            className="ar-box h-100",
        ),
        xs=6,
        md=4,
        xl=2,
    )


def _section(title: str, body, class_name: str = "", actions=None) -> dbc.Card:
    header = (
        dbc.CardHeader(title, className="py-2 ar-card-title")
        if actions is None
        else dbc.CardHeader(
            [html.Span(title), actions],
            className="py-2 ar-card-title d-flex justify-content-between align-items-center",
        )
    )
    return dbc.Card(
        [header, dbc.CardBody(body, className="p-2")], className=f"h-100 ar-card {class_name}"
    )


def layout(customer_id: str | None = None, **_query) -> html.Div:
    """The skeleton; the customer id from the path only selects, the scope is checked on the server."""
    boxes = dbc.Row(
        [
            _box("Total outstanding", "acct-total"),
            _box("Last payment date", "acct-last-date"),
            _box("Payment terms", "acct-terms"),
            _box("Average days to pay", "acct-avg-days"),
            _box("Credit limit", "acct-limit"),
            _box("Last payment amount", "acct-last-amount"),
        ],
        className="g-2 mb-2",
    )
    items = dbc.Tabs(
        [
            dbc.Tab(
                grid.data_grid("acct-invoices", height=380), label="Invoices", tab_id="invoices"
            ),
            dbc.Tab(
                grid.data_grid("acct-payments", height=380), label="Payments", tab_id="payments"
            ),
        ],
        active_tab="invoices",
        className="mb-2",
    )
    cid = customer_id if isinstance(customer_id, str) else None
    charts = dbc.Row(
        [
            dbc.Col(
                _section(
                    "Aging (days past due)",
                    dcc.Graph(id="acct-aging", config=GRAPH_CONFIG, style={"height": "220px"}),
                    actions=export_menu("account_aging", customer_id=cid) if cid else None,
                ),
                lg=5,
            ),
            dbc.Col(
                _section(
                    "Invoiced vs paid · 12 months",
                    dcc.Graph(id="acct-trend", config=GRAPH_CONFIG, style={"height": "240px"}),
                    actions=export_menu("account_trend", customer_id=cid) if cid else None,
                ),
                lg=7,
            ),
        ],
        className="g-2 mb-2",
    )
    lists = dbc.Row(
        [
            dbc.Col(_section("Open promises", html.Div(id="acct-promises")), lg=4),
            dbc.Col(_section("Disputes", html.Div(id="acct-disputes")), lg=4),
            dbc.Col(_section("Activities", html.Div(id="acct-activities")), lg=4),
        ],
        className="g-2 mb-2",
    )
    notes = _section(
        "Notes",
        [
            html.Div(id="acct-note-form"),
            html.Div(id="acct-note-message", className="small mb-2"),
            html.Div(id="acct-notes", className="ar-notes"),
        ],
    )
    pdf = (
        html.Div(
            [
                statement_controls("acct", "Email statement…"),
                export_link(statement_path(cid), "Statement PDF"),
                export_link(customer_pdf_path(cid), "PDF summary for a sales call"),
            ],
            className="d-flex justify-content-end align-items-start gap-2 mb-2",
        )
        if cid
        else None
    )
    body = html.Div(
        [pdf, boxes, html.Div(id="acct-behaviour", className="mb-2"), items, charts, lists, notes],
        id="acct-body",
        style={"display": "none"},
    )
    return html.Div(
        [
            dcc.Store(id="acct-id", data=customer_id),
            dcc.Loading(html.Div(id="acct-header", className="mb-2"), type="dot", delay_show=300),
            body,
        ],
        id="acct-page",
    )


# ---- data --------------------------------------------------------------------------------------


def account(customer_id: str | None, filters_data: dict | None) -> tuple[dict | None, str]:
    """(account_360 dict or None when unknown/out of scope, currency), cached per data version."""
    as_of, _basis, _filters = gf.parse(filters_data)
    return account_data(snapshots.get_snapshot(), customer_id, as_of, identity.scope())


register_statements(
    "acct",
    lambda _filters, customer_id: [customer_id] if isinstance(customer_id, str) else [],
    State("acct-id", "data"),
)


def _require(customer_id, filters_data):
    if filters_data is None:
        raise PreventUpdate
    data, currency = account(customer_id, filters_data)
    if data is None:
        raise PreventUpdate
    return data, currency


# the invoices and payments grids: table views of dashboard/views/account.py (the customer: needs_customer)


# ---- callbacks ----------------------------------------------------------------------------------


@callback(
    Output("acct-header", "children"),
    Output("acct-body", "style"),
    Output(grid.source_id("acct-invoices"), "data"),
    Output(grid.source_id("acct-payments"), "data"),
    *INPUTS,
)
def header(customer_id, filters_data, _version):
    """Name and attributes, or "Customer not found" (same answer for unknown and out of scope)."""
    if filters_data is None:
        raise PreventUpdate
    data, _currency = account(customer_id, filters_data)
    if data is None:
        return (
            dbc.Alert(
                [
                    html.H2(NOT_FOUND, className="h5"),
                    html.Div("Check the link, or ask for access to this customer."),
                    dcc.Link(
                        "Back to Receivables Health",
                        href="/" + ((filters_data or {}).get("query") or ""),
                    ),
                ],
                color="secondary",
                className="ar-not-found",
            ),
            {"display": "none"},
            None,
            None,
        )
    badges = [
        dbc.Badge(f"{label} {value}", color="light", text_color="dark", className="me-1 border")
        for label, value in (
            ("Segment", data["segment"]),
            ("Region", data["region"]),
            ("Tier", data["tier"]),
            ("Rep", data["sales_rep_id"]),
        )
        if value
    ]
    title = html.Div(
        [
            html.H1(
                [
                    data["name"],
                    html.Span(f" #{data['customer_id']}", className="text-muted fw-normal ms-2 h5"),
                ],
                className="h4 mb-1",
                id="acct-name",
            ),
            html.Div(
                [*badges, html.Span(f"as of {data['as_of']}", className="small text-muted ms-1")]
            ),
        ]
    )
    source = {"customer_id": data["customer_id"], "filters": filters_data}
    return title, {}, source, source


@callback(
    Output("acct-total", "children"),
    Output("acct-last-date", "children"),
    Output("acct-terms", "children"),
    Output("acct-avg-days", "children"),
    Output("acct-limit", "children"),
    Output("acct-last-amount", "children"),
    *INPUTS,
)
def boxes(customer_id, filters_data, _version):
    """The Retailer seed's six summary boxes."""
    data, cur = _require(customer_id, filters_data)
    s = data["summary"]
    limit = fmt.money(s["credit_limit"], cur) if s["credit_limit"] else "No limit"
    if s["credit_limit"] and s["utilization_pct"] is not None:
        limit = [
            limit,
            html.Div(f"{fmt.pct(s['utilization_pct'], 0)} used", className="ar-box-sub"),
        ]
    base = s["base_currency"]
    foreign = s["currency"] != base
    overdue = f"overdue {fmt.money(s['overdue'], cur)}"
    total = [fmt.money(s["total_outstanding"], cur), html.Div(overdue, className="ar-box-sub")]
    if foreign:
        total.append(
            html.Div(
                f"= {fmt.money(s['total_outstanding_base'], base)} at the as-of rate "
                f"(overdue {fmt.money(s['overdue_base'], base)})",
                className="ar-box-sub ar-base-equivalent",
            )
        )
    if fmt.to_cents(s["unapplied_credits"]):
        credit = fmt.money(s["unapplied_credits"], base)
        if foreign:
            credit = f"{fmt.money(s['unapplied_credits_in_currency'], cur)} = {credit}"
        total.append(html.Div(f"unapplied credit {credit}", className="ar-box-sub ar-credit"))
    last = fmt.money(s["last_payment_amount"], cur) if s["last_payment_amount"] else fmt.DASH
    if s["last_payment_amount"] and foreign:
        last = [
            last,
            html.Div(
                f"= {fmt.money(s['last_payment_amount_base'], base)} at the payment date's rate",
                className="ar-box-sub ar-base-equivalent",
            ),
        ]
    return (
        total,
        fmt.date(s["last_payment_date"]),
        s["terms"],
        fmt.days(s["average_days_to_pay"]),
        limit,
        last,
    )


@callback(Output("acct-behaviour", "children"), *INPUTS)
def behaviour(customer_id, filters_data, _version):
    """Per-customer DSO and days late (90 days) and share of turnover (year to date)."""
    data, _cur = _require(customer_id, filters_data)
    items = [
        (
            "DSO (90 days)",
            fmt.days(data["dso_90d"]),
            "open balance / invoiced in the last 90 days × 90"
            + (
                ""
                if data["summary"]["currency"] == data["summary"]["base_currency"]
                else f", both in {data['summary']['base_currency']}"
            ),
        ),
        (
            "Average days late (90 days)",
            fmt.days(data["avg_days_late_90d"]),
            "over invoices paid in the last 90 days",
        ),
        (
            "Share of turnover",
            fmt.pct(data["share_of_turnover_pct"], 2),
            "this customer's invoicing / everyone's, year to date",
        ),
    ]
    return html.Div(
        [
            html.Span(
                [
                    html.Span(label + ": ", className="text-muted"),
                    html.Strong(value),
                    html.Span(f" ({hint})", className="text-muted small"),
                ],
                className="me-4 ar-behaviour-item",
            )
            for label, value, hint in items
        ],
        className="d-flex flex-wrap small",
    )


@callback(Output("acct-aging", "figure"), Output("acct-trend", "figure"), *INPUTS)
def charts(customer_id, filters_data, _version):
    """The customer's aging bar and invoiced-vs-paid line (their views, as exported)."""
    _require(customer_id, filters_data)
    return (
        chart_figure("account_aging", filters_data, customer_id=customer_id),
        chart_figure("account_trend", filters_data, customer_id=customer_id),
    )


def _table(rows: list[dict], columns: list[tuple[str, str]], cur: str, empty: str) -> html.Div:
    if not rows:
        return html.Div(empty, className="text-muted small p-2 ar-empty")
    head = html.Thead(html.Tr([html.Th(label) for _key, label in columns]))
    body = []
    for row in rows[:LIST_ROWS]:
        cells = []
        for key, _label in columns:
            value = row.get(key)
            if key == "amount":
                value = fmt.money(value, cur)
            cells.append(
                html.Td(
                    "" if value is None else str(value),
                    className="text-end" if key == "amount" else None,
                )
            )
        body.append(html.Tr(cells))
    more = (
        [html.Div(f"Showing {LIST_ROWS} of {len(rows)}.", className="small text-muted")]
        if len(rows) > LIST_ROWS
        else []
    )
    return html.Div(
        [
            dbc.Table(
                [head, html.Tbody(body)],
                size="sm",
                hover=True,
                className="mb-1 small ar-small-table",
            ),
            *more,
        ],
        className="ar-scroll",
    )


@callback(
    Output("acct-promises", "children"),
    Output("acct-disputes", "children"),
    Output("acct-activities", "children"),
    *INPUTS,
)
def lists(customer_id, filters_data, _version):
    """Open promises, disputes and activities."""
    data, cur = _require(customer_id, filters_data)
    promises = [p for p in data["promises"] if p.get("status") == "open"]
    return (
        _table(
            promises,
            [("invoice_id", "Invoice"), ("promised_date", "Promised for"), ("amount", "Amount")],
            cur,
            "No open promises.",
        ),
        _table(
            data["disputes"],
            [
                ("invoice_id", "Invoice"),
                ("opened_on", "Opened"),
                ("status", "Status"),
                ("amount", "Amount"),
            ],
            cur,
            "No disputes.",
        ),
        _table(
            data["activities"],
            [("date", "Date"), ("channel", "Channel"), ("outcome", "Outcome"), ("note", "Note")],
            cur,
            "No activities.",
        ),
    )


# ---- notes ----------------------------------------------------------------------------------------


def _notes_list(customer_id: str) -> list:
    notes = list_notes(customer_id)
    if not notes:
        return [html.Div("No notes yet.", className="text-muted small ar-empty")]
    return [
        html.Div(
            [
                html.Div(
                    [
                        html.Strong(n["author"]),
                        html.Span(
                            f" · {n['created_at']:%Y-%m-%d %H:%M} UTC", className="text-muted"
                        ),
                    ],
                    className="small",
                ),
                html.Div(n["text"], className="ar-note-text"),
            ],
            className="ar-note",
        )
        for n in notes
    ]


def _form(enabled: bool):
    if not enabled:
        return html.Div(
            "Your role can read notes but not add them.", className="small text-muted mb-2"
        )
    return html.Div(
        [
            dbc.Textarea(
                id="acct-note-text",
                placeholder="Add a note on this account…",
                rows=2,
                maxLength=4000,
                className="mb-1",
            ),
            dbc.Button("Add note", id="acct-note-add", size="sm", color="primary"),
        ],
        className="mb-2",
    )


@callback(Output("acct-notes", "children"), Output("acct-note-form", "children"), *INPUTS)
def notes(customer_id, filters_data, _version):
    """The notes (newest first) and the add form for roles that may write notes."""
    _data, _cur = _require(customer_id, filters_data)
    return _notes_list(customer_id), _form(identity.can("edit_notes"))


@callback(
    Output("acct-note-message", "children"),
    Output("acct-notes", "children", allow_duplicate=True),
    Output("acct-note-text", "value"),
    Input("acct-note-add", "n_clicks"),
    State("acct-note-text", "value"),
    State("acct-id", "data"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def add_note(n_clicks, text, customer_id, filters_data):
    """Store a note: only for roles with edit_notes and customers in the user's scope (server-side)."""
    if not n_clicks:
        raise PreventUpdate
    if not identity.can("edit_notes"):
        return (
            dbc.Alert("Your role may not add notes.", color="danger", className="py-1"),
            no_update,
            no_update,
        )
    data, _cur = account(customer_id, filters_data)
    if data is None:
        return dbc.Alert(NOT_FOUND, color="danger", className="py-1"), no_update, no_update
    try:
        store_note(data["customer_id"], identity.username() or "unknown", text or "")
    except NoteError as error:
        return html.Span(str(error), className="text-danger"), no_update, no_update
    return html.Span("Note added.", className="text-success"), _notes_list(data["customer_id"]), ""
