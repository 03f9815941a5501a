"""Reading an import: the source files (canonical or mapped) and every cell parsed to its column's type."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dashboard.data import fx_import
from dashboard.data.importer.contract import (
    BOOLS,
    FIRST_DATE,
    LAST_DATE,
    SPECS,
    TABLE_ORDER,
    Col,
    ImportFailed,
    Issues,
    Parsed,
    Spec,
    quoted,
)
from dashboard.data.mapping import (
    ISO,
    ROW,
    Source,
    SourceError,
    TableMapping,
    apply_mapping,
    load_mapping,
    read_table,
    resolve_mapping,
)
from dashboard.data.models import MAX_DATE, MIN_DATE

# ---------------------------------------------------------------- parsing cells


def _parse_text(s: pd.Series, col: Col, spec: Spec, _fmt: str) -> tuple[pd.Series, pd.Series, str]:
    """Strings, limited to the model's length."""
    length = spec.length(col)
    bad = s.str.len() > length if length else pd.Series(False, index=s.index)
    return s.where(~bad.fillna(False)), bad.fillna(False), f"longer than {length} characters"


DATE_RANGE_REASON = f"date outside {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"


def _parse_date(
    s: pd.Series, _col: Col, _spec: Spec, fmt: str
) -> tuple[pd.Series, pd.Series, str | pd.Series]:
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


# (values, bad, reason): reason is one text for every bad cell or a text per cell
Parser = Callable[[pd.Series, Col, Spec, str], tuple[pd.Series, pd.Series, str | pd.Series]]
PARSERS: dict[str, Parser] = {
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
        reasons[bad] = why + ": " + quoted(raw[bad])
    if col.required:
        reasons[blank] = "required value is blank"
    if col.nonneg:
        negative = (values < 0).fillna(False).astype(bool)
        reasons[negative] = "must not be negative: " + quoted(raw[negative])
    if col.zero_is_none:
        values = values.where((values != 0).fillna(True))
    if col.default is not None:
        values = values.where(~blank, col.default)
    return values, reasons


# ---------------------------------------------------------------- sources


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
        frame = frames[key]
        if frame is not None:
            source = apply_mapping(m, frame, issues.errors, issues.warnings)
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
