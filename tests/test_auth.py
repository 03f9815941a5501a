"""Login, logout, CSRF, throttling, cookies, hashing, scopes, roles, the users CLI and demo users."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat

import pytest
from auth_helpers import PASSWORD, add_user, csrf, login, logout, make_world, seed_ledger
from sqlalchemy import select, update

from dashboard.auth.roles import can, page_allowed, page_rule
from dashboard.auth.scope import scope_for
from dashboard.auth.users import AuthUser, check_password, ensure_demo_users, hash_password
from dashboard.auth.views import safe_next
from dashboard.data.db import session_scope
from dashboard.data.models import AuditLog, LoginThrottle, User
from dashboard.metrics.filters import Scope


@pytest.fixture
def world(db_url):
    """Seeded ledger + users + app, on SQLite and PostgreSQL."""
    return make_world(db_url)


def audit_rows(event: str | None = None) -> list[AuditLog]:
    """Audit rows, oldest first, optionally of one event."""
    stmt = select(AuditLog).order_by(AuditLog.id)
    if event:
        stmt = stmt.where(AuditLog.event == event)
    with session_scope() as session:
        return list(session.execute(stmt).scalars())


def user_row(username: str) -> User:
    """The stored user."""
    with session_scope() as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


# ---- login / logout ---------------------------------------------------------------------------


def test_login_page_is_a_flask_form_with_csrf_and_vendored_css(world):
    page = world.client().get("/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    assert "/assets/vendor/bootstrap.min.css" in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text


def test_login_page_prefetches_the_dashboard_scripts_which_are_public(world):
    """The login page names the scripts the first page needs (plotly.js among them: the vendored
    partial bundle, not the plotly package's full one) for the browser to fetch while the user types;
    each answers without a login."""
    import re

    client = world.client()
    page = client.get("/login").text
    hrefs = re.findall(r'<link rel="prefetch" href="([^"]+)" as="script">', page)
    assert "/assets/vendor/plotly-cartesian-4.1.1.min.js" in hrefs
    assert not any("package_data/plotly.min.js" in h for h in hrefs)
    assert any("dash_renderer" in h for h in hrefs) and any("dash_ag_grid" in h for h in hrefs)
    index = (
        world.login("exec").get("/").text
    )  # every script of the dashboard's own page is prefetched
    assert set(re.findall(r'<script src="([^"]+)"', index)) <= set(hrefs)
    for href in hrefs:
        assert client.get(href).status_code == 200, href


def test_login_succeeds_and_is_audited(world):
    client = world.client()
    response = login(client, "controller")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    rows = audit_rows("login")
    assert [r.username for r in rows] == ["controller"]


def test_login_is_case_insensitive_on_username(world):
    assert login(world.client(), "Controller").status_code == 302


def test_wrong_password_and_unknown_user_fail_and_are_audited(world):
    client = world.client()
    wrong = login(client, "controller", "wrong-password")
    assert wrong.status_code == 401
    assert "Unknown username or wrong password" in wrong.text
    assert client.get("/").status_code == 302
    assert login(client, "nobody").status_code == 401
    assert [r.username for r in audit_rows("failed_login")] == ["controller", "nobody"]
    assert audit_rows("login") == []


def test_disabled_user_cannot_log_in(world):
    from dashboard.auth.users import set_active

    set_active("clerk", False)
    assert login(world.client(), "clerk").status_code == 401


def test_csrf_token_required(world):
    client = world.client()
    csrf(client)
    missing = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert missing.status_code == 400
    forged = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert client.get("/").status_code == 302
    other = world.client()  # a token from another session is not valid here
    token = csrf(other)
    assert (
        world.client()
        .post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        .status_code
        == 400
    )


def test_logout_ends_the_session_and_is_audited(world):
    client = world.login("exec")
    assert client.get("/logout").status_code == 200  # a GET only shows the logout form
    assert client.get("/api/kpis").status_code == 200
    assert client.post("/logout").status_code == 400  # no CSRF token: not logged out
    assert client.get("/api/kpis").status_code == 200
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert client.get("/api/kpis").status_code == 401
    assert [r.username for r in audit_rows("logout")] == ["exec"]


def test_logged_in_user_visiting_login_goes_on(world):
    client = world.login("exec")
    response = client.get("/login?next=/customers")
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers"


# ---- next redirect ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/customers?segment=Retail", "/customers?segment=Retail"),
        ("/customers/C1", "/customers/C1"),
        ("https://evil.com/", "/"),
        ("http:/evil.com", "/"),
        ("//evil.com", "/"),
        ("///evil.com", "/"),
        ("/\\evil.com", "/"),
        ("\\\\evil.com", "/"),
        ("/\tevil", "/"),
        ("javascript:alert(1)", "/"),
        (" /customers", "/"),
        ("", "/"),
        (None, "/"),
        ("/login", "/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    "target", ["https://evil.com", "//evil.com", "/\\evil.com", "http:\\\\evil.com"]
)
def test_login_never_redirects_off_site(world, target):
    response = login(world.client(), "admin", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_redirects_to_a_safe_next(world):
    response = login(world.client(), "admin", next_url="/customers?segment=Retail")
    assert response.headers["Location"] == "/customers?segment=Retail"


# ---- throttling -------------------------------------------------------------------------------


def test_throttled_after_five_failures_even_with_the_right_password(world):
    client = world.client()
    for _ in range(5):
        assert login(client, "admin", "wrong-password").status_code == 401
    refused = login(client, "admin")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert login(world.client(), "Admin").status_code == 429  # any client, any case
    assert login(world.client(), "exec").status_code == 302  # other users are not locked
    assert len(audit_rows("failed_login")) == 5  # refused attempts do not extend the lock


def test_lock_ends_after_fifteen_minutes(world):
    client = world.client()
    for _ in range(5):
        login(client, "admin", "wrong-password")
    assert login(client, "admin").status_code == 429
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=16)
    with session_scope() as session:
        session.execute(update(AuditLog).values(at=past))
        session.execute(update(LoginThrottle).values(window_start=past))
    assert login(client, "admin").status_code == 302


def test_address_throttled_after_many_failures_across_usernames(world, monkeypatch):
    monkeypatch.setenv("AR_LOGIN_MAX_PER_IP", "20")
    client = world.client()
    for i in range(20):
        login(client, f"guess{i}", "wrong-password")
    assert login(client, "controller").status_code == 429
    other_address = world.client()
    assert (
        login(other_address, "controller", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
        == 302
    )


# ---- cookies, proxy ---------------------------------------------------------------------------


def session_cookie(response) -> str:
    """The Set-Cookie header of the session cookie."""
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_flags(world):
    cookie = session_cookie(login(world.client(), "admin"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development
    assert not any(
        c.startswith("remember_token")
        for c in login(world.client(), "exec").headers.getlist("Set-Cookie")
    )


def test_secure_cookies_from_env(db_url, monkeypatch):
    monkeypatch.setenv("AR_SECURE_COOKIES", "1")
    world = make_world(db_url)
    cookie = session_cookie(login(world.client(), "admin"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_in_production(sqlite_url, monkeypatch):
    monkeypatch.setenv("AR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    world = make_world(sqlite_url)
    assert world.app.server.config["SESSION_COOKIE_SECURE"] is True


def test_proxy_fix_uses_forwarded_address(sqlite_url, monkeypatch):
    monkeypatch.setenv("AR_BEHIND_PROXY", "1")
    world = make_world(sqlite_url)
    login(world.client(), "admin", headers={"X-Forwarded-For": "203.0.113.7"})
    assert audit_rows("login")[0].remote_addr == "203.0.113.7"


# ---- password hashing -------------------------------------------------------------------------


def test_password_hash_is_slow_salted_and_not_plaintext(sqlite_url):
    from dashboard.auth.users import create_user

    create_user("u1", "executive", "same-password-1")
    create_user("u2", "executive", "same-password-1")
    first, second = user_row("u1").password_hash, user_row("u2").password_hash
    assert "same-password-1" not in first
    assert first.startswith("scrypt:")
    assert first != second  # salted
    assert check_password(first, "same-password-1") and check_password(second, "same-password-1")
    assert not check_password(first, "same-password-2")
    assert not check_password(None, "anything")
    assert hash_password("x" * 12) != hash_password("x" * 12)


# ---- scopes and roles -------------------------------------------------------------------------


def auth_user(username: str) -> AuthUser:
    """The AuthUser of a stored user."""
    return AuthUser.from_row(user_row(username))


def test_scope_for_each_role(world):
    assert scope_for(auth_user("admin")).unrestricted
    assert scope_for(auth_user("exec")).unrestricted
    assert scope_for(auth_user("controller")).unrestricted
    assert scope_for(auth_user("clerk")).unrestricted
    north = scope_for(auth_user("clerk_north"))
    assert north.sales_rep_ids is None and north.regions == {"North"} and north.segments is None
    assert scope_for(auth_user("mgr_east")).sales_rep_ids == {"R1", "R2"}
    assert scope_for(auth_user("mgr_west")).sales_rep_ids == {"R3", "R4"}
    assert scope_for(auth_user("rep1")).sales_rep_ids == {"R1"}
    assert scope_for(auth_user("rep3")).sales_rep_ids == {"R3"}


def test_scope_edge_cases(sqlite_url):
    seed_ledger()
    add_user("lonely_rep", "sales_rep")
    add_user("no_group", "sales_manager")
    add_user("own_only", "sales_manager", group_name="Nowhere", sales_rep_id="R4")
    add_user("retail_mgr", "sales_manager", group_name="East", segments="Retail, Wholesale")
    add_user("strange", "superuser")
    assert scope_for(auth_user("lonely_rep")) == Scope.nothing()
    assert scope_for(auth_user("no_group")).sales_rep_ids == frozenset()
    assert scope_for(auth_user("own_only")).sales_rep_ids == {"R4"}
    retail = scope_for(auth_user("retail_mgr"))
    assert retail.sales_rep_ids == {"R1", "R2"} and retail.segments == {"Retail", "Wholesale"}
    assert scope_for(auth_user("strange")).sales_rep_ids == frozenset()
    assert scope_for(None) == Scope.nothing()


def test_scope_follows_rep_group_changes(sqlite_url):
    from dashboard.data.models import SalesRep

    seed_ledger()
    add_user("mgr", "sales_manager", group_name="East")
    assert scope_for(auth_user("mgr")).sales_rep_ids == {"R1", "R2"}
    with session_scope() as session:
        session.get(SalesRep, "R3").group_name = "East"
    assert scope_for(auth_user("mgr")).sales_rep_ids == {"R1", "R2", "R3"}


def test_capabilities(world):
    assert can(auth_user("admin"), "admin_tiers") and can(auth_user("admin"), "admin_users")
    assert not can(auth_user("controller"), "admin_tiers")
    assert all(can(auth_user(u), "export") for u in ("admin", "exec", "clerk", "mgr_east", "rep1"))
    assert can(auth_user("rep1"), "view_commissions") and not can(
        auth_user("clerk"), "view_commissions"
    )
    assert can(auth_user("clerk"), "edit_notes") and not can(auth_user("exec"), "edit_notes")
    assert not can(auth_user("admin"), "no_such_capability")
    assert not can(None, "export")
    disabled = auth_user("admin")
    disabled.active = False
    assert not can(disabled, "export")


@pytest.mark.parametrize(
    "path, rule",
    [
        ("/", "/"),
        ("/commissions", "/commissions"),
        ("/commissions/R1", "/commissions"),
        ("/commissions-x", "/"),
        ("/admin/tiers", "/admin"),
        ("/administrator", "/"),
        ("/customers/C1", "/customers"),
    ],
)
def test_page_rule_matches_whole_segments(path, rule):
    assert page_rule(path) == rule


def test_page_allowed():
    assert page_allowed("sales_rep", "/commissions") and not page_allowed(
        "ar_clerk", "/commissions"
    )
    assert page_allowed("admin", "/admin/users") and not page_allowed("controller", "/admin/users")
    assert not page_allowed(None, "/")


# ---- users CLI --------------------------------------------------------------------------------


def run_users(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run `python -m dashboard users ...` in-process."""
    from dashboard.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["users", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_list_and_manage(db_url, monkeypatch, capsys):
    seed_ledger()
    code, _, err = run_users(
        monkeypatch,
        capsys,
        "add",
        "--username",
        "Ann",
        "--role",
        "sales_rep",
        "--sales-rep",
        "R1",
        "--region",
        "North",
        "--region",
        "South,East",
        "--password-stdin",
        stdin="s3cret-password\n",
    )
    assert code == 0, err
    row = user_row("ann")
    assert (row.role, row.sales_rep_id, row.regions, row.active) == (
        "sales_rep",
        "R1",
        "East,North,South",
        True,
    )
    assert check_password(row.password_hash, "s3cret-password")
    code, _, _ = run_users(
        monkeypatch,
        capsys,
        "add",
        "--username",
        "boss",
        "--role",
        "sales_manager",
        "--sales-rep",
        "R3",
        "--password-stdin",
        stdin="another-pass-1\n",
    )
    assert code == 0 and user_row("boss").group_name == "West"
    code, out, _ = run_users(monkeypatch, capsys, "list")
    assert code == 0
    header, *lines = out.strip().splitlines()
    assert header.split() == ["username", "role", "rep", "group", "regions", "segments", "active"]
    assert lines[0].split() == ["ann", "sales_rep", "R1", "East,North,South", "yes"]
    assert run_users(monkeypatch, capsys, "disable", "--username", "ann")[0] == 0
    assert user_row("ann").active is False
    assert run_users(monkeypatch, capsys, "enable", "--username", "ann")[0] == 0
    assert user_row("ann").active is True
    assert (
        run_users(
            monkeypatch,
            capsys,
            "set-password",
            "--username",
            "ann",
            "--password-stdin",
            stdin="brand-new-pass\n",
        )[0]
        == 0
    )
    assert check_password(user_row("ann").password_hash, "brand-new-pass")
    assert (
        run_users(monkeypatch, capsys, "set-role", "--username", "ann", "--role", "controller")[0]
        == 0
    )
    assert user_row("ann").role == "controller"
    events = [r.event for r in audit_rows()]
    assert events == [
        "user_add",
        "user_add",
        "user_disable",
        "user_enable",
        "user_set_password",
        "user_set_role",
    ]


@pytest.mark.parametrize(
    "argv, stdin, message",
    [
        (
            ["add", "--username", "x", "--role", "wizard", "--password-stdin"],
            "long-enough-1\n",
            "unknown role",
        ),
        (
            ["add", "--username", "x", "--role", "sales_rep", "--password-stdin"],
            "long-enough-1\n",
            "--sales-rep",
        ),
        (
            [
                "add",
                "--username",
                "x",
                "--role",
                "sales_rep",
                "--sales-rep",
                "R99",
                "--password-stdin",
            ],
            "long-enough-1\n",
            "R99",
        ),
        (
            ["add", "--username", "x", "--role", "sales_manager", "--password-stdin"],
            "long-enough-1\n",
            "--group",
        ),
        (
            ["add", "--username", "x", "--role", "admin", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        (["add", "--username", "x", "--role", "admin", "--password-stdin"], "", "at least 8"),
        (
            ["add", "--username", "bad name", "--role", "admin", "--password-stdin"],
            "long-enough-1\n",
            "username",
        ),
        (
            ["add", "--username", "admin", "--role", "admin", "--password-stdin"],
            "long-enough-1\n",
            "already exists",
        ),
        (["disable", "--username", "ghost"], "", "no user"),
        (["set-role", "--username", "admin", "--role", "pope"], "", "unknown role"),
        (["set-role", "--username", "admin", "--role", "sales_rep"], "", "--sales-rep"),
    ],
)
def test_cli_errors_exit_2_with_a_clear_message(
    sqlite_url, monkeypatch, capsys, argv, stdin, message
):
    seed_ledger()
    add_user("admin", "admin")
    code, _, err = run_users(monkeypatch, capsys, *argv, stdin=stdin)
    assert code == 2
    assert message in err


# ---- demo users -------------------------------------------------------------------------------


def test_demo_users_one_per_role_with_random_passwords(db_url, tmp_path, capsys):
    seed_ledger()
    target = tmp_path / "demo-users.txt"
    created = dict(ensure_demo_users(print_passwords=True, path=target))
    assert set(created) == {
        "admin",
        "executive",
        "controller",
        "ar_clerk",
        "sales_manager",
        "sales_rep",
    }
    assert len(set(created.values())) == 6 and all(len(p) >= 12 for p in created.values())
    manager, rep = user_row("sales_manager"), user_row("sales_rep")
    # R1 manages R2; East < West
    assert (manager.group_name, manager.sales_rep_id) == ("East", "R1")
    assert rep.sales_rep_id == "R2"  # an East rep with customers who is not the manager
    for username, password in created.items():
        assert check_password(user_row(username).password_hash, password)
        assert user_row(username).role == username
    err = capsys.readouterr().err
    text = target.read_text()
    assert all(p in err and p in text for p in created.values())
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert ensure_demo_users(print_passwords=True, path=tmp_path / "again.txt") == []
    assert not (tmp_path / "again.txt").exists()


def test_demo_users_never_in_production(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AR_ENV", "production")
    assert ensure_demo_users(print_passwords=True, path=tmp_path / "d.txt") == []
    with session_scope() as session:
        assert session.execute(select(User)).first() is None


def test_demo_users_without_reps_skip_sales_roles(sqlite_url, tmp_path):
    created = dict(ensure_demo_users(print_passwords=False, path=tmp_path / "d.txt"))
    assert set(created) == {"admin", "executive", "controller", "ar_clerk"}
    assert (tmp_path / "d.txt").exists()


def test_demo_user_can_log_in(sqlite_url, tmp_path):
    from dashboard.app import create_app

    seed_ledger()
    created = dict(ensure_demo_users(print_passwords=False, path=tmp_path / "d.txt"))
    client = create_app().server.test_client()
    assert login(client, "sales_rep", created["sales_rep"]).status_code == 302
