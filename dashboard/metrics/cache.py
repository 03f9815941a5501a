"""The one result cache of the metrics service layer: every memoised figure lives here (and the
data grids' frames and filtered views, dashboard/views/grids.py, keyed the same way plus who asks).

A metrics entry point is a pure function of (snapshot, as_of, filters, scope, ...). Wrapped in
`cached`, its result is kept in one process-local store keyed by

    (snapshot stamp, function, arguments)

where the stamp is the snapshot's identity and data version and the arguments hold the request:
as-of date, filters, scope, period and the like. One user's result is therefore never served to
another scope, and a new data version is a new key (it misses; the old version's entries are
dropped once MAX_VERSIONS newer versions have been seen, so memory follows the live snapshot).

The store is bounded twice: by the function's `maxsize` (large frames keep few entries) and by
MAX_ENTRIES in all, least recently used first. It is thread-safe, and concurrent callers of the
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

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar, overload

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


class ResultCache:
    """A bounded, thread-safe LRU of results keyed by (snapshot stamp, function, request)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_versions: int = MAX_VERSIONS) -> None:
        self.max_entries = max_entries
        self.max_versions = max_versions
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Any] = OrderedDict()  # least recently used first
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
            value = self._compute(key, compute)
            with self._lock:
                self._put(key, maxsize, value)
            return value
        finally:
            with self._lock:
                self._running.pop(key).set()

    @staticmethod
    def _compute(key: Key, compute: Callable[[], T]) -> T:
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

    def _put(self, key: Key, maxsize: int, value: Any) -> None:
        """Store value and enforce the bounds (under the lock)."""
        self._versions[key.version] = None
        self._versions.move_to_end(key.version)
        while len(self._versions) > self.max_versions:
            old, _ = self._versions.popitem(last=False)
            for stale in [k for k in self._entries if k.version == old]:
                self._drop(stale)
        self._entries[key] = value
        mine = self._by_function.setdefault(key.function, OrderedDict())
        mine[key] = None
        while len(mine) > maxsize:
            self._drop(next(iter(mine)))
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Key) -> None:
        del self._entries[key]
        mine = self._by_function[key.function]
        del mine[key]
        if not mine:
            del self._by_function[key.function]
        self._stats.evictions += 1

    def clear(self) -> None:
        """Forget every result and reset the counters (tests; a new data version needs no call: it is in the key)."""
        with self._lock:
            self._entries.clear()
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


def clear_cache() -> None:
    """Forget every cached result (tests)."""
    CACHE.clear()
