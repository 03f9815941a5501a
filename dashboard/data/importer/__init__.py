"""Canonical import (BRIEF "Data contract", docs/import.md): validate every file of a directory, then
upsert all of it in one transaction, or nothing.

- contract: the canonical files (columns, keys, references), the parsed tables, the problems found,
  ImportFailed and ImportResult;
- read: the source files (canonical or mapped) and each cell parsed to its column's type;
- check: the checks across files and against the database (and the derived allocations);
- write: the upserts, in dependency order and batches;
- run: run_import and import_lock (imports run one at a time).

This package's public API is the names below.
"""

from dashboard.data.importer.contract import ImportFailed, ImportResult, Progress
from dashboard.data.importer.run import LOCK_BUSY, import_lock, run_import

__all__ = [
    "LOCK_BUSY",
    "ImportFailed",
    "ImportResult",
    "Progress",
    "import_lock",
    "run_import",
]
