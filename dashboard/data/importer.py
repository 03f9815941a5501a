"""Canonical import (BRIEF "Data contract"): validate every file of a directory, then upsert all of it.

Nothing is written unless every row of every file is valid; the writes run in one transaction.
Errors read "file:row:column: reason" (row 1 is the header, so the first data row is 2).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Insert, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from tqdm import tqdm

from dashboard.data import fx_import, models
from dashboard.data.db import get_engine
from dashboard.data.mapping import (
    ISO,
    ROW,
    Problem,
    ReadLimits,
    Source,
    SourceError,
    TableMapping,
    TimeLimit,
    apply_mapping,
    load_mapping,
    read_table,
    resolve_mapping,
    use_limits,
)
from dashboard.data.models import MAX_DATE, MIN_DATE
from dashboard.data.schema import bump_data_version

BATCH = 10_000  # rows per executemany
BULK = 20_000  # above this many ids, read a whole table instead of IN (...) chunks
CHUNK = 500  # ids per IN (...) query
SQLITE_CACHE_KIB = -262_144  # PRAGMA cache_size while importing: 256 MiB
IMPORT_LOCK_TIMEOUT = 30.0  # seconds an import waits for another one (AR_IMPORT_LOCK_TIMEOUT)
IMPORT_LOCK_KEY = 0x41525F494D504F  # pg_advisory_xact_lock key of imports ("AR_IMPO")
LOCK_BUSY = "database:-:-: another import is running; try again"
SQLITE_BUSY_MS = 30_000  # busy_timeout of dashboard.data.db, restored after the lock

Progress = Callable[[str, int, int], None]  # (stage "read" | "check" | "write", done, total)


class ImportFailed(Exception):
    """The import was rejected; .errors lists every problem as "file:row:column: reason"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


@dataclass
class ImportResult:
    """Rows imported (or, for a dry run, that would be) per table, and warnings."""

    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the contract


@dataclass(frozen=True)
class Col:
    """One column of a canonical file."""

    name: str
    kind: str = "text"  # text | date | money | int | bool | enum | float
    required: bool = False
    ref: str = ""  # table whose key this value must name
    choices: tuple[str, ...] = ()
    default: object = None
    nonneg: bool = False
    zero_is_none: bool = False  # credit_limit: blank or 0 = no limit
    target: str = ""

    @property
    def attr(self) -> str:
        """The model column (money columns hold cents)."""
        return self.target or (f"{self.name}_cents" if self.kind == "money" else self.name)


@dataclass(frozen=True)
class Spec:
    """One canonical file: its model, upsert key and columns."""

    model: type[models.Base]
    key: tuple[str, ...]
    cols: tuple[Col, ...]

    def col(self, name: str) -> Col:
        """The column named name."""
        return next(c for c in self.cols if c.name == name)

    def names(self) -> list[str]:
        """Every column name, in contract order."""
        return [c.name for c in self.cols]

    def length(self, col: Col) -> int | None:
        """The model's maximum string length for a text column."""
        return getattr(self.model.__table__.c[col.attr].type, "length", None)


def _req(name: str, kind: str = "text", **kw: object) -> Col:
    """A required column."""
    return Col(name, kind, required=True, **kw)


