"""The UI wired into the real app: pages, shell callbacks, data-free layouts, server-side checks.

Callbacks are driven through the test client (POST /_dash-update-component), so the role and scope
checks run exactly as they do behind the browser; the ledger is tests/auth_helpers.py's.
"""

from __future__ import annotations

import json

import dash
import pytest
from auth_helpers import callback_body, make_world
from sqlalchemy import func, select

from dashboard.data.db import session_scope
from dashboard.data.models import Note, SavedView
from dashboard.data.schema import data_version
from dashboard.metrics.snapshot import clear_snapshots

FILTERS = {"as_of": "2024-03-01", "basis": "due", "query": "?as_of=2024-03-01"}


@pytest.fixture
def world(sqlite_url):
    clear_snapshots()
    yield make_world(sqlite_url)
    clear_snapshots()


def warm(world) -> None:
    # Dash copies the registered callbacks into callback_map on first request
    world.client().get("/")


def find(world, *parts: str) -> tuple[str, dict]:
    """The callback_map entry whose output mentions every part."""
    warm(world)
    for output, spec in world.app.callback_map.items():
        if all(part in output for part in parts):
            return output, spec
    raise AssertionError(f"no callback with {parts}")


def post(client, output: str, spec: dict, values: dict, changed: list[str] | None = None) -> dict:
    body = callback_body(output, spec, values)
    outputs = spec["output"] if isinstance(spec["output"], list | tuple) else [spec["output"]]
    specs = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    body["outputs"] = specs if len(specs) != 1 else specs[0]
    body["changedPropIds"] = changed or []
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    return response.get_json() or {} if response.status_code == 200 else {}


def test_pages_and_component_callbacks_are_registered(world):
    warm(world)
    paths = {p.get("path_template") or p["path"] for p in dash.page_registry.values()}
    assert {"/", "/customers/<customer_id>"} <= paths
    outputs = " ".join(world.app.callback_map)
    for part in (
        "filters.data",
        "nav-links.children",
        "drill-modal.is_open",
        "data-version.data",
        "views-select.options",
    ):
        assert part in outputs, part
    client = world.login("clerk")
    assert client.get("/").status_code == 200
    assert client.get("/customers/C1?as_of=2024-03-01").status_code == 200


def test_layouts_are_data_free(monkeypatch):
    """Dash calls layouts at start-up: they must not touch the database or the snapshot."""
    import dashboard.metrics.snapshot as snapshot
    from dashboard.components.shell import shell_layout

    def refuse(*_args, **_kwargs):
        raise AssertionError("layout read data")

    monkeypatch.setattr(snapshot, "get_snapshot", refuse)
    monkeypatch.setattr("dashboard.data.db.session_scope", refuse)
    shell_layout()
    for page in dash.page_registry.values():
        if page["module"].startswith("pages.") and callable(page["layout"]):
            kwargs = {"customer_id": "C1"} if page.get("path_template") else {}
            page["layout"](**kwargs)


def test_notes_are_checked_on_the_server(world):
    output, spec = find(world, "acct-note-message.children")

    def add(username: str, customer: str, text: str) -> str:
        values = {
            ("acct-note-add", "n_clicks"): 1,
            ("acct-note-text", "value"): text,
            ("acct-id", "data"): customer,
            ("filters", "data"): FILTERS,
        }
        reply = post(world.login(username), output, spec, values, ["acct-note-add.n_clicks"])
        return json.dumps(reply.get("response", {}).get("acct-note-message", {}))

    before = data_version()
    assert "may not add notes" in add("exec", "C1", "from an executive")  # role without edit_notes
    # outside the rep's scope
    assert "Customer not found" in add("rep1", "C4", "another rep's customer")
    assert "Customer not found" in add("clerk", "NOPE", "unknown")
    assert data_version() == before
    assert "Note added" in add("rep1", "C1", "Promised to pay Friday")
    assert data_version() == before + 1
    with session_scope() as s:
        notes = s.execute(select(Note.customer_id, Note.author, Note.text)).all()
    assert notes == [("C1", "rep1", "Promised to pay Friday")]


