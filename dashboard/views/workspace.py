"""Invoice workspace views: the invoices grid (Risk hotlist / Current cycle / Paid, or the expected-loss
worklist) under the status, owner and days-past-due controls."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from dashboard import params as gf
from dashboard.metrics import collections as metrics
from dashboard.metrics import predict_ui, service
from dashboard.params import LIST_OPTION, NUMBER_OPTION, TEXT_OPTION
from dashboard.views.base import ChartRequest, View, chart_currency, register
from dashboard.views.grids import HIDDEN, GridFrame, stamp_line

PAGE = "workspace"
workspace = service.invoice_workspace  # cached (the page's row inspector shares it)
TABS = (("hotlist", "Risk hotlist"), ("current", "Current cycle"), ("paid", "Paid"))
# ranked by dashboard.metrics.predict_views.worklist
WORKLIST = "worklist"
WORKLIST_COLUMNS = [
    "invoice_id",
    "rank",
    "customer_name",
    "expected_loss_cents",
    "balance_cents",
    "p_paid_30",
    "days_past_due",
    "expected_date",
    "reason",
    "due_date",
    "sales_rep_id",
    "customer_id",
    "segment",
    "region",
]
ANY_OWNER = gf.ALL_VALUE
MAX_DPD = 100_000
LABELS = {
    "balance_cents": "Open balance",
    "amount_cents": "Amount",
    "days_past_due": "Days past due",
    "dispute": "Dispute",
    "customer_over_limit": "Over limit",
    "promise": "Promise",
    "risk_score": "Risk",
    "action": "Action",
    "next_action": "Next action",
    "settled_by": "Settled by",
    "tab": "Tab",
}
OPEN_COLUMNS = [
    "invoice_id",
    "customer_name",
    "balance_cents",
    "days_past_due",
    "risk_score",
    "action",
    "status",
    "dispute",
    "promise",
    "customer_over_limit",
    "due_date",
    "sales_rep_id",
    "amount_cents",
    "issue_date",
    "promised_date",
    "next_action",
    "customer_id",
    "segment",
    "region",
    "tab",
]
PAID_COLUMNS = [
    "invoice_id",
    "customer_name",
    "amount_cents",
    "settled_on",
    "settled_by",
    "days_past_due",
    "due_date",
    "issue_date",
    "sales_rep_id",
    "customer_id",
    "segment",
    "region",
    "tab",
]
OPEN_HIDDEN = HIDDEN | {"customer_id", "issue_date", "tab", "promised_date", "next_action"}
PAID_HIDDEN = HIDDEN | {"customer_id", "tab"}


def _days(value) -> int | None:
    """A whole number of days from an input (None when blank or not a number), clipped to 0..MAX_DPD."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return min(max(number, 0), MAX_DPD)


def workspace_params(data: dict | None) -> dict:
    """The invoice_workspace arguments (tab, status, owner, dpd_min, dpd_max) from the browser's values, checked."""
    data = data if isinstance(data, dict) else {}
    tab = data.get("tab") if data.get("tab") in (*metrics.WORKSPACE_TABS, WORKLIST) else "hotlist"
    given = data.get("status")
    raw = given if isinstance(given, list | tuple) else []
    status = tuple(s for s in metrics.STATUSES if s in raw) or None
    owner = data.get("owner")
    owner = (
        str(owner)[: gf.MAX_VALUE_LENGTH]
        if isinstance(owner, str) and owner not in (ANY_OWNER, "")
        else None
    )
    return {
        "tab": tab,
        "status": status,
        "owner": owner,
        "dpd_min": _days(data.get("dpd_min")),
        "dpd_max": _days(data.get("dpd_max")),
    }


def action_verbs(actions: pd.Series) -> pd.Series:
    """The verb of each next action ("Call - ..." -> "Call"); an empty grid gives an empty column."""
    return (
        actions.astype("string").str.split(" - ", n=1).str[0]
        if len(actions)
        else actions.astype("string")
    )