SPECS: dict[str, Spec] = {
    "sales_reps": Spec(
        models.SalesRep,
        ("sales_rep_id",),
        (
            _req("sales_rep_id"),
            _req("name"),
            Col("group", target="group_name"),
            Col("manager_id"),
            Col("email"),
        ),
    ),
    "customers": Spec(
        models.Customer,
        ("customer_id",),
        (
            _req("customer_id"),
            _req("name"),
            Col("segment"),
            Col("region"),
            Col("tier"),
            Col("terms_days", "int", default=30),
            Col("terms_type", "enum", choices=("net", "eom"), default="net"),
            Col("credit_limit", "money", nonneg=True, zero_is_none=True),
            Col("sales_rep_id", ref="sales_reps"),
            Col("created_on", "date"),
            Col("currency", "currency"),
            Col("email"),
        ),
    ),
    "invoices": Spec(
        models.Invoice,
        ("invoice_id",),
        (
            _req("invoice_id"),
            _req("customer_id", ref="customers"),
            _req("issue_date", "date"),
            _req("amount", "money"),
            Col("due_date", "date"),
            Col("cost", "money"),
            Col("sales_rep_id", ref="sales_reps"),
            Col("applies_to", ref="invoices"),
            Col("disputed", "bool", default=False),
            Col("currency", "currency"),
        ),
    ),
    "payments": Spec(
        models.Payment,
        ("payment_id",),
        (
            _req("payment_id"),
            _req("customer_id", ref="customers"),
            _req("date", "date"),
            _req("amount", "money", nonneg=True),
            Col("invoice_id", ref="invoices"),
            Col("method"),
            Col("currency", "currency"),
        ),
    ),
    "allocations": Spec(
        models.Allocation,
        ("payment_id", "invoice_id"),
        (
            _req("payment_id", ref="payments"),
            _req("invoice_id", ref="invoices"),
            _req("amount", "money", nonneg=True),
            Col("date", "date"),
        ),
    ),
    "write_offs": Spec(
        models.WriteOff,
        ("invoice_id", "date"),
        (
            _req("invoice_id", ref="invoices"),
            _req("date", "date"),
            _req("amount", "money", nonneg=True),
            Col("reason"),
        ),
    ),
    "promises": Spec(
        models.Promise,
        ("promise_id",),
        (
            _req("promise_id"),
            _req("invoice_id", ref="invoices"),
            _req("made_on", "date"),
            _req("promised_date", "date"),
            _req("amount", "money", nonneg=True),
        ),
    ),
    "disputes": Spec(
        models.Dispute,
        ("dispute_id",),
        (
            _req("dispute_id"),
            _req("invoice_id", ref="invoices"),
            _req("opened_on", "date"),
            _req("amount", "money", nonneg=True),
            Col("resolved_on", "date"),
            Col("status", "enum", choices=("open", "resolved", "litigation"), default="open"),
            Col("reason"),
        ),
    ),
    "commissions": Spec(
        models.Commission,
        ("commission_id",),
        (
            _req("commission_id"),
            _req("sales_rep_id", ref="sales_reps"),
            _req("earned_date", "date"),
            _req("amount", "money"),
            Col("invoice_id", ref="invoices"),
            Col("rate", "float"),
            Col("settled", "bool", default=False),
            Col("settlement_date", "date"),
        ),
    ),
    "activities": Spec(
        models.Activity,
        ("activity_id",),
        (
            _req("activity_id"),
            _req("customer_id", ref="customers"),
            _req("date", "date"),
            _req("channel"),
            Col("invoice_id", ref="invoices"),
            Col("outcome"),
            Col("note"),
        ),
    ),
    "fx_rates": Spec(
        models.FxRate,
        ("currency", "date"),
        (_req("date", "date"), _req("currency", "currency"), _req("rate", "rate", target="rate_e10")),
    ),
}
TABLE_ORDER = tuple(SPECS)  # dependency order: referenced tables first
NOUN = {
    "customers": "customer",
    "invoices": "invoice",
    "payments": "payment",
    "sales_reps": "sales rep",
}
LOOKUP = {
    "sales_reps": [],
    "customers": ["terms_days", "terms_type", "currency"],
    "invoices": ["customer_id", "amount", "currency"],
    "payments": ["customer_id", "amount", "invoice_id", "currency"],
}
BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


# ---------------------------------------------------------------- problems


class Issues:
    """Errors and warnings collected over the whole import."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, file: str, row: int | str, column: str, reason: str) -> None:
        """One error."""
        self.errors.append((file, row, column, reason))

    def where(self, p: Parsed, mask: pd.Series, column: str, reason: str | pd.Series) -> None:
        """One error per row of p where mask holds; reason is a text or a Series over those rows."""
        mask = mask.fillna(False).astype(bool) if mask.dtype != bool else mask
        if not mask.any():
            return
        rows = p.frame.loc[mask, ROW]
        reasons = (
            [reason] * len(rows) if isinstance(reason, str) else reason.reindex(rows.index).tolist()
        )
        label = p.source.label(column)
        self.errors.extend(
            (p.source.file, int(r), label, str(x)) for r, x in zip(rows, reasons, strict=True)
        )

    def lines(self, rank: dict[str, int]) -> list[str]:
        """Distinct errors as "file:row:column: reason", by file (dependency order) then row."""

        def key(item: tuple[int, Problem]) -> tuple[int, int, int]:
            seq, (file, row, _c, _r) = item
            return rank.get(file, -1), row if isinstance(row, int) else 0, seq

        ordered = sorted(enumerate(self.errors), key=key)
        lines = [f"{f}:{r}:{c}: {why}" for _, (f, r, c, why) in ordered]
        return list(dict.fromkeys(lines))  # a source column mapped into two tables reports once


# ---------------------------------------------------------------- parsing cells


def _quoted(values: pd.Series) -> pd.Series:
    """Values as 'text' for messages."""
    return "'" + values.astype(str) + "'"


def _parse_text(s: pd.Series, col: Col, spec: Spec, _fmt: str) -> tuple[pd.Series, pd.Series, str]:
    """Strings, limited to the model's length."""
    length = spec.length(col)
    bad = s.str.len() > length if length else pd.Series(False, index=s.index)
    return s.where(~bad.fillna(False)), bad.fillna(False), f"longer than {length} characters"


FIRST_DATE = pd.Timestamp(MIN_DATE)
LAST_DATE = pd.Timestamp(MAX_DATE)
DATE_RANGE_REASON = f"date outside {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"


