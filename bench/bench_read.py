"""Columnar read path from SQL: every candidate reader of the whole ledger, side by side.

Each candidate reads all ledger tables (the core set plus commissions and activities) of the same
database in a fresh subprocess; the table shows its wall seconds and peak RSS (ru_maxrss, which
includes the ~130 MB of imports, shown as "base"), for SQLite and PostgreSQL in one run. Every
candidate's frames are brought to the typed contract of dashboard.data.ledger_load (untimed) and
compared by an order-independent digest of every table: "same" says they all agree.

Candidates:
  today       the previous loader: DBAPI fetchmany -> object numpy arrays per chunk
  read_sql    pandas.read_sql on the SQLAlchemy connection (dtype_backend="numpy_nullable")
  dbapi       ledger_load's fallback path: DBAPI fetchmany, typed per column
  adbc        ledger_load's default path: ADBC driver -> Arrow table -> typed frame (no Python rows);
              on SQLite the driver runs in a child process (its peak RSS shown as "+child")
  copy        PostgreSQL only: psycopg 3 binary COPY with set_types, rows -> typed columns
  connectorx  connectorx.read_sql(return_type="arrow") -> typed frame; NOT one transaction
              (one query at a time on its own connections), shown for speed only

    .venv/bin/python bench/bench_read.py                       # 1M invoices, both databases
    .venv/bin/python bench/bench_read.py --sqlite /path/x.db --pg-invoices 100000 --repeat 3

The SQLite file is copied to a temporary directory first (read-only source). The PostgreSQL
database (default ar_bench_read) is created and filled by the demo generator unless it already holds
--pg-invoices invoices (about 80 s for 1M).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CANDIDATES = ("today", "read_sql", "dbapi", "adbc", "copy", "connectorx")
PG_ONLY = {"copy"}
DEFAULT_SQLITE = "/work/benchdb/ar_1m.db"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/ar_bench_read"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- candidates (run in the child) ---------------------------------------------------------------


def _transaction(url: str):
    """The previous loader's transaction: one SQLAlchemy connection, REPEATABLE READ on PostgreSQL."""
    from dashboard.data.db import get_engine

    engine = get_engine(url)
    dialect = engine.dialect.name
    options = {} if dialect == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    return engine.connect().execution_options(**options), dialect


def read_today(url: str, tables: tuple[str, ...]) -> dict:
    """Exactly the loader before this change (object arrays from fetchmany chunks)."""
    import numpy as np
    import pandas as pd

    from dashboard.data.ledger_load import FETCH_ROWS, QUERIES, _render

    def read(conn, sql: str) -> pd.DataFrame:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            parts = []
            while rows := cursor.fetchmany(FETCH_ROWS):
                parts.append([np.asarray(col, dtype=object) for col in zip(*rows, strict=True)])
                del rows
        finally:
            cursor.close()
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return pd.DataFrame(
            {c: np.concatenate([p[i] for p in parts]) for i, c in enumerate(columns)}
        )

    conn, dialect = _transaction(url)
    with conn, conn.begin():
        conn.exec_driver_sql("SELECT version FROM data_version WHERE id = 1").scalar()
        return {name: read(conn, _render(QUERIES[name], dialect)) for name in tables}


def read_pandas_sql(url: str, tables: tuple[str, ...]) -> dict:
    import pandas as pd

    from dashboard.data.ledger_load import QUERIES, _render

    conn, dialect = _transaction(url)
    with conn, conn.begin():
        conn.exec_driver_sql("SELECT version FROM data_version WHERE id = 1").scalar()
        return {
            name: pd.read_sql(
                _render(QUERIES[name], dialect),
                conn.connection.driver_connection,
                dtype_backend="numpy_nullable",
            )
            for name in tables
        }


def read_ledger_path(url: str, tables: tuple[str, ...], reader: str) -> dict:
    from dashboard.data.ledger_load import read_ledger

    return read_ledger(url, tables, reader=reader).frames


def read_copy(url: str, tables: tuple[str, ...]) -> dict:
    """psycopg 3 binary COPY of each query, typed by the query's own result types."""
    import numpy as np
    import pandas as pd

    from dashboard.data.ledger_load import QUERIES, _kind, _render, _typed_values

    conn, dialect = _transaction(url)
    if dialect != "postgresql":
        raise SystemExit("copy: PostgreSQL only")
    frames = {}
    with conn, conn.begin():
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("SELECT version FROM data_version WHERE id = 1")
            for name in tables:
                sql = _render(QUERIES[name], dialect)
                cur.execute(f"SELECT * FROM ({sql}) q LIMIT 0")
                columns = [d.name for d in cur.description]
                oids = [d.type_code for d in cur.description]
                with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:
                    copy.set_types(oids)
                    rows = list(copy.rows())
                cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
                del rows
                frames[name] = pd.DataFrame(
                    {
                        c: _typed_values(np.asarray(v, dtype=object), _kind(c))
                        for c, v in zip(columns, cols, strict=True)
                    }
                )
    return frames


def read_connectorx(url: str, tables: tuple[str, ...]) -> dict:
    import connectorx as cx

    from dashboard.data.ledger_load import QUERIES, _render, adbc_target, arrow_frame

    dialect, uri = adbc_target(url)
    if dialect == "sqlite":
        uri = "sqlite://" + str(Path(uri).resolve())
    cx.read_sql(uri, "SELECT version FROM data_version WHERE id = 1", return_type="arrow")
    return {
        name: arrow_frame(cx.read_sql(uri, _render(QUERIES[name], dialect), return_type="arrow"))
        for name in tables
    }


