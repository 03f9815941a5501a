"""The request vocabulary: every parameter a page, the API or an export understands, in one place.

It owns the filter keys and their labels, the defaults (as-of today, due-date aging, the 90-day
period), the limits (value length, date range, period), parsing and validation, and the human
description of a set of filters. It imports no Dash, so the filter bar (components/filters.py),
the page callbacks, the API (api.py), the exports (export/routes.py) and the scheduled e-mails all
use it. Two modes of reading the same vocabulary:

* **strict** (API and export routes): `parse_request`, `parse_*` read `flask.request.args`; every
  refusal is a BadParameter naming the parameter, answered with a 400 JSON body
  {"error": ..., "parameter": name}.
* **forgiving** (the filter bar and Store "filters"): `validate` turns raw query values into clean
  values plus one message per refused value (shown as a dbc.Alert) and never raises; `parse` reads
  (as_of, basis, Filters) back from the store in every page callback.

    as_of, basis, filters = params.parse(filters_data)     # in a page callback
    req = params.parse_request(params.BASE_PARAMS)           # in an export route
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import request

from dashboard.data.models import MAX_DATE, MIN_DATE
from dashboard.metrics.filters import TERMS_GROUPS, Filters
from dashboard.metrics.snapshot import get_snapshot

# ---- the keys ------------------------------------------------------------------------------------

# customer-attribute filters: the fields of metrics.filters.Filters, narrowing the user's scope
FILTER_PARAMS = ("segment", "region", "tier", "sales_rep", "terms_group")
# the attributes whose choices depend on the data (and the scope); terms_group's are fixed
ATTRIBUTE_KEYS = ("segment", "region", "tier", "sales_rep")
# what the filter bar and Store "filters" hold, in URL order
FILTER_KEYS = ("as_of", "basis", *FILTER_PARAMS)

# parameters each kind of request accepts (anything else is a 400 naming it)
TABLE_PARAMS = frozenset({"as_of", "period_days", *FILTER_PARAMS})  # /api/kpis, /api/export/...
CUSTOMER_PARAMS = frozenset({"as_of"})  # /api/customers/<id>
PREDICTION_PARAMS = frozenset({"as_of", *FILTER_PARAMS})  # /api/predictions
BASE_PARAMS = frozenset({"as_of", "basis", "period_days", *FILTER_PARAMS})  # /export/...
CHART_PARAMS = BASE_PARAMS | {"customer_id", "width", "height", "scale"}  # /export/chart/...
GRID_PARAMS = frozenset({"source", "sort", "filter", "search"})  # /export/grid/...

# ---- defaults and limits -------------------------------------------------------------------------

BASES = ("due", "transaction")
DEFAULT_BASIS = "due"
PERIOD_DAYS = 90  # the period of flow KPIs (DSO, CEI, credit sales) unless a request says otherwise
# Every date the app computes with (as-of dates, and D-365, D+horizon, 24 months of countback)
# stays well inside what datetime, numpy and pandas can represent.
MAX_PERIOD_DAYS = 36500
MAX_VALUE_LENGTH = 200  # characters of one filter value
MAX_SEARCH_LENGTH = 200  # characters of a grid's quick search
MAX_JSON_PARAM = 20_000  # characters of one JSON parameter (a grid's source, sort, filter)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ALL_VALUE = "__all__"  # the "All ..." choice of a select (a real value can never be this)

# ---- labels --------------------------------------------------------------------------------------

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
BASIS_LABELS = {"due": "Due date", "transaction": "Transaction"}  # the filter bar's radio
BASIS_TEXT = {"due": "due-date aging", "transaction": "transaction aging"}  # export stamps
TERMS_GROUP_TEXT = {"short": "short (< 30 days)", "long": "30-day+"}  # on-screen captions


def today() -> dt.date:
    """The server's today (the latest as-of date allowed on screen)."""
    return dt.date.today()


def defaults(now: dt.date | None = None) -> dict:
    """The filter values when the URL says nothing."""
    return {
        "as_of": (now or today()).isoformat(),
        "basis": DEFAULT_BASIS,
        **dict.fromkeys(FILTER_PARAMS),
    }


# ---- strict parsing (API, exports): BadParameter -> 400 naming the parameter ----------------------


class BadParameter(ValueError):
    """A query parameter that cannot be accepted."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class Request:
    """The common parameters of an API or export request, parsed and checked."""

    as_of: dt.date
    basis: str
    period_days: int
    filters: Filters


def single(name: str) -> str | None:
    """The one value of a query parameter (BadParameter when repeated)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0] if values else None


def check_known(allowed: frozenset[str]) -> None:
    """Refuse parameters the endpoint does not know."""
    for name in request.args:
        if name not in allowed:
            raise BadParameter(name, f"unknown parameter (allowed: {', '.join(sorted(allowed))})")


def check_date_range(name: str, day: dt.date) -> dt.date:
    """The date, or BadParameter when it lies outside MIN_DATE..MAX_DATE."""
    if not MIN_DATE <= day <= MAX_DATE:
        raise BadParameter(
            name,
            f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}, "
            f"not {day.isoformat()}",
        )
    return day


