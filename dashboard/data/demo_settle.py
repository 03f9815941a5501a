"""How each demo invoice gets settled: payments, credit notes, disputes and write-offs.

Every invoice's amount is split into planned applications (credit note, payment events, write-off)
that add up to at most its amount; whatever is dated after today has simply not happened yet.
"""

from __future__ import annotations

import numpy as np

from dashboard.data.demo_calendar import (
    NO_DAY,
    next_month_start,
    next_weekday,
    to_business_day,
)
from dashboard.data.demo_entities import Arrays, Ctx, choose_rows

NORMAL, SHORT, INSTALMENTS, BAD, DISPUTE = range(5)
FATE_SHARE = np.array(  # rows: behaviours prompt, slow, late, partial; first column = the rest
    [
        [0.0, 0.05, 0.01, 0.0005, 0.010],
        [0.0, 0.07, 0.02, 0.0020, 0.015],
        [0.0, 0.09, 0.04, 0.0300, 0.030],
        [0.0, 0.10, 0.30, 0.4000, 0.035],
    ]
)
FATE_SHARE[:, 0] = 1.0 - FATE_SHARE[:, 1:].sum(axis=1)
DELAY_SHIFT = np.array([-3.0, 0.0, 5.0, 0.0])  # days after due, by behaviour
DELAY_SHAPE = np.array([1.5, 2.0, 2.0, 2.0])
DELAY_SCALE = np.array([2.0, 5.0, 20.0, 7.0])
CREDIT_NOTE_SHARE = 0.022
LITIGATION_SHARE = 0.07
# Collections policy: what will not be paid is written off at a month close, never later than
# WRITE_OFF_AFTER_DAYS past due: bad debts 5-11 months past due, litigated amounts 8-11 months,
# short-pay deductions 1-3 months after the payment that left them.
WRITE_OFF_AFTER_DAYS = 365
BAD_WRITE_OFF_DAYS = (150, 335)
LITIGATION_WRITE_OFF_DAYS = (240, 330)
SHORT_WRITE_OFF_DAYS = (20, 75)
LAG_SHARE = 0.04  # payments applied some days after receipt
OVERPAY_SHARE = 0.01
ON_ACCOUNT_SHARE = 0.004  # extra payments with no invoice at all
DISPUTE_REASONS = np.array(
    [
        "Pricing discrepancy",
        "Goods damaged",
        "Quantity short",
        "Service not delivered",
        "Duplicate billing",
    ]
)
BAD_DEBT_REASONS = np.array(["Uncollectible", "Customer insolvent", "Bankruptcy"])


def _events(inv: np.ndarray, day: np.ndarray, amount: np.ndarray) -> Arrays:
    """A batch of planned applications."""
    return {"inv": inv, "day": day, "amount": amount.astype(np.int64)}


def _concat(parts: list[Arrays]) -> Arrays:
    """Concatenate event batches column-wise."""
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _positive(batch: Arrays) -> Arrays:
    """The rows of a batch with a positive amount."""
    keep = batch["amount"] > 0
    return {k: v[keep] for k, v in batch.items()}


def _base_days(ctx: Ctx, inv: Arrays, cust: Arrays) -> np.ndarray:
    """The day each invoice would be paid, from its customer's behaviour."""
    c = inv["cust"]
    beh = cust["behaviour"][c]
    gamma = ctx.rng.gamma(DELAY_SHAPE[beh], DELAY_SCALE[beh]) * cust["lateness"][c]
    delay = np.rint(DELAY_SHIFT[beh] + gamma).astype(np.int64)
    return np.maximum(inv["due"] + delay, inv["issue"])


def _uniform_int(ctx: Ctx, low: int, high: int, n: int) -> np.ndarray:
    """Integers in [low, high]."""
    return ctx.rng.integers(low, high + 1, n)


def _disputes(
    ctx: Ctx, inv: Arrays, idx: np.ndarray, opened: np.ndarray, base: np.ndarray
) -> tuple[Arrays, list[Arrays], Arrays]:
    """Disputes on idx: the dispute rows, payment events and credit notes they lead to."""
    rng, m = ctx.rng, len(idx)
    amount = inv["amount"][idx]
    disputed = np.where(
        rng.random(m) < 0.4, amount, np.rint(amount * rng.uniform(0.1, 0.6, m))
    ).astype(np.int64)
    disputed = np.clip(disputed, 1, amount)
    resolved = opened + 5 + np.rint(rng.gamma(2.0, 20.0, m)).astype(np.int64)
    status = np.where(
        rng.random(m) < LITIGATION_SHARE,
        "litigation",
        np.where(resolved <= ctx.today, "resolved", "open"),
    )
    done = status == "resolved"
    credited = done & (rng.random(m) < 0.5)
    credit = np.where(credited, np.rint(disputed * rng.uniform(0.5, 1.0, m)), 0).astype(np.int64)
    paid_later = resolved + _uniform_int(ctx, 2, 20, m)
    events = [
        _events(idx, base[idx], amount - disputed),
        _events(idx[done], paid_later[done], (disputed - credit)[done]),
    ]
    rows = {
        "inv": idx,
        "opened": opened,
        "amount": disputed,
        "resolved": np.where(done, resolved, NO_DAY),
        "status": status,
        "reason": DISPUTE_REASONS[rng.integers(0, len(DISPUTE_REASONS), m)],
    }
    return rows, events, _events(idx[credited], resolved[credited], credit[credited])


