"""The one result cache of the metrics service layer: every memoised figure lives here (and the
data grids' frames and filtered views, dashboard/views/grids.py, keyed the same way plus who asks).

A metrics entry point is a pure function of (snapshot, as_of, filters, scope, ...). Wrapped in
`cached`, its result is kept in one process-local store keyed by

    (snapshot stamp, function, arguments)

where the stamp is the snapshot's identity and data version and the arguments hold the request:
as-of date, filters, scope, period and the like. One user's result is therefore never served to
another scope, and a new data version is a new key (it misses; the old version's entries are
dropped once MAX_VERSIONS newer versions have been seen, so memory follows the live snapshot).

The store is bounded three times: by the function's `maxsize` (large frames keep few entries), by
MAX_ENTRIES in all, and by AR_CACHE_MAX_MB of results (their estimated size: `size_of`), least
recently used first; a result bigger than half that budget is handed back but not kept (a
drill-down's rows at ten million invoices: before this bound, four workers each free to keep eight
such frames stalled the machine under the load test). It is thread-safe, and concurrent callers of the
same key wait for the first caller's result instead of computing it again. Results are shared:
treat them as read-only.

Two levels. This store is process-local: a hit hands back a reference in microseconds. On a local
miss, where REDIS_URL is set (the production profile), the second level (`shared_cache.py`) is
asked: a figure that took at least AR_SHARED_CACHE_MIN_MS to compute and pickles small is shared
with every other worker and machine of the same data version, and concurrent workers missing the
same request wait for the first one's result instead of computing it again. `shared=False` keeps a
function's results in the process (arrays or rows of every invoice). See docs/architecture.md,
"Caching".

    from dashboard.metrics.cache import cached

    kpis = cached(compute_kpis)                      # kpis(snap, as_of, period_days, filters, scope)

    @cached(maxsize=16)
    def customer_aging(snap, as_of, basis, filters, scope) -> pd.DataFrame: ...
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar, overload

import numpy as np
import pandas as pd

from dashboard.config import get_settings
from dashboard.metrics.shared_cache import Unshareable, canonical, shared_store
from dashboard.metrics.snapshot import Snapshot

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_MAXSIZE = 128  # entries per function (small dicts); frames pass a smaller maxsize
MAX_ENTRIES = 4096  # entries in all, whatever the functions
MAX_VERSIONS = 2  # data versions kept: the live one and the one before, while its requests finish


def stamp(snap: Snapshot) -> tuple[Hashable, ...]:
    """What identifies a snapshot's data: the object, its data version (number and stamp) and when
    it was loaded."""
    return (id(snap), snap.version, snap.stamp, snap.loaded_at)


class Key(NamedTuple):
    """A cache key: the snapshot stamp, the function, and the request (every other argument)."""

    version: tuple[Hashable, ...]
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    shared: bool = False  # may be shared with other workers (shared_cache.py)


@dataclass
class Stats:
    """Counters of the cache (for tests and the metrics endpoint)."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    versions: int = 0
    bytes: int = 0  # estimated size of the kept results
    not_kept: int = 0  # results bigger than half the byte budget: computed, handed back, not kept


SAMPLE = 256  # object values sampled to estimate a column's average size


