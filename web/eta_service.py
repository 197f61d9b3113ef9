"""ETA glue between storage and the routing engine: tracks in, predictions out, models stored.

Every process keeps one EtaEngine for the newest stored model and checks for a newer one at most once a
minute, so a model learned by the scheduler reaches every worker without a restart.

Lookups (the public API and the tracking page) keep the ETA they worked out in a small per-process cache
keyed on the parcel, exactly what the engine was given (numbers, service, origin, destination and every
scan; the track itself is part of the key) and the model version: a new or changed event, or a newer
model, is a new key, so a kept answer is never older than the parcel's events or the model. It is kept
for at most ``ETA_CACHE_SECONDS`` (default 300, the scheduler's revision interval; 0 turns the cache
off) and says when it was worked out in ``as_of``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from flask import Flask, current_app, has_app_context
from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from routing.backtest import BacktestReport, HeldOut, run_backtest
from routing.distributions import LogNormal
from routing.eta import ARRIVED, FASTEST_PATH, MILESTONE, MONTE_CARLO, EtaEngine, EtaEstimate
from routing.learning import learn as learn_model
from routing.model import LegTimeModel
from routing.network import load_network
from routing.tracks import ParcelTrack, TrackScan
from tracking import models
from tracking.db import read_only
from tracking.queries import PublicParcel, find_parcel_id
from tracking.stalled import Threshold, default_threshold
from tracking.tracks import StoredTrack, load_tracks
from tracking.webhooks import enqueue_eta_revised

log = logging.getLogger("silkway.eta")

MODEL_CHECK_SECONDS = 60.0
LEARNING_WINDOW = timedelta(days=120)
# More parcels than this in the window: learn from an evenly spread sample of them (by id, so the same
# parcels each time), which bounds the refresh's memory and time on a large history.
LEARNING_MAX_PARCELS = 100_000
REVISION_THRESHOLD = timedelta(hours=6)
CACHE_SECONDS = 300.0
CACHE_SIZE = 2048

# Parcel id, model version and the track itself: hashed on the way in, compared field by field on a hit,
# so a kept answer is only ever served for exactly the same scans.
CacheKey = tuple[int, str, ParcelTrack]
CACHE_LOOKUPS = Counter(
    "silkway_eta_cache_total", "lookup ETAs served from the per-process cache or worked out", ["result"]
)


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
        latest = session.execute(
            select(models.EtaModel.version, models.EtaModel.id).order_by(models.EtaModel.id.desc()).limit(1)
        ).first()
        version = latest[0] if latest else None
        if _current.engine is None or version != _current.version:
            model = LegTimeModel.prior()
            if latest is not None:
                body = session.scalar(select(models.EtaModel.body).where(models.EtaModel.id == latest[1]))
                model = LegTimeModel.from_dict(orjson.loads(body or b"{}"))
            _current.engine = EtaEngine(load_network(), model)
            _current.version = version
        _current.checked = now
        return _current.engine


def forget_engine() -> None:
    """Drop the cached engine and the lookup ETAs (tests, after storing a model by hand)."""
    _current.engine, _current.version, _current.checked = None, None, 0.0
    lookup_cache.clear()


def estimate(session: Session, parcel_id: int, as_of: datetime | None = None) -> EtaEstimate | None:
    """The in-flight ETA of a parcel from its scans up to ``as_of`` (now by default)."""
    as_of = as_of or datetime.now(UTC)
    stored = next(load_tracks(session, [parcel_id], as_of=as_of), None)
    if stored is None:
        return None
    engine = current_engine(session)
    try:
        result = engine.in_flight(to_track(stored), as_of)
    except ValueError as exc:  # a parcel the network cannot place: no prediction rather than an error
        _untold(parcel_id, engine, exc)
        return None
    _told(parcel_id, result)
    return result


# How each answer was worked out, for the logs (EtaEstimate.basis).
BASES = {
    ARRIVED: "its arrival scan",
    MILESTONE: "the milestone model",
    MONTE_CARLO: "a Monte Carlo run along its service's route",
    FASTEST_PATH: "a Monte Carlo run along the fastest path from its last place (no service explains it)",
}


def _told(parcel_id: int, result: EtaEstimate) -> None:
    """Log (DEBUG) how a parcel's ETA was worked out; the revisions and the lookups say it alike."""
    if log.isEnabledFor(logging.DEBUG):
        basis = BASES.get(result.basis, result.basis)
        log.debug("ETA for parcel %s from %s (model %s)", parcel_id, basis, result.model_version)


