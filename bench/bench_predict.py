"""Payment-prediction benchmark: training the current model, the whole training job (with the backtest
models), scoring every open invoice, and the page-level calls with a warm cache; plus the backtest's
accuracy figures (Brier, reliability, ±7 days, WAPE) for the model and both baselines.

    .venv/bin/python bench/bench_predict.py                              # 1,000,000 invoices / 50,000 customers
    .venv/bin/python bench/bench_predict.py --invoices 20000 --customers 600
    .venv/bin/python bench/bench_predict.py --url sqlite:///ibm.db       # an existing database (e.g. the IBM sample)

The demo database is generated once under $AR_BENCH_DIR (default $TMPDIR/ar-bench) and reused. Model files go to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def ensure_demo(invoices: int, customers: int) -> str:
    """A SQLite demo database of this size (generated once)."""
    from bench_metrics import ensure_database

    folder = Path(os.environ.get("AR_BENCH_DIR") or Path(tempfile.gettempdir()) / "ar-bench")
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'predict-{invoices}-{customers}.db'}"
    ensure_database(url, customers, invoices, rebuild=False)
    return url


def timed(fn, *args, **kwargs):
    """(result, seconds)."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--url", default=None, help="use this database instead of a generated demo")
    parser.add_argument("--no-job", action="store_true", help="train the current model only (skip the backtest models)")
    args = parser.parse_args()
    os.environ.setdefault("AR_MODEL_DIR", tempfile.mkdtemp(prefix="ar-models-"))

    from dashboard.metrics import predict as pm
    from dashboard.metrics import predict_backtest as pb
    from dashboard.metrics import predict_store as st
    from dashboard.metrics import predict_ui as pui
    from dashboard.metrics.ledger import select
    from dashboard.metrics.snapshot import from_day, load_snapshot
    from dashboard.predict_jobs import train_for_current_version

    url = args.url or ensure_demo(args.invoices, args.customers)
    snap, load_s = timed(load_snapshot, url)
    cutoff = pm.data_end(snap)
    (xy, set_s) = timed(pm.training_set, snap, cutoff)
    (model_rows, fit_s) = timed(pm.train, snap, cutoff)
    model = model_rows[0]
    out = {"invoices": int((~snap.is_cn).sum()), "customers": snap.n_customers, "snapshot_load_s": round(load_s, 2),
           "cutoff": from_day(cutoff).isoformat(), "training_rows": len(xy[1]), "training_set_s": round(set_s, 2),
           "train_current_model_s": round(fit_s, 2), "fit_threads": pm.fit_threads()}
    if model is not None:
        pm.model_predictions(snap, model, cutoff)  # warm the per-snapshot caches once, as a worker does
        pred, score_s = timed(pm.model_predictions, snap, model, cutoff)
        out.update({"open_invoices_scored": len(pred.inv), "score_all_open_s": round(score_s, 3)})
    if not args.no_job:
        _, job_s = timed(train_for_current_version, url, True, lambda _m: None)
        out["training_job_s"] = round(job_s, 2)
        bundle = st.current_bundle(snap)
        result, bt_s = timed(pb.backtest, snap, select(snap), bundle)
        out["backtest_s"] = round(bt_s, 2)
        out["overall"] = result["overall"]
        rel = result["reliability"]
        out["reliability_max_gap_points"] = round(float(rel.loc[rel["enough"], "gap_points"].max()), 2)
        out["reliability"] = rel.round(4).to_dict("records")
        out["by_date"] = json.loads(result["by_date"].to_json(orient="records", date_format="iso"))
        out["decision"] = result["decision"]
        d = from_day(cutoff)
        pui.worklist(snap, d, None, None)
        _, page_s = timed(lambda: (pui.worklist(snap, d, None, None), pui.predicted_aging(snap, d, None, None),
                                   pui.backtest(snap, None, None)))
        out["page_calls_warm_s"] = round(page_s, 4)
        _, cohort_s = timed(pui.cohorts, snap, d, None, None)
        out["cohorts_cold_s"] = round(cohort_s, 3)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
