"""Shared look of every figure, and the empty state."""

from __future__ import annotations

import plotly.graph_objects as go

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
GRID = "#e9ecef"
TEXT = "#212529"
MUTED = "#6c757d"
BLUE = "#0d6efd"
TEAL = "#20c997"
SALES = "#0d6efd"
COLLECTIONS = "#198754"
EMPTY_TEXT = "No invoices match these filters"
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": "hover",
    "modeBarButtons": [["toImage", "resetScale2d"]],
}
TOP_MARGIN = 30  # room for the hover mode bar above the plot area


def style(fig: go.Figure, height: int = 300, **layout) -> go.Figure:
    """Apply the house style: white, quiet grid, system font, tight margins."""
    settings = {
        "template": "plotly_white",
        "height": height,
        "font": {"family": FONT, "size": 12, "color": TEXT},
        "margin": {"l": 8, "r": 8, "t": TOP_MARGIN, "b": 8},
        "hoverlabel": {"font": {"family": FONT, "size": 12}},
        "separators": ".,",
    }
    fig.update_layout(**{**settings, **layout})
    fig.update_xaxes(gridcolor=GRID, zeroline=False, automargin=True)
    fig.update_yaxes(gridcolor=GRID, zeroline=False, automargin=True)
    return fig


def empty_figure(message: str = EMPTY_TEXT, height: int = 300) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": MUTED})
    style(fig, height=height)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def is_empty(fig: go.Figure) -> bool:
    """True for an empty-state figure (tests and callers)."""
    return len(fig.data) == 0


def dollars(cents: int) -> float:
    """Cents as a float of currency units, for geometry only (labels use exact text)."""
    return int(cents) / 100
