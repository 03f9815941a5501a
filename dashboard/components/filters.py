"""The global filters: kept in the URL query string, validated on the server, held in Store "filters".

Query keys: as_of (YYYY-MM-DD, not in the future; default today), basis (due|transaction), segment,
region, tier, sales_rep, terms_group (short|long). A bad value is reported (dbc.Alert text) and
replaced by its default; it never raises.

    as_of, basis, filters = filters.parse(filters_data)     # in every page callback
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import html

from dashboard.metrics.filters import TERMS_GROUPS, Filters
from dashboard.params import MAX_DATE, MIN_DATE, BadParameter, check_date_range

FILTER_KEYS = ("as_of", "basis", "segment", "region", "tier", "sales_rep", "terms_group")
ATTRIBUTE_KEYS = ("segment", "region", "tier", "sales_rep")
BASES = ("due", "transaction")
BASIS_LABELS = {"due": "Due date", "transaction": "Transaction"}
PERIOD_DAYS = 90
MAX_VALUE_LENGTH = 200
ALL_VALUE = "__all__"  # the "All ..." choice of a select (a real value can never be this)
LABELS = {
    "as_of": "As of",
    "basis": "Aging basis",
    "segment": "Segment",
    "region": "Region",
    "tier": "Tier",
    "sales_rep": "Sales rep",
    "terms_group": "Terms",
}
ALL_LABELS = {
    "segment": "All segments",
    "region": "All regions",
    "tier": "All tiers",
    "sales_rep": "All reps",
    "terms_group": "All terms",
}


def today() -> dt.date:
    """The server's today (the latest as-of date allowed)."""
    return dt.date.today()


def defaults(now: dt.date | None = None) -> dict:
    """The filter values when the URL says nothing."""
    return {
        "as_of": (now or today()).isoformat(),
        "basis": "due",
        **dict.fromkeys((*ATTRIBUTE_KEYS, "terms_group")),
    }


def parse_query(search: str | None) -> dict[str, str]:
    """'?a=1&b=2' -> {'a': '1', 'b': '2'} (the first value of a repeated key wins)."""
    out: dict[str, str] = {}
    for key, value in parse_qsl((search or "").lstrip("?"), keep_blank_values=True):
        out.setdefault(key, value)
    return out


def _as_of(raw: str | None, now: dt.date, messages: list[str]) -> str:
    if raw is None or str(raw).strip() == "":
        return now.isoformat()
    text = str(raw).strip()[:MAX_VALUE_LENGTH]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        messages.append(f"“{text}” is not a date (YYYY-MM-DD); showing today, {now.isoformat()}.")
        return now.isoformat()
    if len(text) != 10:
        messages.append(f"“{text}” is not a date (YYYY-MM-DD); showing today, {now.isoformat()}.")
        return now.isoformat()
    if day > now:
        messages.append(f"As-of date {text} is in the future; showing today, {now.isoformat()}.")
        return now.isoformat()
    try:
        check_date_range("as_of", day)  # the same range as the API and the exports
    except BadParameter:
        messages.append(
            f"As-of date {text} is outside {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}; "
            f"showing today, {now.isoformat()}."
        )
        return now.isoformat()
    return text


def _choice(
    key: str,
    raw: str | None,
    allowed: list[str] | None,
    messages: list[str],
    scope_label: str | None = None,
) -> str | None:
    if raw is None or str(raw).strip() in ("", ALL_VALUE):
        return None
    text = str(raw).strip()[:MAX_VALUE_LENGTH]
    if allowed is not None and text not in allowed:
        if scope_label and key in ATTRIBUTE_KEYS:
            messages.append(
                f"{LABELS[key]} “{text}” is outside what you may see; your own scope applies "
                f"({scope_label}), so these are your figures, not {text}'s."
            )
        else:
            messages.append(
                f"Unknown {LABELS[key].lower()} “{text}”; showing {ALL_LABELS[key].lower()}."
            )
        return None
    return text


