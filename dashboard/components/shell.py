"""The app shell: navigation by role, the global filter bar, live refresh, the drill-down modal.

Conventions for every page (read before adding one)
----------------------------------------------------
* One module per page in dashboard/pages/. Register it with a nav entry:
      dash.register_page(__name__, path="/credit", name="Credit", title="Credit utilization", nav_order=30)
  Pages with `nav_order` appear in the top bar, sorted, for the roles that
  dashboard.auth.roles.PAGE_ROLES allows on that path (the guard refuses the others anyway).
  Add `nav_group="Customers"` (or "Cash", or a new name) to file the page under a menu; pages
  without one are placed by DEFAULT_GROUPS below, else shown as a top-level link.
* `layout(**kwargs)` returns a skeleton without data (Dash calls it at start-up and for every
  visit), built from the page kit (dashboard/components/page_kit.py: `page_header`, `card`,
  `graph`, `info`). Every figure is filled by a thin callback that starts with
  `page_kit.request_context(filters_data)`; a chart declared in dashboard/views (the view registry,
  which also makes its exports) is filled by `components.views.chart_callback(graph_id, name)`.
* Global filters live in the URL query string (as_of, basis, segment, region, tier, sales_rep,
  terms_group): a copied link reproduces the view; nav links keep the query string. The shell
  validates them into Store "filters"; every page callback takes
      Input("filters", "data"), Input("data-version", "data")
  and reads `as_of, basis, filters = dashboard.params.parse(filters_data)`.
  Store "data-version" changes only when the database's data version does (polled every
  AR_REFRESH_SECONDS), so callbacks recompute only on a filter change or new data.
* Identity only from the server: `dashboard.components.identity.scope()` in every callback that
  reads data, `identity.can("edit_notes")` before any write. Never from a store or the URL.
* Metrics through the cached entry points of the metrics layer (`metrics.service`,
  `metrics.drill`, `metrics.commissions.cached_*`, `metrics.predict_ui`), all in the one cache
  `dashboard.metrics.cache` (keyed by data version, scope, filters and as-of); a new figure gets its
  entry point there (`cached(fn, maxsize=...)`), never a cache of its own in the page.
* Figures from dashboard/figures: pure builders returning plain figure dicts (see figures/base.py:
  `figure()`, `empty_figure()`; a validated go.Figure costs ~60 ms of Python per build), always
  with an empty state; money through `dashboard.format.money(cents_or_str, currency)`.
* Tables: `dashboard.components.grid.data_grid(name)` on the page, its rows a table view declared
  in dashboard/views with `grid=name` (dashboard/views/grids.py); the browser asks the server for blocks of rows (infinite row model); sort, filters, search, totals
  and CSV/XLSX exports cover every row on the server.
* Drill-downs: `Output(drill.relay_id(page), "data")` (and `drill.relay(page)` in the layout)
  returning `dashboard.components.drill.request(key, title, **params)`, or a clickable element with id
  `drill.trigger_id(key, title, **params)`. Customer cells link to /customers/<customer_id>.
* Page-local ids are prefixed with the page name ("rh-", "acct-", ...); the shell owns "url",
  "nav", "filters", "data-version", "drill-request", "drill-*", "views-*", "gf" ids.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import has_request_context

from dashboard import params
from dashboard.auth.roles import page_allowed as allowed
from dashboard.auth.views import csrf_token
from dashboard.components import callbacks as cb
from dashboard.components import drill, identity, saved_views
from dashboard.components import filters as gf
from dashboard.components.page_container import first_page, page_container
from dashboard.config import get_settings
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.service import filter_options
from dashboard.views.warm import add_page_step

HIDDEN_FROM_READERS: dict[str, Any] = {"aria-hidden": "true"}


def shell_layout() -> html.Div:
    """The outer layout around every page: for a logged-in user's page load, with the version, the
    filter choices and the page itself drawn (page_container); otherwise a skeleton."""
    refresh_ms = max(get_settings().refresh_seconds, 2) * 1000
    logged_in = _logged_in_request()
    first = first_page() if logged_in else None
    # the address the page was loaded at, known from the layout request (page_container): the shell's
    # Location starts there, so it changes nothing when it mounts and only sync_filters runs
    pathname, search = (first[0], first[1]) if first is not None else (None, None)
    filters = _first_filters(search) if search is not None else None
    address = {"pathname": pathname, "search": search} if first is not None else {}
    return html.Div(
        [
            dcc.Location(id="url", refresh=False, **address),
            dcc.Location(id="nav", refresh="callback-nav"),
            dcc.Store(id="filters", data=filters),
            dcc.Store(id="data-version", data=_version_for_layout()),
            dcc.Store(id="drill-request"),
            dcc.Interval(id="refresh-interval", interval=refresh_ms, n_intervals=0),
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand("AR Dashboard", href="/", className="fw-semibold"),
                        dbc.NavbarToggler(id="nav-toggle", n_clicks=0, className="ar-nav-toggle"),
                        dbc.Collapse(
                            [
                                dbc.Nav(
                                    nav_items(pathname, filters["query"]) if filters else None,
                                    id="nav-links",
                                    navbar=True,
                                    className="me-auto",
                                ),
                                html.Span(
                                    id="live-status",
                                    className="navbar-text small me-3 ar-live",
                                    title="Figures refresh by themselves when the data changes",
                                ),
                                html.Div(
                                    user_menu(pathname, filters) if logged_in else None,
                                    id="user-menu",
                                    className="d-flex align-items-center gap-2 ar-user-menu",
                                ),
                            ],
                            id="nav-collapse",
                            is_open=False,
                            navbar=True,
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                expand="lg",
                className="py-1 ar-navbar",
            ),
            dbc.Container(
                [
                    _with_choices(gf.filter_panel(), filters),
                    html.Div(id="filter-alert"),
                    html.Main(page_container(first), className="ar-page"),
                ],
                fluid=True,
                className="pt-2 pb-4",
            ),
            drill.drill_modal(),
            saved_views.views_modal(),
            # assets/grid_warm.js mounts a hidden grid here once the first page is idle
            html.Div(id="ar-grid-warm", className="ar-grid-warm", **HIDDEN_FROM_READERS),
        ]
    )


# ---- filters <-> URL -------------------------------------------------------------------------------


def _logged_in_request() -> bool:
    """Inside a request of a logged-in user (layouts are also built at start-up and in tests)."""
    return has_request_context() and identity.username() is not None


def select_options(options: dict, name: str) -> list[dict]:
    """A select's choices: All, then the values in the user's scope."""
    return [{"label": "All", "value": params.ALL_VALUE}] + [
        {"label": label, "value": value} for value, label in options.get(name, [])
    ]


def _with_choices(panel, filters: dict | None = None):
    """The filter panel with its selects' choices filled for the logged-in user (the layout is built per
    page load), so the first render needs no filter_choices round trip, and with the controls showing
    the first page's filters when known; a skeleton outside a request."""
    if not _logged_in_request():
        return panel
    options = _options()
    for component in panel._traverse():
        key = getattr(component, "id", None)
        if key == "filters-summary" and filters is not None:
            component.children = params.describe(filters, options)  # as filters_summary
        if not (isinstance(key, dict) and key.get("type") == "gf"):
            continue
        if key.get("kind") == "select":
            component.options = select_options(options, key["name"])
        if key.get("kind") == "date":
            component.max = dt.date.today().isoformat()  # no future as-of dates (as_of_bounds)
        if filters is not None:
            component.value = gf.control_value(key["name"], filters)
    return panel


