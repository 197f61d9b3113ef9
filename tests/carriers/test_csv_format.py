"""The CSV format for small carriers: header rules, encodings, delimiters and per-row errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carriers import adapter_for, csv_format
from tracking.events import Location, ParseResult, PayloadError
from tracking.statuses import Status

FULL_HEADER = ",".join(csv_format.COLUMNS)
FULL_ROW = (
    "RX747628194CN,in_transit,departed,2026-11-20T08:31:00+08:00,Shenzhen,cn,518000,"
    "Departed from sorting centre,SC_OUTBOUND_SUCCESS,LP00123456789012;AE010698498"
)


def parse(text: str | bytes) -> ParseResult:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return csv_format.parse(raw, "text/csv", "smallco")


def test_csv_is_registered_as_a_format() -> None:
    assert adapter_for("csv") is csv_format


def test_row_with_every_column_becomes_a_full_event() -> None:
    result = parse(f"{FULL_HEADER}\n{FULL_ROW}\n")
    assert result.errors == [] and result.indexes == [0]
    (event,) = result.events
    assert event.tracking_number == "RX747628194CN"
    assert (event.status, event.substatus) == (Status.IN_TRANSIT, "departed")
    assert event.occurred_at_utc == datetime(2026, 11, 20, 0, 31, tzinfo=UTC)
    assert event.utc_offset_minutes == 480
    assert event.location == Location(name="Shenzhen", country="CN", postcode="518000")
    assert event.description == "Departed from sorting centre"
    assert event.raw_code == "SC_OUTBOUND_SUCCESS"
    assert event.linked_numbers == ("LP00123456789012", "AE010698498")
    assert event.carrier == "smallco"


def test_only_tracking_number_status_and_time_are_required() -> None:
    (event,) = parse(
        "occurred_at,status,tracking_number\n2026-11-20T08:31:00Z,delivered,RX747628194CN\n"
    ).events
    assert (event.status, event.substatus, event.location, event.linked_numbers) == (
        Status.DELIVERED,
        "other",
        Location(),
        (),
    )


def test_utf8_bom_and_crlf_line_ends_are_accepted() -> None:
    raw = ("\ufeff" + FULL_HEADER + "\r\n" + FULL_ROW + "\r\n").encode("utf-8")
    result = parse(raw)
    assert result.errors == [] and len(result.events) == 1


def test_semicolon_delimiter_is_detected_from_the_header() -> None:
    text = (
        "tracking_number;status;occurred_at;location_name;linked_numbers\n"
        'RX747628194CN;in_transit;2026-11-20T08:31:00+03:00;Москва, МСЦ;"LP00123456789012;AE010698498"\n'
    )
    (event,) = parse(text).events
    assert event.location.name == "Москва, МСЦ"
    assert event.linked_numbers == ("LP00123456789012", "AE010698498")


def test_extra_columns_are_rejected_naming_them() -> None:
    with pytest.raises(PayloadError, match=r"'weight'.*'recipient'|'recipient'.*'weight'"):
        parse("tracking_number,status,occurred_at,weight,recipient\n")


def test_missing_required_column_is_rejected_naming_it() -> None:
    with pytest.raises(PayloadError, match="occurred_at"):
        parse("tracking_number,status\nRX747628194CN,delivered\n")


def test_duplicate_column_is_rejected() -> None:
    with pytest.raises(PayloadError, match="twice: status"):
        parse("tracking_number,status,status,occurred_at\n")


def test_header_names_are_trimmed_and_case_insensitive() -> None:
    result = parse(" Tracking_Number , STATUS ,occurred_at\nRX747628194CN,delivered,2026-11-20T08:31:00Z\n")
    assert len(result.events) == 1


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"\xef\xbb\xbf"])
def test_empty_body_is_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError, match="header"):
        parse(raw)


def test_header_alone_gives_no_events_and_no_errors() -> None:
    result = parse(FULL_HEADER + "\n")
    assert (result.events, result.errors) == ([], [])


@pytest.mark.parametrize(
    "raw", [b"tracking_number,status,occurred_at\nRX\xff,x,y\n", "трек".encode("cp1251")]
)
def test_bytes_that_are_not_utf8_are_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError, match="UTF-8"):
        parse(raw)


def test_each_bad_row_is_rejected_with_its_data_row_index_and_column() -> None:
    text = "\n".join(
        [
            "tracking_number,status,substatus,occurred_at,country",
            "RX747628194CN,in_transit,departed,2026-11-20T08:31:00+08:00,CN",
            "RX747628194CN,teleported,,2026-11-20T08:31:00+08:00,CN",
            "RX747628194CN,in_transit,flying,2026-11-20T08:31:00+08:00,CN",
            "RX747628194CN,in_transit,,2026-11-20T08:31:00,CN",
            "RX747628194CN,in_transit,,2026-11-20T08:31:00Z,China",
            ",in_transit,,2026-11-20T08:31:00Z,CN",
            "RX747628194CN,in_transit,,2026-11-20T08:31:00Z",
            "RX747628194CN,delivered,,2026-11-21T10:00:00Z,RU",
        ]
    )
    result = parse(text)
    assert result.indexes == [0, 7]
    assert [(e.index, e.field) for e in result.errors] == [
        (1, "status"),
        (2, "substatus"),
        (3, "occurred_at"),
        (4, "country"),
        (5, "tracking_number"),
        (6, None),
    ]
    assert "5 fields" in result.errors[-1].error or "4 fields" in result.errors[-1].error


def test_blank_lines_are_skipped_and_not_counted() -> None:
    text = (
        "tracking_number,status,occurred_at\n\nRX747628194CN,delivered,2026-11-20T08:31:00Z\n\n,delivered,x\n"
    )
    result = parse(text)
    assert result.indexes == [0] and [e.index for e in result.errors] == [1]


def test_quoted_fields_may_hold_delimiters_and_line_breaks() -> None:
    text = (
        "tracking_number,status,occurred_at,description\n"
        'RX747628194CN,in_transit,2026-11-20T08:31:00Z,"Arrived, sorted\nand departed"\n'
    )
    (event,) = parse(text).events
    assert event.description == "Arrived, sorted\nand departed"


def test_substatus_may_be_written_with_its_status_prefix() -> None:
    (event,) = parse(
        "tracking_number,status,substatus,occurred_at\nRX747628194CN,in_transit,in_transit/departed,2026-11-20T08:31Z\n"
    ).events
    assert event.substatus == "departed"


def test_body_with_a_nul_byte_is_refused_as_binary() -> None:
    with pytest.raises(PayloadError, match="NUL"):
        parse(b"tracking_number,status,occurred_at\nRX747628194CN,delivered,\x00\n")
