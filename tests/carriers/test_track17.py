"""The 17TRACK v2 webhook adapter and its signature check."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from carriers import BUILT_IN_FORMATS, adapter_for, track17
from carriers.track17 import verify_signature
from tests.carriers.samples import sample_bytes
from tracking.events import Location, ParseResult, PayloadError
from tracking.statuses import Status

SAMPLE = "17track_v2_webhook_TRACKING_UPDATED.json"
SECRET = "my-17track-api-key"


def parse(payload: bytes | dict[str, Any]) -> ParseResult:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return track17.parse(raw, "application/json", "ups")


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(sample_bytes(SAMPLE))
    return doc


def events_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = doc["data"]["track_info"]["tracking"]["providers"][0]["events"]
    return events


def sign(body: bytes, secret: str = SECRET) -> str:
    return hashlib.sha256(body + b"/" + secret.encode()).hexdigest()


def test_track17_is_a_built_in_format() -> None:
    assert BUILT_IN_FORMATS["track17"] == "track17"
    assert adapter_for("track17") is track17


def test_tracking_updated_sample_parses_every_event() -> None:
    result = parse(sample_bytes(SAMPLE))
    assert [
        (e.raw_code, e.status, e.substatus, e.occurred_at.isoformat(), e.occurred_at_utc, e.location)
        for e in result.events
    ] == [
        (
            "Delivered_Other",
            Status.DELIVERED,
            "other",
            "2022-04-04T16:35:22-07:00",
            datetime(2022, 4, 4, 23, 35, 22, tzinfo=UTC),
            Location(name="GASQUET", country="US"),
        ),
        (
            "OutForDelivery",
            Status.OUT_FOR_DELIVERY,
            "courier",
            "2022-04-04T08:46:06-07:00",
            datetime(2022, 4, 4, 15, 46, 6, tzinfo=UTC),
            Location(name="Crescent City", country="US"),
        ),
        (
            None,
            Status.IN_TRANSIT,
            "other",
            "2022-04-02T02:15:00-07:00",
            datetime(2022, 4, 2, 9, 15, tzinfo=UTC),
            Location(name="Anderson", country="US"),
        ),
        (
            None,
            Status.IN_TRANSIT,
            "other",
            "2022-03-31T16:36:47-07:00",
            datetime(2022, 3, 31, 23, 36, 47, tzinfo=UTC),
            Location(name="Ontario", country="US"),
        ),
        (
            "InfoReceived",
            Status.INFO_RECEIVED,
            "awaiting_pickup",
            "2022-03-28T22:43:08-07:00",
            datetime(2022, 3, 29, 5, 43, 8, tzinfo=UTC),
            Location(country="US"),
        ),
    ]
    assert result.indexes == [0, 1, 2, 3, 4] and result.errors == [] and result.unmapped == {}
    assert {e.tracking_number for e in result.events} == {"1Z2617V10397725789"}
    assert result.events[0].description == "DELIVERED" and result.events[0].linked_numbers == ()


def test_tracking_stopped_is_acknowledged_without_events() -> None:
    result = parse({"event": "TRACKING_STOPPED", "data": {"number": "RR123456785CN"}})
    assert result.events == [] and result.errors == [] and result.ignored == 1


def test_an_update_with_no_scans_yet_is_acknowledged_as_ignored() -> None:
    doc = sample()
    for provider in doc["data"]["track_info"]["tracking"]["providers"]:
        provider["events"] = []
    result = parse(doc)
    assert result.events == [] and result.errors == [] and result.ignored == 1
    [notice] = result.notices
    assert (notice.index, notice.tracking_number, notice.code) == (0, doc["data"]["number"], "no_scans")


def test_an_update_17track_found_nothing_for_names_its_not_found_sub_status() -> None:
    doc = sample()
    for provider in doc["data"]["track_info"]["tracking"]["providers"]:
        provider["events"] = []
    doc["data"]["track_info"]["latest_status"] = {"status": "NotFound", "sub_status": "NotFound_Other"}
    [notice] = parse(doc).notices
    assert notice.code == "NotFound_Other" and notice.reason


def test_unknown_webhook_event_type_is_acknowledged() -> None:
    assert parse({"event": "SOMETHING_NEW", "data": None}).ignored == 1


def test_event_sub_status_wins_over_stage() -> None:
    doc = sample()
    events_of(doc)[2]["sub_status"] = "InTransit_CustomsProcessing"
    events_of(doc)[2]["stage"] = "Delivered"
    event = parse(doc).events[2]
    assert (event.status, event.substatus, event.raw_code) == (
        Status.IN_TRANSIT,
        "customs_processing",
        "InTransit_CustomsProcessing",
    )


def test_unknown_sub_status_falls_back_to_its_main_status_and_is_counted() -> None:
    doc = sample()
    events_of(doc)[3]["sub_status"] = "Exception_Kidnapped"
    result = parse(doc)
    assert (result.events[3].status, result.events[3].substatus) == (Status.EXCEPTION, "other")
    assert result.unmapped == {"Exception_Kidnapped": 1}


def test_last_mile_local_number_is_linked_on_every_event() -> None:
    doc = sample()
    doc["data"]["track_info"]["misc_info"]["local_number"] = "RR123456785RU"
    assert {e.linked_numbers for e in parse(doc).events} == {("RR123456785RU",)}


def test_events_of_every_provider_are_numbered_across_providers() -> None:
    doc = sample()
    providers = doc["data"]["track_info"]["tracking"]["providers"]
    second = copy.deepcopy(providers[0])
    second["events"] = second["events"][:2]
    providers.append(second)
    assert parse(doc).indexes == list(range(7))


def test_time_utc_is_used_when_time_iso_is_missing_or_broken() -> None:
    doc = sample()
    events_of(doc)[1]["time_iso"] = None
    events_of(doc)[2]["time_iso"] = "yesterday"
    result = parse(doc)
    assert result.events[1].occurred_at.isoformat() == "2022-04-04T15:46:06+00:00"
    assert result.events[2].occurred_at_utc == datetime(2022, 4, 2, 9, 15, tzinfo=UTC)


def test_event_without_time_is_rejected_alone() -> None:
    doc = sample()
    events_of(doc)[1].update(time_iso=None, time_utc=None)
    result = parse(doc)
    assert len(result.events) == 4 and [(e.index, e.field) for e in result.errors] == [(1, "time_iso")]


def test_coordinates_given_as_text_become_latitude_and_longitude() -> None:
    doc = sample()
    events_of(doc)[0]["address"]["coordinates"] = {"latitude": "41.85", "longitude": "-123.97"}
    location = parse(doc).events[0].location
    assert (location.lat, location.lon) == (41.85, -123.97)


def test_webhook_without_a_usable_number_is_a_payload_error() -> None:
    doc = sample()
    doc["data"]["number"] = "??"
    with pytest.raises(PayloadError):
        parse(doc)


@pytest.mark.parametrize("body", [b"", b"[]", b'{"data": {}}', b'{"event": "TRACKING_UPDATED"}'])
def test_unreadable_webhook_raises_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(body)


def test_signature_over_the_raw_body_and_key_is_accepted() -> None:
    body = sample_bytes(SAMPLE)
    assert verify_signature(body, sign(body), SECRET)
    assert verify_signature(body, sign(body).upper(), SECRET)


def test_signature_matches_a_known_vector() -> None:
    # sha256("{}/key") computed independently of the adapter.
    assert verify_signature(b"{}", hashlib.sha256(b"{}/key").hexdigest(), "key")
    assert not verify_signature(b"{}", hashlib.sha256(b"{}key").hexdigest(), "key")


def test_signature_of_a_tampered_body_is_refused() -> None:
    body = sample_bytes(SAMPLE)
    assert not verify_signature(body.replace(b"DELIVERED", b"LOST"), sign(body), SECRET)


def test_signature_with_another_key_is_refused() -> None:
    body = sample_bytes(SAMPLE)
    assert not verify_signature(body, sign(body, "other-key"), SECRET)


@pytest.mark.parametrize(("header", "secret"), [(None, SECRET), ("", SECRET), ("abc", None), ("abc", "")])
def test_signature_check_fails_closed_without_header_or_secret(
    header: str | None, secret: str | None
) -> None:
    body = b"{}"
    assert not verify_signature(body, header if header != "abc" else sign(body), secret)
