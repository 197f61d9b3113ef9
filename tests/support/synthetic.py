"""Synthetic parcels for tests, benchmarks and backtests: scans generated along service routes.

Test data, not part of the product (it lived in ``routing/`` before); ``bench/eta_engine.py`` uses it too.

The "true" world is the network prior with chosen slow-downs (a factor per dwell place or per leg
``"A>B"``), so a backtest can show whether learning from scans recovers what the prior got wrong.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from routing.distributions import LogNormal
from routing.errors import NoRoute
from routing.holidays_calendar import from_hours, to_hours
from routing.network import TimeRange
from routing.schedules import departures_for
from routing.services import Router
from routing.tracks import ParcelTrack, TrackScan


@dataclass(frozen=True, slots=True)
class SyntheticParcel:
    """A generated parcel: its full track and when it was really delivered."""

    track: ParcelTrack
    delivered_at: datetime
    shipped_at: datetime


@dataclass(slots=True)
class World:
    """How the synthetic world differs from the prior: multipliers on dwells and legs."""

    factors: Mapping[str, float] = field(default_factory=dict)
    # Factors that apply only to stays starting on or after a moment (a backlog).
    surge_from: datetime | None = None
    surge_factors: Mapping[str, float] = field(default_factory=dict)

    def factor(self, key: str, at: float) -> float:
        """The multiplier for a dwell place or a leg key starting at epoch hour ``at``."""
        value = self.factors.get(key, 1.0)
        if self.surge_from is not None and at >= to_hours(self.surge_from):
            value *= self.surge_factors.get(key, 1.0)
        return value


def _draw(rng: random.Random, prior: TimeRange, factor: float) -> float:
    dist = LogNormal.from_range(prior)
    return math.exp(dist.mu + dist.sigma * rng.gauss(0.0, 1.0)) * factor


def simulate_parcel(
    router: Router, service: str, origin: str, destination: str, ship_at: datetime, rng: random.Random,
    world: World | None = None, number: str = "RX000000000CN",
) -> SyntheticParcel:
    """One parcel's scans along the service's route, with timetable waits."""
    world = world or World()
    network = router.network
    svc = router.catalog.get(service)
    route = router.route_for(service, origin, destination)
    t = to_hours(ship_at)
    scans = [_scan(network.place(origin).country, origin, "picked_up", t)]
    t += _draw(rng, svc.handling, world.factor(origin, t))
    scans.append(_scan(network.place(origin).country, origin, "departed", t))
    for a, b in itertools.pairwise(route):
        leg = network.leg(a, b, svc.modes)
        if leg is None:
            raise NoRoute(service, origin, destination)
        t = float(departures_for(leg, network).next(np.array([t]))[0])
        t += _draw(rng, leg.hours, world.factor(f"{a}>{b}", t))
        place = network.place(b)
        if b == destination:
            scans.append(TrackScan(b, place.country, "delivered", "recipient", from_hours(t)))
            break
        scans.append(_scan(place.country, b, "arrived", t))
        if place.dwell is not None:
            t += _draw(rng, place.dwell, world.factor(b, t))
            scans.append(_scan(place.country, b, "departed", t))
    track = ParcelTrack((number,), service, origin, destination, tuple(scans))
    return SyntheticParcel(track, from_hours(t), ship_at)


def _scan(country: str, place: str, substatus: str, t: float) -> TrackScan:
    return TrackScan(place, country, "in_transit", substatus, from_hours(t))


def simulate_many(
    router: Router, count: int, start: datetime, days: float, seed: int = 7, world: World | None = None,
    lanes: list[tuple[str, str, str]] | None = None,
) -> list[SyntheticParcel]:
    """``count`` parcels shipped uniformly over ``days`` from ``start`` on the given (or default) lanes."""
    rng = random.Random(seed)
    lanes = lanes or [
        ("premium_air", "cn_shenzhen", "ru_moscow"), ("standard_air", "cn_shenzhen", "ru_moscow"),
        ("premium_air", "cn_hangzhou", "ru_novosibirsk"), ("standard_air", "cn_guangzhou", "ru_spb"),
        ("economy_rail", "cn_yiwu", "ru_moscow"), ("premium_air", "cn_hangzhou", "ru_kazan"),
        ("sea_rail_far_east", "cn_shenzhen", "ru_vladivostok"),
    ]
    parcels = []
    for i in range(count):
        service, origin, destination = lanes[i % len(lanes)]
        ship = start + timedelta(hours=rng.uniform(0, days * 24))
        number = f"RX{i:08d}0CN"
        parcels.append(simulate_parcel(router, service, origin, destination, ship, rng, world, number))
    return parcels