def worklist_rows(snap, as_of, filters, scope, params: dict) -> pd.DataFrame:
    """The expected-loss worklist under the owner and days-past-due filters (status does not apply)."""
    frame = predict_ui.worklist(snap, as_of, filters, scope)
    if params["owner"] is not None:
        frame = frame[
            frame["sales_rep_id"]
            == ("" if params["owner"] == metrics.NO_OWNER else params["owner"])
        ]
    if params["dpd_min"] is not None:
        frame = frame[frame["days_past_due"] >= params["dpd_min"]]
    if params["dpd_max"] is not None:
        frame = frame[frame["days_past_due"] <= params["dpd_max"]]
    return frame.reset_index(drop=True)


def tab_rows(snap: Any, as_of: Any, filters: Any, scope: Any, params: dict) -> pd.DataFrame:
    """The rows of a tab under the checked controls (workspace_params), in the scope."""
    if params["tab"] == WORKLIST:
        return worklist_rows(snap, as_of, filters, scope, params)
    return workspace(snap, as_of, filters, scope, **params)


def request_params(req: ChartRequest) -> dict:
    """workspace_params of a request's options (the status list travels as JSON)."""
    status = req.option("status")
    return workspace_params(
        {
            "tab": req.option("tab"),
            "status": json.loads(status) if status is not None else None,
            "owner": req.option("owner"),
            "dpd_min": req.option("dpd_min"),
            "dpd_max": req.option("dpd_max"),
        }
    )


def _invoices(snap: Any, req: ChartRequest) -> GridFrame:
    """The rows of the chosen tab and controls, in the request's scope."""
    params = request_params(req)
    frame = tab_rows(snap, req.as_of, req.filters, req.scope, params)
    cur = chart_currency(snap, req)
    if params["tab"] == WORKLIST:
        frame = frame.assign(p_paid_30=(frame["p_paid_30"] * 100).round(1))
        return GridFrame(
            frame[WORKLIST_COLUMNS],
            currency=cur,
            date_field="due_date",
            file_name="invoices-worklist",
            labels={
                **LABELS,
                "rank": "#",
                "p_paid_30": "P(paid ≤ 30 d) %",
                "expected_loss_cents": "Expected loss",
                "expected_date": "Expected",
                "reason": "Why",
            },
            hidden=OPEN_HIDDEN,
            total_field="expected_loss_cents",
            stamp=stamp_line("Invoice workspace: worklist by expected loss", req, basis=False),
        )
    paid = params["tab"] == "paid"
    columns = PAID_COLUMNS if paid else OPEN_COLUMNS
    labels = {**LABELS, "days_past_due": "Days late" if paid else "Days past due"}
    title = (
        f"Invoice workspace: {dict(TABS)[params['tab']]} | status {', '.join(params['status'] or ['any'])} | owner "
        f"{params['owner'] or 'any'} | days past due {params['dpd_min'] if params['dpd_min'] is not None else 0}–"
        f"{params['dpd_max'] if params['dpd_max'] is not None else 'any'}"
    )
    # the verb; the whole text is in the CSV
    frame = frame.assign(action=action_verbs(frame["next_action"]))
    return GridFrame(
        frame[columns],
        currency=cur,
        date_field="settled_on" if paid else "due_date",
        file_name=f"invoices-{params['tab']}",
        labels=labels,
        hidden=PAID_HIDDEN if paid else OPEN_HIDDEN,
        stamp=stamp_line(title, req, basis=False),
    )


register(
    View(
        "workspace_invoices",
        "Invoice workspace",
        PAGE,
        frame=_invoices,
        formats=("grid",),
        grid="ws-invoices",
        needs_filters=True,
        options={
            "tab": (*metrics.WORKSPACE_TABS, WORKLIST),
            "status": LIST_OPTION,
            "owner": TEXT_OPTION,
            "dpd_min": NUMBER_OPTION,
            "dpd_max": NUMBER_OPTION,
        },
    )
)
