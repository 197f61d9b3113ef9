"""The Russian Post adapter, checked operation by operation against the published SOAP answers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from carriers import BUILT_IN_FORMATS, adapter_for, russian_post
from carriers.russian_post_ticket import (
    TicketError,
    TicketExpired,
    TicketNotReady,
    build_answer_request,
    build_ticket_request,
    parse_ticket_id,
)
from tests.carriers.samples import sample_bytes
from tracking.events import ParseResult, PayloadError
from tracking.statuses import SUBSTATUSES, Status

SINGLE = "russianpost_getOperationHistory_response_domestic.xml"
BATCH = "russianpost_getResponseByTicket_batch_response.xml"
CODES = Path(russian_post.__file__).parent / "data" / "russian_post_codes.json"

# (raw_code, status, substatus, UTC instant, offset kept in minutes, postcode, office name)
SINGLE_EVENTS = [
    ("1.1", "in_transit", "picked_up", "2016-07-16T08:01:00", 240, "443063", "Самара 63"),
    ("8.3", "in_transit", "arrived", "2016-07-18T16:31:27.001", 240, "443960", "Самара МСЦ"),
    ("8.4", "in_transit", "departed", "2016-07-19T02:37:22.001", 240, "443960", "Самара МСЦ"),
    ("8.0", "in_transit", "in_sorting", "2016-07-20T16:33:00", 180, "140983", "Московский АСЦ Цех Посылок"),
    ("8.4", "in_transit", "departed", "2016-07-20T23:53:00", 180, "140980", "Московский АСЦ Цех Логистики"),
    ("8.4", "in_transit", "departed", "2016-07-21T09:24:00", 180, "170000", "Тверь Почтамт"),
    ("8.2", "available_for_pickup", "post_office", "2016-07-21T09:39:00", 180, "170100", "Тверь 100"),
    ("2.1", "delivered", "pickup_point", "2016-07-21T09:49:00", 180, "170100", "Тверь 100"),
]

# (item index, barcode, raw_code, status, substatus, UTC instant, offset minutes, postcode). The batch
# answer has no offsets: Ufa (450…) is UTC+5, Moscow and its region (1…) UTC+3 in 2015.
BATCH_EVENTS = [
    (0, "45008378901234", "1.1", "in_transit", "picked_up", "2015-09-08T12:07:00", 300, "450083"),
    (0, "45008378901234", "8.4", "in_transit", "departed", "2015-09-09T23:42:00", 300, "450962"),
    (0, "45008378901234", "8.0", "in_transit", "in_sorting", "2015-09-12T15:07:00", 180, "140983"),
    (0, "45008378901234", "8.4", "in_transit", "departed", "2015-09-13T01:14:00", 180, "140980"),
    (0, "45008378901234", "8.4", "in_transit", "departed", "2015-09-13T20:11:00", 180, "111949"),
    (0, "45008378901234", "8.2", "available_for_pickup", "post_office", "2015-09-14T00:25:00", 180, "125362"),
    (0, "45008378901234", "4.3", "in_transit", "forwarded", "2015-09-15T06:20:00", 180, "125362"),
    (0, "45008378901234", "8.2", "available_for_pickup", "post_office", "2015-09-16T00:43:00", 180, "125364"),
    (1, "10725878901235", "1.1", "in_transit", "picked_up", "2015-09-12T06:26:00", 180, "107258"),
    (1, "10725878901235", "8.1", "in_transit", "departed", "2015-09-12T06:26:00", 180, "107258"),
    (1, "10725878901235", "8.4", "in_transit", "departed", "2015-09-12T20:14:00", 180, "111974"),
    (1, "10725878901235", "8.15", "out_for_delivery", "courier", "2015-09-16T06:09:00", 180, "130203"),
    (1, "10725878901235", "2.8", "delivered", "recipient", "2015-09-16T10:45:00", 180, "130203"),
]


def parse(raw: bytes) -> ParseResult:
    return russian_post.parse(raw, "text/xml", "russian_post")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_russian_post_is_registered_as_a_built_in_format() -> None:
    assert adapter_for("russian_post") is russian_post
    assert BUILT_IN_FORMATS["russian_post"] == "russian_post"


def test_single_history_parsed_record_by_record() -> None:
    result = parse(sample_bytes(SINGLE))
    assert result.errors == [] and result.unmapped == {}
    assert result.indexes == list(range(len(SINGLE_EVENTS)))
    for event, expected in zip(result.events, SINGLE_EVENTS, strict=True):
        raw_code, status, substatus, instant, offset, postcode, office = expected
        assert event.tracking_number == "44334455667733"
        assert event.carrier == "russian_post"
        assert (event.raw_code, event.status.value, event.substatus) == (raw_code, status, substatus)
        assert event.occurred_at_utc == utc(instant)
        assert event.utc_offset_minutes == offset
        assert (event.location.postcode, event.location.name, event.location.country) == (
            postcode,
            office,
            "RU",
        )


def test_single_history_describes_operation_and_attribute_in_russian() -> None:
    first, last = parse(sample_bytes(SINGLE)).events[0], parse(sample_bytes(SINGLE)).events[-1]
    assert first.description == "Прием: Единичный"
    assert last.description == "Вручение: Вручение адресату"


def test_batch_answer_parsed_operation_by_operation_with_office_time_zones() -> None:
    result = parse(sample_bytes(BATCH))
    assert result.indexes == [row[0] for row in BATCH_EVENTS]
    for event, expected in zip(result.events, BATCH_EVENTS, strict=True):
        _, barcode, raw_code, status, substatus, instant, offset, postcode = expected
        assert event.tracking_number == barcode
        assert (event.raw_code, event.status.value, event.substatus) == (raw_code, status, substatus)
        assert event.occurred_at_utc == utc(instant)
        assert event.utc_offset_minutes == offset
        # The batch answer names no office and no country: only the postcode is known.
        assert (event.location.postcode, event.location.name, event.location.country) == (
            postcode,
            None,
            None,
        )


def test_batch_item_with_error_is_a_notice_not_an_error_and_the_others_still_parsed() -> None:
    # Error 12 ("no data for that number") is Russian Post's answer for that barcode, not bad input.
    result = parse(sample_bytes(BATCH))
    assert result.errors == []
    assert [n.as_dict() for n in result.notices] == [
        {"index": 2, "tracking_number": "RA123456789RU", "code": "12", "reason": "Сообщение не найдено"}
    ]
    assert result.ignored == 1
    assert {e.tracking_number for e in result.events} == {"45008378901234", "10725878901235"}


def test_batch_error_item_without_a_barcode_is_still_an_error() -> None:
    raw = sample_bytes(BATCH).replace(b'Barcode="RA123456789RU"', b'Barcode=""')
    result = parse(raw)
    assert [(e.index, e.field) for e in result.errors] == [(2, "Barcode")]
    assert result.notices == [] and result.ignored == 0
    assert len(result.events) == len(BATCH_EVENTS)


def test_batch_item_without_a_barcode_rejects_its_operations() -> None:
    raw = sample_bytes(BATCH).replace(b'<ns3:Item Barcode="10725878901235">', b"<ns3:Item>")
    result = parse(raw)
    assert {e.index for e in result.errors} == {1} and len(result.errors) == 5
    assert all(e.field and e.field.endswith("Barcode") for e in result.errors)
    assert [n.tracking_number for n in result.notices] == ["RA123456789RU"]


def test_batch_operation_names_come_from_the_code_table() -> None:
    events = parse(sample_bytes(BATCH)).events
    assert events[5].description == "Обработка: Прибыло в место вручения"
    assert events[6].description == "Досылка почты: Засылка"


def test_postcode_zones_agree_with_the_offsets_russian_post_sends() -> None:
    for event in parse(sample_bytes(SINGLE)).events:
        zoned = russian_post.occurred_at(
            event.occurred_at.replace(tzinfo=None).isoformat(), event.location.postcode
        )
        assert zoned.utcoffset() == event.occurred_at.utcoffset()


def test_office_zone_follows_historic_offset_changes() -> None:
    # Volgograd moved to UTC+4 in October 2018 and back to UTC+3 in December 2020 (IANA tz database).
    before = russian_post.occurred_at("01.06.2019 12:00:00", "400066")
    after = russian_post.occurred_at("01.06.2021 12:00:00", "400066")
    assert before.isoformat() == "2019-06-01T12:00:00+04:00"
    assert after.isoformat() == "2021-06-01T12:00:00+03:00"


@pytest.mark.parametrize(
    ("postcode", "offset_hours"),
    [("236000", 2), ("620000", 5), ("630000", 7), ("690000", 10), ("683000", 12), ("101000", 3)],
)
def test_office_zone_comes_from_the_first_three_postcode_digits(postcode: str, offset_hours: int) -> None:
    moment = russian_post.occurred_at("01.03.2025 10:00:00", postcode)
    assert moment.utcoffset() is not None
    assert moment.utcoffset().total_seconds() == offset_hours * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize("postcode", [None, "", "000123", "CN-518", "99"])
def test_unknown_or_missing_postcode_falls_back_to_moscow_time(postcode: str | None) -> None:
    assert russian_post.occurred_at("01.03.2025 10:00", postcode).isoformat() == "2025-03-01T10:00:00+03:00"


def test_single_record_without_offset_is_read_in_the_office_zone() -> None:
    raw = sample_bytes(SINGLE).replace(b"2016-07-16T12:01:00.000+04:00", b"2016-07-16T12:01:00")
    event = parse(raw).events[0]
    assert event.occurred_at.isoformat() == "2016-07-16T12:01:00+04:00"


def test_unknown_oper_type_keeps_event_with_raw_code() -> None:
    raw = sample_bytes(BATCH).replace(b'OperTypeID="4" OperCtgID="3"', b'OperTypeID="977" OperCtgID="3"')
    result = parse(raw)
    event = result.events[6]
    assert (event.status, event.substatus, event.raw_code) == (Status.IN_TRANSIT, "other", "977.3")
    assert result.unmapped == {"977.3": 1}


def test_unknown_attribute_takes_its_type_status_and_is_counted_unmapped() -> None:
    raw = sample_bytes(BATCH).replace(b'OperTypeID="2" OperCtgID="8"', b'OperTypeID="2" OperCtgID="99"')
    result = parse(raw)
    assert (result.events[-1].status, result.events[-1].substatus) == (Status.DELIVERED, "other")
    assert result.events[-1].raw_code == "2.99"
    assert result.unmapped == {"2.99": 1}


def test_handover_to_the_sender_is_a_return_not_a_delivery() -> None:
    raw = sample_bytes(BATCH).replace(b'OperTypeID="2" OperCtgID="8"', b'OperTypeID="2" OperCtgID="2"')
    event = parse(raw).events[-1]
    assert (event.status, event.substatus) == (Status.EXCEPTION, "returned")


def test_record_with_a_bad_date_is_rejected_and_the_rest_kept() -> None:
    raw = sample_bytes(SINGLE).replace(b"2016-07-18T20:31:27.001+04:00", b"yesterday")
    result = parse(raw)
    assert [(e.index, e.field) for e in result.errors] == [(1, "OperDate")]
    assert len(result.events) == len(SINGLE_EVENTS) - 1 and 1 not in result.indexes


def test_batch_operation_with_a_bad_date_names_the_operation() -> None:
    raw = sample_bytes(BATCH).replace(b'DateOper="10.09.2015 04:42:00"', b'DateOper="31.02.2015 04:42:00"')
    result = parse(raw)
    assert [(e.index, e.field) for e in result.errors] == [(0, "Operation[1].OperDate")]
    assert len(result.events) == len(BATCH_EVENTS) - 1


def test_record_without_barcode_takes_the_barcode_of_the_other_records() -> None:
    raw = sample_bytes(SINGLE).replace(b"<ns3:Barcode>44334455667733</ns3:Barcode>", b"", 1)
    result = parse(raw)
    assert result.errors == [] and result.events[0].tracking_number == "44334455667733"


def test_namespace_prefixes_do_not_matter() -> None:
    text = sample_bytes(SINGLE).decode("utf-8")
    renamed = re.sub(r"\b(ns3|ns7|S):", "q:", text.replace("xmlns:ns3=", "xmlns:q3="))
    renamed = renamed.replace('xmlns:S="http://www.w3.org/2003/05/soap-envelope"', 'xmlns:q="urn:x"')
    renamed = renamed.replace('xmlns:ns7="http://russianpost.org/operationhistory"', "")
    renamed = renamed.replace('xmlns:q3="http://russianpost.org/operationhistory/data"', "")
    events = parse(renamed.encode("utf-8")).events
    assert [e.raw_code for e in events] == [row[0] for row in SINGLE_EVENTS]


def test_entity_declarations_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><r>&b;</r>'
    with pytest.raises(PayloadError, match="refused"):
        parse(bomb)


def test_external_entities_are_never_fetched() -> None:
    raw = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(PayloadError):
        parse(raw)


@pytest.mark.parametrize("raw", [b"", b"   ", b"{}", b"<a><b></a>", b"<html><body/></html>"])
def test_unreadable_or_foreign_bodies_are_payload_errors(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(raw)


def soap(body: str) -> bytes:
    """A SOAP envelope around ``body``, as Russian Post's servers answer."""
    envelope = '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">'
    return f"{envelope}<S:Body>{body}</S:Body></S:Envelope>".encode()


