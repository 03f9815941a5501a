"""The board-pack sheets of the analytics pages (see dashboard.export.page_pdf)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard import format as fmt
from dashboard.data.tiers import load_tiers
from dashboard.export.page_pdf import PageSheet, register_page_sheet
from dashboard.export.pdf import RECEIVABLES_CHARTS, Tile, receivables_tiles
from dashboard.metrics import collections as metrics
from dashboard.metrics import credit, forecast, reliability, service, value
from dashboard.metrics import predict_ui as pui
from dashboard.metrics import predict_views as pv
from dashboard.metrics.commissions import cached_at_risk_by_rep, cached_tiles
from dashboard.metrics.service import customers_with_limit
from dashboard.metrics.tables import at_risk_accounts, customer_aging
from dashboard.params import PERIOD_DAYS
from dashboard.views import ChartRequest
from dashboard.views.collections import activity_for as _collections


def _receivables_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    return receivables_tiles(snap, req.as_of, req.period_days, req.filters, req.scope, cur)[1]


def _receivables_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = at_risk_accounts(snap, req.as_of, req.filters, req.scope)
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "amount_cents": "Open balance",
        "credit_limit_cents": "Limit",
        "max_days": "Max days",
        "status": "Status",
    }
    return "At-risk accounts", frame, labels


def _collections_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    result, by = _collections(snap, req)
    cov = result["coverage"].set_index(by).loc["All"]
    lat = result["latency"].set_index(by).loc["All"]
    pct = None if pd.isna(cov["coverage_pct"]) else float(cov["coverage_pct"])
    mean = None if pd.isna(lat["mean_days"]) else float(lat["mean_days"])
    return [
        Tile(
            "Overdue",
            fmt.money(int(cov["overdue_cents"]), cur),
            f"{fmt.number(cov['overdue_customers'])} customers",
        ),
        Tile(
            "Covered by activity (14 days)", fmt.pct(pct), fmt.money(int(cov["covered_cents"]), cur)
        ),
        Tile(
            "Mean days to first contact",
            fmt.days(mean),
            f"{fmt.number(lat['contacted'])} contacted",
        ),
        Tile(
            "Never contacted",
            fmt.number(lat["uncontacted"]),
            f"of {fmt.number(lat['became_overdue'])} new overdue",
        ),
    ]


def _collections_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    result, _by = _collections(snap, req)
    labels = {
        "invoice_id": "Invoice",
        "customer_name": "Customer",
        "due_date": "Due",
        "days_since_due": "Days",
        "balance_cents": "Open balance",
    }
    frame = result["uncontacted"]
    return (
        "Overdue invoices never contacted",
        frame[frame["balance_cents"] > 0].reset_index(drop=True),
        labels,
    )


def _disputes_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    frame = metrics.outstanding_composition(snap, req.as_of, req.filters, req.scope)
    parts = frame[frame["part_of_total_ar"]]
    tiles = [
        Tile(str(label), fmt.money(int(cents), cur), f"{fmt.number(invoices)} invoices")
        for label, cents, invoices in zip(
            parts["label"], parts["amount_cents"], parts["invoices"], strict=True
        )
    ]
    total = int(parts["amount_cents"].sum())
    credit = int(frame.loc[~frame["part_of_total_ar"], "amount_cents"].sum())
    return [
        Tile("Total AR", fmt.money(total, cur), "the four parts sum to it"),
        *tiles,
        Tile("Unapplied credits", fmt.money(credit, cur), "beside total AR, not netted"),
    ]


def _disputes_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = metrics.dispute_cycle_time(snap, req.as_of, req.filters, req.scope, 12)["open"]
    labels = {
        "dispute_id": "Dispute",
        "invoice_id": "Invoice",
        "customer_name": "Customer",
        "opened_on": "Opened",
        "age_days": "Age (days)",
        "amount_cents": "Amount",
    }
    return "Open disputes", frame, labels


def _commission_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    t = cached_tiles(snap, req.as_of, PERIOD_DAYS, req.filters, req.scope)
    return [
        Tile(
            "Accrued commissions",
            fmt.money(t["accrued_cents"], cur),
            f"{fmt.number(t['accrued_rows'])} unpaid",
        ),
        Tile(
            "Paid this month",
            fmt.money(t["paid_mtd_cents"], cur),
            f"{fmt.number(t['paid_mtd_rows'])} paid",
        ),
        Tile("Average commission rate", fmt.pct(t["avg_rate_pct"], 2), "90 days"),
        Tile(
            "Commission at risk",
            fmt.money(t["at_risk_cents"], cur),
            f"{fmt.number(t['at_risk_rows'])} commissions",
        ),
        Tile(
            "Commission on cash",
            fmt.money(t["cash_cents"], cur),
            f"vs {fmt.money(t['invoiced_cents'], cur)} invoiced",
        ),
    ]


def _commission_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = cached_at_risk_by_rep(snap, req.as_of, req.filters, req.scope)
    labels = {
        "sales_rep_id": "Rep",
        "rep_name": "Name",
        "accrued_cents": "Accrued",
        "at_risk_cents": "At risk",
        "at_risk_pct": "At risk %",
    }
    return "Commission at risk per rep", frame, labels


def _value_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = value.customer_value(snap, req.as_of, req.filters, req.scope, tuple(load_tiers()))
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "revenue_12m_cents": "Revenue 12m",
        "gross_profit_cents": "Gross profit",
        "margin_pct": "Margin %",
        "value_tier": "Tier",
    }
    return "Customers by revenue · 12 months", frame, labels


def _credit_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:

    s = credit.credit_summary(snap, req.as_of, req.filters, req.scope)
    levels = s["risk_levels"]
    # the same count as Receivables Health
    limited = customers_with_limit(snap, req.filters, req.scope)
    return [
        Tile(
            "Average utilization",
            fmt.pct(s["avg_utilization_pct"]),
            "over the listed customers with a limit",
        ),
        Tile(
            "Customers with a limit",
            fmt.number(limited),
            f"{fmt.number(s['customers_with_limit'])} of them listed",
        ),
        Tile("Customers listed", fmt.number(s["customers"]), "balance in the last 12 months"),
        Tile("Over limit", fmt.number(levels.get("Over Limit", 0)), "hold orders"),
        Tile(
            "Critical (> 90 %)",
            fmt.number(levels.get("Critical", 0)),
            f"High (> 75 %): {fmt.number(levels.get('High', 0))}",
        ),
    ]


def _credit_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = credit.credit_utilization(snap, req.as_of, req.filters, req.scope)
    frame = frame.sort_values("utilization_pct", ascending=False, na_position="last", kind="stable")
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "credit_limit_cents": "Limit",
        "outstanding_cents": "Outstanding",
        "utilization_pct": "Utilization %",
        "risk_level": "Risk",
    }
    return "Credit utilization, highest first", frame.reset_index(drop=True), labels


def _reliability_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    s = reliability.reliability_summary(snap, req.as_of, req.filters, req.scope)
    cats = s["categories"]
    return [
        Tile(
            "Portfolio score",
            fmt.pct(s["portfolio_score"]),
            f"{fmt.number(s['customers'])} customers",
        ),
        *[
            Tile(name, fmt.number(cats.get(name, 0)), "customers")
            for name in ("At Risk", "Poor", "Average", "Excellent")
        ],
    ]


def _reliability_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = reliability.payment_reliability(snap, req.as_of, req.filters, req.scope)
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "reliability_score": "Score %",
        "on_time_pct": "On time %",
        "total_invoiced_6m_cents": "Invoiced 6m",
        "risk_category": "Category",
    }
    return "Payment reliability, worst first", frame, labels


def _aging_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    frame = customer_aging(snap, req.as_of, req.filters, req.scope, req.basis)
    buckets = [
        c
        for c in frame.columns
        if c.endswith("_cents") and c not in ("amount_cents", "credit_limit_cents")
    ]
    tiles = [
        Tile(
            "Total outstanding",
            fmt.money(int(frame["amount_cents"].sum()), cur),
            f"{fmt.number(len(frame))} customers",
        )
    ]
    return tiles + [
        Tile(b[: -len("_cents")].replace("_", " "), fmt.money(int(frame[b].sum()), cur))
        for b in buckets
    ]


def _aging_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = customer_aging(snap, req.as_of, req.filters, req.scope, req.basis)
    frame = frame.sort_values("amount_cents", ascending=False, kind="stable").reset_index(drop=True)
    labels = {
        "customer_id": "Customer #",
        "customer_name": "Customer",
        "terms": "Terms",
        "amount_cents": "Outstanding",
        "max_days": "Max days",
        "status": "Status",
    }
    return "Customer aging, largest balances first", frame, labels


def _forecast_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    frame, model, _why = service.chosen_weekly(
        snap, req.as_of, req.filters, req.scope, forecast.HORIZON_WEEKS
    )
    cents = dict(zip(frame["bucket"], (int(v) for v in frame["expected_cents"]), strict=True))
    total = sum(cents.values())
    if model:  # the model's weekly frame: its weeks and the rest, disputes included (as the page)
        pred, _ = pui.predictions(snap, req.as_of, req.filters, req.scope)
        disputed = pv.in_dispute_cents(snap, pred)
        rest = total - sum(v for k, v in cents.items() if k.startswith("Week "))
        return [
            Tile("Total AR", fmt.money(total, cur), "the next two sum to it"),
            Tile(
                f"Expected in {forecast.HORIZON_WEEKS} weeks",
                fmt.money(total - rest, cur),
                "payment-prediction model",
            ),
            Tile("Later or not expected (model)", fmt.money(rest, cur), "the model's rest"),
            Tile(
                "In dispute",
                fmt.money(disputed, cur),
                "included in the model's forecast, not a term of the sum",
            ),
        ]
    later, lost = cents.get("Later", 0), cents.get(forecast.UNCOLLECTIBLE, 0)
    disputed = cents.get("Disputed (excluded)", 0)
    weeks = total - later - lost - disputed
    return [
        Tile("Total AR", fmt.money(total, cur), "the next four sum to it with Later"),
        Tile(
            f"Expected in {forecast.HORIZON_WEEKS} weeks",
            fmt.money(weeks, cur),
            f"later {fmt.money(later, cur)}",
        ),
        Tile(
            "Not expected (history)", fmt.money(lost, cur), "share of same-age invoices never paid"
        ),
        Tile("In dispute, not forecast", fmt.money(disputed, cur), ""),
    ]


def _forecast_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = forecast.forecast_invoices(snap, req.as_of, req.filters, req.scope)
    labels = {
        "invoice_id": "Invoice",
        "customer_name": "Customer",
        "due_date": "Due",
        "age_days": "Days past due",
        "balance_cents": "Open balance",
        "expected_date": "Expected",
        "expected_cents": "Expected",
        "uncollectible_cents": "Not expected",
    }
    return "Invoices behind the forecast (earliest due first)", frame, labels


def _predictions_tiles(snap: Any, req: ChartRequest, cur: str) -> list[Tile]:
    frame = pui.worklist(snap, req.as_of, req.filters, req.scope)
    _pred, source = pui.predictions(snap, req.as_of, req.filters, req.scope)
    return [
        Tile(
            "Open balance",
            fmt.money(int(frame["balance_cents"].sum()), cur),
            f"{fmt.number(len(frame))} open invoices",
        ),
        Tile(
            "Expected loss",
            fmt.money(int(frame["expected_loss_cents"].sum()), cur),
            "open balance × P(not paid within 30 days)",
        ),
        Tile("Based on", source.split(" · ")[0][:40], ""),
    ]


def _predictions_table(snap: Any, req: ChartRequest) -> tuple[str, pd.DataFrame, dict[str, str]]:
    frame = pui.worklist(snap, req.as_of, req.filters, req.scope).copy()
    frame["p_paid_30"] = (frame["p_paid_30"] * 100).round(1)
    labels = {
        "rank": "#",
        "invoice_id": "Invoice",
        "customer_name": "Customer",
        "days_past_due": "Days past due",
        "balance_cents": "Open balance",
        "p_paid_30": "P(paid ≤ 30 d) %",
        "expected_loss_cents": "Expected loss",
    }
    return "Worklist, ranked by expected loss", frame, labels


register_page_sheet(
    PageSheet(
        "receivables",
        "Receivables Health",
        RECEIVABLES_CHARTS,
        _receivables_tiles,
        _receivables_table,
        path="/",
    )
)
register_page_sheet(
    PageSheet(
        "collections",
        "Collections",
        ("collections_coverage", "collections_latency"),
        _collections_tiles,
        _collections_table,
        path="/collections",
    )
)
register_page_sheet(
    PageSheet(
        "disputes",
        "Disputes & promises",
        ("disputes_composition", "disputes_cycle", "disputes_promises"),
        _disputes_tiles,
        _disputes_table,
        path="/disputes",
    )
)
register_page_sheet(
    PageSheet(
        "commissions",
        "Commission Analytics",
        ("commissions_top_reps", "commissions_trend", "commissions_groups", "commissions_cash"),
        _commission_tiles,
        _commission_table,
        capability="view_commissions",
        path="/commissions",
    )
)
register_page_sheet(
    PageSheet("value", "Customer value", ("value_tiers",), None, _value_table, path="/value")
)
register_page_sheet(
    PageSheet("credit", "Credit utilization", (), _credit_tiles, _credit_table, path="/credit")
)
register_page_sheet(
    PageSheet(
        "reliability",
        "Payment reliability",
        (),
        _reliability_tiles,
        _reliability_table,
        path="/reliability",
    )
)
register_page_sheet(
    PageSheet("customer_aging", "Customer aging", (), _aging_tiles, _aging_table, path="/aging")
)
register_page_sheet(
    PageSheet(
        "forecast",
        "Payment forecast",
        ("forecast_expected", "forecast_wape", "forecast_due", "forecast_backtest"),
        _forecast_tiles,
        _forecast_table,
        path="/forecast",
    )
)
register_page_sheet(
    PageSheet(
        "predictions",
        "Payment predictions",
        (
            "predictions_reliability",
            "predictions_aging",
            "predictions_cohorts",
            "predictions_unpaid",
        ),
        _predictions_tiles,
        _predictions_table,
        path="/predictions",
    )
)
