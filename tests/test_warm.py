"""The pages' warm-up (dashboard/views/warm.py, run by metrics/snapshot.py after a version is served).

It must fill exactly the cache entries a finance user's first visits then look up (same functions,
same arguments, same scope), stop when a newer version is served, wait while requests are answered,
and never run with AR_WARM_PAGES=0.
"""

from __future__ import annotations

import threading
import time

from auth_helpers import first_visit_filters as default_filters
from auth_helpers import post_callback as post

from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.cache import CACHE
from dashboard.metrics.snapshot import get_snapshot
from dashboard.views.base import VIEWS

PAGES = ("/", "/aging", "/collections", "/disputes", "/forecast", "/value", "/commissions")


def first_visits(world, username: str) -> None:
    """What a browser asks on each page's first visit: the router (layout), then every callback
    drawn from the filters (charts, summaries, tiles), controls at their defaults (None)."""
    client = world.login(username)
    client.get("/")  # Dash copies the registered callbacks into callback_map on the first request
    router = next(o for o in world.app.callback_map if "_pages_content.children" in o)
    filters = default_filters()
    for path in PAGES:
        post(
            client,
            router,
            world.app.callback_map[router],
            {("_pages_location", "pathname"): path, ("_pages_location", "search"): ""},
        )
    for output, spec in list(world.app.callback_map.items()):
        ids = {(d["id"], d["property"]) for d in spec["inputs"]}
        if "{" in output or any(not isinstance(d["id"], str) for d in spec["inputs"]):
            continue  # pattern-matching: the grids' blocks, the KPI tiles' help
        # the Predictions page (the trained model's figures) is not warmed
        if ("filters", "data") in ids and "pr-" not in output:
            post(client, output, spec, {("filters", "data"): filters})


def test_the_warm_up_fills_what_a_controllers_first_visits_ask_for(world):
    snap = get_snapshot()
    done = list(snapshots._WARMERS[-1](snap))
    assert "top_debtors" in done and "collections_coverage" in done
    assert any(name.endswith(".warm") for name in done)  # the pages' own steps
    # last, one step each: the arrays stored beside the version for filters and past dates
    assert done[-13:] == [
        "codes_sales_rep",
        "attribute_segment",
        "attribute_region",
        "attribute_tier",
        "attribute_terms_group",
        "customer_invoices",
        "delay_sums",
        "settle_order",
        "month_end_ar_all",
        "month_end_ar_segment",
        "month_end_ar_region",
        "month_end_ar_tier",
        "month_end_ar_terms_group",
    ]
    before = CACHE.stats()
    assert before.entries > 0
    keys = set(CACHE._entries)
    first_visits(world, "controller")
    after = CACHE.stats()
    assert after.hits > before.hits
    # every first-visit computation was warmed but the workspace grid's rows (its tab and controls)
    # and the grids' frames, which the layout now asks for their columns (grid.prefill): a grid's
    # frame is kept per user (views/grids.py frame_args), so a warm-up that runs for nobody cannot
    # hold it; the figures those frames are cut from are warmed
    missed = {k.function.__qualname__ for k in set(CACHE._entries) - keys}
    assert missed <= {"invoice_workspace", "grid_frame"}


def test_commissions_are_not_warmed_on_a_large_ledger(world, monkeypatch):
    """Above UNWARMED_ABOVE's invoices the commissions page is skipped (its first use reads every
    commission row into the process); the other pages are warmed as before."""
    from dashboard.views import warm

    snap = get_snapshot()
    commission_views = {n for n, v in VIEWS.items() if v.page == "commissions"}
    assert commission_views
    assert commission_views <= set(warm.steps(snap))
    monkeypatch.setitem(warm.UNWARMED_ABOVE, "commissions", len(snap.inv_ids) - 1)
    done = set(warm.steps(snap))
    assert not done & commission_views
    assert "top_debtors" in done


def test_without_the_warm_up_the_same_visits_compute(world):
    """The check above is not vacuous: the same visits miss when nothing was warmed."""
    get_snapshot()
    before = CACHE.stats()
    first_visits(world, "controller")
    assert CACHE.stats().misses > before.misses


def test_a_reps_scope_is_not_warmed(world):
    """The warm-up is the unrestricted scope's: a rep's first visits compute their own entries."""
    list(snapshots._WARMERS[-1](get_snapshot()))
    before = CACHE.stats()
    first_visits(world, "rep1")
    assert CACHE.stats().misses > before.misses


def _counting_warmer(log: list, n: int = 5, on_step=None):
    def steps(snap):
        for i in range(n):
            log.append(i)
            if on_step:
                on_step(i)
            yield i

    return steps


