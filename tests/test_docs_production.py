"""docs/production.md's walk-through and deploy/walkthrough.sh list the same commands, in order."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "production.md"
SCRIPT = ROOT / "deploy" / "walkthrough.sh"


def doc_commands() -> list[str]:
    """Every line of the page's ```sh blocks."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def script_lines() -> list[str]:
    """The script's command lines (no comments, no shell structure of its own)."""
    out = []
    for line in SCRIPT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not line.startswith(("set -euxo", "RELEASE=")):
            out.append(line)
    return out


def test_every_documented_command_is_run_by_the_walkthrough_in_order():
    """Each documented command appears in deploy/walkthrough.sh, in the same order."""
    lines = script_lines()
    position = 0
    for command in doc_commands():
        found = next((i for i in range(position, len(lines)) if command in lines[i]), None)
        assert found is not None, f"not run by deploy/walkthrough.sh (in this order): {command}"
        position = found


def test_the_walkthrough_runs_nothing_undocumented():
    """Every script line is a documented command, CI-only (marked "(ci)"), or its control flow."""
    documented = doc_commands()
    control = re.compile(
        r"^(if |else|fi$|then$|install -d -o ar -g ar /run/ar-dashboard|runuser -u ar -- (env|sh -c) |kill |nginx -s stop|for i in)"
    )
    for line in script_lines():
        if "(ci)" in line or control.match(line) or any(command in line for command in documented):
            continue
        raise AssertionError(
            f"deploy/walkthrough.sh runs a command docs/production.md does not show: {line}"
        )


def test_ci_runs_the_walkthrough():
    """.ci/run executes deploy/walkthrough.sh (as root on Debian; AR_CI_WALKTHROUGH=0 skips it)."""
    assert "deploy/walkthrough.sh" in (ROOT / ".ci" / "run").read_text()