def _parse_date(s: pd.Series, _col: Col, _spec: Spec, fmt: str) -> tuple[pd.Series, pd.Series, str]:
    """Dates in the source's format (ISO by default, strictly YYYY-MM-DD)."""
    shaped = (
        s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False) if fmt == ISO else s.notna()
    )
    values = pd.to_datetime(s.where(shaped), format=fmt, errors="coerce")
    expected = "YYYY-MM-DD" if fmt == ISO else fmt
    unparsed = s.notna() & values.isna()
    outside = ((values < FIRST_DATE) | (values > LAST_DATE)).fillna(False).astype(bool)
    reason = pd.Series(f"not a date (expected {expected})", index=s.index, dtype=object)
    reason[outside] = DATE_RANGE_REASON
    return values.where(~outside), unparsed | outside, reason


MONEY = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")


def _cents(text: str) -> int | str:
    """Exact integer cents of a decimal text, or the reason it is not money."""
    match = MONEY.fullmatch(text)
    if match is None or not (match[2] or match[3]):
        return "not a number"
    whole, frac = match[2], match[3] or ""
    if frac[2:].strip("0"):
        return "more than 2 decimal places"
    if len(whole) > 15:
        return "too large"
    cents = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -cents if match[1] == "-" else cents


def _parse_money(
    s: pd.Series, _col: Col, _spec: Spec, _fmt: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Decimal text with up to 2 places to exact integer cents (never through float)."""
    parsed = [_cents(v) if isinstance(v, str) else None for v in s.tolist()]
    cents = pd.Series(
        [v if isinstance(v, int) else None for v in parsed], index=s.index, dtype="Int64"
    )
    reason = pd.Series(
        [v if isinstance(v, str) else None for v in parsed], index=s.index, dtype=object
    )
    return cents, reason.notna(), reason


def _parse_int(s: pd.Series, _col: Col, _spec: Spec, _fmt: str) -> tuple[pd.Series, pd.Series, str]:
    """Whole numbers of days (0 to 99999)."""
    ok = s.str.fullmatch(r"[0-9]{1,5}").fillna(False)
    return s.where(ok).astype("Int64"), s.notna() & ~ok, "not a whole number of days"


def _parse_bool(
    s: pd.Series, _col: Col, _spec: Spec, _fmt: str
) -> tuple[pd.Series, pd.Series, str]:
    """true/false (also yes/no, 1/0), any case."""
    values = s.str.lower().map(BOOLS).astype("boolean")
    return values, s.notna() & values.isna(), "not true or false"


def _parse_enum(s: pd.Series, col: Col, _spec: Spec, _fmt: str) -> tuple[pd.Series, pd.Series, str]:
    """One of the column's choices, any case (stored lower case)."""
    lower = s.str.lower()
    ok = lower.isin(col.choices)
    return lower.where(ok), s.notna() & ~ok, f"not one of {', '.join(col.choices)}"


def _parse_float(
    s: pd.Series, _col: Col, _spec: Spec, _fmt: str
) -> tuple[pd.Series, pd.Series, str]:
    """A decimal number below 1000 in size (commission rates)."""
    ok = s.str.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)").fillna(False)
    values = pd.to_numeric(s.where(ok), errors="coerce").astype("Float64")
    ok = ok & (values.abs() < 1000).fillna(False)
    return values.where(ok), s.notna() & ~ok, "not a number below 1000"


PARSERS = {
    "text": _parse_text,
    "date": _parse_date,
    "money": _parse_money,
    "int": _parse_int,
    "bool": _parse_bool,
    "enum": _parse_enum,
    "float": _parse_float,
    "rate": fx_import.parse_rate,
    "currency": fx_import.parse_currency,
}


def parse_column(col: Col, raw: pd.Series, spec: Spec, fmt: str) -> tuple[pd.Series, pd.Series]:
    """Typed values (NA where blank or bad) and each bad cell's reason (NA where fine)."""
    blank = raw == ""
    text = raw.where(~blank)
    values, bad, problem = PARSERS[col.kind](text, col, spec, fmt)
    reasons = pd.Series(pd.NA, index=raw.index, dtype=object)
    bad = bad.fillna(False).astype(bool)
    if bad.any():
        why = problem[bad] if isinstance(problem, pd.Series) else problem
        reasons[bad] = why + ": " + _quoted(raw[bad])
    if col.required:
        reasons[blank] = "required value is blank"
    if col.nonneg:
        negative = (values < 0).fillna(False).astype(bool)
        reasons[negative] = "must not be negative: " + _quoted(raw[negative])
    if col.zero_is_none:
        values = values.where((values != 0).fillna(True))
    if col.default is not None:
        values = values.where(~blank, col.default)
    return values, reasons


# ---------------------------------------------------------------- sources


@dataclass
class Parsed:
    """One canonical table after parsing: typed columns (canonical names) and source rows."""

    spec: Spec
    source: Source
    frame: pd.DataFrame
    present: set[str]
    broken: bool

    @property
    def table(self) -> str:
        """The canonical table name."""
        return self.source.table


