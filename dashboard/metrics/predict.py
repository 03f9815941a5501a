"""Per-invoice payment prediction: features known at D, the model, and its baselines.

The model is scikit-learn's HistGradientBoostingClassifier (multi-class, log loss) over when an
invoice open at D is settled: within 7, 14, 21, 30, 45, 60, 90 or 180 days after D, or later (or
never). Its class probabilities add up to a distribution of the settlement day, from which come
p_paid_7/30/90 (cumulative, so always p7 <= p30 <= p90) and the expected date with a range (the
median and the 10th/90th percentiles, linear within a class).

Training rows are the invoices open at past dates T (every 14 days, one year of dates), each
described by data dated on or before T only and labelled with its settlement after T; only dates
whose 180-day outcome is known at the cutoff are used, so a model with cutoff C reads nothing dated
after C. Trained models are stored by dashboard.predict_jobs (never in a web request).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from dashboard.config import get_settings
from dashboard.metrics.behaviour import (
    DISPUTE_NONE,
    dispute_state,
    latest_promises,
    payment_delay,
    promise_arrays,
)
from dashboard.metrics.ledger import OpenItems, open_items, select
from dashboard.metrics.snapshot import NO_DATE, Snapshot, sum_by, to_day

SEED = 19
MODEL_FORMAT = 1
# class k: settled in (EDGES[k-1], EDGES[k]] days
EDGES = np.array([7, 14, 21, 30, 45, 60, 90, 180], dtype=np.int64)
N_CLASSES = len(EDGES) + 1  # the last: not settled within 180 days
HORIZON = int(EDGES[-1])
P_INDEX = {7: 0, 30: 3, 90: 6}  # p_paid_h = cumulative probability up to EDGES[index]
TRAIN_STEP_DAYS = 14
TRAIN_DATES = 27
MAX_TRAIN_ROWS = 150_000
MIN_TRAIN_ROWS = 60
QUANTILES = (0.1, 0.5, 0.9)
FEATURES = (
    "age_days",
    "days_past_due",
    "terms_days",
    "log_amount",
    "log_balance",
    "paid_share",
    "dispute",
    "promise_days",
    "promise_broken",
    "cust_delay",
    "cust_settled_12m",
    "cust_late30_share",
    "cust_open_invoices",
    "cust_share_90_plus",
    "cust_share_overdue",
    "month",
    "due_month",
    "segment",
    "tier",
)
CATEGORICAL = ("segment", "tier")
MAX_CATEGORIES = 250


@dataclass
class Predictions:
    """Every invoice open at `day` (positions `inv`) with its predicted settlement distribution."""

    day: int
    inv: np.ndarray
    balance: np.ndarray
    cust: np.ndarray
    cdf: np.ndarray  # (n, len(EDGES)): P(settled within EDGES[k] days after day)
    expected: np.ndarray  # day numbers; NO_DATE = not expected within HORIZON days
    low: np.ndarray
    high: np.ndarray
    source: str  # "model" or the baseline's name
    extra: dict[str, Any] = field(default_factory=dict[str, Any])

    def p(self, days: int) -> np.ndarray:
        """P(settled within days after day) for days in 7, 30, 90 (or any edge)."""
        k = P_INDEX.get(days)
        if k is None:
            k = int(np.flatnonzero(EDGES == days)[0])
        return self.cdf[:, k]

    def subset(self, keep: np.ndarray) -> Predictions:
        """The rows where keep is True."""
        return Predictions(
            self.day,
            self.inv[keep],
            self.balance[keep],
            self.cust[keep],
            self.cdf[keep],
            self.expected[keep],
            self.low[keep],
            self.high[keep],
            self.source,
            {k: v[keep] for k, v in self.extra.items()},
        )


# ---- features ------------------------------------------------------------------------------------


def category_codes(snap: Snapshot, column: np.ndarray) -> np.ndarray:
    """Per customer: a small integer code of a text attribute (NaN beyond MAX_CATEGORIES or blank)."""
    values, codes = np.unique(column.astype(str), return_inverse=True)
    out = codes.astype(np.float64)
    out[(codes >= MAX_CATEGORIES) | (values[codes] == "")] = np.nan
    return out


def customer_history(
    snap: Snapshot, day: int, items: OpenItems, book: OpenItems | None = None
) -> dict[str, np.ndarray]:
    """Per invoice of items, its customer's figures from data dated on or before day: payment
    delay, settled count, share settled 30+ days late, and the shape of the open book (book: every
    open invoice of the customers, when items are only some: then only those customers' part of
    it is summed)."""
    delay = payment_delay(snap, np.ones(snap.n_customers, dtype=bool), day)
    count = delay["customer_count"][items.cust]
    with np.errstate(divide="ignore", invalid="ignore"):
        late_share = np.where(
            count > 0, delay["customer_late30"][items.cust] / np.maximum(count, 1), np.nan
        )
    if book is None:  # every customer's book: sums by customer position
        book, size, mine = items, snap.n_customers, items.cust
        codes, inv, balance = items.cust, items.inv, items.balance
    else:  # a few customers: sums by their rank among them
        local, mine = np.unique(items.cust, return_inverse=True)
        size = len(local)
        at = np.minimum(np.searchsorted(local, book.cust), size - 1) if size else book.cust
        keep = local[at] == book.cust if size else np.zeros(len(book.cust), dtype=bool)
        codes, inv, balance = at[keep], book.inv[keep], book.balance[keep]
    dpd = day - snap.due[inv].astype(np.int64)
    total = sum_by(codes, balance, size).astype(np.float64)[mine]
    over90 = sum_by(codes[dpd > 90], balance[dpd > 90], size)[mine]
    overdue = sum_by(codes[dpd > 0], balance[dpd > 0], size)[mine]
    with np.errstate(divide="ignore", invalid="ignore"):
        share90 = np.where(total > 0, over90 / np.maximum(total, 1), 0.0)
        share_over = np.where(total > 0, overdue / np.maximum(total, 1), 0.0)
    return {
        "delay": delay["customer"][items.cust],
        "settled": count,
        "late30": late_share,
        "open": np.bincount(codes, minlength=size).astype(np.float64)[mine],
        "share90": share90,
        "share_overdue": share_over,
    }


FEW_INVOICES = 4096  # promise_state by binary search per invoice up to this many invoices


def latest_promise_of(snap: Snapshot, inv: np.ndarray, day: int) -> np.ndarray:
    """Per invoice in inv (positions >= 0): the row in promise_arrays of its latest promise made on
    or before day (ties: the highest promise id, the last in that order), else -1. The rows are
    sorted by (invoice, made, id), so it is the last row at or below (invoice, day)."""
    p = promise_arrays(snap)
    out = np.full(len(inv), -1, dtype=np.int64)
    if not len(p["inv"]) or not len(inv):
        return out
    made = p["made"]
    base = int(made.min())
    span = int(made.max()) - base + 2
    cache = snap.__dict__.setdefault("_predict_codes", {})
    if "promise_key" not in cache:
        cache["promise_key"] = p["inv"] * span + (made - base)
    key = cache["promise_key"]
    probe = inv * span + int(np.clip(day - base, -1, span - 1))
    at = np.searchsorted(key, probe, side="right") - 1
    ok = (at >= 0) & (p["inv"][np.maximum(at, 0)] == inv)
    out[ok] = at[ok]
    return out


def promise_state(snap: Snapshot, day: int, inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per invoice in inv: days from day to its latest promise's date (NaN: none) and whether that date passed."""
    days = np.full(len(inv), np.nan)
    broken = np.zeros(len(inv), dtype=np.float64)
    p = promise_arrays(snap)
    inv = np.asarray(inv, dtype=np.int64)
    if 0 < len(inv) <= FEW_INVOICES and len(np.unique(inv)) == len(inv):
        # a few invoices (the reasons of a worklist's top rows): each one's latest promise made
        # on or before day by binary search, not a pass over every promise and invoice
        row = latest_promise_of(snap, inv, day)
        found = np.flatnonzero(row >= 0)
        promised = p["promised"][row[found]]
        known = promised != NO_DATE
        at, promised = found[known], promised[known]
        days[at] = promised - day
        broken[at] = (promised <= day).astype(np.float64)
        return days, broken
    rows = latest_promises(snap, day)
    if not len(rows) or not len(inv):
        return days, broken
    pos = np.full(len(snap.inv_ids), -1, dtype=np.int64)
    pos[inv] = np.arange(len(inv))
    rows = rows[(pos[p["inv"][rows]] >= 0) & (p["promised"][rows] != NO_DATE)]
    at = pos[p["inv"][rows]]
    days[at] = p["promised"][rows] - day
    broken[at] = (p["promised"][rows] <= day).astype(np.float64)
    return days, broken


