"""Speed as a user sees it: headless Chromium against a live dashboard over an existing database.

Measures (issue 16 targets in brackets), each from the user's action until the screen has settled
(the awaited element shows the new figure, every chart on the page is drawn and no Dash callback or
spinner is in flight for 150 ms):
  - first render after login: submit the login form -> Receivables Health tiles and charts [<= 2 s]
    (the clock starts once the login page's script prefetches have arrived, as they do while a person
    types; --profile prints how long that took)
  - page change: a navigation link -> the new page drawn [<= 1 s]
  - filter change: pick a segment -> the Total AR tile shows the segment's figure [<= 0.7 s]
  - drill-down open: click the Total AR tile -> the drill modal's rows and totals [<= 1 s]

The server runs in this process (werkzeug, threaded, like tests/browser) with the ledger snapshot
loaded before the clock starts (its cold load is printed separately). Prediction training is off
(AR_PREDICT_AUTOTRAIN=0) so a background training job does not compete for the 2 cores. The
version's page warm-up (dashboard/views/warm.py) starts in the background 5 s after the snapshot is
served, i.e. while the browser runs; --warm-first runs it to its end before the clock starts instead
(a worker that has been up a minute before its first user, or a new version imported while nobody
looks).

    .venv/bin/python bench/bench_browser.py --database-url sqlite:////tmp/b16.db [--runs 2] [--profile] [--warm-first]

--profile prints, after each action, where its time went: every HTTP request the action caused
(Dash callbacks named by their outputs) with its server time and response size, the time before the
browser sent the first request, the server's busy span, and the time after the last response until
the page settled (Dash renderer, plotly drawing, AG Grid).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

USER, PASSWORD = "bench_admin", "bench-browser-pw-16"
CHROME_ARGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
).split()
TARGETS = {
    "first render after login": 2.0,
    "page change": 1.0,
    "filter change": 0.7,
    "drill-down open": 1.0,
}
PAGES = ("/collections", "/disputes", "/forecast", "/aging", "/")
BUSY = (
    "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
    " + document.querySelectorAll('.dash-spinner, .dash-default-spinner').length"
    " + Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => !g.querySelector('.main-svg')).length"
)
TIMEOUT = 120.0
PROFILE = False


def settle(driver, ready, started: float) -> float:
    """Seconds from started until ready(driver) holds and nothing is busy for 150 ms (that quiet time excluded)."""
    quiet_since = None
    while time.perf_counter() - started < TIMEOUT:
        ok = bool(ready(driver)) and driver.execute_script(BUSY) == 0
        now = time.perf_counter()
        if ok:
            quiet_since = quiet_since or now
            if now - quiet_since >= 0.15:
                return quiet_since - started
        else:
            quiet_since = None
        time.sleep(0.03)
    raise TimeoutError("the page did not settle")


def tile_text(driver, name: str) -> str:
    """The Total AR (or another) tile's value as shown."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : '';",
        f".ar-kpi-{name} .ar-kpi-value",
    )


