"""Each process's ETA engine for the newest stored model, and the estimates it makes of stored parcels.

Every process keeps one EtaEngine for the newest stored model and checks for a newer one at most once a
minute, so a model learned by the scheduler reaches every worker without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from routing.eta import ARRIVED, FASTEST_PATH, MILESTONE, MONTE_CARLO, EtaEngine, EtaEstimate
from routing.model import PRIOR_VERSION, LegTimeModel
from routing.network import load_network
from routing.tracks import ParcelTrack, TrackScan
from tracking.eta_models import model_body, newest_model
from tracking.tracks import StoredTrack, load_tracks
from web.eta.cache import lookup_cache

log = logging.getLogger("silkway.eta")

MODEL_CHECK_SECONDS = 60.0


def to_track(stored: StoredTrack) -> ParcelTrack:
    """A stored parcel as the routing package sees it."""
    scans = tuple(
        TrackScan(s.place_id, s.country, s.status, s.substatus, s.at, s.number) for s in stored.scans
    )
    return ParcelTrack(tuple(stored.numbers), stored.service, stored.origin, stored.destination, scans)


@dataclass(slots=True)
class _Current:
    version: str | None = None
    engine: EtaEngine | None = None
    checked: float = 0.0


_current = _Current()
_lock = threading.Lock()


def current_engine(session: Session) -> EtaEngine:
    """The engine for the newest stored model (the network prior while none has been learned)."""
    now = time.monotonic()
    if _current.engine is not None and now - _current.checked < MODEL_CHECK_SECONDS:
        return _current.engine
    with _lock:
        latest = newest_model(session)
        version = latest[0] if latest else None
        if _current.engine is None or version != _current.version:
            model = LegTimeModel.prior()
            if latest is not None:
                model = LegTimeModel.from_dict(model_body(session, latest[1]))
            _current.engine = EtaEngine(load_network(), model)
            _current.version = version
        _current.checked = now
        return _current.engine


# Engines of older models (and the network prior), for answers as of a moment before the newest model.
_past: dict[str, EtaEngine] = {}
PAST_ENGINES_KEPT = 4


def engine_as_of(session: Session, as_of: datetime) -> EtaEngine:
    """The engine to answer as of ``as_of`` with: the newest stored model when it was learned by then
    (or none is stored), else the newest one learned at or before ``as_of``, else the network prior (no
    model knew anything then). An answer never uses a model that read scans made after its moment."""
    engine = current_engine(session)
    learned = engine.model.trained_at
    if learned is None or learned <= as_of:
        return engine
    found = newest_model(session, learned_by=as_of)
    version = found[0] if found else PRIOR_VERSION
    with _lock:
        kept = _past.get(version)
        if kept is None:
            model = LegTimeModel.from_dict(model_body(session, found[1])) if found else LegTimeModel.prior()
            if len(_past) >= PAST_ENGINES_KEPT:
                _past.pop(next(iter(_past)))
            kept = _past[version] = EtaEngine(load_network(), model)
        return kept


def forget_engine() -> None:
    """Drop the cached engines and the lookup ETAs (tests, after storing a model by hand)."""
    _current.engine, _current.version, _current.checked = None, None, 0.0
    _past.clear()
    lookup_cache.clear()


def estimate(session: Session, parcel_id: int, as_of: datetime | None = None) -> EtaEstimate | None:
    """The in-flight ETA of a parcel from its scans up to ``as_of`` (now by default)."""
    as_of = as_of or datetime.now(UTC)
    stored = next(load_tracks(session, [parcel_id], as_of=as_of), None)
    if stored is None:
        return None
    engine = engine_as_of(session, as_of)
    try:
        result = engine.in_flight(to_track(stored), as_of)
    except ValueError as exc:  # a parcel the network cannot place: no prediction rather than an error
        log_untold(parcel_id, engine, exc)
        return None
    log_told(parcel_id, result)
    return result


# How each answer was worked out, for the logs (EtaEstimate.basis).
BASES = {
    ARRIVED: "its arrival scan",
    MILESTONE: "the milestone model",
    MONTE_CARLO: "a Monte Carlo run along its service's route",
    FASTEST_PATH: "a Monte Carlo run along the fastest path from its last place (no service explains it)",
}


def log_told(parcel_id: int, result: EtaEstimate) -> None:
    """Log (DEBUG) how a parcel's ETA was worked out; the revisions and the lookups say it alike."""
    if log.isEnabledFor(logging.DEBUG):
        basis = BASES.get(result.basis, result.basis)
        log.debug("ETA for parcel %s from %s (model %s)", parcel_id, basis, result.model_version)


def log_untold(parcel_id: int, engine: EtaEngine, exc: ValueError) -> None:
    """Log (INFO) a parcel that gets no ETA at all, and why: its answer then has none either."""
    log.info("no ETA for parcel %s (model %s): %s", parcel_id, engine.model.version, exc)
