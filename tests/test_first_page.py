"""The first page drawn in the shell's layout (dashboard/components/page_container.py): the layout
request of a logged-in page load holds the page its Referer names, as the router would draw it, with
the shell's address, filters, navigation and user menu already filled, so the first render needs no
router round trip and none of the shell's callbacks; never a page the role may not open, and nothing
from a foreign or missing Referer."""

from __future__ import annotations

import json

from auth_helpers import post_callback as post

from dashboard.components import grid

BASE = "http://localhost"


def layout(client, referer: str | None) -> dict:
    headers = {"Referer": referer} if referer is not None else {}
    response = client.get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def find(node, wanted) -> dict | None:
    """The first serialized component whose id is wanted."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == wanted:
            return node
        for value in node.values():
            hit = find(value, wanted)
            if hit is not None:
                return hit
    elif isinstance(node, list):
        for value in node:
            hit = find(value, wanted)
            if hit is not None:
                return hit
    return None


def prop(tree, component_id, name):
    node = find(tree, component_id)
    assert node is not None, component_id
    return node["props"].get(name)


def declared(world, output: str) -> dict:
    return next(c for c in world.app._callback_list if c["output"] == output)


def test_the_layout_holds_the_page_the_referer_names_with_the_shells_address(world):
    client = world.login("controller")
    client.get("/")  # Dash copies the registered callbacks into callback_map on the first request
    tree = layout(client, BASE + "/disputes?segment=Retail")
    content = find(tree, "_pages_content")
    assert content["props"]["data-first-page"] == "/disputes?segment=Retail"
    assert find(content, "dp-caption") is not None  # the disputes page itself
    for location in ("_pages_location", "url"):
        assert prop(tree, location, "pathname") == "/disputes", location
        assert prop(tree, location, "search") == "?segment=Retail", location
    assert prop(tree, "_pages_store", "data") == {"title": "Disputes & promises"}
    # the filters store as sync_filters fills it from the same address: it finds nothing to change
    store = prop(tree, "filters", "data")
    assert store["segment"] == "Retail" and store["query"] == "?segment=Retail"
    sync = next(o for o in world.app.callback_map if o.startswith("..url.search"))
    answer = post(
        client,
        sync,
        world.app.callback_map[sync],
        {("url", "search"): "?segment=Retail", ("filters", "data"): store},
    )
    assert "filters" not in answer  # no_update: the store is already what applies
    # the segment select shows the filter
    select = find(tree, {"type": "gf", "name": "segment", "kind": "select"})
    assert select["props"]["value"] == "Retail"


def test_the_shells_own_outputs_come_in_the_layout_equal_to_their_callbacks(world):
    client = world.login("rep1")
    client.get("/")
    tree = layout(client, BASE + "/credit?region=North")
    store = prop(tree, "filters", "data")
    values = {("url", "pathname"): "/credit", ("filters", "data"): store}
    for output, component, name in (
        ("nav-links.children", "nav-links", "children"),
        ("subscribe-here.href", "subscribe-here", "href"),
    ):
        assert declared(world, output)["prevent_initial_call"], output
        again = post(client, output, world.app.callback_map[output], values)[component][name]
        assert json.dumps(again, sort_keys=True) == json.dumps(
            prop(tree, component, name), sort_keys=True
        ), output
    assert prop(tree, "subscribe-here", "href") == "/subscriptions?page=%2Fcredit%3Fregion%3DNorth"
    assert declared(world, "filters-summary.children")["prevent_initial_call"]
    assert prop(tree, "filters-summary", "children")  # "Region: North"
    assert "North" in json.dumps(prop(tree, "filters-summary", "children"))
    # the user menu is in the layout (no callback): who is logged in and the log-out form
    menu = json.dumps(prop(tree, "user-menu", "children"))
    assert "rep1" in menu and '"action": "/logout"' in menu
    assert not any("user-menu.children" in o for o in world.app.callback_map)


def test_no_first_page_without_a_same_site_referer_or_for_a_refused_page(world):
    clerk = world.login("clerk")
    clerk.get("/")
    for referer in (None, "https://evil.example/disputes", BASE + "/commissions", BASE + "/nope"):
        tree = layout(clerk, referer)
        content = find(tree, "_pages_content")
        assert not content["props"].get("children"), referer  # Dash's empty container: the router
        assert "data-first-page" not in content["props"], referer
        assert prop(tree, "_pages_location", "pathname") is None, referer
        assert prop(tree, "url", "pathname") is None, referer
        assert prop(tree, "filters", "data") is None, referer


def test_a_refused_filter_value_leaves_the_store_to_sync_filters(world):
    client = world.login("controller")
    client.get("/")
    tree = layout(client, BASE + "/?segment=Nowhere")
    assert find(find(tree, "_pages_content"), "rh-caption") is not None
    assert prop(tree, "filters", "data") is None  # sync_filters rewrites the address and says why


def test_a_reps_first_page_is_drawn_in_the_reps_scope(world):
    controller, rep = world.login("controller"), world.login("rep3")
    controller.get("/")
    whole = json.dumps(find(layout(controller, BASE + "/"), "_pages_content"))
    own = json.dumps(find(layout(rep, BASE + "/"), "_pages_content"))
    assert whole != own


def test_grids_come_with_their_columns_and_fill_grid_waits_for_a_new_source(world):
    client = world.login("controller")
    client.get("/")
    tree = layout(client, BASE + "/disputes")
    fill = next(o for o in world.app.callback_map if '"ar-grid"}.columnDefs' in o)
    assert declared(world, fill)["prevent_initial_call"]
    checked = 0
    for name in ("dp-open", "dp-broken"):
        source = prop(tree, grid.source_id(name), "data")
        ag = find(tree, grid.grid_id(name))["props"]
        assert source and ag["columnDefs"], name
        body = {
            "output": fill,
            "outputs": [
                {"id": grid.grid_id(name), "property": "columnDefs"},
                {"id": grid.grid_id(name), "property": "dashGridOptions"},
            ],
            "inputs": [
                {"id": grid.source_id(name), "property": "data", "value": source},
                {"id": "data-version", "property": "data", "value": None},
            ],
            "state": [
                {
                    "id": grid.grid_id(name),
                    "property": "dashGridOptions",
                    "value": ag["dashGridOptions"],
                }
            ],
            "changedPropIds": [
                json.dumps(grid.source_id(name), sort_keys=True, separators=(",", ":")) + ".data"
            ],
        }
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 200, response.text[:300]
        key = json.dumps(grid.grid_id(name), sort_keys=True, separators=(",", ":"))
        answer = response.get_json()["response"][key]
        assert json.dumps(answer["columnDefs"], sort_keys=True) == json.dumps(
            ag["columnDefs"], sort_keys=True
        )
        assert json.dumps(answer["dashGridOptions"], sort_keys=True) == json.dumps(
            ag["dashGridOptions"], sort_keys=True
        )
        checked += 1
    assert checked == 2
