"""Forecast, disputes & promises and collections charts: pure builders from metric frames, each with an empty state.

Inputs are the frames of dashboard.metrics.forecast and dashboard.metrics.collections; money stays in
integer cents until it becomes geometry (`dollars`) or exact label text (`money`). Builders return
plain figure dicts (see dashboard.figures.base).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.figures.base import (
    BLUE,
    COLLECTIONS,
    MUTED,
    Figure,
    count_step,
    dollars,
    empty_figure,
    figure,
)
from dashboard.figures.debtors import short_name
from dashboard.figures.trends import month_axis, month_label, month_x
from dashboard.format import money, money_short, symbol

RED = "#c8332b"
ORANGE = "#f07b22"
AMBER = "#d99a0b"
PURPLE = "#6f42c1"
DARK_RED = "#8b1a1a"
GREEN = "#2e8b57"
GREY = "#adb5bd"
LIGHT_BLUE = "#9ec5fe"
PROMISED = "#20c997"
NOT_EXPECTED = "Not expected (collectability)"  # metrics.forecast.UNCOLLECTIBLE

DUE_BUCKET_HINTS = {
    "Week 1": "due in 0–7 days",
    "Week 2": "due in 8–14 days",
    "Week 3": "due in 15–21 days",
    "Week 4": "due in 22–30 days",
    "Weeks 5-8": "due in more than 30 days",
    "Overdue": "past due",
}
COMPONENT_COLORS = {
    "not_due": GREEN,
    "overdue": ORANGE,
    "in_dispute": PURPLE,
    "in_litigation": DARK_RED,
}
GROUP_TITLES = {
    "segment": "Segment",
    "region": "Region",
    "sales_rep_id": "Sales rep",
    "tier": "Tier",
}
# a horizontal bar chart of fewer groups keeps bars of the same thickness, top-aligned
MIN_SLOTS = 5


def _legend(**settings) -> dict:
    return {
        "orientation": "h",
        "x": 0,
        "y": 1.02,
        "yanchor": "bottom",
        "xanchor": "left",
        "traceorder": "normal",
        **settings,
    }


def _count_axis(top: int, title: str, headroom: float = 2.2) -> dict:
    """A right-hand axis of whole counts whose bars stay in the lower part of the plot (4 whole-number steps)."""
    step = count_step(top * headroom, 4)  # round steps (100, not 77/154/231)
    return {
        "title": {"text": title, "font": {"size": 11}},
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
        "zeroline": False,
        "automargin": True,
        "range": [0, step * 4],
        "tickmode": "linear",
        "tick0": 0,
        "dtick": step,
        "tickformat": ",d",
    }


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _short_day(value) -> str:
    """'2026-11-03' -> '3 Nov'."""
    day = _day(value)
    return f"{day.day} {day:%b}"


def _long_day(value) -> str:
    """'2026-11-03' -> '3 Nov 2026'."""
    day = _day(value)
    return f"{day.day} {day:%b %Y}"


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _week_labels(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Tick labels ('7 Dec', the week's first day) and hover spans ('Week 3 · 7 Dec – 13 Dec 2026') of forecast weeks.

    One short line per tick (WEEK_AXIS): plotly stands them upright on a phone, where thirteen two-line
    'W3<br>7 Dec' labels ran together at 390 px; the week number is in the hover.
    """
    ticks = [_short_day(s) for s in frame["start"]]
    spans = [
        f"Week {int(w)} · {_short_day(s)} – {_long_day(e)}"
        for w, s, e in zip(frame["week"], frame["start"], frame["end"], strict=True)
    ]
    return ticks, spans


# the x axis of weekly charts: one-line labels of each week's first day, upright when they would collide
WEEK_AXIS = {"title": {"text": "Week starting", "font": {"size": 11}}, "tickfont": {"size": 10}}


