"""Subscriptions and alerts: subscribe to a page with its filters or watch a condition; send history.

Any user manages their own subscriptions; an admin can subscribe any user or every user of a role
and sees every subscription and send. Who may do what is checked on the server in
dashboard.subscriptions.store (the identity comes from the session, never from the browser).
"""

from __future__ import annotations

import json
import zoneinfo
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.roles import ROLES
from dashboard.components import identity
from dashboard.data.subscriptions import get_subscription, user_address
from dashboard.data.users import active_usernames
from dashboard.subscriptions.content import page_title
from dashboard.subscriptions.schedule import describe
from dashboard.subscriptions.store import (
    CONDITIONS,
    Actor,
    SubscriptionError,
    add_subscription,
    check_page,
    history,
    list_subscriptions,
    remove_subscription,
    set_address,
    update_subscription,
)

dash.register_page(
    __name__,
    path="/subscriptions",
    name="Subscriptions",
    title="Subscriptions and alerts",
    nav_order=95,
)

PAGES = (
    ("/", "Receivables Health"),
    ("/aging", "Customer aging"),
    ("/credit", "Credit utilization"),
    ("/reliability", "Payment reliability"),
    ("/value", "Customer value"),
    ("/forecast", "Payment forecast"),
    ("/predictions", "Payment predictions"),
    ("/disputes", "Disputes & promises"),
    ("/invoices", "Invoice workspace"),
    ("/collections", "Collections activity"),
    ("/commissions", "Commission analytics"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FORM_FIELDS = (
    "sub-kind",
    "sub-path",
    "sub-query",
    "sub-every",
    "sub-at",
    "sub-tz",
    "sub-weekday",
    "sub-monthday",
    "sub-condition",
    "sub-threshold",
    "sub-recipient",
)


def _field(label: str, control, width: int = 3) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-0"), control], md=width, className="mb-2")


def _from(page: str | None) -> tuple[str, str, list]:
    """(path, query, extra page options) of the ?page= the user came from (the shell's Subscribe button)."""

    try:
        parts = urlsplit(check_page(page or "/"))
    except SubscriptionError:
        return "/", "", []
    path = parts.path or "/"
    extra = [] if path in dict(PAGES) else [{"label": f"{page_title(path)} {path}", "value": path}]
    return path, f"?{parts.query}" if parts.query else "", extra


def _form(page: str | None = None) -> dbc.Card:

    path, query, extra = _from(page)

    rows = [
        dbc.Row(
            [
                _field(
                    "Send",
                    dbc.RadioItems(
                        id="sub-kind",
                        value="report",
                        inline=True,
                        options=[
                            {"label": "Page summary", "value": "report"},
                            {"label": "Alert", "value": "alert"},
                        ],
                    ),
                    4,
                ),
                _field(
                    "Recipient",
                    dbc.Select(
                        id="sub-recipient", value="me", options=[{"label": "Me", "value": "me"}]
                    ),
                    4,
                ),
            ]
        ),
        dbc.Row(
            [
                _field(
                    "Page",
                    dbc.Select(
                        id="sub-path",
                        value=path,
                        options=[{"label": t, "value": p} for p, t in PAGES] + extra,
                    ),
                    4,
                ),
                _field(
                    "Filters (query string)",
                    dbc.Input(id="sub-query", value=query, placeholder="?segment=SMB&region=North"),
                    8,
                ),
            ]
        ),
        dbc.Row(
            [
                _field(
                    "Every",
                    dbc.Select(
                        id="sub-every",
                        value="weekly",
                        options=[
                            {"label": v.capitalize(), "value": v}
                            for v in ("daily", "weekly", "monthly")
                        ],
                    ),
                    2,
                ),
                _field("At (HH:MM)", dbc.Input(id="sub-at", value="08:00", maxLength=5), 2),
                _field(
                    "Time zone",
                    dcc.Dropdown(
                        id="sub-tz",
                        value="UTC",
                        clearable=False,
                        options=sorted(zoneinfo.available_timezones()),
                    ),
                    3,
                ),
                _field(
                    "Weekday (weekly)",
                    dbc.Select(
                        id="sub-weekday",
                        value="0",
                        options=[{"label": d, "value": str(i)} for i, d in enumerate(WEEKDAYS)],
                    ),
                    3,
                ),
                _field(
                    "Day (monthly)",
                    dbc.Input(id="sub-monthday", type="number", min=1, max=31, value=1),
                    2,
                ),
            ]
        ),
        dbc.Row(
            [
                _field(
                    "Alert condition",
                    dbc.Select(
                        id="sub-condition",
                        value="dso_above",
                        options=[
                            {"label": label, "value": key}
                            for key, (label, _unit) in CONDITIONS.items()
                        ],
                    ),
                    6,
                ),
                _field("N", dbc.Input(id="sub-threshold", value="45"), 2),
            ],
            id="sub-alert-row",
        ),
        html.Div(
            [
                dbc.Button("Save subscription", id="sub-save", color="primary", size="sm"),
                dbc.Button("Cancel edit", id="sub-cancel", color="link", size="sm"),
                html.Span(id="sub-msg", className="small ms-2"),
            ],
            className="d-flex align-items-center gap-2",
        ),
    ]
    return dbc.Card(
        [
            dbc.CardHeader("New subscription", id="sub-form-title", className="py-2 ar-card-title"),
            dbc.CardBody(rows, className="p-2"),
        ],
        className="ar-card mb-3",
    )


def layout(page: str | None = None, **_query) -> html.Div:
    """The skeleton (no data): address, form (pre-filled with ?page=, the page the user came from), lists."""
    address = html.Div(
        [
            dbc.Label("Deliver my subscriptions to", className="small mb-0 me-2"),
            dbc.Input(id="sub-address", type="email", size="sm", style={"maxWidth": "320px"}),
            dbc.Button(
                "Save address", id="sub-address-save", size="sm", color="secondary", outline=True
            ),
            html.Span(id="sub-address-msg", className="small"),
        ],
        className="d-flex align-items-center gap-2 mb-3",
    )
    return html.Div(
        [
            html.H1("Subscriptions and alerts", className="h4 mb-1"),
            html.P(
                "Each email is computed as its recipient, with their scope at send time: tiles and the aging chart "
                "inline, the page's PDF attached. Alerts send one email per firing with the rows behind it.",
                className="text-muted small",
            ),
            address,
            _form(page if isinstance(page, str) else None),
            dbc.Card(
                [
                    dbc.CardHeader("Subscriptions", className="py-2 ar-card-title"),
                    dbc.CardBody(html.Div(id="sub-list"), className="p-2"),
                ],
                className="ar-card mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader("Send history", className="py-2 ar-card-title"),
                    dbc.CardBody(html.Div(id="sub-history"), className="p-2"),
                ],
                className="ar-card",
            ),
            dcc.Store(id="sub-edit-id"),
            dcc.Store(id="sub-from", data=bool(page)),
            dcc.Store(id="sub-refresh", data=0),
        ]
    )


def actor():
    """The logged-in user as an Actor (from the server session)."""

    name, role = identity.username(), identity.role()
    if name is None or role is None:
        raise PreventUpdate
    return Actor(name, role)


def _schedule(sub: dict) -> str:

    return describe(sub["every"], sub["at_time"], sub["tz"], sub["weekday"], sub["monthday"])


def _what(sub: dict) -> str:

    if sub["kind"] == "alert":
        label = CONDITIONS.get(sub["condition"], (sub["condition"], None))[0]
        return f"Alert: {label.replace('N', sub['threshold'] or '', 1)}"
    return f"Summary of {sub['page']}"


def _list_table(subs: list[dict], me: str, admin: bool) -> html.Div:
    if not subs:
        return html.Div("No subscriptions yet.", className="text-muted small", id="sub-empty")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("#", "Recipient", "What", "When", "Status", "")])
    )
    rows = []
    for sub in subs:
        mine = admin or sub["username"] == me
        buttons = (
            [
                dbc.Button(
                    "Edit",
                    id={"type": "sub-edit", "index": sub["id"]},
                    size="sm",
                    color="link",
                    className="p-0 me-2",
                ),
                dbc.Button(
                    "Delete",
                    id={"type": "sub-del", "index": sub["id"]},
                    size="sm",
                    color="link",
                    className="p-0 text-danger",
                ),
            ]
            if mine
            else []
        )
        who = sub["username"] or f"role {sub['role']}"
        # a hyphenated HTML attribute goes to a Dash component through **kwargs (typed Any there)
        row_id: dict[str, Any] = {"data-id": str(sub["id"])}
        rows.append(
            html.Tr(
                [
                    html.Td(sub["id"]),
                    html.Td(who + (f" → {sub['address']}" if sub["address"] else "")),
                    html.Td(_what(sub)),
                    html.Td(_schedule(sub) if sub["kind"] == "report" else "on new data and daily"),
                    html.Td("active" if sub["active"] else "off"),
                    html.Td(buttons),
                ],
                className="sub-row",
                **row_id,
            )
        )
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, className="small mb-0", id="sub-table"
    )


