"""Writing an import: upsert steps in dependency order, batched, inside the caller's transaction."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Connection, Insert, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from tqdm import tqdm

from dashboard.data import models
from dashboard.data.importer.contract import BULK, CHUNK, SPECS, TABLE_ORDER, Parsed, Progress, Spec
from dashboard.data.schema import bump_data_version

BATCH = 10_000  # rows per executemany


# ---------------------------------------------------------------- writing


@dataclass
class Step:
    """Rows of one table to upsert: which canonical columns to insert and which to update."""

    spec: Spec
    frame: pd.DataFrame
    columns: list[str]
    update: list[str]
    new_only: bool = False  # rows known to be new: plain insert (faster on SQLite), upsert if not

    def __post_init__(self) -> None:
        """Keep columns in the table's order (the order of positional parameters)."""
        order = list(self.spec.model.__table__.c.keys())
        self.columns = sorted(self.columns, key=lambda c: order.index(self.spec.col(c).attr))


def plan_steps(parsed: dict[str, Parsed], derived: pd.DataFrame) -> list[Step]:
    """Upsert steps in dependency order (absent columns with defaults are inserted, never updated)."""
    steps = []
    for table in TABLE_ORDER:
        p = parsed.get(table)
        if p is not None:
            defaults = [
                c.name for c in p.spec.cols if c.name not in p.present and c.default is not None
            ]
            values: dict[str, Any] = {c: p.spec.col(c).default for c in defaults}
            frame = p.frame.assign(**values)
            columns = [c for c in p.spec.names() if c in p.present] + defaults
            update = [c for c in columns if c in p.present and c not in p.spec.key]
            steps.append(Step(p.spec, frame, columns, update))
        if table == "allocations" and len(derived):
            frame = derived.assign(date=pd.NaT)  # type: ignore[arg-type]  # pandas-stubs omit NaT as a scalar
            steps.append(
                Step(
                    SPECS["allocations"],
                    frame,
                    ["payment_id", "invoice_id", "amount", "date"],
                    ["amount", "date"],
                )
            )
    return steps


def _pylist(values: pd.Series, kind: str, iso_dates: bool) -> list[Any]:
    """Column values as Python objects with None for missing (dates as date, or ISO text)."""
    if kind == "date":
        stamps = pd.to_datetime(values)
        values = stamps.dt.strftime("%Y-%m-%d") if iso_dates else stamps.dt.date
    return values.astype(object).where(values.notna(), None).tolist()


def _batches(step: Step, dialect: str) -> Iterator[list[Any]]:
    """The step's rows, BATCH at a time: tuples in column order (SQLite) or dicts (others)."""
    attrs = [step.spec.col(c).attr for c in step.columns]
    kinds = [step.spec.col(c).kind for c in step.columns]
    sqlite = dialect == "sqlite"
    for start in range(0, len(step.frame), BATCH):
        part = step.frame.iloc[start : start + BATCH]
        lists = [_pylist(part[c], k, sqlite) for c, k in zip(step.columns, kinds, strict=True)]
        rows = zip(*lists, strict=True)
        yield list(rows) if sqlite else [dict(zip(attrs, row, strict=True)) for row in rows]


def _upsert_statement(step: Step, dialect: str, new_only: bool = False) -> Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE (or DO NOTHING) for the step's columns."""
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"import supports SQLite and PostgreSQL, not {dialect}")
    attrs = [step.spec.col(c).attr for c in step.columns]
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(step.spec.table)
    stmt = stmt.values({a: bindparam(a) for a in attrs})
    keys = [step.spec.col(k).attr for k in step.spec.key]
    update = {step.spec.col(c).attr: stmt.excluded[step.spec.col(c).attr] for c in step.update}
    if update and not new_only:
        return stmt.on_conflict_do_update(index_elements=keys, set_=update)
    return stmt.on_conflict_do_nothing(index_elements=keys)


def _upsert(conn: Connection, step: Step, rows: list[Any]) -> None:
    """Upsert one batch with executemany (SQLite: the compiled statement straight to the driver)."""
    if conn.dialect.name != "sqlite":
        conn.execute(_upsert_statement(step, conn.dialect.name), rows)
        return
    for new_only in (True, False) if step.new_only else (False,):
        compiled = _upsert_statement(step, "sqlite", new_only).compile(dialect=conn.dialect)
        order = [step.spec.col(c).attr for c in step.columns]
        if list(compiled.positiontup or []) != order:
            raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
        if conn.exec_driver_sql(compiled.string, rows).rowcount == len(rows):
            return  # every row was new after all; otherwise upsert the batch again (idempotent)


