"""Grids of any size: a drill-down of 6,000 invoices paged, sorted, filtered and searched on the server.

The ledger: four customers (C1, C2 of rep R1 in North; C3, C4 of rep R2 in South) and 6,000 open invoices
I00001..I06000, invoice i of customer C(1 + i % 4), issued 2024-01-01 + (i % 50) days, amount
(i * 37 % 100000 + 1) cents. As of 2024-03-01 every invoice is open, so the Total AR drill lists all of
them and its total is the sum of every amount (worked out below from the same rule, not from the app).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from auth_helpers import add_user, login
from grid_helpers import all_rows, export, fill, get_rows
from ledger import add_ledger

from dashboard import format as fmt
from dashboard.metrics.snapshot import clear_snapshots

N = 6000
AS_OF = "2024-03-01"
FILTERS = {"as_of": AS_OF, "basis": "due", "query": f"?as_of={AS_OF}"}
DRILL = {"request": {"key": "total_ar", "title": "Total AR", "params": {}}, "filters": FILTERS}
CUSTOMERS = {
    "C1": ("R1", "North"),
    "C2": ("R1", "North"),
    "C3": ("R2", "South"),
    "C4": ("R2", "South"),
}


def invoice(i: int) -> dict:
    return {
        "invoice_id": f"I{i:05d}",
        "customer_id": f"C{1 + i % 4}",
        "issue_date": (dt.date(2024, 1, 1) + dt.timedelta(days=i % 50)).isoformat(),
        "amount_cents": i * 37 % 100000 + 1,
    }


INVOICES = [invoice(i) for i in range(1, N + 1)]


def money(cents: int) -> str:
    return fmt.money(cents, "USD")


class World:
    def __init__(self, url: str):
        from dashboard.app import create_app

        add_ledger(
            url,
            sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}, {"sales_rep_id": "R9"}],
            customers=[
                {
                    "customer_id": c,
                    "name": f"Customer {c}",
                    "sales_rep_id": r,
                    "region": reg,
                    "segment": "S",
                    "tier": "A",
                    "created_on": "2023-01-01",
                }
                for c, (r, reg) in CUSTOMERS.items()
            ],
            invoices=[
                {
                    "invoice_id": v["invoice_id"],
                    "customer_id": v["customer_id"],
                    "issue_date": v["issue_date"],
                    "due_date": (
                        dt.date.fromisoformat(v["issue_date"]) + dt.timedelta(days=30)
                    ).isoformat(),
                    "amount": f"{v['amount_cents'] // 100}.{v['amount_cents'] % 100:02d}",
                }
                for v in INVOICES
            ],
        )
        add_user("admin", "admin")
        add_user("rep1", "sales_rep", sales_rep_id="R1")
        # a rep with no customers: outside every row's scope
        add_user("rep9", "sales_rep", sales_rep_id="R9")
        add_user("clerk", "ar_clerk")
        self.app = create_app()
        self.app.server.test_client().get("/")  # Dash fills callback_map on the first request

    def login(self, username: str):
        client = self.app.server.test_client()
        assert login(client, username).status_code == 302
        return client


@pytest.fixture
def world(db_url):
    from dashboard.components import grid

    clear_snapshots()
    grid.clear_cache()
    yield World(db_url)
    clear_snapshots()
    grid.clear_cache()


def test_a_drill_of_6000_rows_pages_through_every_row_on_the_server(world):
    client = world.login("admin")
    columns = fill(world.app, client, "drill", DRILL)
    assert "rowData" not in columns  # a server-side grid: no rows travel with the columns
    assert "pinnedBottomRowData" not in columns["dashGridOptions"]
    served = all_rows(world.app, client, "drill", DRILL)
    assert served["requests"] == N // 100  # one request per 100-row block (grid.BLOCK_ROWS)
    ids = [r["invoice_id"] for r in served["rows"]]
    assert len(ids) == N and set(ids) == {v["invoice_id"] for v in INVOICES}
    assert served["caption"] == "6,000 rows."
    total = sum(v["amount_cents"] for v in INVOICES)
    assert served["totals"][0]["amount_cents"] == money(total)
    assert sum(r["amount_cents"] for r in served["rows"]) == total  # exact cents on every row
    # the last block, asked for on its own (the browser scrolled to the bottom)
    last = get_rows(world.app, client, "drill", DRILL, N - 500, N)
    assert (
        last["count"] == N
        and len(last["rows"]) == 500
        and last["rows"][-1]["invoice_id"] == ids[-1]
    )
    assert get_rows(world.app, client, "drill", DRILL, N, N + 500)["rows"] == []


def test_the_source_frame_is_computed_once_while_paging(world, monkeypatch):
    import dataclasses

    from dashboard.views import VIEWS

    calls, previews = [], []
    view = VIEWS["drill"]  # the drill grid's table view (dashboard/views/drill.py)
    assert view.preview is not None
    counted = dataclasses.replace(
        view,
        frame=lambda snap, req: calls.append(1) or view.frame(snap, req),
        preview=lambda snap, req: previews.append(1) or view.preview(snap, req),
    )
    monkeypatch.setitem(VIEWS, "drill", counted)
    client = world.login("admin")
    # in the source's own order the blocks come from its preview (no frame of every row)
    all_rows(world.app, client, "drill", DRILL)
    assert (len(calls), len(previews)) == (0, 1)
    all_rows(world.app, client, "drill", DRILL, sort=[{"colId": "amount_cents", "sort": "desc"}])
    all_rows(world.app, client, "drill", DRILL, sort=[{"colId": "invoice_id", "sort": "asc"}])
    # twelve blocks, three orders: one preview and one frame (cached per data version, user,
    # scope, request)
    assert (len(calls), len(previews)) == (1, 1)
    all_rows(world.app, world.login("rep1"), "drill", DRILL)
    rep1 = world.login("rep1")
    all_rows(world.app, rep1, "drill", DRILL, sort=[{"colId": "amount_cents", "sort": "desc"}])
    # another user, another scope: never the cached preview or frame of someone else
    assert (len(calls), len(previews)) == (2, 2)


def test_sort_filter_and_search_run_over_every_row_on_the_server(world):
    client = world.login("admin")
    # Python's sort is stable, like the server's
    by_amount = sorted(INVOICES, key=lambda v: -v["amount_cents"])
    top = get_rows(
        world.app, client, "drill", DRILL, 0, 500, sort=[{"colId": "amount_cents", "sort": "desc"}]
    )
    assert [r["invoice_id"] for r in top["rows"]] == [v["invoice_id"] for v in by_amount[:500]]
    bottom = get_rows(
        world.app,
        client,
        "drill",
        DRILL,
        N - 500,
        N,
        sort=[{"colId": "amount_cents", "sort": "desc"}],
    )
    assert [r["amount_cents"] for r in bottom["rows"]] == [
        v["amount_cents"] for v in by_amount[-500:]
    ]

    # a text filter on the customer and a number filter on the amount, both over all 6,000 rows
    c3 = [v for v in INVOICES if v["customer_id"] == "C3"]
    big_c3 = [v for v in c3 if v["amount_cents"] > 50000]
    filters = {
        "customer_id": {"filterType": "text", "type": "equals", "filter": "C3"},
        "amount_cents": {"filterType": "number", "type": "greaterThan", "filter": 50000},
    }
    served = all_rows(world.app, client, "drill", DRILL, filters=filters)
    assert sorted(r["invoice_id"] for r in served["rows"]) == sorted(
        v["invoice_id"] for v in big_c3
    )
    assert served["caption"] == "6,000 rows."
    assert (
        served["matched"]
        == f"· {len(big_c3):,} of 6,000 rows match · Open balance {money(sum(v['amount_cents'] for v in big_c3))}."
    )
    assert served["totals"][0]["amount_cents"] == money(sum(v["amount_cents"] for v in big_c3))

    # the date range of the toolbar (an inclusive agDateColumnFilter on the issue date)
    window = {
        "issue_date": {
            "filterType": "date",
            "type": "inRange",
            "dateFrom": "2024-01-10",
            "dateTo": "2024-01-12",
        }
    }
    days = [v for v in INVOICES if "2024-01-10" <= v["issue_date"] <= "2024-01-12"]
    dated = all_rows(world.app, client, "drill", DRILL, filters=window)
    assert len(dated["rows"]) == len(days) == 3 * N // 50
    assert dated["totals"][0]["amount_cents"] == money(sum(v["amount_cents"] for v in days))

    # quick search: every word must appear in a shown column (case-insensitive), as AG Grid's quick filter
    found = get_rows(world.app, client, "drill", DRILL, search="i00042")
    assert [r["invoice_id"] for r in found["rows"]] == ["I00042"] and found["count"] == 1
    amount = INVOICES[41]["amount_cents"]
    assert found["matched"] == f"· 1 of 6,000 row matches · Open balance {money(amount)}."
    two = all_rows(world.app, client, "drill", DRILL, search="customer c2 2024-01-0")
    expected = [
        v for v in INVOICES if v["customer_id"] == "C2" and v["issue_date"].startswith("2024-01-0")
    ]
    assert sorted(r["invoice_id"] for r in two["rows"]) == sorted(v["invoice_id"] for v in expected)
    assert two["totals"][0]["amount_cents"] == money(sum(v["amount_cents"] for v in expected))


def test_a_user_outside_the_scope_gets_nothing(world):
    mine = all_rows(world.app, world.login("rep1"), "drill", DRILL)
    assert len(mine["rows"]) == N // 2 and {r["customer_id"] for r in mine["rows"]} == {"C1", "C2"}
    assert mine["totals"][0]["amount_cents"] == money(
        sum(v["amount_cents"] for v in INVOICES if v["customer_id"] in ("C1", "C2"))
    )
    # rep9 owns no customer: however the request is made (filters naming C3, a customer param), no rows
    outsider = world.login("rep9")
    for data in (
        DRILL,
        {**DRILL, "request": {**DRILL["request"], "params": {"customer_id": "C3"}}},
    ):
        nothing = get_rows(
            world.app,
            outsider,
            "drill",
            data,
            0,
            N,
            filters={"customer_id": {"filterType": "text", "type": "equals", "filter": "C3"}},
        )
        assert nothing["rows"] == [] and nothing["count"] == 0 and nothing["totals"] == []
    lines = export(outsider, "drill", "csv", DRILL).get_data(as_text=True).splitlines()
    assert "0 rows" in lines[0] and len(lines) == 2  # the stamp and the header row
    # a role that may not open the page of a grid gets no rows from it (the commissions page: not for clerks)
    clerk = world.login("clerk")
    refused = get_rows(world.app, clerk, "com-at-risk", {"filters": FILTERS})
    assert refused["rows"] == [] and refused["count"] == 0
    assert export(clerk, "com-at-risk", "csv", {"filters": FILTERS}).status_code == 403
    # nobody logged in: the guard sends the login form before any grid code runs
    anonymous = world.app.server.test_client().get(
        "/export/grid/drill.csv", query_string={"source": "{}"}
    )
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_export_csv_streams_every_matching_row_sorted_and_filtered(world):
    client = world.login("admin")
    response = export(client, "drill", "csv", DRILL)
    assert response.status_code == 200 and response.is_streamed
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="drill-total_ar-{AS_OF}.csv"'
    )
    stamp, _, body = response.get_data(as_text=True).partition("\n")
    total = sum(v["amount_cents"] for v in INVOICES)
    assert stamp.startswith("# Total AR") and "6000 rows" in stamp
    assert f"total amount {total // 100}.{total % 100:02d}" in stamp
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == N and {r["invoice_id"] for r in rows} == {v["invoice_id"] for v in INVOICES}
    # exact decimals, every row
    assert sum(int(r["amount"].replace(".", "")) for r in rows) == total

    sort = [{"colId": "amount_cents", "sort": "asc"}]
    filters = {"customer_id": {"filterType": "text", "type": "equals", "filter": "C4"}}
    narrowed = export(client, "drill", "csv", DRILL, sort=sort, filter=filters)
    stamp, _, body = narrowed.get_data(as_text=True).partition("\n")
    c4 = sorted((v for v in INVOICES if v["customer_id"] == "C4"), key=lambda v: v["amount_cents"])
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["invoice_id"] for r in rows] == [v["invoice_id"] for v in c4]
    assert f"{len(c4)} rows" in stamp and "column filters customer_id equals C4" in stamp


def test_export_xlsx_has_every_row_and_the_exact_total(world):
    from decimal import Decimal

    from openpyxl import load_workbook

    response = export(world.login("rep1"), "drill", "xlsx", DRILL)
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="drill-total_ar-{AS_OF}.xlsx"'
    )
    values = list(
        load_workbook(io.BytesIO(response.get_data()), read_only=True).active.iter_rows(
            values_only=True
        )
    )
    header = next(i for i, r in enumerate(values) if r and r[0] == "invoice_id")
    body = values[header + 1 : -1]
    mine = [v for v in INVOICES if v["customer_id"] in ("C1", "C2")]
    assert len(body) == len(mine) == N // 2
    amount = values[header].index("amount")
    assert Decimal(str(values[-1][amount])) == Decimal(sum(v["amount_cents"] for v in mine)) / 100


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({}, "source"),
        ({"source": "[1"}, "source"),
        ({"source": "[]"}, "source"),
        ({"source": "{}", "sort": "{}"}, "sort"),
        ({"source": "{}", "filter": "[]"}, "filter"),
        ({"source": "{}", "bogus": "1"}, "bogus"),
        ({"source": "{}", "search": "x" * 201}, "search"),
    ],
)
def test_export_bad_parameters_answer_400_naming_them(world, params, name):
    response = world.login("admin").get("/export/grid/drill.csv", query_string=params)
    assert response.status_code == 400 and response.get_json()["parameter"] == name


def test_unknown_grid_is_404(world):
    assert (
        world.login("admin").get("/export/grid/nope.csv", query_string={"source": "{}"}).status_code
        == 404
    )


# ---- the server-side query on a plain frame (no database) ------------------------------------------


def test_totals_stay_exact_past_int64_and_blanks_are_skipped():
    import pandas as pd

    from dashboard.components import grid

    huge = pd.DataFrame({"invoice_id": ["A", "B", "C"], "amount_cents": [2**62, 2**62, 5]})
    assert grid.money_totals(huge)["amount_cents"] == 2**63 + 5  # would wrap around in int64
    blanks = pd.DataFrame({"amount_cents": pd.array([10, None, -3], dtype="Int64")})
    assert grid.money_totals(blanks)["amount_cents"] == 7


def test_search_text_reads_money_like_the_browser_and_hidden_columns_are_not_searched():
    import pandas as pd

    from dashboard.components import grid

    frame = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"],
            "segment": ["Retail", "Retail", "Wholesale"],
            "disputed": [True, False, False],
            "amount_cents": [123456789, -5, 100],
        }
    )
    gf = grid.GridFrame(frame)  # segment is hidden (grid.HIDDEN)
    hay = grid.search_haystack(gf).tolist()
    assert hay[0] == "i1\ntrue\n1234567.89 1,234,567.89"  # arMoneySearch: plain and grouped
    assert hay[1] == "i2\nfalse\n-0.05 -0.05"
    assert grid.make_view(gf, grid.Query(search="wholesale")).frame.empty
    assert list(grid.make_view(gf, grid.Query(search="1,234,567")).frame["invoice_id"]) == ["I1"]


def test_column_filter_conditions_and_blanks():
    import pandas as pd

    from dashboard.components import grid

    frame = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4"],
            "reason": ["Price", None, "price wrong", "Damage"],
            "days_past_due": [0, 10, 20, 30],
        }
    )
    either = {
        "days_past_due": {
            "filterType": "number",
            "operator": "OR",
            "conditions": [
                {"type": "lessThan", "filter": 5},
                {"type": "greaterThanOrEqual", "filter": 30},
            ],
        }
    }
    assert list(
        grid.make_view(grid.GridFrame(frame), grid.Query(filter=either)).frame["invoice_id"]
    ) == ["I1", "I4"]
    text = {"reason": {"filterType": "text", "type": "startsWith", "filter": "PRICE"}}
    assert list(
        grid.make_view(grid.GridFrame(frame), grid.Query(filter=text)).frame["invoice_id"]
    ) == ["I1", "I3"]
    blank = {"reason": {"filterType": "text", "type": "blank"}}
    assert list(
        grid.make_view(grid.GridFrame(frame), grid.Query(filter=blank)).frame["invoice_id"]
    ) == ["I2"]
    # exclusive
    ranged = {
        "days_past_due": {"filterType": "number", "type": "inRange", "filter": 10, "filterTo": 30}
    }
    assert list(
        grid.make_view(grid.GridFrame(frame), grid.Query(filter=ranged)).frame["invoice_id"]
    ) == ["I3"]
    # unknown columns and malformed parts are ignored, never an error
    odd = grid.Query.clean(
        [{"colId": "nope", "sort": "asc"}, "x"], {"nope": {"type": "equals"}, "reason": 5}, ["list"]
    )
    assert len(grid.make_view(grid.GridFrame(frame), odd).frame) == 4


def test_a_view_holds_every_row_and_counts_them_all():
    import pandas as pd

    from dashboard.components import grid

    view = grid.make_view(
        grid.GridFrame(pd.DataFrame({"invoice_id": [f"I{i}" for i in range(12000)]})), grid.Query()
    )
    assert len(view.block(0, 12000)) == 12000  # the view itself has every row
    assert view.caption() == "12,000 rows."
