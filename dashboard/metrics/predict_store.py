"""Trained prediction models, one file per database and data version, and predictions at any date.

A bundle (joblib file under AR_MODEL_DIR, default data/models/) holds the current model (cutoff =
the last day of the data), one model per backtest date (cutoff = that date) and those models'
predictions at their own dates. Predictions at D come from the model with the latest cutoff on or
before D, so nothing dated after D is used; with no such model the customer's-average-delay
baseline is used and the source says so.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dashboard.config import get_settings
from dashboard.metrics import predict as pm
from dashboard.metrics.snapshot import Snapshot, from_day

_lock = threading.Lock()
_loaded: dict[str, tuple[float, Bundle | None]] = {}


@dataclass
class Bundle:
    """A loaded model file."""

    meta: dict[str, Any]
    models: dict[int, object]  # cutoff day -> fitted estimator
    # backtest day -> the model's predictions there (whole ledger)
    backtest: dict[int, dict[str, np.ndarray]]
    stamp: str  # identifies the file's content (for cache keys)
    # the current model's predictions at its cutoff (pages' usual as-of)
    scored: dict[int, dict[str, np.ndarray]] | None = None

    def model_for(self, day: int) -> tuple[int, object] | None:
        """(cutoff, model) with the latest cutoff on or before day."""
        cutoffs = [c for c in self.models if c <= day]
        return (max(cutoffs), self.models[max(cutoffs)]) if cutoffs else None


def model_dir() -> Path:
    """Where model files live (AR_MODEL_DIR, default data/models under the repository)."""
    return Path(get_settings().model_dir)


def url_key(url: str | None) -> str:
    """A short, stable name for a database URL."""
    return hashlib.sha256((url or get_settings().database_url).encode()).hexdigest()[:12]


def model_path(snap: Snapshot) -> Path:
    """The model file of the snapshot's database and data version."""
    return model_dir() / f"predict-{url_key(snap.url)}-v{snap.version}.joblib"


def save_bundle(
    path: Path,
    meta: dict[str, Any],
    models: dict[str, Any],
    backtest: dict[str, Any],
    scored: dict[str, Any] | None = None,
) -> None:
    """Write a bundle atomically (readers never see half a file)."""
    import joblib  # lazy (b): model files only, 21 ms

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    joblib.dump(
        {"meta": meta, "models": models, "backtest": backtest, "scored": scored or {}},
        tmp,
        compress=3,
    )
    os.replace(tmp, path)


def load_bundle(path: Path) -> Bundle | None:
    """The bundle at path, loaded once per file change (None when there is none or it is unreadable)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = str(path)
    with _lock:
        hit = _loaded.get(key)
        if hit is not None and hit[0] == mtime:
            return hit[1]
    bundle = _read(path, mtime)
    with _lock:
        _loaded[key] = (mtime, bundle)
    return bundle


def _read(path: Path, mtime: float) -> Bundle | None:
    import joblib  # lazy (b): model files only, 21 ms

    try:
        raw = joblib.load(path)
    except Exception:  # noqa: BLE001 - a corrupt or foreign file counts as no model
        return None
    if raw.get("meta", {}).get("format") != pm.MODEL_FORMAT:
        return None
    return Bundle(
        raw["meta"], raw["models"], raw["backtest"], f"{path.name}:{mtime}", raw.get("scored") or {}
    )


def current_bundle(snap: Snapshot) -> Bundle | None:
    """The model bundle of the snapshot's data version, if it has been trained."""
    bundle = load_bundle(model_path(snap))
    if bundle is not None and bundle.meta.get("invoices") != len(snap.inv_ids):
        return None
    return bundle


def stored_predictions(snap: Snapshot, bundle: Bundle, day: int) -> pm.Predictions | None:
    """Predictions kept in the bundle for day: a backtest date, or the current model's cutoff (else None)."""
    rows = bundle.backtest.get(day)
    if rows is None:
        rows = (bundle.scored or {}).get(day)
    if rows is None:
        return None
    items = pm.all_items(snap, day)
    if len(items.inv) != len(rows["inv"]) or not np.array_equal(items.inv, rows["inv"]):
        return None
    return pm.Predictions(
        day,
        items.inv,
        items.balance,
        items.cust,
        rows["cdf"],
        rows["expected"],
        rows["low"],
        rows["high"],
        "model",
    )


def predictions_at(snap: Snapshot, day: int, bundle: Bundle | None) -> pm.Predictions:
    """Every invoice open at day (whole ledger) with the model's prediction, or the delay baseline."""
    found = bundle.model_for(day) if bundle is not None else None
    if bundle is None or found is None:
        return pm.delay_baseline(snap, day)
    stored = stored_predictions(snap, bundle, day)
    if stored is not None:
        return stored
    return pm.model_predictions(snap, found[1], day)


def describe(bundle: Bundle | None, day: int) -> str:
    """What predictions at day are based on, in words."""
    if bundle is None:
        return "No model trained for this data version yet: predictions use the customer's average delay (baseline)."
    found = bundle.model_for(day)
    if found is None:
        return (
            "No model was trained on data before this as-of date: predictions use the customer's average delay "
            "(baseline)."
        )

    m = bundle.meta
    return (
        f"Model {m['model_version']} (gradient boosting, scikit-learn {m['sklearn']}), trained on data up to "
        f"{from_day(found[0]).isoformat()} ({m['train_rows'].get(str(found[0]), 0):,} training rows)."
    )
