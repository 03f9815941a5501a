"""Aging donuts (one per terms group) and the per-customer aging bar."""

from __future__ import annotations

import pandas as pd

from dashboard.figures.base import Figure, dollars, empty_figure, figure
from dashboard.format import money, symbol, to_cents

DUE_LABELS = {
    "not_due": "Not due",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "90+ days",
}
TRANSACTION_LABELS = {
    "current": "Current",
    "1_month": "1 month",
    "2_months": "2 months",
    "3+_months": "3+ months",
}
DUE_COLORS = {
    "not_due": "#2e8b57",
    "1-30": "#a3c644",
    "31-60": "#f2b01e",
    "61-90": "#f07b22",
    "90+": "#c8332b",
}
TRANSACTION_COLORS = {
    "current": "#2e8b57",
    "1_month": "#f2b01e",
    "2_months": "#f07b22",
    "3+_months": "#c8332b",
}
GROUP_TITLES = {"short": "Short terms (< 30 days)", "long": "30-day+ terms"}


def bucket_labels(basis: str) -> dict[str, str]:
    """Bucket key -> label for an aging basis."""
    return TRANSACTION_LABELS if basis == "transaction" else DUE_LABELS


def bucket_colors(basis: str) -> dict[str, str]:
    """Bucket key -> colour (green to red)."""
    return TRANSACTION_COLORS if basis == "transaction" else DUE_COLORS


def aging_donut(
    frame: pd.DataFrame,
    group: str,
    basis: str = "due",
    currency: str | None = None,
    height: int = 300,
) -> Figure:
    """Donut of open balances by bucket for one terms group (rows of tables.aging_by_terms_group).

    Slices carry [bucket, exact amount, group] as customdata for drill-downs; the legend toggles
    slices; the hole shows the group's total.
    """
    rows = frame[frame["terms_group"] == group] if len(frame) else frame
    total = int(rows["amount_cents"].sum()) if len(rows) else 0
    if total <= 0:
        return empty_figure(
            f"No open balances on {GROUP_TITLES.get(group, group).lower()}", height=height
        )
    labels, colors = bucket_labels(basis), bucket_colors(basis)
    amounts = dict(zip(rows["bucket"], (int(v) for v in rows["amount_cents"]), strict=True))
    keys = [k for k in labels if k in amounts]
    pie = {
        "type": "pie",
        "labels": [labels[k] for k in keys],
        "values": [dollars(amounts[k]) for k in keys],
        "customdata": [[k, money(amounts[k], currency), group] for k in keys],
        "marker": {"colors": [colors[k] for k in keys], "line": {"color": "#fff", "width": 1}},
        "hole": 0.62,
        # clear of the legend below: the ring is never cut flat
        "domain": {"x": [0, 1], "y": [0.1, 1]},
        "sort": False,
        "direction": "clockwise",
        "texttemplate": "%{percent:.1%}",
        "textposition": "inside",
        "insidetextorientation": "horizontal",
        "hovertemplate": "%{label}<br>%{customdata[1]}<br>%{percent}<extra></extra>",
    }
    hole = {
        "text": f"Total<br><b>{money(total, currency)}</b>",
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
        showlegend=True,
        annotations=[hole],
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={
            "orientation": "h",
            "x": 0.5,
            "xanchor": "center",
            "y": -0.02,
            "yanchor": "top",
            "itemclick": "toggle",
            "font": {"size": 12},
        },
        margin={"l": 8, "r": 8, "t": 30, "b": 30},
        meta={"total_cents": total},
    )


def customer_aging_bar(
    aging: dict[str, str], currency: str | None = None, height: int = 220
) -> Figure:
    """One customer's open balance by due-date bucket (account_360()['aging_due'], money strings)."""
    cents = {k: to_cents(v) or 0 for k, v in (aging or {}).items()}
    if sum(cents.values()) <= 0:
        return empty_figure("Nothing outstanding", height=height)
    keys = [k for k in DUE_LABELS if k in cents]
    bar = {
        "type": "bar",
        "x": [DUE_LABELS[k] for k in keys],
        "y": [dollars(cents[k]) for k in keys],
        "marker": {"color": [DUE_COLORS[k] for k in keys]},
        "text": [money(cents[k], currency) if cents[k] else "" for k in keys],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [money(cents[k], currency) for k in keys],
        "hovertemplate": "%{x}<br>%{customdata}<extra></extra>",
    }
    top = max(dollars(v) for v in cents.values())
    return figure(
        [bar],
        height,
        showlegend=False,
        margin={"l": 8, "r": 8, "t": 24, "b": 8},
        yaxis={"range": [0, top * 1.2], "tickprefix": symbol(currency), "tickformat": "~s"},
    )


def reconciling_line(frame: pd.DataFrame, rec: dict, currency: str | None = None) -> str:
    """The donuts tied to total AR in one line: short + long (+ customers in credit, left out) = total AR."""
    short = (
        int(frame.loc[frame["terms_group"] == "short", "amount_cents"].sum()) if len(frame) else 0
    )
    long_ = (
        int(frame.loc[frame["terms_group"] == "long", "amount_cents"].sum()) if len(frame) else 0
    )
    text = f"Donuts: short terms {money(short, currency)} + 30-day+ terms {money(long_, currency)}"
    if rec["left_out_cents"]:
        n = rec["customers_left_out"]
        text += (
            f" + {money(rec['left_out_cents'], currency)} owed by {n:,} customer{'' if n == 1 else 's'} whose "
            "unapplied credits exceed their balance (left out of the donuts)"
        )
    return f"{text} = total AR {money(rec['total_ar_cents'], currency)}."