def validate(
    params: Mapping[str, str | None],
    options: Mapping[str, list[tuple[str, str]]] | None = None,
    now: dt.date | None = None,
    scope_label: str | None = None,
) -> tuple[dict, list[str]]:
    """Clean filter values from raw query params, and a message per value that was refused.

    `options` holds the allowed (value, label) choices per attribute (within the user's scope);
    without it attribute values are only length-checked. `scope_label` (a restricted user's scope)
    makes a refused value say that the user's own scope applies.
    """
    now = now or today()
    messages: list[str] = []
    clean = {"as_of": _as_of(params.get("as_of"), now, messages)}
    basis = (params.get("basis") or "due").strip()
    if basis not in BASES:
        messages.append(f"Unknown aging basis “{basis[:40]}”; showing due-date aging.")
        basis = "due"
    clean["basis"] = basis
    for key in ATTRIBUTE_KEYS:
        allowed = [value for value, _label in options[key]] if options and key in options else None
        clean[key] = _choice(key, params.get(key), allowed, messages, scope_label)
    clean["terms_group"] = _choice(
        "terms_group", params.get("terms_group"), list(TERMS_GROUPS), messages
    )
    return clean, messages


def to_query(
    values: Mapping[str, str | None],
    extra: Mapping[str, str] | None = None,
    now: dt.date | None = None,
) -> str:
    """The canonical query string ('' or '?as_of=...&segment=...'); defaults are left out."""
    now = now or today()
    pairs = [(k, v) for k, v in (extra or {}).items() if k not in FILTER_KEYS]
    for key in FILTER_KEYS:
        value = values.get(key)
        if (
            value in (None, "")
            or (key == "as_of" and value == now.isoformat())
            or (key == "basis" and value == "due")
        ):
            continue
        pairs.append((key, str(value)))
    return "?" + urlencode(pairs) if pairs else ""


def store_data(values: Mapping[str, str | None], query: str) -> dict:
    """What Store "filters" holds: the clean values plus the canonical query string for links."""
    return {**{key: values.get(key) for key in FILTER_KEYS}, "query": query}


def parse(data: Mapping | None) -> tuple[dt.date, str, Filters]:
    """(as_of, basis, Filters) from Store "filters"; anything malformed falls back to defaults.

    The store comes from the browser: values are re-checked here (format only; the scope, applied
    by the metrics engine on the server, decides what a user may see whatever the filters say).
    """
    data = data if isinstance(data, Mapping) else {}
    clean, _ = validate(
        {k: v if isinstance(v, str) else None for k, v in data.items() if k in FILTER_KEYS}
    )
    filters = Filters(**{key: clean[key] for key in (*ATTRIBUTE_KEYS, "terms_group")})
    return dt.date.fromisoformat(clean["as_of"]), clean["basis"], filters


def describe(
    data: Mapping | None, options: Mapping[str, list[tuple[str, str]]] | None = None
) -> str:
    """A one-line caption of the filters ("as of 2025-06-30 · due-date aging · sales rep Ann Lee (R0004)").

    Sales reps are shown by name (from `options`, else from the snapshot's rep list).
    """
    as_of, basis, filters = parse(data)
    parts = [f"as of {as_of.isoformat()}", f"{BASIS_LABELS[basis].lower()} aging"]
    for key in (*ATTRIBUTE_KEYS, "terms_group"):
        value = getattr(filters, key)
        if value:
            parts.append(f"{LABELS[key].lower()} {_label(key, value, options)}")
    return " · ".join(parts)


def _label(key: str, value: str, options: Mapping[str, list[tuple[str, str]]] | None) -> str:
    """How a filter value reads in a caption: a rep's name with the id, a terms group's label."""
    if key == "terms_group":
        return {"short": "short (< 30 days)", "long": "30-day+"}.get(value, value)
    if key != "sales_rep":
        return value
    names = dict(options.get("sales_rep", [])) if options else rep_names()
    name = names.get(value)
    return f"{name} ({value})" if name and name != value else value


def rep_names() -> dict[str, str]:
    """sales_rep_id -> name from the process's snapshot (empty when it cannot be read)."""
    try:
        from dashboard.metrics.snapshot import get_snapshot

        reps = get_snapshot().reps
        return (
            dict(zip(reps["sales_rep_id"].astype(str), reps["name"].astype(str), strict=True))
            if len(reps)
            else {}
        )
    except Exception:  # noqa: BLE001 - a caption with an id beats no caption
        return {}


