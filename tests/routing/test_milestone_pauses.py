"""Holiday pauses in the milestone model's answers (routing/milestone_pauses.py): the calendar's pause
when the model's history did not hold it, nothing added when it did."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from routing.eta import EtaEngine
from routing.holidays_calendar import to_hours
from routing.milestone_pauses import pauses_ahead
from routing.model import LegTimeModel
from routing.remaining import fit_remaining
from routing.tracks import ParcelTrack, TrackScan

LEARNED_AT = datetime(2026, 6, 1, tzinfo=UTC)
FESTIVAL_2027 = datetime(2027, 2, 6, tzinfo=UTC)  # the Spring Festival of 2027 (Chinese New Year's Day)


def accepted(at: datetime, number: str = "LP00000000000001") -> ParcelTrack:
    return ParcelTrack((number,), "standard_air", None, "ru_moscow",
                       (TrackScan(None, "CN", "in_transit", "picked_up", at, number),))


def engine() -> EtaEngine:
    """A milestone model learned in May 2026 from parcels that took 8 to 14 days from acceptance."""
    rng = random.Random(5)
    tracks = []
    for i in range(300):
        start = LEARNED_AT - timedelta(days=40) + timedelta(hours=2.3 * i)
        track = accepted(start, f"LP{i:014d}")
        arrival = start + timedelta(days=rng.uniform(8, 14))
        if arrival <= LEARNED_AT:
            delivered = TrackScan("ru_moscow", "RU", "delivered", "recipient", arrival)
            track = ParcelTrack(track.numbers, track.service, None, "ru_moscow", (*track.scans, delivered))
        tracks.append(track)
    model = LegTimeModel(version="may", trained_at=LEARNED_AT, remaining=fit_remaining(tracks, LEARNED_AT))
    return EtaEngine(model=model)


def test_a_spring_festival_the_history_never_held_stops_the_clock_in_china() -> None:
    eta = engine()
    before = FESTIVAL_2027 - timedelta(days=4)
    answer = eta.in_flight(accepted(before), before + timedelta(hours=2))
    plain = eta.model.remaining.quantiles(accepted(before), before + timedelta(hours=2))  # type: ignore[union-attr]
    assert plain is not None and answer.basis == "milestone"
    assert answer.p50 - plain[1] > timedelta(days=5)  # the pause: three days before to five after
    summer = datetime(2026, 7, 6, tzinfo=UTC)
    same = eta.in_flight(accepted(summer), summer + timedelta(hours=2))
    raw = eta.model.remaining.quantiles(accepted(summer), summer + timedelta(hours=2))  # type: ignore[union-attr]
    assert raw is not None
    told = (same.p10, same.p50, same.p90)
    assert all(abs(a - b) < timedelta(seconds=1) for a, b in zip(told, raw, strict=True))


def test_a_pause_in_the_models_recent_history_is_learned_not_added_again() -> None:
    during = FESTIVAL_2027 + timedelta(days=10)
    seen = pauses_ahead("CN", during, 30.0)
    unseen = pauses_ahead("CN", LEARNED_AT, 30.0)
    assert seen is not None and unseen is not None
    festival = to_hours(FESTIVAL_2027)
    assert not ((seen.starts <= festival) & (seen.ends > festival)).any()
    assert ((unseen.starts <= festival) & (unseen.ends > festival)).any()
    assert pauses_ahead("DE", LEARNED_AT, 30.0) is None
