"""The ETA engine: quotes before shipping and estimates for parcels under way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.errors import NoRoute, UnknownPlace
from routing.eta import EtaEngine
from routing.tracks import ParcelTrack, TrackScan

SHIP = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def days(moment: datetime, since: datetime) -> float:
    return (moment - since).total_seconds() / 86400


def scan(
    place: str | None,
    at: datetime,
    status: str = "in_transit",
    substatus: str = "arrived",
) -> TrackScan:
    country = None if place is None else place[:2].upper()
    return TrackScan(place, country, status, substatus, at)


def test_quote_gives_ordered_utc_quantiles_route_and_model(engine: EtaEngine) -> None:
    quote = engine.quote("Shenzhen", "Moscow", "premium_air", SHIP)
    assert quote.p10 <= quote.p50 <= quote.p90
    assert quote.p10.tzinfo is not None and quote.p10.utcoffset() == timedelta(0)
    assert quote.route[0] == "cn_shenzhen" and quote.route[-1] == "ru_moscow"
    assert quote.service == "premium_air"
    assert quote.model_version == "prior" and quote.learned_from == 0
    assert quote.spread_hours == pytest.approx((quote.p90 - quote.p10).total_seconds() / 3600)
    assert 4 < days(quote.p50, SHIP) < 15


def test_quotes_are_reproducible(engine: EtaEngine) -> None:
    first = engine.quote("cn_yiwu", "ru_novosibirsk", "economy_rail", SHIP)
    again = EtaEngine().quote("cn_yiwu", "ru_novosibirsk", "economy_rail", SHIP)
    assert (first.p10, first.p50, first.p90) == (again.p10, again.p50, again.p90)


def test_rail_is_slower_than_premium_air(engine: EtaEngine) -> None:
    air = engine.quote("cn_yiwu", "ru_moscow", "premium_air", SHIP)
    rail = engine.quote("cn_yiwu", "ru_moscow", "economy_rail", SHIP)
    assert rail.p50 > air.p90


def test_chinese_new_year_delays_the_quote(engine: EtaEngine) -> None:
    normal_ship = datetime(2026, 3, 16, 8, tzinfo=UTC)
    festive_ship = datetime(2026, 2, 11, 8, tzinfo=UTC)  # Spring Festival 16–19 Feb 2026
    normal = engine.quote("Shenzhen", "Moscow", "standard_air", normal_ship)
    festive = engine.quote("Shenzhen", "Moscow", "standard_air", festive_ship)
    assert days(festive.p50, festive_ship) > days(normal.p50, normal_ship) + 5


def test_russian_january_holidays_delay_the_quote(engine: EtaEngine) -> None:
    normal_ship = datetime(2026, 11, 23, 8, tzinfo=UTC)
    festive_ship = datetime(2026, 12, 25, 8, tzinfo=UTC)  # reaches the MMPO around New Year
    normal = engine.quote("Hangzhou", "Kazan", "premium_air", normal_ship)
    festive = engine.quote("Hangzhou", "Kazan", "premium_air", festive_ship)
    assert days(festive.p50, festive_ship) > days(normal.p50, normal_ship) + 4


def test_unknown_destination_names_the_field(engine: EtaEngine) -> None:
    with pytest.raises(UnknownPlace) as caught:
        engine.quote("Shenzhen", "Atlantis", "premium_air", SHIP)
    assert caught.value.field == "destination"


def test_impossible_route_raises_no_route(engine: EtaEngine) -> None:
    with pytest.raises(NoRoute):
        engine.quote("Hangzhou", "Kazan", "sea_rail_far_east", SHIP)


def test_time_already_spent_at_customs_moves_the_estimate_later(engine: EtaEngine) -> None:
    arrived = SHIP + timedelta(days=3)
    track = ParcelTrack(
        ("RX747628194CN",), "premium_air", "cn_shenzhen", "ru_moscow",
        [scan("cn_shenzhen", SHIP, substatus="picked_up"), scan("ru_mmpo_sheremetyevo", arrived)],
    )
    soon = engine.in_flight(track, arrived + timedelta(hours=2))
    later = engine.in_flight(track, arrived + timedelta(days=5))
    assert later.p50 > soon.p50 + timedelta(days=2)
    assert later.p10 >= arrived + timedelta(days=5)
    assert soon.route[0] == "ru_mmpo_sheremetyevo" and soon.route[-1] == "ru_moscow"


def test_departed_parcel_is_conditioned_on_the_leg_not_the_dwell(engine: EtaEngine) -> None:
    left = SHIP + timedelta(days=1)
    track = ParcelTrack(
        ("LP00123456789012",), "economy_rail", "cn_yiwu", "ru_moscow",
        [scan("cn_yiwu", SHIP, substatus="picked_up"), scan("cn_yiwu", left, substatus="departed")],
    )
    estimate = engine.in_flight(track, left + timedelta(hours=1))
    assert estimate.p10 > left + timedelta(days=5)


def test_scans_after_as_of_are_ignored(engine: EtaEngine) -> None:
    track = ParcelTrack(
        ("RX747628194CN",), "premium_air", "cn_shenzhen", "ru_moscow",
        [scan("cn_shenzhen", SHIP), scan("ru_moscow", SHIP + timedelta(days=8), "delivered", "recipient")],
    )
    before = engine.in_flight(track, SHIP + timedelta(days=1))
    after = engine.in_flight(track, SHIP + timedelta(days=9))
    assert before.p10 < before.p90
    assert after.p10 == after.p50 == after.p90 == SHIP + timedelta(days=8)


def test_unregistered_parcel_gets_a_wider_answer(engine: EtaEngine) -> None:
    scans = [scan("cn_shenzhen", SHIP, substatus="picked_up")]
    registered = ParcelTrack(("RX747628194CN",), "standard_air", "cn_shenzhen", "ru_moscow", scans)
    unknown = ParcelTrack(("RX747628194CN",), None, None, None, scans)
    as_of = SHIP + timedelta(hours=2)
    sure = engine.in_flight(registered, as_of)
    unsure = engine.in_flight(unknown, as_of)
    assert unsure.spread_hours > sure.spread_hours
    assert unsure.candidates[0].destination == "ru_moscow"


def test_hong_kong_scan_points_at_sea_rail(engine: EtaEngine) -> None:
    track = ParcelTrack(
        ("UA123456785CN",), None, None, None,
        [scan("cn_shenzhen", SHIP), scan("hk_hongkong", SHIP + timedelta(days=1))],
    )
    estimate = engine.in_flight(track, SHIP + timedelta(days=1, hours=2))
    assert estimate.service == "sea_rail_far_east"
    assert sum(c.weight for c in estimate.candidates if c.service == "sea_rail_far_east") > 0.9


def test_russian_city_scan_fixes_the_destination(engine: EtaEngine) -> None:
    track = ParcelTrack(
        ("RX747628194CN",), None, None, None,
        [scan("cn_shenzhen", SHIP), scan("ru_kazan", SHIP + timedelta(days=9))],
    )
    estimate = engine.in_flight(track, SHIP + timedelta(days=9, hours=1))
    assert {c.destination for c in estimate.candidates} == {"ru_kazan"}


def test_parcel_with_no_known_place_is_quoted_from_a_default_origin(engine: EtaEngine) -> None:
    scans = [scan(None, SHIP, "info_received", "other")]
    track = ParcelTrack(("RX747628194CN",), None, None, "Novosibirsk", scans)
    estimate = engine.in_flight(track, SHIP + timedelta(hours=3))
    assert estimate.route[-1] == "ru_novosibirsk"
    assert SHIP < estimate.p10 <= estimate.p50 <= estimate.p90


def test_customs_scan_named_after_a_city_is_not_an_arrival_there(engine: EtaEngine) -> None:
    # The network prior alone (no learned model): "Moscow, customs processing" of a parcel bound for a
    # city nobody told is at a Moscow exchange office, days from arrival, wherever it is going.
    at_customs = SHIP + timedelta(days=4)
    track = ParcelTrack(
        ("RX747628194CN",), None, None, None,
        [scan("cn_shenzhen", SHIP, substatus="picked_up"),
         scan("ru_moscow", at_customs, substatus="customs_processing")],
    )
    as_of = at_customs + timedelta(hours=6)
    estimate = engine.in_flight(track, as_of)
    assert estimate.p50 > as_of + timedelta(hours=12)
    assert estimate.spread_hours >= 24
    assert estimate.route[0] in {"ru_mmpo_sheremetyevo", "ru_mmpo_vnukovo"}
    assert len({c.destination for c in estimate.candidates}) > 1  # averaged over the likely cities
    assert estimate.learned_from == 0


def test_parcel_scanned_in_its_destination_city_is_still_on_its_last_mile(engine: EtaEngine) -> None:
    in_city = SHIP + timedelta(days=9)
    track = ParcelTrack(
        ("RX747628194CN",), "standard_air", "cn_shenzhen", "ru_kazan",
        [scan("cn_shenzhen", SHIP), scan("ru_kazan", in_city, substatus="in_sorting")],
    )
    as_of = in_city + timedelta(hours=1)
    estimate = engine.in_flight(track, as_of)
    assert as_of < estimate.p10 < estimate.p50 < estimate.p90
