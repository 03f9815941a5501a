"""Shared snapshot benchmark (issue 12): the production profile before and after, side by side.

    .venv/bin/python bench/bench_snapshot.py                          # 1M invoices / 50k customers, SQLite
    .venv/bin/python bench/bench_snapshot.py --postgres               # ... and PostgreSQL
    .venv/bin/python bench/bench_snapshot.py --invoices 10000000 --customers 500000 --no-before
    .venv/bin/python bench/bench_snapshot.py --builds --sqlite-path DB   # full build vs next version only
    .venv/bin/python bench/bench_snapshot.py --builds --next-before REF --sqlite-path DB
                                                     # ... and the next version by the code at REF

For each database it measures, in one run:
  build      `python -m dashboard snapshot build` into an empty store: seconds and the builder's peak RSS;
             then a 1,000-row import (500 invoices, 500 payments) and the next version's build
             (seconds from the import's commit); --builds: only this, next to a full build of the
             same version
  server     gunicorn with the production settings (gunicorn.conf.py, WEB_CONCURRENCY workers x
             GUNICORN_THREADS threads) while 8 clients call /api/kpis from the moment it listens:
             first answer, the moment every worker has served (each worker's ar_snapshot_version in
             /metrics), the slowest request, total proportional memory (PSS) of the server's
             processes, and /api/kpis p50/p95 over 20 as-of/filter combinations
  figures    the full Receivables Health figure set (bench_metrics.full_set) in one process on the
             mapped snapshot: p50/p95 over the same 20 combinations (the version's derived arrays
             built or mapped first, untimed, as a served version's warm-up leaves them)

"after + Redis" is the same server again with REDIS_URL (--redis, default the local Redis): the
workers share every figure that took >= AR_SHARED_CACHE_MIN_MS through Redis (the shared result
cache, dashboard/metrics/shared_cache.py), so a request another worker already answered is not
computed again.

"before" is the same server run from a checkout of --before (default ff30438, the last main with a
private in-process snapshot per worker), using this virtualenv; --no-before skips it.
Databases are generated once by the demo generator (bench_metrics.ensure_database) and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_metrics import ensure_database, pct, pg_url  # noqa: E402

USER, PASSWORD = "benchsnap", "bench-snapshot-password-1"
WORKER_PIDS = re.compile(r'ar_snapshot_version\{pid="(\d+)"\}\s+(\d+)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def env_for(url: str, store: Path, port: int, workers: int, threads: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "AR_SNAPSHOT_DIR": str(store),
        "AR_ENV": "production",
        "SECRET_KEY": "bench-snapshot-" + "x" * 40,
        "AR_SECURE_COOKIES": "0",
        "AR_DEMO_ON_EMPTY": "0",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "AR_PREDICT_AUTOTRAIN": "0",
        "AR_SCHEDULER": "off",
        "LOG_LEVEL": "WARNING",
        "AR_API_RATE_LIMIT": "100000 per minute",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="ar-bench-prom-"),
    }


def redis_reachable(redis_url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def forget_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)


def ensure_user(url: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard",
            "--database-url",
            url,
            "users",
            "add",
            "--username",
            USER,
            "--role",
            "controller",
            "--password-stdin",
        ],
        input=PASSWORD,
        text=True,
        cwd=ROOT,
        capture_output=True,
    )


def login(base: str):
    import requests

    session = requests.Session()
    page = session.get(base + "/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        base + "/login",
        data={"username": USER, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise SystemExit(f"login failed: {answer.status_code}")
    return session


def combos() -> list[str]:
    today = dt.date.today()
    dates = [today - dt.timedelta(days=n) for n in (0, 7, 30, 45, 90, 120, 180, 270, 365, 500)]
    filters = ["", "&segment=Enterprise", "&region=West", "&terms_group=short", "", "&segment=SMB"]
    return [
        f"/api/kpis?as_of={dates[i % len(dates)]}{filters[(i * 3) % len(filters)]}"
        for i in range(20)
    ]


def build(url: str, store: Path, root: Path = ROOT) -> dict:
    """`snapshot build` into store in a fresh process (the code of the checkout at root): seconds
    and the builder's peak RSS."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "from dashboard.cli import main; import dashboard.metrics.snapshot, dashboard.telemetry; "
        "import dashboard.metrics.store as st; ready = []\n"
        # the moment the new version is in place (renamed into the store: every process can map it)
        "def timed(f):\n"
        "    def g(*a, **k):\n"
        "        r = f(*a, **k); ready.append(time.perf_counter()); return r\n"
        "    return g\n"
        "for n in ('publish', 'publish_next'):\n"
        "    if hasattr(st.LedgerStore, n): setattr(st.LedgerStore, n, timed(getattr(st.LedgerStore, n)))\n"
        "loaded = time.perf_counter(); "
        "rc = main(['--database-url', sys.argv[1], 'snapshot', 'build']); end = time.perf_counter(); "
        "print('RESULT', end - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, end - loaded, "
        "(ready[-1] if ready else end) - loaded)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "AR_SNAPSHOT_DIR": str(store), "PYTHONPATH": str(root)},
        check=True,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT")][-1].split()
    # seconds: the whole process; build_s: build_version alone (a process with the modules loaded,
    # as a server or job worker has them), up to the new version's directory in place and old ones removed
    # ready_s: from the start of the build to the new version in place (before old versions are
    # removed and the files' background fsync ends)
    return {
        "seconds": float(line[1]),
        "peak_mb": float(line[2]),
        "build_s": float(line[3]),
        "ready_s": float(line[4]),
    }