def parse_source(source: Source, issues: Issues) -> Parsed:
    """Parse every column of a source; missing required columns are errors on row 1."""
    spec = SPECS[source.table]
    data = source.data
    missing = [c.name for c in spec.cols if c.required and c.name not in data.columns]
    for name in missing:
        issues.add(source.file, 1, source.label(name), "required column missing")
    frame = pd.DataFrame({ROW: data[ROW].to_numpy()}, index=data.index)
    parsed = Parsed(
        spec, source, frame, {c for c in spec.names() if c in data.columns}, bool(missing)
    )
    for col in spec.cols:
        if col.name in data.columns:
            values, reasons = parse_column(col, data[col.name], spec, source.date_format)
            frame[col.name] = values
            issues.where(parsed, reasons.notna(), col.name, reasons)
    return parsed


def _canonical_source(path: Path, table: str, issues: Issues) -> Source | None:
    """A canonical file as a Source; extra columns are dropped with a warning."""
    try:
        frame = read_table(path)
    except SourceError as exc:
        issues.errors.extend(exc.problems)
        return None
    known = set(SPECS[table].names())
    for column in frame.columns:
        if column != ROW and column not in known:
            issues.warnings.append(f"{path.name}: column {column} ignored")
    keep = [c for c in frame.columns if c in known or c == ROW]
    return Source(table, path.name, frame[keep])


def _mapped_sources(directory: Path, mappings: list[TableMapping], issues: Issues) -> list[Source]:
    """Sources built by a mapping; each source file is read once; unread columns are warned about."""
    frames: dict[tuple[str, str | None, str], pd.DataFrame | None] = {}
    out = []
    for m in mappings:
        key = (m.source, m.sheet, m.delimiter)
        if key not in frames:
            try:
                frames[key] = read_table(directory / m.source, m.sheet, m.delimiter)
            except SourceError as exc:
                issues.errors.extend(exc.problems)
                frames[key] = None
        if frames[key] is not None:
            source = apply_mapping(m, frames[key], issues.errors, issues.warnings)
            if source is not None:
                out.append(source)
    for (name, sheet, delimiter), frame in frames.items():
        if frame is None:
            continue
        used = set().union(
            *(
                m.used_source_columns()
                for m in mappings
                if (m.source, m.sheet, m.delimiter) == (name, sheet, delimiter)
            )
        )
        issues.warnings.extend(
            f"{name}: column {c} ignored" for c in frame.columns if c != ROW and c not in used
        )
    return out


def collect_sources(directory: Path, mapping: Path | None, issues: Issues) -> list[Source]:
    """Every source of the import: mapped tables and canonical files; unknown files are warned about."""
    if not directory.is_dir():
        raise ImportFailed([f"{directory}:-:-: not a directory"])
    mappings = _load_mappings(mapping)
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    names = {p.name for p in files}
    mapped_tables = {m.table: m for m in mappings}
    for m in mappings:
        if m.source not in names:
            issues.add(
                mapping.name if mapping else "-",
                "-",
                f"files.{m.table}.source",
                f"no file {m.source!r} in {directory}",
            )
    sources = _mapped_sources(directory, [m for m in mappings if m.source in names], issues)
    seen: dict[str, str] = {}
    for path in files:
        table = path.stem.lower() if path.suffix.lower() in (".csv", ".xlsx") else ""
        if path.name in {m.source for m in mappings}:
            continue
        if table not in SPECS:
            issues.warnings.append(
                f"{path.name}: unknown file ignored (not one of {', '.join(SPECS)} as .csv or .xlsx)"
            )
        elif table in mapped_tables:
            issues.add(path.name, 1, "-", f"the mapping also defines {table}; remove one of them")
        elif table in seen:
            issues.add(path.name, 1, "-", f"{table} is also given by {seen[table]}")
        else:
            seen[table] = path.name
            source = _canonical_source(path, table, issues)
            if source is not None:
                sources.append(source)
    return sorted(sources, key=lambda s: TABLE_ORDER.index(s.table))


def _load_mappings(mapping: Path | None) -> list[TableMapping]:
    """The mapping's table sections (none without a mapping)."""
    if mapping is None:
        return []
    path = resolve_mapping(mapping)
    try:
        return load_mapping(path, {t: s.names() for t, s in SPECS.items()})
    except SourceError as exc:
        raise ImportFailed([f"{f}:{r}:{c}: {why}" for f, r, c, why in exc.problems]) from exc


# ---------------------------------------------------------------- database lookups


def _fetch(conn: Connection, table: str, ids: list[str], cols: list[str]) -> pd.DataFrame:
    """Stored rows of table whose key is in ids (or all, if many), lookup columns, indexed by key."""
    spec = SPECS[table]
    t = spec.model.__table__
    key = t.c[spec.col(spec.key[0]).attr]
    stmt = select(key, *(t.c[spec.col(c).attr] for c in cols))
    if len(ids) > BULK:
        rows = conn.execute(stmt).all()
    else:
        rows = [
            r
            for i in range(0, len(ids), CHUNK)
            for r in conn.execute(stmt.where(key.in_(ids[i : i + CHUNK])))
        ]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=[spec.key[0], *cols])
    return frame.set_index(spec.key[0])