def test_warm_stops_when_a_newer_version_is_served(world, monkeypatch):
    snap = get_snapshot()
    key = next(k for k, s in snapshots._CACHE._snaps.items() if s is snap)
    ran: list = []

    def newer(i):
        if i == 1:  # a newer version is served while step 1 runs
            monkeypatch.setitem(snapshots._CACHE._snaps, key, object())

    monkeypatch.setattr(snapshots, "_WARMERS", [_counting_warmer(ran, on_step=newer)])
    monkeypatch.setenv("AR_WARM_PAGES", "1")
    monkeypatch.setattr("dashboard.metrics.forecast.warm_history", lambda *a, **k: None)
    snapshots.warm_version(snap, key)
    assert ran == [0, 1]


def test_warm_waits_while_requests_are_answered_and_gives_up_at_its_deadline(world, monkeypatch):
    snap = get_snapshot()
    key = next(k for k, s in snapshots._CACHE._snaps.items() if s is snap)
    ran: list = []
    busy = threading.Event()
    busy.set()
    monkeypatch.setattr(snapshots, "_WARMERS", [_counting_warmer(ran)])
    monkeypatch.setattr(snapshots, "_BUSY", [busy.is_set])
    monkeypatch.setattr(snapshots, "IDLE_POLL_SECONDS", 0.01)
    monkeypatch.setattr(snapshots, "PAGE_WARM_SECONDS", 0.3)
    monkeypatch.setenv("AR_WARM_PAGES", "1")
    monkeypatch.setattr("dashboard.metrics.forecast.warm_history", lambda *a, **k: None)
    snapshots.warm_version(snap, key)  # busy until the deadline: nothing computed
    assert ran == []
    monkeypatch.setattr(snapshots, "PAGE_WARM_SECONDS", 30.0)
    threading.Timer(0.2, busy.clear).start()
    snapshots.warm_version(snap, key)  # waits for the requests, then runs every step
    assert ran == [0, 1, 2, 3, 4]


def test_ar_warm_pages_0_turns_it_off(world, monkeypatch):
    snap = get_snapshot()
    ran: list = []
    monkeypatch.setattr(snapshots, "_WARMERS", [_counting_warmer(ran)])
    monkeypatch.setenv("AR_WARM_PAGES", "0")
    monkeypatch.setattr("dashboard.metrics.forecast.warm_history", lambda *a, **k: None)
    snapshots.warm_version(snap, None)
    assert ran == []


def test_requests_in_flight_are_counted_and_released(world, monkeypatch):
    from dashboard.ops import IN_FLIGHT

    seen: list = []
    assert snapshots._BUSY == [IN_FLIGHT.busy]

    @world.app.server.get("/_test_in_flight")
    def in_flight():
        seen.append(IN_FLIGHT.count)
        return "ok"

    client = world.login("controller")
    assert client.get("/_test_in_flight").status_code == 200
    assert world.client().get("/api/kpis").status_code in (302, 401)  # refused by the guard
    assert client.get("/no-such-route-at-all.txt").status_code in (200, 404)
    assert seen == [1] and IN_FLIGHT.count == 0
    assert IN_FLIGHT.busy()  # a request ended less than QUIET_SECONDS ago
    monkeypatch.setattr(IN_FLIGHT, "QUIET_SECONDS", 0.05)
    time.sleep(0.1)
    assert not IN_FLIGHT.busy()


def test_one_process_of_a_machine_warms_the_pages(world, monkeypatch):
    """The store's warm lock: while another process of the machine holds it (here: a child
    process), this one warms nothing; once it is free, this one warms every step."""
    import subprocess
    import sys
    import textwrap

    from dashboard.metrics.store import store_for

    snap = get_snapshot()
    key = next(k for k, s in snapshots._CACHE._snaps.items() if s is snap)
    ran: list = []
    monkeypatch.setattr(snapshots, "_WARMERS", [_counting_warmer(ran)])
    monkeypatch.setenv("AR_WARM_PAGES", "1")
    histories: list = []  # the forecast's history tables: the warming process's too
    monkeypatch.setattr(
        "dashboard.metrics.forecast.warm_history",
        # only this snapshot's: an earlier test's snapshot may still have a warm-up timer running
        lambda warmed, **k: histories.append(warmed) if warmed is snap else None,
    )
    lock = store_for(key).dir / "warm.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, os, sys, time
                fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                print("held", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        snapshots.warm_version(snap, key)
        assert ran == [] and histories == []  # the other process warms
    finally:
        holder.communicate("\n", timeout=10)
    snapshots.warm_version(snap, key)
    assert ran == [0, 1, 2, 3, 4] and histories == [snap]
