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

from web.pages.map_labels import FONT, Box, place_labels

WEST, SOUTH, EAST, NORTH = 17.0, 19.0, 142.0, 64.0
WIDTH = 960.0
SCALE = WIDTH / ((EAST - WEST) * math.cos(math.radians(45.0)))
HEIGHT = round((NORTH - SOUTH) * SCALE)
CORRIDOR = {"CN", "RU", "KZ", "MN", "HK"}
COUNTRY_LABELS = {"RU": (60.5, 96.0), "CN": (33.5, 102.0), "KZ": (48.5, 67.0), "MN": (46.6, 103.0)}
MAX_EDGE_KM = 1500
MARGIN = 70.0  # map units around the route
MIN_VIEW_WIDTH = 380.0  # never zoom in further than about a third of the region's width
MIN_RATIO, MAX_RATIO = 1.5, 2.2
ROUTE = "#c2410c"
INK = "#1f2933"
NETWORK = "#8a99a8"  # the network under the route: light, so that the parcel's own line stands out
NETWORK_OPACITY = 0.3


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
    reverse = data / "network_reverse.json"  # Russia → China places (issue 17)
    if reverse.is_file():
        nodes.update((n["id"], dict(n)) for n in json.loads(reverse.read_text("utf-8"))["nodes"])
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


@dataclass(frozen=True, slots=True)
class View:
    """The part of the map shown (in map units) and its zoom ``k``: sizes are multiplied by it."""

    x: float
    y: float
    w: float
    h: float

    @property
    def k(self) -> float:
        """Map units per unit of the full map's width: below 1 when zoomed in."""
        return self.w / WIDTH


def view_of(points: Sequence[MapPoint]) -> View:
    """The window that frames ``points`` with a margin, no smaller than a region, at a map-like ratio."""
    if not points:
        return View(0, 0, WIDTH, HEIGHT)
    xy = [project(p.lat, p.lon) for p in points]
    xs, ys = [x for x, _ in xy], [y for _, y in xy]
    w = max(max(xs) - min(xs) + 2 * MARGIN, MIN_VIEW_WIDTH)
    h = max(max(ys) - min(ys) + 2 * MARGIN, MIN_VIEW_WIDTH / MAX_RATIO)
    w, h = max(w, h * MIN_RATIO), max(h, w / MAX_RATIO)
    w, h = min(w, WIDTH), min(h, HEIGHT)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    x = min(max(cx - w / 2, 0), WIDTH - w)
    y = min(max(cy - h / 2, 0), HEIGHT - h)
    return View(round(x, 1), round(y, 1), round(w, 1), round(h, 1))


def _labels(points: Sequence[MapPoint], view: View) -> Iterable[str]:
    """The labels of ``points`` (most important first), placed apart from each other and the markers."""
    k = view.k
    labelled = [(*project(p.lat, p.lon), p.label) for p in points if p.label]
    markers = [
        Box(x - 14 * k, y - 14 * k, x + 14 * k, y + 14 * k)
        for x, y in (project(p.lat, p.lon) for p in points)
    ]
    frame = Box(view.x + 4 * k, view.y + 4 * k, view.x + view.w - 4 * k, view.y + view.h - 4 * k)
    for (_, _, text), spot in zip(labelled, place_labels(labelled, frame, k, markers), strict=True):
        yield (
            f'<text class="label" x="{spot.x:.1f}" y="{spot.y:.1f}" text-anchor="{spot.anchor}" '
            f'font-size="{FONT * k:.1f}" font-weight="600" fill="{INK}" stroke="#ffffff" '
            f'stroke-width="{4.5 * k:.1f}" stroke-linejoin="round" paint-order="stroke">{escape(text)}</text>'
        )


def _network_layer(view: View) -> str:
    return _network_layer_at(f"{0.7 * view.k:.2f}", f"{2.0 * view.k:.1f}")


