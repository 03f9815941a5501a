"""Grid payloads: exact Python totals, rows a block at a time, CSV with exact decimals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.components import grid


def frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(n)],
            "customer_id": [f"C{i}" for i in range(n)],
            "customer_name": ["=cmd|' /C calc'!A0", "Beta", "Gamma"][:n] + ["X"] * max(0, n - 3),
            "issue_date": [dt.date(2024, 1, 1 + i % 28) for i in range(n)],
            "disputed": [True, False, False][:n] + [False] * max(0, n - 3),
            "days_past_due": np.arange(n, dtype=np.int64),
            "amount_cents": np.array([10, 20, 2**53 - 1][:n] + [1] * max(0, n - 3), dtype=np.int64),
        }
    )


def test_totals_row_is_exact_over_all_rows():
    gf = grid.GridFrame(frame(), currency="USD")
    row = grid.totals_row(gf)
    assert row["invoice_id"] == "Total"
    # 10 + 20 + (2**53 - 1) cents: a float sum would lose the last cent
    assert row["amount_cents"] == "$90,071,992,547,410.21"


def test_a_view_sends_a_block_of_rows_and_totals_every_row():
    big = frame(7000)
    gf = grid.GridFrame(big, currency="USD", date_field="issue_date")
    view = grid.make_view(gf, grid.Query())
    rows = view.block(0, grid.BLOCK_ROWS)
    assert len(rows) == grid.BLOCK_ROWS == 100 and view.caption() == "7,000 rows."
    assert len(view.block(6900, 7400)) == 100  # the last block: only the rows there are
    # 10 + 20 + (2**53 - 1) + 6,997 x 1 cents, over every row (not only the block)
    assert view.pinned()[0]["amount_cents"] == "$90,071,992,547,480.18"
    assert rows[0] == {
        "invoice_id": "I0",
        "customer_id": "C0",
        "customer_name": "=cmd|' /C calc'!A0",
        "issue_date": "2024-01-01",
        "disputed": True,
        "days_past_due": 0,
        "amount_cents": 10,
    }


def test_column_definitions():
    columns = {
        c["field"]: c
        for c in grid.column_defs(
            grid.GridFrame(frame(), currency="EUR", labels={"amount_cents": "Open balance"})
        )
    }
    assert columns["amount_cents"]["headerName"] == "Open balance"
    assert columns["amount_cents"]["valueFormatter"] == {"function": "arMoney(params.value, 'EUR')"}
    assert columns["issue_date"]["filter"] == "agDateColumnFilter"
    assert columns["customer_name"]["cellRenderer"] == "CustomerLink"
    assert columns["disputed"]["valueFormatter"] == {"function": "arYesNo(params.value)"}
    unlinked = {
        c["field"]: c for c in grid.column_defs(grid.GridFrame(frame(), link_customers=False))
    }
    assert "cellRenderer" not in unlinked["customer_name"]


def test_csv_has_exact_decimals_a_stamp_and_no_formulas():
    text = grid.csv_text(grid.GridFrame(frame(), stamp="Total AR | as of 2024-06-30"))
    lines = text.splitlines()
    assert lines[0] == "# Total AR | as of 2024-06-30"
    assert (
        lines[1] == "invoice_id,customer_id,customer_name,issue_date,disputed,days_past_due,amount"
    )
    assert lines[2] == "I0,C0,'=cmd|' /C calc'!A0,2024-01-01,true,0,0.10"
    assert lines[4].endswith(",90071992547409.91")


def test_empty_source():
    view = grid.make_view(grid.GridFrame(frame(0)), grid.Query())
    assert view.block(0, grid.BLOCK_ROWS) == [] and view.pinned() == []
    assert view.caption().startswith(grid.NO_ROWS)


def test_matched_total_column():
    assert grid.GridFrame(frame()).matched_field() == "amount_cents"
    both = frame().assign(balance_cents=1)
    assert grid.GridFrame(both, total_field="balance_cents").matched_field() == "balance_cents"
    limits = frame().drop(columns="amount_cents").assign(credit_limit_cents=5)
    assert grid.GridFrame(limits).matched_field() == "credit_limit_cents"
    assert grid.GridFrame(frame().drop(columns="amount_cents")).matched_field() is None