def _untold(parcel_id: int, engine: EtaEngine, exc: ValueError) -> None:
    """Log (INFO) a parcel that gets no ETA at all, and why: its answer then has none either."""
    log.info("no ETA for parcel %s (model %s): %s", parcel_id, engine.model.version, exc)


def eta_json(result: EtaEstimate, as_of: datetime) -> dict[str, Any]:
    """The ETA answer of docs/contract.md plus the service, spread and the inferred candidates."""
    body = result.to_dict()
    # Aware datetimes, not strings: pages format them, and orjson writes them as ISO 8601 for the API.
    body.update(p10=result.p10, p50=result.p50, p90=result.p90, as_of=as_of.astimezone(UTC), confidence=0.8)
    return body


class EtaCache:
    """A bounded, thread-safe LRU of lookup ETAs whose entries expire ``seconds`` after they were stored."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey, seconds: float) -> tuple[bool, dict[str, Any] | None]:
        """(True, the kept answer) when ``key`` was stored less than ``seconds`` ago, else (False, None)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if time.monotonic() - entry[0] >= seconds:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, entry[1]

    def put(self, key: CacheKey, value: dict[str, Any] | None) -> None:
        """Keep ``value`` (None too: a parcel the network cannot place), evicting the least recently used."""
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


lookup_cache = EtaCache()


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


def _compute(
    engine: EtaEngine, view: PublicParcel, track: ParcelTrack, as_of: datetime
) -> dict[str, Any] | None:
    try:
        result = engine.in_flight(track, as_of)
    except ValueError as exc:  # a parcel the network cannot place: no prediction rather than an error
        _untold(view.id, engine, exc)
        return None
    _told(view.id, result)
    return eta_json(result, as_of)


def parcel_eta(session: Session, view: PublicParcel, as_of: datetime | None = None) -> dict[str, Any] | None:
    """The ETA of the parcel shown by a public view, as JSON-ready data; None when it cannot be told.

    It reads nothing more from the database: the view already holds the parcel's events (the lookup's
    hot path, used by the API and the tracking page). Without ``as_of`` (a lookup now) the answer may come
    from the lookup cache: the one worked out at its ``as_of`` for the same scans and model, at most
    ``ETA_CACHE_SECONDS`` ago. With ``as_of`` it is always worked out.
    """
    engine = current_engine(session)
    if as_of is not None:
        return _compute(engine, view, view_track(view, as_of), as_of)
    now = datetime.now(UTC)
    track = view_track(view, now)
    seconds = _cache_seconds()
    if seconds <= 0:
        return _compute(engine, view, track, now)
    key = (view.id, engine.model.version, track)
    found, body = lookup_cache.get(key, seconds)
    CACHE_LOOKUPS.labels("hit" if found else "miss").inc()
    if not found:
        body = _compute(engine, view, track, now)
        lookup_cache.put(key, body)
    # A shallow copy: callers may add to the answer without touching the kept one.
    return dict(body) if body is not None else None


def parcel_eta_by_number(session: Session, number: str, as_of: datetime) -> dict[str, Any] | None:
    """The ETA of the parcel carrying ``number`` as it would have been told at ``as_of``."""
    parcel_id = find_parcel_id(session, number)
    if parcel_id is None:
        return None
    result = estimate(session, parcel_id, as_of)
    return eta_json(result, as_of) if result is not None else None


