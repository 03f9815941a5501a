"""Commission charts: top reps by accrued commission, earned vs paid by month, share by group, cash vs invoiced.

Plain plotly figure dicts (see dashboard.figures.base); every builder has an empty state.
"""

from __future__ import annotations

import pandas as pd

from dashboard.figures.base import BLUE, COLLECTIONS, MUTED, Figure, dollars, empty_figure, figure
from dashboard.figures.debtors import short_name
from dashboard.figures.trends import month_axis, month_label, month_x
from dashboard.format import money, symbol

EARNED = BLUE
PAID = COLLECTIONS
UNPAID = "#d99a0b"
CASH = "#20c997"
FADED = "#9ec5fe"
GROUP_COLORS = (
    "#0d6efd",
    "#20c997",
    "#f07b22",
    "#6f42c1",
    "#d63384",
    "#198754",
    "#fd7e14",
    "#6c757d",
)
MIN_SLOTS = 6  # a chart of fewer reps keeps bars of the same thickness, top-aligned


def _legend() -> dict:
    return {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"}


def _rep_axis(n: int) -> dict:
    """A category axis with the largest rep on top, reserving at least MIN_SLOTS rows."""
    if n < MIN_SLOTS:
        return {"range": [MIN_SLOTS - 0.5, -0.5], "autorange": False, "ticksuffix": "  "}
    return {"autorange": "reversed", "ticksuffix": "  "}


def _rep_labels(frame: pd.DataFrame) -> list[str]:
    """'Name' per rep, with the id added when two reps share a (shortened) name."""
    names = [
        short_name(n or i, 24)
        for n, i in zip(frame["rep_name"], frame["sales_rep_id"], strict=True)
    ]
    return [
        f"{n} ({i})" if names.count(n) > 1 else n
        for n, i in zip(names, frame["sales_rep_id"], strict=True)
    ]


def top_reps_bar(
    frame: pd.DataFrame, currency: str | None = None, selected: str | None = None, height: int = 320
) -> Figure:
    """Horizontal bars of commissions.top_reps (largest on top); customdata [rep id, name, amount, group, rows].

    The rep the page is filtered to (selected) stays dark, the others are faded.
    """
    if frame.empty:
        return empty_figure("No accrued commission on these filters", height=height)
    cents = [int(v) for v in frame["accrued_cents"]]
    texts = [money(c, currency) for c in cents]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": [dollars(c) for c in cents],
        "y": _rep_labels(frame),
        "marker": {
            "color": [
                EARNED if not selected or rep == selected else FADED
                for rep in frame["sales_rep_id"]
            ]
        },
        "text": texts,
        "textposition": "auto",  # inside a long bar, beside a short one: never past the edge (390 px)
        "cliponaxis": False,
        "customdata": [
            [rep, name, text, group, int(n)]
            for rep, name, text, group, n in zip(
                frame["sales_rep_id"],
                frame["rep_name"],
                texts,
                frame["group_name"],
                frame["rows"],
                strict=True,
            )
        ],
        "hovertemplate": (
            "%{customdata[1]} (%{customdata[0]}) · %{customdata[3]}<br>Accrued: <b>%{customdata[2]}</b>"
            " in %{customdata[4]} commissions<br>Click to filter the page to this rep<extra></extra>"
        ),
    }
    top = max(max(dollars(c) for c in cents), 0.01)
    return figure(
        [bar],
        height,
        showlegend=False,
        bargap=0.25,
        margin={"l": 8, "r": 16, "t": 30, "b": 8},
        yaxis=_rep_axis(len(frame)),
        xaxis={"range": [0, top * 1.35], "tickformat": "~s", "tickprefix": symbol(currency)},
    )