def parse_date(name: str, raw: str | None, default: dt.date | None = None) -> dt.date:
    """A YYYY-MM-DD date within the supported range (default when absent; today if no default)."""
    if raw is None or raw == "":
        return default or dt.date.today()
    if not DATE_RE.match(raw):
        raise BadParameter(name, f"not an ISO date (YYYY-MM-DD): {raw[:40]!r}")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadParameter(name, f"not a valid date: {raw!r}") from exc
    return check_date_range(name, day)


def parse_as_of(raw: str | None) -> dt.date:
    """as_of=YYYY-MM-DD (default today)."""
    return parse_date("as_of", raw)


def parse_period(raw: str | None) -> int:
    """period_days: a positive whole number (default PERIOD_DAYS)."""
    if raw is None or raw == "":
        return PERIOD_DAYS
    if not raw.isascii() or not raw.isdigit():
        raise BadParameter("period_days", f"not a positive whole number: {raw[:40]!r}")
    days = int(raw)
    if not 0 < days <= MAX_PERIOD_DAYS:
        raise BadParameter("period_days", f"must be between 1 and {MAX_PERIOD_DAYS}")
    return days


def parse_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A whole number within [low, high] (default when absent)."""
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def parse_basis(raw: str | None) -> str:
    """basis=due|transaction (default due)."""
    if raw is None or raw == "":
        return DEFAULT_BASIS
    if raw not in BASES:
        raise BadParameter("basis", f"must be one of {', '.join(BASES)}")
    return raw


def parse_filters() -> Filters:
    """The customer-attribute filters (blank means no filter); they only narrow the scope."""
    values: dict[str, str | None] = {}
    for name in FILTER_PARAMS:
        raw = single(name)
        if raw is not None and len(raw) > MAX_VALUE_LENGTH:
            raise BadParameter(name, "too long")
        values[name] = raw or None
    if values["terms_group"] is not None and values["terms_group"] not in TERMS_GROUPS:
        raise BadParameter("terms_group", f"must be one of {', '.join(TERMS_GROUPS)}")
    return Filters(**values)


def parse_request(allowed: frozenset[str]) -> Request:
    """as_of, basis, period_days and filters of a request; unknown or repeated parameters: 400.

    A parameter outside `allowed` is refused even when this function would read it (the API's
    table endpoints take no basis, for example)."""
    check_known(allowed)
    return Request(
        as_of=parse_as_of(single("as_of")),
        basis=parse_basis(single("basis")),
        period_days=parse_period(single("period_days")),
        filters=parse_filters(),
    )


# A page-local choice whose value is any date (YYYY-MM-DD), e.g. the backtest's "forecast made on";
# the view decides what a date it has no picture for shows.
DATE_OPTION = ("YYYY-MM-DD",)
# Options of a grid's source data (JSON the page writes): any text (the view checks it further), a
# number, yes/no (any JSON value, by its truth), or a list (kept as JSON text for the view to read).
TEXT_OPTION = ("text",)
NUMBER_OPTION = ("number",)
BOOL_OPTION = ("true", "false")
LIST_OPTION = ("[...]",)


def option_allowed(choices: tuple[str, ...], value: Any) -> bool:
    """Whether value is one of a view option's choices (DATE_OPTION: a real ISO date)."""
    if not isinstance(value, str):
        return False
    if choices == DATE_OPTION:
        try:
            return dt.date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    return value in choices


def option_value(choices: tuple[str, ...], raw: Any) -> str | None:
    """A grid option's value from JSON source data as text, None when the option does not allow it
    (TEXT_OPTION: a string; NUMBER_OPTION: a finite number or its text; BOOL_OPTION: the value's
    truth; LIST_OPTION: a list, as JSON; else one of the choices, or a date for DATE_OPTION)."""
    if choices == BOOL_OPTION:
        return "true" if raw else "false"
    if choices == LIST_OPTION:
        return json.dumps(list(raw), default=str) if isinstance(raw, list | tuple) else None
    if choices == NUMBER_OPTION:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            return None
        try:
            number = float(raw)
        except ValueError:
            return None
        return str(raw) if math.isfinite(number) else None
    if choices == TEXT_OPTION:
        return raw if isinstance(raw, str) else None
    return raw if option_allowed(choices, raw) else None


def parse_options(spec: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, str], ...]:
    """The page-local choices a chart accepts (e.g. by=region); a value it does not know: 400."""
    out = []
    for key, choices in spec.items():
        value = single(key)
        if value is None or value == "":
            continue
        if not option_allowed(choices, value):
            raise BadParameter(key, f"must be one of {', '.join(choices)}")
        out.append((key, value))
    return tuple(out)


def parse_search(name: str = "search") -> str:
    """A grid's quick-search text ('' when absent; 400 when too long)."""
    search = single(name) or ""
    if len(search) > MAX_SEARCH_LENGTH:
        raise BadParameter(name, f"longer than {MAX_SEARCH_LENGTH} characters")
    return search


