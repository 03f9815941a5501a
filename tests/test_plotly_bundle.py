"""The browser's plotly.js: the vendored cartesian partial bundle, of the plotly package's version.

dcc.Graph draws with `window.Plotly` when a Plotly is on the page; assets/plotly_early.js loads the
vendored bundle (bar, scatter, pie, heatmap: every trace type the figures use), so the plotly package's
4.8 MB bundle is never fetched (tests/browser/test_plotly_bundle_browser.py checks it in Chromium).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auth_helpers import make_world
from plotly.offline import get_plotlyjs_version

from dashboard.auth.views import PLOTLY_BUNDLE
from dashboard.config import ROOT

BUNDLE = ROOT / PLOTLY_BUNDLE


@pytest.fixture
def world(sqlite_url):
    return make_world(sqlite_url)


TRACES = {"bar", "scatter", "pie", "heatmap"}


def test_the_vendored_bundle_is_the_plotly_packages_version_with_its_license():
    head = BUNDLE.read_text(encoding="utf-8")[:300]
    match = re.search(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)", head)
    assert match, head
    assert (
        match.group(1)
        == get_plotlyjs_version()
        == BUNDLE.name.split("-")[2].removesuffix(".min.js")
    )
    license_text = (ROOT / "assets" / "vendor" / "plotly.js.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in license_text and "Plotly" in license_text
    assert get_plotlyjs_version() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_trace_type_the_figures_draw_is_in_the_bundle():
    """The trace types named in the figures' and views' source are among the bundle's."""
    named = set()
    for folder in ("figures", "views"):
        for path in (ROOT / "dashboard" / folder).glob("*.py"):
            if path.name == "grids.py":  # grid rows and column labels ("type": "Type"), no figure
                continue
            text = path.read_text(encoding="utf-8")
            named |= set(re.findall(r'"type":\s*"(\w+)"', text))
            assert not re.search(r"\bgo\.(?!Figure\b)\w+\(", text), path  # traces as dicts only
    traces = named - {"category", "date", "linear", "log", "line", "rect", "path", "circle"}
    assert traces and traces <= TRACES, traces
    text = BUNDLE.read_text(encoding="utf-8")
    for trace in TRACES:
        assert f'moduleType:"trace",name:"{trace}"' in text, trace


def test_the_early_loader_loads_the_vendored_bundle_which_the_index_leaves_out(world):
    early = (ROOT / "assets" / "plotly_early.js").read_text(encoding="utf-8")
    assert f'"{PLOTLY_BUNDLE}"' in early
    client = world.login("controller")
    index = client.get("/").text
    assert "plotly_early.js" in index
    assert "plotly-cartesian" not in index and "plotly.min.js" not in index
    served = world.client().get("/" + PLOTLY_BUNDLE)  # a public asset, like Dash's own bundles
    assert served.status_code == 200 and len(served.data) == BUNDLE.stat().st_size
    assert Path(BUNDLE).stat().st_size < 2_000_000  # the full bundle is 4.8 MB