def _history_table(rows: list[dict]) -> html.Div:
    if not rows:
        return html.Div("Nothing sent yet.", className="text-muted small")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("When", "#", "To", "Slot", "Status", "Tries", "Detail")])
    )
    body = [
        html.Tr(
            [
                html.Td(r["at"]),
                html.Td(r["subscription_id"]),
                html.Td(f"{r['username']} {r['address'] or ''}"),
                html.Td(r["slot"]),
                html.Td(r["status"]),
                html.Td(r["attempts"]),
                html.Td(_history_detail(r["detail"])),
            ]
        )
        for r in rows
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", className="small mb-0")


def _history_detail(detail: str) -> str:

    if detail.startswith("{"):
        try:
            data = json.loads(detail)
            return f"{data.get('headline', '')}; {data.get('note', '')}"
        except ValueError:
            return detail[:300]
    return detail[:300]


@callback(
    Output("sub-list", "children"),
    Output("sub-history", "children"),
    Output("sub-recipient", "options"),
    Output("sub-recipient", "disabled"),
    Input("sub-refresh", "data"),
)
def load(_refresh):
    """The subscriptions and sends the user may see; recipients an admin may choose."""

    who = actor()
    options = [{"label": "Me", "value": "me"}]
    if who.is_admin:
        options += [
            {"label": f"User {n}", "value": f"user:{n}"}
            for n in active_usernames()
            if n != who.username
        ]
        options += [{"label": f"Every {r}", "value": f"role:{r}"} for r in ROLES]
    return (
        _list_table(list_subscriptions(who), who.username, who.is_admin),
        _history_table(history(who, 100)),
        options,
        not who.is_admin,
    )


@callback(Output("sub-address", "value"), Input("sub-refresh", "data"))
def load_address(_refresh):
    """The user's delivery address."""

    return user_address(actor().username)


@callback(
    Output("sub-address-msg", "children"),
    Input("sub-address-save", "n_clicks"),
    State("sub-address", "value"),
    prevent_initial_call=True,
)
def save_address(_n, value):
    """Store the user's own delivery address."""

    who = actor()
    try:
        set_address(who.username, value)
    except SubscriptionError as error:
        return html.Span(str(error), className="text-danger")
    return html.Span("Saved.", className="text-success")


@callback(Output("sub-alert-row", "style"), Input("sub-kind", "value"))
def toggle_alert(kind):
    """Show the alert fields for alerts only."""
    return None if kind == "alert" else {"display": "none"}


@callback(
    Output("sub-query", "value"),
    Input("filters", "data"),
    State("sub-edit-id", "data"),
    State("sub-from", "data"),
)
def prefill_query(filters_data, editing, came_from):
    """The filters the user came with (the nav link carries them) fill the query string.

    The as-of date is left out, so the summary is as of each send day; typing as_of=... pins it.
    """

    if editing or came_from:
        raise PreventUpdate
    pairs = [
        (k, v)
        for k, v in parse_qsl(((filters_data or {}).get("query") or "").lstrip("?"))
        if k != "as_of"
    ]
    return "?" + urlencode(pairs) if pairs else ""


def _fields(kind, path, query, every, at, tz, weekday, monthday, condition, threshold) -> dict:
    return {
        "kind": kind,
        "page": (path or "/") + (query or ""),
        "every": every,
        "at_time": at,
        "tz": tz,
        "weekday": int(weekday or 0),
        "monthday": int(monthday or 1),
        "condition": condition,
        "threshold": threshold,
    }


def _target(recipient: str | None, admin: bool) -> dict:
    if admin and recipient and recipient.startswith("user:"):
        return {"username": recipient[5:]}
    if admin and recipient and recipient.startswith("role:"):
        return {"role": recipient[5:]}
    return {}


@callback(
    Output("sub-msg", "children"),
    Output("sub-refresh", "data"),
    Output("sub-edit-id", "data"),
    Output("sub-form-title", "children"),
    Input("sub-save", "n_clicks"),
    Input({"type": "sub-del", "index": ALL}, "n_clicks"),
    Input("sub-cancel", "n_clicks"),
    *(State(f, "value") for f in FORM_FIELDS),
    State("sub-edit-id", "data"),
    State("sub-refresh", "data"),
    prevent_initial_call=True,
)
def act(
    _save,
    _deletes,
    _cancel,
    kind,
    path,
    query,
    every,
    at,
    tz,
    weekday,
    monthday,
    condition,
    threshold,
    recipient,
    editing,
    refresh,
):
    """Save (add or update) or delete a subscription; the store checks who may."""

    who = actor()
    trigger = ctx.triggered_id
    try:
        if trigger == "sub-cancel":
            return "", no_update, None, "New subscription"
        if isinstance(trigger, dict) and trigger.get("type") == "sub-del":
            if not ctx.triggered[0].get("value"):
                raise PreventUpdate
            removed = remove_subscription(who, int(trigger["index"]))
            return (
                html.Span(f"Deleted subscription {removed['id']}.", className="text-success"),
                (refresh or 0) + 1,
                None,
                "New subscription",
            )
        fields = _fields(kind, path, query, every, at, tz, weekday, monthday, condition, threshold)
        if editing:
            saved = update_subscription(who, int(editing), **fields)
            message = f"Saved subscription {saved['id']}."
        else:
            saved = add_subscription(who, **_target(recipient, who.is_admin), **fields)
            message = f"Subscribed: {_what(saved)}, {_schedule(saved)}."
    except SubscriptionError as error:
        return html.Span(str(error), className="text-danger"), no_update, no_update, no_update
    return (
        html.Span(message, className="text-success"),
        (refresh or 0) + 1,
        None,
        "New subscription",
    )


@callback(
    *(Output(f, "value", allow_duplicate=True) for f in FORM_FIELDS),
    Output("sub-edit-id", "data", allow_duplicate=True),
    Output("sub-form-title", "children", allow_duplicate=True),
    Input({"type": "sub-edit", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def edit(clicks):
    """Load a subscription the user may change into the form."""

    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        raise PreventUpdate
    who = actor()
    sub = get_subscription(int(trigger["index"]))
    if sub is None or not (who.is_admin or sub["username"] == who.username):
        raise PreventUpdate
    parts = urlsplit(sub["page"])
    recipient = (
        "me"
        if sub["username"] == who.username
        else (f"user:{sub['username']}" if sub["username"] else f"role:{sub['role']}")
    )
    return (
        sub["kind"],
        parts.path or "/",
        f"?{parts.query}" if parts.query else "",
        sub["every"],
        sub["at_time"],
        sub["tz"],
        str(sub["weekday"]),
        sub["monthday"],
        sub["condition"] or "dso_above",
        sub["threshold"] or "",
        recipient,
        sub["id"],
        f"Edit subscription {sub['id']}",
    )