def _first_filters(search: str) -> dict | None:
    """Store "filters" as sync_filters will fill it for the first page's address, so it finds the store
    unchanged and nothing that listens to it runs again; None when a value is refused (sync_filters
    then rewrites the address and says why)."""
    clean, messages = _validated(params.parse_query(search))
    if messages:
        return None
    return params.store_data(clean, params.to_query(clean))


def _validated(raw: Mapping[str, str | None]) -> tuple[dict, list[str]]:
    """Clean filter values and the messages for refused ones, against the user's scope and choices."""
    scope = identity.scope()
    return params.validate(raw, _options(), scope_label=None if scope.unrestricted else scope.label)


def _options() -> dict:
    """The allowed filter choices in the current user's scope."""
    return filter_options(snapshots.get_snapshot(), identity.scope())


def _warm_options(snap, req) -> None:
    """The filter bar's choices in the unrestricted scope, as _options asks for them on a first render
    (the snapshot's warm-up, dashboard/views/warm.py)."""
    filter_options(snap, req.scope)


add_page_step("receivables", _warm_options)


def _alert(messages: list[str]):
    if not messages:
        return None
    return dbc.Alert(
        [html.Strong("Some filters were not understood. "), *[html.Div(m) for m in messages]],
        color="warning",
        dismissable=True,
        className="py-2 small ar-filter-message",
    )


