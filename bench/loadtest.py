"""Load test: N concurrent logged-in users for a bounded time against a running dashboard.

Plain Python threads and requests; nothing from the internet. Every virtual user logs in through
the real form (CSRF token), then loops over a weighted mix of what people do:

    page     GET / (Receivables Health) or /customers/<id> (Account 360): the HTML page
    callback a filter change on Receivables Health: the shell's filter callback (URL -> filters
             store) and then every page callback a browser fires for the new filters (KPI tiles,
             aging donuts, top debtors, trends, at-risk cards), `--parallel` at a time like a browser
    drill    a drill-down: the modal callback, the grid's columns callback and its first block of
             100 rows (the infinite row model's first getRowsRequest)
    api      GET /api/kpis with a random as-of date and filter
    export   GET /api/export/open_invoices.csv with a random filter

Callback requests are built from the app itself: /_dash-dependencies gives every callback's inputs,
outputs and state; /_dash-layout plus the page router's callback give the components on the page,
which fill in pattern-matching (ALL / MATCH) ids, exactly as dash-renderer does. Filter values come
from the filter bar's own options callback; customer ids from the customers export.

    .venv/bin/python bench/loadtest.py --base http://127.0.0.1:8050 --username loadtest \
        --password-file /tmp/lt/password --users 50 --duration 300

Before measuring it waits until the server answers /api/kpis quickly from every worker (each
gunicorn worker loads its own snapshot on its first request: 10-30 s at a million invoices).
Reports p50/p95/p99/max latency per request kind and overall, error count, and throughput.
`--sets N` measures instead the full Receivables Health set over HTTP: one user, N filter changes
one after another, each timed until all its callbacks have answered.
Only loopback addresses are accepted; users, duration and request timeouts are bounded.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

MAX_USERS = 200
MAX_DURATION = 3600
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
KINDS = ("page", "callback", "drill", "api", "export")
WEIGHTS = {"page": 20, "callback": 35, "drill": 15, "api": 20, "export": 10}
FILTER_NAMES = ("segment", "region", "tier", "sales_rep")
BLOCK_ROWS = 100  # rows of a grid block (components/grid.py BLOCK_ROWS)


# ---- results ------------------------------------------------------------------------------------


@dataclass
class Results:
    """Latencies (seconds) and errors per request kind, thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    retried: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_callback: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(
        self,
        kind: str,
        seconds: float,
        ok: bool,
        detail: str = "",
        name: str | None = None,
        retried: bool = False,
    ) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if retried:
                self.retried[kind] += 1
            if name:
                self.by_callback[name].append(seconds)
            if not ok:
                self.errors[kind] += 1
                if len(self.samples) < 20:
                    self.samples.append(f"{kind}: {detail}"[:300])


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(round(q / 100 * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1] * 1000


def summary(results: Results, elapsed: float) -> dict:
    """Per kind and overall: count, errors, p50/p95/p99/max in ms, requests per second."""
    rows = {}
    every: list[float] = []
    for kind in (*KINDS, *sorted(set(results.times) - set(KINDS))):
        values = results.times.get(kind, [])
        every += values
        rows[kind] = _row(
            values, results.errors.get(kind, 0), elapsed, results.retried.get(kind, 0)
        )
    rows["overall"] = _row(
        every, sum(results.errors.values()), elapsed, sum(results.retried.values())
    )
    callbacks = {name: _row(v, 0, elapsed) for name, v in sorted(results.by_callback.items())}
    return {
        "elapsed_s": round(elapsed, 1),
        "kinds": rows,
        "callbacks": callbacks,
        "error_samples": results.samples,
    }


def _row(values: list[float], errors: int, elapsed: float, retried: int = 0) -> dict:
    return {
        "count": len(values),
        "errors": errors,
        "retried": retried,
        "p50_ms": round(pct(values, 50)),
        "p95_ms": round(pct(values, 95)),
        "p99_ms": round(pct(values, 99)),
        "max_ms": round(max(values) * 1000) if values else None,
        "mean_ms": round(statistics.fmean(values) * 1000) if values else None,
        "rps": round(len(values) / elapsed, 2) if elapsed else None,
    }


def print_table(report: dict, out=sys.stdout) -> None:
    """The summary as a Markdown table."""
    print(
        "| kind | requests | errors | retried | p50 ms | p95 ms | p99 ms | max ms | req/s |",
        file=out,
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|", file=out)
    for kind, r in report["kinds"].items():
        if r["count"] or kind == "overall":
            print(
                f"| {kind} | {r['count']} | {r['errors']} | {r['retried']} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['max_ms']} | {r['rps']} |",
                file=out,
            )
    if report["callbacks"]:
        print("\n| callback | requests | p50 ms | p95 ms | p99 ms | max ms |", file=out)
        print("|---|---:|---:|---:|---:|---:|", file=out)
        for name, r in report["callbacks"].items():
            print(
                f"| {name} | {r['count']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |",
                file=out,
            )
    for sample in report["error_samples"]:
        print(f"error: {sample}", file=out)


# ---- logging in -----------------------------------------------------------------------------------


def new_session(keepalive: bool = True) -> requests.Session:
    """A requests session that, like a browser, resends a request once when a kept-alive connection
    turns out to be closed by the server (gunicorn closes idle ones after --keep-alive 2 s); such
    retries are counted and reported, never hidden."""
    session = requests.Session()
    retry = Retry(
        total=1, connect=1, read=1, status=0, other=0, allowed_methods=None, raise_on_status=False
    )
    session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=8))
    # one connection per request, as behind a reverse proxy that does not keep them
    if not keepalive:
        session.headers["Connection"] = "close"
    return session


