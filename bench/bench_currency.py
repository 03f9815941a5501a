"""Several currencies against one: the full Receivables Health figure set on two demo ledgers of the
same size and seed, one in USD only (`--currencies USD`) and one with about 20 % of customers in EUR,
GBP or CAD (the default demo), measured side by side in one run (SQLite).

    .venv/bin/python bench/bench_currency.py                       # 1,000,000 invoices / 50,000 customers
    .venv/bin/python bench/bench_currency.py --invoices 100000 --customers 5000

The databases are kept in bench-results/ and reused (--rebuild to regenerate).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_metrics import combos, full_set, pct  # noqa: E402


def ensure(
    url: str, customers: int, invoices: int, currencies: tuple[str, ...], rebuild: bool
) -> None:
    """Create and fill the database unless it already holds this size."""
    from sqlalchemy import create_engine, text

    from dashboard.data.demo import load_demo
    from dashboard.data.schema import init_db

    init_db(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT COUNT(*) FROM invoices WHERE amount_cents > 0")).scalar()
    engine.dispose()
    if have == invoices and not rebuild:
        return
    started = time.perf_counter()
    load_demo(
        url=url,
        customers=customers,
        invoices=invoices,
        seed=7,
        progress=False,
        currencies=currencies,
    )
    print(f"generated {url} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def measure(url: str) -> dict:
    """Snapshot load, then the full figure set for 20 as-of/filter combinations (2 warm-up passes)."""
    from dashboard.metrics.filters import Filters
    from dashboard.metrics.snapshot import load_snapshot

    started = time.perf_counter()
    snap = load_snapshot(url)
    load_s = time.perf_counter() - started
    runs = combos(snap)
    for as_of, f in runs[:2]:
        full_set(snap, as_of, Filters(**f))
    times = []
    for as_of, f in runs:
        t = time.perf_counter()
        full_set(snap, as_of, Filters(**f))
        times.append((time.perf_counter() - t) * 1000)
    foreign = float((snap.inv_cur != 0).mean())
    return {
        "load_s": load_s,
        "p50_ms": statistics.median(times),
        "p95_ms": pct(times, 0.95),
        "max_ms": max(times),
        "foreign_invoices": foreign,
        "currencies": len(snap.rates.codes),
    }


def main() -> int:
    """Build (or reuse) both ledgers and print their figures side by side."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    data = ROOT / "bench-results"
    data.mkdir(parents=True, exist_ok=True)
    rows = {}
    for label, currencies in (
        ("one currency", ("USD",)),
        ("20 % foreign", ("USD", "EUR", "GBP", "CAD")),
    ):
        url = f"sqlite:///{data / f'currency-{label[:3].strip()}-{args.invoices}.db'}"
        ensure(url, args.customers, args.invoices, currencies, args.rebuild)
        rows[label] = measure(url)
    print(
        f"{args.invoices:,} invoices / {args.customers:,} customers, SQLite, full Receivables Health set x 20"
    )
    print(f"{'':16}{'load s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'foreign':>9}")
    for label, r in rows.items():
        print(
            f"{label:16}{r['load_s']:8.1f}{r['p50_ms']:9.1f}{r['p95_ms']:9.1f}{r['max_ms']:9.1f}{r['foreign_invoices']:9.1%}"
        )
    one, many = rows["one currency"], rows["20 % foreign"]
    print(
        f"ratio (foreign / one): p50 {many['p50_ms'] / one['p50_ms']:.2f}x, p95 {many['p95_ms'] / one['p95_ms']:.2f}x, "
        f"load {many['load_s'] / one['load_s']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
