"""Drive the shared data grid's callbacks like the browser does (dashboard.components.grid).

Every grid is server-side (AG Grid's infinite row model, the grids with row checkboxes too): it gets its
columns from `fill_grid` and its rows a block at a time from `get_rows` (getRowsRequest -> one answer
holding the block, caption, matched line and pinned totals, which a clientside callback hands to the grid
while it still asks the same).
"""

from __future__ import annotations

import json

from dashboard.components.grid import BLOCK_ROWS


def find(app, part: str) -> str:
    """The callback_map key of the callback whose outputs contain `part`."""
    return next(key for key in app.callback_map if part in key)


def outputs_for(key: str, name: str) -> list[dict]:
    """The outputs of a pattern-matching callback key for grid `name` (allow_duplicate suffixes kept)."""
    out = []
    for piece in key.strip(".").split("..."):
        ident, prop = piece.rsplit(".", 1)
        spec = json.loads(ident)
        out.append({"id": {**spec, "grid": name}, "property": prop})
    return out


def _post(
    client, key: str, outputs: list[dict] | dict, inputs: list[dict], state: list[dict]
) -> dict:
    changed = inputs[0]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [
            json.dumps(changed["id"], separators=(",", ":"), sort_keys=True)
            + "."
            + changed["property"]
        ],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.text
    return (response.get_json() or {}).get("response", {}) if response.status_code == 200 else {}


def fill(app, client, name: str, data) -> dict:
    """The fill callback's reply (columnDefs, dashGridOptions: never rows)."""
    key = find(app, '"ar-grid"}.columnDefs')
    reply = _post(
        client,
        key,
        outputs_for(key, name),
        [
            {"id": {"type": "ar-grid-source", "grid": name}, "property": "data", "value": data},
            {"id": "data-version", "property": "data", "value": {"version": 1}},
        ],
        [{"id": {"type": "ar-grid", "grid": name}, "property": "dashGridOptions", "value": {}}],
    )
    return next(iter(reply.values())) if reply else {}


def get_rows(
    app,
    client,
    name: str,
    data,
    start: int = 0,
    end: int = BLOCK_ROWS,
    sort=None,
    filters=None,
    search: str | None = None,
) -> dict:
    """One getRowsRequest: {"rows", "count", "caption", "matched", "totals", "answer"}; what the browser
    hands the grid (the answer echoes the question it answers)."""
    key = find(app, '"ar-grid-block"}.data')
    request = {
        "startRow": start,
        "endRow": end,
        "sortModel": sort or [],
        "filterModel": filters or {},
    }
    output = {"id": {"type": "ar-grid-block", "grid": name}, "property": "data"}
    reply = _post(
        client,
        key,
        output,
        [{"id": {"type": "ar-grid", "grid": name}, "property": "getRowsRequest", "value": request}],
        [
            {"id": {"type": "ar-grid-source", "grid": name}, "property": "data", "value": data},
            {"id": {"type": "ar-grid-search", "grid": name}, "property": "value", "value": search},
        ],
    )
    answer = next(iter(reply.values()))["data"]
    assert (
        answer["asked"] == request
        and answer["source"] == data
        and answer["search"] == (search or "")
    )
    response = answer["response"]
    return {
        "rows": response["rowData"],
        "count": response["rowCount"],
        "caption": answer["caption"],
        "matched": answer["matched"],
        "totals": answer["totals"],
        "answer": answer,
    }


def all_rows(app, client, name: str, data, block: int = BLOCK_ROWS, **query) -> dict:
    """Every row of a server-side grid, paged a block at a time as the browser scrolls; the last block's
    caption, matched line and totals, and how many requests it took."""
    rows: list[dict] = []
    start, requests = 0, 0
    while True:
        part = get_rows(app, client, name, data, start, start + block, **query)
        requests += 1
        rows += part["rows"]
        start += block
        if start >= part["count"]:
            return {**part, "rows": rows, "requests": requests}


def fill_grid(app, client, name: str, data) -> dict:
    """{"columns", "rows", "totals", "caption"} of a grid: its columns, then every row paged from the server."""
    reply = fill(app, client, name, data)
    served = all_rows(app, client, name, data)
    return {
        "columns": reply.get("columnDefs", []),
        "rows": served["rows"],
        "totals": served["totals"],
        "caption": served["caption"],
    }


def export(client, name: str, fmt: str, data, **params):
    """GET /export/grid/<name>.<fmt> with the grid's source data (and sort/filter/search as JSON or text)."""
    query = {"source": json.dumps(data)}
    for key, value in params.items():
        query[key] = value if isinstance(value, str) else json.dumps(value)
    return client.get(f"/export/grid/{name}.{fmt}", query_string=query)