def login(
    base: str, username: str, password: str, timeout: float, keepalive: bool = True
) -> requests.Session:
    """A session logged in through the form (CSRF token from GET /login)."""
    session = new_session(keepalive)
    page = session.get(base + "/login", timeout=timeout)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not match:
        raise RuntimeError(f"no login form at {base}/login (status {page.status_code})")
    response = session.post(
        base + "/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
        allow_redirects=False,
        timeout=timeout,
    )
    if response.status_code != 302:
        raise RuntimeError(
            f"login as {username} failed: {response.status_code} {response.text[:200]}"
        )
    return session


def wait_listening(base: str, timeout: float) -> None:
    """Wait until the server answers GET /login (it may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/login", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers at {base}/login after {timeout:.0f} s")
        time.sleep(1)


def wait_ready(
    base: str, session: requests.Session, timeout: float, probes: int, fast: float
) -> float:
    """Wait until `probes` concurrent /api/kpis calls all answer 200 within `fast` seconds.

    Several rounds of concurrent probes reach every gunicorn worker, so each one has loaded its
    snapshot before the measurement starts. Returns the seconds waited.
    """
    started = time.monotonic()

    def probe(_i: int) -> tuple[bool, float]:
        t0 = time.monotonic()
        try:
            ok = session.get(base + "/api/kpis", timeout=max(timeout, 1)).status_code == 200
        except requests.RequestException:
            ok = False
        return ok, time.monotonic() - t0

    good_rounds = 0
    with ThreadPoolExecutor(probes) as pool:
        while time.monotonic() - started < timeout:
            outcome = list(pool.map(probe, range(probes)))
            if all(ok and took <= fast for ok, took in outcome):
                good_rounds += 1
                if good_rounds >= 3:
                    return time.monotonic() - started
            else:
                good_rounds = 0
                time.sleep(1)
    raise RuntimeError(f"server not ready after {timeout:.0f} s")


# ---- the Dash app, as dash-renderer sees it ---------------------------------------------------------


def walk(node, out: list) -> None:
    """Every component (dict with props) in a layout tree."""
    if isinstance(node, list):
        for item in node:
            walk(item, out)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            out.append(node)
            for value in node["props"].values():
                walk(value, out)
        else:
            for value in node.values():
                walk(value, out)


def parse_id(raw: str):
    """A dependency id: a plain string, or a dict for pattern-matching ids (JSON in /_dash-dependencies)."""
    return json.loads(raw) if raw.startswith("{") else raw


def matches(pattern, concrete) -> bool:
    """True when a concrete component id fits a (possibly wildcard) dependency id."""
    if isinstance(pattern, str) or isinstance(concrete, str):
        return pattern == concrete
    if set(pattern) != set(concrete):
        return False
    return all(isinstance(v, list) or concrete[k] == v for k, v in pattern.items())


def wildcard(pattern) -> str | None:
    """ "ALL" or "MATCH" when the id has such a wildcard, else None."""
    if isinstance(pattern, dict):
        for value in pattern.values():
            if isinstance(value, list) and value:
                return value[0]
    return None


def split_output(output: str) -> list[tuple[str, str]]:
    """(id, property) pairs of a callback's output string ("..a.b...c.d.." or "a.b")."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        out.append((ident, prop.split("@")[0]))
    return out