IMPORT_INVOICES = 500  # a 1,000-row import: this many new invoices, and a payment in full for each


def small_import(url: str, tag: str) -> None:
    """A 1,000-row import through the importer (one transaction): 500 new invoices for existing
    customers and 500 new payments, each paying one of them in full (a whole-payment allocation)."""
    from dashboard.data.importer import run_import

    folder = Path(tempfile.mkdtemp(prefix="ar-bench-import-"))
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        customers = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT customer_id FROM customers WHERE currency IS NULL OR currency = '' "
                    "OR currency = 'USD' ORDER BY customer_id LIMIT 200"
                )
            )
        ]
    engine.dispose()
    today = dt.date.today()
    with (folder / "invoices.csv").open("w") as inv, (folder / "payments.csv").open("w") as pay:
        inv.write("invoice_id,customer_id,issue_date,due_date,amount\n")
        pay.write("payment_id,customer_id,date,amount,invoice_id\n")
        for i in range(IMPORT_INVOICES):
            customer, amount = customers[i % len(customers)], f"{100 + i}.{i % 100:02d}"
            # ids numbered like the demo's (INV0000001, PAY00000001): as wide as the stored ones,
            # so their columns take the new rows appended (a wider id rewrites its column)
            invoice = f"BNV{int(tag) % 100:02d}{i:05d}"
            inv.write(f"{invoice},{customer},{today},{today + dt.timedelta(days=30)},{amount}\n")
            pay.write(f"BNP{int(tag) % 1000:03d}{i:05d},{customer},{today},{amount},{invoice}\n")
    run_import(folder, url=url, progress=False)
    shutil.rmtree(folder)


def remove_import(url: str) -> None:
    """Take the benchmark's rows out again, so the database keeps its size for the next run."""
    from sqlalchemy import create_engine, text

    from dashboard.data.schema import bump_data_version

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM allocations WHERE payment_id LIKE 'BNP%'"))
        conn.execute(text("DELETE FROM payments WHERE payment_id LIKE 'BNP%'"))
        conn.execute(text("DELETE FROM invoices WHERE invoice_id LIKE 'BNV%'"))
        bump_data_version(conn)
    engine.dispose()


def newest_meta(store: Path) -> dict:
    """meta.json of the newest version in a store."""
    versions = sorted(store.glob("*/v*/meta.json"))
    return json.loads(versions[-1].read_text())


