"""Receivables Health: KPI tiles, aging donuts, top debtors, trends, at-risk accounts; all drill down."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard.components import drill, identity
from dashboard.components.export_menu import export_link, page_pdf_button
from dashboard.components.kpi_card import body_output, delta_badge, kpi_card, tile_body, tip_output
from dashboard.components.page_kit import card, export_tools, graph, page_header, request_context
from dashboard.components.shell import filters_for_layout
from dashboard.components.views import chart_figure
from dashboard.figures import aging as aging_fig
from dashboard.figures import trends as trends_fig
from dashboard.metrics import predict_ui, service
from dashboard.metrics import snapshot as snapshots
from dashboard.metrics.service import (
    aging_by_terms_group,
    aging_reconciliation,
    at_risk_summary,
    customers_with_limit,
    kpi_inputs,
    kpis,
    month_to_date,
    period_speed,
    previous_as_of,
)
from dashboard.views.warm import add_page_step

dash.register_page(__name__, path="/", name="Receivables", title="Receivables Health", nav_order=10)

P = gf.PERIOD_DAYS
AT_RISK_CARDS = 12
# The layout draws every figure for the filters in the address (no callback round trip on a page
# change or the first render); the callbacks redraw on a filter or data change only, and not at all
# when the page already shows that view (State "rh-built").
INPUTS = [Input("filters", "data"), Input("data-version", "data")]
BUILT = State("rh-built", "data")

# (group, tile, title, drill key, title of the rows behind it)
TILES = [
    ("balance", "total_ar", "Total AR", "total_ar", "Total AR · open invoices"),
    ("balance", "overdue_ar", "Overdue", "overdue_ar", "Overdue AR · invoices past due"),
    ("speed", "dso", "DSO", "total_ar", "DSO numerator · open invoices (total AR)"),
    ("speed", "cei", "CEI", "collections", f"CEI · payments received in the last {P} days"),
    (
        "speed",
        "turnover",
        "AR turnover",
        "credit_sales_year",
        "AR turnover numerator · credit sales of 365 days",
    ),
    ("speed", "best_dso", "Best possible DSO / ADD", "overdue_ar", "ADD · overdue invoices"),
    (
        "balance",
        "over_limit",
        "Customers over limit",
        "customers_over_limit",
        "Customers over their credit limit",
    ),
    (
        "balance",
        "unapplied",
        "Unapplied credits",
        "unapplied_credits",
        "Unapplied payments and credit notes",
    ),
    ("month", "sales_mtd", "Sales this month", "credit_sales_mtd", "Credit sales this month"),
    (
        "month",
        "collections_mtd",
        "Collections this month",
        "collections_mtd",
        "Collections this month",
    ),
]


def layout(**query) -> html.Div:
    """The page with every figure drawn for the filters in the address (a skeleton outside a request)."""
    filters_data = filters_for_layout(query)  # None outside a logged-in request: a skeleton
    values = page_values(filters_data) if filters_data is not None else None
    v = values or {}
    tile_values = v.get("bodies", {})
    tiles = dbc.Row(
        [
            dbc.Col(
                kpi_card(
                    g,
                    t,
                    title,
                    (key, {}),
                    drill_title=rows,
                    help_text=v.get("tips", {}).get(t, ""),
                    body_children=tile_values.get(t),
                ),
                className="ar-kpi-col",
            )
            for g, t, title, key, rows in TILES
        ],
        className="g-2 mb-2 row-cols-2 row-cols-md-3 row-cols-xl-5",
    )
    aging_info = (
        "Open balances by age, per terms group, on the aging basis chosen above. Customers whose "
        "credits exceed their balances are left out. Click a slice for its invoices; click a "
        "legend entry to hide or show a bucket."
    )
    donuts = dbc.Row(
        [
            dbc.Col(
                card(
                    "Aging · short terms (< 30 days)",
                    graph("rh-aging-short", 300, values["rh-aging-short"] if values else None),
                    aging_info,
                    "rh-info-aging-·-short-terms-(<-30-days)",
                    menu=export_tools("aging_short"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Aging · 30-day+ terms",
                    graph("rh-aging-long", 300, values["rh-aging-long"] if values else None),
                    aging_info,
                    "rh-info-aging-·-30-day+-terms",
                    menu=export_tools("aging_long"),
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-1",
    )
    reconcile = html.Div(
        v.get("rh-aging-reconcile"),
        id="rh-aging-reconcile",
        className="small text-muted mb-2 px-1 ar-reconcile",
    )
    risk = dbc.Row(
        [
            dbc.Col(
                card(
                    "Top 10 debtors",
                    graph("rh-top-debtors", 330, values["rh-top-debtors"] if values else None),
                    "The ten customers with the largest open balance at the as-of date. Click a bar for "
                    "the invoices behind it.",
                    "rh-info-top-10-debtors",
                    menu=export_tools("top_debtors"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "At-risk accounts",
                    [
                        dcc.Loading(
                            html.Div(
                                [at_risk_more(v), html.Div(v.get("rh-at-risk"), id="rh-at-risk")],
                                className="ar-risk-list",
                            ),
                            type="circle",
                            delay_show=400,
                        ),
                        html.Div(v.get("rh-expected-loss"), id="rh-expected-loss"),
                    ],
                    "Over credit limit first, then 90+ and 60+ days overdue, then above 90 % of the "
                    "limit. Click a card for the customer's Account 360.",
                    "rh-info-at-risk-accounts",
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    trends = dbc.Row(
        [
            dbc.Col(
                card(
                    "Sales vs collections · 12 months",
                    graph(
                        "rh-sales-collections",
                        300,
                        values["rh-sales-collections"] if values else None,
                    ),
                    "Credit sales (invoices less credit notes) and payments received per calendar month; "
                    "the current month runs to the as-of date. Click a bar for its rows.",
                    "rh-info-sales-vs-collections-·-12-months",
                    menu=export_tools("sales_collections"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "DSO trend · 12 months",
                    graph("rh-dso-trend", 300, values["rh-dso-trend"] if values else None),
                    f"DSO at each month end = AR at month end / credit sales of the {P} days before × {P}. "
                    "Click a point for the invoices open at that month end.",
                    "rh-info-dso-trend-·-12-months",
                    menu=export_tools("dso_trend"),
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    return html.Div(
        [
            page_header(
                "Receivables Health",
                "rh-caption",
                html.Div(
                    [
                        export_link("/export/receivables.pdf", "PDF summary"),
                        page_pdf_button("receivables"),
                    ],
                    className="ms-auto d-flex gap-1",
                ),
                caption=v.get("caption"),
            ),
            tiles,
            html.Div(v.get("by_currency"), id="rh-by-currency"),
            donuts,
            reconcile,
            risk,
            trends,
            dcc.Store(id="rh-built", data=built_key(filters_data) if values else None),
            drill.relay("rh"),
        ],
        id="rh-page",
    )


def at_risk_more(values: dict) -> html.Div:
    """The count line with its "Show all" drill (static: a redraw of the cards adds no new drill trigger)."""
    return html.Div(
        [
            html.Span(values.get("rh-at-risk-summary"), id="rh-at-risk-summary", className="me-2"),
            dbc.Button(
                "Show all",
                id=drill.trigger_id("at_risk", "At-risk accounts"),
                n_clicks=0,
                color="link",
                size="sm",
                className="p-0 align-baseline",
            ),
        ],
        id="rh-at-risk-more",
        className="small text-muted mb-2",
        style=values.get("rh-at-risk-more", {"display": "none"}),
    )


def built_key(filters_data) -> str:
    """What a drawn view depends on: filters (and their query string), scope and data version."""
    as_of, basis, filters = gf.parse(filters_data)
    snap = snapshots.get_snapshot()
    query = (filters_data or {}).get("query") or ""
    return f"{as_of}|{basis}|{filters!r}|{query}|{identity.scope().label}|{snap.version}|{snap.loaded_at}"


def _unchanged(filters_data, built) -> bool:
    """True when the page already shows this view (drawn by the layout or an earlier callback)."""
    return filters_data is not None and built is not None and built == built_key(filters_data)


def warm(snap, req) -> None:
    """The page's first visit's computations beyond its views (the snapshot's warm-up, dashboard/views/warm.py):
    the same cached calls with the same arguments as the helpers below."""
    ui = service
    as_of, filters, scope = req.as_of, req.filters, req.scope
    ui.kpis(snap, as_of, P, filters, scope)  # _balance, _speed
    ui.period_speed(snap, ui.previous_as_of(as_of, P), P, filters, scope)
    ui.kpi_inputs(snap, as_of, P, filters, scope)
    ui.customers_with_limit(snap, filters, scope)
    ui.month_to_date(snap, as_of, filters, scope)  # _month
    ui.aging_by_terms_group(snap, as_of, filters, scope, req.basis)  # _aging
    ui.aging_reconciliation(snap, as_of, filters, scope)
    ui.at_risk_summary(snap, as_of, filters, scope, AT_RISK_CARDS)  # _at_risk
    predict_ui.worklist(snap, as_of, filters, scope, limit=3, queue=False)  # _expected_loss


add_page_step("receivables", warm)


def page_values(filters_data) -> dict:
    """Every figure of the page for one view, by output (the layout and the callbacks share it)."""
    values: dict = {
        "caption": _caption(filters_data),
        "by_currency": _by_currency(filters_data),
        "bodies": {},
        "tips": {},
    }
    for part in (_balance(filters_data), _speed(filters_data), _month(filters_data)):
        values["bodies"].update(part[0])
        values["tips"].update(part[1])
    values.update(_charts(filters_data))
    values["rh-expected-loss"] = _expected_loss(filters_data)
    return values


# ---- data helpers (cached per data version, scope, filters and as-of) -----------------------------


def _ordered(values: dict, index: int) -> list:
    """Values for the pattern-matching output list `index`, in the order Dash expects."""
    return [values[item["id"]["tile"]] for item in ctx.outputs_list[index]]


# ---- what each part of the page shows ----------------------------------------------------------------------------------


def _caption(filters_data) -> str:
    """What the page shows: as-of, basis, filters, scope, period, and the base currency."""
    snap, as_of, _basis, _filters, _scope, cur = request_context(filters_data)
    money_note = f" · amounts in {cur}" + (f" at the rates of {as_of}" if snap.multi else "")
    return f"{gf.describe(filters_data)} · {identity.scope().label} · period {P} days{money_note}"


def _by_currency(filters_data):
    """Each currency's own figures beside their base value, and the revaluation (several currencies only)."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    if not snap.multi:
        return None
    k = kpis(snap, as_of, P, filters, scope)
    rate_at = dict(
        zip(snap.rates.codes, snap.rates.at((as_of - dt.date(1970, 1, 1)).days), strict=True)
    )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h, className="text-end" if i else None)
                for i, h in enumerate(
                    (
                        "Currency",
                        "Total AR",
                        "Overdue",
                        "Not due",
                        "Unapplied credits",
                        f"Rate at {as_of}",
                    )
                )
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(code),
                *(
                    html.Td(fmt.money(v[key], code), className="text-end")
                    for key in ("total_ar", "overdue_ar", "not_due_ar", "unapplied_credits")
                ),
                html.Td(
                    f"{Decimal(int(rate_at[code])) / Decimal(10**10):f}".rstrip("0").rstrip("."),
                    className="text-end",
                ),
            ]
        )
        for code, v in k["by_currency"].items()
    ]
    note = html.Div(
        f"In {cur}: total AR {fmt.money(k['total_ar'], cur)} at the rates of {as_of}; at booking rates "
        f"{fmt.money(k['total_ar_at_booking_rates'], cur)}; revaluation {fmt.money(k['fx_revaluation'], cur)}.",
        className="small text-muted",
        id="rh-fx-revaluation",
    )
    info = (
        "Each currency's receivables in its own units. Tiles and charts show the base currency: balances "
        "revalued at the rate in force at the as-of date, sales and collections at the rate of their own "
        "date; the revaluation is total AR less the same balances at their invoices' issue-date rates."
    )
    table = dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        className="mb-1 small ar-small-table",
        id="rh-currency-table",
    )
    return dbc.Row(
        dbc.Col(
            card(
                f"By currency · base {cur}",
                html.Div([html.Div(table, className="table-responsive"), note]),
                info,
                "rh-info-by-currency-·-base-" + cur.lower(),
            )
        ),
        className="g-2 mb-2",
    )