def earned_vs_paid(frame: pd.DataFrame, currency: str | None = None, height: int = 320) -> Figure:
    """Monthly bars of commission earned (accrued) and paid, and the unpaid balance at month end as a line.

    Bars carry [drill key, month, exact amount, month label] as customdata; the line's key is empty.
    """
    if (
        frame.empty
        or not frame[["earned_cents", "paid_cents", "unpaid_cents"]].abs().to_numpy().any()
    ):
        return empty_figure("No commission earned or paid in these twelve months", height=height)
    months = [month_x(m) for m in frame["month"]]
    data = []
    for column, name, color, key in (
        ("earned_cents", "Accrued (earned)", EARNED, "commissions_month_earned"),
        ("paid_cents", "Paid", PAID, "commissions_month_paid"),
    ):
        cents = [int(v) for v in frame[column]]
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": months,
                "y": [dollars(c) for c in cents],
                "marker": {"color": color},
                "customdata": [
                    [key, m, money(c, currency), month_label(m)]
                    for m, c in zip(frame["month"], cents, strict=True)
                ],
                "hovertemplate": f"{name}<br>%{{customdata[3]}}: <b>%{{customdata[2]}}</b><extra></extra>",
            }
        )
    unpaid = [int(v) for v in frame["unpaid_cents"]]
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Unpaid at month end",
            "x": months,
            "y": [dollars(c) for c in unpaid],
            "line": {"color": UNPAID, "width": 2},
            "marker": {"size": 6},
            "customdata": [
                ["", m, money(c, currency), str(e)]
                for m, c, e in zip(frame["month"], unpaid, frame["month_end"], strict=True)
            ],
            "hovertemplate": "Unpaid at %{customdata[3]}: <b>%{customdata[2]}</b><extra></extra>",
        }
    )
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.2,
        legend=_legend(),
        xaxis=month_axis(),
        yaxis={"tickformat": "~s", "tickprefix": symbol(currency), "rangemode": "tozero"},
    )


def group_pie(
    frame: pd.DataFrame, currency: str | None = None, period_days: int = 90, height: int = 320
) -> Figure:
    """Share of commission earned in the period by sales group (groups with a positive total).

    Slices carry [group, exact amount, rows] as customdata for drill-downs.
    """
    shown = frame[frame["earned_cents"] > 0] if not frame.empty else frame
    if shown.empty:
        return empty_figure(f"No commission earned in the last {period_days} days", height=height)
    cents = [int(v) for v in shown["earned_cents"]]
    texts = [money(c, currency) for c in cents]
    colors = list(GROUP_COLORS[: len(shown)]) if len(shown) <= len(GROUP_COLORS) else None
    pie = {
        "type": "pie",
        "labels": list(shown["group_name"]),
        "values": [dollars(c) for c in cents],
        "hole": 0.45,
        # clear of the legend below: the ring is never cut flat
        "domain": {"x": [0, 1], "y": [0.12, 1]},
        "sort": False,
        "direction": "clockwise",
        "marker": {"colors": colors, "line": {"color": "#fff", "width": 1}},
        "textinfo": "percent",
        "textposition": "inside",
        "insidetextorientation": "horizontal",
        "customdata": [
            [g, t, int(n)]
            for g, t, n in zip(shown["group_name"], texts, shown["rows"], strict=True)
        ],
        "hovertemplate": "%{customdata[0]}<br><b>%{customdata[1]}</b> · %{percent}<br>%{customdata[2]} commissions<extra></extra>",
    }
    note = {
        "text": f"{period_days} days",
        "showarrow": False,
        "x": 0.5,
        "y": 0.56,
        "xref": "paper",
        "yref": "paper",
        "font": {"size": 12, "color": MUTED},
    }
    # a slice too thin for its percentage hides it (hover keeps it) instead of overlapping its neighbour
    return figure(
        [pie],
        height,
        showlegend=True,
        annotations=[note],
        margin={"l": 8, "r": 8, "t": 20, "b": 8},
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.02, "yanchor": "top"},
    )


def cash_vs_invoiced_bar(
    frame: pd.DataFrame, currency: str | None = None, limit: int = 10, height: int = 320
) -> Figure:
    """Per rep (largest first): commission on invoices issued in the period beside commission on cash collected."""
    if frame.empty:
        return empty_figure(
            "No commission on invoices issued or cash collected in the period", height=height
        )
    frame = frame.head(limit)
    labels = _rep_labels(frame)
    data = []
    for column, name, color in (
        ("invoiced_cents", "On invoices issued", EARNED),
        ("cash_cents", "On cash collected", CASH),
    ):
        cents = [int(v) for v in frame[column]]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "x": [dollars(c) for c in cents],
                "y": labels,
                "marker": {"color": color},
                "customdata": [
                    [rep, money(c, currency)]
                    for rep, c in zip(frame["sales_rep_id"], cents, strict=True)
                ],
                "hovertemplate": f"%{{y}} (%{{customdata[0]}})<br>{name}: <b>%{{customdata[1]}}</b><extra></extra>",
            }
        )
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        legend=_legend(),
        yaxis=_rep_axis(len(frame)),
        xaxis={"tickformat": "~s", "tickprefix": symbol(currency), "rangemode": "tozero"},
    )
