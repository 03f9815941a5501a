"""The naive baseline: the Receivables Health figure set with one SQL query per figure.

This is what a dashboard does when every tile asks the database directly. It is the benchmark's
yardstick and, on small data, a second independent check of the engine (tests/test_naive_sql.py).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlalchemy import Date, String, bindparam, text

from dashboard.data.db import get_engine

APPS = """
apps AS (
  SELECT a.invoice_id AS invoice_id, COALESCE(a.date, p.date) AS d, a.amount_cents AS amt, 0 AS kind
    FROM allocations a JOIN payments p ON p.payment_id = a.payment_id
  UNION ALL
  SELECT applies_to, issue_date, -amount_cents, 1 FROM invoices WHERE amount_cents < 0 AND applies_to IS NOT NULL
  UNION ALL
  SELECT invoice_id, date, amount_cents, 2 FROM write_offs
)"""

FILTER = """(:segment IS NULL OR c.segment = :segment) AND (:region IS NULL OR c.region = :region)
  AND (:tier IS NULL OR c.tier = :tier) AND (:rep IS NULL OR c.sales_rep_id = :rep)"""


def open_cte(day: str = ":d") -> str:
    """Open balances of positive invoices of the selected customers at a date."""
    return f"""WITH {APPS},
applied AS (SELECT invoice_id, SUM(amt) AS s FROM apps WHERE d <= {day} GROUP BY invoice_id),
open AS (
  SELECT i.invoice_id, i.customer_id, i.issue_date, i.due_date, i.amount_cents - COALESCE(ap.s, 0) AS bal
    FROM invoices i JOIN customers c ON c.customer_id = i.customer_id
    LEFT JOIN applied ap ON ap.invoice_id = i.invoice_id
   WHERE i.amount_cents > 0 AND i.issue_date <= {day} AND {FILTER}
)"""


class NaiveSQL:
    """Each figure is its own query against the system of record."""

    def __init__(self, url: str, filters: dict | None = None) -> None:
        self.engine = get_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.f = {"segment": None, "region": None, "tier": None, "rep": None, **(filters or {})}

    def scalar(self, stmt: str, **params) -> int:
        used = {k: v for k, v in {**self.f, **params}.items() if f":{k}" in stmt}
        bound = text(stmt).bindparams(
            *[
                bindparam(k, type_=Date if isinstance(v, dt.date) else String)
                for k, v in used.items()
            ]
        )
        with self.engine.connect() as conn:
            return int(conn.execute(bound, used).scalar() or 0)

    def rows(self, stmt: str, **params) -> list:
        used = {k: v for k, v in {**self.f, **params}.items() if f":{k}" in stmt}
        bound = text(stmt).bindparams(
            *[
                bindparam(k, type_=Date if isinstance(v, dt.date) else String)
                for k, v in used.items()
            ]
        )
        with self.engine.connect() as conn:
            return list(conn.execute(bound, used))

    def ar(self, day: dt.date) -> int:
        return self.scalar(open_cte() + " SELECT SUM(bal) FROM open WHERE bal > 0", d=day)

    def ar_part(self, day: dt.date, overdue: bool) -> int:
        op = "<" if overdue else ">="
        return self.scalar(
            open_cte() + f" SELECT SUM(bal) FROM open WHERE bal > 0 AND due_date {op} :d", d=day
        )

    def customers_count(self, day: dt.date, overdue: bool) -> int:
        extra = " AND due_date < :d" if overdue else ""
        return self.scalar(
            open_cte() + f" SELECT COUNT(DISTINCT customer_id) FROM open WHERE bal > 0{extra}",
            d=day,
        )

    def aging_due(self, day: dt.date) -> dict[str, int]:
        age = "(julianday(:d) - julianday(due_date))" if self.sqlite else "(:d - due_date)"
        rows = self.rows(
            open_cte()
            + f""" SELECT CASE WHEN {age} <= 0 THEN 'not_due' WHEN {age} <= 30 THEN '1-30'
            WHEN {age} <= 60 THEN '31-60' WHEN {age} <= 90 THEN '61-90' ELSE '90+' END AS b, SUM(bal)
            FROM open WHERE bal > 0 GROUP BY b""",
            d=day,
        )
        out = dict.fromkeys(("not_due", "1-30", "31-60", "61-90", "90+"), 0)
        out.update({b: int(v) for b, v in rows})
        return out

    def sales(self, start: dt.date, end: dt.date) -> int:
        return self.scalar(
            f"""SELECT SUM(i.amount_cents) FROM invoices i JOIN customers c ON c.customer_id = i.customer_id
            WHERE i.issue_date > :s AND i.issue_date <= :e AND {FILTER}""",
            s=start,
            e=end,
        )

    def collections(self, start: dt.date, end: dt.date) -> int:
        return self.scalar(
            f"""SELECT SUM(p.amount_cents) FROM payments p JOIN customers c ON c.customer_id = p.customer_id
            WHERE p.date > :s AND p.date <= :e AND {FILTER}""",
            s=start,
            e=end,
        )

    def write_offs(self, start: dt.date, end: dt.date) -> int:
        return self.scalar(
            f"""SELECT SUM(w.amount_cents) FROM write_offs w JOIN invoices i ON i.invoice_id = w.invoice_id
            JOIN customers c ON c.customer_id = i.customer_id WHERE w.date > :s AND w.date <= :e AND {FILTER}""",
            s=start,
            e=end,
        )

    def unapplied(self, day: dt.date) -> int:
        pays = self.scalar(
            f"""SELECT SUM(p.amount_cents) FROM payments p JOIN customers c ON c.customer_id = p.customer_id
            WHERE p.date <= :d AND {FILTER}""",
            d=day,
        )
        used = self.scalar(
            f"""SELECT SUM(a.amount_cents) FROM allocations a JOIN payments p ON p.payment_id = a.payment_id
            JOIN customers c ON c.customer_id = p.customer_id
            WHERE p.date <= :d AND COALESCE(a.date, p.date) <= :d AND {FILTER}""",
            d=day,
        )
        notes = self.scalar(
            f"""SELECT SUM(-i.amount_cents) FROM invoices i JOIN customers c ON c.customer_id = i.customer_id
            WHERE i.amount_cents < 0 AND i.applies_to IS NULL AND i.issue_date <= :d AND {FILTER}""",
            d=day,
        )
        return pays - used + notes

    def over_limit(self, day: dt.date) -> int:
        return self.scalar(
            open_cte()
            + """, per AS (SELECT customer_id, SUM(bal) AS b FROM open WHERE bal > 0 GROUP BY customer_id)
            SELECT COUNT(*) FROM per JOIN customers c ON c.customer_id = per.customer_id
            WHERE c.credit_limit_cents > 0 AND per.b > c.credit_limit_cents""",
            d=day,
        )

    def top_debtors(self, day: dt.date) -> list:
        return self.rows(
            open_cte()
            + """ SELECT customer_id, SUM(bal) AS b FROM open WHERE bal > 0
            GROUP BY customer_id ORDER BY b DESC, customer_id LIMIT 10""",
            d=day,
        )

    def payment_timing(self, start: dt.date, end: dt.date) -> tuple[int, int, int]:
        diff = "julianday({a}) - julianday({b})" if self.sqlite else "({a} - {b})"
        rows = self.rows(
            f"""WITH {APPS},
            run AS (SELECT invoice_id, d, kind, SUM(amt) OVER (PARTITION BY invoice_id ORDER BY d, kind
                    ROWS UNBOUNDED PRECEDING) AS cum FROM apps WHERE d <= :e),
            hit AS (SELECT r.invoice_id, r.d, r.kind, ROW_NUMBER() OVER (PARTITION BY r.invoice_id ORDER BY r.d, r.kind) AS n
                    FROM run r JOIN invoices i ON i.invoice_id = r.invoice_id WHERE r.cum >= i.amount_cents AND i.amount_cents > 0)
            SELECT COUNT(*), SUM({diff.format(a="h.d", b="i.issue_date")}),
                   SUM(CASE WHEN {diff.format(a="h.d", b="i.due_date")} > 0 THEN {diff.format(a="h.d", b="i.due_date")} ELSE 0 END)
              FROM hit h JOIN invoices i ON i.invoice_id = h.invoice_id JOIN customers c ON c.customer_id = i.customer_id
             WHERE h.n = 1 AND h.kind = 0 AND h.d > :s AND h.d <= :e AND i.issue_date <= :e AND {FILTER}""",
            s=start,
            e=end,
        )
        count, to_pay, late = rows[0]
        return int(count or 0), int(to_pay or 0), int(late or 0)

    def monthly_sales(self, as_of: dt.date, months: int = 24) -> list[int]:
        out, end = [], as_of
        for _ in range(months):
            start = end.replace(day=1)
            out.append(((end - start).days + 1, self.sales(start - dt.timedelta(days=1), end)))
            end = start - dt.timedelta(days=1)
        return out

    def figure_set(self, as_of: dt.date, p: int = 90) -> dict:
        """Every contract figure plus 12-month trends, one query per figure."""
        start = as_of - dt.timedelta(days=p)
        total = self.ar(as_of)
        overdue = self.ar_part(as_of, True)
        cs = self.sales(start, as_of)
        count, to_pay, late = self.payment_timing(start, as_of)
        out = {
            "total_ar": total,
            "overdue_ar": overdue,
            "not_due_ar": self.ar_part(as_of, False),
            "unapplied_credits": self.unapplied(as_of),
            "customers_with_balance": self.customers_count(as_of, False),
            "customers_overdue": self.customers_count(as_of, True),
            "aging_due": self.aging_due(as_of),
            "credit_sales": cs,
            "collections": self.collections(start, as_of),
            "ar_start": self.ar(start),
            "ar_year_ago": self.ar(as_of - dt.timedelta(days=365)),
            "sales_year": self.sales(as_of - dt.timedelta(days=365), as_of),
            "write_offs": self.write_offs(start, as_of),
            "customers_over_limit": self.over_limit(as_of),
            "avg_days_to_pay": Fraction(to_pay, count) if count else None,
            "avg_days_late": Fraction(late, count) if count else None,
            "top_debtors": self.top_debtors(as_of),
            "months": self.monthly_sales(as_of, 24),
        }
        trend, end = [], as_of
        for _ in range(12):
            first = end.replace(day=1)
            trend.append(
                (
                    self.sales(first - dt.timedelta(days=1), end),
                    self.collections(first - dt.timedelta(days=1), end),
                    self.ar(end),
                )
            )
            end = first - dt.timedelta(days=1)
        out["trend"] = trend[::-1]
        return out
