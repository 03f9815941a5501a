"""Training the payment-prediction models for the current data version (in the job queue, never in a request).

`train_for_current_version()` builds the bundle of dashboard.metrics.predict_store: the current
model and one model per backtest date, with those models' predictions there. Pages call
`request_training(snap)` when the data version has no model yet; it only queues a job
(submit_predict_training), at most once per model file and process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from dashboard.config import get_settings
from dashboard.jobs import MemoryStore, RedisStore, enqueue, register
from dashboard.metrics import predict as pm
from dashboard.metrics import predict_store as store
from dashboard.metrics import predict_ui
from dashboard.metrics.snapshot import Snapshot, from_day, load_snapshot

logger = logging.getLogger(__name__)

BACKTEST_DATES = 6
BACKTEST_STEP_DAYS = 28
BACKTEST_LAG_DAYS = 91  # the latest backtest date is 13 weeks before the data's end
BACKTEST_MAX_ROWS = 60_000
_requested: dict[str, str] = {}
_requested_lock = threading.Lock()


def backtest_days(cutoff: int, count: int = BACKTEST_DATES) -> list[int]:
    """Past dates whose 13 weeks have passed by cutoff, BACKTEST_STEP_DAYS apart, oldest first."""
    last = cutoff - BACKTEST_LAG_DAYS
    return [last - BACKTEST_STEP_DAYS * k for k in range(count - 1, -1, -1)]


def _fit(snap: Snapshot, cutoff: int, max_rows: int, log) -> tuple[Any, int, float]:
    started = time.perf_counter()
    model, rows = pm.train(snap, cutoff, max_rows)
    seconds = time.perf_counter() - started
    log(
        f"model with cutoff {from_day(cutoff)}: {rows:,} rows, {seconds:.1f} s"
        + ("" if model else " (too little history)")
    )
    return model, rows, seconds


def _arrays(pred: pm.Predictions) -> dict[str, np.ndarray]:
    return {
        "inv": pred.inv,
        "cdf": pred.cdf.astype(np.float64),
        "expected": pred.expected,
        "low": pred.low,
        "high": pred.high,
    }


def train_bundle(snap: Snapshot, log=lambda _m: None) -> tuple[dict, dict, dict, dict]:
    """(meta, models, backtest, scored) for the snapshot: the current model, the backtest models, and the
    current model's predictions at its cutoff (the pages' usual as-of date, so they need not score)."""
    import sklearn  # lazy (b): training only, 765 ms

    cutoff = pm.data_end(snap)
    models, backtest, rows, seconds = {}, {}, {}, {}
    model, rows[str(cutoff)], seconds["current"] = _fit(snap, cutoff, pm.MAX_TRAIN_ROWS, log)
    scored = {}
    if model is not None:
        models[cutoff] = model
        scored[cutoff] = _arrays(pm.model_predictions(snap, model, cutoff))
    for day in backtest_days(cutoff):
        model, rows[str(day)], seconds[str(day)] = _fit(snap, day, BACKTEST_MAX_ROWS, log)
        if model is None:
            continue
        models[day] = model
        backtest[day] = _arrays(pm.model_predictions(snap, model, day))
    meta = {
        "format": pm.MODEL_FORMAT,
        "model_version": f"hgb{pm.MODEL_FORMAT}-data{snap.version}-{from_day(cutoff).isoformat()}",
        "data_version": snap.version,
        "invoices": len(snap.inv_ids),
        "cutoff": from_day(cutoff).isoformat(),
        "backtest_dates": [from_day(d).isoformat() for d in sorted(backtest)],
        "seed": pm.SEED,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "features": list(pm.FEATURES),
        "edges_days": pm.EDGES.tolist(),
        "params": models[cutoff].get_params() if cutoff in models else None,
        "train_rows": rows,
        "fit_seconds": seconds,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if meta["params"]:
        meta["params"] = {
            k: v
            for k, v in meta["params"].items()
            if isinstance(v, int | float | str | bool | list | None)
        }
    return meta, models, backtest, scored


def train_for_current_version(url: str | None = None, force: bool = False, log=None) -> Path:
    """Train and store the models of the database's current data version; returns the model file.

    Skips the work when that file already exists (unless force). Reproducible: fixed seeds, the
    same data version gives the same models and predictions.
    """
    log = log or (lambda message: logger.info("predict: %s", message))
    snap = load_snapshot(url or get_settings().database_url)
    path = store.model_path(snap)
    if path.exists() and not force and store.current_bundle(snap) is not None:
        log(f"{path.name} already trained")
        return path
    started = time.perf_counter()
    meta, models, backtest, scored = train_bundle(snap, log)
    meta["total_seconds"] = round(time.perf_counter() - started, 2)
    store.save_bundle(path, meta, models, backtest, scored)
    log(f"stored {path} ({len(models)} models, {meta['total_seconds']} s)")
    return path


def run_training_job(job: dict, report) -> None:
    """The job runner of kind 'predict' (registered below with dashboard.jobs.register)."""
    report.set(force=True, progress=5, message="training payment prediction models")
    path = train_for_current_version(job["params"].get("url"), log=lambda m: report.set(message=m))
    report.set(force=True, state="done", progress=100, message=f"models stored: {path.name}")


def submit_predict_training(
    url: str | None = None, owner: str | None = None, store: MemoryStore | RedisStore | None = None
) -> str:
    """Queue training of the prediction models for the data version of url (None: the worker's own)."""
    return enqueue("predict", {"url": url}, owner, store=store)


def request_training(snap: Snapshot) -> bool:
    """Queue training when the snapshot's data version has no model yet (once per process); True if queued."""
    path = store.model_path(snap)
    if path.exists() or not get_settings().predict_autotrain:
        return False
    with _requested_lock:
        if str(path) in _requested:
            return False
        _requested[str(path)] = "pending"
    try:
        _requested[str(path)] = submit_predict_training(snap.url)
    except Exception as exc:  # noqa: BLE001 - no queue: the pages keep showing the baselines
        logger.warning("predict: training not queued: %s", exc)
        with _requested_lock:
            _requested.pop(str(path), None)
        return False
    return True


# the job kind, and the pages' request for a model (a metrics module cannot import this one): both
# resolve request_training here when called, so tests that patch it patch what runs
register("predict", run_training_job)
predict_ui.on_missing_model(lambda snap: request_training(snap))
