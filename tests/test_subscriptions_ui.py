"""Server-side checks of the Subscriptions page and the statement buttons, driven through Dash callbacks.

Whatever the browser sends, a non-admin subscribes only themselves, deletes only their own
subscriptions, and emails statements only of customers in their scope with the right to do so.
"""

from __future__ import annotations

import json

import pytest
from auth_helpers import make_world
from sqlalchemy import select
from test_ui_app import find

from dashboard.data.db import session_scope
from dashboard.data.models import Subscription
from dashboard.metrics.snapshot import clear_snapshots

FILTERS = {"as_of": "2024-03-01", "basis": "due", "query": "?as_of=2024-03-01"}
FORM = {
    "sub-kind": "report",
    "sub-path": "/aging",
    "sub-query": "?region=North",
    "sub-every": "daily",
    "sub-at": "07:00",
    "sub-tz": "Europe/Berlin",
    "sub-weekday": "0",
    "sub-monthday": 1,
    "sub-condition": "dso_above",
    "sub-threshold": "45",
}


@pytest.fixture
def world(sqlite_url):
    clear_snapshots()
    yield make_world(sqlite_url)
    clear_snapshots()


def _value(dep: dict, values: dict, deletes: list[int]):
    dep_id = dep["id"]
    if dep_id.startswith("{"):  # the ALL pattern of the delete buttons
        return [
            {"id": {"type": "sub-del", "index": i}, "property": "n_clicks", "value": 1}
            for i in deletes
        ]
    return values.get((dep_id, dep["property"]))


def act(world, client, changed: str, values: dict, deletes: list[int] | None = None) -> str:
    """POST the page's save/delete callback; the message text."""
    output, spec = find(world, "sub-msg.children")
    deletes = deletes or []
    body = {
        "output": output,
        "outputs": [
            {"id": o.component_id, "property": o.component_property} for o in spec["output"]
        ]
        if isinstance(spec["output"], list | tuple)
        else spec["output"],
        "inputs": [
            {"id": d["id"], "property": d["property"], "value": _value(d, values, deletes)}
            if not d["id"].startswith("{")
            else _value(d, values, deletes)
            for d in spec["inputs"]
        ],
        "state": [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get((d["id"], d["property"])),
            }
            for d in spec["state"]
        ],
        "changedPropIds": [changed],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    return json.dumps(response.get_json() or {}) if response.status_code == 200 else ""


def form(recipient: str = "me", extra: dict | None = None) -> dict:
    values = {(k, "value"): v for k, v in FORM.items()}
    values[("sub-recipient", "value")] = recipient
    values.update(extra or {})
    return values


def subs() -> list[tuple[int, str | None, str | None]]:
    with session_scope() as s:
        return [
            (r.id, r.username, r.role)
            for r in s.execute(select(Subscription).order_by(Subscription.id)).scalars()
        ]


def test_a_rep_subscribes_only_themselves_whatever_the_browser_sends(world):
    rep = world.login("rep1")
    reply = act(world, rep, "sub-save.n_clicks", form("user:admin"))
    assert "Subscribed: Summary of /aging?region=North, daily at 07:00 Europe/Berlin" in reply
    reply = act(world, rep, "sub-save.n_clicks", form("role:sales_rep"))
    assert subs() == [(1, "rep1", None), (2, "rep1", None)]
    admin = world.login("admin")
    assert "Subscribed" in act(world, admin, "sub-save.n_clicks", form("role:sales_rep"))
    assert "Subscribed" in act(world, admin, "sub-save.n_clicks", form("user:rep3"))
    assert subs()[2:] == [(3, None, "sales_rep"), (4, "rep3", None)]


def test_a_rep_cannot_delete_or_edit_another_users_subscription(world):
    admin = world.login("admin")
    act(world, admin, "sub-save.n_clicks", form("user:rep3"))
    rep = world.login("rep1")
    reply = act(world, rep, '{"index":1,"type":"sub-del"}.n_clicks', form(), deletes=[1])
    assert "no subscription 1 of yours" in reply
    reply = act(world, rep, "sub-save.n_clicks", {**form(), ("sub-edit-id", "data"): 1})
    assert "no subscription 1 of yours" in reply
    assert subs() == [(1, "rep3", None)]
    reply = act(world, admin, '{"index":1,"type":"sub-del"}.n_clicks', form(), deletes=[1])
    assert "Deleted subscription 1." in reply and subs() == []