def _stored_allocations(conn: Connection, payment_ids: list[str]) -> pd.DataFrame:
    """Stored allocations (payment_id, invoice_id, amount) of these payments."""
    t = models.Allocation.__table__
    stmt = select(t.c.payment_id, t.c.invoice_id, t.c.amount_cents)
    if len(payment_ids) > BULK:
        rows = conn.execute(stmt).all()
    else:
        rows = [
            r
            for i in range(0, len(payment_ids), CHUNK)
            for r in conn.execute(stmt.where(t.c.payment_id.in_(payment_ids[i : i + CHUNK])))
        ]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["payment_id", "invoice_id", "amount"])
    return frame.loc[frame.payment_id.isin(payment_ids)]


def _pair_keys(frame: pd.DataFrame) -> pd.Series:
    """(payment_id, invoice_id) as one text per row, for fast set operations."""
    return frame["payment_id"].astype(str) + "\x1f" + frame["invoice_id"].astype(str)


def _money(cents: int) -> str:
    """Integer cents as a decimal text."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(int(cents)) // 100}.{abs(int(cents)) % 100:02d}"


# ---------------------------------------------------------------- validation across tables


class Checker:
    """Cross-file and database checks over parsed tables; builds the derived allocations."""

    def __init__(self, conn: Connection, parsed: dict[str, Parsed], issues: Issues) -> None:
        self.conn = conn
        self.parsed = parsed
        self.issues = issues
        self._local: dict[str, pd.DataFrame] = {}
        self._stored: dict[str, pd.DataFrame] = {}
        self._asked: dict[str, set[str]] = {}
        self._whole: set[str] = set()  # tables read whole
        self.derived = pd.DataFrame(columns=["payment_id", "invoice_id", "amount", ROW])
        self.stale: list[tuple[str, str]] = []

    def usable(self, table: str) -> Parsed | None:
        """The parsed table if present with every required column."""
        p = self.parsed.get(table)
        return p if p is not None and not p.broken else None

    def broken(self, table: str) -> bool:
        """True when the table is imported without some required column (its rows cannot be checked)."""
        return table in self.parsed and self.parsed[table].broken

    def local(self, table: str) -> pd.DataFrame:
        """Imported rows of a table with a valid key, first of each key, indexed by key."""
        if table not in self._local:
            p = self.parsed.get(table)
            key = SPECS[table].key[0]
            if p is None or key not in p.frame:
                frame = pd.DataFrame(columns=LOOKUP[table], index=pd.Index([], name=key))
            else:
                f = p.frame.loc[p.frame[key].notna()]
                f = f.drop_duplicates(subset=[key]).set_index(key)
                frame = f[[c for c in LOOKUP[table] if c in f.columns]]
            self._local[table] = frame
        return self._local[table]

    def stored(self, table: str, ids: pd.Index) -> pd.DataFrame:
        """Stored rows (lookup columns) for these ids, fetched once (the whole table if many)."""
        if table not in self._whole:
            asked = self._asked.setdefault(table, set())
            new = [i for i in ids.tolist() if i not in asked]
            if new or table not in self._stored:
                fetched = _fetch(self.conn, table, new, LOOKUP[table])
                old = self._stored.get(table)
                if len(new) > BULK or old is None or old.empty:
                    self._stored[table] = fetched
                else:
                    self._stored[table] = pd.concat([old, fetched])
                if len(new) > BULK:
                    self._whole.add(table)
                asked.update(new)
        frame = self._stored[table]
        return frame.loc[frame.index.isin(ids)]

    def info(self, table: str, values: pd.Series) -> pd.DataFrame:
        """For each value (aligned to values.index): known, and lookup columns (import first, then stored)."""
        cols = LOOKUP[table]
        ids = pd.Index(values.dropna().unique())
        local = self.local(table).reindex(columns=cols)
        absent = [c for c in cols if c not in self.local(table).columns]
        stored = self.stored(table, ids if absent else ids.difference(local.index))
        for column in absent:
            local[column] = stored[column].reindex(local.index)
        merged = (
            pd.concat([local, stored.loc[stored.index.difference(local.index)]])
            if len(stored)
            else local
        )
        out = merged.reindex(values.to_numpy())
        out.index = values.index
        out["known"] = values.isin(merged.index).to_numpy()
        return out

    def run(self) -> None:
        """Every cross-table check."""
        fx_import.resolve_currencies(self)
        for p in self.parsed.values():
            self.check_duplicates(p)
        for p in self.parsed.values():
            if not p.broken:
                self.check_refs(p)
        self.check_invoices()
        self.check_payments()
        self.check_allocations()
        self.check_disputes()
        fx_import.check_currencies(self)

    def check_duplicates(self, p: Parsed) -> None:
        """A key appears once per file."""
        keys = list(p.spec.key)
        if any(k not in p.frame for k in keys):
            return
        valid = p.frame[keys].notna().all(axis=1)
        dup = p.frame.duplicated(subset=keys, keep="first") & valid
        if not dup.any():
            return
        first = p.frame.loc[valid].groupby(keys, sort=False)[ROW].transform("min")
        what = " and ".join(keys)
        if len(keys) == 1:
            reason = "duplicate " + keys[0] + " " + _quoted(p.frame.loc[dup, keys[0]])
        else:
            reason = pd.Series(f"duplicate {what}", index=p.frame.index[dup])
        reason = reason + " (first on row " + first[dup].astype(str) + ")"
        self.issues.where(p, dup, keys[-1], reason)

    def check_refs(self, p: Parsed) -> None:
        """Every reference names a row of this import or of the database."""
        for col in p.spec.cols:
            if not col.ref or col.name not in p.frame or self.broken(col.ref):
                continue
            values = p.frame[col.name]
            unknown = values.notna() & ~self.info(col.ref, values)["known"]
            if unknown.any():
                self.issues.where(
                    p, unknown, col.name, f"unknown {NOUN[col.ref]} " + _quoted(values[unknown])
                )

    def check_target_invoice(self, p: Parsed, column: str, customers: pd.Series) -> pd.DataFrame:
        """The invoice named in column is no credit note and belongs to the same customer."""
        values = p.frame[column]
        target = self.info("invoices", values)
        credit = target["known"] & (target["amount"] < 0).fillna(False).astype(bool)
        self.issues.where(
            p, credit, column, "invoice " + _quoted(values[credit]) + " is a credit note"
        )
        other = target["known"] & ~credit & customers.notna() & (target["customer_id"] != customers)
        other = other.fillna(False).astype(bool)
        reason = (
            "invoice "
            + _quoted(values[other])
            + " belongs to customer "
            + _quoted(target["customer_id"][other])
            + ", not "
            + _quoted(customers[other])
        )
        self.issues.where(p, other, column, reason)
        return target

    def check_invoices(self) -> None:
        """Due dates default from terms and follow the issue date; credit notes apply to invoices."""
        p = self.usable("invoices")
        if p is None:
            return
        f = p.frame
        given = f["due_date"].notna() if "due_date" in f else pd.Series(False, index=f.index)
        f["due_date"] = self.due_dates(f)
        late = ~given & (f["due_date"] > LAST_DATE).fillna(False).astype(bool)
        self.issues.where(p, late, "due_date", f"blank, and issue_date + the customer's terms is after "
                                               f"{MAX_DATE.isoformat()}")
        f.loc[late, "due_date"] = pd.NaT
        early = given & (f["due_date"] < f["issue_date"]).fillna(False).astype(bool)
        self.issues.where(p, early, "due_date", "due_date is before issue_date")
        p.present.add("due_date")
        if "applies_to" not in f:
            return
        applies = f["applies_to"].notna()
        positive = applies & (f["amount"] >= 0).fillna(False).astype(bool)
        self.issues.where(
            p, positive, "applies_to", "only a credit note (negative amount) applies to an invoice"
        )
        credit = p.frame.loc[applies & ~positive]
        if len(credit):
            sub = Parsed(p.spec, p.source, credit, p.present, False)
            self.check_target_invoice(sub, "applies_to", credit["customer_id"])

    def due_dates(self, f: pd.DataFrame) -> pd.Series:
        """Given due dates, else issue_date + the customer's terms (net: days; eom: month end + days)."""
        due = (
            f["due_date"]
            if "due_date" in f
            else pd.Series(pd.NaT, index=f.index, dtype=f["issue_date"].dtype)
        )
        need = due.isna() & f["issue_date"].notna() & f["customer_id"].notna()
        if not need.any():
            return due
        terms = self.info("customers", f.loc[need, "customer_id"])
        days = pd.to_numeric(terms["terms_days"], errors="coerce").fillna(30).astype("int64")
        issue = f.loc[need, "issue_date"]
        eom = (terms["terms_type"].fillna("net") == "eom").to_numpy()
        month_end = issue + pd.to_timedelta(issue.dt.days_in_month - issue.dt.day, unit="D")
        base = issue.where(~eom, month_end)
        due = due.copy()
        due.loc[need] = base + pd.to_timedelta(days.to_numpy(), unit="D")
        return due

    def check_payments(self) -> None:
        """A payment's invoice is no credit note of another customer; it becomes a whole-payment allocation."""
        p = self.usable("payments")
        if p is None:
            return
        f = p.frame
        if "invoice_id" in f:
            self.check_target_invoice(p, "invoice_id", f["customer_id"])
        ids = pd.Index(f["payment_id"].dropna().unique())
        stored = self.stored("payments", ids)["invoice_id"]
        before = stored.reindex(f["payment_id"].to_numpy())
        before.index = f.index
        after = f["invoice_id"] if "invoice_id" in p.present else before
        changed = before.notna() & (after.isna() | (after != before).fillna(True))
        self.stale = list(zip(f.loc[changed, "payment_id"], before[changed], strict=True))
        keep = after.notna() & f["payment_id"].notna() & f["amount"].notna()
        self.derived = pd.DataFrame(
            {"payment_id": f["payment_id"], "invoice_id": after, "amount": f["amount"], ROW: f[ROW]}
        ).loc[keep]

    def check_allocations(self) -> None:
        """Allocations go to invoices (not credit notes) of the payment's customer and never exceed a payment."""
        p = self.usable("allocations")
        if p is not None:
            f = p.frame
            payer = self.info("payments", f["payment_id"])["customer_id"]
            self.check_target_invoice(p, "invoice_id", payer)
            whole = self.derived.drop_duplicates("payment_id").set_index("payment_id")["invoice_id"]
            clash = (f["payment_id"].map(whole) == f["invoice_id"]).fillna(False).astype(bool)
            reason = "payment " + _quoted(f.loc[clash, "payment_id"]) + " already applies in full"
            self.issues.where(p, clash, "invoice_id", reason + " to this invoice (its invoice_id)")
        self.check_allocation_totals()

    def _import_allocations(self) -> pd.DataFrame:
        """This import's allocations (explicit and derived) with a source marker."""
        p = self.usable("allocations")
        parts = [self.derived.assign(explicit=False)]
        if p is not None:
            parts.append(p.frame[["payment_id", "invoice_id", "amount", ROW]].assign(explicit=True))
        frame = pd.concat([x for x in parts if len(x)]) if any(len(x) for x in parts) else parts[0]
        frame = frame.loc[frame["payment_id"].notna() & frame["invoice_id"].notna()]
        return frame.drop_duplicates(
            subset=["payment_id", "invoice_id"]
        )  # duplicates are errors already

    def check_allocation_totals(self) -> None:
        """Σ allocations of a payment (imported, plus stored ones not replaced) ≤ the payment's amount."""
        if self.broken("payments"):
            return
        new = self._import_allocations()
        pays = self.usable("payments")
        scope = pd.Index(new["payment_id"].unique())
        if pays is not None:
            scope = scope.union(pd.Index(pays.frame["payment_id"].dropna().unique()))
        if scope.empty:
            return
        stored = _stored_allocations(self.conn, scope.tolist())
        if len(stored):
            stale = pd.DataFrame(self.stale, columns=["payment_id", "invoice_id"])
            replaced = pd.concat([_pair_keys(new), _pair_keys(stale)])
            stored = stored.loc[~_pair_keys(stored).isin(replaced)]
        totals = pd.concat([new[["payment_id", "amount"]], stored[["payment_id", "amount"]]])
        totals = totals.dropna().groupby("payment_id")["amount"].sum()
        amount = self.info("payments", pd.Series(totals.index, index=totals.index))["amount"]
        over = (totals > amount).fillna(False).astype(bool).to_numpy()
        if over.any():
            self._report_over(totals[over], amount[over], new)

    def _report_over(self, totals: pd.Series, amounts: pd.Series, new: pd.DataFrame) -> None:
        """One error per over-allocated payment, on its last allocation row (or its payment row)."""
        reasons = {
            pid: f"allocations of payment '{pid}' total {_money(t)}, more than its amount {_money(a)}"
            for pid, t, a in zip(totals.index, totals, amounts, strict=True)
        }
        mine = new.loc[new["explicit"].astype(bool) & new["payment_id"].isin(reasons)]
        last = mine.groupby("payment_id")[ROW].max()
        file = self.parsed["allocations"].source.file if len(last) else ""
        for pid, row in last.items():
            self.issues.add(file, int(row), "amount", reasons.pop(pid))
        if reasons:
            p = self.parsed["payments"]
            first = (
                p.frame.loc[p.frame["payment_id"].isin(reasons)].groupby("payment_id")[ROW].min()
            )
            for pid, row in first.items():
                self.issues.add(p.source.file, int(row), p.source.label("amount"), reasons[pid])

    def check_disputes(self) -> None:
        """A dispute is resolved on or after it was opened."""
        p = self.usable("disputes")
        if p is None or "resolved_on" not in p.frame:
            return
        early = (p.frame["resolved_on"] < p.frame["opened_on"]).fillna(False).astype(bool)
        self.issues.where(p, early, "resolved_on", "resolved_on is before opened_on")


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
            frame = p.frame.assign(**{c: p.spec.col(c).default for c in defaults})
            columns = [c for c in p.spec.names() if c in p.present] + defaults
            update = [c for c in columns if c in p.present and c not in p.spec.key]
            steps.append(Step(p.spec, frame, columns, update))
        if table == "allocations" and len(derived):
            frame = derived.assign(date=pd.NaT)
            steps.append(
                Step(
                    SPECS["allocations"],
                    frame,
                    ["payment_id", "invoice_id", "amount", "date"],
                    ["amount", "date"],
                )
            )
    return steps


