"""Who may read a grid, and its rows for them: the one place the grid callbacks and the /export/grid
route ask (dashboard.views.grids holds the rows; this module adds who asks, from the server's login).

A grid is readable by a logged-in user whose role may open the page of its view (a shared grid, such
as the drill-down's, by any logged-in user); its rows also need the view's capability and the request's
(e.g. a drill key's), else the grid has no rows for them (as a source that gives nothing).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from dashboard.auth.guard import page_path
from dashboard.auth.roles import can, page_allowed
from dashboard.auth.scope import current_scope
from dashboard.metrics import cache
from dashboard.metrics import snapshot as snapshots
from dashboard.views.base import ChartRequest, View
from dashboard.views.grids import (
    GridFrame,
    Preview,
    PreviewRowsView,
    Query,
    RowsView,
    Selection,
    Who,
    grid_view,
    request_for,
    rows_view,
)
from dashboard.views.grids import source_frame as view_source_frame
from dashboard.views.grids import source_preview as view_source_preview


def _user() -> Any:
    return current_user if has_request_context() else None


def grid_page(name: str) -> str | None:
    """The page path of grid `name` (that of its view's page), None for shared grids."""
    view = grid_view(name)
    return page_path(view.page) if view is not None and view.page else None


def may_use(name: str) -> bool:
    """True when the logged-in user may read grid `name`: a grid of a view on a page their role may
    open (the grid's callbacks are shared, so the page is checked here on every request)."""
    view = grid_view(name)
    user = _user()
    if view is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    page = grid_page(name)
    return page is None or page_allowed(getattr(user, "role", None), page)


def _capable(view: View, req: ChartRequest) -> bool:
    """The view's capability and the request's (e.g. a drill key's), for the logged-in user."""
    needed = [view.capability, view.capability_for(req) if view.capability_for else None]
    return all(can(_user(), capability) for capability in needed if capability is not None)


def who() -> Who:
    """The logged-in user, their role and scope (from the server, never from the browser)."""
    user = _user()
    if user is None or not getattr(user, "is_authenticated", False):
        return Who(None, None, current_scope())
    return Who(getattr(user, "id", None), getattr(user, "role", None), current_scope())


def source_frame(
    name: str, data: Any, cached: bool = True
) -> tuple[tuple | None, GridFrame | None, Any]:
    """(cache key, the grid's frame for the logged-in user and source data, the snapshot) computed on
    the server; (None, None, None) when they may not read it or it has no rows for them."""
    if data is None or not may_use(name):
        return None, None, None
    view = grid_view(name)
    req = request_for(view, data) if view is not None else None
    if view is None or req is None or not _capable(view, req):
        return None, None, None
    snap = snapshots.get_snapshot()
    key, gf = view_source_frame(view, snap, data, who(), req, cached)
    return key, gf, snap


def source_preview(name: str, data: Any) -> tuple[tuple | None, Preview | None]:
    """(cache key, the grid's Preview for the logged-in user and source data): its first rows, count
    and totals without its whole frame; (None, None) when they may not read it or the view or the
    request has no preview (source_frame then gives the frame)."""
    if data is None or not may_use(name):
        return None, None
    view = grid_view(name)
    req = request_for(view, data) if view is not None else None
    if view is None or req is None or view.preview is None or not _capable(view, req):
        return None, None
    snap = snapshots.get_snapshot()
    return view_source_preview(view, snap, data, who(), req)


def view_for(
    name: str, data: Any, query: Query, cached: bool = True, preview: bool = False
) -> RowsView | None:
    """The matching rows of grid `name` for the logged-in user (None when they may not see it).
    preview: rows to show (never to act on), from the grid's Preview when the query keeps every row
    in the source's order."""
    if preview and cached and not query.narrows and not query.sort:
        _key, found = source_preview(name, data)
        if found is not None:
            return PreviewRowsView(found)
    key, gf, snap = source_frame(name, data, cached)
    if gf is None:
        return None
    return rows_view(gf, snap, key, query, cached)


def selected_keys(name: str, data: Any, selection: Selection, field: str) -> list[str]:
    """The keys (column `field`) of the rows ticked in grid `name` for the logged-in user: the explicit
    ones as sent (the caller checks them against the user's scope), or, for "all matching", every row
    of the grid's source data matching the selection's search and filters, computed here in the user's
    own scope by the grid's row engine (nothing when they may not read the grid)."""
    if not selection.all:
        return list(selection.ids)
    return selection.keys(view_for(name, data, selection.query), field)


def clear_cache() -> None:
    """Forget every cached result (tests; a new data version needs no call: it is in the key)."""
    cache.clear_cache()