class DashApp:
    """Callback requests built from /_dash-dependencies and the components on a page."""

    def __init__(self, session: requests.Session, base: str, timeout: float) -> None:
        self.base, self.timeout = base, timeout
        self.deps = session.get(base + "/_dash-dependencies", timeout=timeout).json()
        shell = session.get(base + "/_dash-layout", timeout=timeout).json()
        self.shell: list = []
        walk(shell, self.shell)
        self.pages: dict[str, list] = {}
        self.session = session

    def find(self, output_part: str, inputs: list[str] | None = None) -> dict:
        """The dependency whose output contains output_part (and whose inputs are these, if given)."""
        for dep in self.deps:
            if output_part in dep["output"] and not dep.get("clientside_function"):
                if (
                    inputs is None
                    or [f"{i['id']}.{i['property']}" for i in dep["inputs"]] == inputs
                ):
                    return dep
        raise KeyError(output_part)

    def router(self) -> dict:
        return self.find("_pages_content.children")

    def page_components(self, path: str) -> list:
        """The shell's components plus those of the page the router renders at path."""
        if path not in self.pages:
            dep = self.router()
            values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): ""}
            body = self.body(dep, self.shell, values)
            response = self.session.post(
                self.base + "/_dash-update-component",
                json=body,
                timeout=self.timeout,
                headers={"Referer": self.base + path},
            )
            response.raise_for_status()
            content = response.json()["response"]["_pages_content"]["children"]
            found: list = []
            walk(content, found)
            self.pages[path] = self.shell + found
        return self.pages[path]

    @staticmethod
    def ids(components: list) -> list:
        return [c["props"]["id"] for c in components if "id" in c["props"]]

    def present(self, dep: dict, components: list) -> bool:
        """True when every output of dep exists among components (what the renderer would fire)."""
        ids = self.ids(components)
        for ident, _prop in split_output(dep["output"]):
            pattern = parse_id(ident)
            if not any(matches(pattern, c) for c in ids):
                return False
        return True

    def body(
        self,
        dep: dict,
        components: list,
        values: dict,
        changed: list[str] | None = None,
        match: dict | None = None,
    ) -> dict:
        """A /_dash-update-component body for dep: ids expanded, values[(id, prop)] filled in.

        values keys use the component id (a string, or the JSON of a dict id); a callable value
        gets the concrete id. match fixes the MATCH wildcard keys (e.g. {"grid": "drill"}).
        """
        ids = self.ids(components)

        def concrete(ident: str) -> list:
            pattern = parse_id(ident)
            kind = wildcard(pattern)
            if kind is None:
                return [pattern]
            found = [c for c in ids if matches(pattern, c)]
            if kind == "MATCH" and match:
                found = [c for c in found if all(c.get(k) == v for k, v in match.items())]
                found = found[:1] or [
                    {
                        k: (match.get(k, v[0]) if isinstance(v, list) else v)
                        for k, v in pattern.items()
                    }
                ]
            return found

        def value(cid, prop):
            key = (json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid, prop)
            got = values.get(key)
            return got(cid) if callable(got) else got

        def entries(deps: list[dict]) -> list:
            out = []
            for dep_item in deps:
                pattern = parse_id(dep_item["id"])
                items = [
                    {
                        "id": c,
                        "property": dep_item["property"],
                        "value": value(c, dep_item["property"]),
                    }
                    for c in concrete(dep_item["id"])
                ]
                out.append(items if wildcard(pattern) == "ALL" else items[0])
            return out

        outputs = []
        for ident, prop in split_output(dep["output"]):
            items = [{"id": c, "property": prop} for c in concrete(ident)]
            outputs.append(items if wildcard(parse_id(ident)) == "ALL" else items[0])
        return {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": entries(dep["inputs"]),
            "state": entries(dep.get("state", [])),
            "changedPropIds": changed or [],
        }