def _reference_line(x: float, text: str) -> tuple[dict, dict]:
    """A dashed vertical line over the whole plot at x, and its label on top."""
    shape = {
        "type": "line",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "xref": "x",
        "yref": "paper",
        "line": {"color": MUTED, "dash": "dash", "width": 1},
    }
    note = {
        "x": x,
        "y": 1,
        "xref": "x",
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
        "text": text,
        "font": {"size": 11, "color": MUTED},
    }
    return shape, note


def _slots(n: int) -> dict:
    """The category axis of a horizontal bar chart: first row on top, at least MIN_SLOTS rows high."""
    if n < MIN_SLOTS:
        return {"range": [MIN_SLOTS - 0.5, -0.5], "autorange": False, "ticksuffix": "  "}
    return {"autorange": "reversed", "ticksuffix": "  "}


# ---- payment forecast -----------------------------------------------------------------------------


def due_date_bars(frame: pd.DataFrame, currency: str | None = None, height: int = 300) -> Figure:
    """Open balances by when they fall due (forecast.due_date_forecast): Week 1..4, Weeks 5-8, Overdue.

    Bars carry [bucket, exact amount, invoices, hint] as customdata; meta.total_cents = total AR.
    """
    total = int(frame["amount_cents"].sum()) if len(frame) else 0
    if total <= 0:
        return empty_figure("Nothing is outstanding on these filters", height=height)
    buckets = list(frame["bucket"])
    cents = [int(v) for v in frame["amount_cents"]]
    counts = [int(v) for v in frame["invoices"]]
    bar = {
        "type": "bar",
        "x": buckets,
        "y": [dollars(c) for c in cents],
        "marker": {"color": [RED if b == "Overdue" else BLUE for b in buckets]},
        "text": [money_short(c, currency) if c else "" for c in cents],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [
            [b, money(c, currency), n, DUE_BUCKET_HINTS.get(b, "")]
            for b, c, n in zip(buckets, cents, counts, strict=True)
        ],
        "hovertemplate": "%{customdata[0]} (%{customdata[3]})<br><b>%{customdata[1]}</b> in %{customdata[2]} invoices"
        "<br>Click for the invoices<extra></extra>",
    }
    top = max(dollars(c) for c in cents)
    return figure(
        [bar],
        height,
        showlegend=False,
        bargap=0.3,
        meta={"total_cents": total},
        yaxis={"range": [0, top * 1.18], "tickformat": "~s", "tickprefix": symbol(currency)},
        xaxis={"automargin": True},
    )