def _balance(filters_data) -> tuple[dict, dict]:
    """Total AR, overdue, customers over limit, unapplied credits."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    k = kpis(snap, as_of, P, filters, scope)
    total, overdue = fmt.to_cents(k["total_ar"]), fmt.to_cents(k["overdue_ar"])
    share = fmt.pct(overdue * 100 / total if total and overdue is not None else None)
    limited = customers_with_limit(snap, filters, scope)
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    bodies = {
        "total_ar": tile_body(
            money(k["total_ar"]),
            f"{fmt.number(k['customers_with_balance'])} customers with a balance",
        ),
        "overdue_ar": tile_body(
            money(k["overdue_ar"]),
            f"{share} of AR · {fmt.number(k['customers_overdue'])} customers",
        ),
        "over_limit": tile_body(
            fmt.number(k["customers_over_limit"]),
            f"of {fmt.number(limited)} customers with a limit",
        ),
        "unapplied": tile_body(
            money(k["unapplied_credits"]), "payments and credit notes not yet applied"
        ),
    }
    tips = {
        "total_ar": f"Total AR = Σ positive open balances at {as_of} = {money(k['total_ar'])} "
        f"(not due {money(k['not_due_ar'])} + overdue {money(k['overdue_ar'])}).",
        "overdue_ar": f"Overdue = open balances with due date before {as_of} = {money(k['overdue_ar'])} "
        f"= {share} of total AR {money(k['total_ar'])}.",
        "over_limit": f"Customers over limit = count of customers with a credit limit > 0 whose open balance "
        f"exceeds it = {k['customers_over_limit']} (of {limited} with a limit).",
        "unapplied": f"Unapplied credits = payments dated ≤ {as_of} not yet allocated + credit notes without an "
        f"invoice + amounts applied beyond an invoice's amount + applications dated before their "
        f"invoice was issued = {money(k['unapplied_credits'])}.",
    }
    return bodies, tips


def _speed(filters_data) -> tuple[dict, dict]:
    """DSO (with the change against the previous period), CEI, turnover, best possible DSO / ADD."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    prev_day = previous_as_of(as_of, P)
    prev = period_speed(snap, prev_day, P, filters, scope)
    extra = kpi_inputs(snap, as_of, P, filters, scope)
    k = kpis(snap, as_of, P, filters, scope)
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    ar_start, ar_year, sales_year = (
        extra["ar_start_cents"],
        extra["ar_year_ago_cents"],
        extra["sales_year_cents"],
    )
    delta = delta_badge(k["dso"], prev["dso"], lower_is_better=True)
    bodies = {
        "dso": tile_body(
            fmt.days(k["dso"]),
            [delta, f" vs {fmt.ratio(prev['dso'], '', 1)} at {prev_day:%d %b}"]
            if delta
            else f"previous period: {fmt.days(prev['dso'])}",
        ),
        "cei": tile_body(fmt.pct(k["cei"]), f"previous period: {fmt.pct(prev['cei'])}"),
        "turnover": tile_body(
            fmt.ratio(k["ar_turnover"], "×"), "credit sales of 365 days / average AR"
        ),
        "best_dso": tile_body(
            f"{fmt.ratio(k['best_possible_dso'], '', 1)} / {fmt.ratio(k['add'], '', 1)} days"
            if k["best_possible_dso"] is not None
            else fmt.DASH,
            "best possible DSO / average days delinquent",
        ),
    }
    tips = {
        "dso": f"DSO = total AR / credit sales × P = {money(k['total_ar'])} / {money(k['credit_sales'])} × {P} "
        f"= {fmt.days(k['dso'])}. ▲ is worse (slower), ▼ better, against the period ending {prev_day} "
        f"({fmt.days(prev['dso'])}).",
        "cei": f"CEI = (AR at start + credit sales − AR at end) / (AR at start + credit sales − current AR at end) × 100 "
        f"= ({money(ar_start)} + {money(k['credit_sales'])} − {money(k['total_ar'])}) / ({money(ar_start)} + "
        f"{money(k['credit_sales'])} − {money(k['not_due_ar'])}) × 100 = {fmt.pct(k['cei'])}.",
        "turnover": f"AR turnover = credit sales in 365 days / ((AR 365 days ago + AR now) / 2) = {money(sales_year)} / "
        f"(({money(ar_year)} + {money(k['total_ar'])}) / 2) = {fmt.ratio(k['ar_turnover'], '×')}.",
        "best_dso": f"Best possible DSO = not-due AR / credit sales × P = {money(k['not_due_ar'])} / "
        f"{money(k['credit_sales'])} × {P} = {fmt.days(k['best_possible_dso'])}; ADD = DSO − best possible "
        f"DSO = {fmt.days(k['add'])}.",
    }
    return bodies, tips