def test_bad_values_are_refused_with_a_message(world):
    rep = world.login("rep1")
    assert "unknown time zone" in act(
        world, rep, "sub-save.n_clicks", form(extra={("sub-tz", "value"): "Mars/Base"})
    )
    assert "not a page" in act(
        world, rep, "sub-save.n_clicks", form(extra={("sub-path", "value"): "//evil.example"})
    )
    assert subs() == []


def _statement(world, client, customer: str, changed: str) -> str:
    output, spec = find(world, "acct-stmt-msg.children")
    values = {
        ("acct-stmt-preview", "n_clicks"): 1,
        ("acct-stmt-send", "n_clicks"): 1,
        ("filters", "data"): FILTERS,
        ("acct-id", "data"): customer,
    }
    body = {
        "output": output,
        "outputs": [
            {"id": o.component_id, "property": o.component_property} for o in spec["output"]
        ],
        "inputs": [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get((d["id"], d["property"])),
            }
            for d in spec["inputs"]
        ],
        "state": [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get((d["id"], d["property"])),
            }
            for d in spec["state"]
        ],
        "changedPropIds": [changed],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return json.dumps(response.get_json())


def test_statement_buttons_check_scope_and_rights(world):
    reply = _statement(world, world.login("rep3"), "C1", "acct-stmt-preview.n_clicks")
    assert "not found" in reply and "Would email" not in reply  # C1 is rep1's customer
    reply = _statement(world, world.login("exec"), "C1", "acct-stmt-send.n_clicks")
    assert "may not email statements" in reply  # executives have no right to write on customers
    reply = _statement(world, world.login("rep1"), "C1", "acct-stmt-preview.n_clicks")
    assert "Would email 0 of 1 statement(s) as of 2024-03-01" in reply and "no address" in reply


SOURCE = {"filters": FILTERS, "ranges": [30, 60, 90]}  # what the page writes in both grids' sources


def ticked(*ids) -> dict:
    """A grid's selection store with rows ticked one by one (as the browser writes it)."""
    return {"all": False, "ids": list(ids)}


def every(search: str = "", filter_model: dict | None = None, unticked=()) -> dict:
    """A grid's selection store after "Select all N matching" (the grid's query, rows unticked since)."""
    return {
        "all": True,
        "except": list(unticked),
        "search": search,
        "filter": filter_model or {},
        "sort": [],
    }


