"""tracking.events: canonical scans, their identity (fingerprint), locations and what adapters report."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracking.events import (
    ItemError,
    ItemNotice,
    Location,
    ParseResult,
    ScanEvent,
    as_utc,
    normalize_number,
    normalize_text,
)
from tracking.statuses import Status

MOSCOW_TIME = timezone(timedelta(hours=3))
MOSCOW = Location(name="Moscow", country="RU", postcode="101000", place_id="ru_moscow")


def event(**changes: object) -> ScanEvent:
    base = ScanEvent(
        "RX747628194CN",
        Status.IN_TRANSIT,
        "arrived",
        datetime(2026, 10, 1, 11, 30, 15, tzinfo=MOSCOW_TIME),
        "russian_post",
        MOSCOW,
        description="Прибыло в место вручения",
        raw_code="8.2",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_scan_needs_a_utc_offset() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        event(occurred_at=datetime(2026, 10, 1, 11, 30))


def test_a_scan_keeps_the_carriers_local_time_and_gives_the_instant_in_utc() -> None:
    scan = event()
    assert scan.occurred_at.utcoffset() == timedelta(hours=3)
    assert scan.occurred_at_utc == datetime(2026, 10, 1, 8, 30, 15, tzinfo=UTC)
    assert scan.utc_offset_minutes == 180


def test_the_offset_west_of_utc_is_negative_minutes() -> None:
    scan = event(occurred_at=datetime(2026, 10, 1, 9, 0, tzinfo=timezone(-timedelta(hours=5, minutes=30))))
    assert scan.utc_offset_minutes == -330


def test_a_reworded_or_recoded_resend_has_the_same_fingerprint() -> None:
    resent = event(description="Arrived at the delivery office", raw_code="X")
    assert resent.fingerprint() == event().fingerprint()


def test_the_fingerprint_ignores_seconds_and_the_offset_the_instant_is_written_in() -> None:
    same_minute_in_utc = datetime(2026, 10, 1, 8, 30, 59, tzinfo=UTC)
    assert event().fingerprint() == event(occurred_at=same_minute_in_utc).fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"occurred_at": datetime(2026, 10, 1, 11, 31, tzinfo=MOSCOW_TIME)},
        {"status": Status.EXCEPTION, "substatus": "delayed"},
        {"substatus": "departed"},
        {"location": dataclasses.replace(MOSCOW, postcode="101001")},
    ],
)
def test_what_happened_when_and_where_make_the_fingerprint(changes: dict[str, object]) -> None:
    assert event(**changes).fingerprint() != event().fingerprint()


def test_the_fingerprint_uses_the_resolved_location_when_given_one() -> None:
    unresolved = event(location=Location(name="Москва", country="RU", postcode="101000"))
    assert unresolved.fingerprint(MOSCOW) == event().fingerprint()
    assert unresolved.fingerprint() != event().fingerprint()


def test_two_spellings_of_one_place_share_a_key_and_two_offices_of_a_city_do_not() -> None:
    russian = Location(name="Москва", country="RU", postcode="101000", place_id="ru_moscow")
    assert russian.key() == MOSCOW.key() == "place:ru_moscow|101000"
    assert dataclasses.replace(MOSCOW, postcode="125009").key() != MOSCOW.key()


def test_an_unresolved_location_is_keyed_by_country_postcode_and_normalised_name() -> None:
    assert Location(name="  Shenzhen   Hub ", country="cn").key() == "CN||shenzhen hub"
    shouted, quiet = Location(name="SHENZHEN HUB", country="CN"), Location(name="shenzhen hub", country="CN")
    assert shouted.key() == quiet.key()


def test_a_location_is_empty_only_when_nothing_about_the_place_was_said() -> None:
    assert Location().is_empty()
    assert Location(lat=55.7, lon=37.6).is_empty()  # coordinates alone do not name a place
    assert not Location(country="RU").is_empty()
    assert not Location(place_id="ru_moscow").is_empty()


def test_a_parse_result_keeps_each_events_payload_item() -> None:
    result = ParseResult()
    result.add(event(), 3)
    result.add(event(substatus="departed"), 5)
    assert result.indexes == [3, 5]
    assert [e.substatus for e in result.events] == ["arrived", "departed"]


def test_a_rejected_item_is_an_error_with_its_index_and_field() -> None:
    result = ParseResult()
    result.reject(2, "occurred_at is not a time", "occurred_at")
    assert result.errors == [ItemError(2, "occurred_at is not a time", "occurred_at")]
    assert result.errors[0].as_dict() == {
        "index": 2,
        "error": "occurred_at is not a time",
        "field": "occurred_at",
    }
    assert ItemError(0, "bad").as_dict() == {"index": 0, "error": "bad"}


def test_a_notice_is_counted_as_ignored_and_reported_not_rejected() -> None:
    result = ParseResult()
    result.notice(4, "RA123456789RU", "12", "no data for this number")
    assert result.ignored == 1
    assert result.errors == []
    assert result.notices[0].as_dict() == {
        "index": 4,
        "tracking_number": "RA123456789RU",
        "code": "12",
        "reason": "no data for this number",
    }
    assert isinstance(result.notices[0], ItemNotice)


def test_unmapped_codes_are_counted_per_code() -> None:
    result = ParseResult()
    for code in ("99.1", "99.1", "77"):
        result.note_unmapped(code)
    assert result.unmapped == {"99.1": 2, "77": 1}


def test_a_number_is_stored_upper_case_without_spaces_dashes_or_tabs() -> None:
    assert normalize_number(" rx 747-628\t194cn") == "RX747628194CN"


def test_text_is_compared_casefolded_nfkc_with_single_spaces() -> None:
    assert normalize_text("  ＳＨＥＮＺＨＥＮ\u00a0 Straße ") == "shenzhen strasse"


def test_a_naive_moment_is_read_as_utc_and_an_aware_one_converted() -> None:
    assert as_utc(datetime(2026, 10, 1, 8, 0)) == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    converted = as_utc(datetime(2026, 10, 1, 11, 0, tzinfo=MOSCOW_TIME))
    assert converted.tzinfo is UTC and converted.hour == 8
