"""Placeholder home page until Receivables Health lands."""

import dash
from dash import html

dash.register_page(__name__, path="/", title="Receivables Health")


def layout(**_kwargs):
    """Skeleton."""
    return html.Div("Receivables Health", id="page-title")