@dataclass
class Plan:
    """Everything a virtual user needs, discovered once from the running app."""

    app: DashApp
    rh: list  # components of Receivables Health (with the shell)
    sync_filters: dict
    page_callbacks: list[dict]
    version_callback: dict
    open_drill: dict
    fill_grid: dict
    get_rows: dict
    drills: list[dict]
    options: dict[str, list[str]]
    customers: list[str]
    version: dict | None = None


def discover(session: requests.Session, base: str, timeout: float) -> Plan:
    """Read the app's callbacks, the Receivables Health page, filter choices and customer ids."""
    app = DashApp(session, base, timeout)
    rh = app.page_components("/")
    page_callbacks = [
        d
        for d in app.deps
        if not d.get("clientside_function")
        and any(i["id"] == "filters" and i["property"] == "data" for i in d["inputs"])
        and "url.search" not in d["output"]
        and "nav-links" not in d["output"]
        and app.present(d, rh)
    ]
    plan = Plan(
        app=app,
        rh=rh,
        sync_filters=app.find("filter-alert.children"),
        page_callbacks=page_callbacks,
        version_callback=app.find("data-version.data", ["refresh-interval.n_intervals"]),
        open_drill=app.find("drill-title.children"),
        fill_grid=app.find('"type":"ar-grid"}.columnDefs'),
        get_rows=app.find('"type":"ar-grid-block"}.data'),
        drills=[],
        options={},
        customers=[],
    )
    for cid in app.ids(rh):
        if isinstance(cid, dict) and cid.get("type") == "drill-trigger":
            spec = json.loads(cid["index"])
            plan.drills.append({"key": spec.pop("key"), "title": spec.pop("title"), "params": spec})
    plan.version = (
        call(session, base, timeout, plan.app.body(plan.version_callback, rh, {}), "/")[1]
        .get("data-version", {})
        .get("data")
    )
    options = app.find('"type":"gf"}.options', ["data-version.data"])
    result = call(
        session, base, timeout, app.body(options, rh, {("data-version", "data"): plan.version}), "/"
    )[1]
    for key, props in result.items():
        name = json.loads(key)["name"] if key.startswith("{") else key
        values = [
            o["value"]
            for o in props.get("options", [])
            if o.get("value") not in (None, "", "__all__", "all")
        ]
        plan.options[name] = values
    export = session.get(base + "/api/export/customers.csv", timeout=timeout)
    export.raise_for_status()
    # the export's stamp
    lines = (line for line in io.StringIO(export.text) if not line.startswith("#"))
    plan.customers = [row["customer_id"] for row in csv.DictReader(lines)][:2000]
    return plan


def call(
    session: requests.Session, base: str, timeout: float, body: dict, page: str
) -> tuple[int, dict]:
    """POST one callback; (status, response dict keyed by component id)."""
    response = session.post(
        base + "/_dash-update-component",
        json=body,
        timeout=timeout,
        headers={"Referer": base + page},
    )
    data = {}
    if response.status_code == 200:
        data = response.json().get("response", {})
    return response.status_code, data


