"""The one result cache of the metrics layer (dashboard/metrics/cache.py): keyed by the snapshot's
data version, the function and the request (scope, filters, as-of); bounded; thread-safe."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import pytest

from dashboard.metrics import cache
from dashboard.metrics.filters import Filters, Scope

D = dt.date(2024, 3, 31)
EVERYONE = Scope.everyone()
R1 = Scope(sales_rep_ids=frozenset({"R1"}), label="sales rep R1")


@dataclass(eq=False)
class FakeSnapshot:
    """What the cache reads of a snapshot: its identity, data version, stamp and load time."""

    version: int
    stamp: str = ""
    loaded_at: float = 0.0


@pytest.fixture(autouse=True)
def fresh():
    cache.clear_cache()
    yield
    cache.clear_cache()


def counting(maxsize: int = cache.DEFAULT_MAXSIZE):
    """A cached function that records every real call."""
    calls: list[tuple] = []

    @cache.cached(maxsize=maxsize)
    def figure(snap, as_of, filters, scope):
        calls.append((snap.version, as_of, filters, scope))
        return {"n": len(calls)}

    return figure, calls


def test_same_request_is_computed_once():
    figure, calls = counting()
    snap = FakeSnapshot(1)
    first = figure(snap, D, Filters(), EVERYONE)
    assert figure(snap, D, Filters(), EVERYONE) is first
    assert len(calls) == 1
    stats = cache.CACHE.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


def test_keyed_by_version_scope_filters_and_as_of():
    figure, calls = counting()
    snap, newer = FakeSnapshot(1), FakeSnapshot(2)
    figure(snap, D, Filters(), EVERYONE)
    figure(snap, D, Filters(), R1)  # another scope
    figure(snap, D, Filters(segment="Retail"), EVERYONE)  # another filter
    figure(snap, D - dt.timedelta(days=1), Filters(), EVERYONE)  # another as-of
    figure(newer, D, Filters(), EVERYONE)  # a new data version misses
    assert len(calls) == 5
    # each of them is now a hit
    figure(snap, D, Filters(), R1)
    figure(newer, D, Filters(), EVERYONE)
    assert len(calls) == 5


def test_a_scope_never_gets_another_scopes_result():
    @cache.cached
    def who(snap, scope):
        return scope.label

    snap = FakeSnapshot(1)
    assert who(snap, EVERYONE) == "all customers"
    assert who(snap, R1) == "sales rep R1"
    assert who(snap, EVERYONE) == "all customers"


def test_functions_do_not_share_entries():
    a, a_calls = counting()
    b, b_calls = counting()
    snap = FakeSnapshot(1)
    assert a(snap, D, Filters(), EVERYONE) == {"n": 1}
    assert b(snap, D, Filters(), EVERYONE) == {"n": 1}
    assert (len(a_calls), len(b_calls)) == (1, 1)


def test_the_same_function_wrapped_twice_shares_its_entry():
    def raw(snap, as_of):
        raw.calls += 1  # type: ignore[attr-defined]
        return as_of

    raw.calls = 0  # type: ignore[attr-defined]
    page, export = cache.cached(raw), cache.cached(raw, maxsize=4)
    snap = FakeSnapshot(1)
    page(snap, D)
    export(snap, D)
    assert raw.calls == 1  # type: ignore[attr-defined]


def test_bounded_per_function_least_recently_used_first():
    figure, calls = counting(maxsize=2)
    snap = FakeSnapshot(1)
    days = [D - dt.timedelta(days=k) for k in range(3)]
    figure(snap, days[0], Filters(), EVERYONE)
    figure(snap, days[1], Filters(), EVERYONE)
    figure(snap, days[0], Filters(), EVERYONE)  # hit: days[0] is now the most recent
    figure(snap, days[2], Filters(), EVERYONE)  # evicts days[1]
    assert len(calls) == 3 and len(cache.CACHE) == 2
    figure(snap, days[0], Filters(), EVERYONE)  # still there
    assert len(calls) == 3
    figure(snap, days[1], Filters(), EVERYONE)  # was evicted: computed again
    assert len(calls) == 4


def test_bounded_in_all():
    store = cache.ResultCache(max_entries=3)
    snap = FakeSnapshot(1)
    for k in range(5):
        key = cache.Key(cache.stamp(snap), len, (k,), ())  # type: ignore[arg-type]
        store.get(key, 100, lambda k=k: k)
    assert len(store) == 3
    assert store.stats().evictions == 2


def test_size_estimates_agree_with_pandas_deep_measure():
    """size_of (a sample of the object values) is within 5 % of pandas' own exact deep measure."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "amount_cents": np.arange(20_000, dtype=np.int64),
            "customer_id": [f"C{n:07d}" for n in range(20_000)],
            "name": [f"Customer number {n} of the ledger" for n in range(20_000)],
        }
    )
    exact = int(frame.memory_usage(index=True, deep=True).sum())
    assert abs(cache.size_of(frame) - exact) <= 0.05 * exact
    assert cache.size_of(frame["amount_cents"].to_numpy()) == 160_000
    nested = {"rows": frame, "total": 5}
    assert cache.size_of(nested) >= cache.size_of(frame)


