"""The filter bar: the controls of the global filters (layout only; its callbacks live in the shell).

The filters themselves (keys, labels, defaults, limits, validation, parsing, description) are the
request vocabulary in `dashboard.params`; this module only lays out a control per key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html
from dash.dependencies import Wildcard

from dashboard.params import ALL_LABELS, ALL_VALUE, BASES, BASIS_LABELS, FILTER_PARAMS, LABELS

# ---- the filter bar (layout only; callbacks live in the shell) ---------------------------------


def control_id(name: str | Wildcard, kind: str | Wildcard) -> dict:
    """Pattern-matching id of a filter control (kind: 'date', 'radio' or 'select')."""
    return {"type": "gf", "name": name, "kind": kind}


def control_value(name: str, clean: Mapping[str, str | None]) -> str:
    """What a control shows for clean filter values (selects show ALL_VALUE for no filter)."""
    value = clean.get(name)
    if value:
        return value
    return ALL_VALUE if name in FILTER_PARAMS else ""


def _select(name: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(LABELS[name], className="ar-filter-label"),
            dbc.Select(
                id=control_id(name, "select"),
                options=[{"label": "All", "value": ALL_VALUE}],
                value=ALL_VALUE,
                size="sm",
                className="ar-filter-select",
                # dbc's hidden placeholder option is never an empty line
                placeholder=ALL_LABELS[name],
            ),
        ],
        className="ar-filter",
    )


def filter_panel() -> html.Div:
    """The filter bar; below 992 px it moves into an off-canvas panel opened by a Filters button."""
    toggle = html.Div(
        [
            dbc.Button(
                [html.Span("☰ ", className="me-1"), "Filters"],
                id="filters-open",
                n_clicks=0,
                size="sm",
                color="primary",
                outline=True,
                className="text-nowrap",
            ),
            html.Span(id="filters-summary", className="small text-muted ar-filters-summary"),
        ],
        className="d-flex d-lg-none align-items-center gap-2 ar-filter-toggle",
    )
    # hyphenated HTML attributes go to Dash components through **kwargs (typed Any there)
    close_label: dict[str, Any] = {"aria-label": "Close"}
    panel = html.Div(
        [
            html.Div(
                [
                    html.H2("Filters", className="h6 mb-0 offcanvas-title"),
                    html.Button(
                        className="btn-close",
                        id="filters-close",
                        n_clicks=0,
                        **close_label,
                    ),
                ],
                className="offcanvas-header d-lg-none py-2",
            ),
            html.Div(filter_bar(), className="offcanvas-body p-lg-0 d-block"),
        ],
        id="filters-panel",
        className="offcanvas-lg offcanvas-end ar-filter-panel",
        tabIndex="-1",
    )
    backdrop = html.Div(id="filters-backdrop", n_clicks=0, className="ar-filter-backdrop")
    return html.Div([toggle, panel, backdrop], className="ar-filter-wrap")


def filter_bar() -> html.Div:
    """As-of date, aging basis, attribute selects, reset and saved views (no data)."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label(LABELS["as_of"], className="ar-filter-label"),
                    # text, not type=date: the browser would show its locale's format (11/29/2026)
                    dbc.Input(
                        id=control_id("as_of", "date"),
                        type="text",
                        size="sm",
                        debounce=800,
                        placeholder="YYYY-MM-DD",
                        pattern=r"\d{4}-\d{2}-\d{2}",
                        maxLength=10,
                        inputMode="numeric",
                        className="ar-filter-date",
                    ),
                ],
                className="ar-filter",
            ),
            html.Div(
                [
                    dbc.Label(LABELS["basis"], className="ar-filter-label"),
                    dbc.RadioItems(
                        id=control_id("basis", "radio"),
                        options=[{"label": BASIS_LABELS[b], "value": b} for b in BASES],
                        value="due",
                        inline=True,
                        className="btn-group btn-group-sm ar-basis",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="ar-filter",
            ),
            *(_select(name) for name in FILTER_PARAMS),
            html.Div(
                [
                    dbc.Button(
                        "Reset", id="filters-reset", size="sm", color="link", className="px-1"
                    ),
                    dbc.Button(
                        "Views",
                        id="views-open",
                        title="Saved views: save, open, rename, delete",
                        size="sm",
                        color="secondary",
                        outline=True,
                    ),
                ],
                className="ar-filter ar-filter-actions",
            ),
        ],
        className="ar-filter-bar",
        id="filter-bar",
    )