# ---- virtual users ----------------------------------------------------------------------------------


class User:
    """One logged-in user looping over the mix until the deadline."""

    def __init__(
        self, n: int, plan: Plan, session: requests.Session, args, results: Results
    ) -> None:
        self.n, self.plan, self.session, self.args, self.results = n, plan, session, args, results
        self.rng = random.Random(args.seed * 1000 + n)
        self.filters: dict | None = None
        self.pool = ThreadPoolExecutor(args.parallel)

    def timed(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        name: str | None = None,
        expect_json=False,
        **kwargs,
    ) -> requests.Response | None:
        t0 = time.monotonic()
        try:
            response = self.session.request(
                method, self.args.base + path, timeout=self.args.timeout, **kwargs
            )
            retries = getattr(getattr(response.raw, "retries", None), "history", ())
            ok = response.status_code == 200
            if ok and expect_json:
                response.json()
            elif ok:
                _ = response.content
        except (requests.RequestException, ValueError) as exc:
            self.results.add(
                kind, time.monotonic() - t0, False, f"{path}: {type(exc).__name__}: {exc}", name
            )
            return None
        detail = "" if ok else f"{path}: {response.status_code} {response.text[:150]}"
        self.results.add(kind, time.monotonic() - t0, ok, detail, name, retried=bool(retries))
        return response if ok else None

    def callback(
        self,
        kind: str,
        dep: dict,
        values: dict,
        changed: list[str],
        name: str,
        match: dict | None = None,
        page: str = "/",
    ) -> dict:
        body = self.plan.app.body(dep, self.plan.rh, values, changed, match)
        response = self.timed(
            kind,
            "POST",
            "/_dash-update-component",
            name=name,
            json=body,
            headers={"Referer": self.args.base + page},
            expect_json=True,
        )
        return response.json().get("response", {}) if response is not None else {}

    def random_query(self) -> dict[str, str]:
        # half today, half backdated
        back = 0 if self.rng.random() < 0.5 else self.rng.randint(1, 730)
        as_of = dt.date.today() - dt.timedelta(days=back)
        query = {"as_of": as_of.isoformat()}
        name = self.rng.choice(("none", "none", *FILTER_NAMES))
        if name != "none" and self.plan.options.get(name):
            query[name] = self.rng.choice(self.plan.options[name])
        return query

    def page(self) -> None:
        if self.plan.customers and self.rng.random() < 0.5:
            self.timed("page", "GET", f"/customers/{self.rng.choice(self.plan.customers)}")
        else:
            self.timed("page", "GET", "/?" + urlencode(self.random_query()))

    def change_filters(self) -> None:
        """The URL changes -> filters store -> every Receivables Health callback (parallel like a browser)."""
        search = "?" + urlencode(self.random_query())
        out = self.callback(
            "callback",
            self.plan.sync_filters,
            {("url", "search"): search, ("filters", "data"): self.filters},
            ["url.search"],
            "sync_filters",
        )
        if isinstance(out.get("filters", {}).get("data"), dict):
            self.filters = out["filters"]["data"]
        values = {("filters", "data"): self.filters, ("data-version", "data"): self.plan.version}
        jobs = [
            self.pool.submit(
                self.callback, "callback", dep, values, ["filters.data"], short(dep["output"])
            )
            for dep in self.plan.page_callbacks
        ]
        for job in jobs:
            job.result()

    def drill(self) -> None:
        if not self.plan.drills:
            return
        spec = self.rng.choice(self.plan.drills)
        request = {**spec, "nonce": time.time()}
        out = self.callback(
            "drill",
            self.plan.open_drill,
            {("drill-request", "data"): request, ("filters", "data"): self.filters},
            ["drill-request.data"],
            "open_drill",
        )
        source = next(
            (v.get("data") for k, v in out.items() if k.startswith("{") and "ar-grid-source" in k),
            None,
        )
        if source is None:
            return
        key = json.dumps({"grid": "drill", "type": "ar-grid-source"}, sort_keys=True)
        grid = json.dumps({"grid": "drill", "type": "ar-grid"}, sort_keys=True)
        search = json.dumps({"grid": "drill", "type": "ar-grid-search"}, sort_keys=True)
        # the grid's columns, then its first block of rows (the infinite row model's first ask)
        self.callback(
            "drill",
            self.plan.fill_grid,
            {(key, "data"): source, ("data-version", "data"): self.plan.version},
            [f"{key}.data"],
            "fill_grid(drill)",
            match={"grid": "drill"},
        )
        first_block = {"startRow": 0, "endRow": BLOCK_ROWS, "sortModel": [], "filterModel": {}}
        self.callback(
            "drill",
            self.plan.get_rows,
            {(grid, "getRowsRequest"): first_block, (key, "data"): source, (search, "value"): ""},
            [f"{grid}.getRowsRequest"],
            "get_rows(drill)",
            match={"grid": "drill"},
        )

    def api(self) -> None:
        query = self.random_query()
        self.timed("api", "GET", "/api/kpis?" + urlencode(query), expect_json=True)

    def export(self) -> None:
        query = {"as_of": self.random_query()["as_of"]}
        for name in self.rng.sample(
            ("segment", "region", "sales_rep"), 2 if self.rng.random() < 0.5 else 1
        ):
            if self.plan.options.get(name):
                query[name] = self.rng.choice(self.plan.options[name])
        self.timed("export", "GET", "/api/export/open_invoices.csv?" + urlencode(query))

    def run(self, deadline: float) -> None:
        actions = {
            "page": self.page,
            "callback": self.change_filters,
            "drill": self.drill,
            "api": self.api,
            "export": self.export,
        }
        kinds, weights = zip(*WEIGHTS.items(), strict=True)
        try:
            self.change_filters()  # the first visit renders the page
            while time.monotonic() < deadline:
                actions[self.rng.choices(kinds, weights)[0]]()
                pause = self.args.think * self.rng.uniform(0.5, 1.5)
                if pause:
                    time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        finally:
            self.pool.shutdown(wait=True)


