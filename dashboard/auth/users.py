"""Users: password hashing, loading, the `users` CLI and the demo users of a development database.

The rules live here; the users table is read and written by dashboard.data.users.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.auth.audit import write_audit
from dashboard.auth.roles import (
    ADMIN,
    AR_CLERK,
    CONTROLLER,
    EXECUTIVE,
    ROLES,
    SALES_MANAGER,
    SALES_REP,
    is_role,
)
from dashboard.config import ROOT, get_settings
from dashboard.data import users as store
from dashboard.data.login_sessions import session_user
from dashboard.data.models import User
from dashboard.data.schema import init_db
from dashboard.data.users import RepLookup, UserError, list_users, normalise_username

HASH_METHOD = "scrypt"  # werkzeug: scrypt (n=2**15, r=8, p=1) with a 16-character random salt
MIN_PASSWORD_LENGTH = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,99}$")
DEMO_USERS_FILE = ROOT / "data" / "demo-users.txt"
# A real hash to check against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


def hash_password(password: str) -> str:
    """A slow, salted hash of a password."""
    return generate_password_hash(password, method=HASH_METHOD)


def check_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash (always spends the hashing time)."""
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def split_list(value: str | None) -> frozenset[str] | None:
    """A comma-separated column as a set (None when empty)."""
    items = frozenset(part.strip() for part in (value or "").split(",") if part.strip())
    return items or None


def join_list(values: list[str] | None) -> str | None:
    """Repeatable/comma-separated CLI values as a comma-separated column (None when empty)."""
    items = sorted(
        {part.strip() for value in values or [] for part in value.split(",") if part.strip()}
    )
    return ",".join(items) or None


@dataclass
class AuthUser(UserMixin):
    """The logged-in user as flask-login sees it, loaded from the database on every request."""

    id: int
    username: str
    role: str
    sales_rep_id: str | None
    group_name: str | None
    regions: frozenset[str] | None
    segments: frozenset[str] | None
    active: bool
    session_token: str = ""

    @property
    def is_active(self) -> bool:
        """Disabled users cannot log in and are logged out on their next request."""
        return self.active

    def get_id(self) -> str:
        """flask-login's id: the random token of a server-side session (nothing about the password)."""
        return self.session_token

    @classmethod
    def from_row(cls, row: User, session_token: str = "") -> AuthUser:
        """Build from a User row."""
        return cls(
            id=row.id,
            username=row.username,
            role=row.role,
            sales_rep_id=row.sales_rep_id,
            group_name=row.group_name,
            regions=split_list(row.regions),
            segments=split_list(row.segments),
            active=bool(row.active),
            session_token=session_token,
        )


def load_user(session_token: str) -> AuthUser | None:
    """flask-login user_loader: the active user of a live server-side session, else None."""
    row = session_user(session_token)
    return AuthUser.from_row(row, session_token) if row is not None else None


def authenticate(username: str, password: str) -> AuthUser | None:
    """The active user with these credentials, else None."""
    row = store.find_user(username)
    ok = check_password(row.password_hash if row else None, password)
    if row is None or not ok or not row.active:
        return None
    return AuthUser.from_row(row)


# ---- user management -------------------------------------------------------------------------


