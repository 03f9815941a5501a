"""Global filters: URL query <-> validated values; bad values give a message and the default."""

from __future__ import annotations

import datetime as dt

from dashboard import params as gf
from dashboard.components.filters import control_value
from dashboard.metrics.filters import Filters

NOW = dt.date(2024, 6, 30)
OPTIONS = {
    "segment": [("Retail", "Retail"), ("Wholesale", "Wholesale")],
    "region": [("North", "North")],
    "tier": [],
    "sales_rep": [("R1", "Rita One")],
}


def test_good_query_round_trips():
    raw = gf.parse_query(
        "?as_of=2024-05-31&basis=transaction&segment=Retail&sales_rep=R1&terms_group=long&tab=x"
    )
    clean, messages = gf.validate(raw, OPTIONS, NOW)
    assert messages == []
    assert clean == {
        "as_of": "2024-05-31",
        "basis": "transaction",
        "segment": "Retail",
        "region": None,
        "tier": None,
        "sales_rep": "R1",
        "terms_group": "long",
    }
    query = gf.to_query(clean, {"tab": "x"}, NOW)
    assert (
        query
        == "?tab=x&as_of=2024-05-31&basis=transaction&segment=Retail&sales_rep=R1&terms_group=long"
    )
    assert gf.validate(gf.parse_query(query), OPTIONS, NOW)[0] == clean


def test_defaults_are_left_out_of_the_url():
    clean, _ = gf.validate({}, OPTIONS, NOW)
    assert clean["as_of"] == "2024-06-30" and clean["basis"] == "due"
    assert gf.to_query(clean, now=NOW) == ""


def test_bad_values_fall_back_with_a_message_each():
    raw = {
        "as_of": "2024-13-45",
        "basis": "sideways",
        "segment": "Nope",
        "terms_group": "medium",
        "sales_rep": "R9",
    }
    clean, messages = gf.validate(raw, OPTIONS, NOW)
    assert clean == gf.defaults(NOW)
    text = " ".join(messages)
    assert len(messages) == 5
    assert (
        "2024-13-45" in text
        and "sideways" in text
        and "Nope" in text
        and "medium" in text
        and "R9" in text
    )


def test_future_and_ancient_dates_are_refused():
    clean, messages = gf.validate({"as_of": "2024-07-01"}, OPTIONS, NOW)
    assert clean["as_of"] == "2024-06-30" and "future" in messages[0]
    clean, messages = gf.validate({"as_of": "0202-01-01"}, OPTIONS, NOW)
    assert clean["as_of"] == "2024-06-30" and messages


def test_the_all_choice_means_no_filter():
    clean, messages = gf.validate({"segment": gf.ALL_VALUE, "region": ""}, OPTIONS, NOW)
    assert clean["segment"] is None and clean["region"] is None and messages == []
    assert control_value("segment", clean) == gf.ALL_VALUE
    assert control_value("as_of", {"as_of": None}) == ""


def test_parse_never_raises_on_a_tampered_store():
    today = dt.date.today()
    for data in (
        None,
        "junk",
        {"as_of": 5},
        {"as_of": "9999-01-01", "basis": ["x"]},
        {"segment": {"$ne": 1}},
    ):
        as_of, basis, filters = gf.parse(data)
        assert as_of == today and basis == "due" and filters == Filters()
    as_of, basis, filters = gf.parse(
        {"as_of": "2024-05-31", "basis": "transaction", "segment": "Retail"}
    )
    assert (as_of, basis, filters) == (
        dt.date(2024, 5, 31),
        "transaction",
        Filters(segment="Retail"),
    )


def test_describe_lists_what_is_shown():
    text = gf.describe({"as_of": "2024-05-31", "basis": "transaction", "region": "North"})
    assert text == "as of 2024-05-31 · transaction aging · region North"
