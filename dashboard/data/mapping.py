"""Import sources: reading CSV/XLSX files, and mapping files (TOML) for foreign layouts.

A mapping turns one source file into one canonical table: it renames columns, maps values,
sets constants, builds values from templates, keeps distinct rows and skips rows with blanks.
Every row keeps its source row number, so errors point at the source file, row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import string
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from dashboard.config import get_settings

ISO = "%Y-%m-%d"
ROW = "_row"  # column holding the 1-based source row (the header is row 1)
PACKAGED = Path(__file__).resolve().parent.parent / "mappings"

Problem = tuple[str, int | str, str, str]  # (file, row, column, reason)

TABLE_KEYS = {
    "source",
    "sheet",
    "delimiter",
    "date_format",
    "distinct",
    "skip_if_blank",
    "columns",
    "values",
    "constants",
    "templates",
}


EXCEL_MAX_ROWS = 1_048_576  # an XLSX sheet cannot hold more rows than Excel's own limit
DEADLINE_EVERY = 10_000  # rows between two checks of the import's time limit


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one import (settings AR_IMPORT_MAX_ROWS, AR_IMPORT_MAX_BYTES, AR_IMPORT_MAX_SECONDS)."""

    max_rows: int
    max_bytes: int
    max_seconds: int
    started: float

    @classmethod
    def from_settings(cls) -> ReadLimits:
        """The configured caps, the clock starting now."""
        settings = get_settings()
        return cls(
            settings.import_max_rows,
            settings.import_max_bytes,
            settings.import_max_seconds,
            clock(),
        )

    def check_time(self, name: str, row: int | str = "-") -> None:
        """Raise TimeLimit once the import has run longer than max_seconds (0: no limit)."""
        if self.max_seconds and clock() - self.started > self.max_seconds:
            raise TimeLimit(
                [
                    (
                        name,
                        row,
                        "-",
                        f"the import took longer than {self.max_seconds} seconds "
                        "(AR_IMPORT_MAX_SECONDS); nothing was written",
                    )
                ]
            )

    def check_rows(self, name: str, rows: int) -> None:
        """Raise SourceError when a file has more data rows than max_rows."""
        if rows > self.max_rows:
            raise too_many_rows(name, self.max_rows)

    def check_bytes(self, name: str, size: int, what: str = "the file is") -> None:
        """Raise SourceError when a file (or its uncompressed content) exceeds max_bytes."""
        if size > self.max_bytes:
            raise SourceError(
                [
                    (
                        name,
                        1,
                        "-",
                        f"{what} {size:,} bytes; the limit is {self.max_bytes:,} "
                        "bytes (AR_IMPORT_MAX_BYTES)",
                    )
                ]
            )


def clock() -> float:
    """Monotonic seconds (a function so tests can move time without waiting)."""
    return time.monotonic()


_limits: ContextVar[ReadLimits | None] = ContextVar("import_limits", default=None)


def current_limits() -> ReadLimits:
    """The caps of the import in progress in this thread (set by use_limits), else fresh ones."""
    return _limits.get() or ReadLimits.from_settings()


def use_limits(limits: ReadLimits | None) -> None:
    """Set (or clear) the caps of the import in progress in this thread."""
    _limits.set(limits)


class SourceError(Exception):
    """A source or mapping file cannot be read; .problems lists why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class TimeLimit(Exception):
    """The import ran out of time (AR_IMPORT_MAX_SECONDS): it stops at once, whatever file it reads."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0][3])
        self.problems = problems


