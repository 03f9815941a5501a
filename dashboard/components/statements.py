"""Statement buttons (Account 360, customer aging): download, a dry run of who would get what, send.

    statement_controls("acct", single=True)   # layout; register(...) wires its callbacks

Sending emails each customer's statement to its billing address and logs an activity on it. The
customers are re-checked on the server against the user's scope; emailing needs the right to
write on customers (`edit_notes`), a dry run and downloads need `export`.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html
from dash.exceptions import PreventUpdate

from dashboard import params as gf
from dashboard.components import identity
from dashboard.export.statement import StatementError, send_statements
from dashboard.metrics import snapshot as snapshots

MAX_CUSTOMERS = 500  # per click; bigger runs: `python -m dashboard statement ... --email`


def statement_path(customer_id: str) -> str:
    """/export/statement/<id>.pdf (the id URL-encoded)."""
    return f"/export/statement/{quote(customer_id, safe='')}.pdf"


def statement_controls(prefix: str, label: str) -> html.Div:
    """'Email statement(s)' (a dry run first), 'Send', and the outcome."""
    return html.Div(
        [
            dbc.Button(
                label,
                id=f"{prefix}-stmt-preview",
                size="sm",
                color="secondary",
                outline=True,
                # a long label wraps on a phone
                class_name="text-start",
                style={"maxWidth": "100%"},
            ),
            dbc.Button(
                "Send now",
                id=f"{prefix}-stmt-send",
                size="sm",
                color="primary",
                class_name="text-nowrap",
                style={"display": "none"},
            ),
            html.Div(id=f"{prefix}-stmt-msg", className="small w-100"),
        ],
        className="d-flex flex-wrap align-items-center gap-2",
    )


def _table(outcomes: list) -> dbc.Table:
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Customer", "Billing email", "Balance due", "Status")])
    )
    rows = [
        html.Tr(
            [
                html.Td(f"{o.name} #{o.customer_id}"),
                html.Td(o.email or "–"),
                html.Td(o.balance),
                html.Td(o.status + (f" ({o.detail})" if o.detail else "")),
            ]
        )
        for o in outcomes
    ]
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="small mb-0 mt-1 ar-stmt-table")


def run(customer_ids: list[str], filters_data: dict | None, dry_run: bool) -> list:
    """Dry run or send for the customers, as the logged-in user in their scope."""
    if not identity.can("export") or (not dry_run and not identity.can("edit_notes")):
        return [html.Span("Your role may not email statements.", className="text-danger")]
    if not customer_ids:
        return [html.Span("No customer with a balance on these filters.", className="text-muted")]
    as_of, _basis, _filters = gf.parse(filters_data)
    try:
        outcomes = send_statements(
            snapshots.get_snapshot(),
            customer_ids[:MAX_CUSTOMERS],
            as_of,
            identity.scope(),
            identity.username(),
            dry_run=dry_run,
        )
    except StatementError as error:
        return [html.Span(str(error), className="text-danger")]
    ready = sum(o.status in ("would send", "sent") for o in outcomes)
    verb = "Would email" if dry_run else "Emailed"
    head = f"{verb} {ready} of {len(outcomes)} statement(s) as of {as_of.isoformat()}"
    if len(customer_ids) > MAX_CUSTOMERS:
        head += f" (the first {MAX_CUSTOMERS}; use the command line for more)"
    return [html.Div(head + ".", className="fw-semibold"), _table(outcomes)]


def register(prefix: str, customers: Callable[..., list[str]], *extra: State) -> None:
    """Wire the dry-run and send buttons of statement_controls(prefix) to a customer chooser.

    `customers(filters_data, *extra_values)` returns the customer ids, or raises StatementError to
    refuse the whole request (e.g. a selection outside the user's scope).
    """

    @callback(
        Output(f"{prefix}-stmt-msg", "children"),
        Output(f"{prefix}-stmt-send", "style"),
        Input(f"{prefix}-stmt-preview", "n_clicks"),
        Input(f"{prefix}-stmt-send", "n_clicks"),
        State("filters", "data"),
        *extra,
        prevent_initial_call=True,
    )
    def statements(_preview, _send, filters_data, *extra_values):
        """A dry run shows who would get what and reveals 'Send now'; 'Send now' sends."""
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            raise PreventUpdate
        try:
            ids = customers(filters_data, *extra_values)
        except StatementError as error:
            return [html.Span(str(error), className="text-danger ar-stmt-refused")], {
                "display": "none"
            }
        if ctx.triggered_id == f"{prefix}-stmt-send":
            return run(ids, filters_data, dry_run=False), {"display": "none"}
        return run(ids, filters_data, dry_run=True), {}