def _month(filters_data) -> tuple[dict, dict]:
    """Credit sales and collections month to date."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    m = month_to_date(snap, as_of, filters, scope)
    since = f"{m['month_start']:%d %b} – {as_of:%d %b %Y}"
    bodies = {
        "sales_mtd": tile_body(fmt.money(m["credit_sales_cents"], cur), since),
        "collections_mtd": tile_body(fmt.money(m["collections_cents"], cur), since),
    }
    tips = {
        "sales_mtd": f"Sales this month = Σ invoices less credit notes issued {m['month_start']} to {as_of} "
        f"= {fmt.money(m['credit_sales_cents'], cur)}.",
        "collections_mtd": f"Collections this month = Σ payments dated {m['month_start']} to {as_of} "
        f"= {fmt.money(m['collections_cents'], cur)}.",
    }
    return bodies, tips


def _aging(filters_data) -> tuple:
    """One donut per terms group on the chosen aging basis (their views), and the line that ties
    them to total AR."""
    snap, as_of, basis, filters, scope, cur = request_context(filters_data)
    frame = aging_by_terms_group(snap, as_of, filters, scope, basis)
    line = aging_fig.reconciling_line(frame, aging_reconciliation(snap, as_of, filters, scope), cur)
    return chart_figure("aging_short", filters_data), chart_figure("aging_long", filters_data), line


def _top_debtors(filters_data) -> dict:
    """The ten largest open balances (its view)."""
    return chart_figure("top_debtors", filters_data)


def _trends(filters_data) -> tuple:
    """Twelve months of sales vs collections and of DSO (their views; one cached trend feeds both)."""
    return chart_figure("sales_collections", filters_data), chart_figure("dso_trend", filters_data)


def _risk_card(row: dict, cur: str, query: str) -> dcc.Link:
    reason = row["reason"]
    if row["priority"] == 1 or row["priority"] == 4:
        detail = f"{fmt.money(int(row['amount_cents']), cur)} of {fmt.money(int(row['credit_limit_cents']), cur)} limit ({fmt.pct(row['utilization_pct'], 0)})"
    elif row["priority"] == 2:
        detail = f"{fmt.money(int(row['overdue_90_plus_cents']), cur)} 90+ days overdue"
    else:
        detail = f"{fmt.money(int(row['overdue_60_plus_cents']), cur)} 61–90 days overdue"
    return dcc.Link(
        [
            html.Div(
                [
                    html.Span(row["customer_name"], className="ar-risk-name"),
                    html.Span(row["customer_id"], className="ar-risk-id"),
                ],
                className="d-flex justify-content-between gap-2",
            ),
            html.Div(
                [
                    html.Span(reason, className=f"ar-risk-reason ar-risk-p{row['priority']}"),
                    html.Span(detail, className="ar-risk-detail"),
                ],
                className="d-flex justify-content-between gap-2 flex-wrap",
            ),
            html.Div(
                f"Balance {fmt.money(int(row['amount_cents']), cur)} · {row['terms']}",
                className="ar-risk-sub",
            ),
        ],
        href=f"/customers/{row['customer_id']}{query}",
        className=f"ar-risk-card ar-risk-border-p{row['priority']}",
    )


def _at_risk(filters_data) -> dict:
    """At-risk cards in the Retailer order (each opens Account 360) and their count line, by output."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    table, counts = at_risk_summary(snap, as_of, filters, scope, AT_RISK_CARDS)
    if table.empty:
        return {
            "rh-at-risk": html.Div(
                "No account is at risk on these filters.", className="text-muted p-3 ar-empty"
            ),
            "rh-at-risk-summary": "",
            "rh-at-risk-more": {"display": "none"},
        }
    query = (filters_data or {}).get("query") or ""
    summary = " · ".join(
        f"{counts.get(p, 0)} {label.lower()}"
        for p, label in (
            (1, "Over limit"),
            (2, "90+ overdue"),
            (3, "60+ overdue"),
            (4, "Above 90 % of limit"),
        )
    )
    cards = [_risk_card(row, cur, query) for row in table.to_dict("records")]
    return {
        "rh-at-risk": html.Div(cards, className="ar-risk-grid"),
        "rh-at-risk-summary": f"{sum(counts.values()):,} at-risk accounts: {summary}.",
        "rh-at-risk-more": {},
    }