@dataclass
class Source:
    """Rows of one canonical table as read: string cells, canonical column names, source rows."""

    table: str
    file: str
    data: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    date_format: str = ISO

    def label(self, column: str) -> str:
        """The column name to show in errors (the source column for mapped tables)."""
        return self.labels.get(column, column)


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is built from a source file."""

    table: str
    source: str
    sheet: str | None = None
    delimiter: str = ","
    date_format: str = ISO
    distinct: tuple[str, ...] = ()
    skip_if_blank: tuple[str, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    templates: Mapping[str, str] = field(default_factory=dict)

    def defined(self) -> set[str]:
        """Canonical columns this mapping fills."""
        return set(self.columns) | set(self.constants) | set(self.templates)

    def used_source_columns(self) -> set[str]:
        """Source columns read by this mapping."""
        return set(self.columns.values()) | {
            f for t in self.templates.values() for f in template_fields(t)
        }


# ---------------------------------------------------------------- reading files


def read_table(path: Path, sheet: str | None = None, delimiter: str = ",") -> pd.DataFrame:
    """Read a CSV or XLSX file as stripped strings plus the ROW column; blank rows are dropped."""
    limits = current_limits()
    limits.check_time(path.name)
    if path.suffix.lower() == ".xlsx":
        frame = read_xlsx(path, sheet)
    else:
        frame = read_csv(path, delimiter)
    cells = [c for c in frame.columns if c != ROW]
    for column in cells:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    if cells:
        blank = (frame[cells] == "").all(axis=1)
        frame = frame.loc[~blank].reset_index(drop=True)
    check_nul(path.name, frame, cells)
    limits.check_time(path.name)
    return frame


def check_nul(name: str, frame: pd.DataFrame, cells: list[str]) -> None:
    """Refuse NUL characters (PostgreSQL cannot store them; SQLite would): one problem per cell."""
    problems: list[Problem] = [
        (name, 1, column, "column name contains a NUL character")
        for column in cells
        if "\x00" in column
    ]
    for column in cells:
        nul = frame[column].str.contains("\x00", regex=False)
        problems.extend(
            (name, int(row), column, "contains a NUL character (byte 0)")
            for row in frame.loc[nul, ROW]
        )
    if problems:
        raise SourceError(problems)


def _check_header(name: str, header: Sequence[str]) -> list[str]:
    """Stripped header names; raises SourceError on blank or duplicate names."""
    names = [str(h if h is not None else "").strip() for h in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, column in enumerate(names, 1):
        if not column:
            problems.append((name, 1, f"#{position}", "blank column name"))
        elif column in seen:
            problems.append((name, 1, column, "duplicate column"))
        seen.add(column)
    if not names:
        problems.append((name, 1, "-", "no header row"))
    if problems:
        raise SourceError(problems)
    return names


def read_csv(path: Path, delimiter: str = ",") -> pd.DataFrame:
    """Read a UTF-8 CSV; rows are physical line numbers (exact even with quoted newlines)."""
    limits = current_limits()
    limits.check_bytes(path.name, path.stat().st_size)
    raw = path.read_bytes()
    limits.check_rows(path.name, raw.count(b"\n") - 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise SourceError([(path.name, row, "-", f"not UTF-8 text (byte {exc.start})")]) from exc
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as exc:
        raise SourceError([(path.name, 1, "-", unreadable_csv(exc))]) from exc
    names = _check_header(path.name, header)
    if "\r" in text:
        check_bare_cr(path.name, text, names, delimiter)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            header=0,
            names=names,
        )
    except (pd.errors.ParserError, ValueError):
        return _read_csv_slow(path.name, text, names, delimiter)
    if len(frame) + 1 != lines or "\r" in text.replace("\r\n", ""):
        return _read_csv_slow(path.name, text, names, delimiter)
    frame[ROW] = range(2, len(frame) + 2)
    return frame


BARE_CR = re.compile(r"\r(?!\n)")


def check_bare_cr(name: str, text: str, names: list[str], delimiter: str) -> None:
    """Refuse a carriage return that ends a line on its own (outside quotes): file, line and column."""
    for match in BARE_CR.finditer(text):
        pos = match.start()
        if text.count('"', 0, pos) % 2:
            continue  # inside a quoted value: part of the value
        line_start = text.rfind("\n", 0, pos) + 1
        field = text[line_start:pos].count(delimiter)
        column = names[field] if field < len(names) else f"#{field + 1}"
        raise SourceError(
            [
                (
                    name,
                    text.count("\n", 0, pos) + 1,
                    column,
                    "line ends in a bare carriage return (CR, old Mac line endings); save the file "
                    "with LF or CRLF line endings",
                )
            ]
        )


def unreadable_csv(error: csv.Error) -> str:
    """The reason of a CSV the csv module cannot read (most often bare carriage-return line endings)."""
    return (
        f"unreadable CSV ({error}); a line ending in a bare carriage return (old Mac format)? "
        "save it with LF or CRLF line endings"
    )


def _read_csv_slow(name: str, text: str, names: list[str], delimiter: str) -> pd.DataFrame:
    """Row-by-row CSV reading that tracks line numbers and reports ragged rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[Problem] = []
    start = 1
    try:
        next(reader, None)
        start = reader.line_num + 1
        for record in reader:
            _add_record(name, names, record, start, rows, numbers, problems)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError([(name, start, "-", unreadable_csv(exc))]) from exc
    if problems:
        raise SourceError(problems)
    frame = (
        pd.DataFrame(rows, columns=names, dtype=str)
        if rows
        else pd.DataFrame(columns=names, dtype=str)
    )
    frame[ROW] = numbers
    return frame


