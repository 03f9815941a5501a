"""What follows from the settled ledger: promises, collection activities, commissions, limits."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dashboard.data.demo_calendar import NO_DAY, next_month_start, to_business_day
from dashboard.data.demo_entities import GROUP_RATE, Arrays, Ctx, choose

KIND_PAYMENT, KIND_CREDIT, KIND_WRITE_OFF = 0, 1, 2
PROMISE_LATE_SHARE = 0.15  # of invoices paid 10+ days late
PROMISE_KEPT_SHARE = 0.80
PROMISE_OPEN_SHARE = 0.25  # of invoices still open 10+ days after due
COMMISSION_SETTLE_DAY = 14  # settled on the 15th of the month after the sale
NO_LIMIT_SHARE = 0.15
OVER_LIMIT_SHARE = 0.10
LIMIT_STEP_CENTS = 1_000_00
# Dunning steps: days after due (low, high), channel, outcomes and their shares.
DUNNING = (
    (3, 10, "email", ("reminder sent", "no response", "replied"), (0.6, 0.3, 0.1)),
    (
        15,
        25,
        "call",
        ("left voicemail", "no answer", "will pay soon", "call back requested"),
        (0.35, 0.25, 0.3, 0.1),
    ),
    (35, 50, "letter", ("dunning letter sent",), (1.0,)),
    (60, 80, "call", ("escalated to manager", "no answer", "will pay soon"), (0.4, 0.3, 0.3)),
    (95, 120, "letter", ("final notice sent",), (1.0,)),
)
DUNNING_SHARE = 0.8


def applications(inv: Arrays, allocs: Arrays, credits: Arrays, write_offs: Arrays) -> Arrays:
    """Every amount applied to a positive invoice up to today, sorted by (invoice, day)."""
    parts = [
        (allocs["inv"], allocs["eff_day"], allocs["amount"], KIND_PAYMENT),
        (credits["inv"], credits["day"], credits["amount"], KIND_CREDIT),
        (write_offs["inv"], write_offs["day"], write_offs["amount"], KIND_WRITE_OFF),
    ]
    out = {
        "inv": np.concatenate([p[0] for p in parts]),
        "day": np.concatenate([p[1] for p in parts]),
        "amount": np.concatenate([p[2] for p in parts]),
        "kind": np.concatenate([np.full(len(p[0]), p[3]) for p in parts]),
    }
    order = np.lexsort((out["kind"], out["day"], out["inv"]))
    return {k: v[order] for k, v in out.items()}


def invoice_status(inv: Arrays, apps: Arrays) -> Arrays:
    """Open balance today, settlement day and how the last application was made."""
    n = len(inv["amount"])
    applied = np.bincount(apps["inv"], weights=apps["amount"], minlength=n).round().astype(np.int64)
    last = (
        np.flatnonzero(np.r_[apps["inv"][1:] != apps["inv"][:-1], True])
        if len(apps["inv"])
        else np.array([], int)
    )
    last_day = np.full(n, NO_DAY)
    last_kind = np.full(n, -1)
    last_day[apps["inv"][last]] = apps["day"][last]
    last_kind[apps["inv"][last]] = apps["kind"][last]
    open_ = inv["amount"] - applied
    settled = open_ == 0
    return {
        "open": open_,
        "settle": np.where(settled, last_day, NO_DAY),
        "kind": np.where(settled, last_kind, -1),
    }


def _applied_by(
    apps: Arrays, n: int, inv: np.ndarray, day: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Sum applied to each invoice on or before each day (cents)."""
    keys = apps["inv"].astype(np.int64) * 1_000_000 + apps["day"]
    cum: npt.NDArray[np.int64] = np.concatenate(([0], np.cumsum(apps["amount"])))
    upto = np.searchsorted(keys, inv.astype(np.int64) * 1_000_000 + day, side="right")
    start = np.searchsorted(keys, inv.astype(np.int64) * 1_000_000 - 500_000, side="left")
    return cum[upto] - cum[start]


def make_promises(ctx: Ctx, inv: Arrays, status: Arrays, apps: Arrays) -> Arrays:
    """Promises to pay: kept, broken (paid later or never) and still pending."""
    rng, n, due = ctx.rng, len(inv["amount"]), inv["due"]
    paid = status["kind"] == KIND_PAYMENT
    settle = np.where(paid, status["settle"], due)
    late = paid & (settle - due >= 10) & (rng.random(n) < PROMISE_LATE_SHARE)
    kept = late & ((rng.random(n) < PROMISE_KEPT_SHARE) | (settle - due < 12))
    broken = late & ~kept
    still_open = (
        (status["open"] > 0) & (due <= ctx.today - 10) & (rng.random(n) < PROMISE_OPEN_SHARE)
    )
    u = rng.random(n)
    made = np.select(
        [kept, broken, still_open],
        [
            due + 1 + (u * (settle - due - 1)).astype(np.int64),
            due + 1 + (u * (settle - due - 10)).astype(np.int64),
            due + 1 + (u * (ctx.today - due)).astype(np.int64),
        ],
        NO_DAY,
    )
    promised = np.select(
        [kept, broken | still_open],
        [settle + rng.integers(0, 4, n), made + rng.integers(3, 9, n)],
        NO_DAY,
    )
    promised = np.where(still_open, made + rng.integers(3, 22, n), promised)
    idx = np.flatnonzero(kept | broken | still_open)
    amount = inv["amount"][idx] - _applied_by(apps, n, idx, made[idx])
    return {"inv": idx, "made": made[idx], "promised": promised[idx], "amount": amount}