def short(output: str) -> str:
    """A readable name for a callback's output string."""
    first = split_output(output)[0][0]
    if first.startswith("{"):
        ident = json.loads(first)
        return "kpi:" + str(ident.get("group", ident.get("type")))
    return first


# ---- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base", default="http://127.0.0.1:8050", help="the dashboard's URL (loopback only)"
    )
    parser.add_argument(
        "--username", required=True, help="a user with every customer in scope (e.g. controller)"
    )
    parser.add_argument(
        "--password-file", required=True, help="file holding the password (first line)"
    )
    parser.add_argument(
        "--users", type=int, default=50, help=f"concurrent users (<= {MAX_USERS}; default 50)"
    )
    parser.add_argument(
        "--duration", type=float, default=300, help=f"seconds (<= {MAX_DURATION}; default 300)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between a user's actions, s (default 1)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=10,
        help="users arrive evenly over this many seconds (default 10)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=4,
        help="callbacks a user's browser sends at once (default 4)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="per-request timeout, s (default 60)"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=900, help="wait for readiness at most this long, s"
    )
    parser.add_argument(
        "--ready-probes",
        type=int,
        default=16,
        help="concurrent readiness probes (>= workers x threads)",
    )
    parser.add_argument(
        "--no-keepalive",
        action="store_true",
        help="a new connection per request (as behind a proxy that does not keep them alive)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sets",
        type=int,
        default=0,
        help="instead of the load: one user changes the filters this many times, one change after "
        "another, and the time until every Receivables Health callback of each change has answered "
        "is reported (the full set over HTTP; dates and filters as the load test draws them)",
    )
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument("--label", default="", help="a name for this run in the report")
    args = parser.parse_args(argv)
    host = urlsplit(args.base).hostname
    if host not in LOOPBACK:
        parser.error(f"--base must be a loopback address (127.0.0.1 or localhost), not {host!r}")
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users must be between 1 and {MAX_USERS}")
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 1 and {MAX_DURATION} seconds")
    if not 1 <= args.parallel <= 8 or not 1 <= args.timeout <= 300 or args.think < 0:
        parser.error("--parallel 1-8, --timeout 1-300 s, --think >= 0")
    args.base = args.base.rstrip("/")
    return args