@lru_cache(maxsize=256)
def _network_layer_at(stroke_width: str, radius: str) -> str:
    """The network's lines and dots, the same on every map but for two sizes (built once per zoom)."""
    nodes = network()
    lines = []
    for source, target in surface_edges():
        if source in nodes and target in nodes:
            (x1, y1), (x2, y2) = (project(nodes[n]["lat"], nodes[n]["lon"]) for n in (source, target))
            lines.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>')
    dots = "".join(
        '<circle cx="{}" cy="{}" r="{}"/>'.format(*project(n["lat"], n["lon"]), radius)
        for n in nodes.values()
    )
    return (
        f'<g class="network" stroke="{NETWORK}" stroke-width="{stroke_width}" '
        f'stroke-opacity="{NETWORK_OPACITY}">{"".join(lines)}</g>'
        f'<g class="network" fill="{NETWORK}" fill-opacity="{NETWORK_OPACITY}">{dots}</g>'
    )


def _country_labels(names: dict[str, str], view: View) -> str:
    out = []
    for code, (lat, lon) in COUNTRY_LABELS.items():
        if names.get(code):
            x, y = project(lat, lon)
            out.append(
                f'<text class="country" x="{x}" y="{y}" text-anchor="middle" font-size="{17 * view.k:.1f}" '
                f'letter-spacing="{3 * view.k:.1f}" fill="#6b7280">{escape(names[code].upper())}</text>'
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
    view = view_of([*done, *ahead])
    k = view.k
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view.x} {view.y} {view.w} {view.h}" '
        f'role="img" aria-labelledby="map-title map-desc" class="route-map" focusable="false">',
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(description)}</desc>',
        f'<image href="{escape(basemap_url)}" x="0" y="0" width="{WIDTH:.0f}" height="{HEIGHT}"/>',
        _country_labels(country_names, view),
        _network_layer(view),
    ]
    if len(ahead) > 1:
        parts.append(
            f'<path d="{_path(ahead)}" fill="none" stroke="{ROUTE}" stroke-width="{3 * k:.2f}" '
            f'stroke-dasharray="{9 * k:.1f} {7 * k:.1f}" stroke-linecap="round" stroke-opacity="0.85"/>'
        )
    if len(done) > 1:
        parts.append(
            f'<path d="{_path(done)}" fill="none" stroke="{ROUTE}" stroke-width="{4.5 * k:.2f}" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    parts.extend(_markers(done, ahead, view))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute value above is escaped


def _circle(point: MapPoint, radius: float, fill: str, stroke: str, width: float, view: View) -> str:
    x, y = project(point.lat, point.lon)
    k = view.k
    return (
        f'<circle cx="{x}" cy="{y}" r="{radius * k:.1f}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{width * k:.1f}"/>'
    )


def _markers(done: Sequence[MapPoint], ahead: Sequence[MapPoint], view: View) -> Iterable[str]:
    origin = done[0] if done else (ahead[0] if ahead else None)
    current = done[-1] if done else None
    destination = ahead[-1] if len(ahead) > 1 else None
    labelled: list[MapPoint] = []
    if current is not None:
        labelled.append(current)
    if destination is not None:
        yield _circle(destination, 7, "#ffffff", INK, 3, view)
        labelled.append(destination)
    if origin is not None and origin != current:
        yield _circle(origin, 6, "#ffffff", ROUTE, 3, view)
        labelled.append(origin)
    if current is not None:
        x, y = project(current.lat, current.lon)
        yield f'<circle cx="{x}" cy="{y}" r="{13 * view.k:.1f}" fill="{ROUTE}" fill-opacity="0.25"/>'
        yield _circle(current, 7, ROUTE, "#ffffff", 2.5, view)
    yield from _labels(labelled, view)


def _ring_path(ring: list[list[float]]) -> str:
    return "M" + " L".join("{},{}".format(*project(lat, lon)) for lon, lat in ring) + "Z"


@lru_cache(maxsize=1)
def basemap_svg() -> str:
    """The static land layer: countries, coasts and a 10° graticule, in the map's projection."""
    doc = json.loads((Path(__file__).parents[1] / "static" / "map" / "countries.json").read_text("utf-8"))
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