def _expected_loss(filters_data):
    """The expected-loss lines under the at-risk cards."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data)
    return expected_loss_list(
        snap, as_of, filters, scope, cur, (filters_data or {}).get("query") or ""
    )


def expected_loss_list(snap, as_of, filters, scope, cur: str, query: str) -> html.Div:
    """The top invoices of the expected-loss worklist (dashboard.metrics.predict_views.worklist) under the cards."""
    top = predict_ui.worklist(snap, as_of, filters, scope, limit=3)
    if top.empty:
        return html.Div()
    items = [
        html.Li(
            [
                html.Strong(
                    f"{row['invoice_id']} · {row['customer_name'] or row['customer_id']}: "
                ),
                f"expected loss {fmt.money(int(row['expected_loss_cents']), cur)} — {row['reason']}",
            ]
        )
        for row in top.to_dict("records")
    ]
    _pred, source = predict_ui.predictions(snap, as_of, filters, scope)
    note = " (baseline: no model yet, so each chance is 0 or 100 %)" if "baseline" in source else ""
    return html.Div(
        [
            html.Div(
                [
                    f"Highest expected loss (open balance × P(not paid within 30 days)){note} · ",
                    dcc.Link("full worklist", href=f"/predictions{query}"),
                ],
                className="fw-semibold",
            ),
            html.Ol(items, className="mb-0 ps-3"),
        ],
        className="small text-muted mt-2 ar-expected-loss",
    )


# ---- callbacks (a filter or data change; never when the page already shows the view) -------------


def _charts(filters_data) -> dict:
    """Donuts, reconciling line, top debtors, trends and at-risk cards, by output id."""
    short, long_, line = _aging(filters_data)
    sales, dso = _trends(filters_data)
    at_risk = _at_risk(filters_data)
    return {
        "rh-aging-short": short,
        "rh-aging-long": long_,
        "rh-aging-reconcile": line,
        "rh-top-debtors": _top_debtors(
            filters_data
        ),  # last: the date's KPIs (see tiles_and_charts)
        "rh-sales-collections": sales,
        "rh-dso-trend": dso,
        **at_risk,
    }


CHART_OUTPUTS = (
    ("rh-aging-short", "figure"),
    ("rh-aging-long", "figure"),
    ("rh-aging-reconcile", "children"),
    ("rh-top-debtors", "figure"),
    ("rh-sales-collections", "figure"),
    ("rh-dso-trend", "figure"),
    ("rh-at-risk", "children"),
    ("rh-at-risk-summary", "children"),
    ("rh-at-risk-more", "style"),
)


@callback(Output("rh-caption", "children"), *INPUTS, BUILT, prevent_initial_call=True)
def caption(filters_data, _version, built=None):
    """What the page shows: as-of, basis, filters, scope, period, and the base currency."""
    if _unchanged(filters_data, built):
        raise PreventUpdate
    return _caption(filters_data)


@callback(Output("rh-by-currency", "children"), *INPUTS, BUILT, prevent_initial_call=True)
def by_currency_panel(filters_data, _version, built=None):
    """Each currency's own figures beside their base value, and the revaluation (several currencies only)."""
    if _unchanged(filters_data, built):
        raise PreventUpdate
    return _by_currency(filters_data)