def _add_record(
    name: str,
    names: list[str],
    record: list[str],
    start: int,
    rows: list[list[str]],
    numbers: list[int],
    problems: list[Problem],
) -> None:
    """Append one CSV record (padded or cut to the header) and its line number; ragged rows are problems."""
    if len(record) > len(names) and any(v.strip() for v in record[len(names) :]):
        problems.append((name, start, "-", f"{len(record)} fields, the header has {len(names)}"))
    rows.append((record + [""] * len(names))[: len(names)])
    numbers.append(start)


def _cell(value: object) -> str:
    """One XLSX cell as text: dates ISO, whole floats without '.0', floats at shortest repr."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def read_xlsx(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Read one sheet (the first by default); rows are sheet rows."""
    import openpyxl  # lazy (b): .xlsx imports only, 74 ms

    limits = current_limits()
    limits.check_bytes(path.name, path.stat().st_size)
    limits.check_bytes(path.name, xlsx_uncompressed_size(path), "its uncompressed content is")
    max_rows = min(limits.max_rows, EXCEL_MAX_ROWS - 1)
    # counted in the raw XML: openpyxl would scan it all first
    if xlsx_row_count(path) - 1 > max_rows:
        raise too_many_rows(path.name, max_rows)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one problem
        raise SourceError([(path.name, 1, "-", f"not a readable XLSX workbook ({exc})")]) from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceError([(path.name, 1, "-", f"no sheet named {sheet!r}")])
        rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        names = _check_header(path.name, next(rows, ()))
        while names and not names[-1]:
            names.pop()
        body = _xlsx_body(path.name, rows, len(names), max_rows, limits)
    finally:
        book.close()
    body = [(r + [""] * len(names))[: len(names)] for r in body]
    frame = (
        pd.DataFrame(body, columns=names, dtype=str)
        if body
        else pd.DataFrame(columns=names, dtype=str)
    )
    frame[ROW] = range(2, len(frame) + 2)
    return frame


# ---------------------------------------------------------------- mapping files