def _month(days: np.ndarray) -> np.ndarray:
    """Calendar month 1..12 of day numbers."""
    return (
        np.asarray(days, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
        % 12
        + 1
    ).astype(np.float64)


def features(
    snap: Snapshot, day: int, items: OpenItems, book: OpenItems | None = None
) -> np.ndarray:
    """The FEATURES matrix (float64, NaN = unknown) of the invoices in items, from data dated <= day
    (book: every open invoice of their customers, when items are only some of them)."""
    # base cents at D's rate
    inv, cust, balance = items.inv, items.cust, items.balance.astype(np.float64)
    hist = customer_history(snap, day, items, book)
    amount = snap.inv_base[inv].astype(np.float64)  # base cents at the issue date's rate
    own_amount = snap.amount[inv].astype(np.float64)  # in the invoice's currency, as items.own
    due = snap.due[inv].astype(np.int64)
    issue = snap.issue[inv].astype(np.int64)
    promise_days, broken = promise_state(snap, day, inv)
    cache = snap.__dict__.setdefault("_predict_codes", {})
    if "segment" not in cache:
        cache["segment"], cache["tier"] = (
            category_codes(snap, snap.segment),
            category_codes(snap, snap.tier),
        )
    columns = [
        day - issue,
        day - due,
        due - issue,
        np.log1p(amount / 100),
        np.log1p(balance / 100),
        1 - items.own / np.maximum(own_amount, 1),
        dispute_state(snap, day)[inv].astype(np.float64),
        promise_days,
        broken,
        hist["delay"],
        hist["settled"],
        hist["late30"],
        hist["open"],
        hist["share90"],
        hist["share_overdue"],
        np.full(len(inv), _month(np.array([day]))[0]),
        _month(due),
        cache["segment"][cust],
        cache["tier"][cust],
    ]
    return (
        np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        if len(inv)
        else np.zeros((0, len(FEATURES)))
    )


def settle_class(snap: Snapshot, inv: np.ndarray, day: int) -> np.ndarray:
    """The class of each invoice's settlement after day (N_CLASSES - 1: not within HORIZON days)."""
    settle = snap.settle[inv].astype(np.int64)
    after = np.where(settle == NO_DATE, HORIZON + 1, settle - day)
    return np.searchsorted(EDGES, after, side="left")


def all_items(snap: Snapshot, day: int) -> OpenItems:
    """Every invoice open at the end of day (the whole ledger: models learn from every customer)."""
    return open_items(select(snap), day)


# ---- training ------------------------------------------------------------------------------------


def data_end(snap: Snapshot) -> int:
    """The last day the ledger holds a transaction (capped at today): the cutoff of the current model."""
    days = [snap.issue, snap.app_date, snap.pay_date]
    known = [d[d != NO_DATE] for d in days if len(d)]
    last = max((int(d.max()) for d in known if len(d)), default=to_day(dt.date.today()))
    return min(last, to_day(dt.date.today()))


def training_days(snap: Snapshot, cutoff: int) -> list[int]:
    """Past dates whose whole horizon has passed by cutoff, every TRAIN_STEP_DAYS, oldest first."""
    first = (
        int(snap.issue[snap.issue != NO_DATE].min()) if np.any(snap.issue != NO_DATE) else cutoff
    )
    last = cutoff - HORIZON
    return [
        t
        for t in range(last - TRAIN_STEP_DAYS * (TRAIN_DATES - 1), last + 1, TRAIN_STEP_DAYS)
        if t > first
    ]


def training_set(
    snap: Snapshot, cutoff: int, max_rows: int = MAX_TRAIN_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from the invoices open at each training day, at most max_rows (a seeded sample)."""
    x, y, _ = training_rows(snap, cutoff, max_rows)
    return x, y


def training_rows(
    snap: Snapshot, cutoff: int, max_rows: int = MAX_TRAIN_ROWS
) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, y, rows before sampling) from the invoices open at each training day."""
    xs, ys = [], []
    for t in training_days(snap, cutoff):
        items = all_items(snap, t)
        if len(items.inv):
            xs.append(features(snap, t, items))
            ys.append(settle_class(snap, items.inv, t))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=np.int64), 0
    x, y = np.concatenate(xs), np.concatenate(ys)
    total = len(y)
    if total > max_rows:
        keep = np.sort(np.random.default_rng(SEED).choice(total, size=max_rows, replace=False))
        x, y = x[keep], y[keep]
    return x, y, total


MODEL_PARAMS: dict[str, Any] = {
    "loss": "log_loss",
    "learning_rate": 0.2,
    "max_iter": 40,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 5,
}
# Scoring costs iterations x classes tree walks per open invoice. On a large ledger (this many rows
# before sampling, ~37k open invoices per training day) 25 iterations at rate 0.3 keep scoring the
# 165k open invoices of a 1M-invoice ledger near 1 s of CPU (40 at 0.2: ~1.7 s) for a Brier score
# 0.0004 higher (bench/bench_predict.py --compare). Small ledgers keep 40 at 0.2: scoring is cheap
# there and the IBM sample's Brier needs them.
LARGE_LEDGER_ROWS = 1_000_000
LARGE_PARAMS: dict[str, Any] = {"learning_rate": 0.3, "max_iter": 25}


def new_model(large: bool = False) -> Any:  # a scikit-learn estimator (untyped)
    """The estimator with fixed hyper-parameters (MODEL_PARAMS, with LARGE_PARAMS on a large ledger) and seed."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # lazy (b): training only, 765 ms

    params = {**MODEL_PARAMS, **(LARGE_PARAMS if large else {})}
    return HistGradientBoostingClassifier(
        **params,
        categorical_features=[FEATURES.index(c) for c in CATEGORICAL],
        random_state=SEED,
    )


def train(snap: Snapshot, cutoff: int, max_rows: int = MAX_TRAIN_ROWS) -> Any:
    """A fitted model from data known at cutoff (None when there is too little history)."""
    x, y, total = training_rows(snap, cutoff, max_rows)
    if len(y) < MIN_TRAIN_ROWS or len(np.unique(y)) < 2:
        return None, len(y)

    # a never-known feature (no promises at all) as a constant
    x = np.where(np.isnan(x).all(axis=0), 0.0, x)
    model = new_model(large=total >= LARGE_LEDGER_ROWS)
    if len(y) < 2000:
        model.set_params(early_stopping=False, min_samples_leaf=10)
    elif np.bincount(y)[np.bincount(y) > 0].min() < 10:
        # the stratified validation split needs every class twice
        model.set_params(early_stopping=False)
    with threadpool_limits(limits=fit_threads(), user_api="openmp"):
        model.fit(x, y)
    return model, len(y)


def fit_threads() -> int:
    """OpenMP threads for fitting (AR_PREDICT_THREADS, default 1: on a shared 2-core machine more
    threads spin against the web workers and were measured 20x slower)."""
    return get_settings().predict_threads


# ---- scoring -------------------------------------------------------------------------------------


def class_cdf(model: Any, x: np.ndarray) -> np.ndarray:
    """Cumulative P(settled within EDGES[k]) from the model's class probabilities."""
    probs = np.zeros((len(x), N_CLASSES))
    if len(x):
        with threadpool_limits(limits=fit_threads(), user_api="openmp"):
            probs[:, model.classes_.astype(np.int64)] = model.predict_proba(x)
    return np.clip(np.cumsum(probs, axis=1)[:, : len(EDGES)], 0.0, 1.0)


def quantile_days(cdf: np.ndarray, q: float) -> np.ndarray:
    """Days after D by which the probability of settlement reaches q (linear within a class); NaN beyond HORIZON."""
    n = len(cdf)
    full = np.column_stack([np.zeros(n), cdf])
    edges = np.r_[0, EDGES].astype(np.float64)
    reached = full >= q
    reached[:, 0] = False
    hit = reached.any(axis=1)
    k = np.argmax(reached, axis=1)
    k = np.maximum(k, 1)
    rows = np.arange(n)
    lo_p, hi_p = full[rows, k - 1], full[rows, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(hi_p > lo_p, (q - lo_p) / (hi_p - lo_p), 1.0)
    days = edges[k - 1] + np.clip(frac, 0, 1) * (edges[k] - edges[k - 1])
    return np.where(hit, days, np.nan)


def dates_from(day: int, offsets: np.ndarray) -> np.ndarray:
    """day + ceil(offset) (at least day + 1); NO_DATE where the offset is NaN."""
    out = np.full(len(offsets), NO_DATE, dtype=np.int64)
    ok = ~np.isnan(offsets)
    out[ok] = day + np.maximum(np.ceil(offsets[ok] - 1e-9), 1).astype(np.int64)
    return out


def from_cdf(day: int, items: OpenItems, cdf: np.ndarray, source: str) -> Predictions:
    """Predictions with the expected date (median) and range (10th-90th percentile) of cdf."""
    low, mid, high = (dates_from(day, quantile_days(cdf, q)) for q in QUANTILES)
    return Predictions(day, items.inv, items.balance, items.cust, cdf, mid, low, high, source)


def model_predictions(
    snap: Snapshot, model: Any, day: int, items: OpenItems | None = None
) -> Predictions:
    """The model's predictions for every invoice open at day (or those in items)."""
    items = items if items is not None else all_items(snap, day)
    return from_cdf(day, items, class_cdf(model, features(snap, day, items)), "model")


def point_predictions(day: int, items: OpenItems, expected: np.ndarray, source: str) -> Predictions:
    """A baseline's predictions: all-or-nothing probabilities at one expected day."""
    expected = np.asarray(expected, dtype=np.int64)
    cdf = ((expected[:, None] - day) <= EDGES[None, :]).astype(np.float64)
    return Predictions(
        day,
        items.inv,
        items.balance,
        items.cust,
        cdf,
        expected,
        expected.copy(),
        expected.copy(),
        source,
    )


def due_date_baseline(snap: Snapshot, day: int, items: OpenItems | None = None) -> Predictions:
    """Baseline 1: every open balance paid on its due date (overdue ones tomorrow)."""
    items = items if items is not None else all_items(snap, day)
    return point_predictions(
        day, items, np.maximum(day + 1, snap.due[items.inv].astype(np.int64)), "due date"
    )


def delay_baseline(snap: Snapshot, day: int, items: OpenItems | None = None) -> Predictions:
    """Baseline 2: due date + the customer's average delay (else the segment's, else everyone's), as the behaviour forecast."""
    items = items if items is not None else all_items(snap, day)
    delay = payment_delay(snap, np.ones(snap.n_customers, dtype=bool), day)
    own, seg = delay["customer"][items.cust], delay["segment"][items.cust]
    port = float(delay["portfolio"])
    value = np.where(
        ~np.isnan(own), own, np.where(~np.isnan(seg), seg, 0.0 if np.isnan(port) else port)
    )
    shift = np.floor(value + 0.5).astype(np.int64)
    expected = np.maximum(day + 1, snap.due[items.inv].astype(np.int64) + shift)
    return point_predictions(day, items, expected, "customer's average delay")


BASELINES = {"due date": due_date_baseline, "customer's average delay": delay_baseline}


def restrict(pred: Predictions, snap: Snapshot, cust_mask: np.ndarray) -> Predictions:
    """Only the invoices of the customers in cust_mask (the scope and filters)."""
    if len(pred.cust) == 0 or bool(cust_mask.all()):
        return pred
    return pred.subset(cust_mask[pred.cust])


def dispute_open(snap: Snapshot, pred: Predictions) -> npt.NDArray[np.bool_]:
    """Per prediction row: in dispute or litigation at its day."""
    # ndarray.__ne__ is typed Any in numpy's stubs
    disputed: npt.NDArray[np.bool_] = dispute_state(snap, pred.day)[pred.inv] != DISPUTE_NONE
    return disputed
