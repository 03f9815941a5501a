"""The Dash side of the view registry (dashboard/views): a chart's graph filled by a generic callback.
(A grid's rows come from its table view through the shared grid callbacks: components.grid.)

    top_reps = chart_callback("com-top-reps", "commissions_top_reps", __name__)    # in a page module

It takes the page module's `__name__`: the login guard checks a callback's page (the roles that may
open it) by the module that defined it, so the generic callback is attributed to the page that shows it.

The callback redraws the figure on a filter or data change, from the view's own builder (the same
one the PNG/CSV/XLSX export uses), in the user's scope, with the view's capability checked.
Page modules call it at import, as they declare their own callbacks (`dash.callback`).

The first drawing comes with the page: `prefill_chart_pages` (create_app) wraps the layout of every
page that has such charts, so the layout built for the address's filters already holds each
chart's figure (the same builder, cache entry and checks), and the callback fires only on a later
filter, option or data change (prevent_initial_call). A page change is then one response to render
instead of one round trip and one renderer update per chart. A page's own callbacks on the filters
and the data version (captions, summaries) do the same with `@page_callback(Output(...), ...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any

import dash
from dash import Input, Output, State, dcc
from dash.exceptions import PreventUpdate

from dashboard import params as gf
from dashboard.components.page_kit import request_context
from dashboard.components.shell import filters_for_layout, version_data
from dashboard.metrics import snapshot as snapshots
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
        return chart_figure(view_name, filters_data, _chosen(view_name, controls, values))

    fill.__name__ = fill.__qualname__ = f"fill_{view_name}"
    fill.__module__ = page
    fill.__doc__ = f"The {view.title} chart (view {view_name!r})."
    dash.callback(
        Output(graph_id, "figure"),
        Input("filters", "data"),
        Input("data-version", "data"),
        *(Input(control, "value") for control in controls.values()),
        *(Input(component, prop) for component, prop in triggers),
        prevent_initial_call=True,  # the page's layout holds the first figure (prefill_chart_pages)
    )(fill)
    CHARTS[graph_id] = (view_name, controls)
    CHART_PAGES.add(page)
    return fill


# graph id -> (view name, option name -> control id); the page modules that have such charts
CHARTS: dict[str, tuple[str, dict[str, str]]] = {}
CHART_PAGES: set[str] = set()
# page module -> {function name: (outputs, function, extra inputs and states)} of its page_callbacks
FILLS: dict[
    str, dict[str, tuple[tuple[Output, ...], Callable[..., Any], tuple[Input | State, ...]]]
] = {}


def page_callback(
    *outputs: Output, extra: Sequence[Input | State] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@page_callback(Output(...), ...)` on `def f(filters_data, _version, *extra_values)`: a page
    callback on the filters and the data version whose first values come in the page's layout (like
    the charts: prefill_chart_pages), so it fires only on a later filter or data change. `extra`:
    the page's own controls it also reads (Input) or keeps (State), taken from the layout's values
    when it is prefilled."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        dash.callback(
            *outputs,
            Input("filters", "data"),
            Input("data-version", "data"),
            *extra,
            prevent_initial_call=True,  # the page's layout holds its first values
        )(func)
        FILLS.setdefault(func.__module__, {})[func.__qualname__] = (outputs, func, tuple(extra))
        return func

    return decorate


def _chosen(
    view_name: str, controls: Mapping[str, str], values: Sequence[Any]
) -> tuple[tuple[str, str], ...]:
    """The view's options from its controls' values; a value it does not allow is left out."""
    options = VIEWS[view_name].options
    return tuple(
        (name, value)
        for name, value in zip(controls, values[: len(controls)], strict=True)
        if gf.option_allowed(options[name], value)
    )


def by_id(tree: Any) -> dict[str, Any]:
    """The components of a layout tree with a text id, by id."""
    return {c.id: c for c in tree._traverse() if isinstance(getattr(c, "id", None), str)}


def prefill_charts(components: Mapping[str, Any], filters_data: Any) -> None:
    """Draw every registered chart among a page's components (by_id) for filters_data, with the
    options its controls start with (a chart the user may not see, or without data, stays empty as
    its callback would leave it)."""
    for graph_id, component in components.items():
        if not isinstance(component, dcc.Graph) or graph_id not in CHARTS:
            continue
        view_name, controls = CHARTS[graph_id]
        values = [getattr(components.get(c), "value", None) for c in controls.values()]
        try:
            figure = chart_figure(view_name, filters_data, _chosen(view_name, controls, values))
        except PreventUpdate:
            continue
        component.figure = figure  # type: ignore[attr-defined]  # Dash sets props in __init__


def prefill_outputs(components: Mapping[str, Any], module: str, filters_data: Any) -> None:
    """Set the outputs of the page module's page_callbacks among its components (by_id), as the
    callbacks would on the first render (one that raises PreventUpdate leaves its outputs as they
    are)."""
    fills = FILLS.get(module)
    if not fills:
        return
    version = version_data(snapshots.get_snapshot())
    for (
        outputs,
        func,
        extra,
    ) in fills.values():  # in definition order: a later one reads earlier outputs
        values = [
            getattr(components.get(str(d.component_id)), d.component_property, None) for d in extra
        ]
        try:
            result = func(filters_data, version, *values)
        except PreventUpdate:
            continue
        values = [result] if len(outputs) == 1 else list(result)
        for output, value in zip(outputs, values, strict=True):
            component = components.get(str(output.component_id))
            if component is not None and value is not dash.no_update:
                setattr(component, output.component_property, value)


def _prefilled(module: str, layout: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(layout)
    def build(**query: Any) -> Any:
        tree = layout(**query)
        filters_data = filters_for_layout(query)
        if filters_data is not None and hasattr(tree, "_traverse"):
            components = by_id(tree)
            # outputs first: a chart may draw with a control a page_callback sets (a backtest date)
            prefill_outputs(components, module, filters_data)
            prefill_charts(components, filters_data)
        return tree

    build.ar_prefilled = True  # type: ignore[attr-defined]
    return build


def prefill_chart_pages() -> None:
    """Wrap the layout of every registered page with chart callbacks or page_callbacks so it fills
    them itself (once per page)."""
    for module, page in dash.page_registry.items():
        layout = page.get("layout")
        wanted = module in CHART_PAGES or module in FILLS
        if wanted and callable(layout) and not getattr(layout, "ar_prefilled", False):
            page["layout"] = _prefilled(module, layout)