@callback(
    body_output("balance"),
    tip_output("balance"),
    body_output("speed"),
    tip_output("speed"),
    body_output("month"),
    tip_output("month"),
    *(Output(i, prop) for i, prop in CHART_OUTPUTS),
    Output("rh-built", "data"),
    *INPUTS,
    BUILT,
    prevent_initial_call=True,
)
def tiles_and_charts(filters_data, _version, built=None):
    """Every tile, chart and the at-risk cards in one round trip (they share the cached selection)."""
    if _unchanged(filters_data, built):
        raise PreventUpdate
    # what does not need the date's KPIs first (cached: the parts below find it): meanwhile the
    # by-currency callback, in another worker, computes them and shares them through the result
    # cache (at 10M invoices, 175 ms of CPU for a new date)
    snap, as_of, _basis, filters, scope, _cur = request_context(filters_data)
    period_speed(snap, previous_as_of(as_of, P), P, filters, scope)
    kpi_inputs(snap, as_of, P, filters, scope)
    charts = _charts(filters_data)
    out = []
    for index, part in enumerate(
        (_balance(filters_data), _speed(filters_data), _month(filters_data))
    ):
        out += [_ordered(part[0], 2 * index), _ordered(part[1], 2 * index + 1)]
    return (*out, *(charts[i] for i, _prop in CHART_OUTPUTS), built_key(filters_data))


