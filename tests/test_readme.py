"""The README's links stay inside the repository and lead somewhere (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_links_are_inside_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [m.group(1) for m in LINK.finditer(text)]
    assert links, "the README links its docs"
    for link in links:
        assert "://" not in link or link.startswith("http://127.0.0.1"), link
        if "://" in link:
            continue
        target = (ROOT / link).resolve()
        assert target.is_relative_to(ROOT), f"{link} points outside the repository"
        assert target.exists(), f"{link} does not exist"
    assert "../" not in text and "shared/" not in text.replace("shared directory", "")


def test_readme_has_a_plain_start_command_port_and_demo_users():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n.venv/bin/python -m dashboard run\n" in text
    assert "http://127.0.0.1:8050" in text and "PORT=" in text
    for user in ("admin", "executive", "controller", "ar_clerk", "sales_manager", "sales_rep"):
        assert f"| `{user}` |" in text
    assert "first start" in text.lower() and "FIRST_START_LINE" not in text
