"""Shipping services and their routes: fixed waypoints joined to the actual origin and destination."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import networkx as nx
from geopy.distance import geodesic

from routing.errors import NoRoute, UnknownService
from routing.network import DATA_DIR, Network, TimeRange, load_network

SERVICES_FILE = DATA_DIR / "services.json"
# Russia → China services (issue 17), with their Chinese destination regions, merged into the catalog.
REVERSE_SERVICES_FILE = DATA_DIR / "services_reverse.json"


@dataclass(frozen=True, slots=True)
class Service:
    """A shipping service: its names, the modes it may use and its waypoint layers per destination region."""

    code: str
    names: Mapping[str, str]
    mode: str
    modes: frozenset[str]
    routes: Mapping[str, tuple[tuple[str, ...], ...]]
    handling: TimeRange
    share: float
    number_hints: tuple[tuple[re.Pattern[str], float], ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""
    origin_country: str = "CN"
    destination_country: str = "RU"

    @property
    def flow(self) -> str:
        """Which way the service carries: "CN>RU" or "RU>CN"; its routes use only legs of that flow."""
        return f"{self.origin_country}>{self.destination_country}"

    def name(self, language: str = "en") -> str:
        """The service's name in ``language`` (en, ru or zh), falling back to English."""
        return self.names.get(language) or self.names["en"]

    def number_likelihood(self, numbers: Sequence[str]) -> float:
        """How much the parcel's tracking numbers point at this service (1.0 = no evidence)."""
        weight = 1.0
        for pattern, factor in self.number_hints:
            if any(pattern.match(number.upper()) for number in numbers):
                weight *= factor
        return weight

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape served by ``GET /api/v1/services``: code, name, mode and legs per region."""
        return {
            "code": self.code,
            "name": dict(self.names),
            "mode": self.mode,
            "origin_country": self.origin_country,
            "destination_country": self.destination_country,
            "legs": {region: [list(layer) for layer in layers] for region, layers in self.routes.items()},
            "notes": self.notes,
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class ServiceCatalog:
    """Every service, the destination regions and the prior share of parcels per destination city."""

    services: Mapping[str, Service]
    regions: Mapping[str, frozenset[str]]
    destination_weights: Mapping[str, float]
    # The same for the other direction's destinations, by country (issue 17: "CN" for Russia → China).
    weights_by_country: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def get(self, code: str, field_name: str = "service") -> Service:
        """The service with this code, or UnknownService naming the field."""
        try:
            return self.services[code]
        except KeyError:
            raise UnknownService(field_name, code) from None


def catalog_from_dict(data: Mapping[str, Any]) -> ServiceCatalog:
    """Build a catalog from the services data."""
    services = {}
    for entry in data["services"]:
        hints = tuple((re.compile(h["pattern"]), float(h["weight"])) for h in entry.get("number_hints", ()))
        routes = {
            region: tuple(tuple([layer] if isinstance(layer, str) else layer) for layer in layers)
            for region, layers in entry["routes"].items()
        }
        services[entry["code"]] = Service(
            code=entry["code"],
            names=dict(entry["name"]),
            mode=entry["mode"],
            modes=frozenset(entry["modes"]),
            routes=routes,
            handling=TimeRange.from_data(entry["handling_hours"]),
            share=float(entry["share"]),
            number_hints=hints,
            sources=tuple(entry.get("sources", ())),
            notes=entry.get("notes", ""),
            origin_country=entry.get("origin_country", "CN"),
            destination_country=entry.get("destination_country", "RU"),
        )
    regions = {code: frozenset(r["places"]) for code, r in data["regions"].items()}
    weights = {k: float(v) for k, v in data["destination_weights"]["weights"].items()}
    by_country = {
        country: {k: float(v) for k, v in entry["weights"].items()}
        for country, entry in data.get("destination_weights_by_country", {}).items()
    }
    return ServiceCatalog(services, regions, weights, by_country)


@lru_cache(maxsize=4)
def load_services(path: str | None = None) -> ServiceCatalog:
    """Load and cache the service catalog (the bundled data, both directions, unless ``path`` names
    another file)."""
    with Path(path or SERVICES_FILE).open(encoding="utf-8") as handle:
        data = json.load(handle)
    if path is None and REVERSE_SERVICES_FILE.exists():
        with REVERSE_SERVICES_FILE.open(encoding="utf-8") as handle:
            reverse = json.load(handle)
        data["services"] = [*data["services"], *reverse["services"]]
        data["regions"] = {**data["regions"], **reverse["regions"]}
        data["destination_weights_by_country"] = reverse.get("destination_weights_by_country", {})
    return catalog_from_dict(data)


@dataclass(slots=True)
class Lane:
    """A service's route between two places, indexed for inference: each node's position, and every
    place the service may pass (the route and the service's footprint). ``typical`` memoizes the
    typical hours between two positions."""

    route: tuple[str, ...]
    position: dict[str, int]
    allowed: frozenset[str]
    typical: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass(slots=True)
class Router:
    """Finds and caches service routes over one network; safe to share between requests."""

    network: Network
    catalog: ServiceCatalog
    _routes: dict[tuple[str, str, str, bool], tuple[str, ...]] = field(default_factory=dict)
    _trees: dict[tuple[frozenset[str], str, str], tuple[dict[str, float], dict[str, list[str]]]] = field(
        default_factory=dict
    )
    _footprints: dict[str, frozenset[str]] = field(default_factory=dict)
    _lanes: dict[tuple[str, str, str], Lane | None] = field(default_factory=dict)
    _reachable: dict[str, frozenset[str]] = field(default_factory=dict)

    def region_of(self, destination: str) -> str:
        """The destination's region: listed in the data, else that of the nearest listed city."""
        for region, places in self.catalog.regions.items():
            if destination in places:
                return region
        target = self.network.place(destination)

        def distance(place_id: str) -> float:
            other = self.network.place(place_id)
            return float(geodesic((target.lat, target.lon), (other.lat, other.lon)).km)

        nearest = min((p for places in self.catalog.regions.values() for p in places), key=distance)
        return self.region_of(nearest)

    def footprint(self, service: str) -> frozenset[str]:
        """Every place named by the service's waypoints, in any region (worked out once per service)."""
        if service not in self._footprints:
            svc = self.catalog.get(service)
            layers = [layer for region in svc.routes.values() for layer in region]
            self._footprints[service] = frozenset(n for layer in layers for n in self._expand(layer))
        return self._footprints[service]

    def route_for(self, service: str, origin: str, destination: str, resume: bool = False) -> list[str]:
        """Node ids from origin to destination along the service's waypoints.

        ``resume`` is for a parcel already under way: waypoint layers it can no longer reach (it is past
        them) are dropped from the front until a route exists.
        """
        svc = self.catalog.get(service)
        start = self.network.resolve(origin, "origin")
        end = self.network.resolve(destination, "destination")
        key = (svc.code, start, end, resume)
        if key not in self._routes:
            self._routes[key] = self._find(svc, start, end, resume)
        return list(self._routes[key])

    def reachable(self, place: str, flow: str = "CN>RU") -> frozenset[str]:
        """Every node the network can carry a parcel to from ``place`` over legs of ``flow`` (China →
        Russia unless told), ``place`` included (memoized)."""
        key = f"{flow}|{place}"
        found = self._reachable.get(key)
        if found is None:
            legs = self.network.graph.edges

            def of_flow(u: str, v: str) -> bool:
                return any(leg.flow == flow for leg in legs[u, v]["legs"])

            view = nx.subgraph_view(self.network.graph, filter_edge=of_flow)
            found = self._reachable[key] = frozenset(nx.descendants(view, place) | {place})
        return found

    def lane(self, service: str, origin: str, destination: str) -> Lane | None:
        """The service's route between two node ids with what inference asks of it, or None when the
        service has no route between them; worked out once either way."""
        key = (service, origin, destination)
        if key in self._lanes:
            return self._lanes[key]
        try:
            route = tuple(self.route_for(service, origin, destination))
        except NoRoute:
            self._lanes[key] = None
            return None
        positions = {node: i for i, node in enumerate(route)}
        found = Lane(route, positions, frozenset(route) | self.footprint(service))
        self._lanes[key] = found
        return found

    def _find(self, svc: Service, start: str, end: str, resume: bool) -> tuple[str, ...]:
        if not (self.network.is_active(start) and self.network.is_active(end)):
            raise NoRoute(svc.code, start, end)
        region = self.region_of(end)
        if region not in svc.routes:  # a service of the other direction, or one not serving the region
            raise NoRoute(svc.code, start, end)
        waypoints = [self._expand(layer) for layer in svc.routes[region]]
        attempts = range(len(waypoints) + 1) if resume else range(1)
        for skip in attempts:
            path = self._through([[start], *waypoints[skip:], [end]], svc.modes, svc.flow)
            if path is not None:
                return tuple(path)
        raise NoRoute(svc.code, start, end)

    def _expand(self, layer: tuple[str, ...]) -> list[str]:
        nodes: list[str] = []
        for item in layer:
            if item.startswith("role:"):
                role = item.removeprefix("role:")
                nodes += [p.id for p in self.network.places.values() if p.role == role and p.active]
            elif item in self.network.places and self.network.is_active(item):
                nodes.append(item)
        return nodes

    def _through(self, layers: list[list[str]], modes: frozenset[str], flow: str) -> list[str] | None:
        """The fastest path visiting one node of each layer in order (dynamic programming over layers)."""
        best: dict[str, tuple[float, list[str]]] = {node: (0.0, [node]) for node in layers[0]}
        for layer in layers[1:]:
            step: dict[str, tuple[float, list[str]]] = {}
            for node, (cost, path) in best.items():
                dist, paths = self._tree(modes, node, flow)
                for target in layer:
                    if target in dist and (target not in step or cost + dist[target] < step[target][0]):
                        step[target] = (cost + dist[target], path + paths[target][1:])
            if not step:
                return None
            best = step
        return min(best.values(), key=lambda item: item[0])[1]

    def _tree(
        self, modes: frozenset[str], source: str, flow: str
    ) -> tuple[dict[str, float], dict[str, list[str]]]:
        key = (modes, source, flow)
        if key not in self._trees:
            network = self.network

            def weight(u: str, v: str, _data: Mapping[str, Any]) -> float | None:
                leg = network.leg(u, v, modes)
                if leg is None or leg.flow != flow or not network.is_active(v):
                    return None
                dwell = network.place(v).dwell
                return leg.hours.typical + (dwell.typical if dwell else 0.0)

            # Without a target networkx answers (distances, paths) by node; its stubs also allow a float.
            dist, paths = cast(
                tuple[dict[str, float], dict[str, list[str]]],
                nx.single_source_dijkstra(network.graph, source, weight=weight),
            )
            self._trees[key] = (dict(dist), dict(paths))
        return self._trees[key]


@lru_cache(maxsize=1)
def default_router() -> Router:
    """The router over the bundled network and services, built once per process."""
    return Router(load_network(), load_services())


def route_for(service: str, origin: str, destination: str) -> list[str]:
    """Node ids of the service's route from origin to destination (ids or city names accepted)."""
    return default_router().route_for(service, origin, destination)
