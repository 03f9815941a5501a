"""Issue 14: every finding of the attacker's review, as a test that failed before the fix.

Sessions that end, bodies refused before parsing, an atomic login throttle, Origin checks, security
headers, rate limits, 400s for out-of-range parameters, the pixel cap, malformed asset paths, empty
grids, mismatched upload lists, and imports that give the same verdict on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import threading
import zipfile
import zlib
from pathlib import Path

import pytest
from auth_helpers import PASSWORD, callback_body, csrf, login, logout, make_world
from sqlalchemy import select

from dashboard.data.db import get_engine, session_scope
from dashboard.data.models import AuditLog, Base, User

CALLBACK = "/_dash-update-component"


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    world = make_world(db_url)
    world.client().get("/")  # Dash fills callback_map on the first request
    return world


def copy_cookies(source, target) -> None:
    """Give target every cookie of source (a cookie copied out of a browser)."""
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def find_callback(world, *parts: str) -> tuple[str, dict]:
    """The callback_map entry whose output names all parts."""
    for output, spec in world.app.callback_map.items():
        if all(part in output for part in parts):
            return output, spec
    raise AssertionError(f"no callback with {parts}")


# ---- sessions ------------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_dead_after_it(world):
    client = world.login("exec")
    stolen = world.client()
    copy_cookies(client, stolen)
    assert stolen.get("/api/kpis").status_code == 200
    assert logout(client).status_code == 302
    assert stolen.get("/api/kpis").status_code == 401
    assert stolen.get("/").status_code == 302


def test_re_enabling_a_user_does_not_revive_an_old_cookie(world):
    from dashboard.auth.users import set_active

    client = world.login("exec")
    set_active("exec", False)
    assert client.get("/api/kpis").status_code == 401
    set_active("exec", True)
    assert client.get("/api/kpis").status_code == 401
    assert world.login("exec").get("/api/kpis").status_code == 200


def test_a_session_disabled_behind_the_cli_is_gone_from_the_table(world):
    from dashboard.auth.users import set_password
    from dashboard.data.models import AuthSession

    world.login("exec")
    world.login("exec")
    with session_scope() as s:
        assert len(list(s.execute(select(AuthSession)).scalars())) == 2
    set_password("exec", "another-password-1")
    with session_scope() as s:
        assert list(s.execute(select(AuthSession)).scalars()) == []


def decoded_session(client) -> str:
    """The payload of Flask's signed session cookie, decompressed (it is signed, not encrypted)."""
    value = next(c.value for c in client._cookies.values() if c.key == "session")
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_the_cookie_reveals_nothing_about_the_password(world):
    client = world.login("exec")
    with session_scope() as s:
        row = s.execute(select(User).where(User.username == "exec")).scalar_one()
    payload = json.loads(decoded_session(client))
    token = payload["_user_id"]
    assert len(token) >= 40 and not token.startswith(f"{row.id}:")
    stored = row.password_hash
    for secret in (stored, hashlib.sha256(stored.encode()).hexdigest()[:16], stored.split("$")[-1]):
        assert secret not in json.dumps(payload)


def test_logout_is_a_post_with_a_csrf_token(world):
    client = world.login("exec")
    assert client.get("/logout").status_code == 200  # a form, not a logout
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/api/kpis").status_code == 200
    assert logout(client).status_code == 302
    assert client.get("/api/kpis").status_code == 401


def test_the_csrf_token_exists_from_login_on(world):
    # Concurrent callbacks each send the session cookie back: a token created later by one of them
    # could be overwritten by another, and the logout form would then answer 400.
    assert "csrf_token" in json.loads(decoded_session(world.login("exec")))


def test_the_shell_logs_out_through_a_post_form(world):
    client = world.login("exec")
    layout = client.get("/_dash-layout", headers={"Referer": "http://localhost/"})
    menu = json.dumps(layout.get_json())
    assert '"action": "/logout"' in menu and '"method": "post"' in menu and '"csrf_token"' in menu