def behaviour_forecast_chart(
    frame: pd.DataFrame, currency: str | None = None, height: int = 320
) -> Figure:
    """Expected collections per week (forecast.behaviour_forecast): the promised part stacked on the behaviour part,
    with the naive due-date forecast as a line. Later and disputed rows are left to the caption.

    Bars carry [bucket, exact amount, expected in all, span] as customdata; meta holds the cents shown.
    """
    weeks = frame[frame["week"].notna()] if len(frame) else frame
    if weeks.empty or not (
        weeks["expected_cents"].abs().sum() or weeks["by_due_date_cents"].abs().sum()
    ):
        return empty_figure("Nothing is expected in the next weeks on these filters", height=height)
    ticks, spans = _week_labels(weeks)
    expected = [int(v) for v in weeks["expected_cents"]]
    promised = [int(v) for v in weeks["promised_cents"]]
    behaviour = [e - p for e, p in zip(expected, promised, strict=True)]
    by_due = [int(v) for v in weeks["by_due_date_cents"]]
    data = []
    for name, values, color in (
        ("From payment behaviour", behaviour, BLUE),
        ("Promised", promised, PROMISED),
    ):
        data.append(
            {
                "type": "bar",
                "x": ticks,
                "y": [dollars(c) for c in values],
                "name": name,
                "marker": {"color": color},
                "customdata": [
                    [f"Week {int(w)}", money(c, currency), money(t, currency), s]
                    for w, c, t, s in zip(weeks["week"], values, expected, spans, strict=True)
                ],
                "hovertemplate": f"%{{customdata[3]}}<br>{name}: <b>%{{customdata[1]}}</b><br>Expected in all: "
                "%{customdata[2]}<br>Click for the invoices<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": ticks,
            "y": [dollars(c) for c in by_due],
            "name": "By due date",
            "mode": "lines+markers",
            "line": {"color": AMBER, "width": 2, "dash": "dot"},
            "marker": {"size": 6},
            "customdata": [[s, money(c, currency)] for s, c in zip(spans, by_due, strict=True)],
            "hovertemplate": "%{customdata[0]}<br>By due date: %{customdata[1]}<extra></extra>",
        }
    )
    meta = {
        "expected_cents": sum(expected),
        "promised_cents": sum(promised),
        "by_due_cents": sum(by_due),
    }
    gone = frame[frame["bucket"] == NOT_EXPECTED]
    lost = int(gone["expected_cents"].sum()) if len(gone) else 0
    if lost:  # the part history says will not be collected: its own grey bar, after the weeks
        meta["uncollectible_cents"] = lost
        data.append(
            {
                "type": "bar",
                "x": ["Not expected"],
                "y": [dollars(lost)],
                "name": "Not expected (history)",
                "marker": {"color": GREY},
                "customdata": [
                    [
                        NOT_EXPECTED,
                        money(lost, currency),
                        money(lost, currency),
                        "Not expected to be collected",
                    ]
                ],
                "hovertemplate": "%{customdata[3]}<br><b>%{customdata[1]}</b> (share of invoices of the same age never paid)"
                "<br>Click for the invoices<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        barmode="stack",
        bargap=0.25,
        legend=_legend(),
        meta=meta,
        yaxis={"tickformat": "~s", "tickprefix": symbol(currency), "rangemode": "tozero"},
        xaxis=WEEK_AXIS,
    )


def wape_by_date_chart(by_date: pd.DataFrame, height: int = 220) -> Figure:
    """WAPE of both forecasts at each past as-of date of the backtest (forecast.forecast_backtest()['by_date'])."""
    rows = (
        by_date[by_date["wape_behaviour"].notna() | by_date["wape_due_date"].notna()]
        if len(by_date)
        else by_date
    )
    if rows.empty:
        return empty_figure("Nothing was collected in the backtest weeks", height=height)
    ticks = [f"{_short_day(d)}<br>{_day(d):%Y}" for d in rows["as_of"]]
    data = []
    for column, name, color in (
        ("wape_behaviour", "Behaviour", BLUE),
        ("wape_due_date", "Due date", AMBER),
    ):
        data.append(
            {
                "type": "bar",
                "x": ticks,
                "y": [_num(v) for v in rows[column]],
                "name": name,
                "marker": {"color": color},
                "customdata": [
                    [_long_day(d), money(int(a)), int(w)]
                    for d, a, w in zip(
                        rows["as_of"], rows["actual_cents"], rows["weeks_compared"], strict=True
                    )
                ],
                "hovertemplate": f"Forecast made on %{{customdata[0]}} · {name}<br>WAPE <b>%{{y:.1f}} %</b> over "
                "%{customdata[2]} weeks<br>Collected: %{customdata[1]}<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.3,
        legend=_legend(),
        yaxis={"ticksuffix": " %", "rangemode": "tozero"},
        xaxis={"tickfont": {"size": 10}},
    )


def backtest_weeks_chart(
    weeks: pd.DataFrame,
    as_of: dt.date | str | None = None,
    currency: str | None = None,
    height: int = 300,
) -> Figure:
    """For one past as-of date (forecast_backtest()['weeks']): collected per week (bars) against what each forecast
    said then (lines)."""
    rows = weeks if as_of is None or weeks.empty else weeks[weeks["as_of"].map(str) == str(as_of)]
    if (
        rows.empty
        or not rows[["actual_cents", "behaviour_cents", "due_date_cents"]].abs().to_numpy().any()
    ):
        return empty_figure("No backtest weeks to compare", height=height)
    ticks, spans = _week_labels(rows)
    actual = [int(v) for v in rows["actual_cents"]]
    data = [
        {
            "type": "bar",
            "x": ticks,
            "y": [dollars(c) for c in actual],
            "name": "Collected",
            "marker": {"color": COLLECTIONS},
            "customdata": [[s, money(c, currency)] for s, c in zip(spans, actual, strict=True)],
            "hovertemplate": "%{customdata[0]}<br>Collected: <b>%{customdata[1]}</b><extra></extra>",
        }
    ]
    for column, name, color, dash in (
        ("behaviour_cents", "Behaviour forecast", BLUE, "solid"),
        ("due_date_cents", "Due-date forecast", AMBER, "dot"),
    ):
        cents = [int(v) for v in rows[column]]
        data.append(
            {
                "type": "scatter",
                "x": ticks,
                "y": [dollars(c) for c in cents],
                "name": name,
                "mode": "lines+markers",
                "line": {"color": color, "width": 2, "dash": dash},
                "marker": {"size": 5},
                "customdata": [[s, money(c, currency)] for s, c in zip(spans, cents, strict=True)],
                "hovertemplate": f"%{{customdata[0]}}<br>{name}: %{{customdata[1]}}<extra></extra>",
            }
        )
    return figure(
        data,
        height,
        bargap=0.25,
        legend=_legend(),
        yaxis={"tickformat": "~s", "tickprefix": symbol(currency), "rangemode": "tozero"},
        xaxis=WEEK_AXIS,
    )


# ---- disputes and promises ------------------------------------------------------------------------


def composition_donut(
    frame: pd.DataFrame, currency: str | None = None, height: int = 300
) -> Figure:
    """Total AR split into not due, overdue, in dispute, in litigation (collections.outstanding_composition);
    unapplied credits are not part of total AR and stay out of the donut.

    Slices carry [component, exact amount, invoices] as customdata; meta.total_cents = total AR.
    """
    parts = frame[frame["part_of_total_ar"]] if len(frame) else frame
    total = int(parts["amount_cents"].sum()) if len(parts) else 0
    if total <= 0:
        return empty_figure("Nothing is outstanding on these filters", height=height)
    cents = [int(v) for v in parts["amount_cents"]]
    pie = {
        "type": "pie",
        "labels": list(parts["label"]),
        "values": [dollars(c) for c in cents],
        "customdata": [
            [k, money(c, currency), int(n)]
            for k, c, n in zip(parts["component"], cents, parts["invoices"].fillna(0), strict=True)
        ],
        "marker": {
            "colors": [COMPONENT_COLORS.get(k, GREY) for k in parts["component"]],
            "line": {"color": "#fff", "width": 1},
        },
        "hole": 0.62,
        # clear of the legend below: the ring is never cut flat
        "domain": {"x": [0, 1], "y": [0.1, 1]},
        "sort": False,
        "direction": "clockwise",
        "texttemplate": "%{percent:.1%}",
        "textposition": "inside",
        "insidetextorientation": "horizontal",
        "hovertemplate": "%{label}<br><b>%{customdata[1]}</b> · %{percent}<br>%{customdata[2]} invoices"
        "<br>Click for the invoices<extra></extra>",
    }
    note = {
        "text": f"Total AR<br><b>{money(total, currency)}</b>",
        "showarrow": False,
        "x": 0.5,
        "y": 0.55,
        "xref": "paper",
        "yref": "paper",
        "font": {"size": 13},
        "xanchor": "center",
    }
    return figure(
        [pie],
        height,
        annotations=[note],
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.02, "yanchor": "top"},
        margin={"l": 8, "r": 8, "t": 20, "b": 30},
        meta={"total_cents": total},
    )


def dispute_cycle_chart(by_month: pd.DataFrame, height: int = 300) -> Figure:
    """Disputes resolved per month (bars, right axis) and their mean and median cycle time in days (lines)."""
    if by_month.empty or int(by_month["resolved"].sum()) == 0:
        return empty_figure("No dispute was resolved in these twelve months", height=height)
    months = [month_x(m) for m in by_month["month"]]
    names = [month_label(m) for m in by_month["month"]]
    counts = [int(v) for v in by_month["resolved"]]
    data: list[dict] = [
        {
            "type": "bar",
            "x": months,
            "y": counts,
            "name": "Resolved",
            "yaxis": "y2",
            "marker": {"color": LIGHT_BLUE},
            "customdata": names,
            "hovertemplate": "%{customdata}: <b>%{y}</b> resolved<extra></extra>",
        }
    ]
    for column, name, dash in (
        ("mean_days", "Mean days", "solid"),
        ("median_days", "Median days", "dot"),
    ):
        data.append(
            {
                "type": "scatter",
                "x": months,
                "y": [_num(v) for v in by_month[column]],
                "name": name,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": PURPLE, "width": 2, "dash": dash},
                "marker": {"size": 6},
                "customdata": names,
                "hovertemplate": f"%{{customdata}}: {name.lower()} <b>%{{y:.1f}}</b><extra></extra>",
            }
        )
    return figure(
        data,
        height,
        legend=_legend(),
        bargap=0.35,
        yaxis={"title": {"text": "days open", "font": {"size": 11}}, "rangemode": "tozero"},
        yaxis2=_count_axis(max(counts), "resolved"),
        xaxis=month_axis(),
    )


def promise_adherence_chart(by_month: pd.DataFrame, height: int = 300) -> Figure:
    """Promises per month of promised date, kept / broken / pending (stacked bars, right axis) and the share kept (line)."""
    if by_month.empty or int(by_month["promises"].sum()) == 0:
        return empty_figure("No promise fell due in these twelve months", height=height)
    months = [month_x(m) for m in by_month["month"]]
    names = [month_label(m) for m in by_month["month"]]
    data = []
    for column, name, color in (
        ("kept", "Kept", GREEN),
        ("broken", "Broken", RED),
        ("pending", "Pending", GREY),
    ):
        data.append(
            {
                "type": "bar",
                "x": months,
                "y": [int(v) for v in by_month[column]],
                "name": name,
                "yaxis": "y2",
                "marker": {"color": color},
                "opacity": 0.55,
                "customdata": names,
                "hovertemplate": f"%{{customdata}}: <b>%{{y}}</b> {name.lower()}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": months,
            "y": [_num(v) for v in by_month["kept_pct"]],
            "name": "Share kept",
            "mode": "lines+markers",
            "connectgaps": False,
            "line": {"color": BLUE, "width": 2.5},
            "marker": {"size": 7},
            "customdata": [
                [n, int(k), int(b)]
                for n, k, b in zip(names, by_month["kept"], by_month["broken"], strict=True)
            ],
            "hovertemplate": "%{customdata[0]}: <b>%{y:.1f} %</b> kept<br>(%{customdata[1]} kept, "
            "%{customdata[2]} broken)<extra></extra>",
        }
    )
    return figure(
        data,
        height,
        barmode="stack",
        bargap=0.35,
        legend=_legend(),
        yaxis={
            "title": {"text": "share kept", "font": {"size": 11}},
            "range": [0, 105],
            "ticksuffix": " %",
        },
        yaxis2=_count_axis(int(by_month["promises"].max()), "promises"),
        xaxis=month_axis(),
    )


# ---- collections activity -------------------------------------------------------------------------


def _groups(table: pd.DataFrame, by: str) -> tuple[pd.DataFrame, pd.Series | None]:
    """(rows per group, the 'All' row or None)."""
    is_all = table[by] == "All"
    return table[~is_all], (table[is_all].iloc[0] if is_all.any() else None)


def coverage_chart(
    coverage: pd.DataFrame, by: str = "segment", currency: str | None = None, height: int = 300
) -> Figure:
    """Share of overdue exposure whose customer had an activity in the last 14 days, per group; 'All' as a line."""
    if coverage.empty or int(coverage["overdue_cents"].sum()) == 0:
        return empty_figure("Nothing is overdue on these filters", height=height)
    rows, total = _groups(coverage, by)
    rows = rows[rows["overdue_cents"] > 0]
    pct = [_num(v) for v in rows["coverage_pct"]]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": pct,
        "y": [short_name(v, 22) for v in rows[by]],
        "marker": {
            "color": [GREEN if (v or 0) >= 75 else AMBER if (v or 0) >= 50 else RED for v in pct]
        },
        "text": [f"{v:.1f} %" if v is not None else "" for v in pct],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [
            [g, money(int(c), currency), money(int(o), currency), int(cc), int(oc)]
            for g, c, o, cc, oc in zip(
                rows[by],
                rows["covered_cents"],
                rows["overdue_cents"],
                rows["covered_customers"],
                rows["overdue_customers"],
                strict=True,
            )
        ],
        "hovertemplate": "%{customdata[0]}: <b>%{x:.1f} %</b> covered<br>%{customdata[1]} of %{customdata[2]} overdue"
        "<br>%{customdata[3]} of %{customdata[4]} overdue customers contacted<extra></extra>",
    }
    shapes, notes = [], []
    if total is not None and _num(total["coverage_pct"]) is not None:
        shape, note = _reference_line(
            float(total["coverage_pct"]), f"All {float(total['coverage_pct']):.1f} %"
        )
        shapes, notes = [shape], [note]
    return figure(
        [bar],
        height,
        showlegend=False,
        bargap=0.3,
        shapes=shapes,
        annotations=notes,
        margin={"l": 8, "r": 16, "t": 30, "b": 8},
        xaxis={
            "range": [0, 118],
            "tickvals": [0, 25, 50, 75, 100],
            "ticktext": ["0 %", "25 %", "50 %", "75 %", "100 %"],
        },
        yaxis=_slots(len(rows)),
    )


