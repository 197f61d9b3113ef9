"""How long a parcel may stay silent where it is before it counts as stalled, from the ETA model."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from routing.distributions import LogNormal
from tracking.stalled import Threshold, default_threshold
from web.eta.engine import current_engine

STALL_SLACK = timedelta(hours=12)
DEPARTURE_SUBSTATUSES = frozenset({"departed", "line_haul", "forwarded", "handed_over"})


def stall_threshold(session: Session) -> Threshold:
    """How long a parcel may stay silent where it is before it counts as stalled.

    At a place with a dwell (learned from scans, else the network's prior), the threshold is that
    dwell's 95th centile plus a half-day of slack; after a departure scan, or at a place Silkway cannot
    place on the network, it is the fixed table of tracking.stalled.
    """
    engine = current_engine(session)

    def threshold(place_id: str | None, status: str, substatus: str) -> timedelta:
        fixed = default_threshold(place_id, status, substatus)
        if place_id is None or substatus in DEPARTURE_SUBSTATUSES or place_id not in engine.network.places:
            return fixed
        learned = engine.model.dwell(place_id)
        if learned is not None:
            hours = learned.dist.quantile(0.95)
        else:
            prior = engine.network.place(place_id).dwell
            if prior is None:
                return fixed
            hours = LogNormal.from_range(prior).quantile(0.95)
        return max(timedelta(hours=hours) + STALL_SLACK, timedelta(days=1))

    return threshold
