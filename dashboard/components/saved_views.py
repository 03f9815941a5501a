"""Saved views: each user names the current filters (query string) and reloads them later."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import params as gf
from dashboard.components import callbacks as cb
from dashboard.components import identity
from dashboard.data.saved_views import (
    ViewError,
    delete_view,
    get_view,
    list_views,
    rename_view,
    save_view,
)


def views_modal() -> dbc.Modal:
    """The saved-views dialog (no data)."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Saved views")),
            dbc.ModalBody(
                [
                    dbc.Label("Save the current filters as", className="small"),
                    dbc.InputGroup(
                        [
                            dbc.Input(
                                id="views-name",
                                placeholder="e.g. Retail, backdated to month end",
                                maxlength=100,
                            ),
                            dbc.Button("Save", id="views-save", color="primary"),
                        ],
                        size="sm",
                        className="mb-3",
                    ),
                    dbc.Label("Your views", className="small"),
                    dbc.InputGroup(
                        [
                            dbc.Select(
                                id="views-select", options=[], placeholder="No saved views yet"
                            ),
                            dbc.Button("Open", id="views-load", color="primary", outline=True),
                            dbc.Button(
                                "Copy link",
                                id="views-copy",
                                color="secondary",
                                outline=True,
                                n_clicks=0,
                            ),
                            dbc.Button("Delete", id="views-delete", color="danger", outline=True),
                        ],
                        size="sm",
                        className="mb-1",
                    ),
                    html.Div(
                        [
                            dbc.Input(
                                id="views-link",
                                readonly=True,
                                size="sm",
                                className="ar-views-link",
                                placeholder="The link of the chosen view appears here",
                            ),
                            html.Span(
                                id="views-copied", className="small text-success ms-1 text-nowrap"
                            ),
                        ],
                        className="d-flex align-items-center mb-2",
                    ),
                    dcc.Store(id="views-queries", data={}),
                    dbc.InputGroup(
                        [
                            dbc.Input(id="views-new-name", placeholder="New name", maxlength=100),
                            dbc.Button(
                                "Rename", id="views-rename", color="secondary", outline=True
                            ),
                        ],
                        size="sm",
                        className="mb-2",
                    ),
                    html.Div(id="views-message", className="small"),
                ]
            ),
        ],
        id="views-modal",
        is_open=False,
    )


def _options(user_id: int) -> list[dict]:
    return [{"label": name, "value": name} for name, _query in list_views(user_id)]


@cb.callback(
    Output("views-modal", "is_open"),
    Input("views-open", "n_clicks"),
    prevent_initial_call=True,
)
def open_views(n_clicks):
    """Open the dialog."""
    if not n_clicks:
        raise PreventUpdate
    return True


def _queries(user_id: int) -> dict[str, str]:
    return dict(list_views(user_id))


@cb.callback(
    Output("views-select", "options"),
    Output("views-select", "value"),
    Output("views-message", "children"),
    Output("views-queries", "data"),
    Output("views-select", "placeholder"),
    Input("views-modal", "is_open"),
    Input("views-save", "n_clicks"),
    Input("views-rename", "n_clicks"),
    Input("views-delete", "n_clicks"),
    State("views-name", "value"),
    State("views-select", "value"),
    State("views-new-name", "value"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def change_views(is_open, _save, _rename, _delete, name, selected, new_name, filters_data):
    """Save, rename or delete one of the logged-in user's views (the user comes from the server)."""
    if not is_open:
        raise PreventUpdate
    user_id = identity.user_id()
    if user_id is None or not identity.can("save_views"):
        return (
            [],
            None,
            dbc.Alert("Log in with a role that may save views.", color="warning", className="py-1"),
            {},
            "No saved views",
        )
    trigger = ctx.triggered_id
    message, value = None, selected
    try:
        if trigger == "views-save":
            query = gf.to_query(gf.validate(gf.parse_query((filters_data or {}).get("query")))[0])
            value = save_view(user_id, name, query)
            message = html.Span(f"Saved “{value}”.", className="text-success")
        elif trigger == "views-rename":
            if not selected:
                raise ViewError("Choose a view to rename.")
            value = rename_view(user_id, selected, new_name)
            message = html.Span(f"Renamed to “{value}”.", className="text-success")
        elif trigger == "views-delete":
            if not selected:
                raise ViewError("Choose a view to delete.")
            delete_view(user_id, selected)
            value, message = None, html.Span(f"Deleted “{selected}”.", className="text-success")
    except ViewError as error:
        message = html.Span(str(error), className="text-danger")
    options = _options(user_id)
    if value not in {o["value"] for o in options}:
        value = options[0]["value"] if options else None
    placeholder = "Choose a view" if options else "No saved views yet"
    return options, value, message, _queries(user_id), placeholder


@cb.callback(
    Output("url", "search", allow_duplicate=True),
    Output("views-modal", "is_open", allow_duplicate=True),
    Input("views-load", "n_clicks"),
    State("views-select", "value"),
    prevent_initial_call=True,
)
def load_view(n_clicks, selected):
    """Open a saved view: its query string goes into the URL (validated again by the shell)."""
    user_id = identity.user_id()
    if not n_clicks or not selected or user_id is None:
        raise PreventUpdate
    query = get_view(user_id, selected)
    if query is None:
        return no_update, no_update
    return query, False


cb.clientside_callback(
    """
    function(selected, queries) {
        if (!selected || !queries || !(selected in queries)) { return ""; }
        return window.location.origin + window.location.pathname + (queries[selected] || "");
    }
    """,
    Output("views-link", "value"),
    Input("views-select", "value"),
    Input("views-queries", "data"),
)

cb.clientside_callback(
    """
    function(n, link) {
        if (!n || !link) { return ""; }
        const field = document.getElementById("views-link");
        if (field) { field.select(); }
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(link).catch(function() {});
        } else {
            try { document.execCommand("copy"); } catch (e) { return "Select the link and copy it"; }
        }
        return "Copied";
    }
    """,
    Output("views-copied", "children"),
    Input("views-copy", "n_clicks"),
    State("views-link", "value"),
    prevent_initial_call=True,
)
