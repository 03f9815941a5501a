"""The drill-down grid: the rows behind a figure (any page's), totalling to the figure clicked.

Its source data is {"request": {"key", "title", "params": {...}, "nonce"}, "filters": ...} (what
components.drill writes); the key is one of metrics.drill.all_drill_keys() or a page's drill
(`register_drill`), whose capability the grid's access check asks for.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from dashboard import params as gf
from dashboard.figures.aging import DUE_LABELS, TRANSACTION_LABELS
from dashboard.metrics.columns import relabel
from dashboard.metrics.drill import all_drill_keys, drill_any, drill_plan_any
from dashboard.params import TEXT_OPTION
from dashboard.views.base import DRILLS, ChartRequest, View, chart_currency, register
from dashboard.views.grids import PREVIEW_ROWS, GridFrame, Preview

PARAMS = ("bucket", "customer_id", "terms_group_name", "month")
AMOUNT_LABELS = {
    "credit_sales": "Amount",
    "credit_sales_mtd": "Amount",
    "credit_sales_year": "Amount",
    "month_sales": "Amount",
    "collections": "Payment",
    "collections_mtd": "Payment",
    "month_collections": "Payment",
    "write_offs": "Written off",
    "unapplied_credits": "Unapplied",
    "customers_with_balance": "Balance",
    "customers_over_limit": "Balance",
    "at_risk": "Balance",
    "avg_days_to_pay": "Invoice amount",
}
ORDER = (
    "invoice_id",
    "payment_id",
    "id",
    "type",
    "customer_name",
    "customer_id",
    "reason",
    "issue_date",
    "due_date",
    "date",
    "settled_on",
    "days_past_due",
    "aging_due",
    "aging_transaction",
    "days_to_pay",
    "days_late",
    "terms",
    "credit_limit_cents",
    "utilization_pct",
    "invoice_amount_cents",
    "overdue_cents",
    "overdue_60_plus_cents",
    "overdue_90_plus_cents",
    "currency",
    "amount_in_currency",
    "amount_cents",
)


def request_options(data: dict) -> dict[str, str]:
    """The drill's options from the grid's source data: key, title and params as text (at most 200
    characters each; never trusted for scope)."""
    req = data.get("request")
    if not isinstance(req, dict) or not isinstance(req.get("key"), str):
        return {}
    given = req.get("params")
    raw = given if isinstance(given, dict) else {}
    params = {k: str(raw[k])[:200] for k in PARAMS if isinstance(raw.get(k), str | int)}
    return {"key": req["key"], "title": str(req.get("title") or req["key"])[:200], **params}


def known(key: str | None) -> bool:
    """A drill key of the metrics or of a page."""
    return key is not None and (key in all_drill_keys() or key in DRILLS)


def capability_for(req: ChartRequest) -> str | None:
    """The capability a page's drill key needs (None for the metrics' keys)."""
    page = DRILLS.get(req.option("key") or "")
    return page.capability if page is not None else None


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in reading order (ids, customer, dates, ages, amounts; the figure's amount last), labels for keys."""
    first = [c for c in ORDER if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    for column, labels in (("aging_due", DUE_LABELS), ("aging_transaction", TRANSACTION_LABELS)):
        if column in frame.columns:
            frame = frame.assign(**{column: relabel(frame[column], labels)})
    return frame


def _drill(snap: Any, req: ChartRequest) -> GridFrame | None:
    """The drill rows for a request and filters, in the request's scope (None for an unknown key)."""
    key = req.option("key")
    if key is None or not known(key):
        return None
    params = {name: value for name, value in req.options if name in PARAMS}
    page = DRILLS.get(key)
    try:
        if page is not None:
            frame = page.rows(
                snap, key, req.as_of, gf.PERIOD_DAYS, req.filters, req.scope, **params
            )
        else:
            frame = drill_any(
                snap, key, req.as_of, gf.PERIOD_DAYS, req.filters, req.scope, **params
            )
    except ValueError:
        return None
    return _grid_frame(snap, req, key, frame)


def _preview(snap: Any, req: ChartRequest) -> Preview | None:
    """The drill rows' Preview (count, exact totals, first rows; the same rows, columns and
    labels as _drill's frame) for the invoice drill-downs of the metrics; None for the others."""
    key = req.option("key")
    if key is None or not known(key) or key in DRILLS:
        return None
    params = {name: value for name, value in req.options if name in PARAMS}
    try:
        plan = drill_plan_any(
            snap, key, req.as_of, gf.PERIOD_DAYS, req.filters, req.scope, **params
        )
    except ValueError:
        return None
    if plan is None:
        return None
    first = _grid_frame(snap, req, key, plan.head(min(PREVIEW_ROWS, plan.n_rows)))
    return Preview(
        first, plan.n_rows, plan.totals, lambda a, b: ordered(plan.part(a, b)), plan=plan
    )


def _grid_frame(snap: Any, req: ChartRequest, key: str, frame: pd.DataFrame) -> GridFrame:
    """A drill's rows as the grid shows them (column order, labels, stamp)."""
    title = req.option("title") or key
    page = DRILLS.get(key)
    currency = chart_currency(snap, req)
    label = AMOUNT_LABELS.get(key, "Open balance")
    described = gf.describe_request(req.as_of, req.basis, req.filters)
    stamp = f"{title} | {described} | scope: {req.scope.label} | generated {time.strftime('%Y-%m-%d %H:%M:%S')}"
    if snap.multi:
        stamp += f" | amounts in {currency} at the rates of {req.as_of.isoformat()} (transaction currency beside)"
    date_field = next((c for c in ("issue_date", "date", "settled_on") if c in frame.columns), None)
    labels = {"amount_cents": label} if page is None else {"amount_cents": "Amount", **page.labels}
    labels = {"currency": "Currency", "amount_in_currency": "In transaction currency", **labels}
    labels["amount_cents"] = (
        f"{labels['amount_cents']} ({currency})" if snap.multi else labels["amount_cents"]
    )
    return GridFrame(
        ordered(frame) if page is None else frame,
        currency=currency,
        date_field=date_field,
        file_name=f"drill-{key}",
        labels=labels,
        stamp=stamp,
    )


register(
    View(
        "drill",
        "Drill-down",
        None,  # shared: the modal of every page
        frame=_drill,
        formats=("grid",),
        grid="drill",
        options={name: TEXT_OPTION for name in ("key", "title", *PARAMS)},
        source_options=request_options,
        capability_for=capability_for,
        preview=_preview,
    )
)
