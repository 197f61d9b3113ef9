"""The CDEK adapters: API v2 webhooks (cdek) and the legacy v1 StatusReport (cdek_v1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from carriers import BUILT_IN_FORMATS, adapter_for, cdek, cdek_v1
from tests.carriers.samples import sample_bytes
from tracking.events import ParseResult, PayloadError
from tracking.statuses import SUBSTATUSES, Status

STATUS_HOOK = "cdek_v2_webhook_ORDER_STATUS.json"
PRINT_HOOK = "cdek_v2_webhook_PRINT_FORM.json"
V1_REPORT = "cdek_v1_StatusReport_response.xml"

# (code, status, substatus, UTC instant, city) for each State of the two v1 orders, in document order.
V1_ORDER_0 = [
    ("1", "info_received", "label_created", "2018-03-21T14:54:13", "Москва"),
    ("3", "in_transit", "picked_up", "2018-03-21T17:32:32", "Москва"),
    ("6", "in_transit", "departed", "2018-03-21T17:35:12", "Москва"),
    ("7", "in_transit", "handed_over", "2018-03-21T23:00:12", "Москва"),
    ("21", "in_transit", "departed", "2018-03-21T23:36:53", "Москва"),
    ("22", "in_transit", "arrived", "2018-03-22T19:01:19", "Ростов-на-Дону"),
    ("13", "in_transit", "in_sorting", "2018-03-22T22:18:47", "Ростов-на-Дону"),
    ("19", "in_transit", "departed", "2018-03-22T22:18:47", "Ростов-на-Дону"),
    ("20", "in_transit", "handed_over", "2018-03-22T22:19:44", "Ростов-на-Дону"),
    ("8", "in_transit", "departed", "2018-03-22T22:59:19", "Ростов-на-Дону"),
    ("17", "in_transit", "other", "2018-03-24T15:11:53", "Ростов-на-Дону"),
    ("19", "in_transit", "departed", "2018-03-24T15:11:53", "Ростов-на-Дону"),
    ("20", "in_transit", "handed_over", "2018-03-25T21:25:02", "Ростов-на-Дону"),
    ("8", "in_transit", "departed", "2018-03-25T22:32:47", "Ростов-на-Дону"),
    ("10", "in_transit", "in_sorting", "2018-03-26T11:13:27", "Нальчик"),
    ("11", "out_for_delivery", "courier", "2018-04-06T05:28:09", "Нальчик"),
    ("4", "delivered", "recipient", "2018-04-06T10:33:42", "Нальчик"),
]
V1_ORDER_1 = [
    ("1", "info_received", "label_created", "2018-04-01T14:15:20", "Москва"),
    ("10", "in_transit", "in_sorting", "2018-04-01T18:03:43", "Москва"),
    ("11", "out_for_delivery", "courier", "2018-04-02T09:04:38", "Москва"),
    ("18", "delivery_failed", "other", "2018-04-02T09:13:41", "Москва"),
    ("11", "out_for_delivery", "courier", "2018-04-02T09:13:41", "Москва"),
    ("18", "delivery_failed", "other", "2018-04-03T07:56:08", "Москва"),
    ("11", "out_for_delivery", "courier", "2018-04-07T06:14:36", "Москва"),
    ("4", "delivered", "recipient", "2018-04-07T12:29:39", "Москва"),
]


def parse(doc: Any) -> ParseResult:
    raw = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    return cdek.parse(raw, "application/json", "cdek")


def hook(**attributes: Any) -> dict[str, Any]:
    base = orjson.loads(sample_bytes(STATUS_HOOK))
    base["attributes"].update(attributes)
    for key in [k for k, v in attributes.items() if v is None]:
        del base["attributes"][key]
    return dict(base)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_cdek_formats_are_registered() -> None:
    assert adapter_for("cdek") is cdek and adapter_for("cdek_v1") is cdek_v1
    assert BUILT_IN_FORMATS["cdek"] == "cdek"


def test_order_status_webhook_becomes_one_event() -> None:
    result = parse(sample_bytes(STATUS_HOOK))
    assert result.errors == [] and result.indexes == [0] and result.unmapped == {}
    (event,) = result.events
    assert event.tracking_number == "1106153417"
    assert (event.status, event.substatus, event.raw_code) == (Status.DELIVERED, "recipient", "DELIVERED")
    assert event.occurred_at_utc == utc("2019-07-11T05:41:43")
    assert event.utc_offset_minutes == 7 * 60
    assert (event.location.name, event.location.country, event.location.postcode) == (
        "Новосибирск",
        "RU",
        None,
    )
    assert event.description == "Вручен"
    assert event.carrier == "cdek"


def test_shop_order_number_is_not_taken_for_a_tracking_number() -> None:
    (event,) = parse(sample_bytes(STATUS_HOOK)).events
    assert "1106152821" not in (event.tracking_number, *event.linked_numbers)


def test_print_form_webhook_is_acknowledged_and_ignored() -> None:
    result = parse(sample_bytes(PRINT_HOOK))
    assert (result.events, result.errors, result.ignored) == ([], [], 1)


def test_array_of_webhooks_keeps_positions_for_events_and_errors() -> None:
    broken = hook(cdek_number=None)
    doc = [orjson.loads(sample_bytes(PRINT_HOOK)), hook(), broken, 7, {"uuid": "x"}]
    result = parse(doc)
    assert result.indexes == [1] and result.ignored == 1
    assert [(e.index, e.field) for e in result.errors] == [
        (2, "attributes.cdek_number"),
        (3, None),
        (4, "type"),
    ]


def test_unknown_status_code_keeps_event_with_raw_code() -> None:
    result = parse(hook(code="TELEPORTED_TO_MARS", status_code="999"))
    (event,) = result.events
    assert (event.status, event.substatus, event.raw_code) == (
        Status.IN_TRANSIT,
        "other",
        "TELEPORTED_TO_MARS",
    )
    assert result.unmapped == {"TELEPORTED_TO_MARS": 1}


def test_numeric_status_code_is_used_when_the_v2_code_is_missing() -> None:
    (event,) = parse(hook(code=None, status_code="11")).events
    assert (event.status, event.substatus, event.raw_code) == (Status.OUT_FOR_DELIVERY, "courier", "11")


def test_newer_alias_spelling_maps_like_the_original() -> None:
    (event,) = parse(hook(code="ISSUED_FOR_DELIVERY")).events
    assert (event.status, event.substatus) == (Status.OUT_FOR_DELIVERY, "courier")


def test_return_order_delivered_reads_as_returned_and_links_the_direct_order() -> None:
    related = [{"type": "direct_order", "cdek_number": "1106150000", "uuid": "u"}, {"type": "x"}]
    (event,) = parse(hook(is_return=True, related_entities=related)).events
    assert (event.status, event.substatus) == (Status.EXCEPTION, "returned")
    assert event.linked_numbers == ("1106150000",)


def test_return_order_in_transit_reads_as_returning() -> None:
    (event,) = parse(hook(is_return=True, code="SENT_TO_RECIPIENT_CITY")).events
    assert (event.status, event.substatus) == (Status.EXCEPTION, "returning")


def test_city_name_of_the_newer_api_and_a_foreign_country_are_used() -> None:
    (event,) = parse(hook(city=None, city_name="Алматы", country_code="kz")).events
    assert (event.location.name, event.location.country) == ("Алматы", "KZ")


def test_reason_code_is_kept_in_the_description() -> None:
    (event,) = parse(hook(code="NOT_DELIVERED", status_reason_code="11")).events
    assert (event.status, event.description) == (Status.DELIVERY_FAILED, "Не вручен (причина 11)")


def test_numeric_cdek_number_is_accepted() -> None:
    (event,) = parse(hook(cdek_number=1106153417)).events
    assert event.tracking_number == "1106153417"


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"status_date_time": None}, "attributes.status_date_time"),
        ({"status_date_time": "2019-07-11T12:41:43"}, "attributes.status_date_time"),
        ({"status_date_time": "11.07.2019"}, "attributes.status_date_time"),
        ({"status_date_time": 1562823703}, "attributes.status_date_time"),
        ({"code": None, "status_code": None}, "attributes.code"),
        ({"cdek_number": True}, "attributes.cdek_number"),
        ({"cdek_number": "12"}, "attributes.cdek_number"),
    ],
)
def test_status_webhook_with_an_unusable_field_is_rejected_naming_it(
    attributes: dict[str, Any], field: str
) -> None:
    result = parse(hook(**attributes))
    assert result.events == [] and [(e.index, e.field) for e in result.errors] == [(0, field)]


def test_webhook_without_attributes_object_is_rejected() -> None:
    result = parse({"type": "ORDER_STATUS", "attributes": "DELIVERED"})
    assert [(e.index, e.field) for e in result.errors] == [(0, "attributes")]


@pytest.mark.parametrize("raw", [b"", b"not json", b"42", b'"ORDER_STATUS"', b"null"])
def test_body_that_is_not_a_webhook_object_or_array_is_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(raw)


def _source_codes() -> list[str]:
    table = sample_bytes("cdek_status_codes.md").decode("utf-8")
    rows = re.findall(r"^\| ([A-Z_]+)", table, re.MULTILINE)
    aliases = re.findall(r"\(A(?: spells the constant value|:) `([A-Z_]+)`", table)
    slashed = re.findall(r"^\| [A-Z_]+ / ([A-Z_]+)", table, re.MULTILINE)
    family = re.search(r"Newer alias family in B[^:]*:(.*?)\.\n", table, re.DOTALL)
    assert family is not None
    return [*rows, *aliases, *slashed, *re.findall(r"[A-Z_]{6,}", family.group(1))]


def test_every_code_in_the_cdek_sources_has_a_valid_mapping() -> None:
    codes = _source_codes()
    assert len(codes) > 45
    for code in codes:
        (status, substatus), _, mapped = cdek.classify(code, None)
        assert mapped, code
        assert substatus in SUBSTATUSES[status]


# ---- v1 StatusReport ------------------------------------------------------------------------


def parse_v1(raw: bytes) -> ParseResult:
    return cdek_v1.parse(raw, "application/xml", "cdek")


def test_v1_status_report_parsed_state_by_state() -> None:
    result = parse_v1(sample_bytes(V1_REPORT))
    assert result.errors == [] and result.unmapped == {}
    expected = [(0, "1000028000", *row) for row in V1_ORDER_0] + [
        (1, "1000356200", *row) for row in V1_ORDER_1
    ]
    assert result.indexes == [row[0] for row in expected]
    for event, (_, number, code, status, substatus, instant, city) in zip(
        result.events, expected, strict=True
    ):
        assert event.tracking_number == number
        assert (event.raw_code, event.status.value, event.substatus) == (code, status, substatus)
        assert event.occurred_at_utc == utc(instant) and event.utc_offset_minutes == 0
        assert (event.location.name, event.location.country) == (city, "RU")


def test_v1_keeps_cdek_descriptions_and_ignores_the_shop_number() -> None:
    events = parse_v1(sample_bytes(V1_REPORT)).events
    assert events[0].description == "Создан"
    assert events[-1].description == "Вручен"
    assert not any(e.tracking_number in ("2080965069", "2066479243") for e in events)


def test_v1_unknown_code_keeps_event_with_raw_code() -> None:
    raw = sample_bytes(V1_REPORT).replace(b'Code="17" Description', b'Code="1000" Description')
    result = parse_v1(raw)
    unknown = [e for e in result.events if e.raw_code == "1000"]
    assert len(unknown) == 1 and (unknown[0].status, unknown[0].substatus) == (Status.IN_TRANSIT, "other")
    assert result.unmapped == {"1000": 1}


def test_v1_order_without_dispatch_number_is_rejected_alone() -> None:
    raw = sample_bytes(V1_REPORT).replace(b'DispatchNumber="1000028000"', b'DispatchNumber=""')
    result = parse_v1(raw)
    assert [(e.index, e.field) for e in result.errors] == [(0, "DispatchNumber")]
    assert set(result.indexes) == {1}


def test_v1_state_with_bad_date_names_the_state() -> None:
    raw = sample_bytes(V1_REPORT).replace(b'Date="2018-03-21T17:32:32+00:00"', b'Date="soon"')
    result = parse_v1(raw)
    assert [(e.index, e.field) for e in result.errors] == [(0, "Status.State[1].Date")]


def test_v1_order_with_only_a_current_status_yields_that_status() -> None:
    raw = (
        '<StatusReport><Order DispatchNumber="1000028000"><Status Date="2018-04-06T10:33:42+00:00" '
        'Code="4" Description="Вручен" CityName="Нальчик"/></Order></StatusReport>'
    ).encode()
    (event,) = parse_v1(raw).events
    assert (event.status, event.raw_code) == (Status.DELIVERED, "4")


@pytest.mark.parametrize("raw", [b"", b"<Order/>", b"{}", b"<StatusReport><Order>"])
def test_v1_body_that_is_not_a_status_report_is_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_v1(raw)


@pytest.mark.parametrize(
    ("code", "numeric"),
    [("SENT_TO_RECIPIENT_CITY", "8"), ("SENT_TO_TRANSIT_CITY", "21"), ("SEND_TO_RECIPIENT_OFFICE", None)],
)
def test_a_dispatch_to_the_next_city_is_a_departure_not_the_international_leg(code, numeric) -> None:
    fields: dict[str, Any] = {"code": code, "status_code": numeric}
    (event,) = parse(orjson.dumps(hook(**fields))).events
    assert (event.status, event.substatus) == (Status.IN_TRANSIT, "departed")
    (by_number,) = parse(orjson.dumps(hook(code=None, status_code=numeric or "8"))).events
    assert (by_number.status, by_number.substatus) == (Status.IN_TRANSIT, "departed")


def test_cdeks_own_international_leg_stays_the_line_haul() -> None:
    (event,) = parse(orjson.dumps(hook(code="SHIPPED_TO_DESTINATION", status_code=None))).events
    assert (event.status, event.substatus) == (Status.IN_TRANSIT, "line_haul")
