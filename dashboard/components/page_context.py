"""What most page callbacks start with: the validated filters, the user's scope and the snapshot."""

from __future__ import annotations

from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import identity


def callback_context(filters_data):
    """(snapshot, as_of, filters, scope, currency) for a callback; scope from the server only."""
    from dashboard.metrics.snapshot import get_snapshot
    from dashboard.metrics.ui_support import currency_for

    if filters_data is None:
        raise PreventUpdate
    as_of, _basis, filters = gf.parse(filters_data)
    scope = identity.scope()
    snap = get_snapshot()
    return snap, as_of, filters, scope, currency_for(snap, filters, scope, fmt.default_currency())


def describe_without_basis(filters_data) -> str:
    """The filters as a caption, without the aging basis (for pages that do not age)."""
    return " · ".join(p for p in gf.describe(filters_data).split(" · ") if not p.endswith(" aging"))