@callback(Output("rh-expected-loss", "children"), *INPUTS, BUILT, prevent_initial_call=True)
def expected_loss(filters_data, _version, built=None):
    """Its own callback, so the cards never wait for the predictions."""
    if _unchanged(filters_data, built):
        raise PreventUpdate
    return _expected_loss(filters_data)


# ---- drill-downs from chart clicks ---------------------------------------------------------------


def _click(click_data) -> dict | None:
    if not click_data or not click_data.get("points"):
        return None
    return click_data["points"][0]


@callback(
    Output(drill.relay_id("rh"), "data"),
    Input("rh-aging-short", "clickData"),
    Input("rh-aging-long", "clickData"),
    Input("rh-top-debtors", "clickData"),
    Input("rh-sales-collections", "clickData"),
    Input("rh-dso-trend", "clickData"),
    State("filters", "data"),
    prevent_initial_call=True,
)
def chart_drill(short, long_, debtors, sales, dso, filters_data):
    """Translate a chart click into a drill request (slice, bar or point -> the rows behind it)."""
    trigger = ctx.triggered_id
    point = _click(
        {
            "rh-aging-short": short,
            "rh-aging-long": long_,
            "rh-top-debtors": debtors,
            "rh-sales-collections": sales,
            "rh-dso-trend": dso,
        }.get(trigger)
    )
    if point is None or "customdata" not in point:
        raise PreventUpdate
    data = point["customdata"]
    _as_of, basis, _filters = gf.parse(filters_data)
    if trigger in ("rh-aging-short", "rh-aging-long"):
        bucket, amount, group = data[0], data[1], data[2]
        label = aging_fig.bucket_labels(basis).get(bucket, bucket)
        key = "aging_transaction" if basis == "transaction" else "aging_due"
        return drill.request(
            key,
            f"Aging {label} · {aging_fig.GROUP_TITLES[group]} · {amount}",
            bucket=bucket,
            terms_group_name=group,
        )
    if trigger == "rh-top-debtors":
        return drill.request(
            "total_ar", f"Open invoices of {data[1]} · {data[2]}", customer_id=data[0]
        )
    if trigger == "rh-sales-collections":
        key, month, amount = data[0], data[1], data[2]
        what = "Credit sales" if key == "month_sales" else "Collections"
        return drill.request(
            key, f"{what} · {trends_fig.month_label(month)} · {amount}", month=month
        )
    _key, month, amount, end = data[0], data[1], data[2], data[3]
    return drill.request("ar_at", f"Open invoices at {end} · {amount}", month=month)
