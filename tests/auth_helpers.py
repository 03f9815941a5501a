"""Shared helpers of the auth, guard and API tests: a small hand-made ledger, users, logins.

Ledger (as of 2024-03-01, worked out by hand):
    group East: R1 (manages R2), R2      group West: R3 (manages R4), R4
    C1 R1 North Retail     I1 1000.00 - payment 400.00 = 600.00 ; I2 234.56
    C2 R1 South Wholesale  I3 50.05
    C3 R2 North Retail     I4 500.00
    C4 R3 South Retail     I5 777.77
    C5 R4 North Wholesale  I6 300.01
    R1 884.61 | East 1384.61 | West 1077.78 | North 1634.57 | all 2462.39
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from dashboard.data.db import session_scope
from dashboard.data.models import Allocation, Customer, Invoice, Payment, SalesRep, User

PASSWORD = "correct-horse-42"
AS_OF = "2024-03-01"
D = dt.date.fromisoformat

REPS = [
    ("R1", "Rep One", "East", None),
    ("R2", "Rep Two", "East", "R1"),
    ("R3", "Rep Three", "West", None),
    ("R4", "Rep Four", "West", "R3"),
]
CUSTOMERS = [
    ("C1", "Acme", "R1", "North", "Retail"),
    ("C2", "Beta", "R1", "South", "Wholesale"),
    ("C3", "Gamma", "R2", "North", "Retail"),
    ("C4", "Delta", "R3", "South", "Retail"),
    ("C5", "Epsilon", "R4", "North", "Wholesale"),
]
INVOICES = [
    ("I1", "C1", "2024-01-10", 100000),
    ("I2", "C1", "2024-02-15", 23456),
    ("I3", "C2", "2024-02-01", 5005),
    ("I4", "C3", "2024-01-20", 50000),
    ("I5", "C4", "2024-01-05", 77777),
    ("I6", "C5", "2024-02-20", 30001),
]
CUSTOMER_REP = {c[0]: c[2] for c in CUSTOMERS}

USERS = {
    "admin": {"role": "admin"},
    "exec": {"role": "executive"},
    "controller": {"role": "controller"},
    "clerk": {"role": "ar_clerk"},
    "clerk_north": {"role": "ar_clerk", "regions": "North"},
    "mgr_east": {"role": "sales_manager", "group_name": "East", "sales_rep_id": "R1"},
    "mgr_west": {"role": "sales_manager", "group_name": "West"},
    "rep1": {"role": "sales_rep", "sales_rep_id": "R1"},
    "rep3": {"role": "sales_rep", "sales_rep_id": "R3"},
}


@cache
def password_hash() -> str:
    """One scrypt hash of PASSWORD, shared by the fixture users (hashing is deliberately slow)."""
    from dashboard.auth.users import hash_password

    return hash_password(PASSWORD)


def seed_ledger() -> None:
    """Insert the hand-made ledger above and bump the data version."""
    from dashboard.data.schema import bump_data_version

    with session_scope() as s:
        s.add_all(
            SalesRep(sales_rep_id=r, name=n, group_name=g, manager_id=m) for r, n, g, m in REPS
        )
        s.flush()
        s.add_all(
            Customer(
                customer_id=c,
                name=n,
                sales_rep_id=r,
                region=reg,
                segment=seg,
                tier="A",
                terms_days=30,
                terms_type="net",
            )
            for c, n, r, reg, seg in CUSTOMERS
        )
        s.flush()
        s.add_all(
            Invoice(
                invoice_id=i,
                customer_id=c,
                issue_date=D(d),
                due_date=D(d) + dt.timedelta(days=30),
                amount_cents=a,
                sales_rep_id=CUSTOMER_REP[c],
            )
            for i, c, d, a in INVOICES
        )
        s.add(
            Payment(
                payment_id="P1",
                customer_id="C1",
                date=D("2024-02-01"),
                amount_cents=40000,
                invoice_id="I1",
            )
        )
        s.flush()
        s.add(
            Allocation(payment_id="P1", invoice_id="I1", amount_cents=40000, date=D("2024-02-01"))
        )
        bump_data_version(s)


def add_user(username: str, role: str, **fields) -> None:
    """Insert an active user with PASSWORD."""
    with session_scope() as s:
        s.add(
            User(username=username, role=role, password_hash=password_hash(), active=True, **fields)
        )


def seed_users() -> None:
    """Insert every user of USERS."""
    for name, fields in USERS.items():
        add_user(name, **fields)


@dataclass
class World:
    """An app over the seeded database."""

    app: object
    url: str

    def client(self):
        """A fresh test client (its own cookie jar)."""
        return self.app.server.test_client()

    def login(self, username: str, password: str = PASSWORD):
        """A client logged in as username (asserts success)."""
        client = self.client()
        response = login(client, username, password)
        assert response.status_code == 302, response.text
        return client


def make_world(url: str) -> World:
    """Seed the ledger and users, build the app."""
    from dashboard.app import create_app

    seed_ledger()
    seed_users()
    return World(app=create_app(), url=url)


def csrf(client, next_url: str | None = None) -> str:
    """The CSRF token of the login form."""
    page = client.get("/login" + (f"?next={next_url}" if next_url else ""))
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, next_url: str | None = None, **extra):
    """POST the login form with a valid CSRF token."""
    data = {"username": username, "password": password, "csrf_token": csrf(client)}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data, **extra)


def callback_body(output: str, spec: dict, values: dict | None = None) -> dict:
    """A well-formed /_dash-update-component body for a callback_map entry."""
    values = values or {}

    def entries(deps):
        return [
            {
                "id": d["id"],
                "property": d["property"],
                "value": values.get((d["id"], d["property"])),
            }
            for d in deps
        ]

    out_list = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in output.strip(".").split("...")
        if "." in part
    ]
    return {
        "output": output,
        "outputs": out_list if len(out_list) != 1 else out_list[0],
        "inputs": entries(spec.get("inputs", [])),
        "state": entries(spec.get("state", [])),
        "changedPropIds": [],
    }


def logout(client):
    """POST /logout with the session's CSRF token (read from the logout form)."""
    page = client.get("/logout")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return client.post("/logout", data={"csrf_token": match.group(1)})


def post_callback(client, output: str, spec: dict, values: dict) -> dict:
    """POST one callback of callback_map as the browser would (its outputs listed, nothing
    changed); its response by component id ({} for a 204)."""
    body = callback_body(output, spec, values)
    outputs = spec["output"] if isinstance(spec["output"], list | tuple) else [spec["output"]]
    specs = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    body["outputs"] = specs if len(specs) != 1 else specs[0]
    body["changedPropIds"] = []
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), (output, response.text[:300])
    return response.get_json()["response"] if response.status_code == 200 else {}


def page_layout(world, client, path: str) -> dict:
    """The page router's layout for path (no query string), as the logged-in client gets it."""
    client.get("/")  # Dash copies the registered callbacks into callback_map on the first request
    router = next(o for o in world.app.callback_map if "_pages_content.children" in o)
    values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): ""}
    return post_callback(client, router, world.app.callback_map[router], values)["_pages_content"][
        "children"
    ]


def first_visit_filters() -> dict:
    """Store "filters" of a first visit (no query string), as the shell fills it."""
    from dashboard import params

    clean, _ = params.validate({})
    return params.store_data(clean, params.to_query(clean))
