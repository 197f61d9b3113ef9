"""The canonical JSON format (carriers.canonical)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carriers import canonical
from carriers.codetables import country_code, iso_countries
from tracking.events import PayloadError
from tracking.statuses import Status

GOOD = {
    "tracking_number": "rx 747628194 cn",
    "status": "in_transit",
    "substatus": "departed",
    "occurred_at": "2026-11-20T08:31:00+08:00",
    "location": {"name": "Shenzhen", "country": "cn"},
    "description": "Departed from sorting centre",
    "raw_code": "SC_OUTBOUND_SUCCESS",
}


def parse(doc: object):
    return canonical.parse(orjson.dumps(doc), "application/json", "acme_post")


def test_contract_example_parses_with_offset_and_normalised_number():
    result = parse({"events": [GOOD]})
    [event] = result.events
    assert event.tracking_number == "RX747628194CN"
    assert event.status is Status.IN_TRANSIT and event.substatus == "departed"
    assert event.occurred_at_utc == datetime(2026, 11, 20, 0, 31, tzinfo=UTC)
    assert event.utc_offset_minutes == 480
    assert event.location.country == "CN"


def test_bare_list_is_accepted():
    assert len(parse([GOOD, GOOD]).events) == 2


def test_status_with_prefixed_substatus_is_accepted():
    assert parse([{**GOOD, "substatus": "in_transit/departed"}]).events[0].substatus == "departed"


def test_missing_substatus_defaults_to_other():
    assert parse([{k: v for k, v in GOOD.items() if k != "substatus"}]).events[0].substatus == "other"


@pytest.mark.parametrize("body", [b"", b"{", b"[1", b"\xff\xfe", b'"text"', b'{"events": 3}'])
def test_unreadable_payload_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        canonical.parse(body, "application/json", "acme_post")


def test_each_bad_item_gets_its_own_error_and_good_ones_survive():
    result = parse([GOOD, {**GOOD, "status": "x"}, 5, {**GOOD, "occurred_at": "2026-13-01T00:00:00Z"}])
    assert [e.index for e in result.errors] == [1, 2, 3]
    assert result.indexes == [0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from([*sorted(GOOD), "linked_numbers", "extra"]), json_values))
def test_mutated_items_never_raise_anything_but_item_errors(mutation):
    result = parse([{**GOOD, **mutation}])
    assert len(result.events) + len(result.errors) == 1
    for event in result.events:
        assert event.occurred_at.tzinfo is not None


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=len(orjson.dumps({"events": [GOOD, GOOD]}))))
def test_truncated_payloads_are_rejected_cleanly(cut):
    body = orjson.dumps({"events": [GOOD, GOOD]})[:cut]
    try:
        result = canonical.parse(body, "application/json", "acme_post")
    except PayloadError:
        return
    assert len(result.events) + len(result.errors) <= 2


ISO_COUNTRIES = set(iso_countries())


def test_the_country_list_is_iso_3166_1_alpha_2():
    assert len(ISO_COUNTRIES) == 249
    assert {"CN", "RU", "KZ", "HK", "US"} <= ISO_COUNTRIES
    assert not {"XX", "XK", "EU", "UK", "ZZ", "AC"} & ISO_COUNTRIES


@pytest.mark.parametrize("country", ["XX", "xk", "EU", "C1", "CHN", "", 7])
def test_a_country_not_in_iso_3166_is_an_item_error_on_location_country(country):
    result = parse([{**GOOD, "location": {"name": "Shenzhen", "country": country}}])
    assert result.events == []
    assert [(e.index, e.field) for e in result.errors] == [(0, "location.country")]


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=3) | st.sampled_from(sorted(ISO_COUNTRIES)))
def test_a_country_is_accepted_exactly_when_it_is_an_iso_code_and_stored_upper_case(country):
    result = parse([{**GOOD, "location": {"name": "Shenzhen", "country": country}}])
    if len(country) == 2 and country.upper() in ISO_COUNTRIES:
        assert result.events[0].location.country in ISO_COUNTRIES
    else:
        assert [e.field for e in result.errors] == ["location.country"]


def test_a_location_of_unknown_keys_only_is_an_item_error():
    result = parse([{**GOOD, "location": {"city": "Shenzhen", "iso": "CN"}}])
    assert [(e.index, e.field) for e in result.errors] == [(0, "location")]
    assert "city" in result.errors[0].error


def test_a_location_with_a_known_key_keeps_it_and_an_empty_one_means_none():
    [event] = parse([{**GOOD, "location": {"name": "Shenzhen", "floor": 3}}]).events
    assert event.location.name == "Shenzhen"
    [event] = parse([{**GOOD, "location": {}}]).events
    assert event.location.is_empty()


def test_how_old_an_event_may_be_is_left_to_ingestion():
    # The adapter reads the time; tracking.plausibility judges it, for every format alike.
    [event] = parse([{**GOOD, "occurred_at": "2000-01-01T00:00:00Z"}]).events
    assert event.occurred_at_utc.year == 2000


def test_native_adapters_drop_a_country_that_is_not_iso():
    assert country_code("XX") is None and country_code("Russia") == "RU" and country_code("kz") == "KZ"
