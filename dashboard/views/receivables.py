"""Receivables Health views: the aging donuts, top debtors and the two 12-month trends."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures import aging as aging_fig
from dashboard.figures import debtors as debtors_fig
from dashboard.figures import trends as trends_fig
from dashboard.format import to_cents
from dashboard.metrics.service import aging_by_terms_group, kpis, monthly_trend
from dashboard.views.base import Chart, ChartBuilder, ChartRequest, View, chart_currency, register

PAGE = "receivables"


def _aging(group: str) -> ChartBuilder:
    def build(snap: Any, req: ChartRequest) -> Chart:
        cur = chart_currency(snap, req)
        frame = aging_by_terms_group(snap, req.as_of, req.filters, req.scope, req.basis)
        figure = aging_fig.aging_donut(frame, group, req.basis, cur)
        rows = frame[frame["terms_group"] == group] if len(frame) else frame
        labels = aging_fig.bucket_labels(req.basis)
        data = pd.DataFrame(
            {
                "terms_group": [group] * len(rows),
                "bucket": list(rows["bucket"]) if len(rows) else [],
                "bucket_label": [labels.get(b, b) for b in rows["bucket"]] if len(rows) else [],
                "amount_cents": [int(v) for v in rows["amount_cents"]] if len(rows) else [],
            }
        )
        title = f"Aging · {aging_fig.GROUP_TITLES[group]}"
        return Chart(f"aging_{group}", title, figure, data, cur, width=700, height=460)

    return build


def _top_debtors(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    top = kpis(snap, req.as_of, req.period_days, req.filters, req.scope)["top_debtors"]
    figure = debtors_fig.top_debtors_bar(top, cur)
    data = pd.DataFrame(
        {
            "rank": list(range(1, len(top) + 1)),
            "customer_id": [d["customer_id"] for d in top],
            "customer_name": [d["name"] for d in top],
            "balance_cents": [to_cents(d["balance"]) for d in top],
        }
    )
    return Chart("top_debtors", "Top 10 debtors", figure, data, cur, height=460)


def _trend(snap: Any, req: ChartRequest) -> pd.DataFrame:
    return monthly_trend(snap, req.as_of, 12, req.period_days, req.filters, req.scope)


def _sales_collections(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    trend = _trend(snap, req)
    data = pd.DataFrame(
        {
            "month": list(trend["month"]),
            "credit_sales_cents": [int(v) for v in trend["credit_sales_cents"]],
            "collections_cents": [int(v) for v in trend["collections_cents"]],
        }
    )
    return Chart(
        "sales_collections",
        "Sales vs collections · 12 months",
        trends_fig.sales_collections(trend, cur),
        data,
        cur,
    )


def _dso_trend(snap: Any, req: ChartRequest) -> Chart:
    cur = chart_currency(snap, req)
    trend = _trend(snap, req)
    data = pd.DataFrame(
        {
            "month": list(trend["month"]),
            "month_end": list(trend["month_end"]),
            "ar_cents": [int(v) for v in trend["ar_cents"]],
            "dso": [None if pd.isna(v) else round(float(v), 2) for v in trend["dso"]],
        }
    )
    # AR at month ends does not add up across months: no totals row.
    return Chart(
        "dso_trend",
        "DSO trend · 12 months",
        trends_fig.dso_trend(trend, req.period_days, cur),
        data,
        cur,
        total_columns=[],
    )


AGING_DRILLS = ("aging_due", "aging_transaction")
register(View("aging_short", "Aging · short terms", PAGE, _aging("short"), drill_keys=AGING_DRILLS))
register(View("aging_long", "Aging · 30-day+ terms", PAGE, _aging("long"), drill_keys=AGING_DRILLS))
register(View("top_debtors", "Top 10 debtors", PAGE, _top_debtors, drill_keys=("total_ar",)))
register(
    View(
        "sales_collections",
        "Sales vs collections",
        PAGE,
        _sales_collections,
        drill_keys=("month_sales", "month_collections"),
    )
)
register(View("dso_trend", "DSO trend", PAGE, _dso_trend, drill_keys=("ar_at",)))