def postserver(answer: str, inner: str) -> bytes:
    """A batch-service answer element (``ticketResponse``, ``answerByTicketResponse``) in its envelope."""
    namespace = 'xmlns:ns2="http://fclient.russianpost.org/postserver"'
    return soap(f"<ns2:{answer} {namespace}>{inner}</ns2:{answer}>")


def test_soap_fault_is_a_payload_error_with_its_reason() -> None:
    fault = "<faultcode>S:Server</faultcode><faultstring>Authorization failed</faultstring>"
    with pytest.raises(PayloadError, match="Authorization failed"):
        parse(soap(f"<S:Fault>{fault}</S:Fault>"))


def _ticket_answer(code: str, name: str) -> bytes:
    return postserver("answerByTicketResponse", f'<error ErrorTypeID="{code}" ErrorName="{name}"/>')


def test_ticket_not_ready_is_raised_so_a_scheduler_polls_again() -> None:
    with pytest.raises(TicketNotReady) as caught:
        parse(_ticket_answer("6", "Ответ для выписки еще не готов"))
    assert caught.value.code == "6" and isinstance(caught.value, PayloadError)


def test_expired_ticket_is_raised_so_a_scheduler_asks_for_a_new_one() -> None:
    with pytest.raises(TicketExpired):
        parse(_ticket_answer("17", "expired"))


