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


def _aging_statement(
    world,
    client,
    long_rows: list | None,
    short_rows: list | None = None,
    filters: dict | None = None,
) -> str:
    """The customer aging page's statement dry run, with the grids' ticked rows as the browser sends them."""
    output, spec = find(world, "ag-stmt-msg.children")
    selected = {"ag-long": long_rows, "ag-short": short_rows}

    def value(dep: dict):
        dep_id = json.loads(dep["id"]) if dep["id"].startswith("{") else dep["id"]
        if isinstance(dep_id, dict):
            return selected[dep_id["grid"]]
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
    from dashboard.components.grid import grid_id

    rep = world.login("rep1")  # R1: C1 Acme (834.56) and C2 Beta (50.05)
    [state_ids] = [
        [d["id"] for d in spec["state"]]
        for out, spec in world.app.callback_map.items()
        if "ag-stmt-msg.children" in out
    ]
    assert json.dumps(grid_id("ag-long"), sort_keys=True, separators=(",", ":")) in state_ids
    # nothing ticked: every customer with a balance on the filters (both of rep1's)
    reply = _aging_statement(world, rep, [], [])
    assert (
        "Would email 0 of 2 statement(s)" in reply and "Acme #C1" in reply and "Beta #C2" in reply
    )
    # ticked rows win over the filters: only Beta
    reply = _aging_statement(world, rep, [{"customer_id": "C2", "customer_name": "Beta"}], [])
    assert (
        "Would email 0 of 1 statement(s)" in reply and "Beta #C2" in reply and "Acme" not in reply
    )
    # a forged row (C4 Delta is rep3's) refuses the whole request, in-scope rows included
    forged = [{"customer_id": "C1"}, {"customer_id": "C4", "customer_name": "Delta"}]
    reply = _aging_statement(world, rep, forged, [{"customer_id": "C2"}])
    assert "1 of the 3 selected customers are not in your scope (C4)" in reply
    assert "Would email" not in reply and "Acme #C1" not in reply and "Delta #" not in reply
    # an unknown id is refused the same way; junk values are ignored
    reply = _aging_statement(
        world, rep, [{"customer_id": "NOPE"}, {"customer_id": None}, "junk"], None
    )
    assert "not in your scope (NOPE)" in reply
    # the admin may pick Delta
    reply = _aging_statement(world, world.login("admin"), [{"customer_id": "C4"}], [])
    assert "Would email 0 of 1 statement(s)" in reply and "Delta #C4" in reply
