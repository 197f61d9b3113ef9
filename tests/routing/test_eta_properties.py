"""Whatever the question, quantiles come out ordered and after the parcel was shipped or last seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.errors import NoRoute
from routing.eta import EtaEngine
from routing.network import load_network
from routing.services import load_services
from routing.tracks import ParcelTrack, TrackScan

NETWORK = load_network()
ORIGIN_ROLES = {"origin_hub", "export_consolidation_hub"}
ORIGINS = sorted(p.id for p in NETWORK.places.values() if p.role in ORIGIN_ROLES)
CITIES = sorted(p.id for p in NETWORK.places.values() if p.role == "last_mile_city")
PLACES = sorted(p.id for p in NETWORK.places.values() if p.active)
SERVICES = sorted(load_services().services)
MOMENTS = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
ENGINE = EtaEngine(samples=500)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ORIGINS), st.sampled_from(CITIES), st.sampled_from(SERVICES), MOMENTS)
def test_quote_quantiles_are_ordered(origin: str, destination: str, service: str, ship_at: datetime) -> None:
    try:
        quote = ENGINE.quote(origin, destination, service, ship_at)
    except NoRoute:
        return
    assert ship_at <= quote.p10 <= quote.p50 <= quote.p90
    assert quote.route[0] == origin and quote.route[-1] == destination


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(PLACES), st.integers(0, 30 * 24)), min_size=0, max_size=4),
    st.one_of(st.none(), st.sampled_from(SERVICES)),
    st.one_of(st.none(), st.sampled_from(CITIES)),
    MOMENTS,
    st.integers(0, 40 * 24),
)
def test_in_flight_quantiles_are_ordered_and_not_in_the_past(
    visits: list[tuple[str, int]], service: str | None, destination: str | None, start: datetime, wait: int
) -> None:
    scans = [
        TrackScan(place, NETWORK.place(place).country, "in_transit", "arrived", start + timedelta(hours=h))
        for place, h in sorted(visits, key=lambda v: v[1])
    ]
    as_of = start + timedelta(hours=max([h for _, h in visits], default=0) + wait)
    track = ParcelTrack(("RX747628194CN",), service, None, destination, scans)
    try:
        estimate = ENGINE.in_flight(track, as_of)
    except NoRoute:
        return
    assert estimate.p10 <= estimate.p50 <= estimate.p90
    assert estimate.p10 >= as_of - timedelta(seconds=1)