def builds(url: str, args) -> dict:
    """Full build vs the next version after a 1,000-row import, for the same data version: the
    current version built into an empty store; the import; the next version built from it; the
    same version built from scratch into a second empty store."""
    ensure_database(url, args.customers, args.invoices, False)
    root = Path(tempfile.mkdtemp(prefix="ar-bench-builds-"))
    out: dict = {"url": url.split("@")[-1]}
    old = None
    if args.next_before:
        old = before_tree(args.next_before)
        if old is None:
            raise SystemExit(f"cannot check out {args.next_before}")
    try:
        if old is not None:  # the same steps with the code at --next-before, its own store
            build(url, root / "before", old)
        build(url, root / "incremental")
        small_import(url, str(int(time.time())))
        if old is not None:
            out["next_before"] = build(url, root / "before", old)
            out["next_before_meta"] = newest_meta(root / "before")
        out["next"] = build(url, root / "incremental")
        out["next_meta"] = newest_meta(root / "incremental")
        out["full"] = build(url, root / "full")
        out["full_meta"] = newest_meta(root / "full")
    finally:
        remove_import(url)
        shutil.rmtree(root, ignore_errors=True)
    return out


def report_builds(r: dict, invoices: int) -> None:
    def s(v, unit="s", digits=1):
        return "-" if v is None else f"{v:,.{digits}f} {unit}"

    full, nxt = r["full"], r["next"]
    nm = r["next_meta"]
    before = r.get("next_before")
    bm = r.get("next_before_meta", {})
    fsync = os.environ.get("AR_SNAPSHOT_FSYNC", "1")
    print(f"\n## {r['url']}: {invoices:,} invoices, the version after a 1,000-row import")
    head = "| same data version | full build | next version from the previous one |"
    if before is not None:
        head += " next version, code at --next-before |"
    print(head)
    print("|---|---|---|" + ("---|" if before is not None else ""))

    def row(label: str, pick) -> None:
        cells = [pick(full), pick(nxt)] + ([pick(before)] if before is not None else [])
        print(f"| {label} | " + " | ".join(cells) + " |")

    row("`snapshot build` process, start to ready", lambda b: s(b["seconds"]))
    row(
        "the build (build_version, modules loaded: read, derive, write, old version removed)",
        lambda b: s(b["build_s"], digits=2),
    )
    row(
        "**ready**: the build until the new version is in place (every process can map it)",
        lambda b: s(b.get("ready_s"), digits=2),
    )
    row("builder peak RSS", lambda b: s(b["peak_mb"], "MB", 0))
    built_from = (
        f"| built from | the database | {nm.get('previous', 'the database (full build!)')} |"
    )
    if before is not None:
        built_from += f" {bm.get('previous', 'the database (full build!)')} |"
    print(built_from)
    print(f"(AR_SNAPSHOT_FSYNC={fsync}; load average {os.getloadavg()[0]:.1f})")


