"""Demo sales reps, customers and invoices, generated column-wise with numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dashboard.data.demo_calendar import day_weights, due_dates, sample_days
from dashboard.data.demo_names import company_names, person_names

Arrays = dict[str, np.ndarray]

SEGMENTS = ("Enterprise", "Mid-Market", "SMB", "Public Sector")
SEGMENT_SHARE = (0.12, 0.25, 0.52, 0.11)
REGIONS = ("North", "South", "East", "West", "International")
REGION_SHARE = (0.22, 0.21, 0.20, 0.22, 0.15)
TIERS = ("Bronze", "Silver", "Gold", "Platinum")
TIER_CUTS = (0.40, 0.75, 0.93)  # quantiles of expected revenue between tiers
TERMS = np.array([7, 14, 15, 21, 30, 45, 60])
TERMS_SHARE = np.array(  # rows: segments
    [
        [0.03, 0.07, 0.05, 0.05, 0.40, 0.22, 0.18],
        [0.10, 0.12, 0.07, 0.06, 0.40, 0.15, 0.10],
        [0.18, 0.16, 0.06, 0.05, 0.40, 0.10, 0.05],
        [0.02, 0.06, 0.05, 0.05, 0.42, 0.25, 0.15],
    ]
)
EOM_SHARE = np.array([0.30, 0.20, 0.15, 0.25])
INVOICE_FREQ = np.array([4.0, 2.0, 1.0, 1.5])  # relative invoices per customer
MEDIAN_INVOICE_CENTS = np.array([15_000_00, 4_500_00, 900_00, 7_000_00])
BEHAVIOURS = ("prompt", "slow", "late", "partial")
BEHAVIOUR_SHARE = np.array(
    [
        [0.51, 0.37, 0.07, 0.05],
        [0.56, 0.30, 0.09, 0.05],
        [0.51, 0.28, 0.14, 0.07],
        [0.39, 0.46, 0.10, 0.05],
    ]
)
BATCH_SHARE = np.array([0.60, 0.40, 0.15, 0.50])  # pay on a weekly payment run
METHODS = ("ACH", "Wire", "Check", "Card")
METHOD_SHARE = np.array(
    [
        [0.45, 0.40, 0.12, 0.03],
        [0.50, 0.20, 0.22, 0.08],
        [0.40, 0.05, 0.30, 0.25],
        [0.45, 0.25, 0.30, 0.00],
    ]
)
GROUPS = ("Premium Sales", "Retail Sales", "Public Sector", "Channel")
GROUP_SHARE = np.array([0.25, 0.35, 0.15, 0.25])
GROUP_RATE = np.array([0.05, 0.03, 0.02, 0.08])  # commission rate by sales group
SEGMENT_GROUPS = np.array([[1.0, 0, 0, 0], [0.4, 0.3, 0, 0.3], [0, 0.6, 0, 0.4], [0, 0, 1.0, 0]])
NEW_CUSTOMER_SHARE = 0.35  # created inside the three-year window
MIN_INVOICE_CENTS = 25_00


@dataclass
class Ctx:
    """Random generator and the date window (day numbers) shared by every stage."""

    rng: np.random.Generator
    start: int
    today: int

    @property
    def span(self) -> int:
        """Days in the window, today included."""
        return self.today - self.start + 1


def make_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """prefix + zero-padded 1..n, e.g. INV0000001 (widened if n needs more digits)."""
    width = max(width, len(str(n)))
    nums = np.arange(1, n + 1, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((nums[:, None] // powers) % 10 + 48).astype(np.uint8)
    pre = np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, len(prefix)))
    buf = np.ascontiguousarray(np.hstack([pre, digits]))
    size = len(prefix) + width
    return buf.view(f"S{size}").ravel().astype(f"U{size}")


def choose_rows(rng: np.random.Generator, probs: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """One category per row from a (rows, categories) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    chosen: npt.NDArray[np.intp] = (rng.random(len(probs))[:, None] > cum).sum(axis=1)
    return chosen


