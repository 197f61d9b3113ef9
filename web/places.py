"""Location resolution for ingestion: carrier place text → a node of the corridor network."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from tracking.events import Location
from tracking.ingest import PlaceResolver


@lru_cache(maxsize=1)
def resolver() -> PlaceResolver | None:
    """A resolver backed by the routing gazetteer; None while no gazetteer is available."""
    try:
        from routing.gazetteer import default_gazetteer
    except ImportError:  # pragma: no cover - the gazetteer ships with the package
        return None
    gazetteer = default_gazetteer()

    @lru_cache(maxsize=50_000)
    def resolve(location: Location) -> Location:
        match = gazetteer.resolve(location.name, location.country, location.postcode)
        if match is None:
            return location
        # A network place is where the network says it is, whatever the carrier sent; the carrier's
        # wording (name, postcode) stays on its own events.
        return replace(
            location,
            place_id=match.place_id,
            lat=match.lat,
            lon=match.lon,
            country=location.country or match.country,
        )

    return resolve
