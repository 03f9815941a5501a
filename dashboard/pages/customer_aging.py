"""Customer aging (Retailer "Customer Aging" tab): one grid per terms group, configurable day ranges per user."""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import grid, identity
from dashboard.components.page_kit import card, info, page_header
from dashboard.components.statements import register as register_statements
from dashboard.components.statements import statement_controls
from dashboard.figures.aging import TRANSACTION_LABELS
from dashboard.figures.analytics import STATUS_COLORS, fitted_columns, label_cell_style, text_width
from dashboard.metrics import service, tables
from dashboard.views.warm import add_page_step

dash.register_page(
    __name__, path="/aging", name="Customer aging", title="Customer aging", nav_order=20
)

INPUTS = [Input("filters", "data"), Input("data-version", "data")]
# (terms group, grid name, card title): 30-day+ first, as in the Retailer tab
GROUPS = (("long", "ag-long", "30-day+ terms"), ("short", "ag-short", "Short terms (< 30 days)"))
KEEP = ("customer_id", "customer_name", "terms", "credit_limit_cents", "amount_cents")
TAIL = ("max_days", "status", "segment", "region", "sales_rep_id")
STATUS_INFO = (
    "Status is the worst condition of the customer at the as-of date, first match wins: "
    "Over Limit = total outstanding above a credit limit > 0; Critical = an invoice more than 90 days past due; "
    "Overdue = more than 30 days past due; Late = 1 to 30 days past due; Current = nothing past due. "
    "Days past due always count from the due date, whatever the aging basis."
)
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
                "credits, balance due. It goes to the customers ticked in the grids above when any are ticked "
                "(the header box ticks every row the grid's search leaves), else to every customer with a "
                "balance on the current filters, always within your scope. The first click is a dry run "
                "listing who would receive what; 'Send now' emails each billing address and logs an activity "
                "on the customer. One customer's statement: Account 360.",
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
    from dashboard.components.shell import fill_stores, filters_for_layout, json_key
    from dashboard.data.user_prefs import format_ranges, load_aging_ranges

    filters_data = filters_for_layout(query)
    if filters_data is None:
        return page
    edges = list(load_aging_ranges(identity.user_id()))
    data, note = sources(filters_data, edges)
    fill_stores(
        page,
        {
            "ag-edges": edges,
            json_key(grid.source_id("ag-long")): data,
            json_key(grid.source_id("ag-short")): data,
        },
    )
    for component in page._traverse():
        if getattr(component, "id", None) == "ag-ranges":
            component.value = format_ranges(edges)
        elif getattr(component, "id", None) == "ag-basis-note":
            component.children = note
    return page


# ---- the rows (server side, in the user's scope) -------------------------------------------------


def selected_ids(*selections) -> list[str]:
    """The customer ids of the ticked grid rows (browser data, in order, once each)."""
    ids: list[str] = []
    for rows in selections:
        for row in rows if isinstance(rows, list) else []:
            value = row.get("customer_id") if isinstance(row, dict) else None
            if (
                isinstance(value, str | int)
                and not isinstance(value, bool)
                and str(value) not in ids
            ):
                ids.append(str(value)[:200])
    return ids


def statement_customers(filters_data, _edges=None, *selections) -> list[str]:
    """The ticked customers when any are ticked (each re-checked against the user's scope: one
    outside it refuses the whole request), else those with a positive balance on the page's filters."""
    from dashboard.export.statement import StatementError
    from dashboard.metrics.kpis import customer_balances
    from dashboard.metrics.ledger import open_items, select
    from dashboard.metrics.snapshot import get_snapshot, to_day

    as_of, _basis, filters = gf.parse(filters_data)
    snap = get_snapshot()
    chosen = selected_ids(*selections)
    if chosen:
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
    *(State(grid.grid_id(name), "selectedRows") for _group, name, _title in GROUPS),
)


def warm(snap, req) -> None:
    """The page's first visit's table for a user without saved ranges (the snapshot's warm-up,
    dashboard/views/warm.py): the call aging_frame makes."""
    from dashboard.data.user_prefs import DEFAULT_RANGES

    customer_aging(
        snap, req.as_of, req.filters, req.scope, req.basis, edges_from(list(DEFAULT_RANGES))
    )


