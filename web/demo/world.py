"""The demo world: merchants in Chinese cities, shoppers in Russian cities, and the parcels between them.

A world is a pure function of its seed and its first day: the parcels ordered on a day come from a
random generator seeded with (seed, day), each parcel's journey from one seeded with (seed, day, index).
So a world built for the last 90 days and a live world that keeps going both see the same parcels, and
the same seed always gives the same world. Nothing here touches the database or the network.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from routing.errors import NoRoute
from routing.network import Network, Place, load_network
from routing.services import Router, ServiceCatalog, default_router
from web.demo import calendar, numbers

DATA_DIR = Path(__file__).parent / "data"
MAX_PARCELS_PER_DAY = 1500


def _read(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@dataclass(frozen=True, slots=True)
class Merchant:
    """A Chinese shop: where it ships from, which services it sells, and whether it uses Silkway's API."""

    name: str
    origin: str
    weight: float
    services: dict[str, float]
    uses_api: bool


@dataclass(frozen=True, slots=True)
class ParcelPlan:
    """One order: who sends what where, by which service, and the numbers each carrier will use."""

    day: date
    index: int
    number: str
    merchant: Merchant
    origin: str
    destination: str
    service: str
    route: tuple[str, ...]
    last_mile: str
    last_number: str
    ordered_at: datetime

    @property
    def key(self) -> str:
        """The string that seeds this parcel's own random generator."""
        return f"{self.day.isoformat()}:{self.index}"


@dataclass
class World:
    """The configuration and the reference data of one simulated world."""

    seed: int
    start: date
    parcels_per_day: int = 60
    network: Network = field(default_factory=load_network)
    router: Router = field(default_factory=default_router)
    config: dict[str, Any] = field(default_factory=lambda: _read("world.json"))
    offices: dict[str, Any] = field(default_factory=lambda: _read("offices.json"))

    @cached_property
    def merchants(self) -> list[Merchant]:
        """The merchants of the world (data/world.json)."""
        return [
            Merchant(m["name"], m["origin"], float(m["weight"]), dict(m["services"]), bool(m["uses_api"]))
            for m in self.config["merchants"]
        ]

    @cached_property
    def cities(self) -> dict[str, int]:
        """Destination cities and their populations (data/cities.json)."""
        cities = _read("cities.json")["cities"]
        return {pid: int(c["population"]) for pid, c in cities.items() if pid in self.network.places}

    @property
    def catalog(self) -> ServiceCatalog:
        """The shipping services (routing/data/services.json)."""
        return self.router.catalog

    def place(self, place_id: str) -> Place:
        """A node of the network."""
        return self.network.place(place_id)

    def rng(self, *parts: object) -> random.Random:
        """A generator seeded with the world's seed and ``parts``; never the global one."""
        return random.Random(":".join(["silkway-demo", str(self.seed), *map(str, parts)]))

    def volume(self, day: date) -> float:
        """Expected orders on a day: the base rate times weekday, 11.11 and Spring Festival factors."""
        volume = self.config["volume"]
        surge = volume["surge_11_11"]
        factor = volume["weekday"][day.weekday()]
        factor *= calendar.surge_factor(day, surge["days"], surge["peak"], surge["tail"])
        festival = volume["spring_festival"]
        start, end = calendar.spring_festival(day.year)
        if start - timedelta(days=festival["before_days"]) <= day <= end + timedelta(days=1):
            factor *= festival["factor"]
        return float(self.parcels_per_day * factor)

    def parcels_for_day(self, day: date) -> list[ParcelPlan]:
        """Every order placed on ``day`` (a pure function of the seed and the day)."""
        rng = self.rng("day", day.isoformat())
        expected = self.volume(day)
        count = max(0, round(rng.gauss(expected, expected**0.5)))
        plans = [self._plan(day, index) for index in range(count)]
        return sorted(plans, key=lambda p: (p.ordered_at, p.index))

    def _plan(self, day: date, index: int) -> ParcelPlan:
        rng = self.rng("plan", day.isoformat(), index)
        merchant = rng.choices(self.merchants, weights=[m.weight for m in self.merchants])[0]
        for _ in range(20):
            destination = rng.choices(list(self.cities), weights=list(self.cities.values()))[0]
            found = self.service_and_route(rng, merchant, destination)
            if found is not None:
                break
        else:
            raise NoRoute(merchant.name, merchant.origin, destination)
        service, route = found
        shares = self.config["last_mile"]
        last_mile = rng.choices(list(shares), weights=list(shares.values()))[0]
        ordinal = day.toordinal()
        if last_mile == "cdek":
            last_number = numbers.cdek_number(ordinal, index)
        elif rng.random() < 0.15:
            last_number = numbers.ru14_number(self._customs_postcode(route), ordinal, index)
        else:
            last_number = numbers.s10_number(service, self.seed, ordinal, index)
        # Orders come in through the Chinese day, most in the afternoon and evening.
        local_hour = min(23.99, max(0.0, rng.gauss(15.0, 4.5)))
        ordered = datetime.combine(day, time(0, 0), tzinfo=calendar.zone("Asia/Shanghai"))
        ordered += timedelta(hours=local_hour)
        return ParcelPlan(
            day=day,
            index=index,
            number=numbers.cainiao_number(self.seed, ordinal, index),
            merchant=merchant,
            origin=merchant.origin,
            destination=destination,
            service=service,
            route=tuple(route),
            last_mile=last_mile,
            last_number=last_number,
            ordered_at=ordered.astimezone(UTC),
        )

    def service_and_route(
        self, rng: random.Random, merchant: Merchant, destination: str
    ) -> tuple[str, list[str]] | None:
        """The service the shopper picked and its route; None when no service reaches the city."""
        services = merchant.services
        wanted = rng.choices(list(services), weights=list(services.values()))[0]
        region = self.router.region_of(destination)
        allowed = self.config.get("service_regions", {}).get(wanted)
        fallback = self.config["fallback_service"]
        for service in dict.fromkeys([wanted, fallback, *self.catalog.services]):
            if service == wanted and allowed and region not in allowed:
                continue
            try:
                return service, self.router.route_for(service, merchant.origin, destination)
            except NoRoute:
                continue
        return None

    def _customs_postcode(self, route: list[str]) -> str:
        offices = self.offices["russian_post"]
        for node in route:
            if node in offices:
                return str(offices[node]["index"])
        return "102976"