def test_other_ticket_errors_carry_their_code() -> None:
    with pytest.raises(TicketError) as caught:
        parse(_ticket_answer("3", "auth"))
    assert caught.value.code == "3" and not isinstance(caught.value, TicketNotReady)


def test_ticket_request_lists_each_number_once_with_credentials() -> None:
    raw = build_ticket_request(["RA123456788RU", "ra 123456788 ru", "45008378901234"], "me", "secret")
    root = fromstring(raw)
    barcodes = [e.get("Barcode") for e in root.iter() if e.tag.endswith("}Item")]
    assert barcodes == ["RA123456788RU", "45008378901234"]
    texts = {e.tag: e.text for e in root.iter() if e.tag in ("login", "password", "language")}
    assert texts == {"login": "me", "password": "secret", "language": "RUS"}
    assert any(e.tag == "{http://fclient.russianpost.org/postserver}ticketRequest" for e in root.iter())


def test_ticket_request_refuses_more_than_3000_numbers() -> None:
    with pytest.raises(ValueError, match="3000"):
        build_ticket_request([f"RA{n:09d}RU" for n in range(3001)], "me", "secret")


def test_credentials_are_escaped_in_requests() -> None:
    raw = build_answer_request("20150917162048476CLIENTID", "me", "p<&>w")
    assert b"p&lt;&amp;&gt;w" in raw
    assert [e.text for e in fromstring(raw).iter() if e.tag == "ticket"] == ["20150917162048476CLIENTID"]


