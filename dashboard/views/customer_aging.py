"""Customer aging views: the aging grid of each terms group (30-day+ and short terms), in the user's
own day ranges."""

from __future__ import annotations

import json
import time
from typing import Any

from dashboard import params as gf
from dashboard.data.user_prefs import DEFAULT_RANGES, format_ranges, parse_aging_ranges
from dashboard.figures.aging import TRANSACTION_LABELS
from dashboard.figures.analytics import STATUS_COLORS, fitted_columns, label_cell_style, text_width
from dashboard.metrics import service, tables
from dashboard.params import LIST_OPTION
from dashboard.views.base import ChartRequest, View, chart_currency, register
from dashboard.views.grids import GridFrame

PAGE = "customer_aging"
# (terms group, grid name, card title): 30-day+ first, as in the Retailer tab
GROUPS = (("long", "ag-long", "30-day+ terms"), ("short", "ag-short", "Short terms (< 30 days)"))
KEEP = ("customer_id", "customer_name", "terms", "credit_limit_cents", "amount_cents")
TAIL = ("max_days", "status", "segment", "region", "sales_rep_id")
STATUS_INFO = (
    "Status is the worst condition of the customer at the as-of date, first match wins: "
    "Over Limit = total outstanding above a credit limit > 0; Critical = an invoice more than 90 days past due; "
    "Overdue = more than 30 days past due; Late = 1 to 30 days past due; Current = nothing past due. "
    "Days past due always count from the due date, whatever the aging basis."
)


def edges_from(raw) -> tuple[int, ...]:
    """Day limits from browser data (re-validated; anything unusable gives the defaults)."""
    if not isinstance(raw, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw
    ):
        return DEFAULT_RANGES
    try:
        return parse_aging_ranges(format_ranges(raw))
    except ValueError:
        return DEFAULT_RANGES


def bucket_title(label: str, basis: str) -> str:
    """'1-30' -> '1–30 days', '90+' -> '90+ days', 'not_due' -> 'Not due', '1_month' -> '1 month'."""
    if basis == "transaction":
        return TRANSACTION_LABELS.get(label, label)
    if label == "not_due":
        return "Not due"
    return label.replace("-", "–") + " days"


def aging_frame(snap: Any, req: ChartRequest, group: str) -> GridFrame:
    """The aging rows of one terms group for the request's filters and ranges (option "ranges")."""
    ranges = req.option("ranges")
    edges = edges_from(json.loads(ranges) if ranges is not None else None)
    basis = req.basis
    table = service.customer_aging(snap, req.as_of, req.filters, req.scope, basis, edges)
    buckets = [f"{label}_cents" for label in tables.bucket_labels(edges, basis)]
    frame = table.loc[table["terms_group"] == group, [*KEEP, *buckets, *TAIL]].reset_index(
        drop=True
    )
    limit = frame["credit_limit_cents"].astype("float64")
    frame["credit_limit_cents"] = limit.where(limit > 0)  # blank = no limit
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "amount_cents": "Total outstanding",
        "max_days": "Max days past due" if basis == "due" else "Max months since invoice",
        **{b: bucket_title(b[: -len("_cents")], basis) for b in buckets},
    }
    currency = chart_currency(snap, req)
    columns = fitted_columns(
        frame,
        currency,
        {
            "customer_id": {"pinned": "left", "width": 84, "suppressHeaderFilterButton": True},
            "customer_name": {
                "pinned": "left",
                "width": 190,
                "flex": None,
                "tooltipField": "customer_name",
            },
            # letters are wider than digits
            "terms": {"width": text_width(frame["terms"].astype(str), 76) + 12},
            "max_days": {
                "width": 80,
                "headerTooltip": "Highest days past due of any open invoice"
                if basis == "due"
                else "Most whole calendar months since the invoice date of any open invoice",
            },
            "status": {
                "width": 100,
                "pinned": "right",
                "cellStyle": label_cell_style(STATUS_COLORS),
                "headerTooltip": STATUS_INFO,
            },
        },
    )
    columns["amount_cents"].update(
        cellStyle={"fontWeight": 600}, width=columns["amount_cents"]["width"] + 8
    )
    # the buckets share what is left of the width, none narrower than its widest amount
    for b in buckets:
        columns[b].update(flex=1, minWidth=columns[b].pop("width"))
    title = dict((g, t) for g, _n, t in GROUPS)[group]
    stamp = (
        f"Customer aging, {title} | ranges {','.join(map(str, edges))} | "
        f"{gf.describe_request(req.as_of, basis, req.filters)} | "
        f"scope: {req.scope.label} | generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    return GridFrame(
        frame,
        currency=currency,
        file_name=f"customer-aging-{group}",
        labels=labels,
        hidden=frozenset({"segment", "region", "sales_rep_id"}),
        stamp=stamp,
        columns=columns,
    )


def _group(group: str) -> Any:
    def rows(snap: Any, req: ChartRequest) -> GridFrame:
        return aging_frame(snap, req, group)

    rows.__name__ = rows.__qualname__ = f"aging_{group}"
    return rows


for _group_key, _grid, _title in GROUPS:
    register(
        View(
            f"customer_aging_{_group_key}",
            f"Customer aging · {_title}",
            PAGE,
            frame=_group(_group_key),
            formats=("grid",),
            grid=_grid,
            options={"ranges": LIST_OPTION},
        )
    )
