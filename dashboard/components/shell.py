"""The app shell: navigation, global filter bar, page content."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html


def shell_layout() -> html.Div:
    """The outer layout around every page."""
    return html.Div(
        [
            dbc.NavbarSimple(brand="AR Dashboard", color="dark", dark=True, fluid=True),
            dbc.Container(dash.page_container, fluid=True, className="py-3"),
        ]
    )