def test_bounded_by_bytes():
    """The byte budget evicts the least recently used results; a result over half of it is handed
    back but never kept (computed again next time)."""
    import numpy as np

    store = cache.ResultCache(max_bytes=100_000)
    snap = FakeSnapshot(1)
    calls: list[int] = []

    def result(k: int, n_bytes: int):
        calls.append(k)
        return np.zeros(n_bytes // 8, dtype=np.int64)

    def ask(k: int, n_bytes: int):
        key = cache.Key(cache.stamp(snap), result, (k, n_bytes), ())
        return store.get(key, 100, lambda: result(k, n_bytes))

    ask(1, 40_000)
    ask(2, 40_000)
    assert store.stats().bytes == 80_000 and len(store) == 2
    ask(1, 40_000)  # a hit: 1 is now the most recently used
    ask(3, 40_000)  # over the budget: 2 goes
    assert len(calls) == 3 and len(store) == 2 and store.stats().bytes == 80_000
    ask(1, 40_000)
    assert len(calls) == 3  # 1 stayed
    ask(2, 40_000)
    assert len(calls) == 4  # 2 was evicted
    assert len(ask(9, 60_000)) == 7_500 and len(ask(9, 60_000)) == 7_500  # over half: not kept
    assert calls.count(9) == 2 and store.stats().not_kept == 2
    assert store.stats().bytes <= 100_000


def test_the_byte_budget_is_a_setting(monkeypatch):
    monkeypatch.setenv("AR_CACHE_MAX_MB", "0.5")
    assert cache.byte_budget() == 512 * 1024


def test_old_data_versions_are_dropped():
    figure, calls = counting()
    snaps = [FakeSnapshot(v) for v in range(1, cache.MAX_VERSIONS + 2)]
    for snap in snaps:
        figure(snap, D, Filters(), EVERYONE)
    # only the newest MAX_VERSIONS versions are kept
    assert cache.CACHE.stats().versions == cache.MAX_VERSIONS
    figure(snaps[-1], D, Filters(), EVERYONE)
    assert len(calls) == len(snaps)  # the newest is a hit
    figure(snaps[0], D, Filters(), EVERYONE)
    assert len(calls) == len(snaps) + 1  # the oldest was dropped


def test_same_version_number_of_another_snapshot_misses():
    """A reloaded snapshot (another object or stamp) never sees the old one's results."""
    figure, calls = counting()
    figure(FakeSnapshot(1, stamp="a"), D, Filters(), EVERYONE)
    figure(FakeSnapshot(1, stamp="b"), D, Filters(), EVERYONE)
    assert len(calls) == 2


def test_concurrent_callers_compute_once():
    calls = []
    gate = threading.Barrier(8)

    @cache.cached
    def slow(snap, as_of):
        calls.append(as_of)
        time.sleep(0.2)
        return object()

    snap = FakeSnapshot(1)
    results = []

    def ask():
        gate.wait()
        results.append(slow(snap, D))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(r) for r in results}) == 1 and len(results) == 8


def test_a_failure_is_not_cached():
    attempts = []

    @cache.cached
    def flaky(snap, as_of):
        attempts.append(as_of)
        if len(attempts) == 1:
            raise RuntimeError("first call fails")
        return "ok"

    snap = FakeSnapshot(1)
    with pytest.raises(RuntimeError):
        flaky(snap, D)
    assert flaky(snap, D) == "ok" and len(attempts) == 2


def test_cached_entry_points_use_the_one_cache(sqlite_url):
    """The metrics entry points the pages call all land in cache.CACHE, keyed by the real snapshot."""
    from dashboard.metrics import service
    from dashboard.metrics.snapshot import clear_snapshots, get_snapshot
    from tests.ui_ledger import AS_OF, add_ui_ledger

    clear_snapshots()
    add_ui_ledger(sqlite_url)
    snap = get_snapshot(sqlite_url)
    try:
        kpis = service.kpis(snap, AS_OF, 90, Filters(), EVERYONE)
        service.kpis(snap, AS_OF, 90, Filters(), R1)
        service.credit_summary(snap, AS_OF, Filters(), EVERYONE)
        assert len(cache.CACHE) == 3
        assert service.kpis(snap, AS_OF, 90, Filters(), EVERYONE) is kpis
        assert cache.CACHE.stats().hits == 1
    finally:
        clear_snapshots()
