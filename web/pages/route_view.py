"""The parcel's route as the page shows it: the points travelled and ahead, the SVG map and, for phones,
the same legs as a list.

The travelled line starts where the parcel was first scanned. A first-mile carrier that reports only a
country (Cainiao's global feed says "CN") gives no point; the line then starts at the parcel's registered
origin, else the first node of its expected route, when that lies in the same country, so that it runs
from China even when a Russian carrier's scans (another number of the same parcel) are the first with a
place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from routing.eta import EtaAnswer
from tracking.queries import PublicParcel
from web.pages.i18n import country_name
from web.pages.map_svg import MapPoint, network, node_point, place_name, route_svg


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of the route in words: from, to, and whether the parcel has travelled it already."""

    start: str
    end: str
    travelled: bool


def first_place(view: PublicParcel, eta: EtaAnswer | None, lang: str) -> MapPoint | None:
    """Where the first scan was, when it names only a country: the registered origin or the expected
    route's first node, if in that country; None when the first scan has a place or nothing fits."""
    if not view.events:
        return None
    first = view.events[-1]
    if first.lat is not None or first.place_id or not first.country:
        return None
    for node_id in (view.origin, *(eta.estimate.route[:1] if eta is not None else ())):
        node = network().get(node_id or "")
        if node is not None and node.get("country") == first.country.upper():
            return node_point(str(node_id), lang)
    return None


def route_points(
    view: PublicParcel, eta: EtaAnswer | None, lang: str
) -> tuple[list[MapPoint], list[MapPoint]]:
    """The route travelled so far (oldest first) and the route ahead (from the current position)."""
    done: list[MapPoint] = []
    for event in reversed(view.events):
        if event.lat is not None and event.lon is not None:
            point = MapPoint(event.lat, event.lon, place_name(event.place_id, lang) or event.location_name)
        else:
            point = node_point(event.place_id or "", lang)  # type: ignore[assignment]
        if point is not None and (not done or (done[-1].lat, done[-1].lon) != (point.lat, point.lon)):
            done.append(point)
    start = first_place(view, eta, lang)
    if start is not None and (not done or (done[0].lat, done[0].lon) != (start.lat, start.lon)):
        done.insert(0, start)
    nodes = eta.estimate.route if eta is not None else []
    route = [p for p in (node_point(n, lang) for n in nodes) if p is not None]
    if view.status == "delivered" or not route:
        return done, []
    if not done:
        return done, route
    visited = {e.place_id for e in view.events if e.place_id}
    current = done[-1]
    nearest = min(
        range(len(route)), key=lambda i: math.dist((route[i].lat, route[i].lon), (current.lat, current.lon))
    )
    passed = max([i for i, n in enumerate(nodes) if n in visited] + [nearest])
    return done, [current, *route[passed + 1 :]]


def route_map(done: list[MapPoint], ahead: list[MapPoint]) -> Markup | None:
    """The route map, or None when nothing of the route has a known position."""
    if not done and len(ahead) < 2:
        return None
    origin = (done or ahead)[0].label or ""
    now = done[-1].label if done else ""
    end = ahead[-1].label if len(ahead) > 1 else ""
    description = _("Route of the parcel from %(origin)s.", origin=origin)
    if now:
        description += " " + _("Last seen at %(place)s.", place=now)
    if end:
        description += " " + _("Expected to travel on to %(place)s.", place=end)
    return route_svg(
        done,
        ahead,
        title=_("Map of the parcel's route"),
        description=description,
        basemap_url=url_for("pages.basemap"),
        country_names={code: country_name(code) for code in ("RU", "CN", "KZ", "MN")},
    )


def route_legs(done: list[MapPoint], ahead: list[MapPoint]) -> list[Leg]:
    """The legs between named points, travelled ones first, each named once."""
    legs: list[Leg] = []
    for points, travelled in ((done, True), (ahead, False)):
        names = [p.label for p in points if p.label]
        names = [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]
        legs += [Leg(a, b, travelled) for a, b in pairwise(names)]
    return legs
