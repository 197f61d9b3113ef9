"""The plausible-time windows (tracking.plausibility): one place, checked in UTC, never an overflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking import ingest
from tracking.events import ParseResult, ScanEvent
from tracking.plausibility import AS_OF, EARLIEST, EVENT_TIME, SHIP_AT, Window, screen_event_times, to_utc
from tracking.statuses import Status

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
WINDOWS = [EVENT_TIME, SHIP_AT, AS_OF]
# Every offset an ISO 8601 time may carry, whole minutes within ±23:59.
OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
MOMENTS = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    OFFSETS,
)


def scan(at: datetime) -> ScanEvent:
    return ScanEvent("RX747628194CN", Status.IN_TRANSIT, "departed", at, "acme_post")


def test_the_windows_are_the_documented_ones():
    assert datetime(2010, 1, 1, tzinfo=UTC) == EARLIEST
    assert EVENT_TIME.bounds(NOW) == (EARLIEST, NOW + timedelta(days=1))
    assert SHIP_AT.bounds(NOW) == (EARLIEST, NOW + timedelta(days=365))
    assert AS_OF.bounds(NOW) == (EARLIEST, NOW + timedelta(days=365))


def test_ingestion_refuses_the_same_day_ahead_as_the_event_window():
    assert EVENT_TIME.future == ingest.MAX_FUTURE


@given(MOMENTS, st.sampled_from(WINDOWS))
def test_any_time_is_judged_never_raising_and_accepted_exactly_inside_the_window(moment, window: Window):
    problem = window.check(moment, NOW, "at")
    first, last = window.bounds(NOW)
    instant = to_utc(moment)
    inside = instant is not None and first <= instant <= last
    assert (problem is None) == inside
    if problem is not None:
        assert problem.startswith("at ") and window.rule in problem


@given(st.text(max_size=40), st.sampled_from(WINDOWS))
def test_free_text_that_parses_as_a_time_is_judged_without_raising(text, window: Window):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return
    if moment.tzinfo is not None:
        window.check(moment, NOW, "at")


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"],
)
def test_a_time_past_the_calendar_once_in_utc_is_refused_not_an_overflow(text):
    moment = datetime.fromisoformat(text)
    assert to_utc(moment) is None
    assert "is not a time Silkway can place in UTC" in (EVENT_TIME.check(moment, NOW, "occurred_at") or "")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2009-12-31T23:59:59Z", False),
        ("2010-01-01T00:00:00Z", True),
        ("2010-01-01T07:59:59+08:00", False),
        ("2026-11-21T06:00:00Z", True),
        ("2026-11-21T06:00:01Z", False),
    ],
)
def test_event_window_edges(text, ok):
    assert (EVENT_TIME.check(datetime.fromisoformat(text), NOW, "occurred_at") is None) is ok


def test_screening_moves_only_the_implausible_events_to_item_errors():
    parsed = ParseResult()
    parsed.add(scan(NOW - timedelta(days=3)), 0)
    parsed.add(scan(datetime(2000, 1, 1, tzinfo=UTC)), 1)
    parsed.add(scan(NOW + timedelta(days=2)), 2)
    parsed.reject(3, "status is required", "status")
    screened = screen_event_times(parsed, NOW)
    assert screened.indexes == [0]
    assert [(e.index, e.field) for e in screened.errors] == [
        (3, "status"),
        (1, "occurred_at"),
        (2, "occurred_at"),
    ]


def test_screening_a_plausible_payload_changes_nothing():
    parsed = ParseResult()
    parsed.add(scan(NOW), 0)
    assert screen_event_times(parsed, NOW) is parsed
