"""What a view is: a chart or a table declared once, with everything that shows, exports or drills it.

    register(View("top_debtors", "Top 10 debtors", page="receivables", build=_top_debtors,
                  drill_keys=("total_ar",)))
    view = VIEWS["top_debtors"]
    chart = view.build(snapshot, ChartRequest(as_of, "due", 90, filters, scope))   # None: 404

Charts are exported as PNG, CSV and XLSX under /export/chart/<name>.<fmt>, tables as CSV and XLSX under
/export/table/<name>.<fmt> and /api/export/<name>; the page shows a chart with its export menu
(`components.page_kit.export_tools(name)`). A view's capability is declared here once; the export
routes, the drill modal and the generic chart callback check it.
No Dash here: exports, the API, the CLI and jobs read the same declarations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.format import default_currency
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.service import currency_for

if TYPE_CHECKING:
    from dashboard.views.grids import GridFrame

CHART_FORMATS = ("png", "csv", "xlsx")
TABLE_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ChartRequest:
    """What to draw: as-of, aging basis, period, filters (from the request), scope (from the server)."""

    as_of: dt.date
    basis: str
    period_days: int
    filters: Filters
    scope: Scope
    customer_id: str | None = None
    # page-local choices (e.g. ("by", "region")), validated
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        """A page-local choice of the request (None when not given)."""
        return dict(self.options).get(name)


@dataclass
class Chart:
    """A built chart: the figure, the rows behind it and which money columns add up to a total."""

    name: str
    title: str
    figure: dict
    frame: pd.DataFrame
    currency: str
    total_columns: list[str] | None = None  # None: every *_cents column; []: no totals row
    subject: str | None = None  # e.g. the customer of an Account 360 chart
    width: int = 900
    height: int = 450


ChartBuilder = Callable[[Any, ChartRequest], Chart | None]
# a table's rows; a grid's view may return a GridFrame (the rows and how the grid shows them) or None
# (nothing for this request, e.g. a customer outside the scope)
TableFrame = Callable[[Any, ChartRequest], "pd.DataFrame | GridFrame | None"]


@dataclass(frozen=True)
class View:
    """One chart or table: its name, title, data and figure, drills, grid columns and export formats."""

    name: str
    title: str
    page: str | None = None  # the page (module name in dashboard/pages) that shows it
    # chart: (snapshot, request) -> Chart (figure + the frame behind it; None when not found)
    build: ChartBuilder | None = None
    # table: (snapshot, request) -> frame; every data function applies the scope it is given
    frame: TableFrame | None = None
    # the drill keys a click on the view opens (dashboard.metrics.drill_keys or a page drill)
    drill_keys: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # grid column labels beyond the defaults
    # png/csv/xlsx (a chart's default), csv/xlsx (a table's: /export/table and /api/export), or
    # ("grid",) for a table shown only in a grid (whose own download exports it)
    formats: tuple[str, ...] = ()
    needs_customer: bool = False
    # a role capability needed beyond "export" (e.g. view_commissions)
    capability: str | None = None
    # extra parameter -> allowed values (params.option_allowed; a grid's: params.option_value)
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the data_grid (its id) that shows this table: the grid's rows and its CSV/XLSX come from here
    grid: str | None = None
    # how the grid shows a frame the view returns (GridFrame fields: file_name, hidden, ...)
    show: dict[str, Any] = field(default_factory=dict)
    # a grid's source data without "filters" is no request (no rows)
    needs_filters: bool = False
    # where a grid's source data holds the options (default: its top-level keys)
    source_options: Callable[[dict], Mapping[str, Any]] | None = None
    # what the rows depend on besides data version, user and request (snapshot -> hashable)
    token: Callable[[Any], Hashable] | None = None
    # a further capability one request needs (e.g. a drill key's), None when none
    capability_for: Callable[[ChartRequest], str | None] | None = None
    # a grid's first rows, count and totals without its whole frame (dashboard.views.grids.Preview;
    # None when the request has none: the grid then builds the frame)
    preview: Callable[[Any, ChartRequest], Any] | None = None

    def chart(self, snap: Any, req: ChartRequest) -> Chart | None:
        """The built chart (None when its subject is not found); TypeError for a table."""
        if self.build is None:
            raise TypeError(f"view {self.name!r} is a table")
        return self.build(snap, req)

    def table(self, snap: Any, req: ChartRequest) -> pd.DataFrame:
        """The table's rows (an empty frame when the request has none); TypeError for a chart."""
        made = self.table_rows(snap, req)
        if made is None:
            return pd.DataFrame()
        return made if isinstance(made, pd.DataFrame) else made.frame

    def table_rows(self, snap: Any, req: ChartRequest) -> pd.DataFrame | GridFrame | None:
        """What the table's data function returns (with a grid's presentation); TypeError for a chart."""
        if self.frame is None:
            raise TypeError(f"view {self.name!r} is a chart")
        return self.frame(snap, req)

    @property
    def kind(self) -> str:
        """ "chart" or "table"."""
        return "chart" if self.build is not None else "table"


VIEWS: dict[str, View] = {}


def register(view: View) -> View:
    """Declare a view (its formats default to its kind's)."""
    if (view.build is None) == (view.frame is None):
        raise ValueError(f"view {view.name!r}: give exactly one of build (chart) or frame (table)")
    if not view.formats:
        formats = CHART_FORMATS if view.build is not None else TABLE_FORMATS
        view = View(**{**view.__dict__, "formats": formats})
    if view.name in VIEWS:
        raise ValueError(f"view {view.name!r} is declared twice")
    VIEWS[view.name] = view
    return view


def chart_currency(snap: Any, req: ChartRequest) -> str:
    """The currency the chart's money is shown in (the base currency of the selection)."""
    return currency_for(snap, req.filters, req.scope, default_currency())


@dataclass(frozen=True)
class Drill:
    """A drill key a page adds: rows(snap, key, as_of, period_days, filters, scope, **params) -> frame
    in reading order whose amount_cents sums to the figure; column labels; a capability if any."""

    key: str
    rows: Callable[..., pd.DataFrame]
    labels: dict[str, str] = field(default_factory=dict)
    capability: str | None = None


DRILLS: dict[str, Drill] = {}


def register_drill(
    key: str,
    rows: Callable[..., pd.DataFrame],
    labels: dict[str, str] | None = None,
    capability: str | None = None,
) -> None:
    """Declare a page's own drill key (its rows function applies the scope it is given)."""
    DRILLS[key] = Drill(key, rows, dict(labels or {}), capability)
