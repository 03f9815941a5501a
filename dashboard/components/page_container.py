"""Dash pages' container, holding the first page already drawn.

`dash.page_container` starts empty: its Location sets its pathname when it mounts, and Dash's router
callback then builds the page, one more round trip and one more render after the shell's layout.
Here the layout request (`/_dash-layout`, sent from the page itself, so its Referer is the page's
address; `Referrer-Policy: same-origin`) builds the page the router would build, for the same path
and query, and gives the Location that pathname and search: the Location sees nothing to change when
it mounts, so the router does not run until the user navigates.

Only for a logged-in user whose role may open that page (the router's own callback is checked by the
guard the same way). Without a usable Referer the container is Dash's, empty. Should the Referer
ever name another address than the browser shows (a browser that trims it), assets/first_page.js
sees the mismatch and lets the Location report the real address, so the router draws the right page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import dash
from dash import dcc, html
from dash._pages import _parse_query_string, _path_to_page  # the router's own matching
from flask import request

from dashboard.components import identity

# Dash's ids for the pages machinery (dash.dash._ID_*): the router's callback outputs and inputs
LOCATION, CONTENT, STORE, DUMMY = (
    "_pages_location",
    "_pages_content",
    "_pages_store",
    "_pages_dummy",
)


def first_page() -> tuple[str, str, Any, dict] | None:
    """(pathname, search, layout, store data) of the page the layout request comes from; None when
    there is none to draw (no request or user, no same-site Referer, an unknown or refused page)."""
    from dashboard.auth.roles import page_allowed

    if identity.username() is None or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc != request.host or not parts.path:
        return None
    app = dash.get_app()
    page, variables = _path_to_page(app.strip_relative_path(parts.path))
    if not page or not page_allowed(identity.role(), parts.path):
        return None
    search = "?" + parts.query if parts.query else ""
    layout = page.get("layout", "")
    if callable(layout):
        layout = layout(**{**(variables or {}), **_parse_query_string(search)})
    title = page["title"]
    if callable(title):
        title = title(**(variables or {}))
    return parts.path, search, layout, {"title": title}


def page_container(found: tuple[str, str, Any, dict] | None) -> html.Div:
    """Dash's page container (same ids, so its router keeps working), with the first page inside
    when the layout request names one (first_page)."""
    if found is None:
        return dash.page_container
    pathname, search, layout, store = found
    # hyphenated HTML attributes go to Dash components through **kwargs (typed Any there);
    # assets/first_page.js compares it with the address the browser shows
    drawn_for: dict[str, Any] = {"data-first-page": pathname + search}
    return html.Div(
        [
            dcc.Location(id=LOCATION, refresh="callback-nav", pathname=pathname, search=search),
            html.Div(
                layout,
                id=CONTENT,
                disable_n_clicks=True,
                **drawn_for,
            ),
            dcc.Store(id=STORE, data=store),
            html.Div(id=DUMMY, disable_n_clicks=True),
        ]
    )
