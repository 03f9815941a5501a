"""How good the payment predictions were: a backtest of the model and its baselines at past dates.

At each backtest date t (stored with the model bundle) every invoice open at t is predicted from data
dated on or before t, and compared with what happened afterwards:

* Brier score of "paid within 30 days" = mean (p_paid_30 - settled within 30 days)^2 (0 is perfect;
  a 0/1 baseline scores the share it got wrong);
* reliability: the model's p_paid_30 in ten 10-point bins, mean prediction vs the share that was
  settled, pooled over every date (bins with fewer than MIN_BIN invoices are marked thin);
* ±7 days: the share of invoices settled within 7 days of the expected date (an invoice the model
  expects after 180 days counts as a hit when it was not settled within 180 days), over invoices
  whose outcome is known at the data's end;
* weekly cash WAPE over 13 weeks: Σ |expected - collected| / Σ collected, where collected is the
  payment allocations dated in each week to the invoices open at t.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.metrics import predict as pm
from dashboard.metrics.forecast import actual_collections
from dashboard.metrics.ledger import Selection
from dashboard.metrics.predict_store import Bundle, stored_predictions
from dashboard.metrics.snapshot import NO_DATE, Snapshot, from_day

WEEKS = 13
MIN_BIN = 30
BINS = 10
TOLERANCE_DAYS = 7
SOURCES = ("model", "due date", "customer's average delay")


def settled_within(snap: Snapshot, pred: pm.Predictions, days: int) -> npt.NDArray[np.bool_]:
    """Per prediction row: its balance was settled within days after the prediction date."""
    settle = snap.settle[pred.inv].astype(np.int64)
    # ndarray.__ne__ is typed Any in numpy's stubs
    within: npt.NDArray[np.bool_] = (settle != NO_DATE) & (settle <= pred.day + days)
    return within


def brier(p: np.ndarray, outcome: np.ndarray) -> float | None:
    """Mean squared error of probabilities against 0/1 outcomes (None without rows)."""
    return float(np.mean((p - outcome) ** 2)) if len(p) else None


def cdf_at(cdf: np.ndarray, days: np.ndarray) -> np.ndarray:
    """P(settled within each of days) per row, linear between the class edges, 0 at day 0."""
    edges = np.r_[0, pm.EDGES].astype(np.float64)
    full = np.column_stack([np.zeros(len(cdf)), cdf])
    return np.stack([_interp_rows(full, edges, float(d)) for d in days], axis=1)


def _interp_rows(
    full: npt.NDArray[np.float64], edges: npt.NDArray[np.float64], day: float
) -> npt.NDArray[np.float64]:
    """np.interp of every row at one day (vectorised over rows)."""
    k = int(np.clip(np.searchsorted(edges, day, side="right") - 1, 0, len(edges) - 2))
    frac: float = min(max((day - edges[k]) / (edges[k + 1] - edges[k]), 0.0), 1.0)
    return full[:, k] + frac * (full[:, k + 1] - full[:, k])


def weekly_expected(pred: pm.Predictions, weeks: int = WEEKS) -> npt.NDArray[np.float64]:
    """Expected settlements per week (week 1 = t+1..t+7) in cents: balance x P(settled that week)."""
    if pred.source != "model":
        week = (pred.expected - pred.day - 1) // 7
        keep = (pred.expected != NO_DATE) & (week < weeks)
        # with weights, np.bincount gives float64 (numpy's stubs say intp)
        sums = np.bincount(week[keep], weights=pred.balance[keep], minlength=weeks)
        return cast("npt.NDArray[np.float64]", sums[:weeks])
    cum = cdf_at(pred.cdf, 7 * np.arange(0, weeks + 1))
    share = np.diff(cum, axis=1)
    expected: npt.NDArray[np.float64] = np.rint(share.T @ pred.balance.astype(np.float64))
    return expected


def wape(forecast: np.ndarray, actual: np.ndarray) -> float | None:
    """Σ |forecast - actual| / Σ actual x 100 (None when nothing was collected)."""
    total = float(np.sum(actual))
    return (
        float(np.abs(np.asarray(forecast, dtype=np.float64) - actual).sum() / total * 100)
        if total > 0
        else None
    )


def date_hits(snap: Snapshot, pred: pm.Predictions, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(known outcome, hit within ±7 days) per row; end is the data's last day."""
    settle = snap.settle[pred.inv].astype(np.int64)
    paid = (settle != NO_DATE) & (settle <= min(end, pred.day + pm.HORIZON))
    known = paid | (pred.day + pm.HORIZON <= end)
    close = paid & (pred.expected != NO_DATE) & (np.abs(settle - pred.expected) <= TOLERANCE_DAYS)
    late_ok = ~paid & (pred.expected == NO_DATE)
    return known, close | late_ok


