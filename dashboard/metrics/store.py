"""Snapshots on disk: one directory of column files per data version, shared by every process.

Layout under the snapshot directory (AR_SNAPSHOT_DIR, default data/snapshots)::

    <ledger key>/                 one per database (and base currency); see ledger_key
        build.lock                held (flock) by the one process building a version
        v000000000042-<ledger>-<stamp hash>/
                                  a complete version: meta.json, one file per column, .inuse
        .build-*                  a build in progress (renamed into place when complete)

A version directory appears by one atomic rename once every file in it is written, so a killed
build never leaves a half-written version where a reader looks. Its files are synced to disk after
the rename, in the background (the version serves at once: it is a cache of the database), and
.synced marks it durable once they are; a version without .synced that was written before this
machine's last boot (meta.json's boot_id) may have lost writes in a crash and is never used again
(see usable). Readers map the column
files read-only (numpy memmap): no private copy, the operating system's page cache is shared by all
workers on the machine, and opening a version takes milliseconds. Each process that maps a version
holds a shared flock on its .inuse file; a version is removed only when it is not the newest of the
database's current ledger and an exclusive flock on .inuse succeeds, i.e. when no process uses it
any more (flocks end with their process, even one killed with SIGKILL). The ledger is the random id
the database gets when it is created (data_version.ledger_id): a database recreated at the same URL
starts again at version 1 and never takes the old ledger's versions for its own.

Arrays are stored raw (`<column>.raw`, their type and length in meta.json), so the next version
can share a column whose rows were only appended: it hard-links the previous version's file and
appends the new rows, and each version maps only its own length (see _save_raw).
Text columns with many distinct values (ids, names) are stored as fixed-width unicode arrays and
mapped like numbers; low-cardinality text (segments, regions, currencies, reps) as dictionary codes.
Id lookups use the stored sort order and binary search (SortedIndex), never per-process hash tables.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.config import get_settings
from dashboard.data.db import url_without_password
from dashboard.data.schema import ledger_of
from dashboard.metrics.fx import Rates

if TYPE_CHECKING:  # both import this module
    from dashboard.metrics.ledger import Events
    from dashboard.metrics.snapshot import Snapshot

log = logging.getLogger(__name__)

FORMAT = 3  # bump when the layout changes: older directories are then ignored and removed
RAW = ".raw"  # a column's values, type and length in meta.json (appended to by later versions)
PREFIX = "v"
BUILDING = ".build-"
HISTORY = "history_"  # file prefix of the forecast's collectability history columns
INUSE = ".inuse"
META = "meta.json"
SYNCED = ".synced"  # every file of the version is on disk (written by _sync_version)
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
# object columns stored as fixed-width unicode (mapped, shared); the others as dictionary codes
WIDE_TEXT = frozenset({"cust_ids", "cust_name", "inv_ids", "pay_ids"})
FRAMES = ("reps", "promises", "disputes", "commissions", "activities")
SKIP = frozenset(
    {
        "version",
        "loaded_at",
        "url",
        "stamp",
        "source",
        "lazy",
        "cache",
        "lock",
        "lazy_lock",
        "rates",
        "day0",
        "ndays",
        "cust_index",
        "inv_index",
        "pay_index",
        *FRAMES,
    }
)


def ledger_key(url: str, base_currency: str) -> str:
    """The store's subdirectory for one database: a hash of its URL (password removed) and base."""
    safe = url_without_password(url)
    return hashlib.sha256(f"{safe}|{base_currency}|{FORMAT}".encode()).hexdigest()[:20]


def version_name(version: int, stamp: str) -> str:
    """Directory name of a version: the data version, its ledger and a hash of its stamp."""
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    return f"{PREFIX}{version:012d}-{_ledger_part(ledger_of(stamp))}-{digest}"


def _ledger_part(ledger: str) -> str:
    return ledger[:12] or "none"


