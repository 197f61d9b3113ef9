"""The China→Russia network: places, legs and their sourced time ranges, loaded once into a graph."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
from geopy.distance import geodesic

from routing.errors import NetworkError, UnknownPlace
from routing.network_checks import check_network_data

DATA_DIR = Path(__file__).parent / "data"
NETWORK_FILE = DATA_DIR / "network.json"
SUPPLEMENT_FILE = DATA_DIR / "network_supplement.json"
# Russia → China (issue 17): places, legs and sources of the other direction, merged like the supplement.
REVERSE_FILE = DATA_DIR / "network_reverse.json"
NAMES_FILE = DATA_DIR / "place_names.json"

# Roles on the Russian side where parcels wait for customs, sorting or delivery.
IMPORT_EXCHANGE_ROLES = frozenset({"import_exchange", "import_exchange_and_sorting"})
# China Post's exchange offices where Russia → China mail meets Chinese import customs.
CN_IMPORT_EXCHANGE_ROLE = "import_exchange_cn"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A duration prior in hours: min, typical (read as the median) and max (read as the 95th centile)."""

    min: float
    typical: float
    max: float

    @classmethod
    def from_data(cls, data: Mapping[str, Any], scale: float = 1.0) -> TimeRange:
        """Read a ``{min, typical, max}`` mapping, scaling days to hours when asked."""
        return cls(float(data["min"]) * scale, float(data["typical"]) * scale, float(data["max"]) * scale)


@dataclass(frozen=True, slots=True)
class Place:
    """A node of the network: a city, hub, gateway, border post or exchange office."""

    id: str
    name: str
    lat: float
    lon: float
    country: str
    timezone: str
    role: str
    dwell: TimeRange | None = None
    active: bool = True
    sources: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Leg:
    """A directed edge: one way of moving parcels from one place to the next."""

    id: str
    origin: str
    destination: str
    mode: str
    hours: TimeRange
    frequency: str
    distance_km: float
    sources: tuple[str, ...] = ()
    estimate: bool = True
    active: bool = True
    border_dwell: Mapping[str, Any] | None = None
    # Which way the leg's parcels flow: "CN>RU" (the research draft) or "RU>CN" (network_reverse.json).
    flow: str = "CN>RU"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number in the data comes from."""

    id: str
    title: str
    url: str


@dataclass(slots=True)
class Network:
    """The loaded network: a networkx DiGraph whose edges carry the parallel legs between two places."""

    graph: nx.DiGraph[str]
    places: dict[str, Place]
    sources: dict[str, Source]
    observed_services: tuple[Mapping[str, Any], ...] = ()
    _names: dict[str, str] = field(default_factory=dict)

    def place(self, place_id: str) -> Place:
        """The place with this id (KeyError if none)."""
        return self.places[place_id]

    def legs_between(self, origin: str, destination: str) -> tuple[Leg, ...]:
        """Every active leg from ``origin`` straight to ``destination``."""
        if not self.graph.has_edge(origin, destination):
            return ()
        legs: tuple[Leg, ...] = self.graph.edges[origin, destination]["legs"]
        return tuple(leg for leg in legs if leg.active)

    def leg(self, origin: str, destination: str, modes: Iterable[str] | None = None) -> Leg | None:
        """The fastest active leg between two adjacent places among the allowed modes, if any."""
        allowed = None if modes is None else frozenset(modes)
        legs = [
            leg for leg in self.legs_between(origin, destination) if allowed is None or leg.mode in allowed
        ]
        return min(legs, key=lambda leg: leg.hours.typical, default=None)

    def is_active(self, place_id: str) -> bool:
        """False for places marked closed (for example Koltsovo MMPO from March 2025)."""
        return self.places[place_id].active

    def resolve(self, value: str, field_name: str) -> str:
        """A node id from a node id or a place name in English, Russian or Chinese (case-insensitive)."""
        text = (value or "").strip()
        if text in self.places:
            return text
        found = self._names.get(text.casefold())
        if found is None:
            raise UnknownPlace(field_name, value)
        return found

    def leg_sources(self, leg: Leg) -> list[Source]:
        """The sources behind a leg's numbers."""
        return [self.sources[s] for s in leg.sources if s in self.sources]


