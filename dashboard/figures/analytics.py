"""Colours and charts of the customer analytics pages: aging status, credit risk, reliability, value tiers.

Pure builders (frames in, figures or plain dicts out), each with an empty state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.format import money, money_short, number, symbol
from dashboard.figures.base import MUTED, dollars, empty_figure, style

RED, DARK_RED, ORANGE, AMBER, GREEN, LIGHT_GREEN, GREY = (
    "#c8332b", "#8b1a1a", "#f07b22", "#d99a0b", "#2e8b57", "#6aa84f", "#6c757d")

# Aging status (tables.STATUS_ORDER), credit risk level (credit.RISK_LEVELS), reliability category.
STATUS_COLORS = {"Over Limit": RED, "Critical": DARK_RED, "Overdue": ORANGE, "Late": AMBER, "Current": GREEN}
RISK_COLORS = {"Over Limit": RED, "Critical": DARK_RED, "High": ORANGE, "Moderate": AMBER, "Low": GREEN}
CATEGORY_COLORS = {"At Risk": RED, "Poor": ORANGE, "Average": AMBER, "Good": LIGHT_GREEN, "Excellent": GREEN,
                   "No Activity": GREY}

# Value tiers: (fill, text) for the default names; other names take the palette in order.
TIER_COLORS = {
    "Bronze": ("#e8c4a0", "#6b3d14"),
    "Silver": ("#dde1e6", "#3d4650"),
    "Gold": ("#f6de8d", "#6b5206"),
    "Platinum": ("#c9d6ea", "#23395d"),
    "Standard": ("#f1f3f5", "#6c757d"),
}
PALETTE = (("#cfe2ff", "#084298"), ("#d1e7dd", "#0f5132"), ("#f8d7da", "#842029"), ("#e2d9f3", "#432874"),
           ("#fff3cd", "#664d03"), ("#cff4fc", "#055160"))


def tier_colors(names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(fill, text) colour per tier name: the Retailer colours for Bronze..Platinum, a palette for others."""
    out: dict[str, tuple[str, str]] = {}
    spare = iter(PALETTE * 10)
    for name in names:
        if name in out:
            continue
        out[name] = TIER_COLORS.get(name) or next(spare)
    out.setdefault("Standard", TIER_COLORS["Standard"])
    return out


def label_cell_style(colors: Mapping[str, str]) -> dict:
    """AG Grid cellStyle colouring a label column's text by value (the totals row stays plain)."""
    return {"styleConditions": [
        {"condition": f"params.value === {json.dumps(value)}", "style": {"color": color, "fontWeight": 600}}
        for value, color in colors.items()
    ]}


def tier_cell_style(colors: Mapping[str, tuple[str, str]]) -> dict:
    """AG Grid cellStyle: each tier as a tinted cell in its colour."""
    return {"styleConditions": [
        {"condition": f"params.value === {json.dumps(name)}",
         "style": {"backgroundColor": fill, "color": text, "fontWeight": 600}}
        for name, (fill, text) in colors.items()
    ]}


def tier_summary_bar(frame: pd.DataFrame, currency: str | None = None, height: int = 300) -> go.Figure:
    """12-month revenue per value tier (rows of value.tier_summary, in tier order), customers under each bar."""
    if frame.empty or int(frame["customers"].sum()) == 0:
        return empty_figure("No customer was invoiced on these filters", height=height)
    colors = tier_colors(frame["value_tier"])
    cents = [int(v) for v in frame["revenue_12m_cents"]]
    counts = [int(v) for v in frame["customers"]]
    shares = ["–" if pd.isna(v) else f"{v:,.1f} %" for v in frame["share_of_turnover_pct"]]
    labels = [f"{name}<br><span style='color:{MUTED}'>{number(n)} customer{'' if n == 1 else 's'}</span>"
              for name, n in zip(frame["value_tier"], counts, strict=True)]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[dollars(c) for c in cents],
            marker={"color": [colors[n][0] for n in frame["value_tier"]],
                    "line": {"color": [colors[n][1] for n in frame["value_tier"]], "width": 1}},
            text=[money_short(c, currency) for c in cents],
            textposition="outside",
            cliponaxis=False,
            customdata=[[name, money(c, currency), n, s] for name, c, n, s in
                        zip(frame["value_tier"], cents, counts, shares, strict=True)],
            hovertemplate=("<b>%{customdata[0]}</b><br>Revenue 12m: %{customdata[1]}<br>"
                           "Customers: %{customdata[2]}<br>Share of turnover: %{customdata[3]}<extra></extra>"),
        )
    )
    top = max(max(dollars(c) for c in cents), 0)
    low = min(min(dollars(c) for c in cents), 0)
    span = (top - low) or 1
    style(fig, height=height, showlegend=False, bargap=0.35, margin={"l": 8, "r": 8, "t": 30, "b": 8})
    fig.update_yaxes(range=[low - (span * 0.08 if low < 0 else 0), top + span * 0.18], tickprefix=symbol(currency),
                     tickformat="~s", title=None)
    fig.update_xaxes(title=None, tickfont={"size": 12})
    fig.update_layout(meta={"total_cents": sum(cents)})
    return fig