def _pylist(values: pd.Series, kind: str, iso_dates: bool) -> list:
    """Column values as Python objects with None for missing (dates as date, or ISO text)."""
    if kind == "date":
        stamps = pd.to_datetime(values)
        values = stamps.dt.strftime("%Y-%m-%d") if iso_dates else stamps.dt.date
    return values.astype(object).where(values.notna(), None).tolist()


def _batches(step: Step, dialect: str) -> Iterator[list]:
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
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(step.spec.model.__table__)
    stmt = stmt.values({a: bindparam(a) for a in attrs})
    keys = [step.spec.col(k).attr for k in step.spec.key]
    update = {step.spec.col(c).attr: stmt.excluded[step.spec.col(c).attr] for c in step.update}
    if update and not new_only:
        return stmt.on_conflict_do_update(index_elements=keys, set_=update)
    return stmt.on_conflict_do_nothing(index_elements=keys)


def _upsert(conn: Connection, step: Step, rows: list) -> None:
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
    t = models.Allocation.__table__
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
        _delete_stale(conn, stale)
    bump_data_version(conn)


def _counts(steps: list[Step]) -> dict[str, int]:
    """Rows per table (derived allocations counted with allocations)."""
    counts: dict[str, int] = {}
    for step in steps:
        name = step.spec.model.__tablename__
        counts[name] = counts.get(name, 0) + len(step.frame)
    return counts


