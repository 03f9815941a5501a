"""Each page's default figures computed ahead of its first visit, once per data version.

A page's first visit after a new data version computes its figures from the snapshot (at 1M invoices
up to 2 s for one chart); the next visits find them in the one result cache. After a version is served,
the snapshot's warm-up (`metrics.snapshot.add_warmer`) runs `steps` in a background thread: every
chart and table view of the pages below, in that order, for the request a page's first visit makes
(as of today, the default aging basis and period, no filter) in the unrestricted scope of the finance
roles (admin, executive, controller), through the same builders and cached service functions the
callbacks and exports call, so their cache keys are the ones those requests look up. A rep's or a sales
manager's narrower scope is a different key and is not warmed. Pages add the default computations
their own callbacks make beyond the views with `add_page_step`. Last come the arrays stored beside the
version's columns that a filtered or past-date page needs (`metrics.service.derived_arrays`): after
the default figures, so a first visit does not wait behind them.

The snapshot runs one step at a time, each once the process has answered no request for a second
(ops.InFlight: a page being drawn asks again within that time), and stops when a newer version is
served or after `metrics.snapshot.PAGE_WARM_SECONDS`; AR_WARM_PAGES=0 turns it off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dashboard import params
from dashboard.metrics import service
from dashboard.metrics.filters import Scope
from dashboard.metrics.snapshot import Snapshot, add_warmer
from dashboard.views.base import VIEWS, ChartRequest

# the pages warmed, the home page first; the others in the navigation's order. Not warmed: Account 360
# (one customer's), Predictions (the trained model's, per version)
PAGES = (
    "receivables",
    "customer_aging",
    "collections",
    "disputes",
    "forecast",
    "value",
    "credit",
    "reliability",
    "commissions",
    "workspace",
)
# Commission analytics read every commission row into the process on first use (not yet in the
# shared column files): at 10M invoices that took about 120 s and peaked near 10 GB of one worker's
# memory, so a background warm-up must not start it on a large ledger; its first visit pays.
UNWARMED_ABOVE = {"commissions": 2_000_000}  # page -> invoices above which it is not warmed
PageStep = Callable[[Snapshot, ChartRequest], object]
_PAGE_STEPS: dict[str, dict[str, PageStep]] = {}


def add_page_step(page: str, step: PageStep) -> None:
    """Warm a default computation a page makes beyond its views: step(snap, default request).

    Kept by the step's module and name, so a page module Dash executes again for another app
    replaces its steps instead of adding them twice."""
    if page not in PAGES:
        raise ValueError(f"page {page!r} is not warmed (PAGES)")
    _PAGE_STEPS.setdefault(page, {})[f"{step.__module__}.{step.__qualname__}"] = step


def default_request() -> ChartRequest:
    """The request of a page's first visit: the default filters store, parsed as a callback parses
    it (as of today, default basis, no filter), the default period, the unrestricted scope."""
    as_of, basis, filters = params.parse(params.defaults())
    return ChartRequest(as_of, basis, params.PERIOD_DAYS, filters, Scope.everyone())


def steps(snap: Snapshot) -> Iterator[str]:
    """Compute each page's default figures, one view or page step per iteration (yields its name)."""
    req = default_request()
    for page in PAGES:
        if len(snap.inv_ids) > UNWARMED_ABOVE.get(page, len(snap.inv_ids)):
            continue
        for name, view in list(VIEWS.items()):
            if view.page != page or view.needs_customer:
                continue
            if view.kind == "chart":
                view.chart(snap, req)
            else:
                view.table(snap, req)
            yield name
        for name, step in list(_PAGE_STEPS.get(page, {}).items()):
            step(snap, req)
            yield name
    # last, once the pages' default figures are ready: the arrays a filter or a past date needs
    # (built once per version and machine beside the columns, or mapped when already built)
    yield from service.derived_arrays(snap)


add_warmer(steps)
