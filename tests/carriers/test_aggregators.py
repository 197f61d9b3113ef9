"""AfterShip, EasyPost, SF Express and Yanwen adapters, checked event by event against the samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from carriers import ADAPTERS, aftership, easypost, sf_express, yanwen
from tests.carriers.samples import sample_bytes
from tracking.events import ParseResult, PayloadError
from tracking.statuses import Status


def parse(adapter: Any, payload: bytes | dict[str, Any]) -> ParseResult:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    result: ParseResult = adapter.parse(raw, "application/json", "test")
    return result


def rows(result: ParseResult) -> list[tuple[Any, ...]]:
    return [
        (
            e.raw_code,
            e.status.value,
            e.substatus,
            e.occurred_at.isoformat(),
            e.location.name,
            e.location.country,
            e.location.postcode,
        )
        for e in result.events
    ]


def test_aggregator_formats_are_registered() -> None:
    for module in (aftership, easypost, sf_express, yanwen):
        assert ADAPTERS[module.name] is module


# --- AfterShip -------------------------------------------------------------------------------------

AFTERSHIP_GET = [
    ("InfoReceived_001", "info_received", "awaiting_pickup", "2018-07-23T01:21:39-05:00", None, None, None),
    ("InTransit_002", "in_transit", "picked_up", "2018-07-23T16:58:00+08:00", "DONGGUAN CN", "CN", None),
    ("InTransit_007", "in_transit", "departed", "2018-07-23T20:45:00+08:00", "DONGGUAN CN", "CN", None),
    ("InTransit_001", "in_transit", "other", "2018-07-23T23:13:00+08:00", "GUANGZHOU CN", "CN", None),
    ("InTransit_003", "in_transit", "arrived", "2018-07-23T23:14:00+08:00", "GUANGZHOU CN", "CN", None),
    ("InTransit_007", "in_transit", "departed", "2018-07-23T23:14:00+08:00", "GUANGZHOU CN", "CN", None),
    ("InTransit_007", "in_transit", "departed", "2018-07-24T03:26:00+08:00", "GUANGZHOU CN", "CN", None),
    ("InTransit_001", "in_transit", "other", "2018-07-24T04:01:00+08:00", "GUANGZHOU CN", "CN", None),
    ("InTransit_001", "in_transit", "other", "2018-07-24T04:03:00+08:00", "GUANGZHOU CN", "CN", None),
    (
        "InTransit_004",
        "in_transit",
        "arrived_destination_country",
        "2018-07-24T08:27:00+09:00",
        "NARITA-SHI JP",
        "JP",
        None,
    ),
    ("InTransit_001", "in_transit", "other", "2018-07-24T09:35:00+09:00", "NARITA-SHI JP", "JP", None),
    ("InTransit_007", "in_transit", "departed", "2018-07-24T11:12:00+09:00", "NARITA-SHI JP", "JP", None),
    (
        "OutForDelivery_001",
        "out_for_delivery",
        "courier",
        "2018-07-24T13:02:00+09:00",
        "NARITA-SHI JP",
        "JP",
        None,
    ),
    ("Delivered_001", "delivered", "other", "2018-07-25T10:10:00+09:00", "SAPPORO JP", "JP", None),
]


def test_aftership_get_tracking_parses_every_checkpoint() -> None:
    result = parse(aftership, sample_bytes("aftership_get_tracking_result.json"))
    assert rows(result) == AFTERSHIP_GET
    assert result.indexes == list(range(14)) and result.errors == [] and result.unmapped == {}
    assert {e.tracking_number for e in result.events} == {"111111111111"}
    assert result.events[1].description == "Picked up"


def test_aftership_next_courier_number_is_linked_on_every_event() -> None:
    result = parse(aftership, sample_bytes("aftership_get_tracking_result.json"))
    assert {e.linked_numbers for e in result.events} == {("61293150000079650811",)}


def test_aftership_webhook_checkpoint_without_offset_is_read_as_utc() -> None:
    result = parse(aftership, sample_bytes("aftership_webhook_tracking_update.json"))
    assert rows(result) == [
        ("InTransit_001", "in_transit", "other", "2021-01-14T00:52:00+00:00", None, None, None)
    ]
    assert result.events[0].tracking_number == "0000000000000000"
    assert result.events[0].description == "Departed Shipping Partner Facility, USPS Awaiting Item"


def test_aftership_checkpoint_without_offset_uses_its_country_offset() -> None:
    doc = orjson.loads(sample_bytes("aftership_webhook_tracking_update.json"))
    doc["msg"]["checkpoints"][0]["country_iso3"] = "CHN"
    event = parse(aftership, doc).events[0]
    assert event.occurred_at_utc == datetime(2021, 1, 13, 16, 52, tzinfo=UTC)


def test_aftership_edd_revise_webhook_is_acknowledged_and_ignored() -> None:
    result = parse(aftership, sample_bytes("aftership_webhook_edd_revise.json"))
    assert result.events == [] and result.errors == [] and result.ignored == 1


@pytest.mark.parametrize(
    "name", ["aftership_edd_batch_predict_request.json", "aftership_edd_batch_predict_result.json"]
)
def test_aftership_edd_prediction_payloads_are_not_tracking_feeds(name: str) -> None:
    with pytest.raises(PayloadError, match="not tracking feeds"):
        parse(aftership, sample_bytes(name))


def test_aftership_unknown_subtag_falls_back_to_its_tag_and_is_counted() -> None:
    doc = orjson.loads(sample_bytes("aftership_webhook_tracking_update.json"))
    doc["msg"]["checkpoints"][0].update(tag="Exception", subtag="Exception_099")
    result = parse(aftership, doc)
    assert (result.events[0].status, result.events[0].substatus) == (Status.EXCEPTION, "other")
    assert result.unmapped == {"Exception_099": 1}


def test_aftership_checkpoint_without_time_is_rejected_alone() -> None:
    doc = orjson.loads(sample_bytes("aftership_get_tracking_result.json"))
    del doc["data"]["tracking"]["checkpoints"][3]["checkpoint_time"]
    result = parse(aftership, doc)
    assert len(result.events) == 13 and [(e.index, e.field) for e in result.errors] == [
        (3, "checkpoint_time")
    ]


# --- EasyPost --------------------------------------------------------------------------------------

EASYPOST_UPDATED = [
    (
        "pre_transit/label_created",
        "info_received",
        "label_created",
        "2024-07-31T15:00:00+00:00",
        None,
        "US",
        "32837",
    ),
    (
        "in_transit/arrived_at_facility",
        "in_transit",
        "arrived",
        "2024-07-31T19:27:00+00:00",
        "ORLANDO",
        "US",
        "32809",
    ),
    (
        "in_transit/arrived_at_facility",
        "in_transit",
        "arrived",
        "2024-07-31T22:35:00+00:00",
        "ORLANDO",
        "US",
        "32809",
    ),
    (
        "in_transit/departed_facility",
        "in_transit",
        "departed",
        "2024-08-01T14:42:13+00:00",
        "ORLANDO",
        "US",
        "32809",
    ),
    ("in_transit/unknown", "in_transit", "other", "2024-08-02T02:46:19+00:00", "KENLY", "US", "27542"),
    ("in_transit/unknown", "in_transit", "other", "2024-08-02T18:35:20+00:00", "EDISON TWP", "US", "08817"),
    (
        "in_transit/arrived_at_facility",
        "in_transit",
        "arrived",
        "2024-08-02T18:50:00+00:00",
        "EDISON",
        "US",
        "08817",
    ),
]


def easypost_event(tracking_code: str = "EZ4000000004") -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(sample_bytes("easypost_event_tracker_updated.json"))
    doc["result"]["tracking_code"] = tracking_code
    return doc


def test_easypost_tracker_updated_event_parses_every_detail() -> None:
    # The official fixture's tracking_code is the placeholder "1"; only that field is replaced.
    result = parse(easypost, easypost_event())
    assert rows(result) == EASYPOST_UPDATED
    assert result.indexes == list(range(7)) and result.errors == [] and result.unmapped == {}
    assert result.events[1].description == "Picked up"


def test_easypost_fixture_with_placeholder_tracking_code_is_refused() -> None:
    for name in ("easypost_event_tracker_updated.json", "easypost_event_tracker_updated.raw.json"):
        with pytest.raises(PayloadError, match="tracking_code"):
            parse(easypost, sample_bytes(name))


def test_easypost_tracker_create_response_parses_both_details() -> None:
    result = parse(easypost, sample_bytes("easypost_tracker_create_response.json"))
    assert rows(result) == [
        (
            "pre_transit/status_update",
            "info_received",
            "other",
            "2025-02-06T19:48:26+00:00",
            None,
            None,
            None,
        ),
        (
            "pre_transit/status_update",
            "info_received",
            "other",
            "2025-02-07T08:25:26+00:00",
            "HOUSTON",
            None,
            "77063",
        ),
    ]
    assert {e.tracking_number for e in result.events} == {"EZ1000000001"}
    assert result.events[1].description == "Shipping Label Created"


def test_easypost_loss_overrides_the_in_transit_status() -> None:
    doc = easypost_event()
    doc["result"]["tracking_details"][4]["status_detail"] = "lost"
    event = parse(easypost, doc).events[4]
    assert (event.status, event.substatus) == (Status.EXCEPTION, "lost")


def test_easypost_unknown_status_detail_keeps_the_main_status_and_is_counted() -> None:
    doc = easypost_event()
    doc["result"]["tracking_details"][0]["status_detail"] = "teleported"
    result = parse(easypost, doc)
    assert (result.events[0].status, result.events[0].substatus) == (Status.INFO_RECEIVED, "other")
    assert result.unmapped == {"pre_transit/teleported": 1}


def test_easypost_alternate_identifier_is_linked() -> None:
    doc = easypost_event()
    doc["result"]["carrier_detail"]["alternate_identifier"] = "RR123456785US"
    assert {e.linked_numbers for e in parse(easypost, doc).events} == {("RR123456785US",)}


def test_easypost_event_about_something_else_is_acknowledged() -> None:
    doc = easypost_event()
    doc["description"] = "batch.created"
    assert parse(easypost, doc).ignored == 1


# --- SF Express ------------------------------------------------------------------------------------


def test_sf_express_route_response_parses_both_routes_in_beijing_time() -> None:
    result = parse(sf_express, sample_bytes("sf_express_route_response.json"))
    assert rows(result) == [
        ("50", "in_transit", "picked_up", "2019-05-09T10:11:26+08:00", "深圳", None, None),
        ("80", "delivered", "signed", "2019-05-09T18:11:26+08:00", "深圳", None, None),
    ]
    assert [e.description for e in result.events] == ["已派件", "已签收"]
    assert {e.tracking_number for e in result.events} == {"SF1011603494291"}
    assert result.events[1].occurred_at_utc == datetime(2019, 5, 9, 10, 11, 26, tzinfo=UTC)
    assert result.indexes == [0, 0] and result.errors == []


def test_sf_express_answer_inside_platform_envelope_is_unwrapped() -> None:
    inner = sample_bytes("sf_express_route_response.json").decode()
    result = parse(sf_express, {"apiResultCode": "A1000", "apiResultData": inner})
    assert len(result.events) == 2


def test_sf_express_error_answer_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="8152"):
        parse(sf_express, {"success": False, "errorCode": "8152", "errorMsg": "bad check word"})


def test_sf_express_unknown_opcode_is_kept_generically() -> None:
    doc = orjson.loads(sample_bytes("sf_express_route_response.json"))
    doc["msgData"]["routeResps"][0]["routes"][0]["opCode"] = "9999"
    result = parse(sf_express, doc)
    assert (result.events[0].status, result.events[0].raw_code) == (Status.IN_TRANSIT, "9999")
    assert result.unmapped == {"9999": 1}


# --- Yanwen ----------------------------------------------------------------------------------------


def test_yanwen_tracking_response_parses_its_checkpoint_with_its_zone() -> None:
    result = parse(yanwen, sample_bytes("yanwen_trackapi_tracking_response.json"))
    assert rows(result) == [
        ("PU10", "in_transit", "picked_up", "2019-08-15T18:52:19+08:00", None, None, None)
    ]
    event = result.events[0]
    assert event.tracking_number == "00340434281410767138" and event.description == "Yanwen Acceptance"
    assert event.occurred_at_utc == datetime(2019, 8, 15, 10, 52, 19, tzinfo=UTC)


def test_yanwen_delivered_and_unseen_codes() -> None:
    doc = orjson.loads(sample_bytes("yanwen_trackapi_tracking_response.json"))
    checkpoint = doc["result"][0]["checkpoints"][0]
    doc["result"][0]["checkpoints"] += [
        {**checkpoint, "tracking_status": "LM40", "time_zone": "+3"},
        {**checkpoint, "tracking_status": "SC20", "time_zone": None},
    ]
    result = parse(yanwen, doc)
    assert rows(result)[1:] == [
        ("LM40", "delivered", "other", "2019-08-15T18:52:19+03:00", None, None, None),
        ("SC20", "in_transit", "in_sorting", "2019-08-15T18:52:19+08:00", None, None, None),
    ]
    assert result.unmapped == {"SC20": 1}


def test_yanwen_error_answer_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="Yanwen"):
        parse(yanwen, {"code": 100, "message": "invalid token"})
