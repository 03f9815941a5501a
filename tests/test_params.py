"""The request vocabulary (dashboard/params.py): strict parsing (400 naming the parameter), the
forgiving validation of the filter bar, and the descriptions of a set of filters."""

from __future__ import annotations

import datetime as dt

import pytest
from auth_helpers import AS_OF, make_world
from flask import Flask

from dashboard import params
from dashboard.metrics.filters import Filters

APP = Flask(__name__)


def parsed(query: str, allowed: frozenset[str] = params.BASE_PARAMS) -> params.Request:
    with APP.test_request_context(f"/x?{query}"):
        return params.parse_request(allowed)


def refused(query: str, allowed: frozenset[str] = params.BASE_PARAMS) -> str:
    """The name of the parameter a query is refused for."""
    with pytest.raises(params.BadParameter) as caught:
        parsed(query, allowed)
    return caught.value.name


# ---- strict parsing --------------------------------------------------------------------------------


def test_defaults_of_a_request():
    req = parsed("")
    assert req.as_of == dt.date.today()
    assert (req.basis, req.period_days, req.filters) == ("due", 90, Filters())


def test_a_full_request():
    req = parsed(
        "as_of=2024-03-31&basis=transaction&period_days=30&segment=Retail&region=North"
        "&tier=A&sales_rep=R1&terms_group=long"
    )
    assert req == params.Request(
        dt.date(2024, 3, 31),
        "transaction",
        30,
        Filters(segment="Retail", region="North", tier="A", sales_rep="R1", terms_group="long"),
    )


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("as_of=2024-3-1", "as_of"),
        ("as_of=2024-02-30", "as_of"),
        ("as_of=1899-12-31", "as_of"),
        ("basis=sideways", "basis"),
        ("period_days=0", "period_days"),
        ("period_days=36501", "period_days"),
        ("period_days=-5", "period_days"),
        ("period_days=９", "period_days"),  # a full-width digit is not ASCII
        ("terms_group=medium", "terms_group"),
        ("segment=" + "x" * 201, "segment"),
        ("region=North&region=South", "region"),
        ("colour=red", "colour"),
    ],
)
def test_every_refusal_names_the_parameter(query, name):
    assert refused(query) == name


def test_the_api_tables_take_no_basis():
    assert refused("basis=due", params.TABLE_PARAMS) == "basis"
    assert parsed("period_days=7", params.TABLE_PARAMS).period_days == 7


def test_limits_are_inclusive():
    assert parsed("period_days=36500").period_days == params.MAX_PERIOD_DAYS
    assert parsed("as_of=1900-01-01").as_of == params.MIN_DATE
    assert parsed("segment=" + "x" * 200).filters.segment == "x" * 200


def test_json_and_search_parameters():
    with APP.test_request_context('/x?source={"a":1}&sort=[1]&bad=nope&obj=[]'):
        assert params.json_param("source", dict, required=True) == {"a": 1}
        assert params.json_param("sort", list) == [1]
        assert params.json_param("filter", dict) == {}
        for name, kind, required in (("bad", dict, False), ("obj", dict, False), ("x", list, True)):
            with pytest.raises(params.BadParameter) as caught:
                params.json_param(name, kind, required)
            assert caught.value.name == name
    with APP.test_request_context("/x?search=" + "s" * 201):
        with pytest.raises(params.BadParameter) as caught:
            params.parse_search()
        assert caught.value.name == "search"


def test_chart_options():
    spec = {"by": ("segment", "region")}
    with APP.test_request_context("/x?by=region"):
        assert params.parse_options(spec) == (("by", "region"),)
    with APP.test_request_context("/x?by=planet"):
        with pytest.raises(params.BadParameter) as caught:
            params.parse_options(spec)
        assert caught.value.name == "by"


