"""Top debtors: a horizontal bar, largest at the top."""

from __future__ import annotations

from dashboard.figures.base import BLUE, Figure, dollars, empty_figure, figure
from dashboard.format import money, money_short, symbol, to_cents

MAX_LABEL = 28


def short_name(name: str, limit: int = MAX_LABEL) -> str:
    """A name cut to fit an axis label."""
    name = " ".join(str(name or "").split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def top_debtors_bar(debtors: list[dict], currency: str | None = None, height: int = 320) -> Figure:
    """Bars of compute_kpis()['top_debtors'] ({customer_id, name, balance}); customdata [id, name, amount]."""
    if not debtors:
        return empty_figure("No customer owes anything on these filters", height=height)
    seen: dict[str, int] = {}
    labels = []
    for d in debtors:
        label = short_name(d["name"]) or d["customer_id"]
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({d['customer_id']})")
    cents = [to_cents(d["balance"]) or 0 for d in debtors]
    texts = [money(c, currency) for c in cents]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": [dollars(c) for c in cents],
        "y": labels,
        "marker": {"color": BLUE},
        # compact: never clipped on a phone; exact on hover
        "text": [money_short(c, currency) for c in cents],
        "textposition": "auto",  # inside a long bar, beside a short one: never past the plot's edge
        "cliponaxis": False,
        "customdata": [
            [d["customer_id"], d["name"], t] for d, t in zip(debtors, texts, strict=True)
        ],
        "hovertemplate": "%{customdata[1]} (%{customdata[0]})<br>%{customdata[2]}<extra></extra>",
    }
    top = max(dollars(c) for c in cents)
    return figure(
        [bar],
        height,
        showlegend=False,
        bargap=0.25,
        margin={"l": 8, "r": 16, "t": 30, "b": 8},
        yaxis={"autorange": "reversed", "ticksuffix": "  "},
        xaxis={"range": [0, top * 1.32], "tickformat": "~s", "tickprefix": symbol(currency)},
    )
