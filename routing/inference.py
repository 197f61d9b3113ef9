"""Guessing what a parcel's merchant did not register: its service and destination, with likelihoods."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from routing.errors import RoutingError
from routing.services import Lane, Router
from routing.tracks import ParcelTrack, TrackScan, aware

MAX_DESTINATIONS = 8
MIN_SHARE = 0.01
OFF_ROUTE_FACTOR = 0.05  # each visited place a service would not pass divides its odds by 20
# Places whose role gives the service away (an airport, a land border, a sea port, an exchange office).
REVEALING_ROLES = frozenset({
    "export_gateway_air", "export_gateway_sea", "border_crossing_cn", "border_crossing_ru",
    "border_crossing_transit", "import_exchange", "import_exchange_and_sorting", "rail_terminal",
})
TIMING_SIGMA = 0.6  # spread (log scale) of an observed time between two scans around the route's typical


@dataclass(frozen=True, slots=True)
class Candidate:
    """One reading of an unregistered parcel: a service and a destination, with its probability."""

    service: str
    origin: str
    destination: str
    weight: float


def _resolve(router: Router, value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        return router.network.resolve(value, field)
    except RoutingError:
        return None


def _known(router: Router, scans: list[TrackScan]) -> list[TrackScan]:
    return [s for s in scans if s.place_id is not None and s.place_id in router.network.places]


def into_china(router: Router, known: list[TrackScan]) -> bool:
    """Whether the scans tell a Russia → China parcel: first scanned in Russia, since then in China."""
    countries = [router.network.place(str(s.place_id)).country for s in known]
    return bool(countries) and countries[0] == "RU" and "CN" in countries


def _chinese_destinations(router: Router, known: list[TrackScan]) -> dict[str, float]:
    weights = dict(router.catalog.weights_by_country.get("CN", {}))
    chinese = [str(s.place_id) for s in known if router.network.place(str(s.place_id)).country == "CN"]
    if chinese and chinese[-1] in weights:
        return {chinese[-1]: 1.0}
    reachable = router.reachable(chinese[-1], "RU>CN")
    weights = {city: w for city, w in weights.items() if city in reachable} or weights
    top = sorted(weights.items(), key=lambda item: -item[1])[:MAX_DESTINATIONS]
    total = sum(w for _, w in top)
    return {city: w / total for city, w in top}


def destinations(router: Router, track: ParcelTrack, known: list[TrackScan]) -> dict[str, float]:
    """Destination candidates: the registered one, a Russian city scanned, else by the cities' shares
    (Chinese cities' shares for a parcel scanned in Russia and then in China)."""
    network = router.network
    registered = _resolve(router, track.destination, "destination")
    if registered:
        return {registered: 1.0}
    if into_china(router, known) and router.catalog.weights_by_country.get("CN"):
        return _chinese_destinations(router, known)
    cities = [s.place_id for s in known if s.place_id and network.place(s.place_id).role == "last_mile_city"]
    russian = [s.place_id for s in known if s.place_id and network.place(s.place_id).country == "RU"]
    if cities and network.place(cities[-1]).country == "RU":
        return {cities[-1]: 1.0}
    weights = dict(router.catalog.destination_weights)
    if russian:
        reachable = router.reachable(russian[-1])
        weights = {city: w for city, w in weights.items() if city in reachable} or weights
    top = sorted(weights.items(), key=lambda item: -item[1])[:MAX_DESTINATIONS]
    total = sum(w for _, w in top)
    return {city: w / total for city, w in top}


def _timing(router: Router, lane: Lane, known: list[TrackScan]) -> float:
    """Likelihood of the time between the first and the last scanned places under this route."""
    position = lane.position
    on_route = [s for s in known if s.place_id in position]
    if len(on_route) < 2:
        return 1.0
    first, last = on_route[0], on_route[-1]
    i, j = position[str(first.place_id)], position[str(last.place_id)]
    observed = (aware(last.at) - aware(first.at)).total_seconds() / 3600.0
    if j <= i or observed <= 0:
        return 1.0
    typical = lane.typical.get((i, j))
    if typical is None:
        typical = 0.0
        route = lane.route
        for a, b in zip(route[i:j], route[i + 1 : j + 1], strict=True):
            leg = router.network.leg(a, b)
            dwell = router.network.place(b).dwell
            typical += leg.hours.typical if leg else 0.0
            typical += dwell.typical if dwell and b != route[j] else 0.0
        lane.typical[(i, j)] = typical
    return math.exp(-0.5 * (math.log(observed / max(typical, 1.0)) / TIMING_SIGMA) ** 2)


def candidates(router: Router, track: ParcelTrack, as_of: datetime, default_origin: str) -> list[Candidate]:
    """Every plausible (service, destination) for a parcel, weighted by how well it explains the scans."""
    known = _known(router, track.scans_until(as_of))
    origin = _resolve(router, track.origin, "origin")
    if origin is None and into_china(router, known):
        origin = str(known[0].place_id)  # Russia → China: where it was first scanned in Russia
    if origin is None:
        abroad = [str(s.place_id) for s in known if router.network.place(str(s.place_id)).country != "RU"]
        origin = abroad[0] if abroad else default_origin
    registered = track.service if track.service in router.catalog.services else None
    numbers = track.numbers_until(as_of)
    services = [router.catalog.get(registered)] if registered else list(router.catalog.services.values())
    revealing = {s.place_id for s in known if router.network.place(str(s.place_id)).role in REVEALING_ROLES}
    # How much the numbers point at each service does not depend on the destination: once per service.
    priors = [1.0 if registered else svc.share * svc.number_likelihood(numbers) for svc in services]
    found: list[tuple[str, str, float]] = []  # (service, destination, weight)
    for destination, p_destination in destinations(router, track, known).items():
        for service, prior in zip(services, priors, strict=True):
            lane = router.lane(service.code, origin, destination)
            if lane is None:
                continue
            off_route = len(revealing - lane.allowed)
            weight = p_destination * prior * OFF_ROUTE_FACTOR**off_route * _timing(router, lane, known)
            found.append((service.code, destination, weight))
    total = sum(c[2] for c in found)
    if total <= 0:
        return []
    kept = [c for c in found if c[2] / total >= MIN_SHARE]
    total = sum(c[2] for c in kept)
    return sorted((Candidate(svc, origin, city, weight / total) for svc, city, weight in kept),
                  key=lambda c: -c.weight)