add_page_step("customer_aging", warm)


def edges_from(raw) -> tuple[int, ...]:
    """Day limits from browser data (re-validated; anything unusable gives the defaults)."""
    from dashboard.data.user_prefs import DEFAULT_RANGES, format_ranges, parse_aging_ranges

    if not isinstance(raw, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw
    ):
        return DEFAULT_RANGES
    try:
        return parse_aging_ranges(format_ranges(raw))
    except ValueError:
        return DEFAULT_RANGES


def bucket_title(label: str, basis: str) -> str:
    """'1-30' -> '1–30 days', '90+' -> '90+ days', 'not_due' -> 'Not due', '1_month' -> '1 month'."""
    if basis == "transaction":
        return TRANSACTION_LABELS.get(label, label)
    if label == "not_due":
        return "Not due"
    return label.replace("-", "–") + " days"


def aging_frame(data: dict, group: str) -> grid.GridFrame | None:
    """The aging rows of one terms group for the filters and ranges in data (scope from the server)."""
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.metrics.ui_support import currency_for

    if not isinstance(data, dict):
        return None
    as_of, basis, filters = gf.parse(data.get("filters"))
    edges = edges_from(data.get("ranges"))
    scope = identity.scope()
    snap = get_snapshot()
    table = customer_aging(snap, as_of, filters, scope, basis, edges)
    buckets = [f"{label}_cents" for label in tables.bucket_labels(edges, basis)]
    frame = table.loc[table["terms_group"] == group, [*KEEP, *buckets, *TAIL]].reset_index(
        drop=True
    )
    limit = frame["credit_limit_cents"].astype("float64")
    frame["credit_limit_cents"] = limit.where(limit > 0)  # blank = no limit
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "amount_cents": "Total outstanding",
        "max_days": "Max days past due" if basis == "due" else "Max months since invoice",
        **{b: bucket_title(b[: -len("_cents")], basis) for b in buckets},
    }
    currency = currency_for(snap, filters, scope, fmt.default_currency())
    columns = fitted_columns(
        frame,
        currency,
        {
            "customer_id": {"pinned": "left", "width": 84, "suppressHeaderFilterButton": True},
            "customer_name": {
                "pinned": "left",
                "width": 190,
                "flex": None,
                "tooltipField": "customer_name",
            },
            # letters are wider than digits
            "terms": {"width": text_width(frame["terms"].astype(str), 76) + 12},
            "max_days": {
                "width": 80,
                "headerTooltip": "Highest days past due of any open invoice"
                if basis == "due"
                else "Most whole calendar months since the invoice date of any open invoice",
            },
            "status": {
                "width": 100,
                "pinned": "right",
                "cellStyle": label_cell_style(STATUS_COLORS),
                "headerTooltip": STATUS_INFO,
            },
        },
    )
    columns["amount_cents"].update(
        cellStyle={"fontWeight": 600}, width=columns["amount_cents"]["width"] + 8
    )
    # the buckets share what is left of the width, none narrower than its widest amount
    for b in buckets:
        columns[b].update(flex=1, minWidth=columns[b].pop("width"))
    title = dict((g, t) for g, _n, t in GROUPS)[group]
    stamp = (
        f"Customer aging, {title} | ranges {','.join(map(str, edges))} | {gf.describe(data.get('filters'))} | "
        f"scope: {scope.label} | generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return grid.GridFrame(
        frame,
        currency=currency,
        file_name=f"customer-aging-{group}",
        labels=labels,
        hidden=frozenset({"segment", "region", "sales_rep_id"}),
        stamp=stamp,
        columns=columns,
    )


def _source(group: str) -> grid.GridSource:
    """The grid source of one aging group (a function of this module: the grid's page is this page)."""
    return lambda data: aging_frame(data, group)


for _group, _name, _title in GROUPS:
    grid.register_source(_name, _source(_group))


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
    from dashboard.data.user_prefs import format_ranges, load_aging_ranges

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
    from dashboard.data.user_prefs import format_ranges, parse_aging_ranges, save_aging_ranges

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
