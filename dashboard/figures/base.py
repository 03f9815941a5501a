"""Shared look of every figure, and the empty state.

Builders return plain plotly figure dicts ({"data": [...], "layout": {...}}): dcc.Graph, kaleido and
plotly.io take them as they are, and building one costs microseconds, where a validated
plotly.graph_objects.Figure with a template costs ~60 ms of GIL-bound Python per figure.
"""

from __future__ import annotations

import math
from typing import Any

Figure = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
GRID = "#e9ecef"
TEXT = "#212529"
MUTED = "#6c757d"
BLUE = "#0d6efd"
SALES = "#0d6efd"
COLLECTIONS = "#198754"
EMPTY_TEXT = "No invoices match these filters"
TOP_MARGIN = 30  # room for the hover mode bar above the plot area
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": "hover",
    # images come from the stamped Export menu, not plotly's camera
    "modeBarButtons": [["resetScale2d"]],
}


def nice_step(raw: float) -> float:
    """The smallest round step (1, 2, 2.5 or 5 × 10^k) at or above raw: 77 -> 100, 0.3 -> 0.5, 12 -> 20."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power


def count_step(top: float, ticks: int = 4) -> int:
    """A whole, round tick step so that `ticks` steps reach top (for axes of counts: 1, 2, 5, 10, 20, 25, 50...)."""
    step = nice_step(max(float(top), 1.0) / ticks)
    return max(1, int(math.ceil(step)))


def axis(**settings: Any) -> dict:
    """An axis with the house style (quiet grid, no zero line, room for its labels)."""
    return {"gridcolor": GRID, "zeroline": False, "automargin": True, "linecolor": GRID, **settings}


def layout(height: int = 300, **settings: Any) -> dict:
    """A layout with the house style: white, system font, tight margins."""
    base: dict[str, Any] = {
        "height": height,
        "font": {"family": FONT, "size": 12, "color": TEXT},
        "margin": {"l": 8, "r": 8, "t": TOP_MARGIN, "b": 8},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "hoverlabel": {"font": {"family": FONT, "size": 12}},
        "separators": ".,",
        "xaxis": axis(),
        "yaxis": axis(),
    }
    for key in ("xaxis", "yaxis"):
        if key in settings:
            settings[key] = {**base[key], **settings[key]}
    return {**base, **settings}


def figure(data: list[dict], height: int = 300, **settings: Any) -> Figure:
    """A figure dict."""
    return {"data": data, "layout": layout(height, **settings)}


def empty_figure(message: str = EMPTY_TEXT, height: int = 300) -> Figure:
    """A blank figure that says why it is blank."""
    note = {
        "text": message,
        "showarrow": False,
        "x": 0.5,
        "y": 0.5,
        "xref": "paper",
        "yref": "paper",
        "font": {"size": 14, "color": MUTED},
    }
    return figure(
        [], height, annotations=[note], xaxis={"visible": False}, yaxis={"visible": False}
    )


def is_empty(fig: Any) -> bool:
    """True for an empty-state figure (a dict or a plotly.graph_objects.Figure)."""
    return len(fig["data"] if isinstance(fig, dict) else fig.data) == 0


def annotation_text(fig: Any) -> str:
    """Every annotation's text, joined (tests and captions)."""
    notes = (
        fig["layout"].get("annotations", []) if isinstance(fig, dict) else fig.layout.annotations
    )
    return " ".join((a.get("text", "") if isinstance(a, dict) else a.text) or "" for a in notes)


def style(fig: Any, height: int = 300, **settings: Any) -> Any:
    """The house style on a plotly.graph_objects.Figure (for builders that use graph objects)."""
    fig.update_layout(
        **{k: v for k, v in layout(height, **settings).items() if k not in ("xaxis", "yaxis")},
        template="plotly_white",
    )
    fig.update_xaxes(**axis(**settings.get("xaxis", {})))
    fig.update_yaxes(**axis(**settings.get("yaxis", {})))
    return fig


def dollars(cents: int) -> float:
    """Cents as a float of currency units, for geometry only (labels use exact text)."""
    return int(cents) / 100
