"""Deterministic, realistic demo data: `python -m dashboard demo` and the empty-database start-up.

generate_demo builds about three years of ledger ending at `today` column-wise with numpy (no
loop over invoices); load_demo replaces the ledger tables' contents with it in one transaction.
See docs/demo.md for the behaviour mix and the rates used.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exists, or_, select
from tqdm import tqdm

from dashboard.config import get_settings
from dashboard.data.db import get_engine
from dashboard.data.demo_currency import DEFAULT_CURRENCIES
from dashboard.data.demo_generate import generate_demo
from dashboard.data.demo_load import LOAD_ORDER, load_postgres, load_sqlite
from dashboard.data.models import Customer, Invoice
from dashboard.data.schema import init_db, is_initialised

GENERATE_STEPS = ("customers", "invoices", "payments", "follow-up", "frames")

__all__ = ["generate_demo", "ledger_is_empty", "load_demo"]


def ledger_is_empty(url: str | None = None) -> bool:
    """True when there are no customers and no invoices."""
    if not is_initialised(url):
        return True
    query = select(or_(exists().select_from(Customer), exists().select_from(Invoice)))
    with get_engine(url).connect() as conn:
        return not conn.execute(query).scalar()


@contextmanager
def _bar(enabled: bool, total: int, desc: str, unit: str) -> Iterator[Any]:
    """A tqdm bar on stderr, or a stand-in that ignores updates."""
    if not enabled:
        yield None
        return

    with tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr, unit_scale=unit == "row", leave=False
    ) as bar:
        yield bar


def _generate(
    customers: int,
    invoices: int,
    seed: int,
    today: dt.date,
    progress: bool,
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES,
) -> dict[str, Any]:
    """generate_demo with a step-wise progress bar (base currency: AR_BASE_CURRENCY)."""
    with _bar(progress, len(GENERATE_STEPS), "generate", "step") as bar:

        def step(name: str) -> None:
            if bar is not None:
                bar.set_postfix_str(name)
                bar.update(1)

        return generate_demo(
            customers,
            invoices,
            seed,
            today,
            step=step,
            currencies=currencies,
            base=get_settings().base_currency,
        )


def _load(url: str | None, frames: dict[str, Any], progress: bool) -> str:
    """Load the frames with the backend's bulk path; returns the backend name."""
    engine = get_engine(url)
    total = sum(len(frames[t]) for t in LOAD_ORDER)
    with _bar(progress, total, "load", "row") as bar:
        tick = bar.update if bar is not None else (lambda _n: None)
        if engine.dialect.name == "sqlite":
            load_sqlite(engine, frames, tick)
        elif engine.dialect.name == "postgresql":
            load_postgres(engine, frames, tick)
        else:
            raise ValueError(
                f"demo loading supports SQLite and PostgreSQL, not {engine.dialect.name}"
            )
    return engine.dialect.name


def load_demo(
    url: str | None = None,
    customers: int = 600,
    invoices: int = 20000,
    seed: int = 42,
    today: dt.date | None = None,
    progress: bool = True,
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES,
) -> dict[str, Any]:
    """Replace the ledger tables' contents with generated demo data; returns row counts and timings.

    `currencies` other than the base currency go to about a fifth of the customers (("USD",) or
    just the base currency: a single-currency ledger)."""
    if customers < 1 or invoices < 1:
        raise ValueError("customers and invoices must be positive")
    today = today or dt.date.today()
    if not is_initialised(url):
        init_db(url)
    t0 = time.perf_counter()
    frames = _generate(customers, invoices, seed, today, progress, tuple(currencies))
    t1 = time.perf_counter()
    backend = _load(url, frames, progress)
    t2 = time.perf_counter()
    rows = {t: len(frames[t]) for t in LOAD_ORDER}
    credit_notes = int((frames["invoices"]["amount_cents"] < 0).sum())
    return {
        "backend": backend,
        "seed": seed,
        "today": today.isoformat(),
        "customers": rows["customers"],
        "invoices": rows["invoices"] - credit_notes,
        "credit_notes": credit_notes,
        "rows": rows,
        "total_rows": sum(rows.values()),
        "generate_seconds": round(t1 - t0, 3),
        "load_seconds": round(t2 - t1, 3),
        "seconds": round(t2 - t0, 3),
    }