def _stored_keys(conn: Connection, step: Step) -> pd.Series:
    """True for the step's rows whose key is already stored."""
    spec, t = step.spec, step.spec.model.__table__
    cols = [t.c[spec.col(k).attr] for k in spec.key]
    firsts = step.frame[spec.key[0]].dropna().unique().tolist()
    if len(firsts) > BULK:
        rows = conn.execute(select(*cols)).all()
    else:
        rows = [
            r
            for i in range(0, len(firsts), CHUNK)
            for r in conn.execute(select(*cols).where(cols[0].in_(firsts[i : i + CHUNK])))
        ]
    stored = {tuple(str(v) for v in r) for r in rows}
    keys = [_pylist(step.frame[k], spec.col(k).kind, True) for k in spec.key]
    return pd.Series([tuple(k) in stored for k in zip(*keys, strict=True)], index=step.frame.index)


def _write_step(conn: Connection, step: Step, bar: tqdm) -> None:
    """Upsert a step's rows in batches; on SQLite, rows with new keys are plainly inserted."""
    parts = [step]
    if conn.dialect.name == "sqlite" and len(step.frame):
        stored = _stored_keys(conn, step)
        parts = [
            Step(step.spec, step.frame.loc[~stored], step.columns, step.update, new_only=True),
            Step(step.spec, step.frame.loc[stored], step.columns, step.update),
        ]
    for part in parts:
        for rows in _batches(part, conn.dialect.name):
            _upsert(conn, part, rows)
            bar.update(len(rows))


def _delete_stale(conn: Connection, pairs: list[tuple[str, str]]) -> None:
    """Drop the whole-payment allocations of payments whose invoice_id changed."""
    if not pairs:
        return
    t = cast(Table, models.Allocation.__table__)
    stmt = delete(t).where(t.c.payment_id == bindparam("p"), t.c.invoice_id == bindparam("i"))
    conn.execute(stmt, [{"p": p, "i": i} for p, i in pairs])


class _Reporting:
    """A tqdm bar that also reports rows written to an on_progress callback."""

    def __init__(self, bar: tqdm, total: int, on_progress: Progress) -> None:
        self.bar, self.total, self.on_progress, self.done = bar, total, on_progress, 0

    def update(self, rows: int) -> None:
        """Advance the bar and tell the callback."""
        self.bar.update(rows)
        self.done += rows
        self.on_progress("write", self.done, self.total)


def write(
    conn: Connection,
    steps: list[Step],
    stale: list[tuple[str, str]],
    progress: bool,
    on_progress: Progress | None = None,
) -> None:
    """Every upsert, inside the caller's transaction, then bump the data version."""
    total = sum(len(s.frame) for s in steps)
    with tqdm(total=total, unit="row", desc="import", file=sys.stderr, disable=not progress) as bar:
        if on_progress is not None:
            bar = _Reporting(bar, total, on_progress)
            on_progress("write", 0, total)
        for step in steps:
            if step.spec.model is models.Allocation:
                _delete_stale(conn, stale)
                stale = []
            _write_step(conn, step, bar)
        deleted = bool(stale)
        _delete_stale(conn, stale)
    bump_data_version(conn, changed_rows(steps, deleted))


# The change log's key of each table's rows (dashboard/data/ledger_load.py ROW_KEYS): the snapshot
# re-reads every row with a logged key. Other tables are logged by their first key column too.
LOG_KEY = {"allocations": "payment_id", "write_offs": "invoice_id"}


def changed_rows(
    steps: list[Step], deleted_allocations: bool = False
) -> dict[str, list[str] | None]:
    """What an import wrote, for bump_data_version: table -> the keys of its written rows (None: any
    row, here when allocations were deleted). The next snapshot version is built from the previous
    one plus these rows when they are all new; anything else is a full build."""
    changed: dict[str, list[str] | None] = {}
    for step in steps:
        table = step.spec.model.__tablename__
        column = LOG_KEY.get(table, step.spec.key[0])
        keys = _pylist(step.frame[column], step.spec.col(column).kind, True)
        listed = changed.setdefault(table, [])
        if listed is not None:
            listed.extend(str(k) for k in keys if k is not None)
    if deleted_allocations:
        changed["allocations"] = None
    return changed


def counts_by_table(steps: list[Step]) -> dict[str, int]:
    """Rows per table (derived allocations counted with allocations)."""
    counts: dict[str, int] = {}
    for step in steps:
        name = step.spec.model.__tablename__
        counts[name] = counts.get(name, 0) + len(step.frame)
    return counts
