"""The selections and per-day items kept with a snapshot (metrics/ledger.py) are bounded: by count,
by the bytes of their arrays (a share of AR_CACHE_MAX_MB), least recently used dropped first, the
once-per-snapshot entries never; a selection keeps the open items of its last few dates only. The
figures do not depend on what was kept."""

from __future__ import annotations

import datetime as dt

import numpy as np

from dashboard.data.demo import load_demo
from dashboard.metrics import ledger
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.kpis import compute_kpis
from dashboard.metrics.snapshot import clear_snapshots, load_snapshot, to_day

AS_OF = dt.date(2026, 6, 30)


def _snapshot(url: str):
    clear_snapshots()
    load_demo(url, customers=40, invoices=600, seed=5, progress=False)
    return load_snapshot(url)


def test_selections_are_bounded_by_bytes_least_recently_used_first(sqlite_url, monkeypatch):
    snap = _snapshot(sqlite_url)
    everyone = ledger.select(snap)
    one = ledger.held_bytes(everyone)
    assert one > 0
    segments = sorted({str(s) for s in snap.segment})
    assert len(segments) >= 2
    # a scope naming every region: the same customers as the segment, a selection computed (and
    # kept in the process) rather than mapped from the stored one of the segment alone
    every_region = Scope(regions=frozenset(str(r) for r in snap.region))
    before = compute_kpis(snap, AS_OF, 30, Filters(segment=segments[0]), every_region)
    # room for the selection of every customer and a little more
    budget_mb = 1.2 * one / ledger.SELECTION_SHARE / 1024 / 1024
    monkeypatch.setenv("AR_CACHE_MAX_MB", repr(budget_mb))
    kept = {k for k in snap.cache if k in ledger.KEPT_CACHE_KEYS}
    for segment in segments:
        assert ledger.select(snap) is everyone  # used last: never the one dropped
        ledger.select(snap, Filters(segment=segment), every_region)
    held = sum(ledger.held_bytes(v) for k, v in snap.cache.items() if k not in kept)
    assert held <= 1.2 * one + max(ledger.held_bytes(v) for v in snap.cache.values())
    selections = [k for k in snap.cache if k[0] == "selection"]
    assert 1 < len(selections) < 1 + len(segments)  # some segments' selections were dropped
    assert "history" in kept and kept <= set(snap.cache)  # once-per-snapshot entries stay
    assert ledger.select(snap) is everyone
    # a dropped selection is built again, with the same figures
    assert compute_kpis(snap, AS_OF, 30, Filters(segment=segments[0]), every_region) == before


def test_a_selection_keeps_the_open_items_of_its_last_dates(sqlite_url):
    snap = _snapshot(sqlite_url)
    sel = ledger.select(snap)
    days = [to_day(AS_OF - dt.timedelta(days=30 * i)) for i in range(ledger.OPEN_DAYS_KEPT + 3)]
    first = {d: ledger.open_items(sel, d) for d in days}
    cache = sel.__dict__["_open_cache"]
    assert len(cache) == ledger.OPEN_DAYS_KEPT
    assert [k[1] for k in cache] == days[-ledger.OPEN_DAYS_KEPT :]
    again = ledger.open_items(sel, days[0])  # dropped: computed again, the same items
    assert again is not first[days[0]]
    assert np.array_equal(again.inv, first[days[0]].inv)
    assert np.array_equal(again.balance, first[days[0]].balance)
