"""TEMPORARY: the formatting helpers moved to dashboard/format.py (issue 13, layers).

Only the modules being rewritten in parallel still import this path: components/grid.py,
components/drill.py, pages/account.py, pages/workspace.py, export/tables.py and export/routes.py.
The import-linter contract "Formatting has one home" lists exactly those six edges; once each imports
dashboard.format (`from dashboard import format as fmt`), delete this file and that contract's
ignore_imports.
"""

from dashboard.format import (  # noqa: F401 - re-exported for the six modules above only
    DASH,
    SYMBOLS,
    compact_money_text,
    date,
    days,
    default_currency,
    money,
    money_short,
    number,
    pct,
    plural,
    ratio,
    symbol,
    to_cents,
)