class Recorder:
    """WSGI middleware: (start, end, path, what, request bytes, response bytes) of every request."""

    def __init__(self, app):
        self.app, self.records, self.lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        what = environ.get("PATH_INFO", "")
        body = b""
        if what.endswith("_dash-update-component"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            import io

            environ["wsgi.input"] = io.BytesIO(body)
            try:
                output = json.loads(body).get("output", "")
                what = "cb " + (output if len(output) < 90 else output[:87] + "...")
            except ValueError:
                pass
        out = b"".join(self.app(environ, start_response))
        with self.lock:
            self.records.append((t0, time.perf_counter(), what, len(body), len(out)))
        return [out]

    def since(self, started: float) -> list:
        with self.lock:
            return [r for r in self.records if r[0] >= started - 0.001]


RECORDER: Recorder | None = None
DRIVER = None
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
_last_metrics: dict = {}


def browser_metrics() -> dict:
    """The renderer's cumulative busy times (Chrome Performance.getMetrics, seconds)."""
    if DRIVER is None:
        return {}
    try:
        found = DRIVER.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    except Exception:  # noqa: BLE001 - a page between documents
        return {}
    return {m["name"]: m["value"] for m in found if m["name"] in METRICS}


def mark() -> None:
    """Remember the browser's busy times at the start of an action."""
    global _last_metrics
    _last_metrics = browser_metrics() if PROFILE else {}


def report(name: str, started: float, seconds: float) -> None:
    """Where an action's time went (requests it caused, server span, browser tail)."""
    if RECORDER is None:
        return
    recs = [r for r in RECORDER.since(started) if r[0] <= started + seconds]
    if not recs:
        print(f"  [{name}] {seconds:.2f} s, no request", flush=True)
        return
    first, last = min(r[0] for r in recs) - started, max(r[1] for r in recs) - started
    busy = sum(r[1] - r[0] for r in recs)
    kb = sum(r[4] for r in recs) / 1024
    now = browser_metrics()
    spent = " ".join(
        f"{k.replace('Duration', '')} {now[k] - _last_metrics.get(k, 0):.2f}"
        for k in METRICS
        if k in now and k in _last_metrics
    )
    print(
        f"  [{name}] {seconds:.2f} s: {len(recs)} requests, first sent at {first:.2f}, last answered at "
        f"{last:.2f}, server time summed {busy:.2f} s, {kb:.0f} KB; after last answer {seconds - last:.2f} s; "
        f"browser busy (s): {spent or 'n/a'}",
        flush=True,
    )
    for r in sorted(recs):
        print(
            f"      {r[0] - started:5.2f} +{r[1] - r[0]:5.3f}s {r[4] / 1024:7.1f} KB  {r[2]}",
            flush=True,
        )


def start_server(db_url: str):
    """The real app factory on a free port, in threads of this process."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    os.environ.update(
        DATABASE_URL=db_url,
        SECRET_KEY="bench-browser",
        AR_DEMO_ON_EMPTY="0",
        AR_PREDICT_AUTOTRAIN="0",
    )
    from dashboard.app import create_app
    from dashboard.auth.users import create_user

    try:
        create_user(USER, "admin", PASSWORD)
    except Exception:  # noqa: BLE001 - already there from an earlier run
        pass
    app = create_app()
    global RECORDER
    wsgi = app.server
    if PROFILE:
        RECORDER = Recorder(app.server.wsgi_app)
        app.server.wsgi_app = RECORDER
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def browser() -> webdriver.Chrome:
    """Headless Debian Chromium at 1440 x 1000."""
    options = Options()
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1440, 1000)
    return driver


PREFETCHED = (
    "const links = Array.from(document.querySelectorAll('link[rel=prefetch]')).map(l => l.href);"
    "const done = new Set(performance.getEntriesByType('resource').map(e => e.name));"
    "return links.filter(h => !done.has(h)).length;"
)


def wait_prefetched(driver, limit: float = 10.0) -> float:
    """Seconds until the login page's prefetches (if any) have arrived, as they would while a person types."""
    started = time.perf_counter()
    while driver.execute_script(PREFETCHED) and time.perf_counter() - started < limit:
        time.sleep(0.05)
    return time.perf_counter() - started


def first_render(driver, base: str) -> float:
    """Log in and wait for the home page's tiles and charts."""
    # a late response of the previous page can renew the session: log out again
    for _attempt in range(10):
        driver.get("about:blank")
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.get(base + "/login")
        if driver.find_elements(By.ID, "username"):
            break
        time.sleep(0.5)
    waited = wait_prefetched(driver)
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    if PROFILE and waited:
        print(
            f"  [login page] its script prefetches finished {waited:.2f} s after it loaded",
            flush=True,
        )
    mark()
    started = time.perf_counter()
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    seconds = settle(
        driver,
        lambda d: "/login" not in d.current_url and tile_text(d, "total_ar").startswith("$"),
        started,
    )
    report("first render", started, seconds)
    return seconds


def page_change(driver, path: str) -> float:
    """Click the navigation link to path and wait for the page."""
    link = driver.find_element(By.CSS_SELECTOR, f"a[href='{path}']")
    mark()
    started = time.perf_counter()
    driver.execute_script("arguments[0].click();", link)

    def ready(d):
        on_page = d.execute_script("return window.location.pathname") == path
        return on_page and d.find_elements(By.CSS_SELECTOR, "#_pages_content *, #_pages_content")

    seconds = settle(driver, ready, started)
    report("page " + path, started, seconds)
    return seconds


def filter_change(driver, value: str) -> float:
    """Pick a segment on Receivables Health and wait for the Total AR tile to change."""
    before = tile_text(driver, "total_ar")
    select = Select(driver.find_element(By.XPATH, '//select[contains(@id, \'"name":"segment"\')]'))
    mark()
    started = time.perf_counter()
    select.select_by_value(value)
    seconds = settle(driver, lambda d: tile_text(d, "total_ar") not in ("", before), started)
    report("filter " + value, started, seconds)
    return seconds


def drill_open(driver) -> float:
    """Click the Total AR tile and wait for the drill modal's rows and pinned totals."""
    tile = driver.find_element(By.CSS_SELECTOR, ".ar-kpi-total_ar .ar-kpi-click")
    mark()
    started = time.perf_counter()
    driver.execute_script("arguments[0].click();", tile)

    def ready(d):
        return d.execute_script(
            "const t = document.querySelector('.ar-drill-total');"
            "const p = document.querySelector('.ar-grid-drill .ag-floating-bottom');"
            "const r = document.querySelectorAll('.ar-grid-drill .ag-center-cols-container .ag-row');"
            "return !!(t && t.innerText.trim() && p && p.innerText.includes('Total') && r.length);"
        )

    seconds = settle(driver, ready, started)
    report("drill", started, seconds)
    return seconds


def close_drill(driver) -> None:
    """Close the drill modal (Escape) and wait for it to go."""
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    settle(
        driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal.show"), time.perf_counter()
    )


def segments(driver) -> list[str]:
    """The segment filter's values."""
    select = Select(driver.find_element(By.XPATH, '//select[contains(@id, \'"name":"segment"\')]'))
    return [
        o.get_attribute("value")
        for o in select.options
        if o.get_attribute("value") not in ("", "__all__")
    ]


def main() -> None:
    """Run the four measurements `runs` times and print them against the targets."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--profile", action="store_true", help="print where each action's time went"
    )
    parser.add_argument(
        "--warm-first",
        action="store_true",
        help="run the version's page warm-up (AR_WARM_PAGES) to its end before the clock starts, as a "
        "worker does while nobody uses it; without it the warm-up starts in the background as the "
        "browser does",
    )
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    from dashboard.metrics.snapshot import get_snapshot

    started = time.perf_counter()
    server, base = start_server(args.database_url)
    snap = get_snapshot(args.database_url)
    print(
        f"server up + snapshot loaded: {time.perf_counter() - started:.1f} s "
        f"({len(snap.inv_ids):,} invoices, {snap.n_customers:,} customers)",
        flush=True,
    )
    if args.warm_first:
        from dashboard.metrics.snapshot import warm_version

        started = time.perf_counter()
        warm_version(snap, args.database_url)
        print(f"page warm-up run first: {time.perf_counter() - started:.1f} s", flush=True)
    results: dict[str, list[float]] = {k: [] for k in TARGETS}
    driver = browser()
    global DRIVER
    if PROFILE:
        DRIVER = driver
        driver.execute_cdp_cmd("Performance.enable", {})
    try:
        for run in range(args.runs):
            results["first render after login"].append(first_render(driver, base))
            for path in PAGES:
                seconds = page_change(driver, path)
                results["page change"].append(seconds)
                print(f"run {run + 1}: page change to {path}: {seconds:.2f} s", flush=True)
            choices = segments(driver)
            for value in choices[run % len(choices) :][:2]:
                results["filter change"].append(filter_change(driver, value))
                results["drill-down open"].append(drill_open(driver))
                close_drill(driver)
            driver.get(base + "/")  # clear the filters for the next run
            print(
                f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()),
                flush=True,
            )
    finally:
        driver.quit()
        server.shutdown()
    print("\nmeasure                     first   median  max     target  met")
    for name, values in results.items():
        ok = "yes" if max(values) <= TARGETS[name] else "no"
        print(
            f"{name:27s} {values[0]:6.2f}  {statistics.median(values):6.2f}  {max(values):6.2f}  "
            f"{TARGETS[name]:5.1f}   {ok}"
        )


if __name__ == "__main__":
    main()
