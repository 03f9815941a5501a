"""Commission Analytics: accrued, paid this month, average rate, at risk, cash basis; reps, trend, groups."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html
from dash.exceptions import PreventUpdate

from dashboard import format as fmt
from dashboard import params as gf
from dashboard import views
from dashboard.components import drill, grid, identity
from dashboard.components.kpi_card import body_output, kpi_card, tile_body, tip_output
from dashboard.components.page_kit import card, export_tools, graph, page_header, request_context
from dashboard.components.views import chart_callback, page_callback
from dashboard.figures.trends import month_label
from dashboard.metrics.commissions import DRILL_KEYS, cached_drill, cached_tiles

dash.register_page(
    __name__, path="/commissions", name="Commissions", title="Commission analytics", nav_order=90
)

P = gf.PERIOD_DAYS
GROUP = "com"
CAPABILITY = "view_commissions"
INPUTS = [Input("filters", "data"), Input("data-version", "data")]
RISK_GRID, CASH_GRID = "com-at-risk", "com-cash"

# (tile, title, drill key)
TILES = [
    ("com_accrued", "Accrued commissions", "commissions_accrued"),
    ("com_paid_mtd", "Paid this month", "commissions_paid_mtd"),
    ("com_avg_rate", "Average commission rate", "commissions_earned"),
    ("com_at_risk", "Commission at risk", "commissions_at_risk"),
    ("com_cash", "Commission on cash", "commissions_cash"),
]
DRILL_LABELS = {
    "commission_id": "Commission",
    "sales_rep_id": "Rep",
    "rep_name": "Rep name",
    "group_name": "Group",
    "date": "Earned",
    "settled_on": "Paid",
    "rate": "Rate",
    "reason": "At risk because",
    "invoice_amount_cents": "Invoice amount",
    "collected_cents": "Paid in period",
    "commission_cents": "Commission",
    "amount_cents": "Commission",
}


# ---- layout ---------------------------------------------------------------------------------------


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    tiles = dbc.Row(
        [
            dbc.Col(kpi_card(GROUP, tile, title, (key, {})), className="ar-kpi-col")
            for tile, title, key in TILES
        ],
        className="g-2 mb-2 row-cols-2 row-cols-md-3 row-cols-xl-5",
    )
    charts = dbc.Row(
        [
            dbc.Col(
                card(
                    "Top sales reps by accrued commission",
                    graph("com-top-reps", 320),
                    "Reps ranked by unpaid commission at the as-of date (earned on or before it, not paid by "
                    "it). Click a bar to filter the whole dashboard to that rep; click it again to clear "
                    "the filter.",
                    "com-info-top-sales-reps-by-accrued-commission",
                    menu=export_tools("commissions_top_reps"),
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Commissions accrued vs paid · 12 months",
                    graph("com-trend", 320),
                    "Bars: commission earned (accrued) and commission paid out per calendar month; the "
                    "current month runs to the as-of date. Line: unpaid commission at each month end. A "
                    "growing gap means payouts lag. Click a bar for its rows.",
                    "com-info-commissions-accrued-vs-paid---12-months",
                    menu=export_tools("commissions_trend"),
                ),
                lg=6,
            ),
        ],
        className="g-2 mb-2",
    )
    groups_cash = dbc.Row(
        [
            dbc.Col(
                card(
                    f"Distribution by sales group · {P} days",
                    graph("com-groups", 320),
                    f"Share of the commission earned in the last {P} days (to the as-of date) by the "
                    "sales group of the rep who earned it. Click a slice for its rows.",
                    f"com-info-distribution-by-sales-group---{P}-days",
                    menu=export_tools("commissions_groups"),
                ),
                lg=4,
            ),
            dbc.Col(
                card(
                    f"Commission on cash collected vs on invoices issued · {P} days",
                    graph("com-cash-chart", 320),
                    f"Per rep, for the last {P} days: commission on the invoices issued in the period, "
                    "beside the commission on the cash collected in it (each commission × the part of its "
                    "invoice paid by payments in the period / the invoice amount).",
                    f"com-info-commission-on-cash-collected-vs-on-invoices-issued---{P}-days",
                    menu=export_tools("commissions_cash"),
                ),
                lg=8,
            ),
        ],
        className="g-2 mb-2",
    )
    tables = dbc.Row(
        [
            dbc.Col(
                card(
                    "Commission at risk per rep",
                    grid.data_grid(RISK_GRID, height=420, search_placeholder="Search reps"),
                    "Accrued commission on invoices that at the as-of date are written off (a write-off "
                    "dated on or before it), disputed (a dispute open then, or the disputed flag while the "
                    "invoice is open) or more than 90 days past due. Each commission counts once, in the "
                    "first of those reasons. At risk % = at risk / accrued × 100.",
                    "com-info-commission-at-risk-per-rep",
                    menu=[],
                ),
                xs=12,
                className="mb-2",
            ),
            dbc.Col(
                card(
                    f"Cash vs invoiced commission per rep · {P} days",
                    grid.data_grid(CASH_GRID, height=420, search_placeholder="Search reps"),
                    f"Per rep, for the last {P} days: commission on invoices issued, commission on cash "
                    "collected, the cash collected on their commissioned invoices, and the difference. "
                    "Totals are exact sums of every row.",
                    f"com-info-cash-vs-invoiced-commission-per-rep---{P}-days",
                    menu=[],
                ),
                xs=12,
            ),
        ],
        className="g-2 mb-2",
    )
    return html.Div(
        [
            page_header("Commission Analytics", "com-caption", pdf="commissions"),
            tiles,
            charts,
            groups_cash,
            tables,
            drill.relay("com"),
        ],
        id="com-page",
    )


# ---- data helpers -------------------------------------------------------------------------------


def _allowed() -> bool:
    return identity.can(CAPABILITY)


def drill_rows(snap, key, as_of, period_days, filters, scope, bucket=None, month=None, **_params):
    """Rows behind a commission figure (a drill declared with the view_commissions capability, which the
    drill modal checks; `bucket` carries a group name)."""
    return cached_drill(snap, key, as_of, period_days, filters, scope, month=month, group=bucket)


for _key in DRILL_KEYS:
    views.register_drill(_key, drill_rows, DRILL_LABELS, CAPABILITY)
# the per-rep grids (RISK_GRID, CASH_GRID): table views of dashboard/views/commissions.py


# ---- callbacks ----------------------------------------------------------------------------------


@page_callback(Output("com-caption", "children"))
def caption(filters_data, _version):
    """What the page shows: as-of, filters, scope, period, and the currency of the amounts."""
    if filters_data is None:
        raise PreventUpdate
    text = f"{gf.describe(filters_data)} · {identity.scope().label} · period {P} days"
    if not _allowed():
        return text
    snap, as_of, _basis, _filters, _scope, cur = request_context(filters_data, CAPABILITY)
    if snap.multi:
        text += (
            f" · amounts in {cur}: earned and paid at the earned date's rate, "
            f"accrued balances at the rates of {as_of}"
        )
    return text


def _ordered(values: dict, index: int) -> list:
    return [values[item["id"]["tile"]] for item in ctx.outputs_list[index]]


@callback(body_output(GROUP), tip_output(GROUP), *INPUTS)
def tiles(filters_data, _version):
    """Accrued, paid this month, average rate, at risk, on cash collected: value, sub-line, formula."""
    snap, as_of, _basis, filters, scope, cur = request_context(filters_data, CAPABILITY)
    t = cached_tiles(snap, as_of, P, filters, scope)
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    since = f"{t['month_start']:%d %b} – {as_of:%d %b}"
    period = f"{t['period_start']} to {as_of}"
    risk_share = fmt.pct(
        t["at_risk_cents"] * 100 / t["accrued_cents"] if t["accrued_cents"] else None
    )
    bodies = {
        "com_accrued": tile_body(
            money(t["accrued_cents"]),
            f"{fmt.number(t['accrued_rows'])} unpaid · {fmt.number(t['accrued_reps'])} rep{'' if t['accrued_reps'] == 1 else 's'}",
        ),
        "com_paid_mtd": tile_body(
            money(t["paid_mtd_cents"]), f"{since} · {fmt.number(t['paid_mtd_rows'])} paid"
        ),
        "com_avg_rate": tile_body(
            fmt.pct(t["avg_rate_pct"], 2),
            f"{money(t['earned_cents'])} on {money(t['sales_cents'])} sales",
        ),
        "com_at_risk": tile_body(
            money(t["at_risk_cents"]),
            f"{risk_share} of accrued · {fmt.number(t['at_risk_rows'])} commissions",
        ),
        "com_cash": tile_body(
            money(t["cash_cents"]), f"vs {money(t['invoiced_cents'])} on invoices issued"
        ),
    }
    f = t["formulas"]
    tips = {
        "com_accrued": f"{f['accrued']}. At {as_of}: {money(t['accrued_cents'])} over {t['accrued_rows']} commissions. "
        "Click the value for the rows.",
        "com_paid_mtd": f"{f['paid_mtd']}. {t['month_start']} to {as_of}: {money(t['paid_mtd_cents'])} over "
        f"{t['paid_mtd_rows']} commissions.",
        "com_avg_rate": f"{f['avg_rate']}. P = {P}, period {period}: {money(t['earned_cents'])} / "
        f"{money(t['sales_cents'])} × 100 = {fmt.pct(t['avg_rate_pct'], 2)}. Click for the commissions earned.",
        "com_at_risk": f"{f['at_risk']}. At {as_of}: {money(t['at_risk_cents'])} of {money(t['accrued_cents'])} accrued "
        f"({risk_share}).",
        "com_cash": f"{f['cash']}. Period {period}: cash collected on commissioned invoices {money(t['collected_cents'])} → "
        f"commission {money(t['cash_cents'])}; {f['invoiced']} = {money(t['invoiced_cents'])}.",
    }
    return _ordered(bodies, 0), _ordered(tips, 1)


# the four charts: their views (dashboard/views/commissions.py) drawn by the generic chart callback
top_reps = chart_callback("com-top-reps", "commissions_top_reps", __name__)
trend = chart_callback("com-trend", "commissions_trend", __name__)
groups = chart_callback("com-groups", "commissions_groups", __name__)
cash_chart = chart_callback("com-cash-chart", "commissions_cash", __name__)


@callback(
    Output(grid.source_id(RISK_GRID), "data"), Output(grid.source_id(CASH_GRID), "data"), *INPUTS
)
def grid_sources(filters_data, _version):
    """Point both rep tables at the current filters (their rows are built on the server)."""
    if filters_data is None or not _allowed():
        raise PreventUpdate
    data = {"filters": filters_data}
    return data, data


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("com-top-reps", "clickData"),
    State("filters", "data"),
    State("url", "search"),
    prevent_initial_call=True,
)
def filter_to_rep(click, filters_data, search):
    """A click on a rep's bar sets the global sales-rep filter in the URL (a second click clears it)."""
    if not click or not click.get("points") or not isinstance(filters_data, dict):
        raise PreventUpdate
    data = click["points"][0].get("customdata")
    if not data:
        raise PreventUpdate
    values = {key: filters_data.get(key) for key in gf.FILTER_KEYS}
    values["sales_rep"] = None if values.get("sales_rep") == data[0] else str(data[0])
    extra = {k: v for k, v in gf.parse_query(search).items() if k not in gf.FILTER_KEYS}
    query = gf.to_query(values, extra)
    if query == (search or ""):
        raise PreventUpdate
    return query


@callback(
    Output(drill.relay_id("com"), "data"),
    Input("com-trend", "clickData"),
    Input("com-groups", "clickData"),
    prevent_initial_call=True,
)
def chart_drill(trend_click, group_click):
    """A month bar or a group slice opens the commission rows behind it."""
    trigger = ctx.triggered_id
    click = trend_click if trigger == "com-trend" else group_click
    if not click or not click.get("points"):
        raise PreventUpdate
    data = click["points"][0].get("customdata")
    if not data:
        raise PreventUpdate
    if trigger == "com-trend":
        key, month, amount = data[0], data[1], data[2]
        if not key:
            raise PreventUpdate
        what = "Commission earned" if key == "commissions_month_earned" else "Commission paid"
        return drill.request(key, f"{what} · {month_label(month)} · {amount}", month=month)
    group, amount = data[0], data[1]
    return drill.request(
        "commissions_group", f"Commission earned by {group} · {P} days · {amount}", bucket=group
    )