def test_a_bad_url_parameter_answers_400_naming_it(db_url):
    """Through the app: the API and the export routes answer 400 with the parameter's name."""
    world = make_world(db_url)
    client = world.login("controller")
    cases = [
        (f"/api/kpis?as_of={AS_OF}&period_days=zero", "period_days"),
        (f"/api/kpis?as_of={AS_OF}&basis=due", "basis"),
        (f"/api/predictions?as_of={AS_OF}&terms_group=medium", "terms_group"),
        (f"/export/table/open_invoices.csv?as_of={AS_OF}&basis=sideways", "basis"),
        (f"/export/receivables.pdf?as_of={AS_OF}&tier=A&tier=B", "tier"),
        ("/export/grid/drill.csv?source=[1]", "source"),
    ]
    for url, name in cases:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code, response.text[:200])
        assert response.get_json()["parameter"] == name, url


# ---- forgiving validation (the filter bar) ---------------------------------------------------------


def test_validate_shares_the_limits_of_the_strict_parser():
    now = dt.date(2024, 3, 1)
    clean, messages = params.validate({"segment": "x" * 300, "as_of": "1899-12-31"}, now=now)
    assert clean["segment"] == "x" * params.MAX_VALUE_LENGTH
    assert clean["as_of"] == "2024-03-01" and "outside 1900-01-01 to 2199-12-31" in messages[0]
    assert params.filters_of(clean) == Filters(segment="x" * 200)


def test_store_round_trip():
    now = dt.date(2024, 3, 1)
    clean, _ = params.validate(
        {"as_of": "2024-02-01", "tier": "A", "basis": "transaction"}, now=now
    )
    query = params.to_query(clean, now=now)
    assert query == "?as_of=2024-02-01&basis=transaction&tier=A"
    as_of, basis, filters = params.parse(params.store_data(clean, query))
    assert (as_of, basis, filters) == (dt.date(2024, 2, 1), "transaction", Filters(tier="A"))


# ---- descriptions ------------------------------------------------------------------------------------


def test_the_three_descriptions():
    data = {
        "as_of": "2024-05-31",
        "basis": "due",
        "segment": "Retail",
        "sales_rep": "R0004",
        "terms_group": "short",
    }
    options = {"sales_rep": [("R0004", "Ann Lee")]}
    assert params.describe(data, options) == (
        "as of 2024-05-31 · due date aging · segment Retail · sales rep Ann Lee (R0004) · "
        "terms short (< 30 days)"
    )
    filters = Filters(segment="Retail", terms_group="short")
    assert params.stamp_text("transaction", filters) == (
        "transaction aging · segment Retail · terms short"
    )
    assert params.stamp_text("due", Filters()) == "due-date aging"
    assert params.filters_text(filters) == "segment=Retail, terms_group=short"
    assert params.filters_text(Filters()) == "no filters"


def test_a_rep_without_a_name_reads_as_its_id():
    data = {"as_of": "2024-05-31", "sales_rep": "R9"}
    assert params.describe(data, {"sales_rep": [("R1", "Bo")]}) == (
        "as of 2024-05-31 · due date aging · sales rep R9"
    )


def test_grid_options_from_source_data_are_checked_by_kind():
    """A grid's source data (browser JSON) becomes a view's options as text, or is left out."""
    value = params.option_value
    assert value(("segment", "region"), "region") == "region"
    assert value(("segment", "region"), "tier") is None and value(("segment",), 3) is None
    assert value(params.DATE_OPTION, "2024-02-29") == "2024-02-29"
    assert value(params.DATE_OPTION, "2023-02-29") is None
    assert value(params.TEXT_OPTION, "R1") == "R1" and value(params.TEXT_OPTION, 5) is None
    assert value(params.NUMBER_OPTION, 30) == "30" and value(params.NUMBER_OPTION, "7.5") == "7.5"
    for bad in (True, "inf", "nan", "x", None, [1]):
        assert value(params.NUMBER_OPTION, bad) is None, bad
    assert value(params.BOOL_OPTION, True) == "true" and value(params.BOOL_OPTION, 0) == "false"
    assert value(params.LIST_OPTION, ["open", "paid"]) == '["open", "paid"]'
    assert value(params.LIST_OPTION, (30, 60)) == "[30, 60]"
    assert value(params.LIST_OPTION, "open") is None
    assert params.describe_request(dt.date(2024, 5, 31), "due", Filters(), basis_part=False) == (
        "as of 2024-05-31"
    )
