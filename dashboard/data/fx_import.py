"""Currencies in the import (BRIEF "Multi-currency"): codes, fx_rates.csv, and the checks across files.

Kept apart from the importer's parsing so the currency rules read in one place:
- a currency code is three letters (ISO 4217), stored upper case;
- an invoice's or payment's blank currency is its customer's, a customer's blank currency the base;
- fx_rates.csv gives units of the base currency per unit, up to 10 decimals, stored x 10**10;
- the base currency's rate is 1; every transaction in another currency needs a rate on or before
  its date; a payment or credit note applies only to invoices in its own currency.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select

from dashboard.config import get_settings
from dashboard.data import models
from dashboard.data.mapping import ROW

if TYPE_CHECKING:
    from dashboard.data.importer.check import Checker
    from dashboard.data.importer.contract import Col, Parsed, Spec

RATE = re.compile(r"\+?([0-9]*)(?:\.([0-9]*))?")
RATE_DIGITS = 10
RATE_SCALE: int = 10**RATE_DIGITS
MAX_RATE_E10 = 10**8 * RATE_SCALE  # rates below 100,000,000 (int64 exact arithmetic in the engine)


def base_currency() -> str:
    """AR_BASE_CURRENCY (USD by default)."""
    return get_settings().base_currency


def _rate_e10(text: str) -> int | str:
    """A positive decimal with up to 10 places as an integer x 10**10, or why it is not one."""
    match = RATE.fullmatch(text.strip())
    if match is None or not (match[1] or match[2]):
        return "not a number"
    whole, frac = match[1] or "0", match[2] or ""
    if frac[RATE_DIGITS:].strip("0"):
        return f"more than {RATE_DIGITS} decimal places"
    value = int(whole) * RATE_SCALE + int((frac + "0" * RATE_DIGITS)[:RATE_DIGITS])
    if value <= 0:
        return "must be greater than 0"
    if value >= MAX_RATE_E10:
        return "too large"
    return value


def parse_rate(
    s: pd.Series, _col: Col, _spec: Spec, _fmt: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Exchange rates (decimal text, up to 10 places, > 0) as exact integers x 10**10."""
    parsed = [_rate_e10(v) if isinstance(v, str) else None for v in s.tolist()]
    values = pd.Series(
        [v if isinstance(v, int) else None for v in parsed], index=s.index, dtype="Int64"
    )
    reason = pd.Series(
        [v if isinstance(v, str) else None for v in parsed], index=s.index, dtype=object
    )
    return values, reason.notna(), reason


def parse_currency(
    s: pd.Series, _col: Col, _spec: Spec, _fmt: str
) -> tuple[pd.Series, pd.Series, str | pd.Series]:
    """Three-letter ISO 4217 codes, any case (stored upper case)."""
    upper = s.str.strip().str.upper()
    ok = upper.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
    long = (s.str.len() > 3).fillna(False)
    reason = pd.Series("not a three-letter currency code (ISO 4217)", index=s.index).where(
        ~long, "longer than 3 characters"
    )
    return upper.where(ok), s.notna() & ~ok, reason


# ---------------------------------------------------------------- defaults


def resolve_currencies(checker: Checker) -> None:
    """Fill blank currencies before any other check reads them.

    A customer's blank cell is the base currency (an absent column changes nothing stored). An
    invoice's or payment's blank or absent currency keeps the stored one, else takes its customer's.
    """
    base = base_currency()
    customers = checker.usable("customers")
    if customers is not None and "currency" in customers.frame:
        _fill(customers, pd.Series(base, index=customers.frame.index, dtype=object))
    for table, key in (("invoices", "invoice_id"), ("payments", "payment_id")):
        p = checker.usable(table)
        if p is None:
            continue
        ids = p.frame[key]
        stored = checker.stored(table, pd.Index(ids.dropna().unique()))["currency"]
        kept = stored.reindex(ids.to_numpy())
        kept.index = p.frame.index
        owner = checker.info("customers", p.frame["customer_id"])["currency"]
        _fill(p, kept.where(kept.notna(), owner).where(lambda x: x.notna(), base))


def _fill(p: Parsed, default: pd.Series) -> None:
    """Blank currency cells take the default; the column is then written."""
    given = (
        p.frame["currency"]
        if "currency" in p.frame
        else pd.Series(pd.NA, index=p.frame.index, dtype=object)
    )
    p.frame["currency"] = given.astype(object).where(given.notna(), default).astype(object)
    p.present.add("currency")


# ---------------------------------------------------------------- checks across files


