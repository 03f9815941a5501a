"""The second level of the result cache: figures that were expensive to compute, shared by every
worker (and every app machine) through Redis, computed once per data version and request.

`metrics.cache.ResultCache` asks this store on a local miss (`fetch_or_compute`). A result is shared
when it is worth it and safe:

* its request can be written down exactly (`canonical`: dates, numbers, strings, tuples, frozen
  sets in sorted order, the Filters and Scope dataclasses ...); anything else stays process-local;
* it took at least `AR_SHARED_CACHE_MIN_MS` to compute (cheaper figures are recomputed: a Redis
  round trip and an unpickle cost about a millisecond, see docs/architecture.md "Caching");
* pickled it is at most `AR_SHARED_CACHE_MAX_BYTES` (one row per customer at ten million invoices
  is too big to copy on every hit; such a function is remembered and not tried again).

The key is `<AR_JOBS_PREFIX without ":jobs">:rc:<namespace>:<data version>:<version stamp>:<function>:<sha256 of the
request>`. The namespace is a digest of the metrics code and the settings that change a figure
(base and display currency), so two releases or two configurations never read each other's
results. The data version and its stamp identify the ledger across machines (a new import is a new
key); entries expire after `AR_SHARED_CACHE_TTL` seconds.

Single flight across processes: the first worker to miss takes a short Redis lock (SET NX PX) and
computes; the others poll for its result instead of computing the same figure on the same two
cores. A result that is not shared leaves a marker that tells the waiters to compute it themselves;
a worker that dies while computing loses the lock after LOCK_MS and the waiters go on alone.

Redis is infrastructure, not a dependency of a figure: when it does not answer (timeouts of half a
second), the store switches itself off for OFF_SECONDS and every figure is computed locally.
Results come back from pickle, which is safe only because Redis is the deployment's own server
(like RQ's job payloads and the sessions, docs/production.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import logging
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis

from dashboard import telemetry
from dashboard.config import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCK_MS = (
    120_000  # a computing worker's claim; longer than any figure takes at ten million invoices
)
POLL_SECONDS = 0.02  # how often a waiting worker looks for the result
OFF_SECONDS = 30.0  # after a Redis error, compute locally for this long before trying again
NOT_SHARED = b"-"  # the marker: the first worker computed it but did not share it


class Unshareable(Exception):
    """The request holds a value that has no exact, process-independent spelling."""


def canonical(value: Any) -> str:
    """An exact spelling of a request argument, the same in every process (frozen sets sorted, no
    object ids, no hash-seed order); Unshareable for anything else."""
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, dt.date):  # dates and datetimes
        return f"{type(value).__name__}({value.isoformat()})"
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, tuple | list):
        return f"{type(value).__name__}({','.join(canonical(v) for v in value)})"
    if isinstance(value, frozenset | set):
        return f"set({','.join(sorted(canonical(v) for v in value))})"
    if isinstance(value, dict):
        items = sorted((canonical(k), canonical(v)) for k, v in value.items())
        return f"dict({','.join(f'{k}:{v}' for k, v in items)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(
            f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__module__}.{type(value).__qualname__}({fields})"
    raise Unshareable(type(value).__qualname__)


def _code_digest() -> str:
    """A digest of the metrics package's source: a new release never reads an old one's results."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class SharedStore:
    """Results in Redis, keyed by namespace, data version, function and request."""

    def __init__(
        self,
        url: str,
        prefix: str,
        namespace: str,
        min_seconds: float,
        max_bytes: int,
        ttl_seconds: int,
    ) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = f"{prefix}:rc:{namespace}"
        self.min_seconds = min_seconds
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._too_big: set[str] = set()  # functions whose results were too big to share
        self._off_until = 0.0
        self._lock = threading.Lock()

    def key(self, version: tuple[Any, ...], function: Callable[..., Any], request: str) -> str:
        name = f"{function.__module__}.{function.__qualname__}"
        digest = hashlib.sha256(request.encode()).hexdigest()[:32]
        return f"{self.prefix}:{canonical(version)}:{name}:{digest}"

    def available(self, function: Callable[..., Any]) -> bool:
        return time.monotonic() >= self._off_until and _name(function) not in self._too_big

    def _failed(self, error: Exception) -> None:
        with self._lock:
            if time.monotonic() >= self._off_until:
                log.warning(
                    "shared result cache unavailable (%s); computing locally for %.0f s",
                    error,
                    OFF_SECONDS,
                )
            self._off_until = time.monotonic() + OFF_SECONDS

    def fetch_or_compute(
        self, key: str, function: Callable[..., Any], compute: Callable[[], T]
    ) -> T:
        """The shared result for key; else computed here (and shared when worth it), by the worker
        that claimed it first or, when that one does not share it, here again."""
        try:
            value, claimed = self._wait_for(key)
        except redis.RedisError as error:
            self._failed(error)
            return compute()
        if value is not None:
            telemetry.RESULT_CACHE.labels("shared", "hit").inc()
            result: T = pickle.loads(value)
            return result
        telemetry.RESULT_CACHE.labels("shared", "miss").inc()
        if not claimed:
            return compute()
        started = time.perf_counter()
        try:
            result = compute()
        except BaseException:
            self.release(key)
            raise
        self._publish(key, function, result, time.perf_counter() - started)
        return result

    def _wait_for(self, key: str) -> tuple[bytes | None, bool]:
        """(the shared value, False) once there; (None, True) when this worker claimed the key and
        must compute it; (None, False) when the claimant computed it without sharing it."""
        lock = key + ":lock"
        while True:
            value = self._get(key)
            if value is not None:
                return (None, False) if value == NOT_SHARED else (value, False)
            if self.redis.set(lock, b"1", nx=True, px=LOCK_MS):
                return None, True
            while self.redis.exists(lock):
                time.sleep(POLL_SECONDS)
                value = self._get(key)
                if value is not None:
                    return (None, False) if value == NOT_SHARED else (value, False)
            # the claimant ended without a value (it failed or died): look again, maybe claim it

    def _get(self, key: str) -> bytes | None:
        value = self.redis.get(key)
        return value if isinstance(value, bytes) or value is None else str(value).encode()

    def _publish(self, key: str, function: Callable[..., Any], result: Any, seconds: float) -> None:
        payload = NOT_SHARED
        if seconds >= self.min_seconds:
            try:
                data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                data = b""
            if 0 < len(data) <= self.max_bytes:
                payload = data
            elif data:
                self._too_big.add(_name(function))
                log.info(
                    "%s: a %d-byte result is too big to share (AR_SHARED_CACHE_MAX_BYTES)",
                    _name(function),
                    len(data),
                )
        try:
            pipe = self.redis.pipeline()
            # a marker lives as long as the claim would: the waiters stop waiting, later misses retry
            pipe.set(key, payload, ex=self.ttl_seconds if payload != NOT_SHARED else 60)
            pipe.delete(key + ":lock")
            pipe.execute()
        except redis.RedisError as error:
            self._failed(error)

    def release(self, key: str) -> None:
        """Give up a claim (the computation failed): the next asker computes it."""
        try:
            self.redis.delete(key + ":lock")
        except redis.RedisError as error:
            self._failed(error)


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


_STORE: SharedStore | None = None
_STORE_KEY: tuple[Any, ...] | None = None
_STORE_LOCK = threading.Lock()


def shared_store() -> SharedStore | None:
    """The process's shared store per the settings (None: no REDIS_URL, or AR_SHARED_CACHE=0)."""
    global _STORE, _STORE_KEY
    settings = get_settings()
    url = settings.redis_url if settings.shared_cache else None
    wanted = (
        url,
        settings.jobs_prefix,
        settings.base_currency,
        settings.currency,
        settings.shared_cache_min_ms,
        settings.shared_cache_max_bytes,
        settings.shared_cache_ttl,
    )
    with _STORE_LOCK:
        if wanted != _STORE_KEY:
            _STORE_KEY = wanted
            _STORE = None
            if url:
                namespace = hashlib.sha256(
                    f"{_code_digest()}:{settings.base_currency}:{settings.currency}".encode()
                ).hexdigest()[:16]
                _STORE = SharedStore(
                    url,
                    settings.jobs_prefix.removesuffix(":jobs"),  # the deployment's key space
                    namespace,
                    settings.shared_cache_min_ms / 1000,
                    settings.shared_cache_max_bytes,
                    settings.shared_cache_ttl,
                )
        return _STORE
