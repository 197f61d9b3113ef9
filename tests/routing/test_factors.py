"""Why an ETA says what it says: the factors of in-flight answers (routing/factors.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routing.eta import EtaEngine
from routing.factors import Factor, signed_duration
from routing.model import LegTimeModel
from routing.remaining import fit_remaining
from routing.tracks import ParcelTrack, TrackScan
from tests.routing.test_remaining import at, customs_parcels


def scan(place: str, moment: datetime, status: str = "in_transit", substatus: str = "arrived") -> TrackScan:
    return TrackScan(place, place[:2].upper(), status, substatus, moment)


def codes(factors: tuple[Factor, ...]) -> list[str]:
    return [f.code for f in factors]


def test_every_in_flight_answer_counts_from_where_the_parcel_is(engine: EtaEngine) -> None:
    start = datetime(2026, 5, 4, 8, tzinfo=UTC)
    track = ParcelTrack(("RX747628194CN",), None, None, None,
                        [scan("cn_shenzhen", start, substatus="picked_up"),
                         scan("ru_moscow", start + timedelta(days=4), substatus="customs_processing")])
    as_of = start + timedelta(days=4, hours=6)
    estimate = engine.in_flight(track, as_of)
    first = estimate.factors[0]
    assert first.code == "from_here" and first.params["place"] in {"ru_mmpo_sheremetyevo", "ru_mmpo_vnukovo"}
    assert abs(first.effect_hours - (estimate.p50 - as_of).total_seconds() / 3600) < 0.1
    handed = scan("ru_moscow", start + timedelta(days=8), "delivered", "recipient")
    delivered = ParcelTrack(track.numbers, None, None, None, [*track.scans, handed])
    assert engine.in_flight(delivered, start + timedelta(days=9)).factors == ()


def test_a_twice_weekly_train_names_the_day_it_leaves(engine: EtaEngine) -> None:
    monday = datetime(2026, 5, 4, 8, tzinfo=UTC)
    track = ParcelTrack(("LP00123456789012",), "economy_rail", "cn_yiwu", "ru_moscow",
                        [scan("cn_yiwu", monday, substatus="picked_up")])
    estimate = engine.in_flight(track, monday + timedelta(hours=3))
    [train] = [f for f in estimate.factors if f.code == "next_departure"]
    leaves = train.departs_at()
    assert train.params["mode"] == "rail" and leaves > monday + timedelta(days=1)
    assert train.text == f"The next train from Yiwu leaves on {leaves:%A}"
    assert train.effect_hours >= 24


def test_the_spring_festival_and_the_russian_new_year_are_named_with_their_pause(engine: EtaEngine) -> None:
    festival = datetime(2027, 2, 3, tzinfo=UTC)  # the 2027 Spring Festival is on 6 February
    china = ParcelTrack(("RX747628194CN",), "standard_air", "cn_shenzhen", "ru_moscow",
                        [scan("cn_shenzhen", festival, substatus="picked_up")])
    found = engine.in_flight(china, festival + timedelta(hours=5)).factors
    [pause] = [f for f in found if f.code == "holiday"]
    assert pause.params["holiday"] == "cn_new_year" and pause.effect_hours > 5 * 24
    assert pause.text.startswith("The Spring Festival pause in China: +")
    new_year = datetime(2026, 12, 30, tzinfo=UTC)
    russia = ParcelTrack(("RX747628194CN",), "standard_air", "cn_shenzhen", "ru_novosibirsk",
                         [scan("cn_shenzhen", new_year - timedelta(days=6), substatus="picked_up"),
                          scan("ru_lc_novosibirsk", new_year)])
    found = engine.in_flight(russia, new_year + timedelta(hours=5)).factors
    [holidays] = [f for f in found if f.code == "holiday"]
    assert holidays.params["holiday"] == "ru_new_year" and holidays.effect_hours >= 5 * 24


def test_a_customs_backlog_is_named_with_what_it_adds() -> None:
    backlog, now = 24 * 60.0, 24 * 61.0  # customs stopped releasing a day ago
    model = LegTimeModel(version="backlog", trained_at=at(now),
                         remaining=fit_remaining(customs_parcels(backlog, now), at(now)))
    entered = TrackScan("ru_mmpo_vnukovo", "RU", "in_transit", "customs_processing", at(now - 20))
    waiting = ParcelTrack(("LP99",), "standard_air", None, "ru_moscow", (entered,))
    estimate = EtaEngine(model=model).in_flight(waiting, at(now))
    [slower] = [f for f in estimate.factors if f.code == "slower_here"]
    assert slower.effect_hours > 6 and slower.params["place"] == "ru_mmpo_vnukovo"
    assert slower.text == f"{slower.params['place_name']} is slower than usual this week: " + signed_duration(
        slower.effect_hours)
    assert codes(estimate.factors)[0] == "from_here"


def test_factors_travel_in_the_answer_as_plain_json(engine: EtaEngine) -> None:
    monday = datetime(2026, 5, 4, 8, tzinfo=UTC)
    track = ParcelTrack(("LP00123456789012",), "economy_rail", "cn_yiwu", "ru_moscow",
                        [scan("cn_yiwu", monday, substatus="picked_up")])
    body = engine.in_flight(track, monday + timedelta(hours=3)).to_dict()
    keys = {"code", "text", "params", "effect_hours"}
    assert body["factors"] and all(set(f) == keys for f in body["factors"])
    assert all(isinstance(v, str) for f in body["factors"] for v in f["params"].values())
