"""Validation of network data before it is loaded: every fault is reported with the node or edge it is in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MODES = frozenset({"air", "rail", "truck", "sea", "rail_or_air", "truck_or_rail"})

# The corridor spans Hong Kong to Kaliningrad; a coordinate far outside it is a typo (a swapped lat/lon).
LAT_RANGE = (10.0, 75.0)
LON_RANGE = (15.0, 180.0)


def check_network_data(data: Mapping[str, Any]) -> list[str]:
    """Every problem found in raw network data, each naming the node or edge at fault."""
    problems: list[str] = []
    nodes = data.get("nodes")
    edges = data.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return ["the data needs a 'nodes' list and an 'edges' list"]
    ids: set[str] = set()
    for index, node in enumerate(nodes):
        problems += _check_node(index, node, ids)
    sources = data.get("sources") or {}
    seen: set[tuple[str, str, str]] = set()
    for index, edge in enumerate(edges):
        problems += _check_edge(index, edge, ids, sources, seen)
    return problems


def _check_node(index: int, node: Any, ids: set[str]) -> list[str]:
    if not isinstance(node, Mapping) or not isinstance(node.get("id"), str) or not node["id"]:
        return [f"node #{index}: missing id"]
    where = f"node {node['id']!r}"
    problems: list[str] = []
    if node["id"] in ids:
        problems.append(f"{where}: duplicate id")
    ids.add(node["id"])
    for key in ("name", "country", "role", "timezone"):
        if not isinstance(node.get(key), str) or not node[key]:
            problems.append(f"{where}: missing {key}")
    lat, lon = node.get("lat"), node.get("lon")
    if not _is_number(lat) or not _is_number(lon):
        problems.append(f"{where}: lat and lon must be numbers")
    elif not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        problems.append(f"{where}: coordinates ({lat}, {lon}) are outside the China–Russia corridor")
    if isinstance(node.get("timezone"), str) and node["timezone"] and not _is_zone(node["timezone"]):
        problems.append(f"{where}: unknown time zone {node['timezone']!r}")
    if "dwell_hours" in node:
        problems += [f"{where}: dwell_hours {p}" for p in _range_problems(node["dwell_hours"])]
    return problems


def _check_edge(
    index: int, edge: Any, ids: set[str], sources: Mapping[str, Any], seen: set[tuple[str, str, str]]
) -> list[str]:
    if not isinstance(edge, Mapping):
        return [f"edge #{index}: not an object"]
    name = edge.get("id") or f"{edge.get('source')}__{edge.get('target')}__{edge.get('mode')}"
    where = f"edge {name!r}"
    problems: list[str] = []
    for end in ("source", "target"):
        if edge.get(end) not in ids:
            problems.append(f"{where}: {end} {edge.get(end)!r} is not a node")
    if edge.get("source") == edge.get("target"):
        problems.append(f"{where}: source and target are the same place")
    if edge.get("mode") not in MODES:
        problems.append(f"{where}: unknown mode {edge.get('mode')!r}")
    key = (str(edge.get("source")), str(edge.get("target")), str(edge.get("mode")))
    if key in seen:
        problems.append(f"{where}: duplicate edge")
    seen.add(key)
    has_hours, has_days = "transit_hours" in edge, "transit_days" in edge
    if has_hours == has_days:
        problems.append(f"{where}: needs exactly one of transit_hours or transit_days")
    else:
        times = edge["transit_hours"] if has_hours else edge["transit_days"]
        unit = "transit_hours" if has_hours else "transit_days"
        problems += [f"{where}: {unit} {p}" for p in _range_problems(times)]
    for source in edge.get("sources") or ():
        if source not in sources:
            problems.append(f"{where}: source {source!r} is not in the sources list")
    return problems


def _range_problems(times: Any) -> list[str]:
    if not isinstance(times, Mapping):
        return ["must be an object with min, typical and max"]
    low, typical, high = (times.get(k) for k in ("min", "typical", "max"))
    if not (_is_number(low) and _is_number(typical) and _is_number(high)):
        return ["needs numeric min, typical and max"]
    problems = []
    if low <= 0:
        problems.append(f"min must be positive (got {low})")
    if not low <= typical <= high:
        problems.append(f"must satisfy min ≤ typical ≤ max (got {low}/{typical}/{high})")
    return problems


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
