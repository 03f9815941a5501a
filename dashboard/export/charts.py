"""Exportable charts by name: each rebuilds the figure and the data behind it from the pure functions
the page uses (same metrics, same cache, same figure builder), so an export ties to the screen.

    spec = CHARTS["top_debtors"]
    chart = spec.build(snapshot, ChartRequest(as_of, "due", 90, filters, scope))   # None: 404
    chart.figure, chart.frame (money in *_cents), chart.total_columns

A page shows an export menu for a chart with dashboard.components.export_menu.export_menu(name);
add a chart here with `register_chart(name, title, builder)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboard.metrics.filters import Filters, Scope


@dataclass(frozen=True)
class ChartRequest:
    """What to draw: as-of, aging basis, period, filters (from the request), scope (from the server)."""

    as_of: dt.date
    basis: str
    period_days: int
    filters: Filters
    scope: Scope
    customer_id: str | None = None
    # page-local choices (e.g. ("by", "region")), validated
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        """A page-local choice of the request (None when not given)."""
        return dict(self.options).get(name)


@dataclass
class Chart:
    """A built chart: the figure, the rows behind it and which money columns add up to a total."""

    name: str
    title: str
    figure: dict
    frame: pd.DataFrame
    currency: str
    total_columns: list[str] | None = None  # None: every *_cents column; []: no totals row
    subject: str | None = None  # e.g. the customer of an Account 360 chart
    width: int = 900
    height: int = 450


ChartBuilder = Callable[[Any, ChartRequest], Chart | None]


@dataclass(frozen=True)
class ChartSpec:
    """A registered chart."""

    name: str
    title: str
    build: ChartBuilder
    needs_customer: bool = False
    # a role capability needed beyond "export" (e.g. view_commissions)
    capability: str | None = None
    # extra parameter -> allowed values
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)


CHARTS: dict[str, ChartSpec] = {}


def register_chart(
    name: str,
    title: str,
    build: ChartBuilder,
    needs_customer: bool = False,
    capability: str | None = None,
    options: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Make a chart exportable as PNG, CSV and XLSX under /export/chart/<name>.<fmt>."""
    CHARTS[name] = ChartSpec(name, title, build, needs_customer, capability, dict(options or {}))


def chart_currency(snap: Any, req: ChartRequest) -> str:
    from dashboard.format import default_currency
    from dashboard.metrics.ui_support import currency_for

    return currency_for(snap, req.filters, req.scope, default_currency())


# ---- Receivables Health -----------------------------------------------------------------------


def _aging(group: str) -> ChartBuilder:
    def build(snap: Any, req: ChartRequest) -> Chart:
        from dashboard.figures import aging as aging_fig
        from dashboard.metrics.ui_support import aging_by_terms_group

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
    from dashboard.figures import debtors as debtors_fig
    from dashboard.format import to_cents
    from dashboard.metrics.ui_support import kpis

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
    from dashboard.metrics.ui_support import monthly_trend

    return monthly_trend(snap, req.as_of, 12, req.period_days, req.filters, req.scope)


def _sales_collections(snap: Any, req: ChartRequest) -> Chart:
    from dashboard.figures import trends as trends_fig

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
    from dashboard.figures import trends as trends_fig

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


# ---- Account 360 ------------------------------------------------------------------------------


def account_data(
    snap: Any, customer_id: str | None, as_of: dt.date, scope: Scope
) -> tuple[dict | None, str]:
    """(account_360 dict, the customer's currency); None when unknown or outside the scope."""
    from dashboard.format import default_currency
    from dashboard.metrics.ui_support import account_360

    currency = default_currency()
    if not isinstance(customer_id, str) or not customer_id or len(customer_id) > 200:
        return None, currency
    data = account_360(snap, customer_id, as_of, scope)
    if data is not None:
        pos = snap.cust_index.get(customer_id)
        currency = (str(snap.currency[pos]) or currency).upper() if pos is not None else currency
    return data, currency


def _account_aging(snap: Any, req: ChartRequest) -> Chart | None:
    from dashboard.figures import aging as aging_fig
    from dashboard.format import to_cents

    data, cur = account_data(snap, req.customer_id, req.as_of, req.scope)
    if data is None:
        return None
    aging = data["aging_due"]
    frame = pd.DataFrame(
        {
            "bucket": list(aging),
            "bucket_label": [aging_fig.DUE_LABELS.get(k, k) for k in aging],
            "amount_cents": [to_cents(v) for v in aging.values()],
        }
    )
    subject = f"{data['customer_id']} {data['name']}"
    return Chart(
        "account_aging",
        f"Aging (days past due) · {subject}",
        aging_fig.customer_aging_bar(aging, cur),
        frame,
        cur,
        subject=subject,
        height=380,
    )


def _account_trend(snap: Any, req: ChartRequest) -> Chart | None:
    from dashboard.figures import trends as trends_fig
    from dashboard.format import to_cents

    data, cur = account_data(snap, req.customer_id, req.as_of, req.scope)
    if data is None:
        return None
    frame = pd.DataFrame(
        {
            "month": [r["month"] for r in data["trend"]],
            "invoiced_cents": [to_cents(r["invoiced"]) for r in data["trend"]],
            "paid_cents": [to_cents(r["paid"]) for r in data["trend"]],
        }
    )
    subject = f"{data['customer_id']} {data['name']}"
    return Chart(
        "account_trend",
        f"Invoiced vs paid · 12 months · {subject}",
        trends_fig.customer_trend(data["trend"], cur),
        frame,
        cur,
        subject=subject,
        height=400,
    )


register_chart("aging_short", "Aging · short terms", _aging("short"))
register_chart("aging_long", "Aging · 30-day+ terms", _aging("long"))
register_chart("top_debtors", "Top 10 debtors", _top_debtors)
register_chart("sales_collections", "Sales vs collections", _sales_collections)
register_chart("dso_trend", "DSO trend", _dso_trend)
register_chart("account_aging", "Account aging", _account_aging, needs_customer=True)
register_chart("account_trend", "Account invoiced vs paid", _account_trend, needs_customer=True)


def _register_analytics() -> None:
    """The analytics pages' charts (their own module, registered on import)."""
    import dashboard.export.analytics_charts  # noqa: F401


_register_analytics()
