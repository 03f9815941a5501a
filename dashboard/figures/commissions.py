"""Commission charts: top reps by accrued commission, earned vs paid by month, share by group, cash vs invoiced."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.format import money
from dashboard.figures.base import BLUE, COLLECTIONS, MUTED, dollars, empty_figure, style
from dashboard.figures.debtors import short_name
from dashboard.figures.trends import month_label, month_tick

EARNED = BLUE
PAID = COLLECTIONS
UNPAID = "#d99a0b"
CASH = "#20c997"
GROUP_COLORS = ("#0d6efd", "#20c997", "#f07b22", "#6f42c1", "#d63384", "#198754", "#fd7e14", "#6c757d")


def _legend() -> dict:
    return {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "xanchor": "left"}


MIN_SLOTS = 6  # a chart of fewer reps keeps bars of the same thickness, top-aligned


def _slots(fig: go.Figure, n: int) -> None:
    """Reverse the category axis (largest on top) and reserve at least MIN_SLOTS rows."""
    if n < MIN_SLOTS:
        fig.update_yaxes(range=[MIN_SLOTS - 0.5, -0.5], autorange=False)
    else:
        fig.update_yaxes(autorange="reversed")


def _rep_labels(frame: pd.DataFrame) -> list[str]:
    """'Name' per rep, with the id added when two reps share a (shortened) name."""
    names = [short_name(n or i, 24) for n, i in zip(frame["rep_name"], frame["sales_rep_id"], strict=True)]
    return [f"{n} ({i})" if names.count(n) > 1 else n for n, i in zip(names, frame["sales_rep_id"], strict=True)]


def top_reps_bar(frame: pd.DataFrame, currency: str | None = None, selected: str | None = None,
                 height: int = 320) -> go.Figure:
    """Horizontal bars of commissions.top_reps (largest at the top); the filtered rep is highlighted."""
    if frame.empty:
        return empty_figure("No accrued commission on these filters", height=height)
    cents = [int(v) for v in frame["accrued_cents"]]
    texts = [money(c, currency) for c in cents]
    colors = [EARNED if not selected or rep == selected else "#9ec5fe" for rep in frame["sales_rep_id"]]
    fig = go.Figure(
        go.Bar(
            x=[dollars(c) for c in cents],
            y=_rep_labels(frame),
            orientation="h",
            marker_color=colors,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            customdata=[[rep, name, text, group, int(n)] for rep, name, text, group, n in
                        zip(frame["sales_rep_id"], frame["rep_name"], texts, frame["group_name"], frame["rows"], strict=True)],
            hovertemplate=("%{customdata[1]} (%{customdata[0]}) · %{customdata[3]}<br>Accrued: <b>%{customdata[2]}</b>"
                           " in %{customdata[4]} commissions<br>Click to filter the page to this rep<extra></extra>"),
        )
    )
    top = max(max(dollars(c) for c in cents), 0.01)
    style(fig, height=height, showlegend=False, bargap=0.25, margin={"l": 8, "r": 16, "t": 30, "b": 8})
    fig.update_yaxes(ticksuffix="  ")
    _slots(fig, len(frame))
    fig.update_xaxes(range=[0, top * 1.35], tickformat="~s", showgrid=True)
    return fig


def earned_vs_paid(frame: pd.DataFrame, currency: str | None = None, height: int = 320) -> go.Figure:
    """Monthly bars of commission earned (accrued) and paid, with the unpaid balance at month end as a line."""
    if frame.empty or not frame[["earned_cents", "paid_cents", "unpaid_cents"]].abs().to_numpy().any():
        return empty_figure("No commission earned or paid in these twelve months", height=height)
    months = [month_tick(m) for m in frame["month"]]
    fig = go.Figure()
    for column, name, color, key in (
        ("earned_cents", "Accrued (earned)", EARNED, "commissions_month_earned"),
        ("paid_cents", "Paid", PAID, "commissions_month_paid"),
    ):
        cents = [int(v) for v in frame[column]]
        fig.add_bar(
            x=months,
            y=[dollars(c) for c in cents],
            name=name,
            marker_color=color,
            customdata=[[key, m, money(c, currency), month_label(m)] for m, c in zip(frame["month"], cents, strict=True)],
            hovertemplate=f"{name}<br>%{{customdata[3]}}: <b>%{{customdata[2]}}</b><extra></extra>",
        )
    unpaid = [int(v) for v in frame["unpaid_cents"]]
    fig.add_scatter(
        x=months,
        y=[dollars(c) for c in unpaid],
        name="Unpaid at month end",
        mode="lines+markers",
        line={"color": UNPAID, "width": 2},
        marker={"size": 6},
        customdata=[["", m, money(c, currency), str(e)] for m, c, e in zip(frame["month"], unpaid, frame["month_end"], strict=True)],
        hovertemplate="Unpaid at %{customdata[3]}: <b>%{customdata[2]}</b><extra></extra>",
    )
    style(fig, height=height, barmode="group", bargap=0.2, legend=_legend())
    fig.update_yaxes(tickformat="~s", rangemode="tozero")
    fig.update_xaxes(tickangle=0)
    return fig


def group_pie(frame: pd.DataFrame, currency: str | None = None, period_days: int = 90, height: int = 320) -> go.Figure:
    """Share of commission earned in the period by sales group (groups with a positive total)."""
    shown = frame[frame["earned_cents"] > 0] if not frame.empty else frame
    if shown.empty:
        return empty_figure(f"No commission earned in the last {period_days} days", height=height)
    cents = [int(v) for v in shown["earned_cents"]]
    texts = [money(c, currency) for c in cents]
    fig = go.Figure(
        go.Pie(
            labels=list(shown["group_name"]),
            values=[dollars(c) for c in cents],
            hole=0.45,
            sort=False,
            direction="clockwise",
            marker={"colors": list(GROUP_COLORS[: len(shown)]) if len(shown) <= len(GROUP_COLORS) else None,
                    "line": {"color": "#fff", "width": 1}},
            textinfo="percent",
            textposition="inside",
            insidetextorientation="horizontal",
            customdata=[[g, t, int(n)] for g, t, n in zip(shown["group_name"], texts, shown["rows"], strict=True)],
            hovertemplate="%{customdata[0]}<br><b>%{customdata[1]}</b> · %{percent}<br>%{customdata[2]} commissions<extra></extra>",
        )
    )
    style(fig, height=height, legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.02, "yanchor": "top"},
          margin={"l": 8, "r": 8, "t": 20, "b": 8})
    fig.add_annotation(text=f"{period_days} days", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 12, "color": MUTED})
    return fig


def cash_vs_invoiced_bar(frame: pd.DataFrame, currency: str | None = None, limit: int = 10, height: int = 320) -> go.Figure:
    """Per rep (largest first): commission on invoices issued in the period beside commission on cash collected."""
    if frame.empty:
        return empty_figure("No commission on invoices issued or cash collected in the period", height=height)
    frame = frame.head(limit)
    labels = _rep_labels(frame)
    fig = go.Figure()
    for column, name, color in (("invoiced_cents", "On invoices issued", EARNED), ("cash_cents", "On cash collected", CASH)):
        cents = [int(v) for v in frame[column]]
        fig.add_bar(
            x=[dollars(c) for c in cents],
            y=labels,
            orientation="h",
            name=name,
            marker_color=color,
            customdata=[[rep, money(c, currency)] for rep, c in zip(frame["sales_rep_id"], cents, strict=True)],
            hovertemplate=f"%{{y}} (%{{customdata[0]}})<br>{name}: <b>%{{customdata[1]}}</b><extra></extra>",
        )
    style(fig, height=height, barmode="group", bargap=0.25, bargroupgap=0.05, legend=_legend())
    fig.update_yaxes(ticksuffix="  ")
    _slots(fig, len(frame))
    fig.update_xaxes(tickformat="~s", rangemode="tozero")
    return fig
