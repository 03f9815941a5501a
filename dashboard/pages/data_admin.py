"""Data import (admin only): upload CSV/XLSX files, dry-run or import them as a background job."""

from __future__ import annotations

import base64
import binascii
import re

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import jobs
from dashboard.auth.roles import page_allowed
from dashboard.components import identity
from dashboard.config import get_settings

PATH = "/admin/data"
dash.register_page(
    __name__, path=PATH, name="Data import", title="Data import", nav_order=100, nav_group="Admin"
)

MAX_ERRORS_SHOWN = 200
POLL_MS = 1000
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}\.(csv|xlsx)$", re.IGNORECASE)
NOT_ALLOWED = "Only administrators can import data."
MISMATCHED = (
    "The upload was incomplete (file names and contents do not match); choose the files again."
)


def max_file_bytes() -> int:
    """The largest file the page accepts: base64 inflates by 4/3 and must fit AR_MAX_UPLOAD_BYTES."""
    return get_settings().max_upload_bytes * 3 // 4 - 64 * 1024  # bigger imports: the CLI


def layout(**_query) -> html.Div:
    """The page skeleton (no data; the callbacks below fill it)."""
    upload = dcc.Upload(
        id="da-upload",
        children=html.Div(["Drop CSV or XLSX files here, or ", html.A("choose files", href="#")]),
        multiple=True,
        accept=".csv,.xlsx",
        max_size=max_file_bytes(),
        className="ar-upload border border-2 rounded p-4 text-center text-muted bg-white",
        style={"borderStyle": "dashed", "cursor": "pointer"},
    )
    actions = html.Div(
        [
            dbc.Button("Dry run", id="da-dry-run", color="secondary", outline=True, disabled=True),
            dbc.Button("Import", id="da-import", color="primary", disabled=True),
            dbc.Button(
                "Cancel",
                id="da-cancel",
                color="danger",
                outline=True,
                disabled=True,
                title="Stop the running job; an import is one transaction, so nothing is written",
            ),
            html.Span(
                "A dry run checks every row and writes nothing. An import is all or nothing.",
                className="text-muted small",
            ),
        ],
        className="d-flex align-items-center gap-2 my-3",
    )
    job = dbc.Card(
        dbc.CardBody(
            [
                dbc.Progress(
                    id="da-progress",
                    value=0,
                    label="",
                    striped=True,
                    className="mb-2",
                    style={"height": "1.5rem"},
                ),
                html.Div(id="da-status", className="small mb-2"),
                html.Div(id="da-errors"),
            ]
        ),
        className="ar-card",
    )
    return html.Div(
        [
            html.H1("Data import", className="h4 mb-2"),
            html.P(
                [
                    "Canonical files of the data contract (customers, sales_reps, invoices, payments, "
                    "allocations, write_offs, promises, disputes, commissions, activities; ",
                    html.Code(".csv"),
                    " or ",
                    html.Code(".xlsx"),
                    "). Errors are listed as ",
                    html.Code("file:row:column: reason"),
                    ".",
                ],
                className="text-muted small",
            ),
            upload,
            html.Div(id="da-files", className="mt-2 small"),
            actions,
            job,
            dcc.Store(id="da-token"),
            dcc.Store(id="da-job"),
            dcc.Interval(id="da-poll", interval=POLL_MS, disabled=True),
        ]
    )


def is_admin() -> bool:
    """True when the logged-in user (from the server session) may open this page."""
    role = identity.role()
    return role is not None and page_allowed(role, PATH)


def refused() -> dbc.Alert:
    """The message a non-admin gets from every callback of this page."""
    return dbc.Alert(NOT_ALLOWED, color="danger", className="py-2 small")


def _decode(content: str) -> bytes:
    """The bytes of a dcc.Upload data URL."""
    if not isinstance(content, str):
        raise ValueError("not a data URL")
    _, _, data = content.partition(",")
    return base64.b64decode(data, validate=True)


def save_files(contents: list[str], names: list[str]) -> tuple[str | None, list[str], list[str]]:
    """Write the uploaded files to a new upload directory: (token, saved names, problems)."""
    problems: list[str] = []
    files: dict[str, bytes] = {}
    for content, name in zip(contents, names, strict=True):
        if not isinstance(name, str) or not SAFE_NAME.match(name) or name.startswith("."):
            problems.append(f"{name}: not a .csv or .xlsx file name")
            continue
        try:
            data = _decode(content)
        except (binascii.Error, ValueError):
            problems.append(f"{name}: could not be read")
            continue
        key = name.lower()
        if any(existing.lower() == key for existing in files):
            problems.append(f"{name}: uploaded twice")
            continue
        files[name] = data
    if not files:
        return None, [], problems
    token, directory = jobs.new_upload_dir()
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return token, sorted(files), problems


def _file_list(names: list[str], problems: list[str]) -> list:
    out: list = []
    if names:
        out = [
            html.Div("Ready to check or import:", className="fw-semibold"),
            html.Ul([html.Li(name) for name in names], className="mb-1"),
        ]
    if problems:
        out.append(
            dbc.Alert([html.Div(p) for p in problems], color="warning", className="py-2 small mb-0")
        )
    return out


def upload_lists(contents, filenames) -> tuple[list | None, list]:
    """(contents, filenames) as two lists of the same length, or (None, []) when the browser sent otherwise."""
    if isinstance(contents, str):
        contents, filenames = [contents], [filenames]
    if (
        not isinstance(contents, list)
        or not isinstance(filenames, list)
        or len(contents) != len(filenames)
    ):
        return None, []
    return contents, filenames