def _query_value(value: object) -> str | None:
    """One query parameter as Dash pages passes it to a layout: a text, or a list of the texts of a
    repeated parameter (the first counts); None for anything else."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def filters_for_layout(query: Mapping[str, object] | None) -> dict | None:
    """The Store "filters" data sync_filters will produce for a page's query parameters (as Dash pages
    passes them to `layout(**query)`), so a page can draw its figures in its layout instead of waiting
    for a callback round trip; None outside a logged-in request (start-up validation, tests)."""
    if not _logged_in_request():
        return None
    raw = {k: _query_value(v) for k, v in (query or {}).items() if k in params.FILTER_KEYS}
    clean, _messages = _validated(raw)
    return params.store_data(clean, params.to_query(clean))


def fill_stores(tree, data: dict) -> None:
    """Set the data of Stores inside a layout tree, by id (e.g. a grid's source, so the grid fills itself
    as soon as the page arrives instead of after a callback round trip)."""
    for component in tree._traverse():
        key = getattr(component, "id", None)
        key = json_key(key) if isinstance(key, dict) else key
        if key in data and isinstance(component, dcc.Store):
            # Dash sets a component's props in __init__: its generated classes declare none of them
            component.data = data[key]  # type: ignore[attr-defined]


def json_key(component_id: dict) -> str:
    """A pattern-matching id as one hashable key."""
    return json.dumps(component_id, sort_keys=True)


@cb.callback(
    Output("url", "search"),
    Output(gf.control_id(ALL, ALL), "value"),
    Output("filters", "data"),
    Output("filter-alert", "children"),
    Input("url", "search"),
    Input(gf.control_id(ALL, ALL), "value"),
    Input("filters-reset", "n_clicks"),
    State("filters", "data"),
)
def sync_filters(search, values, _reset, current):
    """URL -> validated filters and controls; a control change -> URL (one callback: no cycle)."""
    names = [item["id"]["name"] for item in ctx.outputs_list[1]]
    trigger = ctx.triggered_id
    extra = {k: v for k, v in params.parse_query(search).items() if k not in params.FILTER_KEYS}
    from_controls = isinstance(trigger, dict) and trigger.get("type") == "gf"
    if from_controls:
        raw = dict(zip(names, values, strict=True))
    elif trigger == "filters-reset":
        raw = {}
    else:
        raw = params.parse_query(search)
    clean, messages = _validated(raw)
    query = params.to_query(clean, extra)
    # a control change, a reset, or a refused value in the address: the address shows what applies
    rewrite = from_controls or trigger == "filters-reset" or bool(messages)
    url_out = query if rewrite and query != (search or "") else no_update
    store = params.store_data(clean, params.to_query(clean))
    # the address was just rewritten to what applies: keep the message that explained why
    same = trigger == "url" and not messages and store == current
    shown = dict(zip(names, values, strict=True))
    return (
        url_out,
        # only controls whose value changes: re-setting the rep select re-renders its thousands of options
        [
            no_update
            if shown.get(name) == gf.control_value(name, clean)
            else gf.control_value(name, clean)
            for name in names
        ],
        store if store != current else no_update,
        no_update if same else _alert(messages),
    )


@cb.callback(
    Output(gf.control_id(ALL, "select"), "options"),
    Input("data-version", "data"),
    prevent_initial_call=True,  # the layout has them (_with_choices); new data may bring new values
)
def filter_choices(_version):
    """Fill the attribute selects with the values in the user's scope."""
    options = _options()
    return [select_options(options, item["id"]["name"]) for item in ctx.outputs_list]


