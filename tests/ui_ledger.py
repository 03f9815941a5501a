"""A small hand-made ledger for the UI tests, with its figures worked out by hand (as of 2024-06-30).

A1 Alpha  Retail/North     net 14 (short)  limit 1000.00  rep R1
   I1 2024-06-01 due 06-15  1200.00 open (15 days late: 1-30)      P2 2024-06-25 50.00 unapplied
B2 Beta   Wholesale/South  net 30 (long)   no limit       rep R2
   I2 2024-03-01 due 03-31   300.10 open (91 days late: 90+)
   I3 2024-06-20 due 07-20     0.20 open (not due)
C3 Gamma  Retail/South     net 30 (long)   limit 500.00   rep R1
   I4 2024-04-10 due 05-10   460.00 open (51 days late: 31-60; 92 % of the limit)
   I5 2024-06-05 due 07-05   100.00 paid by P1 2024-06-10

total AR 1960.30 = not due 0.20 + 1-30 1200.00 + 31-60 460.00 + 90+ 300.10
donuts: short 1200.00 (1-30); long 760.30 (not due 0.20, 31-60 460.00, 90+ 300.10)
June 2024 to date: credit sales 1300.20, collections 150.00; AR at 2024-05-31: 760.10
at risk, in order: A1 over limit, B2 90+ overdue, C3 above 90 % of its limit
"""

from __future__ import annotations

import datetime as dt

from tests.ledger import add_ledger

AS_OF = dt.date(2024, 6, 30)


def add_ui_ledger(url: str) -> None:
    """Insert the ledger above."""
    add_ledger(
        url,
        sales_reps=[
            {"sales_rep_id": "R1", "name": "Rita One", "group": "East"},
            {"sales_rep_id": "R2", "name": "Rob Two", "group": "West"},
        ],
        customers=[
            {
                "customer_id": "A1",
                "name": "Alpha",
                "segment": "Retail",
                "region": "North",
                "terms_days": 14,
                "credit_limit": "1000.00",
                "sales_rep_id": "R1",
            },
            {
                "customer_id": "B2",
                "name": "Beta",
                "segment": "Wholesale",
                "region": "South",
                "terms_days": 30,
                "sales_rep_id": "R2",
            },
            {
                "customer_id": "C3",
                "name": "Gamma",
                "segment": "Retail",
                "region": "South",
                "terms_days": 30,
                "credit_limit": "500.00",
                "sales_rep_id": "R1",
            },
        ],
        invoices=[
            {
                "invoice_id": "I1",
                "customer_id": "A1",
                "issue_date": "2024-06-01",
                "due_date": "2024-06-15",
                "amount": "1200.00",
            },
            {
                "invoice_id": "I2",
                "customer_id": "B2",
                "issue_date": "2024-03-01",
                "due_date": "2024-03-31",
                "amount": "300.10",
            },
            {
                "invoice_id": "I3",
                "customer_id": "B2",
                "issue_date": "2024-06-20",
                "due_date": "2024-07-20",
                "amount": "0.20",
            },
            {
                "invoice_id": "I4",
                "customer_id": "C3",
                "issue_date": "2024-04-10",
                "due_date": "2024-05-10",
                "amount": "460.00",
            },
            {
                "invoice_id": "I5",
                "customer_id": "C3",
                "issue_date": "2024-06-05",
                "due_date": "2024-07-05",
                "amount": "100.00",
            },
        ],
        payments=[
            {"payment_id": "P1", "customer_id": "C3", "date": "2024-06-10", "amount": "100.00"},
            {"payment_id": "P2", "customer_id": "A1", "date": "2024-06-25", "amount": "50.00"},
        ],
        allocations=[{"payment_id": "P1", "invoice_id": "I5", "amount": "100.00"}],
    )