def _credit_notes(ctx: Ctx, inv: Arrays, eligible: np.ndarray) -> Arrays:
    """Returns and price adjustments: credit notes applied to some invoices."""
    rng, n = ctx.rng, len(eligible)
    day = inv["issue"] + _uniform_int(ctx, 1, 45, n)
    pick = eligible & (rng.random(n) < CREDIT_NOTE_SHARE) & (day <= ctx.today)
    frac = np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0.05, 0.4, n))
    amount = np.clip(np.rint(inv["amount"] * frac), 1, inv["amount"]).astype(np.int64)
    idx = np.flatnonzero(pick)
    return _events(idx, day[idx], amount[idx])


def _instalments(ctx: Ctx, idx: np.ndarray, base: np.ndarray, rest: np.ndarray) -> Arrays:
    """Two or three payments 2-6 weeks apart that add up to rest."""
    rng, m = ctx.rng, len(idx)
    weights = rng.random((m, 3)) + 0.5
    weights[rng.random(m) < 0.5, 2] = 0.0
    parts = np.floor(rest[:, None] * weights / weights.sum(axis=1, keepdims=True)).astype(np.int64)
    parts[:, 0] += rest - parts.sum(axis=1)
    gaps = np.cumsum(rng.integers(14, 41, (m, 2)), axis=1)
    days = base[idx][:, None] + np.hstack([np.zeros((m, 1), dtype=np.int64), gaps])
    return _events(np.repeat(idx, 3), days.ravel(), parts.ravel())


def _month_end(days: np.ndarray) -> np.ndarray:
    """The last day of each day's month (write-offs are booked at month close)."""
    return next_month_start(days) - 1


def _short_pays(
    ctx: Ctx, inv: Arrays, idx: np.ndarray, base: np.ndarray, rest: np.ndarray
) -> tuple[Arrays, Arrays]:
    """Customers pay 92-99 % and leave a deduction, often written off months later."""
    rng, m = ctx.rng, len(idx)
    short = np.clip(np.rint(rest * rng.uniform(0.01, 0.08, m)), 1, np.maximum(rest - 1, 1)).astype(
        np.int64
    )
    short = np.where(rest >= 2, short, 0)
    wo_day = _month_end(base[idx] + _uniform_int(ctx, *SHORT_WRITE_OFF_DAYS, m))
    wo = short > 0
    write_offs = _events(idx[wo], wo_day[wo], short[wo])
    write_offs["reason"] = np.full(int(wo.sum()), "Small balance")
    return _events(idx, base[idx], rest - short), write_offs


def _bad_debts(ctx: Ctx, inv: Arrays, idx: np.ndarray, rest: np.ndarray) -> tuple[Arrays, Arrays]:
    """Invoices that are never paid in full: what is left is written off 5-11 months past due."""
    rng, m = ctx.rng, len(idx)
    due = inv["due"][idx]
    partial = np.where(rng.random(m) < 0.3, np.rint(rest * rng.uniform(0.1, 0.5, m)), 0).astype(
        np.int64
    )
    wo_day = _month_end(due + _uniform_int(ctx, *BAD_WRITE_OFF_DAYS, m))
    write_offs = _events(idx, wo_day, rest - partial)
    write_offs["reason"] = BAD_DEBT_REASONS[rng.integers(0, len(BAD_DEBT_REASONS), m)]
    return _events(idx, due + _uniform_int(ctx, 10, 60, m), partial), write_offs


def _litigation_write_offs(ctx: Ctx, inv: Arrays, disputes: Arrays) -> Arrays:
    """Amounts in litigation are never paid: written off 8-11 months past due (legal costs exceed them)."""
    lit = np.flatnonzero(disputes["status"] == "litigation")
    idx = disputes["inv"][lit]
    day = _month_end(inv["due"][idx] + _uniform_int(ctx, *LITIGATION_WRITE_OFF_DAYS, len(lit)))
    out = _events(idx, day, disputes["amount"][lit])
    out["reason"] = np.full(len(lit), "Litigation")
    return out


