"""The Dash side of the view registry (dashboard/views): a chart's graph filled by a generic callback.
(A grid's rows come from its table view through the shared grid callbacks: components.grid.)

    top_reps = chart_callback("com-top-reps", "commissions_top_reps", __name__)    # in a page module

It takes the page module's `__name__`: the login guard checks a callback's page (the roles that may
open it) by the module that defined it, so the generic callback is attributed to the page that shows it.

The callback redraws the figure on a filter or data change, from the view's own builder (the same
one the PNG/CSV/XLSX export uses), in the user's scope, with the view's capability checked.
Page modules call it at import, as they declare their own callbacks (`dash.callback`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash
from dash import Input, Output
from dash.exceptions import PreventUpdate

from dashboard import params as gf
from dashboard.components.page_kit import request_context
from dashboard.views import VIEWS, ChartRequest


def chart_figure(
    view_name: str,
    filters_data: Any,
    options: tuple[tuple[str, str], ...] = (),
    customer_id: str | None = None,
) -> dict:
    """The figure of a chart view for the filters of a request (and the customer of an Account 360
    view); no update without filters, access or (Account 360) a customer in scope."""
    view = VIEWS[view_name]
    c = request_context(filters_data, view.capability)
    req = ChartRequest(
        c.as_of, c.basis, gf.PERIOD_DAYS, c.filters, c.scope, customer_id, options=options
    )
    chart = view.chart(c.snap, req)
    if chart is None:
        raise PreventUpdate
    return chart.figure


def chart_callback(
    graph_id: str,
    view_name: str,
    page: str,
    options: Mapping[str, str] | None = None,
    triggers: Sequence[tuple[str, str]] = (),
) -> Callable[..., dict]:
    """Fill graph `graph_id` with view `view_name` on `filters` and `data-version`; the callback,
    attributed to the page module `page` (its __name__) so the guard checks that page's roles.
    `options`: the view's page-local choices (option name -> id of the control whose value it is);
    a value the view does not allow is left out, so the view's default applies. `triggers`: further
    (id, property) inputs that only redraw (e.g. a store a save on the page writes)."""
    view = VIEWS[view_name]
    if view.kind != "chart":
        raise ValueError(f"view {view_name!r} is not a chart")
    controls = dict(options or {})
    if unknown := set(controls) - set(view.options):
        raise ValueError(f"view {view_name!r} has no options {sorted(unknown)}")

    def fill(filters_data: Any, _version: Any, *values: Any) -> dict:
        chosen = tuple(
            (name, value)
            for name, value in zip(controls, values[: len(controls)], strict=True)
            if gf.option_allowed(view.options[name], value)
        )
        return chart_figure(view_name, filters_data, chosen)

    fill.__name__ = fill.__qualname__ = f"fill_{view_name}"
    fill.__module__ = page
    fill.__doc__ = f"The {view.title} chart (view {view_name!r})."
    dash.callback(
        Output(graph_id, "figure"),
        Input("filters", "data"),
        Input("data-version", "data"),
        *(Input(control, "value") for control in controls.values()),
        *(Input(component, prop) for component, prop in triggers),
    )(fill)
    return fill
