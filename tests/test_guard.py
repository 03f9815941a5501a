"""The one guard: every page, Dash endpoint, callback and API path, for anonymous and logged-in users."""

from __future__ import annotations

import json

import dash
import pytest
from auth_helpers import CUSTOMERS, callback_body, make_world
from dash import Input, Output, State, html

from dashboard.auth.roles import PAGE_ROLES

ROUTER = ".._pages_content.children..._pages_store.data.."


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    return make_world(db_url)


def warm(world) -> None:
    """One request so Dash copies the registered callbacks into app.callback_map."""
    world.client().get("/")


def page_paths() -> list[str]:
    """Every registered Dash page, every PAGE_ROLES prefix and a few deep links."""
    paths = {page["path"] for page in dash.page_registry.values()} | set(PAGE_ROLES)
    return sorted(paths | {"/customers/C1", "/admin/users", "/commissions?rep=R1", "/no-such-page"})


def test_anonymous_pages_redirect_to_login(world):
    client = world.client()
    for path in page_paths():
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_anonymous_redirect_keeps_the_query(world):
    response = world.client().get("/customers?segment=Retail&as_of=2024-03-01")
    assert (
        response.headers["Location"]
        == "/login?next=%2Fcustomers%3Fsegment%3DRetail%26as_of%3D2024-03-01"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-layout",
        "/_dash-dependencies",
        "/_reload-hash",
        "/api/kpis",
        "/api/customers/C1",
        "/api/export/open_invoices.csv",
        "/api/nope",
    ],
)
def test_anonymous_data_endpoints_get_401(world, path):
    response = world.client().get(path)
    assert response.status_code == 401, path
    assert response.get_json() == {"error": "login required"}


def test_anonymous_callback_post_gets_401(world):
    client = world.client()
    assert client.post("/_dash-update-component", json={"output": ROUTER}).status_code == 401
    assert client.post("/_dash-update-component", data="not json").status_code == 401


def test_every_registered_callback_refuses_anonymous(world):
    warm(world)
    callback_map = world.app.callback_map
    assert ROUTER in callback_map  # the page router at least
    client = world.client()
    for output, spec in callback_map.items():
        response = client.post("/_dash-update-component", json=callback_body(output, spec))
        assert response.status_code == 401, output
        assert "response" not in (response.get_json() or {}), output


def test_public_assets_and_login_are_served(world):
    client = world.client()
    assert client.get("/assets/vendor/bootstrap.min.css").status_code == 200
    assert client.get("/login").status_code == 200
    suites = [
        r.rule
        for r in world.app.server.url_map.iter_rules()
        if r.rule.startswith("/_dash-component-suites")
    ]
    assert suites  # JavaScript bundles stay public (code, not data)


def test_page_permissions_by_role(world):
    expectations = {
        "admin": {"/": 200, "/customers/C1": 200, "/commissions": 200, "/admin": 200},
        "exec": {"/": 200, "/commissions": 200, "/admin": 403},
        "clerk": {"/": 200, "/customers": 200, "/commissions": 403, "/admin/users": 403},
        "mgr_east": {"/": 200, "/commissions": 200, "/admin": 403},
        "rep1": {
            "/": 200,
            "/customers/C1": 200,
            "/commissions": 200,
            "/admin": 403,
            "/admin/tiers": 403,
        },
    }
    for user, pages in expectations.items():
        client = world.login(user)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (user, path)


