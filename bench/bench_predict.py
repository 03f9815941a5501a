"""Payment-prediction benchmark: training the current model, the whole training job (with the backtest
models), scoring every open invoice, and the page-level calls with a warm cache; plus the backtest's
accuracy figures (Brier, reliability, ±7 days, WAPE) for the model and both baselines.

    .venv/bin/python bench/bench_predict.py                              # 1,000,000 invoices / 50,000 customers
    .venv/bin/python bench/bench_predict.py --invoices 20000 --customers 600
    .venv/bin/python bench/bench_predict.py --url sqlite:///ibm.db       # an existing database (e.g. the IBM sample)
    .venv/bin/python bench/bench_predict.py --url sqlite:////tmp/b19.db --compare   # before/after, side by side

--compare measures every figure twice in one run, first with the earlier model parameters
(before: predict.MODEL_PARAMS on every ledger, 40 iterations at rate 0.2) and then with the current
ones (predict.LARGE_PARAMS on a large ledger), and
ends with a side-by-side table. --profile prints a pyinstrument profile of one scoring call to stderr.

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


SIDE_BY_SIDE = (
    "train_current_model_s",
    "n_iter",
    "score_all_open_s",
    "score_all_open_cpu_s",
    "training_job_s",
    "brier_model",
    "brier_best_baseline",
    "reliability_max_gap_points",
    "reliability_bins_enough",
    "within_7_days_model",
    "wape_model",
)


def measure(snap, url: str, args) -> dict:
    """Every figure with the current model parameters."""
    from dashboard.metrics import predict as pm
    from dashboard.metrics import predict_backtest as pb
    from dashboard.metrics import predict_store as st
    from dashboard.metrics import predict_ui as pui
    from dashboard.metrics.ledger import select
    from dashboard.metrics.snapshot import from_day
    from dashboard.predict_jobs import train_for_current_version

    cutoff = pm.data_end(snap)
    (xy, set_s) = timed(pm.training_set, snap, cutoff)
    (model_rows, fit_s) = timed(pm.train, snap, cutoff)
    model = model_rows[0]
    out = {
        "params": {
            k: v
            for k, v in model_rows[0].get_params().items()
            if k in ("max_iter", "learning_rate")
        }
        if model_rows[0] is not None
        else None,
        "cutoff": from_day(cutoff).isoformat(),
        "training_rows": len(xy[1]),
        "training_set_s": round(set_s, 2),
        "train_current_model_s": round(fit_s, 2),
        "fit_threads": pm.fit_threads(),
    }
    if model is not None:
        out["n_iter"] = int(model.n_iter_)
        # warm the per-snapshot caches once, as a worker does
        pm.model_predictions(snap, model, cutoff)
        cpu = time.process_time()
        pred, score_s = timed(pm.model_predictions, snap, model, cutoff)
        out.update(
            {
                "open_invoices_scored": len(pred.inv),
                "score_all_open_s": round(score_s, 3),
                "score_all_open_cpu_s": round(time.process_time() - cpu, 3),
            }
        )
        if args.profile:
            from pyinstrument import Profiler

            with Profiler() as profiler:
                pm.model_predictions(snap, model, cutoff)
            print(profiler.output_text(color=False), file=sys.stderr)
    if not args.no_job:
        _, job_s = timed(train_for_current_version, url, True, lambda _m: None)
        out["training_job_s"] = round(job_s, 2)
        bundle = st.current_bundle(snap)
        result, bt_s = timed(pb.backtest, snap, select(snap), bundle)
        out["backtest_s"] = round(bt_s, 2)
        out["overall"] = result["overall"]
        rel = result["reliability"]
        out["reliability_max_gap_points"] = round(
            float(rel.loc[rel["enough"], "gap_points"].max()), 2
        )
        out["reliability_bins_enough"] = int(rel["enough"].sum())
        out["reliability"] = rel.round(4).to_dict("records")
        out["by_date"] = json.loads(result["by_date"].to_json(orient="records", date_format="iso"))
        out["decision"] = result["decision"]
        d = from_day(cutoff)
        pui.worklist(snap, d, None, None)
        _, page_s = timed(
            lambda: (
                pui.worklist(snap, d, None, None),
                pui.predicted_aging(snap, d, None, None),
                pui.backtest(snap, None, None),
            )
        )
        out["page_calls_warm_s"] = round(page_s, 4)
        _, cohort_s = timed(pui.cohorts, snap, d, None, None)
        out["cohorts_cold_s"] = round(cohort_s, 3)
    return out


def headline(out: dict) -> dict:
    """The side-by-side figures of one measurement."""
    overall = out.get("overall", {})
    model = overall.get("model", {})
    bases = [r["brier"] for k, r in overall.items() if k != "model" and r.get("brier") is not None]
    flat = {
        **out,
        "brier_model": model.get("brier"),
        "brier_best_baseline": min(bases) if bases else None,
        "within_7_days_model": model.get("within7"),
        "wape_model": model.get("wape"),
    }
    return {k: flat.get(k) for k in SIDE_BY_SIDE}


def main() -> None:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--url", default=None, help="use this database instead of a generated demo")
    parser.add_argument(
        "--no-job",
        action="store_true",
        help="train the current model only (skip the backtest models)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="measure with the earlier parameters too, side by side",
    )
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument profile of one scoring call (stderr)"
    )
    args = parser.parse_args()
    os.environ.setdefault("AR_MODEL_DIR", tempfile.mkdtemp(prefix="ar-models-"))

    from dashboard.metrics import predict as pm
    from dashboard.metrics.snapshot import load_snapshot

    url = args.url or ensure_demo(args.invoices, args.customers)
    snap, load_s = timed(load_snapshot, url)
    out = {
        "invoices": int((~snap.is_cn).sum()),
        "customers": snap.n_customers,
        "snapshot_load_s": round(load_s, 2),
    }
    if not args.compare:
        print(json.dumps({**out, **measure(snap, url, args)}, indent=1, default=str))
        return
    large = dict(pm.LARGE_PARAMS)
    runs = {}
    for name, params in (("before", {}), ("after", large)):
        pm.LARGE_PARAMS = params
        runs[name] = measure(snap, url, args)
        print(
            f"{name}: {json.dumps(headline(runs[name]), default=str)}", file=sys.stderr, flush=True
        )
    pm.LARGE_PARAMS = large
    out["side_by_side"] = {
        k: {name: headline(run)[k] for name, run in runs.items()} for k in SIDE_BY_SIDE
    }
    out["runs"] = runs
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
