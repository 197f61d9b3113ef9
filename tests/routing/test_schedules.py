"""Scheduled legs make parcels wait for the next departure; holidays pause work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.holidays_calendar import working_time_end
from routing.network import load_network
from routing.schedules import next_departure, parse_frequency, schedule_for_leg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/week (Cainiao, 2020); Moscow airport not stated", ("week", 3.0)),
        ("2–3/week (2018 plan)", ("week", 2.0)),
        ("weekly Russian Post Tu-204C, up to 23 t/week (ePacket); plan 3–4/week", ("week", 1.0)),
        ("avg 13 inbound trains/day (record 20)", ("day", 13.0)),
        ("14 fixed-schedule CE trains/week (2025)", ("week", 14.0)),
        ("3–4/month", ("month", 3.0)),
        ("multiple daily (estimate)", ("day", 4.0)),
        ("per flight (estimate)", ("continuous", 0.0)),
        ("regular (2018 launch; frequency not stated)", None),
        ("", None),
    ],
)
def test_frequency_text_is_read_with_a_small_table(text: str, expected: tuple[str, float] | None) -> None:
    assert parse_frequency(text) == expected


def test_unknown_frequency_is_a_daily_noon_assumption() -> None:
    network = load_network()
    leg = network.leg("hk_hongkong", "ru_mmpo_vladivostok")
    assert leg is not None
    schedule = schedule_for_leg(leg, "Asia/Hong_Kong")
    assert schedule.assumed and schedule.hours == (12.0,) and not schedule.continuous


def test_parcel_that_misses_the_cutoff_waits_for_the_next_flight() -> None:
    # Changsha–Moscow flies 3 a week (Mon, Wed, Sat at 23:00 Beijing time, cut-off 4 h before).
    leg = load_network().leg("cn_air_csx", "ru_air_svo")
    assert leg is not None
    in_time = next_departure(leg, datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # Monday 18:00 Beijing
    too_late = next_departure(leg, datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # Monday 20:00 Beijing
    assert in_time == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert too_late == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def test_no_flight_leaves_china_during_the_spring_festival() -> None:
    leg = load_network().leg("cn_air_pvg", "ru_air_svo")
    assert leg is not None
    departure = next_departure(leg, datetime(2026, 2, 14, 10, 0, tzinfo=UTC))
    assert departure > datetime(2026, 2, 24, tzinfo=UTC)


def test_continuous_leg_leaves_at_once() -> None:
    leg = load_network().leg("cn_manzhouli", "ru_zabaikalsk")
    assert leg is not None
    ready = datetime(2026, 5, 5, 7, 30, tzinfo=UTC)
    assert next_departure(leg, ready) == ready


def test_russian_work_stops_over_the_january_holidays() -> None:
    end = working_time_end("RU", datetime(2026, 12, 31, 12, 0, tzinfo=UTC), 24)
    # 9 h before midnight Moscow time, then nothing until 9 January (Moscow), then the other 15 h.
    assert end == datetime(2027, 1, 9, 12, 0, tzinfo=UTC)


def test_work_outside_holidays_takes_its_hours() -> None:
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert working_time_end("RU", start, 10) == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    assert working_time_end("KZ", start, 10) == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