# ---- the filter bar (layout only; callbacks live in the shell) ---------------------------------


def control_id(name: str, kind: str) -> dict:
    """Pattern-matching id of a filter control (kind: 'date', 'radio' or 'select')."""
    return {"type": "gf", "name": name, "kind": kind}


def control_value(name: str, clean: Mapping[str, str | None]) -> str:
    """What a control shows for clean filter values (selects show ALL_VALUE for no filter)."""
    value = clean.get(name)
    if value:
        return value
    return ALL_VALUE if name in (*ATTRIBUTE_KEYS, "terms_group") else ""


def _select(name: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(LABELS[name], className="ar-filter-label"),
            dbc.Select(
                id=control_id(name, "select"),
                options=[{"label": "All", "value": ALL_VALUE}],
                value=ALL_VALUE,
                size="sm",
                className="ar-filter-select",
                # dbc's hidden placeholder option is never an empty line
                placeholder=ALL_LABELS[name],
            ),
        ],
        className="ar-filter",
    )


def filter_panel() -> html.Div:
    """The filter bar; below 992 px it moves into an off-canvas panel opened by a Filters button."""
    toggle = html.Div(
        [
            dbc.Button(
                [html.Span("☰ ", className="me-1"), "Filters"],
                id="filters-open",
                n_clicks=0,
                size="sm",
                color="primary",
                outline=True,
                className="text-nowrap",
            ),
            html.Span(id="filters-summary", className="small text-muted ar-filters-summary"),
        ],
        className="d-flex d-lg-none align-items-center gap-2 ar-filter-toggle",
    )
    panel = html.Div(
        [
            html.Div(
                [
                    html.H2("Filters", className="h6 mb-0 offcanvas-title"),
                    html.Button(
                        className="btn-close",
                        id="filters-close",
                        n_clicks=0,
                        **{"aria-label": "Close"},
                    ),
                ],
                className="offcanvas-header d-lg-none py-2",
            ),
            html.Div(filter_bar(), className="offcanvas-body p-lg-0 d-block"),
        ],
        id="filters-panel",
        className="offcanvas-lg offcanvas-end ar-filter-panel",
        tabIndex="-1",
    )
    backdrop = html.Div(id="filters-backdrop", n_clicks=0, className="ar-filter-backdrop")
    return html.Div([toggle, panel, backdrop], className="ar-filter-wrap")


def filter_bar() -> html.Div:
    """As-of date, aging basis, attribute selects, reset and saved views (no data)."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label(LABELS["as_of"], className="ar-filter-label"),
                    # text, not type=date: the browser would show its locale's format (11/29/2026)
                    dbc.Input(
                        id=control_id("as_of", "date"),
                        type="text",
                        size="sm",
                        debounce=800,
                        placeholder="YYYY-MM-DD",
                        pattern=r"\d{4}-\d{2}-\d{2}",
                        maxLength=10,
                        inputMode="numeric",
                        className="ar-filter-date",
                    ),
                ],
                className="ar-filter",
            ),
            html.Div(
                [
                    dbc.Label(LABELS["basis"], className="ar-filter-label"),
                    dbc.RadioItems(
                        id=control_id("basis", "radio"),
                        options=[{"label": BASIS_LABELS[b], "value": b} for b in BASES],
                        value="due",
                        inline=True,
                        className="btn-group btn-group-sm ar-basis",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="ar-filter",
            ),
            *(_select(name) for name in (*ATTRIBUTE_KEYS, "terms_group")),
            html.Div(
                [
                    dbc.Button(
                        "Reset", id="filters-reset", size="sm", color="link", className="px-1"
                    ),
                    dbc.Button(
                        "Views",
                        id="views-open",
                        title="Saved views: save, open, rename, delete",
                        size="sm",
                        color="secondary",
                        outline=True,
                    ),
                ],
                className="ar-filter ar-filter-actions",
            ),
        ],
        className="ar-filter-bar",
        id="filter-bar",
    )
