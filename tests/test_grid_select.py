"""Grids with row checkboxes (customer aging) are server-side like every grid: no rows in the layout or
the first callbacks, a block at a time; "Select all N matching" is resolved on the server.

The ledger: 1,200 customers K0001..K1200 on 30-day terms (the aging page's long grid), customer i of rep
R1 when i is odd and R2 when even, named "<word> <i>" with word Alpha, Bravo or Charlie for i % 3 = 0,
1, 2; one invoice each, issued 2024-01-01, due 2024-01-31, of i dollars (i x 100 cents). As of
2024-03-01 every invoice is open and 30 days past due (status Late), so the grid has 1,200 rows.
"""

from __future__ import annotations

import json

import pytest
from auth_helpers import add_user, login
from grid_helpers import fill, get_rows
from ledger import add_ledger
from test_guard import router_call

from dashboard.metrics.snapshot import clear_snapshots

N = 1200
AS_OF = "2024-03-01"
FILTERS = {"as_of": AS_OF, "basis": "due", "query": f"?as_of={AS_OF}"}
SOURCE = {"filters": FILTERS, "ranges": [30, 60, 90]}
WORDS = ("Alpha", "Bravo", "Charlie")


def key(i: int) -> str:
    return f"K{i:04d}"


class World:
    def __init__(self, url: str):
        from dashboard.app import create_app

        add_ledger(
            url,
            sales_reps=[{"sales_rep_id": "R1"}, {"sales_rep_id": "R2"}],
            customers=[
                {
                    "customer_id": key(i),
                    "name": f"{WORDS[i % 3]} {i}",
                    "sales_rep_id": "R1" if i % 2 else "R2",
                    "region": "North",
                    "segment": "S",
                    "tier": "A",
                    "terms_days": 30,
                }
                for i in range(1, N + 1)
            ],
            invoices=[
                {
                    "invoice_id": f"I{i:04d}",
                    "customer_id": key(i),
                    "issue_date": "2024-01-01",
                    "due_date": "2024-01-31",
                    "amount": f"{i}.00",
                }
                for i in range(1, N + 1)
            ],
        )
        add_user("admin", "admin")
        add_user("rep1", "sales_rep", sales_rep_id="R1")
        self.app = create_app()
        self.app.server.test_client().get("/")  # Dash fills callback_map on the first request

    def client(self):
        return self.app.server.test_client()

    def login(self, username: str):
        client = self.client()
        assert login(client, username).status_code == 302
        return client

    def keys(self, username: str, selection: dict, source=SOURCE, grid: str = "ag-long") -> list:
        """What the server makes of a grid's selection store for a logged-in user."""
        from flask_login import login_user

        from dashboard.auth.users import AuthUser
        from dashboard.data.users import find_user
        from dashboard.export.grids import selected_keys
        from dashboard.views.grids import Selection

        with self.app.server.test_request_context("/aging"):
            login_user(AuthUser.from_row(find_user(username)))
            return selected_keys(grid, source, Selection.clean(selection), "customer_id")


@pytest.fixture
def world(db_url):
    from dashboard.components import grid

    clear_snapshots()
    grid.clear_cache()
    yield World(db_url)
    clear_snapshots()
    grid.clear_cache()


def every(search: str = "", filter_model: dict | None = None, sort=None, unticked=()) -> dict:
    return {
        "all": True,
        "except": list(unticked),
        "search": search,
        "filter": filter_model or {},
        "sort": sort or [],
    }


