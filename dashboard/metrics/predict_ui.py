"""Cached entry points of the predictions for the pages (keyed by data version, model file, scope, filters, as-of).

Pages never train: when the data version has no model yet, `bundle_for` queues the training job
(once per process) and every figure falls back to the baseline, saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from dashboard.metrics import predict as pm
from dashboard.metrics import predict_backtest as pb
from dashboard.metrics import predict_store as st
from dashboard.metrics import predict_views as pv
from dashboard.metrics.cache import cached
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.ledger import open_items, select
from dashboard.metrics.snapshot import Snapshot, to_day

_MISSING_MODEL: list[Callable[[Snapshot], object]] = []


def on_missing_model(request: Callable[[Snapshot], object]) -> None:
    """Who is asked for a model when a data version has none (dashboard.predict_jobs, which queues
    its training, sets it when it is loaded: the web app, the API and the job worker load it)."""
    _MISSING_MODEL[:] = [request]


def bundle_for(snap: Snapshot, queue: bool = True) -> st.Bundle | None:
    """The model bundle of the data version; without one, ask for its training (never train here)."""
    bundle = st.current_bundle(snap)
    if bundle is None and queue:
        for request in _MISSING_MODEL:
            request(snap)
    return bundle


def stamp_of(bundle: st.Bundle | None) -> str:
    """A cache key part that changes when a model file appears or changes."""
    return bundle.stamp if bundle is not None else ""


@cached(maxsize=16, shared=False)  # every open invoice: too big to share
def _all_predictions(snap: Snapshot, day: int, stamp: str) -> pm.Predictions:
    """Every open invoice's prediction at day (whole ledger)."""
    return st.predictions_at(snap, day, st.current_bundle(snap) if stamp else None)


@cached(maxsize=16, shared=False)
def _selection_baseline(
    snap: Snapshot, day: int, filters: Filters | None, scope: Scope | None
) -> pm.Predictions:
    """The baseline's predictions of the selected customers' open invoices alone (each invoice's
    prediction depends on its customer only: the same rows as the whole ledger's, restricted)."""
    return pm.delay_baseline(snap, day, open_items(select(snap, filters, scope), day))


def predictions(
    snap: Snapshot, as_of: dt.date, filters: Filters | None, scope: Scope | None
) -> tuple[pm.Predictions, str]:
    """(predictions of the selected customers' open invoices, what they are based on)."""
    bundle = bundle_for(snap)
    day = to_day(as_of)
    baseline = bundle is None or bundle.model_for(day) is None
    if baseline and not bool(select(snap, filters, scope).cust_mask.all()):
        pred = _selection_baseline(snap, day, filters, scope)
    else:
        pred = pv.scoped(snap, _all_predictions(snap, day, stamp_of(bundle)), filters, scope)
    return pred, st.describe(bundle, day)


@cached(maxsize=32)
def _backtest(
    snap: Snapshot, filters: Filters | None, scope: Scope | None, stamp: str
) -> dict[str, Any] | None:
    bundle = st.current_bundle(snap) if stamp else None
    return pb.backtest(snap, select(snap, filters, scope), bundle) if bundle is not None else None


def backtest(snap: Snapshot, filters: Filters | None, scope: Scope | None) -> dict[str, Any] | None:
    """The backtest of the model and the baselines on these filters (None without a model)."""
    return _backtest(snap, filters, scope, stamp_of(bundle_for(snap)))


@cached(maxsize=32)
def _worklist(
    snap: Snapshot, as_of: dt.date, filters: Filters, scope: Scope, stamp: str, limit: int | None
) -> pd.DataFrame:
    pred, _ = predictions(snap, as_of, filters, scope)
    return pv.worklist(snap, pred, limit)


def worklist(
    snap: Snapshot,
    as_of: dt.date,
    filters: Filters,
    scope: Scope,
    limit: int | None = None,
    queue: bool = True,
) -> pd.DataFrame:
    """The expected-loss worklist (cached); queue=False: never queue the model's training (warm-up)."""
    return _worklist(snap, as_of, filters, scope, stamp_of(bundle_for(snap, queue)), limit)


@cached(maxsize=32)
def _aging(
    snap: Snapshot, as_of: dt.date, filters: Filters, scope: Scope, stamp: str
) -> pd.DataFrame:
    pred, _ = predictions(snap, as_of, filters, scope)
    return pv.predicted_aging(snap, pred)


def predicted_aging(snap: Snapshot, as_of: dt.date, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Aging today, in 30 and in 60 days (cached)."""
    return _aging(snap, as_of, filters, scope, stamp_of(bundle_for(snap)))


cohorts = cached(pv.cohorts, maxsize=32)
cohort_cell = cached(pv.cohort_cell, maxsize=16)
