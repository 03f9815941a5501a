"""Account 360 views: one customer's aging and 12 months of invoiced vs paid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from dashboard import format as fmt
from dashboard.figures import aging as aging_fig
from dashboard.figures import trends as trends_fig
from dashboard.format import default_currency, to_cents
from dashboard.metrics.filters import Scope
from dashboard.metrics.service import account_360
from dashboard.views.base import Chart, ChartRequest, View, register
from dashboard.views.grids import GridFrame

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


# ---- the invoices and payments grids ------------------------------------------------------------


def _money_frame(
    records: list[dict], money_keys: tuple[str, ...], columns: list[str]
) -> pd.DataFrame:
    """Records with money strings -> a frame with exact *_cents columns."""
    out = pd.DataFrame(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for key in money_keys:
        out[f"{key}_cents"] = (
            pd.array([fmt.to_cents(v) for v in out[key]], dtype="Int64")
            if len(out)
            else pd.array([], dtype="Int64")
        )
    return out.drop(columns=list(money_keys))


def _invoices(snap: Any, req: ChartRequest) -> GridFrame | None:
    """The customer's invoices and credit notes (None when unknown or outside the scope)."""
    data, currency = account_data(snap, req.customer_id, req.as_of, req.scope)
    if data is None:
        return None
    frame = _money_frame(
        data["invoices"],
        ("amount", "balance", "over_applied"),
        [
            "invoice_id",
            "status",
            "issue_date",
            "due_date",
            "days_past_due",
            "amount",
            "balance",
            "over_applied",
            "settled_on",
            "disputed",
            "currency",
            "balance_base",
        ],
    )
    base = data["summary"]["base_currency"]
    if data["summary"]["currency"] == base and all(
        r.get("currency") == base for r in data["invoices"]
    ):
        # one currency: nothing to put side by side
        frame = frame.drop(columns=["currency", "balance_base"])
    return GridFrame(
        frame,
        currency=currency,
        date_field="issue_date",
        file_name=f"invoices-{data['customer_id']}",
        link_customers=False,
        labels={
            "balance_cents": "Open balance",
            "over_applied_cents": "Over-applied (credit)",
            "balance_base": f"Open balance in {base} at the as-of rate",
        },
        total_field="balance_cents",
        stamp=f"Invoices of {data['customer_id']} {data['name']} | as of {data['as_of']}",
    )


def _payments(snap: Any, req: ChartRequest) -> GridFrame | None:
    """The customer's payments (None when unknown or outside the scope)."""
    data, currency = account_data(snap, req.customer_id, req.as_of, req.scope)
    if data is None:
        return None
    frame = _money_frame(
        data["payments"],
        ("amount", "unapplied"),
        ["payment_id", "date", "amount", "unapplied", "currency", "amount_base"],
    )
    base = data["summary"]["base_currency"]
    if all(p.get("currency") == base for p in data["payments"]):
        # one currency: nothing to put side by side
        frame = frame.drop(columns=["currency", "amount_base"])
    return GridFrame(
        frame,
        currency=currency,
        date_field="date",
        file_name=f"payments-{data['customer_id']}",
        link_customers=False,
        labels={"amount_base": f"Amount in {base} at the payment date's rate"},
        stamp=f"Payments of {data['customer_id']} {data['name']} | as of {data['as_of']}",
    )


register(
    View(
        "account_invoices",
        "Invoices and credit notes",
        PAGE,
        frame=_invoices,
        formats=("grid",),
        grid="acct-invoices",
        needs_customer=True,
    )
)
register(
    View(
        "account_payments",
        "Payments",
        PAGE,
        frame=_payments,
        formats=("grid",),
        grid="acct-payments",
        needs_customer=True,
    )
)
