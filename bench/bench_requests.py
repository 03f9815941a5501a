"""Server CPU of each request of the load test's mix, one request at a time, in one process.

bench/loadtest.py measures latency under many users; this measures what each request costs the
server, so a change to the metrics kernels can be judged without the noise of a crowd. It builds the
app over an existing database and snapshot store, logs in (a controller of its own), discovers the
callbacks as the load test does (`loadtest.discover`), warms up once (what a live worker did long
ago: a filter change, a drill, an API call at a date not measured), then for each scenario (as-of
today or back 200-600 days, no filter or one filter) times:

    sync_filters and every Receivables Health callback of a filter change (and their sum)
    every drill-down the load test opens: the modal, the grid's columns and its first block
    GET / and GET /customers/<id> (the HTML pages), /api/kpis, /api/export/open_invoices.csv

printing the request's CPU time (its thread's) and wall time.

    .venv/bin/python bench/bench_requests.py --database-url sqlite:////tmp/b10m.db [--reps 2]

Run it on the old tree and the new one (PYTHONPATH=<tree>) on the same database to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(__file__))

import loadtest  # noqa: E402

USER, PASSWORD = "bench_requests", "bench-requests-pw-12"
BASE = "http://localhost"


class Response:
    """A Flask test response with the few `requests` methods loadtest.discover uses."""

    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.content = response.get_data()
        self.text = response.get_data(as_text=True)

    def json(self) -> Any:
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"{self.status_code}: {self.text[:300]}")


class Session:
    """The test client behind the `requests.Session` interface loadtest.discover expects."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, url: str, headers: dict | None = None, **_: Any) -> Response:
        return Response(self.client.get(url[len(BASE) :], headers=headers))

    def post(self, url: str, json: Any = None, headers: dict | None = None, **_: Any) -> Response:
        return Response(self.client.post(url[len(BASE) :], json=json, headers=headers))


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU ms of this thread, wall ms)."""
    cpu, wall = time.thread_time(), time.perf_counter()
    out = fn()
    return out, (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reps", type=int, default=1, help="rounds of every scenario")
    parser.add_argument(
        "--profile",
        metavar="SCENARIO",
        help="also print a pyinstrument profile of this scenario's filter change (e.g. '400 d back')",
    )
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        SECRET_KEY="bench-requests",
        AR_DEMO_ON_EMPTY="0",
        AR_PREDICT_AUTOTRAIN="0",
        AR_WARM_PAGES="0",
        AR_LOGIN_MAX_PER_USER="10000",
        AR_LOGIN_MAX_PER_IP="10000",
        AR_API_RATE_LIMIT="100000 per minute",
        AR_EXPORT_RATE_LIMIT="100000 per minute",
    )
    os.environ.pop("REDIS_URL", None)  # one process: its own result cache only
    from dashboard.app import create_app
    from dashboard.auth.users import create_user

    try:
        create_user(USER, "controller", PASSWORD)
    except Exception:  # noqa: BLE001 - already there from an earlier run
        pass
    app = create_app()
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    login = {"username": USER, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=login).status_code == 302
    plan = loadtest.discover(Session(client), BASE, 600)

    def post(dep: dict, values: dict, changed: list, match: dict | None = None) -> dict:
        body = plan.app.body(dep, plan.rh, values, changed, match)
        response = client.post(
            "/_dash-update-component", json=body, headers={"Referer": BASE + "/"}
        )
        assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
        return response.get_json().get("response", {}) if response.status_code == 200 else {}

    def filters_for(query: dict) -> dict:
        search = {("url", "search"): "?" + urlencode(query), ("filters", "data"): None}
        return post(plan.sync_filters, search, ["url.search"])["filters"]["data"]

    def change(filters: dict) -> list[tuple[str, float, float]]:
        values = {("filters", "data"): filters, ("data-version", "data"): plan.version}
        out = []
        for dep in plan.page_callbacks:
            _, cpu, wall = timed(lambda dep=dep: post(dep, values, ["filters.data"]))
            out.append(("cb " + loadtest.short(dep["output"])[:31], cpu, wall))
        return out

    def drill(spec: dict, filters: dict) -> list[tuple[str, float, float]]:
        request = {("drill-request", "data"): {**spec, "nonce": time.time()}}
        opened, cpu, wall = timed(
            lambda: post(
                plan.open_drill, {**request, ("filters", "data"): filters}, ["drill-request.data"]
            )
        )
        out = [(f"drill {spec['key']}"[:34], cpu, wall)]
        source = next(
            (
                v.get("data")
                for k, v in opened.items()
                if k.startswith("{") and "ar-grid-source" in k
            ),
            None,
        )
        if source is None:
            return out
        key, grid, search = (
            json.dumps({"grid": "drill", "type": t}, sort_keys=True)
            for t in ("ar-grid-source", "ar-grid", "ar-grid-search")
        )
        match = {"grid": "drill"}
        values = {(key, "data"): source, ("data-version", "data"): plan.version}
        _, cpu, wall = timed(lambda: post(plan.fill_grid, values, [f"{key}.data"], match))
        out.append(("  grid columns", cpu, wall))
        block = {"startRow": 0, "endRow": loadtest.BLOCK_ROWS, "sortModel": [], "filterModel": {}}
        rows = {(grid, "getRowsRequest"): block, (key, "data"): source, (search, "value"): ""}
        _, cpu, wall = timed(lambda: post(plan.get_rows, rows, [f"{grid}.getRowsRequest"], match))
        out.append(("  grid first block", cpu, wall))
        return out

    def get(path: str) -> int:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.get_data())

    today = dt.date.today()
    options = plan.options
    # warm-up: what a worker that has served for a while has done (not measured)
    warm = filters_for({"as_of": (today - dt.timedelta(days=900)).isoformat()})
    change(warm)
    drill(plan.drills[0], warm)
    get("/api/kpis?" + urlencode({"as_of": (today - dt.timedelta(days=900)).isoformat()}))

    def one(name: str, pick: int) -> dict:
        values = options.get(name) or []
        return {name: values[pick % len(values)]} if values else {}

    scenarios = [
        ("today, no filter", 0, {}),
        ("400 d back", 400, {}),
        ("today, segment", 0, one("segment", 0)),
        ("200 d back, rep", 200, one("sales_rep", len(options.get("sales_rep") or []) // 2)),
        ("600 d back, region", 600, one("region", -1)),
    ]
    print(f"{'scenario':20s} {'request':36s} {'cpu ms':>9s} {'wall ms':>9s}")
    for _round in range(args.reps):
        for label, back, extra in scenarios:
            query = {"as_of": (today - dt.timedelta(days=back)).isoformat(), **extra}
            filters, cpu, wall = timed(lambda query=query: filters_for(query))
            if label == args.profile:
                from pyinstrument import Profiler

                with Profiler() as profiler:
                    changed = change(filters)
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            else:
                changed = change(filters)
            rows = [("sync_filters", cpu, wall), *changed]
            rows.append(("= filter change", sum(r[1] for r in rows), sum(r[2] for r in rows)))
            for spec in plan.drills:
                rows += drill(spec, filters)
            # pages and the API a day or two earlier: nothing of them computed by the change above
            earlier = {**query, "as_of": (today - dt.timedelta(days=back + 2)).isoformat()}
            _, cpu, wall = timed(lambda q=earlier: get("/?" + urlencode(q)))
            rows.append(("GET / (page)", cpu, wall))
            customer = plan.customers[(back * 7 + len(extra) * 13) % len(plan.customers)]
            at = urlencode({"as_of": earlier["as_of"]})
            _, cpu, wall = timed(lambda c=customer, at=at: get(f"/customers/{c}?{at}"))
            rows.append(("GET /customers/<id> (page)", cpu, wall))
            api = {**query, "as_of": (today - dt.timedelta(days=back + 1)).isoformat()}
            _, cpu, wall = timed(lambda q=api: get("/api/kpis?" + urlencode(q)))
            rows.append(("/api/kpis", cpu, wall))
            export = {
                "as_of": query["as_of"],
                **one("segment", -1),
                **(one("region", 0) if back else {}),
            }
            size, cpu, wall = timed(
                lambda q=export: get("/api/export/open_invoices.csv?" + urlencode(q))
            )
            rows.append((f"export csv ({len(export) - 1} filters, {size // 1024} KB)", cpu, wall))
            for name, cpu, wall in rows:
                print(f"{label:20s} {name:36s} {cpu:9.1f} {wall:9.1f}", flush=True)


if __name__ == "__main__":
    main()