def run_child(candidate: str, url: str) -> dict:
    """Read every table with one candidate: seconds, peak RSS and the digest of its frames."""
    import pandas as pd  # noqa: F401  (imports count in the base RSS, not in the read)

    from dashboard.data.ledger_load import CORE_TABLES, LAZY_TABLES

    tables = CORE_TABLES + LAZY_TABLES
    base = _rss_mb()
    started = time.perf_counter()
    if candidate == "today":
        frames = read_today(url, tables)
    elif candidate == "read_sql":
        frames = read_pandas_sql(url, tables)
    elif candidate in ("dbapi", "adbc"):
        frames = read_ledger_path(url, tables, candidate)
    elif candidate == "copy":
        frames = read_copy(url, tables)
    elif candidate == "connectorx":
        frames = read_connectorx(url, tables)
    else:
        raise SystemExit(f"unknown candidate {candidate}")
    seconds = time.perf_counter() - started
    peak = _rss_mb()
    # the SQLite ADBC reader's child process
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = sum(len(f) for f in frames.values())
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "child_mb": child,
        "base_mb": base,
        "rows": rows,
        "digest": digest(frames),
    }


# --- comparison ----------------------------------------------------------------------------------


def typed(frame):
    """Any candidate's frame in the typed contract of ledger_load (for the comparison only)."""
    import pandas as pd

    from dashboard.data.ledger_load import _kind, _typed_values

    return pd.DataFrame(
        {
            c: _typed_values(frame[c].astype(object).to_numpy(dtype=object), _kind(c))
            for c in frame.columns
        }
    )


def digest(frames: dict) -> str:
    """Order-independent digest of every table: names, columns, dtypes, row count, row hashes."""
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()
    for name in sorted(frames):
        frame = typed(frames[name])
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
        # wraps mod 2**64: row order does not matter
        total = int(rows.sum(dtype=np.uint64)) if len(rows) else 0
        h.update(
            json.dumps(
                [name, list(frame.columns), [str(t) for t in frame.dtypes], len(frame), total]
            ).encode()
        )
    return h.hexdigest()[:16]


# --- parent --------------------------------------------------------------------------------------


def measure(candidate: str, url: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", candidate, "--url", url],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:120]}
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    out["child_mb"] = max(r["child_mb"] for r in runs)
    out["digests"] = {r["digest"] for r in runs}
    return out


def ensure_pg(url: str, customers: int, invoices: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_metrics import ensure_database

    ensure_database(url, customers, invoices, False)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sqlite", default=DEFAULT_SQLITE, help="SQLite ledger to read (copied first)")
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL ('' to skip)")
    ap.add_argument("--pg-invoices", type=int, default=1_000_000)
    ap.add_argument("--pg-customers", type=int, default=50_000)
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs per candidate (median seconds, max RSS)"
    )
    ap.add_argument("--child")
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.url)))
        return

    candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    targets = []
    tmp = tempfile.mkdtemp(prefix="bench_read_")
    try:
        if args.sqlite:
            copy = Path(tmp) / "ledger.db"
            shutil.copyfile(args.sqlite, copy)
            targets.append(("SQLite", f"sqlite:///{copy}"))
        if args.pg:
            ensure_pg(args.pg, args.pg_customers, args.pg_invoices)
            targets.append(("PostgreSQL", args.pg))
        results: dict = {}
        for label, url in targets:
            for cand in candidates:
                if cand in PG_ONLY and not url.startswith("postgresql"):
                    continue
                results[(label, cand)] = r = measure(cand, url, args.repeat)
                print(
                    f"  {label:10} {cand:10} {json.dumps({k: v for k, v in r.items() if k != 'digests'}, default=str)}",
                    file=sys.stderr,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nread_ledger of the whole ledger (11 tables), median of {args.repeat} run(s), each in a fresh process; "
        f"{os.cpu_count()} CPUs"
    )
    header = f"{'candidate':12}" + "".join(
        f"{label + ' s':>16}{'peak RSS MB':>13}{'+child MB':>11}" for label, _ in targets
    )
    print(header)
    for cand in candidates:
        line = f"{cand:12}"
        for label, _ in targets:
            r = results.get((label, cand))
            if r is None:
                line += f"{'-':>16}{'-':>13}{'':>11}"
            elif "error" in r:
                line += f"{'error':>16}{'':>13}{'':>11}"
            else:
                child = f"{r['child_mb']:.0f}" if r["child_mb"] > 1 else ""
                line += f"{r['seconds']:>16.2f}{r['peak_mb']:>13.0f}{child:>11}"
        print(line)
    for label, _ in targets:
        mine = {c: r for (lab, c), r in results.items() if lab == label and "error" not in r}
        digests = set().union(*(r["digests"] for r in mine.values())) if mine else set()
        base = min((r["base_mb"] for r in mine.values()), default=0)
        rows = {r["rows"] for r in mine.values()}
        state = (
            "identical frames"
            if len(digests) == 1
            else f"DIFFERENT frames: { {c: sorted(r['digests']) for c, r in mine.items()} }"
        )
        print(
            f"{label}: {rows} rows, base RSS after imports ~{base:.0f} MB; {len(mine)} candidates: {state}"
        )
        for (lab, c), r in results.items():
            if lab == label and "error" in r:
                print(f"  {c} failed: {r['error']}")


if __name__ == "__main__":
    main()
