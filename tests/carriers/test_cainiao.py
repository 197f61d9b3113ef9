"""The Cainiao adapter, checked scan by scan against real detail.json captures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carriers import BUILT_IN_FORMATS, adapter_for, cainiao
from carriers.cainiao import parse_gmt_offset
from tests.carriers.samples import sample_bytes
from tracking.events import ParseResult, PayloadError
from tracking.statuses import Status

AE = "cainiao_global_detail_AE010698498.json"
RS = "cainiao_global_detail_RS0814398526Y.json"
UZ = "cainiao_global_detail_UZ0556033196Y.json"

# (actionCode, status, substatus, UTC instant, offset kept in minutes, country), newest first as sent.
AE_EVENTS = [
    ("CC_IM_SUCCESS", "in_transit", "customs_cleared", "2023-01-29T00:31:00Z", 0, "IL"),
    ("CC_HO_OUT_SUCCESS", "in_transit", "customs_cleared", "2023-01-29T00:31:00Z", 0, "IL"),
    ("CC_HO_IN_SUCCESS", "in_transit", "customs_processing", "2023-01-28T21:00:00Z", 0, "IL"),
    ("CUSTOMS_ARRIVED_IN_AREA_CALLBACK", "in_transit", "customs_processing", "2023-01-28T21:00:00Z", 0, "IL"),
    ("LH_ARRIVE", "in_transit", "arrived_destination_country", "2023-01-27T05:23:00Z", 120, "IL"),
    ("LH_DEPART", "in_transit", "line_haul", "2023-01-26T15:18:00Z", 480, "CN"),
    ("CC_IM_START", "in_transit", "customs_processing", "2023-01-26T01:47:00Z", 0, "IL"),
    ("LH_HO_AIRLINE", "in_transit", "line_haul", "2023-01-26T00:00:00Z", 480, "CN"),
    ("CC_EX_SUCCESS", "in_transit", "export_cleared", "2023-01-25T06:55:42Z", 480, "CN"),
    ("CC_EX_START", "in_transit", "export_customs", "2023-01-25T06:35:19Z", 480, "CN"),
    ("TRANSIT_PORT_REROUTE_CALLBACK", "in_transit", "forwarded", "2023-01-25T03:50:38Z", 480, "CN"),
    ("LH_HO_IN_SUCCESS", "in_transit", "arrived", "2023-01-25T00:25:15Z", 480, "CN"),
    ("SC_OUTBOUND_SUCCESS", "in_transit", "departed", "2023-01-24T12:54:35Z", 480, "CN"),
    ("PU_PICKUP_SUCCESS", "in_transit", "picked_up", "2023-01-24T12:20:21Z", 480, "CN"),
    ("SC_INBOUND_SUCCESS", "in_transit", "in_sorting", "2023-01-24T12:20:21Z", 480, "CN"),
    ("WMS_CONFIRMED", "in_transit", "departed", "2023-01-24T03:30:03Z", 480, "CN"),
    ("GWMS_OUTBOUND", "in_transit", "departed", "2023-01-24T03:30:03Z", 480, "CN"),
    ("GWMS_PACKAGE", "info_received", "awaiting_pickup", "2023-01-24T03:26:28Z", 480, "CN"),
    ("GWMS_ACCEPT", "info_received", "label_created", "2023-01-23T17:59:33Z", 480, "CN"),
]

RS_EVENTS = [
    ("CC_IM_SUCCESS", "in_transit", "customs_cleared", "2023-09-28T01:46:53Z", 0, "IL"),
    ("GTMS_ACCEPT", "in_transit", "handed_over", "2023-09-28T01:46:53Z", 180, "IL"),
    ("CC_HO_OUT_SUCCESS", "in_transit", "customs_cleared", "2023-09-28T01:46:53Z", 0, "IL"),
    ("CC_HO_IN_SUCCESS", "in_transit", "customs_processing", "2023-09-27T08:40:01Z", 0, "IL"),
    ("LH_ARRIVE", "in_transit", "arrived_destination_country", "2023-09-26T02:13:00Z", 120, "IL"),
    ("LH_DEPART", "in_transit", "line_haul", "2023-09-25T17:24:00Z", 480, "CN"),
    ("CC_EX_SUCCESS", "in_transit", "export_cleared", "2023-09-25T03:08:00Z", 480, "CN"),
    ("CC_EX_START", "in_transit", "export_customs", "2023-09-25T00:41:00Z", 480, "CN"),
    ("LH_HO_AIRLINE", "in_transit", "line_haul", "2023-09-25T00:00:00Z", 480, "CN"),
    ("LH_HO_IN_SUCCESS", "in_transit", "arrived", "2023-09-23T05:29:38Z", 480, "CN"),
    ("SC_OUTBOUND_SUCCESS", "in_transit", "departed", "2023-09-22T14:50:49Z", 480, "CN"),
    ("SC_INBOUND_SUCCESS", "in_transit", "in_sorting", "2023-09-22T12:34:56Z", 480, "CN"),
    ("CC_IM_START", "in_transit", "customs_processing", "2023-09-22T09:51:16Z", 0, "IL"),
    ("PU_PICKUP_SUCCESS", "in_transit", "picked_up", "2023-09-22T07:55:02Z", 480, "CN"),
]


def parse(payload: bytes | dict[str, Any] | list[Any]) -> ParseResult:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return cainiao.parse(raw, "application/json", "cainiao")


def rows(result: ParseResult) -> list[tuple[Any, ...]]:
    return [
        (
            e.raw_code,
            e.status.value,
            e.substatus,
            e.occurred_at_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            e.utc_offset_minutes,
            e.location.country,
        )
        for e in result.events
    ]


def module(details: list[Any], **fields: Any) -> dict[str, Any]:
    base = {"mailNo": "LP00123456789012", "originCountry": "Mainland China", "destCountry": "Russia"}
    return {"module": [{**base, **fields, "detailList": details}], "success": True}


def scan(code: str | None = "SC_INBOUND_SUCCESS", **fields: Any) -> dict[str, Any]:
    return {
        "time": 1695386096000,
        "timeStr": "2023-09-22 20:34:56",
        "timeZone": "GMT+8",
        "actionCode": code,
        "desc": "d",
        "standerdDesc": "s",
        **fields,
    }


def test_cainiao_is_a_built_in_format() -> None:
    assert BUILT_IN_FORMATS["cainiao"] == "cainiao"
    assert adapter_for("cainiao") is cainiao


def test_aliexpress_sample_parses_every_scan_in_order() -> None:
    result = parse(sample_bytes(AE))
    assert rows(result) == AE_EVENTS
    assert result.errors == [] and result.unmapped == {} and result.indexes == [0] * 19
    assert {e.tracking_number for e in result.events} == {"AE010698498"}


def test_israel_post_sample_parses_every_scan_in_order() -> None:
    result = parse(sample_bytes(RS))
    assert rows(result) == RS_EVENTS
    assert result.errors == [] and result.unmapped == {}
    assert all(e.carrier == "cainiao" and e.location.name is None for e in result.events)


def test_seller_preparing_module_without_scans_is_acknowledged() -> None:
    result = parse(sample_bytes(UZ))
    assert result.events == [] and result.errors == [] and result.ignored == 1


def test_time_str_is_beijing_wall_clock_in_every_capture() -> None:
    for name in (AE, RS):
        for detail in orjson.loads(sample_bytes(name))["module"][0]["detailList"]:
            wall = datetime.fromisoformat(detail["timeStr"]).replace(tzinfo=timezone(timedelta(hours=8)))
            assert abs(wall.timestamp() * 1000 - detail["time"]) < 1000


def test_time_str_read_as_beijing_when_epoch_is_missing() -> None:
    result = parse(module([scan(time=None, timeStr="2023-09-22 20:34:56", timeZone="GMT+3")]))
    event = result.events[0]
    assert event.occurred_at_utc == datetime(2023, 9, 22, 12, 34, 56, tzinfo=UTC)
    assert event.utc_offset_minutes == 180


def test_missing_zone_on_chinese_leg_means_beijing_time() -> None:
    result = parse(module([scan(timeZone="")]))
    assert result.events[0].utc_offset_minutes == 480
    assert result.events[0].occurred_at_utc == datetime(2023, 9, 22, 12, 34, 56, tzinfo=UTC)


def test_missing_zone_on_russian_last_mile_uses_moscow_offset() -> None:
    result = parse(module([scan("GTMS_SIGNED", timeZone=None)]))
    event = result.events[0]
    assert (event.status, event.substatus, event.location.country) == (Status.DELIVERED, "recipient", "RU")
    assert event.utc_offset_minutes == 180


def test_destcp_handover_links_russian_post_number() -> None:
    payload = module(
        [scan("GTMS_ACCEPT"), scan("LH_DEPART")],
        destCpInfo={"cpName": "Russian Post", "url": "https://www.pochta.ru"},
        copyRealMailNo="RR123456785RU",
    )
    result = parse(payload)
    assert [e.linked_numbers for e in result.events] == [("RR123456785RU",), ("RR123456785RU",)]


def test_real_mail_number_with_carrier_name_prefix_is_linked() -> None:
    result = parse(module([scan()], realMailNo="Russian Post RR123456785RU"))
    assert result.events[0].linked_numbers == ("RR123456785RU",)


def test_handover_number_equal_to_own_number_is_not_linked() -> None:
    result = parse(module([scan()], copyRealMailNo="LP00123456789012"))
    assert result.events[0].linked_numbers == ()


def test_pre_main_code_in_reroute_scan_links_the_earlier_number() -> None:
    result = parse(sample_bytes(AE))
    reroute = next(e for e in result.events if e.raw_code == "TRANSIT_PORT_REROUTE_CALLBACK")
    assert reroute.linked_numbers == ("SINOA00241668IL",)
    assert all(e.linked_numbers == () for e in result.events if e is not reroute)


def test_generic_standard_text_falls_back_to_carrier_text() -> None:
    result = parse(sample_bytes(AE))
    by_code = {e.raw_code: e.description for e in result.events}
    assert by_code["WMS_CONFIRMED"] == "包裹已出库"
    assert by_code["LH_ARRIVE"] == "Arrived at linehual office"


def test_unseen_code_with_known_prefix_gets_the_leg_meaning_and_is_counted() -> None:
    result = parse(module([scan("SC_SOMETHING_NEW"), scan("CC_IM_HOLD_FAILURE"), scan("GTMS_NEW_FAIL")]))
    assert [(e.status.value, e.substatus, e.location.country) for e in result.events] == [
        ("in_transit", "in_sorting", "CN"),
        ("exception", "customs_held", "RU"),
        ("delivery_failed", "other", "RU"),
    ]
    assert result.unmapped == {"SC_SOMETHING_NEW": 1, "CC_IM_HOLD_FAILURE": 1, "GTMS_NEW_FAIL": 1}


def test_fully_unknown_code_keeps_the_event_generically() -> None:
    result = parse(module([scan("ZZ_MYSTERY"), scan("ZZ_MYSTERY")]))
    assert [(e.status, e.substatus, e.raw_code, e.location.country) for e in result.events] == [
        (Status.IN_TRANSIT, "other", "ZZ_MYSTERY", None)
    ] * 2
    assert result.unmapped == {"ZZ_MYSTERY": 2}


def test_scan_without_any_time_is_rejected_alone() -> None:
    result = parse(module([scan(), scan(time=None, timeStr=None)]))
    assert len(result.events) == 1
    assert [(e.index, e.field) for e in result.errors] == [(0, "detailList[1].time")]


def test_module_without_mail_number_is_rejected_and_others_kept() -> None:
    good = module([scan()])["module"][0]
    result = parse({"module": [{"detailList": [scan()]}, good, "junk"]})
    assert [(e.index, e.field) for e in result.errors] == [(0, "mailNo"), (2, None)]
    assert result.indexes == [1]


def test_single_module_object_is_accepted() -> None:
    result = parse(module([scan()])["module"][0])
    assert len(result.events) == 1 and result.indexes == [0]


@pytest.mark.parametrize("body", [b"{", b"[1", b"42", b'{"success": false, "errorMsg": "busy"}', b'"x"'])
def test_unreadable_payload_raises_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(body)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("GMT+8", 480),
        ("GMT+0800", 480),
        ("GMT+0", 0),
        ("GMT-3", -180),
        ("GMT+08:00", 480),
        ("UTC+5:30", 330),
        ("+8", 480),
        ("GMT", 0),
        ("Z", 0),
        (" GMT+3 ", 180),
    ],
)
def test_parse_gmt_offset_reads_cainiao_and_yanwen_spellings(text: str, minutes: int) -> None:
    zone = parse_gmt_offset(text)
    assert zone is not None and zone.utcoffset(None) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "GMT+", "GMT+25", "GMT+0860", "8", "Moscow", "GMT-13", None, 8])
def test_parse_gmt_offset_refuses_what_is_not_an_offset(text: Any) -> None:
    assert parse_gmt_offset(text) is None


@settings(max_examples=200)
@given(st.integers(min_value=-12 * 60, max_value=14 * 60), st.sampled_from(["GMT", "UTC", ""]))
def test_parse_gmt_offset_round_trips_every_offset(minutes: int, prefix: str) -> None:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    for spelling in (f"{prefix}{sign}{hours:02d}{rest:02d}", f"{prefix}{sign}{hours}:{rest:02d}"):
        zone = parse_gmt_offset(spelling)
        assert zone is not None and zone.utcoffset(None) == timedelta(minutes=minutes)
    if rest == 0:
        zone = parse_gmt_offset(f"{prefix}{sign}{hours}")
        assert zone is not None and zone.utcoffset(None) == timedelta(minutes=minutes)


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_parse_gmt_offset_never_raises_and_stays_in_range(text: str) -> None:
    zone = parse_gmt_offset(text)
    if zone is not None:
        offset = zone.utcoffset(None)
        assert timedelta(hours=-12) <= offset <= timedelta(hours=14)
