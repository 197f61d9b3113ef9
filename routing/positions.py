"""Where a scan really places a parcel, for the Monte Carlo answer (the network prior, cold start).

Carriers name a city for every facility in it: "Moscow, customs processing" is a scan at one of Moscow's
exchange offices, not in the city's last mile. Read literally, such a scan puts the parcel at the end of
its route (and the route, and the answer, would end now). A customs scan at a city is therefore placed at
the city's nearest import exchange office (within ``EXCHANGE_RADIUS_KM``), or nowhere known when the city
has none; every other scan keeps its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from geopy.distance import geodesic

from routing.network import IMPORT_EXCHANGE_ROLES, Network
from routing.tracks import ParcelTrack, TrackScan

# Substatuses said of a parcel still with the destination country's customs (before its last mile).
CUSTOMS_SUBSTATUSES = frozenset({
    "arrived_destination_country", "customs_processing", "customs_cleared", "customs_held",
    "customs_duty_due", "customs_duty_paid", "handed_over",
})
EXCHANGE_RADIUS_KM = 100.0
LAST_MILE_CITY = "last_mile_city"


def exchange_near(network: Network, city: str) -> str | None:
    """The active import exchange office nearest to ``city`` within EXCHANGE_RADIUS_KM, or None."""
    kept = _NEAREST.get(id(network))
    if kept is None or kept[0] is not network:
        kept = _NEAREST[id(network)] = (network, _nearest_exchanges(network))
    return kept[1].get(city)


_NEAREST: dict[int, tuple[Network, dict[str, str | None]]] = {}  # by network, worked out once each


def _nearest_exchanges(network: Network) -> dict[str, str | None]:
    exchanges = [p for p in network.places.values() if p.role in IMPORT_EXCHANGE_ROLES and p.active]
    found: dict[str, str | None] = {}
    for place in network.places.values():
        distances = [(geodesic((place.lat, place.lon), (e.lat, e.lon)).km, e.id) for e in exchanges]
        near = [d for d in distances if d[0] <= EXCHANGE_RADIUS_KM]
        found[place.id] = min(near)[1] if near else None
    return found


def placed_scan(network: Network, scan: TrackScan) -> TrackScan:
    """``scan`` with the place it really tells: a customs scan at a city moves to its exchange office."""
    place = scan.place_id
    if place is None or place not in network.places or scan.substatus not in CUSTOMS_SUBSTATUSES:
        return scan
    if network.place(place).role != LAST_MILE_CITY:
        return scan
    return replace(scan, place_id=exchange_near(network, place))


def placed_track(network: Network, track: ParcelTrack) -> ParcelTrack:
    """``track`` with every scan placed where it really tells (the same track when none moves)."""
    scans: Sequence[TrackScan] = [placed_scan(network, s) for s in track.scans]
    if all(a is b for a, b in zip(scans, track.scans, strict=True)):
        return track
    return replace(track, scans=tuple(scans))
