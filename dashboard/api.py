"""The JSON API: KPIs, Account 360 and CSV exports, restricted to the caller's scope."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, Flask, Response, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from dashboard import predict_jobs
from dashboard.auth.audit import audit
from dashboard.auth.guard import json_error
from dashboard.auth.roles import can
from dashboard.auth.scope import current_scope
from dashboard.export.registry import TABLES, build_table
from dashboard.export.routes import init_exports
from dashboard.export.tables import Stamp, csv_bytes
from dashboard.metrics import predict_store, predict_views, service
from dashboard.metrics.filters import Filters, Scope
from dashboard.metrics.snapshot import get_snapshot, to_day
from dashboard.params import (
    CUSTOMER_PARAMS,
    PREDICTION_PARAMS,
    TABLE_PARAMS,
    BadParameter,
    check_known,
    filters_text,
    parse_as_of,
    parse_filters,
    parse_request,
    single,
)

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api")


def parse_table_args() -> tuple[dt.date, int, Filters]:
    """as_of, period_days and filters of a KPI or table request (no basis: the API ages by due date)."""
    req = parse_request(TABLE_PARAMS)
    return req.as_of, req.period_days, req.filters


def to_jsonable(value: Any) -> Any:
    """json.dumps default: dates, decimals, numpy scalars and arrays, pandas frames."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response (keys in the order the metrics return them, like the CLI)."""
    body = json.dumps(data, default=to_jsonable)
    return Response(
        body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"}
    )


def snapshot() -> Any:
    """The process's columnar snapshot of the ledger."""
    return get_snapshot()


@bp.get("/kpis")
def kpis() -> Response:
    """The KPI contract for as_of, period and filters, within the caller's scope."""
    as_of, period_days, filters = parse_table_args()
    # the pages' cached entry point: the same request from any page, API client or worker is one computation
    return json_response(service.kpis(snapshot(), as_of, period_days, filters, current_scope()))


@bp.get("/customers/<customer_id>")
def customer(customer_id: str) -> Response:
    """Account 360 of one customer; 404 when unknown or outside the scope."""
    check_known(CUSTOMER_PARAMS)
    as_of = parse_as_of(single("as_of"))
    data = service.account_360(snapshot(), customer_id, as_of, current_scope())
    if data is None:
        return json_error(404, "no such customer")
    return json_response(data)


@bp.get("/predictions")
def predictions() -> Response:
    """Each open invoice's payment prediction at as_of, within the caller's scope (as `predict --json`)."""
    check_known(PREDICTION_PARAMS)
    as_of, filters = parse_as_of(single("as_of")), parse_filters()
    snap = snapshot()
    bundle = predict_store.current_bundle(snap)
    if bundle is None:
        # through the module: tests patch predict_jobs.request_training
        predict_jobs.request_training(
            snap
        )  # queued for a worker; this request answers with the baseline
    day = to_day(as_of)
    pred = predict_views.scoped(
        snap, predict_store.predictions_at(snap, day, bundle), filters, current_scope()
    )
    response = json_response(predict_views.prediction_rows(snap, pred))
    response.headers["X-AR-Prediction-Source"] = _header_safe(predict_store.describe(bundle, day))
    return response


def export_detail(
    table: str, as_of: dt.date, period_days: int, filters: Filters, scope: Scope, rows: int
) -> str:
    """The audit detail of an export."""
    return json.dumps(
        {
            "table": table,
            "as_of": as_of.isoformat(),
            "period_days": period_days,
            "filters": filters_text(filters),
            "scope": scope.label,
            "rows": rows,
        }
    )


@bp.get("/export/<table>.csv")
def export_csv(table: str) -> Response:
    """One of the UI's tables as CSV (money as exact decimals), stamped and audited."""
    if table not in TABLES:
        return json_error(404, f"no exportable table {table!r}", tables=sorted(TABLES))
    if not can(current_user, "export"):
        return json_error(403, "your role may not export")
    as_of, period_days, filters = parse_table_args()
    scope = current_scope()
    frame = build_table(table, snapshot(), as_of, period_days, filters, scope)
    audit("export", export_detail(table, as_of, period_days, filters, scope, len(frame)))
    stamp = Stamp(
        title=f"{table} (period {period_days} days)",
        as_of=as_of,
        filters=filters_text(filters),
        scope=scope.label,
    )
    # "# stamp" line first
    return csv_response(csv_bytes(frame, stamp).decode("utf-8"), table, as_of, filters, scope)


def csv_response(text: str, table: str, as_of: dt.date, filters: Filters, scope: Scope) -> Response:
    """A CSV download with the stamp (filters, scope, as-of, generation time) in headers."""
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{table}-{as_of.isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-AR-As-Of"] = as_of.isoformat()
    response.headers["X-AR-Filters"] = _header_safe(filters_text(filters))
    response.headers["X-AR-Scope"] = _header_safe(scope.label)
    response.headers["X-AR-Generated-At"] = (
        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    )
    return response


def _header_safe(text: str) -> str:
    """Printable ASCII only (header values must not carry newlines or non-latin text)."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter) -> Response:
    """400 naming the parameter."""
    return json_error(400, str(error), parameter=error.name)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """HTTP errors of the API as JSON."""
    return json_error(error.code or 500, error.description or error.name)


@bp.errorhandler(Exception)
def internal_error(error: Exception) -> Response:
    """Never a traceback to the client: log it, answer 500 JSON."""
    log.exception("API error on %s", request.path, exc_info=error)
    return json_error(500, "internal error")


def init_api(server: Flask) -> None:
    """Register the API blueprint (once)."""
    if "api" not in server.blueprints:
        server.register_blueprint(bp)

    init_exports(server)  # /export/... (PNG, CSV, XLSX, PDF downloads)
