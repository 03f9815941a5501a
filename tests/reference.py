"""An independent, deliberately naive reference for the KPI contract (plain Python, Decimal, loops).

It shares no code with dashboard.metrics: it reads the contract in shared/BRIEF.md literally, one
invoice at a time, so the engine's vectorised results can be checked against it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

ORDER = {"payment": 0, "credit": 1, "write_off": 2}  # same-day applications: payments first


@dataclass
class Ledger:
    """Rows as dicts with date objects and Decimal money, keys as in the import contract."""

    customers: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    allocations: list[dict] = field(default_factory=list)
    write_offs: list[dict] = field(default_factory=list)
    rates: list[dict] = field(default_factory=list)  # {date, currency, rate (Decimal)}
    base: str = "USD"


def _r2(x):
    """Round an exact rational half-up to 2 places (independent of the engine's rounding)."""
    if x is None:
        return None
    x = Fraction(x)
    q = (Decimal(abs(x.numerator)) * 100 / Decimal(x.denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return float((q if x >= 0 else -q) / 100)


def _ratio(num, den, scale=1):
    if den <= 0:
        return None
    return _r2(Fraction(num) * Fraction(scale) / Fraction(den))


def _m(x: Decimal) -> str:
    return f"{x:.2f}"


class Reference:
    """The KPI contract computed naively for the customers `keep` selects."""

    def __init__(self, led: Ledger, keep=lambda c: True):
        self.customers = {c["customer_id"]: c for c in led.customers if keep(c)}
        self.invoices = [i for i in led.invoices if i["customer_id"] in self.customers]
        self.payments = [p for p in led.payments if p["customer_id"] in self.customers]
        pay_date = {p["payment_id"]: p["date"] for p in led.payments}
        issued = {i["invoice_id"]: i["issue_date"] for i in led.invoices}
        self.owner = {i["invoice_id"]: i["customer_id"] for i in led.invoices}
        # each application: (date it takes effect, kind, amount, own date, credit note id or None)
        self.apps = defaultdict(list)
        for a in led.allocations:
            own = max(a.get("date") or pay_date[a["payment_id"]], pay_date[a["payment_id"]])
            self.apps[a["invoice_id"]].append(
                (max(own, issued[a["invoice_id"]]), ORDER["payment"], a["amount"], own, None)
            )
        for i in led.invoices:
            if i["amount"] < 0 and i.get("applies_to"):
                target = i["applies_to"]
                self.apps[target].append(
                    (
                        max(i["issue_date"], issued[target]),
                        ORDER["credit"],
                        -i["amount"],
                        i["issue_date"],
                        i["invoice_id"],
                    )
                )
        for w in led.write_offs:
            self.apps[w["invoice_id"]].append(
                (
                    max(w["date"], issued[w["invoice_id"]]),
                    ORDER["write_off"],
                    w["amount"],
                    w["date"],
                    None,
                )
            )
        self.allocs_by_payment = defaultdict(list)
        for a in led.allocations:
            paid_on = pay_date[a["payment_id"]]
            effective = max(a.get("date") or paid_on, paid_on, issued[a["invoice_id"]])
            self.allocs_by_payment[a["payment_id"]].append((effective, a["amount"]))
        self.write_offs = [
            w
            for w in led.write_offs
            if any(i["invoice_id"] == w["invoice_id"] for i in self.invoices)
        ]
        self.all_invoices = led.invoices
        self.base = led.base
        cust_cur = {c["customer_id"]: c.get("currency") or led.base for c in led.customers}
        self.inv_cur = {
            i["invoice_id"]: i.get("currency") or cust_cur.get(i["customer_id"], led.base)
            for i in led.invoices
        }
        self.pay_cur = {
            p["payment_id"]: p.get("currency") or cust_cur.get(p["customer_id"], led.base)
            for p in led.payments
        }
        self.cust_cur = cust_cur
        self.rate_rows = sorted(led.rates, key=lambda r: r["date"])

    def rate(self, currency: str, day: dt.date) -> Decimal:
        """Units of base for one unit of currency in force at day (the first rate if none yet)."""
        if currency == self.base:
            return Decimal(1)
        mine = [r for r in self.rate_rows if r["currency"] == currency]
        known = [r["rate"] for r in mine if r["date"] <= day]
        return known[-1] if known else mine[0]["rate"]

    def conv(self, amount: Decimal, currency: str, day: dt.date) -> Decimal:
        """One amount in base currency at day's rate, rounded half up to the cent."""
        return (amount * self.rate(currency, day)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def applied(self, invoice_id: str, day: dt.date) -> Decimal:
        """Everything applied to an invoice with effect on or before day."""
        return sum((app[2] for app in self.apps[invoice_id] if app[0] <= day), Decimal(0))

    def over_applied(self, day: dt.date) -> list[tuple[dict, Decimal]]:
        """(invoice, amount applied beyond it) for the selected customers' invoices at day."""
        out = []
        for inv in self.invoices:
            if inv["amount"] > 0:
                extra = self.applied(inv["invoice_id"], day) - inv["amount"]
                if extra > 0:
                    out.append((inv, extra))
        return out

    def waiting(self, day: dt.date) -> list[tuple[str, Decimal, str]]:
        """(customer, amount, invoice) of credit notes and write-offs dated before their invoice, at day."""
        out = []
        for invoice_id, apps in self.apps.items():
            cust = self.owner.get(invoice_id)
            if cust not in self.customers:
                continue
            for effective, kind, amt, own, _cn in apps:
                if kind != ORDER["payment"] and own <= day < effective:
                    out.append((cust, amt, invoice_id))
        return out

    def open_at(self, inv: dict, day: dt.date) -> Decimal:
        if inv["issue_date"] > day:
            return Decimal(0)
        return inv["amount"] - self.applied(inv["invoice_id"], day)

    def positive_open(self, day: dt.date) -> list[tuple[dict, Decimal]]:
        out = []
        for inv in self.invoices:
            if inv["amount"] > 0:
                bal = self.open_at(inv, day)
                if bal > 0:
                    out.append((inv, bal))
        return out

    def ar(self, day: dt.date) -> Decimal:
        return sum(
            (self.conv(b, self.inv_cur[i["invoice_id"]], day) for i, b in self.positive_open(day)),
            Decimal(0),
        )

    def sales(self, start: dt.date, end: dt.date) -> Decimal:
        """Credit sales issued in (start, end], each at its issue date's rate."""
        return sum(
            (
                self.conv(i["amount"], self.inv_cur[i["invoice_id"]], i["issue_date"])
                for i in self.invoices
                if start < i["issue_date"] <= end
            ),
            Decimal(0),
        )

    def settlement(self, inv: dict):
        bal = inv["amount"]
        for d, kind, amt, _own, _cn in sorted(
            self.apps[inv["invoice_id"]], key=lambda a: (a[0], a[1])
        ):
            bal -= amt
            if bal <= 0:
                return d, kind
        return None, None

    def countback(self, as_of: dt.date, total: Decimal):
        remaining = Fraction(total)
        days = Fraction(0)
        end = as_of
        for _ in range(24):
            if remaining <= 0:
                return _r2(days)
            start = end.replace(day=1)
            span = (end - start).days + 1
            sales = Fraction(self.sales(start - dt.timedelta(days=1), end))
            if sales <= 0:
                return None
            if remaining > sales:
                days += span
                remaining -= sales
            else:
                days += remaining / sales * span
                remaining = Fraction(0)
            end = start - dt.timedelta(days=1)
        return _r2(days) if remaining <= 0 else None

    def kpis(self, as_of: dt.date, p: int = 90) -> dict:
        start = as_of - dt.timedelta(days=p)
        own_items = self.positive_open(as_of)
        items = [(i, self.conv(b, self.inv_cur[i["invoice_id"]], as_of)) for i, b in own_items]
        total = sum((b for _i, b in items), Decimal(0))
        overdue = sum((b for i, b in items if i["due_date"] < as_of), Decimal(0))
        not_due = total - overdue
        due_b = {k: Decimal(0) for k in ("not_due", "1-30", "31-60", "61-90", "90+")}
        tr_b = {k: Decimal(0) for k in ("current", "1_month", "2_months", "3+_months")}
        by_cust = defaultdict(Decimal)
        for inv, bal in items:
            dpd = (as_of - inv["due_date"]).days
            key = (
                "not_due"
                if dpd <= 0
                else "1-30"
                if dpd <= 30
                else "31-60"
                if dpd <= 60
                else "61-90"
                if dpd <= 90
                else "90+"
            )
            due_b[key] += bal
            issued = inv["issue_date"]
            months = (
                (as_of.year - issued.year) * 12
                + as_of.month
                - issued.month
                - (1 if as_of.day < issued.day else 0)
            )
            tr_b[["current", "1_month", "2_months", "3+_months"][min(max(months, 0), 3)]] += bal
            by_cust[inv["customer_id"]] += bal
        credits = []  # (currency, own amount) of every unapplied credit item
        for pay in self.payments:
            if pay["date"] <= as_of:
                left = pay["amount"] - sum(
                    (a for d, a in self.allocs_by_payment[pay["payment_id"]] if d <= as_of),
                    Decimal(0),
                )
                credits.append((self.pay_cur[pay["payment_id"]], left))
        credits += [
            (self.inv_cur[i["invoice_id"]], -i["amount"])
            for i in self.invoices
            if i["amount"] < 0 and not i.get("applies_to") and i["issue_date"] <= as_of
        ]
        credits += [(self.inv_cur[i["invoice_id"]], extra) for i, extra in self.over_applied(as_of)]
        credits += [(self.inv_cur[inv_id], amt) for _c, amt, inv_id in self.waiting(as_of)]
        unapplied = sum((self.conv(a, cur, as_of) for cur, a in credits), Decimal(0))
        by_currency = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
        for inv, bal in own_items:
            row = by_currency[self.inv_cur[inv["invoice_id"]]]
            row[0] += bal
            row[1] += bal if inv["due_date"] < as_of else 0
        for cur, a in credits:
            by_currency[cur][2] += a
        booked = sum(
            (self.conv(b, self.inv_cur[i["invoice_id"]], i["issue_date"]) for i, b in own_items),
            Decimal(0),
        )
        cs = self.sales(start, as_of)
        coll = sum(
            (
                self.conv(pay["amount"], self.pay_cur[pay["payment_id"]], pay["date"])
                for pay in self.payments
                if start < pay["date"] <= as_of
            ),
            Decimal(0),
        )
        wo = sum(
            (
                self.conv(w["amount"], self.inv_cur[w["invoice_id"]], w["date"])
                for w in self.write_offs
                if start < w["date"] <= as_of
            ),
            Decimal(0),
        )
        ar_start = self.ar(start)
        ar_year = self.ar(as_of - dt.timedelta(days=365))
        sales_year = self.sales(as_of - dt.timedelta(days=365), as_of)
        to_pay, late = [], []
        for inv in self.invoices:
            if inv["amount"] <= 0 or inv["issue_date"] > as_of:
                continue
            settled, kind = self.settlement(inv)
            if settled is not None and kind == ORDER["payment"] and start < settled <= as_of:
                to_pay.append((settled - inv["issue_date"]).days)
                late.append(max(0, (settled - inv["due_date"]).days))
        over_limit = sum(
            1
            for cid, c in self.customers.items()
            if (c.get("credit_limit") or 0) > 0
            and by_cust.get(cid, 0) > self.conv(c["credit_limit"], self.cust_cur[cid], as_of)
        )
        debtors = sorted(
            ((cid, b) for cid, b in by_cust.items() if b > 0), key=lambda x: (-x[1], x[0])
        )[:10]
        return {
            "as_of": as_of.isoformat(),
            "period_days": p,
            "total_ar": _m(total),
            "overdue_ar": _m(overdue),
            "not_due_ar": _m(not_due),
            "unapplied_credits": _m(unapplied),
            "customers_with_balance": sum(1 for b in by_cust.values() if b > 0),
            "customers_overdue": len(
                {i["customer_id"] for i, _b in items if i["due_date"] < as_of}
            ),
            "aging_due": {k: _m(v) for k, v in due_b.items()},
            "aging_transaction": {k: _m(v) for k, v in tr_b.items()},
            "credit_sales": _m(cs),
            "collections": _m(coll),
            "dso": _ratio(total, cs, p),
            "best_possible_dso": _ratio(not_due, cs, p),
            "add": _ratio(overdue, cs, p),
            "dso_countback": self.countback(as_of, total),
            "cei": _ratio(ar_start + cs - total, ar_start + cs - not_due, 100),
            "ar_turnover": _ratio(sales_year, Fraction(ar_year + total) / 2),
            "bad_debt_ratio": _ratio(wo, cs, 100),
            "customers_over_limit": over_limit,
            "avg_days_to_pay": _ratio(sum(to_pay), len(to_pay)),
            "avg_days_late": _ratio(sum(late), len(late)),
            "top_debtors": [
                {"customer_id": cid, "name": self.customers[cid]["name"], "balance": _m(b)}
                for cid, b in debtors
            ],
            "base_currency": self.base,
            "by_currency": {
                cur: {
                    "total_ar": _m(t),
                    "overdue_ar": _m(o),
                    "not_due_ar": _m(t - o),
                    "unapplied_credits": _m(u),
                }
                for cur, (t, o, u) in sorted(
                    by_currency.items(), key=lambda kv: (kv[0] != self.base, kv[0])
                )
                if t or u
            },
            "total_ar_at_booking_rates": _m(booked),
            "fx_revaluation": _m(total - booked),
        }


def month_days(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]