def serve(
    url: str,
    store: Path,
    root: Path,
    workers: int,
    threads: int,
    clients: int = 8,
    redis_url: str | None = None,
) -> dict:
    """Start gunicorn from root; clients call /api/kpis from the moment it listens. With redis_url
    the workers share their results through Redis (a private key prefix, removed afterwards)."""
    import requests

    port = free_port()
    env = env_for(url, store, port, workers, threads)
    env.pop("REDIS_URL", None)
    prefix = f"ar-bench-{port}-{int(time.time())}"
    if redis_url:
        env.update({"REDIS_URL": redis_url, "AR_JOBS_PREFIX": f"{prefix}:jobs"})
    if root != ROOT:
        env["PYTHONPATH"] = str(root)
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit("gunicorn stopped: " + log.read().decode(errors="replace")[-3000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        listening = time.perf_counter()
        session = login(base)
        cookies = session.cookies.get_dict()
        first: list[float] = []
        slowest = [0.0]
        stop = threading.Event()
        paths = combos()

        def client(n: int) -> None:
            s = requests.Session()
            s.cookies.update(cookies)
            i = n
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    ok = s.get(base + paths[i % len(paths)], timeout=300).status_code == 200
                except requests.RequestException:
                    ok = False
                if ok:
                    now = time.perf_counter()
                    slowest[0] = max(slowest[0], now - t)
                    if not first:
                        first.append(now - listening)
                i += 1

        threads_ = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
        for t in threads_:
            t.start()
        warm = None
        deadline = time.perf_counter() + 600
        while time.perf_counter() < deadline:
            try:  # a worker busy loading a private copy (before) may not answer for a while
                text = requests.get(base + "/metrics", timeout=120).text
            except requests.RequestException:
                continue
            pids = {pid for pid, _ in WORKER_PIDS.findall(text)}
            if len(pids) >= workers:
                warm = time.perf_counter() - listening
                break
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        for t in threads_:
            t.join(timeout=300)
        pss = pss_mb(tree(proc.pid))
        latencies = []
        for _ in range(3):
            for path in paths:
                t = time.perf_counter()
                session.get(base + path, timeout=60).raise_for_status()
                latencies.append((time.perf_counter() - t) * 1000)
        pss_after = pss_mb(tree(proc.pid))
        shared = {
            outcome: sum(
                float(v) for v in re.findall(pattern, requests.get(base + "/metrics").text)
            )
            for outcome, pattern in (
                ("hit", r'ar_result_cache_lookups_total\{[^}]*outcome="hit"[^}]*\} (\S+)'),
                ("miss", r'ar_result_cache_lookups_total\{[^}]*outcome="miss"[^}]*\} (\S+)'),
            )
        }
        return {
            "listen_s": listening - started,
            "first_s": first[0] if first else None,
            "all_workers_s": warm,
            "slowest_s": slowest[0],
            "pss_mb": max(pss, pss_after),
            "api_p50_ms": statistics.median(latencies),
            "api_p95_ms": pct(latencies, 0.95),
            "shared_hits": shared["hit"],
            "shared_misses": shared["miss"],
        }
    finally:
        if redis_url:
            forget_prefix(redis_url, prefix)
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def figures(url: str, store: Path) -> dict:
    """The full Receivables Health set on the mapped snapshot, in a fresh process."""
    code = (
        "import json, statistics, sys, time; sys.path[:0] = [sys.argv[2]]; "
        "from dashboard.metrics import service; from dashboard.metrics.snapshot import get_snapshot; "
        "list(service.derived_arrays(get_snapshot(sys.argv[1]))); "
        "from bench_metrics import time_engine; r, _ = time_engine(sys.argv[1]); print('RESULT', json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, str(ROOT / "bench")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "AR_SNAPSHOT_DIR": str(store)},
        check=True,
    )
    return json.loads(
        [x for x in out.stdout.splitlines() if x.startswith("RESULT")][-1].split(" ", 1)[1]
    )


def before_tree(ref: str) -> Path | None:
    path = Path(tempfile.gettempdir()) / f"ar-before-{ref}"
    if not path.exists():
        made = subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, capture_output=True
        )
        if made.returncode != 0:
            return None
    return path


def bench(url: str, args) -> dict:
    ensure_database(url, args.customers, args.invoices, False)
    ensure_user(url)
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="ar-bench-store-"))
    out: dict = {"url": url.split("@")[-1]}
    try:
        if args.store:  # an existing store whose current version is built: serving only
            out["build"] = out["next"] = {"seconds": None, "peak_mb": None}
        else:
            out["build"] = build(url, store)
            # the next version: measured from the import's commit
            small_import(url, str(int(time.time())))
            out["next"] = build(url, store)
        out["after"] = serve(url, store, ROOT, args.workers, args.threads)
        if args.redis and redis_reachable(args.redis):
            out["redis"] = serve(url, store, ROOT, args.workers, args.threads, redis_url=args.redis)
        out["figures"] = figures(url, store)
        old = None if args.no_before else before_tree(args.before)
        if old is not None:
            out["before"] = serve(url, store, old, args.workers, args.threads)
    finally:
        if not args.store:
            remove_import(url)
            shutil.rmtree(store, ignore_errors=True)
    return out