def test_account_360_hides_customers_outside_the_scope(world):
    output, spec = find(world, "acct-header.children")

    def header(username: str, customer: str) -> str:
        values = {
            ("acct-id", "data"): customer,
            ("filters", "data"): FILTERS,
            ("data-version", "data"): {"version": 1},
        }
        return json.dumps(post(world.login(username), output, spec, values).get("response", {}))

    assert "Acme" in header("rep1", "C1")
    outside, unknown = header("rep1", "C4"), header("rep1", "NOPE")
    assert "Customer not found" in outside and "Delta" not in outside
    assert outside.replace("C4", "X") == unknown.replace("NOPE", "X")  # same answer: no leak
    assert "Delta" in header("clerk", "C4")


def test_drill_rows_follow_the_users_scope(world):
    output, spec = find(world, "drill-modal.is_open", "drill-header.children")
    request = {"key": "total_ar", "title": "Total AR", "params": {}, "nonce": 1}

    def drill(username: str) -> str:
        values = {("drill-request", "data"): request, ("filters", "data"): FILTERS}
        return json.dumps(post(world.login(username), output, spec, values).get("response", {}))

    assert "$2,462.39" in drill("clerk")  # every customer (worked out in auth_helpers)
    assert "$884.61" in drill("rep1")  # R1's customers only
    forged = dict(request, params={"customer_id": "C4"})
    values = {("drill-request", "data"): forged, ("filters", "data"): FILTERS}
    reply = json.dumps(post(world.login("rep1"), output, spec, values).get("response", {}))
    assert "$777.77" not in reply and "$0.00" in reply


def test_saved_views_belong_to_their_user(world):
    output, spec = find(world, "views-select.options")
    base = {
        ("views-modal", "is_open"): True,
        ("filters", "data"): dict(
            FILTERS, segment="Retail", query="?as_of=2024-03-01&segment=Retail"
        ),
    }

    def act(username: str, trigger: str, **values) -> dict:
        merged = dict(base)
        merged.update({(k.replace("_", "-"), "value"): v for k, v in values.items()})
        merged[(trigger, "n_clicks")] = 1
        return post(world.login(username), output, spec, merged, [f"{trigger}.n_clicks"])[
            "response"
        ]

    reply = act("clerk", "views-save", views_name="  Retail   March ")
    assert reply["views-select"]["options"] == [{"label": "Retail March", "value": "Retail March"}]
    reply = act("clerk", "views-rename", views_select="Retail March", views_new_name="Retail Q1")
    assert reply["views-select"]["value"] == "Retail Q1"
    assert act("rep1", "views-save", views_name="Mine")["views-select"]["options"] == [
        {"label": "Mine", "value": "Mine"}
    ]
    reply = act("rep1", "views-delete", views_select="Retail Q1")  # someone else's view: untouched
    with session_scope() as s:
        rows = s.execute(select(SavedView.name, SavedView.query).order_by(SavedView.name)).all()
        count = s.execute(select(func.count()).select_from(SavedView)).scalar()
    assert count == 2
    assert ("Retail Q1", "?as_of=2024-03-01&segment=Retail") in rows


def test_csv_download_has_every_row_exact_and_scoped(world):
    from decimal import Decimal

    source = {"request": {"key": "total_ar", "title": "Total AR", "params": {}}, "filters": FILTERS}

    def download(username: str) -> list[str]:
        """The drill grid's CSV button: the streamed /export/grid/drill.csv it opens."""
        from grid_helpers import export

        reply = export(world.login(username), "drill", "csv", source)
        assert reply.status_code == 200, reply.text
        filename = reply.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
        assert filename.startswith("drill-total_ar-") and filename.endswith(".csv")
        return reply.get_data(as_text=True).splitlines()

    lines = download("clerk")
    assert lines[0].startswith("# Total AR | as of 2024-03-01") and "all customers" in lines[0]
    header = lines[1].split(",")
    amounts = [Decimal(line.split(",")[header.index("amount")]) for line in lines[2:]]
    assert sum(amounts) == Decimal("2462.39") and len(amounts) == 6
    rep_lines = download("rep1")
    assert "sales rep R1" in rep_lines[0]
    assert sum(
        Decimal(line.split(",")[header.index("amount")]) for line in rep_lines[2:]
    ) == Decimal("884.61")