def choose(rng: np.random.Generator, n: int, probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """n categories from one probability vector."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def make_reps(ctx: Ctx, n: int) -> Arrays:
    """Sales reps in four groups; the first rep of each group manages the rest."""
    sizes = np.maximum(1, np.floor(GROUP_SHARE * n)).astype(int)
    sizes[1] += n - sizes.sum()
    group = np.repeat(np.arange(len(GROUPS)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    manager = starts[group]
    ids = make_ids("R", n, 4)
    names, emails = person_names(ctx.rng, n)
    is_manager = np.arange(n) == manager
    manager_id = np.where(is_manager, np.array(None, dtype=object), ids[manager].astype(object))
    return {"id": ids, "name": names, "email": emails, "group": group, "manager_id": manager_id}


def _rep_for(ctx: Ctx, segment: np.ndarray, rep_group: np.ndarray) -> npt.NDArray[np.int64]:
    """A rep from a group that sells to each customer's segment."""
    group = choose_rows(ctx.rng, SEGMENT_GROUPS[segment])
    counts = np.bincount(rep_group, minlength=len(GROUPS))
    starts: npt.NDArray[np.int64] = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return starts[group] + (ctx.rng.random(len(segment)) * counts[group]).astype(np.int64)


def _tiers(revenue: np.ndarray) -> np.ndarray:
    """Tier by the quantile of expected revenue."""
    rank = np.argsort(np.argsort(revenue, kind="stable"), kind="stable") / max(len(revenue), 1)
    return np.searchsorted(np.asarray(TIER_CUTS), rank, side="right")


def make_customers(ctx: Ctx, n: int, reps: Arrays) -> Arrays:
    """Customers with attributes, payment behaviour and size."""
    rng = ctx.rng
    segment = choose(rng, n, SEGMENT_SHARE)
    freq = INVOICE_FREQ[segment] * rng.lognormal(0.0, 0.6, n)
    typical = MEDIAN_INVOICE_CENTS[segment] * rng.lognormal(0.0, 0.5, n)
    fresh = rng.random(n) < NEW_CUSTOMER_SHARE
    created = np.where(
        fresh, ctx.start + rng.integers(0, ctx.span, n), ctx.start - rng.integers(30, 3000, n)
    )
    return {
        "id": make_ids("C", n, 6),
        "name": company_names(rng, n, segment == SEGMENTS.index("Public Sector")),
        "segment": segment,
        "region": choose(rng, n, REGION_SHARE),
        "tier": _tiers(freq * typical * rng.lognormal(0.0, 0.3, n)),
        "terms": TERMS[choose_rows(rng, TERMS_SHARE[segment])],
        "eom": rng.random(n) < EOM_SHARE[segment],
        "behaviour": choose_rows(rng, BEHAVIOUR_SHARE[segment]),
        "lateness": rng.lognormal(0.0, 0.3, n),
        "batch": rng.random(n) < BATCH_SHARE[segment],
        "run_day": rng.choice(np.array([1, 3, 4]), size=n),  # Tuesday, Thursday, Friday
        "method": choose_rows(rng, METHOD_SHARE[segment]),
        "created": created,
        "rep": _rep_for(ctx, segment, reps["group"]),
        "freq": freq,
        "typical": typical,
        "margin": rng.uniform(0.18, 0.42, n),
    }


def _invoice_customers(ctx: Ctx, n: int, cust: Arrays) -> np.ndarray:
    """Each customer buys at least once (when n allows); the rest by size and active time."""
    nc = len(cust["id"])
    first = ctx.rng.permutation(nc)[: min(n, nc)]
    active = (ctx.today - np.maximum(cust["created"], ctx.start) + 1) / ctx.span
    weight = cust["freq"] * active
    rest = ctx.rng.choice(nc, size=n - len(first), p=weight / weight.sum())
    return np.concatenate((first, rest))


def make_invoices(ctx: Ctx, n: int, cust: Arrays) -> Arrays:
    """Positive invoices sorted by issue date, with terms-based due dates, amounts and costs."""
    rng = ctx.rng
    c = _invoice_customers(ctx, n, cust)
    low = np.maximum(cust["created"][c] - ctx.start, 0)
    issue = ctx.start + sample_days(rng, day_weights(ctx.start, ctx.today), low)
    order = np.lexsort((c, issue))
    c, issue = c[order], issue[order]
    amount = np.maximum(np.rint(cust["typical"][c] * rng.lognormal(0.0, 0.7, n)), MIN_INVOICE_CENTS)
    margin = np.clip(cust["margin"][c] + rng.normal(0.0, 0.03, n), 0.15, 0.45)
    return {
        "cust": c,
        "issue": issue,
        "due": due_dates(issue, cust["terms"][c], cust["eom"][c]),
        "amount": amount.astype(np.int64),
        "cost": np.rint(amount * (1.0 - margin)).astype(np.int64),
    }
