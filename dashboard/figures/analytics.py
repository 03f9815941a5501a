"""Colours and charts of the customer analytics pages: aging status, credit risk, reliability, value tiers.

Pure builders (frames in, plain plotly figure dicts or AG Grid style dicts out), each chart with an empty state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from dashboard.figures.base import FONT, GRID, MUTED, TEXT, TOP_MARGIN, dollars, empty_figure
from dashboard.format import money, money_short, number, symbol

RED, DARK_RED, ORANGE, AMBER, GREEN, LIGHT_GREEN, GREY = (
    "#c8332b",
    "#8b1a1a",
    "#f07b22",
    "#d99a0b",
    "#2e8b57",
    "#6aa84f",
    "#6c757d",
)

# Aging status (tables.STATUS_ORDER), credit risk level (credit.RISK_LEVELS), reliability category.
STATUS_COLORS = {
    "Over Limit": RED,
    "Critical": DARK_RED,
    "Overdue": ORANGE,
    "Late": AMBER,
    "Current": GREEN,
}
RISK_COLORS = {
    "Over Limit": RED,
    "Critical": DARK_RED,
    "High": ORANGE,
    "Moderate": AMBER,
    "Low": GREEN,
}
CATEGORY_COLORS = {
    "At Risk": RED,
    "Poor": ORANGE,
    "Average": AMBER,
    "Good": LIGHT_GREEN,
    "Excellent": GREEN,
    "No Activity": GREY,
}

# Value tiers: (fill, text) for the default names; other names take the palette in order.
TIER_COLORS = {
    "Bronze": ("#e8c4a0", "#6b3d14"),
    "Silver": ("#dde1e6", "#3d4650"),
    "Gold": ("#f6de8d", "#6b5206"),
    "Platinum": ("#c9d6ea", "#23395d"),
    "Standard": ("#f1f3f5", "#6c757d"),
}
PALETTE = (
    ("#cfe2ff", "#084298"),
    ("#d1e7dd", "#0f5132"),
    ("#f8d7da", "#842029"),
    ("#e2d9f3", "#432874"),
    ("#fff3cd", "#664d03"),
    ("#cff4fc", "#055160"),
)


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
    return {
        "styleConditions": [
            {
                "condition": f"params.value === {json.dumps(value)}",
                "style": {"color": color, "fontWeight": 600},
            }
            for value, color in colors.items()
        ]
    }


def tier_cell_style(colors: Mapping[str, tuple[str, str]]) -> dict:
    """AG Grid cellStyle: each tier as a tinted cell in its colour."""
    return {
        "styleConditions": [
            {
                "condition": f"params.value === {json.dumps(name)}",
                "style": {"backgroundColor": fill, "color": text, "fontWeight": 600},
            }
            for name, (fill, text) in colors.items()
        ]
    }


def _layout(height: int, **settings) -> dict:
    """The house look (white, quiet grid, system font, tight margins) as a plain layout dict."""
    axis = {"gridcolor": GRID, "zeroline": False, "automargin": True, "linecolor": GRID}
    base = {
        "height": height,
        "font": {"family": FONT, "size": 12, "color": TEXT},
        "margin": {"l": 8, "r": 8, "t": TOP_MARGIN, "b": 8},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "hoverlabel": {"font": {"family": FONT, "size": 12}},
        "separators": ".,",
    }
    for key in ("xaxis", "yaxis"):
        settings[key] = {**axis, **settings.get(key, {})}
    return {**base, **settings}


def tier_summary_bar(frame: pd.DataFrame, currency: str | None = None, height: int = 300) -> dict:
    """12-month revenue per value tier (rows of value.tier_summary, in tier order), the customer count under each bar.

    A plain plotly figure dict; the exact amounts ride in customdata, the total in layout.meta.
    """
    if frame.empty or int(frame["customers"].sum()) == 0:
        return empty_figure("No customer was invoiced on these filters", height=height)
    names = [str(n) for n in frame["value_tier"]]
    colors = tier_colors(names)
    cents = [int(v) for v in frame["revenue_12m_cents"]]
    counts = [int(v) for v in frame["customers"]]
    shares = ["–" if pd.isna(v) else f"{v:,.1f} %" for v in frame["share_of_turnover_pct"]]
    # the count under each name, short enough for five tiers side by side on a phone (the axis title names it)
    labels = [
        f"{name}<br><span style='color:{MUTED}'>({number(n)})</span>"
        for name, n in zip(names, counts, strict=True)
    ]
    bar = {
        "type": "bar",
        "x": labels,
        "y": [dollars(c) for c in cents],
        "marker": {
            "color": [colors[n][0] for n in names],
            "line": {"color": [colors[n][1] for n in names], "width": 1},
        },
        "text": [money_short(c, currency) for c in cents],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [
            [name, money(c, currency), n, s]
            for name, c, n, s in zip(names, cents, counts, shares, strict=True)
        ],
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>Revenue 12m: %{customdata[1]}<br>"
            "Customers: %{customdata[2]}<br>Share of turnover: %{customdata[3]}<extra></extra>"
        ),
    }
    top = max(max(dollars(c) for c in cents), 0)
    low = min(min(dollars(c) for c in cents), 0)
    span = (top - low) or 1
    yaxis = {
        "range": [low - (span * 0.08 if low < 0 else 0), top + span * 0.18],
        "tickprefix": symbol(currency),
        "tickformat": "~s",
        "title": None,
    }
    return {
        "data": [bar],
        "layout": _layout(
            height,
            showlegend=False,
            bargap=0.35,
            yaxis=yaxis,
            xaxis={
                "title": {"text": "Value tier (customers)", "font": {"size": 11, "color": MUTED}},
                "tickfont": {"size": 12},
            },
            meta={"total_cents": sum(cents)},
        ),
    }


# ---- grid column sizing ----------------------------------------------------------------------------

CHAR_PX = 7.0  # one character of the grid's 14 px font, on average ("$2,722,412.30" is 89 px)
PAD_PX = 20  # the compact cell padding (Bootstrap px-2 on both sides) and a little air
COMPACT = {"cellClass": "px-2", "headerClass": "px-2"}
COMPACT_RIGHT = {
    "cellClass": ["px-2", "ag-right-aligned-cell"],
    "headerClass": ["px-2", "ag-right-aligned-header"],
}


def text_width(texts: Iterable[str], minimum: int = 64, bold: bool = False) -> int:
    """Pixels that show the longest text whole (compact padding)."""
    longest = max((len(t) for t in texts), default=0)
    return max(minimum, int(longest * CHAR_PX * (1.08 if bold else 1.0) + PAD_PX))


def money_width(values: pd.Series, currency: str | None = None, minimum: int = 88) -> int:
    """Pixels for a money column: its largest, smallest and total amounts all shown whole."""
    clean = [int(v) for v in values.dropna().tolist()]
    if not clean:
        return minimum
    widest = (max(clean), min(clean), sum(clean))
    return text_width((money(v, currency) for v in widest), minimum)


def fitted_columns(
    frame: pd.DataFrame, currency: str | None, extra: Mapping[str, dict] | None = None
) -> dict:
    """Column props for a grid of frame: compact padding, money columns as wide as their widest amount, then extra.

    The header filter button is kept on text columns (filter by status, tier...) and left off numbers,
    whose headers it would otherwise break mid-word; sorting and the quick search still work on them.
    """
    out: dict[str, dict] = {}
    for name in frame.columns:
        numeric = name.endswith("_cents") or (
            pd.api.types.is_numeric_dtype(frame[name])
            and not pd.api.types.is_bool_dtype(frame[name])
        )
        props: dict[str, Any] = dict(COMPACT_RIGHT if numeric else COMPACT)
        if name.endswith("_cents"):
            props.update(width=money_width(frame[name], currency), suppressHeaderFilterButton=True)
        elif numeric:
            props.update(suppressHeaderFilterButton=True)
        props.update((extra or {}).get(name, {}))
        if "width" in props:  # a width is the width: no larger default minimum may widen it
            props.setdefault("minWidth", min(int(props["width"]), 80))
        out[name] = props
    return out
