"""Metrics engine benchmark: snapshot load (SQLite and PostgreSQL), peak memory, and the full
Receivables Health figure set for 20 as-of/filter combinations against naive one-query-per-figure SQL.

    .venv/bin/python bench/bench_metrics.py                 # 1,000,000 invoices / 50,000 customers
    .venv/bin/python bench/bench_metrics.py --invoices 100000 --customers 5000 --no-postgres

The databases are generated once with the demo generator and reused (--rebuild to regenerate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def ensure_database(url: str, customers: int, invoices: int, rebuild: bool) -> None:
    """Create and fill the benchmark database unless it already holds this size."""
    from sqlalchemy import create_engine, text

    from dashboard.data.demo import load_demo
    from dashboard.data.schema import init_db

    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    init_db(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT COUNT(*) FROM invoices WHERE amount_cents > 0")).scalar()
    engine.dispose()
    if have == invoices and not rebuild:
        print(f"reusing {url.split('@')[-1]} ({have:,} invoices)", file=sys.stderr)
        return
    started = time.perf_counter()
    # one currency: the naive SQL it is compared with knows no exchange rates (bench_currency.py
    # measures the same figure set with 20 % of the ledger in other currencies, side by side)
    load_demo(
        url=url, customers=customers, invoices=invoices, seed=7, progress=False, currencies=("USD",)
    )
    print(
        f"generated {url.split('@')[-1]} in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )


def load_once(url: str) -> dict:
    """Read and build the snapshot once in this process: seconds and peak RSS."""
    from dashboard.data.ledger_load import read_ledger
    from dashboard.metrics.snapshot import build_snapshot

    started = time.perf_counter()
    tables = read_ledger(url)
    read = time.perf_counter() - started
    build_snapshot(tables)
    total = time.perf_counter() - started
    return {
        "read_s": read,
        "load_s": total,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_load(url: str) -> dict:
    """Load the snapshot in a fresh process, so the peak memory is the snapshot's own."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure-load", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def combos(snap) -> list[tuple[dt.date, dict]]:
    """20 as-of dates and filter combinations spread over the data."""
    import numpy as np

    today = dt.date.today()
    dates = [today - dt.timedelta(days=n) for n in (0, 7, 30, 45, 90, 120, 180, 270, 365, 500)]
    seg = sorted(set(snap.segment) - {""})
    reg = sorted(set(snap.region) - {""})
    tiers = sorted(set(snap.tier) - {""})
    reps = sorted(set(snap.cust_rep) - {""})
    rng = np.random.default_rng(3)
    filters = [
        {},
        {"segment": seg[0]},
        {"region": reg[1 % len(reg)]},
        {"tier": tiers[-1]},
        {"sales_rep": reps[len(reps) // 2]},
        {"segment": seg[-1], "region": reg[0]},
        {"terms_group": "short"},
        {},
        {"segment": seg[1 % len(seg)]},
        {"sales_rep": reps[int(rng.integers(len(reps)))]},
    ]
    return [(dates[i % len(dates)], filters[(i * 3) % len(filters)]) for i in range(20)]


def full_set(snap, as_of: dt.date, filters) -> dict:
    """Everything Receivables Health shows: contract keys, previous period, trends, donuts, lists."""
    from dashboard.metrics import tables
    from dashboard.metrics.kpis import compute_kpis

    return {
        "kpis": compute_kpis(snap, as_of, 90, filters),
        "previous": compute_kpis(snap, as_of - dt.timedelta(days=90), 90, filters),
        "trend": tables.monthly_trend(snap, as_of, 12, 90, filters),
        "donuts": tables.aging_by_terms_group(snap, as_of, filters),
        "at_risk": tables.at_risk_accounts(snap, as_of, filters, limit=12),
        "top_overdue": tables.top_overdue_invoices(snap, as_of, filters),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_engine(url: str) -> tuple[dict, list]:
    from dashboard.metrics.filters import Filters
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot(url)
    runs = combos(snap)
    times = []
    for as_of, f in runs:
        t = time.perf_counter()
        full_set(snap, as_of, Filters(**f))
        times.append((time.perf_counter() - t) * 1000)
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": pct(times, 0.95),
        "max_ms": max(times),
        "mean_ms": statistics.mean(times),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, list(zip(runs, times, strict=True))


def time_naive(url: str, runs: list, n: int) -> dict:
    from naive_sql import NaiveSQL

    from dashboard.metrics.filters import Filters
    from dashboard.metrics.kpis import compute_kpis
    from dashboard.metrics.snapshot import get_snapshot

    snap = get_snapshot(url)
    times, agree = [], True
    for (as_of, f), _engine_ms in runs[:n]:
        naive = NaiveSQL(
            url, {"rep" if k == "sales_rep" else k: v for k, v in f.items() if k != "terms_group"}
        )
        if "terms_group" in f:
            continue
        t = time.perf_counter()
        result = naive.figure_set(as_of)
        times.append((time.perf_counter() - t) * 1000)
        engine_total = compute_kpis(snap, as_of, 90, Filters(**f))["total_ar"]
        agree &= f"{result['total_ar'] / 100:.2f}" == engine_total
    return {
        "runs": len(times),
        "mean_ms": statistics.mean(times),
        "p50_ms": statistics.median(times),
        "agree": agree,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument(
        "--naive-runs", type=int, default=3, help="combinations timed with naive SQL (slow)"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--dir", default="/tmp/ar-bench")
    parser.add_argument("--measure-load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_load:
        print(json.dumps(load_once(args.measure_load)))
        return 0
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    tag = f"{args.invoices}_{args.customers}"
    sqlite = f"sqlite:///{args.dir}/bench_{tag}.db"
    urls = {"sqlite": sqlite}
    if not args.no_postgres:
        urls["postgresql"] = pg_url(f"ar_bench_{tag}")
    for url in urls.values():
        ensure_database(url, args.customers, args.invoices, args.rebuild)
    report: dict = {"invoices": args.invoices, "customers": args.customers, "cpus": os.cpu_count()}
    for name, url in urls.items():
        report[f"load_{name}"] = measure_load(url)
        print(f"load {name}: {report[f'load_{name}']}", file=sys.stderr, flush=True)
    engine, runs = time_engine(sqlite)
    report["engine"] = engine
    print(f"engine: {engine}", file=sys.stderr, flush=True)
    report["naive_sqlite"] = time_naive(sqlite, runs, args.naive_runs)
    print(f"naive sqlite: {report['naive_sqlite']}", file=sys.stderr, flush=True)
    report["speedup_sqlite"] = report["naive_sqlite"]["mean_ms"] / statistics.mean(
        t for _r, t in runs[: args.naive_runs]
    )
    if "postgresql" in urls:
        report["naive_postgresql"] = time_naive(urls["postgresql"], runs, args.naive_runs)
        report["speedup_postgresql"] = report["naive_postgresql"]["mean_ms"] / statistics.mean(
            t for _r, t in runs[: args.naive_runs]
        )
    print_report(report)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / f"metrics_{tag}.json").write_text(json.dumps(report, indent=2))
    return 0


def print_report(r: dict) -> None:
    print(
        f"\nMetrics benchmark: {r['invoices']:,} invoices / {r['customers']:,} customers, {r['cpus']} cores"
    )
    for key in [k for k in r if k.startswith("load_")]:
        v = r[key]
        print(
            f"  snapshot load from {key[5:]:<10}: {v['load_s']:6.2f} s (SQL read {v['read_s']:.2f} s), peak {v['peak_mb']:,.0f} MB"
        )
    e = r["engine"]
    print(
        f"  engine, full Receivables Health set x20: p50 {e['p50_ms']:.1f} ms, p95 {e['p95_ms']:.1f} ms, max {e['max_ms']:.1f} ms; process peak {e['peak_mb']:,.0f} MB"
    )
    for key in [k for k in r if k.startswith("naive_")]:
        v = r[key]
        print(
            f"  naive SQL on {key[6:]:<10} ({v['runs']} runs): mean {v['mean_ms']:,.0f} ms per set; totals agree with engine: {v['agree']}"
        )
    for key in [k for k in r if k.startswith("speedup_")]:
        print(f"  engine speed-up vs naive {key[8:]}: {r[key]:,.0f}x (same combinations, same run)")


if __name__ == "__main__":
    raise SystemExit(main())