def _object_bytes(values: np.ndarray) -> int:
    """Estimated bytes of the Python objects an object array points to (a sample's average)."""
    n = len(values)
    if n == 0:
        return 0
    picks = values[:: max(n // SAMPLE, 1)][:SAMPLE]
    return int(n * sum(sys.getsizeof(v) for v in picks) / len(picks))


def _python_objects(dtype: Any) -> bool:
    """A column whose values are Python objects (object dtype, python-backed strings)."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "python"
    return getattr(dtype, "kind", "") == "O"


def size_of(value: Any, depth: int = 0) -> int:
    """An estimate of a result's memory in bytes: frames and arrays by their buffers (object
    columns by a sample of their values), containers and objects by their parts (a few levels)."""
    if isinstance(value, pd.DataFrame):
        total = int(value.memory_usage(index=True, deep=False).sum())
        for i, dtype in enumerate(value.dtypes):
            if _python_objects(dtype):
                total += _object_bytes(value.iloc[:, i].to_numpy(dtype=object))
        return total
    if isinstance(value, pd.Series | pd.Index):
        extra = _object_bytes(value.to_numpy(dtype=object)) if _python_objects(value.dtype) else 0
        return int(value.memory_usage(deep=False)) + extra
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + (_object_bytes(value) if value.dtype.kind == "O" else 0)
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return sys.getsizeof(value)
    if depth >= 4:
        return 64
    if isinstance(value, dict):
        items = list(value.items())
        head = items[:SAMPLE]
        part = sum(size_of(k, depth + 1) + size_of(v, depth + 1) for k, v in head)
        return 64 + (part * len(items) // len(head) if head else 0)
    if isinstance(value, list | tuple | set | frozenset):
        seq = list(value)
        head = seq[:SAMPLE]
        part = sum(size_of(v, depth + 1) for v in head)
        return 64 + (part * len(seq) // len(head) if head else 0)
    fields = getattr(value, "__dict__", None)
    if isinstance(fields, dict):
        return 64 + sum(size_of(v, depth + 1) for v in fields.values())
    return sys.getsizeof(value)


def byte_budget() -> int:
    """AR_CACHE_MAX_MB in bytes (per process)."""
    return int(get_settings().cache_max_mb * 1024 * 1024)


def shared_or_computed(key: Key, compute: Callable[[], T]) -> T:
    """compute(), or the result another worker shared for the same request (shared_cache.py)."""
    if not key.shared:
        return compute()
    store = shared_store()
    if store is None or not store.available(key.function):
        return compute()
    try:
        request = canonical((key.args, key.kwargs))
    except Unshareable:
        return compute()
    return store.fetch_or_compute(
        store.key(key.version[1:3], key.function, request), key.function, compute
    )


class ResultCache:
    """A bounded, thread-safe LRU of results keyed by (snapshot stamp, function, request)."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_versions: int = MAX_VERSIONS,
        max_bytes: int | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_versions = max_versions
        self.max_bytes = max_bytes  # None: AR_CACHE_MAX_MB (read when a result is stored)
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Any] = OrderedDict()  # least recently used first
        self._sizes: dict[Key, int] = {}
        self._bytes = 0
        self._by_function: dict[Callable[..., Any], OrderedDict[Key, None]] = {}
        self._versions: OrderedDict[tuple[Hashable, ...], None] = OrderedDict()
        self._running: dict[Key, threading.Event] = {}
        self._stats = Stats()

    def get(self, key: Key, maxsize: int, compute: Callable[[], T]) -> T:
        """The cached result for key, computed once (by the first caller) when missing."""
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    self._by_function[key.function].move_to_end(key)
                    self._versions.move_to_end(key.version)
                    self._stats.hits += 1
                    result: T = self._entries[key]
                    return result
                waiting = self._running.get(key)
                if waiting is None:
                    self._running[key] = threading.Event()
                    self._stats.misses += 1
                    break
            waiting.wait()  # then look again: the result, or (if that caller failed) our turn
        try:
            value = shared_or_computed(key, compute)
            size = size_of(value)
            budget = self.max_bytes if self.max_bytes is not None else byte_budget()
            with self._lock:
                if size > budget // 2:
                    self._stats.not_kept += 1
                else:
                    self._put(key, maxsize, value, size, budget)
            return value
        finally:
            with self._lock:
                self._running.pop(key).set()

    def _put(self, key: Key, maxsize: int, value: Any, size: int, budget: int) -> None:
        """Store value and enforce the bounds (under the lock)."""
        self._versions[key.version] = None
        self._versions.move_to_end(key.version)
        while len(self._versions) > self.max_versions:
            old, _ = self._versions.popitem(last=False)
            for stale in [k for k in self._entries if k.version == old]:
                self._drop(stale)
        self._entries[key] = value
        self._sizes[key] = size
        self._bytes += size
        mine = self._by_function.setdefault(key.function, OrderedDict())
        mine[key] = None
        while len(mine) > maxsize:
            self._drop(next(iter(mine)))
        while len(self._entries) > self.max_entries or self._bytes > budget:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Key) -> None:
        del self._entries[key]
        self._bytes -= self._sizes.pop(key)
        mine = self._by_function[key.function]
        del mine[key]
        if not mine:
            del self._by_function[key.function]
        self._stats.evictions += 1

    def clear(self) -> None:
        """Forget every result and reset the counters (tests; a new data version needs no call: it is in the key)."""
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._bytes = 0
            self._by_function.clear()
            self._versions.clear()
            self._stats = Stats()

    def stats(self) -> Stats:
        """A copy of the counters, with the current number of entries and versions."""
        with self._lock:
            return Stats(
                hits=self._stats.hits,
                misses=self._stats.misses,
                evictions=self._stats.evictions,
                entries=len(self._entries),
                versions=len({k.version for k in self._entries}),
                bytes=self._bytes,
                not_kept=self._stats.not_kept,
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


CACHE = ResultCache()


@overload
def cached(
    func: Callable[P, T], *, maxsize: int = DEFAULT_MAXSIZE, shared: bool = True
) -> Callable[P, T]: ...


@overload
def cached(
    func: None = None, *, maxsize: int = DEFAULT_MAXSIZE, shared: bool = True
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


def cached(
    func: Callable[P, T] | None = None, *, maxsize: int = DEFAULT_MAXSIZE, shared: bool = True
) -> Any:
    """Memoise func(snap, *hashable_args) in the one cache, keyed by the snapshot's stamp, the
    function and every other argument (so by the scope, filters and as-of it is called with).

    `cached(fn)`, `cached(fn, maxsize=16)`, `@cached` and `@cached(maxsize=16)` all work; the
    first argument must be the Snapshot, the others hashable. `shared=False`: never offered to
    the shared (Redis) level.
    """

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            snap: Snapshot = args[0]  # type: ignore[assignment]  # the decorated function's first argument
            key = Key(stamp(snap), fn, args[1:], tuple(sorted(kwargs.items())), shared)
            return CACHE.get(key, maxsize, lambda: fn(*args, **kwargs))

        return wrapper

    return decorate(func) if func is not None else decorate


def shared_result(snap: Snapshot, fn: Callable[..., T], *args: Hashable) -> T:
    """fn(snap, *args), or the result another worker shared for the same request: the shared level
    alone, for a caller that keeps its results itself (the process-local level is its own)."""
    key = Key(stamp(snap), fn, args, (), True)
    return shared_or_computed(key, lambda: fn(snap, *args))


def clear_cache() -> None:
    """Forget every cached result (tests)."""
    CACHE.clear()
