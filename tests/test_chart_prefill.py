"""Charts and captions drawn with the page (dashboard/components/views.py, prefill_chart_pages): the
layout a logged-in page load gets holds every registered chart's figure and every page_callback's
outputs, equal to what their callbacks give for the same filters, and those callbacks no longer fire
on the page's first render."""

from __future__ import annotations

import json

import dash
from auth_helpers import first_visit_filters as default_filters
from auth_helpers import page_layout
from auth_helpers import post_callback as post

from dashboard.components import views

PAGES = {"/collections": "col-", "/disputes": "dp-", "/forecast": "fc-", "/value": "val-"}


def graphs(node, found: dict) -> dict:
    """Graph id -> figure (or None) in a serialized layout."""
    if isinstance(node, dict):
        if node.get("type") == "Graph":
            found[node["props"]["id"]] = node["props"].get("figure")
        for value in node.values():
            graphs(value, found)
    elif isinstance(node, list):
        for value in node:
            graphs(value, found)
    return found


def test_chart_pages_draw_their_charts_in_the_layout(world):
    client = world.login("controller")
    filters = default_filters()
    for path, prefix in PAGES.items():
        layout = page_layout(world, client, path)
        drawn = {k: v for k, v in graphs(layout, {}).items() if k in views.CHARTS}
        assert drawn and all(k.startswith(prefix) for k in drawn), (path, drawn.keys())
        for graph_id, figure in drawn.items():
            assert figure and "layout" in figure, (
                path,
                graph_id,
            )  # drawn (an empty state is drawn too)
            # the same figure as the chart's callback draws for the same filters
            output = f"{graph_id}.figure"
            spec = world.app.callback_map[output]
            declared = next(c for c in world.app._callback_list if c["output"] == output)
            assert declared["prevent_initial_call"], output
            again = post(client, output, spec, {("filters", "data"): filters})[graph_id]["figure"]
            assert json.dumps(again, sort_keys=True) == json.dumps(figure, sort_keys=True), graph_id


def drawn_on(world, username: str, path: str) -> dict:
    layout = page_layout(world, world.login(username), path)
    return {k: v for k, v in graphs(layout, {}).items() if k in views.CHARTS}


def test_the_layouts_charts_are_drawn_in_the_users_scope(world):
    """A sales rep's page draws the rep's own figures, not the controller's (the layout's drawing
    goes through the same request context as the callback: scope and capability)."""
    controller = drawn_on(world, "controller", "/disputes")
    rep = drawn_on(world, "rep1", "/disputes")
    assert set(rep) == set(controller)
    differs = [
        k
        for k in rep
        if json.dumps(rep[k], sort_keys=True) != json.dumps(controller[k], sort_keys=True)
    ]
    assert differs, "a rep's disputes charts equal the whole company's"


def props(node, wanted: set, found: dict) -> dict:
    """(id, property) -> value in a serialized layout, for the wanted pairs."""
    if isinstance(node, dict):
        p = node.get("props")
        if isinstance(p, dict):
            for key, value in p.items():
                if isinstance(p.get("id"), str) and (p.get("id"), key) in wanted:
                    found[(p.get("id"), key)] = value
        for value in node.values():
            props(value, wanted, found)
    elif isinstance(node, list):
        for value in node:
            props(value, wanted, found)
    return found


def test_page_callbacks_outputs_come_in_the_layout(world):
    client = world.login("controller")
    filters = default_filters()
    checked = 0
    for path in ("/disputes", "/forecast", "/credit", "/reliability", "/collections", "/invoices"):
        module = next(m for m, p in dash.page_registry.items() if p["path"] == path)
        fills = views.FILLS[module]
        layout = page_layout(world, client, path)
        for outputs, _func, extra in fills.values():
            wanted = {(o.component_id, o.component_property) for o in outputs}
            found = props(layout, wanted, {})
            assert set(found) == wanted, (path, wanted - set(found))
            key = "...".join(f"{o.component_id}.{o.component_property}" for o in outputs)
            output = key if len(outputs) == 1 else f"..{key}.."
            declared = next(c for c in world.app._callback_list if c["output"] == output)
            assert declared["prevent_initial_call"], output
            # the page's own controls as the layout has them (a backtest date, a grouping)
            controls = props(layout, {(d.component_id, d.component_property) for d in extra}, {})
            answer = post(
                client,
                output,
                world.app.callback_map[output],
                {("filters", "data"): filters, **controls},
            )
            for o in outputs:
                again = answer[o.component_id][o.component_property]
                assert json.dumps(again, sort_keys=True) == json.dumps(
                    found[(o.component_id, o.component_property)], sort_keys=True
                ), (path, o.component_id)
                checked += 1
    assert checked >= 15
