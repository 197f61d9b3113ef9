"""A server-side SVG map of a parcel's route: travelled so far (solid) and still ahead (dashed).

The projection is equirectangular with a standard parallel of 45°N over the China–Russia region. The
land under the route is a static basemap (Natural Earth countries, ``static/map/countries.json``) drawn
once per process; the route overlay is small and drawn inline, so the page needs no script, no tiles
and no network beyond this server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

WEST, SOUTH, EAST, NORTH = 17.0, 19.0, 142.0, 64.0
WIDTH = 960.0
SCALE = WIDTH / ((EAST - WEST) * math.cos(math.radians(45.0)))
HEIGHT = round((NORTH - SOUTH) * SCALE)
CORRIDOR = {"CN", "RU", "KZ", "MN", "HK"}
COUNTRY_LABELS = {"RU": (60.5, 96.0), "CN": (33.5, 102.0), "KZ": (48.5, 67.0), "MN": (46.6, 103.0)}
MAX_EDGE_KM = 1500
ROUTE = "#c2410c"
INK = "#1f2933"


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A point of the route in degrees, with an optional label to write beside it."""

    lat: float
    lon: float
    label: str | None = None


def project(lat: float, lon: float) -> tuple[float, float]:
    """Map coordinates (x to the right, y down) of a latitude and longitude."""
    x = (lon - WEST) * SCALE * math.cos(math.radians(45.0))
    y = (NORTH - lat) * SCALE
    return round(x, 1), round(y, 1)


@lru_cache(maxsize=1)
def network() -> dict[str, dict[str, Any]]:
    """The corridor network's nodes by id, with their Russian and Chinese names where known."""
    data = resources.files("routing") / "data"
    nodes = {n["id"]: dict(n) for n in json.loads((data / "network.json").read_text("utf-8"))["nodes"]}
    names = data / "place_names.json"
    if names.is_file():
        for node_id, other in json.loads(names.read_text("utf-8")).get("places", {}).items():
            if node_id in nodes:
                nodes[node_id]["names"] = other
    return nodes


@lru_cache(maxsize=1)
def surface_edges() -> list[tuple[str, str]]:
    """Node pairs joined by road, rail or sea within a day or two; flights and transcontinental trains
    would cross the whole map as straight lines and hide the parcel's own route."""
    doc = json.loads((resources.files("routing") / "data" / "network.json").read_text("utf-8"))
    return [
        (e["source"], e["target"])
        for e in doc["edges"]
        if e.get("mode") != "air" and (e.get("great_circle_km") or 0) <= MAX_EDGE_KM
    ]


def place_name(place_id: str | None, lang: str) -> str | None:
    """A network place's name in ``lang`` (English from the network when no other name is known)."""
    node = network().get(place_id or "")
    if node is None:
        return None
    name = node.get("names", {}).get(lang)
    return str(name or node["name"])


def node_point(place_id: str, lang: str) -> MapPoint | None:
    """The map point of a network node, labelled with its name in ``lang``."""
    node = network().get(place_id)
    if node is None:
        return None
    return MapPoint(node["lat"], node["lon"], place_name(place_id, lang))


def _path(points: Sequence[MapPoint]) -> str:
    xy = [project(p.lat, p.lon) for p in points]
    return "M" + " L".join(f"{x},{y}" for x, y in xy)


def _label(point: MapPoint, anchor_below: bool = False) -> str:
    if not point.label:
        return ""
    x, y = project(point.lat, point.lon)
    dy = 22 if anchor_below else -12
    anchor = "end" if x > WIDTH - 140 else "start" if x < 140 else "middle"
    return (
        f'<text x="{x}" y="{y + dy}" text-anchor="{anchor}" font-size="15" font-weight="600" fill="{INK}" '
        f'stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke">'
        f"{escape(point.label)}</text>"
    )


def _network_layer() -> str:
    nodes = network()
    lines = []
    for source, target in surface_edges():
        if source in nodes and target in nodes:
            (x1, y1), (x2, y2) = (project(nodes[n]["lat"], nodes[n]["lon"]) for n in (source, target))
            lines.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>')
    dots = "".join(
        '<circle cx="{}" cy="{}" r="2.4"/>'.format(*project(n["lat"], n["lon"])) for n in nodes.values()
    )
    return (
        f'<g stroke="#8a99a8" stroke-width="0.8" stroke-opacity="0.45">{"".join(lines)}</g>'
        f'<g fill="#6b7a89">{dots}</g>'
    )


