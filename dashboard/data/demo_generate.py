"""generate_demo: the whole deterministic demo ledger as one DataFrame per table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from dashboard.data.demo_calendar import (
    day_weights,
    due_dates,
    sample_days,
    to_datetime,
    to_day,
)
from dashboard.data.demo_currency import DEFAULT_CURRENCIES, add_currencies
from dashboard.data.demo_entities import (
    GROUPS,
    METHODS,
    REGIONS,
    SEGMENTS,
    TIERS,
    Arrays,
    Ctx,
    make_customers,
    make_ids,
    make_invoices,
    make_reps,
)
from dashboard.data.demo_followup import (
    applications,
    credit_limits,
    invoice_status,
    make_activities,
    make_commissions,
    make_promises,
)
from dashboard.data.demo_settle import build_payments, on_account_payments, plan_settlement

YEARS_OF_DATA = 3
REP_SHARE = 0.05  # sales reps per customer
MIN_REPS = 4
UNAPPLIED_CREDIT_SHARE = 0.003  # credit notes without applies_to, per invoice
PREFERRED_METHOD_SHARE = 0.85
CURRENCY = "USD"
RATE_LEAD_DAYS = 30  # rates start a month before the first invoice
Step = Callable[[str], None]


def _nullable(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """An object array with None where mask is False."""
    out = np.asarray(values).astype(object)
    out[~mask] = None
    return out


def _rank(order: np.ndarray) -> np.ndarray:
    """Position of each row once sorted by order."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _reps_frame(reps: Arrays) -> pd.DataFrame:
    """sales_reps rows."""
    return pd.DataFrame(
        {
            "sales_rep_id": reps["id"],
            "name": reps["name"],
            "group_name": np.asarray(GROUPS)[reps["group"]],
            "manager_id": reps["manager_id"],
            "email": reps["email"],
        }
    )


def _customers_frame(cust: Arrays, reps: Arrays, limit: np.ndarray) -> pd.DataFrame:
    """customers rows."""
    return pd.DataFrame(
        {
            "customer_id": cust["id"],
            "name": cust["name"],
            "segment": np.asarray(SEGMENTS)[cust["segment"]],
            "region": np.asarray(REGIONS)[cust["region"]],
            "tier": np.asarray(TIERS)[cust["tier"]],
            "terms_days": cust["terms"].astype(np.int64),
            "terms_type": np.where(cust["eom"], "eom", "net"),
            "credit_limit_cents": pd.Series(limit, dtype="Int64").mask(limit < 0),
            "sales_rep_id": reps["id"][cust["rep"]],
            "created_on": to_datetime(cust["created"]),
            "currency": np.full(len(cust["id"]), CURRENCY),
        }
    )


def _unapplied_credits(ctx: Ctx, cust: Arrays, n_invoices: int) -> Arrays:
    """Goodwill credits with no invoice: unapplied customer credit, issued in the last year."""
    rng, nc = ctx.rng, len(cust["id"])
    m = round(UNAPPLIED_CREDIT_SHARE * n_invoices)
    c = rng.choice(nc, size=m, p=cust["freq"] / cust["freq"].sum())
    low = np.maximum(np.maximum(cust["created"][c], ctx.today - 364) - ctx.start, 0)
    day = ctx.start + sample_days(rng, day_weights(ctx.start, ctx.today), low)
    amount = np.maximum(np.rint(cust["typical"][c] * rng.uniform(0.03, 0.3, m)), 10_00).astype(
        np.int64
    )
    return {"cust": c, "day": day, "amount": amount}


