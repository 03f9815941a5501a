"""Figures of the payment predictions: reliability curve, predicted aging, cohort curves, unpaid 90+."""

from __future__ import annotations

from typing import cast

import pandas as pd

from dashboard.figures.base import BLUE, MUTED, Figure, dollars, empty_figure, figure
from dashboard.format import money

AMBER = "#fd7e14"
AGING_LABELS = {
    "not_due": "Not due",
    "1-30": "1–30",
    "31-60": "31–60",
    "61-90": "61–90",
    "90+": "90+",
}
AHEAD_COLORS = {0: BLUE, 30: AMBER, 60: "#6f42c1"}


def reliability_chart(rel: pd.DataFrame, height: int = 280) -> Figure:
    """Predicted vs actual share paid within 30 days per 10-point bin (the diagonal is perfect)."""
    rows = rel[rel["invoices"] > 0]
    if rows.empty:
        return empty_figure("No backtest yet", height=height)
    enough = rows[rows["enough"]]
    thin = rows[~rows["enough"]]
    data: list[dict] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 100],
            "y": [0, 100],
            "name": "Perfect",
            "line": {"color": MUTED, "dash": "dot", "width": 1},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 90, 100],
            "y": [10, 100, 100],
            "name": "±10 points",
            "line": {"color": "#dee2e6", "width": 1},
            "hoverinfo": "skip",
            "showlegend": True,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 10, 100],
            "y": [0, 0, 90],
            "line": {"color": "#dee2e6", "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]
    for part, name, symbol in (
        (enough, "Model", "circle"),
        (thin, "Model (under 30 invoices)", "circle-open"),
    ):
        if part.empty:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers+lines" if name == "Model" else "markers",
                "name": name,
                "x": (part["predicted"] * 100).round(1).tolist(),
                "y": (part["actual"] * 100).round(1).tolist(),
                "marker": {"color": BLUE, "symbol": symbol, "size": 8},
                "line": {"color": BLUE},
                "customdata": [
                    [b, int(n)] for b, n in zip(part["bin"], part["invoices"], strict=True)
                ],
                "hovertemplate": "Predicted %{customdata[0]}: mean <b>%{x:.1f} %</b><br>Actually paid within 30 days: "
                "<b>%{y:.1f} %</b><br>%{customdata[1]:,} invoices<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        xaxis={"title": {"text": "Predicted P(paid within 30 days) %"}, "range": [0, 100]},
        yaxis={"title": {"text": "Actually paid %"}, "range": [0, 100]},
        legend={"orientation": "h", "y": -0.3},
    )


def aging_ahead_chart(
    frame: pd.DataFrame, currency: str | None = None, height: int = 300
) -> Figure:
    """Aging buckets today and as expected 30 and 60 days ahead (grouped bars)."""
    if frame.empty or int(frame["amount_cents"].sum()) == 0:
        return empty_figure(height=height)
    data: list[dict] = []
    for ahead, part in frame.groupby("ahead_days", sort=True):
        name = "Today" if ahead == 0 else f"In {ahead} days (expected)"
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [AGING_LABELS[b] for b in part["bucket"]],
                "y": [dollars(c) for c in part["amount_cents"]],
                "marker": {"color": AHEAD_COLORS.get(int(cast(int, ahead)), BLUE)},
                "customdata": [[money(int(c), currency), name] for c in part["amount_cents"]],
                "hovertemplate": "%{customdata[1]} · %{x} days past due<br><b>%{customdata[0]}</b><extra></extra>",
            }
        )
    return figure(
        data,
        height,
        barmode="group",
        legend={"orientation": "h", "y": -0.3},
        xaxis={"title": {"text": "Days past due"}},
    )


def month_ticks(months: int) -> dict:
    """Ticks of a 'months since issue' axis: every month up to a year, else plotly's own round steps, which
    it thins to the width it has (every month of two years ran together at 390 px)."""
    if months <= 12:
        return {"dtick": 1}
    return {"tick0": 0, "tickformat": "d"}


def cohort_heatmap(curve: pd.DataFrame, height: int = 360) -> Figure:
    """Share of each issue month's value collected by months since issue (click a cell for its invoices)."""
    if curve.empty:
        return empty_figure(height=height)
    table = curve.pivot(index="cohort", columns="months_since", values="share").sort_index()
    collected = curve.pivot(
        index="cohort", columns="months_since", values="collected_cents"
    ).reindex(table.index)
    z = (table * 100).round(1)
    custom = [
        [
            [c, int(k), "" if pd.isna(v) else money(int(v))]
            for k, v in zip(table.columns, collected.loc[c], strict=True)
        ]
        for c in table.index
    ]
    data = [
        {
            "type": "heatmap",
            "z": z.where(z.notna(), None).values.tolist(),
            "x": [int(k) for k in table.columns],
            "y": list(table.index),
            "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
            "zmin": 0,
            "zmax": 100,
            "customdata": custom,
            "colorbar": {"ticksuffix": " %", "thickness": 10},
            "hovertemplate": "Issued %{y} · %{x} months later<br>Collected <b>%{z:.1f} %</b> (%{customdata[2]})"
            "<extra>click for the invoices</extra>",
        }
    ]
    return figure(
        data,
        height,
        xaxis={"title": {"text": "Months since issue"}, **month_ticks(len(table.columns))},
        yaxis={"autorange": "reversed", "type": "category"},
    )


def unpaid_90_chart(summary: pd.DataFrame, height: int = 260) -> Figure:
    """Per cohort: share of value still unpaid 90 days after due (cohorts whose 90 days have passed)."""
    rows = summary[summary["matured_cents"] > 0]
    if rows.empty:
        return empty_figure("No cohort is 90 days past due yet", height=height)
    data = [
        {
            "type": "bar",
            "x": list(rows["cohort"]),
            "y": (rows["unpaid_90_share"] * 100).round(2).tolist(),
            "marker": {"color": AMBER},
            "customdata": [
                [money(int(u)), money(int(m))]
                for u, m in zip(rows["unpaid_90_cents"], rows["matured_cents"], strict=True)
            ],
            "hovertemplate": "Issued %{x}<br>Unpaid 90 days after due: <b>%{y:.2f} %</b><br>%{customdata[0]} of "
            "%{customdata[1]}<extra></extra>",
        }
    ]
    return figure(
        data, height, yaxis={"ticksuffix": " %", "rangemode": "tozero"}, xaxis={"type": "category"}
    )
