"""Collections metrics, one module per view (sources and rules in docs/analytics.md):

- composition: outstanding AR at D by not due, overdue, in dispute, in litigation (LeanPay);
- disputes: dispute cycle time by month and the disputes open at D (Plixo);
- promises: promise-to-pay adherence (Plixo);
- activity: collections coverage and contact latency per group (Plixo);
- workspace: the invoice workspace (hotlist, current, paid), risk score, next action, pulse chips (Plixo);
- months: the month frame the dispute and promise tables share.

This package's public API: the names below, used by the collections, disputes and workspace pages.
"""

from dashboard.metrics.collections.activity import (
    COVERAGE_DAYS,
    GROUPINGS,
    LATENCY_DAYS,
    NO_OWNER,
    collections_activity,
    first_activity_from,
    group_codes,
    last_activity,
)
from dashboard.metrics.collections.composition import (
    COMPONENTS,
    composition_index,
    outstanding_composition,
)
from dashboard.metrics.collections.disputes import dispute_cycle_time
from dashboard.metrics.collections.promises import (
    PROMISE_STATES,
    promise_adherence,
    promise_status,
    promise_status_code,
)
from dashboard.metrics.collections.workspace import (
    ACTIONS,
    SCORE_BROKEN_PROMISE,
    SCORE_DISPUTE,
    SCORE_DPD_DAYS,
    SCORE_DPD_MAX,
    SCORE_LITIGATION,
    SCORE_OVER_LIMIT,
    SCORE_SIZE_CENTS,
    SCORE_SIZE_MAX,
    STATUSES,
    WORKSPACE_TABS,
    invoice_workspace,
    next_action,
    risk_score,
    workspace_pulse,
)

__all__ = [
    "ACTIONS",
    "COMPONENTS",
    "COVERAGE_DAYS",
    "GROUPINGS",
    "LATENCY_DAYS",
    "NO_OWNER",
    "PROMISE_STATES",
    "SCORE_BROKEN_PROMISE",
    "SCORE_DISPUTE",
    "SCORE_DPD_DAYS",
    "SCORE_DPD_MAX",
    "SCORE_LITIGATION",
    "SCORE_OVER_LIMIT",
    "SCORE_SIZE_CENTS",
    "SCORE_SIZE_MAX",
    "STATUSES",
    "WORKSPACE_TABS",
    "collections_activity",
    "composition_index",
    "dispute_cycle_time",
    "first_activity_from",
    "group_codes",
    "invoice_workspace",
    "last_activity",
    "next_action",
    "outstanding_composition",
    "promise_adherence",
    "promise_status",
    "promise_status_code",
    "risk_score",
    "workspace_pulse",
]