def plan_settlement(ctx: Ctx, inv: Arrays, cust: Arrays) -> dict[str, Arrays]:
    """Planned payment events, applied credit notes, write-offs and disputes per invoice."""
    base = _base_days(ctx, inv, cust)
    fate = choose_rows(ctx.rng, FATE_SHARE[cust["behaviour"][inv["cust"]]])
    opened = inv["issue"] + _uniform_int(ctx, 3, 40, len(fate))
    fate[(fate == DISPUTE) & (opened > ctx.today)] = NORMAL  # not raised yet
    idx = np.flatnonzero(fate == DISPUTE)
    disputes, dispute_events, dispute_credits = _disputes(ctx, inv, idx, opened[idx], base)
    credits = _credit_notes(ctx, inv, fate != DISPUTE)
    rest = inv["amount"].copy()
    rest[credits["inv"]] -= credits["amount"]
    normal, short, inst, bad = (
        np.flatnonzero(fate == f) for f in (NORMAL, SHORT, INSTALMENTS, BAD)
    )
    short_events, short_wo = _short_pays(ctx, inv, short, base, rest[short])
    bad_events, bad_wo = _bad_debts(ctx, inv, bad, rest[bad])
    events = _concat(
        [
            _events(normal, base[normal], rest[normal]),
            short_events,
            _instalments(ctx, inst, base, rest[inst]),
            bad_events,
        ]
        + dispute_events
    )
    write_offs = _concat([short_wo, bad_wo, _litigation_write_offs(ctx, inv, disputes)])
    return {
        "events": _positive(events),
        "credits": _concat([credits, dispute_credits]),
        "write_offs": _positive(write_offs),  # nothing left to write off after a full credit
        "disputes": disputes,
    }


def _payment_days(ctx: Ctx, cust: Arrays, c: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Batch payers pay on their weekly run day; others on the next business day."""
    return np.where(cust["batch"][c], next_weekday(day, cust["run_day"][c]), to_business_day(day))


def _group_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique keys, the group of each row and the sum of values per key."""
    uniq, group = np.unique(keys, return_inverse=True)
    return (
        uniq,
        group,
        np.bincount(group, weights=values, minlength=len(uniq)).round().astype(np.int64),
    )


def build_payments(ctx: Ctx, inv: Arrays, cust: Arrays, events: Arrays) -> dict[str, Arrays]:
    """Group payment events into payments (one per customer and day) and their allocations."""
    rng = ctx.rng
    c = inv["cust"][events["inv"]]
    day = _payment_days(ctx, cust, c, events["day"])
    ok = day <= ctx.today
    c, day, ev_inv, ev_amt = c[ok], day[ok], events["inv"][ok], events["amount"][ok]
    pay_keys, pay_of_event, _ = _group_sum(c * 100_000 + day, ev_amt)
    n_pay = len(pay_keys)
    pay_cust, pay_day = pay_keys // 100_000, pay_keys % 100_000
    alloc_keys, _, alloc_amt = _group_sum(
        pay_of_event.astype(np.int64) * len(inv["amount"]) + ev_inv, ev_amt
    )
    a_pay, a_inv = alloc_keys // len(inv["amount"]), alloc_keys % len(inv["amount"])
    allocated = np.bincount(a_pay, weights=alloc_amt, minlength=n_pay).round().astype(np.int64)
    lag = np.where(rng.random(n_pay) < LAG_SHARE, rng.integers(1, 11, n_pay), 0)
    a_day = pay_day[a_pay] + lag[a_pay]
    applied = a_day <= ctx.today
    extra = np.where(
        rng.random(n_pay) < OVERPAY_SHARE, np.rint(allocated * rng.uniform(0.01, 0.05, n_pay)), 0
    )
    return {
        "payments": {
            "cust": pay_cust,
            "day": pay_day,
            "amount": allocated + extra.astype(np.int64),
            "lag": lag,
            "extra": extra,
        },
        "allocations": {
            "pay": a_pay[applied],
            "inv": a_inv[applied],
            "amount": alloc_amt[applied],
            "day": np.where(lag[a_pay] > 0, a_day, NO_DAY)[applied],
            "eff_day": a_day[applied],
        },
    }


def on_account_payments(ctx: Ctx, cust: Arrays, n_payments: int) -> Arrays:
    """A few recent payments received without any invoice reference (unapplied cash)."""
    rng = ctx.rng
    m = round(ON_ACCOUNT_SHARE * n_payments)
    nc = len(cust["id"])
    c = rng.choice(nc, size=m, p=cust["freq"] / cust["freq"].sum())
    back = np.minimum(rng.exponential(45.0, m).astype(np.int64), ctx.span - 1)
    day = np.maximum(ctx.today - back, np.maximum(cust["created"][c], ctx.start))
    day = day - np.maximum(0, (day + 3) % 7 - 4)  # weekend -> Friday
    day = np.maximum(day, ctx.start)
    amount = np.rint(cust["typical"][c] * rng.uniform(0.2, 1.0, m)).astype(np.int64)
    return {"cust": c, "day": day, "amount": np.maximum(amount, 1)}
