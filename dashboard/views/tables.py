"""Table views: the tables the UI shows, exported as CSV and XLSX (/export/table, /api/export)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.metrics.tables import (
    at_risk_accounts,
    customer_aging,
    customer_balances,
    open_invoices,
)
from dashboard.views.base import ChartRequest, View, register


def _open_invoices(snap: Any, req: ChartRequest) -> pd.DataFrame:
    """Every invoice open at as_of (metrics.tables.open_invoices)."""
    return open_invoices(snap, req.as_of, req.period_days, req.filters, req.scope)


def _customers(snap: Any, req: ChartRequest) -> pd.DataFrame:
    """Customers with a balance at as_of (metrics.tables.customer_balances)."""
    return customer_balances(snap, req.as_of, req.period_days, req.filters, req.scope)


def _customer_aging(snap: Any, req: ChartRequest) -> pd.DataFrame:
    """The customer aging grid (metrics.tables.customer_aging, due-date basis)."""
    return customer_aging(snap, req.as_of, req.filters, req.scope)


def _at_risk(snap: Any, req: ChartRequest) -> pd.DataFrame:
    """The at-risk accounts list (metrics.tables.at_risk_accounts)."""
    return at_risk_accounts(snap, req.as_of, req.filters, req.scope)


register(View("open_invoices", "Open invoices", "workspace", frame=_open_invoices))
register(View("customers", "Customers with a balance", None, frame=_customers))
register(View("customer_aging", "Customer aging", "customer_aging", frame=_customer_aging))
register(View("at_risk", "At-risk accounts", "receivables", frame=_at_risk))
