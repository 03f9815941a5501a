"""Twelve-month trends: sales vs collections, DSO, and one customer's invoiced vs paid."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.figures.base import COLLECTIONS, SALES, Figure, dollars, empty_figure, figure
from dashboard.format import money, symbol, to_cents


def month_label(month: str) -> str:
    """'2025-06' -> 'Jun 2025'."""
    return dt.date.fromisoformat(month + "-01").strftime("%b %Y")


def month_tick(month: str) -> str:
    """'2025-06' -> 'Jun<br>2025' (two short lines keep twelve ticks from overlapping)."""
    return dt.date.fromisoformat(month + "-01").strftime("%b<br>%Y")


def month_x(month: str) -> str:
    """'2025-06' -> '2025-06-15': a point on a date axis, which thins its labels to the width it has."""
    return f"{month}-15"


def month_axis(**settings) -> dict:
    """A date x axis of months: plotly shows every month when there is room, every 2nd or 3rd on a phone."""
    return {
        "type": "date",
        "tickformat": "%b<br>%Y",
        "hoverformat": "%b %Y",
        "ticklabelmode": "instant",
        "automargin": True,
        **settings,
    }


def _legend() -> dict:
    return {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"}


def sales_collections(
    trend: pd.DataFrame, currency: str | None = None, height: int = 300
) -> Figure:
    """Grouped monthly bars of credit sales and collections (tables.monthly_trend rows).

    Bars carry [drill key, month, exact amount, month label] as customdata.
    """
    if trend.empty or (
        trend["credit_sales_cents"].abs().sum() == 0 and trend["collections_cents"].abs().sum() == 0
    ):
        return empty_figure("No sales or collections in these twelve months", height=height)
    months = [month_x(m) for m in trend["month"]]
    data = []
    for column, name, color, key in (
        ("credit_sales_cents", "Credit sales", SALES, "month_sales"),
        ("collections_cents", "Collections", COLLECTIONS, "month_collections"),
    ):
        cents = [int(v) for v in trend[column]]
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": months,
                "y": [dollars(c) for c in cents],
                "marker": {"color": color},
                "customdata": [
                    [key, m, money(c, currency), month_label(m)]
                    for m, c in zip(trend["month"], cents, strict=True)
                ],
                "hovertemplate": f"{name}<br>%{{customdata[3]}}: %{{customdata[2]}}<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.2,
        legend=_legend(),
        yaxis={"tickformat": "~s", "tickprefix": symbol(currency)},
        xaxis=month_axis(),
    )


def dso_trend(
    trend: pd.DataFrame, period_days: int = 90, currency: str | None = None, height: int = 300
) -> Figure:
    """DSO at each month end (AR / credit sales of the P days before x P); customdata [key, month, AR, date]."""
    if trend.empty or trend["dso"].isna().all():
        return empty_figure("No credit sales to compute DSO on", height=height)
    line = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "DSO",
        "x": [month_x(m) for m in trend["month"]],
        "y": [None if pd.isna(v) else float(v) for v in trend["dso"]],
        "line": {"color": SALES, "width": 2},
        "marker": {"size": 7},
        "connectgaps": False,
        "customdata": [
            ["ar_at", m, money(int(ar), currency), str(e)]
            for m, ar, e in zip(trend["month"], trend["ar_cents"], trend["month_end"], strict=True)
        ],
        "hovertemplate": (
            f"%{{customdata[3]}}: <b>%{{y:.1f}} days</b><br>AR: %{{customdata[2]}}"
            f"<br>(AR / credit sales of {period_days} days × {period_days})<extra></extra>"
        ),
    }
    return figure(
        [line],
        height,
        showlegend=False,
        xaxis=month_axis(),
        yaxis={"title": {"text": "days", "font": {"size": 11}}, "rangemode": "tozero"},
    )


def customer_trend(
    trend: list[dict], currency: str | None = None, height: int = 240, base: str | None = None
) -> Figure:
    """One customer's invoiced vs paid per month (account_360()['trend'], money strings); with a
    base currency other than the customer's, each point's hover also gives the base equivalent."""
    if not trend or all(to_cents(r["invoiced"]) == 0 and to_cents(r["paid"]) == 0 for r in trend):
        return empty_figure("No invoices or payments in these twelve months", height=height)
    months = [month_x(r["month"]) for r in trend]
    data = []
    for key, name, color in (("invoiced", "Invoiced", SALES), ("paid", "Paid", COLLECTIONS)):
        cents = [to_cents(r[key]) or 0 for r in trend]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": months,
                "y": [dollars(c) for c in cents],
                "line": {"color": color, "width": 2},
                "customdata": [
                    money(c, currency)
                    + (f" = {money(to_cents(r[key + '_base']), base)}" if base else "")
                    for c, r in zip(cents, trend, strict=True)
                ],
                "hovertemplate": f"{name}: %{{customdata}}<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        legend=_legend(),
        xaxis=month_axis(),
        yaxis={"tickformat": "~s", "tickprefix": symbol(currency), "rangemode": "tozero"},
    )