def full_sets(plan: Plan, session: requests.Session, args, results: Results) -> int:
    """--sets: the full Receivables Health set over HTTP, one filter change at a time."""
    user = User(0, plan, session, args, results)
    user.change_filters()  # the first visit renders the page
    seconds = []
    for _ in range(args.sets):
        started = time.monotonic()
        user.change_filters()
        seconds.append(time.monotonic() - started)
    user.pool.shutdown(wait=True)
    errors = sum(results.errors.values())
    print("each callback (first visit included): p50 / p95 / max ms")
    for name, values in sorted(results.by_callback.items()):
        print(
            f"  {name:40s} {pct(values, 50):7.0f} {pct(values, 95):7.0f} {max(values) * 1000:7.0f}"
        )
    print(
        f"full Receivables Health set over HTTP, {len(seconds)} filter changes: "
        f"p50 {pct(seconds, 50):.1f} ms, p95 {pct(seconds, 95):.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms, errors {errors}"
    )
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with open(args.password_file, encoding="utf-8") as handle:
        password = handle.readline().strip()
    wait_listening(args.base, args.ready_timeout)
    first = login(args.base, args.username, password, args.timeout)
    waited = wait_ready(args.base, first, args.ready_timeout, args.ready_probes, fast=2.0)
    print(f"ready after {waited:.0f} s", file=sys.stderr)
    plan = discover(first, args.base, args.timeout)
    print(
        f"discovered {len(plan.page_callbacks)} Receivables Health callbacks, {len(plan.drills)} drill-downs, "
        f"filters {', '.join(f'{k}: {len(v)}' for k, v in plan.options.items())}, "
        f"{len(plan.customers)} customers",
        file=sys.stderr,
    )
    results = Results()
    if args.sets:
        return full_sets(plan, first, args, results)
    # logins: scrypt on the server, 16 at a time
    with ThreadPoolExecutor(min(args.users, 16)) as pool:
        sessions = list(
            pool.map(
                lambda _i: login(
                    args.base, args.username, password, args.timeout, not args.no_keepalive
                ),
                range(args.users),
            )
        )
    users = [User(i, plan, s, args, results) for i, s in enumerate(sessions)]
    started = time.monotonic()
    deadline = started + args.duration
    threads = [
        threading.Thread(target=u.run, args=(deadline,), daemon=True, name=f"user-{u.n}")
        for u in users
    ]
    for i, thread in enumerate(threads):
        thread.start()
        if i < len(threads) - 1:
            # users arrive over --ramp seconds
            time.sleep(min(args.ramp, args.duration / 4) / len(threads))
    for thread in threads:
        thread.join(args.duration + args.timeout * 3 + 60)
    elapsed = time.monotonic() - started
    report = summary(results, elapsed)
    report.update(
        label=args.label,
        base=args.base,
        users=args.users,
        duration_s=args.duration,
        think_s=args.think,
        parallel=args.parallel,
        ramp_s=args.ramp,
        keepalive=not args.no_keepalive,
        date=dt.datetime.now().isoformat(timespec="seconds"),
        ready_after_s=round(waited),
        command=" ".join(sys.argv),
    )
    print(
        f"\n{args.label or 'load test'}: {args.users} users, {elapsed:.0f} s, think {args.think} s, "
        f"ramp {args.ramp:g} s, browser parallelism {args.parallel}"
        + ("" if not args.no_keepalive else ", no keep-alive")
    )
    print_table(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    return 1 if report["kinds"]["overall"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