def _place(node: Mapping[str, Any], extra_names: Iterable[str]) -> Place:
    dwell = node.get("dwell_hours")
    return Place(
        id=node["id"],
        name=node["name"],
        lat=float(node["lat"]),
        lon=float(node["lon"]),
        country=node["country"],
        timezone=node["timezone"],
        role=node["role"],
        dwell=TimeRange.from_data(dwell) if dwell else None,
        active=bool(node.get("active", True)),
        sources=tuple(node.get("sources", ())),
        names=tuple(extra_names),
    )


def _leg(edge: Mapping[str, Any], places: Mapping[str, Place]) -> Leg:
    if "transit_hours" in edge:
        hours = TimeRange.from_data(edge["transit_hours"])
    else:
        hours = TimeRange.from_data(edge["transit_days"], scale=24.0)
    a, b = places[edge["source"]], places[edge["target"]]
    return Leg(
        id=edge.get("id") or f"{edge['source']}__{edge['target']}__{edge['mode']}",
        origin=a.id,
        destination=b.id,
        mode=edge["mode"],
        hours=hours,
        frequency=edge.get("frequency") or "",
        distance_km=round(geodesic((a.lat, a.lon), (b.lat, b.lon)).km, 1),
        sources=tuple(edge.get("sources", ())),
        estimate=bool(edge.get("estimate", True)),
        active=bool(edge.get("active", True)) and a.active and b.active,
        border_dwell=edge.get("border_or_customs_dwell_hours"),
        flow=str(edge.get("flow", "CN>RU")),
    )


def network_from_dict(
    data: Mapping[str, Any],
    supplement: Mapping[str, Any] | None = None,
    names: Mapping[str, Iterable[str]] | None = None,
) -> Network:
    """Validate network data (plus supplementary nodes, edges and place names) and build the graph."""
    merged = dict(data)
    if supplement:
        merged["nodes"] = [*data.get("nodes", []), *supplement.get("nodes", [])]
        merged["edges"] = [*data.get("edges", []), *supplement.get("edges", [])]
        merged["sources"] = {**data.get("sources", {}), **supplement.get("sources", {})}
    problems = check_network_data(merged)
    if problems:
        raise NetworkError(problems)
    names = names or {}
    places = {n["id"]: _place(n, names.get(n["id"], ())) for n in merged["nodes"]}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for place in places.values():
        graph.add_node(place.id, place=place)
    for edge in merged["edges"]:
        leg = _leg(edge, places)
        if graph.has_edge(leg.origin, leg.destination):
            graph.edges[leg.origin, leg.destination]["legs"] += (leg,)
        else:
            graph.add_edge(leg.origin, leg.destination, legs=(leg,))
    sources = {
        sid: Source(sid, str(s.get("title", "")), str(s.get("url", "")))
        for sid, s in merged.get("sources", {}).items()
    }
    index: dict[str, str] = {}
    for place in places.values():
        for name in (place.name, *place.names):
            index.setdefault(name.casefold(), place.id)
    return Network(graph, places, sources, tuple(merged.get("services", ())), index)


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=4)
def load_network(path: str | None = None) -> Network:
    """Load, validate and cache the network (the bundled data unless ``path`` names another file)."""
    data = _read_json(Path(path) if path else NETWORK_FILE)
    supplement: dict[str, Any] | None = None
    if path is None:
        parts = [_read_json(f) for f in (SUPPLEMENT_FILE, REVERSE_FILE) if f.exists()]
        supplement = {
            key: [x for part in parts for x in part.get(key, [])] for key in ("nodes", "edges")
        }
        supplement["sources"] = {k: v for part in parts for k, v in part.get("sources", {}).items()}
    names: dict[str, list[str]] = {}
    if NAMES_FILE.exists():
        for place_id, entry in _read_json(NAMES_FILE)["places"].items():
            names[place_id] = [n for key in ("en", "ru", "zh", "aliases") for n in _as_list(entry.get(key))]
    return network_from_dict(data, supplement, names)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
