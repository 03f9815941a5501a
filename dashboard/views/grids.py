"""A grid's rows through the view registry (no Dash): a table view declared with `grid=<id>` feeds the
data_grid of that id, its export (/export/grid/<id>.csv|xlsx) and nothing else.

    register(View("credit_utilization", "Credit utilization", "credit", frame=_rows, grid="cr-grid",
                  options={"risk": RISK_CHOICES}, formats=("grid",)))
    gf = grid_frame(VIEWS["credit_utilization"], snap, {"filters": {...}, "risk": "HIGH"}, scope)

The grid's source data (JSON the page writes, re-sent by the browser) becomes a ChartRequest: the
filters, the customer (views with needs_customer) and the view's declared options, each checked
against its allowed values (`params.option_value`; a value it does not allow is left out, so the
view's default applies). The view's data function returns the rows (a frame, labelled by the view's
`columns` and shown with its `show` fields) or a GridFrame that says how to show them; None when there
is nothing for this request (e.g. a customer outside the scope).

Server-side rows: the column filters, quick search and sort of AG Grid's getRowsRequest are applied
here over EVERY row (`make_view`), with exact integer-cent totals. Frames, their search text and the
filtered views are kept in the one cache of the metrics service layer (`metrics.cache.CACHE`), keyed by
the data version (snapshot stamp), who asks (user, role, scope), the grid and its source data (and the
view's token, e.g. which prediction model is trained).

Who may read a grid (the page's roles, the view's capability) is checked by the caller, in one place:
`dashboard.export.grids`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from dashboard import format as fmt
from dashboard import params as gf_params
from dashboard.metrics.cache import CACHE, Key, stamp
from dashboard.metrics.filters import Scope
from dashboard.views.base import VIEWS, ChartRequest, View, chart_currency

FRAME_CACHE = 8  # computed source frames kept per process (data version, user, scope, source data)
VIEW_CACHE = 16  # filtered and sorted views kept per process


LABELS = {
    "invoice_id": "Invoice",
    "payment_id": "Payment",
    "id": "Item",
    "type": "Type",
    "customer_id": "Customer #",
    "customer_name": "Customer",
    "name": "Customer",
    "segment": "Segment",
    "region": "Region",
    "tier": "Tier",
    "sales_rep_id": "Rep",
    "issue_date": "Issued",
    "due_date": "Due",
    "date": "Date",
    "settled_on": "Settled",
    "made_on": "Made on",
    "promised_date": "Promised for",
    "opened_on": "Opened",
    "resolved_on": "Resolved",
    "invoice_amount_cents": "Invoice amount",
    "amount_cents": "Amount",
    "balance_cents": "Balance",
    "unapplied_cents": "Unapplied",
    "days_past_due": "Days past due",
    "aging_due": "Aging",
    "aging_transaction": "Age",
    "disputed": "Disputed",
    "terms": "Terms",
    "terms_group": "Terms group",
    "credit_limit_cents": "Credit limit",
    "overdue_cents": "Overdue",
    "over_limit_cents": "Over limit",
    "utilization_pct": "Utilization %",
    "days_to_pay": "Days to pay",
    "days_late": "Days late",
    "reason": "Reason",
    "status": "Status",
    "overdue_60_plus_cents": "Overdue 60+",
    "overdue_90_plus_cents": "Overdue 90+",
    "channel": "Channel",
    "outcome": "Outcome",
    "note": "Note",
    "currency": "Currency",
    "amount_in_currency": "In transaction currency",
    "balance_base": "Balance in base currency",
}
HIDDEN = frozenset({"segment", "region", "terms_group", "tier"})

NO_ROWS = "No rows match these filters"
# money columns left out of the totals row (none: limits add up to exposure)
NOT_SUMMED: frozenset[str] = frozenset()


@dataclass
class GridFrame:
    """What a grid source returns: the full frame plus how to show it."""

    frame: pd.DataFrame
    currency: str | None = None
    date_field: str | None = None
    file_name: str = "rows"
    labels: dict[str, str] = field(default_factory=dict)  # column -> header, overriding LABELS
    hidden: frozenset[str] = HIDDEN
    link_customers: bool = True
    stamp: str = ""  # one line put on top of the CSV (filters, scope, as-of, generated at)
    # column -> extra AG Grid props (cellStyle, width...)
    columns: dict[str, dict] = field(default_factory=dict)
    # the money column totalled for searched rows (default amount_cents)
    total_field: str | None = None

    def matched_field(self) -> str | None:
        """The money column whose total is shown for the rows a search leaves."""
        money = [c for c in self.frame.columns if str(c).endswith("_cents") and c not in NOT_SUMMED]
        if self.total_field in money:
            return self.total_field
        return "amount_cents" if "amount_cents" in money else (money[-1] if money else None)


def _cell(value):
    """A JSON-ready cell (ints stay ints: cents are exact; a missing value is null, never the text
    "<NA>", which a number column would show as "Invalid Number")."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value if isinstance(value, int | str) else str(value)