def _parse_version(name: str) -> tuple[int, str] | None:
    """(data version, ledger part) of a version directory's name (ledger "" in the name format
    before ledger ids: a version nobody will ask for again)."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX) :].split("-")
    try:
        return int(parts[0]), parts[1] if len(parts) == 3 else ""
    except ValueError:
        return None


class SortedIndex:
    """Positions of ids by binary search over the stored sort order (no hash table)."""

    def __init__(self, ids: np.ndarray, order: np.ndarray | None = None) -> None:
        self.ids = ids
        self.order = np.argsort(ids, kind="stable").astype(np.int64) if order is None else order

    def lookup(self, keys: pd.Series | np.ndarray | list[Any]) -> np.ndarray:
        """Positions of many ids (-1 when unknown or null)."""
        raw = (
            keys.to_numpy(dtype=object)
            if isinstance(keys, pd.Series)
            else np.asarray(keys, dtype=object)
        )
        if len(raw) == 0 or len(self.ids) == 0:
            return np.full(len(raw), -1, dtype=np.int32)
        null = pd.isna(raw)
        text = np.where(null, "", raw).astype(str)
        at = np.searchsorted(self.ids, text, sorter=self.order)
        at = np.minimum(at, len(self.ids) - 1)
        pos = self.order[at]
        found = (self.ids[pos] == text) & ~null
        return np.where(found, pos, -1).astype(np.int32)

    def get(self, key: str, default: int | None = None) -> int | None:
        """The position of key, or default."""
        if key is None or not isinstance(key, str):
            return default
        pos = int(self.lookup([key])[0])
        return default if pos < 0 else pos

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: str) -> int:
        pos = self.get(key)
        if pos is None:
            raise KeyError(key)
        return pos

    def __len__(self) -> int:
        return len(self.ids)


# --- writing ---------------------------------------------------------------------------------


def _save(
    folder: Path,
    name: str,
    values: np.ndarray,
    meta: dict[str, Any],
    previous: tuple[Path, dict[str, Any]] | None = None,
) -> None:
    """One column: object text as codes or wide text; arrays as raw files (_save_raw). previous:
    (the previous version's directory, its column specs) when the column's first rows are that
    version's (the new rows are appended to its file)."""
    values = np.asarray(values)
    if values.dtype == object:
        text = np.array(
            ["" if v is None else str(v) for v in values]
            if len(values) < 1000
            else pd.Series(values, dtype=object).fillna("").astype(str).to_numpy(),
            dtype=object,
        )
        if name in WIDE_TEXT:
            wide = text.astype(str) if len(text) else np.zeros(0, dtype="<U1")
            _save_raw(folder, name, wide, meta["columns"], previous)
            return
        uniques, codes = (
            np.unique(text.astype(str), return_inverse=True)
            if len(text)
            else (np.zeros(0, dtype="<U1"), np.zeros(0, dtype=np.int32))
        )
        np.save(folder / f"{name}.npy", codes.astype(np.int32))
        meta["columns"][name] = {"kind": "codes", "values": [str(u) for u in uniques]}
        return
    _save_raw(folder, name, values, meta["columns"], previous)


def _save_raw(
    folder: Path,
    name: str,
    values: np.ndarray,
    specs: dict[str, Any],
    previous: tuple[Path, dict[str, Any]] | None,
) -> None:
    """A 1-d array as a raw file whose type and length are in meta. With previous (the version
    this one is built from): when previous's column is the start of this one (rows only appended,
    as the ledger's row columns are) and its file holds exactly those rows, the file is shared (a
    hard link) and only the new rows are appended to it. previous's readers map their own length,
    so the bytes after it are invisible to them; a file another build already extended (or a
    killed build left longer) is not appended to but written again. The caller vouches that the
    previous rows are unchanged (the next version's row columns are built by appending); the first
    and last of them are checked."""
    path = folder / f"{name}{RAW}"
    spec = {
        "kind": "raw",
        "dtype": values.dtype.str,
        "rows": len(values),
        "shape": list(values.shape[1:]),  # of one row (e.g. [3]: year, month, day)
    }
    specs[name] = spec
    if previous is not None and _append(path, values, *previous, name):
        return
    with path.open("wb") as handle:
        values.tofile(handle)


def _append(path: Path, values: np.ndarray, folder: Path, specs: dict[str, Any], name: str) -> bool:
    """Share previous's file of this column and append values' new rows to it (see _save_raw);
    False when previous's column is not values' start or its file is not exactly its rows."""
    spec = specs.get(name)
    if (
        spec is None
        or spec["kind"] != "raw"
        or spec["dtype"] != values.dtype.str
        or spec["shape"] != list(values.shape[1:])
    ):
        return False
    rows = spec["rows"]
    source = folder / f"{name}{RAW}"
    row_bytes = values.dtype.itemsize * int(np.prod(values.shape[1:], dtype=np.int64))
    if rows == 0 or rows > len(values) or source.stat().st_size != rows * row_bytes:
        return False
    stored = _raw(source, spec)
    if not (
        np.array_equal(stored[:1], values[:1])
        and np.array_equal(stored[-1:], values[rows - 1 : rows])
    ):
        return False
    os.link(source, path)
    with path.open("ab") as handle:
        values[rows:].tofile(handle)
    return True


def _save_frame(folder: Path, name: str, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """A DataFrame as one file per column (text with a null mask), read back privately."""
    sub = folder / name
    sub.mkdir()
    cols: list[dict[str, Any]] = []
    for col in frame.columns:
        series = frame[col]
        entry: dict[str, Any] = {"name": str(col)}
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            null = series.isna().to_numpy()
            text = series.where(~null, "").astype(str).to_numpy()
            np.save(
                sub / f"{len(cols)}.npy",
                text.astype(str) if len(text) else np.zeros(0, dtype="<U1"),
            )
            if null.any():
                np.save(sub / f"{len(cols)}.null.npy", null)
                entry["null"] = True
            entry["kind"] = "text"
        else:
            values = series.to_numpy()
            if values.dtype == object:  # pandas extension dtypes with NA
                values = series.to_numpy(dtype=float, na_value=np.nan)
            np.save(sub / f"{len(cols)}.npy", values)
            entry["kind"] = "array"
        cols.append(entry)
    meta["frames"][name] = {"rows": len(frame), "columns": cols}


@dataclasses.dataclass(frozen=True)
class Sharing:
    """What a version built from the previous one shares with it: columns that are the previous
    version's own (hard links), and columns (and history columns) whose previous values are their
    first rows by construction (the previous file, the new rows appended: see _save_raw)."""

    previous: Path
    unchanged: frozenset[str] = frozenset()
    appended: frozenset[str] = frozenset()


def _write_all(fd: int, data: bytes | np.ndarray) -> None:
    view = memoryview(data if isinstance(data, bytes) else data.data).cast("B")
    while len(view):
        view = view[os.write(fd, view) :]


def _copy_range(src: int, dst: int, start: int, count: int) -> None:
    """count bytes of the file src from start, appended at dst's position (in the kernel)."""
    while count > 0:
        done = os.copy_file_range(src, dst, count, start)
        if done <= 0:
            raise OSError(f"copy_file_range copied {done} bytes")
        start, count = start + done, count - done


class Staging:
    """The directory of a next version while it is built from the previous one: each row column
    that only gains rows is the previous version's file (a hard link) with the new rows appended,
    mapped from there (see _save_raw), so its old rows are never copied in memory. Made by
    LedgerStore.staging, renamed into place by publish_next (or removed: a killed build leaves a
    .build-* directory, which the next builder removes)."""

    def __init__(self, previous: Path, folder: Path) -> None:
        self.previous, self.folder = previous, folder
        self.before: dict[str, Any] = json.loads((previous / META).read_text())
        self.columns: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
        self.files: set[str] = set()  # other files in place already (see pieces)
        folder.mkdir(parents=True)

    def extend(
        self, name: str, old: np.ndarray, new: np.ndarray, group: str = "columns"
    ) -> np.ndarray:
        """np.concatenate([old, new]) where old is the previous version's column name (of meta's
        group: "columns", or "history" for the forecast's history columns, named with HISTORY):
        appended to its file and mapped when that file holds exactly old's rows and new's values
        fit old's type; else concatenated in memory (and written with the version)."""
        new = np.asarray(new)
        spec = self.before.get(group, {}).get(name)
        source = self.previous / f"{name}{RAW}"
        if (
            spec is None
            or spec["kind"] != "raw"
            or spec["dtype"] != old.dtype.str
            or spec["shape"] != list(old.shape[1:])
            or spec["rows"] != len(old)
            or len(old) == 0
            or new.shape[1:] != old.shape[1:]
            or np.result_type(old.dtype, new.dtype) != old.dtype
            or source.stat().st_size != old.nbytes
        ):
            return np.concatenate([old, new])
        path = self.folder / f"{name}{RAW}"
        os.link(source, path)
        with path.open("ab") as handle:
            new.astype(old.dtype, copy=False).tofile(handle)
        spec = {**spec, "rows": len(old) + len(new)}
        values = _raw(path, spec)
        self.columns[name] = (spec, values)
        return values

    def pieces(
        self,
        name: str,
        source: np.ndarray,
        parts: list[tuple[int, int] | np.ndarray],
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        raw: bool = False,
    ) -> np.ndarray:
        """The column name (raw: a raw file, the column's spec kept for write_snapshot; else an
        array file name.npy) of the parts in order, mapped: each part a range (start, stop) of
        source, the previous version's column (copied file to file by the kernel, no copy in this
        process; with transform, transform(source[start:stop]) is written instead), or an array
        of values (source's type)."""
        total = sum(part[1] - part[0] if isinstance(part, tuple) else len(part) for part in parts)
        item = source.dtype.itemsize
        filename: str | None
        offset: int | None
        if raw:
            path = self.folder / f"{name}{RAW}"
            spec = self.before["columns"].get(name)
            known = (
                spec is not None
                and spec["kind"] == "raw"
                and spec["dtype"] == source.dtype.str
                and spec["rows"] == len(source)
                and not spec["shape"]
            )
            filename = str(self.previous / f"{name}{RAW}") if known else None
            offset = 0
            head = b""
        else:
            path = self.folder / f"{name}.npy"
            filename, offset = getattr(source, "filename", None), getattr(source, "offset", None)
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buffer,
                {
                    "descr": np.lib.format.dtype_to_descr(source.dtype),
                    "fortran_order": False,
                    "shape": (total,),
                },
            )
            head = buffer.getvalue()
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        src = os.open(filename, os.O_RDONLY) if filename and offset is not None else None
        try:
            _write_all(out, head)
            for part in parts:
                if not isinstance(part, tuple):
                    _write_all(out, np.ascontiguousarray(part, dtype=source.dtype))
                elif src is not None and transform is None:
                    lo, hi = part
                    _copy_range(src, out, int(offset or 0) + lo * item, (hi - lo) * item)
                else:
                    lo, hi = part
                    values = source[lo:hi] if transform is None else transform(source[lo:hi])
                    _write_all(out, np.ascontiguousarray(values, dtype=source.dtype))
        finally:
            os.close(out)
            if src is not None:
                os.close(src)
        if raw:
            spec = {"kind": "raw", "dtype": source.dtype.str, "rows": total, "shape": []}
            values = _raw(path, spec)
            self.columns[name] = (spec, values)
            return values
        self.files.add(f"{name}.npy")
        return mapped(path)

    def extend_history(self, name: str, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """extend for the forecast's history column name (stored as HISTORY + name)."""
        return self.extend(HISTORY + name, old, new, "history")

    def written(self, name: str, values: Any) -> dict[str, Any] | None:
        """The spec of column name when its file is already in place and holds values."""
        staged = self.columns.get(name)
        if staged is None:
            return None
        mine = staged[1]
        if isinstance(values, np.ndarray) and (
            values.dtype == mine.dtype
            and values.shape == mine.shape
            and values.__array_interface__["data"][0] == mine.__array_interface__["data"][0]
        ):  # the staged mapping itself (or a plain view of all of it)
            return staged[0]
        (self.folder / f"{name}{RAW}").unlink()  # replaced since: written with the version
        del self.columns[name]
        return None


def write_snapshot(
    snap: Snapshot,
    events: Events,
    folder: Path,
    stamp: str,
    build_seconds: float = 0.0,
    sharing: Sharing | None = None,
    frames: dict[str, pd.DataFrame] | None = None,
    history: dict[str, np.ndarray] | None = None,
    staging: Staging | None = None,
) -> None:
    """Write every column of snap (and its event index) into folder (which must not exist, or be
    staging's, whose columns are in place already).

    With sharing: the frames are the given ones, the others hard links to the previous version's,
    and the columns it names are shared with that version. history: the forecast's history
    columns when already known (else derived from snap)."""
    previous = None if sharing is None else sharing.previous
    if staging is None:
        folder.mkdir(parents=True)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": snap.version,
        "stamp": stamp,
        "day0": snap.day0,
        "ndays": snap.ndays,
        "columns": {},
        "frames": {},
        "built_at": time.time(),
        "build_seconds": build_seconds,
        "boot_id": boot_id(),
    }
    before = None if previous is None else json.loads((previous / META).read_text())
    for f in dataclasses.fields(snap):
        if f.name in SKIP:
            continue
        spec = None if staging is None else staging.written(f.name, getattr(snap, f.name))
        if spec is not None:
            meta["columns"][f.name] = spec
            continue
        if sharing is not None and before is not None and f.name in sharing.unchanged:
            _link_column(sharing.previous, folder, f.name, before["columns"][f.name], meta)
            continue
        shared = (
            (sharing.previous, before["columns"])
            if sharing is not None and before is not None and f.name in sharing.appended
            else None
        )
        _save(folder, f.name, getattr(snap, f.name), meta, shared)
    for name, index in (
        ("inv_index", snap.inv_index),
        ("pay_index", snap.pay_index),
        ("cust_index", snap.cust_index),
    ):
        np.save(folder / f"{name}.npy", index.order)
    rates: Rates = snap.rates
    meta["rates"] = rates.codes
    for g in range(len(rates.codes)):
        np.save(folder / f"rate_days_{g}.npy", rates.days[g])
        np.save(folder / f"rate_values_{g}.npy", rates.values[g])
    if previous is not None:
        given = frames or {}
        _link_frames(previous, folder, meta, set(FRAMES) - set(given))
        for name, given_frame in given.items():
            _save_frame(folder, name, given_frame, meta)
        meta["previous"] = previous.name
    else:
        for name in FRAMES:
            frame = (
                snap.lazy.get(name)
                if name in ("commissions", "activities")
                else getattr(snap, name)
            )
            if frame is not None:
                _save_frame(folder, name, frame, meta)
    for name in ("slot", "cents", "starts"):
        if staging is None or f"events_{name}.npy" not in staging.files:
            np.save(folder / f"events_{name}.npy", getattr(events, name))
    # the forecast's collectability history: mapped by every process instead of derived in each
    # (about 70 bytes per invoice: 0.7 GB per worker at 10M); lazy (a): forecast imports snapshot,
    # which imports this module
    from dashboard.metrics.forecast import history_arrays

    meta["history"] = {}
    for name, values in (history if history is not None else history_arrays(snap)).items():
        column = f"{HISTORY}{name}"
        shared = (
            (sharing.previous, before.get("history", {}))
            if sharing is not None and before is not None and column in sharing.appended
            else None
        )
        spec = None if staging is None else staging.written(column, values)
        if spec is not None:
            meta["history"][column] = spec
            continue
        _save_raw(folder, column, np.asarray(values), meta["history"], shared)
    (folder / INUSE).touch()
    (folder / META).write_text(json.dumps(meta))


def _fsync_enabled() -> bool:
    return get_settings().snapshot_fsync


def _link_column(
    previous: Path, folder: Path, name: str, spec: dict[str, Any], meta: dict[str, Any]
) -> None:
    """The previous version's file of an unchanged column (a hard link) and its spec."""
    file = f"{name}{RAW}" if spec["kind"] == "raw" else f"{name}.npy"
    os.link(previous / file, folder / file)
    meta["columns"][name] = spec


def _link_frames(previous: Path, folder: Path, meta: dict[str, Any], names: set[str]) -> None:
    """Hard links to previous's stored frames of these names (nothing copied), and their meta."""
    before = json.loads((previous / META).read_text())
    for name in names:
        if name not in before["frames"]:
            continue
        (folder / name).mkdir()
        for inner in (previous / name).iterdir():
            os.link(inner, folder / name / inner.name)
        meta["frames"][name] = before["frames"][name]


def boot_id() -> str | None:
    """This machine's boot (Linux: a random id per boot); None where the system has none."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def usable(path: Path) -> bool:
    """True when the published version at path may be mapped: synced to disk (.synced), or written
    since this machine booted (whatever was not synced yet is still in its page cache). A version
    neither synced nor of this boot may have lost writes in a crash (a torn file behind an intact
    rename): it is never used, and collect() removes it. Without a boot id (not Linux): usable."""
    if (path / SYNCED).exists():
        return True
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, ValueError):
        return False
    current = boot_id()
    return current is None or meta.get("boot_id") == current


_SYNCING: list[threading.Thread] = []
_SYNCING_LOCK = threading.Lock()


def _sync_later(store_dir: Path, final: Path) -> None:
    """Sync a just-published version in a background thread (AR_SNAPSHOT_FSYNC=0: never). The
    thread is not a daemon, so a process that ends normally waits for it; wait_synced() waits at once."""
    if not _fsync_enabled():
        return
    thread = threading.Thread(
        target=_sync_version, args=(store_dir, final), name="snapshot-sync", daemon=False
    )
    with _SYNCING_LOCK:
        _SYNCING[:] = [t for t in _SYNCING if t.is_alive()]
        _SYNCING.append(thread)
    thread.start()


def wait_synced(timeout: float | None = None) -> None:
    """Wait until every version this process published is synced (or its sync gave up)."""
    with _SYNCING_LOCK:
        threads = list(_SYNCING)
    for thread in threads:
        thread.join(timeout)


def _sync_version(store_dir: Path, final: Path) -> None:
    """Every file and directory of the version on disk, the rename that published it too, then the
    .synced marker (itself synced: without it the version is only trusted until the next boot)."""
    started = time.perf_counter()
    try:
        _sync(final)
        _fsync_path(store_dir)
        (final / SYNCED).touch()
        _fsync_path(final)
    except OSError as exc:  # removed meanwhile (collected as unused), or the disk failed
        log.warning("snapshot %s not synced: %s", final.name, exc)
        return
    log.info("snapshot %s synced in %.1f s", final.name, time.perf_counter() - started)


def _sync(folder: Path) -> None:
    """Every file and subdirectory under folder on disk."""
    for path in folder.rglob("*"):
        _fsync_path(path)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading ---------------------------------------------------------------------------------


MAP_BYTES = 1 << 16  # smaller files are read, not mapped (an empty array cannot be mapped)


def mapped(path: Path) -> np.ndarray:
    """A stored array, mapped read-only when it is big enough to matter."""
    # np.load is typed Any (an .npz gives an NpzFile); the store writes only .npy arrays
    if path.stat().st_size < MAP_BYTES:
        values: np.ndarray = np.load(path, allow_pickle=False)
        values.flags.writeable = False
        return values
    mapping: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    return mapping


def _raw(path: Path, spec: dict[str, Any]) -> np.ndarray:
    """A raw column file's first spec["rows"] values, mapped read-only when big enough to matter
    (the file may hold more: rows appended by later versions)."""
    dtype = np.dtype(spec["dtype"])
    shape = (spec["rows"], *spec["shape"])
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize < MAP_BYTES:
        values = np.fromfile(path, dtype=dtype, count=count).reshape(shape)
        values.flags.writeable = False
        return values
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def _load(folder: Path, name: str, spec: dict[str, Any]) -> np.ndarray:
    if spec["kind"] == "raw":
        return _raw(folder / f"{name}{RAW}", spec)
    values = mapped(folder / f"{name}.npy")
    if spec["kind"] == "codes":
        uniques = np.array(spec["values"], dtype=object)
        return uniques[values] if len(values) else np.zeros(0, dtype=object)
    return values


def read_frame(
    folder: Path, name: str, meta: dict[str, Any], only: tuple[str, ...] | None = None
) -> pd.DataFrame | None:
    """One stored frame (only some of its columns), as a private DataFrame (text as Python strings,
    None where null)."""
    spec = meta["frames"].get(name)
    if spec is None:
        return None
    sub = folder / name
    data = {}
    for i, col in enumerate(spec["columns"]):
        if only is not None and col["name"] not in only:
            continue
        values = np.load(sub / f"{i}.npy", allow_pickle=False)
        if col["kind"] == "text":
            values = values.astype(object)
            if col.get("null"):
                values[np.load(sub / f"{i}.null.npy", allow_pickle=False)] = None
        data[col["name"]] = values
    return pd.DataFrame(data, index=pd.RangeIndex(spec["rows"]))


def read_columns(
    folder: Path, name: str, meta: dict[str, Any], only: tuple[str, ...]
) -> dict[str, np.ndarray] | None:
    """Numeric columns of one stored frame, mapped read-only (nothing copied into the process);
    None when the frame or one of the columns is not stored, or is text."""
    spec = meta["frames"].get(name)
    if spec is None:
        return None
    found = {col["name"]: (i, col) for i, col in enumerate(spec["columns"]) if col["name"] in only}
    if len(found) != len(only) or any(col["kind"] == "text" for _i, col in found.values()):
        return None
    return {c: mapped(folder / name / f"{found[c][0]}.npy") for c in only}


DERIVED = "derived_"


def derived_arrays(
    folder: Path, name: str, build: Callable[[], dict[str, np.ndarray]], durable: bool = True
) -> dict[str, np.ndarray]:
    """Arrays computed from the stored version in folder, once per machine: the first process to
    ask builds them under a file lock and writes them beside the columns (atomically: a directory
    renamed into place; synced to disk when durable and AR_SNAPSHOT_FSYNC); every process maps them
    read-only, like the columns, and they go with the version. Where the folder cannot be
    written, the arrays built here are returned as they are."""
    target = folder / f"{DERIVED}{name}"
    if not target.is_dir():
        try:
            fd = os.open(folder / f"{DERIVED}{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            log.warning("snapshot store: %s not kept beside the version (%s)", name, error)
            return build()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not target.is_dir():
                arrays = build()
                temp = folder / f".{DERIVED}{name}.{uuid.uuid4().hex}"
                try:
                    temp.mkdir()
                    for key, values in arrays.items():
                        np.save(temp / f"{key}.npy", np.ascontiguousarray(values))
                    if durable and _fsync_enabled():
                        _sync(temp)
                    os.rename(temp, target)
                except OSError as error:
                    shutil.rmtree(temp, ignore_errors=True)
                    log.warning("snapshot store: %s not kept beside the version (%s)", name, error)
                    return arrays
        finally:
            os.close(fd)
    return {path.stem: mapped(path) for path in sorted(target.glob("*.npy"))}


DAYS = (
    "days"  # arrays of one date (dashboard.metrics.ledger.open_items), beside a version's columns
)
DAY_ARRAYS_KEPT = 32  # per version, the dates asked for last


def day_arrays(
    folder: Path, name: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Arrays of one date, derived from the stored version in folder and shared by the processes
    of the machine like derived_arrays (one builds, under a file lock, while the others wait and
    then map them), but a cache: not synced to disk, at most DAY_ARRAYS_KEPT dates kept (the
    oldest removed by the process that adds one), and built here whenever they cannot be mapped
    (removed meanwhile, or torn by a crash)."""
    days = folder / DAYS
    try:
        days.mkdir(exist_ok=True)
        existed = (days / f"{DERIVED}{name}").is_dir()
        arrays = derived_arrays(days, name, build, durable=False)
        if not existed:
            _prune_days(days)
        return arrays
    except (OSError, ValueError):  # gone, torn or unwritable: this process builds them itself
        return build()


def _prune_days(days: Path) -> None:
    """Remove the least recently made dates beyond DAY_ARRAYS_KEPT (a process that maps one keeps
    its pages: removing a mapped file only unlinks it)."""
    made = []
    for path in days.iterdir():
        try:
            if path.is_dir() and path.name.startswith(DERIVED):
                made.append((path.stat().st_mtime, path))
        except OSError:  # removed meanwhile by another process
            continue
    made.sort()
    for _mtime, old in made[: max(len(made) - DAY_ARRAYS_KEPT, 0)]:
        shutil.rmtree(old, ignore_errors=True)
        (days / f"{old.name}.lock").unlink(missing_ok=True)


def derived(
    snap: Snapshot, name: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The derived arrays `name` of snap, kept with the snapshot object: mapped from (or built
    into) its stored version (derived_arrays), or built in the process for a snapshot that was
    not read from the store."""
    with snap.lock:
        kept: dict[str, dict[str, np.ndarray]] = snap.__dict__.setdefault("_derived", {})
        found = kept.get(name)
    if found is None:
        found = derived_arrays(snap.source[0], name, build) if snap.source is not None else build()
        with snap.lock:
            kept[name] = found
    return found


class VersionGone(FileNotFoundError):
    """The version directory was removed (as unused) between finding it and mapping it."""


def open_snapshot(folder: Path, url: str | None) -> Snapshot:
    """Map a stored version read-only into a Snapshot (milliseconds; nothing copied)."""
    from dashboard.metrics.ledger import Events  # lazy (a): both import this module
    from dashboard.metrics.snapshot import Snapshot  # lazy (a): both import this module

    # Lock first, then read: a version found a moment ago may have been removed since (collect() runs
    # in the builder of a newer version). collect() removes a version only while it holds an
    # exclusive flock on .inuse, so once the shared lock is ours the directory is either whole (and
    # kept while we map it) or gone: then VersionGone, and the caller opens a newer version.
    try:
        fd = os.open(folder / INUSE, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise VersionGone(folder) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # "in use" until this process drops the snapshot
        try:
            meta = json.loads((folder / META).read_text())
        except FileNotFoundError as exc:
            raise VersionGone(folder) from exc
        cols: dict[str, Any] = {
            name: _load(folder, name, spec) for name, spec in meta["columns"].items()
        }
        codes = meta["rates"]
        rates = Rates(
            codes=list(codes),
            days=[
                np.load(folder / f"rate_days_{g}.npy", allow_pickle=False)
                for g in range(len(codes))
            ],
            values=[
                np.load(folder / f"rate_values_{g}.npy", allow_pickle=False)
                for g in range(len(codes))
            ],
        )
        order = {
            name: mapped(folder / f"{name}.npy")
            for name in ("inv_index", "pay_index", "cust_index")
        }
        frames: dict[str, Any] = {
            name: read_frame(folder, name, meta) for name in ("reps", "promises", "disputes")
        }
        snap = Snapshot(
            version=meta["version"],
            loaded_at=time.time(),
            rates=rates,
            day0=meta["day0"],
            ndays=meta["ndays"],
            cust_index=SortedIndex(cols["cust_ids"], order["cust_index"]),
            inv_index=SortedIndex(cols["inv_ids"], order["inv_index"]),
            pay_index=SortedIndex(cols["pay_ids"], order["pay_index"]),
            **frames,
            url=url,
            stamp=meta["stamp"],
            source=(folder, meta),
            **cols,
        )
    except BaseException:
        os.close(fd)
        raise
    weakref.finalize(snap, os.close, fd)
    snap.cache["events"] = Events(
        **{n: mapped(folder / f"events_{n}.npy") for n in ("slot", "cents", "starts")}
    )
    snap.cache["history"] = {
        name[len(HISTORY) :]: _raw(folder / f"{name}{RAW}", spec)
        for name, spec in meta["history"].items()
    }
    return snap


# --- the store of one ledger -------------------------------------------------------------------


class LedgerStore:
    """The versions of one database's snapshot on this machine."""

    def __init__(self, root: Path, url: str, base_currency: str) -> None:
        self.url = url
        self.dir = Path(root) / ledger_key(url, base_currency)

    def versions(self, stamp: str | None = None) -> list[tuple[int, Path]]:
        """Complete versions, oldest first; with stamp, only those of its ledger."""
        if not self.dir.is_dir():
            return []
        ledger = None if stamp is None else _ledger_part(ledger_of(stamp))
        found = []
        for path in self.dir.iterdir():
            parsed = _parse_version(path.name)
            if (
                parsed is not None
                and (path / META).is_file()
                and ledger in (None, parsed[1])
                and usable(path)
            ):
                found.append((parsed[0], path))
        return sorted(found)

    def find(self, version: int, stamp: str) -> Path | None:
        """The directory of exactly this version, if built."""
        path = self.dir / version_name(version, stamp)
        return path if (path / META).is_file() and usable(path) else None

    def newest(self, stamp: str) -> Path | None:
        """The newest complete version of the ledger of stamp (a database recreated at the same
        URL is another ledger: its versions are never built from the old one's)."""
        found = self.versions(stamp)
        return found[-1][1] if found else None

    @contextmanager
    def build_lock(self, wait: bool = True) -> Iterator[bool]:
        """The machine-wide build lock of this ledger (yields False when busy and wait is False)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    @contextmanager
    def warm_lock(self) -> Iterator[bool]:
        """The machine-wide lock of the page warm-up (yields False when another process holds it):
        one process per machine warms the pages' figures, the others take the small ones from the
        shared result cache and compute the rest when asked (each worker warming them all cost
        four times the CPU and memory at 10M invoices)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "warm.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def staging(self, previous: Path, version: int) -> Staging:
        """A temporary directory for the next version built from previous (see Staging)."""
        return Staging(previous, self._temp(version))

    def _temp(self, version: int) -> Path:
        return self.dir / f"{BUILDING}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def _publish(
        self, version: int, stamp: str, fill: Callable[[Path], None], temp: Path | None = None
    ) -> Path:
        """A new version directory (call under the build lock): fill(temporary directory, or temp
        when given), then one rename makes it visible; a failure or a kill leaves only the
        temporary directory."""
        final = self.dir / version_name(version, stamp)
        if (final / META).is_file():
            if usable(final):
                if temp is not None:
                    shutil.rmtree(temp, ignore_errors=True)
                return final
            shutil.rmtree(final)  # not synced before a crash: built again
        temp = temp or self._temp(version)
        try:
            fill(temp)
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        _sync_later(self.dir, final)
        return final

    def publish(
        self, snap: Snapshot, events: Events, stamp: str, build_seconds: float = 0.0
    ) -> Path:
        """Write snap as a new version."""
        return self._publish(
            snap.version,
            stamp,
            lambda temp: write_snapshot(snap, events, temp, stamp, build_seconds),
        )

    def publish_next(
        self,
        previous: Path,
        version: int,
        stamp: str,
        frames: dict[str, pd.DataFrame],
        build_seconds: float = 0.0,
        rebuilt: tuple[Snapshot, Events, Sharing, dict[str, np.ndarray]] | None = None,
        staging: Staging | None = None,
    ) -> Path:
        """A new version that shares every column file of previous (hard links) except the frames given.
        Nothing is copied: a note or a promise makes a version in milliseconds. With rebuilt (the
        next version's snapshot, events, what it shares with previous and its forecast history,
        after new ledger rows) its columns are written or shared as that says, and only the frames
        not given are shared."""
        if rebuilt is not None:
            snap, events, sharing, history = rebuilt
            return self._publish(
                version,
                stamp,
                lambda temp: write_snapshot(
                    snap, events, temp, stamp, build_seconds, sharing, frames, history, staging
                ),
                None if staging is None else staging.folder,
            )

        def fill(temp: Path) -> None:
            meta = json.loads((previous / META).read_text())
            temp.mkdir()
            for path in previous.iterdir():
                if path.name in (META, INUSE, SYNCED, DAYS) or (
                    path.is_dir() and path.name in frames
                ):
                    continue  # (DAYS: a cache of the previous version's dates, not carried)
                if path.is_dir():
                    (temp / path.name).mkdir()
                    for inner in path.iterdir():
                        os.link(inner, temp / path.name / inner.name)
                else:
                    os.link(path, temp / path.name)
            for name, frame in frames.items():
                meta["frames"].pop(name, None)
                _save_frame(temp, name, frame, meta)
            meta.update(
                version=version,
                stamp=stamp,
                built_at=time.time(),
                build_seconds=build_seconds,
                previous=previous.name,
            )
            meta["boot_id"] = boot_id()
            (temp / INUSE).touch()
            (temp / META).write_text(json.dumps(meta))

        return self._publish(version, stamp, fill)

    def collect(self, version: int, stamp: str) -> list[str]:
        """Remove versions no process uses and abandoned builds (under the build lock). Kept: this
        version (the one being served or the database's current one) and the last one published of
        its ledger. Every other ledger's versions (a database recreated at the same URL) go as soon
        as nobody maps them."""
        removed = []
        ours = self.versions(stamp)
        last = max(ours, key=lambda found: (found[1] / META).stat().st_mtime_ns, default=None)
        keep = {self.find(version, stamp), last[1] if last else None}
        for _, path in self.versions():
            if path in keep:
                continue
            try:
                fd = os.open(path / INUSE, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                shutil.rmtree(path)
                removed.append(path.name)
            finally:
                os.close(fd)
        for path in self.dir.iterdir():  # never synced, from before the last boot: nobody maps them
            if _parse_version(path.name) is not None and not usable(path):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        for path in self.dir.glob(f"{BUILDING}*"):  # the builder holds the lock, so these are dead
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        if removed:
            log.info("snapshot store: removed %s", ", ".join(removed))
        return removed


_STORE_LOCK = threading.Lock()


def store_for(url: str) -> LedgerStore:
    """The store of the database at url under the configured snapshot directory."""
    settings = get_settings()
    return LedgerStore(settings.snapshot_dir, url, settings.base_currency)