def latency_chart(latency: pd.DataFrame, by: str = "segment", height: int = 300) -> Figure:
    """Mean and median days from due date to first contact, per group (invoices overdue in the last 90 days)."""
    if latency.empty or int(latency["contacted"].sum()) == 0:
        return empty_figure(
            "No invoice became overdue and was contacted in the last 90 days", height=height
        )
    rows, total = _groups(latency, by)
    rows = rows[rows["became_overdue"] > 0]
    labels = [short_name(v, 22) for v in rows[by]]
    data = []
    for column, name, color in (("mean_days", "Mean", BLUE), ("median_days", "Median", LIGHT_BLUE)):
        values = [_num(v) for v in rows[column]]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "x": values,
                "y": labels,
                "name": name,
                "marker": {"color": color},
                "text": [f"{v:.1f}" if v is not None else "" for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": [
                    [g, int(c), int(b), int(u)]
                    for g, c, b, u in zip(
                        rows[by],
                        rows["contacted"],
                        rows["became_overdue"],
                        rows["uncontacted"],
                        strict=True,
                    )
                ],
                "hovertemplate": f"%{{customdata[0]}}: {name.lower()} <b>%{{x:.1f}} days</b> to first contact<br>"
                "%{customdata[1]} of %{customdata[2]} contacted · %{customdata[3]} never<extra></extra>",
            }
        )
    shown: list[float] = [
        v
        for v in (_num(x) for x in rows[["mean_days", "median_days"]].to_numpy().ravel())
        if v is not None
    ]
    shapes = []
    if total is not None and _num(total["mean_days"]) is not None:
        shape, _note = _reference_line(float(total["mean_days"]), "")
        shapes = [shape]
        data.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "lines",
                "hoverinfo": "skip",
                "name": f"All: mean {float(total['mean_days']):.1f}",
                "line": {"color": MUTED, "dash": "dash", "width": 1},
            }
        )
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.25,
        shapes=shapes,
        legend=_legend(),
        margin={"l": 8, "r": 16, "t": 30, "b": 8},
        xaxis={"range": [0, max(shown or [1.0]) * 1.25], "ticksuffix": " d"},
        yaxis=_slots(len(rows)),
    )