def rows(frame: pd.DataFrame, cap: int | None = None) -> list[dict]:
    """The frame's rows (at most `cap` when given) as JSON-ready dicts."""
    head = frame if cap is None else frame.head(cap)
    columns = list(head.columns)
    return [
        dict(zip(columns, (_cell(v) for v in row), strict=True))
        for row in head.itertuples(index=False, name=None)
    ]


def exact_sum(series: pd.Series) -> int:
    """The exact sum of integer cents (blanks skipped) as a Python int: in int64 when the sum cannot
    overflow it (bounded by rows × largest magnitude), else one Python int per value."""
    values = series.dropna()
    if values.empty:
        return 0
    if pd.api.types.is_integer_dtype(values):
        ints = values.to_numpy(dtype="int64")
        bound = int(np.abs(ints).max()) * len(ints)
        if bound < 2**63:
            return int(ints.sum())
    return sum(int(v) for v in values.tolist())


def money_totals(frame: pd.DataFrame) -> dict[str, int]:
    """Exact sums (Python ints) of the frame's money columns over every row, blanks skipped."""
    return {
        name: exact_sum(frame[name])
        for name in frame.columns
        if str(name).endswith("_cents") and name not in NOT_SUMMED
    }


def totals_row(
    gf: GridFrame, frame: pd.DataFrame | None = None, totals: dict[str, int] | None = None
) -> dict:
    """The pinned bottom row: exact sums of every money column over ALL rows of `frame` (default the
    whole source frame; `totals`: those sums, already known), as formatted text."""
    frame = gf.frame if frame is None else frame
    out: dict = {}
    label_col = next(
        (
            c
            for c in frame.columns
            if not c.endswith("_cents") and not frame[c].dtype == bool and c not in gf.hidden
        ),
        None,
    )
    if label_col is not None:
        out[label_col] = "Total"
    for name, total in (money_totals(frame) if totals is None else totals).items():
        out[name] = fmt.money(total, gf.currency)
    return out


def hidden_columns(gf: GridFrame) -> set[str]:
    """Columns the grid does not show (left out of the quick search, as AG Grid does)."""
    return {str(c) for c in gf.frame.columns if c in gf.hidden or gf.columns.get(c, {}).get("hide")}


def _search_text(series: pd.Series, name: str) -> pd.Series:
    """One column as the text AG Grid's quick filter reads (money as arMoneySearch writes it: "1234.50
    1,234.50"), lower case; vectorised (a million rows in seconds, not minutes)."""
    if name.endswith("_cents"):
        values = pd.to_numeric(series, errors="coerce")
        missing = values.isna().to_numpy()
        cents = values.fillna(0).astype("int64").tolist()
        money = [
            f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d} {'-' if c < 0 else ''}{abs(c) // 100:,}.{abs(c) % 100:02d}"
            for c in cents
        ]
        return pd.Series(money, index=series.index, dtype=object).where(~missing, "")
    present = series.notna().to_numpy()
    text: pd.Series
    if pd.api.types.is_bool_dtype(series):
        text = pd.Series(
            np.where(series.fillna(False).to_numpy(dtype=bool), "true", "false"), index=series.index
        )
    elif pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(series):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(floats) & (np.mod(floats, 1) == 0)
        text = pd.Series(
            np.where(whole, np.nan_to_num(floats).astype("int64").astype(str), floats.astype(str)),
            index=series.index,
        )
    else:
        text = series.astype(str)
    return text.where(present, "").astype(str).str.lower()


def search_haystack(gf: GridFrame) -> pd.Series:
    """Per row, the text of every shown column joined (what the quick search looks in)."""
    hidden = hidden_columns(gf)
    shown = [c for c in gf.frame.columns if str(c) not in hidden]
    if not shown or gf.frame.empty:
        return pd.Series([""] * len(gf.frame), index=gf.frame.index, dtype=object)
    columns = [_search_text(gf.frame[name], str(name)).tolist() for name in shown]
    return pd.Series(
        ["\n".join(texts) for texts in zip(*columns, strict=True)],
        index=gf.frame.index,
        dtype=object,
    )


