"""Customer aging (Retailer "Customer Aging" tab): one grid per terms group, configurable day ranges per user."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import params as gf
from dashboard.components import grid, identity
from dashboard.components.page_kit import card, info, page_header
from dashboard.components.shell import fill_stores, filters_for_layout
from dashboard.components.statements import MAX_CUSTOMERS, statement_controls
from dashboard.components.statements import register as register_statements
from dashboard.data.user_prefs import (
    format_ranges,
    load_aging_ranges,
    parse_aging_ranges,
    save_aging_ranges,
)
from dashboard.export.grids import selected_keys
from dashboard.export.statement import StatementError
from dashboard.metrics import service
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.kpis import customer_balances
from dashboard.metrics.ledger import open_items, select
from dashboard.metrics.snapshot import to_day
from dashboard.views import customer_aging as aging_views
from dashboard.views.grids import MAX_SELECTED, Selection

dash.register_page(
    __name__, path="/aging", name="Customer aging", title="Customer aging", nav_order=20
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
# the grids' table views (dashboard/views/customer_aging.py): one per terms group
GROUPS, STATUS_INFO = aging_views.GROUPS, aging_views.STATUS_INFO
edges_from, bucket_title = aging_views.edges_from, aging_views.bucket_title
RANGES_INFO = (
    "Day limits of the due-date aging columns, separated by commas: 30,60,90 gives Not due, 1–30, 31–60, "
    "61–90 and 90+ days past due (upper limits inclusive). Any increasing list works, e.g. "
    "30,60,90,120,180,365,720. Saved for you and used next time. Empty restores 30,60,90. "
    "Transaction aging always uses calendar months since the invoice date."
)
customer_aging = service.customer_aging


# ---- layout ---------------------------------------------------------------------------------------


def _controls() -> html.Div:
    return html.Div(
        [
            dbc.Label(
                "Aging ranges (days)", html_for="ag-ranges", className="ar-filter-label mb-0"
            ),
            dbc.Input(
                id="ag-ranges",
                type="text",
                size="sm",
                placeholder="30,60,90",
                maxLength=200,
                debounce=False,
                style={"width": "19rem"},
                autoComplete="off",
            ),
            dbc.Button("Apply", id="ag-apply", size="sm", color="primary", n_clicks=0),
            *info("ag-ranges-info", RANGES_INFO),
            html.Div(id="ag-ranges-msg", className="small", role="status"),
            html.Div(
                [
                    html.Span("Status rules", className="small text-muted me-1"),
                    *info("ag-status-info", STATUS_INFO),
                ],
                className="d-flex align-items-center ms-auto",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2 p-2 bg-white border rounded ar-aging-controls",
    )


def layout(**query) -> html.Div:
    """The page skeleton; ranges and the grids' sources set for the filters in the address (prefill)."""
    cards = [
        card(
            title,
            grid.data_grid(
                name,
                height=420,
                search_placeholder="Search (a name, a status, an amount)",
                select=True,
            ),
            f"Customers on {title.lower()} with a positive balance at the as-of date: their open invoices by "
            "age on the chosen aging basis. The buckets of every row add up to its total outstanding; the "
            "totals row adds up every row (not only the rows shown). Credit limit blank = no limit. Click a "
            "customer for Account 360.",
            f"{name}-info",
            class_name="ar-card mb-2",
        )
        for _group, name, title in GROUPS
    ]
    page = html.Div(
        [
            page_header("Customer aging", "ag-caption", pdf="customer_aging"),
            _controls(),
            html.Div(id="ag-basis-note", className="small text-muted mb-1"),
            *cards,
            card(
                "Customer statements",
                statement_controls("ag", "Email statements to the selected or filtered customers…"),
                "A statement PDF per customer as of the as-of date: open items, aging, unapplied "
                "credits, balance due. It goes to the customers selected in the grids above when any are: "
                "rows ticked one by one, or 'Select all N matching', every customer the grid's search, "
                "column filters and date range leave (all of them, not only the rows on screen, less any "
                "unticked afterwards). With nothing selected it goes to every customer with a balance on "
                f"the current filters. Always within your scope, at most {MAX_CUSTOMERS} per click (the "
                "command line sends more). The first click is a dry run listing who would receive what; 'Send now' "
                "emails each billing address and logs an activity on the customer. One customer's "
                "statement: Account 360.",
                "ag-stmt-info",
                class_name="ar-card mb-2",
            ),
            dcc.Store(id="ag-init", data=0),
            dcc.Store(id="ag-edges"),
        ],
        id="ag-page",
    )
    return prefill(page, query)


def prefill(page, query: dict):
    """The user's ranges and both grids' sources in the layout: the grids fill as the page arrives (no
    chain of round trips: ranges -> sources -> rows)."""
    filters_data = filters_for_layout(query)
    if filters_data is None:
        return page
    edges = list(load_aging_ranges(identity.user_id()))
    data, note = sources(filters_data, edges)
    fill_stores(page, {"ag-edges": edges})
    grid.prefill(page, {"ag-long": data, "ag-short": data})
    for component in page._traverse():
        if getattr(component, "id", None) == "ag-ranges":
            component.value = format_ranges(edges)
        elif getattr(component, "id", None) == "ag-basis-note":
            component.children = note
    return page


# ---- the rows (server side, in the user's scope) -------------------------------------------------