def xlsx_uncompressed_size(path: Path) -> int:
    """The total uncompressed size of an XLSX (a zip), read from its directory without inflating."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError([(path.name, 1, "-", f"not a readable XLSX workbook ({exc})")]) from exc


def xlsx_row_count(path: Path) -> int:
    """The most <row> elements of any worksheet of an XLSX, counted in its XML as it is inflated."""
    most = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                most = max(most, _count_rows(archive, name))
    return most


def _count_rows(archive: zipfile.ZipFile, name: str) -> int:
    """Occurrences of a row start tag (<row or <x:row) in one zip member, read 1 MiB at a time."""
    count, tail = 0, b""
    with archive.open(name) as member:
        while chunk := member.read(1 << 20):
            # the tail's own tags were counted last round: count only the new ones
            data = tail + chunk
            count += _row_tags(data) - _row_tags(tail)
            tail = data[-5:]
    return count


def _row_tags(data: bytes) -> int:
    """Row start tags in a piece of sheet XML."""
    return data.count(b"<row") + data.count(b":row ") + data.count(b":row>")


def too_many_rows(name: str, max_rows: int) -> SourceError:
    """The error of a sheet with more data rows than the cap."""
    return SourceError(
        [
            (
                name,
                max_rows + 2,
                "-",
                f"more than {max_rows:,} rows (AR_IMPORT_MAX_ROWS; an "
                "XLSX sheet holds at most 1,048,575); split the file",
            )
        ]
    )


def _xlsx_body(
    name: str, rows: Iterator[tuple[object, ...]], width: int, max_rows: int, limits: ReadLimits
) -> list[list[str]]:
    """The data rows of a sheet as text, stopping at the row cap and at the time limit."""
    body: list[list[str]] = []
    for count, row in enumerate(rows, 1):
        if count > max_rows:
            raise too_many_rows(name, max_rows)
        if count % DEADLINE_EVERY == 0:
            limits.check_time(name, count + 1)
        body.append([_cell(v) for v in row[:width]])
    return body


def resolve_mapping(path: Path) -> Path:
    """The mapping path as given, else a packaged mapping of that name."""
    if path.exists():
        return path
    packaged = PACKAGED / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    return packaged if packaged.exists() else path


def load_mapping(path: Path, tables: Mapping[str, Sequence[str]]) -> list[TableMapping]:
    """Parse and check a mapping file against the canonical tables and their columns."""
    name = path.name
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError([(name, "-", "-", "mapping file not found")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceError([(name, "-", "-", f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []
    for key in set(document) - {"files", "description"}:
        problems.append((name, "-", key, "unknown key (expected [files.<table>])"))
    files = document.get("files", {})
    if not isinstance(files, dict) or not files:
        problems.append((name, "-", "files", "no [files.<table>] section"))
        files = {}
    result = []
    for table, body in files.items():
        where = f"files.{table}"
        if table not in tables:
            problems.append(
                (name, "-", where, f"unknown table (expected one of {', '.join(tables)})")
            )
        elif not isinstance(body, dict):
            problems.append((name, "-", where, "must be a table"))
        else:
            result.append(_table_mapping(name, table, body, tables[table], problems))
    if problems:
        raise SourceError(problems)
    return result


def _strings(name: str, where: str, value: object, problems: list[Problem]) -> dict[str, str]:
    """A TOML table of scalars as a str -> str dict (booleans as true/false)."""
    if not isinstance(value, dict):
        problems.append((name, "-", where, "must be a table of key = value"))
        return {}
    out = {}
    for key, item in value.items():
        if isinstance(item, bool):
            out[str(key)] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            out[str(key)] = str(item)
        else:
            problems.append((name, "-", f"{where}.{key}", "must be a string or number"))
    return out


def _names(value: object) -> tuple[str, ...]:
    """A string or list of strings as a tuple."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in cast("Iterable[object]", value or ()))


def _table_mapping(
    name: str, table: str, body: dict[str, Any], allowed: Sequence[str], problems: list[Problem]
) -> TableMapping:
    """Check one [files.<table>] section and build its TableMapping."""
    where = f"files.{table}"
    for key in set(body) - TABLE_KEYS:
        problems.append(
            (name, "-", f"{where}.{key}", f"unknown key (expected {', '.join(sorted(TABLE_KEYS))})")
        )
    source = body.get("source")
    if not isinstance(source, str) or not source:
        problems.append((name, "-", f"{where}.source", "missing: the file in DIR to read"))
        source = ""
    columns = _strings(name, f"{where}.columns", body.get("columns", {}), problems)
    constants = _strings(name, f"{where}.constants", body.get("constants", {}), problems)
    templates = _strings(name, f"{where}.templates", body.get("templates", {}), problems)
    raw_values = body.get("values", {})
    values = {
        column: _strings(name, f"{where}.values.{column}", mapping, problems)
        for column, mapping in (raw_values.items() if isinstance(raw_values, dict) else [])
    }
    mapping = TableMapping(
        table=table,
        source=source,
        sheet=body.get("sheet"),
        delimiter=str(body.get("delimiter", ",")),
        date_format=str(body.get("date_format", ISO)),
        distinct=_names(body.get("distinct")),
        skip_if_blank=_names(body.get("skip_if_blank")),
        columns=columns,
        values=values,
        constants=constants,
        templates=templates,
    )
    _check_table_mapping(name, mapping, allowed, problems)
    return mapping