def check_currencies(checker: Checker) -> None:
    """Base rate is 1; each foreign transaction has a rate; applications stay in one currency."""
    rates = _rates(checker)
    _check_base_rate(checker)
    for table, date in (("invoices", "issue_date"), ("payments", "date")):
        p = checker.usable(table)
        if p is not None and "currency" in p.frame:
            _check_rated(checker, p, p.frame["currency"], p.frame[date], rates, date)
    wo = checker.usable("write_offs")
    if wo is not None:
        cur = checker.info("invoices", wo.frame["invoice_id"])["currency"]
        _check_rated(checker, wo, cur, wo.frame["date"], rates, "date")
    _check_same_currency(checker)


def _rates(checker: Checker) -> dict[str, list[pd.Timestamp]]:
    """Dates with a rate, per currency: stored ones and this import's."""
    t = models.FxRate.__table__
    stored = pd.DataFrame(
        [tuple(r) for r in checker.conn.execute(select(t.c.currency, t.c.date))],
        columns=["currency", "date"],
    )
    frames = [stored.assign(date=pd.to_datetime(stored["date"]))]
    p = checker.usable("fx_rates")
    if p is not None:
        frames.append(p.frame[["currency", "date"]].dropna())
    every = pd.concat([f for f in frames if len(f)]) if any(len(f) for f in frames) else stored
    return {str(c): sorted(pd.to_datetime(g["date"])) for c, g in every.groupby("currency")}


def _check_base_rate(checker: Checker) -> None:
    """A rate given for the base currency must be 1."""
    p = checker.usable("fx_rates")
    if p is None:
        return
    base = base_currency()
    wrong = (p.frame["currency"] == base) & (p.frame["rate"] != RATE_SCALE)
    checker.issues.where(
        p, wrong.fillna(False).astype(bool), "rate", f"the base currency {base} always has rate 1"
    )


def _check_rated(
    checker: Checker,
    p: Parsed,
    cur: pd.Series,
    when: pd.Series,
    rates: dict[str, Any],
    date_col: str,
) -> None:
    """Rows in a foreign currency need a rate on or before their date."""
    base = base_currency()
    need = cur.notna() & (cur != base) & when.notna()
    if not need.any():
        return
    first = {c: days[0] for c, days in rates.items()}
    start = pd.to_datetime(
        pd.Series([first.get(c) for c in cur[need]], index=cur[need].index, dtype=object)
    )
    missing = start.isna() | (pd.to_datetime(when[need]) < start).fillna(False)
    if not missing.any():
        return
    rows = missing[missing].index
    column = "currency" if "currency" in p.source.data.columns else date_col
    reason = (
        "no "
        + base
        + " rate for "
        + cur[rows].astype(str)
        + " on or before "
        + pd.to_datetime(when[rows]).dt.strftime("%Y-%m-%d")
        + " (add it to fx_rates.csv)"
    )
    checker.issues.where(
        p, pd.Series(p.frame.index.isin(rows), index=p.frame.index), column, reason
    )


def _check_same_currency(checker: Checker) -> None:
    """Allocations, whole-payment invoice_ids and credit notes apply within one currency."""
    al = checker.usable("allocations")
    if al is not None:
        pay_cur = checker.info("payments", al.frame["payment_id"])["currency"]
        _mismatch(checker, al, "invoice_id", pay_cur, "payment " + _q(al.frame["payment_id"]))
    pays = checker.usable("payments")
    if pays is not None and "invoice_id" in pays.frame:
        _mismatch(
            checker,
            pays,
            "invoice_id",
            pays.frame["currency"],
            "payment " + _q(pays.frame["payment_id"]),
        )
    inv = checker.usable("invoices")
    if inv is not None and "applies_to" in inv.frame:
        credit = inv.frame["applies_to"].notna()
        _mismatch(
            checker,
            inv,
            "applies_to",
            inv.frame["currency"].where(credit),
            "credit note " + _q(inv.frame["invoice_id"]),
        )


def _mismatch(checker: Checker, p: Parsed, column: str, own: pd.Series, what: pd.Series) -> None:
    """Rows whose target invoice (in column) is in another currency than own."""
    target = p.frame[column]
    other = checker.info("invoices", target)["currency"]
    bad = (target.notna() & own.notna() & other.notna() & (own != other)).fillna(False).astype(bool)
    flagged = {(f, r, c) for f, r, c, _why in checker.issues.errors}
    label = p.source.label(column)
    bad &= ~p.frame[ROW].map(lambda r: (p.source.file, int(r), label) in flagged).astype(bool)
    if bad.any():
        reason = (
            what[bad]
            + " is in "
            + own[bad].astype(str)
            + " but invoice "
            + _q(target[bad])
            + " is in "
            + other[bad].astype(str)
            + "; a payment or credit note applies only in its own currency"
        )
        checker.issues.where(p, bad, column, reason)


def _q(values: pd.Series) -> pd.Series:
    return "'" + values.astype(str) + "'"