@callback(
    Output("da-token", "data"),
    Output("da-files", "children"),
    Output("da-dry-run", "disabled"),
    Output("da-import", "disabled"),
    Input("da-upload", "contents"),
    State("da-upload", "filename"),
    prevent_initial_call=True,
)
def upload(contents, filenames):
    """Save the uploaded files on the server; only an upload token goes back to the browser."""
    if not is_admin():
        return None, refused(), True, True
    if not contents:
        raise PreventUpdate
    contents, filenames = upload_lists(contents, filenames)
    if contents is None:
        return None, _file_list([], [MISMATCHED]), True, True
    token, names, problems = save_files(contents, filenames)
    return token, _file_list(names, problems), token is None, token is None


@callback(
    Output("da-job", "data"),
    Output("da-poll", "disabled"),
    Output("da-status", "children"),
    Output("da-errors", "children"),
    Output("da-cancel", "disabled"),
    Input("da-dry-run", "n_clicks"),
    Input("da-import", "n_clicks"),
    State("da-token", "data"),
    prevent_initial_call=True,
)
def start(_dry, _import, token):
    """Queue a dry run or an import of the uploaded files as a background job."""
    if not is_admin():
        return None, True, refused(), None, True
    directory = jobs.upload_dir(token)
    if directory is None:
        return (
            None,
            True,
            dbc.Alert(
                "Upload the files again (the upload expired).",
                color="warning",
                className="py-2 small",
            ),
            None,
            True,
        )
    dry_run = ctx.triggered_id == "da-dry-run"
    try:
        job_id = jobs.submit_import(
            directory, dry_run=dry_run, owner=identity.username(), cleanup=not dry_run
        )
    except jobs.QueueRequired as exc:
        return None, True, dbc.Alert(str(exc), color="danger", className="py-2 small"), None, True
    except Exception as exc:  # noqa: BLE001 - Redis down: say so instead of a silent failure
        return (
            None,
            True,
            dbc.Alert(
                f"The job queue is unavailable ({type(exc).__name__}); try again.",
                color="danger",
                className="py-2 small",
            ),
            None,
            True,
        )
    return job_id, False, "Queued…", None, False


@callback(
    Output("da-status", "children", allow_duplicate=True),
    Input("da-cancel", "n_clicks"),
    State("da-job", "data"),
    prevent_initial_call=True,
)
def cancel(_n, job_id):
    """Cancel the queued or running job (the poll then shows it as cancelled)."""
    if not is_admin():
        return refused()
    job = jobs.get_job(job_id)
    if job is None or job["state"] in jobs.FINISHED or not jobs.cancel(job_id):
        raise PreventUpdate
    return "Cancelling…"


def _errors(job: dict) -> list:
    errors = job.get("errors") or []
    if not errors:
        return []
    shown = errors[:MAX_ERRORS_SHOWN]
    more = int(job.get("error_count") or len(errors)) - len(shown)
    lines = "\n".join(shown) + (f"\n… and {more:,} more" if more > 0 else "")
    return [
        html.Div("Errors (file:row:column: reason)", className="fw-semibold small"),
        html.Pre(
            lines,
            id="da-error-list",
            className="small bg-light border rounded p-2 mb-0",
            style={"maxHeight": "24rem", "overflow": "auto"},
        ),
    ]


def _warnings(job: dict) -> list:
    warnings = job.get("warnings") or []
    if not warnings:
        return []
    return [
        dbc.Alert(
            [html.Div(w) for w in warnings[:MAX_ERRORS_SHOWN]],
            color="secondary",
            className="py-2 small mt-2 mb-0",
        )
    ]


@callback(
    Output("da-progress", "value"),
    Output("da-progress", "label"),
    Output("da-progress", "color"),
    Output("da-progress", "animated"),
    Output("da-status", "children", allow_duplicate=True),
    Output("da-errors", "children", allow_duplicate=True),
    Output("da-cancel", "disabled", allow_duplicate=True),
    Output("da-poll", "disabled", allow_duplicate=True),
    Input("da-poll", "n_intervals"),
    State("da-job", "data"),
    prevent_initial_call=True,
)
def poll(_n, job_id):
    """Show the job's progress; stop polling once it is done or failed."""
    if not is_admin():
        return 0, "", "danger", False, refused(), None, True, True
    job = jobs.get_job(job_id)
    if job is None:
        return (
            0,
            "",
            "secondary",
            False,
            "Job not found (the server restarted?); run it again.",
            None,
            True,
            True,
        )
    progress = int(job.get("progress") or 0)
    state = job["state"]
    if state == jobs.DONE:
        return (
            100,
            "100 %",
            "success",
            False,
            dbc.Alert(job["message"], color="success", className="py-2 small"),
            _warnings(job),
            True,
            True,
        )
    if state == jobs.FAILED:
        return (
            progress,
            f"{progress} %",
            "danger",
            False,
            dbc.Alert(job["message"], color="danger", className="py-2 small"),
            _errors(job) + _warnings(job),
            True,
            True,
        )
    if state == jobs.CANCELLED:
        return (
            progress,
            f"{progress} %",
            "secondary",
            False,
            dbc.Alert(job["message"], color="secondary", className="py-2 small"),
            None,
            True,
            True,
        )
    return (
        progress,
        f"{progress} %",
        "primary",
        True,
        f"{state}: {job.get('message') or ''}",
        no_update,
        False,
        False,
    )