def _check_table_mapping(
    name: str, m: TableMapping, allowed: Sequence[str], problems: list[Problem]
) -> None:
    """Canonical names exist, are defined once, and templates parse."""
    where = f"files.{m.table}"
    seen: set[str] = set()
    for section in ("columns", "constants", "templates"):
        for column in getattr(m, section):
            if column not in allowed:
                problems.append(
                    (name, "-", f"{where}.{section}.{column}", f"not a column of {m.table}")
                )
            elif column in seen:
                problems.append(
                    (name, "-", f"{where}.{section}.{column}", "defined more than once")
                )
            seen.add(column)
    for column, template in m.templates.items():
        try:
            template_fields(template)
        except ValueError as exc:
            problems.append((name, "-", f"{where}.templates.{column}", f"bad template: {exc}"))
    for section in ("values", "distinct", "skip_if_blank"):
        for column in getattr(m, section):
            if column not in m.defined():
                problems.append(
                    (name, "-", f"{where}.{section}", f"{column} is not filled by this mapping")
                )
    if len(m.delimiter) != 1:
        problems.append((name, "-", f"{where}.delimiter", "must be one character"))
    try:
        dt.datetime.strptime(dt.date(2001, 2, 3).strftime(m.date_format), m.date_format)
    except ValueError:
        problems.append(
            (name, "-", f"{where}.date_format", f"not a usable strftime format: {m.date_format!r}")
        )


def template_fields(template: str) -> list[str]:
    """Source column names a template uses ({name}); raises ValueError on a bad template."""
    fields = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or spec or conversion:
            raise ValueError("use plain {column} placeholders")
        fields.append(name)
    return fields


def _render(template: str, frame: pd.DataFrame) -> pd.Series:
    """A template filled from source columns, vectorised."""
    out = pd.Series([""] * len(frame), index=frame.index, dtype=str)
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if name is not None:
            out = out + frame[name]
    return out


def apply_mapping(
    m: TableMapping, frame: pd.DataFrame, problems: list[Problem], warnings: list[str]
) -> Source | None:
    """Build the canonical Source of one table from its read source frame (None if columns are missing)."""
    missing = sorted(m.used_source_columns() - set(frame.columns))
    for column in missing:
        problems.append(
            (m.source, 1, column, f"column missing (read by the mapping for {m.table})")
        )
    if missing:
        return None
    data = pd.DataFrame(index=frame.index)
    for column, src in m.columns.items():
        data[column] = _map_values(frame[src], m.values.get(column, {}))
    for column, value in m.constants.items():
        data[column] = _map_values(
            pd.Series([value] * len(frame), index=frame.index, dtype=str), m.values.get(column, {})
        )
    for column, template in m.templates.items():
        data[column] = _map_values(_render(template, frame), m.values.get(column, {}))
    data[ROW] = frame[ROW]
    if m.skip_if_blank:
        data = data.loc[~(data[list(m.skip_if_blank)] == "").any(axis=1)]
    if m.distinct:
        _warn_conflicts(m, data, warnings)
        data = data.drop_duplicates(subset=list(m.distinct), keep="first")
    labels = dict(m.columns) | {c: f"{c} (mapped)" for c in [*m.constants, *m.templates]}
    return Source(m.table, m.source, data.reset_index(drop=True), labels, m.date_format)


def _map_values(series: pd.Series, values: Mapping[str, str]) -> pd.Series:
    """Replace source values found in the value map; others pass through unchanged."""
    if not values:
        return series.astype(str)
    mapped = series.map(dict(values))
    return mapped.where(mapped.notna(), series).astype(str)


def _warn_conflicts(m: TableMapping, data: pd.DataFrame, warnings: list[str]) -> None:
    """Warn when rows sharing a distinct key disagree on another column (the first row wins)."""
    keys = list(m.distinct)
    for column in sorted(m.defined() - set(keys)):
        varying = data.groupby(keys, sort=False)[column].nunique()
        count = int((varying > 1).sum())
        if count:
            warnings.append(
                f"{m.source}: column {m.columns.get(column, column)} differs between rows of the same "
                f"{'/'.join(keys)} for {count} value(s) of {m.table}; the first row of each was kept"
            )