def test_the_aging_page_ships_no_rows_only_blocks(world):
    client = world.login("admin")
    page = router_call(client, "/aging")
    assert page.status_code == 200, page.text
    layout = page.get_data(as_text=True)
    assert "rowData" not in layout and "Bravo" not in layout and key(1) not in layout
    assert "ag-stmt-preview" in layout and "ar-grid-selall" in layout  # the page's skeleton
    assert layout.count('"rowModelType":"infinite"') == 2  # both aging grids, server-side
    assert layout.count('"getRowId":"params.data.customer_id"') == 2  # ticks follow their rows
    assert '"headerCheckbox":false' in layout  # AG Grid's box cannot tick an infinite model's rows
    assert len(layout) < 60_000, len(layout)
    # the first callbacks: columns without a row, then one block of at most 100 rows
    columns = fill(world.app, client, "ag-long", SOURCE)
    assert set(columns) == {"columnDefs", "dashGridOptions"}
    assert "Bravo" not in json.dumps(columns) and len(json.dumps(columns)) < 20_000
    first = get_rows(world.app, client, "ag-long", SOURCE)
    assert len(first["rows"]) == 100 and first["count"] == N and first["caption"] == "1,200 rows."
    # the totals row is every row's: 1 + 2 + ... + 1,200 dollars = 720,600.00
    assert first["totals"][0]["amount_cents"] == "$720,600.00"
    assert len(json.dumps(first["answer"])) < 200_000


def test_all_matching_is_every_matching_row_computed_on_the_server(world):
    # "bravo" is in the names of i % 3 = 1: i = 1, 4, ..., 1,198: 400 customers
    bravo = [key(i) for i in range(1, N + 1) if i % 3 == 1]
    # the grid's own order (largest balance first) unless it is sorted
    assert world.keys("admin", every("bravo")) == bravo[::-1] and len(bravo) == 400
    # explicit ticks are sent back as they are (the page checks them against the scope)
    assert world.keys("admin", {"all": False, "ids": ["K0002", "NOPE", "K0002"]}) == [
        "K0002",
        "NOPE",
    ]
    # unticked rows are left out; an unticked key that does not match changes nothing
    assert sorted(world.keys("admin", every("bravo", unticked=[key(1), key(7), key(2)]))) == [
        k for k in bravo if k not in (key(1), key(7))
    ]
    # a column filter as the grid sends it: above 1,000.00 (100,000 cents) -> i = 1,003 ... 1,198
    above = {"amount_cents": {"filterType": "number", "type": "greaterThan", "filter": 100000}}
    expected = [key(i) for i in range(1001, N + 1) if i % 3 == 1]
    assert len(expected) == 66 and sorted(world.keys("admin", every("bravo", above))) == expected
    # in the grid's sort (the first 500 are what one click sends)
    by_amount = [{"colId": "amount_cents", "sort": "asc"}]
    assert world.keys("admin", every("bravo", above, by_amount)) == expected
    # nothing to search, nothing filtered: all 1,200
    assert len(world.keys("admin", every())) == N


def test_all_matching_for_a_rep_is_only_ever_their_own_customers(world):
    own = [key(i) for i in range(1, N + 1, 2)]
    assert sorted(world.keys("rep1", every())) == own and len(own) == 600
    # Bravo and odd: i = 1 (mod 6): 200 customers
    bravo = [k for k in own if int(k[1:]) % 6 == 1]
    assert sorted(world.keys("rep1", every("bravo"))) == bravo and len(bravo) == 200
    # a source forged to the other rep's customers: none of them
    forged = {"filters": {**FILTERS, "sales_rep": "R2"}, "ranges": [30, 60, 90]}
    assert world.keys("rep1", every(), forged) == []
    # a forged grid name or source gives nothing, never someone else's rows
    assert world.keys("rep1", every(), grid="nope") == []
    assert world.keys("rep1", every(), "junk") == []


def test_the_statement_dry_run_of_all_matching(world):
    """End to end through the page's statement callback: "Select all 66 matching" in the long grid."""
    from test_subscriptions_ui import _aging_statement

    above = {"amount_cents": {"filterType": "number", "type": "greaterThan", "filter": 100000}}
    reply = _aging_statement(world, world.login("admin"), every("bravo", above), None)
    assert "Would email 0 of 66 statement(s)" in reply
    assert "Bravo 1003 #K1003" in reply and "Bravo 1198 #K1198" in reply and "#K1000" not in reply
    rep = _aging_statement(world, world.login("rep1"), every("bravo", above), None)
    # odd ones only: i = 1 (mod 6) above 1,000: 1,003, 1,009, ..., 1,195: 33
    assert "Would email 0 of 33 statement(s)" in rep and "#K1006" not in rep
