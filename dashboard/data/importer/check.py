"""Checking an import across its files and against the database; builds the derived allocations."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.data import fx_import, models
from dashboard.data.importer.contract import (
    BULK,
    CHUNK,
    LAST_DATE,
    LOOKUP,
    NOUN,
    SPECS,
    Issues,
    Parsed,
    quoted,
)
from dashboard.data.mapping import ROW
from dashboard.data.models import MAX_DATE

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
            reason = "duplicate " + keys[0] + " " + quoted(p.frame.loc[dup, keys[0]])
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
                    p, unknown, col.name, f"unknown {NOUN[col.ref]} " + quoted(values[unknown])
                )

    def check_target_invoice(self, p: Parsed, column: str, customers: pd.Series) -> pd.DataFrame:
        """The invoice named in column is no credit note and belongs to the same customer."""
        values = p.frame[column]
        target = self.info("invoices", values)
        credit = target["known"] & (target["amount"] < 0).fillna(False).astype(bool)
        self.issues.where(
            p, credit, column, "invoice " + quoted(values[credit]) + " is a credit note"
        )
        other = target["known"] & ~credit & customers.notna() & (target["customer_id"] != customers)
        other = other.fillna(False).astype(bool)
        reason = (
            "invoice "
            + quoted(values[other])
            + " belongs to customer "
            + quoted(target["customer_id"][other])
            + ", not "
            + quoted(customers[other])
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
        self.issues.where(
            p,
            late,
            "due_date",
            f"blank, and issue_date + the customer's terms is after {MAX_DATE.isoformat()}",
        )
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
            reason = "payment " + quoted(f.loc[clash, "payment_id"]) + " already applies in full"
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
        both = pd.concat([new[["payment_id", "amount"]], stored[["payment_id", "amount"]]])
        totals = both.dropna().groupby("payment_id")["amount"].sum()
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