def test_ticket_id_read_from_get_ticket_answer() -> None:
    answer = postserver("ticketResponse", "<value>20150917162048476CLIENTID</value>")
    assert parse_ticket_id(answer) == "20150917162048476CLIENTID"


def test_get_ticket_refusal_raises_ticket_error() -> None:
    answer = postserver("ticketResponse", '<error ErrorTypeID="3" ErrorName="auth failed"/>')
    with pytest.raises(TicketError, match="auth failed"):
        parse_ticket_id(answer)


def _source_pairs() -> list[tuple[str, str]]:
    table = sample_bytes("russianpost_oper_types.md").decode("utf-8").split("## Attributes per OperType")[1]
    return re.findall(r"^\| (\d+) \| (\d+) \|", table, re.MULTILINE)


def test_every_pair_of_the_source_dictionary_has_a_valid_mapping() -> None:
    pairs = _source_pairs()
    assert len(pairs) > 400
    for oper_type, oper_attr in pairs:
        (status, substatus), _, mapped = russian_post.classify(oper_type, oper_attr)
        assert mapped, f"{oper_type}.{oper_attr}"
        assert substatus in SUBSTATUSES[status]


def test_code_table_cites_its_source() -> None:
    doc = json.loads(CODES.read_text(encoding="utf-8"))
    assert "lapaygroup/RussianPost" in doc["_source"]
