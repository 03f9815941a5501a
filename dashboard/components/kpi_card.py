"""KPI tiles: a title with an (i) tooltip (formula and live inputs), a value, a sub-line, a drill.

Layout (no data): `kpi_card(group, tile, title, drill=("overdue_ar", {}))`. A page fills one tile
group per callback with the outputs `body_output(group)` and `tip_output(group)` and the values of
`tile_body(...)` / tooltip text, in the order of `ctx.outputs_list`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Output, html
from dash.dependencies import Wildcard

from dashboard.components.drill import trigger_id
from dashboard.components.tips import info_tip
from dashboard.format import compact_money_text


def body_id(group: str, tile: str | Wildcard) -> dict:
    """Pattern-matching id of a tile's value area."""
    return {"type": "kpi-body", "group": group, "tile": tile}


def tip_id(group: str, tile: str | Wildcard) -> dict:
    """Pattern-matching id of a tile's tooltip."""
    return {"type": "kpi-tip", "group": group, "tile": tile}


def body_output(group: str) -> Output:
    """Output of every tile body of a group."""
    return Output(body_id(group, ALL), "children")


def tip_output(group: str) -> Output:
    """Output of every tooltip of a group."""
    return Output(tip_id(group, ALL), "children")


def kpi_card(
    group: str,
    tile: str,
    title: str,
    drill: tuple[str, dict] | None = None,
    help_text: str = "",
    drill_title: str | None = None,
    body_children: list | None = None,
) -> dbc.Card:
    """One tile; clicking its value opens the drill-down (key, params) titled drill_title.

    Without body_children it is a skeleton ("…") for a callback to fill; with them (tile_body(...)) the
    tile is drawn as it is, and help_text is the tooltip.
    """
    info_id = f"kpi-info-{tile}"
    body = html.Div(
        body_children
        if body_children is not None
        else html.Div("…", className="ar-kpi-value text-muted"),
        id=body_id(group, tile),
        className="ar-kpi-body",
    )
    if drill is not None:
        key, params = drill
        body = html.Div(
            body,
            id=trigger_id(key, drill_title or title, **params),
            n_clicks=0,
            role="button",
            tabIndex="0",
            className="ar-kpi-click",
            title="Show the rows behind this figure",
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(title, className="ar-kpi-title"),
                        *info_tip(
                            info_id,
                            help_text or title,
                            tip_id=tip_id(group, tile),
                            label=f"How {title} is computed",
                        ),
                    ],
                    className="d-flex justify-content-between align-items-start",
                ),
                body,
            ],
            className="p-2 px-3",
        ),
        className=f"ar-kpi h-100 ar-kpi-{tile}",
    )


def tile_body(value: str, sub: str | list | None = None, delta: html.Span | None = None) -> list:
    """The children of a tile's value area.

    A money value also gets its compact form ("$16.46M"), shown instead when the tile is too narrow for
    the exact one (a CSS container query); the exact value stays in the tooltip (hover, long press) and
    one tap opens the rows behind it with their exact total.
    """
    shown = money_value(value)
    if delta is not None:  # one flat list of children: the value's form(s), then the badge
        parts: list[str | html.Span] = list(shown) if isinstance(shown, list) else [shown]
        children = [html.Div([*parts, delta], className="ar-kpi-value", title=value)]
    else:
        children = [html.Div(shown, className="ar-kpi-value", title=value)]
    if sub:
        children.append(html.Div(sub, className="ar-kpi-sub"))
    return children


def money_value(value: str) -> str | list[html.Span]:
    """The exact text, or both forms (exact, compact) for CSS to choose from by the tile's width."""
    short = compact_money_text(value) if isinstance(value, str) else None
    if short is None:
        return value
    size = "lg" if len(value) >= 13 else "md"
    hidden: dict[str, Any] = {"aria-hidden": "true"}  # through **kwargs, as above
    return [
        html.Span(value, className=f"ar-money-full ar-len-{size}"),
        html.Span(short, className=f"ar-money-short ar-len-{size}", **hidden),
    ]


def delta_badge(
    current: float | None, previous: float | None, lower_is_better: bool = True, unit: str = ""
) -> html.Span | None:
    """▲/▼ with the change against the previous period, green when better, red when worse."""
    if current is None or previous is None:
        return None
    change = round(current - previous, 2)
    if change == 0:
        return html.Span(
            " ＝", className="ar-delta ar-delta-flat", title="no change against the previous period"
        )
    worse = change > 0 if lower_is_better else change < 0
    arrow = "▲" if change > 0 else "▼"
    return html.Span(
        f" {arrow} {abs(change):,.1f}{unit}",
        className=f"ar-delta {'ar-delta-worse' if worse else 'ar-delta-better'}",
        title=f"{'worse' if worse else 'better'} than the previous period ({previous:,.2f}{unit})",
    )
