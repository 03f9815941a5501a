"""The shared level of the result cache (dashboard/metrics/shared_cache.py): figures computed by one
worker are served to the others from Redis, for the same data version and request only; cheap, big
or unspellable results stay local; concurrent workers compute a request once; Redis down = local."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest

from dashboard.metrics import cache, shared_cache
from dashboard.metrics.cache import Key, ResultCache
from dashboard.metrics.filters import Filters, Scope
from dashboard.telemetry import RESULT_CACHE

REDIS_URL = "redis://127.0.0.1:6379/15"
D = dt.date(2024, 3, 31)
R1 = Scope(sales_rep_ids=frozenset({"R1", "R2", "R3"}), label="reps")


@pytest.fixture
def shared(monkeypatch):
    """The shared store on a private key prefix of the local Redis (skip when Redis is absent)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    prefix = f"ar-test:{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("AR_JOBS_PREFIX", f"{prefix}:jobs")
    monkeypatch.setenv("AR_SHARED_CACHE_MIN_MS", "0")
    cache.clear_cache()
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    cache.clear_cache()


def worker_key(worker: int, fn, *args, version: int = 7, stamp: str = "s1") -> Key:
    """The key a worker process builds: its own snapshot object and load time, the same data."""
    return Key((1000 + worker, version, stamp, float(worker)), fn, args, (), True)


def counted(sleep: float = 0.0):
    calls: list[tuple] = []

    def figure(*args):
        calls.append(args)
        time.sleep(sleep)
        return {"total_ar_cents": 123_456, "args": repr(args)}

    return figure, calls


def test_canonical_spelling_is_exact_and_process_independent():
    # frozenset order depends on the hash seed: the spelling sorts it
    a = Scope(sales_rep_ids=frozenset(["R3", "R1", "R2"]), label="reps")
    assert shared_cache.canonical(a) == shared_cache.canonical(R1)
    assert shared_cache.canonical((D, Filters(segment="SMB"), 90)) != shared_cache.canonical(
        (D, Filters(segment="Enterprise"), 90)
    )
    assert shared_cache.canonical(D) != shared_cache.canonical(dt.datetime(2024, 3, 31))
    assert shared_cache.canonical(0.1) != shared_cache.canonical(0.1000001)
    assert shared_cache.canonical(1) != shared_cache.canonical("1")
    with pytest.raises(shared_cache.Unshareable):
        shared_cache.canonical(object())


def test_a_figure_computed_by_one_worker_is_served_to_another(shared):
    figure, calls = counted()
    first, second = ResultCache(), ResultCache()  # two worker processes' local caches
    a = first.get(worker_key(1, figure, D, Filters(), R1), 8, lambda: figure(D, Filters(), R1))
    b = second.get(worker_key(2, figure, D, Filters(), R1), 8, lambda: figure(D, Filters(), R1))
    assert a == b == {"total_ar_cents": 123_456, "args": repr((D, Filters(), R1))}
    assert len(calls) == 1  # the second worker read it from Redis
    # another scope, filter, as-of or data version is another request: computed again
    other = [
        worker_key(2, figure, D, Filters(), Scope.everyone()),
        worker_key(2, figure, D, Filters(segment="SMB"), R1),
        worker_key(2, figure, D - dt.timedelta(days=1), Filters(), R1),
        worker_key(2, figure, D, Filters(), R1, version=8),
        worker_key(2, figure, D, Filters(), R1, stamp="s2"),
    ]
    for key in other:
        second.get(key, 8, lambda k=key: figure(*k.args))
    assert len(calls) == 6


def test_concurrent_workers_compute_a_request_once(shared):
    figure, calls = counted(sleep=0.4)
    results: list[dict] = []

    def run(worker: int) -> None:
        key = worker_key(worker, figure, D, Filters())
        results.append(ResultCache().get(key, 8, lambda: figure(D, Filters())))

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 4 and all(r == results[0] for r in results)


