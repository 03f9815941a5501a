"""Demo data benchmark: generation, then loading into a fresh SQLite file (and PostgreSQL).

    .venv/bin/python bench/bench_demo.py --invoices 1000000 --customers 50000 [--postgres]

The frames are generated once and loaded with the same bulk path `load_demo` uses; each backend
gets a fresh database (SQLite under /tmp, PostgreSQL `ar_bench_demo_<pid>` on 127.0.0.1:5432, user
postgres) that is removed afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS = 180.0


def _pg_admin(sql: str) -> None:
    """Run one statement on the maintenance database in autocommit mode."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _load(url: str, frames: dict, progress: bool) -> tuple[float, float, float]:
    """Migrate a fresh database, then time the bulk load: (migrate s, load s, load CPU s here)."""
    from dashboard.data.demo import _load as load_frames
    from dashboard.data.schema import init_db

    started = time.perf_counter()
    init_db(url)
    migrated, cpu = time.perf_counter(), time.process_time()
    load_frames(url, frames, progress)
    return migrated - started, time.perf_counter() - migrated, time.process_time() - cpu


def bench_sqlite(frames: dict, progress: bool, keep: bool) -> dict:
    """Load into a new SQLite file under /tmp."""
    from dashboard.data.db import dispose_engines

    path = Path(tempfile.mkdtemp(prefix="ar_bench_demo_")) / "demo.db"
    migrate, load, cpu = _load(f"sqlite:///{path}", frames, progress)
    dispose_engines()
    size = path.stat().st_size
    if not keep:
        for extra in path.parent.iterdir():
            extra.unlink()
        path.parent.rmdir()
    return {
        "backend": "sqlite",
        "where": str(path),
        "migrate": migrate,
        "load": load,
        "cpu": cpu,
        "size_mb": size / 1e6,
    }


def bench_postgres(frames: dict, progress: bool, keep: bool) -> dict:
    """Load into a new PostgreSQL database, dropped afterwards."""
    from dashboard.data.db import dispose_engines

    name = f"ar_bench_demo_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        migrate, load, cpu = _load(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, frames, progress)
    finally:
        dispose_engines()
        if not keep:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"backend": "postgresql", "where": name, "migrate": migrate, "load": load, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    """Generate once, load into each backend, print the figures.

    Wall-clock times depend on what else runs on the machine; the CPU seconds of this process
    (PostgreSQL's server work excluded) show how much of it was our own work.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--postgres", action="store_true", help="also load into PostgreSQL")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)

    from dashboard.data.demo import generate_demo

    print(f"demo: {args.invoices:,} invoices, {args.customers:,} customers, seed {args.seed}, "
          f"today {args.today}, {os.cpu_count()} cores")  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    frames = generate_demo(args.customers, args.invoices, args.seed, args.today)
    generate, generate_cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = sum(len(f) for f in frames.values())
    print(
        f"generate             {generate:7.1f} s   {rows:,} rows in {len(frames)} tables "
        f"(CPU {generate_cpu:.1f} s)"
    )
    for name, frame in frames.items():
        print(f"    {name:<16} {len(frame):>10,}")
    results = [bench_sqlite(frames, args.progress, args.keep)]
    if args.postgres:
        results.append(bench_postgres(frames, args.progress, args.keep))
    for r in results:
        total = generate + r["load"]
        verdict = "within" if total <= TARGET_SECONDS else "OVER"
        size = f", file {r['size_mb']:.0f} MB" if "size_mb" in r else ""
        print(
            f"{r['backend']:<11} load    {r['load']:7.1f} s   {rows / r['load']:,.0f} rows/s "
            f"(CPU here {r['cpu']:.1f} s, schema {r['migrate']:.1f} s{size})"
        )
        print(
            f"{r['backend']:<11} total   {total:7.1f} s   generate + load, {verdict} the {TARGET_SECONDS:.0f} s target"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")
    if len(results) == 2:
        print(f"postgresql/sqlite load ratio {results[1]['load'] / results[0]['load']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