def _grids(values: tuple) -> list[tuple[str, Selection, object]]:
    """(grid name, what is ticked in it, its source data) from the statement callback's State values."""
    names = [name for _group, name, _title in GROUPS]
    return [
        (name, Selection.clean(selection), source)
        for name, selection, source in zip(names, values[0::2], values[1::2], strict=False)
    ]


def statement_customers(filters_data, _edges=None, *grids) -> list[str]:
    """The customers ticked in the grids when any are (`grids`: each grid's selection store and source
    data): rows ticked one by one, or every row matching a grid's search, column filters and date range
    ("Select all N matching", resolved here on the server by the grid's own row engine in the user's
    scope). Each is re-checked against the user's scope: one outside it refuses the whole request.
    Nothing ticked: every customer with a positive balance on the page's filters."""
    as_of, _basis, filters = gf.parse(filters_data)
    snap = snapshots.get_snapshot()
    ticked = [(name, sel, source) for name, sel, source in _grids(grids) if not sel.empty]
    if ticked:
        if any(sel.too_many for _name, sel, _source in ticked):
            raise StatementError(
                f"More than {MAX_SELECTED:,} rows are ticked one by one; use 'Select all matching' "
                "instead. No statement was prepared or sent."
            )
        chosen = list(
            dict.fromkeys(
                key
                for name, sel, source in ticked
                for key in selected_keys(name, source, sel, "customer_id")
            )
        )
        if not chosen:
            raise StatementError(
                "No customer matches the selection (the grids' search and filters leave none); "
                "no statement was prepared or sent."
            )
        allowed = set(snap.cust_ids[select(snap, None, identity.scope()).cust_mask].astype(str))
        outside = [c for c in chosen if c not in allowed]
        if outside:
            raise StatementError(
                f"{len(outside)} of the {len(chosen)} selected customers are not in your scope "
                f"({', '.join(outside[:5])}); no statement was prepared or sent."
            )
        return chosen
    balances = customer_balances(
        open_items(select(snap, filters, identity.scope()), to_day(as_of)), snap
    )
    return [str(snap.cust_ids[c]) for c in (balances > 0).nonzero()[0]]


register_statements(
    "ag",
    statement_customers,
    State("ag-edges", "data"),
    *(
        State(component, "data")
        for _group, name, _title in GROUPS
        for component in (grid.selection_id(name), grid.source_id(name))
    ),
)


# ---- callbacks ----------------------------------------------------------------------------------


@callback(Output("ag-caption", "children"), *INPUTS, Input("ag-edges", "data"))
def caption(filters_data, _version, edges):
    """What the page shows: as-of, basis, filters, scope, ranges."""
    if filters_data is None:
        raise PreventUpdate
    _as_of, basis, _filters = gf.parse(filters_data)
    ranges = (
        "calendar months since the invoice"
        if basis == "transaction"
        else "ranges " + ", ".join(map(str, edges_from(edges))) + " days"
    )
    return f"{gf.describe(filters_data)} · {identity.scope().label} · {ranges}"


@callback(
    Output("ag-ranges", "value"),
    Output("ag-edges", "data"),
    Input("ag-init", "data"),
    prevent_initial_call=True,
)  # the layout loads them (prefill)
def load_ranges(_init):
    """The logged-in user's saved ranges (defaults when none)."""
    edges = load_aging_ranges(identity.user_id())
    return format_ranges(edges), list(edges)


@callback(
    Output("ag-edges", "data", allow_duplicate=True),
    Output("ag-ranges", "value", allow_duplicate=True),
    Output("ag-ranges-msg", "children"),
    Input("ag-apply", "n_clicks"),
    Input("ag-ranges", "n_submit"),
    State("ag-ranges", "value"),
    prevent_initial_call=True,
)
def apply_ranges(_clicks, _submit, text):
    """Validate the ranges; a bad list changes nothing, a good one is saved for the user and applied."""
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    try:
        edges = parse_aging_ranges(text)
    except ValueError as error:
        return (
            no_update,
            no_update,
            html.Span(f"Not applied: {error}", className="text-danger ar-ranges-error"),
        )
    user_id = identity.user_id()
    if user_id is None:
        raise PreventUpdate
    save_aging_ranges(user_id, format_ranges(edges))
    shown = ", ".join(map(str, edges))
    return (
        list(edges),
        format_ranges(edges),
        html.Span(f"Saved: {shown} days.", className="text-success ar-ranges-saved"),
    )


@callback(
    Output(grid.source_id("ag-long"), "data"),
    Output(grid.source_id("ag-short"), "data"),
    Output("ag-basis-note", "children"),
    *INPUTS,
    Input("ag-edges", "data"),
    prevent_initial_call=True,  # the layout sets them (prefill)
)
def grid_sources(filters_data, _version, edges):
    """Point both grids at the filters and ranges (their rows are built on the server)."""
    if filters_data is None or edges is None:
        raise PreventUpdate
    data, note = sources(filters_data, edges)
    return data, data, note


def sources(filters_data, edges) -> tuple[dict, str]:
    """The grids' source data and the basis note for filters and ranges."""
    data = {"filters": filters_data, "ranges": list(edges_from(edges))}
    _as_of, basis, _filters = gf.parse(filters_data)
    note = (
        "Transaction aging: columns are whole calendar months since the invoice date; the day ranges apply "
        "to due-date aging."
        if basis == "transaction"
        else ""
    )
    return data, note