@cb.callback(
    Output(gf.control_id("as_of", "date"), "max"),
    Input("data-version", "data"),
    prevent_initial_call=True,  # the layout has it (_with_choices); a new day brings new data
)
def as_of_bounds(_version):
    """No future as-of dates in the picker."""
    return dt.date.today().isoformat()


# ---- navigation, user, live status -------------------------------------------------------------


# Menus of the top bar. A page joins one with dash.register_page(..., nav_group="Customers"); pages
# that say nothing are placed by path here, anything else is a top-level link.
NAV_GROUPS = ("Customers", "Cash")
DEFAULT_GROUPS = {
    "/aging": "Customers",
    "/credit": "Customers",
    "/reliability": "Customers",
    "/value": "Customers",
    "/invoices": "Cash",
    "/collections": "Cash",
    "/forecast": "Cash",
    "/disputes": "Cash",
}
GROUP_PREFIXES = {"Customers": ("/customers/",)}  # Account 360 lights up the Customers menu


def nav_pages() -> list[dict]:
    """Registered pages that want a nav entry, in nav order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav_order") is not None]
    return sorted(pages, key=lambda p: (p["nav_order"], p["path"]))


def page_allowed(path: str) -> bool:
    """True when the logged-in user's role may open the page."""
    return allowed(identity.role(), path)


def _is_active(path: str, pathname: str | None) -> bool:
    pathname = pathname or "/"
    return pathname == path or (path != "/" and pathname.startswith(path + "/"))


def nav_items(pathname: str | None, query: str) -> list:
    """Top-level links and group menus, only with pages the user's role may open."""
    entries: list[tuple[str | None, dict]] = []
    for page in nav_pages():
        if page_allowed(page["path"]):
            entries.append((page.get("nav_group") or DEFAULT_GROUPS.get(page["path"]), page))
    items, placed = [], set()
    for group, page in entries:
        if group is None:
            items.append(
                dbc.NavItem(
                    dbc.NavLink(
                        page["name"],
                        href=page["path"] + query,
                        active=_is_active(page["path"], pathname),
                        className="ar-nav-link",
                    )
                )
            )
        elif group not in placed:
            placed.add(group)
            members = [p for g, p in entries if g == group]
            active = any(_is_active(p["path"], pathname) for p in members) or any(
                (pathname or "").startswith(prefix) for prefix in GROUP_PREFIXES.get(group, ())
            )
            items.append(
                dbc.DropdownMenu(
                    [
                        dbc.DropdownMenuItem(
                            p["name"],
                            href=p["path"] + query,
                            active=_is_active(p["path"], pathname),
                        )
                        for p in members
                    ],
                    label=group,
                    nav=True,
                    in_navbar=True,
                    toggleClassName="ar-nav-link" + (" active" if active else ""),
                    id=f"nav-group-{group.lower()}",
                )
            )
    return items


@cb.callback(
    Output("nav-links", "children"),
    Input("url", "pathname"),
    Input("filters", "data"),
    prevent_initial_call=True,  # the layout has them (shell_layout) or the address sets them on mount
)
def nav_links(pathname, filters_data):
    """Links to the pages the user's role may open, carrying the filters' query string."""
    return nav_items(pathname, (filters_data or {}).get("query") or "")


def subscribe_href(pathname: str | None, filters_data: Mapping | None) -> str:
    """The Subscribe button opens the subscriptions page pre-filled with this page and its filters
    (not the as-of date: a subscription is for the figures as of each sending)."""
    path = pathname if isinstance(pathname, str) and pathname.startswith("/") else "/"
    if path.startswith("/subscriptions") or path.startswith("/admin"):
        return "/subscriptions"
    pairs = [
        (k, v)
        for k, v in parse_qsl(((filters_data or {}).get("query") or "").lstrip("?"))
        if k != "as_of"
    ]
    return "/subscriptions?" + urlencode({"page": path + ("?" + urlencode(pairs) if pairs else "")})


