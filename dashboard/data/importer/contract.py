"""The import contract (BRIEF "Data contract"): the canonical files, their columns and keys, the
parsed tables, the problems found, and how an import fails or succeeds.

Errors read "file:row:column: reason" (row 1 is the header, so the first data row is 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table

from dashboard.data import models
from dashboard.data.mapping import ROW, Problem, Source
from dashboard.data.models import MAX_DATE, MIN_DATE

BULK = 20_000  # above this many ids, read a whole table instead of IN (...) chunks
CHUNK = 500  # ids per IN (...) query

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

FIRST_DATE = pd.Timestamp(MIN_DATE)  # the dates a ledger row may hold
LAST_DATE = pd.Timestamp(MAX_DATE)


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

    @property
    def table(self) -> Table:
        """The model's table."""
        return cast(Table, self.model.__table__)

    def col(self, name: str) -> Col:
        """The column named name."""
        return next(c for c in self.cols if c.name == name)

    def names(self) -> list[str]:
        """Every column name, in contract order."""
        return [c.name for c in self.cols]

    def length(self, col: Col) -> int | None:
        """The model's maximum string length for a text column."""
        return getattr(self.model.__table__.c[col.attr].type, "length", None)


def _req(name: str, kind: str = "text", **kw: Any) -> Col:
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
        (
            _req("date", "date"),
            _req("currency", "currency"),
            _req("rate", "rate", target="rate_e10"),
        ),
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


def quoted(values: pd.Series) -> pd.Series:
    """Values as 'text' for messages."""
    return "'" + values.astype(str) + "'"