def validate_password(password: str) -> None:
    """Refuse empty or short passwords."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def validate_role(role: str) -> None:
    """Refuse unknown role names."""
    if not is_role(role):
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")


def _rep(lookup: RepLookup, sales_rep_id: str):
    """The sales rep with this id, or a UserError."""
    rep = lookup(sales_rep_id)
    if rep is None:
        raise UserError(f"sales rep {sales_rep_id!r} does not exist (import sales_reps.csv first)")
    return rep


def _sales_fields(
    lookup: RepLookup, role: str, sales_rep_id: str | None, group: str | None
) -> tuple[str | None, str | None]:
    """Validate the rep/group a sales role needs; returns (sales_rep_id, group_name)."""
    rep = _rep(lookup, sales_rep_id) if sales_rep_id else None
    if role == SALES_REP and rep is None:
        raise UserError(
            "role sales_rep needs --sales-rep ID (the rep whose customers the user sees)"
        )
    if role == SALES_MANAGER:
        group = group or (rep.group_name if rep else None)
        if not group:
            raise UserError(
                "role sales_manager needs --group G (or --sales-rep of a rep in that group)"
            )
    return sales_rep_id, group


def create_user(
    username: str,
    role: str,
    password: str,
    sales_rep_id: str | None = None,
    group: str | None = None,
    regions: str | None = None,
    segments: str | None = None,
) -> User:
    """Validate and insert a user; raises UserError."""
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise UserError(
            "username: 1-100 characters of letters, digits, _ . @ - (starting with a letter or digit)"
        )
    validate_role(role)
    validate_password(password)
    return store.add_user(
        name,
        hash_password(password),
        role,
        regions,
        segments,
        lambda lookup: _sales_fields(lookup, role, sales_rep_id, group),
    )


def set_active(username: str, active: bool) -> None:
    """Enable or disable a user (a disabled user is logged out on the next request)."""
    store.set_user_active(username, active)


def set_password(username: str, password: str) -> None:
    """Set a new password (ends the user's existing sessions)."""
    validate_password(password)
    store.set_user_password_hash(username, hash_password(password))


def set_role(username: str, role: str) -> None:
    """Change a user's role (takes effect on the user's next request)."""
    validate_role(role)
    store.set_user_role(
        username, role, lambda lookup, rep_id, group: _sales_fields(lookup, role, rep_id, group)
    )


# ---- demo users ------------------------------------------------------------------------------


def _demo_specs() -> list[dict]:
    """One user per role; the sales roles only when the ledger has reps."""
    specs: list[dict[str, str | None]] = [
        {"username": role, "role": role} for role in (ADMIN, EXECUTIVE, CONTROLLER, AR_CLERK)
    ]
    manager, rep_id = store.demo_reps()
    if manager is not None:
        specs.append(
            {
                "username": SALES_MANAGER,
                "role": SALES_MANAGER,
                "group_name": manager.group_name,
                "sales_rep_id": manager.sales_rep_id,
            }
        )
    if rep_id is not None:
        specs.append({"username": SALES_REP, "role": SALES_REP, "sales_rep_id": rep_id})
    return specs


def _format_table(rows: list[list[str]]) -> str:
    """Rows of cells as an aligned text table (first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def ensure_demo_users(
    print_passwords: bool = False, path: Path | None = None
) -> list[tuple[str, str]]:
    """On an empty users table outside production, create one user per role with random passwords."""
    if get_settings().production:
        return []
    if store.any_user():
        return []
    created = [(spec, secrets.token_urlsafe(9)) for spec in _demo_specs()]
    if not store.add_users_if_none(
        [{"password_hash": hash_password(pw), **spec} for spec, pw in created]
    ):
        return []  # another worker created them first
    rows = [["username", "password", "role", "sales rep", "group"]] + [
        [s["username"], pw, s["role"], s.get("sales_rep_id") or "", s.get("group_name") or ""]
        for s, pw in created
    ]
    table = _format_table(rows)
    target = path or get_settings().demo_users_file
    try:
        _write_private(
            target,
            "Demo users (development only). Change or disable them before real use.\n\n"
            + table
            + "\n",
        )
        where = f"also written to {target}, mode 600"
    except OSError as error:
        print_passwords, where = True, f"could not write {target}: {error}"
    if print_passwords:
        print(f"demo users created ({where}):\n{table}", file=sys.stderr)
    return [(s["username"], pw) for s, pw in created]


# ---- CLI -------------------------------------------------------------------------------------


def read_password(stream=None) -> str:
    """One line from stdin, without its line ending."""
    line = (stream or sys.stdin).readline()
    return line.rstrip("\r\n")


def _cli_add(args: argparse.Namespace) -> str:
    """users add."""
    create_user(
        args.username,
        args.role,
        read_password(),
        sales_rep_id=args.sales_rep,
        group=args.group,
        regions=join_list(args.region),
        segments=join_list(args.segment),
    )
    return f"user {normalise_username(args.username)!r} added with role {args.role}"


def _cli_list(_args: argparse.Namespace) -> str:
    """users list."""
    rows = [["username", "role", "rep", "group", "regions", "segments", "active"]]
    for user in list_users():
        rows.append(
            [
                user.username,
                user.role,
                user.sales_rep_id or "",
                user.group_name or "",
                user.regions or "",
                user.segments or "",
                "yes" if user.active else "no",
            ]
        )
    print(_format_table(rows))
    return ""


def _cli_disable(args: argparse.Namespace) -> str:
    """users disable."""
    set_active(args.username, False)
    return f"user {normalise_username(args.username)!r} disabled"


def _cli_enable(args: argparse.Namespace) -> str:
    """users enable."""
    set_active(args.username, True)
    return f"user {normalise_username(args.username)!r} enabled"


def _cli_set_password(args: argparse.Namespace) -> str:
    """users set-password."""
    set_password(args.username, read_password())
    return f"password of {normalise_username(args.username)!r} changed"


def _cli_set_role(args: argparse.Namespace) -> str:
    """users set-role."""
    set_role(args.username, args.role)
    return f"user {normalise_username(args.username)!r} now has role {args.role}"


CLI_COMMANDS = {
    "add": _cli_add,
    "list": _cli_list,
    "disable": _cli_disable,
    "enable": _cli_enable,
    "set-password": _cli_set_password,
    "set-role": _cli_set_role,
}


def run_cli(args: argparse.Namespace) -> int:
    """Run a `users` subcommand; 0 on success, 2 on a user error (message on stderr)."""
    init_db(get_settings().database_url)
    command = args.users_command
    try:
        message = CLI_COMMANDS[command](args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if command != "list":
        write_audit(f"user_{command.replace('-', '_')}", "cli", message)
        print(message, file=sys.stderr)
    return 0
