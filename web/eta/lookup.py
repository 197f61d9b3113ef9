"""The lookups' ETAs (the public API and the tracking page), kept in a small per-process cache.

The cache is keyed on the parcel, exactly what the engine was given (numbers, service, origin,
destination and every scan; the track itself is part of the key) and the model version: a new or changed
event, or a newer model, is a new key, so a kept answer is never older than the parcel's events or the
model. It is kept for at most ``ETA_CACHE_SECONDS`` (default 300, the scheduler's revision interval; 0
turns the cache off) and says when it was worked out in ``as_of``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context
from prometheus_client import Counter
from sqlalchemy.orm import Session

from routing.eta import EtaAnswer, EtaEngine
from routing.tracks import ParcelTrack, TrackScan
from tracking.queries import PublicParcel, find_parcel_id
from tracking.statuses import awaits_recipient
from web.eta.cache import lookup_cache
from web.eta.engine import current_engine, engine_as_of, estimate, log_told, log_untold

CACHE_SECONDS = 300.0
CACHE_LOOKUPS = Counter(
    "silkway_eta_cache_total", "lookup ETAs served from the per-process cache or worked out", ["result"]
)


def _cache_seconds() -> float:
    if not has_app_context():
        return CACHE_SECONDS
    return float(current_app.config.get("ETA_CACHE_SECONDS", CACHE_SECONDS))


def view_track(view: PublicParcel, as_of: datetime) -> ParcelTrack:
    """What the engine is given for a public view: its numbers, route and the scans made by ``as_of``."""
    scans = tuple(
        TrackScan(e.place_id, e.country, e.status, e.substatus, e.occurred_at.astimezone(UTC), e.number)
        for e in reversed(view.events)
        if e.occurred_at <= as_of
    )
    return ParcelTrack(tuple(view.identifiers), view.service, view.origin, view.destination, scans)


def _compute(engine: EtaEngine, view: PublicParcel, track: ParcelTrack, as_of: datetime) -> EtaAnswer | None:
    try:
        result = engine.in_flight(track, as_of)
    except ValueError as exc:  # a parcel the network cannot place: no prediction rather than an error
        log_untold(view.id, engine, exc)
        return None
    log_told(view.id, result)
    return EtaAnswer.told(result, as_of)


def parcel_eta(session: Session, view: PublicParcel, as_of: datetime | None = None) -> EtaAnswer | None:
    """The ETA of the parcel shown by a public view; None when it cannot be told.

    It reads nothing more from the database: the view already holds the parcel's events (the lookup's
    hot path, used by the API and the tracking page). Without ``as_of`` (a lookup now) the answer may come
    from the lookup cache: the one worked out at its ``as_of`` for the same scans and model, at most
    ``ETA_CACHE_SECONDS`` ago. With ``as_of`` it is always worked out. A parcel that waits for its
    recipient (duties to pay: tracking.statuses.AWAITING_RECIPIENT) has no ETA now: the date is theirs.
    """
    if as_of is None and awaits_recipient(view.status, view.substatus):
        return None
    if as_of is not None:  # the newest model learned by then (web.eta.engine.engine_as_of)
        return _compute(engine_as_of(session, as_of), view, view_track(view, as_of), as_of)
    engine = current_engine(session)
    now = datetime.now(UTC)
    track = view_track(view, now)
    seconds = _cache_seconds()
    if seconds <= 0:
        return _compute(engine, view, track, now)
    key = (view.id, engine.model.version, track)
    found, answer = lookup_cache.get(key, seconds)
    CACHE_LOOKUPS.labels("hit" if found else "miss").inc()
    if not found:
        answer = _compute(engine, view, track, now)
        lookup_cache.put(key, answer)
    return answer  # frozen: callers share the kept answer and cannot change it


def parcel_eta_by_number(session: Session, number: str, as_of: datetime) -> EtaAnswer | None:
    """The ETA of the parcel carrying ``number`` as it would have been told at ``as_of``."""
    parcel_id = find_parcel_id(session, number)
    if parcel_id is None:
        return None
    result = estimate(session, parcel_id, as_of)
    return EtaAnswer.told(result, as_of) if result is not None else None