def test_cheap_big_and_unspellable_results_stay_local(shared, monkeypatch):
    client, prefix = shared
    monkeypatch.setenv("AR_SHARED_CACHE_MIN_MS", "200")
    figure, calls = counted()
    for worker in (1, 2):  # cheap: each worker computes it
        ResultCache().get(worker_key(worker, figure, D), 8, lambda: figure(D))
    assert len(calls) == 2
    monkeypatch.setenv("AR_SHARED_CACHE_MIN_MS", "0")
    monkeypatch.setenv("AR_SHARED_CACHE_MAX_BYTES", "100")

    def big(day):
        calls.append(day)
        return "x" * 1000

    for worker in (1, 2):  # too big to share: each worker computes it
        ResultCache().get(worker_key(worker, big, D), 8, lambda: big(D))
    assert len(calls) == 4
    assert not shared_cache.shared_store().available(big)  # not pickled again in this process
    monkeypatch.delenv("AR_SHARED_CACHE_MAX_BYTES")
    odd = object()
    for worker in (1, 2):  # an argument with no exact spelling: local only
        ResultCache().get(worker_key(worker, figure, odd), 8, lambda: figure(odd))
    assert len(calls) == 6
    assert not [k for k in client.scan_iter(f"{prefix}:*") if b"x" * 10 in (client.get(k) or b"")]


def test_a_failed_computation_releases_the_claim(shared):
    figure, calls = counted()

    def failing(day):
        raise ValueError("boom")

    key1 = worker_key(1, figure, D)
    with pytest.raises(ValueError):
        ResultCache().get(key1, 8, lambda: failing(D))
    started = time.perf_counter()
    assert (
        ResultCache().get(worker_key(2, figure, D), 8, lambda: figure(D))["total_ar_cents"]
        == 123_456
    )
    assert time.perf_counter() - started < 5  # did not wait for the dead claim
    assert len(calls) == 1


def test_functions_marked_local_are_never_shared(shared):
    client, prefix = shared
    figure, calls = counted()
    for worker in (1, 2):
        key = Key((1000 + worker, 7, "s1", float(worker)), figure, (D,), (), False)
        ResultCache().get(key, 8, lambda: figure(D))
    assert len(calls) == 2
    assert not list(client.scan_iter(f"{prefix}:*"))


def test_without_redis_every_figure_is_computed_locally(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens on port 9
    monkeypatch.setenv("AR_JOBS_PREFIX", f"ar-test:{uuid.uuid4().hex[:12]}:jobs")
    monkeypatch.setenv("AR_SHARED_CACHE_MIN_MS", "0")
    figure, calls = counted()
    for worker in (1, 2, 3):
        value = ResultCache().get(worker_key(worker, figure, D), 8, lambda: figure(D))
        assert value["total_ar_cents"] == 123_456
    assert len(calls) == 3
    assert not shared_cache.shared_store().available(figure)  # switched off for a while


def test_off_by_setting_and_without_redis_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert shared_cache.shared_store() is None
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("AR_SHARED_CACHE", "0")
    assert shared_cache.shared_store() is None


def test_hits_and_misses_are_counted(shared):
    figure, _calls = counted()
    hits = RESULT_CACHE.labels("shared", "hit")._value.get()
    misses = RESULT_CACHE.labels("shared", "miss")._value.get()
    ResultCache().get(worker_key(1, figure, D), 8, lambda: figure(D))
    ResultCache().get(worker_key(2, figure, D), 8, lambda: figure(D))
    assert RESULT_CACHE.labels("shared", "miss")._value.get() == misses + 1
    assert RESULT_CACHE.labels("shared", "hit")._value.get() == hits + 1


def test_a_result_a_caller_keeps_itself_is_shared_too(shared):
    """shared_result (the forecast's collectability tables, kept per snapshot by their module): one
    worker computes, a worker with its own snapshot of the same data version reads it from Redis."""
    from types import SimpleNamespace

    calls: list = []

    def table(snap, day, window):
        calls.append((id(snap), day, window))
        return {"day": day, "window": window}

    one = SimpleNamespace(version=7, stamp="s1", loaded_at=1.0)  # two processes' snapshots
    two = SimpleNamespace(version=7, stamp="s1", loaded_at=2.0)
    assert cache.shared_result(one, table, 19_800, 180) == {"day": 19_800, "window": 180}
    assert cache.shared_result(two, table, 19_800, 180) == {"day": 19_800, "window": 180}
    assert calls == [(id(one), 19_800, 180)]
    cache.shared_result(two, table, 19_801, 180)  # another day: computed
    assert len(calls) == 2