def learn(
    session: Session, now: datetime, window: timedelta = LEARNING_WINDOW, limit: int = LEARNING_MAX_PARCELS
) -> LegTimeModel:
    """Learn the model (legs, dwells and hours to arrival by milestone) from the scans of parcels seen in
    the last ``window`` (at most ``limit`` of them, evenly spread by id), and store it."""
    since = now - window
    read_only(session)  # minutes of reading on a large history must not hold SQLite's write lock
    ids = list(
        session.scalars(
            select(models.Parcel.id).where(models.Parcel.last_event_at >= since).order_by(models.Parcel.id)
        )
    )
    if len(ids) > limit > 0:
        step = len(ids) / limit
        ids = [ids[int(i * step)] for i in range(limit)]
    tracks = [to_track(t) for t in load_tracks(session, ids, as_of=now)]
    model = learn_model(tracks, load_network(), now)
    session.commit()  # end the read; storing the model is a short write of its own
    exists = session.scalar(select(func.count()).where(models.EtaModel.version == model.version))
    if not exists:
        session.add(
            models.EtaModel(
                version=model.version,
                learned_from=model.observations,
                body=orjson.dumps(model.to_dict()),
            )
        )
        session.commit()
    forget_engine()
    log.info("learned ETA model %s from %d observations", model.version, model.observations)
    return model


def refresh_model_job(app: Flask, now: datetime) -> None:
    """Scheduler job: re-learn the leg-time model."""
    limit = int(app.config.get("LEARNING_MAX_PARCELS", LEARNING_MAX_PARCELS))
    with app.extensions["silkway.db"].session() as session:
        learn(session, now, limit=limit)


def revise(session: Session, now: datetime, since: datetime) -> int:
    """Store a new ETA revision for parcels in flight whose p50 moved, or that have none yet.

    The estimates are worked out in a read-only transaction and written in a short one afterwards, so
    that on SQLite the minutes of Monte Carlo never hold the write lock.
    """
    read_only(session)
    ids = list(
        session.scalars(
            select(models.Parcel.id).where(
                models.Parcel.updated_at >= since, models.Parcel.status.not_in(["delivered", "expired"])
            )
        )
    )
    changed: list[tuple[int, EtaEstimate, datetime | None]] = []
    untold, version = 0, current_engine(session).model.version
    for parcel_id in ids:
        result = estimate(session, parcel_id, now)
        if result is None:
            untold += 1
            continue
        last = session.execute(
            select(models.EtaRevision.p50)
            .where(models.EtaRevision.parcel_id == parcel_id)
            .order_by(models.EtaRevision.computed_at.desc())
            .limit(1)
        ).scalar()
        if last is None or abs(result.p50 - last) >= REVISION_THRESHOLD:
            changed.append((parcel_id, result, last))
    session.commit()
    if ids:
        log.info(
            "ETA revisions (model %s): %d parcels in flight touched lately, %d revised, %d without an ETA",
            version, len(ids), len(changed), untold,
        )
    for parcel_id, result, last in changed:
        session.add(
            models.EtaRevision(
                parcel_id=parcel_id,
                computed_at=now,
                p10=result.p10,
                p50=result.p50,
                p90=result.p90,
                model_version=result.model_version,
                route=",".join(result.route),
            )
        )
        _notify_revision(session, parcel_id, result, last)
    try:
        session.commit()
    except IntegrityError:  # a parcel merged away meanwhile: its revisions went with it
        session.rollback()
        return 0
    return len(changed)


def _notify_revision(
    session: Session, parcel_id: int, result: EtaEstimate, previous: datetime | None
) -> None:
    body = result.to_dict()
    body["previous_p50"] = previous.isoformat() if previous else None
    enqueue_eta_revised(session, {parcel_id: body})


def revise_etas_job(app: Flask, now: datetime) -> None:
    """Scheduler job: publish ETA revisions for parcels touched since the previous run."""
    since = now - timedelta(seconds=int(app.config.get("JOB_ETA_REVISIONS_SECONDS", 300)) * 2)
    with app.extensions["silkway.db"].session() as session:
        revise(session, now, since)


def backtest(
    session: Session, split_at: datetime, test_days: float | None = None, refit_days: float | None = None
) -> BacktestReport:
    """Replay history: learn as of ``split_at`` (and every ``refit_days`` after it) and score the parcels
    first scanned in the ``test_days`` after it that arrived; the others are only learned from.
    Begin the session's transaction with ``read_only`` first: it reads the whole history."""
    held: list[HeldOut] = []
    others: list[ParcelTrack] = []
    for stored in load_tracks(session):
        if not stored.scans:
            continue
        track = to_track(stored)
        if stored.delivered_at is not None:
            held.append(HeldOut(track, stored.delivered_at))
        else:
            others.append(track)
    return run_backtest(held, split_at, load_network(), test_days=test_days, refit_days=refit_days,
                        others=others)


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