def _as_number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _date_text(value) -> str | None:
    """'2024-03-01' from AG Grid's dateFrom ('2024-03-01 00:00:00'); None when not a date."""
    text = str(value or "")[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _condition_mask(series: pd.Series, name: str, model: dict) -> pd.Series:
    """Rows that one AG Grid filter condition keeps (text, number and date filters; unknown: all rows)."""
    kind = model.get("filterType")
    op = model.get("type") or ("inRange" if kind == "date" and model.get("dateTo") else "equals")
    blank = series.isna() | (series.astype(str) == "") if series.dtype == object else series.isna()
    if op == "blank":
        return blank
    if op == "notBlank":
        return ~blank
    if kind == "number":
        values = pd.to_numeric(series, errors="coerce")
        a, b = _as_number(model.get("filter")), _as_number(model.get("filterTo"))
        if a is None:
            return pd.Series(True, index=series.index)
        tests = {
            "equals": values == a,
            "notEqual": values != a,
            "lessThan": values < a,
            "lessThanOrEqual": values <= a,
            "greaterThan": values > a,
            "greaterThanOrEqual": values >= a,
        }
        if op == "inRange":
            # AG Grid: exclusive by default
            return (values > a) & (values < b) if b is not None else values > a
        return tests.get(op, pd.Series(True, index=series.index)).fillna(False)
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series.dt.strftime("%Y-%m-%d")
        else:
            values = (
                series.where(series.notna(), None)
                .astype(str)
                .str.slice(0, 10)
                .where(series.notna(), None)
            )
        start, end = _date_text(model.get("dateFrom")), _date_text(model.get("dateTo"))
        present = values.notna()
        text = values.fillna("")
        if start is None:
            return pd.Series(True, index=series.index)
        date_tests = {
            "equals": text == start,
            "notEqual": text != start,
            "lessThan": present & (text < start),
            "greaterThan": present & (text > start),
        }
        if op == "inRange":  # inclusive: the grid's date columns set inRangeInclusive
            return present & (text >= start) & (text <= (end or "9999-12-31"))
        return date_tests.get(op, pd.Series(True, index=series.index))
    # text (AG Grid's default filter): case-insensitive on the value's text
    needle = str(model.get("filter") or "").lower()
    text = (
        _search_text(series, "")
        if not name.endswith("_cents")
        else series.map(lambda v: "" if pd.isna(v) else str(int(v)))
    )
    text = text.str.lower()
    if not needle:
        return pd.Series(True, index=series.index)
    text_tests = {
        "contains": lambda: text.str.contains(needle, regex=False),
        "notContains": lambda: ~text.str.contains(needle, regex=False),
        "equals": lambda: text == needle,
        "notEqual": lambda: text != needle,
        "startsWith": lambda: text.str.startswith(needle),
        "endsWith": lambda: text.str.endswith(needle),
    }
    return text_tests.get(op, text_tests["contains"])()


def filter_mask(frame: pd.DataFrame, filter_model: dict) -> pd.Series:
    """Rows that every column filter keeps (AG Grid filterModel; conditions joined by AND/OR)."""
    keep = pd.Series(True, index=frame.index)
    for name, model in (filter_model or {}).items():
        if name not in frame.columns or not isinstance(model, dict):
            continue
        series = frame[name]
        conditions = model.get("conditions")
        if isinstance(conditions, list) and conditions:
            masks = [
                _condition_mask(series, str(name), {"filterType": model.get("filterType"), **c})
                for c in conditions[:5]
                if isinstance(c, dict)
            ]
            if masks:
                joined = masks[0]
                for m in masks[1:]:
                    joined = (
                        (joined | m) if str(model.get("operator")).upper() == "OR" else (joined & m)
                    )
                keep &= joined
            continue
        keep &= _condition_mask(series, str(name), model)
    return keep


def sort_frame(frame: pd.DataFrame, sort_model: list) -> pd.DataFrame:
    """The frame in the order of AG Grid's sortModel ([{colId, sort}]); stable, blanks last."""
    keys = [
        (m["colId"], m.get("sort") != "desc")
        for m in (sort_model or [])
        if isinstance(m, dict)
        and m.get("colId") in frame.columns
        and m.get("sort") in ("asc", "desc")
    ]
    if not keys or frame.empty:
        return frame
    by, ascending = [k for k, _ in keys], [a for _, a in keys]
    try:
        return frame.sort_values(by=by, ascending=ascending, kind="mergesort", na_position="last")
    except TypeError:  # mixed types in a column: sort on the text
        keyed = frame.assign(**{f"__sort{i}": frame[c].astype(str) for i, c in enumerate(by)})
        return keyed.sort_values(
            by=[f"__sort{i}" for i in range(len(by))],
            ascending=ascending,
            kind="mergesort",
            na_position="last",
        )[list(frame.columns)]


@dataclass
class Query:
    """What the grid asks for beyond its source: column filters, quick search, sort (browser data, checked)."""

    sort: list = field(default_factory=list)
    filter: dict = field(default_factory=dict)
    search: str = ""

    @classmethod
    def clean(cls, sort_model, filter_model, search) -> Query:
        sort = [
            {"colId": str(m.get("colId"))[:100], "sort": m.get("sort")}
            for m in (sort_model if isinstance(sort_model, list) else [])[:10]
            if isinstance(m, dict) and m.get("sort") in ("asc", "desc")
        ]
        filters = {
            str(k)[:100]: v
            for k, v in (filter_model.items() if isinstance(filter_model, dict) else [])
            if isinstance(v, dict)
        }
        text = (
            str(search)[:200]
            if isinstance(search, str | int | float) and not isinstance(search, bool)
            else ""
        )
        return cls(sort, filters, text.strip())

    def key(self) -> str:
        return json.dumps(
            [self.sort, self.filter, self.search.lower()], sort_keys=True, default=str
        )

    @property
    def narrows(self) -> bool:
        """True when a filter or the search leaves out rows (the caption then says "N of M")."""
        return bool(self.filter or self.search)


@dataclass
class RowsView:
    """The matching rows of a source in display order, their exact totals and the source's row count."""

    gf: GridFrame
    frame: pd.DataFrame
    totals: dict[str, int]
    total_rows: int
    query: Query

    def block(self, start: int, end: int) -> list[dict]:
        """Rows start..end-1 of the matching rows, JSON-ready."""
        return rows(self.frame.iloc[start:end])

    def count(self) -> int:
        """How many rows match."""
        return len(self.frame)

    def pinned(self) -> list[dict]:
        """The pinned totals row over every matching row ([] when none match)."""
        return [totals_row(self.gf, self.frame)] if len(self.frame) else []

    def caption(self) -> str:
        """The real row count of the source ("12,345 rows."); `matched` follows it with the count of the
        rows a filter or search leaves ("· 7 of 12,345 rows match · ...")."""
        if self.total_rows == 0:
            return NO_ROWS + "."
        return fmt.plural(self.total_rows, "row") + "."

    def matched(self) -> str:
        """'· 3 of 10 rows match · Open balance $1.00.' when a filter or the search narrows the rows."""
        if not self.query.narrows or self.total_rows == 0:
            return ""
        n = len(self.frame)
        text = f"{n:,} of {self.total_rows:,} " + ("row matches" if n == 1 else "rows match")
        money = self.gf.matched_field()
        if money:
            label = {**LABELS, **self.gf.labels}.get(money, "total")
            text += f" · {label} {fmt.money(self.totals.get(money, 0), self.gf.currency)}"
        return "· " + text + "."


PREVIEW_ROWS = 500  # rows of a preview built at once (the grid's first block)


@dataclass
class Preview:
    """A source's rows without its whole frame: `gf` shows its first rows (gf.frame: the first
    PREVIEW_ROWS, with the whole frame's columns), `n_rows` and `totals` (exact sums of every money
    column) are those of every row, `part(start, end)` gives those rows as the whole frame has them.
    What a grid with no sort, filter or search asks first (a drill-down's modal, columns and first
    block) needs no more; anything else builds the frame (GridFrame)."""

    gf: GridFrame
    n_rows: int
    totals: dict[str, int]
    part: Any  # (start, end) -> pd.DataFrame
    plan: Any = None  # what `part` holds (counted by the cache's size_of)

    def money_totals(self) -> dict[str, int]:
        """The totals in the frame's column order (as money_totals gives them)."""
        return {
            str(c): self.totals.get(str(c), 0)
            for c in self.gf.frame.columns
            if str(c).endswith("_cents") and c not in NOT_SUMMED
        }

    def covers(self) -> bool:
        """True when the totals are those of every money column of the frame."""
        return all(
            str(c) in self.totals
            for c in self.gf.frame.columns
            if str(c).endswith("_cents") and c not in NOT_SUMMED
        )


class PreviewRowsView(RowsView):
    """The rows of a Preview in their own order (no sort, filter or search): blocks cut from its
    first rows (more of them built when a later block is asked), count and totals of every row."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(
            preview.gf, preview.gf.frame, preview.money_totals(), preview.n_rows, Query()
        )
        self.preview = preview

    def block(self, start: int, end: int) -> list[dict]:
        end = min(end, self.total_rows)
        if end <= len(self.frame):
            return rows(self.frame.iloc[start:end])
        return rows(self.preview.part(start, end)) if end > start else []

    def count(self) -> int:
        return self.total_rows

    def pinned(self) -> list[dict]:
        return [totals_row(self.gf, self.frame, self.totals)] if self.total_rows else []


def make_view(gf: GridFrame, query: Query, haystack: pd.Series | None = None) -> RowsView:
    """Filter, search and sort every row of a source frame on the server."""
    frame = gf.frame
    mask = filter_mask(frame, query.filter) if query.filter else None
    if query.search:
        hay = search_haystack(gf) if haystack is None else haystack
        words = [w for w in query.search.lower().split() if w]
        found = pd.Series(True, index=frame.index)
        for word in words:
            found &= hay.str.contains(word, regex=False)
        mask = found if mask is None else (mask & found)
    matching = frame if mask is None else frame[mask.to_numpy(dtype=bool)]
    matching = sort_frame(matching, query.sort)
    return RowsView(gf, matching, money_totals(matching), len(frame), query)


# ---- the ticked rows of a grid with row checkboxes -------------------------------------------------

MAX_SELECTED = 100_000  # explicit ids one selection may carry (beyond: "all matching" is the way)


def _keys(raw: Any) -> tuple[list[str], bool]:
    """Row keys from browser data (text or whole numbers, in order, once each) and whether there were
    more than MAX_SELECTED."""
    keys: dict[str, None] = {}
    values = raw if isinstance(raw, list) else []
    for value in values[: MAX_SELECTED + 1]:
        if isinstance(value, str | int) and not isinstance(value, bool):
            keys[str(value)[: gf_params.MAX_VALUE_LENGTH]] = None
    return list(keys)[:MAX_SELECTED], len(values) > MAX_SELECTED


@dataclass(frozen=True)
class Selection:
    """What the user ticked in a grid (browser data, checked): explicit row keys, or every row matching
    a query ("Select all N matching": the grid's search, column filters and date range, and its sort)
    except the rows unticked afterwards. Which rows "all matching" means is decided on the server, by
    the same row engine as the grid's rows (`keys`)."""

    all: bool = False
    ids: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    query: Query = field(default_factory=Query)
    too_many: bool = False  # the browser sent more than MAX_SELECTED explicit keys

    @classmethod
    def clean(cls, data: Any) -> Selection:
        """The selection a grid's selection store holds: {"all": false, "ids": [...]} or {"all": true,
        "except": [...], "search": ..., "filter": {...}, "sort": [...]}; anything else: nothing ticked."""
        if not isinstance(data, dict):
            return cls()
        if data.get("all") is True:
            excluded, too_many = _keys(data.get("except"))
            query = Query.clean(data.get("sort"), data.get("filter"), data.get("search"))
            return cls(True, (), tuple(excluded), query, too_many)
        ids, too_many = _keys(data.get("ids"))
        return cls(False, tuple(ids), (), Query(), too_many)

    @property
    def empty(self) -> bool:
        """Nothing ticked (neither "all matching" nor any row)."""
        return not self.all and not self.ids

    def keys(self, view: RowsView | None, field_name: str) -> list[str]:
        """The selected rows' keys: the explicit ones, or (all matching) column `field_name` of every
        row of `view` (the grid's rows for the selection's query, in its order) less the unticked."""
        if not self.all:
            return list(self.ids)
        if view is None or field_name not in view.frame.columns:
            return []
        drop = set(self.excluded)
        values = view.frame[field_name].dropna().astype(str).tolist()
        return [key for key in dict.fromkeys(values) if key not in drop]


# ---- the grid registry: table views with a grid id -----------------------------------------------


def grid_views() -> dict[str, View]:
    """Every view shown in a data_grid, by grid id."""
    return {view.grid: view for view in VIEWS.values() if view.grid is not None}


def grid_view(name: str) -> View | None:
    """The table view that feeds grid `name` (None when no view declares that grid)."""
    return grid_views().get(name)


def request_for(view: View, data: Any) -> ChartRequest | None:
    """The view's request for a grid's source data: filters, customer and the view's options, each
    value checked (a value the view does not allow is left out); None when the data is not a request
    for this view (not a dict, or without filters for a view that needs them)."""
    if not isinstance(data, dict):
        return None
    filters_data = data.get("filters")
    if view.needs_filters and filters_data is None:
        return None
    as_of, basis, filters = gf_params.parse(filters_data)
    given = view.source_options(data) if view.source_options is not None else data
    options = []
    for name, choices in view.options.items():
        if name not in given:
            continue
        value = gf_params.option_value(choices, given[name])
        if value is not None:
            options.append((name, value))
    customer = data.get("customer_id") if view.needs_customer else None
    return ChartRequest(
        as_of,
        basis,
        gf_params.PERIOD_DAYS,
        filters,
        Scope.nothing(),  # replaced by the caller's (never from the browser)
        customer if isinstance(customer, str) else None,
        tuple(options),
    )


def stamp_line(title: str, req: ChartRequest, basis: bool = True) -> str:
    """'<title> | as of ... · filters | scope: <label>' (the first line of a grid's CSV)."""
    described = gf_params.describe_request(req.as_of, req.basis, req.filters, basis_part=basis)
    return " | ".join([*([title] if title else []), described, f"scope: {req.scope.label}"])


def grid_frame(view: View, snap: Any, req: ChartRequest) -> GridFrame | None:
    """The view's rows for a request (in req.scope), as the grid shows them."""
    made = view.table_rows(snap, req)
    if made is None or isinstance(made, GridFrame):
        return made
    return GridFrame(
        made,
        currency=chart_currency(snap, req),
        labels=view.columns,
        stamp=stamp_line("", req),
        **view.show,
    )


@dataclass(frozen=True)
class Who:
    """Who asks for a grid (from the server's login): a cached frame is only given back to them."""

    user_id: Any
    role: str | None
    scope: Scope


def _key(function: Any, snap: Any, args: tuple) -> Key:
    return Key(stamp(snap), function, args, ())


def frame_args(view: View, snap: Any, data: Any, who: Who) -> tuple[Hashable, ...]:
    """What a grid's frame depends on besides the data version: its token, who asks, the grid and the
    source data as sent."""
    return (
        view.token(snap) if view.token is not None else None,
        who.user_id,
        who.role,
        who.scope.key(),
        view.grid,
        json.dumps(data, sort_keys=True, default=str),
    )


def source_frame(
    view: View, snap: Any, data: Any, who: Who, req: ChartRequest, cached: bool = True
) -> tuple[tuple | None, GridFrame | None]:
    """(cache key, the grid's frame for who asks and the source data); the frame from the one cache
    unless `cached` is False (an export: its stamp's time is the export's)."""
    req = replace(req, scope=who.scope)  # the server's scope, never one from the browser
    if not cached:
        return None, grid_frame(view, snap, req)
    args = frame_args(view, snap, data, who)
    made = CACHE.get(_key(grid_frame, snap, args), FRAME_CACHE, lambda: grid_frame(view, snap, req))
    return args, made


def source_preview(
    view: View, snap: Any, data: Any, who: Who, req: ChartRequest
) -> tuple[tuple | None, Preview | None]:
    """(cache key, the view's Preview for who asks and the source data), None when the view or
    the request has none (from the one cache, keyed as source_frame's frame)."""
    if view.preview is None:
        return None, None
    req = replace(req, scope=who.scope)  # the server's scope, never one from the browser
    args = frame_args(view, snap, data, who)
    made = CACHE.get(
        _key(source_preview, snap, args), FRAME_CACHE, lambda: _preview(view, snap, req)
    )
    return args, made


def _preview(view: View, snap: Any, req: ChartRequest) -> Preview | None:
    assert view.preview is not None
    made = view.preview(snap, req)
    return made if isinstance(made, Preview) and made.covers() else None


def rows_view(
    gf: GridFrame, snap: Any, key: tuple | None, query: Query, cached: bool = True
) -> RowsView:
    """The matching rows of a frame for a query (cached with the frame's key: the search text is built
    once per frame, the filtered and sorted view once per query)."""
    if not cached or key is None:
        return make_view(gf, query)

    def haystack() -> pd.Series:
        return CACHE.get(_key(search_haystack, snap, key), FRAME_CACHE, lambda: search_haystack(gf))

    return CACHE.get(
        _key(make_view, snap, (key, query.key())),
        VIEW_CACHE,
        lambda: make_view(gf, query, haystack() if query.search else None),
    )