def _aging_statement(
    world,
    client,
    long_sel: dict | None,
    short_sel: dict | None = None,
    filters: dict | None = None,
    source: dict | None = None,
) -> str:
    """The customer aging page's statement dry run, with each grid's selection store and source data as
    the browser sends them."""
    output, spec = find(world, "ag-stmt-msg.children")
    selected = {"ag-long": long_sel, "ag-short": short_sel}
    sources = {"ag-long": source or SOURCE, "ag-short": source or SOURCE}

    def value(dep: dict):
        dep_id = json.loads(dep["id"]) if dep["id"].startswith("{") else dep["id"]
        if isinstance(dep_id, dict):
            store = selected if dep_id["type"] == "ar-grid-selection" else sources
            return store[dep_id["grid"]]
        return {
            ("ag-stmt-preview", "n_clicks"): 1,
            ("filters", "data"): filters or FILTERS,
            ("ag-edges", "data"): [30, 60, 90],
        }.get((dep_id, dep["property"]))

    body = {
        "output": output,
        "outputs": [
            {"id": o.component_id, "property": o.component_property} for o in spec["output"]
        ],
        "inputs": [
            {"id": d["id"], "property": d["property"], "value": value(d)} for d in spec["inputs"]
        ],
        "state": [
            {
                "id": json.loads(d["id"]) if d["id"].startswith("{") else d["id"],
                "property": d["property"],
                "value": value(d),
            }
            for d in spec["state"]
        ],
        "changedPropIds": ["ag-stmt-preview.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return json.dumps(response.get_json())


def test_aging_statements_go_to_the_selected_customers_and_a_forged_selection_is_refused(world):
    from dashboard.components.grid import selection_id, source_id

    rep = world.login("rep1")  # R1: C1 Acme (834.56) and C2 Beta (50.05)
    [state_ids] = [
        [d["id"] for d in spec["state"]]
        for out, spec in world.app.callback_map.items()
        if "ag-stmt-msg.children" in out
    ]
    for name in ("ag-long", "ag-short"):  # what is ticked, and the grid's source (never its rows)
        for part in (selection_id(name), source_id(name)):
            assert json.dumps(part, sort_keys=True, separators=(",", ":")) in state_ids
    # nothing ticked: every customer with a balance on the filters (both of rep1's)
    for nothing in ([ticked(), ticked()], [None, None], ["junk", {"all": "yes"}]):
        reply = _aging_statement(world, rep, *nothing)
        assert (
            "Would email 0 of 2 statement(s)" in reply
            and "Acme #C1" in reply
            and "Beta #C2" in reply
        )
    # ticked rows win over the filters: only Beta
    reply = _aging_statement(world, rep, ticked("C2"), ticked())
    assert (
        "Would email 0 of 1 statement(s)" in reply and "Beta #C2" in reply and "Acme" not in reply
    )
    # a forged row (C4 Delta is rep3's) refuses the whole request, in-scope rows included
    reply = _aging_statement(world, rep, ticked("C1", "C4"), ticked("C2"))
    assert "1 of the 3 selected customers are not in your scope (C4)" in reply
    assert "Would email" not in reply and "Acme #C1" not in reply and "Delta #" not in reply
    # an unknown id is refused the same way; junk values are ignored
    reply = _aging_statement(world, rep, {"all": False, "ids": ["NOPE", None, True, {}]}, None)
    assert "not in your scope (NOPE)" in reply
    # the admin may pick Delta
    reply = _aging_statement(world, world.login("admin"), ticked("C4"), ticked())
    assert "Would email 0 of 1 statement(s)" in reply and "Delta #C4" in reply


def _names(reply: str) -> set[str]:
    """The customers a dry run lists ("Beta #C2" -> "C2")."""
    import re

    return set(re.findall(r" #(C\d)", reply))


def test_all_matching_is_resolved_on_the_server_from_the_grids_search_and_filters(world):
    """Every customer is on 30-day terms (the long grid). As of 2024-03-01 the admin's grid holds C1 Acme
    (21 days past due: Late), C2 Beta (not due: Current), C3 Gamma (11: Late), C4 Delta (26: Late) and
    C5 Epsilon (Current). The search looks in the shown columns only (not region or segment)."""
    admin = world.login("admin")
    everyone = _aging_statement(world, admin, every())
    assert "Would email 0 of 5 statement(s)" in everyone
    assert _names(everyone) == {"C1", "C2", "C3", "C4", "C5"}
    # "ta" is in Beta and Delta only (not in Late, Current, Net 30 or any amount)
    reply = _aging_statement(world, admin, every("ta"))
    assert "Would email 0 of 2 statement(s)" in reply and _names(reply) == {"C2", "C4"}
    # with a column filter (the status column contains "late"): Delta only
    late = {"status": {"filterType": "text", "type": "contains", "filter": "late"}}
    assert _names(_aging_statement(world, admin, every("ta", late))) == {"C4"}
    assert _names(_aging_statement(world, admin, every("", late))) == {"C1", "C3", "C4"}
    # rows unticked after "Select all" are left out; an unknown unticked key changes nothing
    reply = _aging_statement(world, admin, every("ta", unticked=["C4", "NOPE"]))
    assert "Would email 0 of 1 statement(s)" in reply and _names(reply) == {"C2"}
    # "all matching" in one grid and ticked rows in the other add up, each customer once
    assert _names(_aging_statement(world, admin, every("ta"), ticked("C4", "C1"))) == {
        "C1",
        "C2",
        "C4",
    }
    # "all matching" that matches nothing never falls back to everyone on the filters
    reply = _aging_statement(world, admin, every("no such customer"))
    assert "No customer matches the selection" in reply and "Would email" not in reply


def test_a_forged_all_matching_covers_only_the_reps_own_customers(world):
    rep = world.login("rep1")  # R1: C1 Acme and C2 Beta
    reply = _aging_statement(world, rep, every(), every())
    assert "Would email 0 of 2 statement(s)" in reply and _names(reply) == {"C1", "C2"}
    # Delta (rep3's) matches "ta" in the admin's grid, never in the rep's
    assert _names(_aging_statement(world, rep, every("ta"))) == {"C2"}
    # a source forged to another rep's customers: the rep's scope leaves none of them
    forged = {"filters": {**FILTERS, "sales_rep": "R3"}, "ranges": [30, 60, 90]}
    reply = _aging_statement(world, rep, every(), every(), source=forged)
    assert "No customer matches the selection" in reply and "Delta" not in reply
    for junk in ("junk", None, {"filters": "x"}, {"ranges": ["x"]}):
        reply = _aging_statement(world, rep, every("ta"), None, source=junk)
        assert "Delta" not in reply and "Epsilon" not in reply, junk
    # and a forged sort or filter model changes nothing of who may be chosen
    odd = {"all": True, "sort": 5, "filter": [1], "search": {"x": 1}, "except": "C1"}
    assert _names(_aging_statement(world, rep, odd)) == {"C1", "C2"}
