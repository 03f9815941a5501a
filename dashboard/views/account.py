"""Account 360 views: one customer's aging and 12 months of invoiced vs paid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from dashboard.figures import aging as aging_fig
from dashboard.figures import trends as trends_fig
from dashboard.format import default_currency, to_cents
from dashboard.metrics.filters import Scope
from dashboard.metrics.ui_support import account_360
from dashboard.views.base import Chart, ChartRequest, View, register

PAGE = "account"


def account_data(
    snap: Any, customer_id: str | None, as_of: dt.date, scope: Scope
) -> tuple[dict | None, str]:
    """(account_360 dict, the customer's currency); None when unknown or outside the scope."""
    currency = default_currency()
    if not isinstance(customer_id, str) or not customer_id or len(customer_id) > 200:
        return None, currency
    data = account_360(snap, customer_id, as_of, scope)
    if data is not None:
        pos = snap.cust_index.get(customer_id)
        currency = (str(snap.currency[pos]) or currency).upper() if pos is not None else currency
    return data, currency


def _account_aging(snap: Any, req: ChartRequest) -> Chart | None:
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
    base = data["summary"]["base_currency"]
    return Chart(
        "account_trend",
        f"Invoiced vs paid · 12 months · {subject}",
        # a foreign-currency customer's figure names the base too, as on the screen
        trends_fig.customer_trend(data["trend"], cur, base=None if cur == base else base),
        frame,
        cur,
        subject=subject,
        height=400,
    )


register(View("account_aging", "Account aging", PAGE, _account_aging, needs_customer=True))
register(
    View("account_trend", "Account invoiced vs paid", PAGE, _account_trend, needs_customer=True)
)