def at_date(
    snap: Snapshot, sel: Selection, bundle: Bundle, day: int
) -> dict[str, pm.Predictions] | None:
    """The model's and baselines' predictions at a backtest day, for the selected customers."""
    model = stored_predictions(snap, bundle, day) if day in bundle.backtest else None
    if model is None:
        return None
    out = {"model": model}
    for name, baseline in pm.BASELINES.items():
        out[name] = baseline(snap, day)
    return {k: pm.restrict(v, snap, sel.cust_mask) for k, v in out.items()}


def backtest(snap: Snapshot, sel: Selection, bundle: Bundle) -> dict[str, Any]:
    """Per date and overall: Brier, ±7 days, WAPE for the model and both baselines; the reliability table."""
    end = pm.data_end(snap)
    date_rows, week_rows, rel = [], [], []
    pooled: dict[str, dict[str, list[Any]]] = {
        s: {"p": [], "y": [], "known": [], "hit": [], "f": [], "a": []} for s in SOURCES
    }
    for day in sorted(bundle.backtest):
        preds = at_date(snap, sel, bundle, day)
        if preds is None:
            continue
        actual, _ = actual_collections(snap, sel, day, WEEKS)
        row = {"as_of": from_day(day), "invoices": len(preds["model"].inv)}
        for source, pred in preds.items():
            y = settled_within(snap, pred, 30).astype(np.float64)
            p30 = pred.p(30)
            known, hit = date_hits(snap, pred, end)
            f = weekly_expected(pred)
            acc = pooled[source]
            for name, value in (
                ("p", p30),
                ("y", y),
                ("known", known),
                ("hit", hit),
                ("f", f),
                ("a", actual),
            ):
                acc[name].append(value)
            row[f"brier_{_key(source)}"] = brier(p30, y)
            row[f"within7_{_key(source)}"] = _share(hit[known])
            row[f"wape_{_key(source)}"] = wape(f, actual)
            if source == "model":
                rel.append((p30, y))
        row["actual_cents"] = int(actual.sum())
        date_rows.append(row)
        for k in range(WEEKS):
            week_rows.append(
                {
                    "as_of": from_day(day),
                    "week": k + 1,
                    "actual_cents": int(actual[k]),
                    **{f"{_key(s)}_cents": int(round(pooled[s]["f"][-1][k])) for s in SOURCES},
                }
            )
    overall = {}
    for source, acc in pooled.items():
        if not acc["p"]:
            continue
        p, y = np.concatenate(acc["p"]), np.concatenate(acc["y"])
        known, hit = np.concatenate(acc["known"]), np.concatenate(acc["hit"])
        overall[source] = {
            "brier": brier(p, y),
            "within7": _share(hit[known]),
            "wape": wape(np.concatenate(acc["f"]), np.concatenate(acc["a"])),
            "invoices": len(p),
        }
    p = np.concatenate([r[0] for r in rel]) if rel else np.zeros(0)
    y = np.concatenate([r[1] for r in rel]) if rel else np.zeros(0)
    return {
        "by_date": pd.DataFrame(date_rows),
        "weeks": pd.DataFrame(week_rows),
        "overall": overall,
        "reliability": reliability(p, y),
        "decision": decide(overall),
    }


def _key(source: str) -> str:
    return {"model": "model", "due date": "due_date", "customer's average delay": "delay"}[source]


def _share(flags: np.ndarray) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def reliability(
    p: np.ndarray, y: np.ndarray, bins: int = BINS, min_count: int = MIN_BIN
) -> pd.DataFrame:
    """Per 10-point bin of predicted probability: invoices, mean predicted, share settled, gap, enough."""
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_p = np.bincount(idx, weights=p, minlength=bins) / count
        share = np.bincount(idx, weights=y, minlength=bins) / count
    return pd.DataFrame(
        {
            "bin": [f"{10 * k}–{10 * (k + 1)} %" for k in range(bins)],
            "invoices": count,
            "predicted": mean_p,
            "actual": share,
            "gap_points": np.abs(mean_p - share) * 100,
            "enough": count >= min_count,
        }
    )


def decide(overall: dict[str, Any]) -> dict[str, Any]:
    """Which forecast to use: the model only when its Brier score and its WAPE both beat every baseline."""
    model = overall.get("model")
    if not model:
        return {"use_model": False, "why": "no backtest of the model on these filters"}
    base = [overall[s] for s in SOURCES[1:] if s in overall]
    brier_ok = all(
        model["brier"] is not None and (b["brier"] is None or model["brier"] < b["brier"])
        for b in base
    )
    wape_ok = model["wape"] is not None and all(
        b["wape"] is None or model["wape"] < b["wape"] for b in base
    )
    if brier_ok and wape_ok:
        return {
            "use_model": True,
            "why": "the model's backtest beats both baselines (Brier score and weekly WAPE)",
        }
    failed = " and ".join(
        n for n, ok in (("Brier score", brier_ok), ("weekly WAPE", wape_ok)) if not ok
    )
    return {
        "use_model": False,
        "why": f"the model's backtest does not beat the baselines on {failed}",
    }