def _dunning(ctx: Ctx, inv: Arrays, status: Arrays) -> list[Arrays]:
    """Reminders, calls and letters on overdue invoices until they are settled."""
    rng, n = ctx.rng, len(inv["amount"])
    end = np.where(status["settle"] == NO_DAY, ctx.today + 1, status["settle"])
    out = []
    for low, high, channel, outcomes, shares in DUNNING:
        day = to_business_day(inv["due"] + rng.integers(low, high + 1, n))
        idx = np.flatnonzero((day < end) & (day <= ctx.today) & (rng.random(n) < DUNNING_SHARE))
        outcome = np.asarray(outcomes)[choose(rng, len(idx), shares)]
        out.append(
            {
                "inv": idx,
                "day": day[idx],
                "channel": np.full(len(idx), channel),
                "outcome": outcome,
                "note": np.full(len(idx), None, dtype=object),
            }
        )
    return out


def _iso(days: np.ndarray) -> np.ndarray:
    """Day numbers as ISO date strings."""
    return np.datetime_as_string(days.astype("datetime64[D]"))


def _activity(
    inv: np.ndarray, day: np.ndarray, channel: str, outcome: str, note: np.ndarray | None = None
) -> Arrays:
    """A batch of activities of one kind."""
    m = len(inv)
    return {
        "inv": inv,
        "day": day,
        "channel": np.full(m, channel),
        "outcome": np.full(m, outcome),
        "note": np.full(m, None, dtype=object) if note is None else note.astype(object),
    }


def make_activities(
    ctx: Ctx, inv: Arrays, status: Arrays, promises: Arrays, disputes: Arrays
) -> Arrays:
    """Collection activities: dunning steps, promise calls, dispute e-mails and legal letters."""
    d_inv, opened, resolved = disputes["inv"], disputes["opened"], disputes["resolved"]
    done = resolved != NO_DAY
    legal_day = opened + 30
    legal = (disputes["status"] == "litigation") & (legal_day <= ctx.today)
    parts = _dunning(ctx, inv, status) + [
        _activity(
            promises["inv"],
            promises["made"],
            "call",
            "promise to pay",
            np.char.add("Promised payment by ", _iso(promises["promised"])),
        ),
        _activity(
            d_inv, opened, "email", "dispute raised", np.char.add("Dispute: ", disputes["reason"])
        ),
        _activity(d_inv[done], resolved[done], "call", "dispute resolved"),
        _activity(d_inv[legal], legal_day[legal], "letter", "referred to legal"),
    ]
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out["cust"] = inv["cust"][out["inv"]]
    order = np.lexsort((out["inv"], out["cust"], out["day"]))
    return {k: v[order] for k, v in out.items()}


def make_commissions(ctx: Ctx, inv: Arrays, cust: Arrays, reps: Arrays, disputes: Arrays) -> Arrays:
    """Per invoice: group rate x amount, earned on issue, settled monthly unless disputed."""
    rep = cust["rep"][inv["cust"]]
    rate = GROUP_RATE[reps["group"][rep]]
    settle = next_month_start(inv["issue"]) + COMMISSION_SETTLE_DAY
    held = np.zeros(len(rep), dtype=bool)
    held[disputes["inv"][disputes["status"] != "resolved"]] = True
    settled = (settle <= ctx.today) & ~held
    return {
        "rep": rep,
        "rate": rate,
        "amount": np.maximum(np.rint(inv["amount"] * rate), 1).astype(np.int64),
        "settled": settled,
        "settlement": np.where(settled, settle, NO_DAY),
    }


def credit_limits(ctx: Ctx, inv: Arrays, cust: Arrays, open_: np.ndarray) -> np.ndarray:
    """Credit limits in cents (-1 = none): 2-5 months of sales with headroom; a few below the balance."""
    rng, nc = ctx.rng, len(cust["id"])
    recent = inv["issue"] > ctx.today - 365
    monthly = np.bincount(inv["cust"][recent], weights=inv["amount"][recent], minlength=nc) / 12
    balance = np.bincount(inv["cust"], weights=open_, minlength=nc)
    wanted = np.maximum(monthly * rng.uniform(2.0, 5.0, nc), balance * rng.uniform(1.02, 2.0, nc))
    limit = np.maximum(np.ceil(wanted / LIMIT_STEP_CENTS) * LIMIT_STEP_CENTS, 5 * LIMIT_STEP_CENTS)
    over = (balance >= 2 * LIMIT_STEP_CENTS) & (rng.random(nc) < OVER_LIMIT_SHARE)
    squeezed = np.floor(balance * rng.uniform(0.55, 0.9, nc) / LIMIT_STEP_CENTS) * LIMIT_STEP_CENTS
    limit = np.where(over, np.maximum(squeezed, LIMIT_STEP_CENTS), limit)
    return np.where(rng.random(nc) < NO_LIMIT_SHARE, -1, limit).astype(np.int64)