def json_param(name: str, kind: type, required: bool = False) -> Any:
    """A JSON query parameter of the given type (dict or list); 400 naming it when missing or malformed."""
    raw = single(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(name, "required")
        return kind()
    if len(raw) > MAX_JSON_PARAM:
        raise BadParameter(name, f"longer than {MAX_JSON_PARAM} characters")
    try:
        value = json.loads(raw)
    except ValueError:
        raise BadParameter(name, "must be JSON") from None
    if not isinstance(value, kind):
        raise BadParameter(name, f"must be a JSON {'object' if kind is dict else 'array'}")
    return value


# ---- forgiving validation (the filter bar, Store "filters", subscriptions) ------------------------


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
    clean: dict[str, str | None] = {"as_of": _as_of(params.get("as_of"), now, messages)}
    basis = (params.get("basis") or DEFAULT_BASIS).strip()
    if basis not in BASES:
        messages.append(f"Unknown aging basis “{basis[:40]}”; showing due-date aging.")
        basis = DEFAULT_BASIS
    clean["basis"] = basis
    for key in ATTRIBUTE_KEYS:
        allowed = [value for value, _label in options[key]] if options and key in options else None
        clean[key] = _choice(key, params.get(key), allowed, messages, scope_label)
    clean["terms_group"] = _choice(
        "terms_group", params.get("terms_group"), list(TERMS_GROUPS), messages
    )
    return clean, messages


def filters_of(clean: Mapping[str, str | None]) -> Filters:
    """The Filters of clean filter values (from `validate`)."""
    return Filters(**{key: clean.get(key) for key in FILTER_PARAMS})


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
            or (key == "basis" and value == DEFAULT_BASIS)
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
    return dt.date.fromisoformat(str(clean["as_of"])), str(clean["basis"]), filters_of(clean)


# ---- description -----------------------------------------------------------------------------------


def describe(
    data: Mapping | None, options: Mapping[str, list[tuple[str, str]]] | None = None
) -> str:
    """The on-screen caption of Store "filters"
    ("as of 2025-06-30 · due date aging · sales rep Ann Lee (R0004) · terms 30-day+").

    Sales reps are shown by name (from `options`, else from the snapshot's rep list).
    """
    as_of, basis, filters = parse(data)
    names = dict(options.get("sales_rep", [])) if options else None
    return describe_request(as_of, basis, filters, names)


def describe_request(
    as_of: dt.date,
    basis: str,
    filters: Filters,
    names: Mapping[str, str] | None = None,
    *,
    basis_part: bool = True,
) -> str:
    """describe() of parsed filters; without the aging basis for pages that do not age."""
    parts = [f"as of {as_of.isoformat()}"]
    if basis_part:
        parts.append(f"{BASIS_LABELS[basis].lower()} aging")
    return " · ".join(parts + _filter_parts(filters, names, TERMS_GROUP_TEXT))


def stamp_text(basis: str, filters: Filters) -> str:
    """The filters of an export as its stamp reads ("due-date aging · segment Retail")."""
    return " · ".join([BASIS_TEXT[basis], *_filter_parts(filters, None, {})])


def filters_text(filters: Filters) -> str:
    """The filters as key=value pairs for audit rows and headers ("segment=Retail, tier=A")."""
    parts = [f"{key}={getattr(filters, key)}" for key in FILTER_PARAMS if getattr(filters, key)]
    return ", ".join(parts) or "no filters"


def _filter_parts(
    filters: Filters, names: Mapping[str, str] | None, terms_text: Mapping[str, str]
) -> list[str]:
    """ "segment Retail", "sales rep Ann Lee (R0004)", ... for the filters that are set: a rep by
    name with the id beside it (names from the snapshot when not given), a terms group by its
    text in `terms_text` (else its value)."""
    parts = []
    for key in FILTER_PARAMS:
        value = getattr(filters, key)
        if not value:
            continue
        label = value
        if key == "terms_group":
            label = terms_text.get(value, value)
        elif key == "sales_rep":
            name = (rep_names() if names is None else names).get(value)
            label = f"{name} ({value})" if name and name != value else value
        parts.append(f"{LABELS[key].lower()} {label}")
    return parts


def rep_names() -> dict[str, str]:
    """sales_rep_id -> name from the process's snapshot (empty when it cannot be read), made once
    per snapshot (25,000 reps: a new dict per caption cost tens of milliseconds)."""
    try:
        snap = get_snapshot()
        names: dict[str, str] | None = snap.__dict__.get("_rep_names")
        if names is None:
            reps = snap.reps
            names = (
                dict(zip(reps["sales_rep_id"].astype(str), reps["name"].astype(str), strict=True))
                if len(reps)
                else {}
            )
            snap.__dict__["_rep_names"] = names
        return names
    except Exception:  # noqa: BLE001 - a caption with an id beats no caption
        return {}