# ---------------------------------------------------------------- entry point


@contextmanager
def _big_cache(conn: Connection) -> Iterator[None]:
    """A large SQLite page cache while importing (index updates of big files), restored after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _lock_sqlite(conn: Connection, timeout: float) -> None:
    """BEGIN IMMEDIATE: take SQLite's write lock, waiting up to timeout for another writer."""
    conn.exec_driver_sql(f"PRAGMA busy_timeout={max(int(timeout * 1000), 0)}")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise ImportFailed([LOCK_BUSY]) from exc
        raise
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def _lock_postgresql(conn: Connection, timeout: float) -> None:
    """A transaction-scoped advisory lock, tried until timeout (released at commit or rollback)."""
    deadline = time.monotonic() + timeout
    while not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({IMPORT_LOCK_KEY})").scalar():
        if time.monotonic() >= deadline:
            raise ImportFailed([LOCK_BUSY])
        time.sleep(0.2)


def lock_timeout_default() -> float:
    """AR_IMPORT_LOCK_TIMEOUT seconds, else IMPORT_LOCK_TIMEOUT."""
    from dashboard.config import get_settings

    return get_settings().import_lock_timeout


def import_lock(conn: Connection, timeout: float | None = None) -> None:
    """Make imports one at a time: a second one waits up to timeout, then fails with LOCK_BUSY.

    Taken first in the import transaction, before the checks read the database, so the checks
    see exactly the rows the writes will build on.
    """
    timeout = lock_timeout_default() if timeout is None else timeout
    if conn.dialect.name == "sqlite":
        _lock_sqlite(conn, timeout)
    elif conn.dialect.name == "postgresql":
        _lock_postgresql(conn, timeout)


