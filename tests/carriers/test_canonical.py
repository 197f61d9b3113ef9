"""The canonical JSON format (carriers.canonical)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carriers import canonical
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