def _invoices_frame(
    inv: Arrays, cust: Arrays, reps: Arrays, credits: Arrays, loose: Arrays, disputed: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Invoices then credit notes (applied ones and loose ones); also returns the invoice ids."""
    n = len(inv["amount"])
    inv_ids = make_ids("INV", n, 7)
    cn_cust = np.concatenate((inv["cust"][credits["inv"]], loose["cust"]))
    cn_day = np.concatenate((credits["day"], loose["day"]))
    cn_amount = np.concatenate((credits["amount"], loose["amount"]))
    cn_cost = np.concatenate(
        (
            np.rint(
                inv["cost"][credits["inv"]] * credits["amount"] / inv["amount"][credits["inv"]]
            ),
            np.zeros(len(loose["day"])),
        )
    )
    target = np.concatenate((credits["inv"], np.full(len(loose["day"]), -1)))
    order = np.lexsort((cn_cust, cn_day))
    cn_cust, cn_day, cn_amount, cn_cost, target = (
        a[order] for a in (cn_cust, cn_day, cn_amount, cn_cost, target)
    )
    c = np.concatenate((inv["cust"], cn_cust))
    issue = np.concatenate((inv["issue"], cn_day))
    frame = pd.DataFrame(
        {
            "invoice_id": np.concatenate((inv_ids, make_ids("CN", len(cn_day), 7))),
            "customer_id": cust["id"][c],
            "issue_date": to_datetime(issue),
            "due_date": to_datetime(
                np.concatenate(
                    (inv["due"], due_dates(cn_day, cust["terms"][cn_cust], cust["eom"][cn_cust]))
                )
            ),
            "amount_cents": np.concatenate((inv["amount"], -cn_amount)),
            "cost_cents": np.concatenate((inv["cost"], -cn_cost.astype(np.int64))),
            "sales_rep_id": reps["id"][cust["rep"][c]],
            "applies_to": np.concatenate(
                (
                    np.full(n, None, dtype=object),
                    _nullable(inv_ids[np.maximum(target, 0)], target >= 0),
                )
            ),
            "disputed": np.concatenate((disputed, np.zeros(len(cn_day), dtype=bool))),
        }
    )
    return frame, inv_ids


def _methods(ctx: Ctx, cust: Arrays, c: np.ndarray) -> np.ndarray:
    """Each customer's usual payment method, sometimes another one."""
    other = ctx.rng.integers(0, len(METHODS), len(c))
    usual = ctx.rng.random(len(c)) < PREFERRED_METHOD_SHARE
    return np.asarray(METHODS)[np.where(usual, cust["method"][c], other)]


def _payment_tables(
    ctx: Ctx, cust: Arrays, pays: dict[str, Arrays], inv_ids: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """payments (planned and on-account) and allocations rows."""
    planned, allocs = pays["payments"], pays["allocations"]
    n_planned = len(planned["day"])
    loose = on_account_payments(ctx, cust, n_planned)
    c = np.concatenate((planned["cust"], loose["cust"]))
    day = np.concatenate((planned["day"], loose["day"]))
    count = np.bincount(allocs["pay"], minlength=n_planned)
    first_inv = np.full(n_planned, -1)
    first_inv[allocs["pay"][::-1]] = allocs["inv"][::-1]
    single = (count == 1) & (planned["lag"] == 0) & (planned["extra"] == 0)
    target = np.concatenate((np.where(single, first_inv, -1), np.full(len(loose["day"]), -1)))
    order = np.lexsort((c, day))
    pay_ids = make_ids("PAY", len(day), 8)
    rank = _rank(order)
    payments = pd.DataFrame(
        {
            "payment_id": pay_ids,
            "customer_id": cust["id"][c[order]],
            "date": to_datetime(day[order]),
            "amount_cents": np.concatenate((planned["amount"], loose["amount"]))[order],
            "invoice_id": _nullable(inv_ids[np.maximum(target, 0)], target >= 0)[order],
            "method": _methods(ctx, cust, c[order]),
        }
    )
    a_rank = rank[allocs["pay"]]
    a_order = np.lexsort((allocs["inv"], a_rank))
    allocations = pd.DataFrame(
        {
            "payment_id": pay_ids[a_rank[a_order]],
            "invoice_id": inv_ids[allocs["inv"][a_order]],
            "amount_cents": allocs["amount"][a_order],
            "date": to_datetime(allocs["day"][a_order]),
        }
    )
    return payments, allocations


def _write_offs_frame(wos: Arrays, inv_ids: np.ndarray) -> pd.DataFrame:
    """write_offs rows, by date."""
    order = np.lexsort((wos["inv"], wos["day"]))
    return pd.DataFrame(
        {
            "invoice_id": inv_ids[wos["inv"][order]],
            "date": to_datetime(wos["day"][order]),
            "amount_cents": wos["amount"][order],
            "reason": wos["reason"][order],
        }
    )


def _promises_frame(prom: Arrays, inv_ids: np.ndarray) -> pd.DataFrame:
    """promises rows, by the day they were made."""
    order = np.lexsort((prom["inv"], prom["made"]))
    return pd.DataFrame(
        {
            "promise_id": make_ids("PRM", len(order), 7),
            "invoice_id": inv_ids[prom["inv"][order]],
            "made_on": to_datetime(prom["made"][order]),
            "promised_date": to_datetime(prom["promised"][order]),
            "amount_cents": prom["amount"][order],
        }
    )


def _disputes_frame(disp: Arrays, inv_ids: np.ndarray) -> pd.DataFrame:
    """disputes rows, by opening day."""
    order = np.lexsort((disp["inv"], disp["opened"]))
    return pd.DataFrame(
        {
            "dispute_id": make_ids("DSP", len(order), 6),
            "invoice_id": inv_ids[disp["inv"][order]],
            "opened_on": to_datetime(disp["opened"][order]),
            "amount_cents": disp["amount"][order],
            "resolved_on": to_datetime(disp["resolved"][order]),
            "status": disp["status"][order],
            "reason": disp["reason"][order],
        }
    )


def _commissions_frame(com: Arrays, inv: Arrays, reps: Arrays, inv_ids: np.ndarray) -> pd.DataFrame:
    """commissions rows, one per invoice."""
    return pd.DataFrame(
        {
            "commission_id": make_ids("COM", len(inv_ids), 8),
            "sales_rep_id": reps["id"][com["rep"]],
            "earned_date": to_datetime(inv["issue"]),
            "amount_cents": com["amount"],
            "invoice_id": inv_ids,
            "rate": com["rate"],
            "settled": com["settled"],
            "settlement_date": to_datetime(com["settlement"]),
        }
    )


def _activities_frame(act: Arrays, cust: Arrays, inv_ids: np.ndarray) -> pd.DataFrame:
    """activities rows, by date."""
    return pd.DataFrame(
        {
            "activity_id": make_ids("ACT", len(act["day"]), 8),
            "customer_id": cust["id"][act["cust"]],
            "date": to_datetime(act["day"]),
            "channel": act["channel"],
            "invoice_id": inv_ids[act["inv"]],
            "outcome": act["outcome"],
            "note": act["note"],
        }
    )


def _window(seed: int, today: dt.date) -> Ctx:
    """The random generator and the three-year window ending today."""
    end = to_day(today)
    return Ctx(rng=np.random.default_rng(seed), start=end - YEARS_OF_DATA * 365 + 1, today=end)


def generate_demo(
    customers: int,
    invoices: int,
    seed: int,
    today: dt.date,
    step: Step | None = None,
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES,
    base: str = "USD",
) -> dict[str, pd.DataFrame]:
    """The demo ledger: table name -> frame with the model's column names (money in int64 cents).

    About a fifth of the customers use one of the other `currencies` (see demo_currency)."""
    step = step or (lambda _name: None)
    ctx = _window(seed, today)
    step("customers")
    reps = make_reps(ctx, max(MIN_REPS, round(REP_SHARE * customers)))
    cust = make_customers(ctx, customers, reps)
    step("invoices")
    inv = make_invoices(ctx, invoices, cust)
    step("payments")
    plan = plan_settlement(ctx, inv, cust)
    pays = build_payments(ctx, inv, cust, plan["events"])
    wos = {k: v[plan["write_offs"]["day"] <= ctx.today] for k, v in plan["write_offs"].items()}
    apps = applications(inv, pays["allocations"], plan["credits"], wos)
    status = invoice_status(inv, apps)
    step("follow-up")
    disp = plan["disputes"]
    disputed = np.zeros(len(inv["amount"]), dtype=bool)
    disputed[disp["inv"][disp["status"] != "resolved"]] = True
    prom = make_promises(ctx, inv, status, apps)
    act = make_activities(ctx, inv, status, prom, disp)
    com = make_commissions(ctx, inv, cust, reps, disp)
    limit = credit_limits(ctx, inv, cust, status["open"])
    loose = _unapplied_credits(ctx, cust, len(inv["amount"]))
    step("frames")
    invoices_df, inv_ids = _invoices_frame(inv, cust, reps, plan["credits"], loose, disputed)
    payments_df, allocations_df = _payment_tables(ctx, cust, pays, inv_ids)
    frames = {
        "sales_reps": _reps_frame(reps),
        "customers": _customers_frame(cust, reps, limit),
        "invoices": invoices_df,
        "payments": payments_df,
        "allocations": allocations_df,
        "write_offs": _write_offs_frame(wos, inv_ids),
        "promises": _promises_frame(prom, inv_ids),
        "disputes": _disputes_frame(disp, inv_ids),
        "commissions": _commissions_frame(com, inv, reps, inv_ids),
        "activities": _activities_frame(act, cust, inv_ids),
    }
    add_currencies(frames, seed, ctx.start - RATE_LEAD_DAYS, ctx.today, base, currencies)
    return frames
