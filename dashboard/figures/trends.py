"""Twelve-month trends: sales vs collections, DSO, and one customer's invoiced vs paid."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.format import money, to_cents
from dashboard.figures.base import COLLECTIONS, SALES, dollars, empty_figure, style


def month_label(month: str) -> str:
    """'2025-06' -> 'Jun 2025'."""
    return dt.date.fromisoformat(month + "-01").strftime("%b %Y")


def month_tick(month: str) -> str:
    """'2025-06' -> 'Jun<br>2025' (two short lines keep twelve ticks from overlapping)."""
    return dt.date.fromisoformat(month + "-01").strftime("%b<br>%Y")


def _legend() -> dict:
    return {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"}


def sales_collections(trend: pd.DataFrame, currency: str | None = None, height: int = 300) -> go.Figure:
    """Grouped monthly bars of credit sales and collections (tables.monthly_trend rows)."""
    if trend.empty or (trend["credit_sales_cents"].abs().sum() == 0 and trend["collections_cents"].abs().sum() == 0):
        return empty_figure("No sales or collections in these twelve months", height=height)
    months = [month_tick(m) for m in trend["month"]]
    fig = go.Figure()
    for column, name, color, key in (
        ("credit_sales_cents", "Credit sales", SALES, "month_sales"),
        ("collections_cents", "Collections", COLLECTIONS, "month_collections"),
    ):
        cents = [int(v) for v in trend[column]]
        fig.add_bar(
            x=months,
            y=[dollars(c) for c in cents],
            name=name,
            marker_color=color,
            customdata=[[key, m, money(c, currency), month_label(m)] for m, c in zip(trend["month"], cents, strict=True)],
            hovertemplate=f"{name}<br>%{{customdata[3]}}: %{{customdata[2]}}<extra></extra>",
        )
    style(fig, height=height, barmode="group", bargap=0.2, legend=_legend())
    fig.update_yaxes(tickformat="~s")
    fig.update_xaxes(tickangle=0)
    return fig


def dso_trend(trend: pd.DataFrame, period_days: int = 90, currency: str | None = None, height: int = 300) -> go.Figure:
    """DSO at each month end (AR / credit sales of the P days before x P)."""
    if trend.empty or trend["dso"].isna().all():
        return empty_figure("No credit sales to compute DSO on", height=height)
    months = [month_tick(m) for m in trend["month"]]
    fig = go.Figure(
        go.Scatter(
            x=months,
            y=[None if pd.isna(v) else float(v) for v in trend["dso"]],
            mode="lines+markers",
            line={"color": SALES, "width": 2},
            marker={"size": 7},
            name="DSO",
            connectgaps=False,
            customdata=[["ar_at", m, money(int(ar), currency), str(e)] for m, ar, e in zip(trend["month"], trend["ar_cents"], trend["month_end"], strict=True)],
            hovertemplate=(f"%{{customdata[3]}}: <b>%{{y:.1f}} days</b><br>AR: %{{customdata[2]}}"
                           f"<br>(AR / credit sales of {period_days} days × {period_days})<extra></extra>"),
        )
    )
    style(fig, height=height, showlegend=False)
    fig.update_yaxes(title={"text": "days", "font": {"size": 11}}, rangemode="tozero")
    fig.update_xaxes(tickangle=0)
    return fig


def customer_trend(trend: list[dict], currency: str | None = None, height: int = 240) -> go.Figure:
    """One customer's invoiced vs paid per month (account_360()['trend'], money strings)."""
    if not trend or all(to_cents(r["invoiced"]) == 0 and to_cents(r["paid"]) == 0 for r in trend):
        return empty_figure("No invoices or payments in these twelve months", height=height)
    months = [month_tick(r["month"]) for r in trend]
    fig = go.Figure()
    for key, name, color in (("invoiced", "Invoiced", SALES), ("paid", "Paid", COLLECTIONS)):
        cents = [to_cents(r[key]) for r in trend]
        fig.add_scatter(
            x=months,
            y=[dollars(c) for c in cents],
            name=name,
            mode="lines+markers",
            line={"color": color, "width": 2},
            customdata=[money(c, currency) for c in cents],
            hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
        )
    style(fig, height=height, legend=_legend())
    fig.update_yaxes(tickformat="~s", rangemode="tozero")
    fig.update_xaxes(tickangle=0)
    return fig