def run_import(
    directory: Path,
    mapping: Path | None = None,
    dry_run: bool = False,
    url: str | None = None,
    progress: bool = True,
    on_progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> ImportResult:
    """Validate every file in directory, then upsert all of it in one transaction (or nothing).

    on_progress(stage, done, total) is called as files are read ("read"), when the checks start
    ("check") and as rows are written ("write"). Imports run one at a time (import_lock).
    """
    limits = ReadLimits.from_settings()  # caps on rows, bytes and time (issue 14)
    use_limits(limits)
    try:
        return _run_import(directory, mapping, dry_run, url, progress, on_progress, lock_timeout, limits)
    except TimeLimit as exc:
        raise ImportFailed([f"{f}:{r}:{c}: {why}" for f, r, c, why in exc.problems]) from exc
    finally:
        use_limits(None)


def _run_import(directory: Path, mapping: Path | None, dry_run: bool, url: str | None, progress: bool,
                on_progress: Progress | None, lock_timeout: float | None, limits: ReadLimits) -> ImportResult:
    """run_import within its caps."""
    issues = Issues()
    sources = collect_sources(Path(directory), mapping, issues)
    parsed = {}
    for i, source in enumerate(sources):
        parsed[source.table] = parse_source(source, issues)
        if on_progress is not None:
            on_progress("read", i + 1, len(sources))
    limits.check_time("-")
    rank = {s.file: i for i, s in enumerate(sources)}
    if not sources and not issues.errors:
        issues.warnings.append(f"{directory}: no import files found")
    try:
        with get_engine(url).begin() as conn, _big_cache(conn):
            if not dry_run:
                import_lock(conn, lock_timeout)
            if on_progress is not None:
                on_progress("check", 0, 1)
            checker = Checker(conn, parsed, issues)
            checker.run()
            if issues.errors:
                raise ImportFailed(issues.lines(rank))
            steps = plan_steps(parsed, checker.derived)
            limits.check_time("-")
            if not dry_run:
                write(conn, steps, checker.stale, progress, on_progress)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ImportFailed([f"database:-:-: {reason}; nothing was written"]) from exc
    return ImportResult(_counts(steps), issues.warnings)
