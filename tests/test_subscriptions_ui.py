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
FORM = {"sub-kind": "report", "sub-path": "/aging", "sub-query": "?region=North", "sub-every": "daily",
        "sub-at": "07:00", "sub-tz": "Europe/Berlin", "sub-weekday": "0", "sub-monthday": 1,
        "sub-condition": "dso_above", "sub-threshold": "45"}


@pytest.fixture
def world(sqlite_url):
    clear_snapshots()
    yield make_world(sqlite_url)
    clear_snapshots()


def _value(dep: dict, values: dict, deletes: list[int]):
    dep_id = dep["id"]
    if dep_id.startswith("{"):  # the ALL pattern of the delete buttons
        return [{"id": {"type": "sub-del", "index": i}, "property": "n_clicks", "value": 1} for i in deletes]
    return values.get((dep_id, dep["property"]))


def act(world, client, changed: str, values: dict, deletes: list[int] | None = None) -> str:
    """POST the page's save/delete callback; the message text."""
    output, spec = find(world, "sub-msg.children")
    deletes = deletes or []
    body = {
        "output": output,
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in spec["output"]]
        if isinstance(spec["output"], list | tuple) else spec["output"],
        "inputs": [{"id": d["id"], "property": d["property"], "value": _value(d, values, deletes)}
                   if not d["id"].startswith("{") else _value(d, values, deletes) for d in spec["inputs"]],
        "state": [{"id": d["id"], "property": d["property"], "value": values.get((d["id"], d["property"]))}
                  for d in spec["state"]],
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
        return [(r.id, r.username, r.role) for r in s.execute(select(Subscription).order_by(Subscription.id)).scalars()]


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
    assert "unknown time zone" in act(world, rep, "sub-save.n_clicks", form(extra={("sub-tz", "value"): "Mars/Base"}))
    assert "not a page" in act(world, rep, "sub-save.n_clicks", form(extra={("sub-path", "value"): "//evil.example"}))
    assert subs() == []


def _statement(world, client, customer: str, changed: str) -> str:
    output, spec = find(world, "acct-stmt-msg.children")
    values = {("acct-stmt-preview", "n_clicks"): 1, ("acct-stmt-send", "n_clicks"): 1,
              ("filters", "data"): FILTERS, ("acct-id", "data"): customer}
    body = {"output": output,
            "outputs": [{"id": o.component_id, "property": o.component_property} for o in spec["output"]],
            "inputs": [{"id": d["id"], "property": d["property"], "value": values.get((d["id"], d["property"]))}
                       for d in spec["inputs"]],
            "state": [{"id": d["id"], "property": d["property"], "value": values.get((d["id"], d["property"]))}
                      for d in spec["state"]],
            "changedPropIds": [changed]}
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
