"""Learning the ETA model from the stored scans and storing it; replaying history (backtest)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from routing.backtest import BacktestReport, HeldOut, run_backtest
from routing.learning import learn as learn_model
from routing.model import LegTimeModel
from routing.network import load_network
from routing.tracks import ParcelTrack
from tracking.db import read_only
from tracking.eta_models import parcels_seen_since, store_model
from tracking.tracks import load_tracks
from web.db import commit_unit, unit_of_work
from web.eta.engine import forget_engine, to_track

log = logging.getLogger("silkway.eta")

LEARNING_WINDOW = timedelta(days=120)
# More parcels than this in the window: learn from an evenly spread sample of them (by id, so the same
# parcels each time), which bounds the refresh's memory and time on a large history.
LEARNING_MAX_PARCELS = 100_000


def learn(
    session: Session, now: datetime, window: timedelta = LEARNING_WINDOW, limit: int = LEARNING_MAX_PARCELS
) -> LegTimeModel:
    """Learn the model (legs, dwells and hours to arrival by milestone) from the scans made in the
    ``window`` ending at ``now`` (of at most ``limit`` parcels first scanned by then, evenly spread by id;
    nothing scanned after ``now`` is read), and store it as learned at ``now``."""
    since = now - window
    with unit_of_work(session):  # the read ends here; storing the model is a short write of its own
        read_only(session)  # minutes of reading on a large history must not hold SQLite's write lock
        ids = parcels_seen_since(session, since, until=now)
        if len(ids) > limit > 0:
            step = len(ids) / limit
            ids = [ids[int(i * step)] for i in range(limit)]
        tracks = [to_track(t) for t in load_tracks(session, ids, as_of=now)]
        model = learn_model(tracks, load_network(), now)
    body, count = model.to_dict(), model.observations
    commit_unit(session, lambda: store_model(session, model.version, count, body, learned_at=now))
    forget_engine()
    log.info("learned ETA model %s from %d observations", model.version, model.observations)
    return model


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