def _country_labels(names: dict[str, str]) -> str:
    out = []
    for code, (lat, lon) in COUNTRY_LABELS.items():
        if names.get(code):
            x, y = project(lat, lon)
            out.append(
                f'<text x="{x}" y="{y}" text-anchor="middle" font-size="17" letter-spacing="3" '
                f'fill="#6b7280">{escape(names[code].upper())}</text>'
            )
    return "".join(out)


def route_svg(
    done: Sequence[MapPoint],
    ahead: Sequence[MapPoint],
    *,
    title: str,
    description: str,
    basemap_url: str,
    country_names: dict[str, str],
) -> Markup:
    """The inline SVG of a route: ``done`` oldest first, ``ahead`` from the current position on."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT}" role="img" '
        f'aria-labelledby="map-title map-desc" class="route-map" focusable="false">',
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(description)}</desc>',
        f'<image href="{escape(basemap_url)}" x="0" y="0" width="{WIDTH:.0f}" height="{HEIGHT}"/>',
        _country_labels(country_names),
        _network_layer(),
    ]
    if len(ahead) > 1:
        parts.append(
            f'<path d="{_path(ahead)}" fill="none" stroke="{ROUTE}" stroke-width="3" '
            f'stroke-dasharray="9 7" stroke-linecap="round" stroke-opacity="0.85"/>'
        )
    if len(done) > 1:
        parts.append(
            f'<path d="{_path(done)}" fill="none" stroke="{ROUTE}" stroke-width="4.5" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    parts.extend(_markers(done, ahead))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute value above is escaped


def _markers(done: Sequence[MapPoint], ahead: Sequence[MapPoint]) -> Iterable[str]:
    origin = done[0] if done else (ahead[0] if ahead else None)
    current = done[-1] if done else None
    destination = ahead[-1] if len(ahead) > 1 else None
    if origin is not None and origin != current:
        x, y = project(origin.lat, origin.lon)
        yield f'<circle cx="{x}" cy="{y}" r="6" fill="#ffffff" stroke="{ROUTE}" stroke-width="3"/>'
        yield _label(origin, anchor_below=True)
    if destination is not None:
        x, y = project(destination.lat, destination.lon)
        yield f'<circle cx="{x}" cy="{y}" r="7" fill="#ffffff" stroke="{INK}" stroke-width="3"/>'
        yield _label(destination)
    if current is not None:
        x, y = project(current.lat, current.lon)
        yield f'<circle cx="{x}" cy="{y}" r="12" fill="{ROUTE}" fill-opacity="0.25"/>'
        yield f'<circle cx="{x}" cy="{y}" r="7" fill="{ROUTE}" stroke="#ffffff" stroke-width="2.5"/>'
        yield _label(current)


def _ring_path(ring: list[list[float]]) -> str:
    return "M" + " L".join("{},{}".format(*project(lat, lon)) for lon, lat in ring) + "Z"


@lru_cache(maxsize=1)
def basemap_svg() -> str:
    """The static land layer: countries, coasts and a 10° graticule, in the map's projection."""
    doc = json.loads((Path(__file__).parent / "static" / "map" / "countries.json").read_text("utf-8"))
    grid = []
    for lon in range(20, int(EAST) + 1, 10):
        x, _ = project(0, lon)
        grid.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{HEIGHT}"/>')
    for lat in range(20, int(NORTH) + 1, 10):
        _, y = project(lat, 0)
        grid.append(f'<line x1="0" y1="{y}" x2="{WIDTH:.0f}" y2="{y}"/>')
    shapes = []
    for country in doc["countries"]:
        fill = "#f7f3ea" if country.get("code") in CORRIDOR else "#e6e8eb"
        d = "".join(_ring_path(ring) for ring in country["rings"])
        shapes.append(f'<path fill="{fill}" d="{d}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT}" '
        f'width="{WIDTH:.0f}" height="{HEIGHT}">'
        f'<rect width="{WIDTH:.0f}" height="{HEIGHT}" fill="#d6e6f2"/>'
        f'<g stroke="#ffffff" stroke-width="0.9" stroke-linejoin="round">{"".join(shapes)}</g>'
        f'<g stroke="#9fb3c4" stroke-width="0.6" stroke-opacity="0.6">{"".join(grid)}</g>'
        "</svg>"
    )