def test_logged_in_unknown_api_path_is_json_404(world):
    response = world.login("admin").get("/api/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]


def router_call(client, pathname: str, referer: str | None = None):
    """Ask the Dash page router for a pathname."""
    body = {
        "output": ROUTER,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    headers = {"Referer": f"http://localhost{referer}"} if referer else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def test_router_callback_refused_for_pages_outside_the_role(world):
    warm(world)
    rep = world.login("rep1")
    first = router_call(rep, "/")
    assert first.status_code == 200, first.text
    assert router_call(rep, "/commissions").status_code == 200
    refused = router_call(rep, "/admin")
    assert refused.status_code == 403
    assert refused.get_json()["page"] == "/admin"
    clerk = world.login("clerk")
    assert router_call(clerk, "/commissions").status_code == 403
    assert router_call(world.login("admin"), "/admin").status_code == 200


def test_referer_of_a_forbidden_page_refuses_callbacks(world):
    warm(world)
    clerk = world.login("clerk")
    assert router_call(clerk, "/", referer="/").status_code == 200
    assert router_call(clerk, "/", referer="/commissions").status_code == 403


def test_malformed_or_unknown_callback_is_refused(world):
    warm(world)
    client = world.login("admin")
    assert (
        client.post("/_dash-update-component", json={"output": "nope.children"}).status_code == 400
    )
    assert client.post("/_dash-update-component", json=[1, 2]).status_code == 400


@pytest.fixture
def admin_page_callback(world, monkeypatch):
    """A callback defined in the module of an admin-only page (as a page module would)."""
    module = "pages.test_admin_probe"
    monkeypatch.setitem(
        dash.page_registry,
        module,
        {"module": module, "path": "/admin/probe", "path_template": None, "layout": html.Div()},
    )

    def probe(value):
        return "secret admin data"

    probe.__module__ = module
    world.app.callback(Output("admin-probe-out", "children"), Input("admin-probe-in", "value"))(
        probe
    )
    return "admin-probe-out.children"


def test_callback_of_an_admin_page_refused_even_with_forged_referer(world, admin_page_callback):
    warm(world)
    body = {
        "output": admin_page_callback,
        "outputs": {"id": "admin-probe-out", "property": "children"},
        "inputs": [{"id": "admin-probe-in", "property": "value", "value": 1}],
        "state": [],
        "changedPropIds": ["admin-probe-in.value"],
    }
    forged = {"Referer": "http://localhost/"}
    rep = world.login("rep1").post("/_dash-update-component", json=body, headers=forged)
    assert rep.status_code == 403
    assert "secret" not in rep.text
    admin = world.login("admin").post("/_dash-update-component", json=body)
    assert admin.status_code == 200
    assert "secret admin data" in admin.text


@pytest.fixture
def scope_probe(world):
    """A shell-level callback that reports what the server-side scope lets it see."""
    from dashboard.auth import current_scope, customer_in_scope

    def probe(rep_filter, _forged_store):
        scope = current_scope()
        visible = [
            c
            for c, _name, rep, *_ in CUSTOMERS
            if customer_in_scope(c, scope) and rep_filter in (None, rep)
        ]
        return json.dumps({"label": scope.label, "visible": visible})

    world.app.callback(
        Output("scope-probe-out", "children"),
        Input("scope-probe-rep", "value"),
        State("scope-probe-store", "data"),
    )(probe)
    return "scope-probe-out.children"


def probe_call(client, output: str, rep_filter, store):
    """Call the scope probe with browser-supplied (forgeable) values."""
    body = {
        "output": output,
        "outputs": {"id": "scope-probe-out", "property": "children"},
        "inputs": [{"id": "scope-probe-rep", "property": "value", "value": rep_filter}],
        "state": [{"id": "scope-probe-store", "property": "data", "value": store}],
        "changedPropIds": ["scope-probe-rep.value"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return json.loads(response.get_json()["response"]["scope-probe-out"]["children"])


def test_forged_callback_payload_cannot_widen_scope(world, scope_probe):
    warm(world)
    forged_store = {"role": "admin", "scope": None, "sales_rep_ids": ["R1", "R2", "R3", "R4"]}
    rep = world.login("rep1")
    assert probe_call(rep, scope_probe, None, forged_store)["visible"] == ["C1", "C2"]
    assert probe_call(rep, scope_probe, "R3", forged_store)["visible"] == []
    east = world.login("mgr_east")
    assert probe_call(east, scope_probe, None, forged_store)["visible"] == ["C1", "C2", "C3"]
    assert probe_call(east, scope_probe, "R4", forged_store)["visible"] == []
    west = world.login("mgr_west")
    assert probe_call(west, scope_probe, None, forged_store)["visible"] == ["C4", "C5"]
    admin = world.login("admin")
    assert probe_call(admin, scope_probe, None, None)["visible"] == ["C1", "C2", "C3", "C4", "C5"]


def test_disabling_a_user_ends_their_session_on_the_next_request(world):
    from dashboard.auth.users import set_active

    warm(world)
    client = world.login("rep1")
    assert client.get("/").status_code == 200
    set_active("rep1", False)
    assert client.get("/").status_code == 302
    assert client.get("/api/kpis").status_code == 401
    assert router_call(client, "/").status_code == 401
    set_active("rep1", True)
    assert client.get("/").status_code == 302  # the old session was cleared: log in again


def test_role_change_ends_the_session_and_applies_at_the_next_login(world):
    from dashboard.auth.users import set_role

    client = world.login("clerk")
    assert client.get("/commissions").status_code == 403
    set_role("clerk", "controller")  # issue 14: a role change ends the user's sessions at once
    assert client.get("/commissions").status_code == 302
    assert client.get("/api/kpis").status_code == 401
    client = world.login("clerk")
    assert client.get("/commissions").status_code == 200
    set_role("clerk", "ar_clerk")
    assert client.get("/commissions").status_code == 302
    assert world.login("clerk").get("/commissions").status_code == 403


def test_password_change_ends_existing_sessions(world):
    from dashboard.auth.users import set_password

    client = world.login("exec")
    assert client.get("/").status_code == 200
    set_password("exec", "another-password-1")
    assert client.get("/").status_code == 302


def test_security_headers(world):
    response = world.login("admin").get("/api/kpis?as_of=2024-03-01")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def tier_saver(world):
    """A shell-level callback that changes data, protected by require("admin_tiers")."""
    from dashboard.auth import require

    @require("admin_tiers")
    def save(_clicks):
        return "saved"

    world.app.callback(Output("tier-save-out", "children"), Input("tier-save", "n_clicks"))(save)
    return "tier-save-out.children"


def test_require_refuses_a_callback_without_the_capability(world, tier_saver):
    warm(world)
    body = {
        "output": tier_saver,
        "outputs": {"id": "tier-save-out", "property": "children"},
        "inputs": [{"id": "tier-save", "property": "n_clicks", "value": 1}],
        "state": [],
        "changedPropIds": ["tier-save.n_clicks"],
    }
    refused = world.login("controller").post("/_dash-update-component", json=body)
    assert refused.status_code == 403
    assert "saved" not in refused.text
    allowed = world.login("admin").post("/_dash-update-component", json=body)
    assert allowed.status_code == 200 and "saved" in allowed.text


def test_callbacks_get_identity_in_custom_data(world):
    from dash import ctx

    def who(_value):
        data = ctx.custom_data["auth"]
        return json.dumps({"user": data["username"], "reps": data["scope"]["sales_rep_ids"]})

    world.app.callback(Output("who-out", "children"), Input("who-in", "value"))(who)
    warm(world)
    body = {
        "output": "who-out.children",
        "outputs": {"id": "who-out", "property": "children"},
        "inputs": [{"id": "who-in", "property": "value", "value": 1}],
        "state": [],
        "changedPropIds": ["who-in.value"],
    }
    response = world.login("mgr_west").post("/_dash-update-component", json=body)
    assert json.loads(response.get_json()["response"]["who-out"]["children"]) == {
        "user": "mgr_west",
        "reps": ["R3", "R4"],
    }
