"""The (i) of a card, tile or chip and its explanation: plain HTML, shown by CSS while the (i) is
hovered or focused (tap, keyboard), placed inside the viewport by assets/tips.js.

Not dbc.Tooltip: each of those mounts a Popper that measures its scroll parents (computed styles) as
the page renders, about 10 ms apiece on this machine, with a dozen on the home page alone.
"""

from __future__ import annotations

from typing import Any

from dash import html


def info_tip(
    info_id: str, text: Any, tip_id: str | dict | None = None, label: str | None = None
) -> list:
    """[the focusable "i", its tooltip]: siblings, in this order (the CSS shows the one after the "i").
    `tip_id` names the tooltip for a callback that rewrites it (a KPI tile's exact value)."""
    tip = tip_id if tip_id is not None else f"{info_id}-tip"
    # hyphenated HTML attributes go to Dash components through **kwargs (typed Any there)
    attrs: dict[str, Any] = {"aria-label": label} if label else {}
    if isinstance(tip, str):
        attrs["aria-describedby"] = tip
    return [
        html.Span("i", id=info_id, className="ar-info", tabIndex="0", **attrs),
        html.Span(text, id=tip, className="ar-tip", role="tooltip"),
    ]