def report(r: dict, workers: int) -> None:
    def s(v, unit="s", digits=1):
        return "-" if v is None else f"{v:,.{digits}f} {unit}"

    a, b, c = r["after"], r.get("before", {}), r.get("redis", {})
    print(f"\n## {r['url']}")
    print(
        f"| {workers} gunicorn workers | before (private copy per worker) | after (shared store) "
        "| after + Redis (shared results) |"
    )
    print("|---|---|---|---|")
    print(
        f"| snapshot build (`snapshot build`, empty store) | (in every worker) | {s(r['build']['seconds'])}, "
        f"builder peak {s(r['build']['peak_mb'], 'MB', 0)} |"
    )
    print(
        f"| next version after a 1,000-row import: `snapshot build` process / ready (in place) "
        f"| (every worker reloads) | {s(r['next']['seconds'])} / {s(r['next'].get('ready_s'), digits=2)} |"
    )
    print(
        f"| first /api/kpis answer after listening | {s(b.get('first_s'))} | {s(a['first_s'])} "
        f"| {s(c.get('first_s'))} |"
    )
    print(
        f"| every worker has answered | {s(b.get('all_workers_s'))} | {s(a['all_workers_s'])} "
        f"| {s(c.get('all_workers_s'))} |"
    )
    print(
        f"| slowest request while warming | {s(b.get('slowest_s'))} | {s(a['slowest_s'])} "
        f"| {s(c.get('slowest_s'))} |"
    )
    print(
        f"| total PSS of the server's processes | {s(b.get('pss_mb'), 'MB', 0)} | {s(a['pss_mb'], 'MB', 0)} "
        f"| {s(c.get('pss_mb'), 'MB', 0)} |"
    )
    print(
        f"| /api/kpis over HTTP p50 / p95 | {s(b.get('api_p50_ms'), 'ms')} / {s(b.get('api_p95_ms'), 'ms')} "
        f"| {s(a['api_p50_ms'], 'ms')} / {s(a['api_p95_ms'], 'ms')} "
        f"| {s(c.get('api_p50_ms'), 'ms')} / {s(c.get('api_p95_ms'), 'ms')} |"
    )
    if c:
        print(
            f"| shared result cache (Redis) hits / misses | | | {c['shared_hits']:,.0f} / {c['shared_misses']:,.0f} |"
        )
    f = r["figures"]
    print(
        f"| full Receivables Health set in one process p50 / p95 | | {s(f['p50_ms'], 'ms')} / {s(f['p95_ms'], 'ms')} | |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--before", default="ff30438")
    parser.add_argument("--no-before", action="store_true")
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        help="also serve with REDIS_URL (the shared result cache) when reachable; '' skips it",
    )
    parser.add_argument(
        "--sqlite-path", default=None, help="SQLite file (default bench-results/ar_bench_<n>k.db)"
    )
    parser.add_argument(
        "--store", default=None, help="serve from this existing snapshot store (no build measured)"
    )
    parser.add_argument(
        "--pg-name", default=None, help="PostgreSQL database (default ar_bench_<n>k)"
    )
    parser.add_argument(
        "--builds",
        action="store_true",
        help="only the builds: full build vs the next version after a 1,000-row import, side by side",
    )
    parser.add_argument(
        "--next-before",
        default=None,
        help="with --builds: also the next version built by the code at this git ref (a worktree), "
        "from its own previous version of the same data, side by side",
    )
    args = parser.parse_args()
    tag = f"{args.invoices // 1000}k"
    urls = []
    if not args.no_sqlite:
        path = Path(args.sqlite_path or ROOT / "bench-results" / f"ar_bench_{tag}.db")
        path.parent.mkdir(exist_ok=True)
        urls.append(f"sqlite:///{path}")
    if args.postgres:
        urls.append(pg_url(args.pg_name or f"ar_bench_{tag}"))
    for url in urls:
        if args.builds:
            report_builds(builds(url, args), args.invoices)
        else:
            report(bench(url, args), args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