def test_a_forged_call_of_a_clientside_callback_is_a_400_not_a_500(world, caplog):
    rep = world.login("rep1")
    output, spec = find_callback(world, "live-status.children")
    assert "callback" not in spec  # runs in the browser; the server has no function for it
    response = rep.post(CALLBACK, json=callback_body(output, spec))
    assert response.status_code == 400 and response.get_json() == {"error": "unknown callback"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---- request bodies ------------------------------------------------------------------------------


class Unreadable(io.BytesIO):
    """A request body that fails the test if anything reads it."""

    def read(self, *_args) -> bytes:
        raise AssertionError("the body was read")

    readline = read
    read1 = read


def post_unread(client, length: int, **headers):
    """POST a callback whose body claims `length` bytes and may not be read."""
    return client.post(
        CALLBACK,
        input_stream=Unreadable(),
        content_type="application/json",
        headers=headers,
        environ_overrides={"CONTENT_LENGTH": str(length)},
    )


def test_an_oversized_callback_body_is_refused_before_it_is_read(world):
    rep = world.login("rep1")
    response = post_unread(rep, 150 * 1024 * 1024)
    assert response.status_code == 413
    assert response.get_json()["limit"] == 5 * 1024 * 1024


def test_only_uploaders_get_the_upload_limit(world, monkeypatch):
    monkeypatch.setenv("AR_MAX_REQUEST_BYTES", "1000")
    monkeypatch.setenv("AR_MAX_UPLOAD_BYTES", "100000")
    output, spec = find_callback(world, "da-token.data")
    body = json.dumps({**callback_body(output, spec), "padding": "x" * 5000})
    rep = world.login("rep1")
    assert rep.post(CALLBACK, data=body, content_type="application/json").status_code == 413
    admin = world.login("admin")
    assert admin.post(CALLBACK, data=body, content_type="application/json").status_code in (
        200,
        204,
    )
    assert post_unread(admin, 200_000).status_code == 413


def test_a_callback_from_a_forbidden_page_is_refused_before_its_body_is_read(world):
    rep = world.login("rep1")
    response = post_unread(rep, 1000, Referer="http://localhost/admin/data")
    assert response.status_code == 403


def test_an_oversized_login_form_is_refused(world, monkeypatch):
    monkeypatch.setenv("AR_MAX_REQUEST_BYTES", "1000")
    client = world.client()
    response = client.post(
        "/login", data={"username": "admin", "password": "x" * 5000, "csrf_token": csrf(client)}
    )
    assert response.status_code == 413


# ---- login throttle ------------------------------------------------------------------------------


def test_thirty_parallel_wrong_passwords_check_at_most_five(world):
    clients = [world.client() for _ in range(30)]
    tokens = [csrf(c) for c in clients]
    statuses: list[int] = []
    start = threading.Barrier(30)

    def attempt(client, token):
        start.wait()
        response = client.post(
            "/login", data={"username": "admin", "password": "wrong-password", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 25
    with session_scope() as s:
        failed = s.execute(select(AuditLog).where(AuditLog.event == "failed_login")).scalars().all()
    assert len(failed) == 5


def test_the_reservation_is_atomic_under_threads(world):
    import datetime as dt

    from dashboard.data.login_sessions import reserve

    granted: list[bool] = []
    start = threading.Barrier(20)

    def take():
        start.wait()
        granted.append(reserve("user:race", 5, dt.timedelta(minutes=15)))

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 5


def test_an_office_behind_one_address_is_not_locked_out(world, monkeypatch):
    monkeypatch.setenv("AR_LOGIN_MAX_PER_IP", "6")
    for _ in range(5):  # one colleague locks only their own username
        login(world.client(), "clerk", "wrong-password")
    assert login(world.client(), "clerk").status_code == 429
    # successes are not counted
    for name in ["exec", "controller", "admin", "rep1", "rep3", "mgr_east"]:
        assert login(world.client(), name).status_code == 302, name


# ---- Origin / Referer ----------------------------------------------------------------------------


def test_cross_site_state_changes_are_refused(world):
    client = world.client()
    token = csrf(client)
    data = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    assert (
        client.post("/login", data=data, headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert client.post("/login", data=data, headers={"Origin": "null"}).status_code == 403
    assert (
        client.post("/login", data=data, headers={"Referer": "https://evil.example/x"}).status_code
        == 403
    )
    assert (
        client.post("/login", data=data, headers={"Origin": "http://localhost"}).status_code == 302
    )
    rep = world.login("rep1")
    output, spec = find_callback(world, "nav-links.children")
    assert (
        rep.post(
            CALLBACK, json=callback_body(output, spec), headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert rep.post("/logout", headers={"Origin": "https://evil.example"}).status_code == 403
    assert rep.get("/api/kpis").status_code == 200


def test_trusted_origins_are_accepted(world, monkeypatch):
    monkeypatch.setenv("AR_TRUSTED_ORIGINS", "https://ar.example.com")
    client = world.client()
    data = {"username": "admin", "password": PASSWORD, "csrf_token": csrf(client)}
    assert (
        client.post("/login", data=data, headers={"Origin": "https://ar.example.com"}).status_code
        == 302
    )


# ---- headers -------------------------------------------------------------------------------------


def test_csp_permissions_policy_and_frame_ancestors_on_every_response(world):
    client = world.login("exec")
    for path in ["/", "/login", "/api/kpis", "/_dash-layout"]:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers
    hashes = world.app.csp_hashes()
    assert hashes and all(
        h.startswith("'sha256-") and h in client.get("/").headers["Content-Security-Policy"]
        for h in hashes
    )


def test_hsts_when_cookies_are_secure(db_url, monkeypatch):
    monkeypatch.setenv("AR_SECURE_COOKIES", "1")
    world = make_world(db_url)
    assert "max-age=" in world.client().get("/login").headers["Strict-Transport-Security"]


# ---- rate limits ---------------------------------------------------------------------------------


def test_api_and_exports_are_rate_limited_per_user(db_url, monkeypatch):
    monkeypatch.setenv("AR_API_RATE_LIMIT", "3 per minute")
    monkeypatch.setenv("AR_EXPORT_RATE_LIMIT", "2 per minute")
    world = make_world(db_url)
    client = world.login("exec")
    assert [client.get("/api/kpis?as_of=2024-03-01").status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    assert "rate limit" in client.get("/api/kpis").get_json()["error"]
    assert world.login("controller").get("/api/kpis?as_of=2024-03-01").status_code == 200
    statuses = [
        client.get("/export/table/open_invoices.csv?as_of=2024-03-01").status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_rate_limits_use_redis_when_configured(sqlite_url, monkeypatch):
    from limits.storage import MemoryStorage, RedisStorage

    from dashboard.app import create_app

    assert isinstance(create_app().server.extensions["ar_limiter"]._storage, MemoryStorage)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(create_app().server.extensions["ar_limiter"]._storage, RedisStorage)


# ---- parameters ----------------------------------------------------------------------------------


OUT_OF_RANGE_URLS = [
    "/api/customers/C1?as_of={d}",
    "/api/kpis?as_of={d}",
    "/api/export/open_invoices.csv?as_of={d}",
    "/export/chart/top_debtors.csv?as_of={d}",
    "/export/chart/top_debtors.png?as_of={d}",
    "/export/table/open_invoices.xlsx?as_of={d}",
    "/export/receivables.pdf?as_of={d}",
    "/export/customers/C1.pdf?as_of={d}",
]


def test_out_of_range_dates_are_a_400_naming_the_parameter(world):
    client = world.login("controller")
    for template in OUT_OF_RANGE_URLS:
        for day in ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]:
            response = client.get(template.format(d=day))
            assert response.status_code == 400, (template, day, response.text[:200])
            body = response.get_json()
            assert body["parameter"] == "as_of" and "1900-01-01" in body["error"], body


def test_callbacks_share_the_date_range():
    from dashboard.params import validate

    clean, messages = validate({"as_of": "0001-01-01"}, now=__import__("datetime").date(2024, 3, 1))
    assert clean["as_of"] == "2024-03-01"
    assert "outside 1900-01-01 to 2199-12-31" in messages[0]


def test_chart_pixels_are_capped_with_a_400_stating_the_limit(world, monkeypatch):
    from dashboard.export import png

    def no_render(*_args, **_kwargs):
        raise AssertionError("rendered")

    monkeypatch.setattr(png._server, "render", no_render)
    client = world.login("controller")
    for query in [
        "width=4000&height=4000&scale=3",
        "width=4000&height=4000&scale=4",
        "width=4000&height=4000&scale=2",
    ]:
        response = client.get(f"/export/chart/top_debtors.png?as_of=2024-03-01&{query}")
        assert response.status_code == 400, query
        body = response.get_json()
        assert body["limit"] == 16_000_000 and "16,000,000 pixels" in body["error"], body
    monkeypatch.setenv("AR_EXPORT_MAX_PIXELS", "100000")
    response = client.get("/export/chart/top_debtors.png?as_of=2024-03-01")
    assert response.status_code == 400 and "100,000 pixels" in response.get_json()["error"]


# ---- asset paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/_dash-component-suites/dash/deps/..%2f..%2fapp.py",
        "/_dash-component-suites/dash/%2e%2e/%2e%2e/x.js",
        "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.v1.min.js%00.map",
        "/assets/..%2f..%2fpyproject.toml",
        "/_dash-component-suites/dash/nonexistent.js",
        "/_dash-component-suites/dash/dcc/nope.v9_9_9m.js",
        "/_dash-component-suites/no_such_package/x.js",
    ],
)
def test_malformed_asset_paths_are_404_without_a_traceback(world, path, caplog):
    caplog.set_level(logging.INFO)
    response = world.client().get(path)
    assert response.status_code == 404, response.text[:300]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_real_assets_still_load(world):
    client = world.client()
    page = client.get("/login")
    assert page.status_code == 200
    assert client.get("/assets/app.css").status_code == 200
    login(client, "exec")
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.get("/").text)
    assert scripts
    for src in scripts:
        assert client.get(src).status_code == 200, src


# ---- empty states and browser-sent lists ---------------------------------------------------------


def page_module(path: str):
    """The module of the registered Dash page at path."""
    import sys

    import dash

    return sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == path)]


def test_an_empty_workspace_grid_is_an_empty_state(world):
    from flask_login import login_user

    from dashboard.auth.users import AuthUser
    from dashboard.components import grid

    with session_scope() as s:
        row = s.execute(select(User).where(User.username == "rep1")).scalar_one()
    workspace = page_module("/invoices")
    data = {
        "filters": {"as_of": "1950-01-01", "basis": "due", "query": ""},
        "tab": "hotlist",
        "status": [],
        "owner": None,
        "dpd_min": None,
        "dpd_max": None,
    }
    with world.app.server.test_request_context("/invoices"):
        login_user(AuthUser.from_row(row))
        for tab in ("hotlist", "current", "paid"):
            source = grid.source_frame(workspace.GRID, {**data, "tab": tab}, cached=False)[1]
            view = grid.make_view(source, grid.Query())
            assert view.block(0, grid.BLOCK_ROWS) == [] and view.pinned() == [], tab
            assert grid.column_defs(source), tab
            text = view.caption()
            assert "0 rows" in text or "No " in text, text


@pytest.mark.parametrize("username, as_of", [("nobody", "2024-03-01"), ("admin", "1950-01-01")])
def test_every_callback_answers_an_empty_scope_or_empty_ledger_without_a_500(
    world, username, as_of, caplog
):
    """A rep with no customers, and an as-of date before any invoice: every result is empty, none crashes."""
    from auth_helpers import add_user

    add_user("nobody", "sales_rep")  # no rep id: sees no customer at all
    client = world.login(username)
    filters = {"as_of": as_of, "basis": "due", "query": f"?as_of={as_of}"}
    fixed = {("filters", "data"): filters, ("data-version", "data"): {"version": 1}}
    failures = []
    for output, spec in world.app.callback_map.items():
        if "callback" not in spec or "{" in output:
            continue  # clientside, or pattern-matching ids (driven by the grid tests)
        values = {
            **fixed,
            **{
                (d["id"], d["property"]): "/" for d in spec["inputs"] if d["property"] == "pathname"
            },
        }
        response = client.post(CALLBACK, json=callback_body(output, spec, values))
        if response.status_code >= 500:
            failures.append((output, response.status_code))
    assert failures == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_upload_callback_with_mismatched_lists_answers_cleanly(world):
    admin = world.login("admin")
    output, spec = find_callback(world, "da-token.data")
    data_url = "data:text/csv;base64," + base64.b64encode(b"sales_rep_id,name\nR9,Nine\n").decode()
    for contents, names in [
        ([data_url, data_url], ["a.csv"]),
        ([data_url], "a.csv"),
        ([7], ["a.csv"]),
        ({"x": 1}, ["a.csv"]),
    ]:
        values = {("da-upload", "contents"): contents, ("da-upload", "filename"): names}
        response = admin.post(CALLBACK, json=callback_body(output, spec, values))
        assert response.status_code == 200, (contents, response.text[:300])
        assert "choose the files again" in response.text or "could not be read" in response.text


# ---- imports -------------------------------------------------------------------------------------


def dump(url: str) -> dict[str, list]:
    """Every ledger table's rows."""
    with get_engine(url).connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
            if t.name not in ("audit_log", "auth_sessions", "login_throttle")
        }


def import_errors(url: str, directory: Path) -> list[str]:
    """The errors of an import that must fail, after checking it changed nothing."""
    from dashboard.data.importer import ImportFailed, run_import

    before = dump(url)
    with pytest.raises(ImportFailed) as failure:
        run_import(directory, url=url, progress=False)
    assert dump(url) == before
    return failure.value.errors


def write_dir(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A directory holding the files."""
    directory = tmp_path / "in"
    directory.mkdir(exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


REPS = b"sales_rep_id,name\nR1,Rep One\n"
CUSTOMERS = b"customer_id,name,terms_days\nC1,Acme,30\n"


def test_bare_cr_line_endings_are_a_file_row_column_error(db_url, tmp_path):
    reason = "line ends in a bare carriage return (CR, old Mac line endings); save the file with LF or CRLF line endings"
    for data, where in [
        (b'sales_rep_id,name\rR1,Rep "One\rR2,Two\r', "1:name"),
        (b'sales_rep_id,name\r\nR1,"Rep\rOne"\r\nR2\r,Two\r\n', "3:sales_rep_id"),
        (b'sales_rep_id,name\nR1,"Rep""\rOne"\nR2,Two\rR3,Three\n', "3:name"),
    ]:
        directory = write_dir(tmp_path, {"sales_reps.csv": data})
        assert import_errors(db_url, directory) == [f"sales_reps.csv:{where}: {reason}"]


def test_a_far_issue_date_with_a_blank_due_date_is_refused_the_same_on_both_backends(
    db_url, tmp_path
):
    invoices = b"invoice_id,customer_id,issue_date,due_date,amount\nI1,C1,9999-12-31,,10.00\nI2,C1,2199-12-20,,5.00\n"
    directory = write_dir(tmp_path, {"customers.csv": CUSTOMERS, "invoices.csv": invoices})
    assert import_errors(db_url, directory) == [
        "invoices.csv:2:issue_date: date outside 1900-01-01 to 2199-12-31: '9999-12-31'",
        "invoices.csv:3:due_date: blank, and issue_date + the customer's terms is after 2199-12-31",
    ]


def test_nul_bytes_are_refused_the_same_on_both_backends(db_url, tmp_path):
    directory = write_dir(
        tmp_path, {"sales_reps.csv": b"sales_rep_id,name\nR1,Rep\x00One\nR\x002,Two\n"}
    )
    assert import_errors(db_url, directory) == [
        "sales_reps.csv:2:name: contains a NUL character (byte 0)",
        "sales_reps.csv:3:sales_rep_id: contains a NUL character (byte 0)",
    ]


def test_row_cap(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AR_IMPORT_MAX_ROWS", "2")
    directory = write_dir(tmp_path, {"sales_reps.csv": b"sales_rep_id,name\nR1,A\nR2,B\nR3,C\n"})
    assert import_errors(db_url, directory) == [
        "sales_reps.csv:4:-: more than 2 rows (AR_IMPORT_MAX_ROWS; an XLSX sheet holds at most 1,048,575); split the file"
    ]


def bomb_xlsx(rows: int) -> bytes:
    """A small XLSX that expands to `rows` rows of sheet XML (a zip bomb in miniature)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["sales_rep_id", "name"])
    for i in range(rows):
        sheet.append([f"R{i}", "Rep"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_uncompressed_size_is_capped_before_parsing(db_url, tmp_path, monkeypatch):
    data = bomb_xlsx(3000)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setenv("AR_IMPORT_MAX_BYTES", str(unpacked - 1))
    monkeypatch.setattr(
        "openpyxl.load_workbook", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed"))
    )
    errors = import_errors(db_url, write_dir(tmp_path, {"sales_reps.xlsx": data}))
    assert errors == [
        f"sales_reps.xlsx:1:-: its uncompressed content is {unpacked:,} bytes; the limit is "
        f"{unpacked - 1:,} bytes (AR_IMPORT_MAX_BYTES)"
    ]


def test_xlsx_rows_are_counted_exactly_in_the_raw_xml(tmp_path):
    from dashboard.data.mapping import xlsx_row_count

    path = tmp_path / "big.xlsx"
    path.write_bytes(bomb_xlsx(20_000))  # about 2 MB of sheet XML: the 1 MiB reads cut through tags
    assert xlsx_row_count(path) == 20_001


def test_xlsx_rows_are_capped_before_openpyxl_reads_the_sheet(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AR_IMPORT_MAX_ROWS", "100")
    monkeypatch.setattr(
        "openpyxl.load_workbook", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed"))
    )
    errors = import_errors(db_url, write_dir(tmp_path, {"sales_reps.xlsx": bomb_xlsx(3000)}))
    assert errors == [
        "sales_reps.xlsx:102:-: more than 100 rows (AR_IMPORT_MAX_ROWS; an XLSX sheet holds at most "
        "1,048,575); split the file"
    ]


def test_import_time_is_capped(db_url, tmp_path, monkeypatch):
    from dashboard.data import mapping

    ticks = iter(range(0, 10_000, 1000))  # each look at the clock: 1000 s later
    monkeypatch.setattr(mapping, "clock", lambda: next(ticks))
    monkeypatch.setenv("AR_IMPORT_MAX_SECONDS", "1500")
    errors = import_errors(db_url, write_dir(tmp_path, {"sales_reps.csv": REPS}))
    assert errors == [
        "sales_reps.csv:-:-: the import took longer than 1500 seconds (AR_IMPORT_MAX_SECONDS); "
        "nothing was written"
    ]