@cb.callback(
    Output("subscribe-here", "href"),
    Input("url", "pathname"),
    Input("filters", "data"),
    prevent_initial_call=True,  # as nav_links
)
def subscribe_here(pathname, filters_data):
    """Keep the Subscribe button on the current page and filters."""
    return subscribe_href(pathname, filters_data)


def user_menu(pathname: str | None, filters_data: Mapping | None) -> list | None:
    """Who is logged in, with a log-out button (a POST form with the CSRF token to the Flask route);
    in the layout, which is built for each logged-in page load."""
    name = identity.username()
    if name is None:
        return None
    return [
        dbc.Button(
            "Subscribe",
            id="subscribe-here",
            href=subscribe_href(pathname, filters_data),
            size="sm",
            color="light",
            outline=True,
            title="Get this page with its filters by email (dashboard/pages/subscriptions.py)",
        ),
        html.Span(
            [name, html.Span(f" · {identity.role() or ''}", className="text-white-50")],
            className="navbar-text small ar-user",
        ),
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf_token", value=csrf_token(), id="logout-csrf"),
                dbc.Button(
                    "Log out",
                    type="submit",
                    id="logout-button",
                    size="sm",
                    color="light",
                    outline=True,
                ),
            ],
            action="/logout",
            method="post",
            className="m-0",
        ),
    ]


@cb.callback(
    Output("data-version", "data"),
    Input("refresh-interval", "n_intervals"),
    State("data-version", "data"),
    # the layout holds the version (_version_for_layout): a first call would only answer no_update,
    # and Dash would then skip every initial callback that listens to the store (the live status)
    prevent_initial_call=True,
)
def poll_data_version(_n, current):
    """Store the data version (cheap); it changes only when the data does, so pages recompute then."""
    snap = snapshots.get_snapshot()
    if current and current.get("version") == snap.version:
        return no_update
    return version_data(snap)


def version_data(snap) -> dict:
    """What the data-version store holds: the version and when this process loaded it."""
    loaded = dt.datetime.fromtimestamp(snap.loaded_at).strftime("%H:%M:%S")
    return {"version": snap.version, "loaded": loaded}


def _version_for_layout() -> dict | None:
    """The data version in the layout of a logged-in page load, so the first poll finds it unchanged
    and nothing that listens to it (the filter choices, the as-of bounds, every page's figures)
    is sent a second time; None outside a request."""
    if not _logged_in_request():
        return None
    return version_data(snapshots.get_snapshot())


cb.clientside_callback(
    """
    function(data) {
        if (!data) { return ""; }
        return "● Live · v" + data.version;
    }
    """,
    Output("live-status", "children"),
    Input("data-version", "data"),
)


# ---- small screens: the menu button and the filters panel ---------------------------------------

cb.clientside_callback(
    """
    function(clicks, pathname, isOpen) {
        const trigger = (dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
        if (trigger.startsWith("nav-toggle")) { return !isOpen; }
        return false;  // a page change closes the menu
    }
    """,
    Output("nav-collapse", "is_open"),
    Input("nav-toggle", "n_clicks"),
    Input("url", "pathname"),
    State("nav-collapse", "is_open"),
)

cb.clientside_callback(
    """
    function(openClicks, closeClicks, backdropClicks, pathname) {
        const trigger = (dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
        const open = trigger.startsWith("filters-open");
        return [open ? "offcanvas-lg offcanvas-end show ar-filter-panel" : "offcanvas-lg offcanvas-end ar-filter-panel",
                open ? "ar-filter-backdrop show" : "ar-filter-backdrop"];
    }
    """,
    Output("filters-panel", "className"),
    Output("filters-backdrop", "className"),
    Input("filters-open", "n_clicks"),
    Input("filters-close", "n_clicks"),
    Input("filters-backdrop", "n_clicks"),
    Input("url", "pathname"),
)


@cb.callback(
    Output("filters-summary", "children"),
    Input("filters", "data"),
    prevent_initial_call=True,  # the layout has it when it knows the filters; else the store changes
)
def filters_summary(filters_data):
    """The filters in one line beside the Filters button on small screens (rep names, not ids)."""
    if not filters_data:
        return ""
    return params.describe(filters_data, _options())
