"""System packages the exports need, checked at start: Chromium (PNG) and fonts (PDF).

Missing ones do not stop the server (pages, CSV and XLSX work without them); each is logged once at
start with the Debian package to install, and `python -m dashboard check` prints the same list.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass

from dashboard.export import pdf as export_pdf

log = logging.getLogger(__name__)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class Check:
    """One system requirement and whether it is met."""

    name: str
    ok: bool
    detail: str


def chromium() -> Check:
    """A Chromium kaleido can drive (BROWSER_PATH, choreographer's own variable, or on PATH)."""
    explicit = os.environ.get("BROWSER_PATH")
    found = (
        explicit
        if explicit and os.access(explicit, os.X_OK)
        else next((path for path in map(shutil.which, BROWSERS) if path), None)
    )
    if found:
        return Check("chromium", True, found)
    return Check(
        "chromium",
        False,
        "no Chromium found: PNG chart exports (and charts in PDFs and emails) "
        "will fail. Install it with `apt-get install chromium`",
    )


def pdf_fonts() -> Check:
    """The Unicode TrueType fonts the PDF export embeds."""
    fonts = export_pdf.unicode_fonts()  # module attribute: tests patch it there
    if fonts:
        return Check("fonts", True, fonts[0])
    return Check(
        "fonts",
        False,
        "no DejaVu or Liberation fonts: PDFs fall back to Helvetica, which cannot "
        "print names outside Latin-1. Install them with `apt-get install fonts-dejavu-core`",
    )


def check_system() -> list[Check]:
    """Every system check."""
    return [chromium(), pdf_fonts()]


def log_system_checks() -> list[Check]:
    """Run the checks and log a warning for each missing package."""
    checks = check_system()
    for check in checks:
        if not check.ok:
            log.warning("system check: %s", check.detail)
    return checks
