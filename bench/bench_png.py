"""PNG export benchmark: one browser per export (kaleido's one-shot API) against the persistent
kaleido browser of dashboard.export.png, cold (first export of a process) and warm, serial and from
concurrent threads, measured side by side in one run.

    .venv/bin/python bench/bench_png.py                  # 20 warm exports, 3 one-shot exports
    .venv/bin/python bench/bench_png.py --warm 50 --oneshot 5 --threads 8

The figures are the Receivables Health charts built by dashboard.figures from synthetic rows (no
database needed), exported at 900 x 450 px with a two-line caption, as /export/chart/<name>.png does.
Target: warm export <= 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import struct
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAPTION = (
    "Top 10 debtors\nas of 2026-03-31 | filters: due-date aging · segment Retail | scope: all customers | "
    "generated 2026-04-01 07:00:00 UTC"
)


def figures() -> list[tuple[str, dict]]:
    """(name, figure dict) of the five Receivables Health charts, from synthetic data."""
    import pandas as pd

    from dashboard.figures import aging, debtors, trends

    buckets = list(aging.DUE_LABELS)
    frame = pd.DataFrame(
        [
            {
                "terms_group": g,
                "bucket": b,
                "amount_cents": (i + 1) * 1_234_567 * (2 if g == "long" else 1),
            }
            for g in ("short", "long")
            for i, b in enumerate(buckets)
        ]
    )
    top = [
        {
            "customer_id": f"C{i:05d}",
            "name": f"Customer {i} Holdings",
            "balance": f"{(11 - i) * 98765}.43",
        }
        for i in range(1, 11)
    ]
    months = [
        (dt.date(2025, 5, 1) + dt.timedelta(days=31 * i)).strftime("%Y-%m") for i in range(12)
    ]
    trend = pd.DataFrame(
        {
            "month": months,
            "month_end": [dt.date.fromisoformat(m + "-28") for m in months],
            "credit_sales_cents": [500_000_00 + i * 1_234_00 for i in range(12)],
            "collections_cents": [480_000_00 + i * 2_345_00 for i in range(12)],
            "ar_cents": [900_000_00 + i * 10_000_00 for i in range(12)],
            "dso": [55.0 + i for i in range(12)],
        }
    )
    return [
        ("aging_short", aging.aging_donut(frame, "short", "due", "USD")),
        ("aging_long", aging.aging_donut(frame, "long", "due", "USD")),
        ("top_debtors", debtors.top_debtors_bar(top, "USD")),
        ("sales_collections", trends.sales_collections(trend, "USD")),
        ("dso_trend", trends.dso_trend(trend, 90, "USD")),
    ]


def size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def pct(values: list[float], q: float) -> float:
    """A percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def oneshot(figs: list[tuple[str, dict]], runs: int) -> list[float]:
    """kaleido.calc_fig_sync without a server: a browser is started and closed for every image."""
    import kaleido

    from dashboard.export.png import export_figure

    times = []
    for i in range(runs):
        _name, fig = figs[i % len(figs)]
        start = time.perf_counter()
        data = kaleido.calc_fig_sync(
            export_figure(fig),
            {"format": "png", "width": 900, "height": 450},
            kopts={"mathjax": False},
        )
        times.append(time.perf_counter() - start)
        assert bytes(data).startswith(b"\x89PNG")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=20, help="warm exports to time (serial)")
    parser.add_argument(
        "--oneshot", type=int, default=3, help="one-browser-per-export runs to time"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads for the concurrent run")
    args = parser.parse_args()

    from dashboard.export import png

    figs = figures()
    start = time.perf_counter()
    first = png.figure_png(figs[0][1], 900, 450, CAPTION)
    cold = time.perf_counter() - start
    assert size(first) == (900, 450)

    warm = []
    for i in range(args.warm):
        _name, fig = figs[i % len(figs)]
        start = time.perf_counter()
        data = png.figure_png(fig, 900, 450, CAPTION)
        warm.append(time.perf_counter() - start)
        assert size(data) == (900, 450)

    # concurrent: every thread asks for its own size; the lock must keep images apart
    errors: list[str] = []
    per_thread = max(1, args.warm // args.threads)

    def work(t: int) -> None:
        for i in range(per_thread):
            want = (600 + 20 * t, 300 + 10 * i)
            got = size(png.figure_png(figs[(t + i) % len(figs)][1], *want, CAPTION))
            if got != want:
                errors.append(f"thread {t}: asked {want}, got {got}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(args.threads)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent = time.perf_counter() - start
    png.stop()

    shots = oneshot(figs, args.oneshot) if args.oneshot else []
    p50 = statistics.median(warm)
    print(
        f"PNG export, 900x450 px with caption ({len(figs)} Receivables Health charts, kaleido + chromium)"
    )
    print(f"  cold (first export, starts the browser)      {cold:6.2f} s")
    print(
        f"  warm, persistent browser  p50 {p50:6.3f} s   p95 {pct(warm, 95):6.3f} s   max {max(warm):6.3f} s"
        f"   (n={len(warm)}, target <= 0.5 s: {'met' if pct(warm, 95) <= 0.5 else 'NOT met'})"
    )
    total = per_thread * args.threads
    print(
        f"  concurrent, {args.threads} threads x {per_thread}     {concurrent:6.2f} s total, "
        f"{concurrent / total:6.3f} s per image (serialised by the lock), mixed-up images: {len(errors)}"
    )
    if shots:
        mean = statistics.mean(shots)
        print(f"  one browser per export    mean {mean:6.2f} s   (n={len(shots)})")
        print(
            f"  speed-up of the persistent browser (one-shot mean / warm p50): {mean / p50:5.1f}x"
        )
    for error in errors:
        print("  ERROR", error)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
